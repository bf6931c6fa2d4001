/** Test helpers: a node holding messages with media (the fake backend's `dev/fakeMemories.ts`) on Tauri's IPC mock. */
import type { Attachment, Message } from '../lib/backend';
import { FakeMemories } from '../dev/fakeMemories';
import { msg } from '../test/messages';
import { mockShell, toNodeEvents, type Args } from '../test/shell';

/**
 * Mocks the shell: memories, pins and pinned messages go to a `FakeMemories`, `other` answers
 * the rest (`undefined`: null). Every call is kept.
 */
export function memoriesNode(other: (cmd: string, args: Args) => unknown = () => undefined) {
  const fake = new FakeMemories(toNodeEvents);
  const calls = mockShell(fake, other);
  return {
    fake,
    calls,
    /** The arguments of each call of `cmd`. */
    argsOf: (cmd: string) => calls.filter(([c]) => c === cmd).map(([, a]) => a),
  };
}

let n = 0;
const hash = () => {
  n += 1;
  return n.toString(16).padStart(64, '0');
};

export function imageAttachment(name = 'photo.jpg'): Attachment {
  const blob = hash();
  const thumb = hash();
  return {
    type: 'image',
    blob,
    url: `duet://blob/${blob}`,
    name,
    size: 1_000_000,
    media: { image: { width: 800, height: 600, thumbnail: { blob: thumb, url: `duet://blob/${thumb}`, size: 8000, width: 320, height: 240 } } },
  };
}

export function voiceAttachment(name = 'voice.ogg', durationMs = 7_000): Attachment {
  const blob = hash();
  return { type: 'audio', blob, url: `duet://blob/${blob}`, name, size: 12_000, media: { voice: { duration_ms: durationMs, waveform: [10, 200, 40] } } };
}

export function videoAttachment(name = 'clip.mp4'): Attachment {
  const blob = hash();
  return { type: 'video', blob, url: `duet://blob/${blob}`, name, size: 5_000_000, media: null };
}

export function fileAttachment(name = 'tickets.pdf'): Attachment {
  const blob = hash();
  return { type: 'file', blob, url: `duet://blob/${blob}`, name, size: 80_000, media: null };
}

/** A message with these attachments (a photo unless said), made at `at`. */
export function shared(at: number, attachments: Attachment[] = [imageAttachment()], over: Partial<Message> = {}): Message {
  return msg({ created_at: at, attachments, content: attachments[0]?.name ?? '', message_type: 'image', ...over });
}

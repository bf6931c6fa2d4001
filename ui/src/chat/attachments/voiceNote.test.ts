import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';

import type { Target, VoiceNoteProgress } from '../../lib/backend';
import { HOLD_MS, VoiceNote, recordedTime } from './voiceNote.svelte';

interface Progress {
  onmessage: (p: VoiceNoteProgress) => void;
}

/**
 * A shell that records: `start_voice_note` answers when `open()` is called (the microphone
 * takes a moment), or at once; its progress channel is kept for the test to speak on.
 */
function shell(opts: { microphone?: string; deferred?: boolean } = {}) {
  const seen: [string, unknown][] = [];
  let progress: Progress | null = null;
  let open: (() => void) | null = null;
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>;
    seen.push([cmd, cmd === 'start_voice_note' ? null : a]);
    if (cmd === 'start_voice_note') {
      if (opts.microphone) throw { code: 'device_unavailable', message: opts.microphone };
      progress = a.progress as Progress;
      const answer = { notices: [], test_tone: false };
      if (!opts.deferred) return answer;
      return new Promise((resolve) => (open = () => resolve(answer)));
    }
    if (cmd === 'stop_voice_note') return a.target ? { id: 'note' } : null;
    throw new Error(`unexpected command ${cmd}`);
  });
  return {
    seen,
    stops: () => seen.filter(([c]) => c === 'stop_voice_note').map(([, a]) => (a as { target: Target | null }).target),
    say: (p: Partial<VoiceNoteProgress>) => progress?.onmessage({ level: 0, recorded_ms: 0, full: false, notice: null, ...p }),
    open: () => open?.(),
  };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

let t = 0;
const clock = () => t;

afterEach(() => {
  clearMocks();
  t = 0;
});

describe('a voice message', () => {
  it('click to record: a short press starts, the level and time follow the shell, Send sends', async () => {
    const s = shell();
    const note = new VoiceNote(() => 'direct', clock);
    note.press();
    t += 120;
    note.release();
    await settle();
    expect(note.phase).toBe('recording');
    s.say({ level: 0.2, recorded_ms: 3400 });
    expect(note.level).toBe(0.2);
    expect(recordedTime(note.recordedMs)).toBe('0:03');
    await note.send();
    expect(s.stops()).toEqual(['direct']);
    expect(note.phase).toBe('idle');
  });

  it('click to record: clicking the button again sends', async () => {
    const s = shell();
    const note = new VoiceNote(() => ({ channel: 'ab'.repeat(16) }), clock);
    note.press();
    note.release();
    await settle();
    t += 5000;
    note.press();
    t += 80;
    note.release();
    await settle();
    expect(s.stops()).toEqual([{ channel: 'ab'.repeat(16) }]);
  });

  it('hold to record: letting go after a hold sends, even before the microphone has opened', async () => {
    const s = shell({ deferred: true });
    const note = new VoiceNote(() => 'direct', clock);
    note.press();
    expect(note.phase).toBe('starting');
    t += HOLD_MS;
    note.release();
    expect(s.stops()).toEqual([]);
    s.open();
    await settle();
    await settle();
    expect(s.stops()).toEqual(['direct']);
  });

  it('Cancel throws it away, also while the microphone is still opening', async () => {
    const s = shell();
    const note = new VoiceNote(() => 'direct', clock);
    await note.start();
    await note.cancel();
    expect(s.stops()).toEqual([null]);
    expect(note.active).toBe(false);

    const slow = shell({ deferred: true });
    const second = new VoiceNote(() => 'direct', clock);
    const started = second.start();
    await second.cancel();
    expect(second.phase).toBe('idle');
    slow.open();
    await started;
    await settle();
    expect(slow.stops()).toEqual([null]);
    // Progress of the thrown-away note does not move anything.
    slow.say({ level: 0.5, recorded_ms: 900 });
    expect(second.level).toBe(0);
  });

  it('stops by itself at five minutes and waits to be sent', async () => {
    const s = shell();
    const note = new VoiceNote(() => 'direct', clock);
    await note.start();
    s.say({ level: 0.3, recorded_ms: 5 * 60_000, full: true });
    expect(note.phase).toBe('full');
    expect(recordedTime(note.recordedMs)).toBe('5:00');
    expect(note.active).toBe(true);
    await note.send();
    expect(s.stops()).toEqual(['direct']);
  });

  it('says why when there is no microphone, and records nothing', async () => {
    const s = shell({ microphone: 'No microphone found, so nothing can be recorded' });
    const note = new VoiceNote(() => 'direct', clock);
    note.press();
    t += 1000;
    note.release();
    await settle();
    expect(note.phase).toBe('idle');
    expect(note.problem).toEqual({ code: 'device_unavailable', message: 'No microphone found, so nothing can be recorded' });
    expect(s.stops()).toEqual([]);
  });

  it('keeps what the microphone said while recording', async () => {
    const s = shell();
    const note = new VoiceNote(() => 'direct', clock);
    await note.start();
    s.say({ recorded_ms: 2000, notice: 'The microphone stopped working; trying it again' });
    expect(note.notices).toEqual(['The microphone stopped working; trying it again']);
  });
});

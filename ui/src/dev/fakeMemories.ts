/**
 * The fake node's memories (see fakeBackend.ts), answered as the node does
 * (`crates/duet-node/src/memories.rs`): the messages with a photo, a video or a sound (not other
 * files), deleted ones left out, newest first (by id: ids start with their creation time);
 * `memories` at most `limit` (≤ 200) older than the message `before`; `memories_in` those made
 * inside any window `[from, to)` (at most 100 windows, 200 memories). `pinned` is whether the
 * message is pinned in its conversation.
 *
 * `FakeMemories` is a small node of its own for the tests (`memories/testing.ts`): messages,
 * pins, and the events the node would send.
 */
import type { Memory, Message, NodeEvent, PinnedMessage, Target, TimeWindow } from '../lib/backend';
import { UNHANDLED } from './fakeMedia';

export const MAX_MEMORIES_PAGE = 200;
export const MAX_MEMORY_WINDOWS = 100;

const MEDIA = new Set(['image', 'video', 'audio']);

export function isMemoryMessage(m: Message): boolean {
  return !m.deleted && m.attachments.some((a) => MEDIA.has(a.type));
}

const newest = (a: Message, b: Message) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** `memories(before, limit)` over `messages`. */
export function memoriesPage(messages: Iterable<Message>, pinned: (m: Message) => boolean, before: string | null, limit: number): Memory[] {
  return [...messages]
    .filter((m) => isMemoryMessage(m) && (before === null || m.id < before))
    .sort(newest)
    .slice(0, Math.max(0, Math.min(limit, MAX_MEMORIES_PAGE)))
    .map((message) => ({ message, pinned: pinned(message) }));
}

/** `memories_in(windows)` over `messages`; throws the node's refusal past 100 windows. */
export function memoriesWithin(messages: Iterable<Message>, pinned: (m: Message) => boolean, windows: TimeWindow[]): Memory[] {
  if (windows.length > MAX_MEMORY_WINDOWS) {
    throw { code: 'invalid_input', message: `at most ${MAX_MEMORY_WINDOWS} windows of time at once, not ${windows.length}` };
  }
  const inside = (m: Message) => windows.some((w) => w.from < w.to && m.created_at >= w.from && m.created_at < w.to);
  return [...messages]
    .filter((m) => isMemoryMessage(m) && inside(m))
    .sort(newest)
    .slice(0, MAX_MEMORIES_PAGE)
    .map((message) => ({ message, pinned: pinned(message) }));
}

const targetOf = (m: Message): Target => (m.channel ? { channel: m.channel } : 'direct');
const key = (t: Target) => (t === 'direct' ? 'direct' : `channel:${t.channel}`);

/** A node holding messages and pins, for the tests. */
export class FakeMemories {
  readonly messages = new Map<string, Message>();
  /** Pinned message ids. */
  readonly pins = new Set<string>();
  /** When set, `pin_message` is refused in these words. */
  refuse: string | null = null;

  constructor(private readonly send: (event: NodeEvent) => void = () => {}) {}

  /** Puts messages in the node without saying so. */
  hold(...messages: Message[]): void {
    for (const m of messages) this.messages.set(m.id, m);
  }

  /** A message arrives (from my partner, or sent here): `message_new`. */
  arrive(message: Message): void {
    this.messages.set(message.id, message);
    this.send({ event: 'message_new', message });
  }

  /** My partner pins or unpins a message: `pins_changed`. */
  pinByPartner(id: string, pinned: boolean): void {
    const m = this.messages.get(id);
    if (!m) return;
    if (pinned) this.pins.add(id);
    else this.pins.delete(id);
    this.send({ event: 'pins_changed', conversation: m.conversation });
  }

  handle(cmd: string, a: Record<string, unknown>): unknown {
    const pinned = (m: Message) => this.pins.has(m.id);
    switch (cmd) {
      case 'memories':
        return memoriesPage(this.messages.values(), pinned, (a.before as string | null) ?? null, Number(a.limit));
      case 'memories_in':
        return memoriesWithin(this.messages.values(), pinned, a.windows as TimeWindow[]);
      case 'pinned_messages':
        return this.pinnedIn(a.target as Target);
      case 'pin_message': {
        const t = a.target as Target;
        const m = this.messages.get(String(a.id));
        if (!m || key(targetOf(m)) !== key(t)) throw { code: 'not_found', message: 'There is no such message in that conversation.' };
        if (this.refuse) throw { code: 'not_allowed', message: this.refuse };
        if (a.pinned) this.pins.add(m.id);
        else this.pins.delete(m.id);
        setTimeout(() => this.send({ event: 'pins_changed', conversation: m.conversation }), 0);
        return this.pinnedIn(t);
      }
      default:
        return UNHANDLED;
    }
  }

  private pinnedIn(t: Target): PinnedMessage[] {
    return [...this.messages.values()]
      .filter((m) => this.pins.has(m.id) && key(targetOf(m)) === key(t))
      .map((message) => ({ message, pinned_by: message.sender, pinned_at: message.created_at }));
  }
}

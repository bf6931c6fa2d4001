/**
 * One conversation's messages as the window holds them: the pages loaded so far (oldest
 * first), plus my sends the node has not confirmed yet.
 *
 * Nothing waits on the network: a send shows at once as pending, and becomes the node's
 * message when `send` answers (or when its `message_new` arrives first). A send that fails
 * stays on screen with its reason, to retry or discard, so nothing written is lost.
 * Receipts and backlogs refresh the newest page; a page that does not reach what is held
 * (a long backlog) replaces it.
 */
import {
  deleteMessage,
  edit,
  messages,
  react,
  send,
  unreact,
  type AppError,
  type AppEvent,
  type Message,
  type MessageId,
  type PersonId,
  type Target,
} from '../lib/backend';
import { sameTarget, targetOf } from '../lib/target';
import type { Entry } from './grouping';

export const PAGE_SIZE = 50;
/** How many older pages a jump (to a replied message, a search result, a memory) may load. */
const MAX_JUMP_PAGES = 40;
/**
 * How many messages each of those pages holds: a jump reaches 20,000 messages back (a search
 * result from years ago) in at most 40 calls to the node.
 */
export const JUMP_PAGE_SIZE = 500;

interface PendingSend {
  id: string;
  text: string;
  replyTo: MessageId | null;
  createdAt: number;
  state: 'sending' | 'failed';
  error?: string;
}

function byTime(a: Message, b: Message): number {
  return a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** `held` with `incoming` merged in by id (incoming wins), in time order. */
export function mergeMessages(held: readonly Message[], incoming: readonly Message[]): Message[] {
  if (incoming.length === 0) return held as Message[];
  const fresh = new Map(incoming.map((m) => [m.id, m]));
  const merged = held.map((m) => {
    const update = fresh.get(m.id);
    if (update) fresh.delete(m.id);
    return update ?? m;
  });
  if (fresh.size === 0) return merged;
  const added = [...fresh.values()].sort(byTime);
  const first = merged[0];
  const last = merged[merged.length - 1];
  if (!last || byTime(added[0]!, last) > 0) return merged.concat(added);
  if (first && byTime(added[added.length - 1]!, first) < 0) return added.concat(merged);
  return merged.concat(added).sort(byTime);
}

let pendingCounter = 0;

export class Timeline {
  readonly target: Target;
  readonly me: PersonId;
  /** Confirmed messages, oldest first. */
  messages = $state.raw<Message[]>([]);
  pending = $state.raw<PendingSend[]>([]);
  hasOlder = $state(true);
  loaded = $state(false);
  loadingOlder = $state(false);
  error = $state.raw<AppError | null>(null);

  private index = $derived(new Map(this.messages.map((m) => [m.id, m])));
  private older: MessageId | null = null;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;

  constructor(target: Target, me: PersonId) {
    this.target = target;
    this.me = me;
  }

  /** What the list shows: confirmed messages, then pending sends. */
  get entries(): Entry[] {
    const pending = this.pending.map<Entry>((p) => ({
      message: this.draftMessage(p),
      pending: { state: p.state, error: p.error },
    }));
    return this.messages.map<Entry>((message) => ({ message })).concat(pending);
  }

  byId(id: MessageId): Message | undefined {
    return this.index.get(id);
  }

  /** My newest message that can still be edited. */
  lastOwnMessage(): Message | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const m = this.messages[i]!;
      if (m.sender === this.me && !m.deleted) return m;
    }
    return undefined;
  }

  /** The newest message from someone else (to mark read). */
  lastIncoming(): Message | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const m = this.messages[i]!;
      if (m.sender !== this.me) return m;
    }
    return undefined;
  }

  async loadLatest(): Promise<void> {
    const page = await messages(this.target, null, PAGE_SIZE);
    this.loaded = true;
    if (!page.ok) {
      this.error = page.error;
      return;
    }
    this.error = null;
    this.messages = [...page.value.messages].reverse();
    this.older = page.value.older;
    this.hasOlder = page.value.older !== null;
  }

  /** Loads the next older page; repeated calls while one is loading are ignored. */
  async loadOlder(size = PAGE_SIZE): Promise<void> {
    if (this.loadingOlder || !this.hasOlder || !this.loaded || this.older === null) return;
    this.loadingOlder = true;
    try {
      const page = await messages(this.target, this.older, size);
      if (!page.ok) {
        this.error = page.error;
        return;
      }
      this.messages = mergeMessages(this.messages, page.value.messages);
      this.older = page.value.older;
      this.hasOlder = page.value.older !== null;
    } finally {
      this.loadingOlder = false;
    }
  }

  /** Loads older pages until `id` is held; false when it is not found. */
  async loadUntil(id: MessageId): Promise<boolean> {
    for (let i = 0; i < MAX_JUMP_PAGES && !this.byId(id); i++) {
      if (!this.hasOlder) break;
      await this.loadOlder(JUMP_PAGE_SIZE);
    }
    return this.byId(id) !== undefined;
  }

  /** Follows the node's events for this conversation. */
  handle(event: AppEvent): void {
    switch (event.event) {
      case 'message_new':
        if (!sameTarget(targetOf(event.message), this.target)) return;
        if (event.message.sender === this.me && !this.byId(event.message.id)) {
          this.settlePending(event.message);
        }
        this.messages = mergeMessages(this.messages, [event.message]);
        return;
      case 'message_changed':
        if (this.byId(event.message.id)) this.messages = mergeMessages(this.messages, [event.message]);
        return;
      case 'receipts_changed':
      case 'conversation_changed': {
        const held = this.messages[0]?.conversation;
        if (held === undefined || held === event.conversation) void this.refresh();
        return;
      }
      case 'resync':
        void this.refresh();
        return;
    }
  }

  /** Reloads the newest page and merges it (receipts, backlogs). Calls coalesce. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        const page = await messages(this.target, null, PAGE_SIZE);
        if (!page.ok) continue;
        const newest = [...page.value.messages].reverse();
        const held = this.messages[this.messages.length - 1];
        const reaches = !held || !page.value.older || newest.some((m) => byTime(m, held) <= 0);
        if (reaches) {
          this.messages = mergeMessages(this.messages, newest);
          if (!held) {
            this.older = page.value.older;
            this.hasOlder = page.value.older !== null;
          }
        } else {
          this.messages = newest;
          this.older = page.value.older;
          this.hasOlder = true;
        }
      } while (this.refreshAgain);
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** Sends a message: pending at once, confirmed when the node answers. */
  async send(text: string, replyTo: MessageId | null = null): Promise<void> {
    const p: PendingSend = {
      id: `pending-${++pendingCounter}`,
      text: text.trim(),
      replyTo,
      createdAt: Date.now(),
      state: 'sending',
    };
    this.pending = [...this.pending, p];
    await this.deliver(p);
  }

  async retry(pendingId: string): Promise<void> {
    const p = this.pending.find((x) => x.id === pendingId);
    if (!p) return;
    this.updatePending(p.id, { state: 'sending', error: undefined });
    await this.deliver(p);
  }

  discard(pendingId: string): void {
    this.pending = this.pending.filter((x) => x.id !== pendingId);
  }

  async edit(id: MessageId, text: string): Promise<AppError | null> {
    const outcome = await edit(id, text);
    if (!outcome.ok) return outcome.error;
    this.messages = mergeMessages(this.messages, [outcome.value]);
    return null;
  }

  async remove(id: MessageId): Promise<AppError | null> {
    const outcome = await deleteMessage(id);
    if (!outcome.ok) return outcome.error;
    const m = this.byId(id);
    if (m && !m.deleted) {
      const now = Date.now();
      const gone = { ...m, deleted: true, deleted_at: now, content: '', reactions: [], attachments: [] };
      this.messages = mergeMessages(this.messages, [gone]);
    }
    return null;
  }

  /** Adds my reaction, or takes it back if I had reacted with this emoji. */
  async toggleReaction(id: MessageId, emoji: string): Promise<AppError | null> {
    const m = this.byId(id);
    if (!m) return null;
    const mine = m.reactions.some((r) => r.user === this.me && r.emoji === emoji);
    const reactions = mine
      ? m.reactions.filter((r) => !(r.user === this.me && r.emoji === emoji))
      : [...m.reactions, { user: this.me, emoji, created_at: Date.now() }];
    this.messages = mergeMessages(this.messages, [{ ...m, reactions }]);
    const outcome = mine ? await unreact(id, emoji) : await react(id, emoji);
    if (!outcome.ok) {
      const now = this.byId(id);
      if (now) this.messages = mergeMessages(this.messages, [{ ...now, reactions: m.reactions }]);
      return outcome.error;
    }
    this.messages = mergeMessages(this.messages, [outcome.value]);
    return null;
  }

  private async deliver(p: PendingSend): Promise<void> {
    const outcome = await send(this.target, p.text, p.replyTo);
    if (outcome.ok) {
      this.discard(p.id);
      this.messages = mergeMessages(this.messages, [outcome.value]);
    } else {
      this.updatePending(p.id, { state: 'failed', error: outcome.error.message });
    }
  }

  private settlePending(m: Message): void {
    const i = this.pending.findIndex((p) => p.state === 'sending' && p.text === m.content);
    if (i >= 0) this.pending = this.pending.filter((_, j) => j !== i);
  }

  private updatePending(id: string, change: Partial<PendingSend>): void {
    this.pending = this.pending.map((x) => (x.id === id ? { ...x, ...change } : x));
  }

  private draftMessage(p: PendingSend): Message {
    const channel = this.target === 'direct' ? null : this.target.channel;
    return {
      id: p.id,
      sender: this.me,
      sender_device: '',
      recipient: null,
      channel,
      conversation: '',
      content: p.text,
      message_type: 'text',
      reply_to: p.replyTo,
      read: false,
      read_at: null,
      delivered: false,
      delivered_at: null,
      edited: false,
      edited_at: null,
      deleted: false,
      deleted_at: null,
      reactions: [],
      attachments: [],
      created_at: p.createdAt,
      updated_at: p.createdAt,
    };
  }
}

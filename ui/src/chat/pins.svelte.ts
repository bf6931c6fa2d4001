/**
 * One conversation's pinned messages, latest pinned first: loaded when the conversation
 * opens, reloaded when the node says they changed (`pins_changed` for this conversation, or a
 * resync), and replaced by the node's answer after I pin or unpin one.
 */
import {
  pinMessage,
  pinnedMessages,
  type AppEvent,
  type ConversationId,
  type MessageId,
  type PinnedMessage,
  type Target,
} from '../lib/backend';

export class Pins {
  readonly target: Target;
  /** The conversation's id, once known (from the directory). */
  readonly #conversation: () => ConversationId | undefined;
  list = $state.raw<PinnedMessage[]>([]);
  error = $state<string | null>(null);

  private ids = $derived(new Set(this.list.map((p) => p.message.id)));

  constructor(target: Target, conversation: () => ConversationId | undefined) {
    this.target = target;
    this.#conversation = conversation;
  }

  isPinned(id: MessageId): boolean {
    return this.ids.has(id);
  }

  async load(): Promise<void> {
    const outcome = await pinnedMessages(this.target);
    if (outcome.ok) {
      this.list = Array.isArray(outcome.value) ? outcome.value : [];
      this.error = null;
    } else {
      this.error = outcome.error.message;
    }
  }

  /** Pins or unpins a message; resolves to the node's words when it refused. */
  async set(id: MessageId, pinned: boolean): Promise<string | null> {
    const outcome = await pinMessage(this.target, id, pinned);
    if (!outcome.ok) return outcome.error.message;
    this.list = Array.isArray(outcome.value) ? outcome.value : [];
    return null;
  }

  handle(event: AppEvent): void {
    if (event.event === 'resync') void this.load();
    else if (event.event === 'pins_changed') {
      const mine = this.#conversation();
      if (!mine || mine === event.conversation) void this.load();
    }
  }
}

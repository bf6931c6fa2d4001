/**
 * The space's channels and my conversations (unread counts, archived, muted), shared by the
 * channel list, the chat header, notifications and the tray badge. Reloads when the node
 * says something changed; bursts of events coalesce into one reload.
 */
import {
  channels,
  conversations,
  type AppError,
  type AppEvent,
  type Channel,
  type Conversation,
  type Target,
} from './backend';
import { onNodeEvent } from './nodeEvents';
import { sameTarget } from './target';

const RELOAD_ON: ReadonlySet<AppEvent['event']> = new Set([
  'message_new',
  'message_changed',
  'conversation_changed',
  'receipts_changed',
  'space_changed',
  'paired',
  'resync',
]);

class Directory {
  channels = $state.raw<Channel[]>([]);
  conversations = $state.raw<Conversation[]>([]);
  error = $state.raw<AppError | null>(null);

  private reloading: Promise<void> | null = null;
  private again = false;

  /** Unread messages across conversations that are not muted. */
  get unreadTotal(): number {
    return this.conversations.reduce((n, c) => n + (c.muted ? 0 : c.unread_count), 0);
  }

  conversation(target: Target): Conversation | undefined {
    return this.conversations.find((c) => sameTarget(c.target, target));
  }

  channel(id: string): Channel | undefined {
    return this.channels.find((c) => c.id === id);
  }

  load(): Promise<void> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.again = false;
        const [ch, co] = await Promise.all([channels(), conversations()]);
        if (ch.ok) this.channels = [...ch.value].sort((a, b) => a.position - b.position);
        if (co.ok) this.conversations = co.value;
        this.error = !ch.ok ? ch.error : !co.ok ? co.error : null;
      } while (this.again);
    })().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  /** Applies a change before the node confirms it (archive, mute). */
  patch(target: Target, change: Partial<Pick<Conversation, 'archived' | 'muted' | 'unread_count'>>): void {
    this.conversations = this.conversations.map((c) => (sameTarget(c.target, target) ? { ...c, ...change } : c));
  }

  follow(): () => void {
    return onNodeEvent((event) => {
      if (RELOAD_ON.has(event.event)) void this.load();
    });
  }
}

export const directory = new Directory();

/**
 * The couple's mailbox as this device sees it (`mailbox`): where it runs, whether this device is
 * connected to it now, and what it holds of what my devices wrote. Settings → Mailbox shows and
 * changes it; the receipts say when one of my messages waits there; the partner card says that
 * my messages still reach an offline partner.
 *
 * Loaded when the layout opens (and when Settings opens), reloaded when the node says the
 * mailbox changed (`mailbox_changed`: chosen, stopped, holding more, connected or not), when a
 * device connects or drops, after pairing and on a resync. A failed load keeps the last known
 * status; an older answer never overwrites a newer one (a load asked before an add or a stop
 * answered is dropped).
 *
 * An undelivered message of mine waits at the mailbox when `created_at <= until` for its device:
 * the node knows, per device of mine, the time of the newest of its events the mailbox holds.
 */
import { mailbox, type AppEvent, type MailboxStatus, type Message } from './backend';
import { onNodeEvent } from './nodeEvents';

/** The node events after which the status may have changed. */
const RELOAD_ON: ReadonlySet<AppEvent['event']> = new Set([
  'mailbox_changed',
  'peer_connected',
  'peer_disconnected',
  'resync',
  'paired',
]);

/**
 * Whether `message` (one of mine) is not delivered yet and waits at the couple's mailbox: the
 * mailbox holds its device's events up to a time at or after it was written.
 */
export function waitsAtMailbox(
  message: Pick<Message, 'sender_device' | 'created_at' | 'delivered' | 'read'>,
  status: MailboxStatus | null | undefined,
): boolean {
  if (!status?.mailbox || message.delivered || message.read) return false;
  return status.holds.some((h) => h.device === message.sender_device && message.created_at <= h.until);
}

export class MailboxBook {
  /** As the node last told (`null` until it answered once). */
  status = $state.raw<MailboxStatus | null>(null);
  /** Why the last load failed, in words (`null` when it did not). */
  error = $state<string | null>(null);

  /** Counts loads and answers set here, so an older answer never overwrites a newer one. */
  #seq = 0;

  /** The couple uses a mailbox and this device is connected to it now. */
  get connected(): boolean {
    return Boolean(this.status?.mailbox && this.status.connected);
  }

  /** Whether my undelivered `message` waits at the mailbox now. */
  waits(message: Message): boolean {
    return waitsAtMailbox(message, this.status);
  }

  async load(): Promise<void> {
    const ask = ++this.#seq;
    const outcome = await mailbox();
    if (ask !== this.#seq) return;
    if (!outcome.ok) {
      this.error = outcome.error.message;
      return;
    }
    if (!outcome.value) return;
    this.status = outcome.value;
    this.error = null;
  }

  /** The node's answer to a change made here (adding or stopping the mailbox). */
  set(status: MailboxStatus): void {
    this.#seq += 1;
    this.status = status;
    this.error = null;
  }

  handle(event: AppEvent): void {
    if (RELOAD_ON.has(event.event)) void this.load();
  }

  follow(): () => void {
    return onNodeEvent((event) => this.handle(event));
  }

  /** Forgets everything (tests). */
  clear(): void {
    this.#seq += 1;
    this.status = null;
    this.error = null;
  }
}

export const mailboxBook = new MailboxBook();

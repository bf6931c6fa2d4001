/**
 * Where one of my messages is on its way: sending, sent, at the couple's mailbox, delivered,
 * read; with times. A stored message not delivered yet is "at your mailbox" once the mailbox
 * holds it (`waitsAtMailbox`), "sent" otherwise: it waits on this device (or another of mine).
 */
import type { MailboxStatus, Message } from '../lib/backend';
import { waitsAtMailbox } from '../lib/mailbox.svelte';
import { fullTime } from '../lib/time';
import type { Entry } from './grouping';

export type ReceiptState = 'sending' | 'failed' | 'sent' | 'mailbox' | 'delivered' | 'read';

export function receiptState(entry: Entry, mailbox: MailboxStatus | null = null): ReceiptState {
  if (entry.pending) return entry.pending.state;
  const m = entry.message;
  if (m.read) return 'read';
  if (m.delivered) return 'delivered';
  return waitsAtMailbox(m, mailbox) ? 'mailbox' : 'sent';
}

/**
 * The tooltip (and the screen reader's words) for a receipt; `partner` is my partner's name
 * ("your partner" while it is not known).
 */
export function receiptTitle(state: ReceiptState, m: Message, partner?: string | null): string {
  const who = partner?.trim() || 'your partner';
  switch (state) {
    case 'sending':
      return 'Sending…';
    case 'failed':
      return 'Not sent';
    case 'sent':
      return `Sent, waiting for ${who}`;
    case 'mailbox':
      return `At your mailbox, waiting for ${who}`;
    case 'delivered':
      return m.delivered_at ? `Delivered ${fullTime(m.delivered_at)}` : 'Delivered';
    case 'read': {
      const read = m.read_at ? `Read ${fullTime(m.read_at)}` : 'Read';
      return m.delivered_at ? `${read} · delivered ${fullTime(m.delivered_at)}` : read;
    }
  }
}

/**
 * Where one of my messages is on its way: sending, sent, at the couple's mailbox, delivered,
 * read; with times. A stored message not delivered yet is "at your mailbox" once the mailbox
 * holds it (`waitsAtMailbox`), "sent" otherwise: it waits on this device (or another of mine).
 */
import type { MailboxStatus, Message } from '../lib/backend';
import { t } from '../lib/i18n/index.svelte';
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
  const name = partner?.trim();
  switch (state) {
    case 'sending':
      return t('chat.receipt.sending');
    case 'failed':
      return t('chat.receipt.failed');
    case 'sent':
      return name ? t('chat.receipt.sent', { name }) : t('chat.receipt.sentPartner');
    case 'mailbox':
      return name ? t('chat.receipt.mailbox', { name }) : t('chat.receipt.mailboxPartner');
    case 'delivered':
      return m.delivered_at
        ? t('chat.receipt.deliveredAt', { time: fullTime(m.delivered_at) })
        : t('chat.receipt.delivered');
    case 'read': {
      if (m.delivered_at) {
        const delivered = fullTime(m.delivered_at);
        return m.read_at
          ? t('chat.receipt.readAtDelivered', { read: fullTime(m.read_at), delivered })
          : t('chat.receipt.readDelivered', { delivered });
      }
      return m.read_at ? t('chat.receipt.readAt', { time: fullTime(m.read_at) }) : t('chat.receipt.read');
    }
  }
}

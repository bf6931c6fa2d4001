/** Where one of my messages is on its way: sending, sent, delivered, read; with times. */
import type { Message } from '../lib/backend';
import { fullTime } from '../lib/time';
import type { Entry } from './grouping';

export type ReceiptState = 'sending' | 'failed' | 'sent' | 'delivered' | 'read';

export function receiptState(entry: Entry): ReceiptState {
  if (entry.pending) return entry.pending.state;
  const m = entry.message;
  if (m.read) return 'read';
  if (m.delivered) return 'delivered';
  return 'sent';
}

/** The tooltip (and the screen reader's words) for a receipt. */
export function receiptTitle(state: ReceiptState, m: Message): string {
  switch (state) {
    case 'sending':
      return 'Sending…';
    case 'failed':
      return 'Not sent';
    case 'sent':
      return 'Sent, not delivered yet';
    case 'delivered':
      return m.delivered_at ? `Delivered ${fullTime(m.delivered_at)}` : 'Delivered';
    case 'read': {
      const read = m.read_at ? `Read ${fullTime(m.read_at)}` : 'Read';
      return m.delivered_at ? `${read} · delivered ${fullTime(m.delivered_at)}` : read;
    }
  }
}

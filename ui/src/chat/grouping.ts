/**
 * The rows of a message list: a day separator before each new day, and messages grouped by
 * sender (a group's first row shows the name and avatar). A group also breaks after a pause
 * of more than five minutes, and at a reply, whose quote reads better under a name.
 */
import type { Message } from '../lib/backend';
import { dayKey, dayLabel } from '../lib/time';

/** A message on screen: confirmed by the node, or still being sent from here. */
export interface Entry {
  message: Message;
  /** Set while the node has not stored it yet. */
  pending?: { state: 'sending' | 'failed'; error?: string };
}

export type Row =
  | { kind: 'start'; key: string; hasOlder: boolean; loading: boolean }
  | { kind: 'day'; key: string; label: string }
  | { kind: 'message'; key: string; entry: Entry; first: boolean; last: boolean };

export const GROUP_PAUSE_MS = 5 * 60_000;

export function buildRows(
  entries: readonly Entry[],
  now: number,
  history: { hasOlder: boolean; loading: boolean } = { hasOlder: false, loading: false },
): Row[] {
  const rows: Row[] = [{ kind: 'start', key: 'start', ...history }];
  let previous: Message | null = null;
  let lastMessageRow: Extract<Row, { kind: 'message' }> | null = null;
  for (const entry of entries) {
    const m = entry.message;
    const day = dayKey(m.created_at);
    const newDay = !previous || dayKey(previous.created_at) !== day;
    if (newDay) {
      rows.push({ kind: 'day', key: `day:${day}`, label: dayLabel(m.created_at, now) });
    }
    const first =
      newDay ||
      previous!.sender !== m.sender ||
      m.created_at - previous!.created_at > GROUP_PAUSE_MS ||
      m.reply_to !== null;
    if (first && lastMessageRow) lastMessageRow.last = true;
    lastMessageRow = { kind: 'message', key: m.id, entry, first, last: false };
    rows.push(lastMessageRow);
    previous = m;
  }
  if (lastMessageRow) lastMessageRow.last = true;
  return rows;
}

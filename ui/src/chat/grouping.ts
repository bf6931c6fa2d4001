/**
 * The rows of a message list: a day separator before each new day, and messages grouped by
 * sender (a group's first row shows the name and avatar). A group also breaks after a pause
 * of more than five minutes, and at a reply, whose quote reads better under a name.
 */
import type { Call, Message } from '../lib/backend';
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
  | { kind: 'message'; key: string; entry: Entry; first: boolean; last: boolean }
  | { kind: 'call'; key: string; call: Call };

export const GROUP_PAUSE_MS = 5 * 60_000;

export function buildRows(
  entries: readonly Entry[],
  now: number,
  history: { hasOlder: boolean; loading: boolean } = { hasOlder: false, loading: false },
  calls: readonly Call[] = [],
): Row[] {
  const rows: Row[] = [{ kind: 'start', key: 'start', ...history }];
  let previous: Message | null = null;
  let lastDay: string | null = null;
  let lastMessageRow: Extract<Row, { kind: 'message' }> | null = null;
  // Calls go between the messages by when they started; while older pages are not loaded,
  // calls from before the oldest loaded message wait for them.
  const from = history.hasOlder ? (entries[0]?.message.created_at ?? Infinity) : -Infinity;
  const pending = calls.filter((c) => c.started_at >= from).sort((a, b) => a.started_at - b.started_at);
  let next = 0;
  const dayOf = (at: number) => {
    const day = dayKey(at);
    const newDay = day !== lastDay;
    if (newDay) rows.push({ kind: 'day', key: `day:${day}`, label: dayLabel(at, now) });
    lastDay = day;
    return newDay;
  };
  const callsUpTo = (at: number) => {
    while (next < pending.length && pending[next]!.started_at <= at) {
      const call = pending[next++]!;
      dayOf(call.started_at);
      if (lastMessageRow) lastMessageRow.last = true;
      rows.push({ kind: 'call', key: `call:${call.id}`, call });
      previous = null;
    }
  };
  for (const entry of entries) {
    const m = entry.message;
    callsUpTo(m.created_at);
    const newDay = dayOf(m.created_at);
    const first =
      newDay ||
      !previous ||
      previous!.sender !== m.sender ||
      m.created_at - previous!.created_at > GROUP_PAUSE_MS ||
      m.reply_to !== null;
    if (first && lastMessageRow) lastMessageRow.last = true;
    lastMessageRow = { kind: 'message', key: m.id, entry, first, last: false };
    rows.push(lastMessageRow);
    previous = m;
  }
  callsUpTo(Infinity);
  if (lastMessageRow) lastMessageRow.last = true;
  return rows;
}

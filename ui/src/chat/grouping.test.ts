import { describe, expect, it } from 'vitest';

import { ME, PARTNER, at, callRecord, msg } from '../test/messages';
import { buildRows, type Row } from './grouping';

const now = at(20, 30);

function shape(rows: Row[]): string[] {
  return rows.map((r) =>
    r.kind === 'day'
      ? `— ${r.label} —`
      : r.kind === 'start'
        ? 'start'
        : r.kind === 'call'
          ? `☎ ${r.call.state}`
          : `${r.first ? '▸' : ' '} ${r.entry.message.content}`,
  );
}

describe('message rows', () => {
  it('group consecutive messages of one sender and start a group for the other', () => {
    const rows = buildRows(
      [
        { message: msg({ created_at: at(20, 0), sender: PARTNER, content: 'hi' }) },
        { message: msg({ created_at: at(20, 1), sender: PARTNER, content: 'are you there?' }) },
        { message: msg({ created_at: at(20, 2), sender: ME, content: 'yes!' }) },
        { message: msg({ created_at: at(20, 3), sender: ME, content: 'just back' }) },
        { message: msg({ created_at: at(20, 4), sender: PARTNER, content: 'yay' }) },
      ],
      now,
    );
    expect(shape(rows)).toEqual(['start', '— Today —', '▸ hi', '  are you there?', '▸ yes!', '  just back', '▸ yay']);
  });

  it('put a separator before each new day, and start a new group there even for the same sender', () => {
    const rows = buildRows(
      [
        { message: msg({ created_at: at(12, 0), content: 'long ago' }) },
        { message: msg({ created_at: at(19, 0), content: 'yesterday one' }) },
        { message: msg({ created_at: at(19, 1), content: 'yesterday two' }) },
        { message: msg({ created_at: at(20, 0), content: 'today' }) },
      ],
      now,
    );
    const labels = rows.filter((r) => r.kind === 'day').map((r) => (r as { label: string }).label);
    expect(labels).toHaveLength(3);
    expect(labels.slice(1)).toEqual(['Yesterday', 'Today']);
    expect(shape(rows).slice(-5)).toEqual(['— Yesterday —', '▸ yesterday one', '  yesterday two', '— Today —', '▸ today']);
  });

  it('start a new group after a pause, and at a reply', () => {
    const first = msg({ created_at: at(20, 0), content: 'one' });
    const rows = buildRows(
      [
        { message: first },
        { message: msg({ created_at: at(20, 10), content: 'ten minutes later' }) },
        { message: msg({ created_at: at(20, 11), content: 'a reply', reply_to: first.id }) },
      ],
      now,
    );
    expect(shape(rows).slice(2)).toEqual(['▸ one', '▸ ten minutes later', '▸ a reply']);
  });

  it('mark the last row of each group, and say at the start whether there is more history', () => {
    const rows = buildRows(
      [
        { message: msg({ created_at: at(20, 0), sender: PARTNER }) },
        { message: msg({ created_at: at(20, 1), sender: PARTNER }) },
        { message: msg({ created_at: at(20, 2), sender: ME }) },
      ],
      now,
      { hasOlder: true, loading: false },
    );
    const lasts = rows.flatMap((r) => (r.kind === 'message' ? [r.last] : []));
    expect(lasts).toEqual([false, true, true]);
    expect(rows[0]).toMatchObject({ kind: 'start', hasOlder: true });
  });

  it('put calls between the messages by time, and hold back calls older than the loaded page', () => {
    const entries = [
      { message: msg({ created_at: at(20, 0), sender: PARTNER, content: 'call me?' }) },
      { message: msg({ created_at: at(20, 10), sender: PARTNER, content: 'that was nice' }) },
    ];
    const calls = [
      callRecord({ started_at: at(20, 5), state: 'ended' }),
      callRecord({ started_at: at(20, 20), state: 'missed' }),
      callRecord({ started_at: at(19, 0), state: 'declined' }),
    ];
    expect(shape(buildRows(entries, now, { hasOlder: false, loading: false }, calls))).toEqual([
      'start',
      '— Yesterday —',
      '☎ declined',
      '— Today —',
      '▸ call me?',
      '☎ ended',
      '▸ that was nice',
      '☎ missed',
    ]);
    // More history is still to load: yesterday's call waits for it.
    expect(shape(buildRows(entries, now, { hasOlder: true, loading: false }, calls))).not.toContain('☎ declined');
  });
});

import { emit } from '@tauri-apps/api/event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { NODE_EVENT, RESYNC_EVENT, type Dates } from '../lib/backend';
import { startNodeEvents } from '../lib/nodeEvents';
import { datesBook } from './dates.svelte';

let stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
  datesBook.clear();
  clearMocks();
});

const dinner = (title: string) => ({
  id: 'd1'.repeat(16),
  title,
  at: 1_800_000_000_000,
  yearly: false,
  remind_before_minutes: 60,
  next_at: 1_800_000_000_000,
  remind_at: 1_800_000_000_000 - 3_600_000,
});

/** A node whose dates are `current`, counting how often they were asked for. */
async function node(current: { value: Dates }) {
  let asked = 0;
  mockIPC(
    (cmd) => {
      if (cmd === 'dates') {
        asked += 1;
        return current.value;
      }
      return null;
    },
    { shouldMockEvents: true },
  );
  stops.push(await startNodeEvents());
  stops.push(datesBook.follow());
  return () => asked;
}

describe('our dates', () => {
  it('load, then reload when the node says they changed', async () => {
    const current = { value: { together_since: null, dates: [] } as Dates };
    const asked = await node(current);
    await datesBook.load();
    expect(datesBook.value).toEqual({ together_since: null, dates: [] });

    current.value = { together_since: { year: 2021, month: 6, day: 12 }, dates: [dinner('Dinner')] };
    await emit(NODE_EVENT, { event: 'dates_changed' });
    await vi.waitFor(() => expect(datesBook.value?.dates.map((d) => d.title)).toEqual(['Dinner']));
    expect(datesBook.value?.together_since).toEqual({ year: 2021, month: 6, day: 12 });
    expect(asked()).toBe(2);
  });

  it('reload on a resync, and not on other events', async () => {
    const current = { value: { together_since: null, dates: [] } as Dates };
    const asked = await node(current);
    await datesBook.load();
    await emit(NODE_EVENT, { event: 'space_changed' });
    await Promise.resolve();
    expect(asked()).toBe(1);

    current.value = { together_since: null, dates: [dinner('Picnic')] };
    await emit(RESYNC_EVENT, null);
    await vi.waitFor(() => expect(datesBook.value?.dates.map((d) => d.title)).toEqual(['Picnic']));
    expect(asked()).toBe(2);
  });

  it('keep what they had when the node cannot answer', async () => {
    mockIPC((cmd) => {
      if (cmd === 'dates') throw { code: 'not_paired', message: 'Your partner has not joined yet.' };
      return null;
    });
    datesBook.set({ together_since: null, dates: [] });
    await datesBook.load();
    expect(datesBook.value).toEqual({ together_since: null, dates: [] });
    expect(datesBook.error).toBe('Your partner has not joined yet.');
  });
});

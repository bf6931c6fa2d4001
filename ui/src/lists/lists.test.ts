import { emit } from '@tauri-apps/api/event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { RESYNC_EVENT, type SharedList } from '../lib/backend';
import { startNodeEvents } from '../lib/nodeEvents';
import { leftText, listsBook } from './lists.svelte';
import { listsNode } from './testing';

let stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
  listsBook.clear();
  clearMocks();
});

async function follow() {
  stops.push(await startNodeEvents());
  stops.push(listsBook.follow());
}

const list = (id: string, title: string, checked: boolean[], updated_at = 1): SharedList => ({
  id,
  title,
  items: checked.map((c, i) => ({ id: `${id.slice(0, 30)}${i.toString().padStart(2, '0')}`, text: `item ${i}`, checked: c })),
  updated_at,
});

describe('our shared lists', () => {
  it('count what is left', () => {
    expect(leftText(list('a'.repeat(32), 'x', []))).toBe('empty');
    expect(leftText(list('a'.repeat(32), 'x', [true, false, false]))).toBe('2 left');
    expect(leftText(list('a'.repeat(32), 'x', [true, true]))).toBe('all done');
  });

  it('close the open list when it is deleted elsewhere, with a notice', async () => {
    const node = listsNode();
    const groceries = node.make('Groceries', ['Oat milk']);
    const trip = node.make('Lisbon trip');
    await follow();
    await listsBook.load();
    listsBook.show(groceries.id);

    // Another list going: nothing to say.
    node.fake.byPartner(trip.id, 'delete');
    await vi.waitFor(() => expect(listsBook.get(trip.id)).toBeUndefined());
    expect(listsBook.open).toBe(groceries.id);
    expect(listsBook.notice).toBeNull();

    node.fake.byPartner(groceries.id, 'delete');
    await vi.waitFor(() => expect(listsBook.open).toBeNull());
    expect(listsBook.notice).toBe('“Groceries” was deleted, so it was closed.');
    expect(listsBook.all).toEqual([]);

    // Opening another list puts the notice away.
    listsBook.show(node.make('Plans').id);
    expect(listsBook.notice).toBeNull();
  });

  it('reload on a resync', async () => {
    const node = listsNode();
    await follow();
    await listsBook.load();
    expect(listsBook.loaded).toBe(true);
    expect(listsBook.all).toEqual([]);
    // Made while this window was not listening.
    const made = node.fake.handle('create_list', { title: 'Plans' }) as SharedList;
    await emit(RESYNC_EVENT, null);
    await vi.waitFor(() => expect(listsBook.all.map((l) => l.id)).toEqual([made.id]));
  });

  it('keep a change made here over a load that was asked for before it', async () => {
    const id = 'c1'.repeat(16);
    const before = list(id, 'Groceries', [false], 1);
    const after = { ...before, items: [{ ...before.items[0]!, checked: true }], updated_at: 2 };
    let answerLoad: ((value: SharedList[]) => void) | null = null;
    let loads = 0;
    mockIPC((cmd) => {
      if (cmd === 'lists') {
        loads += 1;
        return loads === 1 ? [before] : new Promise<SharedList[]>((resolve) => (answerLoad = resolve));
      }
      if (cmd === 'set_list_item') return after;
      return null;
    });
    await listsBook.load();
    const slow = listsBook.load();
    expect(await listsBook.tick(id, before.items[0]!.id, true)).toBeNull();
    expect(listsBook.get(id)?.items[0]?.checked).toBe(true);
    // The older answer arrives last: the tick stays.
    await vi.waitFor(() => expect(answerLoad).not.toBeNull());
    answerLoad!([before]);
    await slow;
    expect(listsBook.get(id)?.items[0]?.checked).toBe(true);
  });

  it('show a tick at once and put it back when refused', async () => {
    const id = 'c2'.repeat(16);
    const held = list(id, 'Groceries', [false]);
    let answer: ((refused: boolean) => void) | null = null;
    mockIPC((cmd) => {
      if (cmd === 'lists') return [held];
      if (cmd === 'set_list_item') {
        return new Promise((resolve, reject) => {
          answer = (refused) => (refused ? reject({ code: 'stopped', message: 'Duet is shutting down.' }) : resolve(held));
        });
      }
      return null;
    });
    await listsBook.load();
    const ticking = listsBook.tick(id, held.items[0]!.id, true);
    expect(listsBook.get(id)?.items[0]?.checked).toBe(true);
    await vi.waitFor(() => expect(answer).not.toBeNull());
    answer!(true);
    expect((await ticking)?.message).toBe('Duet is shutting down.');
    expect(listsBook.get(id)?.items[0]?.checked).toBe(false);
  });
});

import { clearMocks } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { searchMessages } from '../dev/fakeSearch';
import type { Message, Target } from '../lib/backend';
import { ME, msg } from '../test/messages';
import { mockShell, type Args } from '../test/shell';
import { searchBook } from './search.svelte';
import SearchView from './SearchView.svelte';

const PLANS = 'c1'.repeat(16);
const day = (d: number, h = 12) => new Date(2026, 4, d, h).getTime();

afterEach(() => {
  cleanup();
  searchBook.close();
  searchBook.query = '';
  searchBook.before = '';
  searchBook.within = null;
  searchBook.results = [];
  searchBook.answered = null;
  searchBook.error = null;
  clearMocks();
});

/** Search open over a node holding `held`; every call kept. */
function open(held: Message[], here: Target = 'direct') {
  const fake = {
    handle(cmd: string, a: Args) {
      if (cmd === 'search') {
        const found = searchMessages(held, String(a.words), (a.target as Target | null) ?? null, (a.before as number | null) ?? null, Number(a.limit));
        if (found === null) throw { code: 'invalid_input', message: 'a search is too long: the limit is 500 characters' };
        return found;
      }
      if (cmd === 'messages') {
        const before = a.before as string;
        const older = held.filter((m) => m.channel === null && m.id < before).sort((x, y) => (x.id < y.id ? 1 : -1));
        return { messages: older.slice(0, Number(a.limit)), older: null };
      }
      return undefined;
    },
  };
  const calls = mockShell(fake);
  const onjump = vi.fn();
  const onclose = vi.fn();
  render(SearchView, {
    nameOf: (id: string) => (id === ME ? 'Maya' : 'Ben'),
    placeOf: (m: Message) => (m.channel ? 'in #plans' : 'with Ben'),
    here: { target: here, name: 'Ben' },
    onjump,
    onclose,
  });
  return { calls, onjump, onclose };
}

const field = () => screen.getByTestId('search-input') as HTMLInputElement;
const results = () => screen.queryAllByTestId('search-result');
const texts = () => results().map((r) => r.querySelector('.text')?.textContent);
const marked = (i: number) => [...results()[i]!.querySelectorAll('mark')].map((m) => m.textContent);

async function type(text: string) {
  await fireEvent.input(field(), { target: { value: text } });
  await vi.waitFor(() => expect(searchBook.answered).toBe(text.trim() === '' ? null : text.trim()), { timeout: 2000 });
}

describe('Search', () => {
  it('finds every word, accents and case aside, best first, and marks the words found', async () => {
    const held = [
      msg({ created_at: day(1), content: 'café? on y va, au revoir' }),
      msg({ created_at: day(2), content: 'Oui! Au CAFE de la gare', sender: ME }),
      msg({ created_at: day(3), content: 'On se voit au café ce soir ?', channel: PLANS, conversation: PLANS }),
      msg({ created_at: day(4), content: 'nothing to see' }),
    ];
    open(held);
    expect(document.activeElement).toBe(field());
    expect(screen.getByTestId('search-start')).toBeTruthy();
    await type('au café');
    expect(texts()).toEqual(['On se voit au café ce soir ?', 'Oui! Au CAFE de la gare', 'café? on y va, au revoir']);
    expect(marked(1)).toEqual(['Au', 'CAFE']);
    const first = within(results()[0]!);
    expect(first.getByText('Ben')).toBeTruthy();
    expect(first.getByText('in #plans')).toBeTruthy();
    expect(within(results()[1]!).getByText('Maya')).toBeTruthy();
    expect(screen.getByRole('status').textContent).toContain('3 messages');
  });

  it('says when nothing holds every word, and says a refusal in words', async () => {
    open([msg({ created_at: day(1), content: 'the beach' })]);
    await type('beach house');
    expect(screen.getByTestId('search-none').textContent).toContain('“beach house”');
    await fireEvent.input(field(), { target: { value: 'word '.repeat(120) } });
    await vi.waitFor(() => expect(screen.getByTestId('search-error').textContent).toContain('too long'), { timeout: 2000 });
  });

  it('opens a result with Enter, a click or the arrow keys; Esc closes', async () => {
    const older = msg({ created_at: day(1), content: 'pizza on Friday' });
    const newer = msg({ created_at: day(2), content: 'more pizza' });
    const { onjump, onclose } = open([older, newer]);
    await type('pizza');
    await fireEvent.keyDown(field(), { key: 'Enter' });
    await vi.waitFor(() => expect(onjump).toHaveBeenCalledWith(newer));
    await fireEvent.keyDown(field(), { key: 'ArrowDown' });
    await vi.waitFor(() => expect(document.activeElement).toBe(results()[0]));
    await fireEvent.keyDown(results()[0]!, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(results()[1]);
    await fireEvent.click(results()[1]!);
    expect(onjump).toHaveBeenLastCalledWith(older);
    await fireEvent.keyDown(results()[1]!, { key: 'Escape' });
    expect(onclose).toHaveBeenCalled();
  });

  it('looks in the open conversation only, or before a day; goes to a day', async () => {
    const may1 = msg({ created_at: day(1), content: 'lisbon tickets' });
    const may5 = msg({ created_at: day(5), content: 'lisbon hotel' });
    const inPlans = msg({ created_at: day(6), content: 'lisbon in May', channel: PLANS, conversation: PLANS });
    const { calls, onjump } = open([may1, may5, inPlans]);
    await type('Lisbon');
    expect(texts()).toEqual(['lisbon in May', 'lisbon hotel', 'lisbon tickets']);
    await fireEvent.click(screen.getByTestId('search-here'));
    await vi.waitFor(() => expect(texts()).toEqual(['lisbon hotel', 'lisbon tickets']));
    expect(calls.filter(([c]) => c === 'search').pop()![1].target).toBe('direct');
    await fireEvent.input(screen.getByTestId('search-day'), { target: { value: '2026-05-04' } });
    await fireEvent.change(screen.getByTestId('search-day'));
    await vi.waitFor(() => expect(texts()).toEqual(['lisbon tickets']));
    // The conversation at that day: its last message written by the day's end.
    await fireEvent.click(screen.getByTestId('search-go-to-day'));
    await vi.waitFor(() => expect(onjump).toHaveBeenCalledWith(may1));
    await fireEvent.input(screen.getByTestId('search-day'), { target: { value: '2026-04-01' } });
    await fireEvent.click(screen.getByTestId('search-go-to-day'));
    await vi.waitFor(() => expect(screen.getByTestId('search-day-problem').textContent).toContain('by that day'));
  });
});

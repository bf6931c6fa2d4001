import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { language } from '../../lib/i18n/index.svelte';

import EmojiPanel from './EmojiPanel.svelte';
import { MAX_RECENT } from './recent';
import { GROUPS, SEARCH_LIMIT, loadCatalog } from './search';

let total = 0;
let largestGroup = 0;

beforeAll(async () => {
  const { entries } = await loadCatalog();
  total = entries.length;
  for (const g of GROUPS) largestGroup = Math.max(largestGroup, entries.filter((e) => e.group === g.id).length);
});
beforeEach(() => localStorage.clear());
afterEach(() => language.choose('system'));

async function setup() {
  const onpick = vi.fn();
  const onclose = vi.fn();
  render(EmojiPanel, { label: 'Insert an emoji', onpick, onclose });
  await screen.findAllByTestId('emoji-cell');
  return { onpick, onclose, search: screen.getByTestId('emoji-search') };
}

const cells = () => screen.getAllByTestId('emoji-cell');

describe('the full emoji picker', () => {
  it('puts one group in the page at a time (hundreds of buttons, never all of them)', async () => {
    localStorage.setItem('duet.recentEmoji', JSON.stringify(Array.from({ length: 30 }, (_, i) => String.fromCodePoint(0x1f600 + i))));
    await setup();
    expect(total).toBeGreaterThan(1800);
    expect(largestGroup).toBeLessThan(450);
    for (const tab of screen.getAllByTestId('emoji-group')) {
      await fireEvent.click(tab);
      expect(tab).toHaveAttribute('aria-pressed', 'true');
      const n = cells().length;
      expect(n).toBeGreaterThan(MAX_RECENT);
      expect(n).toBeLessThanOrEqual(MAX_RECENT + largestGroup);
      expect(document.querySelectorAll('button').length).toBeLessThan(500);
    }
  });

  it('caps the results of a broad search', async () => {
    const { search } = await setup();
    await fireEvent.input(search, { target: { value: 'a' } });
    expect(cells().length).toBe(SEARCH_LIMIT);
    expect(screen.getByRole('group', { name: 'Results' })).toBeInTheDocument();
    await fireEvent.input(search, { target: { value: 'qqqzzz' } });
    expect(screen.queryByTestId('emoji-cell')).not.toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent('No emoji found.');
  });

  it('shows the group of a tab, and a search leaves the tabs unpressed', async () => {
    const { search } = await setup();
    const flags = screen.getByRole('button', { name: 'Flags' });
    await fireEvent.click(flags);
    expect(screen.getByRole('group', { name: 'Flags' })).toBeInTheDocument();
    expect(cells().map((c) => c.dataset.emoji)).toContain('🇫🇷');
    await fireEvent.input(search, { target: { value: 'france' } });
    expect(flags).toHaveAttribute('aria-pressed', 'false');
    expect(cells().map((c) => c.dataset.emoji)).toEqual(['🇫🇷']);
  });

  it('↑ from the first row goes back to the search field, and typing in the grid searches', async () => {
    const { search } = await setup();
    await fireEvent.keyDown(search, { key: 'ArrowDown' });
    expect(cells()[0]).toHaveFocus();
    await fireEvent.keyDown(cells()[0]!, { key: 'ArrowDown' });
    expect(cells()[8]).toHaveFocus();
    expect(cells()[8]).toHaveAttribute('tabindex', '0');
    expect(cells()[0]).toHaveAttribute('tabindex', '-1');
    await fireEvent.keyDown(cells()[8]!, { key: 'ArrowUp' });
    await fireEvent.keyDown(cells()[0]!, { key: 'ArrowUp' });
    expect(search).toHaveFocus();
    await fireEvent.keyDown(search, { key: 'ArrowDown' });
    await fireEvent.keyDown(cells()[0]!, { key: 'h' });
    expect(search).toHaveFocus();
  });

  it('names each emoji for assistive technology, with its shortcode in the tooltip', async () => {
    const { search } = await setup();
    await fireEvent.input(search, { target: { value: ':joy:' } });
    const joy = cells()[0]!;
    expect(joy).toHaveAccessibleName('face with tears of joy');
    expect(joy).toHaveAttribute('title', 'face with tears of joy :joy:');
  });

  it('remembers what was picked', async () => {
    const { onpick, search } = await setup();
    await fireEvent.input(search, { target: { value: 'sunflower' } });
    await fireEvent.click(cells()[0]!);
    expect(onpick).toHaveBeenCalledWith('🌻');
    expect(JSON.parse(localStorage.getItem('duet.recentEmoji')!)).toEqual(['🌻']);
  });

  it('speaks French when the window does: the field, the tabs and the headings', async () => {
    language.choose('fr');
    const { search } = await setup();
    expect(search).toHaveAttribute('placeholder', 'Rechercher un emoji');
    expect(screen.getByRole('group', { name: 'Catégories d’emoji' })).toBeInTheDocument();
    await fireEvent.click(screen.getByRole('button', { name: 'Drapeaux' }));
    expect(screen.getByRole('group', { name: 'Drapeaux' })).toBeInTheDocument();
    await fireEvent.input(search, { target: { value: 'qqqzzz' } });
    expect(screen.getByRole('status')).toHaveTextContent('Aucun emoji trouvé.');

    // A change of language shows at once, without reopening the picker.
    language.choose('en');
    await fireEvent.input(search, { target: { value: '' } });
    expect(screen.getByRole('group', { name: 'Flags' })).toBeInTheDocument();
  });
});

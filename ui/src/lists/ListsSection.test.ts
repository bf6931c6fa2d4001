import { clearMocks } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { startNodeEvents } from '../lib/nodeEvents';
import { listsBook } from './lists.svelte';
import ListsSection from './ListsSection.svelte';
import { listsNode } from './testing';

let stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
  cleanup();
  listsBook.clear();
  clearMocks();
});

/** The sidebar's section, following the node's events as the layout does. */
async function section(setup: (node: ReturnType<typeof listsNode>) => void = () => {}) {
  const node = listsNode();
  setup(node);
  stops.push(await startNodeEvents());
  stops.push(listsBook.follow());
  await listsBook.load();
  render(ListsSection);
  return node;
}

const links = () => screen.queryAllByTestId('list-link');

describe('the lists in the sidebar', () => {
  it('say there are none yet', async () => {
    await section();
    const lists = screen.getByTestId('lists-section');
    expect(within(lists).getByRole('heading', { name: 'Lists' })).toBeInTheDocument();
    expect(within(lists).getByText('No lists yet — groceries, plans, to-dos')).toBeInTheDocument();
    expect(links()).toHaveLength(0);
  });

  it('show each list by title with what is left, the latest changed first', async () => {
    const node = await section((n) => {
      const trip = n.make('Lisbon trip', ['Flights', 'Sunscreen']);
      n.fake.handle('set_list_item', { list: trip.id, item: trip.items[0]!.id, checked: true });
      n.make('Groceries', ['Oat milk', 'Eggs', 'Bread']);
      n.make('Someday');
    });
    expect(links().map((l) => l.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      '☑ Someday empty',
      '☑ Groceries 3 left',
      '☑ Lisbon trip 1 left',
    ]);
    expect(links()[1]).toHaveAccessibleName('Groceries, 3 left');
    const groceries = listsBook.all[1]!;
    expect(links()[1]).toHaveAttribute('data-list-id', groceries.id);

    // Ticked from the open list (or by my partner): the count follows, the list comes first.
    node.fake.byPartner(groceries.id, (l) => (l.items[0]!.checked = true));
    await vi.waitFor(() => expect(within(links()[0]!).getByTestId('list-left')).toHaveTextContent('2 left'));
    expect(links()[0]).toHaveTextContent('Groceries');
    node.fake.byPartner(groceries.id, (l) => l.items.forEach((i) => (i.checked = true)));
    await vi.waitFor(() => expect(within(links()[0]!).getByTestId('list-left')).toHaveTextContent('all done'));
  });

  it('open a list on click, marked as the current one', async () => {
    await section((n) => n.make('Groceries', ['Oat milk']));
    await fireEvent.click(links()[0]!);
    expect(listsBook.open).toBe(listsBook.all[0]!.id);
    expect(links()[0]).toHaveAttribute('aria-current', 'page');
  });

  it('make a list from an inline title (Enter), and open it', async () => {
    const { calls } = await section();
    await fireEvent.click(screen.getByTestId('list-new'));
    const field = screen.getByTestId('list-new-title');
    expect(field).toHaveFocus();
    expect(screen.queryByText('No lists yet — groceries, plans, to-dos')).not.toBeInTheDocument();

    await fireEvent.input(field, { target: { value: ' Groceries ' } });
    await fireEvent.submit(field.closest('form')!);
    await vi.waitFor(() => expect(links()).toHaveLength(1));
    expect(calls).toContainEqual(['create_list', { title: ' Groceries ' }]);
    expect(links()[0]).toHaveTextContent('Groceries');
    expect(listsBook.open).toBe(links()[0]!.dataset.listId);
    expect(screen.queryByTestId('list-new-title')).not.toBeInTheDocument();
  });

  it('cancel the new title with Esc', async () => {
    const { commands } = await section();
    await fireEvent.click(screen.getByTestId('list-new'));
    await fireEvent.input(screen.getByTestId('list-new-title'), { target: { value: 'Plans' } });
    await fireEvent.keyDown(screen.getByTestId('list-new-title'), { key: 'Escape' });
    expect(screen.queryByTestId('list-new-title')).not.toBeInTheDocument();
    expect(commands()).not.toContain('create_list');
    expect(screen.getByText('No lists yet — groceries, plans, to-dos')).toBeInTheDocument();
  });

  it('keep a refused title, with the node’s words', async () => {
    const { commands } = await section();
    await fireEvent.click(screen.getByTestId('list-new'));
    const field = screen.getByTestId('list-new-title');
    await fireEvent.submit(field.closest('form')!);
    expect(screen.getByRole('alert')).toHaveTextContent('A list needs a title.');
    expect(commands()).not.toContain('create_list');

    const long = 'A very long title '.repeat(6);
    await fireEvent.input(field, { target: { value: long } });
    await fireEvent.submit(field.closest('form')!);
    expect(await screen.findByText(/a list's title is too long: \d+ characters, the limit is 100/)).toBeInTheDocument();
    expect(field).toHaveValue(long);
    expect(links()).toHaveLength(0);
  });

  it('show a new list my partner made', async () => {
    const node = await section();
    const plans = node.make('Plans');
    await vi.waitFor(() => expect(links()).toHaveLength(1));
    expect(links()[0]).toHaveAttribute('data-list-id', plans.id);
  });
});

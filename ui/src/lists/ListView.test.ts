import { clearMocks } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { startNodeEvents } from '../lib/nodeEvents';
import { listsBook } from './lists.svelte';
import ListView from './ListView.svelte';
import { listsNode } from './testing';

let stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
  cleanup();
  listsBook.clear();
  clearMocks();
});

/** The node holds `title` with `items`; the list is open, as the layout shows it. */
async function open(title = 'Groceries', items: string[] = ['Oat milk', 'Eggs', 'Bread'], events = false) {
  const node = listsNode();
  const list = node.make(title, items);
  if (events) {
    stops.push(await startNodeEvents());
    stops.push(listsBook.follow());
  }
  await listsBook.load();
  listsBook.show(list.id);
  render(ListView, { id: list.id });
  return { ...node, list };
}

const texts = () => screen.queryAllByTestId('list-item-text').map((t) => t.textContent);
const row = (text: string) => screen.getAllByTestId('list-item').find((r) => within(r).queryByTestId('list-item-text')?.textContent === text)!;
const checked = () => screen.getAllByTestId('list-item').map((r) => r.dataset.checked);

describe('an open list', () => {
  it('shows its title, its items in order, and what is left', async () => {
    const { list } = await open();
    expect(screen.getByTestId('list-view')).toBeInTheDocument();
    expect(screen.getByTestId('list-title')).toHaveTextContent('Groceries');
    expect(texts()).toEqual(['Oat milk', 'Eggs', 'Bread']);
    expect(screen.getAllByTestId('list-item').map((r) => r.dataset.itemId)).toEqual(list.items.map((i) => i.id));
    expect(checked()).toEqual(['false', 'false', 'false']);
    expect(screen.getByText(/3 left · 3 items/)).toBeInTheDocument();
  });

  it('adds items with Enter, keeping focus in the field for the next one', async () => {
    const { calls, list } = await open('Groceries', []);
    const field = screen.getByTestId('list-add');
    // A new, empty list starts in its field.
    expect(field).toHaveFocus();
    expect(screen.getByText('Nothing on this list yet: add the first item below.')).toBeInTheDocument();

    await fireEvent.input(field, { target: { value: '  Oat milk ' } });
    await fireEvent.keyDown(field, { key: 'Enter' });
    await vi.waitFor(() => expect(texts()).toEqual(['Oat milk']));
    expect(field).toHaveValue('');
    expect(field).toHaveFocus();

    await fireEvent.input(field, { target: { value: 'Eggs' } });
    await fireEvent.keyDown(field, { key: 'Enter' });
    await vi.waitFor(() => expect(texts()).toEqual(['Oat milk', 'Eggs']));
    expect(field).toHaveFocus();
    expect(calls.filter(([c]) => c === 'add_list_item').map(([, a]) => a)).toEqual([
      { list: list.id, text: '  Oat milk ', place: null },
      { list: list.id, text: 'Eggs', place: null },
    ]);

    // Enter on an empty field asks nothing.
    await fireEvent.keyDown(field, { key: 'Enter' });
    expect(calls.filter(([c]) => c === 'add_list_item')).toHaveLength(2);
  });

  it('refuses an over-long item in the node’s words, and keeps what was typed', async () => {
    await open();
    const field = screen.getByTestId('list-add');
    const long = 'x'.repeat(501);
    await fireEvent.input(field, { target: { value: long } });
    await fireEvent.keyDown(field, { key: 'Enter' });
    expect(await screen.findByRole('alert')).toHaveTextContent('a list item is too long: 501 characters, the limit is 500');
    expect(field).toHaveValue(long);
    expect(field).toHaveAttribute('aria-invalid', 'true');
    expect(texts()).toEqual(['Oat milk', 'Eggs', 'Bread']);

    // Shortened, it goes in and the words go.
    await fireEvent.input(field, { target: { value: 'x'.repeat(500) } });
    await fireEvent.keyDown(field, { key: 'Enter' });
    await vi.waitFor(() => expect(texts()).toHaveLength(4));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('ticks and unticks an item: struck through, counted as done', async () => {
    const { calls, list } = await open();
    const eggs = row('Eggs');
    await fireEvent.click(within(eggs).getByTestId('list-item-check'));
    await vi.waitFor(() => expect(row('Eggs')).toHaveAttribute('data-checked', 'true'));
    expect(within(row('Eggs')).getByTestId('list-item-check')).toBeChecked();
    expect(row('Eggs')).toHaveClass('checked');
    expect(calls).toContainEqual(['set_list_item', { list: list.id, item: list.items[1]!.id, text: null, checked: true }]);
    expect(screen.getByText(/2 left · 3 items/)).toBeInTheDocument();

    // Hide done leaves it out, until shown again.
    await fireEvent.click(screen.getByTestId('list-hide-done'));
    expect(texts()).toEqual(['Oat milk', 'Bread']);
    await fireEvent.click(screen.getByTestId('list-hide-done'));
    expect(texts()).toEqual(['Oat milk', 'Eggs', 'Bread']);

    await fireEvent.click(within(row('Eggs')).getByTestId('list-item-check'));
    await vi.waitFor(() => expect(row('Eggs')).toHaveAttribute('data-checked', 'false'));
  });

  it('renames an item inline: double-click, Enter saves; Esc cancels', async () => {
    const { calls, list } = await open();
    await fireEvent.dblClick(within(row('Bread')).getByTestId('list-item-text'));
    const editor = screen.getByTestId('list-item-input');
    expect(editor).toHaveFocus();
    expect(editor).toHaveValue('Bread');
    await fireEvent.input(editor, { target: { value: 'Sourdough bread' } });
    await fireEvent.keyDown(editor, { key: 'Enter' });
    await vi.waitFor(() => expect(texts()).toEqual(['Oat milk', 'Eggs', 'Sourdough bread']));
    expect(calls).toContainEqual(['set_list_item', { list: list.id, item: list.items[2]!.id, text: 'Sourdough bread', checked: null }]);
    expect(screen.queryByTestId('list-item-input')).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Edit Sourdough bread' })).toHaveFocus();

    // The ✎ button, then Esc: nothing changes.
    await fireEvent.click(screen.getByRole('button', { name: 'Edit Eggs' }));
    await fireEvent.input(screen.getByTestId('list-item-input'), { target: { value: 'Quail eggs' } });
    await fireEvent.keyDown(screen.getByTestId('list-item-input'), { key: 'Escape' });
    expect(texts()).toEqual(['Oat milk', 'Eggs', 'Sourdough bread']);
    expect(calls.filter(([c]) => c === 'set_list_item')).toHaveLength(1);
  });

  it('keeps an edit the node refuses, with its words next to the item', async () => {
    await open();
    await fireEvent.click(screen.getByRole('button', { name: 'Edit Eggs' }));
    const editor = screen.getByTestId('list-item-input');
    await fireEvent.input(editor, { target: { value: '   ' } });
    await fireEvent.keyDown(editor, { key: 'Enter' });
    expect(await within(editor.closest('li')!).findByRole('alert')).toHaveTextContent("a list item can't be empty");
    expect(screen.getByTestId('list-item-input')).toHaveValue('   ');
  });

  it('moves a focused item with Alt+↑ and Alt+↓, focus staying on it', async () => {
    const { calls, list } = await open('Groceries', ['Oat milk', 'Eggs', 'Bread', 'Basil']);
    const [milk, eggs, bread, basil] = list.items.map((i) => i.id);

    const breadCheck = within(row('Bread')).getByTestId('list-item-check');
    breadCheck.focus();
    await fireEvent.keyDown(breadCheck, { key: 'ArrowUp', altKey: true });
    await vi.waitFor(() => expect(texts()).toEqual(['Oat milk', 'Bread', 'Eggs', 'Basil']));
    // Up: after the item two above.
    expect(calls).toContainEqual(['move_list_item', { list: list.id, item: bread, place: { to: 'after', item: milk } }]);
    expect(within(row('Bread')).getByTestId('list-item-check')).toHaveFocus();

    await fireEvent.keyDown(document.activeElement!, { key: 'ArrowUp', altKey: true });
    await vi.waitFor(() => expect(texts()).toEqual(['Bread', 'Oat milk', 'Eggs', 'Basil']));
    // The second one up goes to the top; the first does not move.
    expect(calls).toContainEqual(['move_list_item', { list: list.id, item: bread, place: { to: 'top' } }]);
    await fireEvent.keyDown(document.activeElement!, { key: 'ArrowUp', altKey: true });
    expect(calls.filter(([c]) => c === 'move_list_item')).toHaveLength(2);

    // Down: after the next one.
    await fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown', altKey: true });
    await vi.waitFor(() => expect(texts()).toEqual(['Oat milk', 'Bread', 'Eggs', 'Basil']));
    expect(calls).toContainEqual(['move_list_item', { list: list.id, item: bread, place: { to: 'after', item: milk } }]);
    expect(within(row('Bread')).getByTestId('list-item-check')).toHaveFocus();

    // The buttons do the same; the last item cannot go further down.
    await fireEvent.click(screen.getByRole('button', { name: 'Move Eggs down' }));
    await vi.waitFor(() => expect(texts()).toEqual(['Oat milk', 'Bread', 'Basil', 'Eggs']));
    expect(calls).toContainEqual(['move_list_item', { list: list.id, item: eggs, place: { to: 'after', item: basil } }]);
    expect(screen.getByRole('button', { name: 'Move Eggs down' })).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Move Oat milk up' })).toBeDisabled();
  });

  it('removes an item by its button, named for the item', async () => {
    const { calls, list } = await open();
    const remove = screen.getByRole('button', { name: 'Remove Eggs' });
    expect(remove).toHaveAttribute('data-testid', 'list-remove-item');
    await fireEvent.click(remove);
    await vi.waitFor(() => expect(texts()).toEqual(['Oat milk', 'Bread']));
    expect(calls).toContainEqual(['remove_list_item', { list: list.id, item: list.items[1]!.id }]);
    // Focus goes on to the next item.
    expect(within(row('Bread')).getByTestId('list-item-check')).toHaveFocus();
  });

  it('renames the list inline, keeping a refused title', async () => {
    const { list } = await open();
    await fireEvent.click(within(screen.getByTestId('list-title')).getByRole('button'));
    const field = screen.getByTestId('list-title-input');
    expect(field).toHaveValue('Groceries');
    await fireEvent.input(field, { target: { value: 'G'.repeat(101) } });
    await fireEvent.keyDown(field, { key: 'Enter' });
    expect(await screen.findByRole('alert')).toHaveTextContent("a list's title is too long: 101 characters, the limit is 100");
    expect(field).toHaveValue('G'.repeat(101));

    await fireEvent.input(field, { target: { value: 'Weekend shop' } });
    await fireEvent.keyDown(field, { key: 'Enter' });
    expect(await screen.findByTestId('list-title')).toHaveTextContent('Weekend shop');
    expect(listsBook.get(list.id)?.title).toBe('Weekend shop');

    // The Rename button, then Esc.
    await fireEvent.click(screen.getByRole('button', { name: 'Rename' }));
    await fireEvent.keyDown(screen.getByTestId('list-title-input'), { key: 'Escape' });
    expect(screen.getByTestId('list-title')).toHaveTextContent('Weekend shop');
  });

  it('deletes the list only after a confirmation, and closes it', async () => {
    const { commands, list } = await open();
    await fireEvent.click(screen.getByTestId('list-delete'));
    expect(screen.getByText(/Delete “Groceries” and its 3 items\s+for both of you\?/)).toBeInTheDocument();
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(commands()).not.toContain('delete_list');

    await fireEvent.click(screen.getByTestId('list-delete'));
    await fireEvent.click(screen.getByTestId('list-delete-confirm'));
    await vi.waitFor(() => expect(listsBook.open).toBeNull());
    expect(commands()).toContain('delete_list');
    expect(listsBook.get(list.id)).toBeUndefined();
    // Deleted here: no notice about it.
    expect(listsBook.notice).toBeNull();
  });

  it('reloads when the node says the list changed (my partner added and ticked)', async () => {
    const { fake, list } = await open('Groceries', ['Oat milk', 'Eggs'], true);
    fake.byPartner(list.id, (l) => {
      l.items.push(fake.item('Croissants 🥐'));
      l.items[0]!.checked = true;
    });
    await vi.waitFor(() => expect(texts()).toEqual(['Oat milk', 'Eggs', 'Croissants 🥐']));
    expect(checked()).toEqual(['true', 'false', 'false']);
  });

  it('puts a tick back when the node refuses it (the item was removed meanwhile)', async () => {
    const { fake, list } = await open();
    // Removed by my partner; this window has not heard yet.
    fake.byPartner(list.id, (l) => l.items.splice(1, 1));
    await fireEvent.click(within(row('Eggs')).getByTestId('list-item-check'));
    expect(await screen.findByRole('alert')).toHaveTextContent('that item is not in the list (it may have been removed)');
    // The node's list as it is now.
    await vi.waitFor(() => expect(texts()).toEqual(['Oat milk', 'Bread']));
  });
});

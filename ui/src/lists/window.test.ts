/**
 * Shared lists in the whole window (App → Layout): a list opens in the main pane instead of
 * the conversation, and goes back to it when a conversation is chosen or the list is deleted.
 */
import { clearMocks } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import App from '../App.svelte';
import type { AppSnapshot, Person } from '../lib/backend';
import personJson from '../lib/backend/fixtures/person.json';
import { ME, PARTNER } from '../test/messages';
import { listsBook } from './lists.svelte';
import { listsNode } from './testing';

const maya: Person = { ...(personJson as Person), id: ME };
const ben: Person = { id: PARTNER, display_name: 'Ben', avatar: { emoji: '🐻' }, devices: ['b0'.repeat(32)] };
const together: AppSnapshot = { device_id: 'a0'.repeat(32), profile: maya, partner: ben, paired: true, catching_up: false };

afterEach(() => {
  cleanup();
  listsBook.clear();
  clearMocks();
});

/** A paired Duet with no messages, and lists. */
function shell() {
  return listsNode((cmd) => {
    switch (cmd) {
      case 'app_state':
        return together;
      case 'conversations':
      case 'channels':
      case 'presence':
      case 'peers':
        return [];
      case 'messages':
        return { messages: [], older: null };
      default:
        return undefined;
    }
  });
}

const link = (title: string) => screen.getAllByTestId('list-link').find((l) => l.textContent?.includes(title))!;

describe('shared lists in the window', () => {
  it('open in the main pane instead of the conversation, until a conversation is chosen', async () => {
    const node = shell();
    node.make('Groceries', ['Oat milk', 'Eggs']);
    render(App);
    expect(await screen.findByTestId('chat-view')).toBeInTheDocument();
    const lists = await screen.findByTestId('lists-section');
    await vi.waitFor(() => expect(within(lists).getAllByTestId('list-link')).toHaveLength(1));
    expect(screen.getByTestId('conversation-direct')).toHaveAttribute('aria-current', 'page');

    await fireEvent.click(link('Groceries'));
    const view = await screen.findByTestId('list-view');
    expect(within(view).getByTestId('list-title')).toHaveTextContent('Groceries');
    expect(screen.queryByTestId('chat-view')).not.toBeInTheDocument();
    expect(screen.getByTestId('conversation-direct')).not.toHaveAttribute('aria-current');
    expect(link('Groceries')).toHaveAttribute('aria-current', 'page');

    await fireEvent.click(screen.getByTestId('conversation-direct'));
    expect(await screen.findByTestId('chat-view')).toBeInTheDocument();
    expect(screen.queryByTestId('list-view')).not.toBeInTheDocument();
    expect(link('Groceries')).not.toHaveAttribute('aria-current');
  });

  it('make a list from the sidebar, open it, and count its items there', async () => {
    shell();
    render(App);
    await screen.findByTestId('chat-view');
    expect(await screen.findByText('No lists yet — groceries, plans, to-dos')).toBeInTheDocument();

    await fireEvent.click(screen.getByTestId('list-new'));
    const title = screen.getByTestId('list-new-title');
    await fireEvent.input(title, { target: { value: 'Groceries' } });
    await fireEvent.submit(title.closest('form')!);

    const view = await screen.findByTestId('list-view');
    const add = within(view).getByTestId('list-add');
    expect(add).toHaveFocus();
    for (const item of ['Oat milk', 'Eggs']) {
      await fireEvent.input(add, { target: { value: item } });
      await fireEvent.keyDown(add, { key: 'Enter' });
      await vi.waitFor(() => expect(within(view).getByText(item)).toBeInTheDocument());
    }
    await vi.waitFor(() => expect(link('Groceries')).toHaveAccessibleName('Groceries, 2 left'));
    await fireEvent.click(within(view).getAllByTestId('list-item-check')[0]!);
    await vi.waitFor(() => expect(link('Groceries')).toHaveAccessibleName('Groceries, 1 left'));
  });

  it('close a list my partner deleted while it was open, with a short notice', async () => {
    const node = shell();
    const groceries = node.make('Groceries', ['Oat milk']);
    render(App);
    await fireEvent.click(await screen.findByTestId('list-link'));
    expect(await screen.findByTestId('list-view')).toBeInTheDocument();

    node.fake.byPartner(groceries.id, 'delete');
    expect(await screen.findByTestId('chat-view')).toBeInTheDocument();
    expect(screen.queryByTestId('list-view')).not.toBeInTheDocument();
    const lists = screen.getByTestId('lists-section');
    expect(within(lists).getByRole('status')).toHaveTextContent('“Groceries” was deleted, so it was closed.');
    expect(within(lists).queryAllByTestId('list-link')).toHaveLength(0);

    await fireEvent.click(within(lists).getByRole('button', { name: 'Dismiss' }));
    expect(within(lists).queryByRole('status')).not.toBeInTheDocument();
  });
});

import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import type { Message } from '../lib/backend';
import { ME, PARTNER, at, msg } from '../test/messages';
import { loadCatalog } from './emoji/search';
import MessageRow from './MessageRow.svelte';

function setup(
  message: Message,
  extra: { quoted?: Message | null; pending?: { state: 'sending' | 'failed'; error?: string }; tabbable?: boolean } = {},
) {
  const handlers = {
    onreply: vi.fn(),
    onedit: vi.fn(),
    ondelete: vi.fn(async () => null),
    ontoggle: vi.fn(async () => null),
    onjump: vi.fn(),
    onretry: vi.fn(),
    ondiscard: vi.fn(),
    onfocusrow: vi.fn(),
  };
  render(MessageRow, {
    entry: { message, pending: extra.pending },
    first: true,
    me: ME,
    sender: null,
    nameOf: (id: string) => (id === ME ? 'You' : 'Ben'),
    quoted: extra.quoted ?? null,
    tabbable: extra.tabbable ?? true,
    ...handlers,
  });
  return { ...handlers, row: screen.getByTestId('message') };
}

describe('a message row', () => {
  it('offers edit and delete on my messages only', () => {
    setup(msg({ created_at: at(20), sender: PARTNER }));
    expect(screen.getByTestId('react-button')).toBeInTheDocument();
    expect(screen.queryByTestId('edit-button')).not.toBeInTheDocument();
    expect(screen.queryByTestId('delete-button')).not.toBeInTheDocument();
  });

  it('has its actions, out of the Tab order, only while pointed at or holding the focus', async () => {
    const { row } = setup(msg({ created_at: at(20), sender: ME }), { tabbable: false });
    expect(screen.queryByRole('toolbar')).not.toBeInTheDocument();

    await fireEvent.mouseEnter(row);
    expect(screen.getByTestId('react-button')).toBeInTheDocument();
    await fireEvent.mouseLeave(row);
    expect(screen.queryByRole('toolbar')).not.toBeInTheDocument();

    // ↑/↓ focus the row itself; its buttons take the focus from there and keep the toolbar.
    row.focus();
    await tick();
    const react = screen.getByTestId('react-button');
    react.focus();
    await tick();
    expect(react).toHaveFocus();
    expect(screen.getByRole('toolbar')).toBeInTheDocument();
    react.blur();
    await tick();
    expect(screen.queryByRole('toolbar')).not.toBeInTheDocument();
  });

  it('deletes only after a confirmation', async () => {
    const m = msg({ created_at: at(20), sender: ME });
    const { ondelete } = setup(m);
    await fireEvent.click(screen.getByTestId('delete-button'));
    const ask = screen.getByRole('alertdialog', { name: 'Delete this message?' });
    await fireEvent.click(within(ask).getByRole('button', { name: 'Cancel' }));
    expect(ondelete).not.toHaveBeenCalled();
    await fireEvent.click(screen.getByTestId('delete-button'));
    await fireEvent.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Delete' }));
    expect(ondelete).toHaveBeenCalledWith(m);
  });

  it('marks an edited message, with the time in the tooltip', () => {
    setup(msg({ created_at: at(20), sender: ME, content: 'fixed', edited: true, edited_at: at(20, 3) }));
    expect(screen.getByTestId('message-content')).toHaveTextContent(/^fixed$/);
    expect(screen.getByTestId('edited-marker')).toHaveAttribute('title', expect.stringMatching(/^Edited /));
  });

  it('says a deleted message was deleted and offers nothing to do with it', () => {
    setup(msg({ created_at: at(20), sender: ME, deleted: true, content: '' }));
    expect(screen.getByTestId('message-content')).toHaveTextContent('This message was deleted.');
    expect(screen.queryByTestId('react-button')).not.toBeInTheDocument();
  });

  it('quotes the replied message and jumps to it on click', async () => {
    const original = msg({ created_at: at(20, 0), sender: ME, content: 'I found the recipe!' });
    const { onjump } = setup(msg({ created_at: at(20, 5), reply_to: original.id }), { quoted: original });
    const quote = screen.getByRole('button', { name: /Reply to You: I found the recipe!/ });
    await fireEvent.click(quote);
    expect(onjump).toHaveBeenCalledWith(original.id);
  });

  it('takes keys when focused: r replies, e edits mine, + opens the reactions', async () => {
    const m = msg({ created_at: at(20), sender: ME });
    const { row, onreply, onedit, ontoggle } = setup(m);
    await fireEvent.keyDown(row, { key: 'r' });
    expect(onreply).toHaveBeenCalledWith(m);
    await fireEvent.keyDown(row, { key: 'e' });
    expect(onedit).toHaveBeenCalledWith(m);
    await fireEvent.keyDown(row, { key: '+' });
    const options = screen.getAllByTestId('emoji-option');
    expect(document.activeElement).toBe(options[0]);
    await fireEvent.click(options[1]!);
    expect(ontoggle).toHaveBeenCalledWith(m, options[1]!.dataset.emoji);
    expect(screen.queryByTestId('emoji-option')).not.toBeInTheDocument();
  });

  it('keeps a failed send with its reason, to try again or discard', async () => {
    const { onretry, ondiscard } = setup(msg({ created_at: at(20), sender: ME, content: 'hello' }), {
      pending: { state: 'failed', error: 'Duet could not reach your devices.' },
    });
    expect(screen.getByRole('alert')).toHaveTextContent('Not sent: Duet could not reach your devices.');
    await fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Discard' }));
    expect(onretry).toHaveBeenCalled();
    expect(ondiscard).toHaveBeenCalled();
    expect(screen.queryByTestId('react-button')).not.toBeInTheDocument();
  });
});

describe('reacting with any emoji', () => {
  beforeAll(async () => {
    await loadCatalog();
  });
  beforeEach(() => localStorage.clear());

  async function openMore(m: Message) {
    const handlers = setup(m);
    await fireEvent.click(screen.getByTestId('react-button'));
    await fireEvent.click(screen.getByTestId('emoji-more'));
    const search = screen.getByTestId('emoji-search');
    expect(search).toHaveFocus();
    await screen.findAllByTestId('emoji-cell');
    return { ...handlers, search };
  }

  it('keeps the quick eight first, and "More…" picks through the same path', async () => {
    const m = msg({ created_at: at(20) });
    const { ontoggle, search } = await openMore(m);
    expect(screen.getAllByTestId('emoji-option').map((b) => b.dataset.emoji)).toHaveLength(8);
    await fireEvent.input(search, { target: { value: 'fox' } });
    await fireEvent.keyDown(search, { key: 'Enter' });
    expect(ontoggle).toHaveBeenCalledWith(m, '🦊');
    expect(screen.queryByTestId('emoji-panel')).not.toBeInTheDocument();
    expect(screen.queryByTestId('emoji-option')).not.toBeInTheDocument();
    expect(screen.getByTestId('react-button')).toHaveFocus();
    // The same as a quick reaction.
    await fireEvent.click(screen.getByTestId('react-button'));
    await fireEvent.click(screen.getAllByTestId('emoji-option')[0]!);
    expect(ontoggle).toHaveBeenLastCalledWith(m, '💛');
  });

  it('shows mine pressed, and a pick of one of mine takes it back the same way', async () => {
    const m = msg({ created_at: at(20), reactions: [{ user: ME, emoji: '🦊', created_at: 1 }] });
    const { ontoggle, search } = await openMore(m);
    await fireEvent.input(search, { target: { value: 'fox' } });
    const fox = screen.getAllByTestId('emoji-cell')[0]!;
    expect(fox).toHaveAttribute('aria-pressed', 'true');
    await fireEvent.click(fox);
    expect(ontoggle).toHaveBeenCalledWith(m, '🦊');
  });

  it('offers only emoji the node takes as a reaction', async () => {
    const { search } = await openMore(msg({ created_at: at(20) }));
    await fireEvent.input(search, { target: { value: 'keycap' } });
    const offered = screen.getAllByTestId('emoji-cell').map((b) => b.dataset.emoji);
    expect(offered).not.toContain('1️⃣');
    expect(offered).toContain('#️⃣');
  });

  it('Esc closes the full picker back to "More…", and again the reactions back to the react button', async () => {
    const { search } = await openMore(msg({ created_at: at(20) }));
    await fireEvent.keyDown(search, { key: 'Escape' });
    expect(screen.queryByTestId('emoji-panel')).not.toBeInTheDocument();
    const more = screen.getByTestId('emoji-more');
    expect(more).toHaveFocus();
    await fireEvent.keyDown(more, { key: 'Escape' });
    expect(screen.queryByTestId('emoji-option')).not.toBeInTheDocument();
    expect(screen.getByTestId('react-button')).toHaveFocus();
  });
});

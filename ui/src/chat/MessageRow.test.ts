import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';

import type { Message } from '../lib/backend';
import { ME, PARTNER, at, msg } from '../test/messages';
import MessageRow from './MessageRow.svelte';

function setup(message: Message, extra: { quoted?: Message | null; pending?: { state: 'sending' | 'failed'; error?: string } } = {}) {
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
    tabbable: true,
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

import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import Composer from './Composer.svelte';
import { loadCatalog } from './emoji/search';

function setup(props: Partial<Parameters<typeof render<typeof Composer>>[1] & object> = {}) {
  const handlers = {
    onsend: vi.fn(),
    onsaveedit: vi.fn(async () => null as string | null),
    oneditlast: vi.fn(() => true),
    oncancelreply: vi.fn(),
    oncanceledit: vi.fn(),
    ontyping: vi.fn(),
  };
  const view = render(Composer, { label: 'Message Ben', placeholder: 'Message Ben…', ...handlers, ...props });
  const field = screen.getByTestId('composer') as HTMLTextAreaElement;
  const type = (text: string) => fireEvent.input(field, { target: { value: text } });
  const key = (k: string, opts: KeyboardEventInit = {}) => fireEvent.keyDown(field, { key: k, ...opts });
  return { ...handlers, ...view, field, type, key };
}

describe('the composer', () => {
  it('steps aside while a tool holds the row (a voice message recording), keeping the draft', async () => {
    const c = setup();
    await c.type('half a thought');
    await c.rerender({ toolsBusy: true });
    expect(c.field).not.toBeVisible();
    expect(screen.queryByRole('button', { name: 'Send' })).not.toBeInTheDocument();
    await c.rerender({ toolsBusy: false });
    expect(c.field).toBeVisible();
    expect(c.field.value).toBe('half a thought');
    expect(screen.getByRole('button', { name: 'Send' })).toBeEnabled();
  });

  it('sends on Enter and empties itself', async () => {
    const c = setup();
    await c.type('hello love');
    await c.key('Enter');
    expect(c.onsend).toHaveBeenCalledWith('hello love');
    expect(c.field.value).toBe('');
  });

  it('does not send on Shift+Enter (a new line), nor an empty or blank message', async () => {
    const c = setup();
    await c.type('line one');
    const shift = await c.key('Enter', { shiftKey: true });
    expect(shift).toBe(true); // not prevented: the browser inserts the line break
    expect(c.onsend).not.toHaveBeenCalled();
    await c.type('   \n  ');
    await c.key('Enter');
    expect(c.onsend).not.toHaveBeenCalled();
    expect(screen.getByRole('button', { name: 'Send' })).toBeDisabled();
  });

  it('shows no counter for short messages, and a live one from 1,800 characters', async () => {
    const c = setup();
    await c.type('a'.repeat(1799));
    expect(screen.queryByTestId('composer-counter')).not.toBeInTheDocument();
    await c.type('a'.repeat(1800));
    expect(screen.getByTestId('composer-counter')).toHaveTextContent('1,800 / 2,000');
    await c.type('💛'.repeat(2000));
    expect(screen.getByTestId('composer-counter')).toHaveTextContent('2,000 / 2,000');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('refuses past 2,000 characters, says why, and keeps the text', async () => {
    const c = setup();
    await c.type('a'.repeat(2003));
    expect(screen.getByRole('alert')).toHaveTextContent('Too long to send: 3 characters over the 2,000 limit');
    expect(screen.getByRole('button', { name: 'Send' })).toBeDisabled();
    expect(c.field).toHaveAttribute('aria-invalid', 'true');
    await c.key('Enter');
    expect(c.onsend).not.toHaveBeenCalled();
    expect(c.field.value).toHaveLength(2003);
  });

  it('asks to edit my last message on ↑ in an empty composer, and only then', async () => {
    const c = setup();
    await c.key('ArrowUp');
    expect(c.oneditlast).toHaveBeenCalledTimes(1);
    await c.type('draft');
    await c.key('ArrowUp');
    expect(c.oneditlast).toHaveBeenCalledTimes(1);
  });

  it('takes the text of the message being edited, saves on Enter, and gives the draft back', async () => {
    const c = setup();
    await c.type('my draft');
    await c.rerender({ editing: { id: 'm1', text: 'old words' } });
    expect(c.field.value).toBe('old words');
    expect(screen.getByText('Editing your message')).toBeInTheDocument();
    await c.type('new words');
    await c.key('Enter');
    expect(c.onsaveedit).toHaveBeenCalledWith('m1', 'new words');
    expect(c.onsend).not.toHaveBeenCalled();
    await c.rerender({ editing: null });
    expect(c.field.value).toBe('my draft');
  });

  it('keeps the edit open and says why when saving fails', async () => {
    const c = setup({ onsaveedit: vi.fn(async () => 'You can only edit your own messages.') });
    await c.rerender({ editing: { id: 'm1', text: 'old' } });
    await c.type('new');
    await c.key('Enter');
    expect(await screen.findByRole('alert')).toHaveTextContent('You can only edit your own messages.');
    expect(c.field.value).toBe('new');
  });

  it('cancels an edit, or else a reply, on Esc', async () => {
    const c = setup({ replyTo: { name: 'Ben', text: 'Can we bake it on Sunday?' } });
    expect(screen.getByText(/Replying to/)).toHaveTextContent('Replying to Ben: Can we bake it on Sunday?');
    await c.key('Escape');
    expect(c.oncancelreply).toHaveBeenCalledTimes(1);
    await c.rerender({ editing: { id: 'm1', text: 'old' } });
    await c.key('Escape');
    expect(c.oncanceledit).toHaveBeenCalledTimes(1);
    expect(c.oncancelreply).toHaveBeenCalledTimes(1);
  });

  it('signals typing while text is written, not for blanks nor while editing', async () => {
    const c = setup();
    await c.type('h');
    await c.type('he');
    await c.type('   ');
    expect(c.ontyping).toHaveBeenCalledTimes(2);
    await c.rerender({ editing: { id: 'm1', text: 'old' } });
    await c.type('older');
    expect(c.ontyping).toHaveBeenCalledTimes(2);
  });
});

describe('the emoji picker in the composer', () => {
  // The catalog is a chunk of its own; here it is imported once, before the tests.
  beforeAll(async () => {
    await loadCatalog();
  });
  beforeEach(() => localStorage.clear());

  async function open(c: ReturnType<typeof setup>, caret: number) {
    c.field.focus();
    c.field.setSelectionRange(caret, caret);
    await fireEvent.click(screen.getByTestId('emoji-button'));
    const search = screen.getByTestId('emoji-search');
    expect(search).toHaveFocus();
    await screen.findAllByTestId('emoji-cell');
    return search;
  }

  it('names the formatting in the field’s tooltip', () => {
    const c = setup();
    expect(c.field.title).toContain('**bold** _italic_ `code`');
  });

  it('searches, and Enter puts the first result in at the caret, the caret after it', async () => {
    const c = setup();
    await c.type('Hello world');
    const search = await open(c, 5);
    const before = screen.getAllByTestId('emoji-cell').length;
    await fireEvent.input(search, { target: { value: 'Yellow HEART' } });
    const found = screen.getAllByTestId('emoji-cell');
    expect(found.length).toBeLessThan(before);
    expect(found[0]).toHaveAttribute('data-emoji', '💛');
    await fireEvent.keyDown(search, { key: 'Enter' });
    expect(c.field.value).toBe('Hello💛 world');
    await waitFor(() => expect(c.field).toHaveFocus());
    expect(c.field.selectionStart).toBe('Hello💛'.length);
    expect(screen.queryByTestId('emoji-panel')).not.toBeInTheDocument();
    expect(c.ontyping).toHaveBeenCalled();
  });

  it('moves through the grid with the arrow keys and picks with Enter, over the selection', async () => {
    const c = setup();
    await c.type('I am sad');
    c.field.focus();
    c.field.setSelectionRange(5, 8); // "sad"
    await fireEvent.click(screen.getByTestId('emoji-button'));
    const search = screen.getByTestId('emoji-search');
    await fireEvent.input(search, { target: { value: 'cat' } });
    await fireEvent.keyDown(search, { key: 'ArrowDown' });
    const first = screen.getAllByTestId('emoji-cell')[0]!;
    expect(first).toHaveFocus();
    await fireEvent.keyDown(first, { key: 'ArrowRight' });
    const second = screen.getAllByTestId('emoji-cell')[1]!;
    expect(second).toHaveFocus();
    await fireEvent.keyDown(second, { key: 'Enter' });
    expect(c.field.value).toBe(`I am ${second.dataset.emoji}`);
  });

  it('closes on Esc and gives the focus back to its button, the text untouched', async () => {
    const c = setup();
    await c.type('draft');
    const search = await open(c, 5);
    await fireEvent.keyDown(search, { key: 'Escape' });
    expect(screen.queryByTestId('emoji-panel')).not.toBeInTheDocument();
    expect(screen.getByTestId('emoji-button')).toHaveFocus();
    expect(c.field.value).toBe('draft');
    expect(c.oncancelreply).not.toHaveBeenCalled();
  });

  it('closes on a press elsewhere', async () => {
    const c = setup();
    await open(c, 0);
    await fireEvent.pointerDown(c.field);
    expect(screen.queryByTestId('emoji-panel')).not.toBeInTheDocument();
  });

  it('puts the recently used first', async () => {
    localStorage.setItem('duet.recentEmoji', JSON.stringify(['🦊', '🌻']));
    const c = setup();
    await open(c, 0);
    const cells = screen.getAllByTestId('emoji-cell');
    expect(cells.slice(0, 2).map((b) => b.dataset.emoji)).toEqual(['🦊', '🌻']);
    expect(screen.getByRole('group', { name: 'Recently used' })).toBeInTheDocument();
    await fireEvent.click(cells[5]!);
    const again = await open(c, 0);
    expect(again).toHaveFocus();
    expect(screen.getAllByTestId('emoji-cell')[0]!.dataset.emoji).toBe(cells[5]!.dataset.emoji);
  });
});

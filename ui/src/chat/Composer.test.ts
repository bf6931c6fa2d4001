import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';

import Composer from './Composer.svelte';

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

/**
 * Memories in the whole window (App → Layout): opened from the sidebar in the main pane
 * instead of the conversation, closed with × or Esc, and "Jump to the message" opens the
 * message's conversation and shows it there.
 */
import { clearMocks } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import App from '../App.svelte';
import type { AppSnapshot, Channel, Message, Person, Target } from '../lib/backend';
import personJson from '../lib/backend/fixtures/person.json';
import { listsBook } from '../lists/lists.svelte';
import { ME, PARTNER, msg } from '../test/messages';
import { memoriesBook } from './memories.svelte';
import { imageAttachment, memoriesNode, shared } from './testing';

const maya: Person = { ...(personJson as Person), id: ME };
const ben: Person = { id: PARTNER, display_name: 'Ben', avatar: { emoji: '🐻' }, devices: ['b0'.repeat(32)] };
const together: AppSnapshot = { device_id: 'a0'.repeat(32), profile: maya, partner: ben, paired: true, catching_up: false };
const PLANS = 'c1'.repeat(16);
const plans: Channel = { id: PLANS, space: 'a1'.repeat(16), name: 'plans', kind: 'text', topic: null, position: 0, archived: false, created_at: 0, updated_at: 0 };

afterEach(() => {
  cleanup();
  memoriesBook.clear();
  listsBook.clear();
  clearMocks();
});

/** A paired Duet with a channel; `messages` answers from `history` per conversation. */
function shell(held: Message[]) {
  const node = memoriesNode((cmd, a) => {
    switch (cmd) {
      case 'app_state':
        return together;
      case 'channels':
        return [plans];
      case 'conversations':
      case 'presence':
      case 'peers':
      case 'lists':
        return [];
      case 'messages': {
        const t = a.target as Target;
        const mine = held.filter((m) => (t === 'direct' ? !m.channel : m.channel === t.channel));
        return { messages: [...mine].reverse(), older: null };
      }
      default:
        return undefined;
    }
  });
  node.fake.hold(...held);
  return node;
}

describe('Memories in the window', () => {
  it('opens from the sidebar in the main pane, and closes with × or Esc', async () => {
    shell([shared(Date.now() - 86_400_000)]);
    render(App);
    expect(await screen.findByTestId('chat-view')).toBeInTheDocument();

    await fireEvent.click(screen.getByTestId('memories-link'));
    const view = await screen.findByTestId('memories');
    expect(screen.queryByTestId('chat-view')).not.toBeInTheDocument();
    expect(screen.getByTestId('memories-link')).toHaveAttribute('aria-current', 'page');
    expect(screen.getByTestId('conversation-direct')).not.toHaveAttribute('aria-current');
    await vi.waitFor(() => expect(within(view).getAllByTestId('memory-tile')).toHaveLength(1));

    await fireEvent.click(screen.getByTestId('memories-close'));
    expect(await screen.findByTestId('chat-view')).toBeInTheDocument();
    expect(screen.getByTestId('memories-link')).not.toHaveAttribute('aria-current');

    await fireEvent.click(screen.getByTestId('memories-link'));
    await fireEvent.keyDown(await screen.findByTestId('memories'), { key: 'Escape' });
    expect(await screen.findByTestId('chat-view')).toBeInTheDocument();
    expect(screen.queryByTestId('memories')).not.toBeInTheDocument();
  });

  it('jumps to a photo’s message in its conversation', async () => {
    const before = msg({ created_at: Date.now() - 3 * 86_400_000, channel: PLANS, conversation: PLANS, content: 'Lisbon in May?' });
    const photo = shared(Date.now() - 2 * 86_400_000, [imageAttachment('tram.jpg')], { channel: PLANS, conversation: PLANS });
    const after = msg({ created_at: Date.now() - 86_400_000, channel: PLANS, conversation: PLANS, content: 'Booked!' });
    const { argsOf } = shell([before, photo, after]);
    render(App);
    await screen.findByTestId('chat-view');
    await fireEvent.click(screen.getByTestId('memories-link'));
    const tile = await screen.findByTestId('memory-tile');
    await fireEvent.click(within(tile).getByTestId('memory-jump'));

    const chat = await screen.findByTestId('chat-view');
    expect(screen.queryByTestId('memories')).not.toBeInTheDocument();
    expect(chat).toHaveAccessibleName('Conversation with plans');
    expect(argsOf('messages')).toContainEqual({ target: { channel: PLANS }, before: null, limit: expect.any(Number) });
    await vi.waitFor(() => expect(document.querySelector(`[data-message-id="${photo.id}"]`)).toHaveFocus());
  });
});

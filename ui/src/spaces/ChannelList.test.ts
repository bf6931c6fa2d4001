import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import type { Channel, Conversation, Person, Target } from '../lib/backend';
import { directory } from '../lib/directory.svelte';
import { ME, PARTNER } from '../test/messages';
import ChannelList from './ChannelList.svelte';

afterEach(() => {
  cleanup();
  clearMocks();
});

const ben: Person = { id: PARTNER, display_name: 'Ben', avatar: { emoji: '🐻' }, devices: [] };
const chan = (id: string, name: string, position: number): Channel => ({
  id,
  space: 's',
  name,
  kind: 'text',
  topic: null,
  position,
  archived: false,
  created_at: 0,
  updated_at: 0,
});
const conv = (target: Target, unread: number, more: Partial<Conversation> = {}): Conversation => ({
  id: target === 'direct' ? 'd' : target.channel,
  target,
  participants: [ME, PARTNER],
  last_message: null,
  last_message_at: null,
  unread_count: unread,
  archived: false,
  muted: false,
  created_at: 0,
  updated_at: 0,
  ...more,
});

function shell(channels: Channel[], conversations: Conversation[]) {
  const calls: [string, unknown][] = [];
  mockIPC((cmd, args) => {
    calls.push([cmd, args]);
    if (cmd === 'channels') return channels;
    if (cmd === 'conversations') return conversations;
    if (cmd === 'create_channel') {
      const name = (args as { name: string }).name;
      if (channels.some((c) => c.name === name)) throw { code: 'not_allowed', message: `There is already a channel called "${name}".` };
      const c = chan('c9', name, channels.length);
      channels.push(c);
      return c;
    }
    if (cmd === 'rename_channel') {
      const { id, name } = args as { id: string; name: string };
      const c = channels.find((x) => x.id === id)!;
      c.name = name;
      return c;
    }
    return null;
  });
  return calls;
}

async function setup(channels: Channel[], conversations: Conversation[], partner: Person | null = ben) {
  const calls = shell(channels, conversations);
  await directory.load();
  const onselect = vi.fn();
  const oninvite = vi.fn();
  render(ChannelList, { spaceName: 'Maya & Ben', partner, selected: 'direct', onselect, oninvite });
  return { calls, onselect, oninvite };
}

describe('the channel list', () => {
  it('lists the direct conversation first, then channels by position, with unread badges', async () => {
    await setup(
      [chan('c2', 'memories', 1), chan('c1', 'plans', 0)],
      [conv('direct', 2), conv({ channel: 'c1' }, 0), conv({ channel: 'c2' }, 120, { muted: true })],
    );
    const direct = screen.getByTestId('conversation-direct');
    expect(direct).toHaveAccessibleName('Ben, 2 unread');
    expect(direct).toHaveAttribute('aria-current', 'page');
    const channels = screen.getAllByTestId('channel');
    expect(channels.map((c) => c.textContent?.replace(/\s+/g, ' ').trim())).toEqual(['# plans', '# memories 🔕 99+']);
    expect(channels[1]).toHaveAccessibleName('memories, 120 unread, muted');
  });

  it('asks to invite the partner before pairing', async () => {
    const { oninvite } = await setup([], [], null);
    await fireEvent.click(screen.getByTestId('sidebar-invite'));
    expect(oninvite).toHaveBeenCalled();
  });

  it('creates a channel, shows the node’s refusal in place, and opens the new one', async () => {
    const { onselect } = await setup([chan('c1', 'plans', 0)], [conv('direct', 0)]);
    await fireEvent.click(screen.getByRole('button', { name: 'Create a channel' }));
    const field = screen.getByRole('textbox', { name: 'New channel name' });
    expect(document.activeElement).toBe(field);
    await fireEvent.input(field, { target: { value: 'plans' } });
    await fireEvent.submit(field.closest('form')!);
    expect(await screen.findByRole('alert')).toHaveTextContent('There is already a channel called "plans".');
    await fireEvent.input(field, { target: { value: 'recipes' } });
    await fireEvent.submit(field.closest('form')!);
    await vi.waitFor(() => expect(onselect).toHaveBeenCalledWith({ channel: 'c9' }));
    expect(await screen.findByRole('button', { name: 'recipes' })).toBeInTheDocument();
  });

  it('renames a channel with F2', async () => {
    const { calls } = await setup([chan('c1', 'plans', 0)], [conv('direct', 0)]);
    await fireEvent.keyDown(screen.getByTestId('channel'), { key: 'F2' });
    const field = screen.getByRole('textbox', { name: 'New name for #plans' });
    await fireEvent.input(field, { target: { value: 'trips' } });
    await fireEvent.submit(field.closest('form')!);
    expect(await screen.findByRole('button', { name: 'trips' })).toBeInTheDocument();
    expect(calls).toContainEqual(['rename_channel', { id: 'c1', name: 'trips' }]);
  });

  it('folds archived conversations away', async () => {
    await setup([chan('c1', 'plans', 0)], [conv('direct', 0), conv({ channel: 'c1' }, 0, { archived: true })]);
    expect(screen.queryByTestId('channel')).not.toBeInTheDocument();
    await fireEvent.click(screen.getByRole('button', { name: /Archived \(1\)/ }));
    expect(within(screen.getByRole('list', { name: 'Archived' })).getByTestId('channel')).toHaveTextContent('plans');
  });
});

/**
 * The window as a person meets it, on Tauri's own IPC mock (the real backend module runs):
 * onboarding, pairing, the chat layout fed by node events, and the errors.
 */
import { emit } from '@tauri-apps/api/event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';

import App from './App.svelte';
import type { AppSnapshot, NodeEvent, Person } from './lib/backend';
import { NODE_EVENT } from './lib/backend';
import personJson from './lib/backend/fixtures/person.json';
import { ME, PARTNER, msg } from './test/messages';

const maya: Person = { ...(personJson as Person), id: ME };
const ben: Person = { id: PARTNER, display_name: 'Ben', avatar: { emoji: '🐻' }, devices: ['b0'.repeat(32)] };

const fresh: AppSnapshot = { device_id: null, profile: null, partner: null, paired: false, catching_up: false };
const alone: AppSnapshot = { device_id: 'a0'.repeat(32), profile: maya, partner: null, paired: false, catching_up: false };
const together: AppSnapshot = { ...alone, partner: ben, paired: true, catching_up: false };

type Answer = (cmd: string, args: Record<string, unknown>) => unknown;

function shell(answer: Answer) {
  const calls: [string, Record<string, unknown>][] = [];
  mockIPC(
    (cmd, args) => {
      calls.push([cmd, (args ?? {}) as Record<string, unknown>]);
      const value = answer(cmd, (args ?? {}) as Record<string, unknown>);
      if (value !== undefined) return value;
      switch (cmd) {
        case 'conversations':
        case 'channels':
        case 'presence':
        case 'peers':
          return [];
        case 'messages':
          return { messages: [], older: null };
        default:
          return null;
      }
    },
    { shouldMockEvents: true },
  );
  return calls;
}

const nodeEvent = (e: NodeEvent) => emit(NODE_EVENT, e);

// Unmount first: the window stops listening while the IPC mock is still there.
afterEach(() => {
  cleanup();
  clearMocks();
});

describe('the Duet window', () => {
  it('makes a profile from a name and an avatar, then offers an invite', async () => {
    let state = fresh;
    const calls = shell((cmd) => {
      if (cmd === 'app_state') return state;
      if (cmd === 'create_profile') return (state = alone);
      if (cmd === 'invite') return { ticket: 'duet1:abc', qr_svg: '<svg xmlns="http://www.w3.org/2000/svg"/>' };
    });
    render(App);

    expect(await screen.findByRole('heading', { name: 'Welcome to Duet' })).toBeInTheDocument();
    await fireEvent.click(screen.getByTestId('onboarding-submit'));
    expect(screen.getByRole('alert')).toHaveTextContent('Type the name your partner knows you by.');

    await fireEvent.input(screen.getByTestId('onboarding-name'), { target: { value: '  Maya ' } });
    const avatars = screen.getAllByTestId('onboarding-avatar');
    expect(avatars.length).toBeGreaterThanOrEqual(8);
    await fireEvent.click(within(avatars[2]!).getByRole('radio'));
    await fireEvent.click(screen.getByTestId('onboarding-submit'));

    expect(await screen.findByRole('heading', { name: 'Hello, Maya' })).toBeInTheDocument();
    expect(calls.find(([c]) => c === 'create_profile')?.[1]).toEqual({ name: 'Maya', avatar: '🐻' });

    await fireEvent.click(screen.getByTestId('invite-create'));
    expect(await screen.findByTestId('invite-ticket')).toHaveTextContent(/^duet1:abc$/);
    expect(screen.getByRole('img', { name: /QR code/ })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Copy' })).toBeInTheDocument();
    expect(calls.find(([c]) => c === 'invite')?.[1]).toEqual({ kind: 'partner' });
  });

  it('joins with a pasted ticket and opens the conversation', async () => {
    let state = alone;
    const calls = shell((cmd) => {
      if (cmd === 'app_state') return state;
      if (cmd === 'join') return (state = together);
    });
    render(App);

    await fireEvent.click(await screen.findByRole('tab', { name: 'Join with a ticket' }));
    await fireEvent.input(screen.getByTestId('join-ticket'), { target: { value: ' duet1:xyz \n' } });
    await fireEvent.click(screen.getByTestId('join-submit'));

    expect(await screen.findByTestId('chat-view')).toBeInTheDocument();
    expect(calls.find(([c]) => c === 'join')?.[1]).toEqual({ ticket: 'duet1:xyz' });
    expect(screen.getByTestId('composer')).toHaveAccessibleName('Message Ben');
  });

  it('links this computer to my profile on another device, and opens our conversation', async () => {
    let state = fresh;
    const calls = shell((cmd) => {
      if (cmd === 'app_state') return state;
      if (cmd === 'link_device') return (state = together);
    });
    render(App);

    await fireEvent.click(await screen.findByTestId('link-device'));
    await fireEvent.input(screen.getByTestId('link-device-ticket'), { target: { value: 'duet1:owndevice:xyz\n' } });
    await fireEvent.click(screen.getByTestId('link-device-submit'));

    expect(await screen.findByTestId('chat-view')).toBeInTheDocument();
    expect(calls.find(([c]) => c === 'link_device')?.[1]).toEqual({ ticket: 'duet1:owndevice:xyz' });
    expect(calls.some(([c]) => c === 'create_profile' || c === 'join')).toBe(false);
  });

  it('says what to do next when there is no partner yet', async () => {
    shell((cmd) => (cmd === 'app_state' ? alone : undefined));
    render(App);
    await fireEvent.click(await screen.findByRole('button', { name: /Later/ }));
    expect(screen.getByRole('heading', { name: 'Invite your partner' })).toBeInTheDocument();
    expect(screen.getByTestId('sidebar-invite')).toHaveTextContent('Invite your partner');
  });

  it('shows the conversation, the partner’s presence, new messages, typing and the read tick', async () => {
    const now = Date.now();
    const mine = msg({ created_at: now - 60_000, sender: ME, content: 'Coffee at 8?', delivered: true, delivered_at: now - 50_000 });
    const page = [mine];
    shell((cmd) => {
      if (cmd === 'app_state') return together;
      if (cmd === 'messages') return { messages: [...page].reverse(), older: null };
      if (cmd === 'presence') {
        return [{ person: PARTNER, status: 'away', last_seen: now - 5 * 60_000, custom_status: 'at the bakery', device: null, updated_at: now }];
      }
    });
    render(App);

    const row = await screen.findByText('Coffee at 8?');
    expect(row.closest('[data-testid="message"]')).toHaveAttribute('data-message-id', mine.id);
    expect(screen.queryByTestId('read-tick')).not.toBeInTheDocument();

    const card = screen.getByRole('complementary', { name: 'Your partner' });
    expect(await within(card).findByText('“at the bakery”')).toBeInTheDocument();
    // None of Ben's devices is reached here: the reach line says since when (his last seen).
    expect(within(card).getByTestId('partner-reach')).toHaveTextContent(/^Offline since /);
    expect(within(card).queryByTestId('partner-last-seen')).not.toBeInTheDocument();
    expect(within(card).getByTestId('presence-dot')).toHaveAttribute('data-status', 'away');

    await nodeEvent({ event: 'typing', person: PARTNER, target: 'direct' });
    expect(await screen.findByTestId('typing-indicator')).toHaveTextContent('Ben is typing…');

    const reply = msg({ created_at: now, sender: PARTNER, content: 'Yes please ☕' });
    page.push(reply);
    await nodeEvent({ event: 'message_new', message: reply });
    expect(await screen.findByText('Yes please ☕')).toBeInTheDocument();
    expect(screen.queryByTestId('typing-indicator')).not.toBeInTheDocument();

    page[0] = { ...mine, read: true, read_at: now };
    await nodeEvent({ event: 'receipts_changed', conversation: mine.conversation, up_to: reply.id });
    expect(await screen.findByTestId('read-tick')).toBeInTheDocument();
  });

  it('explains a store error in plain words and can try again', async () => {
    let failing = true;
    shell((cmd) => {
      if (cmd !== 'app_state') return undefined;
      if (failing) throw { code: 'store_unavailable', message: 'Duet could not open its data in /nowhere.' };
      return fresh;
    });
    render(App);

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Duet could not open your profile');
    expect(alert).toHaveTextContent('Duet could not open its data in /nowhere.');
    expect(alert).toHaveTextContent('store_unavailable');

    failing = false;
    await fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('heading', { name: 'Welcome to Duet' })).toBeInTheDocument();
  });

  it('asks for the passphrase when the data is locked, says so when it is wrong, and opens with the right one', async () => {
    const LOCKED = { code: 'needs_passphrase', message: 'this Duet data is locked with a passphrase' };
    let locked = true;
    const calls = shell((cmd, args) => {
      if (cmd === 'unlock_data') {
        if (args.passphrase !== 'correct horse') throw { code: 'wrong_passphrase', message: 'that passphrase does not open this Duet data' };
        locked = false;
        return together;
      }
      if (locked) throw LOCKED;
      if (cmd === 'app_state') return together;
      if (cmd === 'app_lock') return { enabled: false, idle_minutes: 0, locked: false, problem: null };
    });
    render(App);

    const screenOf = await screen.findByTestId('unlock-data');
    expect(within(screenOf).getByRole('heading', { name: 'Your Duet data is locked' })).toBeInTheDocument();
    expect(screenOf).toHaveTextContent('Type the passphrase you chose for Duet on this computer.');
    expect(screenOf).toHaveTextContent(/Forgot it\? Without the passphrase/);
    expect(screen.queryByTestId('chat-view')).not.toBeInTheDocument();
    const field = screen.getByTestId('unlock-data-passphrase');
    const unlock = screen.getByTestId('unlock-data-submit');
    expect(field).toHaveFocus();
    expect(field).toHaveAttribute('type', 'password');
    expect(unlock).toBeDisabled();
    expect(unlock).toHaveTextContent('Unlock');

    await fireEvent.input(field, { target: { value: 'wrong horse' } });
    expect(unlock).toBeEnabled();
    await fireEvent.submit(field.closest('form')!);
    expect(await screen.findByRole('alert')).toHaveTextContent('That passphrase does not open your Duet data. Try again.');
    expect(screen.getByTestId('unlock-data')).toBeInTheDocument();
    expect(screen.queryByTestId('chat-view')).not.toBeInTheDocument();
    await waitFor(() => expect(field).toHaveFocus());

    await fireEvent.input(field, { target: { value: 'correct horse' } });
    await fireEvent.click(unlock);
    expect(await screen.findByTestId('chat-view')).toBeInTheDocument();
    expect(screen.queryByTestId('unlock-data')).not.toBeInTheDocument();
    expect(calls.filter(([c]) => c === 'unlock_data').map(([, a]) => a)).toEqual([{ passphrase: 'wrong horse' }, { passphrase: 'correct horse' }]);
    // The app lock could not be read while the data was locked: it is asked again.
    expect(calls.filter(([c]) => c === 'app_lock').length).toBe(2);
  });

  it('shows the shell’s words when unlocking fails for another reason, and says Unlocking… meanwhile', async () => {
    let answer: (value: unknown) => void = () => {};
    shell((cmd) => {
      if (cmd === 'unlock_data') {
        return new Promise((resolve) => (answer = resolve)).then(() => {
          throw { code: 'node_unavailable', message: 'Duet could not start: the disk is full.' };
        });
      }
      throw { code: 'needs_passphrase', message: 'locked' };
    });
    render(App);

    const field = await screen.findByTestId('unlock-data-passphrase');
    await fireEvent.input(field, { target: { value: 'whatever it is' } });
    await fireEvent.click(screen.getByTestId('unlock-data-submit'));
    const unlock = screen.getByTestId('unlock-data-submit');
    await waitFor(() => expect(unlock).toHaveTextContent('Unlocking…'));
    expect(unlock).toBeDisabled();
    answer(null);
    expect(await screen.findByRole('alert')).toHaveTextContent('Duet could not start: the disk is full.');
    expect(unlock).toHaveTextContent('Unlock');
  });

  it('has a passphrase chosen, typed twice, for data an older Duet kept unencrypted when there is no keyring', async () => {
    let waiting = true;
    const calls = shell((cmd, args) => {
      if (cmd === 'choose_data_passphrase') return null;
      if (cmd === 'unlock_data') {
        expect(args.passphrase).toBe('our long passphrase');
        waiting = false;
        return together;
      }
      if (waiting) throw { code: 'needs_new_passphrase', message: 'Duet now encrypts what it keeps on this computer.' };
      if (cmd === 'app_state') return together;
      if (cmd === 'app_lock') return { enabled: false, idle_minutes: 0, locked: false, problem: null };
    });
    render(App);

    const form = await screen.findByTestId('choose-passphrase');
    expect(screen.getByText('Duet now encrypts everything it keeps on this computer.')).toBeInTheDocument();
    await fireEvent.input(within(form).getByTestId('data-passphrase'), { target: { value: 'our long passphrase' } });
    await fireEvent.input(within(form).getByTestId('data-passphrase-again'), { target: { value: 'our long passphrase!' } });
    await fireEvent.submit(form);
    expect(await screen.findByRole('alert')).toHaveTextContent('The two passphrases differ.');
    expect(calls.some(([c]) => c === 'unlock_data')).toBe(false);

    await fireEvent.input(within(form).getByTestId('data-passphrase-again'), { target: { value: 'our long passphrase' } });
    await fireEvent.submit(form);
    expect(await screen.findByTestId('chat-view')).toBeInTheDocument();
    expect(calls.filter(([c]) => c === 'choose_data_passphrase' || c === 'unlock_data').map(([c]) => c)).toEqual([
      'choose_data_passphrase',
      'unlock_data',
    ]);
  });

  it('says the app is not running when the page is opened without the backend', async () => {
    render(App);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Duet’s app is not running');
    expect(screen.queryByRole('button', { name: 'Try again' })).not.toBeInTheDocument();
  });
});

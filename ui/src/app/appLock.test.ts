/**
 * The app lock in the window: a locked Duet shows only the lock screen, opens with the right
 * passphrase, locks on Ctrl+L and after the idle time, and is set up in Settings.
 */
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import App from '../App.svelte';
import type { AppSnapshot, LockStatus, Person } from '../lib/backend';
import personJson from '../lib/backend/fixtures/person.json';
import AppLockSettings from '../settings/AppLockSettings.svelte';
import { ME, PARTNER } from '../test/messages';
import { windowActive } from '../lib/windowActive.svelte';
import { appLock } from './appLock.svelte';

const maya: Person = { ...(personJson as Person), id: ME };
const ben: Person = { id: PARTNER, display_name: 'Ben', avatar: { emoji: '🐻' }, devices: ['b0'.repeat(32)] };
const together: AppSnapshot = { device_id: 'a0'.repeat(32), profile: maya, partner: ben, paired: true, catching_up: false };

const on = (locked: boolean, idle = 5): LockStatus => ({ enabled: true, idle_minutes: idle, locked, problem: null });

/** The shell with a lock whose passphrase is "sofa 1234"; returns the commands called. */
function shell(start: LockStatus) {
  let status = start;
  const calls: [string, unknown][] = [];
  mockIPC((cmd, args) => {
    calls.push([cmd, args]);
    switch (cmd) {
      case 'app_state':
        return together;
      case 'app_lock':
        return status;
      case 'lock_app':
        return (status = { ...status, locked: true });
      case 'unlock_app':
        if ((args as { passphrase: string }).passphrase !== 'sofa 1234') {
          throw { code: 'not_allowed', message: 'That is not the passphrase of this Duet. Try again.' };
        }
        return (status = { ...status, locked: false });
      case 'set_app_lock': {
        const { passphrase, idleMinutes } = args as { passphrase: string | null; idleMinutes: number };
        return (status = passphrase === null ? { enabled: false, idle_minutes: 0, locked: false, problem: null } : on(false, idleMinutes));
      }
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
  });
  return calls;
}

afterEach(() => {
  cleanup();
  clearMocks();
  vi.useRealTimers();
});

/** Whether the conversation is shown and reachable (not hidden and inert under the lock). */
async function chatReachable(): Promise<boolean> {
  const chat = await screen.findByTestId('chat-view');
  const wrapper = chat.closest<HTMLElement & { inert?: boolean }>('.app');
  expect(wrapper).not.toBeNull();
  const hidden = wrapper!.getAttribute('aria-hidden') === 'true';
  expect(wrapper!.inert === true).toBe(hidden);
  return !hidden;
}

describe('the app lock', () => {
  it('starts locked, refuses a wrong passphrase in words, and opens with the right one', async () => {
    shell(on(true));
    render(App);
    expect(await screen.findByTestId('lock-screen')).toBeInTheDocument();
    expect(await chatReachable()).toBe(false);
    expect(screen.queryByRole('textbox', { name: /Message Ben/ })).not.toBeInTheDocument();

    await fireEvent.input(screen.getByTestId('lock-passphrase'), { target: { value: 'sofa 4321' } });
    await fireEvent.click(screen.getByTestId('unlock'));
    expect(await screen.findByRole('alert')).toHaveTextContent('That is not the passphrase of this Duet. Try again.');
    expect(screen.getByTestId('lock-screen')).toBeInTheDocument();
    expect(screen.getByTestId('lock-passphrase')).toHaveValue('');

    await fireEvent.input(screen.getByTestId('lock-passphrase'), { target: { value: 'sofa 1234' } });
    await fireEvent.click(screen.getByTestId('unlock'));
    await vi.waitFor(() => expect(screen.queryByTestId('lock-screen')).not.toBeInTheDocument());
    expect(await chatReachable()).toBe(true);
  });

  it('counts nothing as seen while locked: no message is marked read, notifications are not held back', async () => {
    shell(on(true));
    await appLock.load();
    const focus = vi.spyOn(document, 'hasFocus').mockReturnValue(true); // the window has the focus
    expect(windowActive()).toBe(false);
    await appLock.unlock('sofa 1234');
    expect(windowActive()).toBe(true);
    focus.mockRestore();
  });

  it('locks on Ctrl+L, and by itself after the idle time with nothing touched', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const calls = shell(on(false, 1));
    render(App);
    await vi.waitFor(() => expect(appLock.loaded).toBe(true));
    expect(await chatReachable()).toBe(true);

    await fireEvent.keyDown(window, { key: 'l', ctrlKey: true });
    expect(await screen.findByTestId('lock-screen')).toBeInTheDocument();
    expect(calls.filter(([c]) => c === 'lock_app')).toHaveLength(1);
    await fireEvent.input(screen.getByTestId('lock-passphrase'), { target: { value: 'sofa 1234' } });
    await fireEvent.click(screen.getByTestId('unlock'));
    await vi.waitFor(() => expect(screen.queryByTestId('lock-screen')).not.toBeInTheDocument());

    // Moving the mouse at 50 s starts the minute again: still open at 100 s, locked at 110 s.
    await vi.advanceTimersByTimeAsync(50_000);
    await fireEvent.pointerMove(window);
    await vi.advanceTimersByTimeAsync(50_000);
    expect(screen.queryByTestId('lock-screen')).not.toBeInTheDocument();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await screen.findByTestId('lock-screen')).toBeInTheDocument();
    expect(calls.filter(([c]) => c === 'lock_app')).toHaveLength(2);
  });

  it('is turned on in Settings with a passphrase typed twice, and off with the current one', async () => {
    const calls = shell({ enabled: false, idle_minutes: 0, locked: false, problem: null });
    await appLock.load();
    render(AppLockSettings);
    expect(screen.getByTestId('lock-save')).toBeDisabled();

    await fireEvent.input(screen.getByTestId('lock-new'), { target: { value: 'sofa 1234' } });
    await fireEvent.input(screen.getByTestId('lock-repeat'), { target: { value: 'sofa 1243' } });
    await fireEvent.click(screen.getByTestId('lock-save'));
    expect(screen.getByRole('alert')).toHaveTextContent('The two passphrases are not the same.');
    expect(calls.some(([c]) => c === 'set_app_lock')).toBe(false);

    await fireEvent.input(screen.getByTestId('lock-repeat'), { target: { value: 'sofa 1234' } });
    await fireEvent.change(screen.getByTestId('lock-idle'), { target: { value: '15' } });
    await fireEvent.click(screen.getByTestId('lock-save'));
    expect(await screen.findByText('The lock is on. Ctrl+L locks Duet at any time.')).toBeInTheDocument();
    expect(calls).toContainEqual(['set_app_lock', { current: null, passphrase: 'sofa 1234', idleMinutes: 15 }]);
    expect(screen.getByTestId('lock-new')).toHaveValue('');

    await fireEvent.input(screen.getByTestId('lock-current'), { target: { value: 'sofa 1234' } });
    await fireEvent.click(screen.getByTestId('lock-off'));
    expect(await screen.findByText('The lock is off.')).toBeInTheDocument();
    expect(calls).toContainEqual(['set_app_lock', { current: 'sofa 1234', passphrase: null, idleMinutes: 0 }]);
    expect(screen.queryByTestId('lock-current')).not.toBeInTheDocument();
  });
});

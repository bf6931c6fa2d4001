import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';

import type { AppSnapshot, FoundBackup, Person } from '../lib/backend';
import { ME, PARTNER } from '../test/messages';
import Welcome from './Welcome.svelte';

const maya: Person = { id: ME, display_name: 'Maya', avatar: { emoji: '💛' }, devices: ['a0'.repeat(32)] };
const ben: Person = { id: PARTNER, display_name: 'Ben', avatar: null, devices: ['b0'.repeat(32)] };
const restored: AppSnapshot = { device_id: 'a0'.repeat(32), profile: maya, partner: ben, paired: true, catching_up: false };

const NEWER: FoundBackup = { path: '/home/maya/Downloads/duet-backup-2026-11-30.duetbackup', bytes: 48_000_000, modified: Date.UTC(2026, 10, 30, 12) };
const OLDER: FoundBackup = { path: '/home/maya/duet-backup-2026-06-02.duetbackup', bytes: 31_000_000, modified: Date.UTC(2026, 5, 2, 12) };
const WRONG = { code: 'wrong_passphrase', message: 'that passphrase does not open this backup (or the file is not a Duet backup)' };

/** A shell that finds `found` and restores with "our passphrase" only; every call is kept. */
function shell(found: FoundBackup[], { keyring = true } = {}) {
  const calls: [string, unknown][] = [];
  let chosen = false;
  mockIPC((cmd, args) => {
    calls.push([cmd, args]);
    if (cmd === 'find_backups') return found;
    if (cmd === 'choose_data_passphrase') {
      chosen = true;
      return null;
    }
    if (cmd === 'restore_backup') {
      const a = args as { path: string; passphrase: string };
      if (!keyring && !chosen) throw { code: 'keyring_unavailable', message: 'no desktop keyring' };
      if (a.passphrase !== 'our passphrase') throw WRONG;
      return restored;
    }
    throw new Error(`unexpected command ${cmd}`);
  });
  return calls;
}

async function openRestore() {
  const arrived: AppSnapshot[] = [];
  render(Welcome, { oncreated: (s: AppSnapshot) => arrived.push(s) });
  await fireEvent.click(screen.getByTestId('restore-backup'));
  expect(screen.getByRole('heading', { name: 'Restore from a backup' })).toBeInTheDocument();
  return arrived;
}

afterEach(() => {
  cleanup();
  clearMocks();
});

describe('restore from a backup', () => {
  it('lists the backups found, newest first and chosen, and restores it with its passphrase', async () => {
    const calls = shell([NEWER, OLDER]);
    const arrived = await openRestore();

    const found = await screen.findAllByTestId('restore-found');
    expect(found.map((f) => f.textContent)).toEqual([
      expect.stringContaining('duet-backup-2026-11-30.duetbackup'),
      expect.stringContaining('duet-backup-2026-06-02.duetbackup'),
    ]);
    expect(found[0]).toHaveTextContent('in /home/maya/Downloads · 48 MB');
    expect(found[0]!.querySelector('input')).toBeChecked();
    await waitFor(() => expect(screen.getByTestId('restore-passphrase')).toHaveFocus());

    await fireEvent.input(screen.getByTestId('restore-passphrase'), { target: { value: 'our passphrase' } });
    await fireEvent.click(screen.getByTestId('restore-submit'));
    await waitFor(() => expect(arrived).toEqual([restored]));
    expect(calls.at(-1)).toEqual(['restore_backup', { path: NEWER.path, passphrase: 'our passphrase' }]);
  });

  it('says when none was found, takes a typed path, and asks for what is missing in words', async () => {
    const calls = shell([]);
    const arrived = await openRestore();

    expect(await screen.findByTestId('restore-none')).toHaveTextContent('No backup in your Downloads, home or Desktop folder');
    await waitFor(() => expect(screen.getByTestId('restore-path')).toHaveFocus());
    await fireEvent.click(screen.getByTestId('restore-submit'));
    expect(screen.getByRole('alert')).toHaveTextContent('Choose a backup, or give the path of one.');

    await fireEvent.input(screen.getByTestId('restore-path'), { target: { value: ' /media/usb/ours.duetbackup ' } });
    await fireEvent.click(screen.getByTestId('restore-submit'));
    expect(screen.getByRole('alert')).toHaveTextContent('Type the passphrase the backup was made with.');
    expect(calls.filter(([c]) => c === 'restore_backup')).toEqual([]);

    await fireEvent.input(screen.getByTestId('restore-passphrase'), { target: { value: 'our passphrase' } });
    await fireEvent.click(screen.getByTestId('restore-submit'));
    await waitFor(() => expect(arrived).toEqual([restored]));
    expect(calls.at(-1)).toEqual(['restore_backup', { path: '/media/usb/ours.duetbackup', passphrase: 'our passphrase' }]);
  });

  it('shows a wrong passphrase in the node’s words, stays, and restores on the next try', async () => {
    shell([NEWER]);
    const arrived = await openRestore();
    await screen.findAllByTestId('restore-found');

    await fireEvent.input(screen.getByTestId('restore-passphrase'), { target: { value: 'not it' } });
    await fireEvent.click(screen.getByTestId('restore-submit'));
    expect(await screen.findByTestId('restore-error')).toHaveTextContent('that passphrase does not open this backup');
    expect(arrived).toEqual([]);
    expect(screen.getByTestId('restore-submit')).toBeEnabled();

    await fireEvent.input(screen.getByTestId('restore-passphrase'), { target: { value: 'our passphrase' } });
    await fireEvent.click(screen.getByTestId('restore-submit'));
    await waitFor(() => expect(arrived).toEqual([restored]));
  });

  it('without a keyring, has a data passphrase chosen and restores the same backup again', async () => {
    const calls = shell([NEWER], { keyring: false });
    const arrived = await openRestore();
    await screen.findAllByTestId('restore-found');
    await fireEvent.input(screen.getByTestId('restore-passphrase'), { target: { value: 'our passphrase' } });
    await fireEvent.click(screen.getByTestId('restore-submit'));

    expect(await screen.findByTestId('choose-passphrase')).toBeInTheDocument();
    await fireEvent.input(screen.getByTestId('data-passphrase'), { target: { value: 'twelve chars' } });
    await fireEvent.input(screen.getByTestId('data-passphrase-again'), { target: { value: 'twelve chars' } });
    await fireEvent.click(screen.getByTestId('data-passphrase-submit'));
    await waitFor(() => expect(arrived).toEqual([restored]));
    expect(calls.filter(([c]) => c !== 'find_backups')).toEqual([
      ['restore_backup', { path: NEWER.path, passphrase: 'our passphrase' }],
      ['choose_data_passphrase', { passphrase: 'twelve chars' }],
      ['restore_backup', { path: NEWER.path, passphrase: 'our passphrase' }],
    ]);
  });

  it('goes back to making a new profile', async () => {
    shell([]);
    await openRestore();
    await fireEvent.click(screen.getByRole('button', { name: 'Back: I am new to Duet' }));
    expect(screen.getByTestId('onboarding-name')).toHaveFocus();
  });
});

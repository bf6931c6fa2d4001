import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';

import type { BackupReport } from '../lib/backend';
import BackupSettings from './BackupSettings.svelte';

const REPORT: BackupReport = { path: '/home/ada/Downloads/duet-backup-2026-12-05.duetbackup', values: 5400, files: 56, bytes: 48_000_000 };

/** A shell whose `backup` answers when the test says so; what it was asked is kept. */
function shell() {
  const asked: unknown[] = [];
  let settle: { resolve: (r: BackupReport) => void; reject: (e: unknown) => void } | null = null;
  mockIPC((cmd, args) => {
    if (cmd !== 'backup') throw new Error(`unexpected command ${cmd}`);
    asked.push(args);
    return new Promise<BackupReport>((resolve, reject) => (settle = { resolve, reject }));
  });
  return {
    asked,
    answer: (r: BackupReport) => settle!.resolve(r),
    refuse: (code: string, message: string) => settle!.reject({ code, message }),
  };
}

async function type(first: string, again: string) {
  await fireEvent.input(screen.getByTestId('backup-passphrase'), { target: { value: first } });
  await fireEvent.input(screen.getByTestId('backup-passphrase-again'), { target: { value: again } });
  await fireEvent.click(screen.getByTestId('backup-save'));
}

afterEach(() => {
  cleanup();
  clearMocks();
});

describe('backup', () => {
  it('refuses a short passphrase and two that differ in words, without asking the node', async () => {
    const node = shell();
    render(BackupSettings);
    expect(screen.getByTestId('backup-settings')).toHaveTextContent('one file locked with a passphrase you choose');

    await type('short', 'short');
    expect(screen.getByRole('alert')).toHaveTextContent('Use at least 8 characters.');
    expect(screen.getByTestId('backup-passphrase')).toHaveFocus();
    await type('long enough', 'long enouhg');
    expect(screen.getByRole('alert')).toHaveTextContent('The two passphrases differ.');
    expect(screen.getByTestId('backup-passphrase-again')).toHaveFocus();
    expect(node.asked).toEqual([]);
  });

  it('says "Backing up…", then where the backup went and what it holds, and clears the passphrase', async () => {
    const node = shell();
    render(BackupSettings);
    await type('long enough', 'long enough');
    const button = screen.getByTestId('backup-save');
    expect(button).toHaveTextContent('Backing up…');
    expect(button).toBeDisabled();
    expect(node.asked).toEqual([{ path: null, passphrase: 'long enough' }]);

    node.answer(REPORT);
    const saved = await screen.findByTestId('backup-saved');
    expect(saved).toHaveTextContent(`Backed up to ${REPORT.path} — 56 attachments, 48 MB`);
    expect(button).toBeEnabled();
    expect(screen.getByTestId('backup-passphrase')).toHaveValue('');
    expect(screen.getByTestId('backup-passphrase-again')).toHaveValue('');
  });

  it("shows a refusal in the node's words and keeps what was typed", async () => {
    const node = shell();
    render(BackupSettings);
    await type('long enough', 'long enough');
    node.refuse('unwritable_file', 'cannot write /home/ada/Downloads/duet-backup-2026-12-05.duetbackup: the disk is full');
    expect(await screen.findByTestId('backup-error')).toHaveTextContent('the disk is full');
    expect(screen.queryByTestId('backup-saved')).toBeNull();
    expect(screen.getByTestId('backup-passphrase')).toHaveValue('long enough');
    expect(screen.getByTestId('backup-save')).toBeEnabled();
  });
});

describe('backup with the fake node (?mock)', () => {
  it('writes to Downloads under today’s date', async () => {
    const { installFakeBackend } = await import('../dev/fakeBackend');
    installFakeBackend('');
    render(BackupSettings);
    await type('long enough', 'long enough');
    const saved = await screen.findByTestId('backup-saved', {}, { timeout: 3000 });
    const d = new Date();
    const today = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    expect(saved).toHaveTextContent(`Backed up to /home/you/Downloads/duet-backup-${today}.duetbackup — `);
  });
});

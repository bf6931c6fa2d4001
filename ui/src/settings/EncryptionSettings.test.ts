import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';

import { chooseDataPassphrase, unlockData, type DataProtection } from '../lib/backend';
import EncryptionSettings from './EncryptionSettings.svelte';

const KEYRING_NOW =
  'Everything Duet keeps on this computer is encrypted. Its key is in your desktop keyring, which opens when you log in.';
const PASSPHRASE_NOW =
  'Everything Duet keeps on this computer is encrypted. Its key is locked with your passphrase, which Duet asks for when it starts.';
const WARNING =
  "If you forget the passphrase, the messages on this computer cannot be opened; your partner's devices still hold what you shared.";

type Change = { current: string | null; passphrase: string | null };

/**
 * A shell whose data key is kept by `protection` (locked with `passphrase` then), refusing as
 * the real one does. `hold()` keeps the next answer back until `release()`, to see "Saving…".
 */
function shell(initial: { protection: DataProtection; passphrase?: string; keyring?: boolean }) {
  let protection = initial.protection;
  let passphrase = initial.passphrase ?? null;
  const keyring = initial.keyring ?? true;
  const commands: string[] = [];
  const changes: Change[] = [];
  let gate: Promise<void> | null = null;
  let open: (() => void) | null = null;
  const refuse = (code: string, message: string) => Promise.reject({ code, message });

  mockIPC(async (cmd, args) => {
    commands.push(cmd);
    if (cmd === 'data_protection') return protection;
    if (cmd !== 'change_data_protection') throw new Error(`unexpected command ${cmd}`);
    const change = args as Change;
    changes.push(change);
    if (gate) await gate;
    if (protection === 'passphrase') {
      if (change.current === null) return refuse('needs_passphrase', 'this Duet data is locked with a passphrase');
      if (change.current !== passphrase) return refuse('wrong_passphrase', 'that passphrase does not open this Duet data');
    }
    if (change.passphrase === null) {
      if (!keyring) return refuse('keyring_unavailable', 'the desktop keyring could not be used (no Secret Service)');
      protection = 'keyring';
      passphrase = null;
    } else {
      const p = change.passphrase;
      if ([...p].length < 8 || new TextEncoder().encode(p).length > 1024) {
        return refuse('invalid_input', 'choose a passphrase of at least 8 characters (and at most 1024)');
      }
      protection = 'passphrase';
      passphrase = p;
    }
    return protection;
  });

  return {
    commands,
    changes,
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      gate = null;
      open?.();
    },
  };
}

const type = (testId: string, value: string) => fireEvent.input(screen.getByTestId(testId), { target: { value } });

afterEach(() => {
  cleanup();
  clearMocks();
});

describe('encryption settings', () => {
  it('says the key is in the desktop keyring, and offers a passphrase instead', async () => {
    shell({ protection: 'keyring' });
    render(EncryptionSettings);
    expect(await screen.findByTestId('encryption-summary')).toHaveTextContent(KEYRING_NOW);
    expect(screen.getByRole('heading', { name: 'Encryption' })).toBeInTheDocument();
    expect(screen.getByTestId('encryption-passphrase')).toHaveTextContent('Use a passphrase instead');
    expect(screen.queryByTestId('encryption-keyring')).toBeNull();
    expect(screen.queryByTestId('encryption-warning')).toBeNull();
    expect(screen.queryByTestId('encryption-form')).toBeNull();
  });

  it('says the key is locked with the passphrase, offers to change it or use the keyring, and warns', async () => {
    shell({ protection: 'passphrase', passphrase: 'duet-passphrase' });
    render(EncryptionSettings);
    expect(await screen.findByTestId('encryption-summary')).toHaveTextContent(PASSPHRASE_NOW);
    expect(screen.getByTestId('encryption-passphrase')).toHaveTextContent('Change passphrase');
    expect(screen.getByTestId('encryption-keyring')).toHaveTextContent('Keep the key in my keyring instead');
    expect(screen.getByTestId('encryption-warning')).toHaveTextContent(WARNING);
  });

  it('changes the passphrase: the current one first, "Saving…" meanwhile, then says so and closes', async () => {
    const node = shell({ protection: 'passphrase', passphrase: 'duet-passphrase' });
    render(EncryptionSettings);
    const opener = await screen.findByRole('button', { name: 'Change passphrase' });
    await fireEvent.click(opener);
    expect(opener).toHaveAttribute('aria-expanded', 'true');

    const current = screen.getByLabelText('Current passphrase');
    expect(current).toHaveFocus();
    expect(current).toHaveAttribute('type', 'password');
    expect(current).toHaveAttribute('autocomplete', 'current-password');
    expect(screen.getByLabelText('New passphrase')).toHaveAttribute('autocomplete', 'new-password');
    expect(screen.getByLabelText('New passphrase again')).toHaveAttribute('autocomplete', 'new-password');

    await type('encryption-current', 'duet-passphrase');
    await type('encryption-new', 'apricots at dawn');
    await type('encryption-again', 'apricots at dawn');
    node.hold();
    // Enter in a field submits the form.
    await fireEvent.submit(screen.getByTestId('encryption-form'));
    const submit = screen.getByTestId('encryption-submit');
    expect(submit).toHaveTextContent('Saving…');
    expect(submit).toBeDisabled();

    node.release();
    await waitFor(() => expect(screen.queryByTestId('encryption-form')).toBeNull());
    expect(node.changes).toEqual([{ current: 'duet-passphrase', passphrase: 'apricots at dawn' }]);
    expect(screen.getByRole('status')).toHaveTextContent('Your Duet data is now locked with the new passphrase.');
    expect(screen.getByTestId('encryption-summary')).toHaveTextContent(PASSPHRASE_NOW);
    expect(screen.queryByRole('alert')).toBeNull();
    expect(opener).toHaveFocus();
  });

  it('chooses a passphrase when the keyring keeps the key: no current one is asked', async () => {
    const node = shell({ protection: 'keyring' });
    render(EncryptionSettings);
    await fireEvent.click(await screen.findByRole('button', { name: 'Use a passphrase instead' }));
    expect(screen.queryByLabelText('Current passphrase')).toBeNull();
    expect(screen.getByLabelText('New passphrase')).toHaveFocus();
    expect(screen.getByTestId('encryption-warning')).toHaveTextContent(WARNING);

    await type('encryption-new', 'apricots at dawn');
    await type('encryption-again', 'apricots at dawn');
    await fireEvent.click(screen.getByRole('button', { name: 'Save the passphrase' }));
    expect(await screen.findByText('Your Duet data is now locked with the new passphrase.')).toBeInTheDocument();
    expect(node.changes).toEqual([{ current: null, passphrase: 'apricots at dawn' }]);
    expect(screen.getByTestId('encryption-summary')).toHaveTextContent(PASSPHRASE_NOW);
    expect(screen.getByRole('button', { name: 'Change passphrase' })).toHaveFocus();
  });

  it('refuses a short passphrase and two that differ in words, without asking the shell', async () => {
    const node = shell({ protection: 'passphrase', passphrase: 'duet-passphrase' });
    render(EncryptionSettings);
    await fireEvent.click(await screen.findByRole('button', { name: 'Change passphrase' }));
    await type('encryption-current', 'duet-passphrase');

    await type('encryption-new', 'short');
    await type('encryption-again', 'short');
    await fireEvent.click(screen.getByTestId('encryption-submit'));
    expect(screen.getByRole('alert')).toHaveTextContent('Use at least 8 characters.');
    expect(screen.getByLabelText('New passphrase')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByLabelText('New passphrase')).toHaveFocus();

    await type('encryption-new', 'apricots at dawn');
    await type('encryption-again', 'apricots at dusk');
    await fireEvent.click(screen.getByTestId('encryption-submit'));
    expect(screen.getByRole('alert')).toHaveTextContent('The two passphrases differ.');
    expect(screen.getByLabelText('New passphrase again')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByLabelText('New passphrase')).toHaveAttribute('aria-invalid', 'false');

    expect(node.changes).toEqual([]);
    expect(node.commands).toEqual(['data_protection']);
    expect(screen.getByTestId('encryption-form')).toBeInTheDocument();
  });

  it('says a wrong current passphrase in words; nothing changes and the form stays', async () => {
    const node = shell({ protection: 'passphrase', passphrase: 'duet-passphrase' });
    render(EncryptionSettings);
    await fireEvent.click(await screen.findByRole('button', { name: 'Change passphrase' }));
    await type('encryption-current', 'not-it-at-all');
    await type('encryption-new', 'apricots at dawn');
    await type('encryption-again', 'apricots at dawn');
    await fireEvent.click(screen.getByTestId('encryption-submit'));

    expect(await screen.findByRole('alert')).toHaveTextContent('That is not your current passphrase.');
    expect(node.changes).toEqual([{ current: 'not-it-at-all', passphrase: 'apricots at dawn' }]);
    const current = screen.getByLabelText('Current passphrase');
    expect(current).toHaveValue('');
    expect(current).toHaveFocus();
    expect(current).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByTestId('encryption-submit')).toBeEnabled();
    expect(screen.getByTestId('encryption-submit')).toHaveTextContent('Save the passphrase');
    expect(screen.getByTestId('encryption-summary')).toHaveTextContent(PASSPHRASE_NOW);
    expect(screen.getByRole('status')).toHaveTextContent('');
  });

  it('refuses a passphrase over 1,024 bytes in words before asking the node', async () => {
    shell({ protection: 'keyring' });
    render(EncryptionSettings);
    await fireEvent.click(await screen.findByRole('button', { name: 'Use a passphrase instead' }));
    const long = 'é'.repeat(600); // 600 characters, 1,200 bytes
    await type('encryption-new', long);
    await type('encryption-again', long);
    await fireEvent.click(screen.getByTestId('encryption-submit'));
    expect(await screen.findByRole('alert')).toHaveTextContent('That is too long: use at most 1,024 bytes.');
    expect(screen.getByTestId('encryption-new')).toHaveFocus();
    expect(screen.getByTestId('encryption-summary')).toHaveTextContent(KEYRING_NOW);
  });

  it('gives the key to the desktop keyring with the current passphrase', async () => {
    const node = shell({ protection: 'passphrase', passphrase: 'duet-passphrase' });
    render(EncryptionSettings);
    await fireEvent.click(await screen.findByRole('button', { name: 'Keep the key in my keyring instead' }));
    const current = screen.getByLabelText('Current passphrase');
    expect(current).toHaveFocus();
    expect(screen.queryByLabelText('New passphrase')).toBeNull();

    await type('encryption-current', 'duet-passphrase');
    node.hold();
    await fireEvent.submit(screen.getByTestId('encryption-form'));
    expect(screen.getByTestId('encryption-submit')).toHaveTextContent('Saving…');
    node.release();

    expect(await screen.findByText('Your desktop keyring keeps the key now; Duet will not ask for a passphrase.')).toBeInTheDocument();
    expect(node.changes).toEqual([{ current: 'duet-passphrase', passphrase: null }]);
    expect(screen.getByTestId('encryption-summary')).toHaveTextContent(KEYRING_NOW);
    expect(screen.queryByTestId('encryption-form')).toBeNull();
    expect(screen.queryByTestId('encryption-keyring')).toBeNull();
    expect(screen.queryByTestId('encryption-warning')).toBeNull();
    // Its button went with the passphrase: the focus goes to the first action.
    expect(screen.getByRole('button', { name: 'Use a passphrase instead' })).toHaveFocus();
  });

  it('says in words when no desktop keyring can keep the key, and the passphrase stays', async () => {
    const node = shell({ protection: 'passphrase', passphrase: 'duet-passphrase', keyring: false });
    render(EncryptionSettings);
    const opener = await screen.findByRole('button', { name: 'Keep the key in my keyring instead' });
    await fireEvent.click(opener);
    await type('encryption-current', 'duet-passphrase');
    await fireEvent.click(screen.getByRole('button', { name: 'Use my keyring' }));

    expect(await screen.findByRole('alert')).toHaveTextContent(
      'No desktop keyring is available on this computer, so the passphrase stays.',
    );
    expect(node.changes).toEqual([{ current: 'duet-passphrase', passphrase: null }]);
    expect(screen.getByTestId('encryption-summary')).toHaveTextContent(PASSPHRASE_NOW);
    expect(screen.queryByTestId('encryption-form')).toBeNull();
    expect(opener).toHaveFocus();
  });

  it('asks for the current passphrase before asking the shell', async () => {
    const node = shell({ protection: 'passphrase', passphrase: 'duet-passphrase' });
    render(EncryptionSettings);
    await fireEvent.click(await screen.findByRole('button', { name: 'Keep the key in my keyring instead' }));
    await fireEvent.click(screen.getByTestId('encryption-submit'));
    expect(screen.getByRole('alert')).toHaveTextContent('Type your current passphrase.');
    expect(node.changes).toEqual([]);
  });

  it('closes a form with Cancel or Esc, the focus back on its button, and opens it empty again', async () => {
    const node = shell({ protection: 'passphrase', passphrase: 'duet-passphrase' });
    render(EncryptionSettings);
    const opener = await screen.findByRole('button', { name: 'Change passphrase' });
    await fireEvent.click(opener);
    await type('encryption-current', 'duet-passphrase');
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByTestId('encryption-form')).toBeNull();
    expect(opener).toHaveFocus();
    expect(opener).toHaveAttribute('aria-expanded', 'false');

    await fireEvent.click(opener);
    expect(screen.getByLabelText('Current passphrase')).toHaveValue('');
    await fireEvent.keyDown(screen.getByLabelText('Current passphrase'), { key: 'Escape' });
    expect(screen.queryByTestId('encryption-form')).toBeNull();
    expect(opener).toHaveFocus();
    expect(node.changes).toEqual([]);
  });

  it("shows the shell's words when it cannot say how the key is kept", async () => {
    mockIPC(() => Promise.reject({ code: 'store_unavailable', message: 'Duet cannot find where it keeps its data' }));
    render(EncryptionSettings);
    expect(await screen.findByRole('alert')).toHaveTextContent('Duet cannot find where it keeps its data');
    expect(screen.queryByTestId('encryption-summary')).toBeNull();
    expect(screen.queryByRole('button')).toBeNull();
  });
});

describe('encryption settings with the fake node (?mock)', () => {
  it('keeps the key in the keyring in the usual preview', async () => {
    const { installFakeBackend } = await import('../dev/fakeBackend');
    installFakeBackend('');
    render(EncryptionSettings);
    expect(await screen.findByTestId('encryption-summary')).toHaveTextContent(KEYRING_NOW);
  });

  it('locks with duet-passphrase in ?mock=locked, refuses a wrong one, changes it, then gives the key to the keyring', async () => {
    const { installFakeBackend } = await import('../dev/fakeBackend');
    installFakeBackend('locked');
    expect((await unlockData('duet-passphrase')).ok).toBe(true);
    render(EncryptionSettings);
    expect(await screen.findByTestId('encryption-summary')).toHaveTextContent(PASSPHRASE_NOW);

    await fireEvent.click(screen.getByRole('button', { name: 'Change passphrase' }));
    await type('encryption-current', 'not-it-at-all');
    await type('encryption-new', 'apricots at dawn');
    await type('encryption-again', 'apricots at dawn');
    await fireEvent.click(screen.getByTestId('encryption-submit'));
    expect(await screen.findByRole('alert', {}, { timeout: 3000 })).toHaveTextContent('That is not your current passphrase.');

    await type('encryption-current', 'duet-passphrase');
    await fireEvent.click(screen.getByTestId('encryption-submit'));
    expect(
      await screen.findByText('Your Duet data is now locked with the new passphrase.', {}, { timeout: 3000 }),
    ).toBeInTheDocument();

    await fireEvent.click(screen.getByRole('button', { name: 'Keep the key in my keyring instead' }));
    await type('encryption-current', 'apricots at dawn');
    await fireEvent.click(screen.getByTestId('encryption-submit'));
    expect(
      await screen.findByText('Your desktop keyring keeps the key now; Duet will not ask for a passphrase.', {}, { timeout: 3000 }),
    ).toBeInTheDocument();
    expect(screen.getByTestId('encryption-summary')).toHaveTextContent(KEYRING_NOW);
  });

  it('has no keyring to give the key to in ?mock=nokeyring', async () => {
    const { installFakeBackend } = await import('../dev/fakeBackend');
    installFakeBackend('nokeyring');
    expect((await chooseDataPassphrase('apricots at dawn')).ok).toBe(true);
    render(EncryptionSettings);
    expect(await screen.findByTestId('encryption-summary')).toHaveTextContent(PASSPHRASE_NOW);
    await fireEvent.click(screen.getByRole('button', { name: 'Keep the key in my keyring instead' }));
    await type('encryption-current', 'apricots at dawn');
    await fireEvent.click(screen.getByTestId('encryption-submit'));
    expect(await screen.findByRole('alert', {}, { timeout: 3000 })).toHaveTextContent(
      'No desktop keyring is available on this computer, so the passphrase stays.',
    );
  });
});

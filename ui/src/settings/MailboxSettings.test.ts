import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';

import type { MailboxPlace, MailboxStatus } from '../lib/backend';
import { mailboxBook } from '../lib/mailbox.svelte';
import MailboxSettings from './MailboxSettings.svelte';

const TICKET = 'duetbox1qr4s9m2kq0v7w3xj8d5h6c1f0a9e2z7n4l3p8t5y6u';
const PLACE: MailboxPlace = {
  device: '3f9ac2d1' + '07'.repeat(28),
  addresses: ['/ip4/203.0.113.7/udp/4001/quic-v1', '/dns4/mailbox.example.org/tcp/4001'],
};
const REFUSED = 'the mailbox refused: this mailbox ticket is not valid here (wrong or old ticket)';

/**
 * A shell that keeps the couple's mailbox: it takes `TICKET` (and reaches it at once), refuses
 * any other ticket as the mailbox does, and holds each add or removal until `release` is called,
 * to see the button busy meanwhile.
 */
function shell(initial: MailboxStatus) {
  let kept = initial;
  const added: string[] = [];
  let removed = 0;
  let waiting: (() => void) | null = null;
  const held = <T>(answer: () => T) =>
    new Promise<T>((resolve, reject) => {
      waiting = () => {
        try {
          resolve(answer());
        } catch (error) {
          reject(error);
        }
      };
    });
  mockIPC((cmd, args) => {
    if (cmd === 'mailbox') return kept;
    if (cmd === 'add_mailbox') {
      const ticket = (args as { ticket: string }).ticket;
      added.push(ticket);
      return held(() => {
        if (ticket !== TICKET) throw { code: 'not_allowed', message: REFUSED };
        kept = { mailbox: PLACE, connected: true, holds: [], usage: null };
        return kept;
      });
    }
    if (cmd === 'remove_mailbox') {
      removed += 1;
      return held(() => {
        kept = { mailbox: null, connected: false, holds: [], usage: null };
        return kept;
      });
    }
    throw new Error(`unexpected command ${cmd}`);
  });
  return {
    added,
    removed: () => removed,
    release: () => {
      const go = waiting;
      waiting = null;
      go?.();
    },
  };
}

afterEach(() => {
  cleanup();
  mailboxBook.clear();
  clearMocks();
});

describe('mailbox settings', () => {
  it('says there is no mailbox, and adds one from a ticket pasted with spaces', async () => {
    const node = shell({ mailbox: null, connected: false, holds: [], usage: null });
    render(MailboxSettings);
    expect(await screen.findByText(/No mailbox: messages reach your partner only while/)).toBeInTheDocument();
    const add = screen.getByRole('button', { name: 'Add mailbox' });
    expect(add).toBeDisabled();

    const field = screen.getByLabelText('Mailbox ticket');
    await fireEvent.input(field, { target: { value: '   ' } });
    expect(add).toBeDisabled();
    await fireEvent.input(field, { target: { value: `  ${TICKET} \n` } });
    expect(add).toBeEnabled();
    await fireEvent.click(add);
    expect(await screen.findByRole('button', { name: 'Adding…' })).toBeDisabled();
    expect(node.added).toEqual([TICKET]);

    node.release();
    expect(await screen.findByText('Your mailbox')).toBeInTheDocument();
    expect(screen.getByText('3f9ac2d1')).toBeInTheDocument();
    expect(screen.queryByText(PLACE.device)).not.toBeInTheDocument();
    for (const address of PLACE.addresses) expect(screen.getByText(address)).toBeInTheDocument();
    expect(screen.getByTestId('mailbox-reach')).toHaveTextContent('Reached now');
    expect(screen.getByRole('status')).toHaveTextContent('Added');
    expect(screen.queryByTestId('mailbox-empty')).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Stop using this mailbox' })).toBeEnabled();
  });

  it('shows a refused ticket in words and keeps what was typed', async () => {
    const node = shell({ mailbox: null, connected: false, holds: [], usage: null });
    render(MailboxSettings);
    const field = await screen.findByLabelText('Mailbox ticket');
    const typed = 'duetbox1old0ticket';
    await fireEvent.input(field, { target: { value: typed } });
    await fireEvent.click(screen.getByRole('button', { name: 'Add mailbox' }));
    node.release();

    expect(await screen.findByRole('alert')).toHaveTextContent(REFUSED);
    expect(node.added).toEqual([typed]);
    expect(field).toHaveValue(typed);
    expect(field).toHaveAttribute('aria-invalid', 'true');
    expect(field).toHaveAttribute('aria-describedby', 'mailbox-status');
    expect(screen.getByRole('button', { name: 'Add mailbox' })).toBeEnabled();
    expect(screen.getByTestId('mailbox-empty')).toBeInTheDocument();
  });

  it('stops using the mailbox and shows the empty state again', async () => {
    const node = shell({ mailbox: PLACE, connected: false, holds: [], usage: null });
    render(MailboxSettings);
    expect(await screen.findByText('Your mailbox')).toBeInTheDocument();
    expect(screen.getByTestId('mailbox-reach')).toHaveTextContent('Not reached from this device now');

    await fireEvent.click(screen.getByRole('button', { name: 'Stop using this mailbox' }));
    expect(await screen.findByRole('button', { name: 'Stopping…' })).toBeDisabled();
    expect(node.removed()).toBe(1);

    node.release();
    expect(await screen.findByText(/No mailbox: messages reach your partner only while/)).toBeInTheDocument();
    expect(screen.queryByText('Your mailbox')).not.toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent('Stopped');
    expect(screen.getByLabelText('Mailbox ticket')).toHaveValue('');
    expect(screen.getByRole('button', { name: 'Add mailbox' })).toBeDisabled();
  });
});

describe('mailbox settings and the shared status', () => {
  it('tell the rest of the window what was added, and follow what the layout hears', async () => {
    const node = shell({ mailbox: null, connected: false, holds: [], usage: null });
    render(MailboxSettings);
    await fireEvent.input(await screen.findByLabelText('Mailbox ticket'), { target: { value: TICKET } });
    await fireEvent.click(screen.getByRole('button', { name: 'Add mailbox' }));
    expect(mailboxBook.status?.mailbox).toBeNull();
    node.release();
    expect(await screen.findByText('Reached now')).toBeInTheDocument();
    expect(mailboxBook.status?.mailbox).toEqual(PLACE);
    expect(mailboxBook.connected).toBe(true);

    // The layout hears that this device lost the mailbox.
    mailboxBook.set({ mailbox: PLACE, connected: false, holds: [], usage: null });
    expect(await screen.findByText('Not reached from this device now')).toBeInTheDocument();
  });

  it('say how full the mailbox is, and when its quota dropped messages', async () => {
    shell({ mailbox: PLACE, connected: true, holds: [], usage: null });
    render(MailboxSettings);
    expect(await screen.findByText('Reached now')).toBeInTheDocument();
    expect(screen.queryByTestId('mailbox-usage')).not.toBeInTheDocument();

    const usage = { bytes_held: 512 * 1024 * 1024, quota_bytes: 1024 * 1024 * 1024, dropped_undelivered: 0, last_drop: null };
    mailboxBook.set({ mailbox: PLACE, connected: true, holds: [], usage });
    expect(await screen.findByTestId('mailbox-usage')).toHaveTextContent('Holds 512 MB of its 1,024 MB.');
    expect(screen.queryByTestId('mailbox-dropped')).not.toBeInTheDocument();

    mailboxBook.set({ mailbox: PLACE, connected: true, holds: [], usage: { ...usage, dropped_undelivered: 16, last_drop: Date.UTC(2026, 11, 4, 14, 2) } });
    const dropped = await screen.findByTestId('mailbox-dropped');
    expect(dropped).toHaveAttribute('role', 'alert');
    expect(dropped).toHaveTextContent('dropped 16 of the oldest messages before every device had them');
    expect(dropped).toHaveTextContent('Nothing is lost');
    expect(dropped).toHaveTextContent('--quota-mb');
  });

  it('say why the mailbox could not be read while nothing is known of it', async () => {
    mockIPC((cmd) => {
      if (cmd === 'mailbox') throw { code: 'node_unavailable', message: 'Duet’s node is not running.' };
      throw new Error(`unexpected command ${cmd}`);
    });
    render(MailboxSettings);
    expect(await screen.findByRole('alert')).toHaveTextContent('Duet’s node is not running.');
  });
});

describe('mailbox settings with the fake node (?mock)', () => {
  it('refuses a ticket that is not a mailbox ticket, then adds and stops using one', async () => {
    const { installFakeBackend } = await import('../dev/fakeBackend');
    installFakeBackend('');
    render(MailboxSettings);
    const field = await screen.findByLabelText('Mailbox ticket');
    await fireEvent.input(field, { target: { value: 'duet1:not-a-mailbox' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Add mailbox' }));
    expect(await screen.findByRole('alert', {}, { timeout: 3000 })).toHaveTextContent(
      'that is not a Duet mailbox ticket (it should start with "duetbox1")',
    );
    expect(field).toHaveValue('duet1:not-a-mailbox');

    await fireEvent.input(field, { target: { value: ` ${TICKET} ` } });
    await fireEvent.click(screen.getByRole('button', { name: 'Add mailbox' }));
    expect(await screen.findByText('Reached now', {}, { timeout: 3000 })).toBeInTheDocument();

    await fireEvent.click(screen.getByRole('button', { name: 'Stop using this mailbox' }));
    expect(await screen.findByTestId('mailbox-empty', {}, { timeout: 3000 })).toBeInTheDocument();
  });
});

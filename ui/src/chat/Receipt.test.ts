import { cleanup, render, screen } from '@testing-library/svelte';
import { tick as settle } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';

import type { MailboxStatus } from '../lib/backend';
import { mailboxBook } from '../lib/mailbox.svelte';
import { session } from '../lib/session.svelte';
import { fullTime } from '../lib/time';
import { ME, PARTNER, at, msg } from '../test/messages';
import Receipt from './Receipt.svelte';

const MY_DESKTOP = 'a0'.repeat(32);

/** Paired with Ben (his profile arrived). */
function withBen() {
  session.set({
    device_id: MY_DESKTOP,
    profile: { id: ME, display_name: 'Ada', avatar: null, devices: [MY_DESKTOP] },
    partner: { id: PARTNER, display_name: 'Ben', avatar: null, devices: ['b0'.repeat(32)] },
    paired: true,
    catching_up: false,
  });
}

/** The couple's mailbox holds my desktop's events up to `until`. */
function mailboxHolds(until: number, over: Partial<MailboxStatus> = {}) {
  mailboxBook.set({
    mailbox: { device: 'e5'.repeat(32), addresses: [] },
    connected: true,
    holds: [{ device: MY_DESKTOP, until }],
    usage: null,
    ...over,
  });
}

afterEach(() => {
  cleanup();
  mailboxBook.clear();
  session.set({ device_id: null, profile: null, partner: null, paired: false, catching_up: false });
});

const sentAt = at(20, 0);
const deliveredAt = at(20, 1);
const readAt = at(20, 5);

describe('the tick after my message', () => {
  it('shows a clock while the message is being sent', () => {
    render(Receipt, { entry: { message: msg({ created_at: sentAt, sender: ME }), pending: { state: 'sending' } } });
    expect(screen.getByRole('img', { name: 'Sending…' })).toHaveAttribute('data-state', 'sending');
    expect(screen.queryByTestId('read-tick')).not.toBeInTheDocument();
  });

  it('says a stored message not delivered yet waits for my partner, by name', () => {
    withBen();
    render(Receipt, { entry: { message: msg({ created_at: sentAt, sender: ME, sender_device: MY_DESKTOP }) } });
    const tick = screen.getByTestId('receipt');
    expect(tick).toHaveAttribute('data-state', 'sent');
    expect(tick).toHaveAttribute('title', 'Sent, waiting for Ben');
    expect(tick).toHaveAccessibleName('Sent, waiting for Ben');
    expect(tick.querySelector('.ring')).not.toBeNull();
  });

  it('says "your partner" while no name is known', () => {
    render(Receipt, { entry: { message: msg({ created_at: sentAt, sender: ME }) } });
    expect(screen.getByRole('img')).toHaveAttribute('title', 'Sent, waiting for your partner');
  });

  it('shows a tray while the message waits at our mailbox', () => {
    withBen();
    mailboxHolds(sentAt);
    render(Receipt, { entry: { message: msg({ created_at: sentAt, sender: ME, sender_device: MY_DESKTOP }) } });
    const tick = screen.getByTestId('receipt');
    expect(tick).toHaveAttribute('data-state', 'mailbox');
    expect(tick).toHaveAttribute('title', 'At your mailbox, waiting for Ben');
    expect(tick).toHaveAccessibleName('At your mailbox, waiting for Ben');
    expect(tick.querySelector('.tray')).not.toBeNull();
    expect(tick.querySelector('.ring')).toBeNull();
  });

  it('turns to the tray when the mailbox takes it, and says "your partner" without a name', async () => {
    render(Receipt, { entry: { message: msg({ created_at: sentAt, sender: ME, sender_device: MY_DESKTOP }) } });
    const tick = screen.getByTestId('receipt');
    // What the mailbox holds is older than the message, or another device's: not there yet.
    mailboxHolds(sentAt - 1);
    await settle();
    expect(tick).toHaveAttribute('data-state', 'sent');
    mailboxHolds(sentAt + 60_000, { holds: [{ device: 'a1'.repeat(32), until: sentAt + 60_000 }] });
    await settle();
    expect(tick).toHaveAttribute('data-state', 'sent');

    mailboxHolds(sentAt + 60_000);
    await settle();
    expect(tick).toHaveAttribute('data-state', 'mailbox');
    expect(tick).toHaveAttribute('title', 'At your mailbox, waiting for your partner');
  });

  it('stays ✓ once delivered, whatever the mailbox still holds', () => {
    withBen();
    mailboxHolds(deliveredAt);
    render(Receipt, {
      entry: { message: msg({ created_at: sentAt, sender: ME, sender_device: MY_DESKTOP, delivered: true, delivered_at: deliveredAt }) },
    });
    const tick = screen.getByTestId('receipt');
    expect(tick).toHaveAttribute('data-state', 'delivered');
    expect(tick).toHaveAttribute('title', `Delivered ${fullTime(deliveredAt)}`);
  });

  it('shows ✓ with the delivery time once delivered', () => {
    render(Receipt, {
      entry: { message: msg({ created_at: sentAt, sender: ME, delivered: true, delivered_at: deliveredAt }) },
    });
    const tick = screen.getByRole('img');
    expect(tick).toHaveAttribute('data-state', 'delivered');
    expect(tick).toHaveAttribute('title', `Delivered ${fullTime(deliveredAt)}`);
    expect(tick).toHaveAccessibleName(`Delivered ${fullTime(deliveredAt)}`);
    expect(screen.queryByTestId('read-tick')).not.toBeInTheDocument();
  });

  it('shows ✓✓ (the read tick) with both times once read', () => {
    render(Receipt, {
      entry: {
        message: msg({
          created_at: sentAt,
          sender: ME,
          delivered: true,
          delivered_at: deliveredAt,
          read: true,
          read_at: readAt,
        }),
      },
    });
    const tick = screen.getByTestId('read-tick');
    expect(tick).toHaveAttribute('title', `Read ${fullTime(readAt)} · delivered ${fullTime(deliveredAt)}`);
    expect(tick.querySelectorAll('.check')).toHaveLength(2);
    // Spans, not <i>: an italic element has WebKit open the font's italic face (Receipt.svelte).
    expect(tick.querySelectorAll('span.check')).toHaveLength(2);
  });

  it('shows nothing for a failed send (the row says why, with a retry)', () => {
    const { container } = render(Receipt, {
      entry: { message: msg({ created_at: sentAt, sender: ME }), pending: { state: 'failed', error: 'offline' } },
    });
    expect(container.querySelector('.receipt')).toBeNull();
  });
});

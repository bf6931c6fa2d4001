import { emit } from '@tauri-apps/api/event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { ME, at, msg } from '../test/messages';
import { NODE_EVENT, RESYNC_EVENT, send, type MailboxPlace, type MailboxStatus, type Message, type NodeEvent } from './backend';
import { MailboxBook, mailboxBook, waitsAtMailbox } from './mailbox.svelte';
import { startNodeEvents } from './nodeEvents';

let stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
  mailboxBook.clear();
  clearMocks();
});

const node = (e: NodeEvent) => emit(NODE_EVENT, e);

const MY_DESKTOP = 'a0'.repeat(32);
const MY_LAPTOP = 'a1'.repeat(32);
const PLACE: MailboxPlace = { device: 'e5'.repeat(32), addresses: ['/ip4/203.0.113.7/udp/4001/quic-v1'] };

const status = (over: Partial<MailboxStatus> = {}): MailboxStatus => ({
  mailbox: PLACE,
  connected: true,
  holds: [{ device: MY_DESKTOP, until: at(20, 10) }],
  usage: null,
  ...over,
});

/** One of my messages, written on my desktop at 12:xx on 20 November. */
const mine = (minutes: number, over: Partial<Message> = {}) =>
  msg({ created_at: at(20, minutes), sender: ME, sender_device: MY_DESKTOP, ...over });

describe('a message waiting at the mailbox', () => {
  it('is one of mine not delivered yet, written at or before what the mailbox holds of its device', () => {
    expect(waitsAtMailbox(mine(5), status())).toBe(true);
    expect(waitsAtMailbox(mine(10), status())).toBe(true); // created_at === until
    expect(waitsAtMailbox(mine(11), status())).toBe(false); // newer than what it holds
  });

  it('counts only what the mailbox holds of the device that wrote it', () => {
    const fromLaptop = mine(5, { sender_device: MY_LAPTOP });
    expect(waitsAtMailbox(fromLaptop, status())).toBe(false);
    expect(waitsAtMailbox(fromLaptop, status({ holds: [{ device: MY_LAPTOP, until: at(20, 5) }] }))).toBe(true);
  });

  it('is not one delivered or read', () => {
    expect(waitsAtMailbox(mine(5, { delivered: true, delivered_at: at(20, 20) }), status())).toBe(false);
    expect(waitsAtMailbox(mine(5, { read: true, read_at: at(20, 20) }), status())).toBe(false);
  });

  it('is not, without a mailbox or before it is known', () => {
    expect(waitsAtMailbox(mine(5), status({ mailbox: null }))).toBe(false);
    expect(waitsAtMailbox(mine(5), status({ holds: [] }))).toBe(false);
    expect(waitsAtMailbox(mine(5), null)).toBe(false);
  });

  it('still waits there while this device is not connected to it (it holds it all the same)', () => {
    expect(waitsAtMailbox(mine(5), status({ connected: false }))).toBe(true);
  });
});

describe('the mailbox book', () => {
  it('reloads when the node says the mailbox changed, and on a device connecting or dropping', async () => {
    let answer = status({ holds: [] });
    let asked = 0;
    mockIPC(
      (cmd) => {
        if (cmd !== 'mailbox') return null;
        asked += 1;
        return answer;
      },
      { shouldMockEvents: true },
    );
    stops.push(await startNodeEvents());
    stops.push(mailboxBook.follow());
    await mailboxBook.load();
    expect(mailboxBook.status).toEqual(answer);
    expect(mailboxBook.connected).toBe(true);
    expect(mailboxBook.waits(mine(5))).toBe(false);

    // My message reached the mailbox.
    answer = status();
    await node({ event: 'mailbox_changed' });
    await vi.waitFor(() => expect(mailboxBook.waits(mine(5))).toBe(true));
    expect(asked).toBe(2);

    answer = status({ connected: false });
    await node({ event: 'peer_disconnected', device: PLACE.device });
    await vi.waitFor(() => expect(mailboxBook.connected).toBe(false));

    answer = status();
    await node({ event: 'peer_connected', device: PLACE.device });
    await vi.waitFor(() => expect(mailboxBook.connected).toBe(true));

    answer = status({ mailbox: null, connected: false, holds: [] });
    await emit(RESYNC_EVENT, null);
    await vi.waitFor(() => expect(mailboxBook.status?.mailbox).toBeNull());
    expect(asked).toBe(5);

    // Other news says nothing of the mailbox; pairing may (my partner's devices share it).
    await node({ event: 'dates_changed' });
    await node({ event: 'paired', person: 'bb'.repeat(32), device: 'b0'.repeat(32) });
    await vi.waitFor(() => expect(asked).toBe(6));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(asked).toBe(6);
  });

  it('keeps the last known status when a load fails', async () => {
    let failing = false;
    mockIPC((cmd) => {
      if (cmd !== 'mailbox') return null;
      if (failing) throw { code: 'node_unavailable', message: 'Duet’s node is not running.' };
      return status();
    });
    const book = new MailboxBook();
    await book.load();
    failing = true;
    await book.load();
    expect(book.status).toEqual(status());
    expect(book.error).toBe('Duet’s node is not running.');
    failing = false;
    await book.load();
    expect(book.error).toBeNull();
  });

  it('keeps the answer to an add or a stop over a load asked before it', async () => {
    let release: ((value: MailboxStatus) => void) | null = null;
    mockIPC((cmd) => (cmd === 'mailbox' ? new Promise<MailboxStatus>((resolve) => (release = resolve)) : null));
    const book = new MailboxBook();
    const loading = book.load();
    await vi.waitFor(() => expect(release).not.toBeNull());
    const stopped = status({ mailbox: null, connected: false, holds: [] });
    book.set(stopped);
    release!(status());
    await loading;
    expect(book.status).toEqual(stopped);
    expect(book.connected).toBe(false);
  });
});

describe('the fake node with Ben away (?mock=mailbox)', () => {
  it('holds what I send at the mailbox, and says so', async () => {
    const { installFakeBackend } = await import('../dev/fakeBackend');
    installFakeBackend('mailbox');
    stops.push(await startNodeEvents());
    stops.push(mailboxBook.follow());
    await mailboxBook.load();
    expect(mailboxBook.connected).toBe(true);

    const sent = await send('direct', 'Miss you');
    if (!sent.ok) throw new Error(sent.error.message);
    expect(mailboxBook.waits(sent.value)).toBe(false);
    await vi.waitFor(() => expect(mailboxBook.waits(sent.value)).toBe(true), { timeout: 3000 });
    expect(sent.value.delivered).toBe(false);
  });
});

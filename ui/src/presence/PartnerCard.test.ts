import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';

import type { PeerReach, Person, Presence } from '../lib/backend';
import { datesBook } from '../dates/dates.svelte';
import { deviceLinks } from '../lib/links.svelte';
import { mailboxBook } from '../lib/mailbox.svelte';
import { presenceBook } from '../lib/presence.svelte';
import { clockTime } from '../lib/time';
import { ME, PARTNER, peer } from '../test/messages';
import PartnerCard from './PartnerCard.svelte';

afterEach(() => {
  cleanup();
  deviceLinks.clear();
  mailboxBook.clear();
  presenceBook.byPerson = new Map();
  clearMocks();
});

const ben: Person = { id: PARTNER, display_name: 'Ben', avatar: null, devices: ['b0'.repeat(32)] };

/** The links as `peers` tells them: Ben's laptop reached as said. */
async function reached(reach: PeerReach) {
  mockIPC((cmd) =>
    cmd === 'peers' ? [peer('a0'.repeat(32), ME, true, true), peer('b0'.repeat(32), PARTNER, false, reach !== 'offline', reach)] : null,
  );
  await deviceLinks.load();
}

describe("my partner's card, how they are reached", () => {
  it.each([
    ['same_network', 'Same network'],
    ['direct', 'Direct connection'],
    ['relay', 'Through your relay'],
  ] as const)('says %s in words', async (reach, words) => {
    await reached(reach);
    render(PartnerCard, { partner: ben, paired: true, oninvite: () => {} });
    expect(screen.getByTestId('partner-reach')).toHaveTextContent(words);
  });

  it('says nothing while not known yet, then "Offline" when no device of theirs is reached', async () => {
    render(PartnerCard, { partner: ben, paired: true, oninvite: () => {} });
    expect(screen.queryByTestId('partner-reach')).not.toBeInTheDocument();
    await reached('offline');
    expect(screen.getByTestId('partner-reach')).toHaveTextContent(/^Offline$/);
    expect(screen.getByTestId('partner-reach')).toHaveAttribute('data-reach', 'offline');
  });

  it('says nothing before pairing', async () => {
    await reached('direct');
    render(PartnerCard, { partner: ben, paired: false, oninvite: () => {} });
    expect(screen.queryByTestId('partner-reach')).not.toBeInTheDocument();
  });

  it('follows a device that drops', async () => {
    await reached('relay');
    render(PartnerCard, { partner: ben, paired: true, oninvite: () => {} });
    expect(screen.getByTestId('partner-reach')).toHaveTextContent('Through your relay');
    deviceLinks.set('b0'.repeat(32), false);
    await Promise.resolve();
    expect(screen.getByTestId('partner-reach')).toHaveTextContent(/^Offline$/);
  });
});

describe("my partner's card, offline", () => {
  /** Ben, last seen at 14:02 today (or, before 14:02, at midnight). */
  function benLastSeen(): number {
    const today = new Date();
    const at = new Date(today.getFullYear(), today.getMonth(), today.getDate(), 14, 2).getTime();
    const seen = at <= Date.now() ? at : new Date(today.getFullYear(), today.getMonth(), today.getDate()).getTime();
    const presence: Presence = {
      person: PARTNER,
      status: 'offline',
      last_seen: seen,
      custom_status: null,
      device: 'b0'.repeat(32),
      updated_at: seen,
      mood: null,
      last_nudge: null,
    };
    presenceBook.set(presence);
    return seen;
  }

  const mailbox = (connected: boolean) =>
    mailboxBook.set({ mailbox: { device: 'e5'.repeat(32), addresses: [] }, connected, holds: [], usage: null });

  it('says since when, from when they were last seen', async () => {
    const seen = benLastSeen();
    await reached('offline');
    render(PartnerCard, { partner: ben, paired: true, oninvite: () => {} });
    expect(screen.getByTestId('partner-reach')).toHaveTextContent(new RegExp(`^Offline since ${clockTime(seen)}$`));
  });

  it('adds that my messages wait at our mailbox while this device reaches it', async () => {
    const seen = benLastSeen();
    mailbox(true);
    await reached('offline');
    render(PartnerCard, { partner: ben, paired: true, oninvite: () => {} });
    expect(screen.getByTestId('partner-reach')).toHaveTextContent(
      `Offline since ${clockTime(seen)} · your messages wait at your mailbox`,
    );
  });

  it('says nothing of a mailbox this device does not reach now', async () => {
    benLastSeen();
    mailbox(false);
    await reached('offline');
    render(PartnerCard, { partner: ben, paired: true, oninvite: () => {} });
    expect(screen.getByTestId('partner-reach')).not.toHaveTextContent('mailbox');
  });

  it('says "Offline" without a time when they were never seen, and the mailbox still', async () => {
    mailbox(true);
    await reached('offline');
    render(PartnerCard, { partner: ben, paired: true, oninvite: () => {} });
    expect(screen.getByTestId('partner-reach')).toHaveTextContent(/^Offline · your messages wait at your mailbox$/);
  });

  it('says nothing of the mailbox once one of their devices is reached', async () => {
    benLastSeen();
    mailbox(true);
    await reached('relay');
    render(PartnerCard, { partner: ben, paired: true, oninvite: () => {} });
    expect(screen.getByTestId('partner-reach')).toHaveTextContent(/^Through your relay$/);
    expect(screen.getByTestId('partner-last-seen')).toBeInTheDocument();
  });
});

describe("my partner's card, our days together", () => {
  afterEach(() => datesBook.clear());

  it('counts the days since the day we set', async () => {
    const today = new Date();
    const since = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1271);
    datesBook.set({ together_since: { year: since.getFullYear(), month: since.getMonth() + 1, day: since.getDate() }, dates: [] });
    render(PartnerCard, { partner: ben, paired: true, oninvite: () => {} });
    expect(screen.getByTestId('together-days')).toHaveTextContent('Together 1,271 days');
  });

  it('says nothing when it is not set', () => {
    datesBook.set({ together_since: null, dates: [] });
    render(PartnerCard, { partner: ben, paired: true, oninvite: () => {} });
    expect(screen.queryByTestId('together-days')).not.toBeInTheDocument();
  });
});

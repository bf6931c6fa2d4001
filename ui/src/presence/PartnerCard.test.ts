import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';

import type { PeerReach, Person } from '../lib/backend';
import { datesBook } from '../dates/dates.svelte';
import { deviceLinks } from '../lib/links.svelte';
import { ME, PARTNER, peer } from '../test/messages';
import PartnerCard from './PartnerCard.svelte';

afterEach(() => {
  cleanup();
  deviceLinks.clear();
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

  it('says nothing more when they are offline, or not known yet', async () => {
    render(PartnerCard, { partner: ben, paired: true, oninvite: () => {} });
    expect(screen.queryByTestId('partner-reach')).not.toBeInTheDocument();
    await reached('offline');
    expect(screen.queryByTestId('partner-reach')).not.toBeInTheDocument();
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
    expect(screen.queryByTestId('partner-reach')).not.toBeInTheDocument();
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

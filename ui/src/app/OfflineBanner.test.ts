import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, render, screen } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { deviceLinks } from '../lib/links.svelte';
import { ME, PARTNER, peer } from '../test/messages';
import OfflineBanner, { OFFLINE_BANNER_AFTER_MS } from './OfflineBanner.svelte';

const HERS = 'b0'.repeat(32);

afterEach(() => {
  cleanup();
  deviceLinks.clear();
  clearMocks();
  vi.useRealTimers();
});

const banner = () => screen.queryByTestId('offline-banner');

/** `peers` says no other member device is connected. */
async function alone() {
  mockIPC((cmd) => (cmd === 'peers' ? [peer('a0'.repeat(32), ME, true, true), peer(HERS, PARTNER, false, false)] : null));
  await deviceLinks.load();
  flushSync();
}

describe('the offline banner', () => {
  it('shows only after the links have stayed alone a few seconds, and goes on a connect', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    render(OfflineBanner, { paired: true });
    // Not known yet: nothing, however long.
    vi.advanceTimersByTime(3 * OFFLINE_BANNER_AFTER_MS);
    flushSync();
    expect(banner()).not.toBeInTheDocument();

    await alone();
    vi.advanceTimersByTime(OFFLINE_BANNER_AFTER_MS - 100);
    flushSync();
    expect(banner()).not.toBeInTheDocument();
    vi.advanceTimersByTime(100);
    flushSync();
    expect(banner()).toHaveAttribute('role', 'status');
    expect(banner()).toHaveTextContent(
      "You're offline: no device of yours or your partner's is reachable. Messages wait here and go out when one is.",
    );

    deviceLinks.set(HERS, true);
    flushSync();
    expect(banner()).not.toBeInTheDocument();
  });

  it('does not flash for a short drop', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    render(OfflineBanner, { paired: true });
    await alone();
    deviceLinks.set(HERS, true);
    flushSync();
    vi.advanceTimersByTime(OFFLINE_BANNER_AFTER_MS);
    deviceLinks.set(HERS, false);
    flushSync();
    vi.advanceTimersByTime(OFFLINE_BANNER_AFTER_MS - 1000);
    deviceLinks.set(HERS, true);
    flushSync();
    vi.advanceTimersByTime(2 * OFFLINE_BANNER_AFTER_MS);
    flushSync();
    expect(banner()).not.toBeInTheDocument();
  });

  it('stays away before pairing', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    render(OfflineBanner, { paired: false });
    await alone();
    vi.advanceTimersByTime(3 * OFFLINE_BANNER_AFTER_MS);
    flushSync();
    expect(banner()).not.toBeInTheDocument();
  });

  it('on a restored device, says it is catching up with the partner’s devices, and why, until it has', async () => {
    const { rerender } = render(OfflineBanner, { paired: true, catchingUp: true, partnerName: 'Ben' });
    expect(screen.getByTestId('catching-up-banner')).toHaveTextContent(
      'Restored from your backup: catching up with Ben’s devices. You can write once it has; stay online.',
    );
    expect(banner()).not.toBeInTheDocument();
    await rerender({ paired: true, catchingUp: false, partnerName: 'Ben' });
    expect(screen.queryByTestId('catching-up-banner')).not.toBeInTheDocument();
  });
});

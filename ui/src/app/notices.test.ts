import { emit } from '@tauri-apps/api/event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { NODE_EVENT, type NodeEvent, type Person } from '../lib/backend';
import { startNodeEvents } from '../lib/nodeEvents';
import { session } from '../lib/session.svelte';
import { ME, PARTNER } from '../test/messages';
import NodeNotices from './NodeNotices.svelte';
import { RESTARTED_NOTICE_MS, notices } from './notices.svelte';

const BEN_LAPTOP = 'b0'.repeat(32);
const OLD_PHONE = 'a2'.repeat(32);
const person = (id: string, display_name: string, devices: string[]): Person => ({ id, display_name, avatar: null, devices });

const FORK =
  'Your device “Old phone” signed two different versions of its history (event 412). Duet keeps both as evidence and takes nothing new from that device any more, whoever passes it on.';
const AHEAD =
  'Ben’s device “Laptop” dates its messages 60 minutes ahead of this computer’s clock, so they wait until this clock gets there. One of the two clocks is wrong: check the date and time on both.';
const STOPPED = 'Duet stopped working (syncing kept failing: boom). Your messages are kept; restart Duet to go on.';

let stops: (() => void)[] = [];
afterEach(() => {
  cleanup();
  for (const stop of stops) stop();
  stops = [];
  notices.clear();
  clearMocks();
  vi.useRealTimers();
});

/** The notices in a window that hears the node. */
async function hearing() {
  mockIPC(() => null, { shouldMockEvents: true });
  session.set({
    device_id: 'a0'.repeat(32),
    profile: person(ME, 'Maya', ['a0'.repeat(32), OLD_PHONE]),
    partner: person(PARTNER, 'Ben', [BEN_LAPTOP]),
    paired: true,
    catching_up: false,
  });
  stops.push(await startNodeEvents());
  stops.push(notices.follow());
  render(NodeNotices);
}

const node = (e: NodeEvent) => emit(NODE_EVENT, e);
const shown = () => screen.queryAllByTestId('node-notice');

describe('the node’s notices', () => {
  it('shows a fork once, in the node’s words, until dismissed', async () => {
    await hearing();
    await node({ event: 'fork', device: OLD_PHONE, seq: 412, message: FORK });
    await node({ event: 'fork', device: OLD_PHONE, seq: 413, message: FORK }); // said again
    expect(shown()).toHaveLength(1);
    expect(shown()[0]).toHaveTextContent(FORK);
    expect(shown()[0]).toHaveAttribute('data-kind', 'fork');
    expect(shown()[0]).toHaveAttribute('role', 'alert');

    await fireEvent.click(within(shown()[0]!).getByTestId('dismiss-notice'));
    expect(shown()).toHaveLength(0);
  });

  it('shows a clock ahead and a stopped part side by side; each is dismissed on its own', async () => {
    await hearing();
    await node({ event: 'clock_ahead', device: BEN_LAPTOP, ahead_ms: 3_600_000, message: AHEAD });
    await node({ event: 'clock_ahead', device: BEN_LAPTOP, ahead_ms: 3_660_000, message: AHEAD });
    await node({ event: 'failed', part: 'sync', restarting: false, message: STOPPED });
    expect(shown().map((n) => n.dataset.kind)).toEqual(['clock_ahead', 'failed']);
    expect(shown()[0]).toHaveTextContent(AHEAD);
    const stopped = shown()[1]!;
    expect(stopped).toHaveTextContent('Part of Duet stopped (sync)');
    expect(stopped).toHaveTextContent(STOPPED);

    await fireEvent.click(within(shown()[0]!).getByTestId('dismiss-notice'));
    expect(shown()).toEqual([stopped]);
    // Once dismissed, the same kind for the same device may be told again.
    await node({ event: 'clock_ahead', device: BEN_LAPTOP, ahead_ms: 3_600_000, message: AHEAD });
    expect(shown().map((n) => n.dataset.kind)).toEqual(['failed', 'clock_ahead']);
  });

  it('says which device was cut off and why, in a sentence', async () => {
    await hearing();
    await node({ event: 'peer_rejected', device: BEN_LAPTOP, reason: 'malformed event: bad signature' });
    expect(shown()).toHaveLength(1);
    expect(shown()[0]).toHaveTextContent(
      'Ben’s device sent something Duet cannot accept, so it was disconnected for a minute. The reason: Malformed event: bad signature.',
    );
  });

  it('lets a restarted part’s notice go by itself, but keeps one that stopped', () => {
    vi.useFakeTimers();
    render(NodeNotices);
    notices.handle({ event: 'failed', part: 'sync', restarting: true, message: 'Something went wrong in Duet (syncing): it was restarted, nothing was lost.' });
    notices.handle({ event: 'failed', part: 'blobs', restarting: true, message: 'Something went wrong in Duet (attachments): it was restarted, nothing was lost.' });
    expect(notices.shown.map((n) => n.title)).toEqual(['Duet recovered from a problem', 'Duet recovered from a problem']);
    // The blobs part then stops for good: its notice says so and stays.
    notices.handle({ event: 'failed', part: 'blobs', restarting: false, message: STOPPED });
    vi.advanceTimersByTime(RESTARTED_NOTICE_MS + 1);
    expect(notices.shown.map((n) => [n.key, n.title, n.lasting])).toEqual([['failed:blobs', 'Part of Duet stopped (blobs)', true]]);
    vi.advanceTimersByTime(10 * RESTARTED_NOTICE_MS);
    expect(notices.shown).toHaveLength(1);
  });

  it('ignores the node’s other events', async () => {
    await hearing();
    await node({ event: 'space_changed' });
    await node({ event: 'peer_connected', device: BEN_LAPTOP });
    expect(shown()).toHaveLength(0);
  });
});

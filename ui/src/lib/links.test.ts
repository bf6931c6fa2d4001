import { emit } from '@tauri-apps/api/event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { ME, PARTNER, peer } from '../test/messages';
import { NODE_EVENT, type NodeEvent, type PeerInfo } from './backend';
import { DeviceLinks, LINKS_REFRESH_MS } from './links.svelte';
import { startNodeEvents } from './nodeEvents';

let stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
  clearMocks();
  vi.useRealTimers();
});

const node = (e: NodeEvent) => emit(NODE_EVENT, e);

const MINE = 'a0'.repeat(32);
const HERS = 'b0'.repeat(32);
const HER_PHONE = 'b1'.repeat(32);
const MY_LAPTOP = 'a1'.repeat(32);

describe('the device links', () => {
  it('know nothing before the first read, then count only other devices', async () => {
    mockIPC((cmd) => (cmd === 'peers' ? [peer(MINE, ME, true, true), peer(HERS, PARTNER, false, false)] : null));
    const links = new DeviceLinks();
    expect(links.alone).toBe(false);
    await links.load();
    expect(links.alone).toBe(true);
    links.set(HERS, true);
    expect(links.alone).toBe(false);
    links.set(HERS, false);
    expect(links.alone).toBe(true);
  });

  it('keep a connect heard while a re-read was on its way', async () => {
    let answer: (value: PeerInfo[]) => void = () => {};
    mockIPC((cmd) => (cmd === 'peers' ? new Promise<PeerInfo[]>((resolve) => (answer = resolve)) : null));
    const links = new DeviceLinks();
    const loading = links.load();
    await Promise.resolve();
    links.set(HERS, true);
    answer([peer(HERS, PARTNER, false, false)]);
    await loading;
    expect(links.connected.has(HERS)).toBe(true);
  });

  it("give my partner's best reach over their devices", async () => {
    let answer: PeerInfo[] = [];
    mockIPC((cmd) => (cmd === 'peers' ? answer : null));
    const links = new DeviceLinks();
    expect(links.reachOf(PARTNER)).toBeNull(); // not known yet

    // My own laptop on the same network says nothing of my partner's.
    answer = [peer(MINE, ME, true, true), peer(MY_LAPTOP, ME, false, true, 'same_network'), peer(HERS, PARTNER, false, false), peer(HER_PHONE, PARTNER, false, false)];
    await links.load();
    expect(links.reachOf(PARTNER)).toBe('offline');

    answer = [peer(HERS, PARTNER, false, true, 'relay'), peer(HER_PHONE, PARTNER, false, false)];
    await links.load();
    expect(links.reachOf(PARTNER)).toBe('relay');

    answer = [peer(HERS, PARTNER, false, true, 'relay'), peer(HER_PHONE, PARTNER, false, true, 'direct')];
    await links.load();
    expect(links.reachOf(PARTNER)).toBe('direct');

    answer = [peer(HERS, PARTNER, false, true, 'same_network'), peer(HER_PHONE, PARTNER, false, true, 'direct')];
    await links.load();
    expect(links.reachOf(PARTNER)).toBe('same_network');

    // A disconnect counts at once; the device left is reached directly.
    links.set(HERS, false);
    expect(links.reachOf(PARTNER)).toBe('direct');
    links.set(HER_PHONE, false);
    expect(links.reachOf(PARTNER)).toBe('offline');
    expect(links.reachOf(null)).toBeNull();
  });

  it('re-read how devices are reached on a connect, and every 30 s while followed', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let answer = [peer(HERS, PARTNER, false, false)];
    let asked = 0;
    mockIPC(
      (cmd) => {
        if (cmd !== 'peers') return null;
        asked += 1;
        return answer;
      },
      { shouldMockEvents: true },
    );
    const links = new DeviceLinks();
    stops.push(await startNodeEvents());
    stops.push(links.follow());
    await links.load();
    expect(links.reachOf(PARTNER)).toBe('offline');

    // She connects through the relay: the connect re-reads `peers`, which says so.
    answer = [peer(HERS, PARTNER, false, true, 'relay')];
    await node({ event: 'peer_connected', device: HERS });
    await vi.waitFor(() => expect(links.reachOf(PARTNER)).toBe('relay'));
    expect(asked).toBe(2);
    expect(links.alone).toBe(false);

    // Hole punching turns it direct; the next refresh tells.
    answer = [peer(HERS, PARTNER, false, true, 'direct')];
    const before = asked;
    vi.advanceTimersByTime(LINKS_REFRESH_MS);
    await vi.waitFor(() => expect(links.reachOf(PARTNER)).toBe('direct'));
    expect(asked).toBe(before + 1);

    // Once unfollowed, the timer is gone.
    for (const stop of stops.splice(0)) stop();
    vi.advanceTimersByTime(3 * LINKS_REFRESH_MS);
    expect(asked).toBe(before + 1);
  });
});

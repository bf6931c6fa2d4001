import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';

import { ME, PARTNER, peer } from '../test/messages';
import type { PeerInfo } from './backend';
import { DeviceLinks } from './links.svelte';

afterEach(() => clearMocks());

const MINE = 'a0'.repeat(32);
const HERS = 'b0'.repeat(32);

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
});

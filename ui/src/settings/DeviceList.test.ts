import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';

import type { DeviceId, DeviceInfo } from '../lib/backend';
import { ME, PARTNER } from '../test/messages';
import DeviceList from './DeviceList.svelte';

const NOW = Date.now();
const HOUR = 3600_000;

const device = (d: Partial<DeviceInfo> & Pick<DeviceInfo, 'device' | 'name'>): DeviceInfo => ({
  person: ME,
  mine: true,
  this_device: false,
  added_at: NOW - 30 * 24 * HOUR,
  last_seen: null,
  connected: false,
  removed: false,
  ...d,
});

const DESKTOP = device({ device: 'a0'.repeat(32), name: 'Maya’s desktop', this_device: true, last_seen: NOW });
const PHONE = device({ device: 'a2'.repeat(32), name: 'Old phone', last_seen: NOW - 3 * HOUR });
const LAPTOP = device({ device: 'a1'.repeat(32), name: 'Maya’s laptop', last_seen: NOW, connected: true });
const OLD = device({ device: 'a3'.repeat(32), name: 'Stolen tablet', last_seen: NOW - 50 * 24 * HOUR, removed: true });
const BENS = device({ device: 'b0'.repeat(32), person: PARTNER, mine: false, name: 'Ben’s laptop', last_seen: NOW, connected: true });

/**
 * A shell with these devices (partner's listed first, to see mine put first) that removes as
 * the node does: never this device, never my partner's.
 */
function shell(initial: DeviceInfo[]) {
  let list = initial;
  const removed: DeviceId[] = [];
  mockIPC((cmd, args) => {
    if (cmd === 'devices') return list;
    if (cmd === 'remove_device') {
      const id = (args as { device: DeviceId }).device;
      removed.push(id);
      const d = list.find((x) => x.device === id);
      if (!d) throw { code: 'not_found', message: 'There is no such device in your space.' };
      if (d.this_device) throw { code: 'not_allowed', message: 'This is the device you are using: remove it from another of your devices.' };
      if (!d.mine) throw { code: 'not_allowed', message: 'That device is your partner’s: only they can remove their devices.' };
      const gone = { ...d, removed: true, connected: false };
      list = list.map((x) => (x.device === id ? gone : x));
      return gone;
    }
    throw new Error(`unexpected command ${cmd}`);
  });
  return {
    removed,
    /** Changes the node's answer (another window removed it meanwhile). */
    set: (next: DeviceInfo[]) => {
      list = next;
    },
  };
}

afterEach(() => {
  cleanup();
  clearMocks();
});

const row = (name: string) => screen.getByText(name).closest<HTMLElement>('[data-testid="device-row"]')!;

describe('the device list', () => {
  it('lists my devices first, then my partner’s, with this device, connected, last seen and removed', async () => {
    shell([BENS, DESKTOP, LAPTOP, PHONE, OLD]);
    render(DeviceList, { partnerName: 'Ben' });
    const list = await screen.findByTestId('device-list');
    const rows = within(list).getAllByTestId('device-row');
    expect(rows.map((r) => r.querySelector('.name')?.textContent)).toEqual([
      'Maya’s desktop',
      'Maya’s laptop',
      'Old phone',
      'Stolen tablet',
      'Ben’s laptop',
    ]);
    expect(within(list).getByRole('heading', { name: 'Ben’s' })).toBeInTheDocument();
    expect(row('Maya’s desktop')).toHaveTextContent('this device');
    expect(row('Maya’s laptop')).toHaveTextContent('Connected now');
    expect(row('Old phone')).toHaveTextContent('Last seen 3 h ago');
    expect(row('Stolen tablet')).toHaveTextContent('removed');
    expect(row('Stolen tablet')).toHaveAttribute('data-removed', 'true');

    // Only my other devices that are still members can be removed.
    expect(within(row('Maya’s laptop')).getByTestId('remove-device')).toBeInTheDocument();
    expect(within(row('Old phone')).getByTestId('remove-device')).toBeInTheDocument();
    expect(within(row('Maya’s desktop')).queryByTestId('remove-device')).not.toBeInTheDocument();
    expect(within(row('Stolen tablet')).queryByTestId('remove-device')).not.toBeInTheDocument();
    expect(within(row('Ben’s laptop')).queryByTestId('remove-device')).not.toBeInTheDocument();
    expect(within(list).getAllByTestId('remove-device')).toHaveLength(2);
  });

  it('asks before removing one of my devices, then removes it and shows it removed', async () => {
    const { removed } = shell([DESKTOP, PHONE, BENS]);
    render(DeviceList, { partnerName: 'Ben' });
    await screen.findByTestId('device-list');

    await fireEvent.click(within(row('Old phone')).getByTestId('remove-device'));
    expect(removed).toEqual([]);
    expect(row('Old phone')).toHaveTextContent(
      'Remove Old phone? It keeps what it has, but gets nothing new and nothing it writes counts.',
    );
    const confirm = within(row('Old phone')).getByTestId('confirm-remove');
    expect(confirm).toHaveFocus();

    await fireEvent.click(confirm);
    expect(await screen.findByText(/Old phone was removed/)).toBeInTheDocument();
    expect(removed).toEqual([PHONE.device]);
    expect(row('Old phone')).toHaveAttribute('data-removed', 'true');
    expect(within(row('Old phone')).queryByTestId('remove-device')).not.toBeInTheDocument();
    expect(screen.queryByTestId('confirm-remove')).not.toBeInTheDocument();
  });

  it('removes nothing when the removal is cancelled', async () => {
    const { removed } = shell([DESKTOP, PHONE]);
    render(DeviceList);
    await screen.findByTestId('device-list');
    await fireEvent.click(within(row('Old phone')).getByTestId('remove-device'));
    await fireEvent.click(within(row('Old phone')).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByTestId('confirm-remove')).not.toBeInTheDocument();
    expect(removed).toEqual([]);
    expect(within(row('Old phone')).getByTestId('remove-device')).toBeInTheDocument();
  });

  it('shows a refusal in words', async () => {
    const { set } = shell([DESKTOP, PHONE]);
    render(DeviceList);
    await screen.findByTestId('device-list');
    await fireEvent.click(within(row('Old phone')).getByTestId('remove-device'));
    set([DESKTOP]); // gone meanwhile
    await fireEvent.click(screen.getByTestId('confirm-remove'));
    expect(await screen.findByRole('alert')).toHaveTextContent('There is no such device in your space.');
  });
});

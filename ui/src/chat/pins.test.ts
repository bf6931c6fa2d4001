import { emit } from '@tauri-apps/api/event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { NODE_EVENT, type PinnedMessage } from '../lib/backend';
import { onNodeEvent, startNodeEvents } from '../lib/nodeEvents';
import { ME, PARTNER, at, msg } from '../test/messages';
import { Pins } from './pins.svelte';
import PinnedStrip from './PinnedStrip.svelte';

const CONVERSATION = 'a1'.repeat(16);
const first = msg({ created_at: at(20), sender: PARTNER, content: 'Dinner at 8, the usual place' });
const second = msg({ created_at: at(20, 5), sender: ME, content: 'Flight PT123 lands 14:05' });

let stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
  cleanup();
  clearMocks();
});

/** A shell holding the direct conversation's pins, latest pinned first. */
function shell() {
  let held: PinnedMessage[] = [];
  const calls: [string, unknown][] = [];
  mockIPC(
    (cmd, args) => {
      calls.push([cmd, args]);
      const a = args as { id: string; pinned: boolean };
      if (cmd === 'pinned_messages') return held;
      if (cmd === 'pin_message') {
        const m = [first, second].find((x) => x.id === a.id)!;
        held = held.filter((p) => p.message.id !== a.id);
        if (a.pinned) held = [{ message: m, pinned_by: ME, pinned_at: Date.now() }, ...held];
        return held;
      }
      return null;
    },
    { shouldMockEvents: true },
  );
  return {
    calls,
    pinByPartner(m = first) {
      held = [{ message: m, pinned_by: PARTNER, pinned_at: Date.now() }, ...held];
    },
  };
}

describe("a conversation's pins", () => {
  it('lists a pinned message, latest first, and drops an unpinned one', async () => {
    const { calls } = shell();
    const pins = new Pins('direct', () => CONVERSATION);
    await pins.load();
    expect(pins.list).toEqual([]);

    expect(await pins.set(first.id, true)).toBeNull();
    expect(await pins.set(second.id, true)).toBeNull();
    expect(calls).toContainEqual(['pin_message', { target: 'direct', id: second.id, pinned: true }]);
    expect(pins.list.map((p) => p.message.id)).toEqual([second.id, first.id]);
    expect(pins.isPinned(first.id)).toBe(true);

    await pins.set(first.id, false);
    expect(pins.list.map((p) => p.message.id)).toEqual([second.id]);
    expect(pins.isPinned(first.id)).toBe(false);
  });

  it('reloads on pins_changed for its conversation only', async () => {
    const shellState = shell();
    const pins = new Pins('direct', () => CONVERSATION);
    stops.push(await startNodeEvents());
    stops.push(onNodeEvent((e) => pins.handle(e)));
    await pins.load();

    shellState.pinByPartner();
    await emit(NODE_EVENT, { event: 'pins_changed', conversation: 'c1'.repeat(16) });
    await vi.waitFor(() => expect(shellState.calls.filter(([c]) => c === 'pinned_messages')).toHaveLength(1));
    expect(pins.list).toEqual([]);

    await emit(NODE_EVENT, { event: 'pins_changed', conversation: CONVERSATION });
    await vi.waitFor(() => expect(pins.list.map((p) => p.message.id)).toEqual([first.id]));
  });
});

describe('the pinned strip', () => {
  const pin = (m: typeof first): PinnedMessage => ({ message: m, pinned_by: ME, pinned_at: at(21) });
  const nameOf = (id: string) => (id === ME ? 'You' : 'Ben');

  it('shows nothing without pins', () => {
    render(PinnedStrip, { pins: [], nameOf, onjump: () => {} });
    expect(screen.queryByTestId('pinned-strip')).not.toBeInTheDocument();
  });

  it('shows the sender and a line of each pin, and jumps to one on click', async () => {
    const onjump = vi.fn();
    render(PinnedStrip, { pins: [pin(second), pin(first)], nameOf, onjump });
    const strip = screen.getByRole('region', { name: 'Pinned messages' });
    expect(strip).toHaveTextContent('Pinned (2)');
    expect(screen.getAllByTestId('pinned-message')).toHaveLength(1);
    await fireEvent.click(screen.getByRole('button', { name: 'Show all 2' }));
    const rows = screen.getAllByTestId('pinned-message');
    expect(rows.map((r) => r.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      'You Flight PT123 lands 14:05',
      'Ben Dinner at 8, the usual place',
    ]);
    await fireEvent.click(rows[1]!);
    expect(onjump).toHaveBeenCalledWith(first.id);
  });
});

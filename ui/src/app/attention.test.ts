import { emit } from '@tauri-apps/api/event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';

import { NODE_EVENT, type NodeEvent, type Person } from '../lib/backend';
import { language } from '../lib/i18n/index.svelte';
import { startNodeEvents } from '../lib/nodeEvents';
import { useNotifier } from '../lib/notify';
import { presenceBook } from '../lib/presence.svelte';
import { session } from '../lib/session.svelte';
import { clockTime } from '../lib/time';
import { callInfo } from '../test/calls';
import { ME, PARTNER } from '../test/messages';
import { followAttention } from './attention.svelte';

const person = (id: string, display_name: string): Person => ({ id, display_name, avatar: null, devices: [] });

let stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
  clearMocks();
  language.choose('system');
});

/** A window following attention, its notifications collected, a conversation opened on click. */
async function following() {
  mockIPC(() => null, { shouldMockEvents: true });
  session.set({ device_id: 'd0'.repeat(32), profile: person(ME, 'Ada'), partner: person(PARTNER, 'Ben'), paired: true, catching_up: false });
  const shown: { title: string; body: string; onclick?: () => void }[] = [];
  useNotifier({ show: (title, body, onclick) => shown.push({ title, body, onclick }) });
  const opened: unknown[] = [];
  stops.push(await startNodeEvents());
  stops.push(followAttention(() => ({ channel: 'c1'.repeat(16) }), (t) => opened.push(t)));
  return { shown, opened };
}

const node = (e: NodeEvent) => emit(NODE_EVENT, e);

describe('a missed call', () => {
  it('gives one desktop notification that opens the direct conversation', async () => {
    const { shown, opened } = await following();
    const missed = callInfo({ direction: 'incoming', caller: PARTNER, phase: 'ended', outcome: 'missed' });
    await node({ event: 'call', call: { ...missed, phase: 'ringing', outcome: null } });
    await node({ event: 'call', call: missed });
    await node({ event: 'call', call: missed }); // said again (a resync)
    expect(shown.map((n) => n.title)).toEqual(['Missed call from Ben']);
    shown[0]!.onclick?.();
    expect(opened).toEqual(['direct']);
  });

  it('gives none while I am busy, nor for a call I declined', async () => {
    const { shown } = await following();
    presenceBook.set({ person: ME, status: 'busy', last_seen: null, custom_status: null, device: null, updated_at: 0, mood: null, last_nudge: null });
    await node({ event: 'call', call: callInfo({ direction: 'incoming', caller: PARTNER, phase: 'ended', outcome: 'missed' }) });
    presenceBook.set({ person: ME, status: 'online', last_seen: null, custom_status: null, device: null, updated_at: 1, mood: null, last_nudge: null });
    await node({ event: 'call', call: callInfo({ id: 'c2'.repeat(16), direction: 'incoming', caller: PARTNER, phase: 'ended', outcome: 'declined' }) });
    expect(shown).toEqual([]);
  });
});

describe('a "thinking of you" nudge', () => {
  it('gives a desktop notification that opens the direct conversation', async () => {
    const { shown, opened } = await following();
    await node({ event: 'nudged', person: PARTNER, at: 1, silent: false });
    expect(shown.map((n) => n.title)).toEqual(['Ben is thinking of you ♥']);
    shown[0]!.onclick?.();
    expect(opened).toEqual(['direct']);
  });

  it('gives none when it is silent (I am busy)', async () => {
    const { shown } = await following();
    await node({ event: 'nudged', person: PARTNER, at: 1, silent: true });
    expect(shown).toEqual([]);
  });
});

describe("a shared date's reminder", () => {
  it('gives a desktop notification with its title and local time', async () => {
    const { shown, opened } = await following();
    const at = Date.now() + 60 * 60_000;
    await node({ event: 'reminder', id: 'd1'.repeat(16), title: 'Dinner at Lisbon', at, silent: false });
    expect(shown.map((n) => n.title)).toEqual(['⏰ Dinner at Lisbon']);
    expect(shown[0]!.body).toMatch(new RegExp(`at ${clockTime(at)}$`));
    shown[0]!.onclick?.();
    expect(opened).toEqual([]);
  });

  it('gives none when it is silent (I am busy)', async () => {
    const { shown } = await following();
    await node({ event: 'reminder', id: 'd1'.repeat(16), title: 'Dinner at Lisbon', at: Date.now(), silent: true });
    expect(shown).toEqual([]);
  });
});

describe('the desktop around the window', () => {
  it('gets the tray menu and the locked notification text in the window\'s language, and again on a change', async () => {
    const words: unknown[] = [];
    const badges: unknown[] = [];
    mockIPC(
      (cmd, args) => {
        if (cmd === 'set_desktop_words') words.push(args);
        if (cmd === 'set_unread_badge') badges.push(args);
        return null;
      },
      { shouldMockEvents: true },
    );
    stops.push(followAttention(() => null, () => {}));
    await Promise.resolve();
    expect(words.at(-1)).toEqual({ open: 'Open Duet', quit: 'Quit Duet', lockedMessage: 'New message' });
    expect(badges.at(-1)).toEqual({ count: 0, tooltip: null });
    language.choose('fr');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(words.at(-1)).toEqual({ open: 'Ouvrir Duet', quit: 'Quitter Duet', lockedMessage: 'Nouveau message' });
  });
});

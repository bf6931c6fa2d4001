import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';

import { ME, PARTNER } from '../test/messages';
import type { Presence, PresenceStatus } from './backend';
import { PresenceBook } from './presence.svelte';

afterEach(() => clearMocks());

const of = (person: string, status: PresenceStatus): Presence => ({
  person,
  status,
  last_seen: null,
  custom_status: null,
  device: null,
  updated_at: 0,
  mood: null,
  last_nudge: null,
});

describe('the presence book', () => {
  it('keeps an event that arrived while a re-read was on its way', async () => {
    // The node's snapshot was taken before my partner's first "online" arrived.
    let answer: (value: Presence[]) => void = () => {};
    mockIPC((cmd) => (cmd === 'presence' ? new Promise<Presence[]>((resolve) => (answer = resolve)) : null));
    const book = new PresenceBook();
    const loading = book.load();
    await Promise.resolve();
    book.set(of(PARTNER, 'online'));
    answer([of(ME, 'online'), of(PARTNER, 'offline')]);
    await loading;
    expect(book.of(PARTNER)?.status).toBe('online');
    expect(book.of(ME)?.status).toBe('online');
  });

  it('takes a re-read over what was heard before it was asked for', async () => {
    mockIPC((cmd) => (cmd === 'presence' ? [of(PARTNER, 'away')] : null));
    const book = new PresenceBook();
    book.set(of(PARTNER, 'online'));
    await book.load();
    expect(book.of(PARTNER)?.status).toBe('away');
  });
});

import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';

import type { Person, Presence } from '../lib/backend';
import { presenceBook } from '../lib/presence.svelte';
import { ME, PARTNER } from '../test/messages';
import { moodFrom, moodText, thoughtOfYou } from './mood';
import PartnerCard from './PartnerCard.svelte';
import StatusMenu from './StatusMenu.svelte';

afterEach(() => {
  cleanup();
  clearMocks();
});

const maya: Person = { id: ME, display_name: 'Maya', avatar: { emoji: '💛' }, devices: [] };
const ben: Person = { id: PARTNER, display_name: 'Ben', avatar: null, devices: [] };
const presenceOf = (person: string, over: Partial<Presence> = {}): Presence => ({
  person,
  status: 'online',
  last_seen: 0,
  custom_status: null,
  device: null,
  updated_at: 0,
  mood: null,
  last_nudge: null,
  ...over,
});

describe('mood helpers', () => {
  it('shape what is sent and shown', () => {
    expect(moodFrom(' 😴 ', '  ')).toEqual({ emoji: '😴', words: null });
    expect(moodFrom('', 'tired')).toBeNull();
    expect(moodText({ emoji: '😴', words: 'long night' })).toBe('😴 long night');
    const now = Date.now();
    expect(thoughtOfYou(now - 5 * 60_000, now)).toBe('thought of you 5 min ago');
    expect(thoughtOfYou(now - 25 * 3600_000, now)).toBeNull();
    expect(thoughtOfYou(null, now)).toBeNull();
  });
});

describe("my partner's card", () => {
  it('shows their mood and a recent nudge, and sends one', async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      return cmd === 'presence'
        ? [presenceOf(PARTNER, { mood: { emoji: '🥰', words: 'missing you' }, last_nudge: Date.now() - 3 * 60_000 })]
        : null;
    });
    await presenceBook.load();
    render(PartnerCard, { partner: ben, paired: true, oninvite: () => {} });
    expect(screen.getByTestId('partner-mood')).toHaveTextContent('🥰');
    expect(screen.getByTestId('partner-mood')).toHaveTextContent('missing you');
    expect(screen.getByTestId('partner-nudge')).toHaveTextContent('thought of you 3 min ago');
    await fireEvent.click(screen.getByRole('button', { name: /Thinking of you/ }));
    expect(calls).toContain('nudge');
    expect(await screen.findByText('Sent ♥')).toBeInTheDocument();
  });

  it('cannot nudge before pairing', () => {
    render(PartnerCard, { partner: ben, paired: false, oninvite: () => {} });
    expect(screen.getByRole('button', { name: /Thinking of you/ })).toBeDisabled();
  });
});

describe('my mood', () => {
  it('is set from a suggestion, refused in the node’s words, and cleared', async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === 'presence') return [presenceOf(ME)];
      const mood = (args as { mood?: { words: string | null } | null }).mood;
      if (cmd === 'set_mood' && mood?.words && [...mood.words].length > 60) {
        throw { code: 'invalid_input', message: `a mood's words is too long: ${[...mood.words].length} characters, the limit is 60` };
      }
      return null;
    });
    await presenceBook.load();
    render(StatusMenu, { me: maya });
    await fireEvent.click(screen.getByTestId('status-menu'));

    await fireEvent.click(screen.getByRole('button', { name: 'sleepy' }));
    await fireEvent.input(screen.getByRole('textbox', { name: 'Mood words (optional)' }), { target: { value: 'x'.repeat(61) } });
    await fireEvent.click(screen.getByRole('button', { name: 'Set mood' }));
    expect(await screen.findByText("a mood's words is too long: 61 characters, the limit is 60")).toBeInTheDocument();

    await fireEvent.input(screen.getByRole('textbox', { name: 'Mood words (optional)' }), { target: { value: ' long night ' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Set mood' }));
    expect(calls).toContainEqual(['set_mood', { mood: { emoji: '😴', words: 'long night' } }]);
    expect(presenceBook.of(ME)?.mood).toEqual({ emoji: '😴', words: 'long night' });

    await fireEvent.click(screen.getByRole('button', { name: 'Clear mood' }));
    expect(calls).toContainEqual(['set_mood', { mood: null }]);
  });
});

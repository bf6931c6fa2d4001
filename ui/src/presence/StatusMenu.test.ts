import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';

import type { Person, Presence } from '../lib/backend';
import { language } from '../lib/i18n/index.svelte';
import { presenceBook } from '../lib/presence.svelte';
import { ME } from '../test/messages';
import StatusMenu from './StatusMenu.svelte';

afterEach(() => {
  cleanup();
  clearMocks();
  language.choose('system');
});

const maya: Person = { id: ME, display_name: 'Maya', avatar: { emoji: '💛' }, devices: [] };
const mine: Presence = { person: ME, status: 'online', last_seen: 0, custom_status: null, device: null, updated_at: 0, mood: null, last_nudge: null };

function shell() {
  const calls: [string, unknown][] = [];
  mockIPC((cmd, args) => {
    calls.push([cmd, args]);
    return cmd === 'presence' ? [mine] : null;
  });
  return calls;
}

describe('my status menu', () => {
  it('sets busy (no notifications), invisible, and a custom status, and closes on Esc', async () => {
    const calls = shell();
    await presenceBook.load();
    render(StatusMenu, { me: maya });
    const trigger = screen.getByTestId('status-menu');
    expect(trigger).toHaveAccessibleName('Your status: Online. Change it');

    await fireEvent.click(trigger);
    const busy = screen.getByRole('radio', { name: /Busy/ });
    expect(screen.getByText('Do not disturb: no notifications')).toBeInTheDocument();
    await fireEvent.click(busy);
    expect(calls).toContainEqual(['set_status', { status: 'busy', text: null }]);
    expect(trigger).toHaveAccessibleName('Your status: Busy. Change it');

    await fireEvent.click(screen.getByRole('radio', { name: /Invisible/ }));
    expect(calls).toContainEqual(['set_status', { status: 'invisible', text: null }]);

    const custom = screen.getByRole('textbox', { name: 'Custom status' });
    await fireEvent.input(custom, { target: { value: ' at the gym ' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(calls).toContainEqual(['set_status', { status: 'invisible', text: 'at the gym' }]);
    expect(trigger).toHaveAccessibleName('Your status: Invisible, at the gym. Change it');

    await fireEvent.click(screen.getByRole('button', { name: 'Clear' }));
    expect(calls).toContainEqual(['set_status', { status: 'invisible', text: '' }]);

    await fireEvent.keyDown(screen.getByRole('dialog', { name: 'Your status' }), { key: 'Escape' });
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(document.activeElement).toBe(trigger);
  });
});

describe('my status menu in French', () => {
  it('speaks French, and follows a change of language at once', async () => {
    shell();
    await presenceBook.load();
    language.choose('fr');
    render(StatusMenu, { me: maya });
    const trigger = screen.getByTestId('status-menu');
    expect(trigger).toHaveAccessibleName('Votre statut : En ligne. Le changer');

    await fireEvent.click(trigger);
    expect(screen.getByRole('dialog', { name: 'Votre statut' })).toBeInTheDocument();
    expect(screen.getByRole('radio', { name: /Occupé/ })).toBeInTheDocument();
    expect(screen.getByText('Ne pas déranger : aucune notification')).toBeInTheDocument();
    expect(screen.getByRole('textbox', { name: 'Statut personnalisé' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Définir l’humeur' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'amour' })).toBeInTheDocument();

    language.choose('en');
    await tick();
    expect(trigger).toHaveAccessibleName('Your status: Online. Change it');
    expect(screen.getByText('Do not disturb: no notifications')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'in love' })).toBeInTheDocument();
  });
});

import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { language, LANGUAGE_KEY } from '../lib/i18n/index.svelte';
import { startTheme, theme, THEME_KEY } from '../lib/theme.svelte';
import { fakeSystem } from '../lib/themeTesting';
import AppearanceSettings from './AppearanceSettings.svelte';

const attribute = () => document.documentElement.dataset.theme;

beforeEach(() => {
  localStorage.clear();
  delete document.documentElement.dataset.theme;
});

afterEach(() => {
  cleanup();
  language.choose('system');
  theme.stop();
  vi.unstubAllGlobals();
  localStorage.clear();
  delete document.documentElement.dataset.theme;
});

describe('appearance settings', () => {
  it('offers System, Light and Dark as a labelled group, System first and chosen', () => {
    fakeSystem(false);
    startTheme();
    render(AppearanceSettings);
    const group = screen.getByRole('group', { name: 'Theme' });
    const radios = within(group).getAllByRole('radio');
    expect(radios.map((r) => r.getAttribute('value'))).toEqual(['system', 'light', 'dark']);
    expect(within(group).getByRole('radio', { name: 'System' })).toBeChecked();
    expect(within(group).getByRole('radio', { name: 'Light' })).not.toBeChecked();
    expect(within(group).getByRole('radio', { name: 'Dark' })).not.toBeChecked();
    // One name: the arrow keys move between them as one group.
    expect(new Set(radios.map((r) => (r as HTMLInputElement).name)).size).toBe(1);
    expect(group).toHaveAccessibleDescription(/For this device only/);
  });

  it('applies Dark at once and keeps it for the next start', async () => {
    fakeSystem(false);
    startTheme();
    render(AppearanceSettings);
    const group = screen.getByRole('group', { name: 'Theme' });
    await fireEvent.click(within(group).getByRole('radio', { name: 'Dark' }));
    expect(within(group).getByRole('radio', { name: 'Dark' })).toBeChecked();
    expect(within(group).getByRole('radio', { name: 'System' })).not.toBeChecked();
    expect(attribute()).toBe('dark');
    expect(localStorage.getItem(THEME_KEY)).toBe('dark');
  });

  it('shows the choice kept from before', () => {
    fakeSystem(false);
    localStorage.setItem(THEME_KEY, 'light');
    startTheme();
    render(AppearanceSettings);
    expect(screen.getByRole('radio', { name: 'Light' })).toBeChecked();
    expect(attribute()).toBe('light');
  });

  it("says what the computer's setting is now, as it changes", () => {
    const system = fakeSystem(false);
    startTheme();
    render(AppearanceSettings);
    expect(screen.getByTestId('theme-hint')).toHaveTextContent('(light at the moment)');
    system.prefer(true);
    flushSync();
    expect(screen.getByTestId('theme-hint')).toHaveTextContent('(dark at the moment)');
  });

  it('speaks French when chosen, and follows a change of language at once', () => {
    fakeSystem(true);
    startTheme();
    language.choose('fr');
    render(AppearanceSettings);
    expect(screen.getByRole('heading', { name: 'Apparence' })).toBeInTheDocument();
    const group = screen.getByRole('group', { name: 'Thème' });
    expect(within(group).getByRole('radio', { name: 'Système' })).toBeChecked();
    expect(within(group).getByRole('radio', { name: 'Sombre' })).not.toBeChecked();
    expect(screen.getByTestId('theme-hint')).toHaveTextContent('(sombre en ce moment)');
    language.choose('en');
    flushSync();
    expect(within(group).getByRole('radio', { name: 'Dark' })).not.toBeChecked();
    expect(screen.getByTestId('theme-hint')).toHaveTextContent('(dark at the moment)');
  });

  it('switches the whole window to Français from the Language group, and keeps it', async () => {
    fakeSystem(false);
    startTheme();
    await language.start();
    render(AppearanceSettings);
    const group = screen.getByRole('group', { name: 'Language' });
    const radios = within(group).getAllByRole('radio');
    expect(radios.map((r) => r.getAttribute('value'))).toEqual(['system', 'en', 'fr']);
    expect(within(group).getByRole('radio', { name: 'System' })).toBeChecked();
    await fireEvent.click(within(group).getByRole('radio', { name: 'Français' }));
    expect(localStorage.getItem(LANGUAGE_KEY)).toBe('fr');
    expect(document.documentElement.lang).toBe('fr');
    const french = screen.getByRole('group', { name: 'Langue' });
    expect(within(french).getByRole('radio', { name: 'Français' })).toBeChecked();
    expect(screen.getByRole('heading', { name: 'Apparence' })).toBeInTheDocument();
    // Each language keeps its own name; System is said in the window's language.
    expect(within(french).getByRole('radio', { name: 'English' })).not.toBeChecked();
    expect(within(french).getByRole('radio', { name: 'Système' })).not.toBeChecked();
    await fireEvent.click(within(french).getByRole('radio', { name: 'English' }));
    expect(screen.getByRole('heading', { name: 'Appearance' })).toBeInTheDocument();
  });
});

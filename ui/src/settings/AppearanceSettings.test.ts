import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

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
    await fireEvent.click(screen.getByRole('radio', { name: 'Dark' }));
    expect(screen.getByRole('radio', { name: 'Dark' })).toBeChecked();
    expect(screen.getByRole('radio', { name: 'System' })).not.toBeChecked();
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
});

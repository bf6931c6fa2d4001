/**
 * The theme choice (`theme.svelte.ts`): applied to `<html data-theme>`, kept in localStorage,
 * read again at start, and the system's preference followed.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { startTheme, theme, THEME_KEY } from './theme.svelte';
import { fakeSystem } from './themeTesting';

const attribute = () => document.documentElement.dataset.theme;

beforeEach(() => {
  localStorage.clear();
  delete document.documentElement.dataset.theme;
});

afterEach(() => {
  theme.stop();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  localStorage.clear();
  delete document.documentElement.dataset.theme;
});

describe('the theme choice', () => {
  it('is System on a first start', () => {
    const system = fakeSystem(false);
    expect(startTheme()).toBe('system');
    expect(system.asked).toEqual(['(prefers-color-scheme: dark)']);
    expect(attribute()).toBe('system');
    expect(theme.effective).toBe('light');
  });

  it('applies Dark at once and keeps it', () => {
    fakeSystem(false);
    startTheme();
    theme.choose('dark');
    expect(attribute()).toBe('dark');
    expect(theme.choice).toBe('dark');
    expect(theme.effective).toBe('dark');
    expect(localStorage.getItem(THEME_KEY)).toBe('dark');
  });

  it('comes back at the next start (a reload runs startTheme again)', async () => {
    fakeSystem(true);
    startTheme();
    theme.choose('light');

    // A reload: a fresh page (no attribute) and a fresh module; only what was kept remains.
    delete document.documentElement.dataset.theme;
    vi.resetModules();
    const reloaded = await import('./theme.svelte');
    expect(reloaded.theme).not.toBe(theme);
    expect(reloaded.theme.choice).toBe('system');
    expect(reloaded.startTheme()).toBe('light');
    expect(attribute()).toBe('light');
    expect(reloaded.theme.effective).toBe('light'); // even though the system prefers dark
    reloaded.theme.stop();
  });

  it.each([['sepia'], [''], ['"dark"'], ['Dark'], ['undefined']])('falls back to System for a stored %j', (value) => {
    fakeSystem(false);
    localStorage.setItem(THEME_KEY, value);
    expect(startTheme()).toBe('system');
    expect(attribute()).toBe('system');
  });

  it('follows the system while System is chosen, and not when a theme is', () => {
    const system = fakeSystem(false);
    startTheme();
    expect(theme.effective).toBe('light');

    system.prefer(true);
    expect(theme.systemDark).toBe(true);
    expect(theme.effective).toBe('dark');
    expect(attribute()).toBe('system'); // the CSS follows the system by itself

    theme.choose('light');
    expect(theme.effective).toBe('light');
    system.prefer(false);
    system.prefer(true);
    expect(theme.effective).toBe('light');

    theme.choose('system');
    expect(theme.effective).toBe('dark');
    system.prefer(false);
    expect(theme.effective).toBe('light');
  });

  it('listens once however often it is started, and stops listening', () => {
    const system = fakeSystem(true);
    startTheme();
    startTheme();
    expect(system.listeners.size).toBe(1);
    expect(theme.systemDark).toBe(true);
    theme.stop();
    expect(system.listeners.size).toBe(0);
  });

  it('still applies a choice when storage is refused, and starts as System then', () => {
    fakeSystem(false);
    vi.spyOn(Storage.prototype, 'getItem').mockImplementation(() => {
      throw new DOMException('denied', 'SecurityError');
    });
    vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('denied', 'SecurityError');
    });
    expect(startTheme()).toBe('system');
    theme.choose('dark');
    expect(attribute()).toBe('dark');
  });

  it('starts without matchMedia (an engine without it): the CSS alone follows the system', () => {
    vi.stubGlobal('matchMedia', undefined);
    localStorage.setItem(THEME_KEY, 'dark');
    expect(startTheme()).toBe('dark');
    expect(attribute()).toBe('dark');
  });
});

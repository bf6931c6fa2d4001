import { afterEach, describe, expect, it, vi } from 'vitest';

import { en } from './en';
import { fr } from './fr';
import { formats, language, LANGUAGE_KEY, systemLanguage, t } from './index.svelte';

type Tree = { [key: string]: string | Tree };

/** Every leaf as `dotted.path → text`. */
function leaves(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    if (typeof value === 'string') out.set(prefix + key, value);
    else for (const [k, v] of leaves(value, `${prefix}${key}.`)) out.set(k, v);
  }
  return out;
}

const placeholders = (text: string) => [...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();

afterEach(() => {
  language.choose('system');
  localStorage.clear();
});

describe('the catalogs', () => {
  const english = leaves(en as Tree);
  const french = leaves(fr as Tree);

  it('have the same keys in every language', () => {
    expect([...french.keys()].sort()).toEqual([...english.keys()].sort());
  });

  it('put in the same placeholders in every language, and no string is empty', () => {
    for (const [key, text] of english) {
      const translated = french.get(key) ?? '';
      expect(translated.trim(), key).not.toBe('');
      expect(placeholders(translated), key).toEqual(placeholders(text));
    }
  });
});

describe('t', () => {
  it('speaks the chosen language at once, and keeps the choice', () => {
    expect(t('common.cancel')).toBe('Cancel');
    language.choose('fr');
    expect(t('common.cancel')).toBe('Annuler');
    expect(document.documentElement.lang).toBe('fr');
    expect(localStorage.getItem(LANGUAGE_KEY)).toBe('fr');
    language.choose('en');
    expect(t('common.cancel')).toBe('Cancel');
  });

  it('reads a stored choice at start, and takes a garbled one for System', async () => {
    localStorage.setItem(LANGUAGE_KEY, 'fr');
    await language.start();
    expect(language.current).toBe('fr');
    localStorage.setItem(LANGUAGE_KEY, 'klingon');
    await language.start();
    expect(language.current).toBe(systemLanguage());
    expect(language.choice).toBe('system');
  });

  it('loads French the first time the window speaks it, saying it in English until then', async () => {
    // A module of its own, as a window starts: no catalog but English loaded yet.
    vi.resetModules();
    const fresh = await import('./index.svelte');
    fresh.language.choose('fr');
    expect(fresh.t('common.cancel')).toBe('Cancel');
    await fresh.language.ready();
    expect(fresh.t('common.cancel')).toBe('Annuler');
    fresh.language.choose('system');
  });

  it('starts in a stored French with its catalog already loaded', async () => {
    vi.resetModules();
    const fresh = await import('./index.svelte');
    localStorage.setItem(LANGUAGE_KEY, 'fr');
    await fresh.language.start();
    expect(fresh.t('common.cancel')).toBe('Annuler');
    fresh.language.choose('system');
  });
});

describe('System', () => {
  it('is French when the computer speaks French first, else English', () => {
    expect(systemLanguage(['fr-CA', 'en-US'])).toBe('fr');
    expect(systemLanguage(['fr'])).toBe('fr');
    expect(systemLanguage(['en-GB', 'fr-FR'])).toBe('en');
    expect(systemLanguage(['de-DE'])).toBe('en');
    expect(systemLanguage(['frr'])).toBe('en');
    expect(systemLanguage([])).toBe('en');
  });

  it('writes dates with the computer region when it speaks the chosen language', () => {
    const evening = new Date(2026, 8, 7, 21, 5).getTime();
    language.choose('en');
    expect(navigator.language).toBe('en-US'); // jsdom's
    expect(formats().time(evening)).toBe('9:05 PM');
    expect(formats().date(evening, { year: true })).toBe('September 7, 2026');
    language.choose('fr');
    expect(formats().time(evening)).toBe('21:05');
    expect(formats().date(evening, { year: true })).toBe('7 septembre 2026');
  });
});

describe('plurals and placeholders', () => {
  it('choose the form by count with the language’s own rules', () => {
    language.choose('en');
    expect(t('chat.pinned.heading', { count: 1 })).toBe('Pinned (1)');
    expect(t('chat.pinned.heading', { count: 0 })).toBe('Pinned (0)');
    expect(t('chat.pinned.heading', { count: 3 })).toBe('Pinned (3)');
    language.choose('fr');
    // French says the singular for zero too.
    expect(t('chat.pinned.heading', { count: 0 })).toBe('Épinglé (0)');
    expect(t('chat.pinned.heading', { count: 1 })).toBe('Épinglé (1)');
    expect(t('chat.pinned.heading', { count: 2 })).toBe('Épinglés (2)');
    // A form the catalog does not have (French "many", for millions) reads as "other".
    expect(t('chat.pinned.heading', { count: 1_000_000 })).toBe('Épinglés (1000000)');
  });

  it('put values in, a missing one as nothing, and a key no catalog has as itself', () => {
    language.choose('en');
    expect(t('app.layout.spaceName', { me: 'Maya', partner: 'Ben' })).toBe('Maya & Ben');
    expect(t('app.layout.spaceName', { me: 'Maya' })).toBe('Maya & ');
    // A value that looks like a placeholder is put in as it is, not read again.
    expect(t('app.layout.withName', { name: '{{name}}' })).toBe('with {{name}}');
    expect(t('no.such.key' as never)).toBe('no.such.key');
  });
});

import { afterEach, describe, expect, it } from 'vitest';

import { en } from './en';
import { fr } from './fr';
import { intlLocale, language, LANGUAGE_KEY, systemLanguage, t } from './index.svelte';

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

  it('reads a stored choice at start, and takes a garbled one for System', () => {
    localStorage.setItem(LANGUAGE_KEY, 'fr');
    expect(language.start()).toBe('fr');
    localStorage.setItem(LANGUAGE_KEY, 'klingon');
    expect(language.start()).toBe(systemLanguage());
    expect(language.choice).toBe('system');
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

  it('formats dates with the computer region when it speaks the chosen language', () => {
    language.choose('en');
    expect(intlLocale()).toBe(navigator.language); // jsdom: en-US
    language.choose('fr');
    expect(intlLocale()).toBe('fr');
  });
});

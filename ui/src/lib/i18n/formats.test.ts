import { describe, expect, it } from 'vitest';

import { formatsFor, pluralForm } from './formats';
import type { Language } from './index.svelte';

/**
 * Duet's tables against `Intl` (Node's ICU) for the regions they name: where CLDR writes each
 * kind of date the same way, Duet writes it as CLDR does; where Duet decided otherwise
 * (formats.ts says which), the tests say what it writes instead.
 */

/** A fixed sequence of moments from 1990 to 2040, the same at every run. */
function moments(count: number): number[] {
  let seed = 0x2545f491;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const from = new Date(1990, 0, 1).getTime();
  const to = new Date(2040, 0, 1).getTime();
  return Array.from({ length: count }, () => Math.floor(from + next() * (to - from)));
}

const MOMENTS = [...moments(400), new Date(2026, 8, 1, 0, 5).getTime(), new Date(2026, 11, 31, 12, 0).getTime()];

const LOCALES: [Language, string][] = [
  ['en', 'en'],
  ['en', 'en-US'],
  ['en', 'en-GB'],
  ['en', 'en-AU'],
  ['en', 'en-CA'],
  ['en', 'en-NZ'],
  ['en', 'en-IE'],
  ['en', 'en-IN'],
  ['en', 'en-SG'],
  ['fr', 'fr'],
  ['fr', 'fr-FR'],
  ['fr', 'fr-BE'],
  ['fr', 'fr-CA'],
  ['fr', 'fr-CH'],
];

/** Where CLDR writes a weekday's date as Duet does (its commas vary from region to region). */
const SAME_WEEKDAY_DATES = ['en', 'en-US', 'en-CA', 'en-AU', 'fr', 'fr-FR', 'fr-BE', 'fr-CA'];
/** Where CLDR's short months are Duet's (en-GB's and en-AU's "Sept", fr-CA's "juill." are not). */
const SAME_SHORT_MONTHS = ['en', 'en-US', 'en-CA', 'fr', 'fr-FR', 'fr-BE', 'fr-CH'];

/** French's "1er" is Duet's; CLDR writes "1". */
const asCldr = (text: string) => text.replace(/(^|\s)1er(?=\s)/, (_, before: string) => `${before}1`);

describe('dates and times as CLDR writes them', () => {
  for (const [lang, locale] of LOCALES) {
    const f = formatsFor(lang, locale);
    it(`in ${locale}`, () => {
      for (const ms of MOMENTS) {
        const d = new Date(ms);
        expect(f.time(ms)).toBe(d.toLocaleTimeString(locale, { timeStyle: 'short' }));
        expect(f.weekday(ms)).toBe(d.toLocaleDateString(locale, { weekday: 'long' }));
        expect(asCldr(f.date(ms, {}))).toBe(d.toLocaleDateString(locale, { day: 'numeric', month: 'long' }));
        expect(asCldr(f.date(ms, { year: true }))).toBe(d.toLocaleDateString(locale, { day: 'numeric', month: 'long', year: 'numeric' }));
        expect(f.monthYear(ms)).toBe(d.toLocaleDateString(locale, { month: 'long', year: 'numeric' }));
        expect(f.dateTime(ms)).toBe(`${f.date(ms, { weekday: true, month: 'short', year: true })}, ${f.time(ms)}`);
        if (!SAME_WEEKDAY_DATES.includes(locale)) continue;
        expect(asCldr(f.date(ms, { weekday: true }))).toBe(d.toLocaleDateString(locale, { weekday: 'short', day: 'numeric', month: 'long' }));
        expect(asCldr(f.date(ms, { weekday: true, year: true }))).toBe(
          d.toLocaleDateString(locale, { weekday: 'short', day: 'numeric', month: 'long', year: 'numeric' }),
        );
      }
      if (!SAME_SHORT_MONTHS.includes(locale)) return;
      for (const ms of MOMENTS) {
        const d = new Date(ms);
        expect(asCldr(f.date(ms, { month: 'short', year: true }))).toBe(d.toLocaleDateString(locale, { day: 'numeric', month: 'short', year: 'numeric' }));
      }
    });
  }

  it('where Duet writes its own way', () => {
    const sept = new Date(2026, 8, 7, 9, 5).getTime();
    const gb = formatsFor('en', 'en-GB');
    // One shape for every English date that puts the day first, and "Sep" everywhere.
    expect(gb.date(sept, { weekday: true })).toBe('Mon 7 September');
    expect(gb.date(sept, { weekday: true, year: true })).toBe('Mon 7 September 2026');
    expect(gb.dateTime(sept)).toBe('Mon 7 Sep 2026, 09:05');
    expect(formatsFor('en', 'en-US').dateTime(sept)).toBe('Mon, Sep 7, 2026, 9:05 AM');
    // The first of the month in French.
    expect(formatsFor('fr', 'fr-FR').date(new Date(2026, 8, 1).getTime(), { year: true })).toBe('1er septembre 2026');
    expect(formatsFor('fr', 'fr-FR').date(new Date(2026, 8, 11).getTime(), {})).toBe('11 septembre');
    // A region the tables do not name: its language's defaults.
    expect(formatsFor('en', 'en-ZZ').time(sept)).toBe('09:05');
    expect(formatsFor('en', 'en').time(sept)).toBe('9:05 AM');
    expect(formatsFor('fr', 'fr-CA').date(new Date(2026, 6, 14).getTime(), { month: 'short' })).toBe('14 juil.');
    expect(formatsFor('fr', 'fr-LU').number(1234.5, 1)).toBe('1\u202f234,5');
  });
});

describe('numbers as CLDR writes them', () => {
  const values = [0, 7, 42, 999, 1000, 1234, 12_345, 123_456, 1_234_567, 98_765_432.1, 2.25, 0.05, 9.95, 1_048_576 / 3];
  for (const [lang, locale] of LOCALES) {
    it(`in ${locale}`, () => {
      const f = formatsFor(lang, locale);
      // Negative values as far as they do not round to zero (`Intl` writes "-0.0"; Duet's
      // counts and sizes are never negative).
      for (const v of [...values, ...values.filter((x) => x >= 1).map((x) => -x)]) {
        expect(f.number(Math.round(v))).toBe(Math.round(v).toLocaleString(locale));
        for (const digits of [0, 1, 2]) {
          const opts = { minimumFractionDigits: digits, maximumFractionDigits: digits };
          expect(f.number(v, digits)).toBe(v.toLocaleString(locale, opts));
          expect(f.number(v, digits, false)).toBe(v.toLocaleString(locale, { ...opts, useGrouping: false }));
        }
      }
    });
  }
});

describe('plural forms as CLDR chooses them', () => {
  for (const lang of ['en', 'fr'] as const) {
    it(`in ${lang}`, () => {
      const rules = new Intl.PluralRules(lang);
      const counts = [0, 1, 1.5, 2, 3, 11, 21, 100, 101, 999_999, 1_000_000, 1_500_000, 2_000_000, 0.5, 1.99];
      for (let n = 0; n < 300; n += 1) counts.push(n);
      for (const n of counts) expect(pluralForm(lang, n), `${n}`).toBe(rules.select(n));
    });
  }
});

/**
 * Dates, times, numbers and plural forms the way the window's language and the computer's
 * region write them, from Duet's own tables instead of `Intl` and `toLocale…String`.
 *
 * Why its own: calling `Intl` at all maps ICU's formatting code and locale data into the web
 * process and keeps its formatters' memory, 2.1–2.4 MB of the window's PSS for a page that
 * shows the same few shapes of date on every row (docs/desktop-app.md, "Dates and times
 * without Intl"). Duet speaks two languages, and what it writes is small: a clock time, a
 * weekday, a day and month with or without the weekday and the year, a month and year, whole
 * and decimal numbers, and the plural form of a count. So the tables are small too: each
 * language's month and weekday names and plural rule, and per region the clock (12 or
 * 24 hours), which of day and month comes first in English, and how numbers are grouped.
 *
 * What the tables follow is CLDR's usual form for each (the unit test compares them with
 * `Intl`'s for the regions below), with three decisions of Duet's own: one shape per kind of
 * date in a language (CLDR varies the commas from region to region, "Mon 7 September" beside
 * "Mon, 7 September 2026" in en-GB); each language's short months are the same everywhere
 * ("Sep", not en-GB's "Sept" or en-AU's "Sept", "June" and "July"; "juil.", not fr-CA's
 * "juill."); French writes the first of the month "1er", as French does. A region the
 * tables do not name takes its language's defaults (English: the United States' clock and
 * order; French: France's).
 */
import { local } from '../localTime.svelte';
import type { Language } from './index.svelte';

export type PluralForm = 'one' | 'many' | 'other';

/** How one of Duet's languages writes dates (its names, indexed by `Date`'s months and days) and its plural rule. */
interface LanguageTable {
  months: readonly string[];
  monthsShort: readonly string[];
  /** Sunday first, as `Date.getDay()` counts. */
  weekdays: readonly string[];
  weekdaysShort: readonly string[];
  plural: (n: number) => PluralForm;
}

const LANGUAGES: Record<Language, LanguageTable> = {
  en: {
    months: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
    monthsShort: ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'],
    weekdays: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'],
    weekdaysShort: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'],
    // CLDR: "one" for 1 itself (not 1.5, not 0).
    plural: (n) => (n === 1 ? 'one' : 'other'),
  },
  fr: {
    months: ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'],
    monthsShort: ['janv.', 'févr.', 'mars', 'avr.', 'mai', 'juin', 'juil.', 'août', 'sept.', 'oct.', 'nov.', 'déc.'],
    weekdays: ['dimanche', 'lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi'],
    weekdaysShort: ['dim.', 'lun.', 'mar.', 'mer.', 'jeu.', 'ven.', 'sam.'],
    // CLDR: "one" below 2 (0, 1, 1.5), "many" for whole millions ("1 million de messages").
    plural: (n) => {
      const abs = Math.abs(n);
      if (abs < 2) return 'one';
      return Number.isInteger(abs) && abs % 1_000_000 === 0 ? 'many' : 'other';
    },
  },
};

/** Regions whose English puts the month first ("September 7, 2026"). */
const MONTH_FIRST = new Set(['US', 'CA', 'PH', 'PR', 'GU', 'AS', 'MP', 'UM', 'VI']);

/** Regions whose English counts the hours in twelves, with how it writes the half of the day. */
const TWELVE_HOURS: Record<string, readonly [string, string]> = {
  US: ['AM', 'PM'],
  PH: ['AM', 'PM'],
  PR: ['AM', 'PM'],
  CA: ['a.m.', 'p.m.'],
  AU: ['am', 'pm'],
  NZ: ['am', 'pm'],
  IN: ['am', 'pm'],
  PK: ['am', 'pm'],
  BD: ['am', 'pm'],
  SG: ['am', 'pm'],
  MY: ['am', 'pm'],
};

/** A narrow no-break space: between groups of French digits. */
const NARROW_SPACE = '\u202f';
const NO_BREAK_SPACE = '\u00a0';

/** How the window writes dates, times, numbers and plural forms. */
export interface Formats {
  /** A clock time as each writes a short time: "2:05 PM" (United States), "14:05" (United Kingdom, France), "14 h 05" (Canadian French). */
  time(ms: number): string;
  /** The day of the week: "Monday", "lundi". */
  weekday(ms: number): string;
  /**
   * A date: "September 7" or "7 September", with the weekday first ("Mon, September 7",
   * "lun. 7 septembre"), the short month ("Sep 7") and the year when asked for.
   */
  date(ms: number, parts: { weekday?: boolean; month?: 'long' | 'short'; year?: boolean }): string;
  /** A full date and time, for tooltips: "Mon, Sep 7, 2026, 2:05 PM". */
  dateTime(ms: number): string;
  /** A month and its year: "September 2026", "septembre 2026". */
  monthYear(ms: number): string;
  /** A number with `digits` decimals (0: rounded to whole): "1,234", "2.4", "1 234", "2,4". */
  number(n: number, digits?: number, grouping?: boolean): string;
}

/** Which plural form of a string `count` takes in `lang` (the catalogs' `_one`, `_many`, `_other`). */
export function pluralForm(lang: Language, count: number): PluralForm {
  return LANGUAGES[lang].plural(count);
}

/** The region of a locale tag ("en-GB" → "GB", "fr-Latn-CA" → "CA"), if it names one. */
function regionOf(locale: string): string | undefined {
  const parts = locale.split(/[-_]/).slice(1);
  return parts.find((p) => /^([A-Za-z]{2}|\d{3})$/.test(p))?.toUpperCase();
}

/**
 * `abs` (≥ 0) with `digits` decimals, rounded half away from zero on its shortest decimal
 * form, as `Intl` rounds: 9.95 is "10.0" (`toFixed` says "9.9", rounding the binary value
 * just under 9.95).
 */
function fixed(abs: number, digits: number): string {
  const shortest = String(abs);
  if (shortest.includes('e')) return abs.toFixed(digits);
  const [whole = '', fraction = ''] = shortest.split('.');
  if (fraction.length <= digits) return digits === 0 ? whole : `${whole}.${fraction.padEnd(digits, '0')}`;
  let kept = BigInt(whole + fraction.slice(0, digits));
  if (fraction.charAt(digits) >= '5') kept += 1n;
  const text = kept.toString().padStart(digits + 1, '0');
  return digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

function twoDigits(n: number): string {
  return String(n).padStart(2, '0');
}

/** `digits` of a whole number cut in groups from the right: threes, or India's three then twos. */
function group(whole: string, separator: string, indian: boolean): string {
  if (whole.length <= 3) return whole;
  const last = whole.slice(-3);
  let rest = whole.slice(0, -3);
  const size = indian ? 2 : 3;
  const groups: string[] = [];
  while (rest.length > size) {
    groups.unshift(rest.slice(-size));
    rest = rest.slice(0, -size);
  }
  groups.unshift(rest);
  return `${groups.join(separator)}${separator}${last}`;
}

function build(lang: Language, region: string | undefined): Formats {
  const names = LANGUAGES[lang];
  const english = lang === 'en';
  // English with no region reads as the United States', as `Intl` does.
  const place = region ?? (english ? 'US' : undefined);
  const monthFirst = english && place !== undefined && MONTH_FIRST.has(place);
  const halves = english && place !== undefined ? TWELVE_HOURS[place] : undefined;
  const canadianFrench = !english && place === 'CA';
  const groupSeparator = english ? ',' : canadianFrench ? NO_BREAK_SPACE : NARROW_SPACE;
  const decimalSeparator = english ? '.' : ',';

  const time = (ms: number): string => {
    const d = local(ms);
    const h = d.hours;
    const m = twoDigits(d.minutes);
    if (halves) return `${h % 12 === 0 ? 12 : h % 12}:${m} ${h < 12 ? halves[0] : halves[1]}`;
    if (canadianFrench) return `${twoDigits(h)} h ${m}`;
    return `${twoDigits(h)}:${m}`;
  };

  const date: Formats['date'] = (ms, { weekday = false, month = 'long', year = false }) => {
    const d = local(ms);
    const monthName = (month === 'long' ? names.months : names.monthsShort)[d.month]!;
    const day = d.day;
    const dayName = names.weekdaysShort[d.weekday]!;
    if (monthFirst) {
      const core = `${monthName} ${day}${year ? `, ${d.year}` : ''}`;
      return weekday ? `${dayName}, ${core}` : core;
    }
    const dayText = !english && day === 1 ? '1er' : String(day);
    const core = `${dayText} ${monthName}${year ? ` ${d.year}` : ''}`;
    return weekday ? `${dayName} ${core}` : core;
  };

  return {
    time,
    weekday: (ms) => names.weekdays[local(ms).weekday]!,
    date,
    dateTime: (ms) => `${date(ms, { weekday: true, month: 'short', year: true })}, ${time(ms)}`,
    monthYear: (ms) => {
      const d = local(ms);
      return `${names.months[d.month]!} ${d.year}`;
    },
    number: (n, digits = 0, grouping = true) => {
      if (!Number.isFinite(n)) return String(n);
      const text = fixed(Math.abs(n), digits);
      const [whole = '', fraction] = text.split('.');
      const grouped = grouping ? group(whole, groupSeparator, english && place === 'IN') : whole;
      const sign = n < 0 && Number(text) !== 0 ? '-' : '';
      return `${sign}${grouped}${fraction === undefined ? '' : decimalSeparator + fraction}`;
    },
  };
}

const made = new Map<string, Formats>();

/** The formats of `lang` as written in `locale`'s region (the computer's own tag when it speaks `lang`, else `lang`). */
export function formatsFor(lang: Language, locale: string): Formats {
  const key = `${lang} ${locale}`;
  let formats = made.get(key);
  if (!formats) {
    formats = build(lang, regionOf(locale));
    made.set(key, formats);
  }
  return formats;
}

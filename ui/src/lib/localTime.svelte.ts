/**
 * The computer's local time, read from the time zone's offsets the app gives the page, not
 * from `Date`'s local methods.
 *
 * Why: the first of `Date`'s local methods a page calls (`getHours`, `setHours`,
 * `new Date(y, m, d)`, `getTimezoneOffset`…) has JavaScriptCore open the time zone through ICU,
 * which maps ~1.4 MB of ICU's code and zone data into the web process for as long as it runs
 * (docs/desktop-app.md, "Dates and times without Intl"). The app already knows the zone, so it
 * writes its offsets from UTC from 1900 to 2100 into the page before the page's script runs
 * (`globalThis.__DUET_ZONE__`, `src-tauri/src/zone.rs`), as `[instant in ms, offset in s]` pairs,
 * one per change, oldest first. Where there is no app (the unit tests, the browser preview) the
 * offsets come from `Date` itself, so both read the same.
 *
 * When the computer's zone changes while Duet runs (it travelled, or its zone rules were
 * updated), the app writes the new table within a minute and says so with a `duet-zone`
 * event; every time drawn through `local` is drawn again, as it reads the table's version.
 */

declare global {
  var __DUET_ZONE__: readonly (readonly [number, number])[] | undefined;
}

/** A moment's fields on the local calendar and clock. */
export interface LocalDate {
  year: number;
  /** 0 (January) to 11, as `Date` counts. */
  month: number;
  day: number;
  /** 0 (Sunday) to 6, as `Date` counts. */
  weekday: number;
  hours: number;
  minutes: number;
}

/** Counts the tables the app has written since the page started, so readers of `local` redraw. */
let version = $state(0);
globalThis.addEventListener?.('duet-zone', () => {
  version += 1;
});

/** The local offset from UTC at `ms`, in seconds. */
function offsetAt(ms: number): number {
  void version;
  const zone = globalThis.__DUET_ZONE__;
  if (zone === undefined || zone.length === 0) return -new Date(ms).getTimezoneOffset() * 60;
  // The last change at or before `ms` (before the first: the first's offset).
  let low = 0;
  let high = zone.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (zone[mid]![0] <= ms) low = mid;
    else high = mid - 1;
  }
  return zone[low]![1];
}

/** `ms`'s local fields. */
export function local(ms: number): LocalDate {
  const d = new Date(ms + offsetAt(ms) * 1000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth(),
    day: d.getUTCDate(),
    weekday: d.getUTCDay(),
    hours: d.getUTCHours(),
    minutes: d.getUTCMinutes(),
  };
}

const DAY_MS = 86_400_000;

/**
 * The instant of a local date and clock time, as `new Date(year, month, day, hours, minutes)`
 * reads them: fields past their range carry over (day 32 is the next month's 1st), a time a
 * clock change skipped is read with the offset before it (02:30 on a spring-forward night is
 * 03:30), and a time that happened twice is the first. Years 0–99 are those years, not 19xx.
 */
export function fromLocal(year: number, month: number, day: number, hours = 0, minutes = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month, day);
  d.setUTCHours(hours, minutes, 0, 0);
  const wall = d.getTime();
  if (!Number.isFinite(wall)) return NaN;
  // A zone changes its offset at most once in any two days: the offsets a day either side are
  // the only ones this wall time can have.
  const before = offsetAt(wall - DAY_MS);
  const after = offsetAt(wall + DAY_MS);
  const early = wall - before * 1000;
  const late = wall - after * 1000;
  const earlyHolds = offsetAt(early) === before;
  const lateHolds = offsetAt(late) === after;
  if (earlyHolds && lateHolds) return Math.min(early, late);
  if (lateHolds) return late;
  return early;
}

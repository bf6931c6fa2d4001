/** Times as people read them: "14:05", "Today", "last seen 5 min ago", "since yesterday at 14:05". */
import { formats, t } from './i18n/index.svelte';
import { fromLocal, local } from './localTime.svelte';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A local calendar day, as `YYYY-MM-DD`, for grouping. */
export function dayKey(ms: number): string {
  const d = local(ms);
  return `${d.year}-${String(d.month + 1).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
}

function startOfDay(ms: number): number {
  const d = local(ms);
  return fromLocal(d.year, d.month, d.day);
}

/** Milliseconds from `ms` to the next local midnight (23 or 25 hours away on a clock change). */
export function untilMidnight(ms: number): number {
  const d = local(ms);
  return fromLocal(d.year, d.month, d.day + 1) - ms;
}

/** A day separator's label: "Today", "Yesterday", a weekday this week, else a date. */
export function dayLabel(ms: number, now: number): string {
  const days = Math.round((startOfDay(now) - startOfDay(ms)) / DAY);
  if (days === 0) return t('lib.time.today');
  if (days === 1) return t('lib.time.yesterday');
  if (days > 1 && days < 7) return formats().weekday(ms);
  return formats().date(ms, { weekday: true, year: !sameYear(ms, now) });
}

function sameYear(ms: number, now: number): boolean {
  return local(ms).year === local(now).year;
}

/** The clock time of a message: "14:05", "2:05 PM". */
export function clockTime(ms: number): string {
  return formats().time(ms);
}

/** A full date and time, for tooltips. */
export function fullTime(ms: number): string {
  return formats().dateTime(ms);
}

/** How long ago, in words: "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago". */
export function ago(ms: number, now: number): string {
  const diff = Math.max(0, now - ms);
  if (diff < MINUTE) return t('lib.time.ago.justNow');
  if (diff < HOUR) return t('lib.time.ago.minutes', { count: Math.floor(diff / MINUTE) });
  if (diff < DAY) return t('lib.time.ago.hours', { count: Math.floor(diff / HOUR) });
  const days = Math.round((startOfDay(now) - startOfDay(ms)) / DAY);
  if (days <= 1) return t('lib.time.ago.yesterday');
  if (days < 30) return t('lib.time.ago.days', { count: days });
  return t('lib.time.ago.onDate', { date: formats().date(ms, { year: true }) });
}

/**
 * Since when, for a moment gone: "14:05" today, "yesterday at 14:05", "Monday at 14:05" this
 * week, else its date: "14 June" (with the year when not this year). As in "Offline since 14:05".
 */
export function sinceLabel(ms: number, now: number): string {
  const days = Math.round((startOfDay(now) - startOfDay(ms)) / DAY);
  const time = clockTime(ms);
  // A clock a little ahead of this one still means today.
  if (days <= 0) return t('lib.time.since.today', { time });
  if (days === 1) return t('lib.time.since.yesterday', { time });
  if (days < 7) return t('lib.time.since.weekday', { day: formats().weekday(ms), time });
  return t('lib.time.since.date', { date: formats().date(ms, { year: !sameYear(ms, now) }) });
}

/**
 * A moment to come (or just gone), in words: "Today at 19:00", "Tomorrow at 09:30",
 * "Yesterday at 21:00", else its date: "Sat 14 June at 19:00" (with the year when not this year).
 */
export function momentLabel(ms: number, now: number): string {
  const days = Math.round((startOfDay(ms) - startOfDay(now)) / DAY);
  const time = clockTime(ms);
  if (days === 0) return t('lib.time.moment.today', { time });
  if (days === 1) return t('lib.time.moment.tomorrow', { time });
  if (days === -1) return t('lib.time.moment.yesterday', { time });
  const date = formats().date(ms, { weekday: true, year: !sameYear(ms, now) });
  return t('lib.time.moment.date', { date, time });
}

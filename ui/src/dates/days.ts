/**
 * The small arithmetic of our dates, kept pure for tests: how many days we have been
 * together, calendar days to and from `<input type="date">`, a local day and time to an
 * instant, and a reminder's lead time in words.
 */
import type { CalendarDate } from '../lib/backend';

const DAY_MS = 86_400_000;

/** A calendar day as days since 1970-01-01 (no zone: counted on the UTC calendar). */
function dayNumber(year: number, month: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(0, 0, 0, 0);
  return Math.round(d.getTime() / DAY_MS);
}

/**
 * Whole days from `since` to today's local date (`today` read in local time): the next
 * calendar day is 1. Negative when `since` is still to come.
 */
export function daysTogether(since: CalendarDate, today: Date): number {
  return (
    dayNumber(today.getFullYear(), today.getMonth() + 1, today.getDate()) - dayNumber(since.year, since.month, since.day)
  );
}

const COUNT = new Intl.NumberFormat('en-US');

/** The partner card's line: "Together 1,271 days"; `null` for a day still to come. */
export function togetherLabel(days: number): string | null {
  if (days < 0) return null;
  if (days === 0) return 'Together since today';
  return `Together ${COUNT.format(days)} ${days === 1 ? 'day' : 'days'}`;
}

/** A calendar day as `<input type="date">` holds it: "2021-06-12" (`''` for none). */
export function calendarText(date: CalendarDate | null | undefined): string {
  if (!date) return '';
  return `${String(date.year).padStart(4, '0')}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
}

/** What `<input type="date">` holds ("2021-06-12") as a calendar day; `null` when empty or not a day. */
export function parseCalendar(text: string): CalendarDate | null {
  const m = /^(\d{4,})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (!m) return null;
  return { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
}

/**
 * The instant (ms UTC) of a local day and clock time, as the date and time inputs hold them
 * ("2026-02-14", "19:30"); `null` when either is empty or not readable.
 */
export function localInstant(day: string, time: string): number | null {
  const date = parseCalendar(day);
  const t = /^(\d{1,2}):(\d{2})/.exec(time.trim());
  if (!date || !t) return null;
  const d = new Date(2000, 0, 1, 0, 0, 0, 0);
  d.setFullYear(date.year, date.month - 1, date.day);
  d.setHours(Number(t[1]), Number(t[2]), 0, 0);
  const ms = d.getTime();
  return Number.isFinite(ms) ? ms : null;
}

/**
 * An instant (ms UTC) as the date and time inputs hold it in local time, the inverse of
 * `localInstant`: `{ day: "2026-02-14", time: "19:30" }`.
 */
export function localFields(at: number): { day: string; time: string } {
  const d = new Date(at);
  const two = (n: number) => String(n).padStart(2, '0');
  return {
    day: calendarText({ year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate() }),
    time: `${two(d.getHours())}:${two(d.getMinutes())}`,
  };
}

/** The reminder choices, in minutes before the date. */
export const REMINDER_CHOICES: readonly { minutes: number; label: string }[] = [
  { minutes: 0, label: 'At the time' },
  { minutes: 15, label: '15 minutes before' },
  { minutes: 60, label: '1 hour before' },
  { minutes: 1440, label: '1 day before' },
  { minutes: 10080, label: '1 week before' },
];

/** A reminder's lead time in words: "Reminder at the time", "Reminder 1 day before". */
export function reminderLabel(minutes: number): string {
  if (minutes <= 0) return 'Reminder at the time';
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  let amount: string;
  if (minutes % 10080 === 0) amount = plural(minutes / 10080, 'week');
  else if (minutes % 1440 === 0) amount = plural(minutes / 1440, 'day');
  else if (minutes % 60 === 0) amount = plural(minutes / 60, 'hour');
  else amount = plural(minutes, 'minute');
  return `Reminder ${amount} before`;
}

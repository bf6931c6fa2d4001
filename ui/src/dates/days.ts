/**
 * The small arithmetic of our dates, kept pure for tests: how many days we have been
 * together, calendar days to and from `<input type="date">`, a local day and time to an
 * instant, and a reminder's lead time in words.
 */
import type { CalendarDate } from '../lib/backend';
import { formats, t } from '../lib/i18n/index.svelte';
import { fromLocal, local } from '../lib/localTime.svelte';

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
export function daysTogether(since: CalendarDate, today: number): number {
  const d = local(today);
  return dayNumber(d.year, d.month + 1, d.day) - dayNumber(since.year, since.month, since.day);
}

/** The partner card's line: "Together 1,271 days"; `null` for a day still to come. */
export function togetherLabel(days: number): string | null {
  if (days < 0) return null;
  if (days === 0) return t('dates.together.today');
  return t('dates.together.days', { count: days, days: formats().number(days) });
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
  const clock = /^(\d{1,2}):(\d{2})/.exec(time.trim());
  if (!date || !clock) return null;
  const ms = fromLocal(date.year, date.month - 1, date.day, Number(clock[1]), Number(clock[2]));
  return Number.isFinite(ms) ? ms : null;
}

/**
 * An instant (ms UTC) as the date and time inputs hold it in local time, the inverse of
 * `localInstant`: `{ day: "2026-02-14", time: "19:30" }`.
 */
export function localFields(at: number): { day: string; time: string } {
  const d = local(at);
  const two = (n: number) => String(n).padStart(2, '0');
  return {
    day: calendarText({ year: d.year, month: d.month + 1, day: d.day }),
    time: `${two(d.hours)}:${two(d.minutes)}`,
  };
}

/** The reminder choices, in minutes before the date (`leadLabel` says each). */
export const REMINDER_MINUTES: readonly number[] = [0, 15, 60, 1440, 10080];

/** A lead time in the unit it is whole in: `['days', 2]` for 2880 minutes. */
function leadUnit(minutes: number): ['weeks' | 'days' | 'hours' | 'minutes', number] {
  if (minutes % 10080 === 0) return ['weeks', minutes / 10080];
  if (minutes % 1440 === 0) return ['days', minutes / 1440];
  if (minutes % 60 === 0) return ['hours', minutes / 60];
  return ['minutes', minutes];
}

/** A reminder choice in words: "At the time", "15 minutes before", "1 day before". */
export function leadLabel(minutes: number): string {
  if (minutes <= 0) return t('dates.lead.atTheTime');
  const [unit, count] = leadUnit(minutes);
  return t(`dates.lead.${unit}`, { count });
}

/** A reminder's lead time in words: "Reminder at the time", "Reminder 1 day before". */
export function reminderLabel(minutes: number): string {
  if (minutes <= 0) return t('dates.reminder.atTheTime');
  const [unit, count] = leadUnit(minutes);
  return t(`dates.reminder.${unit}`, { count });
}

/**
 * The gallery's calendar: "On this day" windows (this month and day in each earlier year, from
 * local midnight to the next), months ("May 2026") and "3 years ago".
 */
import type { Memory, TimeWindow } from '../lib/backend';
import { formats, t } from '../lib/i18n/index.svelte';
import { fromLocal, local } from '../lib/localTime.svelte';

/** How many earlier years "On this day" looks back (the node takes at most 100 windows). */
export const ON_THIS_DAY_YEARS = 99;

/** One earlier year's window, and how many years back it is. */
export interface YearWindow {
  years: number;
  window: TimeWindow;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * Today's month and day in each of the `back` earlier years, newest first: each from local
 * midnight to the next local midnight (23 or 25 hours on a clock change). 29 February is
 * skipped in years without one.
 */
export function onThisDayWindows(today: number, back = ON_THIS_DAY_YEARS): YearWindow[] {
  const { year: thisYear, month, day } = local(today);
  const out: YearWindow[] = [];
  for (let years = 1; years <= back; years++) {
    const year = thisYear - years;
    if (month === 1 && day === 29 && !isLeapYear(year)) continue;
    out.push({ years, window: { from: fromLocal(year, month, day), to: fromLocal(year, month, day + 1) } });
  }
  return out;
}

/** "1 year ago", "3 years ago": calendar years between the memory and `today`. */
export function yearsAgoText(createdAt: number, today: number): string {
  const years = local(today).year - local(createdAt).year;
  return t('memories.yearsAgo', { count: years });
}

/** A local month, as `YYYY-MM`, for grouping. */
export function monthKey(ms: number): string {
  const d = local(ms);
  return `${d.year}-${String(d.month + 1).padStart(2, '0')}`;
}

/** "May 2026" ("Mai 2026" in French, whose month names are lowercase inside a sentence). */
export function monthLabel(ms: number): string {
  const label = formats().monthYear(ms);
  // Both of Duet's languages capitalise as `toUpperCase` does (no Turkish dotted i).
  return label.charAt(0).toUpperCase() + label.slice(1);
}

export interface MonthGroup<T> {
  key: string;
  label: string;
  items: T[];
}

/** Newest first, then by id (ids start with their creation time). */
export function newestFirst(a: Memory, b: Memory): number {
  return b.message.created_at - a.message.created_at || (a.message.id < b.message.id ? 1 : a.message.id > b.message.id ? -1 : 0);
}

/** Groups by local month, newest month first, keeping the order inside each month. */
export function groupByMonth<T>(items: readonly T[], at: (item: T) => number): MonthGroup<T>[] {
  const sorted = [...items].sort((a, b) => at(b) - at(a));
  const groups: MonthGroup<T>[] = [];
  for (const item of sorted) {
    const key = monthKey(at(item));
    const last = groups[groups.length - 1];
    if (last && last.key === key) last.items.push(item);
    else groups.push({ key, label: monthLabel(at(item)), items: [item] });
  }
  return groups;
}

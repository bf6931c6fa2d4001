/** Times as people read them: "14:05", "Today", "last seen 5 min ago", "since yesterday at 14:05". */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A local calendar day, as `YYYY-MM-DD`, for grouping. */
export function dayKey(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function startOfDay(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** A day separator's label: "Today", "Yesterday", a weekday this week, else a date. */
export function dayLabel(ms: number, now: number): string {
  const days = Math.round((startOfDay(now) - startOfDay(ms)) / DAY);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  const d = new Date(ms);
  if (days > 1 && days < 7) return d.toLocaleDateString(undefined, { weekday: 'long' });
  const sameYear = d.getFullYear() === new Date(now).getFullYear();
  return d.toLocaleDateString(undefined, {
    weekday: 'short',
    day: 'numeric',
    month: 'long',
    ...(sameYear ? {} : { year: 'numeric' }),
  });
}

/** The clock time of a message: "14:05". */
export function clockTime(ms: number): string {
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** A full date and time, for tooltips. */
export function fullTime(ms: number): string {
  return new Date(ms).toLocaleString(undefined, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** How long ago, in words: "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago". */
export function ago(ms: number, now: number): string {
  const diff = Math.max(0, now - ms);
  if (diff < MINUTE) return 'just now';
  if (diff < HOUR) return `${Math.floor(diff / MINUTE)} min ago`;
  if (diff < DAY) return `${Math.floor(diff / HOUR)} h ago`;
  const days = Math.round((startOfDay(now) - startOfDay(ms)) / DAY);
  if (days <= 1) return 'yesterday';
  if (days < 30) return `${days} days ago`;
  return `on ${new Date(ms).toLocaleDateString(undefined, { day: 'numeric', month: 'long', year: 'numeric' })}`;
}

/**
 * Since when, for a moment gone: "14:05" today, "yesterday at 14:05", "Monday at 14:05" this
 * week, else its date: "14 June" (with the year when not this year). As in "Offline since 14:05".
 */
export function sinceLabel(ms: number, now: number): string {
  const days = Math.round((startOfDay(now) - startOfDay(ms)) / DAY);
  const time = clockTime(ms);
  // A clock a little ahead of this one still means today.
  if (days <= 0) return time;
  if (days === 1) return `yesterday at ${time}`;
  const d = new Date(ms);
  if (days < 7) return `${d.toLocaleDateString(undefined, { weekday: 'long' })} at ${time}`;
  const sameYear = d.getFullYear() === new Date(now).getFullYear();
  return d.toLocaleDateString(undefined, { day: 'numeric', month: 'long', ...(sameYear ? {} : { year: 'numeric' }) });
}

/**
 * A moment to come (or just gone), in words: "Today at 19:00", "Tomorrow at 09:30",
 * "Yesterday at 21:00", else its date: "Sat 14 June at 19:00" (with the year when not this year).
 */
export function momentLabel(ms: number, now: number): string {
  const days = Math.round((startOfDay(ms) - startOfDay(now)) / DAY);
  const time = clockTime(ms);
  if (days === 0) return `Today at ${time}`;
  if (days === 1) return `Tomorrow at ${time}`;
  if (days === -1) return `Yesterday at ${time}`;
  const d = new Date(ms);
  const sameYear = d.getFullYear() === new Date(now).getFullYear();
  const day = d.toLocaleDateString(undefined, {
    weekday: 'short',
    day: 'numeric',
    month: 'long',
    ...(sameYear ? {} : { year: 'numeric' }),
  });
  return `${day} at ${time}`;
}

/**
 * Shared, coarse clocks, one timer each for the whole window while something reads it:
 * `now()` ticks every 30 seconds, for relative times ("5 min ago"); `today()` ticks when the
 * local day changes, for what only names days ("Today", "Yesterday").
 *
 * The message list names days. It read `now()` once, and every 30 seconds rebuilt its rows:
 * the web process's memory went up 3.6 MB each time and stayed ~2.5 MB up at rest
 * (docs/desktop-app.md, "Benchmark"), for labels that change once a day.
 */
import { createSubscriber } from 'svelte/reactivity';

import { untilMidnight } from './time';

const TICK_MS = 30_000;

/** After midnight by this much, so the day read is surely the new one. */
const PAST_MIDNIGHT_MS = 1_000;

const everyTick = createSubscriber((update) => {
  const timer = setInterval(update, TICK_MS);
  return () => clearInterval(timer);
});

const everyDay = createSubscriber((update) => {
  let timer: ReturnType<typeof setTimeout>;
  const arm = () => {
    timer = setTimeout(() => {
      update();
      arm();
    }, untilMidnight(Date.now()) + PAST_MIDNIGHT_MS);
  };
  // The computer moved to another zone (lib/localTime.svelte.ts): today may be another day,
  // and midnight is at another moment.
  const moved = () => {
    clearTimeout(timer);
    update();
    arm();
  };
  arm();
  globalThis.addEventListener?.('duet-zone', moved);
  return () => {
    clearTimeout(timer);
    globalThis.removeEventListener?.('duet-zone', moved);
  };
});

/** The current time in milliseconds; re-read by effects every tick. */
export function now(): number {
  everyTick();
  return Date.now();
}

/** The current time in milliseconds; re-read by effects only when the local day changes. */
export function today(): number {
  everyDay();
  return Date.now();
}

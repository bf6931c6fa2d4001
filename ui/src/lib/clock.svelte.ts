/**
 * A shared, coarse clock for relative times ("5 min ago"): one timer for the whole window,
 * ticking every 30 seconds while something reads it.
 */
import { createSubscriber } from 'svelte/reactivity';

const TICK_MS = 30_000;

const subscribe = createSubscriber((update) => {
  const timer = setInterval(update, TICK_MS);
  return () => clearInterval(timer);
});

/** The current time in milliseconds; re-read by effects every tick. */
export function now(): number {
  subscribe();
  return Date.now();
}

import { flushSync } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { now, today } from './clock.svelte';
import { untilMidnight } from './time';

describe('the clocks', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('re-run what reads now() every 30 seconds, and what reads today() only at midnight', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(new Date(2025, 10, 20, 23, 58, 0));
    const runs = { now: 0, today: 0 };
    const days: string[] = [];
    const stop = $effect.root(() => {
      $effect(() => {
        now();
        runs.now++;
      });
      $effect(() => {
        days.push(new Date(today()).toDateString());
        runs.today++;
      });
    });
    flushSync();
    expect(runs).toEqual({ now: 1, today: 1 });

    for (let tick = 0; tick < 3; tick++) {
      vi.advanceTimersByTime(30_000);
      flushSync();
    }
    expect(runs).toEqual({ now: 4, today: 1 });

    // 23:59:30 → a second past midnight: the day has changed.
    vi.advanceTimersByTime(31_000);
    flushSync();
    expect(runs.today).toBe(2);
    expect(days).toEqual([new Date(2025, 10, 20).toDateString(), new Date(2025, 10, 21).toDateString()]);

    // And once more the next midnight, not before.
    vi.advanceTimersByTime(24 * 60 * 60_000 - 2_000);
    flushSync();
    expect(runs.today).toBe(2);
    vi.advanceTimersByTime(2_000);
    flushSync();
    expect(runs.today).toBe(3);
    stop();
  });

  it('re-run what reads today() when the computer moves to another zone, and arm midnight again', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(Date.UTC(2025, 10, 20, 22, 0));
    // UTC+1, then UTC-5 (as the app writes it): midnight one hour away, then seven.
    globalThis.__DUET_ZONE__ = [[0, 3600]];
    let runs = 0;
    const stop = $effect.root(() => {
      $effect(() => {
        today();
        runs++;
      });
    });
    flushSync();
    globalThis.__DUET_ZONE__ = [[0, -5 * 3600]];
    dispatchEvent(new Event('duet-zone'));
    flushSync();
    expect(runs).toBe(2);
    // The old zone's midnight passes without a new day…
    vi.advanceTimersByTime(61 * 60_000);
    flushSync();
    expect(runs).toBe(2);
    // …and the new zone's comes.
    vi.advanceTimersByTime(6 * 60 * 60_000);
    flushSync();
    expect(runs).toBe(3);
    stop();
    globalThis.__DUET_ZONE__ = undefined;
  });

  it('count to the next local midnight', () => {
    expect(untilMidnight(new Date(2025, 10, 20, 23, 0).getTime())).toBe(60 * 60_000);
    expect(untilMidnight(new Date(2025, 10, 20, 0, 0).getTime())).toBe(24 * 60 * 60_000);
  });
});

import { flushSync } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { fromLocal, local } from './localTime.svelte';

/**
 * `local` and `fromLocal` against `Date`'s own local methods, in zones with summer time either
 * side of the equator, half-hour offsets and half-hour changes, both with the offsets read from
 * `Date` and from a table of changes like the one the app writes into the page.
 */

const ZONES = ['Europe/Paris', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/St_Johns', 'UTC'];
/** Node reads the zone again whenever `TZ` is set. */
const inZone = (zone: string) => vi.stubEnv('TZ', zone);

afterEach(() => {
  vi.unstubAllEnvs();
  globalThis.__DUET_ZONE__ = undefined;
});

/** A fixed sequence of numbers in [0, 1), the same at every run. */
function sequence(seed: number): () => number {
  let s = seed;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** The zone's changes from 1900 to 2100 as `Date` sees them, found as the app finds them. */
function tableFromDate(): [number, number][] {
  const offset = (ms: number) => -new Date(ms).getTimezoneOffset() * 60;
  const from = Date.UTC(1900, 0, 1);
  const to = Date.UTC(2100, 0, 1);
  const day = 86_400_000;
  const table: [number, number][] = [[from, offset(from)]];
  for (let at = from; at < to; at += day) {
    const next = offset(at + day);
    if (next === table[table.length - 1]![1]) continue;
    let low = at;
    let high = at + day;
    while (high - low > 1000) {
      const mid = low + Math.floor((high - low) / 2000) * 1000;
      if (offset(mid) === next) high = mid;
      else low = mid;
    }
    table.push([high, next]);
  }
  return table;
}

function checkAgainstDate() {
  const next = sequence(0x9e3779b9);
  const from = Date.UTC(1950, 0, 1);
  const to = Date.UTC(2080, 0, 1);
  for (let i = 0; i < 2000; i += 1) {
    const ms = Math.floor(from + next() * (to - from));
    const d = new Date(ms);
    expect(local(ms)).toEqual({
      year: d.getFullYear(),
      month: d.getMonth(),
      day: d.getDate(),
      weekday: d.getDay(),
      hours: d.getHours(),
      minutes: d.getMinutes(),
    });
    // Wall times on and around the nights the clocks change (at 00:00–03:59), and anywhere.
    const year = 1950 + Math.floor(next() * 130);
    const month = Math.floor(next() * 12);
    const dayOfMonth = 1 + Math.floor(next() * 31);
    const hours = next() < 0.5 ? Math.floor(next() * 4) : Math.floor(next() * 24);
    const minutes = Math.floor(next() * 60);
    expect(fromLocal(year, month, dayOfMonth, hours, minutes), `${year}-${month + 1}-${dayOfMonth} ${hours}:${minutes}`).toBe(
      new Date(year, month, dayOfMonth, hours, minutes).getTime(),
    );
  }
}

describe('local time', () => {
  for (const zone of ZONES) {
    it(`reads as Date does in ${zone}, from Date's offsets`, () => {
      inZone(zone);
      checkAgainstDate();
    });

    it(`reads as Date does in ${zone}, from the app's table`, () => {
      inZone(zone);
      globalThis.__DUET_ZONE__ = tableFromDate();
      checkAgainstDate();
    });
  }

  it('draws again what it drew when the app writes a new zone', () => {
    globalThis.__DUET_ZONE__ = [[0, 3600]];
    const hours: number[] = [];
    const stop = $effect.root(() => {
      $effect(() => {
        hours.push(local(Date.UTC(2026, 0, 1, 12)).hours);
      });
    });
    flushSync();
    globalThis.__DUET_ZONE__ = [[0, -5 * 3600]];
    dispatchEvent(new Event('duet-zone'));
    flushSync();
    expect(hours).toEqual([13, 7]);
    stop();
  });

  it('reads the nights the clocks change as Date does', () => {
    inZone('Europe/Paris');
    globalThis.__DUET_ZONE__ = tableFromDate();
    // 02:30 on 29 March 2026 never happened (the clocks went from 02:00 to 03:00): 03:30.
    expect(fromLocal(2026, 2, 29, 2, 30)).toBe(Date.UTC(2026, 2, 29, 1, 30));
    // 02:30 on 25 October 2026 happened twice: the first.
    expect(fromLocal(2026, 9, 25, 2, 30)).toBe(Date.UTC(2026, 9, 25, 0, 30));
    expect(local(Date.UTC(2026, 9, 25, 1, 30)).hours).toBe(2);
    // Fields past their range carry over; years under 100 are those years.
    expect(fromLocal(2026, 0, 32)).toBe(fromLocal(2026, 1, 1));
    expect(local(fromLocal(50, 5, 1)).year).toBe(50);
    // A table that does not reach a moment reads it with its nearest offset.
    globalThis.__DUET_ZONE__ = [[Date.UTC(2000, 0, 1), 3600]];
    expect(local(Date.UTC(1800, 0, 1, 12)).hours).toBe(13);
  });
});

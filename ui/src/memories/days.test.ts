import { describe, expect, it } from 'vitest';

import type { Memory } from '../lib/backend';
import { groupByMonth, isLeapYear, monthLabel, onThisDayWindows, yearsAgoText } from './days';
import { imageAttachment, shared, voiceAttachment } from './testing';
import { isMemory, tilesOf } from './tiles';

describe('On this day', () => {
  it('asks for this month and day in each of 99 earlier years, from local midnight to the next', () => {
    const today = new Date(2026, 4, 12, 15, 42).getTime();
    const windows = onThisDayWindows(today);
    expect(windows).toHaveLength(99);
    expect(windows[0]).toEqual({ years: 1, window: { from: new Date(2025, 4, 12).getTime(), to: new Date(2025, 4, 13).getTime() } });
    expect(windows[2]).toEqual({ years: 3, window: { from: new Date(2023, 4, 12).getTime(), to: new Date(2023, 4, 13).getTime() } });
    expect(windows[98]!.years).toBe(99);
    expect(windows[98]!.window.from).toBe(new Date(1927, 4, 12).getTime());
    for (const { window } of windows) {
      const from = new Date(window.from);
      expect([from.getHours(), from.getMinutes(), from.getSeconds(), from.getMilliseconds()]).toEqual([0, 0, 0, 0]);
      expect([from.getMonth(), from.getDate()]).toEqual([4, 12]);
      const to = new Date(window.to);
      expect([to.getMonth(), to.getDate(), to.getHours()]).toEqual([4, 13, 0]);
    }
  });

  it('ends the last day of a month and of a year at the next local midnight', () => {
    const [w] = onThisDayWindows(new Date(2026, 11, 31, 9).getTime(), 1);
    expect(w!.window).toEqual({ from: new Date(2025, 11, 31).getTime(), to: new Date(2026, 0, 1).getTime() });
  });

  it('skips 29 February in years without one', () => {
    const windows = onThisDayWindows(new Date(2028, 1, 29, 8).getTime());
    const years = windows.map((w) => 2028 - w.years);
    expect(years.slice(0, 3)).toEqual([2024, 2020, 2016]);
    expect(years.every(isLeapYear)).toBe(true);
    expect(years).toContain(2000);
    expect(windows).toHaveLength(24); // 1932 … 2024
    expect(windows[0]!.window).toEqual({ from: new Date(2024, 1, 29).getTime(), to: new Date(2024, 2, 1).getTime() });
    // The day after is every year's.
    expect(onThisDayWindows(new Date(2028, 2, 1).getTime())).toHaveLength(99);
  });

  it('says how long ago in years', () => {
    const today = new Date(2026, 4, 12).getTime();
    expect(yearsAgoText(new Date(2025, 4, 12, 20).getTime(), today)).toBe('1 year ago');
    expect(yearsAgoText(new Date(2023, 4, 12, 1).getTime(), today)).toBe('3 years ago');
  });
});

describe('the months', () => {
  it('groups by local month, newest month first, newest first inside', () => {
    const may2 = shared(new Date(2026, 4, 2, 9).getTime());
    const may20 = shared(new Date(2026, 4, 20, 9).getTime());
    const march = shared(new Date(2026, 2, 31, 23, 59).getTime(), [voiceAttachment()]);
    const lastMay = shared(new Date(2025, 4, 1, 0, 0).getTime());
    const memories: Memory[] = [march, may2, lastMay, may20].map((message) => ({ message, pinned: false }));
    const groups = groupByMonth(memories, (m) => m.message.created_at);
    expect(groups.map((g) => g.label)).toEqual(['May 2026', 'March 2026', 'May 2025']);
    expect(groups.map((g) => g.key)).toEqual(['2026-05', '2026-03', '2025-05']);
    expect(groups[0]!.items.map((m) => m.message.id)).toEqual([may20.id, may2.id]);
    expect(monthLabel(new Date(2026, 0, 1).getTime())).toBe('January 2026');
  });

  it('makes a tile of each photo, video or sound, not of other files', () => {
    const m = shared(Date.now(), [imageAttachment('a.jpg'), { ...imageAttachment('b.pdf'), type: 'file', media: null }, voiceAttachment('v.ogg', 4000)]);
    const tiles = tilesOf({ message: m, pinned: false });
    expect(tiles.map((t) => [t.attachment.name, t.kind, t.index, t.durationMs])).toEqual([
      ['a.jpg', 'image', 0, null],
      ['v.ogg', 'voice', 2, 4000],
    ]);
    expect(isMemory([{ ...imageAttachment(), type: 'file', media: null }])).toBe(false);
  });
});

import { afterEach, describe, expect, it } from 'vitest';

import { language } from './i18n/index.svelte';
import { lastSeen, statusLabel } from './presenceText';
import { fileSize } from './text';
import { ago, clockTime, dayLabel, momentLabel, sinceLabel } from './time';

const now = new Date(2025, 10, 20, 15, 0).getTime();
const min = 60_000;

describe('times in words', () => {
  it('say how long ago', () => {
    expect(ago(now - 20_000, now)).toBe('just now');
    expect(ago(now - 5 * min, now)).toBe('5 min ago');
    expect(ago(now - 3 * 60 * min, now)).toBe('3 h ago');
    expect(ago(new Date(2025, 10, 19, 9, 0).getTime(), now)).toBe('yesterday');
    expect(ago(new Date(2025, 10, 16, 9, 0).getTime(), now)).toBe('4 days ago');
  });

  it('name days', () => {
    expect(dayLabel(now - 60 * min, now)).toBe('Today');
    expect(dayLabel(new Date(2025, 10, 19, 23, 0).getTime(), now)).toBe('Yesterday');
  });

  it('say when my partner was last seen, unless online', () => {
    const p = { person: 'b', status: 'offline' as const, last_seen: now - 5 * min, custom_status: null, device: null, updated_at: 0, mood: null, last_nudge: null };
    expect(lastSeen(p, now)).toBe('last seen 5 min ago');
    expect(lastSeen({ ...p, status: 'online' }, now)).toBeNull();
    expect(lastSeen({ ...p, status: 'invisible' }, now)).toBe('last seen 5 min ago');
    expect(lastSeen(undefined, now)).toBeNull();
  });
});

describe('a moment in words', () => {
  it('says today, tomorrow or yesterday with the time, else the date', () => {
    const t = (d: Date) => d.getTime();
    expect(momentLabel(t(new Date(2025, 10, 20, 19, 0)), now)).toBe(`Today at ${clockTime(t(new Date(2025, 10, 20, 19, 0)))}`);
    expect(momentLabel(t(new Date(2025, 10, 21, 9, 30)), now)).toMatch(/^Tomorrow at /);
    expect(momentLabel(t(new Date(2025, 10, 19, 21, 0)), now)).toMatch(/^Yesterday at /);
    expect(momentLabel(t(new Date(2025, 11, 24, 19, 0)), now)).toMatch(/24.* at /);
    expect(momentLabel(t(new Date(2027, 5, 12, 19, 0)), now)).toMatch(/2027 at /);
  });
});

describe('since when, in words', () => {
  it('says the time today, yesterday or a weekday with the time this week, else the date', () => {
    const t = (d: Date) => d.getTime();
    const today = t(new Date(2025, 10, 20, 14, 2));
    expect(sinceLabel(today, now)).toBe(clockTime(today));
    // A clock a little ahead still means today.
    expect(sinceLabel(now + 2 * min, now)).toBe(clockTime(now + 2 * min));
    const yesterday = t(new Date(2025, 10, 19, 21, 0));
    expect(sinceLabel(yesterday, now)).toBe(`yesterday at ${clockTime(yesterday)}`);
    const monday = t(new Date(2025, 10, 17, 9, 30));
    expect(sinceLabel(monday, now)).toBe(`${new Date(monday).toLocaleDateString(undefined, { weekday: 'long' })} at ${clockTime(monday)}`);
    expect(sinceLabel(t(new Date(2025, 9, 2, 9, 30)), now)).toMatch(/2/);
    expect(sinceLabel(t(new Date(2025, 9, 2, 9, 30)), now)).not.toMatch(/2025/);
    expect(sinceLabel(t(new Date(2024, 9, 2, 9, 30)), now)).toMatch(/2024/);
  });
});

describe('times in French', () => {
  afterEach(() => language.choose('system'));

  it('say the same moments the French way, with French dates', () => {
    language.choose('fr');
    const t = (d: Date) => d.getTime();
    expect(ago(now - 20_000, now)).toBe('à l’instant');
    expect(ago(now - 5 * min, now)).toBe('il y a 5 min');
    expect(ago(new Date(2025, 10, 19, 9, 0).getTime(), now)).toBe('hier');
    expect(ago(new Date(2025, 10, 16, 9, 0).getTime(), now)).toBe('il y a 4 jours');
    expect(ago(new Date(2025, 5, 3, 9, 0).getTime(), now)).toBe('le 3 juin 2025');
    expect(dayLabel(now - 60 * min, now)).toBe('Aujourd’hui');
    expect(dayLabel(new Date(2025, 10, 17, 9, 0).getTime(), now)).toBe('lundi');
    const yesterday = t(new Date(2025, 10, 19, 21, 0));
    expect(sinceLabel(yesterday, now)).toBe(`hier à ${clockTime(yesterday)}`);
    expect(sinceLabel(t(new Date(2025, 9, 2, 9, 30)), now)).toBe('le 2 octobre');
    expect(momentLabel(t(new Date(2025, 10, 21, 9, 30)), now)).toMatch(/^Demain à /);
    expect(statusLabel('busy')).toBe('Occupé');
    const p = { person: 'b', status: 'offline' as const, last_seen: now - 5 * min, custom_status: null, device: null, updated_at: 0, mood: null, last_nudge: null };
    expect(lastSeen(p, now)).toBe('dernière activité il y a 5 min');
    expect(fileSize(1)).toBe('1 octet');
    expect(fileSize(999)).toBe('999 octets');
    expect(fileSize(2_400_000)).toBe('2,4 Mo');
  });
});

import { afterEach, describe, expect, it } from 'vitest';

import { language } from '../lib/i18n/index.svelte';
import {
  calendarText,
  daysTogether,
  leadLabel,
  localFields,
  localInstant,
  parseCalendar,
  REMINDER_MINUTES,
  reminderLabel,
  togetherLabel,
} from './days';

afterEach(() => {
  language.choose('system');
});

describe('days together', () => {
  it('counts calendar days to the local date: the next day is 1', () => {
    const since = { year: 2021, month: 6, day: 12 };
    expect(daysTogether(since, new Date(2021, 5, 12, 23, 59).getTime())).toBe(0);
    expect(daysTogether(since, new Date(2021, 5, 13, 0, 1).getTime())).toBe(1);
    expect(daysTogether(since, new Date(2021, 5, 13, 23, 59).getTime())).toBe(1);
    expect(daysTogether(since, new Date(2024, 11, 4, 12, 0).getTime())).toBe(1271);
  });

  it('counts 29 February in a leap year, and not in others', () => {
    expect(daysTogether({ year: 2024, month: 2, day: 28 }, new Date(2024, 2, 1, 9, 0).getTime())).toBe(2);
    expect(daysTogether({ year: 2023, month: 2, day: 28 }, new Date(2023, 2, 1, 9, 0).getTime())).toBe(1);
    expect(daysTogether({ year: 2024, month: 1, day: 1 }, new Date(2025, 0, 1, 9, 0).getTime())).toBe(366);
    expect(daysTogether({ year: 2023, month: 1, day: 1 }, new Date(2024, 0, 1, 9, 0).getTime())).toBe(365);
    expect(daysTogether({ year: 1900, month: 2, day: 28 }, new Date(1900, 2, 1, 9, 0).getTime())).toBe(1); // 1900: not a leap year
  });

  it('is negative for a day still to come', () => {
    expect(daysTogether({ year: 2030, month: 1, day: 2 }, new Date(2030, 0, 1, 9, 0).getTime())).toBe(-1);
  });

  it('says it on the card', () => {
    expect(togetherLabel(1271)).toBe('Together 1,271 days');
    expect(togetherLabel(1)).toBe('Together 1 day');
    expect(togetherLabel(0)).toBe('Together since today');
    expect(togetherLabel(-3)).toBeNull();
  });
});

describe('the date fields', () => {
  it('read and write a calendar day as the date input holds it', () => {
    expect(calendarText({ year: 2021, month: 6, day: 2 })).toBe('2021-06-02');
    expect(calendarText(null)).toBe('');
    expect(parseCalendar('2021-06-02')).toEqual({ year: 2021, month: 6, day: 2 });
    expect(parseCalendar('')).toBeNull();
  });

  it('turn a local day and time into the instant', () => {
    expect(localInstant('2026-02-14', '19:30')).toBe(new Date(2026, 1, 14, 19, 30).getTime());
    expect(localInstant('', '19:30')).toBeNull();
    expect(localInstant('2026-02-14', '')).toBeNull();
  });

  it('say a reminder lead time in words', () => {
    expect(reminderLabel(0)).toBe('Reminder at the time');
    expect(reminderLabel(15)).toBe('Reminder 15 minutes before');
    expect(reminderLabel(60)).toBe('Reminder 1 hour before');
    expect(reminderLabel(1440)).toBe('Reminder 1 day before');
    expect(reminderLabel(10080)).toBe('Reminder 1 week before');
    expect(reminderLabel(2880)).toBe('Reminder 2 days before');
  });
});

describe('local fields', () => {
  it('give back the local day and time an instant was typed as', () => {
    const at = new Date(2026, 1, 14, 9, 5).getTime();
    expect(localFields(at)).toEqual({ day: '2026-02-14', time: '09:05' });
    const { day, time } = localFields(at);
    expect(localInstant(day, time)).toBe(at);
  });
});

describe('in French', () => {
  it('says the days together and the reminders in French', () => {
    language.choose('fr');
    expect(togetherLabel(0)).toBe("Ensemble depuis aujourd’hui");
    expect(togetherLabel(1)).toBe('Ensemble depuis 1 jour');
    expect(togetherLabel(1271)).toBe('Ensemble depuis 1\u202f271 jours');
    expect(reminderLabel(0)).toBe("Rappel à l’heure dite");
    expect(reminderLabel(2880)).toBe('Rappel 2 jours avant');
    expect(leadLabel(60)).toBe('1 heure avant');
  });

  it('names every reminder choice in English too', () => {
    expect(REMINDER_MINUTES.map(leadLabel)).toEqual([
      'At the time',
      '15 minutes before',
      '1 hour before',
      '1 day before',
      '1 week before',
    ]);
  });
});

import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';

import { datesBook } from '../dates/dates.svelte';
import { language } from '../lib/i18n/index.svelte';
import type { CalendarDate, DateInfo, SharedDate } from '../lib/backend';
import DatesSettings from './DatesSettings.svelte';

afterEach(() => {
  cleanup();
  language.choose('system');
  datesBook.clear();
  clearMocks();
});

/** A node that keeps our dates in memory, refusing a year outside 1900 to 9999 as the real one does. */
function shell(initial: DateInfo[] = []) {
  let since: CalendarDate | null = null;
  let list = initial;
  const saved: { id: string | null; date: SharedDate }[] = [];
  const removed: string[] = [];
  mockIPC((cmd, raw) => {
    const args = raw as Record<string, unknown>;
    switch (cmd) {
      case 'dates':
        return { together_since: since, dates: list };
      case 'set_together_since':
        since = args.date as CalendarDate | null;
        return { together_since: since, dates: list };
      case 'save_date': {
        const date = args.date as SharedDate;
        saved.push({ id: args.id as string | null, date });
        const year = new Date(date.at).getUTCFullYear();
        if (year > 9999) throw { code: 'invalid_input', message: `the year ${year} is outside what Duet keeps dates for (1900 to 9999)` };
        const id = (args.id as string | null) ?? `d${list.length}`.padEnd(32, '0');
        const info = { id, ...date, next_at: date.at, remind_at: date.at - date.remind_before_minutes * 60_000 };
        list = args.id ? list.map((d) => (d.id === id ? info : d)) : [...list, info];
        return info;
      }
      case 'remove_date':
        removed.push(args.id as string);
        list = list.filter((d) => d.id !== args.id);
        return null;
      default:
        throw new Error(`unexpected command ${cmd}`);
    }
  });
  return { saved, removed, since: () => since };
}

const anniversary: DateInfo = {
  id: 'a1'.repeat(16),
  title: 'Our anniversary',
  at: new Date(2021, 5, 12, 19, 0).getTime(),
  yearly: true,
  remind_before_minutes: 1440,
  next_at: new Date(2099, 5, 12, 19, 0).getTime(),
  remind_at: new Date(2099, 5, 11, 19, 0).getTime(),
};

async function fill(title: string, day: string, time: string) {
  await fireEvent.input(screen.getByTestId('date-title'), { target: { value: title } });
  await fireEvent.input(screen.getByTestId('date-day'), { target: { value: day } });
  await fireEvent.input(screen.getByTestId('date-time'), { target: { value: time } });
}

describe('the dates settings', () => {
  it('say there are no dates yet', async () => {
    shell();
    render(DatesSettings);
    expect(await screen.findByText('No dates yet: add your anniversary or your next plan.')).toBeInTheDocument();
    expect(screen.queryAllByTestId('date-row')).toHaveLength(0);
  });

  it('add a date in local time, and list it', async () => {
    const { saved } = shell();
    render(DatesSettings);
    await screen.findByTestId('dates-empty');
    await fill('  Dinner at Lisbon ', '2030-05-17', '19:30');
    await fireEvent.click(screen.getByTestId('date-yearly'));
    await fireEvent.change(screen.getByTestId('date-remind'), { target: { value: '60' } });
    await fireEvent.click(screen.getByTestId('date-save'));

    const row = await screen.findByTestId('date-row');
    expect(saved).toEqual([
      { id: null, date: { title: 'Dinner at Lisbon', at: new Date(2030, 4, 17, 19, 30).getTime(), yearly: true, remind_before_minutes: 60 } },
    ]);
    expect(row).toHaveTextContent('Dinner at Lisbon');
    expect(row).toHaveTextContent('every year');
    expect(row).toHaveTextContent('Reminder 1 hour before');
    expect(row).toHaveTextContent('2030');
    expect(screen.queryByTestId('dates-empty')).not.toBeInTheDocument();
    expect(screen.getByTestId('date-title')).toHaveValue('');
  });

  it('show the node’s refusal in words, and keep what was typed', async () => {
    shell();
    render(DatesSettings);
    await screen.findByTestId('dates-empty');
    await fill('Far away', '99999-06-15', '12:00');
    await fireEvent.click(screen.getByTestId('date-save'));
    expect(await screen.findByRole('alert')).toHaveTextContent('the year 99999 is outside what Duet keeps dates for (1900 to 9999)');
    expect(screen.getByTestId('date-title')).toHaveValue('Far away');
    expect(screen.queryAllByTestId('date-row')).toHaveLength(0);
  });

  it('remove a date only after a confirmation', async () => {
    const { removed } = shell([anniversary]);
    render(DatesSettings);
    const row = await screen.findByTestId('date-row');
    expect(row).toHaveTextContent('Our anniversary');
    expect(row).toHaveTextContent('Reminder 1 day before');

    await fireEvent.click(within(row).getByTestId('date-remove'));
    expect(removed).toEqual([]);
    await fireEvent.click(within(row).getByRole('button', { name: 'Cancel' }));
    expect(removed).toEqual([]);

    await fireEvent.click(within(row).getByTestId('date-remove'));
    await fireEvent.click(screen.getByTestId('date-remove-confirm'));
    expect(await screen.findByTestId('dates-empty')).toBeInTheDocument();
    expect(removed).toEqual([anniversary.id]);
  });

  it('set and clear the day we count from', async () => {
    const kept = shell();
    render(DatesSettings);
    await screen.findByTestId('dates-empty');
    const save = screen.getByTestId('together-since-save');
    expect(save).toBeDisabled();
    await fireEvent.input(screen.getByTestId('together-since-input'), { target: { value: '2021-06-12' } });
    await fireEvent.click(save);
    await screen.findByText('Saved: your partner sees it too.');
    expect(kept.since()).toEqual({ year: 2021, month: 6, day: 12 });
    expect(datesBook.value?.together_since).toEqual({ year: 2021, month: 6, day: 12 });

    await fireEvent.click(screen.getByTestId('together-since-clear'));
    await screen.findByText('Cleared.');
    expect(kept.since()).toBeNull();
    expect(screen.getByTestId('together-since-input')).toHaveValue('');
  });

  it('edit a date in the same form, filled with its values, and save it under its id', async () => {
    const { saved } = shell([anniversary]);
    render(DatesSettings);
    const row = await screen.findByTestId('date-row');
    await fireEvent.click(within(row).getByRole('button', { name: 'Edit Our anniversary' }));

    const form = screen.getByTestId('date-form');
    expect(within(form).getByRole('heading')).toHaveTextContent('Edit the date');
    expect(screen.getByTestId('date-title')).toHaveValue('Our anniversary');
    expect(screen.getByTestId('date-day')).toHaveValue('2021-06-12');
    expect(screen.getByTestId('date-time')).toHaveValue('19:00');
    expect(screen.getByTestId('date-yearly')).toBeChecked();
    expect(screen.getByTestId('date-remind')).toHaveValue('1440');
    expect(screen.getByTestId('date-save')).toHaveTextContent('Save changes');

    await fill('Our wedding', '2021-06-13', '18:30');
    await fireEvent.click(screen.getByTestId('date-yearly'));
    await fireEvent.change(screen.getByTestId('date-remind'), { target: { value: '10080' } });
    await fireEvent.click(screen.getByTestId('date-save'));

    expect(await screen.findByText('Our wedding')).toBeInTheDocument();
    expect(saved).toEqual([
      {
        id: anniversary.id,
        date: { title: 'Our wedding', at: new Date(2021, 5, 13, 18, 30).getTime(), yearly: false, remind_before_minutes: 10080 },
      },
    ]);
    expect(screen.getAllByTestId('date-row')).toHaveLength(1);
    expect(screen.queryByText('Our anniversary')).not.toBeInTheDocument();
    expect(screen.getByTestId('date-save')).toHaveTextContent('Add the date');
    expect(screen.getByTestId('date-title')).toHaveValue('');
    expect(screen.queryByTestId('date-edit-cancel')).not.toBeInTheDocument();
  });

  it('go back to adding without saving on Cancel, and on Esc', async () => {
    const { saved } = shell([anniversary]);
    render(DatesSettings);
    const row = await screen.findByTestId('date-row');

    await fireEvent.click(within(row).getByTestId('date-edit'));
    await fireEvent.input(screen.getByTestId('date-title'), { target: { value: 'Changed my mind' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.getByTestId('date-save')).toHaveTextContent('Add the date');
    expect(screen.getByTestId('date-title')).toHaveValue('');

    await fireEvent.click(within(row).getByTestId('date-edit'));
    expect(screen.getByTestId('date-save')).toHaveTextContent('Save changes');
    await fireEvent.keyDown(screen.getByTestId('date-title'), { key: 'Escape' });
    expect(screen.getByTestId('date-save')).toHaveTextContent('Add the date');
    expect(screen.getByTestId('date-title')).toHaveValue('');

    expect(saved).toEqual([]);
    expect(row).toHaveTextContent('Our anniversary');
  });

  it('show a refusal while editing, and keep the values', async () => {
    const { saved } = shell([anniversary]);
    render(DatesSettings);
    const row = await screen.findByTestId('date-row');
    await fireEvent.click(within(row).getByTestId('date-edit'));
    await fill('Far away', '99999-06-15', '12:00');
    await fireEvent.click(screen.getByTestId('date-save'));

    expect(await screen.findByRole('alert')).toHaveTextContent('the year 99999 is outside what Duet keeps dates for (1900 to 9999)');
    expect(saved.map((s) => s.id)).toEqual([anniversary.id]);
    expect(screen.getByTestId('date-title')).toHaveValue('Far away');
    expect(screen.getByTestId('date-day')).toHaveValue('99999-06-15');
    expect(screen.getByTestId('date-yearly')).toBeChecked();
    expect(screen.getByTestId('date-save')).toHaveTextContent('Save changes');
    expect(row).toHaveTextContent('Our anniversary');
  });

  it('speak French when chosen: the list, the form and the confirmation', async () => {
    shell([anniversary]);
    language.choose('fr');
    render(DatesSettings);
    const row = await screen.findByTestId('date-row');
    expect(screen.getByRole('heading', { name: 'Dates' })).toBeInTheDocument();
    expect(row).toHaveTextContent('chaque année');
    expect(row).toHaveTextContent('Rappel 1 jour avant');
    const form = screen.getByTestId('date-form');
    expect(within(form).getByRole('heading')).toHaveTextContent('Ajouter une date');
    expect(screen.getByTestId('date-save')).toHaveTextContent('Ajouter la date');
    expect(within(screen.getByTestId('date-remind')).getByRole('option', { name: '1 jour avant' })).toBeInTheDocument();

    await fireEvent.click(within(row).getByRole('button', { name: 'Supprimer Our anniversary' }));
    expect(within(row).getByRole('group', { name: 'Supprimer Our anniversary ?' })).toHaveTextContent(
      'Supprimer « Our anniversary » ? Elle disparaît pour vous deux, avec son rappel.',
    );
    expect(within(row).getByRole('button', { name: 'Annuler' })).toBeInTheDocument();

    await fireEvent.click(screen.getByTestId('date-save'));
    expect(await screen.findByRole('alert')).toHaveTextContent('Donnez un titre à la date.');
  });
});

/** The strings of `src/dates/`. */
export const dates = {
  /** The partner card's line (`togetherLabel`); `{{days}}` is the count, written with its digit groups. */
  together: {
    today: 'Together since today',
    days_one: 'Together {{days}} day',
    days_other: 'Together {{days}} days',
  },
  /** A reminder choice: how long before the date (`leadLabel`). */
  lead: {
    atTheTime: 'At the time',
    minutes_one: '{{count}} minute before',
    minutes_other: '{{count}} minutes before',
    hours_one: '{{count}} hour before',
    hours_other: '{{count}} hours before',
    days_one: '{{count}} day before',
    days_other: '{{count}} days before',
    weeks_one: '{{count}} week before',
    weeks_other: '{{count}} weeks before',
  },
  /** A date's reminder, under it in the list (`reminderLabel`). */
  reminder: {
    atTheTime: 'Reminder at the time',
    minutes_one: 'Reminder {{count}} minute before',
    minutes_other: 'Reminder {{count}} minutes before',
    hours_one: 'Reminder {{count}} hour before',
    hours_other: 'Reminder {{count}} hours before',
    days_one: 'Reminder {{count}} day before',
    days_other: 'Reminder {{count}} days before',
    weeks_one: 'Reminder {{count}} week before',
    weeks_other: 'Reminder {{count}} weeks before',
  },
};

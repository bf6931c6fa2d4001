import type { Translation } from '../catalog';
import type { dates as english } from '../en/dates';

export const dates: Translation<typeof english> = {
  together: {
    today: "Ensemble depuis aujourd’hui",
    days_one: 'Ensemble depuis {{days}} jour',
    days_other: 'Ensemble depuis {{days}} jours',
  },
  lead: {
    atTheTime: "À l’heure dite",
    minutes_one: '{{count}} minute avant',
    minutes_other: '{{count}} minutes avant',
    hours_one: '{{count}} heure avant',
    hours_other: '{{count}} heures avant',
    days_one: '{{count}} jour avant',
    days_other: '{{count}} jours avant',
    weeks_one: '{{count}} semaine avant',
    weeks_other: '{{count}} semaines avant',
  },
  reminder: {
    atTheTime: "Rappel à l’heure dite",
    minutes_one: 'Rappel {{count}} minute avant',
    minutes_other: 'Rappel {{count}} minutes avant',
    hours_one: 'Rappel {{count}} heure avant',
    hours_other: 'Rappel {{count}} heures avant',
    days_one: 'Rappel {{count}} jour avant',
    days_other: 'Rappel {{count}} jours avant',
    weeks_one: 'Rappel {{count}} semaine avant',
    weeks_other: 'Rappel {{count}} semaines avant',
  },
};

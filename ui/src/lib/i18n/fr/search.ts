import type { Translation } from '../catalog';
import type { search as english } from '../en/search';

export const search: Translation<typeof english> = {
  link: {
    name: 'Rechercher',
    title: 'Retrouver un message par ses mots (Ctrl+F)',
  },
  view: {
    heading: 'Rechercher',
    label: 'Mots à chercher',
    placeholder: 'Des mots à chercher, dans tous vos messages…',
    close: 'Fermer la recherche',
    closeTitle: 'Revenir à la conversation (Échap)',
    where: 'Où chercher',
    everywhere: 'Partout',
    here: 'Avec {{place}}',
    before: "Jusqu'au",
    goToDay: 'Aller à ce jour',
    chooseDay: "Choisissez d'abord un jour.",
    nothingByThen: "Rien n'a été écrit avec {{place}} avant ce jour-là.",
    start:
      'Tapez quelques mots : chaque message qui les contient tous apparaît ici, les meilleurs en premier. Les accents et les majuscules ne comptent pas.',
    none: 'Aucun message ne contient tous les mots de « {{query}} ».',
    found_one: '1 message',
    found_other: '{{count}} messages',
    many: 'Les 50 meilleurs résultats — ajoutez un mot, ou choisissez un jour, pour en trouver de plus anciens',
    searching: 'Recherche…',
  },
};

import type { Translation } from '../catalog';
import type { emoji as english } from '../en/emoji';

export const emoji: Translation<typeof english> = {
  panel: {
    search: 'Rechercher un emoji',
    groups: 'Catégories d’emoji',
    results: 'Résultats',
    recent: 'Utilisés récemment',
    failed: 'Impossible de charger les emoji.',
    none: 'Aucun emoji trouvé.',
    loading: 'Chargement des emoji…',
  },
  groups: {
    smileys: 'Smileys et émotions',
    people: 'Personnes et corps',
    animals: 'Animaux et nature',
    food: 'Nourriture et boissons',
    travel: 'Voyages et lieux',
    activities: 'Activités',
    objects: 'Objets',
    symbols: 'Symboles',
    flags: 'Drapeaux',
  },
};

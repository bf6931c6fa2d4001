import type { Translation } from '../catalog';
import type { spaces as english } from '../en/spaces';

export const spaces: Translation<typeof english> = {
  channelList: {
    label: 'Conversations dans {{space}}',
    direct: 'Messages directs',
    invite: 'Inviter votre partenaire',
    channels: 'Salons',
    create: 'Créer un salon',
    newName: 'Nom du nouveau salon',
    empty: 'Pas encore de salon. Créez-en un pour vos projets, vos photos ou vos recettes.',
    archivedCount: 'Archivés ({{n}})',
    archived: 'Archivés',
    rename: 'Nouveau nom pour #{{name}}',
  },
  nameForm: {
    needName: 'Un salon a besoin d’un nom.',
    placeholder: 'nom du salon',
  },
  item: {
    unread_one: '{{name}}, {{count}} non lu',
    unread_other: '{{name}}, {{count}} non lus',
    muted: '{{name}}, en sourdine',
    unreadMuted_one: '{{name}}, {{count}} non lu, en sourdine',
    unreadMuted_other: '{{name}}, {{count}} non lus, en sourdine',
    mutedTitle: 'En sourdine',
    rename: 'Renommer {{name}}',
    renameTitle: 'Renommer (F2)',
  },
  rail: {
    label: 'Espaces',
  },
};

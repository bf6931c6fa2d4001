import type { Translation } from '../catalog';
import type { app as english } from '../en/app';

export const app: Translation<typeof english> = {
  shell: {
    loading: 'Ouverture de votre Duet…',
    encryptsNow: 'Duet chiffre désormais tout ce qu’il garde sur cet ordinateur.',
    encrypting: 'Chiffrement de vos données Duet…',
  },
  layout: {
    yourPartner: 'Votre partenaire',
    views: 'Recherche et souvenirs',
    catchingUp: 'Restauré depuis votre sauvegarde : rattrapage des appareils de {{partner}}. Vous pourrez écrire ensuite ; restez en ligne.',
    catchingUpUnnamed: 'Restauré depuis votre sauvegarde : rattrapage des appareils de votre partenaire. Vous pourrez écrire ensuite ; restez en ligne.',
    ourSpace: 'Notre espace',
    spaceName: '{{me}} & {{partner}}',
    withName: 'avec {{name}}',
    withYourPartner: 'avec votre partenaire',
    inChannel: 'dans #{{channel}}',
    inUnknownChannel: 'dans un salon',
    channel: 'salon',
    channelTopic: 'Un salon rien que pour vous deux',
    settings: 'Réglages',
    inviteTitle: 'Invitez votre partenaire',
    inviteText: 'Duet est un endroit pour deux. Envoyez une invitation à votre partenaire, ou utilisez celle que vous avez reçue.',
    inviteButton: 'Inviter votre partenaire',
    bringPartnerIn: 'Faites venir votre partenaire',
  },
  desktop: {
    open: 'Ouvrir Duet',
    quit: 'Quitter Duet',
    lockedMessage: 'Nouveau message',
    unread_one: 'Duet : {{count}} message non lu',
    unread_other: 'Duet : {{count}} messages non lus',
  },
  attention: {
    inChannel: '{{name}} dans #{{channel}}',
    inUnknownChannel: '{{name}} dans un salon',
  },
  lock: {
    title: 'Duet est verrouillé',
    passphrase: 'Votre phrase secrète',
    checking: 'Vérification…',
    unlock: 'Déverrouiller',
  },
  notices: {
    label: 'Avis',
    dismiss: 'Masquer',
    dismissLabel: 'Masquer : {{title}}',
    forkTitle: 'Un appareil a été écarté',
    clockAheadTitle: 'Des messages attendent l’heure',
    rejectedTitle: 'Un appareil a été déconnecté',
    recoveredTitle: 'Duet s’est remis d’un problème',
    stoppedTitle: 'Une partie de Duet s’est arrêtée ({{part}})',
    rejectedMine:
      'L’un de vos appareils a envoyé quelque chose que Duet ne peut pas accepter : il a donc été déconnecté pendant une minute. La raison : {{reason}}',
    rejectedPartner:
      'L’appareil de {{name}} a envoyé quelque chose que Duet ne peut pas accepter : il a donc été déconnecté pendant une minute. La raison : {{reason}}',
    rejectedYourPartner:
      'L’appareil de votre partenaire a envoyé quelque chose que Duet ne peut pas accepter : il a donc été déconnecté pendant une minute. La raison : {{reason}}',
    rejectedUnknown:
      'Un appareil a envoyé quelque chose que Duet ne peut pas accepter : il a donc été déconnecté pendant une minute. La raison : {{reason}}',
  },
  problem: {
    notRunning: 'L’application Duet n’est pas lancée',
    cannotOpen: 'Duet n’a pas pu ouvrir votre profil',
    runHint: 'Lancez {{command}} (ou l’application Duet installée) au lieu d’ouvrir cette page dans un navigateur.',
    errorCode: 'Code d’erreur : {{code}}',
  },
  unlockData: {
    title: 'Vos données Duet sont verrouillées',
    lead: 'Saisissez la phrase secrète que vous avez choisie pour Duet sur cet ordinateur.',
    passphrase: 'Phrase secrète',
    wrong: 'Cette phrase secrète n’ouvre pas vos données Duet. Réessayez.',
    unlocking: 'Déverrouillage…',
    unlock: 'Déverrouiller',
    forgot:
      'Vous l’avez oubliée ? Sans la phrase secrète, vos messages sur cet ordinateur ne peuvent pas être ouverts ; les appareils de votre partenaire gardent toujours votre historique commun.',
  },
};

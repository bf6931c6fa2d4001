import type { Translation } from '../catalog';
import type { onboarding as english } from '../en/onboarding';

export const onboarding: Translation<typeof english> = {
  choosePassphrase: {
    title: 'Choisissez une phrase secrète',
    explain:
      'Duet chiffre tout ce qu’il garde sur cet ordinateur. Votre bureau n’a pas de trousseau pour conserver la clé : choisissez donc une phrase secrète, que vous saisirez au démarrage de Duet.',
    passphrase: 'Phrase secrète',
    again: 'La phrase secrète, encore une fois',
    tooShort: 'Utilisez au moins {{min}} caractères.',
    tooLong: 'C’est trop long : 1 024 octets au maximum.',
    differ: 'Les deux phrases secrètes ne sont pas identiques.',
    continue: 'Continuer',
    keepSafe: 'Sans elle, vos messages sur cet ordinateur ne peuvent pas être ouverts : gardez-la en lieu sûr.',
  },
  join: {
    label: 'Ticket de votre partenaire',
    empty: 'Collez le ticket que votre partenaire vous a envoyé.',
    waiting: 'Recherche de l’appareil de votre partenaire… cela peut prendre jusqu’à une demi-minute.',
    submit: 'Rejoindre',
    busy: 'Connexion…',
  },
  linkDevice: {
    waiting: 'Recherche de votre autre appareil… gardez Duet ouvert dessus ; cela peut prendre jusqu’à une demi-minute.',
    busy: 'Association…',
    label: 'Invitation d’appareil',
    empty: 'Collez l’invitation d’appareil créée sur votre autre appareil.',
    submit: 'Associer cet appareil',
    explain:
      'Sur votre autre appareil, ouvrez les Réglages et choisissez « Créer une invitation d’appareil ». Collez cette invitation ici : cet ordinateur reçoit votre profil et vos conversations.',
  },
  pairing: {
    hello: 'Bonjour, {{name}}',
    lead: 'Faites maintenant venir votre partenaire. L’un de vous invite, l’autre rejoint.',
    how: 'Comment vous associer',
    inviteTab: 'Inviter votre partenaire',
    joinTab: 'Rejoindre avec un ticket',
    explain: 'Créez une invitation et envoyez-la à votre partenaire comme vous voulez, ou faites-la-lui scanner.',
    create: 'Créer une invitation',
    waiting: 'Duet ouvre votre conversation dès que votre partenaire vous rejoint.',
    later: 'Plus tard : d’abord jeter un œil',
  },
  ticket: {
    placeholder: 'Collez-le ici',
  },
  welcome: {
    linkTitle: 'Associer cet appareil',
    linkLead: 'Utilisez Duet ici comme sur votre autre appareil : même profil, mêmes conversations.',
    backNew: 'Retour : je découvre Duet',
    title: 'Bienvenue dans Duet',
    creating: 'Création de votre profil…',
    backChange: 'Retour : changer mon nom ou mon avatar',
    lead: 'Un endroit rien qu’à vous deux. Commencez par ce que votre partenaire verra de vous.',
    name: 'Votre nom',
    namePlaceholder: 'Maya',
    nameMissing: 'Saisissez le nom sous lequel votre partenaire vous connaît.',
    avatar: 'Votre avatar',
    create: 'Créer votre profil',
    keptHere: 'Gardé sur cet appareil. Pas de compte, pas de numéro de téléphone, pas de serveur.',
    alreadyUsing: 'Vous utilisez déjà Duet sur un autre ordinateur ?',
    anotherDevice: 'C’est un autre de mes appareils',
  },
};

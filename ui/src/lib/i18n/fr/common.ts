import type { Translation } from '../catalog';
import type { common as english } from '../en/common';

export const common: Translation<typeof english> = {
  cancel: 'Annuler',
  close: 'Fermer',
  save: 'Enregistrer',
  remove: 'Retirer',
  retry: 'Réessayer',
  passphrase: {
    tooShort: 'Utilisez au moins {{min}} caractères.',
    tooLong: 'C’est trop long : 1 024 octets au maximum.',
    differ: 'Les deux phrases secrètes diffèrent.',
  },
  offlineBanner:
    "Vous êtes hors ligne : aucun de vos appareils ni de ceux de votre partenaire n’est joignable. Les messages attendent ici et partent dès que l’un l’est.",
};

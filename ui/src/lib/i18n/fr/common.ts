import type { Translation } from '../catalog';
import type { common as english } from '../en/common';

export const common: Translation<typeof english> = {
  cancel: 'Annuler',
  close: 'Fermer',
  save: 'Enregistrer',
  remove: 'Retirer',
  retry: 'Réessayer',
  offlineBanner:
    "Vous êtes hors ligne : aucun de vos appareils ni de ceux de votre partenaire n’est joignable. Les messages attendent ici et partent dès que l’un l’est.",
};

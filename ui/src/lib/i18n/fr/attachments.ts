import type { Translation } from '../catalog';
import type { attachments as english } from '../en/attachments';

export const attachments: Translation<typeof english> = {
  tools: {
    attach: 'Joindre des fichiers',
    attachTitle: 'Joindre des fichiers (ou déposez-les ici, ou collez une image)',
    record: 'Enregistrer un message vocal (cliquez, ou maintenez et relâchez pour envoyer)',
    recordTitle: 'Cliquez pour enregistrer, ou maintenez et relâchez pour envoyer',
    sendNote: 'Envoyer le message vocal',
    sendTitle: 'Cliquez pour envoyer, Échap pour abandonner',
    recorder: 'Message vocal en cours d’enregistrement',
    recorded: 'Durée enregistrée',
    level: 'Niveau du micro',
    testTone: 'son de test',
    send: 'Envoyer',
    full: 'Les messages vocaux s’arrêtent à 5 minutes. Envoyez-le, ou annulez pour le supprimer.',
  },
  player: {
    play: 'Écouter le message vocal, {{duration}}',
    pause: 'Mettre en pause le message vocal',
    unreadable: 'Impossible de lire ce message vocal.',
    unplayable: 'Impossible d’écouter ce message vocal ({{reason}}).',
  },
  outbox: {
    pastedImage: 'image collée.png',
    unreadable: 'Impossible de lire le fichier ({{reason}}).',
    unreadableReason: 'illisible',
  },
  transfers: {
    notHere: 'Pas encore sur cet appareil : il arrivera dès qu’un appareil qui l’a sera en ligne.',
  },
  view: {
    showImage: '{{name}}, {{width}}×{{height}}. Afficher l’image en grand',
    previewFailed: 'Impossible de récupérer l’aperçu',
    loadingPreview: 'Chargement de l’aperçu…',
    waitingPartner: 'En attente que {{name}} se connecte…',
    waitingYourPartner: 'En attente que votre partenaire se connecte…',
    waitingOther: 'En attente que votre autre appareil ou {{name}} se connecte…',
    waitingOtherYourPartner: 'En attente que votre autre appareil ou votre partenaire se connecte…',
    waitingPartnerHere: 'En attente que {{name}} se connecte… ({{done}} sur {{total}} déjà là)',
    waitingYourPartnerHere: 'En attente que votre partenaire se connecte… ({{done}} sur {{total}} déjà là)',
    waitingOtherHere:
      'En attente que votre autre appareil ou {{name}} se connecte… ({{done}} sur {{total}} déjà là)',
    waitingOtherYourPartnerHere:
      'En attente que votre autre appareil ou votre partenaire se connecte… ({{done}} sur {{total}} déjà là)',
    saving: 'Enregistrement…',
    download: 'Télécharger',
    receiving: 'Réception du fichier {{name}}',
    received: '{{percent}} % · {{done}} sur {{total}}',
    sendingLabel: 'Envoi du fichier {{name}}',
    sending: 'Envoi · {{percent}} %',
    fetchFailed: 'Impossible de récupérer {{name}} : {{reason}}',
    savedTo: 'Enregistré dans {{path}}',
    loadingFull: 'Chargement de l’image en grand…',
    imageUnreadable: 'Impossible de lire l’image.',
  },
};

/** The strings of `src/app/` (and `App.svelte`). */
export const app = {
  shell: {
    loading: 'Opening your Duet…',
    encryptsNow: 'Duet now encrypts everything it keeps on this computer.',
    encrypting: 'Encrypting your Duet data…',
  },
  layout: {
    yourPartner: 'Your partner',
    views: 'Search and memories',
    ourSpace: 'Our space',
    spaceName: '{{me}} & {{partner}}',
    withName: 'with {{name}}',
    withYourPartner: 'with your partner',
    inChannel: 'in #{{channel}}',
    inUnknownChannel: 'in #a channel',
    channel: 'channel',
    channelTopic: 'A channel for the two of you',
    settings: 'Settings',
    inviteTitle: 'Invite your partner',
    inviteText: 'Duet is a place for two. Send your partner an invite, or join with the one they sent you.',
    inviteButton: 'Invite your partner',
    bringPartnerIn: 'Bring your partner in',
    /** On a device restored from a backup, until it has caught up (app/OfflineBanner.svelte). */
    catchingUp: 'Restored from your backup: catching up with {{partner}}’s devices. You can write once it has; stay online.',
    catchingUpUnnamed: 'Restored from your backup: catching up with your partner’s devices. You can write once it has; stay online.',
  },
  attention: {
    inChannel: '{{name}} in #{{channel}}',
    inUnknownChannel: '{{name}} in #a channel',
  },
  /** The tray and notifications, sent to the shell (`set_desktop_words`, `set_unread_badge`). */
  desktop: {
    open: 'Open Duet',
    quit: 'Quit Duet',
    lockedMessage: 'New message',
    unread_one: 'Duet: {{count}} unread message',
    unread_other: 'Duet: {{count}} unread messages',
  },
  lock: {
    title: 'Duet is locked',
    passphrase: 'Your passphrase',
    checking: 'Checking…',
    unlock: 'Unlock',
  },
  notices: {
    label: 'Notices',
    dismiss: 'Dismiss',
    dismissLabel: 'Dismiss: {{title}}',
    forkTitle: 'A device was cut off',
    clockAheadTitle: 'Some messages wait for the clock',
    rejectedTitle: 'A device was disconnected',
    recoveredTitle: 'Duet recovered from a problem',
    stoppedTitle: 'Part of Duet stopped ({{part}})',
    rejectedMine:
      'One of your devices sent something Duet cannot accept, so it was disconnected for a minute. The reason: {{reason}}',
    rejectedPartner:
      '{{name}}’s device sent something Duet cannot accept, so it was disconnected for a minute. The reason: {{reason}}',
    rejectedYourPartner:
      'Your partner’s device sent something Duet cannot accept, so it was disconnected for a minute. The reason: {{reason}}',
    rejectedUnknown:
      'A device sent something Duet cannot accept, so it was disconnected for a minute. The reason: {{reason}}',
  },
  problem: {
    notRunning: 'Duet’s app is not running',
    cannotOpen: 'Duet could not open your profile',
    runHint: 'Run {{command}} (or the installed Duet app) instead of opening this page in a browser.',
    errorCode: 'Error code: {{code}}',
  },
  unlockData: {
    title: 'Your Duet data is locked',
    lead: 'Type the passphrase you chose for Duet on this computer.',
    passphrase: 'Passphrase',
    wrong: 'That passphrase does not open your Duet data. Try again.',
    unlocking: 'Unlocking…',
    unlock: 'Unlock',
    forgot:
      'Forgot it? Without the passphrase your messages on this computer cannot be opened; your partner’s devices still hold your shared history.',
  },
};

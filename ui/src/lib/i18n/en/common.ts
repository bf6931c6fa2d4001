/** Words many parts of the window share. */
export const common = {
  cancel: 'Cancel',
  close: 'Close',
  save: 'Save',
  remove: 'Remove',
  retry: 'Try again',
  /** A new passphrase refused (lib/passphrase.ts). */
  passphrase: {
    tooShort: 'Use at least {{min}} characters.',
    tooLong: 'That is too long: use at most 1,024 bytes.',
    differ: 'The two passphrases differ.',
  },
  offlineBanner:
    "You're offline: no device of yours or your partner's is reachable. Messages wait here and go out when one is.",
};

/** Words many parts of the window share. */
export const common = {
  cancel: 'Cancel',
  close: 'Close',
  save: 'Save',
  remove: 'Remove',
  retry: 'Try again',
  offlineBanner:
    "You're offline: no device of yours or your partner's is reachable. Messages wait here and go out when one is.",
};

/** How a presence reads: "Online", "Busy — do not disturb", "last seen 5 min ago". */
import type { Presence, PresenceStatus } from './backend';
import { t } from './i18n/index.svelte';
import { ago } from './time';

/** A status in words, in the window's language: "Online", "Away"… */
export function statusLabel(status: PresenceStatus): string {
  return t(`lib.presence.status.${status}`);
}

/** The status someone shows to others (invisible looks offline). */
export function shownStatus(p: Presence | undefined): PresenceStatus {
  if (!p) return 'offline';
  return p.status === 'invisible' ? 'offline' : p.status;
}

/** "last seen 5 min ago", or null while online or never seen. */
export function lastSeen(p: Presence | undefined, now: number): string | null {
  if (!p || shownStatus(p) === 'online' || p.last_seen === null) return null;
  return t('lib.presence.lastSeen', { when: ago(p.last_seen, now) });
}

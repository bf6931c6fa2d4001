/** How a presence reads: "Online", "Busy — do not disturb", "last seen 5 min ago". */
import type { Presence, PresenceStatus } from './backend';
import { ago } from './time';

export const STATUS_LABEL: Record<PresenceStatus, string> = {
  online: 'Online',
  away: 'Away',
  busy: 'Busy',
  invisible: 'Invisible',
  offline: 'Offline',
};

/** The status someone shows to others (invisible looks offline). */
export function shownStatus(p: Presence | undefined): PresenceStatus {
  if (!p) return 'offline';
  return p.status === 'invisible' ? 'offline' : p.status;
}

/** "last seen 5 min ago", or null while online or never seen. */
export function lastSeen(p: Presence | undefined, now: number): string | null {
  if (!p || shownStatus(p) === 'online' || p.last_seen === null) return null;
  return `last seen ${ago(p.last_seen, now)}`;
}

/**
 * What the node says went wrong on its own, not in answer to something I did: a device that
 * signed two versions of its history (`fork`), a device whose clock runs ahead
 * (`clock_ahead`), a device cut off for sending what Duet cannot accept (`peer_rejected`), a
 * part of Duet that failed (`failed`). Each is shown once, in the node's own words, until
 * dismissed; the same kind for the same device (or part) is not shown twice meanwhile. A part
 * that was restarted goes by itself after a while; one that stopped stays until dismissed.
 */
import type { AppEvent, DeviceId } from '../lib/backend';
import { t } from '../lib/i18n/index.svelte';
import { onNodeEvent } from '../lib/nodeEvents';
import { session } from '../lib/session.svelte';

export type NoticeKind = 'fork' | 'clock_ahead' | 'failed' | 'peer_rejected';

export interface Notice {
  /** The kind and the device (or the part): one notice per key until it is dismissed. */
  key: string;
  kind: NoticeKind;
  title: string;
  text: string;
  /** Stays until dismissed (else a restarted part's notice goes by itself). */
  lasting: boolean;
}

/** How long the notice of a part that failed and was restarted stays. */
export const RESTARTED_NOTICE_MS = 20_000;

/** A sentence: a capital first letter and a full stop. */
function sentence(text: string): string {
  const trimmed = text.trim();
  const first = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/**
 * What a device that was cut off did, said of whose it is: "One of your devices", "Ben’s
 * device", "Your partner’s device" or "A device" (not known here yet), each a sentence of its own.
 */
function rejected(device: DeviceId, reason: string): string {
  if (session.me?.devices.includes(device)) return t('app.notices.rejectedMine', { reason });
  const partner = session.partner;
  if (partner?.devices.includes(device)) {
    return partner.display_name.trim()
      ? t('app.notices.rejectedPartner', { name: partner.display_name, reason })
      : t('app.notices.rejectedYourPartner', { reason });
  }
  return t('app.notices.rejectedUnknown', { reason });
}

/** The notice an event makes, or `null` for the events that are not notices. */
export function noticeOf(event: AppEvent): Notice | null {
  switch (event.event) {
    case 'fork':
      return {
        key: `fork:${event.device}`,
        kind: 'fork',
        title: t('app.notices.forkTitle'),
        text: sentence(event.message),
        lasting: true,
      };
    case 'clock_ahead':
      return {
        key: `clock_ahead:${event.device}`,
        kind: 'clock_ahead',
        title: t('app.notices.clockAheadTitle'),
        text: sentence(event.message),
        lasting: true,
      };
    case 'peer_rejected':
      return {
        key: `peer_rejected:${event.device}`,
        kind: 'peer_rejected',
        title: t('app.notices.rejectedTitle'),
        text: rejected(event.device, sentence(event.reason)),
        lasting: true,
      };
    case 'failed':
      return event.restarting
        ? {
            key: `failed:${event.part}`,
            kind: 'failed',
            title: t('app.notices.recoveredTitle'),
            text: sentence(event.message),
            lasting: false,
          }
        : {
            key: `failed:${event.part}`,
            kind: 'failed',
            title: t('app.notices.stoppedTitle', { part: event.part }),
            text: sentence(event.message),
            lasting: true,
          };
    default:
      return null;
  }
}

export class Notices {
  shown = $state.raw<Notice[]>([]);
  #timers = new Map<string, ReturnType<typeof setTimeout>>();

  /** Shows the event's notice unless one for the same kind and device is showing. */
  handle(event: AppEvent): void {
    const notice = noticeOf(event);
    if (!notice) return;
    const showing = this.shown.find((n) => n.key === notice.key);
    if (showing) {
      // Only a worse word replaces it: a part that was restarting and has now stopped.
      if (showing.lasting || !notice.lasting) return;
      this.shown = this.shown.map((n) => (n.key === notice.key ? notice : n));
    } else {
      this.shown = [...this.shown, notice];
    }
    this.#unschedule(notice.key);
    if (!notice.lasting) {
      this.#timers.set(
        notice.key,
        setTimeout(() => this.dismiss(notice.key), RESTARTED_NOTICE_MS),
      );
    }
  }

  dismiss(key: string): void {
    this.#unschedule(key);
    this.shown = this.shown.filter((n) => n.key !== key);
  }

  /** Forgets everything (tests). */
  clear(): void {
    for (const key of [...this.#timers.keys()]) this.#unschedule(key);
    this.shown = [];
  }

  follow(): () => void {
    return onNodeEvent((event) => this.handle(event));
  }

  #unschedule(key: string): void {
    const timer = this.#timers.get(key);
    if (timer !== undefined) clearTimeout(timer);
    this.#timers.delete(key);
  }
}

export const notices = new Notices();

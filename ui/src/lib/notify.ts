/**
 * Desktop notifications, behind a small interface: the shell's `notify` command inside the
 * app, the webview's `Notification` API elsewhere; `useNotifier` swaps in another.
 *
 * `shouldNotify` is the rule: only my partner's new messages, never while I am busy, never
 * for a muted conversation, never for the conversation I am looking at in a focused window.
 * `missedCallNotification`: a call that rang here and nobody answered ("Missed call from
 * Ben"), even in a focused window (the person was away from it), but not while I am busy.
 * `reminderNotification`: a shared date's reminder ("⏰ Dinner at Lisbon", "Today at 19:00"),
 * not while I am busy.
 */
import {
  backendPresent,
  notify,
  type CallInfo,
  type Conversation,
  type Message,
  type PersonId,
  type PresenceStatus,
  type Target,
} from './backend';
import { t } from './i18n/index.svelte';
import { sameTarget, targetOf } from './target';
import { clockTime, momentLabel } from './time';

export interface Notifier {
  /** Shows a notification; `onclick` (where supported) brings the conversation forward. */
  show(title: string, body: string, onclick?: () => void): void;
}

/** The webview's own notifications; asks for permission the first time. */
export const webNotifier: Notifier = {
  show(title, body, onclick) {
    if (typeof Notification === 'undefined') return;
    const post = () => {
      const n = new Notification(title, { body, silent: false });
      if (onclick) {
        n.onclick = () => {
          window.focus();
          onclick();
        };
      }
    };
    if (Notification.permission === 'granted') {
      post();
    } else if (Notification.permission !== 'denied') {
      void Notification.requestPermission().then((p) => {
        if (p === 'granted') post();
      });
    }
  },
};

/** The desktop's notifications, through the shell (which knows the platform best). */
export const shellNotifier: Notifier = {
  show(title, body) {
    void notify(title, body).then((outcome) => {
      if (!outcome.ok) console.warn('notification not shown:', outcome.error.message);
    });
  },
};

let current: Notifier | null = null;

export function notifier(): Notifier {
  return current ?? (backendPresent() ? shellNotifier : webNotifier);
}

export function useNotifier(n: Notifier): void {
  current = n;
}

export interface NotifyContext {
  message: Message;
  me: PersonId | null;
  myStatus: PresenceStatus | null;
  conversation: Conversation | undefined;
  /** The conversation on screen. */
  openTarget: Target | null;
  /** Whether the window is focused and visible. */
  windowActive: boolean;
}

export function shouldNotify(c: NotifyContext): boolean {
  if (c.message.sender === c.me || c.message.deleted) return false;
  if (c.myStatus === 'busy') return false;
  if (c.conversation?.muted) return false;
  if (c.windowActive && c.openTarget && sameTarget(c.openTarget, targetOf(c.message))) return false;
  return true;
}

/**
 * The notification for a call that ended here, if it is one to tell: my partner's call rang
 * on this device and ran out with nobody answering (`missed`). A call I declined, answered on
 * another device or that my partner gave up on is not a missed call here.
 */
export function missedCallNotification(
  call: CallInfo,
  myStatus: PresenceStatus | null,
  nameOf: (id: PersonId) => string,
): { title: string; body: string } | null {
  if (call.direction !== 'incoming' || call.phase !== 'ended' || call.outcome !== 'missed') return null;
  if (myStatus === 'busy') return null;
  const time = clockTime(call.started_at);
  return {
    title: t('lib.notify.missedCall', { name: nameOf(call.caller) }),
    body: call.kind === 'video' ? t('lib.notify.missedVideoCall', { time }) : t('lib.notify.missedVoiceCall', { time }),
  };
}

/**
 * The notification for my partner's "thinking of you" nudge: none when the node says it came
 * while I am busy (`silent`; the card still shows it, quietly), nor for one of my own.
 */
export function nudgeNotification(
  event: { person: PersonId; silent: boolean },
  me: PersonId | null,
  nameOf: (id: PersonId) => string,
): { title: string; body: string } | null {
  if (event.silent || event.person === me) return null;
  return { title: t('lib.notify.nudgeTitle', { name: nameOf(event.person) }), body: t('lib.notify.nudgeBody') };
}

/**
 * The notification for a shared date's reminder, which came on this device: its title and
 * when it is, in local time ("Today at 19:00", or its date when not today). None when the
 * node says it came while I am busy (`silent`).
 */
export function reminderNotification(
  event: { title: string; at: number; silent: boolean },
  now: number,
): { title: string; body: string } | null {
  if (event.silent) return null;
  return { title: `⏰ ${event.title}`, body: momentLabel(event.at, now) };
}

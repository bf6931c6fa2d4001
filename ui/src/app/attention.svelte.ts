/**
 * What reaches me when I am not looking: desktop notifications for my partner's new messages
 * (not while busy, not for a muted conversation, not for the one open in a focused window)
 * and for a call of theirs that rang here with nobody answering, and their "thinking of you"
 * nudges and our shared dates' reminders (not those the node marks silent, because I am busy),
 * and the unread total on the tray icon and in the window title. Also tells the node I am
 * active (it turns "away" back to "online").
 */
import { setDesktopWords, setUnreadBadge, touch, type Target } from '../lib/backend';
import { directory } from '../lib/directory.svelte';
import { language, t } from '../lib/i18n/index.svelte';
import { onNodeEvent } from '../lib/nodeEvents';
import { missedCallNotification, notifier, nudgeNotification, reminderNotification, shouldNotify } from '../lib/notify';
import { presenceBook } from '../lib/presence.svelte';
import { session } from '../lib/session.svelte';
import { targetOf } from '../lib/target';
import { excerpt } from '../lib/text';
import { windowActive } from '../lib/windowActive.svelte';

const TOUCH_EVERY_MS = 20_000;

/** Starts following; returns the function that stops. Call inside an effect. */
export function followAttention(openTarget: () => Target | null, open: (t: Target) => void): () => void {
  // The node says a call ended once; a resync could say it again.
  let missedTold: string | null = null;
  const stopEvents = onNodeEvent((event) => {
    if (event.event === 'call') {
      const me = session.me?.id ?? null;
      const missed = missedCallNotification(event.call, me ? (presenceBook.of(me)?.status ?? null) : null, (id) => session.nameOf(id));
      if (missed && missedTold !== event.call.id) {
        missedTold = event.call.id;
        notifier().show(missed.title, missed.body, () => open('direct'));
      }
      return;
    }
    if (event.event === 'nudged') {
      const nudge = nudgeNotification(event, session.me?.id ?? null, (id) => session.nameOf(id));
      if (nudge) notifier().show(nudge.title, nudge.body, () => open('direct'));
      return;
    }
    if (event.event === 'reminder') {
      // Clicking it only brings the window forward (the web notifier focuses it).
      const reminder = reminderNotification(event, Date.now());
      if (reminder) notifier().show(reminder.title, reminder.body, () => {});
      return;
    }
    if (event.event !== 'message_new') return;
    const message = event.message;
    const target = targetOf(message);
    const me = session.me?.id ?? null;
    const ok = shouldNotify({
      message,
      me,
      myStatus: me ? (presenceBook.of(me)?.status ?? null) : null,
      conversation: directory.conversation(target),
      openTarget: openTarget(),
      windowActive: windowActive(),
    });
    if (!ok) return;
    const from = session.nameOf(message.sender);
    const channel = target === 'direct' ? undefined : directory.channel(target.channel)?.name;
    const where =
      target === 'direct'
        ? from
        : channel !== undefined
          ? t('app.attention.inChannel', { name: from, channel })
          : t('app.attention.inUnknownChannel', { name: from });
    notifier().show(where, excerpt(message.content, 140), () => open(target));
  });

  let lastTouch = 0;
  const active = () => {
    const now = Date.now();
    if (now - lastTouch < TOUCH_EVERY_MS) return;
    lastTouch = now;
    void touch();
  };
  window.addEventListener('keydown', active, { passive: true });
  window.addEventListener('pointerdown', active, { passive: true });

  const stopBadge = $effect.root(() => {
    $effect(() => {
      const total = directory.unreadTotal;
      document.title = total > 0 ? `(${total}) Duet` : 'Duet';
      void setUnreadBadge(total, total > 0 ? t('app.desktop.unread', { count: total }) : null);
    });
    // The tray menu and a locked notification speak the window's language, and follow it.
    $effect(() => {
      void language.current;
      void setDesktopWords(t('app.desktop.open'), t('app.desktop.quit'), t('app.desktop.lockedMessage'));
    });
  });

  return () => {
    stopEvents();
    stopBadge();
    window.removeEventListener('keydown', active);
    window.removeEventListener('pointerdown', active);
  };
}

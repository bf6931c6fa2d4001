/**
 * Whether I am looking at the window: it is visible, not under the app lock, and it has the
 * focus or I used it (a key, a click, the wheel) in the last minute and it has not lost the
 * focus since. Messages on screen count as read only then, and notifications are held back
 * only then: behind the lock screen nothing is seen, so nothing is marked read.
 *
 * Recent input counts because focus alone is not reliable: without a window manager (Xvfb)
 * or with two Duet windows side by side, the window I type in may never get focus events.
 */
import { createSubscriber } from 'svelte/reactivity';

import { appLock } from '../app/appLock.svelte';

const RECENT_INPUT_MS = 60_000;

let lastInput = 0;

const subscribe = createSubscriber((update) => {
  let expiry: ReturnType<typeof setTimeout> | undefined;
  const input = () => {
    const wasRecent = Date.now() - lastInput < RECENT_INPUT_MS;
    lastInput = Date.now();
    clearTimeout(expiry);
    expiry = setTimeout(update, RECENT_INPUT_MS + 10);
    if (!wasRecent) update();
  };
  const blur = () => {
    lastInput = 0;
    update();
  };
  const inputs = ['keydown', 'pointerdown', 'wheel'] as const;
  for (const e of inputs) window.addEventListener(e, input, { capture: true, passive: true });
  window.addEventListener('focus', update);
  window.addEventListener('blur', blur);
  document.addEventListener('visibilitychange', update);
  return () => {
    clearTimeout(expiry);
    for (const e of inputs) window.removeEventListener(e, input, { capture: true });
    window.removeEventListener('focus', update);
    window.removeEventListener('blur', blur);
    document.removeEventListener('visibilitychange', update);
  };
});

export function windowActive(): boolean {
  subscribe();
  if (document.visibilityState !== 'visible' || appLock.status.locked) return false;
  return document.hasFocus() || Date.now() - lastInput < RECENT_INPUT_MS;
}

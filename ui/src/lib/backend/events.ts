/**
 * Node events, pushed by the shell on the Tauri event `duet://event` (and `duet://resync`
 * when events were missed), and what a call's devices say later (`duet://call-notice`). The
 * only `listen` in the UI.
 */
import { listen } from '@tauri-apps/api/event';

import { backendPresent } from './ipc';
import type { AppEvent, CallNotice, NodeEvent } from './types';

/** The Tauri event names the shell emits (`src-tauri/src/events.rs`). */
export const NODE_EVENT = 'duet://event';
export const RESYNC_EVENT = 'duet://resync';
export const CALL_NOTICE_EVENT = 'duet://call-notice';

/**
 * Calls `handler` for every node event until the returned function is called. Outside the
 * desktop app it does nothing (and the returned function too).
 */
export async function onNodeEvent(handler: (event: AppEvent) => void): Promise<() => void> {
  if (!backendPresent()) {
    return () => {};
  }
  const stops = await Promise.all([
    listen<NodeEvent>(NODE_EVENT, (e) => handler(e.payload)),
    listen<null>(RESYNC_EVENT, () => handler({ event: 'resync' })),
    listen<CallNotice>(CALL_NOTICE_EVENT, (e) => handler({ event: 'call_notice', ...e.payload })),
  ]);
  return () => {
    for (const stop of stops) stop();
  };
}

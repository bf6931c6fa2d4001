/**
 * Node events, pushed by the shell on the Tauri event `duet://event` (and `duet://resync`
 * when events were missed). The only `listen` in the UI.
 */
import { listen } from '@tauri-apps/api/event';

import { backendPresent } from './ipc';
import type { AppEvent, NodeEvent } from './types';

/** The Tauri event names the shell emits (`src-tauri/src/events.rs`). */
export const NODE_EVENT = 'duet://event';
export const RESYNC_EVENT = 'duet://resync';

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
  ]);
  return () => {
    for (const stop of stops) stop();
  };
}

/**
 * One subscription to the node's events, shared by every feature: each store registers a
 * handler here instead of opening its own listener.
 */
import { onNodeEvent as listenToNode, type AppEvent } from './backend';

type Handler = (event: AppEvent) => void;

const handlers = new Set<Handler>();
let stop: (() => void) | null = null;

/** Starts listening (once); returns a function that stops. */
export async function startNodeEvents(): Promise<() => void> {
  if (!stop) {
    const unlisten = await listenToNode((event) => {
      for (const handler of [...handlers]) {
        try {
          handler(event);
        } catch (error) {
          console.error('a node event handler failed', event.event, error);
        }
      }
    });
    stop = () => {
      unlisten();
      stop = null;
    };
  }
  return () => stop?.();
}

/** Calls `handler` for every node event until the returned function is called. */
export function onNodeEvent(handler: Handler): () => void {
  handlers.add(handler);
  return () => handlers.delete(handler);
}

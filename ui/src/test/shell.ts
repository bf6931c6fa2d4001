/** Test helper: Tauri's IPC mocked by one of the fake backend's parts, every call kept. */
import { emit } from '@tauri-apps/api/event';
import { mockIPC } from '@tauri-apps/api/mocks';

import { NODE_EVENT, type NodeEvent } from '../lib/backend';
import { UNHANDLED } from '../dev/fakeMedia';

export type Args = Record<string, unknown>;

/** A fake's node events go to the app's listener; one due after the test ended (its mock gone) is dropped. */
export const toNodeEvents = (event: NodeEvent) => void emit(NODE_EVENT, event).catch(() => {});

/**
 * Mocks the shell: the commands `fake` handles go to it, `other` answers the rest (`undefined`:
 * null). Returns every call, in order.
 */
export function mockShell(
  fake: { handle(cmd: string, args: Args): unknown },
  other: (cmd: string, args: Args) => unknown = () => undefined,
): [string, Args][] {
  const calls: [string, Args][] = [];
  mockIPC(
    (cmd, raw) => {
      const args = (raw ?? {}) as Args;
      calls.push([cmd, args]);
      const answer = fake.handle(cmd, args);
      if (answer !== UNHANDLED) return answer;
      return other(cmd, args) ?? null;
    },
    { shouldMockEvents: true },
  );
  return calls;
}

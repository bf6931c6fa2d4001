/** Test helpers: a node holding shared lists (the fake backend's, `dev/fakeLists.ts`) on Tauri's IPC mock. */
import { emit } from '@tauri-apps/api/event';
import { mockIPC } from '@tauri-apps/api/mocks';

import { NODE_EVENT, type SharedList } from '../lib/backend';
import { FakeLists } from '../dev/fakeLists';
import { UNHANDLED } from '../dev/fakeMedia';

type Args = Record<string, unknown>;

/**
 * Mocks the shell: the list commands go to a `FakeLists` (which says `list_changed` after each
 * change, as the node does), `other` answers the rest (`undefined`: null). Every call is kept.
 */
export function listsNode(other: (cmd: string, args: Args) => unknown = () => undefined) {
  const calls: [string, Args][] = [];
  // An event due after the test ended (its mock gone) is dropped.
  const fake = new FakeLists((event) => void emit(NODE_EVENT, event).catch(() => {}));
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
  return {
    fake,
    calls,
    /** The commands called, without their arguments. */
    commands: () => calls.map(([cmd]) => cmd),
    /** Makes a list with these items (unticked) straight in the node. */
    make(title: string, items: string[] = []): SharedList {
      let list = fake.handle('create_list', { title }) as SharedList;
      for (const text of items) list = fake.handle('add_list_item', { list: list.id, text, place: null }) as SharedList;
      return list;
    },
  };
}

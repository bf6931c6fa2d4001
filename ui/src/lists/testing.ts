/** Test helpers: a node holding shared lists (the fake backend's, `dev/fakeLists.ts`) on Tauri's IPC mock. */
import type { SharedList } from '../lib/backend';
import { FakeLists } from '../dev/fakeLists';
import { mockShell, toNodeEvents, type Args } from '../test/shell';

/**
 * Mocks the shell: the list commands go to a `FakeLists` (which says `list_changed` after each
 * change, as the node does), `other` answers the rest (`undefined`: null). Every call is kept.
 */
export function listsNode(other: (cmd: string, args: Args) => unknown = () => undefined) {
  const fake = new FakeLists(toNodeEvents);
  const calls = mockShell(fake, other);
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

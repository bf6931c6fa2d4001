/**
 * Our memories: the photos, videos and sounds (voice notes included) we shared in every
 * conversation, newest first, a page at a time; "On this day" (this date in earlier years);
 * and whether the gallery is open in the main pane instead of the conversation.
 *
 * Loaded when the gallery opens; reloaded (the pages held, merged by id) when a message with
 * media arrives or changes, when pins change and on a resync, so a photo my partner sends
 * appears. Keeping a moment is pinning its message in its conversation: shown at once, put
 * back if the node refuses, and a reload meanwhile does not undo it.
 */
import { SvelteSet } from 'svelte/reactivity';

import { memories, memoriesIn, pinMessage, type AppError, type AppEvent, type Memory, type MessageId } from '../lib/backend';
import { onNodeEvent } from '../lib/nodeEvents';
import { targetOf } from '../lib/target';
import { newestFirst, onThisDayWindows, type YearWindow } from './days';
import { isMemory } from './tiles';

/** How many memories one page asks for. */
export const PAGE = 60;
/** The most the node answers at once. */
const MAX_PAGE = 200;

export class MemoriesBook {
  /** Shown in the main pane instead of a conversation or a list. */
  open = $state(false);
  /** The pages loaded so far, newest first. */
  items = $state.raw<Memory[]>([]);
  /** Memories made on this month and day in earlier years, newest first. */
  onThisDay = $state.raw<Memory[]>([]);
  loaded = $state(false);
  loadingOlder = $state(false);
  hasOlder = $state(false);
  /** Why the last load failed, in words. */
  error = $state<string | null>(null);
  /** Messages whose pin is on its way to the node. */
  readonly pinning = new SvelteSet<MessageId>();

  /** The pinned state asked for, while on its way (a reload keeps it). */
  #wanted = new Map<MessageId, boolean>();
  #seq = 0;
  #reloading: Promise<void> | null = null;
  #reloadAgain = false;

  show(): void {
    this.open = true;
  }

  close(): void {
    this.open = false;
  }

  find(id: MessageId): Memory | undefined {
    return this.items.find((m) => m.message.id === id) ?? this.onThisDay.find((m) => m.message.id === id);
  }

  /** The newest page, and "On this day" for `today`. */
  async load(today: number = Date.now()): Promise<void> {
    const ask = ++this.#seq;
    const [page] = await Promise.all([memories(null, PAGE), this.loadOnThisDay(today)]);
    if (ask !== this.#seq) return;
    if (!page.ok) {
      this.error = page.error.message;
      this.loaded = true;
      return;
    }
    const got = list(page.value);
    this.items = this.#keepWanted(got);
    this.hasOlder = got.length >= PAGE;
    this.error = null;
    this.loaded = true;
  }

  /** The next older page (after the last one shown); repeated calls while loading are ignored. */
  async loadOlder(): Promise<void> {
    if (this.loadingOlder || !this.hasOlder || !this.loaded) return;
    const last = this.items[this.items.length - 1];
    if (!last) return;
    this.loadingOlder = true;
    try {
      const page = await memories(last.message.id, PAGE);
      if (!page.ok) {
        this.error = page.error.message;
        return;
      }
      const got = list(page.value);
      this.items = this.#keepWanted(merge(this.items, got));
      this.hasOlder = got.length >= PAGE;
      this.error = null;
    } finally {
      this.loadingOlder = false;
    }
  }

  /** Memories made today's month and day in earlier years. */
  async loadOnThisDay(today: number = Date.now()): Promise<void> {
    const windows = onThisDayWindows(today).map((w: YearWindow) => w.window);
    const outcome = await memoriesIn(windows);
    if (!outcome.ok) return;
    this.onThisDay = this.#keepWanted(list(outcome.value));
  }

  /**
   * Reloads what is held (the newest pages down to the oldest memory shown) and merges it:
   * new memories appear, deleted ones go, pins follow. Calls coalesce.
   */
  reload(): Promise<void> {
    if (this.#reloading) {
      this.#reloadAgain = true;
      return this.#reloading;
    }
    this.#reloading = (async () => {
      do {
        this.#reloadAgain = false;
        await Promise.all([this.#reloadPages(), this.loadOnThisDay()]);
      } while (this.#reloadAgain);
    })().finally(() => (this.#reloading = null));
    return this.#reloading;
  }

  async #reloadPages(): Promise<void> {
    const oldest = this.items[this.items.length - 1]?.message.id ?? null;
    const got: Memory[] = [];
    let before: MessageId | null = null;
    let more = true;
    for (;;) {
      const limit = oldest ? MAX_PAGE : PAGE;
      const page = await memories(before, limit);
      if (!page.ok) return;
      const value = list(page.value);
      got.push(...value);
      const last = value[value.length - 1];
      if (value.length < limit || !last) {
        more = false;
        break;
      }
      if (!oldest || last.message.id <= oldest) break;
      before = last.message.id;
    }
    // Older pages (held before, or loaded while this ran) stay below what was reloaded.
    const reached = got[got.length - 1]?.message.id;
    const below = more && reached ? this.items.filter((m) => m.message.id < reached) : [];
    this.#seq += 1;
    this.items = this.#keepWanted(merge(got, below));
    if (!more) this.hasOlder = false;
    else if (!oldest) this.hasOlder = true;
    this.loaded = true;
    this.error = null;
  }

  /** Keeps or lets go of a moment (pins or unpins its message): at once, put back if refused. */
  async setPinned(id: MessageId, pinned: boolean): Promise<AppError | null> {
    const memory = this.find(id);
    if (!memory || this.pinning.has(id)) return null;
    const before = memory.pinned;
    this.#wanted.set(id, pinned);
    this.pinning.add(id);
    this.#patch(id, pinned);
    const outcome = await pinMessage(targetOf(memory.message), id, pinned);
    this.#wanted.delete(id);
    this.pinning.delete(id);
    if (!outcome.ok) {
      this.#patch(id, before);
      return outcome.error;
    }
    return null;
  }

  handle(event: AppEvent): void {
    switch (event.event) {
      case 'message_new':
        if (isMemory(event.message.attachments)) void this.reload();
        break;
      case 'message_changed':
        if (this.find(event.message.id) || isMemory(event.message.attachments)) void this.reload();
        break;
      case 'pins_changed':
      case 'resync':
      case 'paired':
        void this.reload();
        break;
    }
  }

  /** Follows the node's events (while the gallery shows). */
  follow(): () => void {
    return onNodeEvent((event) => this.handle(event));
  }

  /** Forgets everything (tests). */
  clear(): void {
    this.#seq += 1;
    this.#wanted.clear();
    this.pinning.clear();
    this.items = [];
    this.onThisDay = [];
    this.loaded = false;
    this.loadingOlder = false;
    this.hasOlder = false;
    this.error = null;
    this.open = false;
  }

  #patch(id: MessageId, pinned: boolean): void {
    const set = (ms: Memory[]) => ms.map((m) => (m.message.id === id && m.pinned !== pinned ? { ...m, pinned } : m));
    this.items = set(this.items);
    this.onThisDay = set(this.onThisDay);
  }

  /** A pin on its way wins over what a load brought. */
  #keepWanted(ms: Memory[]): Memory[] {
    if (this.#wanted.size === 0) return ms;
    return ms.map((m) => {
      const wanted = this.#wanted.get(m.message.id);
      return wanted === undefined || wanted === m.pinned ? m : { ...m, pinned: wanted };
    });
  }
}

function list(value: Memory[] | null | undefined): Memory[] {
  return Array.isArray(value) ? value : [];
}

/** Both, newest first, one per message (the first given wins). */
function merge(a: readonly Memory[], b: readonly Memory[]): Memory[] {
  const seen = new Set<MessageId>();
  const out: Memory[] = [];
  for (const m of [...a, ...b]) {
    if (seen.has(m.message.id)) continue;
    seen.add(m.message.id);
    out.push(m);
  }
  return out.sort(newestFirst);
}

export const memoriesBook = new MemoriesBook();

/**
 * Our shared lists (groceries, plans, to-dos), as the sidebar and the open list show them, and
 * which one is open in the main pane (`null`: the conversation is).
 *
 * Loaded when the layout opens, reloaded when the node says a list changed (`list_changed`: a
 * change here or on my partner's devices), after pairing and on a resync. A change made here
 * shows the list the node answered with; ticking is shown at once and put back if refused.
 * An answer or a load never overwrites a newer one: a load that started before a change made
 * here keeps that list as the change left it, and a list with a change still on its way keeps
 * what is shown until the last answer arrives.
 *
 * A list deleted elsewhere (my partner, my other device) while open closes, with a short notice.
 */
import {
  addListItem,
  createList,
  deleteList,
  lists,
  moveListItem,
  removeListItem,
  renameList,
  setListItem,
  type AppError,
  type AppEvent,
  type ItemId,
  type ListId,
  type Outcome,
  type Place,
  type SharedList,
} from '../lib/backend';
import { t } from '../lib/i18n/index.svelte';
import { onNodeEvent } from '../lib/nodeEvents';

/** How long the "was deleted" notice stays. */
const NOTICE_MS = 8_000;

/** Unchecked items, as the sidebar counts them: "3 left", "all done", "empty". */
export function leftText(list: SharedList): string {
  if (list.items.length === 0) return t('lists.left.empty');
  const left = list.items.filter((i) => !i.checked).length;
  return left === 0 ? t('lists.left.allDone') : t('lists.left.count', { count: left });
}

/** The most recently changed first, as the node orders them. */
function byChange(a: SharedList, b: SharedList): number {
  return b.updated_at - a.updated_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export class ListsBook {
  /** As the node last told, most recently changed first. */
  all = $state.raw<SharedList[]>([]);
  /** Whether the node has answered once. */
  loaded = $state(false);
  /** Why the last load failed, in words (`null` when it did not). */
  error = $state<string | null>(null);
  /** The list shown in the main pane instead of a conversation. */
  open = $state<ListId | null>(null);
  /** A short word about the open list going away (deleted elsewhere), in the window's language. */
  get notice(): string | null {
    const gone = this.#gone;
    if (!gone) return null;
    return gone.title ? t('lists.notice.deletedNamed', { title: gone.title }) : t('lists.notice.deleted');
  }

  /** Counts loads and changes, to tell which came later. */
  #seq = 0;
  /** The newest load asked for. */
  #lastLoad = 0;
  /** When (in `#seq`) each list was last changed here. */
  #changed = new Map<ListId, number>();
  /** Changes of each list still waiting for the node's answer. */
  #pending = new Map<ListId, number>();
  /** Lists deleted here (their going away is not news). */
  #deletedHere = new Set<ListId>();
  /** The open list that went away (deleted elsewhere), while the notice about it shows. */
  #gone = $state<{ title: string | undefined } | null>(null);
  #noticeTimer: ReturnType<typeof setTimeout> | undefined;

  get(id: ListId): SharedList | undefined {
    return this.all.find((l) => l.id === id);
  }

  async load(): Promise<void> {
    const ask = ++this.#seq;
    this.#lastLoad = ask;
    const outcome = await lists();
    if (ask !== this.#lastLoad) return;
    if (!outcome.ok) {
      this.error = outcome.error.message;
      return;
    }
    // What changed here after this load was asked for (or is still changing) stays as shown.
    const newer = (id: ListId) => (this.#changed.get(id) ?? 0) > ask || this.#pending.has(id);
    const fresh = (outcome.value ?? [])
      .filter((l) => !(this.#deletedHere.has(l.id) && newer(l.id)))
      .map((l) => (newer(l.id) ? (this.get(l.id) ?? l) : l));
    const kept = this.all.filter((l) => newer(l.id) && !fresh.some((f) => f.id === l.id) && !this.#deletedHere.has(l.id));
    const open = this.open ? this.get(this.open) : undefined;
    this.all = [...fresh, ...kept].sort(byChange);
    this.error = null;
    this.loaded = true;
    if (this.open && !this.get(this.open)) this.#closeGone(this.open, open?.title);
  }

  /** Shows `id` in the main pane. */
  show(id: ListId): void {
    this.open = id;
    this.dismiss();
  }

  /** Back to the conversation. */
  close(): void {
    this.open = null;
  }

  dismiss(): void {
    clearTimeout(this.#noticeTimer);
    this.#gone = null;
  }

  /** Makes a list and opens it; the node's refusal in words otherwise. */
  async create(title: string): Promise<AppError | null> {
    const outcome = await createList(title);
    if (!outcome.ok) return outcome.error;
    this.#put(outcome.value);
    this.show(outcome.value.id);
    return null;
  }

  rename(list: ListId, title: string): Promise<AppError | null> {
    return this.#change(list, () => renameList(list, title));
  }

  add(list: ListId, text: string, place?: Place): Promise<AppError | null> {
    return this.#change(list, () => addListItem(list, text, place));
  }

  /** Changes an item's text. */
  edit(list: ListId, item: ItemId, text: string): Promise<AppError | null> {
    return this.#change(list, () => setListItem(list, item, { text }));
  }

  /** Ticks or unticks an item: shown at once, put back if the node refuses. */
  async tick(list: ListId, item: ItemId, checked: boolean): Promise<AppError | null> {
    const before = this.get(list)?.items.find((i) => i.id === item)?.checked;
    this.#patchItem(list, item, checked);
    const error = await this.#change(list, () => setListItem(list, item, { checked }));
    if (error && before !== undefined && !this.#pending.has(list)) this.#patchItem(list, item, before);
    return error;
  }

  move(list: ListId, item: ItemId, place: Place): Promise<AppError | null> {
    return this.#change(list, () => moveListItem(list, item, place));
  }

  remove(list: ListId, item: ItemId): Promise<AppError | null> {
    return this.#change(list, () => removeListItem(list, item));
  }

  /** Deletes a list for both of us, and closes it. */
  async delete(list: ListId): Promise<AppError | null> {
    const outcome = await deleteList(list);
    // Already gone (deleted elsewhere meanwhile): as asked.
    if (!outcome.ok && outcome.error.code !== 'not_found') return outcome.error;
    this.#deletedHere.add(list);
    this.#changed.set(list, ++this.#seq);
    this.all = this.all.filter((l) => l.id !== list);
    if (this.open === list) this.open = null;
    return null;
  }

  handle(event: AppEvent): void {
    if (event.event === 'list_changed' || event.event === 'resync' || event.event === 'paired') void this.load();
  }

  follow(): () => void {
    return onNodeEvent((event) => this.handle(event));
  }

  /** Forgets everything (tests). */
  clear(): void {
    this.#seq += 1;
    this.#lastLoad = this.#seq;
    this.#changed.clear();
    this.#pending.clear();
    this.#deletedHere.clear();
    this.all = [];
    this.loaded = false;
    this.error = null;
    this.open = null;
    this.dismiss();
  }

  /** Runs a change of `list`; the node's answer is shown once no other change of it is on its way. */
  async #change(list: ListId, command: () => Promise<Outcome<SharedList>>): Promise<AppError | null> {
    this.#pending.set(list, (this.#pending.get(list) ?? 0) + 1);
    const outcome = await command();
    const left = (this.#pending.get(list) ?? 1) - 1;
    if (left > 0) this.#pending.set(list, left);
    else this.#pending.delete(list);
    if (outcome.ok) {
      if (left === 0) this.#put(outcome.value);
      return null;
    }
    // Gone meanwhile (deleted elsewhere): what the node holds now says so.
    if (outcome.error.code === 'not_found') void this.load();
    return outcome.error;
  }

  /** The node's answer about one list. */
  #put(list: SharedList): void {
    this.#changed.set(list.id, ++this.#seq);
    this.all = [...this.all.filter((l) => l.id !== list.id), list].sort(byChange);
    this.loaded = true;
  }

  #patchItem(list: ListId, item: ItemId, checked: boolean): void {
    this.all = this.all.map((l) =>
      l.id === list ? { ...l, items: l.items.map((i) => (i.id === item ? { ...i, checked } : i)) } : l,
    );
  }

  #closeGone(id: ListId, title: string | undefined): void {
    this.open = null;
    if (this.#deletedHere.has(id)) return;
    this.#gone = { title };
    clearTimeout(this.#noticeTimer);
    this.#noticeTimer = setTimeout(() => (this.#gone = null), NOTICE_MS);
  }
}

export const listsBook = new ListsBook();

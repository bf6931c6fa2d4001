/**
 * The fake backend's shared lists (see fakeBackend.ts), also the node the lists' tests talk to:
 * the eight list commands with the node's limits and words (a title 1–100 characters, an item
 * 1–500, 1,000 items a list), `list_changed` after every change, and my partner's changes
 * (`byPartner`). Seeded (`seed: true`) with our groceries and a trip; in the dev server Ben adds
 * croissants to the groceries half a minute in.
 */
import type { ListId, ListItem, NodeEvent, Place, SharedList } from '../lib/backend';
import { UNHANDLED } from './fakeMedia';

type Args = Record<string, unknown>;

const MAX_TITLE = 100;
const MAX_ITEM = 500;
const MAX_ITEMS = 1000;

const fail = (code: string, text: string): never => {
  throw { code, message: text };
};

/** Trimmed and checked as the node's `validate_name` does, in its words. */
function validName(field: string, text: unknown, max: number): string {
  const trimmed = String(text ?? '').trim();
  const n = [...trimmed].length;
  if (n === 0) fail('invalid_input', `${field} can't be empty`);
  if (n > max) fail('invalid_input', `${field} is too long: ${n} characters, the limit is ${max}`);
  if (/[\u0000-\u001f\u007f-\u009f]/.test(trimmed)) fail('invalid_input', `${field} can't contain control characters`);
  return trimmed;
}

/** A list as the fake node keeps it. */
export interface FakeList {
  title: string;
  items: ListItem[];
  updated_at: number;
}

export class FakeLists {
  readonly #kept = new Map<ListId, FakeList>();
  readonly #deleted = new Set<ListId>();
  readonly #delay: number;
  #made = 0;
  #clock = 0;

  /**
   * `send` delivers node events; `delay` (ms) is how long the node takes to answer (0: at once).
   */
  constructor(
    private readonly send: (event: NodeEvent) => void,
    { seed = false, delay = 0 }: { seed?: boolean; delay?: number } = {},
  ) {
    this.#delay = delay;
    if (seed) {
      const groceries = this.#make('Groceries', [
        ['Oat milk', false],
        ['Eggs', true],
        ['Sourdough bread', false],
        ['Basil', false],
      ]);
      this.#make('Lisbon trip', [
        ['Book the flights', true],
        ['Pack sunscreen', false],
        ['Find a fado bar', false],
      ]);
      setTimeout(() => {
        if (this.#kept.has(groceries)) this.byPartner(groceries, (l) => l.items.push(this.#item('Croissants 🥐')));
      }, 30_000);
    }
  }

  /** Answers a list command, or `UNHANDLED` for any other. */
  handle(cmd: string, a: Args): unknown {
    switch (cmd) {
      case 'lists':
        return this.#answer([...this.#kept.keys()].map((id) => this.#shown(id)).sort((x, y) => y.updated_at - x.updated_at || (x.id < y.id ? -1 : 1)));
      case 'create_list': {
        const id = this.#make(validName("a list's title", a.title, MAX_TITLE), []);
        return this.#answer(this.#shown(id), id);
      }
      case 'rename_list': {
        const title = validName("a list's title", a.title, MAX_TITLE);
        return this.#change(a.list, (l) => (l.title = title));
      }
      case 'delete_list': {
        const id = this.#find(a.list);
        this.#kept.delete(id);
        this.#deleted.add(id);
        return this.#answer(null, id);
      }
      case 'add_list_item': {
        const text = validName('a list item', a.text, MAX_ITEM);
        const id = this.#find(a.list);
        if (this.#kept.get(id)!.items.length >= MAX_ITEMS) {
          fail('not_allowed', `a list holds at most ${MAX_ITEMS} items: remove some done ones first`);
        }
        return this.#change(id, (l) => this.#place(l.items, this.#item(text), (a.place as Place | null) ?? { to: 'bottom' }));
      }
      case 'set_list_item': {
        const text = a.text == null ? null : validName('a list item', a.text, MAX_ITEM);
        const checked = a.checked == null ? null : Boolean(a.checked);
        return this.#change(a.list, (l) => {
          const item = this.#itemOf(l, a.item);
          if (text !== null) item.text = text;
          if (checked !== null) item.checked = checked;
        });
      }
      case 'move_list_item':
        return this.#change(a.list, (l) => {
          const item = this.#itemOf(l, a.item);
          const place = a.place as Place;
          if (place.to === 'after' && place.item === item.id) return;
          const others = l.items.filter((i) => i.id !== item.id);
          this.#place(others, item, place);
          l.items = others;
        });
      case 'remove_list_item':
        return this.#change(a.list, (l) => {
          const item = this.#itemOf(l, a.item);
          l.items = l.items.filter((i) => i !== item);
        });
      default:
        return UNHANDLED;
    }
  }

  /**
   * My partner changes a list (`change` edits it in place; `'delete'` deletes it); the node
   * says `list_changed`.
   */
  byPartner(list: ListId, change: ((list: FakeList) => void) | 'delete'): void {
    const kept = this.#kept.get(list);
    if (!kept) return;
    if (change === 'delete') {
      this.#kept.delete(list);
      this.#deleted.add(list);
    } else {
      change(kept);
      kept.updated_at = this.#now();
    }
    this.send({ event: 'list_changed', list });
  }

  /** A new item as the node makes it (for `byPartner`). */
  item(text: string): ListItem {
    return this.#item(text);
  }

  #now(): number {
    this.#clock = Math.max(Date.now(), this.#clock + 1);
    return this.#clock;
  }

  #make(title: string, items: [string, boolean][]): ListId {
    this.#made += 1;
    const id = `1${this.#made.toString(16).padStart(31, '0')}`;
    this.#kept.set(id, { title, items: items.map(([text, checked]) => ({ ...this.#item(text), checked })), updated_at: this.#now() });
    return id;
  }

  #item(text: string): ListItem {
    this.#made += 1;
    return { id: `2${this.#made.toString(16).padStart(31, '0')}`, text, checked: false };
  }

  #find(list: unknown): ListId {
    const id = String(list);
    if (this.#kept.has(id)) return id;
    return fail('not_found', this.#deleted.has(id) ? 'that list was deleted' : `there is no list ${id}`);
  }

  #itemOf(l: FakeList, item: unknown): ListItem {
    return l.items.find((i) => i.id === item) ?? fail('not_found', 'that item is not in the list (it may have been removed)');
  }

  #place(items: ListItem[], item: ListItem, place: Place): void {
    if (place.to === 'top') items.unshift(item);
    else if (place.to === 'bottom') items.push(item);
    else {
      const i = items.findIndex((x) => x.id === place.item);
      if (i < 0) fail('not_found', 'that item is not in the list');
      items.splice(i + 1, 0, item);
    }
  }

  /** Changes a list here: the node answers with the list as it is now, and says `list_changed`. */
  #change(list: unknown, change: (l: FakeList) => void): unknown {
    const id = this.#find(list);
    const kept = this.#kept.get(id)!;
    change(kept);
    kept.updated_at = this.#now();
    return this.#answer(this.#shown(id), id);
  }

  #shown(id: ListId): SharedList {
    const l = this.#kept.get(id)!;
    return { id, title: l.title, items: l.items.map((i) => ({ ...i })), updated_at: l.updated_at };
  }

  /** The answer, after the node's delay; a change also says `list_changed` (as the node does for its own writes). */
  #answer<T>(value: T, changed?: ListId): T | Promise<T> {
    if (changed) setTimeout(() => this.send({ event: 'list_changed', list: changed }), 0);
    return this.#delay > 0 ? new Promise((resolve) => setTimeout(() => resolve(value), this.#delay)) : value;
  }
}

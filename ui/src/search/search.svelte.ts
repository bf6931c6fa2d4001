/**
 * Search, in the main pane instead of a conversation (like Memories): what was typed, the
 * results (every message holding all the words, best first, as the node ranks them), and
 * whether it is open. A search runs a moment after typing stops; an answer to an older search
 * than the last one asked is dropped. "Before" (a day) looks further back: only messages
 * written before the end of that day.
 */
import { search, type Message, type Target } from '../lib/backend';
import { fromLocal } from '../lib/localTime.svelte';
import { queryWords } from './words';

/** How many results one search shows. */
export const RESULTS = 50;
/** How long typing must pause before a search runs. */
export const PAUSE_MS = 200;

export class SearchBook {
  /** Shown in the main pane instead of a conversation, a list or the memories. */
  open = $state(false);
  query = $state('');
  /** A day (`YYYY-MM-DD`): only messages written up to its end; empty: any time. */
  before = $state('');
  /** Only this conversation's messages; `null`: everywhere. */
  within = $state<Target | null>(null);
  results = $state.raw<Message[]>([]);
  /** The words the results were found by (folded), to mark them. */
  words = $state.raw<string[]>([]);
  /** The query the results answer (so "nothing found" names it). */
  answered = $state<string | null>(null);
  searching = $state(false);
  /** Why the last search failed, in words. */
  error = $state<string | null>(null);

  #seq = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  show(): void {
    this.open = true;
  }

  close(): void {
    this.open = false;
    clearTimeout(this.#timer);
  }

  /** Runs the search once typing pauses. */
  typed(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.run(), PAUSE_MS);
  }

  /** Runs the search now. */
  async run(): Promise<void> {
    clearTimeout(this.#timer);
    const ask = ++this.#seq;
    const query = this.query.trim();
    const words = queryWords(query);
    if (words.length === 0) {
      this.results = [];
      this.words = [];
      this.answered = null;
      this.error = null;
      this.searching = false;
      return;
    }
    this.searching = true;
    const outcome = await search(query, this.within, endOfDay(this.before), RESULTS);
    if (ask !== this.#seq) return;
    this.searching = false;
    if (!outcome.ok) {
      this.error = outcome.error.message;
      return;
    }
    this.error = null;
    this.results = outcome.value;
    this.words = words;
    this.answered = query;
  }
}

/** The end of a `YYYY-MM-DD` day, local time, in ms; `null` for no day. */
export function endOfDay(day: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  const next = fromLocal(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1);
  return Number.isNaN(next) ? null : next;
}

export const searchBook = new SearchBook();

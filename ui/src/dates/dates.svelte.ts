/**
 * Our dates: the day we count from ("together since", shown on the partner card) and the
 * dates we share (Settings → Dates). Loaded once a profile exists, reloaded when the node
 * says they changed (`dates_changed`: a change here, or from my partner), after pairing, and
 * on a resync; replaced by the node's answer after a change made here.
 */
import { dates, type AppEvent, type Dates } from '../lib/backend';
import { onNodeEvent } from '../lib/nodeEvents';

export class DatesBook {
  /** As the node last told; `null` until it answered. */
  value = $state.raw<Dates | null>(null);
  /** Why the last load failed, in words (`null` when it did not). */
  error = $state<string | null>(null);
  /** Counts the loads asked for, so an older answer never overwrites a newer one. */
  #asked = 0;

  async load(): Promise<void> {
    const ask = ++this.#asked;
    const outcome = await dates();
    if (ask !== this.#asked) return;
    if (outcome.ok) {
      this.value = outcome.value;
      this.error = null;
    } else {
      this.error = outcome.error.message;
    }
  }

  /** The node's answer to a change made here. */
  set(value: Dates): void {
    this.#asked += 1;
    this.value = value;
    this.error = null;
  }

  handle(event: AppEvent): void {
    if (event.event === 'dates_changed' || event.event === 'resync' || event.event === 'paired') void this.load();
  }

  follow(): () => void {
    return onNodeEvent((event) => this.handle(event));
  }

  /** Forgets everything (tests). */
  clear(): void {
    this.#asked += 1;
    this.value = null;
    this.error = null;
  }
}

export const datesBook = new DatesBook();

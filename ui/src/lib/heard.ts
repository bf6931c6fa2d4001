/**
 * Tells a re-read snapshot from the events heard while it was on its way. A window keeps its
 * state from the node's events and re-reads it now and then (resync, a minute's refresh, the
 * end of a call); the re-read answers with what the node held when it was asked, so anything
 * heard after that is newer and must win. Presence, device links and calls all follow it.
 *
 *     const asked = heard.mark();
 *     const snapshot = await reRead();
 *     for (const key of heard.since(asked)) keepWhatWasHeard(key);
 */
export class Heard<K> {
  #count = 0;
  #at = new Map<K, number>();

  /** An event about `key` was heard now. */
  hear(key: K): void {
    this.#at.set(key, ++this.#count);
  }

  /** Where things stand, taken before asking for a snapshot. */
  mark(): number {
    return this.#count;
  }

  /** The keys heard about after `mark` was taken. */
  since(mark: number): K[] {
    const keys: K[] = [];
    for (const [key, at] of this.#at) if (at > mark) keys.push(key);
    return keys;
  }

  clear(): void {
    this.#at.clear();
  }
}

/**
 * Everyone's presence, kept current from the node's `presence` events (and re-read every
 * minute, so a partner who went quiet is shown as they are now).
 *
 * A re-read is a snapshot taken while events keep arriving: an event that lands while the
 * snapshot is on its way is newer than the snapshot, so it wins. (Right after pairing the
 * partner's first "online" arrives exactly then; letting the snapshot overwrite it showed
 * them offline until the next re-read.)
 */
import { presence, type Presence, type PersonId } from './backend';
import { Heard } from './heard';
import { onNodeEvent } from './nodeEvents';

const REFRESH_MS = 60_000;

export class PresenceBook {
  byPerson = $state.raw<ReadonlyMap<PersonId, Presence>>(new Map());
  #heard = new Heard<PersonId>();

  of(person: PersonId | null | undefined): Presence | undefined {
    return person ? this.byPerson.get(person) : undefined;
  }

  async load(): Promise<void> {
    const asked = this.#heard.mark();
    const outcome = await presence();
    if (!outcome.ok) return;
    const next = new Map(outcome.value.map((p) => [p.person, p]));
    for (const person of this.#heard.since(asked)) {
      const heard = this.byPerson.get(person);
      if (heard) next.set(person, heard);
    }
    this.byPerson = next;
  }

  set(p: Presence): void {
    this.#heard.hear(p.person);
    const next = new Map(this.byPerson);
    next.set(p.person, p);
    this.byPerson = next;
  }

  /** A "thinking of you" nudge from `person` just arrived: their card shows it at once. */
  nudged(person: PersonId, at: number): void {
    const p = this.byPerson.get(person);
    if (p && (p.last_nudge ?? 0) < at) this.set({ ...p, last_nudge: at });
  }

  follow(): () => void {
    const stop = onNodeEvent((event) => {
      if (event.event === 'presence') this.set(event.presence);
      else if (event.event === 'nudged') this.nudged(event.person, event.at);
      else if (event.event === 'resync' || event.event === 'paired') void this.load();
    });
    const timer = setInterval(() => void this.load(), REFRESH_MS);
    return () => {
      stop();
      clearInterval(timer);
    };
  }
}

export const presenceBook = new PresenceBook();

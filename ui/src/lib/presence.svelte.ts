/**
 * Everyone's presence, kept current from the node's `presence` events (and re-read every
 * minute, so a partner who went quiet is shown as they are now).
 */
import { presence, type Presence, type PersonId } from './backend';
import { onNodeEvent } from './nodeEvents';

const REFRESH_MS = 60_000;

class PresenceBook {
  byPerson = $state.raw<ReadonlyMap<PersonId, Presence>>(new Map());

  of(person: PersonId | null | undefined): Presence | undefined {
    return person ? this.byPerson.get(person) : undefined;
  }

  async load(): Promise<void> {
    const outcome = await presence();
    if (outcome.ok) this.byPerson = new Map(outcome.value.map((p) => [p.person, p]));
  }

  set(p: Presence): void {
    const next = new Map(this.byPerson);
    next.set(p.person, p);
    this.byPerson = next;
  }

  follow(): () => void {
    const stop = onNodeEvent((event) => {
      if (event.event === 'presence') this.set(event.presence);
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

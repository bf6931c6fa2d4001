/**
 * Which member devices (mine or my partner's) this device is connected to right now, and how
 * each is reached, from `peers` and then the node's `peer_connected` / `peer_disconnected`
 * events. Attachments use it: a fetch asks every connected member device, so with none
 * connected it can only wait. The partner card says how my partner is reached, and the
 * offline banner shows when no member device is.
 *
 * This is the link, not the status: a partner who set "invisible" still serves attachments.
 * As in the presence book, an event heard while a re-read was on its way is newer than the
 * re-read, so it wins. How a device is reached only comes from `peers`: a connect re-reads it
 * (a relayed connection may just have turned direct), and so does a timer while followed.
 */
import { peers, type DeviceId, type PeerReach, type PersonId } from './backend';
import { Heard } from './heard';
import { onNodeEvent } from './nodeEvents';

/** How often `peers` is re-read while followed (hole punching can turn a relay direct). */
export const LINKS_REFRESH_MS = 30_000;

/** How a person's devices are reached, best first ("this_device" is never a partner's). */
const BEST_FIRST: readonly PeerReach[] = ['same_network', 'direct', 'relay'];

/** A member device other than this one, as `peers` last told. */
type Known = { person: PersonId; reach: PeerReach };

export class DeviceLinks {
  /** Connected member devices other than this one. */
  connected = $state.raw<ReadonlySet<DeviceId>>(new Set());
  /** The member devices other than this one: whose each is, and how it was reached at the last `peers`. */
  devices = $state.raw<ReadonlyMap<DeviceId, Known>>(new Map());
  /** Whether `peers` has answered once (before that, nothing is known either way). */
  loaded = $state(false);
  #heard = new Heard<DeviceId>();
  /** Counts the re-reads asked for, so an older answer never overwrites a newer one. */
  #asked = 0;

  /** No other member device is connected (false while not known yet). */
  get alone(): boolean {
    return this.loaded && this.connected.size === 0;
  }

  /**
   * The best way one of `person`'s devices is reached now: same network, then direct, then
   * relay; "offline" when none is connected. Null while not known: before `peers` answered,
   * or when a device just connected and the re-read has not told how yet.
   */
  reachOf(person: PersonId | null | undefined): PeerReach | null {
    if (!this.loaded || !person) return null;
    let best: PeerReach = 'offline';
    let unknown = false;
    for (const [device, known] of this.devices) {
      if (known.person !== person || !this.connected.has(device)) continue;
      if (!BEST_FIRST.includes(known.reach)) unknown = true;
      else if (best === 'offline' || BEST_FIRST.indexOf(known.reach) < BEST_FIRST.indexOf(best)) best = known.reach;
    }
    // A connected device `peers` did not know of yet (paired a moment ago): its way is not known either.
    if (best === 'offline' && !unknown) {
      for (const device of this.connected) if (!this.devices.has(device)) unknown = true;
    }
    return best === 'offline' && unknown ? null : best;
  }

  async load(): Promise<void> {
    const asked = this.#heard.mark();
    const ask = ++this.#asked;
    const outcome = await peers();
    if (!outcome.ok || ask !== this.#asked) return;
    const others = outcome.value.filter((p) => !p.me);
    const next = new Set(others.filter((p) => p.connected).map((p) => p.device));
    for (const device of this.#heard.since(asked)) {
      if (this.connected.has(device)) next.add(device);
      else next.delete(device);
    }
    this.devices = new Map(
      others.map((p) => [p.device, { person: p.person, reach: p.connected ? p.reach : 'offline' }]),
    );
    this.connected = next;
    this.loaded = true;
  }

  set(device: DeviceId, connected: boolean): void {
    this.#heard.hear(device);
    const next = new Set(this.connected);
    if (connected) next.add(device);
    else next.delete(device);
    this.connected = next;
  }

  /** Forgets everything (tests). */
  clear(): void {
    this.connected = new Set();
    this.devices = new Map();
    this.loaded = false;
    this.#heard.clear();
    this.#asked += 1;
  }

  follow(): () => void {
    const stop = onNodeEvent((event) => {
      if (event.event === 'peer_connected') {
        this.set(event.device, true);
        void this.load();
      } else if (event.event === 'peer_disconnected') this.set(event.device, false);
      else if (event.event === 'resync' || event.event === 'paired') void this.load();
    });
    const timer = setInterval(() => void this.load(), LINKS_REFRESH_MS);
    return () => {
      stop();
      clearInterval(timer);
    };
  }
}

export const deviceLinks = new DeviceLinks();

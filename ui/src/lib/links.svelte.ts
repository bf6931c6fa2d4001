/**
 * Which member devices (mine or my partner's) this device is connected to right now, from
 * `peers` and then the node's `peer_connected` / `peer_disconnected` events. Attachments use
 * it: a fetch asks every connected member device, so with none connected it can only wait.
 *
 * This is the link, not the status: a partner who set "invisible" still serves attachments.
 * As in the presence book, an event heard while a re-read was on its way is newer than the
 * re-read, so it wins.
 */
import { peers, type DeviceId } from './backend';
import { Heard } from './heard';
import { onNodeEvent } from './nodeEvents';

export class DeviceLinks {
  /** Connected member devices other than this one. */
  connected = $state.raw<ReadonlySet<DeviceId>>(new Set());
  /** Whether `peers` has answered once (before that, nothing is known either way). */
  loaded = $state(false);
  #heard = new Heard<DeviceId>();

  /** No other member device is connected (false while not known yet). */
  get alone(): boolean {
    return this.loaded && this.connected.size === 0;
  }

  async load(): Promise<void> {
    const asked = this.#heard.mark();
    const outcome = await peers();
    if (!outcome.ok) return;
    const next = new Set(outcome.value.filter((p) => !p.me && p.connected).map((p) => p.device));
    for (const device of this.#heard.since(asked)) {
      if (this.connected.has(device)) next.add(device);
      else next.delete(device);
    }
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
    this.loaded = false;
    this.#heard.clear();
  }

  follow(): () => void {
    return onNodeEvent((event) => {
      if (event.event === 'peer_connected') this.set(event.device, true);
      else if (event.event === 'peer_disconnected') this.set(event.device, false);
      else if (event.event === 'resync' || event.event === 'paired') void this.load();
    });
  }
}

export const deviceLinks = new DeviceLinks();

/** Message (and peer) fixtures for tests: the shape the shell sends (`Message`), with the defaults of a plain text. */
import type { Message, PeerInfo, PeerReach } from '../lib/backend';

export const ME = 'aa'.repeat(32);
export const PARTNER = 'bb'.repeat(32);

let n = 0;

export function msg(over: Partial<Message> & { created_at: number }): Message {
  n += 1;
  const id = over.id ?? `${over.created_at.toString(16).padStart(16, '0')}${n.toString(16).padStart(16, '0')}`;
  return {
    id,
    sender: PARTNER,
    sender_device: 'b0'.repeat(32),
    recipient: ME,
    channel: null,
    conversation: 'a1'.repeat(16),
    content: `message ${n}`,
    message_type: 'text',
    reply_to: null,
    read: false,
    read_at: null,
    delivered: false,
    delivered_at: null,
    edited: false,
    edited_at: null,
    deleted: false,
    deleted_at: null,
    reactions: [],
    attachments: [],
    updated_at: over.created_at,
    ...over,
  };
}

/** Local noon on a given day of November 2025, plus some minutes. */
export function at(day: number, minutes = 0): number {
  return new Date(2025, 10, day, 12, minutes).getTime();
}

/** A call record (`Call`), ended after a minute unless said otherwise. */
export function callRecord(over: Partial<import('../lib/backend').Call> & { started_at: number }): import('../lib/backend').Call {
  n += 1;
  return {
    id: n.toString(16).padStart(32, '0'),
    conversation: 'a1'.repeat(16),
    caller: PARTNER,
    participants: [PARTNER, ME],
    kind: 'voice',
    state: 'ended',
    answered_at: over.started_at + 5_000,
    ended_at: over.started_at + 65_000,
    ...over,
  };
}

/** One device as `peers` lists it (reached directly when connected, unless said otherwise). */
export function peer(device: string, person: string, me: boolean, connected: boolean, reach?: PeerReach): PeerInfo {
  const how: PeerReach = reach ?? (me ? 'this_device' : connected ? 'direct' : 'offline');
  return { device, person, name: 'laptop', me, connected, relayed: how === 'relay', reach: how, addresses: [], seq: 0 };
}

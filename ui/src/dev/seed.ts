/**
 * Made-up people and history for the fake backend: a few days of a couple's chat with
 * reactions, a reply, an edit and a deletion, and a channel of 10,000 messages to scroll.
 */
import type { Channel, DeviceInfo, Message, Person, PersonId, Presence, Reaction } from '../lib/backend';

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0').slice(-width);

export const SPACE = 'a1'.repeat(16);
export const MAYA: Person = { id: 'aa'.repeat(32), display_name: 'Maya', avatar: { emoji: '💛' }, devices: ['a0'.repeat(32)] };
export const BEN: Person = { id: 'bb'.repeat(32), display_name: 'Ben', avatar: { emoji: '🐻' }, devices: ['b0'.repeat(32)] };

let seq = 0;

/** A message id as the node makes them: creation time, author tag, sequence number. */
export function messageId(at: number, author: PersonId): string {
  seq += 1;
  return `${hex(at, 16)}${author.slice(0, 8)}${hex(seq, 8)}`;
}

export function message(
  at: number,
  sender: Person,
  content: string,
  where: { channel: string | null },
  extra: Partial<Message> = {},
): Message {
  const other = sender.id === MAYA.id ? BEN : MAYA;
  return {
    id: messageId(at, sender.id),
    sender: sender.id,
    sender_device: sender.devices[0]!,
    recipient: where.channel ? null : other.id,
    channel: where.channel,
    conversation: where.channel ?? SPACE,
    content,
    message_type: 'text',
    reply_to: null,
    read: true,
    read_at: at + 60_000,
    delivered: true,
    delivered_at: at + 2_000,
    edited: false,
    edited_at: null,
    deleted: false,
    deleted_at: null,
    reactions: [],
    attachments: [],
    created_at: at,
    updated_at: at,
    ...extra,
  };
}

export function channel(id: string, name: string, position: number, topic: string | null = null): Channel {
  return { id, space: SPACE, name, kind: 'text', topic, position, archived: false, created_at: 0, updated_at: 0 };
}

const react = (user: Person, emoji: string, at: number): Reaction => ({ user: user.id, emoji, created_at: at });

/** The direct conversation: three days, oldest first. */
export function directHistory(now: number): Message[] {
  const day = 24 * 3600_000;
  const d = { channel: null };
  const t0 = now - 2 * day - 5 * 3600_000;
  const out: Message[] = [
    message(t0, BEN, 'Good morning ☀️ did you sleep at all?', d),
    message(t0 + 40_000, MAYA, 'Barely. The neighbours’ dog had opinions.', d),
    message(t0 + 70_000, MAYA, 'Coffee at 8?', d, { reactions: [react(BEN, '👍', t0 + 90_000)] }),
    message(t0 + 3 * 3600_000, BEN, 'Running late, save me a croissant 🥐', d),
  ];
  const t1 = now - day - 2 * 3600_000;
  out.push(
    message(t1, MAYA, 'I found the recipe for your grandmother’s plum cake!', d, {
      reactions: [react(BEN, '💛', t1 + 30_000), react(MAYA, '💛', t1 + 50_000)],
    }),
    message(t1 + 20_000, BEN, 'No way. Where?', d),
    message(t1 + 50_000, MAYA, 'In the blue notebook, between the tax papers 😅', d, { edited: true, edited_at: t1 + 80_000 }),
    message(t1 + 90_000, BEN, 'oops wrong chat', d, { deleted: true, deleted_at: t1 + 95_000, content: '' }),
  );
  const recipe = out[4]!;
  const t2 = now - 50 * 60_000;
  out.push(
    message(t2, BEN, 'Can we bake it on Sunday?', d, { reply_to: recipe.id }),
    message(t2 + 30_000, MAYA, 'Yes! I’ll buy plums.', d, { reactions: [react(BEN, '🎉', t2 + 60_000)] }),
    message(t2 + 45_000, MAYA, 'And butter. Lots of butter.', d),
    message(now - 12 * 60_000, BEN, 'Leaving work now. Need anything?', d, { read: false, read_at: null }),
  );
  // My last message: delivered, not read yet.
  out.push(message(now - 4 * 60_000, MAYA, 'Just you 💛', d, { read: false, read_at: null }));
  return out;
}

const LINES = [
  'Remember the lake?',
  'That photo from the market is my favourite.',
  'We should go back in spring.',
  'I still have the ticket stub from that concert.',
  'Your laugh when the boat tipped 😂',
  'Adding this one to the list.',
  'Best sandwich of my life, no contest.',
  'It rained the whole week and it was perfect.\nEvery single day.',
];

/** A long channel: `count` messages, one every 17 minutes, ending an hour ago. */
export function longHistory(channelId: string, count: number, now: number): Message[] {
  const out: Message[] = [];
  const start = now - 3600_000 - count * 17 * 60_000;
  for (let i = 0; i < count; i++) {
    const sender = i % 3 === 0 ? BEN : MAYA;
    out.push(message(start + i * 17 * 60_000, sender, `${LINES[i % LINES.length]} (#${i + 1})`, { channel: channelId }));
  }
  return out;
}

export function presenceOf(p: Person, status: Presence['status'], custom: string | null, lastSeen: number): Presence {
  return { person: p.id, status, last_seen: lastSeen, custom_status: custom, device: p.devices[0]!, updated_at: lastSeen, mood: null, last_nudge: null };
}

/** The devices of the space: Maya's desktop (this one), her laptop and an old phone; Ben's laptop and phone. */
export function seedDevices(now: number, paired: boolean): DeviceInfo[] {
  const hour = 3600_000;
  const day = 24 * hour;
  const device = (d: Partial<DeviceInfo> & Pick<DeviceInfo, 'device' | 'person' | 'name'>): DeviceInfo => ({
    mine: d.person === MAYA.id,
    this_device: false,
    added_at: now - 30 * day,
    last_seen: null,
    connected: false,
    removed: false,
    ...d,
  });
  const mine = [device({ device: MAYA.devices[0]!, person: MAYA.id, name: 'Maya’s desktop', this_device: true, last_seen: now })];
  if (!paired) return mine;
  return [
    ...mine,
    device({ device: 'a1'.repeat(32), person: MAYA.id, name: 'Maya’s laptop', added_at: now - 20 * day, last_seen: now, connected: true }),
    device({ device: 'a2'.repeat(32), person: MAYA.id, name: 'Old phone', added_at: now - 90 * day, last_seen: now - 6 * day }),
    device({ device: BEN.devices[0]!, person: BEN.id, name: 'Ben’s laptop', added_at: now - 30 * day, last_seen: now, connected: true }),
    device({ device: 'b1'.repeat(32), person: BEN.id, name: 'Ben’s phone', added_at: now - 25 * day, last_seen: now - 2 * hour }),
  ];
}

/** A made-up safety number: twelve groups of five digits. */
export const SAFETY_NUMBER = [
  '37104', '82955', '10468', '59321', '77402', '26813',
  '94057', '41186', '63920', '08574', '15639', '80247',
];

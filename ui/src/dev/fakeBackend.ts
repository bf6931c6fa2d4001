/**
 * An in-memory Duet for looking at the window without the desktop app: `npm run dev` or
 * `vite preview`, then open `/?mock` (paired, with history), `/?mock=new` (onboarding) or
 * `/?mock=unpaired`. It answers the shell's commands through Tauri's own IPC mock, so the
 * real `lib/backend` runs unchanged, and plays the partner: Ben receives, reads, types and
 * answers. Calls, attachments and voice notes are in `fakeMedia.ts` (`/?mock=ringing`: Ben
 * calls). `/?mock=trouble` adds the node's own notices: a clock ahead, a forked device, a part
 * restarted. `/?mock=locked`: the data is locked with a passphrase (`duet-passphrase`), asked
 * for first; `/?mock=nokeyring`: onboarding on a desktop without a keyring (a passphrase is
 * chosen before the profile is made). Settings → Encryption says how the key is kept
 * (`data_protection`: a passphrase in `?mock=locked`, and in `?mock=nokeyring` once chosen; the
 * keyring otherwise) and changes it as the shell does (`change_data_protection`). Shared lists
 * are in `fakeLists.ts`; Memories (photos, videos and sounds from every conversation, "On
 * this day") are answered from the messages here by `fakeMemories.ts`; "Our story"
 * (`export_story`) reports a page made from them. Settings → Mailbox takes any ticket starting
 * with `duetbox1` (reached at once) and refuses others in the node's words. `/?mock=mailbox`: Ben
 * is offline (none of his devices reached, last seen two hours ago) and the couple's mailbox is
 * reached: what I send is held there (`holds`, then `mailbox_changed`) and not delivered; without
 * a reached mailbox it stays here. Only `main.ts` loads it, and only for `?mock` outside the app.
 */
import { emit } from '@tauri-apps/api/event';
import { mockIPC } from '@tauri-apps/api/mocks';

import type {
  AppSnapshot,
  CalendarDate,
  Channel,
  DataProtection,
  Conversation,
  DateInfo,
  DeviceInfo,
  LockStatus,
  MailboxPlace,
  MailboxStatus,
  Message,
  NodeEvent,
  Person,
  PinnedMessage,
  Presence,
  PresenceStatus,
  SharedDate,
  StoryReport,
  Target,
  TimeWindow,
} from '../lib/backend';
import { NODE_EVENT } from '../lib/backend';
import { FakeLists } from './fakeLists';
import { FakeMedia, UNHANDLED, mediaHistory, memorySeed } from './fakeMedia';
import { memoriesPage, memoriesWithin } from './fakeMemories';
import { searchMessages } from './fakeSearch';
import { BEN, MAYA, SAFETY_NUMBER, SPACE, channel, directHistory, longHistory, message, presenceOf, seedDevices } from './seed';

type Args = Record<string, unknown>;

const fail = (code: string, text: string) => {
  throw { code, message: text };
};

/** The couple's mailbox, once added (or from the start in `?mock=mailbox`). */
const MAILBOX: MailboxPlace = {
  device: 'e5'.repeat(32),
  addresses: ['/ip4/203.0.113.7/udp/4001/quic-v1', '/dns4/mailbox.example.org/tcp/4001'],
};

/** What opens the data in `?mock=locked`. */
const DATA_PASSPHRASE = 'duet-passphrase';

export function installFakeBackend(mode: string): void {
  const now = Date.now();
  const onboarding = mode === 'new' || mode === 'nokeyring';
  let me: Person | null = onboarding ? null : MAYA;
  let paired = !onboarding && mode !== 'unpaired';
  // The data key: locked with a passphrase until `unlock_data`; without a keyring, none until one is chosen.
  // Settings → Encryption changes how it is kept (`change_data_protection`): a new passphrase, or the keyring.
  let dataLocked = mode === 'locked';
  let dataPassphrase: string | null = mode === 'locked' ? DATA_PASSPHRASE : null;
  let protection: DataProtection = mode === 'locked' ? 'passphrase' : 'keyring';
  const keyringAvailable = mode !== 'nokeyring';
  const tooShort = (p: string) => [...p].length < 8 || new TextEncoder().encode(p).length > 1024;
  const needsKey = () => {
    if (mode === 'nokeyring' && dataPassphrase === null) {
      fail('keyring_unavailable', 'no desktop keyring can keep the key of this Duet data: choose a passphrase');
    }
  };
  /** A linked or restored device: Maya's profile, paired with Ben, their history here. */
  const arriveAsMaya = (hers: DeviceInfo[]) => {
    me = MAYA;
    paired = true;
    devices = hers;
    store.set('direct', directHistory(now));
  };
  /** Restored from a backup and not caught up yet (`restore_backup`). */
  let catchingUp = false;
  let relays: string[] = [];
  // Settings → Mailbox: none until a `duetbox1` ticket is added; the one added is reached at once.
  // `?mock=mailbox`: one from the start, and Ben offline, so what I send waits there.
  const benAway = mode === 'mailbox';
  let mailbox: MailboxStatus = benAway ? { mailbox: MAILBOX, connected: true, holds: [], usage: null } : { mailbox: null, connected: false, holds: [], usage: null };
  let lock: LockStatus = { enabled: false, idle_minutes: 0, locked: false, problem: null };
  let lockPassphrase = '1234';
  const channels: Channel[] = paired
    ? [channel('c1'.repeat(16), 'plans', 0, 'Trips, dinners, Sundays'), channel('c2'.repeat(16), 'memories', 1, '10,000 messages to scroll')]
    : [];
  const store = new Map<string, Message[]>();
  const settings = new Map<string, { archived: boolean; muted: boolean }>();
  const readMarker = new Map<string, string>();
  if (paired) {
    const older = memorySeed(now, channels[0]!.id);
    const byId = (x: Message, y: Message) => (x.id < y.id ? -1 : 1);
    store.set('direct', [...directHistory(now), ...mediaHistory(now), ...older.filter((m) => !m.channel)].sort(byId));
    store.set(
      `channel:${channels[0]!.id}`,
      [...older.filter((m) => m.channel), message(now - 3 * 86400_000, BEN, 'Lisbon in May?', { channel: channels[0]!.id }, { read: false })].sort(byId),
    );
    store.set(`channel:${channels[1]!.id}`, longHistory(channels[1]!.id, 10_000, now));
  }
  const presences = new Map<string, Presence>([
    [MAYA.id, presenceOf(MAYA, 'online', null, now)],
    [
      BEN.id,
      benAway
        ? presenceOf(BEN, 'offline', null, now - 2 * 3600_000)
        : { ...presenceOf(BEN, 'online', 'at the bakery 🥐', now), mood: { emoji: '😊', words: 'croissant secured' }, last_nudge: now - 40 * 60_000 },
    ],
  ]);
  const pins = new Map<string, PinnedMessage[]>();
  let badge = 0;
  // Both people's devices; Ben has already checked the safety number, Maya not yet.
  let devices: DeviceInfo[] = me ? seedDevices(now, paired) : [];
  let verifiedByMe = false;
  const verifiedByPartner = true;
  // Our dates: together since 12 June 2021, the anniversary every year, a dinner in three days.
  let togetherSince: CalendarDate | null = paired ? { year: 2021, month: 6, day: 12 } : null;
  const sharedDates = new Map<string, SharedDate>(
    paired
      ? [
          ['d1'.repeat(16), { title: 'Our anniversary', at: Date.UTC(2021, 5, 12, 17, 0), yearly: true, remind_before_minutes: 1440 }],
          ['d2'.repeat(16), { title: 'Dinner at Lisbon', at: now + 3 * 86400_000, yearly: false, remind_before_minutes: 60 }],
        ]
      : [],
  );

  const key = (t: Target) => (t === 'direct' ? 'direct' : `channel:${t.channel}`);
  const list = (t: Target) => store.get(key(t)) ?? [];
  // An event due after its IPC mock is gone (a test that installed this fake has ended) is dropped.
  const send = (e: NodeEvent) => void emit(NODE_EVENT, e).catch(() => {});
  const snapshot = (): AppSnapshot => ({
    device_id: me ? MAYA.devices[0]! : null,
    profile: me ? { ...me, devices: devices.filter((d) => d.mine && !d.removed).map((d) => d.device) } : null,
    partner: paired ? BEN : null,
    paired,
    catching_up: catchingUp,
  });
  const verification = () => {
    if (!paired) fail('not_found', 'There is no safety number yet: it appears once your partner has joined.');
    return { partner: BEN.id, partner_name: BEN.display_name, safety_number: SAFETY_NUMBER, verified_by_me: verifiedByMe, verified_by_partner: verifiedByPartner };
  };
  const find = (id: string): Message | undefined => {
    for (const msgs of store.values()) {
      const m = msgs.find((x) => x.id === id);
      if (m) return m;
    }
    return undefined;
  };
  const replace = (m: Message) => {
    const k = key(m.channel ? { channel: m.channel } : 'direct');
    store.set(k, list(m.channel ? { channel: m.channel } : 'direct').map((x) => (x.id === m.id ? m : x)));
  };

  function datesNow() {
    const infos = [...sharedDates].map(([id, d]) => dateInfo(id, d, Date.now()));
    const coming = infos.filter((d) => d.next_at >= Date.now()).sort((x, y) => x.next_at - y.next_at);
    const passed = infos.filter((d) => d.next_at < Date.now()).sort((x, y) => y.next_at - x.next_at);
    return { together_since: togetherSince, dates: [...coming, ...passed] };
  }

  function conversations(): Conversation[] {
    if (!paired) return [];
    const targets: Target[] = ['direct', ...channels.map((c) => ({ channel: c.id }))];
    return targets.map((t) => {
      const msgs = list(t);
      const last = msgs[msgs.length - 1];
      const marker = readMarker.get(key(t)) ?? '';
      const s = settings.get(key(t)) ?? { archived: false, muted: false };
      return {
        id: t === 'direct' ? SPACE : t.channel,
        target: t,
        participants: [MAYA.id, BEN.id],
        last_message: last?.id ?? null,
        last_message_at: last?.created_at ?? null,
        unread_count: msgs.filter((m) => m.sender !== MAYA.id && !m.read && m.id > marker).length,
        ...s,
        created_at: now,
        updated_at: now,
      };
    });
  }

  /** Ben: receives at once, reads and types after a moment, then answers. */
  function partnerReplies(mine: Message) {
    const t: Target = mine.channel ? { channel: mine.channel } : 'direct';
    setTimeout(() => {
      const m = find(mine.id);
      if (!m) return;
      replace({ ...m, delivered: true, delivered_at: Date.now() });
      send({ event: 'receipts_changed', conversation: m.conversation, up_to: null });
    }, 700);
    setTimeout(() => send({ event: 'typing', person: BEN.id, target: t }), 1500);
    setTimeout(() => {
      const m = find(mine.id);
      if (!m) return;
      replace({ ...m, read: true, read_at: Date.now() });
      send({ event: 'receipts_changed', conversation: m.conversation, up_to: m.id });
    }, 2500);
    setTimeout(() => {
      const reply = message(Date.now(), BEN, pick(mine.content), { channel: mine.channel }, { read: false, read_at: null });
      store.set(key(t), [...list(t), reply]);
      send({ event: 'message_new', message: reply });
    }, 4200);
  }

  /** Ben is away: the reached mailbox takes my message a moment later (nothing is delivered). */
  function holdAtMailbox(mine: Message) {
    setTimeout(() => {
      if (!mailbox.mailbox || !mailbox.connected) return;
      const device = mine.sender_device;
      const until = Math.max(mine.created_at, mailbox.holds.find((h) => h.device === device)?.until ?? 0);
      mailbox = { ...mailbox, holds: [...mailbox.holds.filter((h) => h.device !== device), { device, until }] };
      send({ event: 'mailbox_changed' });
    }, 900);
  }

  const media = new FakeMedia(now, send, (m) => store.set('direct', [...list('direct'), m]), mode, (id) => find(id));
  const everyMessage = () => [...store.values()].flat();
  const isPinned = (m: Message) => (pins.get(key(m.channel ? { channel: m.channel } : 'direct')) ?? []).some((p) => p.message.id === m.id);
  const lists = new FakeLists(send, { seed: paired, delay: 120 });

  /** `export_story`: what the node would write (every message kept, the photos held here embedded). */
  function storyReport(path: string | null): StoryReport {
    const kept = everyMessage().filter((m) => !m.deleted);
    const photos = kept.flatMap((m) => m.attachments.filter((x) => x.type === 'image'));
    const here = photos.filter((x) => media.handle('blob_status', { hash: x.blob }) !== null);
    const day = new Date();
    const today = `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, '0')}-${String(day.getDate()).padStart(2, '0')}`;
    const words = kept.reduce((n, m) => n + m.content.length, 0);
    return {
      path: path ?? `/home/you/Downloads/duet-our-story-${today}.html`,
      messages: kept.length,
      pictures: here.length,
      pictures_left_out: photos.length - here.length,
      // The page's frame, each message's markup and text, and the photos as base64.
      bytes: 4_000 + kept.length * 220 + words + Math.round(here.reduce((n, x) => n + x.size, 0) * 1.37),
    };
  }

  mockIPC(
    (cmd, raw) => {
      const a = (raw ?? {}) as Args;
      if (cmd === 'unlock_data') {
        if (!dataLocked) return snapshot();
        if (a.passphrase !== dataPassphrase) return later(300, null).then(() => fail('wrong_passphrase', 'that passphrase does not open this Duet data'));
        dataLocked = false;
        return later(300, snapshot());
      }
      if (dataLocked) {
        fail('needs_passphrase', 'this Duet data is locked with a passphrase: type it, or give it in DUET_PASSPHRASE or --passphrase-file');
      }
      if (cmd === 'choose_data_passphrase') {
        const chosen = String(a.passphrase);
        if (tooShort(chosen)) {
          fail('invalid_input', 'choose a passphrase of at least 8 characters (and at most 1024)');
        }
        dataPassphrase = chosen;
        protection = 'passphrase';
        return null;
      }
      if (cmd === 'data_protection') return protection;
      if (cmd === 'change_data_protection') {
        // As the shell: the current passphrase first (nothing changes when it is wrong), then the new one.
        const current = a.current == null ? null : String(a.current);
        const next = a.passphrase == null ? null : String(a.passphrase);
        const refuse = (code: string, text: string) => later(400, null).then(() => fail(code, text));
        if (protection === 'passphrase') {
          if (current === null) return refuse('needs_passphrase', 'this Duet data is locked with a passphrase: type it');
          if (current !== dataPassphrase) return refuse('wrong_passphrase', 'that passphrase does not open this Duet data');
        }
        if (next === null) {
          if (!keyringAvailable) {
            return refuse('keyring_unavailable', 'the desktop keyring could not be used (no Secret Service on this desktop); choose a passphrase instead');
          }
          protection = 'keyring';
          dataPassphrase = null;
        } else {
          if (tooShort(next)) return refuse('invalid_input', 'choose a passphrase of at least 8 characters (and at most 1024)');
          protection = 'passphrase';
          dataPassphrase = next;
        }
        return later(450, protection);
      }
      const handled = media.handle(cmd, a);
      if (handled !== UNHANDLED) return handled;
      const listed = lists.handle(cmd, a);
      if (listed !== UNHANDLED) return listed;
      switch (cmd) {
        case 'app_state':
          return snapshot();
        case 'create_profile':
          needsKey();
          me = { ...MAYA, display_name: String(a.name), avatar: a.avatar ? { emoji: String(a.avatar) } : null };
          devices = seedDevices(now, false);
          return snapshot();
        case 'link_device': {
          // Maya's laptop made the invite; she and Ben were paired there.
          const ticket = String(a.ticket).trim();
          if (!ticket.startsWith('duet1:')) fail('pairing_failed', 'That ticket is not a Duet ticket. Copy it again, whole.');
          if (!ticket.startsWith('duet1:owndevice:')) {
            fail(
              'not_allowed',
              'This invite is for a partner, not for another of your devices: on your other device, open Settings and choose “Create a device invite”.',
            );
          }
          if (me) fail('already_initialized', 'This device already has a profile.');
          needsKey();
          arriveAsMaya(seedDevices(now, true).filter((d) => d.device !== 'a2'.repeat(32)));
          return later(1500, snapshot());
        }
        case 'set_profile':
          if (me) me = { ...me, display_name: a.name ? String(a.name) : me.display_name };
          return snapshot();
        case 'invite':
          return later(400, {
            ticket: `duet1:${a.kind}:4f9k2m8q7x1v6c3b5n0z2w8e4r6t1y9u3i7o5p0a2s4d6f8g1h3j5k7l9`,
            qr_svg: QR_SVG,
          });
        case 'join':
          if (!String(a.ticket).startsWith('duet1:')) fail('pairing_failed', 'That ticket is not a Duet ticket. Copy it again, whole.');
          paired = true;
          store.set('direct', []);
          return later(1200, snapshot());
        case 'peers':
          // Ben's laptop is connected (on the same network), so attachments arrive rather than wait for him.
          return paired
            ? [{ device: BEN.devices[0]!, person: BEN.id, name: "Ben's laptop", me: false, connected: !benAway, relayed: false, reach: benAway ? 'offline' : 'same_network', addresses: [], seq: 0 }]
            : [];
        case 'devices':
          return devices.map((d) => (d.connected || d.this_device ? { ...d, last_seen: Date.now() } : d));
        case 'remove_device': {
          const d = devices.find((x) => x.device === a.device) ?? fail('not_found', 'There is no such device in your space.');
          if (d.this_device) fail('not_allowed', 'This is the device you are using: remove it from another of your devices.');
          if (!d.mine) fail('not_allowed', 'That device is your partner’s: only they can remove their devices.');
          const removed = { ...d, removed: true, connected: false };
          devices = [...devices.filter((x) => x.device !== d.device), removed];
          send({ event: 'space_changed' });
          return later(400, removed);
        }
        case 'verification':
          return verification();
        case 'mark_verified':
          verification();
          verifiedByMe = Boolean(a.verified);
          return later(300, verification());
        case 'app_lock':
          return lock;
        case 'set_app_lock': {
          // The preview's lock opens with whatever was set last ("1234" before that).
          if (lock.enabled && a.current !== lockPassphrase) fail('not_allowed', 'The current passphrase is not right, so nothing was changed.');
          const next = a.passphrase === null ? null : String(a.passphrase);
          if (next !== null && next.length < 4) fail('invalid_input', 'Choose a passphrase of at least 4 characters.');
          lockPassphrase = next ?? '1234';
          lock = { enabled: next !== null, idle_minutes: next === null ? 0 : Number(a.idleMinutes), locked: false, problem: null };
          return later(300, lock);
        }
        case 'lock_app':
          if (!lock.enabled) fail('not_allowed', 'Choose a passphrase in Settings → App lock first.');
          lock = { ...lock, locked: true };
          return lock;
        case 'unlock_app':
          if (a.passphrase !== lockPassphrase) return later(1000, null).then(() => fail('not_allowed', 'That is not the passphrase of this Duet. Try again.'));
          lock = { ...lock, locked: false };
          return later(300, lock);
        case 'relays':
          return relays;
        case 'set_relays': {
          const chosen = (a.relays as string[]).map((r) => r.trim()).filter((r) => r !== '');
          const bad = chosen.find((r) => !/^\/(ip4|ip6|dns|dns4|dns6)\/.+\/p2p\/\w+$/.test(r));
          if (bad) fail('invalid_input', `"${bad}" cannot be used as a relay: it must end with /p2p/<peer id>`);
          relays = chosen;
          return later(300, relays);
        }
        case 'mailbox':
          return mailbox;
        case 'add_mailbox': {
          const ticket = String(a.ticket).trim();
          if (!ticket.startsWith('duetbox1')) {
            return later(300, null).then(() =>
              fail('not_allowed', 'that is not a Duet mailbox ticket (it should start with "duetbox1")'),
            );
          }
          mailbox = { mailbox: MAILBOX, connected: true, holds: [], usage: null };
          return later(600, mailbox);
        }
        case 'remove_mailbox':
          mailbox = { mailbox: null, connected: false, holds: [], usage: null };
          return later(300, mailbox);
        case 'conversations':
          return conversations();
        case 'channels':
          return channels;
        case 'create_channel': {
          const name = String(a.name).trim();
          if (channels.some((c) => c.name.toLowerCase() === name.toLowerCase())) {
            fail('not_allowed', `There is already a channel called "${name}".`);
          }
          const c = channel(Math.random().toString(16).slice(2).padEnd(32, '0').slice(0, 32), name, channels.length);
          channels.push(c);
          setTimeout(() => send({ event: 'space_changed' }), 0);
          return c;
        }
        case 'rename_channel': {
          const c = channels.find((x) => x.id === a.id) ?? fail('not_found', 'No such channel.');
          c.name = String(a.name).trim();
          setTimeout(() => send({ event: 'space_changed' }), 0);
          return { ...c };
        }
        case 'set_conversation': {
          const k = key(a.target as Target);
          const s = settings.get(k) ?? { archived: false, muted: false };
          settings.set(k, {
            archived: (a.archived as boolean | null) ?? s.archived,
            muted: (a.muted as boolean | null) ?? s.muted,
          });
          return null;
        }
        case 'messages': {
          const all = list(a.target as Target);
          const before = a.before as string | null;
          const limit = Number(a.limit);
          const end = before ? all.findIndex((m) => m.id >= before) : all.length;
          const stop = end < 0 ? all.length : end;
          const page = all.slice(Math.max(0, stop - limit), stop).reverse();
          const older = stop - limit > 0 ? (page[page.length - 1]?.id ?? null) : null;
          return later(120, { messages: page, older });
        }
        case 'send': {
          const text = String(a.text).trim();
          if (text.length === 0) fail('invalid_input', 'A message cannot be empty.');
          if ([...text].length > 2000) fail('invalid_input', 'A message is too long: the limit is 2000 characters.');
          const t = a.target as Target;
          const m = message(Date.now(), MAYA, text, { channel: t === 'direct' ? null : t.channel }, {
            reply_to: (a.replyTo as string | null) ?? null,
            read: false,
            read_at: null,
            delivered: false,
            delivered_at: null,
          });
          store.set(key(t), [...list(t), m]);
          setTimeout(() => send({ event: 'message_new', message: m }), 0);
          if (benAway) holdAtMailbox(m);
          else partnerReplies(m);
          return later(250, m);
        }
        case 'edit': {
          const m = find(String(a.id)) ?? fail('not_found', 'No such message.');
          const edited = { ...m, content: String(a.text).trim(), edited: true, edited_at: Date.now() };
          replace(edited);
          return edited;
        }
        case 'delete': {
          const m = find(String(a.id)) ?? fail('not_found', 'No such message.');
          replace({ ...m, deleted: true, deleted_at: Date.now(), content: '', reactions: [] });
          return null;
        }
        case 'react':
        case 'unreact': {
          const m = find(String(a.id)) ?? fail('not_found', 'No such message.');
          const others = m.reactions.filter((r) => !(r.user === MAYA.id && r.emoji === a.emoji));
          const reactions = cmd === 'react' ? [...others, { user: MAYA.id, emoji: String(a.emoji), created_at: Date.now() }] : others;
          const changed = { ...m, reactions };
          replace(changed);
          return changed;
        }
        case 'mark_read': {
          const m = find(String(a.id));
          if (m) {
            const t: Target = m.channel ? { channel: m.channel } : 'direct';
            readMarker.set(key(t), m.id);
            store.set(key(t), list(t).map((x) => (x.sender !== MAYA.id && x.id <= m.id ? { ...x, read: true, read_at: x.read_at ?? Date.now() } : x)));
          }
          return null;
        }
        case 'presence':
          return [...presences.values()];
        case 'set_status': {
          const p = presences.get(MAYA.id)!;
          const text = a.text as string | null;
          const next = { ...p, status: a.status as PresenceStatus, custom_status: text === null ? p.custom_status : text || null };
          presences.set(MAYA.id, next);
          setTimeout(() => send({ event: 'presence', presence: next }), 0);
          return null;
        }
        case 'set_mood': {
          const mood = a.mood as { emoji: string; words: string | null } | null;
          if (mood) {
            if (!/\p{Extended_Pictographic}/u.test(mood.emoji) || [...mood.emoji].length > 8) {
              fail('invalid_input', `a mood's emoji must be one emoji, not "${mood.emoji}"`);
            }
            const n = [...(mood.words ?? '')].length;
            if (n > 60) fail('invalid_input', `a mood's words is too long: ${n} characters, the limit is 60`);
          }
          const next = { ...presences.get(MAYA.id)!, mood: mood && { emoji: mood.emoji, words: mood.words?.trim() || null } };
          presences.set(MAYA.id, next);
          setTimeout(() => send({ event: 'presence', presence: next }), 0);
          return null;
        }
        case 'nudge':
          if (!paired) fail('not_paired', 'Your partner has not joined yet.');
          return later(200, null);
        case 'pinned_messages':
          return pins.get(key(a.target as Target)) ?? [];
        case 'pin_message': {
          const t = a.target as Target;
          const m = list(t).find((x) => x.id === a.id) ?? fail('not_found', 'No such message.');
          const others = (pins.get(key(t)) ?? []).filter((p) => p.message.id !== m.id);
          const next = a.pinned ? [{ message: m, pinned_by: MAYA.id, pinned_at: Date.now() }, ...others] : others;
          pins.set(key(t), next);
          setTimeout(() => send({ event: 'pins_changed', conversation: m.conversation }), 0);
          return next;
        }
        case 'memories':
          return later(150, memoriesPage(everyMessage(), isPinned, (a.before as string | null) ?? null, Number(a.limit)));
        case 'search': {
          const found = searchMessages(everyMessage(), String(a.words), (a.target as Target | null) ?? null, (a.before as number | null) ?? null, Number(a.limit));
          if (found === null) fail('invalid_input', 'a search is too long: the limit is 500 characters');
          return later(120, found);
        }
        case 'memories_in':
          return later(150, memoriesWithin(everyMessage(), isPinned, a.windows as TimeWindow[]));
        case 'export_story':
          return later(900, storyReport((a.path as string | null) ?? null));
        case 'backup': {
          if (tooShort(String(a.passphrase))) fail('invalid_input', 'choose a backup passphrase of at least 8 characters');
          const story = storyReport(null);
          const path = (a.path as string | null) ?? story.path.replace(/duet-our-story-(.+)\.html$/, 'duet-backup-$1.duetbackup');
          return later(1200, { path, values: 40 + story.messages * 9, files: story.pictures, bytes: story.bytes + 64_000 });
        }
        case 'find_backups':
          return later(150, [
            { path: '/home/you/Downloads/duet-backup-2026-11-30.duetbackup', bytes: 48_200_000, modified: Date.now() - 5 * 86_400_000 },
            { path: '/home/you/duet-backup-2026-06-02.duetbackup', bytes: 31_700_000, modified: Date.now() - 186 * 86_400_000 },
          ]);
        case 'restore_backup': {
          if (me) fail('already_initialized', 'This device already has a profile.');
          if (!String(a.path).endsWith('.duetbackup')) fail('invalid_input', 'this is not a Duet backup file');
          if (a.passphrase === 'wrong passphrase') {
            return later(600, null).then(() => fail('wrong_passphrase', 'that passphrase does not open this backup (or the file is not a Duet backup)'));
          }
          needsKey();
          arriveAsMaya(seedDevices(now, true));
          // As a restored node: it catches up with Ben's devices before it writes.
          catchingUp = true;
          setTimeout(() => {
            catchingUp = false;
            send({ event: 'caught_up' });
          }, 6000);
          return later(1500, snapshot());
        }
        case 'dates':
          return datesNow();
        case 'set_together_since': {
          const date = a.date as CalendarDate | null;
          if (date) checkCalendarDate(date);
          togetherSince = date;
          setTimeout(() => send({ event: 'dates_changed' }), 0);
          return later(200, datesNow());
        }
        case 'save_date': {
          const d = a.date as SharedDate;
          const title = d.title.trim();
          const n = [...title].length;
          if (n === 0) fail('invalid_input', "a date's title can't be empty");
          if (n > 100) fail('invalid_input', `a date's title is too long: ${n} characters, the limit is 100`);
          checkYear(new Date(d.at).getUTCFullYear(), d.at);
          if (d.remind_before_minutes > 10080) {
            fail('invalid_input', `a reminder's lead time (minutes) is too long: ${d.remind_before_minutes} characters, the limit is 10080`);
          }
          const id = (a.id as string | null) ?? Math.random().toString(16).slice(2).padEnd(32, '0').slice(0, 32);
          if (a.id && !sharedDates.has(id)) fail('not_found', 'There is no such date.');
          const kept = { ...d, title };
          sharedDates.set(id, kept);
          setTimeout(() => send({ event: 'dates_changed' }), 0);
          return later(200, dateInfo(id, kept, Date.now()));
        }
        case 'remove_date':
          if (!sharedDates.delete(String(a.id))) fail('not_found', 'There is no such date.');
          setTimeout(() => send({ event: 'dates_changed' }), 0);
          return later(200, null);
        case 'mark_all_read':
        case 'typing':
        case 'touch':
          return null;
        case 'set_desktop_words':
          return null;
        case 'set_unread_badge':
          badge = Number(a.count);
          console.info('tray badge', badge);
          return null;
        case 'notify':
          if (typeof Notification !== 'undefined' && Notification.permission === 'granted') {
            new Notification(String(a.title), { body: String(a.body) });
          }
          return null;
        default:
          throw `Command ${cmd} not found`;
      }
    },
    { shouldMockEvents: true },
  );

  // `?mock=trouble`: what the node says on its own when something goes wrong.
  if (mode === 'trouble') {
    setTimeout(() => {
      send({
        event: 'clock_ahead',
        device: BEN.devices[0]!,
        ahead_ms: 3_600_000,
        message:
          'Ben’s device “Ben’s laptop” dates its messages 60 minutes ahead of this computer’s clock, so they wait until this clock gets there. One of the two clocks is wrong: check the date and time on both.',
      });
      send({
        event: 'fork',
        device: 'a2'.repeat(32),
        seq: 412,
        message:
          'Your device “Old phone” signed two different versions of its history (event 412). Duet keeps both as evidence and takes nothing new from that device any more, whoever passes it on. If nobody restored it from a backup, it may be in someone else’s hands.',
      });
      send({ event: 'failed', part: 'sync', restarting: true, message: 'Something went wrong in Duet (syncing): it was restarted, nothing was lost.' });
    }, 1500);
  }

  // Ben steps away for a while, then comes back.
  if (!benAway) {
    setTimeout(() => {
      const ben = { ...presences.get(BEN.id)!, status: 'away' as const, last_seen: Date.now() - 5 * 60_000 };
      presences.set(BEN.id, ben);
      send({ event: 'presence', presence: ben });
    }, 20_000);
  }
}

/** A shared date as the node tells it: when it comes next, and when both are reminded. */
function dateInfo(id: string, d: SharedDate, from: number): DateInfo {
  const next = nextAt(d, from);
  return { id, ...d, next_at: next, remind_at: next - d.remind_before_minutes * 60_000 };
}

/** A yearly date comes back on the same UTC day and time (29 February: the 28th in other years). */
function nextAt(d: SharedDate, from: number): number {
  if (!d.yearly || d.at >= from) return d.at;
  const first = new Date(d.at);
  for (let year = Math.max(first.getUTCFullYear(), new Date(from).getUTCFullYear()); year <= 9999; year++) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const day = first.getUTCMonth() === 1 && first.getUTCDate() === 29 && !leap ? 28 : first.getUTCDate();
    const t = new Date(d.at);
    t.setUTCFullYear(year, first.getUTCMonth(), day);
    if (t.getTime() >= from) return t.getTime();
  }
  return d.at;
}

function checkYear(year: number, ms?: number): void {
  if (!Number.isFinite(ms ?? 0) || Number.isNaN(year)) fail('invalid_input', 'that day does not exist in the calendar');
  if (year < 1900 || year > 9999) fail('invalid_input', `the year ${year} is outside what Duet keeps dates for (1900 to 9999)`);
}

function checkCalendarDate(date: CalendarDate): void {
  checkYear(date.year);
  const last = new Date(Date.UTC(2000, date.month, 0));
  last.setUTCFullYear(date.year, date.month, 0);
  if (date.month < 1 || date.month > 12 || date.day < 1 || date.day > last.getUTCDate()) {
    fail('invalid_input', 'that day does not exist in the calendar');
  }
}

function later<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}

function pick(said: string): string {
  if (/\?$/.test(said)) return 'Hmm, let me think… yes 😊';
  if (/love|💛/.test(said)) return '💛💛';
  return ['Ha, yes!', 'On my way 🚲', 'Tell me more', 'Sounds perfect', 'You’re the best'][said.length % 5]!;
}

/** A stand-in QR code (the shell renders the real one). */
const QR_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 21 21" shape-rendering="crispEdges"><rect width="21" height="21" fill="#fff"/><path fill="#000" d="M0 0h7v7H0zM1 1v5h5V1zM2 2h3v3H2zM14 0h7v7h-7zM15 1v5h5V1zM16 2h3v3h-3zM0 14h7v7H0zM1 15v5h5v-5zM2 16h3v3H2zM8 1h1v2H8zM10 0h2v1h-2zM9 4h3v1H9zM8 8h2v2H8zM11 9h3v1h-3zM15 8h2v2h-2zM18 9h3v1h-3zM9 12h1v3H9zM12 11h2v2h-2zM15 12h3v1h-3zM19 12h2v3h-2zM8 17h2v2H8zM11 15h2v4h-2zM14 16h3v1h-3zM16 18h2v3h-2zM19 17h2v1h-2z"/></svg>`;

/**
 * One typed function per shell command (`src-tauri/src/commands.rs`), each a thin `call`.
 * Arguments are camelCase here because Tauri maps a Rust `reply_to` to a JS `replyTo`.
 * Results and errors never throw: see `Outcome`.
 */
import { Channel as IpcChannel } from '@tauri-apps/api/core';

import { call, callRaw } from './ipc';
import { frameChannel, type FrameHandler } from './frames';
import type {
  AppSnapshot,
  Attachment,
  BlobRecord,
  BlobHash,
  Call,
  CallInfo,
  CallKind,
  CallQuality,
  CallStart,
  CalendarDate,
  DataProtection,
  DateId,
  DateInfo,
  Dates,
  MediaChoice,
  MediaDevices,
  Channel,
  ChannelId,
  Conversation,
  DeviceId,
  DeviceInfo,
  Invitation,
  InviteKind,
  ItemId,
  ListId,
  LockStatus,
  MailboxStatus,
  Message,
  MessageId,
  MessagePage,
  Mood,
  Outcome,
  PeerInfo,
  Person,
  Memory,
  PinnedMessage,
  Place,
  Presence,
  PresenceStatus,
  SharedDate,
  SharedList,
  ShareTarget,
  StoryReport,
  BackupReport,
  FoundBackup,
  Target,
  TimeWindow,
  Timestamp,
  Verification,
  VoiceNoteProgress,
  VoiceNoteStart,
} from './types';

// ----- the app and the profile -----

/** Who I am, who my partner is, whether we are paired. `profile` is `null` before onboarding. */
export function appState(): Promise<Outcome<AppSnapshot>> {
  return call('app_state');
}

/** The person this device belongs to, or `null` before a profile exists. */
export async function localProfile(): Promise<Outcome<Person | null>> {
  const state = await appState();
  return state.ok ? { ok: true, value: state.value.profile } : state;
}

/**
 * Opens this device's data, locked with the passphrase chosen for it, and starts the node: what
 * the window asks for when any command answered `needs_passphrase`. A passphrase that does not
 * open it: `wrong_passphrase` (nothing changed; try again).
 */
export function unlockData(passphrase: string): Promise<Outcome<AppSnapshot>> {
  return call('unlock_data', { passphrase });
}

/**
 * The passphrase a new profile's data will be locked with, when the desktop has no keyring to
 * keep its key (`createProfile` or `linkDevice` answered `keyring_unavailable`): the next of
 * those uses it. Shorter than 8 characters (or over 1,024 bytes): `invalid_input`.
 */
export function chooseDataPassphrase(passphrase: string): Promise<Outcome<null>> {
  return call('choose_data_passphrase', { passphrase });
}

/** How this device's data key is kept now: `'keyring'` (the desktop keyring) or `'passphrase'`. */
export function dataProtection(): Promise<Outcome<DataProtection>> {
  return call('data_protection');
}

/**
 * Locks the data key with a new `passphrase`, or (`null`) gives it to the desktop keyring;
 * resolves to the protection now. `current` is the passphrase it is locked with now (required
 * then, else `needs_passphrase`; ignored for the keyring). Refusals change nothing:
 * `wrong_passphrase` (`current` is wrong), `invalid_input` (the new one is shorter than 8
 * characters), `keyring_unavailable` (no desktop keyring can keep it). Takes about half a
 * second (key derivation).
 */
export function changeDataProtection(current: string | null, passphrase: string | null): Promise<Outcome<DataProtection>> {
  return call('change_data_protection', { current, passphrase });
}

/** Creates this device's profile (name, and an emoji avatar) and starts the node. */
export function createProfile(name: string, avatar?: string | null): Promise<Outcome<AppSnapshot>> {
  return call('create_profile', { name, avatar: avatar ?? null });
}

/** Changes my name and/or emoji avatar (`undefined` leaves it as it is). */
export function setProfile(change: { name?: string; avatar?: string }): Promise<Outcome<AppSnapshot>> {
  return call('set_profile', { name: change.name ?? null, avatar: change.avatar ?? null });
}

// ----- pairing -----

/** A one-time invite for my partner (`'partner'`) or another device of mine (`'owndevice'`). */
export function invite(kind: InviteKind): Promise<Outcome<Invitation>> {
  return call('invite', { kind });
}

/** Joins with a ticket from my partner (or from my other device). Resolves once paired. */
export function join(ticket: string): Promise<Outcome<AppSnapshot>> {
  return call('join', { ticket });
}

/**
 * Links this computer, which has no profile yet, to my profile on another of my devices, with a
 * device invite made there (Settings → "Create a device invite"). Resolves once linked. A
 * partner's invite is refused in words (`not_allowed`), and the person may try again.
 */
export function linkDevice(ticket: string): Promise<Outcome<AppSnapshot>> {
  return call('link_device', { ticket });
}

/** Member devices and whether each is connected now. */
export function peers(): Promise<Outcome<PeerInfo[]>> {
  return call('peers');
}

/** Every device of mine and my partner's (Settings → Devices): mine first, this one first of all. */
export function devices(): Promise<Outcome<DeviceInfo[]>> {
  return call('devices');
}

/**
 * Removes one of my other devices (lost, sold, stolen): it keeps what it has, but gets nothing
 * new and nothing it writes counts. My partner's devices and this one are refused (`not_allowed`).
 */
export function removeDevice(device: DeviceId): Promise<Outcome<DeviceInfo>> {
  return call('remove_device', { device });
}

/** The safety number shared with my partner, and who marked it as checked. */
export function verification(): Promise<Outcome<Verification>> {
  return call('verification');
}

/** Marks the safety number as checked with my partner (`false` takes the mark back). */
export function markVerified(verified: boolean): Promise<Outcome<Verification>> {
  return call('mark_verified', { verified });
}

/** The relays chosen in settings (addresses as `duet relay` prints them). */
export function relays(): Promise<Outcome<string[]>> {
  return call('relays');
}

/** Listens through these relays from now on; resolves to them as kept (blank ones dropped). */
export function setRelays(relays: string[]): Promise<Outcome<string[]>> {
  return call('set_relays', { relays });
}

/**
 * The couple's blind mailbox (one `duet mailbox` they run on an always-on machine), if any, and
 * whether this device reaches it now.
 */
export function mailbox(): Promise<Outcome<MailboxStatus>> {
  return call('mailbox');
}

/**
 * Makes the mailbox whose ticket (`duetbox1…`, as `duet mailbox` prints it) this is the couple's
 * own, for both people's devices. A ticket that is not one, or that the mailbox refuses, or a
 * mailbox that cannot be reached: an error in words, and nothing changed.
 */
export function addMailbox(ticket: string): Promise<Outcome<MailboxStatus>> {
  return call('add_mailbox', { ticket });
}

/** Stops using the couple's mailbox, for both people's devices; resolves to the status without one. */
export function removeMailbox(): Promise<Outcome<MailboxStatus>> {
  return call('remove_mailbox');
}

// ----- conversations and channels -----

/** My conversations (the direct one and each channel's), with unread counts. */
export function conversations(): Promise<Outcome<Conversation[]>> {
  return call('conversations');
}

export function channels(): Promise<Outcome<Channel[]>> {
  return call('channels');
}

export function createChannel(name: string): Promise<Outcome<Channel>> {
  return call('create_channel', { name });
}

export function renameChannel(id: ChannelId, name: string): Promise<Outcome<Channel>> {
  return call('rename_channel', { id, name });
}

/** Archives/unarchives or mutes/unmutes a conversation (`undefined` leaves it as it is). */
export function setConversation(
  target: Target,
  change: { archived?: boolean; muted?: boolean },
): Promise<Outcome<null>> {
  return call('set_conversation', {
    target,
    archived: change.archived ?? null,
    muted: change.muted ?? null,
  });
}

// ----- messages -----

/** A page of a conversation, newest first; pass `page.older` as `before` for the next page. */
export function messages(target: Target, before: MessageId | null | undefined, limit: number): Promise<Outcome<MessagePage>> {
  return call('messages', { target, before: before ?? null, limit });
}

export function send(target: Target, text: string, replyTo?: MessageId | null): Promise<Outcome<Message>> {
  return call('send', { target, text, replyTo: replyTo ?? null });
}

export function edit(id: MessageId, text: string): Promise<Outcome<Message>> {
  return call('edit', { id, text });
}

export function deleteMessage(id: MessageId): Promise<Outcome<null>> {
  return call('delete', { id });
}

export function react(id: MessageId, emoji: string): Promise<Outcome<Message>> {
  return call('react', { id, emoji });
}

export function unreact(id: MessageId, emoji: string): Promise<Outcome<Message>> {
  return call('unreact', { id, emoji });
}

/** Marks the conversation read up to and including this message (markers only move forward). */
export function markRead(id: MessageId): Promise<Outcome<null>> {
  return call('mark_read', { id });
}

export function markAllRead(target: Target): Promise<Outcome<null>> {
  return call('mark_all_read', { target });
}

/**
 * Pins (`pinned: true`) or unpins a message of a conversation; resolves to the conversation's
 * pins after the change, latest pinned first.
 */
export function pinMessage(target: Target, id: MessageId, pinned: boolean): Promise<Outcome<PinnedMessage[]>> {
  return call('pin_message', { target, id, pinned });
}

/** A conversation's pinned messages, latest pinned first. */
export function pinnedMessages(target: Target): Promise<Outcome<PinnedMessage[]>> {
  return call('pinned_messages', { target });
}

/**
 * The memories (photos, videos and sounds we shared, from every conversation), newest first:
 * at most `limit` (≤ 200) older than the message `before`, or the newest.
 */
export function memories(before: MessageId | null, limit: number): Promise<Outcome<Memory[]>> {
  return call('memories', { before, limit });
}

/**
 * The memories made within any of `windows` (at most 100; "On this day": this date in each
 * earlier year, from local midnight to the next), newest first.
 */
export function memoriesIn(windows: TimeWindow[]): Promise<Outcome<Memory[]>> {
  return call('memories_in', { windows });
}

/**
 * The messages holding every word of `words` (accents and case aside, whole words), best first:
 * the words as typed, then in that order, then the rest, newest first within each. In `target`'s
 * conversation or in all, written before `before` (ms) or at any time; at most `limit` (≤ 200).
 */
export function search(words: string, target: Target | null, before: Timestamp | null, limit: number): Promise<Outcome<Message[]>> {
  return call('search', { words, target, before, limit });
}

/**
 * Writes "Our story" (every conversation, oldest first, with the photos held on this device)
 * as one self-contained HTML page: to `path`, or, without one, to the Downloads folder as
 * `duet-our-story-YYYY-MM-DD.html`. Resolves to where and what was written.
 */
export function exportStory(path: string | null): Promise<Outcome<StoryReport>> {
  return call('export_story', { path });
}

/**
 * Writes a backup of everything this device keeps (messages, photos, lists, keys, settings),
 * sealed with `passphrase`: to `path`, or, without one, to the Downloads folder as
 * `duet-backup-YYYY-MM-DD.duetbackup`. A passphrase under 8 characters: `invalid_input`.
 */
export function backup(path: string | null, passphrase: string): Promise<Outcome<BackupReport>> {
  return call('backup', { path, passphrase });
}

/** The backup files in Downloads, the home folder and the desktop, newest first. */
export function findBackups(): Promise<Outcome<FoundBackup[]>> {
  return call('find_backups');
}

/**
 * On a new install: restores the backup at `path` and starts Duet with it. `wrong_passphrase`,
 * `invalid_input` (not a backup, damaged), `unreadable_file` and `keyring_unavailable` (choose
 * a data passphrase first, then again) change nothing.
 */
export function restoreBackup(path: string, passphrase: string): Promise<Outcome<AppSnapshot>> {
  return call('restore_backup', { path, passphrase });
}

/** Tells my partner I am typing (call at most every few seconds while typing). */
export function typing(target: Target): Promise<Outcome<null>> {
  return call('typing', { target });
}

// ----- presence -----

/** Everyone's presence (mine as I chose it: invisible stays invisible). */
export function presence(): Promise<Outcome<Presence[]>> {
  return call('presence');
}

/**
 * Sets my status. `customText`: `undefined` leaves my custom status as it is, `''` clears it,
 * any other text sets it. `'offline'` is refused: choose `'invisible'` to appear offline.
 */
export function setStatus(status: PresenceStatus, customText?: string): Promise<Outcome<null>> {
  return call('set_status', { status, text: customText ?? null });
}

/**
 * Sets how I feel (an emoji and, if I like, up to 60 characters of words), shown on my card to
 * my partner; `null` clears it. Not an emoji, or words too long: `invalid_input`, in words.
 */
export function setMood(mood: Mood | null): Promise<Outcome<null>> {
  return call('set_mood', { mood });
}

/** Sends my partner a "thinking of you" nudge. Before pairing: `not_paired`. */
export function nudge(): Promise<Outcome<null>> {
  return call('nudge');
}

/** The person did something (resets the idle timer: away → online). */
export function touch(): Promise<Outcome<null>> {
  return call('touch');
}

// ----- dates (ui/src/dates/) -----

/** The day we count from, and our shared dates: coming ones soonest first, then passed one-off dates, latest first. */
export function dates(): Promise<Outcome<Dates>> {
  return call('dates');
}

/**
 * Sets the day we count from ("together since"), or clears it with `null`; resolves to our
 * dates as kept. A year outside 1900 to 9999, or a day that does not exist: `invalid_input`.
 */
export function setTogetherSince(date: CalendarDate | null): Promise<Outcome<Dates>> {
  return call('set_together_since', { date });
}

/**
 * Makes a shared date (`id` null) or changes one, for both of us. A title that is empty or
 * longer than 100 characters, or a year outside 1900 to 9999: `invalid_input`, in words.
 */
export function saveDate(id: DateId | null, date: SharedDate): Promise<Outcome<DateInfo>> {
  return call('save_date', { id, date });
}

/** Removes a shared date, for both of us. */
export function removeDate(id: DateId): Promise<Outcome<null>> {
  return call('remove_date', { id });
}

// ----- shared lists (ui/src/lists/) -----

/** Our shared lists (groceries, plans, to-dos), most recently changed first, items in order. */
export function lists(): Promise<Outcome<SharedList[]>> {
  return call('lists');
}

/**
 * Makes a shared list, for both of us. A title that is empty or longer than 100 characters:
 * `invalid_input`, in words.
 */
export function createList(title: string): Promise<Outcome<SharedList>> {
  return call('create_list', { title });
}

/** Renames a list (the same limits as `createList`). */
export function renameList(list: ListId, title: string): Promise<Outcome<SharedList>> {
  return call('rename_list', { list, title });
}

/** Deletes a list, for both of us. */
export function deleteList(list: ListId): Promise<Outcome<null>> {
  return call('delete_list', { list });
}

/**
 * Adds an item, at the bottom unless `place` says otherwise; resolves to the list as it is now.
 * Text that is empty or longer than 500 characters: `invalid_input`; a list of 1,000 items:
 * `not_allowed`; both in words.
 */
export function addListItem(list: ListId, text: string, place?: Place | null): Promise<Outcome<SharedList>> {
  return call('add_list_item', { list, text, place: place ?? null });
}

/** Changes an item's text and/or ticks or unticks it (`undefined` leaves it as it is); resolves to the list. */
export function setListItem(
  list: ListId,
  item: ItemId,
  change: { text?: string; checked?: boolean },
): Promise<Outcome<SharedList>> {
  return call('set_list_item', { list, item, text: change.text ?? null, checked: change.checked ?? null });
}

/** Moves an item (`{ to: 'after', item }` puts it right after that one); resolves to the list. */
export function moveListItem(list: ListId, item: ItemId, place: Place): Promise<Outcome<SharedList>> {
  return call('move_list_item', { list, item, place });
}

/** Removes an item, for both of us; resolves to the list. */
export function removeListItem(list: ListId, item: ItemId): Promise<Outcome<SharedList>> {
  return call('remove_list_item', { list, item });
}

// ----- the desktop -----

/** Shows the unread count on the tray icon (0 clears it), with its tooltip in the window's words. */
export function setUnreadBadge(count: number, tooltip: string | null = null): Promise<Outcome<null>> {
  return call('set_unread_badge', { count, tooltip });
}

/** The tray menu's items and a locked notification's text, in the window's language. */
export function setDesktopWords(open: string, quit: string, lockedMessage: string): Promise<Outcome<null>> {
  return call('set_desktop_words', { open, quit, lockedMessage });
}

/** Shows a desktop notification. The caller decides when (not busy, not muted, not focused). */
export function notify(title: string, body: string): Promise<Outcome<null>> {
  return call('notify', { title, body });
}

// ----- calls (ui/src/calls/) -----

/**
 * Calls my partner. `onVideo` receives their decoded picture and `onPreview` my own (video
 * calls), as frames to paint on a canvas.
 */
export function startCall(kind: CallKind, onVideo: FrameHandler, onPreview: FrameHandler): Promise<Outcome<CallStart>> {
  return call('start_call', { kind, video: frameChannel(onVideo), preview: frameChannel(onPreview) });
}

/** Answers the call ringing here. */
export function answerCall(onVideo: FrameHandler, onPreview: FrameHandler): Promise<Outcome<CallStart>> {
  return call('answer_call', { video: frameChannel(onVideo), preview: frameChannel(onPreview) });
}

export function declineCall(): Promise<Outcome<null>> {
  return call('decline_call');
}

/** Cancels my unanswered call, declines a ringing one, or ends the call. */
export function hangUp(): Promise<Outcome<null>> {
  return call('hang_up');
}

/** The call in progress or ringing here, if any (e.g. after the window reloads). */
export function currentCall(): Promise<Outcome<CallInfo | null>> {
  return call('current_call');
}

export function setCallMuted(muted: boolean): Promise<Outcome<null>> {
  return call('set_call_muted', { muted });
}

export function setCallCamera(on: boolean): Promise<Outcome<null>> {
  return call('set_call_camera', { on });
}

/** Every call, newest first. */
export function callHistory(): Promise<Outcome<Call[]>> {
  return call('call_history');
}

/** The call's connection over the last few seconds; `null` outside a call and at its start. */
export function callQuality(): Promise<Outcome<CallQuality | null>> {
  return call('call_quality');
}

/** What can be shared in a call on this display: the whole screen, then its windows. */
export function shareTargets(): Promise<Outcome<ShareTarget[]>> {
  return call('share_targets');
}

/** Shares `target` (an id from `shareTargets`) instead of my camera; `null` stops sharing. */
export function shareScreen(target: string | null): Promise<Outcome<null>> {
  return call('share_screen', { target });
}

/**
 * Switches the call in progress to the devices of `choice` (only what changed is reopened) and
 * keeps them for later calls, as `setMediaDevices` does; resolves to what did not open as
 * chosen, in words (the call goes on either way). No call in progress: `not_allowed`.
 */
export function switchCallDevices(choice: MediaChoice): Promise<Outcome<string[]>> {
  return call('switch_call_devices', { choice });
}

// ----- devices (ui/src/settings/MediaSettings.svelte) -----

/** The microphones, speakers and cameras plugged in, and which are chosen. */
export function mediaDevices(): Promise<Outcome<MediaDevices>> {
  return call('media_devices');
}

/** Keeps the devices for calls and voice notes; resolves to them as kept. `null`: the default. */
export function setMediaDevices(choice: MediaChoice): Promise<Outcome<MediaChoice>> {
  return call('set_media_devices', { choice });
}

/**
 * Opens a microphone (`null`: the default) and calls `onLevel` with its level (0 to 1, RMS)
 * about 20 times a second until `stopMicrophoneMeter` (or another meter starts).
 */
export function startMicrophoneMeter(microphone: string | null, onLevel: (level: number) => void): Promise<Outcome<null>> {
  return call('start_microphone_meter', { microphone, levels: channel(onLevel) });
}

/** Stops the meter and lets its microphone go. */
export function stopMicrophoneMeter(): Promise<Outcome<null>> {
  return call('stop_microphone_meter');
}

/** Plays a short two-note chime on a speaker (`null`: the default); resolves once played. */
export function playTestSound(speaker: string | null): Promise<Outcome<null>> {
  return call('play_test_sound', { speaker });
}

// ----- attachments (ui/src/chat/attachments/) -----

/** Sends a file from bytes (the file picker, a drop, a paste) to a conversation. */
export function sendFileBytes(target: Target, name: string, bytes: Uint8Array): Promise<Outcome<Message>> {
  return callRaw('send_file_bytes', bytes, {
    'duet-name': encodeURIComponent(name),
    'duet-target': encodeURIComponent(JSON.stringify(target)),
  });
}

/** Sends the file at a path on this computer. */
export function sendFile(target: Target, path: string, text?: string): Promise<Outcome<Message>> {
  return call('send_file', { target, path, text: text ?? null });
}

/**
 * Starts recording a voice note from the microphone chosen in Settings (or the test tone when
 * that is on); `onProgress` hears its level and length about 25 times a second, and once with
 * `full` when five minutes stopped it. No microphone: `device_unavailable`, nothing recorded.
 */
export function startVoiceNote(onProgress: (progress: VoiceNoteProgress) => void): Promise<Outcome<VoiceNoteStart>> {
  return call('start_voice_note', { progress: channel(onProgress) });
}

/** Stops recording: sends the note to `target`, or throws it away when `target` is `null`. */
export function stopVoiceNote(target: Target | null): Promise<Outcome<Message | null>> {
  return call('stop_voice_note', { target });
}

/** A complete blob's bytes (an image, a thumbnail, a voice note). */
export async function readBlob(hash: BlobHash): Promise<Outcome<Uint8Array>> {
  const outcome = await call<ArrayBuffer | Uint8Array | number[]>('read_blob', { hash });
  if (!outcome.ok) return outcome;
  const v = outcome.value;
  return { ok: true, value: v instanceof Uint8Array ? v : new Uint8Array(v as ArrayBuffer) };
}

/** How much of a blob is here (`null`: nothing known of it yet). */
export function blobStatus(hash: BlobHash): Promise<Outcome<BlobRecord | null>> {
  return call('blob_status', { hash });
}

/** Fetches an attachment that did not come by itself (a big one); resolves once it is here. */
export function fetchAttachment(message: MessageId, index: number): Promise<Outcome<Attachment>> {
  return call('fetch_attachment', { message, index });
}

/** Saves an attachment into the Downloads folder; the result is the saved file's path. */
export function saveAttachment(message: MessageId, index: number): Promise<Outcome<string>> {
  return call('save_attachment', { message, index });
}

// ----- app lock (ui/src/app/appLock.svelte.ts) -----

/** Where the app lock stands. */
export function appLock(): Promise<Outcome<LockStatus>> {
  return call('app_lock');
}

/**
 * Sets, changes or (with `passphrase: null`) removes the lock's passphrase, and the idle time
 * (0: only on demand). When a passphrase is set, `current` must be it.
 */
export function setAppLock(current: string | null, passphrase: string | null, idleMinutes: number): Promise<Outcome<LockStatus>> {
  return call('set_app_lock', { current, passphrase, idleMinutes });
}

export function lockApp(): Promise<Outcome<LockStatus>> {
  return call('lock_app');
}

export function unlockApp(passphrase: string): Promise<Outcome<LockStatus>> {
  return call('unlock_app', { passphrase });
}

/** A Tauri channel whose messages (JSON) go to `onmessage`. */
function channel<T>(onmessage: (message: T) => void): IpcChannel<T> {
  const c = new IpcChannel<T>();
  c.onmessage = onmessage;
  return c;
}

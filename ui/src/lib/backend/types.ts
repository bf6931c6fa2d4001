/**
 * The shapes the Rust shell sends over IPC. Everything here comes from `./bindings/`, which is
 * generated from the Rust types by ts-rs (`scripts/check-bindings.sh`; never edit it by hand).
 * Only `Outcome`, `AppEvent` and the two UI-side error codes are written here.
 */
import type { AppError as ShellError } from './bindings/AppError';
import type { ErrorCode as ShellErrorCode } from './bindings/ErrorCode';
import type { NodeEvent } from './bindings/NodeEvent';

import type { CallNotice } from './bindings/CallNotice';

export type { AppSnapshot } from './bindings/AppSnapshot';
export type { AudioDeviceInfo } from './bindings/AudioDeviceInfo';
export type { Attachment } from './bindings/Attachment';
export type { AttachmentKind } from './bindings/AttachmentKind';
export type { Avatar } from './bindings/Avatar';
/** A blob's size and how much of it is here (named apart from the DOM's `Blob`). */
export type { Blob as BlobRecord } from './bindings/Blob';
export type { Call } from './bindings/Call';
export type { CallId } from './bindings/CallId';
export type { CallInfo } from './bindings/CallInfo';
export type { CallKind } from './bindings/CallKind';
export type { CallNotice } from './bindings/CallNotice';
export type { CallOutcome } from './bindings/CallOutcome';
export type { CallPhase } from './bindings/CallPhase';
export type { CallQuality } from './bindings/CallQuality';
export type { LockStatus } from './bindings/LockStatus';
export type { CallStart } from './bindings/CallStart';
export type { CallState } from './bindings/CallState';
export type { CalendarDate } from './bindings/CalendarDate';
export type { CameraDevice } from './bindings/CameraDevice';
export type { Direction } from './bindings/Direction';
export type { Media } from './bindings/Media';
export type { MediaChoice } from './bindings/MediaChoice';
export type { MediaDevices } from './bindings/MediaDevices';
export type { Thumbnail } from './bindings/Thumbnail';
export type { ShareTarget } from './bindings/ShareTarget';
export type { BlobHash } from './bindings/BlobHash';
export type { Channel } from './bindings/Channel';
export type { ChannelId } from './bindings/ChannelId';
export type { ChannelKind } from './bindings/ChannelKind';
export type { Conversation } from './bindings/Conversation';
export type { ConversationId } from './bindings/ConversationId';
export type { DateId } from './bindings/DateId';
export type { DateInfo } from './bindings/DateInfo';
export type { Dates } from './bindings/Dates';
export type { DeviceId } from './bindings/DeviceId';
export type { DeviceInfo } from './bindings/DeviceInfo';
export type { Invitation } from './bindings/Invitation';
export type { InviteKind } from './bindings/InviteKind';
export type { ItemId } from './bindings/ItemId';
export type { ListId } from './bindings/ListId';
export type { ListItem } from './bindings/ListItem';
export type { MailboxPlace } from './bindings/MailboxPlace';
export type { MailboxStatus } from './bindings/MailboxStatus';
export type { Message } from './bindings/Message';
export type { MessageId } from './bindings/MessageId';
export type { MessagePage } from './bindings/MessagePage';
export type { MessageType } from './bindings/MessageType';
export type { Mood } from './bindings/Mood';
export type { NodeEvent } from './bindings/NodeEvent';
export type { PeerInfo } from './bindings/PeerInfo';
export type { PeerReach } from './bindings/PeerReach';
export type { Verification } from './bindings/Verification';
export type { Person } from './bindings/Person';
export type { Place } from './bindings/Place';
export type { PinnedMessage } from './bindings/PinnedMessage';
export type { Memory } from './bindings/Memory';
export type { TimeWindow } from './bindings/TimeWindow';
export type { StoryReport } from './bindings/StoryReport';
export type { BackupReport } from './bindings/BackupReport';
export type { FoundBackup } from './bindings/FoundBackup';
export type { PersonId } from './bindings/PersonId';
export type { Presence } from './bindings/Presence';
export type { PresenceStatus } from './bindings/PresenceStatus';
export type { Reaction } from './bindings/Reaction';
export type { SharedDate } from './bindings/SharedDate';
export type { SharedList } from './bindings/SharedList';
export type { SpaceId } from './bindings/SpaceId';
export type { Target } from './bindings/Target';
export type { Timestamp } from './bindings/Timestamp';
export type { VoiceNoteProgress } from './bindings/VoiceNoteProgress';
export type { VoiceNoteStart } from './bindings/VoiceNoteStart';

/**
 * How the data key is kept (`dataProtection`): by the desktop keyring, or locked with a
 * passphrase typed when Duet starts. The shell answers a plain string; this is its type here.
 */
export type DataProtection = 'keyring' | 'passphrase';

/**
 * Why something failed: a stable `code` the UI may branch on, and a `message` in plain words
 * to show as it is. The shell's codes (generated), then two raised here, in the UI:
 * `backend_unavailable` (the page runs without the app) and `backend_failed` (an answer that is
 * not a Duet error).
 */
export type ErrorCode = ShellErrorCode | 'backend_unavailable' | 'backend_failed';

export interface AppError extends Omit<ShellError, 'code'> {
  code: ErrorCode;
}

/** The outcome of a backend call; calls never throw. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: AppError };

/**
 * What `onNodeEvent` delivers: a node event; `resync` when the UI missed events (the window
 * fell behind, or the node just started) and should reload what it shows; or `call_notice`,
 * the shell's words about a call's devices after it started (a headset unplugged).
 */
export type AppEvent = NodeEvent | { event: 'resync' } | ({ event: 'call_notice' } & CallNotice);

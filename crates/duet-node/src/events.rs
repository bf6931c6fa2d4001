//! What a node tells its front ends.

use duet_call::CallInfo;
use duet_model::{BlobHash, ConversationId, DeviceId, ListId, Message, MessageId, PersonId, Presence, Target};
use serde::Serialize;

/// One thing that happened. Front ends subscribe with [`crate::Node::subscribe`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum NodeEvent {
    /// A new message, mine or my partner's. (Boxed, as in `MessageChanged`: each of the
    /// events broadcast's 1,024 slots is as large as the largest event, and a message is the
    /// largest: boxed, an event is 184 bytes instead of 328.)
    MessageNew {
        message: Box<Message>,
    },
    /// A message was edited, deleted, or its reactions changed.
    MessageChanged {
        message: Box<Message>,
    },
    /// Many messages arrived at once (a backlog): reload the conversation.
    ConversationChanged {
        conversation: ConversationId,
    },
    /// Delivery or read receipts moved in a conversation.
    ReceiptsChanged {
        conversation: ConversationId,
        up_to: Option<MessageId>,
    },
    /// Someone's presence changed.
    Presence {
        presence: Presence,
    },
    /// My partner sent a "thinking of you" nudge just now (`at`; see `couple.rs` for what
    /// "just now" means). `silent`: I am Busy, so no sound and no pop-up.
    Nudged {
        person: PersonId,
        at: duet_model::Timestamp,
        silent: bool,
    },
    /// A shared date's reminder time came (`at`: when the date is). `silent`: I am Busy.
    Reminder {
        id: duet_model::DateId,
        title: String,
        at: duet_model::Timestamp,
        silent: bool,
    },
    /// "Together since" or a shared date changed.
    DatesChanged,
    /// The couple's mailbox changed, or what it holds of mine did, or this device connected
    /// to it or lost it: ask `mailbox_status` again.
    MailboxChanged,
    /// A shared list was made, changed or deleted (or one of its items).
    ListChanged {
        list: ListId,
    },
    /// A conversation's pinned messages changed.
    PinsChanged {
        conversation: ConversationId,
    },
    /// Someone is typing.
    Typing {
        person: PersonId,
        target: Target,
    },
    /// Channels, profiles or the space changed.
    SpaceChanged,
    /// This device, restored from a backup, holds its whole log again: it writes from now on
    /// (see `Node::catching_up`).
    CaughtUp,
    PeerConnected {
        device: DeviceId,
    },
    PeerDisconnected {
        device: DeviceId,
    },
    /// Pairing finished: `person` is now in the space (the partner, or myself for a device).
    Paired {
        person: PersonId,
        device: DeviceId,
    },
    /// A device signed two versions of its log (two different events with the same number):
    /// the other version is kept aside as evidence, and nothing new is taken from that device.
    /// Sent once per device, with `message` in words for the person.
    Fork {
        device: DeviceId,
        seq: u64,
        message: String,
    },
    /// A device sent invalid data and was cut off.
    PeerRejected {
        device: DeviceId,
        reason: String,
    },
    /// A device dates its events more than 5 minutes past this computer's clock (one of the
    /// two clocks is wrong): they wait, unread, and show once this clock gets there. Sent once
    /// per device while the node runs, with `message` in words for the person.
    ClockAhead {
        device: DeviceId,
        ahead_ms: u64,
        message: String,
    },
    /// A part of the node failed (a bug): it was started again (`restarting`), or it kept
    /// failing and the node stopped. `message` says so in words, for the person.
    Failed {
        part: String,
        restarting: bool,
        message: String,
    },
    /// A call was placed, rang, was answered, connected or ended: its state now.
    Call {
        call: CallInfo,
    },
    /// My partner muted or unmuted, or turned their camera off or on, in the call.
    CallPeerMedia {
        call: duet_model::CallId,
        muted: Option<bool>,
        camera: Option<bool>,
    },
    /// Application data from my partner over the call's data channel.
    CallData {
        call: duet_model::CallId,
        data: Vec<u8>,
    },
    /// A call record was stored (mine, or my partner's synced): the call history changed.
    CallRecorded {
        call: duet_model::Call,
    },
    /// An attachment is arriving: `done` of `total` bytes are here (sent when the whole
    /// percentage moves, and at the end).
    BlobProgress {
        blob: BlobHash,
        done: u64,
        total: u64,
    },
    /// An attachment's fetch has no member device that can give it (none is connected, none
    /// of those connected holds it, or each sent something bad): it waits for one to connect. Sent again every few seconds while
    /// it waits; `BlobProgress` follows once bytes flow.
    BlobWaiting {
        blob: BlobHash,
        done: u64,
        total: u64,
    },
    /// An attachment is all here: `read_blob` and `save_attachment` work now.
    BlobComplete {
        blob: BlobHash,
    },
    /// An attachment could not be fetched (over the size limit, or the store failed).
    BlobFailed {
        blob: BlobHash,
        reason: String,
    },
    /// A device sent a part of an attachment that did not check out: it was thrown away and
    /// asked of another device (the device is not asked again for this attachment).
    BlobRejected {
        blob: BlobHash,
        device: DeviceId,
        reason: String,
    },
    /// Another device is fetching an attachment from this one: `done` of `total` bytes sent
    /// (the upload side of the progress bar).
    BlobServed {
        blob: BlobHash,
        device: DeviceId,
        done: u64,
        total: u64,
    },
}

/// A member device, for `peers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PeerInfo {
    pub device: DeviceId,
    pub person: PersonId,
    pub name: String,
    pub me: bool,
    pub connected: bool,
    /// Connected, but only through a relay: no direct connection (yet; hole punching turns
    /// a relayed connection into a direct one when the NATs in between allow it).
    pub relayed: bool,
    /// How this device is reached now, in the words a card shows.
    pub reach: PeerReach,
    pub addresses: Vec<String>,
    /// Events held from this device.
    pub seq: u64,
}

/// How a member device is reached now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum PeerReach {
    /// This device itself.
    ThisDevice,
    /// Directly, on the same network (a private, link-local or loopback address).
    SameNetwork,
    /// Directly, across the internet (a public address, or a hole punched through the NATs).
    Direct,
    /// Only through a relay.
    Relay,
    /// Not connected.
    Offline,
}

impl PeerReach {
    pub(crate) fn of(route: Option<duet_net::Route>) -> Self {
        match route {
            Some(duet_net::Route::Lan) => Self::SameNetwork,
            Some(duet_net::Route::Direct) => Self::Direct,
            Some(duet_net::Route::Relayed) => Self::Relay,
            None => Self::Offline,
        }
    }
}

//! The sled trees and how their keys are built.
//!
//! | tree | key | value |
//! |---|---|---|
//! | `events` | author(32) · first seq(8) | a *run*: consecutive events of one author written together |
//! | `heads` | author(32) | seq(8) · hash(32) · lamport(8): the version vector and log heads |
//! | `messages` | conversation(16) · message id(16) | [`duet_log::MessageRecord`]: a message that changed since it arrived, or arrived inside a block's range |
//! | `message_blocks` | conversation(16) · first id(16) | a *block*: the new messages one write stored (see [`crate::blocks`]); with `messages`, the seed's `{channelId, createdAt}` index |
//! | `idx_pair` | sender(32) · recipient(32) · bucket(8) · first id(16) | a chunk of message ids: the seed's `{senderId, recipientId, createdAt}` index |
//! | `idx_time` | bucket(8) · first id(16) | a chunk of (message id, conversation) pairs: the seed's `{createdAt: 1}` index |
//! | `pending` | message id(16) · lamport(8) · author(32) | an operation waiting for its message |
//! | `receipts` | `d` · recipient(32) · author(32) · seq(8), or `r` · conversation(16) · reader(32) · id(16) | receipt frontier points (time) |
//! | `views` | `c`/`p`/`s`/`k`/`S`/`l`/… · id | channels, profiles, settings, calls, the space, last seen, pins, dates, lists; `M` · message id · conversation: the memories (messages with photos, videos or sounds) |
//! | `forks` | author(32) · seq(8) | the second body of a forked seq, kept for the user |
//! | `meta` | name | schema version, Lamport clock, space membership, conversations, address book |
//! | `keys` | name | this device's secrets |
//! | `search` | shard(1) · level(1) · number(8) | a chunk of the words index (see [`crate::search`]) |
//!
//! Message ids start with their creation time, so `messages`, `message_blocks` and the two
//! bucketed indexes sort by time. The bucketed indexes group ids by ~70-minute bucket; each committed batch
//! adds one *chunk* per bucket it touched (keyed by the chunk's first id), so a synced batch
//! of 1,000 messages costs one index write instead of 1,000 (each key written costs ~5–9 µs
//! here, which is what decides sync speed: `docs/decisions.md`, "Few sled keys per event"),
//! and appending never rereads a bucket however full it is. Readers merge a bucket's chunks.
//! At idle, [`crate::consolidate`] merges a bucket's chunks, and a conversation's newest small
//! blocks, into one once there are 8.
//! A key without the id suffix (the layout of schema 1, one value per bucket) reads as one
//! chunk.

use duet_model::{ConversationId, DeviceId, MessageId, PersonId, Timestamp};

/// The trees, in a fixed order (their index is their place in the store's array).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Ks {
    Events,
    Heads,
    Messages,
    MessageBlocks,
    IdxPair,
    IdxTime,
    Pending,
    Receipts,
    Views,
    Forks,
    Meta,
    Keys,
    Search,
}

impl Ks {
    pub(crate) const ALL: [Ks; 13] = [
        Ks::Events,
        Ks::Heads,
        Ks::Messages,
        Ks::MessageBlocks,
        Ks::IdxPair,
        Ks::IdxTime,
        Ks::Pending,
        Ks::Receipts,
        Ks::Views,
        Ks::Forks,
        Ks::Meta,
        Ks::Keys,
        Ks::Search,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Ks::Events => "events",
            Ks::Heads => "heads",
            Ks::Messages => "messages",
            Ks::MessageBlocks => "message_blocks",
            Ks::IdxPair => "idx_pair",
            Ks::IdxTime => "idx_time",
            Ks::Pending => "pending",
            Ks::Receipts => "receipts",
            Ks::Views => "views",
            Ks::Forks => "forks",
            Ks::Meta => "meta",
            Ks::Keys => "keys",
            Ks::Search => "search",
        }
    }
}

/// Index buckets: 2^22 ms, about 70 minutes.
pub(crate) const BUCKET_SHIFT: u32 = 22;

pub(crate) fn bucket(at: Timestamp) -> [u8; 8] {
    (at.0 >> BUCKET_SHIFT).to_be_bytes()
}

pub(crate) fn cat(parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

pub(crate) fn event_key(author: &DeviceId, seq: u64) -> Vec<u8> {
    cat(&[&author.0, &seq.to_be_bytes()])
}

pub(crate) fn message_key(conversation: &ConversationId, id: &MessageId) -> Vec<u8> {
    cat(&[&conversation.0, &id.0])
}

pub(crate) fn pair_key(sender: &PersonId, recipient: &PersonId, bucket: [u8; 8]) -> Vec<u8> {
    cat(&[&sender.0, &recipient.0, &bucket])
}

pub(crate) fn delivered_prefix(recipient: &PersonId, author: &DeviceId) -> Vec<u8> {
    cat(&[b"d", &recipient.0, &author.0])
}

pub(crate) fn read_prefix(conversation: &ConversationId, reader: &PersonId) -> Vec<u8> {
    cat(&[b"r", &conversation.0, &reader.0])
}

/// Views tree prefixes.
pub(crate) mod view {
    pub const CHANNEL: u8 = b'c';
    pub const PROFILE: u8 = b'p';
    pub const SETTINGS: u8 = b's';
    pub const CALL: u8 = b'k';
    pub const SPACE: u8 = b'S';
    pub const LAST_SEEN: u8 = b'l';
    /// · by person · of person: a safety-number mark.
    pub const VERIFIED: u8 = b'v';
    /// · person: their mood.
    pub const MOOD: u8 = b'm';
    /// · person: their latest nudge.
    pub const NUDGE: u8 = b'n';
    /// · conversation · message: a pin.
    pub const PIN: u8 = b'P';
    /// The day the two count from.
    pub const TOGETHER: u8 = b'T';
    /// The couple's mailbox.
    pub const MAILBOX: u8 = b'B';
    /// · date id: a shared date.
    pub const DATE: u8 = b'D';
    /// · key id: what was shared of a space key (a rotation).
    pub const KEY_SHARE: u8 = b'K';
    /// · list id: a shared list's title.
    pub const LIST: u8 = b'L';
    /// · list id · item id: an item of a shared list.
    pub const LIST_ITEM: u8 = b'I';
    /// · message id · conversation: a message that came with a photo, a video or a sound (the
    /// memories gallery, newest first by id). Kept when the message is deleted; readers skip
    /// what no longer has media.
    pub const MEDIA: u8 = b'M';
}

/// The media index's key for message `id` of `conversation`.
pub(crate) fn media_key(id: &MessageId, conversation: &ConversationId) -> Vec<u8> {
    cat(&[&[view::MEDIA], &id.0, &conversation.0])
}

/// Whether a message with these attachments belongs in the memories: a photo, a video or a
/// sound (voice notes included), not other files.
pub(crate) fn is_memory(attachments: &[duet_model::Attachment]) -> bool {
    use duet_model::AttachmentKind::{Audio, Image, Video};
    attachments.iter().any(|a| matches!(a.kind, Image | Video | Audio))
}

/// Meta tree keys.
pub(crate) mod meta {
    pub const SCHEMA: &[u8] = b"schema";
    pub const LAMPORT: &[u8] = b"lamport";
    pub const SPACE: &[u8] = b"space";
    /// `conv/` · conversation id: conversations that hold messages.
    pub const CONVERSATION: &[u8] = b"conv/";
    /// `addr/` · device id: the address book.
    pub const ADDRESS: &[u8] = b"addr/";
    /// Where this device listened last time.
    pub const LISTENED: &[u8] = b"listened";
    /// The relays chosen in the app's settings (multiaddr text).
    pub const RELAYS: &[u8] = b"relays";
    /// The microphone, speaker and camera chosen for calls (the node's JSON).
    pub const MEDIA_DEVICES: &[u8] = b"media-devices";
    /// `remind/` · date id: the occurrence (ms, BE) this device last reminded of.
    pub const REMINDED: &[u8] = b"remind/";
    /// Present while a device restored from a backup has not yet seen that it holds
    /// everything it wrote (`backup.rs`).
    pub const RESTORED: &[u8] = b"restored";
    /// The number the next search index chunk gets (u64, BE).
    pub const SEARCH_NEXT: &[u8] = b"search-next";
}

/// Keys tree keys.
pub(crate) mod secret {
    pub const IDENTITY: &[u8] = b"identity";
    pub const SPACE_KEY: &[u8] = b"space_key";
    /// · key id: a later space key given when this device paired (after key rotations).
    pub const LATER_KEY: &[u8] = b"later_key/";
    /// The invites an older version kept, with whether each was used (read once, then
    /// replaced by [`INVITE_RECORDS`]).
    pub const INVITES: &[u8] = b"invites";
    /// The invites this device made that have not expired, with where each stands.
    pub const INVITE_RECORDS: &[u8] = b"invites/2";
}

//! Duet's domain model: every model, field, enum, default and bound of the seed (the data
//! models Duet started from, summarized in `docs/architecture.md`, "The data model"), as
//! plain Rust types with serde.
//!
//! The seed was written for a MongoDB backend; here each model is a *view* folded from the
//! signed event log (see `duet-log`). This crate holds only the types and their validation:
//! no I/O, no clock (times are passed in as [`Timestamp`]s), no randomness.
//!
//! | seed model | here |
//! |---|---|
//! | Message (+ reactions, attachments, the pre-save hook for `deliveredAt`/`readAt`) | [`Message`], [`Reaction`], [`Attachment`], [`Receipt`] |
//! | Message indexes | named by [`MessageIndex`]; kept as sled keyspaces by `duet-store` |
//! | Conversation | [`Conversation`] |
//! | Presence (online, offline, away, busy, invisible) | [`Presence`], [`PresenceStatus`] |
//! | voice/video calling | [`Call`], [`CallKind`], [`CallState`] |
//! | servers/channels | [`Space`], [`Channel`], [`ChannelKind`] |
//! | other entities | [`Person`], [`Device`], [`Invite`], [`Blob`] |
//!
//! Validation returns typed errors ([`ValidationError`]) whose `Display` is a sentence a
//! person understands.

mod call;
mod conversation;
mod dates;
mod error;
mod ids;
mod lists;
mod message;
mod person;
mod presence;
mod space;
mod text;
mod time;

pub use call::{Call, CallKind, CallState};
pub use conversation::{Conversation, ConversationSettings, Target};
pub use dates::{
    CalendarDate, SharedDate, MAX_DATE_TITLE_CHARS, MAX_DATE_YEAR, MAX_REMIND_BEFORE_MINUTES, MIN_DATE_YEAR,
};
pub use error::ValidationError;
pub use ids::{
    BlobHash, CallId, ChannelId, ConversationId, DateId, DeviceId, IdParseError, ItemId, ListId, MessageId, PersonId,
    SpaceId,
};
pub use lists::{
    position_between, validate_list_item, validate_list_title, validate_position, ListItem, SharedList, MAX_LIST_ITEMS,
    MAX_LIST_ITEM_CHARS, MAX_LIST_TITLE_CHARS, MAX_POSITION_BYTES,
};
pub use message::{
    Attachment, AttachmentKind, Media, Message, MessageIndex, MessageType, Reaction, Receipt, Thumbnail,
    MAX_ATTACHMENTS, MAX_ATTACHMENT_NAME_CHARS, MAX_ATTACHMENT_SIZE, MAX_CONTENT_CHARS, MAX_EMOJI_BYTES,
    MAX_EMOJI_CHARS, MAX_IMAGE_SIDE, MAX_REACTIONS_KEPT_PER_PERSON, MAX_REACTIONS_PER_PERSON, MAX_THUMBNAIL_SIZE,
    MAX_VOICE_DURATION_MS, MAX_WAVEFORM_BARS,
};
pub use person::{
    Avatar, Device, Invite, InviteKind, InviteRecord, InviteState, Person, MAX_DEVICE_NAME_CHARS,
    MAX_DISPLAY_NAME_CHARS,
};
pub use presence::{Mood, Presence, PresenceStatus, MAX_CUSTOM_STATUS_CHARS, MAX_MOOD_WORDS_CHARS};
pub use space::{
    Blob, Channel, ChannelKind, MailboxPlace, Space, MAX_CHANNEL_NAME_CHARS, MAX_MAILBOX_ADDRESSES,
    MAX_MAILBOX_ADDRESS_CHARS, MAX_SPACE_NAME_CHARS, MAX_TOPIC_CHARS,
};
pub use text::{validate_content, validate_content_owned, validate_emoji, validate_name};
pub use time::Timestamp;

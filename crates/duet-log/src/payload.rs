//! What an event says, once decrypted: the payloads and their binary encoding (table in
//! `docs/protocols.md`, "Events").
//!
//! Each payload starts with a one-byte tag. Decoding is bounded by the model's limits, and
//! [`Payload::decode`] also runs model validation, so a payload that decodes is one the
//! materializer may fold.

use duet_model::{
    validate_content_owned, validate_emoji, validate_name, Attachment, AttachmentKind, Avatar, BlobHash, CalendarDate,
    CallId, CallKind, CallState, ChannelId, ChannelKind, DateId, DeviceId, ItemId, ListId, Media, MessageId,
    MessageType, Mood, PersonId, SharedDate, Target, Thumbnail, Timestamp, ValidationError, MAX_ATTACHMENTS,
    MAX_ATTACHMENT_NAME_CHARS, MAX_CHANNEL_NAME_CHARS, MAX_CONTENT_CHARS, MAX_CUSTOM_STATUS_CHARS,
    MAX_DATE_TITLE_CHARS, MAX_DISPLAY_NAME_CHARS, MAX_EMOJI_BYTES, MAX_IMAGE_SIDE, MAX_LIST_ITEM_CHARS,
    MAX_LIST_TITLE_CHARS, MAX_MOOD_WORDS_CHARS, MAX_POSITION_BYTES, MAX_SPACE_NAME_CHARS, MAX_THUMBNAIL_SIZE,
    MAX_TOPIC_CHARS, MAX_VOICE_DURATION_MS, MAX_WAVEFORM_BARS,
};
use thiserror::Error;

use crate::codec::{DecodeError, Reader, Writer};

/// Devices named in one coalesced delivery receipt.
pub const MAX_RECEIPT_DEVICES: usize = 64;
/// People in one call record.
pub const MAX_CALL_PARTICIPANTS: usize = 16;
/// Bytes of an encoded device certificate inside a `DeviceLink` payload.
pub const MAX_CERTIFICATE_BYTES: usize = 256;
/// Bytes of any encoded payload: a 2,000-character message with ten attachments fits.
pub const MAX_PAYLOAD_BYTES: usize = 24 * 1024;

const UTF8_MAX: usize = 4;

/// A payload that could not be read or is not valid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PayloadError {
    #[error("the payload is malformed: {0}")]
    Decode(#[from] DecodeError),
    #[error("the payload is not valid: {0}")]
    Invalid(#[from] ValidationError),
}

/// A change to a channel; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelChange {
    pub name: Option<String>,
    /// `Some(None)` clears the topic.
    pub topic: Option<Option<String>>,
    pub position: Option<u32>,
    pub archived: Option<bool>,
}

/// A call's record, as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CallRecordPayload {
    pub call: CallId,
    pub target: Target,
    pub caller: PersonId,
    pub participants: Vec<PersonId>,
    pub kind: CallKind,
    pub state: CallState,
    pub started_at: Timestamp,
    pub answered_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
}

/// Every durable change in Duet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Payload {
    /// A new message; its id is derived from the event (see [`duet_model::MessageId`]).
    Post {
        target: Target,
        message_type: MessageType,
        content: String,
        reply_to: Option<MessageId>,
        attachments: Vec<Attachment>,
    },
    /// New content for one of my messages.
    Edit {
        message: MessageId,
        content: String,
    },
    /// Deletes one of my messages (delete wins over edits).
    Delete {
        message: MessageId,
    },
    React {
        message: MessageId,
        emoji: String,
    },
    Unreact {
        message: MessageId,
        emoji: String,
    },
    /// I have read the conversation up to and including `up_to`.
    MarkRead {
        target: Target,
        up_to: MessageId,
    },
    /// Coalesced delivery receipt: this device holds each listed author's log up to the seq.
    Delivered {
        held: Vec<(DeviceId, u64)>,
    },
    /// My settings for a conversation.
    ConversationSettings {
        target: Target,
        archived: Option<bool>,
        muted: Option<bool>,
    },
    ChannelCreate {
        channel: ChannelId,
        name: String,
        kind: ChannelKind,
        topic: Option<String>,
        position: u32,
    },
    ChannelUpdate {
        channel: ChannelId,
        change: ChannelChange,
    },
    ProfileUpdate {
        display_name: Option<String>,
        avatar: Option<Option<Avatar>>,
    },
    /// My custom status text; `None` clears it.
    CustomStatus {
        text: Option<String>,
    },
    /// A device certificate (`duet_crypto::DeviceCertificate` bytes) for one of my devices.
    DeviceLink {
        certificate: Vec<u8>,
    },
    /// One of my devices is removed; its events after `last_seq` are no longer accepted.
    DeviceRevoke {
        device: DeviceId,
        last_seq: u64,
    },
    CallRecord(CallRecordPayload),
    SpaceUpdate {
        name: Option<String>,
        icon: Option<Option<Avatar>>,
    },
    /// I compared our safety number with `person` and it matched: `number` is its
    /// `duet_crypto::SafetyNumber::fingerprint`. `None` takes the mark back.
    Verified {
        person: PersonId,
        number: Option<duet_crypto::Hash>,
    },
    /// How I feel, on my card for my partner; `None` clears it.
    Mood {
        mood: Option<Mood>,
    },
    /// "Thinking of you": my partner is told gently, if it reaches them while fresh.
    Nudge,
    /// Pins `message` in `target` (or takes the pin off): the conversation's pinned messages.
    Pin {
        target: Target,
        message: MessageId,
        pinned: bool,
    },
    /// The day the two count from (either sets it, latest wins); `None` clears it.
    TogetherSince {
        date: Option<CalendarDate>,
    },
    /// A shared date made or changed (`Some`), or removed (`None`); latest wins per id.
    DateSet {
        id: DateId,
        date: Option<SharedDate>,
    },
    /// The space key `key` sealed to each listed device (`duet_crypto::WrappedKey` bytes). With
    /// `rotation`, new events are sealed with it from now on (a device was removed: it goes to
    /// every device that remains); without, it only opens older events (it goes to a device
    /// that joined after it). See [`crate::Keyring`].
    KeyShare {
        key: duet_crypto::KeyId,
        rotation: bool,
        wrapped: Vec<(DeviceId, Vec<u8>)>,
    },
    /// My partner joined with my invite: their device's certificate (issued by their own
    /// person key). The only way a second person enters a space: devices take a person from
    /// this event (or from their own welcome), never from what another device says.
    PartnerJoin {
        certificate: Vec<u8>,
    },
    /// A shared list made or renamed (`Some` title), or deleted (`None`); latest wins.
    ListSet {
        list: ListId,
        title: Option<String>,
    },
    /// One item of a list: each field given is set, each on its own (latest wins per field),
    /// so edits of different fields made apart are all kept. Adding an item gives its text,
    /// `checked: false`, a position and `removed: false`.
    ListItemSet {
        list: ListId,
        item: ItemId,
        text: Option<String>,
        checked: Option<bool>,
        /// A position key (`duet_model::position_between`): items sort by it, then by id.
        position: Option<Vec<u8>>,
        removed: Option<bool>,
    },
    /// The couple's mailbox (`Some`: where it runs), or none any more (`None`); latest wins.
    /// It holds no key: it stores and serves the sealed events ([`crate::mailbox`]).
    MailboxSet {
        mailbox: Option<duet_model::MailboxPlace>,
    },
}

/// Most devices one key share names.
pub const MAX_KEY_SHARE_DEVICES: usize = 32;

mod tag {
    pub const POST: u8 = 1;
    pub const EDIT: u8 = 2;
    pub const DELETE: u8 = 3;
    pub const REACT: u8 = 4;
    pub const UNREACT: u8 = 5;
    pub const MARK_READ: u8 = 6;
    pub const DELIVERED: u8 = 7;
    pub const CONVERSATION_SETTINGS: u8 = 8;
    pub const CHANNEL_CREATE: u8 = 9;
    pub const CHANNEL_UPDATE: u8 = 10;
    pub const PROFILE_UPDATE: u8 = 11;
    pub const CUSTOM_STATUS: u8 = 12;
    pub const DEVICE_LINK: u8 = 13;
    pub const DEVICE_REVOKE: u8 = 14;
    pub const CALL_RECORD: u8 = 15;
    pub const SPACE_UPDATE: u8 = 16;
    pub const VERIFIED: u8 = 17;
    pub const MOOD: u8 = 18;
    pub const NUDGE: u8 = 19;
    pub const PIN: u8 = 20;
    pub const TOGETHER_SINCE: u8 = 21;
    pub const DATE_SET: u8 = 22;
    pub const KEY_SHARE: u8 = 23;
    pub const PARTNER_JOIN: u8 = 24;
    pub const LIST_SET: u8 = 25;
    pub const LIST_ITEM_SET: u8 = 26;
    pub const MAILBOX_SET: u8 = 27;
}

impl Payload {
    /// Whether this event changes who is in the space: a partner let in (`PartnerJoin`) or a
    /// device removed (`DeviceRevoke`), folded in by [`crate::Membership::fold_events`].
    pub fn changes_membership(&self) -> bool {
        matches!(self, Payload::PartnerJoin { .. } | Payload::DeviceRevoke { .. })
    }

    /// A short name for logs and errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Payload::Post { .. } => "post",
            Payload::Edit { .. } => "edit",
            Payload::Delete { .. } => "delete",
            Payload::React { .. } => "react",
            Payload::Unreact { .. } => "unreact",
            Payload::MarkRead { .. } => "mark read",
            Payload::Delivered { .. } => "delivered",
            Payload::ConversationSettings { .. } => "conversation settings",
            Payload::ChannelCreate { .. } => "channel create",
            Payload::ChannelUpdate { .. } => "channel update",
            Payload::ProfileUpdate { .. } => "profile update",
            Payload::CustomStatus { .. } => "custom status",
            Payload::DeviceLink { .. } => "device link",
            Payload::DeviceRevoke { .. } => "device revoke",
            Payload::CallRecord(_) => "call record",
            Payload::SpaceUpdate { .. } => "space update",
            Payload::Verified { .. } => "verified",
            Payload::Mood { .. } => "mood",
            Payload::Nudge => "nudge",
            Payload::Pin { .. } => "pin",
            Payload::TogetherSince { .. } => "together since",
            Payload::DateSet { .. } => "date",
            Payload::KeyShare { .. } => "key share",
            Payload::PartnerJoin { .. } => "partner join",
            Payload::ListSet { .. } => "list",
            Payload::ListItemSet { .. } => "list item",
            Payload::MailboxSet { .. } => "mailbox",
        }
    }

    /// Checks the model's rules and returns the payload with its text normalized (trimmed).
    /// Front ends call this before sealing, so the user hears about a problem at once.
    pub fn validated(self) -> Result<Self, ValidationError> {
        Ok(match self {
            Payload::Post { target, message_type, content, reply_to, attachments } => {
                Attachment::validate_all(&attachments)?;
                Payload::Post { target, message_type, content: validate_content_owned(content)?, reply_to, attachments }
            }
            Payload::Edit { message, content } => Payload::Edit { message, content: validate_content_owned(content)? },
            Payload::React { message, emoji } => Payload::React { message, emoji: validate_emoji(&emoji)? },
            Payload::Unreact { message, emoji } => Payload::Unreact { message, emoji: validate_emoji(&emoji)? },
            Payload::Delivered { held } => {
                if held.len() > MAX_RECEIPT_DEVICES {
                    return Err(ValidationError::TooLong {
                        field: "a receipt",
                        len: held.len(),
                        max: MAX_RECEIPT_DEVICES,
                    });
                }
                Payload::Delivered { held }
            }
            Payload::ChannelCreate { channel, name, kind, topic, position } => Payload::ChannelCreate {
                channel,
                name: validate_name("a channel name", &name, MAX_CHANNEL_NAME_CHARS)?,
                kind,
                topic: topic.map(|t| validate_name("a topic", &t, MAX_TOPIC_CHARS)).transpose()?,
                position,
            },
            Payload::ChannelUpdate { channel, change } => Payload::ChannelUpdate {
                channel,
                change: ChannelChange {
                    name: change
                        .name
                        .map(|n| validate_name("a channel name", &n, MAX_CHANNEL_NAME_CHARS))
                        .transpose()?,
                    topic: change
                        .topic
                        .map(|t| t.map(|t| validate_name("a topic", &t, MAX_TOPIC_CHARS)).transpose())
                        .transpose()?,
                    position: change.position,
                    archived: change.archived,
                },
            },
            Payload::ProfileUpdate { display_name, avatar } => Payload::ProfileUpdate {
                display_name: display_name
                    .map(|n| validate_name("a display name", &n, MAX_DISPLAY_NAME_CHARS))
                    .transpose()?,
                avatar: avatar.map(|a| a.map(validate_avatar).transpose()).transpose()?,
            },
            Payload::CustomStatus { text } => Payload::CustomStatus {
                text: text.map(|t| validate_name("a custom status", &t, MAX_CUSTOM_STATUS_CHARS)).transpose()?,
            },
            Payload::CallRecord(c) => {
                if c.participants.len() > MAX_CALL_PARTICIPANTS {
                    return Err(ValidationError::TooLong {
                        field: "a call's participants",
                        len: c.participants.len(),
                        max: MAX_CALL_PARTICIPANTS,
                    });
                }
                Payload::CallRecord(c)
            }
            Payload::SpaceUpdate { name, icon } => Payload::SpaceUpdate {
                name: name.map(|n| validate_name("a space name", &n, MAX_SPACE_NAME_CHARS)).transpose()?,
                icon: icon.map(|a| a.map(validate_avatar).transpose()).transpose()?,
            },
            Payload::Mood { mood } => Payload::Mood { mood: mood.map(Mood::validated).transpose()? },
            Payload::TogetherSince { date } => {
                Payload::TogetherSince { date: date.map(CalendarDate::validated).transpose()? }
            }
            Payload::DateSet { id, date } => {
                Payload::DateSet { id, date: date.map(SharedDate::validated).transpose()? }
            }
            Payload::KeyShare { key, rotation, wrapped } => {
                if wrapped.is_empty() {
                    return Err(ValidationError::Empty { field: "a key share" });
                }
                if wrapped.len() > MAX_KEY_SHARE_DEVICES {
                    return Err(ValidationError::TooLong {
                        field: "a key share",
                        len: wrapped.len(),
                        max: MAX_KEY_SHARE_DEVICES,
                    });
                }
                if let Some((_, w)) = wrapped.iter().find(|(_, w)| w.len() != duet_crypto::WrappedKey::ENCODED_LEN) {
                    return Err(ValidationError::TooLong {
                        field: "a shared key",
                        len: w.len(),
                        max: duet_crypto::WrappedKey::ENCODED_LEN,
                    });
                }
                Payload::KeyShare { key, rotation, wrapped }
            }
            Payload::ListSet { list, title } => {
                Payload::ListSet { list, title: title.as_deref().map(duet_model::validate_list_title).transpose()? }
            }
            Payload::ListItemSet { list, item, text, checked, position, removed } => {
                if text.is_none() && checked.is_none() && position.is_none() && removed.is_none() {
                    return Err(ValidationError::Empty { field: "a change to a list item" });
                }
                if let Some(p) = &position {
                    duet_model::validate_position(p)?;
                }
                Payload::ListItemSet {
                    list,
                    item,
                    text: text.as_deref().map(duet_model::validate_list_item).transpose()?,
                    checked,
                    position,
                    removed,
                }
            }
            Payload::MailboxSet { mailbox } => {
                Payload::MailboxSet { mailbox: mailbox.map(duet_model::MailboxPlace::validated).transpose()? }
            }
            other => other,
        })
    }

    /// The fixed binary form sealed inside an event.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(64);
        match self {
            Payload::Post { target, message_type, content, reply_to, attachments } => {
                w.u8(tag::POST);
                put_target(&mut w, *target);
                w.u8(message_type_tag(*message_type));
                w.opt(reply_to.as_ref(), |w, id| w.bytes(&id.0));
                w.str(content);
                w.varint(attachments.len() as u64);
                for a in attachments {
                    w.u8(attachment_kind_tag(a.kind));
                    w.bytes(&a.blob.0);
                    w.str(&a.name);
                    w.varint(a.size);
                }
                // Media descriptions follow as an optional section, so a post without any
                // encodes exactly as before the section existed.
                if attachments.iter().any(|a| a.media.is_some()) {
                    w.u8(POST_MEDIA_SECTION);
                    for a in attachments {
                        w.opt(a.media.as_ref(), put_media);
                    }
                }
            }
            Payload::Edit { message, content } => {
                w.u8(tag::EDIT);
                w.bytes(&message.0);
                w.str(content);
            }
            Payload::Delete { message } => {
                w.u8(tag::DELETE);
                w.bytes(&message.0);
            }
            Payload::React { message, emoji } | Payload::Unreact { message, emoji } => {
                w.u8(if matches!(self, Payload::React { .. }) { tag::REACT } else { tag::UNREACT });
                w.bytes(&message.0);
                w.str(emoji);
            }
            Payload::MarkRead { target, up_to } => {
                w.u8(tag::MARK_READ);
                put_target(&mut w, *target);
                w.bytes(&up_to.0);
            }
            Payload::Delivered { held } => {
                w.u8(tag::DELIVERED);
                w.varint(held.len() as u64);
                for (device, seq) in held {
                    w.bytes(&device.0);
                    w.varint(*seq);
                }
            }
            Payload::ConversationSettings { target, archived, muted } => {
                w.u8(tag::CONVERSATION_SETTINGS);
                put_target(&mut w, *target);
                w.opt(*archived, Writer::bool);
                w.opt(*muted, Writer::bool);
            }
            Payload::ChannelCreate { channel, name, kind, topic, position } => {
                w.u8(tag::CHANNEL_CREATE);
                w.bytes(&channel.0);
                w.str(name);
                w.u8(channel_kind_tag(*kind));
                w.opt(topic.as_deref(), Writer::str);
                w.varint(*position as u64);
            }
            Payload::ChannelUpdate { channel, change } => {
                w.u8(tag::CHANNEL_UPDATE);
                w.bytes(&channel.0);
                w.opt(change.name.as_deref(), Writer::str);
                w.opt(change.topic.as_ref(), |w, t| w.opt(t.as_deref(), Writer::str));
                w.opt(change.position, |w, p| w.varint(p as u64));
                w.opt(change.archived, Writer::bool);
            }
            Payload::ProfileUpdate { display_name, avatar } => {
                w.u8(tag::PROFILE_UPDATE);
                w.opt(display_name.as_deref(), Writer::str);
                w.opt(avatar.as_ref(), |w, a| w.opt(a.as_ref(), put_avatar));
            }
            Payload::CustomStatus { text } => {
                w.u8(tag::CUSTOM_STATUS);
                w.opt(text.as_deref(), Writer::str);
            }
            Payload::DeviceLink { certificate } => {
                w.u8(tag::DEVICE_LINK);
                w.varint(certificate.len() as u64);
                w.bytes(certificate);
            }
            Payload::PartnerJoin { certificate } => {
                w.u8(tag::PARTNER_JOIN);
                w.varint(certificate.len() as u64);
                w.bytes(certificate);
            }
            Payload::ListSet { list, title } => {
                w.u8(tag::LIST_SET);
                w.bytes(&list.0);
                w.opt(title.as_deref(), Writer::str);
            }
            Payload::ListItemSet { list, item, text, checked, position, removed } => {
                w.u8(tag::LIST_ITEM_SET);
                w.bytes(&list.0);
                w.bytes(&item.0);
                w.opt(text.as_deref(), Writer::str);
                w.opt(*checked, Writer::bool);
                w.opt(position.as_deref(), |w, p| {
                    w.varint(p.len() as u64);
                    w.bytes(p);
                });
                w.opt(*removed, Writer::bool);
            }
            Payload::MailboxSet { mailbox } => {
                w.u8(tag::MAILBOX_SET);
                w.opt(mailbox.as_ref(), |w, m| {
                    w.bytes(&m.device.0);
                    w.varint(m.addresses.len() as u64);
                    for a in &m.addresses {
                        w.str(a);
                    }
                });
            }
            Payload::DeviceRevoke { device, last_seq } => {
                w.u8(tag::DEVICE_REVOKE);
                w.bytes(&device.0);
                w.varint(*last_seq);
            }
            Payload::CallRecord(c) => {
                w.u8(tag::CALL_RECORD);
                w.bytes(&c.call.0);
                put_target(&mut w, c.target);
                w.bytes(&c.caller.0);
                w.varint(c.participants.len() as u64);
                for p in &c.participants {
                    w.bytes(&p.0);
                }
                w.u8(call_kind_tag(c.kind));
                w.u8(call_state_tag(c.state));
                w.varint(c.started_at.0);
                w.opt(c.answered_at, |w, t| w.varint(t.0));
                w.opt(c.ended_at, |w, t| w.varint(t.0));
            }
            Payload::SpaceUpdate { name, icon } => {
                w.u8(tag::SPACE_UPDATE);
                w.opt(name.as_deref(), Writer::str);
                w.opt(icon.as_ref(), |w, a| w.opt(a.as_ref(), put_avatar));
            }
            Payload::Verified { person, number } => {
                w.u8(tag::VERIFIED);
                w.bytes(&person.0);
                w.opt(number.as_ref(), |w, n| w.bytes(n));
            }
            Payload::Mood { mood } => {
                w.u8(tag::MOOD);
                w.opt(mood.as_ref(), |w, m| {
                    w.str(&m.emoji);
                    w.opt(m.words.as_deref(), Writer::str);
                });
            }
            Payload::Nudge => w.u8(tag::NUDGE),
            Payload::TogetherSince { date } => {
                w.u8(tag::TOGETHER_SINCE);
                w.opt(date.as_ref(), put_calendar_date);
            }
            Payload::DateSet { id, date } => {
                w.u8(tag::DATE_SET);
                w.bytes(&id.0);
                w.opt(date.as_ref(), |w, d| {
                    w.str(&d.title);
                    w.varint(d.at.0);
                    w.bool(d.yearly);
                    w.varint(u64::from(d.remind_before_minutes));
                });
            }
            Payload::Pin { target, message, pinned } => {
                w.u8(tag::PIN);
                put_target(&mut w, *target);
                w.bytes(&message.0);
                w.bool(*pinned);
            }
            Payload::KeyShare { key, rotation, wrapped } => {
                w.u8(tag::KEY_SHARE);
                w.bytes(&key.0);
                w.bool(*rotation);
                w.varint(wrapped.len() as u64);
                for (device, bytes) in wrapped {
                    w.bytes(&device.0);
                    w.bytes(bytes);
                }
            }
        }
        w.buf
    }

    /// Reads and validates a payload. Bounded by [`MAX_PAYLOAD_BYTES`] and the model's limits.
    pub fn decode(bytes: &[u8]) -> Result<Self, PayloadError> {
        if bytes.len() > MAX_PAYLOAD_BYTES {
            return Err(DecodeError::TooLarge("the payload").into());
        }
        let mut r = Reader::new(bytes);
        let payload = match r.u8("the payload tag")? {
            tag::POST => {
                let target = get_target(&mut r)?;
                let message_type = get_enum(&mut r, "a message type", &MessageType::ALL)?;
                let reply_to = r.opt("a reply", |r| Ok(MessageId(r.array("a reply")?)))?;
                let content = r.str(MAX_CONTENT_CHARS * UTF8_MAX, "the content")?;
                let count = r.bounded(MAX_ATTACHMENTS as u64, "the attachment count")? as usize;
                let mut attachments = Vec::with_capacity(count);
                for _ in 0..count {
                    let kind = get_enum(&mut r, "an attachment type", &AttachmentKind::ALL)?;
                    let blob = BlobHash(r.array("an attachment hash")?);
                    let name = r.str(MAX_ATTACHMENT_NAME_CHARS * UTF8_MAX, "an attachment name")?;
                    let size = r.varint("an attachment size")?;
                    attachments.push(Attachment::new(kind, blob, &name, size)?);
                }
                if r.remaining() > 0 {
                    match r.u8("a post section")? {
                        POST_MEDIA_SECTION => {
                            for a in attachments.iter_mut() {
                                a.media = r.opt("media", get_media)?;
                            }
                        }
                        tag => return Err(DecodeError::UnknownTag { what: "post section", tag }.into()),
                    }
                }
                Payload::Post { target, message_type, content, reply_to, attachments }
            }
            tag::EDIT => Payload::Edit {
                message: MessageId(r.array("a message id")?),
                content: r.str(MAX_CONTENT_CHARS * UTF8_MAX, "the content")?,
            },
            tag::DELETE => Payload::Delete { message: MessageId(r.array("a message id")?) },
            t @ (tag::REACT | tag::UNREACT) => {
                let message = MessageId(r.array("a message id")?);
                let emoji = r.str(MAX_EMOJI_BYTES, "an emoji")?;
                if t == tag::REACT {
                    Payload::React { message, emoji }
                } else {
                    Payload::Unreact { message, emoji }
                }
            }
            tag::MARK_READ => {
                Payload::MarkRead { target: get_target(&mut r)?, up_to: MessageId(r.array("a message id")?) }
            }
            tag::DELIVERED => {
                let count = r.bounded(MAX_RECEIPT_DEVICES as u64, "a receipt")? as usize;
                let mut held = Vec::with_capacity(count);
                for _ in 0..count {
                    held.push((DeviceId(r.array("a device id")?), r.varint("a sequence number")?));
                }
                Payload::Delivered { held }
            }
            tag::CONVERSATION_SETTINGS => Payload::ConversationSettings {
                target: get_target(&mut r)?,
                archived: r.opt("archived", |r| r.bool("archived"))?,
                muted: r.opt("muted", |r| r.bool("muted"))?,
            },
            tag::CHANNEL_CREATE => Payload::ChannelCreate {
                channel: ChannelId(r.array("a channel id")?),
                name: r.str(MAX_CHANNEL_NAME_CHARS * UTF8_MAX, "a channel name")?,
                kind: get_enum(&mut r, "a channel kind", &ChannelKind::ALL)?,
                topic: r.opt("a topic", |r| r.str(MAX_TOPIC_CHARS * UTF8_MAX, "a topic"))?,
                position: r.bounded(u32::MAX as u64, "a position")? as u32,
            },
            tag::CHANNEL_UPDATE => Payload::ChannelUpdate {
                channel: ChannelId(r.array("a channel id")?),
                change: ChannelChange {
                    name: r.opt("a channel name", |r| r.str(MAX_CHANNEL_NAME_CHARS * UTF8_MAX, "a channel name"))?,
                    topic: r.opt("a topic", |r| r.opt("a topic", |r| r.str(MAX_TOPIC_CHARS * UTF8_MAX, "a topic")))?,
                    position: r.opt("a position", |r| Ok(r.bounded(u32::MAX as u64, "a position")? as u32))?,
                    archived: r.opt("archived", |r| r.bool("archived"))?,
                },
            },
            tag::PROFILE_UPDATE => Payload::ProfileUpdate {
                display_name: r
                    .opt("a display name", |r| r.str(MAX_DISPLAY_NAME_CHARS * UTF8_MAX, "a display name"))?,
                avatar: r.opt("an avatar", |r| r.opt("an avatar", get_avatar))?,
            },
            tag::CUSTOM_STATUS => Payload::CustomStatus {
                text: r.opt("a custom status", |r| r.str(MAX_CUSTOM_STATUS_CHARS * UTF8_MAX, "a custom status"))?,
            },
            tag::DEVICE_LINK => {
                let len = r.bounded(MAX_CERTIFICATE_BYTES as u64, "a device certificate")? as usize;
                Payload::DeviceLink { certificate: r.take(len, "a device certificate")?.to_vec() }
            }
            tag::LIST_SET => Payload::ListSet {
                list: ListId(r.array("a list id")?),
                title: r.opt("a list's title", |r| r.str(MAX_LIST_TITLE_CHARS * UTF8_MAX, "a list's title"))?,
            },
            tag::LIST_ITEM_SET => Payload::ListItemSet {
                list: ListId(r.array("a list id")?),
                item: ItemId(r.array("an item id")?),
                text: r.opt("a list item", |r| r.str(MAX_LIST_ITEM_CHARS * UTF8_MAX, "a list item"))?,
                checked: r.opt("checked", |r| r.bool("checked"))?,
                position: r.opt("a position", |r| {
                    let len = r.bounded(MAX_POSITION_BYTES as u64, "a position")? as usize;
                    Ok(r.take(len, "a position")?.to_vec())
                })?,
                removed: r.opt("removed", |r| r.bool("removed"))?,
            },
            tag::MAILBOX_SET => Payload::MailboxSet {
                mailbox: r.opt("a mailbox", |r| {
                    let device = DeviceId(r.array("the mailbox's device id")?);
                    let n = r.bounded(duet_model::MAX_MAILBOX_ADDRESSES as u64, "the mailbox's addresses")? as usize;
                    let mut addresses = Vec::with_capacity(n);
                    for _ in 0..n {
                        addresses.push(r.str(duet_model::MAX_MAILBOX_ADDRESS_CHARS * UTF8_MAX, "a mailbox address")?);
                    }
                    Ok(duet_model::MailboxPlace { device, addresses })
                })?,
            },
            tag::PARTNER_JOIN => {
                let len = r.bounded(MAX_CERTIFICATE_BYTES as u64, "a device certificate")? as usize;
                Payload::PartnerJoin { certificate: r.take(len, "a device certificate")?.to_vec() }
            }
            tag::DEVICE_REVOKE => Payload::DeviceRevoke {
                device: DeviceId(r.array("a device id")?),
                last_seq: r.varint("a sequence number")?,
            },
            tag::CALL_RECORD => {
                let call = CallId(r.array("a call id")?);
                let target = get_target(&mut r)?;
                let caller = PersonId(r.array("a caller")?);
                let count = r.bounded(MAX_CALL_PARTICIPANTS as u64, "a call's participants")? as usize;
                let mut participants = Vec::with_capacity(count);
                for _ in 0..count {
                    participants.push(PersonId(r.array("a participant")?));
                }
                Payload::CallRecord(CallRecordPayload {
                    call,
                    target,
                    caller,
                    participants,
                    kind: get_enum(&mut r, "a call kind", &CallKind::ALL)?,
                    state: get_enum(&mut r, "a call state", &CallState::ALL)?,
                    started_at: Timestamp(r.varint("a time")?),
                    answered_at: r.opt("a time", |r| Ok(Timestamp(r.varint("a time")?)))?,
                    ended_at: r.opt("a time", |r| Ok(Timestamp(r.varint("a time")?)))?,
                })
            }
            tag::SPACE_UPDATE => Payload::SpaceUpdate {
                name: r.opt("a space name", |r| r.str(MAX_SPACE_NAME_CHARS * UTF8_MAX, "a space name"))?,
                icon: r.opt("an icon", |r| r.opt("an icon", get_avatar))?,
            },
            tag::VERIFIED => Payload::Verified {
                person: PersonId(r.array("a person id")?),
                number: r.opt("a safety number", |r| r.array("a safety number"))?,
            },
            tag::MOOD => Payload::Mood {
                mood: r.opt("a mood", |r| {
                    Ok(Mood {
                        emoji: r.str(MAX_EMOJI_BYTES, "a mood's emoji")?,
                        words: r.opt("a mood's words", |r| r.str(MAX_MOOD_WORDS_CHARS * UTF8_MAX, "a mood's words"))?,
                    })
                })?,
            },
            tag::NUDGE => Payload::Nudge,
            tag::TOGETHER_SINCE => Payload::TogetherSince { date: r.opt("a date", get_calendar_date)? },
            tag::DATE_SET => Payload::DateSet {
                id: DateId(r.array("a date id")?),
                date: r.opt("a date", |r| {
                    Ok(SharedDate {
                        title: r.str(MAX_DATE_TITLE_CHARS * UTF8_MAX, "a date's title")?,
                        at: Timestamp(r.varint("a time")?),
                        yearly: r.bool("yearly")?,
                        remind_before_minutes: r.bounded(u64::from(u32::MAX), "a reminder")? as u32,
                    })
                })?,
            },
            tag::PIN => Payload::Pin {
                target: get_target(&mut r)?,
                message: MessageId(r.array("a message id")?),
                pinned: r.bool("pinned")?,
            },
            tag::KEY_SHARE => {
                let key = duet_crypto::KeyId(r.array("a key id")?);
                let rotation = r.bool("rotation")?;
                let count = r.bounded(MAX_KEY_SHARE_DEVICES as u64, "a key share")? as usize;
                let mut wrapped = Vec::with_capacity(count);
                for _ in 0..count {
                    let device = DeviceId(r.array("a device id")?);
                    wrapped.push((device, r.take(duet_crypto::WrappedKey::ENCODED_LEN, "a shared key")?.to_vec()));
                }
                Payload::KeyShare { key, rotation, wrapped }
            }
            tag => return Err(DecodeError::UnknownTag { what: "payload", tag }.into()),
        };
        r.finish()?;
        let valid = payload.clone().validated()?;
        if valid != payload {
            // Text must arrive already normalized: the same event must read the same everywhere.
            return Err(ValidationError::ControlCharacter { field: "untrimmed text" }.into());
        }
        Ok(valid)
    }
}

fn validate_avatar(a: Avatar) -> Result<Avatar, ValidationError> {
    Ok(match a {
        Avatar::Emoji(e) => Avatar::Emoji(validate_emoji(&e)?),
        image => image,
    })
}

fn put_target(w: &mut Writer, target: Target) {
    match target {
        Target::Direct => w.u8(0),
        Target::Channel(c) => {
            w.u8(1);
            w.bytes(&c.0);
        }
    }
}

fn get_target(r: &mut Reader) -> Result<Target, DecodeError> {
    match r.u8("a target")? {
        0 => Ok(Target::Direct),
        1 => Ok(Target::Channel(ChannelId(r.array("a channel id")?))),
        tag => Err(DecodeError::UnknownTag { what: "target", tag }),
    }
}

/// The tag of a post's media section.
const POST_MEDIA_SECTION: u8 = 1;

fn put_media(w: &mut Writer, m: &Media) {
    match m {
        Media::Image { width, height, thumbnail } => {
            w.u8(0);
            w.varint(*width as u64);
            w.varint(*height as u64);
            w.opt(thumbnail.as_ref(), |w, t| {
                w.bytes(&t.blob.0);
                w.varint(t.size);
                w.varint(t.width as u64);
                w.varint(t.height as u64);
            });
        }
        Media::Voice { duration_ms, waveform } => {
            w.u8(1);
            w.varint(*duration_ms as u64);
            w.varint(waveform.len() as u64);
            w.bytes(waveform);
        }
    }
}

fn get_media(r: &mut Reader) -> Result<Media, DecodeError> {
    let side = |r: &mut Reader| Ok::<_, DecodeError>(r.bounded(MAX_IMAGE_SIDE as u64, "an image side")? as u32);
    match r.u8("media")? {
        0 => {
            let (width, height) = (side(r)?, side(r)?);
            let thumbnail = r.opt("a thumbnail", |r| {
                let blob = BlobHash(r.array("a thumbnail hash")?);
                let size = r.bounded(MAX_THUMBNAIL_SIZE, "a thumbnail size")?;
                let (width, height) = (side(r)?, side(r)?);
                Ok(Thumbnail { blob, url: blob.url(), size, width, height })
            })?;
            Ok(Media::Image { width, height, thumbnail })
        }
        1 => {
            let duration_ms = r.bounded(MAX_VOICE_DURATION_MS as u64, "a duration")? as u32;
            let len = r.bounded(MAX_WAVEFORM_BARS as u64, "a waveform")? as usize;
            Ok(Media::Voice { duration_ms, waveform: r.take(len, "a waveform")?.to_vec() })
        }
        tag => Err(DecodeError::UnknownTag { what: "media", tag }),
    }
}

fn put_avatar(w: &mut Writer, a: &Avatar) {
    match a {
        Avatar::Emoji(e) => {
            w.u8(0);
            w.str(e);
        }
        Avatar::Image(h) => {
            w.u8(1);
            w.bytes(&h.0);
        }
    }
}

fn get_avatar(r: &mut Reader) -> Result<Avatar, DecodeError> {
    match r.u8("an avatar")? {
        0 => Ok(Avatar::Emoji(r.str(MAX_EMOJI_BYTES, "an avatar emoji")?)),
        1 => Ok(Avatar::Image(BlobHash(r.array("an avatar image")?))),
        tag => Err(DecodeError::UnknownTag { what: "avatar", tag }),
    }
}

/// Enums are written as their index in the type's `ALL` list.
fn get_enum<T: Copy>(r: &mut Reader, what: &'static str, all: &[T]) -> Result<T, DecodeError> {
    let tag = r.u8(what)?;
    all.get(tag as usize).copied().ok_or(DecodeError::UnknownTag { what, tag })
}

fn index_of<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter().position(|x| x == v).unwrap_or(0) as u8
}
fn message_type_tag(v: MessageType) -> u8 {
    index_of(&MessageType::ALL, &v)
}
fn attachment_kind_tag(v: AttachmentKind) -> u8 {
    index_of(&AttachmentKind::ALL, &v)
}
fn channel_kind_tag(v: ChannelKind) -> u8 {
    index_of(&ChannelKind::ALL, &v)
}
fn call_kind_tag(v: CallKind) -> u8 {
    index_of(&CallKind::ALL, &v)
}
fn call_state_tag(v: CallState) -> u8 {
    index_of(&CallState::ALL, &v)
}

fn put_calendar_date(w: &mut Writer, d: &CalendarDate) {
    // Zigzag keeps a (refused, but decodable) negative year small.
    w.varint(((d.year << 1) ^ (d.year >> 31)) as u32 as u64);
    w.u8(d.month);
    w.u8(d.day);
}

fn get_calendar_date(r: &mut Reader) -> Result<CalendarDate, DecodeError> {
    let z = r.bounded(u64::from(u32::MAX), "a year")? as u32;
    let year = ((z >> 1) as i32) ^ -((z & 1) as i32);
    Ok(CalendarDate { year, month: r.u8("a month")?, day: r.u8("a day")? })
}

#[cfg(test)]
mod media_tests {
    use super::*;

    fn post(attachments: Vec<Attachment>) -> Payload {
        Payload::Post {
            target: Target::Direct,
            message_type: MessageType::Image,
            content: "look".into(),
            reply_to: None,
            attachments,
        }
    }

    #[test]
    fn posts_without_media_encode_as_before_and_media_round_trips() {
        let plain = Attachment::new(AttachmentKind::File, BlobHash([1; 32]), "a.txt", 3).unwrap();
        let bytes = post(vec![plain.clone()]).encode();
        assert_eq!(Payload::decode(&bytes).unwrap(), post(vec![plain.clone()]));

        let thumb = Thumbnail::new(BlobHash([2; 32]), 900, 32, 20).unwrap();
        let image = Attachment::new(AttachmentKind::Image, BlobHash([3; 32]), "cat.png", 10_000)
            .unwrap()
            .with_media(Some(Media::Image { width: 640, height: 400, thumbnail: Some(thumb) }))
            .unwrap();
        let voice = Attachment::new(AttachmentKind::Audio, BlobHash([4; 32]), "voice.ogg", 5_000)
            .unwrap()
            .with_media(Some(Media::Voice { duration_ms: 2_500, waveform: vec![0, 128, 255] }))
            .unwrap();
        let with_media = post(vec![plain, image, voice]);
        let encoded = with_media.encode();
        assert!(encoded.len() > bytes.len());
        assert_eq!(Payload::decode(&encoded).unwrap(), with_media);

        // Truncations and an unknown section are refused, never a panic.
        for len in 0..encoded.len() {
            let _ = Payload::decode(&encoded[..len]);
        }
        let mut unknown = bytes.clone();
        unknown.push(9);
        assert!(Payload::decode(&unknown).is_err());
    }
}

#[cfg(test)]
mod couple_tests {
    use super::*;

    #[test]
    fn moods_nudges_and_pins_round_trip_and_bad_ones_are_refused() {
        let mood = Mood { emoji: "🥰".into(), words: Some("missing you".into()) };
        for p in [
            Payload::Mood { mood: Some(mood.clone()) },
            Payload::Mood { mood: Some(Mood { emoji: "😴".into(), words: None }) },
            Payload::Mood { mood: None },
            Payload::Nudge,
            Payload::Pin { target: Target::Direct, message: MessageId([7; 16]), pinned: true },
            Payload::Pin { target: Target::Channel(ChannelId([3; 16])), message: MessageId([7; 16]), pinned: false },
            Payload::TogetherSince { date: Some(CalendarDate { year: 2021, month: 6, day: 12 }) },
            Payload::TogetherSince { date: None },
            Payload::MailboxSet {
                mailbox: Some(duet_model::MailboxPlace {
                    device: DeviceId([4; 32]),
                    addresses: vec!["/ip4/192.168.1.20/tcp/4002".into()],
                }),
            },
            Payload::MailboxSet { mailbox: None },
            Payload::DateSet {
                id: DateId([9; 16]),
                date: Some(SharedDate {
                    title: "Our anniversary".into(),
                    at: Timestamp(1_812_000_000_000),
                    yearly: true,
                    remind_before_minutes: 60,
                }),
            },
            Payload::DateSet { id: DateId([9; 16]), date: None },
        ] {
            let bytes = p.encode();
            assert_eq!(Payload::decode(&bytes).unwrap(), p);
            for len in 0..bytes.len() {
                assert!(Payload::decode(&bytes[..len]).is_err());
            }
        }
        // Words past the limit, letters for an emoji, untrimmed words: refused in words.
        let long = Payload::Mood { mood: Some(Mood { emoji: "🥰".into(), words: Some("a".repeat(61)) }) };
        assert!(matches!(Payload::decode(&long.encode()), Err(PayloadError::Invalid(ValidationError::TooLong { .. }))));
        assert!(long.validated().is_err());
        let letters = Payload::Mood { mood: Some(Mood { emoji: "ok".into(), words: None }) };
        assert!(Payload::decode(&letters.encode()).is_err());
        let untrimmed = Payload::Mood { mood: Some(Mood { emoji: "🥰".into(), words: Some(" hi ".into()) }) };
        assert!(Payload::decode(&untrimmed.encode()).is_err());
        // A day that does not exist, a year past 9999, a negative year: refused in words.
        for date in [
            CalendarDate { year: 2023, month: 2, day: 29 },
            CalendarDate { year: 99_999, month: 1, day: 1 },
            CalendarDate { year: -5, month: 1, day: 1 },
        ] {
            let bytes = Payload::TogetherSince { date: Some(date) }.encode();
            assert!(matches!(Payload::decode(&bytes), Err(PayloadError::Invalid(_))), "{date:?}");
        }
        // Empty words are no words.
        let empty = Payload::Mood { mood: Some(Mood { emoji: "🥰".into(), words: Some("  ".into()) }) };
        assert_eq!(empty.validated().unwrap(), Payload::Mood { mood: Some(Mood { emoji: "🥰".into(), words: None }) });
    }
}

//! The records the materializer keeps: the seed's views in a form that merges in any order.
//!
//! Each mutable field is a last-writer-wins register ordered by [`Stamp`] (Lamport clock, then
//! author), and receipts are [`Frontier`]s, so folding the same events in any order gives
//! equal records. Front ends get the seed's plain types through the `to_*` methods.

use std::collections::{BTreeMap, BTreeSet};

use duet_model::{
    Attachment, Avatar, ChannelId, ChannelKind, ConversationId, DeviceId, Message, MessageId, MessageType, PersonId,
    Reaction, Target, Timestamp, ValidationError, MAX_REACTIONS_KEPT_PER_PERSON, MAX_REACTIONS_PER_PERSON,
};
use serde::{Deserialize, Serialize};

use crate::payload::CallRecordPayload;

/// The total order of writes: Lamport clock, then author device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Stamp {
    pub lamport: u64,
    pub author: DeviceId,
}

/// A person's mark that they compared their safety number with another person: the number's
/// fingerprint, or `None` once taken back. Latest mark wins.
pub type VerifiedMark = Lww<Option<duet_crypto::Hash>>;

/// A person's mood as they last set it (`None`: cleared). Latest wins.
pub type MoodMark = Lww<Option<duet_model::Mood>>;

/// A person's latest "thinking of you" nudge (its `at` is when it was sent).
pub type NudgeMark = Lww<()>;

/// A message's pin in its conversation: who pinned it, or `None` once unpinned. Latest wins,
/// whoever wrote it (either partner pins and unpins).
pub type PinMark = Lww<Option<PersonId>>;

/// The day the two count from (`None`: cleared). Latest wins, whoever set it.
pub type TogetherMark = Lww<Option<duet_model::CalendarDate>>;

/// The couple's mailbox (`None`: none any more). Latest wins, whoever chose it.
pub type MailboxMark = Lww<Option<duet_model::MailboxPlace>>;

/// A shared date (`None` once removed). Latest wins per date; `stamp.author` made this version.
pub type DateMark = Lww<Option<duet_model::SharedDate>>;

/// What was shared of one space key ([`crate::Payload::KeyShare`]): when it was made the key
/// that seals (the earliest rotation naming it), and each device's copy sealed to it, from the
/// earliest share that had one. Merges in any order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyShareMark {
    pub rotated: Option<Stamp>,
    /// Per device: the share's stamp and its `duet_crypto::WrappedKey` bytes.
    pub wrapped: Vec<(DeviceId, (Stamp, Vec<u8>))>,
}

impl KeyShareMark {
    /// Most device copies kept per key (a space has far fewer devices).
    pub const MAX_DEVICES: usize = 64;

    /// Adds one share: a rotation at `stamp` if `rotation`, and its copies.
    pub fn add(&mut self, stamp: Stamp, rotation: bool, wrapped: &[(DeviceId, Vec<u8>)]) {
        if rotation {
            self.rotated = Some(self.rotated.map_or(stamp, |r| r.min(stamp)));
        }
        for (device, bytes) in wrapped {
            let room = self.wrapped.len() < Self::MAX_DEVICES;
            match self.wrapped.iter_mut().find(|(d, _)| d == device) {
                Some((_, held)) if held.0 > stamp => *held = (stamp, bytes.clone()),
                Some(_) => {}
                None if room => self.wrapped.push((*device, (stamp, bytes.clone()))),
                None => {}
            }
        }
        self.wrapped.sort_by_key(|(d, _)| *d);
    }
}

/// A shared list's title (`None` once deleted). Latest wins.
pub type ListMark = Lww<Option<String>>;

/// An item of a shared list: each field its own register, so edits of different fields made
/// apart are all kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemMark {
    pub text: Option<Lww<String>>,
    pub checked: Option<Lww<bool>>,
    pub position: Option<Lww<Vec<u8>>>,
    pub removed: Option<Lww<bool>>,
}

impl ItemMark {
    /// The item as shown, once it has text and a position and is not removed.
    pub fn shown(&self) -> Option<(&[u8], &str, bool)> {
        if self.removed.as_ref().is_some_and(|r| r.value) {
            return None;
        }
        let text = self.text.as_ref()?;
        let position = self.position.as_ref()?;
        Some((&position.value, &text.value, self.checked.as_ref().is_some_and(|c| c.value)))
    }

    /// When it last changed.
    pub fn updated_at(&self) -> Timestamp {
        [self.text.as_ref().map(|l| l.at), self.checked.as_ref().map(|l| l.at)]
            .into_iter()
            .chain([self.position.as_ref().map(|l| l.at), self.removed.as_ref().map(|l| l.at)])
            .flatten()
            .max()
            .unwrap_or_default()
    }
}

/// A last-writer-wins register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lww<T> {
    pub value: T,
    pub stamp: Stamp,
    /// The writer's wall clock (for display).
    pub at: Timestamp,
}

impl<T> Lww<T> {
    pub fn new(value: T, stamp: Stamp, at: Timestamp) -> Self {
        Self { value, stamp, at }
    }
}

/// Writes `new` into `slot` if it is later than what is there.
pub fn lww_set<T>(slot: &mut Option<Lww<T>>, new: Lww<T>) {
    if slot.as_ref().is_none_or(|old| new.stamp > old.stamp) {
        *slot = Some(new);
    }
}

/// The non-dominated (position, time) points of a receipt kind: a point says "everything up
/// to `position` was received/read at `time`". A message's receipt time is the earliest time
/// of any point at or after its position. Keeping only points that no other point beats on
/// both counts makes the set independent of arrival order, and the times grow with the
/// positions, so a lookup is one seek.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Frontier<K: Ord> {
    points: BTreeMap<K, Timestamp>,
}

impl<K: Ord + Clone> Frontier<K> {
    /// Adds a point; returns whether it changed the frontier.
    pub fn insert(&mut self, position: K, at: Timestamp) -> bool {
        if self.points.range(position.clone()..).next().is_some_and(|(_, t)| *t <= at) {
            return false;
        }
        let beaten: Vec<K> = self
            .points
            .range(..=position.clone())
            .rev()
            .take_while(|(_, t)| **t >= at)
            .map(|(k, _)| k.clone())
            .collect();
        for k in beaten {
            self.points.remove(&k);
        }
        self.points.insert(position, at);
        true
    }

    /// When `position` was first covered.
    pub fn covered_at(&self, position: &K) -> Option<Timestamp> {
        self.points.range(position.clone()..).next().map(|(_, t)| *t)
    }

    /// The furthest position covered.
    pub fn furthest(&self) -> Option<&K> {
        self.points.keys().next_back()
    }

    pub fn points(&self) -> impl Iterator<Item = (&K, &Timestamp)> {
        self.points.iter()
    }
}

/// A message and everything that happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub id: MessageId,
    pub conversation: ConversationId,
    pub target: Target,
    pub sender: PersonId,
    pub sender_device: DeviceId,
    /// The creating event's full seq in the sender device's log.
    pub seq: u64,
    pub message_type: MessageType,
    pub content: String,
    pub reply_to: Option<MessageId>,
    pub attachments: Vec<Attachment>,
    pub created_at: Timestamp,
    /// The sender's latest edit.
    pub edit: Option<Lww<String>>,
    /// The earliest delete by the sender: delete wins over everything.
    pub deleted_at: Option<Timestamp>,
    /// (person, emoji) → present?
    pub reactions: BTreeMap<(PersonId, String), Lww<bool>>,
    /// The latest time anything happened to the message.
    pub updated_at: Timestamp,
}

impl MessageRecord {
    /// The seed's Message. `recipient` is the partner for a direct message; the receipt times
    /// come from the receipt frontiers.
    pub fn to_message(
        &self,
        recipient: Option<PersonId>,
        delivered_at: Option<Timestamp>,
        read_at: Option<Timestamp>,
    ) -> Message {
        let deleted = self.deleted_at.is_some();
        let reactions = if deleted { vec![] } else { self.shown_reactions() };
        let content = match (&self.edit, deleted) {
            (_, true) => String::new(),
            (Some(e), false) => e.value.clone(),
            (None, false) => self.content.clone(),
        };
        Message {
            id: self.id,
            sender: self.sender,
            sender_device: self.sender_device,
            recipient: match self.target {
                Target::Direct => recipient,
                Target::Channel(_) => None,
            },
            channel: self.target.channel(),
            conversation: self.conversation,
            content,
            message_type: self.message_type,
            reply_to: self.reply_to,
            read: read_at.is_some(),
            read_at,
            delivered: delivered_at.is_some() || read_at.is_some(),
            delivered_at: delivered_at.or(read_at),
            edited: self.edit.is_some(),
            edited_at: self.edit.as_ref().map(|e| e.at),
            deleted,
            deleted_at: self.deleted_at,
            reactions,
            attachments: if deleted { vec![] } else { self.attachments.clone() },
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl MessageRecord {
    /// The reactions shown: each person's present ones, at most [`MAX_REACTIONS_PER_PERSON`]
    /// of them (the earliest written; a device that writes more, which Duet refuses to do,
    /// gets no more shown), oldest first.
    fn shown_reactions(&self) -> Vec<Reaction> {
        let mut present: Vec<(&PersonId, &String, &Lww<bool>)> =
            self.reactions.iter().filter(|(_, l)| l.value).map(|((p, e), l)| (p, e, l)).collect();
        present.sort_by_key(|(p, e, l)| (**p, l.stamp, (*e).clone()));
        let mut shown: Vec<Reaction> = Vec::with_capacity(present.len());
        let mut count = 0;
        let mut last: Option<PersonId> = None;
        for (person, emoji, l) in present {
            if last != Some(*person) {
                last = Some(*person);
                count = 0;
            }
            count += 1;
            if count <= MAX_REACTIONS_PER_PERSON {
                shown.push(Reaction { user: *person, emoji: emoji.clone(), created_at: l.at });
            }
        }
        shown.sort_by(|a, b| (a.created_at, a.user, &a.emoji).cmp(&(b.created_at, b.user, &b.emoji)));
        shown
    }

    /// Whether `person` may add `emoji` to this message, in words when not: at most
    /// [`MAX_REACTIONS_PER_PERSON`] shown at once, and at most
    /// [`MAX_REACTIONS_KEPT_PER_PERSON`] different emoji remembered (the fold would forget a
    /// new one past that, or forget another of this person's for it).
    pub fn check_reaction(&self, person: &PersonId, emoji: &str) -> Result<(), ValidationError> {
        if self.reactions.get(&(*person, emoji.to_owned())).is_some_and(|l| l.value) {
            return Ok(());
        }
        let mine = || self.reactions.iter().filter(|((p, _), _)| p == person);
        if mine().filter(|(_, l)| l.value).count() >= MAX_REACTIONS_PER_PERSON {
            return Err(ValidationError::TooManyReactions { max: MAX_REACTIONS_PER_PERSON });
        }
        let known = self.reactions.contains_key(&(*person, emoji.to_owned()));
        if !known && mine().count() >= MAX_REACTIONS_KEPT_PER_PERSON {
            return Err(ValidationError::TooManyReactionsTried { max: MAX_REACTIONS_KEPT_PER_PERSON });
        }
        Ok(())
    }
}

/// An operation on a message that arrived before the message itself.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PendingOp {
    pub stamp: Stamp,
    pub person: PersonId,
    pub at: Timestamp,
    pub op: MessageOp,
}

/// What an operation does to a message.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MessageOp {
    Edit(String),
    Delete,
    React(String),
    Unreact(String),
}

/// A channel, as its create and update events left it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChannelRecord {
    pub id: ChannelId,
    /// The earliest create's time; `None` while only updates have arrived.
    pub created_at: Option<Timestamp>,
    pub kind: Option<Lww<ChannelKind>>,
    pub name: Option<Lww<String>>,
    pub topic: Option<Lww<Option<String>>>,
    pub position: Option<Lww<u32>>,
    pub archived: Option<Lww<bool>>,
    pub updated_at: Timestamp,
}

/// A person's profile and devices, as their own events left it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProfileRecord {
    pub person: PersonId,
    pub display_name: Option<Lww<String>>,
    pub avatar: Option<Lww<Option<Avatar>>>,
    pub custom_status: Option<Lww<Option<String>>>,
    /// Devices linked by the person's own events (certificates checked).
    pub devices: BTreeSet<DeviceId>,
    /// Revoked devices and the last seq accepted from each.
    pub revoked: BTreeMap<DeviceId, u64>,
}

/// One person's settings for one conversation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SettingsRecord {
    pub archived: Option<Lww<bool>>,
    pub muted: Option<Lww<bool>>,
}

/// The space's own name and icon.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SpaceRecord {
    pub name: Option<Lww<String>>,
    pub icon: Option<Lww<Option<Avatar>>>,
}

/// A call's latest record.
pub type CallView = Lww<CallRecordPayload>;

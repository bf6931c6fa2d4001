//! The materializer: folds verified events into the seed's views.
//!
//! Views are a fold of the log. The same set of events, in any order, gives the
//! same views:
//! - an edit is last-writer-wins by [`Stamp`] among the sender's own edits;
//! - a delete by the sender wins over everything (the earliest delete time is kept);
//! - a reaction is last-writer-wins per (message, person, emoji); a person's reactions to a
//!   message are remembered for at most `MAX_REACTIONS_KEPT_PER_PERSON` emoji (the smallest,
//!   a rule that ends with the same set whatever the order) and shown for at most
//!   `MAX_REACTIONS_PER_PERSON` (the earliest; see `MessageRecord::to_message`);
//! - an edit, delete or reaction that arrives before its message waits as a [`PendingOp`] and
//!   is applied when the message arrives, with the same rules;
//! - receipts are [`crate::Frontier`] points, so delivered/read times are the earliest covering
//!   receipt and read markers only move forward; unread counts are derived when asked.
//!
//! The fold runs against a [`ViewStore`]: [`MemoryViews`] here (the reference, used by the
//! property tests), and the sled store in `duet-store`, which implements the same trait over
//! one atomic batch.

use std::collections::{BTreeMap, BTreeSet};

use duet_crypto::DeviceCertificate;
use duet_model::{
    ChannelId, ConversationId, DeviceId, MessageId, PersonId, SpaceId, Timestamp, MAX_REACTIONS_KEPT_PER_PERSON,
};

use crate::payload::{ChannelChange, Payload};
use crate::records::{
    lww_set, CallView, ChannelRecord, DateMark, Frontier, ItemMark, KeyShareMark, ListMark, Lww, MailboxMark,
    MessageOp, MessageRecord, MoodMark, NudgeMark, PendingOp, PinMark, ProfileRecord, SettingsRecord, SpaceRecord,
    Stamp, TogetherMark, VerifiedMark,
};
use crate::verify::OpenedEvent;

/// Where the materializer reads and writes views.
pub trait ViewStore {
    /// Finds a message by id alone (edits, reactions and deletes name only the id).
    fn message(&self, id: &MessageId) -> Option<MessageRecord>;
    /// Finds a message when its conversation is known (cheaper for some stores).
    fn message_in(&self, conversation: &ConversationId, id: &MessageId) -> Option<MessageRecord> {
        let _ = conversation;
        self.message(id)
    }
    /// Stores a message; `new` says it was not held before (a store indexes it then).
    fn put_message(&mut self, record: MessageRecord, new: bool);
    /// Removes and returns the operations waiting for `id`.
    fn take_pending(&mut self, id: &MessageId) -> Vec<PendingOp>;
    fn add_pending(&mut self, id: MessageId, op: PendingOp);
    /// A delivery receipt point: `recipient` holds `author`'s log up to `seq` since `at`.
    fn add_delivered(&mut self, recipient: PersonId, author: DeviceId, seq: u64, at: Timestamp);
    /// A read marker point: `reader` has read `conversation` up to `up_to` since `at`.
    fn add_read(&mut self, conversation: ConversationId, reader: PersonId, up_to: MessageId, at: Timestamp);
    fn settings(&self, person: &PersonId, conversation: &ConversationId) -> Option<SettingsRecord>;
    fn put_settings(&mut self, person: PersonId, conversation: ConversationId, record: SettingsRecord);
    fn channel(&self, id: &ChannelId) -> Option<ChannelRecord>;
    fn put_channel(&mut self, record: ChannelRecord);
    fn profile(&self, person: &PersonId) -> Option<ProfileRecord>;
    fn put_profile(&mut self, record: ProfileRecord);
    fn call(&self, id: &duet_model::CallId) -> Option<CallView>;
    fn put_call(&mut self, record: CallView);
    fn space(&self) -> Option<SpaceRecord>;
    fn put_space(&mut self, record: SpaceRecord);
    /// `by`'s mark that they checked their safety number with `of`.
    fn verified(&self, by: &PersonId, of: &PersonId) -> Option<VerifiedMark>;
    fn put_verified(&mut self, by: PersonId, of: PersonId, mark: VerifiedMark);
    fn mood(&self, person: &PersonId) -> Option<MoodMark>;
    fn put_mood(&mut self, person: PersonId, mark: MoodMark);
    fn nudge(&self, person: &PersonId) -> Option<NudgeMark>;
    fn put_nudge(&mut self, person: PersonId, mark: NudgeMark);
    /// The pin of `message` in `conversation`.
    fn pin(&self, conversation: &ConversationId, message: &MessageId) -> Option<PinMark>;
    fn put_pin(&mut self, conversation: ConversationId, message: MessageId, mark: PinMark);
    fn together(&self) -> Option<TogetherMark>;
    fn put_together(&mut self, mark: TogetherMark);
    fn mailbox(&self) -> Option<MailboxMark>;
    fn put_mailbox(&mut self, mark: MailboxMark);
    fn date(&self, id: &duet_model::DateId) -> Option<DateMark>;
    fn put_date(&mut self, id: duet_model::DateId, mark: DateMark);
    fn list(&self, id: &duet_model::ListId) -> Option<ListMark>;
    fn put_list(&mut self, id: duet_model::ListId, mark: ListMark);
    fn list_item(&self, list: &duet_model::ListId, item: &duet_model::ItemId) -> Option<ItemMark>;
    fn put_list_item(&mut self, list: duet_model::ListId, item: duet_model::ItemId, mark: ItemMark);
    fn key_share(&self, key: &duet_crypto::KeyId) -> Option<KeyShareMark>;
    fn put_key_share(&mut self, key: duet_crypto::KeyId, mark: KeyShareMark);
}

/// Folds one verified event of `space` into the views.
pub fn fold(views: &mut impl ViewStore, space: SpaceId, event: &OpenedEvent) {
    let stamp = event.stamp();
    let at = event.timestamp();
    let person = event.person;
    match &event.payload {
        Payload::Post { target, message_type, content, reply_to, attachments } => {
            let id = event.message_id();
            let mut record = MessageRecord {
                id,
                conversation: target.conversation(space),
                target: *target,
                sender: person,
                sender_device: event.author(),
                seq: event.seq(),
                message_type: *message_type,
                content: content.clone(),
                reply_to: *reply_to,
                attachments: attachments.clone(),
                created_at: at,
                edit: None,
                deleted_at: None,
                reactions: BTreeMap::new(),
                updated_at: at,
            };
            let existing = views.message_in(&record.conversation, &id);
            let new = existing.is_none();
            if let Some(existing) = existing {
                // The same post twice cannot happen (ids name events); keep what is there.
                record = existing;
            }
            for op in views.take_pending(&id) {
                apply_op(&mut record, &op);
            }
            views.put_message(record, new);
        }
        Payload::Edit { message, content } => {
            message_op(views, *message, stamp, person, at, MessageOp::Edit(content.clone()))
        }
        Payload::Delete { message } => message_op(views, *message, stamp, person, at, MessageOp::Delete),
        Payload::React { message, emoji } => {
            message_op(views, *message, stamp, person, at, MessageOp::React(emoji.clone()))
        }
        Payload::Unreact { message, emoji } => {
            message_op(views, *message, stamp, person, at, MessageOp::Unreact(emoji.clone()))
        }
        Payload::MarkRead { target, up_to } => views.add_read(target.conversation(space), person, *up_to, at),
        Payload::Delivered { held } => {
            for (author, seq) in held {
                views.add_delivered(person, *author, *seq, at);
            }
        }
        Payload::ConversationSettings { target, archived, muted } => {
            let conversation = target.conversation(space);
            let mut record = views.settings(&person, &conversation).unwrap_or_default();
            if let Some(a) = archived {
                lww_set(&mut record.archived, Lww::new(*a, stamp, at));
            }
            if let Some(m) = muted {
                lww_set(&mut record.muted, Lww::new(*m, stamp, at));
            }
            views.put_settings(person, conversation, record);
        }
        Payload::ChannelCreate { channel, name, kind, topic, position } => {
            let mut record =
                views.channel(channel).unwrap_or_else(|| ChannelRecord { id: *channel, ..Default::default() });
            record.created_at = Some(record.created_at.map_or(at, |t| t.min(at)));
            lww_set(&mut record.kind, Lww::new(*kind, stamp, at));
            let change = ChannelChange {
                name: Some(name.clone()),
                topic: Some(topic.clone()),
                position: Some(*position),
                archived: Some(false),
            };
            apply_channel_change(&mut record, &change, stamp, at);
            views.put_channel(record);
        }
        Payload::ChannelUpdate { channel, change } => {
            let mut record =
                views.channel(channel).unwrap_or_else(|| ChannelRecord { id: *channel, ..Default::default() });
            apply_channel_change(&mut record, change, stamp, at);
            views.put_channel(record);
        }
        Payload::ProfileUpdate { display_name, avatar } => {
            let mut record = profile(views, person);
            if let Some(n) = display_name {
                lww_set(&mut record.display_name, Lww::new(n.clone(), stamp, at));
            }
            if let Some(a) = avatar {
                lww_set(&mut record.avatar, Lww::new(a.clone(), stamp, at));
            }
            views.put_profile(record);
        }
        Payload::CustomStatus { text } => {
            let mut record = profile(views, person);
            lww_set(&mut record.custom_status, Lww::new(text.clone(), stamp, at));
            views.put_profile(record);
        }
        Payload::DeviceLink { certificate } => {
            // Only a valid certificate of the author's own person links a device.
            let valid =
                DeviceCertificate::decode(certificate).ok().filter(|c| c.person == person && c.verify().is_ok());
            if let Some(cert) = valid {
                let mut record = profile(views, person);
                record.devices.insert(cert.device);
                views.put_profile(record);
            }
        }
        Payload::DeviceRevoke { device, last_seq } => {
            let mut record = profile(views, person);
            let e = record.revoked.entry(*device).or_insert(*last_seq);
            *e = (*e).min(*last_seq);
            views.put_profile(record);
        }
        Payload::CallRecord(call) => {
            let mut slot = views.call(&call.call);
            lww_set(&mut slot, Lww::new(call.clone(), stamp, at));
            if let Some(record) = slot {
                views.put_call(record);
            }
        }
        Payload::SpaceUpdate { name, icon } => {
            let mut record = views.space().unwrap_or_default();
            if let Some(n) = name {
                lww_set(&mut record.name, Lww::new(n.clone(), stamp, at));
            }
            if let Some(i) = icon {
                lww_set(&mut record.icon, Lww::new(i.clone(), stamp, at));
            }
            views.put_space(record);
        }
        Payload::Verified { person: of, number } => {
            let mut mark = views.verified(&person, of);
            lww_set(&mut mark, Lww::new(*number, stamp, at));
            if let Some(mark) = mark {
                views.put_verified(person, *of, mark);
            }
        }
        Payload::Mood { mood } => {
            let mut mark = views.mood(&person);
            lww_set(&mut mark, Lww::new(mood.clone(), stamp, at));
            if let Some(mark) = mark {
                views.put_mood(person, mark);
            }
        }
        Payload::Nudge => {
            let mut mark = views.nudge(&person);
            lww_set(&mut mark, Lww::new((), stamp, at));
            if let Some(mark) = mark {
                views.put_nudge(person, mark);
            }
        }
        Payload::Pin { target, message, pinned } => {
            let conversation = target.conversation(space);
            let mut mark = views.pin(&conversation, message);
            lww_set(&mut mark, Lww::new(pinned.then_some(person), stamp, at));
            if let Some(mark) = mark {
                views.put_pin(conversation, *message, mark);
            }
        }
        Payload::TogetherSince { date } => {
            let mut mark = views.together();
            lww_set(&mut mark, Lww::new(*date, stamp, at));
            if let Some(mark) = mark {
                views.put_together(mark);
            }
        }
        Payload::MailboxSet { mailbox } => {
            let mut mark = views.mailbox();
            lww_set(&mut mark, Lww::new(mailbox.clone(), stamp, at));
            if let Some(mark) = mark {
                views.put_mailbox(mark);
            }
        }
        Payload::DateSet { id, date } => {
            let mut mark = views.date(id);
            lww_set(&mut mark, Lww::new(date.clone(), stamp, at));
            if let Some(mark) = mark {
                views.put_date(*id, mark);
            }
        }
        // Membership, not a view: the node applies it to the space (`Membership::partner_joined`).
        Payload::PartnerJoin { .. } => {}
        Payload::ListSet { list, title } => {
            let mut mark = views.list(list);
            lww_set(&mut mark, Lww::new(title.clone(), stamp, at));
            if let Some(mark) = mark {
                views.put_list(*list, mark);
            }
        }
        Payload::ListItemSet { list, item, text, checked, position, removed } => {
            let mut mark = views.list_item(list, item).unwrap_or_default();
            if let Some(text) = text {
                lww_set(&mut mark.text, Lww::new(text.clone(), stamp, at));
            }
            if let Some(checked) = checked {
                lww_set(&mut mark.checked, Lww::new(*checked, stamp, at));
            }
            if let Some(position) = position {
                lww_set(&mut mark.position, Lww::new(position.clone(), stamp, at));
            }
            if let Some(removed) = removed {
                lww_set(&mut mark.removed, Lww::new(*removed, stamp, at));
            }
            views.put_list_item(*list, *item, mark);
        }
        Payload::KeyShare { key, rotation, wrapped } => {
            let mut mark = views.key_share(key).unwrap_or_default();
            mark.add(stamp, *rotation, wrapped);
            views.put_key_share(*key, mark);
        }
    }
}

fn profile(views: &impl ViewStore, person: PersonId) -> ProfileRecord {
    views.profile(&person).unwrap_or_else(|| ProfileRecord { person, ..Default::default() })
}

fn message_op(views: &mut impl ViewStore, id: MessageId, stamp: Stamp, person: PersonId, at: Timestamp, op: MessageOp) {
    let op = PendingOp { stamp, person, at, op };
    match views.message(&id) {
        Some(mut record) => {
            if apply_op(&mut record, &op) {
                views.put_message(record, false);
            }
        }
        None => views.add_pending(id, op),
    }
}

/// Applies an operation to a message; returns whether anything changed. Only the sender
/// edits or deletes a message; anyone in the space reacts.
fn apply_op(record: &mut MessageRecord, op: &PendingOp) -> bool {
    let before = record.clone();
    match &op.op {
        MessageOp::Edit(content) if op.person == record.sender => {
            lww_set(&mut record.edit, Lww::new(content.clone(), op.stamp, op.at));
        }
        MessageOp::Delete if op.person == record.sender => {
            record.deleted_at = Some(record.deleted_at.map_or(op.at, |t| t.min(op.at)));
        }
        MessageOp::React(emoji) | MessageOp::Unreact(emoji) => {
            let present = matches!(op.op, MessageOp::React(_));
            let mut slot = record.reactions.remove(&(op.person, emoji.clone()));
            lww_set(&mut slot, Lww::new(present, op.stamp, op.at));
            if let Some(l) = slot {
                record.reactions.insert((op.person, emoji.clone()), l);
            }
            forget_reactions_past_the_cap(record, op.person);
        }
        // An edit or delete by someone other than the sender changes nothing.
        _ => return false,
    }
    record.updated_at = record.updated_at.max(op.at);
    *record != before
}

/// Keeps `person`'s reactions to the message to the [`MAX_REACTIONS_KEPT_PER_PERSON`]
/// smallest emoji. Whether an emoji is among the smallest of all the emoji a person used does
/// not depend on the order they arrived in, so every device ends with the same ones.
fn forget_reactions_past_the_cap(record: &mut MessageRecord, person: PersonId) {
    let mine: Vec<String> = record
        .reactions
        .range((person, String::new())..)
        .take_while(|((p, _), _)| *p == person)
        .map(|((_, e), _)| e.clone())
        .collect();
    for emoji in mine.into_iter().skip(MAX_REACTIONS_KEPT_PER_PERSON) {
        record.reactions.remove(&(person, emoji));
    }
}

fn apply_channel_change(record: &mut ChannelRecord, change: &ChannelChange, stamp: Stamp, at: Timestamp) {
    if let Some(n) = &change.name {
        lww_set(&mut record.name, Lww::new(n.clone(), stamp, at));
    }
    if let Some(t) = &change.topic {
        lww_set(&mut record.topic, Lww::new(t.clone(), stamp, at));
    }
    if let Some(p) = change.position {
        lww_set(&mut record.position, Lww::new(p, stamp, at));
    }
    if let Some(a) = change.archived {
        lww_set(&mut record.archived, Lww::new(a, stamp, at));
    }
    record.updated_at = record.updated_at.max(at);
}

/// Views held in memory: the reference implementation of [`ViewStore`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemoryViews {
    pub messages: BTreeMap<MessageId, MessageRecord>,
    pub pending: BTreeMap<MessageId, BTreeSet<PendingOp>>,
    pub delivered: BTreeMap<(PersonId, DeviceId), Frontier<u64>>,
    pub read: BTreeMap<(ConversationId, PersonId), Frontier<MessageId>>,
    pub settings: BTreeMap<(PersonId, ConversationId), SettingsRecord>,
    pub channels: BTreeMap<ChannelId, ChannelRecord>,
    pub profiles: BTreeMap<PersonId, ProfileRecord>,
    pub calls: BTreeMap<duet_model::CallId, CallView>,
    pub space: Option<SpaceRecord>,
    pub verified: BTreeMap<(PersonId, PersonId), VerifiedMark>,
    pub moods: BTreeMap<PersonId, MoodMark>,
    pub nudges: BTreeMap<PersonId, NudgeMark>,
    pub pins: BTreeMap<(ConversationId, MessageId), PinMark>,
    pub together: Option<TogetherMark>,
    pub mailbox: Option<MailboxMark>,
    pub dates: BTreeMap<duet_model::DateId, DateMark>,
    pub key_shares: BTreeMap<duet_crypto::KeyId, KeyShareMark>,
    pub lists: BTreeMap<duet_model::ListId, ListMark>,
    pub list_items: BTreeMap<(duet_model::ListId, duet_model::ItemId), ItemMark>,
}

impl MemoryViews {
    /// When `recipient` first held the message.
    pub fn delivered_at(&self, record: &MessageRecord, recipient: &PersonId) -> Option<Timestamp> {
        self.delivered.get(&(*recipient, record.sender_device))?.covered_at(&record.seq)
    }

    /// When `reader` first read the message.
    pub fn read_at(&self, record: &MessageRecord, reader: &PersonId) -> Option<Timestamp> {
        self.read.get(&(record.conversation, *reader))?.covered_at(&record.id)
    }
}

impl ViewStore for MemoryViews {
    fn message(&self, id: &MessageId) -> Option<MessageRecord> {
        self.messages.get(id).cloned()
    }
    fn put_message(&mut self, record: MessageRecord, _new: bool) {
        self.messages.insert(record.id, record);
    }
    fn take_pending(&mut self, id: &MessageId) -> Vec<PendingOp> {
        self.pending.remove(id).map(|s| s.into_iter().collect()).unwrap_or_default()
    }
    fn add_pending(&mut self, id: MessageId, op: PendingOp) {
        self.pending.entry(id).or_default().insert(op);
    }
    fn add_delivered(&mut self, recipient: PersonId, author: DeviceId, seq: u64, at: Timestamp) {
        self.delivered.entry((recipient, author)).or_default().insert(seq, at);
    }
    fn add_read(&mut self, conversation: ConversationId, reader: PersonId, up_to: MessageId, at: Timestamp) {
        self.read.entry((conversation, reader)).or_default().insert(up_to, at);
    }
    fn settings(&self, person: &PersonId, conversation: &ConversationId) -> Option<SettingsRecord> {
        self.settings.get(&(*person, *conversation)).cloned()
    }
    fn put_settings(&mut self, person: PersonId, conversation: ConversationId, record: SettingsRecord) {
        self.settings.insert((person, conversation), record);
    }
    fn channel(&self, id: &ChannelId) -> Option<ChannelRecord> {
        self.channels.get(id).cloned()
    }
    fn put_channel(&mut self, record: ChannelRecord) {
        self.channels.insert(record.id, record);
    }
    fn profile(&self, person: &PersonId) -> Option<ProfileRecord> {
        self.profiles.get(person).cloned()
    }
    fn put_profile(&mut self, record: ProfileRecord) {
        self.profiles.insert(record.person, record);
    }
    fn call(&self, id: &duet_model::CallId) -> Option<CallView> {
        self.calls.get(id).cloned()
    }
    fn put_call(&mut self, record: CallView) {
        self.calls.insert(record.value.call, record);
    }
    fn space(&self) -> Option<SpaceRecord> {
        self.space.clone()
    }
    fn put_space(&mut self, record: SpaceRecord) {
        self.space = Some(record);
    }
    fn verified(&self, by: &PersonId, of: &PersonId) -> Option<VerifiedMark> {
        self.verified.get(&(*by, *of)).cloned()
    }
    fn put_verified(&mut self, by: PersonId, of: PersonId, mark: VerifiedMark) {
        self.verified.insert((by, of), mark);
    }
    fn mood(&self, person: &PersonId) -> Option<MoodMark> {
        self.moods.get(person).cloned()
    }
    fn put_mood(&mut self, person: PersonId, mark: MoodMark) {
        self.moods.insert(person, mark);
    }
    fn nudge(&self, person: &PersonId) -> Option<NudgeMark> {
        self.nudges.get(person).cloned()
    }
    fn put_nudge(&mut self, person: PersonId, mark: NudgeMark) {
        self.nudges.insert(person, mark);
    }
    fn pin(&self, conversation: &ConversationId, message: &MessageId) -> Option<PinMark> {
        self.pins.get(&(*conversation, *message)).cloned()
    }
    fn put_pin(&mut self, conversation: ConversationId, message: MessageId, mark: PinMark) {
        self.pins.insert((conversation, message), mark);
    }
    fn together(&self) -> Option<TogetherMark> {
        self.together.clone()
    }
    fn put_together(&mut self, mark: TogetherMark) {
        self.together = Some(mark);
    }
    fn mailbox(&self) -> Option<MailboxMark> {
        self.mailbox.clone()
    }
    fn put_mailbox(&mut self, mark: MailboxMark) {
        self.mailbox = Some(mark);
    }
    fn list(&self, id: &duet_model::ListId) -> Option<ListMark> {
        self.lists.get(id).cloned()
    }

    fn put_list(&mut self, id: duet_model::ListId, mark: ListMark) {
        self.lists.insert(id, mark);
    }

    fn list_item(&self, list: &duet_model::ListId, item: &duet_model::ItemId) -> Option<ItemMark> {
        self.list_items.get(&(*list, *item)).cloned()
    }

    fn put_list_item(&mut self, list: duet_model::ListId, item: duet_model::ItemId, mark: ItemMark) {
        self.list_items.insert((list, item), mark);
    }

    fn key_share(&self, key: &duet_crypto::KeyId) -> Option<KeyShareMark> {
        self.key_shares.get(key).cloned()
    }

    fn put_key_share(&mut self, key: duet_crypto::KeyId, mark: KeyShareMark) {
        self.key_shares.insert(key, mark);
    }

    fn date(&self, id: &duet_model::DateId) -> Option<DateMark> {
        self.dates.get(id).cloned()
    }
    fn put_date(&mut self, id: duet_model::DateId, mark: DateMark) {
        self.dates.insert(id, mark);
    }
}

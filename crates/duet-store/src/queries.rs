//! Reading views: message pages, conversations with unread counts, clean-up candidates.
//!
//! Receipt flags are derived here, at read time, from the receipt frontiers: a message is
//! delivered when the other person's devices hold its event, read when the other person's
//! read marker covers it. Nothing is rewritten per message when a receipt arrives.

use duet_log::{ChannelRecord, MessageRecord, SettingsRecord};
use duet_model::{Channel, ChannelId, Conversation, ConversationId, Message, MessageId, PersonId, Target, Timestamp};

use crate::keyspace::{self, bucket, cat, view, Ks, BUCKET_SHIFT};
use crate::scan::{self, Scan};
use crate::txn::{decode, read_time};
use crate::{SpaceState, Store, StoreError};

/// Unread counts stop at this (a badge shows "9999+").
pub const MAX_UNREAD_COUNT: u32 = 9999;

/// One page of a conversation, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub messages: Vec<Message>,
    /// Pass as `before` to get the next (older) page; `None` at the beginning.
    pub older: Option<MessageId>,
}

impl Store {
    /// A conversation's messages, newest first, strictly older than `before` when given.
    pub fn messages(
        &self,
        conversation: &ConversationId,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        self.steady(|| self.messages_once(conversation, before, limit))
    }

    /// [`Store::messages`], read once.
    fn messages_once(
        &self,
        conversation: &ConversationId,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let hi = before.unwrap_or(MessageId([0xff; 16]));
        let mut messages = Vec::with_capacity(limit.min(512));
        let mut older = None;
        for item in Scan::new(&self.inner, conversation, MessageId([0; 16]), hi, true) {
            let (id, v) = item?;
            if Some(id) == before {
                continue;
            }
            let record: MessageRecord = decode(&v)?;
            if messages.len() == limit {
                older = messages.last().map(|m: &Message| m.id);
                break;
            }
            messages.push(self.render(&record)?);
        }
        Ok(Page { messages, older })
    }

    /// Direct messages from `sender` to `recipient`, newest first (the seed's
    /// `{senderId, recipientId, createdAt: -1}` index).
    pub fn messages_between(
        &self,
        sender: &PersonId,
        recipient: &PersonId,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.steady(|| self.messages_between_once(sender, recipient, before, limit))
    }

    /// [`Store::messages_between`], read once.
    fn messages_between_once(
        &self,
        sender: &PersonId,
        recipient: &PersonId,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let before = before.unwrap_or(MessageId([0xff; 16]));
        let space = self.space_id()?;
        let conversation = Target::Direct.conversation(space);
        let mut out = Vec::new();
        let mut buckets =
            Buckets::<16>::new(self.pair_chunks(sender, recipient, [0; 8], bucket(before.created_at())).rev(), 64);
        while let Some(ids) = buckets.next_bucket()? {
            for chunk in ids.iter().rev() {
                let id = MessageId(*chunk);
                if id >= before {
                    continue;
                }
                if out.len() == limit {
                    return Ok(out);
                }
                if let Some(m) = self.message_in(&conversation, &id)? {
                    out.push(m);
                }
            }
        }
        Ok(out)
    }

    /// The chunks of the `{senderId, recipientId}` index from `sender` to `recipient` in the
    /// buckets `first..=last`, in key order.
    fn pair_chunks(
        &self,
        sender: &PersonId,
        recipient: &PersonId,
        first: [u8; 8],
        last: [u8; 8],
    ) -> crate::sealed::Iter {
        let lo = keyspace::pair_key(sender, recipient, first);
        let hi = cat(&[&keyspace::pair_key(sender, recipient, last), &[0xff; 16]]);
        self.inner.tree(Ks::IdxPair).range(lo..=hi)
    }

    /// One message by id.
    pub fn message(&self, id: &MessageId) -> Result<Option<Message>, StoreError> {
        for c in self.inner.conversations() {
            if let Some(m) = self.message_in(&c, id)? {
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    /// A message as the fold keeps it (reactions taken back included), for checks made
    /// before writing to it.
    pub fn message_record(&self, id: &MessageId) -> Result<Option<MessageRecord>, StoreError> {
        for c in self.inner.conversations() {
            if let Some(v) = scan::record(&self.inner, &c, id)? {
                return Ok(Some(decode(&v)?));
            }
        }
        Ok(None)
    }

    fn message_in(&self, conversation: &ConversationId, id: &MessageId) -> Result<Option<Message>, StoreError> {
        match scan::record(&self.inner, conversation, id)? {
            Some(v) => Ok(Some(self.render(&decode(&v)?)?)),
            None => Ok(None),
        }
    }

    /// A conversation's pinned messages, the latest pinned first, with who pinned each and
    /// when. A pin of a message not here yet (or deleted) is left out until it shows.
    pub fn pinned(&self, conversation: &ConversationId) -> Result<Vec<(Message, PersonId, Timestamp)>, StoreError> {
        let prefix = cat(&[&[view::PIN], &conversation.0]);
        let mut out = Vec::new();
        for item in self.inner.tree(Ks::Views).scan_prefix(&prefix) {
            let (key, value) = item?;
            let id = MessageId::from_slice(&key[prefix.len()..]).ok_or(StoreError::Corrupt("bad pin key"))?;
            let mark: duet_log::PinMark = decode(&value)?;
            let Some(by) = mark.value else { continue };
            if let Some(message) = self.message_in(conversation, &id)?.filter(|m| !m.deleted) {
                out.push((message, by, mark.at));
            }
        }
        out.sort_by(|a, b| b.2.cmp(&a.2).then(b.0.id.cmp(&a.0.id)));
        Ok(out)
    }

    /// The memories: messages with a photo, a video or a sound, from every conversation, newest
    /// first, created after `after` and before `before` (ids; either open), at most `limit`.
    /// Deleted messages are left out.
    pub fn memories(
        &self,
        after: Option<MessageId>,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let views = self.inner.tree(Ks::Views);
        let from = cat(&[&[view::MEDIA], &after.map_or([0; 16], |a| a.0)]);
        let to = match before {
            Some(b) => cat(&[&[view::MEDIA], &b.0]),
            None => vec![view::MEDIA + 1],
        };
        let mut out = Vec::new();
        for item in views.range(from..to).rev() {
            if out.len() >= limit {
                break;
            }
            let (key, _) = item?;
            let bad = || StoreError::Corrupt("bad memories key");
            let id = MessageId::from_slice(key.get(1..17).ok_or_else(bad)?).ok_or_else(bad)?;
            let conversation = ConversationId::from_slice(key.get(17..33).ok_or_else(bad)?).ok_or_else(bad)?;
            if after.is_some_and(|a| id == a) {
                continue;
            }
            if let Some(m) = self.message_in(&conversation, &id)? {
                if !m.deleted && keyspace::is_memory(&m.attachments) {
                    out.push(m);
                }
            }
        }
        Ok(out)
    }

    /// Messages created before `t`, oldest first (the seed's `{createdAt: 1}` clean-up index).
    pub fn messages_older_than(
        &self,
        t: Timestamp,
        limit: usize,
    ) -> Result<Vec<(ConversationId, MessageId)>, StoreError> {
        self.steady(|| self.messages_older_than_once(t, limit))
    }

    /// [`Store::messages_older_than`], read once.
    fn messages_older_than_once(
        &self,
        t: Timestamp,
        limit: usize,
    ) -> Result<Vec<(ConversationId, MessageId)>, StoreError> {
        let mut out = Vec::new();
        let last_bucket = cat(&[&(t.0 >> BUCKET_SHIFT).to_be_bytes(), &[0xff; 16]]);
        let mut buckets = Buckets::<32>::new(self.inner.tree(Ks::IdxTime).range(..=last_bucket), 0);
        while let Some(entries) = buckets.next_bucket()? {
            for e in entries {
                let id = MessageId::from_slice(&e[..16]).ok_or(StoreError::Corrupt("bad index entry"))?;
                if id.created_at() >= t {
                    continue;
                }
                if out.len() == limit {
                    return Ok(out);
                }
                let c = ConversationId::from_slice(&e[16..]).ok_or(StoreError::Corrupt("bad index entry"))?;
                out.push((c, id));
            }
        }
        Ok(out)
    }

    /// The direct conversation and every channel, as `person` sees them, with unread counts.
    pub fn conversations(&self, person: &PersonId) -> Result<Vec<Conversation>, StoreError> {
        let Some(space) = self.space()? else { return Ok(vec![]) };
        let participants: Vec<PersonId> = space.membership.persons().copied().collect();
        let mut targets = vec![(Target::Direct, Timestamp(0))];
        for ch in self.channel_records()? {
            if let Some(created) = ch.created_at {
                targets.push((Target::Channel(ch.id), created));
            }
        }
        let mut out = Vec::with_capacity(targets.len());
        for (target, created_at) in targets {
            let id = target.conversation(space.space);
            let last = self.last_message(&id)?;
            let settings: SettingsRecord = self
                .inner
                .tree(Ks::Views)
                .get(cat(&[&[view::SETTINGS], &person.0, &id.0]))?
                .map(|v| decode(&v))
                .transpose()?
                .unwrap_or_default();
            let created_at =
                if created_at == Timestamp(0) { last.map(|m| m.created_at()).unwrap_or_default() } else { created_at };
            out.push(Conversation {
                id,
                target,
                participants: participants.clone(),
                last_message: last,
                last_message_at: last.map(|m| m.created_at()),
                unread_count: self.steady(|| self.unread_in(&space, &id, person))?,
                archived: settings.archived.map(|l| l.value).unwrap_or(false),
                muted: settings.muted.map(|l| l.value).unwrap_or(false),
                created_at,
                updated_at: last.map(|m| m.created_at()).unwrap_or(created_at).max(created_at),
            });
        }
        Ok(out)
    }

    /// The channels of the space, in display order.
    pub fn channels(&self) -> Result<Vec<Channel>, StoreError> {
        let space = self.space_id()?;
        let mut out: Vec<Channel> = self
            .channel_records()?
            .into_iter()
            .filter_map(|r| {
                Some(Channel {
                    id: r.id,
                    space,
                    name: r.name?.value,
                    kind: r.kind.map(|k| k.value).unwrap_or_default(),
                    topic: r.topic.and_then(|t| t.value),
                    position: r.position.map(|p| p.value).unwrap_or(0),
                    archived: r.archived.map(|a| a.value).unwrap_or(false),
                    created_at: r.created_at?,
                    updated_at: r.updated_at,
                })
            })
            .collect();
        out.sort_by(|a, b| (a.position, &a.name, a.id).cmp(&(b.position, &b.name, b.id)));
        Ok(out)
    }

    fn channel_records(&self) -> Result<Vec<ChannelRecord>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.tree(Ks::Views).scan_prefix([view::CHANNEL]) {
            let (k, v) = item?;
            if k.len() == 1 + ChannelId::LEN {
                out.push(decode(&v)?);
            }
        }
        Ok(out)
    }

    fn last_message(&self, conversation: &ConversationId) -> Result<Option<MessageId>, StoreError> {
        Ok(Scan::all(&self.inner, conversation, true).next().transpose()?.map(|(id, _)| id))
    }

    /// How far `person` has read a conversation.
    pub fn read_marker(
        &self,
        conversation: &ConversationId,
        person: &PersonId,
    ) -> Result<Option<MessageId>, StoreError> {
        let prefix = keyspace::read_prefix(conversation, person);
        Ok(match self.inner.tree(Ks::Receipts).scan_prefix(&prefix).next_back() {
            Some(item) => MessageId::from_slice(&item?.0[prefix.len()..]),
            None => None,
        })
    }

    /// Messages from others after `person`'s read marker (counted up to [`MAX_UNREAD_COUNT`]).
    pub fn unread_count(&self, conversation: &ConversationId, person: &PersonId) -> Result<u32, StoreError> {
        let space = self.space()?.ok_or(StoreError::NoSpace)?;
        self.steady(|| self.unread_in(&space, conversation, person))
    }

    /// [`Store::unread_count`] in `space`, read once (the conversations' list has the space
    /// already).
    fn unread_in(
        &self,
        space: &SpaceState,
        conversation: &ConversationId,
        person: &PersonId,
    ) -> Result<u32, StoreError> {
        let marker = self.read_marker(conversation, person)?;
        if *conversation == Target::Direct.conversation(space.space) {
            self.unread_direct(space, person, marker)
        } else {
            self.unread_scanned(space, conversation, person, marker)
        }
    }

    /// Unread direct messages, counted in the `{senderId, recipientId}` index (16 bytes a
    /// message) instead of the records: reading those means reading every block after the
    /// marker whole (~250 bytes a message, opened), and sled keeps each page it read for as long
    /// as the store is open: with 5,000 unread, sled held 1.6 MB of them (heaptrack) and the
    /// app 0.8 MB more resident for good, and each listing of the conversations (at every new
    /// message) opened them all again.
    /// Every direct message is in the index under its sender and each other person of the
    /// space, which are the messages from others this counts.
    pub(crate) fn unread_direct(
        &self,
        space: &SpaceState,
        person: &PersonId,
        marker: Option<MessageId>,
    ) -> Result<u32, StoreError> {
        let from = marker.map_or([0; 8], |m| bucket(m.created_at()));
        let mut count = 0;
        for sender in space.membership.persons().filter(|p| *p != person) {
            let mut buckets = Buckets::<16>::new(self.pair_chunks(sender, person, from, [0xff; 8]), 64);
            while let Some(ids) = buckets.next_bucket()? {
                count += ids.iter().filter(|id| marker.is_none_or(|m| MessageId(**id) > m)).count() as u32;
                if count >= MAX_UNREAD_COUNT {
                    return Ok(MAX_UNREAD_COUNT);
                }
            }
        }
        Ok(count)
    }

    /// Unread messages of a channel, counted from its records (channels have no index by
    /// sender).
    pub(crate) fn unread_scanned(
        &self,
        space: &SpaceState,
        conversation: &ConversationId,
        person: &PersonId,
        marker: Option<MessageId>,
    ) -> Result<u32, StoreError> {
        let from = marker.unwrap_or(MessageId([0; 16]));
        let mut count = 0;
        for item in Scan::new(&self.inner, conversation, from, MessageId([0xff; 16]), false) {
            let (id, _) = item?;
            if Some(id) == marker {
                continue;
            }
            // The id names its author device; my own devices' messages are not unread.
            let mine = space
                .membership
                .device_by_tag(id.device_tag())
                .and_then(|d| space.membership.person_of(&d))
                .is_some_and(|p| p == *person);
            if !mine {
                count += 1;
                if count >= MAX_UNREAD_COUNT {
                    break;
                }
            }
        }
        Ok(count)
    }

    /// The seed's Message for a record, with receipts derived for the other person.
    pub(crate) fn render(&self, record: &MessageRecord) -> Result<Message, StoreError> {
        let other = self.inner.others(&record.sender).into_iter().next();
        let (delivered_at, read_at) = match other {
            Some(o) => (
                self.covered_at(&keyspace::delivered_prefix(&o, &record.sender_device), &record.seq.to_be_bytes())?,
                self.covered_at(&keyspace::read_prefix(&record.conversation, &o), &record.id.0)?,
            ),
            None => (None, None),
        };
        Ok(record.to_message(other, delivered_at, read_at))
    }

    /// The earliest frontier time at or after `position`.
    fn covered_at(&self, prefix: &[u8], position: &[u8]) -> Result<Option<Timestamp>, StoreError> {
        match self.inner.tree(Ks::Receipts).range(cat(&[prefix, position])..).next() {
            Some(item) => {
                let (k, v) = item?;
                Ok(k.starts_with(prefix).then(|| read_time(&v)))
            }
            None => Ok(None),
        }
    }
}

/// Walks a chunked, bucketed index (see [`keyspace`]) one bucket at a time, in the
/// iterator's direction, each bucket's entries merged from its chunks and sorted ascending.
type Chunks = Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>>;

struct Buckets<const N: usize> {
    chunks: std::iter::Peekable<Chunks>,
    /// Where the 8-byte bucket number starts in a key.
    at: usize,
}

impl<const N: usize> Buckets<N> {
    fn new(chunks: impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>> + 'static, at: usize) -> Self {
        let chunks: Chunks = Box::new(chunks);
        Self { chunks: chunks.peekable(), at }
    }

    fn next_bucket(&mut self) -> Result<Option<Vec<[u8; N]>>, StoreError> {
        let bucket_of = |key: &[u8], at: usize| key.get(at..at + 8).map(<[u8]>::to_vec);
        let Some(first) = self.chunks.next() else { return Ok(None) };
        let (key, value) = first?;
        let bucket = bucket_of(&key, self.at).ok_or(StoreError::Corrupt("bad index key"))?;
        let mut entries = Vec::new();
        push_entries(&mut entries, &value)?;
        while let Some(Ok((key, _))) = self.chunks.peek() {
            if bucket_of(key, self.at).as_ref() != Some(&bucket) {
                break;
            }
            if let Some(next) = self.chunks.next() {
                push_entries(&mut entries, &next?.1)?;
            }
        }
        entries.sort_unstable();
        entries.dedup();
        Ok(Some(entries))
    }
}

fn push_entries<const N: usize>(out: &mut Vec<[u8; N]>, value: &[u8]) -> Result<(), StoreError> {
    if !value.len().is_multiple_of(N) {
        return Err(StoreError::Corrupt("bad index entry"));
    }
    out.extend(value.chunks_exact(N).filter_map(|c| <[u8; N]>::try_from(c).ok()));
    Ok(())
}

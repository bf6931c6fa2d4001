//! One atomic write: reads see the trees plus everything written so far in this write;
//! [`Txn::commit`] applies it all in one sled transaction across the trees, so a crash leaves
//! the store as it was before or after, never between.
//!
//! [`Txn`] implements [`duet_log::ViewStore`], so the pure materializer folds events straight
//! into it.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use duet_log::{
    CallView, ChannelRecord, DateMark, ItemMark, KeyShareMark, ListMark, MailboxMark, MessageRecord, MoodMark,
    NudgeMark, PendingOp, PinMark, ProfileRecord, SettingsRecord, SpaceRecord, TogetherMark, VerifiedMark, ViewStore,
};
use duet_model::{
    CallId, ChannelId, ConversationId, DateId, DeviceId, ItemId, ListId, MessageId, PersonId, Target, Timestamp,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

use crate::keyspace::{self, bucket, cat, meta, view, Ks};
use crate::search::{self, Posting};
use crate::{blocks, scan};
use crate::{Inner, StoreError};

pub(crate) struct Txn<'a> {
    pub(crate) inner: &'a Inner,
    writes: BTreeMap<(Ks, Vec<u8>), Option<Vec<u8>>>,
    /// New messages by index bucket, merged into the bucketed indexes at commit.
    new_pair: BTreeMap<Vec<u8>, BTreeSet<[u8; 16]>>,
    new_time: BTreeMap<[u8; 8], BTreeSet<[u8; 32]>>,
    /// New messages by conversation: written as blocks at commit (see [`crate::blocks`]).
    new_messages: BTreeMap<ConversationId, BTreeMap<[u8; 16], Vec<u8>>>,
    new_conversations: BTreeSet<ConversationId>,
    /// The words of new and edited messages, written as search index chunks at commit.
    new_words: search::Postings,
    /// Posts whose words are already in `new_words`, found before this write
    /// ([`crate::search::BatchWords`]): folding them does not index them again.
    words_found: BTreeSet<MessageId>,
    /// Whether the `pending` tree may hold something (in sled or in this write): almost
    /// always not, and then a new post need not look for operations waiting for it.
    pending_maybe: bool,
    /// The first storage error met while folding; the fold itself cannot fail.
    pub(crate) error: Option<StoreError>,
}

/// A key and its value.
type Entry = (Vec<u8>, Vec<u8>);

/// A write as the transaction applies it: the tree's place, the key, the sealed value (or a
/// removal).
type SealedWrite<'a> = (usize, &'a [u8], Option<Vec<u8>>);

pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).unwrap_or_default()
}

pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    postcard::from_bytes(bytes).map_err(|_| StoreError::Corrupt("a stored record does not decode"))
}

impl<'a> Txn<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        Self {
            inner,
            writes: BTreeMap::new(),
            new_pair: BTreeMap::new(),
            new_time: BTreeMap::new(),
            new_messages: BTreeMap::new(),
            new_conversations: BTreeSet::new(),
            new_words: search::Postings::new(),
            words_found: BTreeSet::new(),
            pending_maybe: !matches!(inner.tree(Ks::Pending).first(), Ok(None)),
            error: None,
        }
    }

    fn note<T>(&mut self, r: Result<T, StoreError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.error.get_or_insert(e);
                None
            }
        }
    }

    pub(crate) fn get(&self, ks: Ks, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(v) = self.writes.get(&(ks, key.to_vec())) {
            return Ok(v.clone());
        }
        Ok(self.inner.tree(ks).get(key)?.map(|v| v.to_vec()))
    }

    pub(crate) fn put(&mut self, ks: Ks, key: Vec<u8>, value: Vec<u8>) {
        self.pending_maybe |= ks == Ks::Pending;
        self.writes.insert((ks, key), Some(value));
    }

    pub(crate) fn remove(&mut self, ks: Ks, key: Vec<u8>) {
        self.writes.insert((ks, key), None);
    }

    fn get_record<T: DeserializeOwned>(&self, ks: Ks, key: &[u8]) -> Result<Option<T>, StoreError> {
        self.get(ks, key)?.map(|v| decode(&v)).transpose()
    }

    /// The first live key ≥ `from` (or ≤ `from` when `backwards`) that starts with `prefix`.
    fn seek(&self, ks: Ks, prefix: &[u8], from: &[u8], backwards: bool) -> Result<Option<Entry>, StoreError> {
        let tree = self.inner.tree(ks);
        let mut tree_iter: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> = if backwards {
            Box::new(tree.range(prefix.to_vec()..=from.to_vec()).rev())
        } else {
            Box::new(tree.range(from.to_vec()..))
        };
        let lo = (ks, prefix.to_vec());
        let overlay: Vec<(&Vec<u8>, &Option<Vec<u8>>)> = if backwards {
            self.writes
                .range((Bound::Included(lo), Bound::Included((ks, from.to_vec()))))
                .rev()
                .map(|((_, k), v)| (k, v))
                .collect()
        } else {
            self.writes
                .range((Bound::Included((ks, from.to_vec())), Bound::Unbounded))
                .take_while(|((k, key), _)| *k == ks && key.starts_with(prefix))
                .map(|((_, k), v)| (k, v))
                .collect()
        };
        // Best live candidate from the tree: skip keys this write deleted or replaced.
        let tree_best = loop {
            match tree_iter.next() {
                None => break None,
                Some(r) => {
                    let (k, v) = r?;
                    if !k.starts_with(prefix) {
                        break None;
                    }
                    match self.writes.get(&(ks, k.to_vec())) {
                        Some(_) => continue,
                        None => break Some((k.to_vec(), v.to_vec())),
                    }
                }
            }
        };
        let overlay_best = overlay.into_iter().find_map(|(k, v)| v.as_ref().map(|v| (k.clone(), v.clone())));
        Ok(match (tree_best, overlay_best) {
            (Some(t), Some(o)) => Some(if (t.0 < o.0) != backwards { t } else { o }),
            (t, o) => t.or(o),
        })
    }

    /// Inserts a receipt frontier point (see [`duet_log::Frontier`]) under `prefix`.
    fn frontier_insert(&mut self, prefix: Vec<u8>, position: &[u8], at: Timestamp) -> Result<(), StoreError> {
        let key = cat(&[&prefix, position]);
        if let Some((_, t)) = self.seek(Ks::Receipts, &prefix, &key, false)? {
            if read_time(&t) <= at {
                return Ok(());
            }
        }
        loop {
            match self.seek(Ks::Receipts, &prefix, &key, true)? {
                Some((k, t)) if read_time(&t) >= at => self.remove(Ks::Receipts, k),
                _ => break,
            }
        }
        self.put(Ks::Receipts, key, at.0.to_be_bytes().to_vec());
        Ok(())
    }

    /// Applies everything in one sled transaction across the trees. Returns the newest new
    /// message of each conversation that got some.
    pub(crate) fn commit(mut self) -> Result<Vec<(ConversationId, MessageId)>, StoreError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let newest =
            self.new_messages.iter().filter_map(|(c, m)| m.keys().next_back().map(|id| (*c, MessageId(*id)))).collect();
        // What this write adds to, for `Store::consolidate` once it is committed.
        let touched: Vec<(Ks, Vec<u8>)> = (self.new_pair.keys().map(|k| (Ks::IdxPair, k.clone())))
            .chain(self.new_time.keys().map(|b| (Ks::IdxTime, b.to_vec())))
            .chain(self.new_messages.keys().map(|c| (Ks::MessageBlocks, c.0.to_vec())))
            .chain(
                (self.writes.iter())
                    .filter(|((ks, _), value)| *ks == Ks::Events && value.is_some())
                    .map(|((_, key), _)| (Ks::Events, key[..key.len().min(32)].to_vec())),
            )
            .collect();
        self.merge_indexes();
        self.write_blocks()?;
        self.write_words()?;
        for c in std::mem::take(&mut self.new_conversations) {
            self.put(Ks::Meta, cat(&[meta::CONVERSATION, &c.0]), vec![]);
        }
        // Sealed before the transaction: its closure may run more than once.
        let writes: Vec<SealedWrite<'_>> = self
            .writes
            .iter()
            .map(|((ks, key), value)| {
                (*ks as usize, key.as_slice(), value.as_ref().map(|v| self.inner.tree(*ks).seal(key, v)))
            })
            .collect();
        let result: Result<(), TransactionError<()>> = self.inner.raw.as_slice().transaction(|t| {
            for (tree, key, value) in &writes {
                let tree = &t[*tree];
                match value {
                    Some(v) => tree.insert(*key, v.as_slice())?,
                    None => tree.remove(*key)?,
                };
            }
            Ok::<(), ConflictableTransactionError<()>>(())
        });
        match result {
            Ok(()) => {
                self.inner.writes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if !touched.is_empty() {
                    self.inner.touched.lock().unwrap_or_else(|e| e.into_inner()).extend(touched);
                }
                Ok(newest)
            }
            Err(TransactionError::Storage(e)) => Err(e.into()),
            Err(TransactionError::Abort(())) => Err(StoreError::Corrupt("a write was aborted")),
        }
    }

    /// The new messages of each conversation become blocks, one per gap between the stored
    /// blocks they fall in; a new message inside a stored block's range becomes a single, so
    /// blocks never overlap.
    fn write_blocks(&mut self) -> Result<(), StoreError> {
        for (conversation, entries) in std::mem::take(&mut self.new_messages) {
            let (Some(lo), Some(hi)) = (entries.keys().next(), entries.keys().next_back()) else { continue };
            let stored = scan::blocks_overlapping(self.inner, &conversation, &MessageId(*lo), &MessageId(*hi))?;
            let mut next_block = stored.iter().peekable();
            let mut group: Vec<(&[u8; 16], &[u8])> = Vec::new();
            let mut singles = Vec::new();
            for (id, record) in &entries {
                let message = MessageId(*id);
                // Past a stored block: the group so far ends before it.
                let mut passed = false;
                while next_block.peek().is_some_and(|(_, last)| *last < message) {
                    next_block.next();
                    passed = true;
                }
                if passed {
                    self.put_block(&conversation, &mut group);
                }
                match next_block.peek() {
                    Some((first, _)) if *first <= message => singles.push((*id, record.clone())),
                    _ => group.push((id, record)),
                }
            }
            self.put_block(&conversation, &mut group);
            for (id, record) in singles {
                self.put(Ks::Messages, keyspace::message_key(&conversation, &MessageId(id)), record);
            }
        }
        Ok(())
    }

    fn put_block(&mut self, conversation: &ConversationId, group: &mut Vec<(&[u8; 16], &[u8])>) {
        if let Some((first, _)) = group.first() {
            let key = keyspace::message_key(conversation, &MessageId(**first));
            let value = blocks::encode(group.iter().copied());
            self.writes.insert((Ks::MessageBlocks, key), Some(value));
        }
        group.clear();
    }

    /// Adds postings to what this write indexes (rebuilding the index of an older store).
    pub(crate) fn index_words(&mut self, words: search::Postings) {
        self.new_words.extend(words);
    }

    /// Takes the words of a batch's posts found before this write: those posts, folded as they
    /// came (not edited or deleted by an operation that was waiting for them), are not
    /// indexed again.
    pub(crate) fn words_found(&mut self, words: search::BatchWords) {
        self.new_words.extend(words.postings);
        self.words_found = words.posts;
    }

    fn index_text(&mut self, text: &str, id: MessageId, conversation: ConversationId) {
        search::add_text(&mut self.new_words, &self.inner.word_key, text, Posting { id, conversation });
    }

    /// One new search chunk per shard this write touched, at level 0: merging them is
    /// [`crate::Store::compact_words`]'s work, off the write path (see [`crate::search`]).
    fn write_words(&mut self) -> Result<(), StoreError> {
        let mut postings = std::mem::take(&mut self.new_words);
        search::sort(&mut postings);
        for group in postings.chunk_by(|(a, _), (b, _)| search::shard(*a) == search::shard(*b)) {
            self.put_chunk(search::shard(group[0].0), 0, search::encode(group))?;
        }
        Ok(())
    }

    /// Writes a search chunk under the next chunk number.
    pub(crate) fn put_chunk(&mut self, shard: u8, level: u8, chunk: Vec<u8>) -> Result<(), StoreError> {
        let number = match self.get(Ks::Meta, meta::SEARCH_NEXT)? {
            Some(v) => u64::from_be_bytes(v.try_into().map_err(|_| StoreError::Corrupt("bad search chunk number"))?),
            None => 0,
        };
        self.put(Ks::Search, search::chunk_key(shard, level, number), chunk);
        self.put(Ks::Meta, meta::SEARCH_NEXT.to_vec(), (number + 1).to_be_bytes().to_vec());
        Ok(())
    }

    /// Each commit adds one new chunk per index bucket it touched, keyed by the bucket and
    /// the chunk's first entry: appending never rereads a bucket, however full it is.
    fn merge_indexes(&mut self) {
        for (key, ids) in std::mem::take(&mut self.new_pair) {
            if let Some(first) = ids.first() {
                let chunk = cat(&[&key, first]);
                self.put(Ks::IdxPair, chunk, ids.into_iter().flatten().collect());
            }
        }
        for (b, entries) in std::mem::take(&mut self.new_time) {
            if let Some(first) = entries.first() {
                let chunk = cat(&[&b, &first[..16]]);
                self.put(Ks::IdxTime, chunk, entries.into_iter().flatten().collect());
            }
        }
    }
}

pub(crate) fn read_time(bytes: &[u8]) -> Timestamp {
    Timestamp(bytes.try_into().map(u64::from_be_bytes).unwrap_or(u64::MAX))
}

impl ViewStore for Txn<'_> {
    fn message(&self, id: &MessageId) -> Option<MessageRecord> {
        let conversations: Vec<ConversationId> =
            self.inner.conversations().into_iter().chain(self.new_conversations.iter().copied()).collect();
        conversations.iter().find_map(|c| self.message_in(c, id))
    }

    fn message_in(&self, conversation: &ConversationId, id: &MessageId) -> Option<MessageRecord> {
        let bytes = match self.writes.get(&(Ks::Messages, keyspace::message_key(conversation, id))) {
            Some(written) => written.clone(),
            None => match self.new_messages.get(conversation).and_then(|m| m.get(&id.0)) {
                Some(new) => Some(new.clone()),
                // Newer than everything held (a new post, nearly always): not held.
                None if self.inner.newer_than_all(conversation, id) => None,
                None => scan::record(self.inner, conversation, id).ok().flatten().map(|v| v.to_vec()),
            },
        };
        bytes.and_then(|b| decode(&b).ok())
    }

    fn put_message(&mut self, record: MessageRecord, new: bool) {
        let key = keyspace::message_key(&record.conversation, &record.id);
        if new {
            let b = bucket(record.created_at);
            if let Target::Direct = record.target {
                for recipient in self.inner.others(&record.sender) {
                    self.new_pair
                        .entry(keyspace::pair_key(&record.sender, &recipient, b))
                        .or_default()
                        .insert(record.id.0);
                }
            }
            let mut entry = [0u8; 32];
            entry[..16].copy_from_slice(&record.id.0);
            entry[16..].copy_from_slice(&record.conversation.0);
            self.new_time.entry(b).or_default().insert(entry);
            if !self.inner.holds(&record.conversation) {
                self.new_conversations.insert(record.conversation);
            }
            if keyspace::is_memory(&record.attachments) {
                self.put(Ks::Views, keyspace::media_key(&record.id, &record.conversation), vec![]);
            }
            let found = record.edit.is_none() && self.words_found.contains(&record.id);
            if let Some(text) = search::current_text(&record).filter(|_| !found) {
                self.index_text(text, record.id, record.conversation);
            }
            self.new_messages.entry(record.conversation).or_default().insert(record.id.0, encode(&record));
            return;
        }
        // An edit adds the new text's words; a change that leaves the text as it was (a
        // reaction to an edited message) adds nothing.
        if let Some(edit) = record.edit.as_ref().filter(|_| record.deleted_at.is_none()) {
            let held = self.message_in(&record.conversation, &record.id);
            if held.and_then(|h| h.edit).is_none_or(|was| was.value != edit.value) {
                let text = edit.value.clone();
                self.index_text(&text, record.id, record.conversation);
            }
        }
        match self.new_messages.get_mut(&record.conversation).and_then(|m| m.get_mut(&record.id.0)) {
            Some(new) => *new = encode(&record),
            None => self.put(Ks::Messages, key, encode(&record)),
        }
    }

    fn take_pending(&mut self, id: &MessageId) -> Vec<PendingOp> {
        let mut ops = Vec::new();
        if !self.pending_maybe {
            return ops;
        }
        let mut from = id.0.to_vec();
        loop {
            let found = self.seek(Ks::Pending, &id.0, &from, false);
            match self.note(found).flatten() {
                Some((k, v)) => {
                    if let Some(op) = self.note(decode::<PendingOp>(&v)) {
                        ops.push(op);
                    }
                    from = k.clone();
                    from.push(0);
                    self.remove(Ks::Pending, k);
                }
                None => break,
            }
        }
        ops
    }

    fn add_pending(&mut self, id: MessageId, op: PendingOp) {
        let key = cat(&[&id.0, &op.stamp.lamport.to_be_bytes(), &op.stamp.author.0]);
        self.put(Ks::Pending, key, encode(&op));
    }

    fn add_delivered(&mut self, recipient: PersonId, author: DeviceId, seq: u64, at: Timestamp) {
        let r = self.frontier_insert(keyspace::delivered_prefix(&recipient, &author), &seq.to_be_bytes(), at);
        self.note(r);
    }

    fn add_read(&mut self, conversation: ConversationId, reader: PersonId, up_to: MessageId, at: Timestamp) {
        let r = self.frontier_insert(keyspace::read_prefix(&conversation, &reader), &up_to.0, at);
        self.note(r);
    }

    fn settings(&self, person: &PersonId, conversation: &ConversationId) -> Option<SettingsRecord> {
        self.get_record(Ks::Views, &cat(&[&[view::SETTINGS], &person.0, &conversation.0])).ok().flatten()
    }

    fn put_settings(&mut self, person: PersonId, conversation: ConversationId, record: SettingsRecord) {
        self.put(Ks::Views, cat(&[&[view::SETTINGS], &person.0, &conversation.0]), encode(&record));
    }

    fn channel(&self, id: &ChannelId) -> Option<ChannelRecord> {
        self.get_record(Ks::Views, &cat(&[&[view::CHANNEL], &id.0])).ok().flatten()
    }

    fn put_channel(&mut self, record: ChannelRecord) {
        self.put(Ks::Views, cat(&[&[view::CHANNEL], &record.id.0]), encode(&record));
    }

    fn profile(&self, person: &PersonId) -> Option<ProfileRecord> {
        self.get_record(Ks::Views, &cat(&[&[view::PROFILE], &person.0])).ok().flatten()
    }

    fn put_profile(&mut self, record: ProfileRecord) {
        self.put(Ks::Views, cat(&[&[view::PROFILE], &record.person.0]), encode(&record));
    }

    fn call(&self, id: &CallId) -> Option<CallView> {
        self.get_record(Ks::Views, &cat(&[&[view::CALL], &id.0])).ok().flatten()
    }

    fn put_call(&mut self, record: CallView) {
        self.put(Ks::Views, cat(&[&[view::CALL], &record.value.call.0]), encode(&record));
    }

    fn space(&self) -> Option<SpaceRecord> {
        self.get_record(Ks::Views, &[view::SPACE]).ok().flatten()
    }

    fn put_space(&mut self, record: SpaceRecord) {
        self.put(Ks::Views, vec![view::SPACE], encode(&record));
    }

    fn verified(&self, by: &PersonId, of: &PersonId) -> Option<VerifiedMark> {
        self.get_record(Ks::Views, &cat(&[&[view::VERIFIED], &by.0, &of.0])).ok().flatten()
    }

    fn put_verified(&mut self, by: PersonId, of: PersonId, mark: VerifiedMark) {
        self.put(Ks::Views, cat(&[&[view::VERIFIED], &by.0, &of.0]), encode(&mark));
    }

    fn mood(&self, person: &PersonId) -> Option<MoodMark> {
        self.get_record(Ks::Views, &cat(&[&[view::MOOD], &person.0])).ok().flatten()
    }

    fn put_mood(&mut self, person: PersonId, mark: MoodMark) {
        self.put(Ks::Views, cat(&[&[view::MOOD], &person.0]), encode(&mark));
    }

    fn nudge(&self, person: &PersonId) -> Option<NudgeMark> {
        self.get_record(Ks::Views, &cat(&[&[view::NUDGE], &person.0])).ok().flatten()
    }

    fn put_nudge(&mut self, person: PersonId, mark: NudgeMark) {
        self.put(Ks::Views, cat(&[&[view::NUDGE], &person.0]), encode(&mark));
    }

    fn pin(&self, conversation: &ConversationId, message: &MessageId) -> Option<PinMark> {
        self.get_record(Ks::Views, &cat(&[&[view::PIN], &conversation.0, &message.0])).ok().flatten()
    }

    fn put_pin(&mut self, conversation: ConversationId, message: MessageId, mark: PinMark) {
        self.put(Ks::Views, cat(&[&[view::PIN], &conversation.0, &message.0]), encode(&mark));
    }

    fn together(&self) -> Option<TogetherMark> {
        self.get_record(Ks::Views, &[view::TOGETHER]).ok().flatten()
    }

    fn put_together(&mut self, mark: TogetherMark) {
        self.put(Ks::Views, vec![view::TOGETHER], encode(&mark));
    }

    fn mailbox(&self) -> Option<MailboxMark> {
        self.get_record(Ks::Views, &[view::MAILBOX]).ok().flatten()
    }

    fn put_mailbox(&mut self, mark: MailboxMark) {
        self.put(Ks::Views, vec![view::MAILBOX], encode(&mark));
    }

    fn date(&self, id: &DateId) -> Option<DateMark> {
        self.get_record(Ks::Views, &cat(&[&[view::DATE], &id.0])).ok().flatten()
    }

    fn put_date(&mut self, id: DateId, mark: DateMark) {
        self.put(Ks::Views, cat(&[&[view::DATE], &id.0]), encode(&mark));
    }

    fn list(&self, id: &ListId) -> Option<ListMark> {
        self.get_record(Ks::Views, &cat(&[&[view::LIST], &id.0])).ok().flatten()
    }

    fn put_list(&mut self, id: ListId, mark: ListMark) {
        self.put(Ks::Views, cat(&[&[view::LIST], &id.0]), encode(&mark));
    }

    fn list_item(&self, list: &ListId, item: &ItemId) -> Option<ItemMark> {
        self.get_record(Ks::Views, &cat(&[&[view::LIST_ITEM], &list.0, &item.0])).ok().flatten()
    }

    fn put_list_item(&mut self, list: ListId, item: ItemId, mark: ItemMark) {
        self.put(Ks::Views, cat(&[&[view::LIST_ITEM], &list.0, &item.0]), encode(&mark));
    }

    fn key_share(&self, key: &duet_crypto::KeyId) -> Option<KeyShareMark> {
        self.get_record(Ks::Views, &cat(&[&[view::KEY_SHARE], &key.0])).ok().flatten()
    }

    fn put_key_share(&mut self, key: duet_crypto::KeyId, mark: KeyShareMark) {
        self.put(Ks::Views, cat(&[&[view::KEY_SHARE], &key.0]), encode(&mark));
    }
}

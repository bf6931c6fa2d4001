//! Consolidation: the small values that messages written one at a time leave behind, merged
//! into fewer, larger ones while nothing is written.
//!
//! A write stores its events as one run per author and its new messages as one block per
//! conversation, and adds one chunk per bucket to each of the two bucketed indexes
//! ([`crate::keyspace`]): a synced batch of 1,000 messages is one key each, but a couple's
//! conversation, written a message at a time, is a run, a block and two index chunks per
//! message. sled keeps a record of every page of every tree in
//! memory, and each small value costs it about as much as a large one: a store of 10,000
//! messages written one at a time kept the app ~4 MB more than the same messages synced in
//! batches (`docs/desktop-app.md`, "Benchmark").
//!
//! So every write notes the buckets and conversations it added to, and [`Store::consolidate`]
//! (the node's idle upkeep, with the words index's merge) looks at those alone:
//!
//! - a bucket of an index whose newest [`MERGE_AT`] chunks or more hold [`MERGED_MAX`]
//!   entries or fewer together gets them as one chunk (readers already merge a bucket's
//!   chunks, sorted and without repeats, so the entries they read are the same);
//! - a conversation whose newest [`MERGE_AT`] blocks or more hold [`MERGED_MAX`] messages or
//!   fewer together gets them as one block (blocks never overlap and follow each other in key
//!   order, so the merged block holds the same ids in order, and a single in `messages` still
//!   hides its block's copy);
//! - an author whose newest [`MERGE_AT`] runs of events or more follow each other and hold
//!   [`MERGED_MAX`] events or fewer together gets them as one run (the bodies as stored, in seq
//!   order, under the first run's key: what sync reads is the same events).
//!
//! Only the newest end of what was written is read, so the upkeep does not bring a whole
//! conversation into sled's cache. Each merge reads and writes under the store's writer lock,
//! in one transaction: a write either comes before it (and is merged) or after. Blocks and
//! chunks written before this existed stay as they are; they read as before.
//!
//! **Readers.** A merge rewrites values a reader may be walking through, and sled's iterators
//! do not read one snapshot: a page read while a merge commits could see a block before the
//! merge and the merged block after it (messages twice), or the reverse (messages missing).
//! So a merge (this one, and the words index's) counts itself in a sequence number, odd while
//! it commits ([`Reshaping`]), and the reads that walk blocks or chunks ([`Store::steady`])
//! start again when the number moved under them: merges come at idle and take milliseconds,
//! so a read almost never repeats, and never returns what no moment of the store held. A read
//! of one record (one sled step) needs none of this.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

use duet_model::{ConversationId, DeviceId, MessageId};

use crate::blocks::{self, Block};
use crate::keyspace::{event_key, message_key, Ks};
use crate::txn::Txn;
use crate::{runs, Store, StoreError};

/// How many chunks of a bucket, or newest blocks or runs, are merged into one.
pub const MERGE_AT: usize = 8;
/// The most messages, events or index entries a merged value holds: a value read for one of
/// them is read whole, and the newest value is rewritten each time small ones are merged into
/// it, so this bounds what merging rewrites (each message a few times).
pub const MERGED_MAX: usize = 64;

/// What a write added to, for [`Store::consolidate`]: an index bucket (its key without the
/// chunk's first id), a conversation's blocks or an author's runs of events.
pub(crate) type Touched = BTreeSet<(Ks, Vec<u8>)>;

/// Bytes an entry takes in each bucketed index: a message id, or a message id and its
/// conversation.
fn entry_width(ks: Ks) -> usize {
    if ks == Ks::IdxPair {
        16
    } else {
        32
    }
}

/// A merge of stored values under way: the store's reshaping number is odd while it lives.
pub(crate) struct Reshaping<'a>(&'a AtomicU64);

impl<'a> Reshaping<'a> {
    pub(crate) fn begin(number: &'a AtomicU64) -> Self {
        number.fetch_add(1, Ordering::SeqCst);
        Self(number)
    }
}

impl Drop for Reshaping<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Store {
    /// Runs `read` until no merge began or ended while it ran (see the module doc).
    pub(crate) fn steady<T>(&self, mut read: impl FnMut() -> Result<T, StoreError>) -> Result<T, StoreError> {
        loop {
            let before = self.inner.reshaped.load(Ordering::SeqCst);
            if before % 2 == 1 {
                std::thread::yield_now();
                continue;
            }
            let out = read();
            if self.inner.reshaped.load(Ordering::SeqCst) == before {
                return out;
            }
        }
    }

    /// Merges what the writes since the last call left small (see the module doc). Returns
    /// how many merges it committed (each is a write: [`Store::writes`] counts it).
    pub fn consolidate(&self) -> Result<u64, StoreError> {
        let touched = std::mem::take(&mut *self.inner.touched.lock().unwrap_or_else(|e| e.into_inner()));
        let mut merges = 0;
        for (ks, prefix) in touched {
            let merged = match ks {
                Ks::MessageBlocks => match ConversationId::from_slice(&prefix) {
                    Some(conversation) => self.merge_newest_blocks(&conversation)?,
                    None => false,
                },
                Ks::IdxPair | Ks::IdxTime => self.merge_bucket(ks, &prefix)?,
                Ks::Events => match DeviceId::from_slice(&prefix) {
                    Some(author) => self.merge_newest_runs(&author)?,
                    None => false,
                },
                _ => false,
            };
            merges += u64::from(merged);
        }
        Ok(merges)
    }

    /// One chunk for a bucket's newest chunks (by key: by their first message), when
    /// [`MERGE_AT`] or more of them hold [`MERGED_MAX`] entries or fewer together. A damaged
    /// chunk leaves the bucket as it is (readers report it).
    fn merge_bucket(&self, ks: Ks, prefix: &[u8]) -> Result<bool, StoreError> {
        let width = entry_width(ks);
        let _writing = self.lock();
        let mut run = Vec::new();
        let mut count = 0;
        for item in self.inner.tree(ks).scan_prefix(prefix).rev() {
            let (key, value) = item?;
            if key.len() != prefix.len() + 16 || value.is_empty() || !value.len().is_multiple_of(width) {
                return Ok(false);
            }
            if count + value.len() / width > MERGED_MAX {
                break;
            }
            count += value.len() / width;
            run.push((key, value));
        }
        if run.len() < MERGE_AT {
            return Ok(false);
        }
        let mut entries: Vec<&[u8]> = run.iter().flat_map(|(_, value)| value.chunks_exact(width)).collect();
        entries.sort_unstable();
        entries.dedup();
        // A chunk is keyed by its first (least) entry, so the merged chunk takes the key of the
        // run's first chunk; anything else could be another chunk's key, and is left alone.
        let key = [prefix, &entries[0][..16]].concat();
        if run.last().is_none_or(|(first, _)| first.as_ref() != key.as_slice()) {
            return Ok(false);
        }
        self.replace(ks, &run, key, entries.concat())
    }

    /// One block for a conversation's newest blocks, when [`MERGE_AT`] or more of them hold
    /// [`MERGED_MAX`] messages or fewer together.
    fn merge_newest_blocks(&self, conversation: &ConversationId) -> Result<bool, StoreError> {
        let _writing = self.lock();
        let all = message_key(conversation, &MessageId([0; 16]))..=message_key(conversation, &MessageId([0xff; 16]));
        let mut run = Vec::new();
        let mut messages = 0;
        for item in self.inner.tree(Ks::MessageBlocks).range(all).rev() {
            let (key, bytes) = item?;
            let Ok(block) = Block::decode(&bytes) else { break };
            if messages + block.len() > MERGED_MAX {
                break;
            }
            messages += block.len();
            run.push((key, bytes));
        }
        if run.len() < MERGE_AT {
            return Ok(false);
        }
        run.reverse();
        let decoded = run.iter().map(|(_, bytes)| Block::decode(bytes)).collect::<Result<Vec<_>, _>>()?;
        let mut ids = Vec::with_capacity(messages);
        let mut records = Vec::with_capacity(messages);
        for block in &decoded {
            for i in 0..block.len() {
                ids.push(block.id(i).0);
                records.push(block.record(i)?);
            }
        }
        if !ids.windows(2).all(|w| w[0] < w[1]) {
            return Err(StoreError::Corrupt("message blocks overlap"));
        }
        let merged = blocks::encode(ids.iter().zip(records.iter().copied()));
        self.replace(Ks::MessageBlocks, &run, run[0].0.to_vec(), merged)
    }

    /// One run for an author's newest runs of events, when [`MERGE_AT`] or more of them follow
    /// each other (each starts where the one before ends) and hold [`MERGED_MAX`] events or
    /// fewer together.
    fn merge_newest_runs(&self, author: &DeviceId) -> Result<bool, StoreError> {
        let _writing = self.lock();
        let mut run = Vec::new();
        let mut events = 0;
        let mut next_first: Option<u64> = None;
        for item in self.inner.tree(Ks::Events).range(event_key(author, 0)..=event_key(author, u64::MAX)).rev() {
            let (key, bytes) = item?;
            let Some(first) = key.get(32..40).and_then(|s| s.try_into().ok()).map(u64::from_be_bytes) else { break };
            let Ok(bodies) = runs::bodies(&bytes) else { break };
            if events + bodies.len() > MERGED_MAX
                || next_first.is_some_and(|n| first.checked_add(bodies.len() as u64) != Some(n))
            {
                break;
            }
            events += bodies.len();
            next_first = Some(first);
            run.push((key, bytes));
        }
        if run.len() < MERGE_AT {
            return Ok(false);
        }
        run.reverse();
        let mut bodies = Vec::with_capacity(events);
        for (_, bytes) in &run {
            bodies.extend(runs::bodies(bytes)?);
        }
        let merged = runs::encode(&bodies);
        self.replace(Ks::Events, &run, run[0].0.to_vec(), merged)
    }

    /// Replaces the values of `run` in `ks` with `merged` under `key`, in one transaction
    /// counted as a merge ([`Reshaping`]). The caller holds the writer lock.
    fn replace(
        &self,
        ks: Ks,
        run: &[(sled::IVec, sled::IVec)],
        key: Vec<u8>,
        merged: Vec<u8>,
    ) -> Result<bool, StoreError> {
        let mut txn = Txn::new(&self.inner);
        for (old, _) in run {
            txn.remove(ks, old.to_vec());
        }
        txn.put(ks, key, merged);
        let _reshaping = Reshaping::begin(&self.inner.reshaped);
        txn.commit()?;
        Ok(true)
    }
}

//! Reading a conversation's messages from the two places they live: *singles* in `messages`
//! and *blocks* in `message_blocks` (see [`crate::blocks`]). A single hides the block's copy
//! of the same id.

use std::collections::VecDeque;
use std::ops::Bound;

use duet_model::{ConversationId, MessageId};
use sled::IVec;

use crate::blocks::Block;
use crate::keyspace::{message_key, Ks};
use crate::{Inner, StoreError};

type Items = Box<dyn Iterator<Item = sled::Result<(IVec, IVec)>>>;

const LOWEST: MessageId = MessageId([0; 16]);
const HIGHEST: MessageId = MessageId([0xff; 16]);

/// The stored record of a message: its single if it has one, else its block's copy.
pub(crate) fn record(inner: &Inner, conversation: &ConversationId, id: &MessageId) -> Result<Option<IVec>, StoreError> {
    if let Some(v) = inner.tree(Ks::Messages).get(message_key(conversation, id))? {
        return Ok(Some(v));
    }
    block_record(inner, conversation, id)
}

/// A message's copy in the block that would hold it: the one with the greatest first id at or
/// before it (blocks do not overlap).
fn block_record(inner: &Inner, conversation: &ConversationId, id: &MessageId) -> Result<Option<IVec>, StoreError> {
    let mut range =
        inner.tree(Ks::MessageBlocks).range(message_key(conversation, &LOWEST)..=message_key(conversation, id));
    let Some(item) = range.next_back() else { return Ok(None) };
    let (_, bytes) = item?;
    let block = Block::decode(&bytes)?;
    match block.find(id) {
        Some(i) => Ok(Some(IVec::from(block.record(i)?))),
        None => Ok(None),
    }
}

/// The first and last id of every stored block of `conversation` that overlaps `[lo, hi]`, in
/// order.
pub(crate) fn blocks_overlapping(
    inner: &Inner,
    conversation: &ConversationId,
    lo: &MessageId,
    hi: &MessageId,
) -> Result<Vec<(MessageId, MessageId)>, StoreError> {
    let tree = inner.tree(Ks::MessageBlocks);
    let lo_key = message_key(conversation, lo);
    let before = tree.range(message_key(conversation, &LOWEST)..=lo_key.clone()).next_back();
    let after = tree.range((Bound::Excluded(lo_key), Bound::Included(message_key(conversation, hi))));
    let mut out = Vec::new();
    for item in before.into_iter().chain(after) {
        let (_, bytes) = item?;
        let block = Block::decode(&bytes)?;
        if block.last() >= *lo {
            out.push((block.first(), block.last()));
        }
    }
    Ok(out)
}

/// A conversation's messages with ids in `[lo, hi]`, in id order (or newest first), singles
/// and blocks merged: `(id, record bytes)`.
pub(crate) struct Scan {
    singles: Items,
    /// The next single, read ahead.
    single: Option<(MessageId, IVec)>,
    blocks: Items,
    /// The current block's entries in range, in the scan's direction.
    from_block: VecDeque<(MessageId, IVec)>,
    lo: MessageId,
    hi: MessageId,
    newest_first: bool,
}

impl Scan {
    pub(crate) fn new(
        inner: &Inner,
        conversation: &ConversationId,
        lo: MessageId,
        hi: MessageId,
        newest_first: bool,
    ) -> Self {
        let singles = inner.tree(Ks::Messages).range(message_key(conversation, &lo)..=message_key(conversation, &hi));
        let blocks_tree = inner.tree(Ks::MessageBlocks);
        let first = message_key(conversation, &LOWEST);
        let (singles, blocks): (Items, Items) = if newest_first {
            // Every block starting at or before `hi`, newest first, until one ends before `lo`.
            (Box::new(singles.rev()), Box::new(blocks_tree.range(first..=message_key(conversation, &hi)).rev()))
        } else {
            // The block holding `lo` (if any) starts before it; later ones start inside the range.
            let lo_key = message_key(conversation, &lo);
            let holding = blocks_tree.range(first..=lo_key.clone()).next_back();
            let later = blocks_tree.range((Bound::Excluded(lo_key), Bound::Included(message_key(conversation, &hi))));
            (Box::new(singles), Box::new(holding.into_iter().chain(later)))
        };
        Self { singles, single: None, blocks, from_block: VecDeque::new(), lo, hi, newest_first }
    }

    /// A whole conversation.
    pub(crate) fn all(inner: &Inner, conversation: &ConversationId, newest_first: bool) -> Self {
        Self::new(inner, conversation, LOWEST, HIGHEST, newest_first)
    }

    /// Loads the next block with entries in range; `false` when there is none.
    fn load_block(&mut self) -> Result<bool, StoreError> {
        while self.from_block.is_empty() {
            let Some(item) = self.blocks.next() else { return Ok(false) };
            let (_, bytes) = item?;
            let block = Block::decode(&bytes)?;
            if self.newest_first && block.last() < self.lo {
                self.blocks = Box::new(std::iter::empty());
                return Ok(false);
            }
            let start = block.lower_bound(&self.lo);
            let mut entries = Vec::new();
            for i in start..block.len() {
                let id = block.id(i);
                if id > self.hi {
                    break;
                }
                entries.push((id, IVec::from(block.record(i)?)));
            }
            if self.newest_first {
                entries.reverse();
            }
            self.from_block.extend(entries);
        }
        Ok(true)
    }

    fn next_item(&mut self) -> Result<Option<(MessageId, IVec)>, StoreError> {
        self.load_block()?;
        if self.single.is_none() {
            if let Some(item) = self.singles.next() {
                let (k, v) = item?;
                let id = MessageId::from_slice(&k[16..]).ok_or(StoreError::Corrupt("bad message key"))?;
                self.single = Some((id, v));
            }
        }
        let single = self.single.as_ref().map(|(id, _)| *id);
        let take_single = match (single, self.from_block.front().map(|(id, _)| *id)) {
            (Some(s), Some(b)) => {
                if s == b {
                    self.from_block.pop_front(); // the single hides the block's copy
                }
                if self.newest_first {
                    s >= b
                } else {
                    s <= b
                }
            }
            (Some(_), None) => true,
            (None, _) => false,
        };
        Ok(if take_single { self.single.take() } else { self.from_block.pop_front() })
    }
}

impl Iterator for Scan {
    type Item = Result<(MessageId, IVec), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_item().transpose()
    }
}

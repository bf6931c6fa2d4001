//! Reading a conversation's messages from the two places they live: *singles* in `messages`
//! and *blocks* in `message_blocks` (see [`crate::blocks`]). A single hides the block's copy
//! of the same id.

use std::ops::{Bound, Range};

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
/// order. Nothing is read when `lo` is newer than everything held (new messages, nearly
/// always): no block reaches it, and the newest one is not read and opened to see that.
pub(crate) fn blocks_overlapping(
    inner: &Inner,
    conversation: &ConversationId,
    lo: &MessageId,
    hi: &MessageId,
) -> Result<Vec<(MessageId, MessageId)>, StoreError> {
    if inner.newer_than_all(conversation, lo) {
        return Ok(Vec::new());
    }
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
    /// The current block and the indexes of its entries in range not yet given (records
    /// are copied out only when given: a page reads 50 of a block's 1,000).
    block: Option<(IVec, Range<usize>)>,
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
        Self { singles, single: None, blocks, block: None, lo, hi, newest_first }
    }

    /// A whole conversation.
    pub(crate) fn all(inner: &Inner, conversation: &ConversationId, newest_first: bool) -> Self {
        Self::new(inner, conversation, LOWEST, HIGHEST, newest_first)
    }

    /// The current block's next entry in the scan's direction, loading the next block with
    /// entries in range when the current one is done.
    fn block_next(&mut self) -> Result<Option<(MessageId, usize)>, StoreError> {
        loop {
            if let Some((bytes, left)) = &self.block {
                if !left.is_empty() {
                    let i = if self.newest_first { left.end - 1 } else { left.start };
                    return Ok(Some((Block::decode(bytes)?.id(i), i)));
                }
            }
            let Some(item) = self.blocks.next() else {
                self.block = None;
                return Ok(None);
            };
            let (_, bytes) = item?;
            let block = Block::decode(&bytes)?;
            if self.newest_first && block.last() < self.lo {
                self.blocks = Box::new(std::iter::empty());
                self.block = None;
                return Ok(None);
            }
            let start = block.lower_bound(&self.lo);
            let end = block.upper_bound(&self.hi).max(start);
            self.block = Some((bytes, start..end));
        }
    }

    /// Drops the current block's next entry; gives its record when `give`.
    fn block_take(&mut self, give: bool) -> Result<Option<IVec>, StoreError> {
        let Some((bytes, left)) = &mut self.block else { return Ok(None) };
        let i = if self.newest_first { left.end - 1 } else { left.start };
        if self.newest_first {
            left.end -= 1;
        } else {
            left.start += 1;
        }
        Ok(if give { Some(IVec::from(Block::decode(bytes)?.record(i)?)) } else { None })
    }

    fn next_item(&mut self) -> Result<Option<(MessageId, IVec)>, StoreError> {
        if self.single.is_none() {
            if let Some(item) = self.singles.next() {
                let (k, v) = item?;
                let id = MessageId::from_slice(&k[16..]).ok_or(StoreError::Corrupt("bad message key"))?;
                self.single = Some((id, v));
            }
        }
        let single = self.single.as_ref().map(|(id, _)| *id);
        let from_block = self.block_next()?.map(|(id, _)| id);
        let take_single = match (single, from_block) {
            (Some(s), Some(b)) => {
                if s == b {
                    self.block_take(false)?; // the single hides the block's copy
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
        if take_single {
            return Ok(self.single.take());
        }
        match from_block {
            Some(id) => Ok(self.block_take(true)?.map(|record| (id, record))),
            None => Ok(None),
        }
    }
}

impl Iterator for Scan {
    type Item = Result<(MessageId, IVec), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_item().transpose()
    }
}

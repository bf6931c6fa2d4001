//! Message blocks: the new messages of one conversation that one write stored, packed into one
//! sled value under (conversation, first id), so a synced batch of 1,000 messages costs one
//! write instead of 1,000 (each key written costs ~10 µs here: it was half of what a backlog
//! sync spent).
//!
//! A message lives in a block until it changes (an edit, a reaction, a deletion…); from then
//! on its record is a *single* under its own key in `messages`, which hides the block's copy.
//! Blocks of one conversation never overlap: a new message whose id falls between the first
//! and last id of a stored block is written as a single instead (a late message of another
//! author arriving after a later batch), so the block holding an id is always the one with
//! the greatest first id at or before it, and walking blocks in key order walks ids in order.
//!
//! Layout: `count:u32 | id(16) × count, ascending | end:u32 × count | records`, where `end` is
//! where each record ends within `records`; all integers big-endian.

use duet_model::MessageId;

use crate::StoreError;

const ID: usize = 16;

/// Packs `(id, record)` pairs, ids strictly ascending.
pub(crate) fn encode<'a>(entries: impl ExactSizeIterator<Item = (&'a [u8; ID], &'a [u8])> + Clone) -> Vec<u8> {
    let count = entries.len();
    let bytes: usize = entries.clone().map(|(_, r)| r.len()).sum();
    let mut out = Vec::with_capacity(4 + count * (ID + 4) + bytes);
    out.extend_from_slice(&(count as u32).to_be_bytes());
    for (id, _) in entries.clone() {
        out.extend_from_slice(id);
    }
    let mut end = 0u32;
    for (_, r) in entries.clone() {
        end += r.len() as u32;
        out.extend_from_slice(&end.to_be_bytes());
    }
    for (_, r) in entries {
        out.extend_from_slice(r);
    }
    out
}

/// A stored block, read in place.
pub(crate) struct Block<'a> {
    ids: &'a [u8],
    ends: &'a [u8],
    records: &'a [u8],
}

const CORRUPT: StoreError = StoreError::Corrupt("a message block is damaged");

impl<'a> Block<'a> {
    pub(crate) fn decode(bytes: &'a [u8]) -> Result<Self, StoreError> {
        let count = u32::from_be_bytes(bytes.get(..4).ok_or(CORRUPT)?.try_into().map_err(|_| CORRUPT)?) as usize;
        let ids_end = count.checked_mul(ID).and_then(|n| n.checked_add(4)).ok_or(CORRUPT)?;
        let ends_end = count.checked_mul(4).and_then(|n| n.checked_add(ids_end)).ok_or(CORRUPT)?;
        if count == 0 || bytes.len() < ends_end {
            return Err(CORRUPT);
        }
        Ok(Self { ids: &bytes[4..ids_end], ends: &bytes[ids_end..ends_end], records: &bytes[ends_end..] })
    }

    pub(crate) fn len(&self) -> usize {
        self.ids.len() / ID
    }

    pub(crate) fn id(&self, i: usize) -> MessageId {
        let mut id = [0; ID];
        id.copy_from_slice(&self.ids[i * ID..(i + 1) * ID]);
        MessageId(id)
    }

    pub(crate) fn first(&self) -> MessageId {
        self.id(0)
    }

    pub(crate) fn last(&self) -> MessageId {
        self.id(self.len() - 1)
    }

    fn end(&self, i: usize) -> usize {
        u32::from_be_bytes([self.ends[i * 4], self.ends[i * 4 + 1], self.ends[i * 4 + 2], self.ends[i * 4 + 3]])
            as usize
    }

    /// The `i`-th record's bytes.
    pub(crate) fn record(&self, i: usize) -> Result<&'a [u8], StoreError> {
        let start = if i == 0 { 0 } else { self.end(i - 1) };
        self.records.get(start..self.end(i)).ok_or(CORRUPT)
    }

    /// Where `id` is in the block, if it is.
    pub(crate) fn find(&self, id: &MessageId) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.id(mid).cmp(id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The index of the first id ≥ `id`.
    pub(crate) fn lower_bound(&self, id: &MessageId) -> usize {
        self.partition(|other| other < *id)
    }

    /// The index of the first id > `id`.
    pub(crate) fn upper_bound(&self, id: &MessageId) -> usize {
        self.partition(|other| other <= *id)
    }

    /// The index of the first id for which `before` is false (`before` holds for a prefix).
    fn partition(&self, before: impl Fn(MessageId) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if before(self.id(mid)) {
                lo = mid + 1
            } else {
                hi = mid
            }
        }
        lo
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_reads_back_its_records_and_finds_its_ids() {
        let ids: Vec<[u8; 16]> = (0..50u8).map(|i| [i * 2; 16]).collect();
        let records: Vec<Vec<u8>> = (0..50usize).map(|i| vec![i as u8; i % 7]).collect();
        let bytes = encode(ids.iter().zip(records.iter().map(|r| r.as_slice())));
        let block = Block::decode(&bytes).unwrap();
        assert_eq!(block.len(), 50);
        assert_eq!(block.first(), MessageId([0; 16]));
        assert_eq!(block.last(), MessageId([98; 16]));
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(block.find(&MessageId(*id)), Some(i));
            assert_eq!(block.record(i).unwrap(), records[i].as_slice());
            assert_eq!(block.lower_bound(&MessageId(*id)), i);
            assert_eq!(block.upper_bound(&MessageId(*id)), i + 1);
        }
        assert_eq!(block.find(&MessageId([3; 16])), None);
        assert_eq!(block.lower_bound(&MessageId([3; 16])), 2);
        assert_eq!(block.lower_bound(&MessageId([99; 16])), 50);
        assert_eq!(block.upper_bound(&MessageId([3; 16])), 2);
    }

    #[test]
    fn damaged_blocks_are_errors_not_panics() {
        let bytes = encode([(&[1u8; 16], &b"abc"[..]), (&[2u8; 16], &b"de"[..])].into_iter());
        for cut in 0..bytes.len() {
            if let Ok(b) = Block::decode(&bytes[..cut]) {
                for i in 0..b.len() {
                    let _ = b.record(i);
                }
            }
        }
        assert!(Block::decode(&[0, 0, 0, 0]).is_err(), "an empty block is not written");
        assert!(Block::decode(&[0xff, 0xff, 0xff, 0xff]).is_err());
    }
}

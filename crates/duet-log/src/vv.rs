//! Version vectors: for each author device, the highest seq held. Because every author's log
//! has no gaps, a version vector says exactly which events a device holds.

use std::collections::BTreeMap;

use duet_model::DeviceId;

use crate::codec::{DecodeError, Reader, Writer};

/// Authors in one encoded vector.
pub const MAX_VECTOR_AUTHORS: usize = 1024;

/// author → highest seq held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionVector(BTreeMap<DeviceId, u64>);

impl VersionVector {
    pub fn new() -> Self {
        Self::default()
    }

    /// The highest seq held from `author` (0 when none).
    pub fn get(&self, author: &DeviceId) -> u64 {
        self.0.get(author).copied().unwrap_or(0)
    }

    /// Raises the entry for `author` to `seq`; never lowers it.
    pub fn raise(&mut self, author: DeviceId, seq: u64) {
        let e = self.0.entry(author).or_insert(0);
        *e = (*e).max(seq);
    }

    pub fn iter(&self) -> impl Iterator<Item = (&DeviceId, &u64)> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether this vector holds everything `other` holds.
    pub fn dominates(&self, other: &VersionVector) -> bool {
        other.0.iter().all(|(a, s)| self.get(a) >= *s)
    }

    /// The events I hold that `theirs` lacks: `(author, first seq, last seq)` per author.
    pub fn missing_from(&self, theirs: &VersionVector) -> Vec<(DeviceId, u64, u64)> {
        self.0
            .iter()
            .filter_map(|(a, mine)| {
                let have = theirs.get(a);
                // Lazily: `have` may be u64::MAX in a peer's vector, and then there is no next.
                (*mine > have).then(|| (*a, have + 1, *mine))
            })
            .collect()
    }

    /// `count:varint | (author:[32] | seq:varint)*`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(1 + self.0.len() * 36);
        w.varint(self.0.len() as u64);
        for (a, s) in &self.0 {
            w.bytes(&a.0);
            w.varint(*s);
        }
        w.buf
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let n = r.bounded(MAX_VECTOR_AUTHORS as u64, "the version vector")? as usize;
        let mut v = BTreeMap::new();
        for _ in 0..n {
            let a = DeviceId(r.array("an author")?);
            let s = r.varint("a sequence number")?;
            // Authors come in increasing order, once each: one vector, one encoding.
            if v.keys().next_back().is_some_and(|last| *last >= a) {
                return Err(DecodeError::BadVarint("the version vector's author order"));
            }
            v.insert(a, s);
        }
        r.finish()?;
        Ok(Self(v))
    }
}

impl FromIterator<(DeviceId, u64)> for VersionVector {
    fn from_iter<I: IntoIterator<Item = (DeviceId, u64)>>(iter: I) -> Self {
        let mut v = Self::new();
        for (a, s) in iter {
            v.raise(a, s);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_lists_what_the_other_lacks() {
        let a = DeviceId([1; 32]);
        let b = DeviceId([2; 32]);
        let mine: VersionVector = [(a, 5), (b, 2)].into_iter().collect();
        let theirs: VersionVector = [(a, 3)].into_iter().collect();
        assert_eq!(mine.missing_from(&theirs), vec![(a, 4, 5), (b, 1, 2)]);
        assert!(mine.dominates(&theirs));
        assert!(!theirs.dominates(&mine));
        assert_eq!(VersionVector::decode(&mine.encode()).unwrap(), mine);
        assert!(VersionVector::decode(&[0xff, 0xff, 0xff]).is_err());
    }

    /// Found by the `version_vector` fuzz target: a peer claiming the largest sequence number
    /// there is made `missing_from` compute one past it (a panic in debug builds).
    #[test]
    fn a_peer_claiming_the_last_sequence_number_lacks_nothing_and_breaks_nothing() {
        let a = DeviceId([1; 32]);
        let mine: VersionVector = [(a, 5)].into_iter().collect();
        let theirs: VersionVector = [(a, u64::MAX)].into_iter().collect();
        assert!(mine.missing_from(&theirs).is_empty());
        assert_eq!(theirs.missing_from(&mine), vec![(a, 6, u64::MAX)]);
        assert!(theirs.missing_from(&theirs).is_empty());
    }
}

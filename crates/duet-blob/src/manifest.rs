//! Chunking and the manifest: BLAKE3 chaining values of 256 KiB subtrees.
//!
//! BLAKE3 hashes 1 KiB chunks into a binary tree whose left subtrees are full powers of two.
//! A 256 KiB piece that starts at a multiple of 256 KiB is therefore a whole subtree, and its
//! chaining value (`hazmat::HasherExt::finalize_non_root`) can be checked alone. The manifest
//! holds one per piece; merging them the way BLAKE3 builds its tree gives the root, i.e.
//! `blake3::hash(content)`. A one-piece blob's only entry is that root itself.

use blake3::hazmat::{left_subtree_len, merge_subtrees_non_root, merge_subtrees_root, HasherExt, Mode};
use duet_model::BlobHash;

use crate::BlobError;

/// Bytes per chunk: 256 KiB (a power of two, so every chunk is a subtree of BLAKE3's tree).
pub const CHUNK_SIZE: u64 = 256 * 1024;

/// A chaining value (or, for a one-chunk blob, the root hash).
pub type Cv = [u8; 32];

/// Chunks in a blob of `size` bytes (an empty blob is one empty chunk).
pub fn chunk_count(size: u64) -> u32 {
    size.div_ceil(CHUNK_SIZE).clamp(1, u32::MAX as u64) as u32
}

/// Length of chunk `index` of a blob of `size` bytes (0 past the end).
pub fn chunk_len(size: u64, index: u32) -> u64 {
    let start = index as u64 * CHUNK_SIZE;
    size.saturating_sub(start).min(CHUNK_SIZE)
}

fn chunk_cv(count: u32, index: u32, data: &[u8]) -> Cv {
    if count == 1 {
        return *blake3::hash(data).as_bytes();
    }
    let mut hasher = blake3::Hasher::new();
    hasher.set_input_offset(index as u64 * CHUNK_SIZE);
    hasher.update(data);
    hasher.finalize_non_root()
}

/// The chaining value of a subtree of `len` bytes made of the pieces `cvs`.
fn merge(cvs: &[Cv], len: u64, root: bool) -> Cv {
    if cvs.len() <= 1 {
        return cvs.first().copied().unwrap_or_default();
    }
    let left_len = left_subtree_len(len);
    let split = ((left_len / CHUNK_SIZE) as usize).min(cvs.len());
    let left = merge(&cvs[..split], left_len, false);
    let right = merge(&cvs[split..], len - left_len, false);
    if root {
        *merge_subtrees_root(&left, &right, Mode::Hash).as_bytes()
    } else {
        merge_subtrees_non_root(&left, &right, Mode::Hash)
    }
}

/// A blob's size and the chaining value of each chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    size: u64,
    cvs: Vec<Cv>,
}

impl Manifest {
    /// The manifest of content held in memory.
    pub fn of(content: &[u8]) -> Self {
        let mut b = ManifestBuilder::new(content.len() as u64);
        for piece in content.chunks(CHUNK_SIZE as usize) {
            b.push(piece);
        }
        b.finish().unwrap_or_else(Self::of_empty)
    }

    fn of_empty() -> Self {
        Self { size: 0, cvs: vec![chunk_cv(1, 0, b"")] }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn chunks(&self) -> u32 {
        self.cvs.len() as u32
    }

    /// The content's BLAKE3 hash, from the chunks' chaining values.
    pub fn hash(&self) -> BlobHash {
        BlobHash(merge(&self.cvs, self.size, true))
    }

    /// Checks chunk `index`'s content against the manifest.
    pub fn check_chunk(&self, index: u32, data: &[u8]) -> Result<(), BlobError> {
        let expected = self.cvs.get(index as usize).ok_or(BlobError::OutOfRange { index })?;
        if data.len() as u64 != chunk_len(self.size, index) || chunk_cv(self.chunks(), index, data) != *expected {
            return Err(BlobError::ChunkMismatch { index });
        }
        Ok(())
    }

    /// `size: u64 BE | chaining values`, the number of which follows from the size.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + 32 * self.cvs.len());
        out.extend_from_slice(&self.size.to_be_bytes());
        for cv in &self.cvs {
            out.extend_from_slice(cv);
        }
        out
    }

    /// Reads a manifest from a peer and checks it against the blob's hash (from a signed
    /// message). Refused before anything is allocated if it describes more than `max_size`.
    pub fn decode_verified(bytes: &[u8], hash: &BlobHash, max_size: u64) -> Result<Self, BlobError> {
        let m = Self::decode(bytes, max_size)?;
        if m.hash() != *hash {
            return Err(BlobError::ManifestMismatch);
        }
        Ok(m)
    }

    /// Reads a manifest without checking it against a hash (for the local store, whose
    /// manifests were checked when they were written).
    pub fn decode(bytes: &[u8], max_size: u64) -> Result<Self, BlobError> {
        let size_bytes: [u8; 8] =
            bytes.get(..8).and_then(|b| b.try_into().ok()).ok_or(BlobError::MalformedManifest("too short"))?;
        let size = u64::from_be_bytes(size_bytes);
        if size > max_size {
            return Err(BlobError::TooLarge { size, max: max_size });
        }
        let count = chunk_count(size) as usize;
        let rest = &bytes[8..];
        if rest.len() != count * 32 {
            return Err(BlobError::MalformedManifest("wrong number of chunk hashes"));
        }
        let cvs = rest.chunks_exact(32).map(|c| c.try_into().unwrap_or_default()).collect();
        Ok(Self { size, cvs })
    }
}

/// Builds a manifest chunk by chunk, for content read from a file.
#[derive(Debug)]
pub struct ManifestBuilder {
    size: u64,
    count: u32,
    cvs: Vec<Cv>,
    short: bool,
}

impl ManifestBuilder {
    /// For content of `size` bytes.
    pub fn new(size: u64) -> Self {
        let count = chunk_count(size);
        Self { size, count, cvs: Vec::with_capacity(count.min(1 << 16) as usize), short: false }
    }

    /// Adds the next chunk; returns its chaining value. A chunk of the wrong length makes
    /// [`finish`](Self::finish) fail (the content changed while it was read).
    pub fn push(&mut self, data: &[u8]) -> Cv {
        let index = self.cvs.len() as u32;
        if data.len() as u64 != chunk_len(self.size, index) {
            self.short = true;
        }
        let cv = chunk_cv(self.count, index, data);
        self.cvs.push(cv);
        cv
    }

    /// The manifest, or `None` if the chunks pushed do not add up to the size.
    pub fn finish(self) -> Option<Manifest> {
        if self.short || self.cvs.len() != self.count as usize {
            return None;
        }
        Some(Manifest { size: self.size, cvs: self.cvs })
    }
}

/// Which chunks of a blob are held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    bits: Vec<u8>,
    len: u32,
}

impl Bitmap {
    /// Nothing held, for `len` chunks.
    pub fn empty(len: u32) -> Self {
        Self { bits: vec![0; (len as usize).div_ceil(8)], len }
    }

    /// Everything held.
    pub fn full(len: u32) -> Self {
        let mut b = Self::empty(len);
        for i in 0..len {
            b.set(i);
        }
        b
    }

    /// From bytes sent by a peer: exactly `len` bits' worth, spare bits ignored.
    pub fn from_bytes(bytes: &[u8], len: u32) -> Result<Self, BlobError> {
        if bytes.len() != (len as usize).div_ceil(8) {
            return Err(BlobError::Malformed("a chunk bitmap of the wrong length"));
        }
        let mut b = Self { bits: bytes.to_vec(), len };
        if len & 7 != 0 {
            if let Some(last) = b.bits.last_mut() {
                *last &= (1u8 << (len % 8)) - 1;
            }
        }
        Ok(b)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bits
    }

    pub fn len(&self) -> u32 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, i: u32) -> bool {
        i < self.len && self.bits[(i / 8) as usize] & (1 << (i % 8)) != 0
    }

    pub fn set(&mut self, i: u32) {
        if i < self.len {
            self.bits[(i / 8) as usize] |= 1 << (i % 8);
        }
    }

    pub fn clear(&mut self, i: u32) {
        if i < self.len {
            self.bits[(i / 8) as usize] &= !(1 << (i % 8));
        }
    }

    /// Chunks held.
    pub fn count(&self) -> u32 {
        self.bits.iter().map(|b| b.count_ones()).sum()
    }

    pub fn is_full(&self) -> bool {
        self.count() == self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn content(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn the_manifest_hash_is_plain_blake3_at_every_boundary() {
        let c = CHUNK_SIZE as usize;
        for len in [0, 1, 1024, c - 1, c, c + 1, 2 * c, 3 * c - 7, 3 * c, 4 * c + 1, 5 * c, 8 * c + 3] {
            let data = content(len);
            let m = Manifest::of(&data);
            assert_eq!(m.hash().0, *blake3::hash(&data).as_bytes(), "length {len}");
            assert_eq!(m.chunks(), chunk_count(len as u64));
            for (i, piece) in data.chunks(c).enumerate() {
                m.check_chunk(i as u32, piece).unwrap();
            }
            let back = Manifest::decode_verified(&m.encode(), &m.hash(), u64::MAX).unwrap();
            assert_eq!(back, m);
        }
    }

    #[test]
    fn a_changed_chunk_or_manifest_is_caught() {
        let data = content(3 * CHUNK_SIZE as usize + 100);
        let m = Manifest::of(&data);
        let mut piece = data[CHUNK_SIZE as usize..2 * CHUNK_SIZE as usize].to_vec();
        m.check_chunk(1, &piece).unwrap();
        piece[77] ^= 1;
        assert_eq!(m.check_chunk(1, &piece), Err(BlobError::ChunkMismatch { index: 1 }));
        // The right bytes in the wrong place fail too.
        assert!(m.check_chunk(2, &data[CHUNK_SIZE as usize..2 * CHUNK_SIZE as usize]).is_err());
        assert!(m.check_chunk(9, b"").is_err());

        let mut enc = m.encode();
        enc[20] ^= 1;
        assert_eq!(Manifest::decode_verified(&enc, &m.hash(), u64::MAX), Err(BlobError::ManifestMismatch));
        assert!(matches!(Manifest::decode_verified(&m.encode(), &m.hash(), 100), Err(BlobError::TooLarge { .. })));
        let enc = m.encode();
        assert!(Manifest::decode(&enc[..enc.len() - 1], u64::MAX).is_err());
    }

    #[test]
    fn a_builder_notices_content_that_changed_length() {
        let mut b = ManifestBuilder::new(CHUNK_SIZE + 10);
        b.push(&content(CHUNK_SIZE as usize));
        b.push(&content(9));
        assert!(b.finish().is_none());
    }

    #[test]
    fn bitmaps() {
        let mut b = Bitmap::empty(11);
        b.set(0);
        b.set(10);
        b.set(11); // out of range: ignored
        assert_eq!(b.count(), 2);
        assert!(b.get(10) && !b.get(11));
        let back = Bitmap::from_bytes(&[0xff, 0xff], 11).unwrap();
        assert_eq!(back.count(), 11, "spare bits from a peer are ignored");
        assert!(back.is_full());
        assert!(Bitmap::from_bytes(&[0xff], 11).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]
        #[test]
        fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400), hash in any::<[u8; 32]>()) {
            let _ = Manifest::decode_verified(&bytes, &BlobHash(hash), 100 << 20);
        }
    }
}

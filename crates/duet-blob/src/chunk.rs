//! Sealed chunks: `nonce (24) | ciphertext | tag (16)`, sealed with the space key and, as
//! associated data, `"duet/blob/1" | blob hash | index (u32 BE)`.

use duet_crypto::{SpaceKey, NONCE_LEN, TAG_LEN};
use duet_model::BlobHash;
use rand_core::{CryptoRng, RngCore};

use crate::manifest::CHUNK_SIZE;
use crate::BlobError;

/// Bytes a sealed chunk has beyond its content.
pub const SEALED_OVERHEAD: u64 = (NONCE_LEN + TAG_LEN) as u64;

const AD_PREFIX: &[u8] = b"duet/blob/1";

fn associated_data(hash: &BlobHash, index: u32) -> [u8; 11 + 32 + 4] {
    let mut ad = [0u8; 11 + 32 + 4];
    ad[..11].copy_from_slice(AD_PREFIX);
    ad[11..43].copy_from_slice(&hash.0);
    ad[43..].copy_from_slice(&index.to_be_bytes());
    ad
}

/// Where chunk `index` starts in a file of sealed chunks (each at a fixed place, so a
/// partial file holds what arrived where it belongs).
pub fn sealed_offset(index: u32) -> u64 {
    index as u64 * (CHUNK_SIZE + SEALED_OVERHEAD)
}

/// The sealed length of a chunk of `len` bytes.
pub const fn sealed_len(len: u64) -> u64 {
    len + SEALED_OVERHEAD
}

/// Seals chunk `index` of blob `hash`.
pub fn seal_chunk(
    key: &SpaceKey,
    hash: &BlobHash,
    index: u32,
    plaintext: &[u8],
    rng: &mut (impl CryptoRng + RngCore),
) -> Vec<u8> {
    let nonce = SpaceKey::random_nonce(rng);
    let sealed = key.seal(&nonce, &associated_data(hash, index), plaintext);
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    out
}

/// Opens chunk `index` of blob `hash`. Anything changed, moved or sealed with another key
/// fails with [`BlobError::ChunkSeal`].
pub fn open_chunk(key: &SpaceKey, hash: &BlobHash, index: u32, sealed: &[u8]) -> Result<Vec<u8>, BlobError> {
    if sealed.len() < NONCE_LEN + TAG_LEN || sealed.len() as u64 > sealed_len(CHUNK_SIZE) {
        return Err(BlobError::ChunkSeal { index });
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| BlobError::ChunkSeal { index })?;
    key.open(&nonce, &associated_data(hash, index), body).map_err(|_| BlobError::ChunkSeal { index })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn chunks_open_only_in_their_place() {
        let mut rng = StdRng::seed_from_u64(5);
        let key = SpaceKey::generate(&mut rng);
        let hash = BlobHash([7; 32]);
        let sealed = seal_chunk(&key, &hash, 3, b"piece", &mut rng);
        assert_eq!(sealed.len() as u64, sealed_len(5));
        assert_eq!(open_chunk(&key, &hash, 3, &sealed).unwrap(), b"piece");
        assert!(open_chunk(&key, &hash, 4, &sealed).is_err(), "another index");
        assert!(open_chunk(&key, &BlobHash([8; 32]), 3, &sealed).is_err(), "another blob");
        assert!(open_chunk(&SpaceKey::generate(&mut rng), &hash, 3, &sealed).is_err(), "another key");
        let mut flipped = sealed.clone();
        flipped[30] ^= 1;
        assert!(open_chunk(&key, &hash, 3, &flipped).is_err());
        assert_eq!(sealed_offset(2), 2 * (CHUNK_SIZE + SEALED_OVERHEAD));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn opening_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), index in any::<u32>()) {
            let key = SpaceKey::from_bytes([1; 32]);
            prop_assert!(open_chunk(&key, &BlobHash([0; 32]), index, &bytes).is_err());
        }
    }
}

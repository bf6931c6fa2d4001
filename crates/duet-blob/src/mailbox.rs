//! Attachments at the couple's blind mailbox, which holds no key that opens them.
//!
//! A device uploads a blob's sealed chunks as they are (sealed with the space key, the blob's
//! hash in their associated data, so only the right chunk in the right place opens) under an
//! id the mailbox cannot link to the content: a blob's hash is the BLAKE3 of its plaintext, and
//! a mailbox that saw it could confirm a guess of a known file. The id is a keyed hash of the
//! blob hash with a key derived from the space key. The manifest (size and the plaintext
//! chunks' chaining values, a fingerprint as telling as the hash) is sealed the same way.
//! A device that fetches from the mailbox asks by that id, opens the manifest, checks it
//! against the blob hash as from any device, and opens and checks every chunk.

use duet_crypto::{SpaceKey, NONCE_LEN, TAG_LEN};
use duet_model::BlobHash;
use rand_core::{CryptoRng, RngCore};

use crate::BlobError;

const ID_CONTEXT: &str = "duet mailbox blob id v1";
const MANIFEST_AD: &[u8] = b"duet/blob-manifest/1";

/// The id a blob goes by at the mailbox.
pub fn mailbox_id(key: &SpaceKey, hash: &BlobHash) -> BlobHash {
    let id_key = blake3::derive_key(ID_CONTEXT, &*key.to_bytes());
    BlobHash(*blake3::keyed_hash(&id_key, &hash.0).as_bytes())
}

fn manifest_ad(hash: &BlobHash) -> Vec<u8> {
    [MANIFEST_AD, &hash.0[..]].concat()
}

/// A manifest (`Manifest::encode`) sealed for the mailbox: `nonce | ciphertext | tag`.
pub fn seal_manifest(
    key: &SpaceKey,
    hash: &BlobHash,
    manifest: &[u8],
    rng: &mut (impl CryptoRng + RngCore),
) -> Vec<u8> {
    let nonce = SpaceKey::random_nonce(rng);
    let sealed = key.seal(&nonce, &manifest_ad(hash), manifest);
    [&nonce[..], &sealed].concat()
}

/// Opens a manifest the mailbox gave for `hash`; anything else fails.
pub fn open_manifest(key: &SpaceKey, hash: &BlobHash, sealed: &[u8]) -> Result<Vec<u8>, BlobError> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(BlobError::Malformed("a sealed manifest too short"));
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| BlobError::Malformed("a sealed manifest"))?;
    key.open(&nonce, &manifest_ad(hash), body).map_err(|_| BlobError::Malformed("a manifest that does not open"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn ids_hide_the_hash_and_manifests_open_only_for_their_blob() {
        let mut rng = StdRng::seed_from_u64(3);
        let (key, other) = (SpaceKey::generate(&mut rng), SpaceKey::generate(&mut rng));
        let hash = BlobHash([7; 32]);
        let id = mailbox_id(&key, &hash);
        assert_ne!(id, hash);
        assert_eq!(id, mailbox_id(&key, &hash), "the same for every device of the space");
        assert_ne!(id, mailbox_id(&other, &hash), "another space's id");
        assert_ne!(id, mailbox_id(&key, &BlobHash([8; 32])));

        let sealed = seal_manifest(&key, &hash, b"the manifest", &mut rng);
        assert!(!sealed.windows(12).any(|w| w == b"the manifest"));
        assert_eq!(open_manifest(&key, &hash, &sealed).unwrap(), b"the manifest");
        assert!(open_manifest(&key, &BlobHash([8; 32]), &sealed).is_err(), "another blob's");
        assert!(open_manifest(&other, &hash, &sealed).is_err(), "another key");
        assert!(open_manifest(&key, &hash, &sealed[..20]).is_err());
    }
}

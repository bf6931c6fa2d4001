//! Space content keys and authenticated encryption of payloads.
//!
//! Every space has one 32-byte [`SpaceKey`]. An event's payload is sealed with
//! XChaCha20-Poly1305 under that key with a fresh random 24-byte nonce, and the event's
//! envelope header is passed as associated data, so a payload cannot be moved under another
//! header without [`SpaceKey::open`] failing.
//!
//! XChaCha20-Poly1305 is built as the standard builds it (draft-irtf-cfrg-xchacha): HChaCha20
//! of the key and the nonce's first 16 bytes gives a one-nonce subkey, used with
//! ChaCha20-Poly1305 and a 12-byte nonce of 4 zero bytes and the nonce's last 8. The
//! ChaCha20-Poly1305 is ring's, whose fused assembly opens about three times faster here than
//! RustCrypto's (it decides how fast attachments and synced events are checked); the output is
//! byte for byte RustCrypto's `XChaCha20Poly1305`, checked in the tests against that crate.

use chacha20::cipher::consts::U10;
use chacha20::cipher::generic_array::GenericArray;
use rand_core::{CryptoRng, RngCore};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::CryptoError;

/// Length in bytes of an XChaCha20-Poly1305 nonce.
pub const NONCE_LEN: usize = 24;

/// Length in bytes of the Poly1305 tag appended to every sealed payload.
pub const TAG_LEN: usize = 16;

/// Length in bytes of a [`KeyId`].
pub const KEY_ID_LEN: usize = 8;

/// Which space key sealed an event ([`SpaceKey::id`]): it names the key and tells nothing of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub [u8; KEY_ID_LEN]);

/// A space's 32-byte content key. Wiped from memory when dropped; `Debug` does not show it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SpaceKey {
    bytes: [u8; 32],
}

impl SpaceKey {
    /// A fresh random key.
    pub fn generate(rng: &mut (impl CryptoRng + RngCore)) -> Self {
        let mut key = Self { bytes: [0; 32] };
        rng.fill_bytes(&mut key.bytes);
        key
    }

    /// The key with these bytes (as returned by [`Self::to_bytes`]).
    pub fn from_bytes(b: [u8; 32]) -> Self {
        Self { bytes: b }
    }

    /// The key's bytes, for storing or wrapping.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.bytes)
    }

    /// XChaCha20-Poly1305; `aad` is the envelope header. Output = ciphertext || 16-byte tag.
    ///
    /// Never reuse a nonce with the same key: take it from [`Self::random_nonce`].
    ///
    /// # Panics
    ///
    /// Only if `plaintext` is longer than the cipher's limit of 256 GiB, far beyond any Duet
    /// payload.
    pub fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let (key, nonce) = self.cipher(nonce);
        let mut out = Vec::with_capacity(plaintext.len() + TAG_LEN);
        out.extend_from_slice(plaintext);
        key.seal_in_place_append_tag(nonce, Aad::from(aad), &mut out)
            .expect("ChaCha20-Poly1305 seals anything under 256 GiB");
        out
    }

    /// Checks the tag and returns the plaintext. A wrong key, a different `aad`, a changed or
    /// truncated `sealed` all give [`CryptoError::DecryptFailed`].
    pub fn open(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < TAG_LEN {
            return Err(CryptoError::DecryptFailed);
        }
        let (key, nonce) = self.cipher(nonce);
        let mut buf = sealed.to_vec();
        let len = key.open_in_place(nonce, Aad::from(aad), &mut buf).map_err(|_| CryptoError::DecryptFailed)?.len();
        buf.truncate(len);
        Ok(buf)
    }

    /// The key's public name: the first 8 bytes of a domain-separated BLAKE3 of it. Events
    /// sealed with a key other than the space's first carry it, so a receiver knows which key
    /// opens them (and that it lacks one) without trying each.
    pub fn id(&self) -> KeyId {
        let digest = crate::hash_parts(&[b"duet/space-key-id/1", &self.bytes]);
        let mut id = [0; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        KeyId(id)
    }

    /// Random nonce helper. 24 random bytes make a collision negligible, so no counter has to
    /// be kept across devices.
    pub fn random_nonce(rng: &mut (impl CryptoRng + RngCore)) -> [u8; NONCE_LEN] {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        nonce
    }

    /// The ChaCha20-Poly1305 key and nonce that XChaCha20-Poly1305 uses for `nonce`.
    fn cipher(&self, nonce: &[u8; NONCE_LEN]) -> (LessSafeKey, Nonce) {
        let mut subkey =
            chacha20::hchacha::<U10>(GenericArray::from_slice(&self.bytes), GenericArray::from_slice(&nonce[..16]));
        let key = UnboundKey::new(&CHACHA20_POLY1305, &subkey).expect("ChaCha20-Poly1305 takes a 32-byte key");
        subkey.as_mut_slice().zeroize();
        let mut short = [0u8; 12];
        short[4..].copy_from_slice(&nonce[16..]);
        (LessSafeKey::new(key), Nonce::assume_unique_for_key(short))
    }
}

/// The key that seals what one device keeps on its own disk (every value of its store), so a
/// copy of the data folder reads as noise. It never leaves the device: it is kept wrapped by
/// the desktop's keyring or a passphrase (`duet_store::vault`). The same cipher as
/// [`SpaceKey`] (it is one inside); a type of its own so that one cannot be used for the other.
#[derive(Clone)]
pub struct DataKey(SpaceKey);

impl DataKey {
    /// A fresh random key.
    pub fn generate(rng: &mut (impl CryptoRng + RngCore)) -> Self {
        Self(SpaceKey::generate(rng))
    }

    /// The key with these bytes (as returned by [`Self::to_bytes`]).
    pub fn from_bytes(b: [u8; 32]) -> Self {
        Self(SpaceKey::from_bytes(b))
    }

    /// The key's bytes, for wrapping.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        self.0.to_bytes()
    }

    /// Appends `plaintext` sealed under `nonce` and `aad` (ciphertext, then the 16-byte tag)
    /// to `out`, which may already hold a header (the nonce, say): one allocation per value.
    /// Never reuse a nonce.
    ///
    /// # Panics
    ///
    /// Only if `plaintext` is longer than the cipher's limit of 256 GiB.
    pub fn seal_append(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], plaintext: &[u8], out: &mut Vec<u8>) {
        let (key, nonce) = self.0.cipher(nonce);
        let start = out.len();
        out.extend_from_slice(plaintext);
        let tag = key
            .seal_in_place_separate_tag(nonce, Aad::from(aad), &mut out[start..])
            .expect("ChaCha20-Poly1305 seals anything under 256 GiB");
        out.extend_from_slice(tag.as_ref());
    }

    /// As [`SpaceKey::open`].
    pub fn open(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.0.open(nonce, aad, sealed)
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl std::fmt::Debug for SpaceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SpaceKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    const HEADER: &[u8] = b"duet envelope header";

    fn setup() -> (SpaceKey, [u8; NONCE_LEN], StdRng) {
        let mut rng = StdRng::seed_from_u64(11);
        let key = SpaceKey::generate(&mut rng);
        let nonce = SpaceKey::random_nonce(&mut rng);
        (key, nonce, rng)
    }

    #[test]
    fn seal_open_round_trip() {
        let (key, nonce, _) = setup();
        let sealed = key.seal(&nonce, HEADER, b"see you tonight");
        assert_eq!(sealed.len(), b"see you tonight".len() + TAG_LEN);
        assert_eq!(key.open(&nonce, HEADER, &sealed).unwrap(), b"see you tonight");

        let empty = key.seal(&nonce, b"", b"");
        assert_eq!(empty.len(), TAG_LEN);
        assert_eq!(key.open(&nonce, b"", &empty).unwrap(), b"");
    }

    #[test]
    fn key_bytes_round_trip() {
        let (key, nonce, _) = setup();
        let again = SpaceKey::from_bytes(*key.to_bytes());
        let sealed = key.seal(&nonce, HEADER, b"x");
        assert_eq!(again.open(&nonce, HEADER, &sealed).unwrap(), b"x");
        assert_eq!(format!("{key:?}"), "SpaceKey(..)");
    }

    #[test]
    fn tampering_fails_to_open() {
        let (key, nonce, mut rng) = setup();
        let sealed = key.seal(&nonce, HEADER, b"see you tonight");
        let fail = Err(CryptoError::DecryptFailed);

        let other = SpaceKey::generate(&mut rng);
        assert_eq!(other.open(&nonce, HEADER, &sealed), fail);
        assert_eq!(key.open(&nonce, b"another header", &sealed), fail);
        let mut other_nonce = nonce;
        other_nonce[23] ^= 1;
        assert_eq!(key.open(&other_nonce, HEADER, &sealed), fail);
        for bit in [0, 7, 8 * 14 + 3, (sealed.len() * 8) - 1] {
            let mut flipped = sealed.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(key.open(&nonce, HEADER, &flipped), fail, "bit {bit}");
        }
        for len in [0, 1, TAG_LEN - 1, TAG_LEN, sealed.len() - 1] {
            assert_eq!(key.open(&nonce, HEADER, &sealed[..len]), fail, "len {len}");
        }
        let mut longer = sealed.clone();
        longer.push(0);
        assert_eq!(key.open(&nonce, HEADER, &longer), fail);
    }

    #[test]
    fn a_data_key_seals_like_a_space_key_and_only_opens_its_own() {
        let (space, nonce, mut rng) = setup();
        let data = DataKey::from_bytes(*space.to_bytes());
        let mut out = b"header".to_vec();
        data.seal_append(&nonce, HEADER, b"see you tonight", &mut out);
        assert_eq!(&out[..6], b"header");
        assert_eq!(out[6..], space.seal(&nonce, HEADER, b"see you tonight"));
        assert_eq!(data.open(&nonce, HEADER, &out[6..]).unwrap(), b"see you tonight");
        assert_eq!(DataKey::generate(&mut rng).open(&nonce, HEADER, &out[6..]), Err(CryptoError::DecryptFailed));
        assert_eq!(data.open(&nonce, b"elsewhere", &out[6..]), Err(CryptoError::DecryptFailed));
        assert_eq!(format!("{data:?}"), "DataKey(..)");
    }

    #[test]
    fn nonces_differ() {
        let mut rng = StdRng::seed_from_u64(1);
        assert_ne!(SpaceKey::random_nonce(&mut rng), SpaceKey::random_nonce(&mut rng));
    }

    proptest! {
        #[test]
        fn seal_open_round_trips_any_input(key in any::<[u8; 32]>(), nonce in any::<[u8; NONCE_LEN]>(),
                                           aad in any::<Vec<u8>>(), plaintext in any::<Vec<u8>>()) {
            let key = SpaceKey::from_bytes(key);
            let sealed = key.seal(&nonce, &aad, &plaintext);
            prop_assert_eq!(sealed.len(), plaintext.len() + TAG_LEN);
            prop_assert_eq!(key.open(&nonce, &aad, &sealed), Ok(plaintext));
        }

        /// Byte for byte RustCrypto's XChaCha20-Poly1305 (what Duet sealed with before, so
        /// every stored event and attachment still opens), both ways.
        #[test]
        fn sealing_is_rustcrypto_xchacha20poly1305(key in any::<[u8; 32]>(), nonce in any::<[u8; NONCE_LEN]>(),
                                                   aad in any::<Vec<u8>>(),
                                                   plaintext in proptest::collection::vec(any::<u8>(), 0..3000)) {
            use chacha20poly1305::aead::{Aead, KeyInit, Payload};
            let reference = chacha20poly1305::XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(&key));
            let theirs = reference
                .encrypt(chacha20poly1305::XNonce::from_slice(&nonce), Payload { msg: &plaintext, aad: &aad })
                .unwrap();
            let ours = SpaceKey::from_bytes(key).seal(&nonce, &aad, &plaintext);
            prop_assert_eq!(&ours, &theirs);
            prop_assert_eq!(SpaceKey::from_bytes(key).open(&nonce, &aad, &theirs), Ok(plaintext.clone()));
        }

        #[test]
        fn open_never_panics(key in any::<[u8; 32]>(), nonce in any::<[u8; NONCE_LEN]>(),
                             aad in any::<Vec<u8>>(), sealed in any::<Vec<u8>>()) {
            // Random bytes essentially never carry a valid tag.
            prop_assert_eq!(SpaceKey::from_bytes(key).open(&nonce, &aad, &sealed), Err(CryptoError::DecryptFailed));
        }
    }
}

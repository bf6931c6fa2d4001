//! Sealing a space key to one device with X25519.
//!
//! When a device joins (pairing) or when the key is rotated after a device is removed, the
//! sender makes a one-off X25519 key pair, does Diffie-Hellman with the recipient device's
//! X25519 public key (taken from its verified [`crate::DeviceCertificate`]), derives a
//! wrapping key with BLAKE3 `derive_key("duet 2026 key wrap", shared || eph_pub ||
//! recipient_pub)` and seals the space key under it with XChaCha20-Poly1305 and a random
//! nonce. Only the recipient, holding the matching secret, can derive the same wrapping key.

use rand_core::{CryptoRng, RngCore};
use x25519_dalek::{EphemeralSecret, PublicKey as X25519Public};
use zeroize::Zeroizing;

use crate::error::CryptoError;
use crate::keys::DeviceKey;
use crate::seal::{SpaceKey, NONCE_LEN, TAG_LEN};

/// BLAKE3 `derive_key` context for the wrapping key.
const WRAP_CONTEXT: &str = "duet 2026 key wrap";
/// Associated data of every wrap, so a wrap can never be opened as anything else.
const WRAP_AAD: &[u8] = b"duet/key-wrap/1";
/// First byte of the encoding.
const VERSION: u8 = 1;

/// A space key wrapped for one device with X25519 (ephemeral-static DH, key = BLAKE3
/// derive_key("duet 2026 key wrap", shared || eph_pub || recipient_pub), sealed with
/// XChaCha20-Poly1305, random nonce). Used when pairing and when a key is rotated after
/// removing a device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrappedKey {
    /// The sender's one-off X25519 public key.
    pub ephemeral_public: [u8; 32],
    /// The XChaCha20-Poly1305 nonce.
    pub nonce: [u8; NONCE_LEN],
    /// The sealed space key: 32 bytes of ciphertext and a 16-byte tag.
    pub sealed: Vec<u8>,
}

impl WrappedKey {
    /// Length of [`Self::sealed`].
    pub const SEALED_LEN: usize = 32 + TAG_LEN;
    /// Length of [`Self::encode`]'s output: version, ephemeral key, nonce, sealed key.
    pub const ENCODED_LEN: usize = 1 + 32 + NONCE_LEN + Self::SEALED_LEN;

    /// Wraps `key` for the device whose X25519 public key is `recipient_x25519`.
    ///
    /// Take `recipient_x25519` from a certificate that passed
    /// [`crate::DeviceCertificate::verify`]: that check refuses small-order keys, for which
    /// the shared secret would be predictable.
    pub fn wrap(key: &SpaceKey, recipient_x25519: &[u8; 32], rng: &mut (impl CryptoRng + RngCore)) -> Self {
        let ephemeral = EphemeralSecret::random_from_rng(&mut *rng);
        let ephemeral_public = X25519Public::from(&ephemeral).to_bytes();
        let shared = ephemeral.diffie_hellman(&X25519Public::from(*recipient_x25519));
        let wrapping = wrapping_key(shared.as_bytes(), &ephemeral_public, recipient_x25519);
        let nonce = SpaceKey::random_nonce(rng);
        let sealed = wrapping.seal(&nonce, WRAP_AAD, &key.to_bytes()[..]);
        Self { ephemeral_public, nonce, sealed }
    }

    /// Opens the wrap with the recipient device's key.
    ///
    /// A wrap made for another device, or changed in any byte, gives
    /// [`CryptoError::DecryptFailed`]; a small-order ephemeral key gives
    /// [`CryptoError::BadPublicKey`].
    pub fn unwrap(&self, device: &DeviceKey) -> Result<SpaceKey, CryptoError> {
        let shared = device.x25519_secret().diffie_hellman(&X25519Public::from(self.ephemeral_public));
        if !shared.was_contributory() {
            return Err(CryptoError::BadPublicKey);
        }
        let wrapping = wrapping_key(shared.as_bytes(), &self.ephemeral_public, &device.x25519_public());
        let plain = Zeroizing::new(wrapping.open(&self.nonce, WRAP_AAD, &self.sealed)?);
        let bytes = Zeroizing::new(
            <[u8; 32]>::try_from(plain.as_slice())
                .map_err(|_| CryptoError::Malformed("a wrapped key does not hold 32 bytes"))?,
        );
        Ok(SpaceKey::from_bytes(*bytes))
    }

    /// Fixed-length encoding: version byte 1, ephemeral public key (32), nonce (24), sealed
    /// key (48). A hand-built value whose `sealed` is not 48 bytes encodes to a length that
    /// [`Self::decode`] refuses.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::ENCODED_LEN);
        out.push(VERSION);
        out.extend_from_slice(&self.ephemeral_public);
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.sealed);
        out
    }

    /// Reads [`Self::encode`]'s output. Anything but exactly [`Self::ENCODED_LEN`] bytes with
    /// version 1 is [`CryptoError::Malformed`]. Never panics.
    pub fn decode(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != Self::ENCODED_LEN {
            return Err(CryptoError::Malformed("a wrapped key has the wrong length"));
        }
        let (version, rest) = bytes.split_at(1);
        if version != [VERSION] {
            return Err(CryptoError::Malformed("a wrapped key has an unknown version"));
        }
        let (ephemeral_public, rest) = rest.split_at(32);
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let malformed = |_| CryptoError::Malformed("a wrapped key has the wrong length");
        Ok(Self {
            ephemeral_public: ephemeral_public.try_into().map_err(malformed)?,
            nonce: nonce.try_into().map_err(malformed)?,
            sealed: sealed.to_vec(),
        })
    }
}

/// The per-wrap key: binds the shared secret to both public keys.
fn wrapping_key(shared: &[u8; 32], ephemeral_public: &[u8; 32], recipient_public: &[u8; 32]) -> SpaceKey {
    let mut material = Zeroizing::new([0u8; 96]);
    material[..32].copy_from_slice(shared);
    material[32..64].copy_from_slice(ephemeral_public);
    material[64..].copy_from_slice(recipient_public);
    SpaceKey::from_bytes(*Zeroizing::new(blake3::derive_key(WRAP_CONTEXT, &material[..])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn same_key(a: &SpaceKey, b: &SpaceKey) -> bool {
        *a.to_bytes() == *b.to_bytes()
    }

    #[test]
    fn wrap_unwrap_round_trip() {
        let mut rng = StdRng::seed_from_u64(3);
        let device = DeviceKey::generate(&mut rng);
        let key = SpaceKey::generate(&mut rng);
        let wrapped = WrappedKey::wrap(&key, &device.x25519_public(), &mut rng);
        assert_eq!(wrapped.sealed.len(), WrappedKey::SEALED_LEN);
        assert!(same_key(&wrapped.unwrap(&device).unwrap(), &key));

        // The device can unwrap after being restored from its stored secret.
        let restored = DeviceKey::from_secret_bytes(&device.secret_bytes());
        assert!(same_key(&wrapped.unwrap(&restored).unwrap(), &key));

        let encoded = wrapped.encode();
        assert_eq!(encoded.len(), WrappedKey::ENCODED_LEN);
        assert_eq!(WrappedKey::decode(&encoded).unwrap(), wrapped);
    }

    #[test]
    fn wrong_device_or_tampering_fails() {
        let mut rng = StdRng::seed_from_u64(4);
        let device = DeviceKey::generate(&mut rng);
        let other = DeviceKey::generate(&mut rng);
        let key = SpaceKey::generate(&mut rng);
        let wrapped = WrappedKey::wrap(&key, &device.x25519_public(), &mut rng);
        assert_eq!(wrapped.unwrap(&other).map(|_| ()), Err(CryptoError::DecryptFailed));

        let mut bad = wrapped.clone();
        bad.sealed[5] ^= 1;
        assert_eq!(bad.unwrap(&device).map(|_| ()), Err(CryptoError::DecryptFailed));
        let mut bad = wrapped.clone();
        bad.nonce[0] ^= 1;
        assert_eq!(bad.unwrap(&device).map(|_| ()), Err(CryptoError::DecryptFailed));
        let mut bad = wrapped.clone();
        bad.ephemeral_public[0] ^= 1;
        assert!(bad.unwrap(&device).is_err());
        let mut bad = wrapped.clone();
        bad.sealed.truncate(10);
        assert_eq!(bad.unwrap(&device).map(|_| ()), Err(CryptoError::DecryptFailed));

        // A small-order ephemeral key (u = 0) gives an all-zero shared secret.
        let mut bad = wrapped;
        bad.ephemeral_public = [0; 32];
        assert_eq!(bad.unwrap(&device).map(|_| ()), Err(CryptoError::BadPublicKey));
    }

    #[test]
    fn decode_refuses_wrong_lengths_and_versions() {
        let mut rng = StdRng::seed_from_u64(5);
        let device = DeviceKey::generate(&mut rng);
        let wrapped = WrappedKey::wrap(&SpaceKey::generate(&mut rng), &device.x25519_public(), &mut rng);
        let encoded = wrapped.encode();
        assert!(WrappedKey::decode(&encoded[..encoded.len() - 1]).is_err());
        assert!(WrappedKey::decode(&[]).is_err());
        let mut longer = encoded.clone();
        longer.push(0);
        assert!(WrappedKey::decode(&longer).is_err());
        let mut other_version = encoded;
        other_version[0] = 2;
        assert_eq!(
            WrappedKey::decode(&other_version),
            Err(CryptoError::Malformed("a wrapped key has an unknown version"))
        );
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(wrapped) = WrappedKey::decode(&bytes) {
                prop_assert_eq!(wrapped.encode(), bytes);
            }
        }

        #[test]
        fn decode_of_right_length_round_trips(mut bytes in proptest::collection::vec(any::<u8>(), WrappedKey::ENCODED_LEN)) {
            bytes[0] = VERSION;
            let wrapped = WrappedKey::decode(&bytes).unwrap();
            prop_assert_eq!(wrapped.encode(), bytes);
        }
    }
}

//! Signing keys for devices and persons, and the signature checks everyone runs.
//!
//! A [`DeviceKey`] signs the events its device appends and doubles as the device's network
//! identity; from its secret we also derive an X25519 secret so that space keys can be sealed
//! to the device. A [`PersonKey`] only signs device certificates. Verification is strict:
//! public keys must be canonical and not of small order, and signatures must be canonical, so
//! every peer accepts exactly the same signatures.

use duet_model::{DeviceId, PersonId};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use rand_core::{CryptoRng, RngCore};
use x25519_dalek::{PublicKey as X25519Public, StaticSecret};
use zeroize::Zeroizing;

use crate::error::CryptoError;

/// Length in bytes of an ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// An ed25519 signature: `R || s`.
pub type Signature = [u8; SIGNATURE_LEN];

/// BLAKE3 `derive_key` context that turns a device's ed25519 secret into its X25519 secret.
const DEVICE_X25519_CONTEXT: &str = "duet 2026 device x25519";

/// A device's ed25519 signing key. Also used as its libp2p identity later.
///
/// The secret (and the X25519 secret derived from it) is wiped from memory when the key is
/// dropped, and `Debug` shows only the public id.
pub struct DeviceKey {
    signing: SigningKey,
    x25519: StaticSecret,
    x25519_public: [u8; 32],
}

impl DeviceKey {
    /// A fresh random device key.
    pub fn generate(rng: &mut (impl CryptoRng + RngCore)) -> Self {
        let secret = Zeroizing::new(SigningKey::generate(rng).to_bytes());
        Self::from_secret_bytes(&secret)
    }

    /// The device key with this 32-byte ed25519 secret (as returned by [`Self::secret_bytes`]).
    pub fn from_secret_bytes(bytes: &[u8; 32]) -> Self {
        let x25519 = StaticSecret::from(*Zeroizing::new(blake3::derive_key(DEVICE_X25519_CONTEXT, bytes)));
        let x25519_public = X25519Public::from(&x25519).to_bytes();
        Self { signing: SigningKey::from_bytes(bytes), x25519, x25519_public }
    }

    /// The 32-byte ed25519 secret, for storing in the keys keyspace.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing.to_bytes())
    }

    /// This device's id: its ed25519 public key.
    pub fn id(&self) -> DeviceId {
        DeviceId(self.signing.verifying_key().to_bytes())
    }

    /// Signs `msg` with this device's key.
    pub fn sign(&self, msg: &[u8]) -> Signature {
        self.signing.sign(msg).to_bytes()
    }

    /// This device's X25519 public key, derived from the ed25519 secret (via BLAKE3
    /// `derive_key` with context "duet 2026 device x25519"), for receiving space keys.
    /// It goes into the device's certificate.
    pub fn x25519_public(&self) -> [u8; 32] {
        self.x25519_public
    }

    /// The X25519 secret, for unwrapping space keys sealed to this device.
    pub(crate) fn x25519_secret(&self) -> &StaticSecret {
        &self.x25519
    }
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKey").field("id", &self.id()).finish_non_exhaustive()
    }
}

/// A person's ed25519 key: signs device certificates.
///
/// The secret is wiped from memory when the key is dropped, and `Debug` shows only the public
/// id.
pub struct PersonKey {
    signing: SigningKey,
}

impl PersonKey {
    /// A fresh random person key.
    pub fn generate(rng: &mut (impl CryptoRng + RngCore)) -> Self {
        Self { signing: SigningKey::generate(rng) }
    }

    /// The person key with this 32-byte ed25519 secret (as returned by [`Self::secret_bytes`]).
    pub fn from_secret_bytes(bytes: &[u8; 32]) -> Self {
        Self { signing: SigningKey::from_bytes(bytes) }
    }

    /// The 32-byte ed25519 secret, for storing in the keys keyspace.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing.to_bytes())
    }

    /// This person's id: their ed25519 public key.
    pub fn id(&self) -> PersonId {
        PersonId(self.signing.verifying_key().to_bytes())
    }

    /// Signs `msg` with this person's key.
    pub fn sign(&self, msg: &[u8]) -> Signature {
        self.signing.sign(msg).to_bytes()
    }
}

impl std::fmt::Debug for PersonKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonKey").field("id", &self.id()).finish_non_exhaustive()
    }
}

/// Verify one signature by a 32-byte ed25519 public key.
///
/// Uses ed25519-dalek's `verify_strict` and additionally refuses non-canonical public key
/// encodings, so a key has exactly one byte form. A key that is not a point, not canonical or
/// of small order gives [`CryptoError::BadPublicKey`]; any other failure gives
/// [`CryptoError::BadSignature`].
pub fn verify(public: &[u8; 32], msg: &[u8], sig: &Signature) -> Result<(), CryptoError> {
    let key = parse_public(public)?;
    key.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(sig)).map_err(|_| CryptoError::BadSignature)
}

/// Verify many at once with ed25519-dalek's batch verification; `Ok` only if all are valid.
/// Empty input is `Ok`.
///
/// Before the batch equation runs, every item gets the same cheap checks [`verify`] makes
/// (canonical, non-small-order public key and signature `R`, canonical `s`), so for honestly
/// made keys the answer is the same as calling [`verify`] on each item. Only a signer who
/// deliberately mixes small-torsion components into a key or signature could make the two
/// disagree; callers that must name the bad item fall back to [`verify`] one by one.
pub fn verify_batch(items: &[(&[u8; 32], &[u8], &Signature)]) -> Result<(), CryptoError> {
    match items {
        [] => return Ok(()),
        [(public, msg, sig)] => return verify(public, msg, sig),
        _ => {}
    }
    // Authors repeat across a batch: decompress each distinct key once.
    let mut parsed: Vec<([u8; 32], VerifyingKey)> = Vec::new();
    let mut keys = Vec::with_capacity(items.len());
    let mut messages = Vec::with_capacity(items.len());
    let mut signatures = Vec::with_capacity(items.len());
    for (public, msg, sig) in items {
        let key = match parsed.iter().find(|(bytes, _)| bytes == *public) {
            Some((_, key)) => *key,
            None => {
                let key = parse_public(public)?;
                parsed.push((**public, key));
                key
            }
        };
        keys.push(key);
        // verify_strict rejects a non-canonical or small-order R; the batch equation does not.
        // Both are checked on the bytes: the batch decompresses R itself (and fails if R is
        // not a point), so decompressing it here as well would only double the work.
        let r: &[u8; 32] = sig[..32].try_into().map_err(|_| CryptoError::BadSignature)?;
        if !is_canonical_y(r) || is_small_order_encoding(r) {
            return Err(CryptoError::BadSignature);
        }
        messages.push(*msg);
        signatures.push(ed25519_dalek::Signature::from_bytes(sig));
    }
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).map_err(|_| CryptoError::BadSignature)
}

/// The y coordinates (sign bit cleared) of the eight points of small order: the identity
/// (y = 1), the point of order 2 (y = -1), those of order 4 (y = 0) and of order 8 (±y₈).
/// A point's x is fixed by y up to its sign, so an encoding is of a small-order point exactly
/// when its y is one of these (checked against curve25519-dalek's list in the tests).
const SMALL_ORDER_Y: [[u8; 32]; 5] = [
    [0; 32],
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
    ],
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf,
        0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20,
        0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
    ],
];

fn is_small_order_encoding(bytes: &[u8; 32]) -> bool {
    let mut y = *bytes;
    y[31] &= 0x7f;
    SMALL_ORDER_Y.contains(&y)
}

/// Decodes a public key (or a signature's `R`) and refuses encodings that are not points,
/// not canonical, or of small order.
pub(crate) fn parse_public(bytes: &[u8; 32]) -> Result<VerifyingKey, CryptoError> {
    if !is_canonical_y(bytes) {
        return Err(CryptoError::BadPublicKey);
    }
    let key = VerifyingKey::from_bytes(bytes).map_err(|_| CryptoError::BadPublicKey)?;
    // Small order covers the remaining non-canonical forms: x = 0 with the sign bit set only
    // happens for y = ±1, which are small-order points.
    if key.is_weak() {
        return Err(CryptoError::BadPublicKey);
    }
    Ok(key)
}

/// Whether the 255-bit little-endian y coordinate is below p = 2^255 - 19.
fn is_canonical_y(bytes: &[u8; 32]) -> bool {
    bytes[31] & 0x7f != 0x7f || bytes[1..31].iter().any(|&b| b != 0xff) || bytes[0] < 0xed
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn rng() -> StdRng {
        StdRng::seed_from_u64(7)
    }

    #[test]
    fn small_order_encodings_are_exactly_the_eight_torsion_points() {
        for point in curve25519_dalek::constants::EIGHT_TORSION {
            assert!(is_small_order_encoding(&point.compress().to_bytes()));
        }
        for y in SMALL_ORDER_Y {
            for sign in [0u8, 0x80] {
                let mut bytes = y;
                bytes[31] |= sign;
                if let Ok(key) = VerifyingKey::from_bytes(&bytes) {
                    assert!(key.is_weak(), "{bytes:02x?} is not of small order");
                }
            }
        }
    }

    #[test]
    fn a_batch_with_a_small_order_r_is_refused_like_one_by_one() {
        let mut rng = rng();
        let device = DeviceKey::generate(&mut rng);
        let good = device.sign(b"one");
        let mut bad = device.sign(b"two");
        bad[..32].copy_from_slice(&curve25519_dalek::constants::EIGHT_TORSION[1].compress().to_bytes());
        let id = device.id().0;
        assert_eq!(verify(&id, b"two", &bad), Err(CryptoError::BadSignature));
        let items: [(&[u8; 32], &[u8], &Signature); 2] = [(&id, b"one", &good), (&id, b"two", &bad)];
        assert_eq!(verify_batch(&items), Err(CryptoError::BadSignature));
        let items: [(&[u8; 32], &[u8], &Signature); 2] = [(&id, b"one", &good), (&id, b"one", &good)];
        assert_eq!(verify_batch(&items), Ok(()));
    }

    #[test]
    fn sign_verify_round_trip() {
        let mut rng = rng();
        let device = DeviceKey::generate(&mut rng);
        let sig = device.sign(b"hello love");
        assert_eq!(verify(&device.id().0, b"hello love", &sig), Ok(()));

        let person = PersonKey::generate(&mut rng);
        let sig = person.sign(b"this device is mine");
        assert_eq!(verify(&person.id().0, b"this device is mine", &sig), Ok(()));
    }

    #[test]
    fn tampered_message_or_signature_or_wrong_key_fails() {
        let mut rng = rng();
        let device = DeviceKey::generate(&mut rng);
        let other = DeviceKey::generate(&mut rng);
        let sig = device.sign(b"hello");
        assert_eq!(verify(&device.id().0, b"hellO", &sig), Err(CryptoError::BadSignature));
        assert_eq!(verify(&other.id().0, b"hello", &sig), Err(CryptoError::BadSignature));
        for i in [0, 31, 32, 63] {
            let mut bad = sig;
            bad[i] ^= 1;
            assert!(verify(&device.id().0, b"hello", &bad).is_err());
        }
        assert!(verify(&device.id().0, b"hello", &[0; 64]).is_err());
        assert!(verify(&device.id().0, b"hello", &[0xff; 64]).is_err());
    }

    #[test]
    fn garbage_and_weak_public_keys_are_refused() {
        let sig = [0u8; 64];
        // The identity point (y = 1) is of small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        // y = p + 1: a non-canonical encoding of the identity.
        let mut non_canonical = [0xffu8; 32];
        non_canonical[0] = 0xee;
        non_canonical[31] = 0x7f;
        // y = 2 is not on the curve.
        let mut off_curve = [0u8; 32];
        off_curve[0] = 2;
        for key in [identity, non_canonical, off_curve, [0; 32]] {
            assert_eq!(verify(&key, b"m", &sig), Err(CryptoError::BadPublicKey), "{key:?}");
        }
    }

    #[test]
    fn non_canonical_encodings_of_real_points_are_refused() {
        // y = p + k for small k encodes y = k; dalek decodes some of these to points of large
        // order, which verify_strict alone would accept under a second byte form.
        let mut large_order_seen = 0;
        for k in 0u8..19 {
            let mut bytes = [0xffu8; 32];
            bytes[31] = 0x7f;
            bytes[0] = 0xed + k;
            if let Ok(key) = VerifyingKey::from_bytes(&bytes) {
                large_order_seen += usize::from(!key.is_weak());
            }
            assert_eq!(parse_public(&bytes).map(|_| ()), Err(CryptoError::BadPublicKey), "k = {k}");
            bytes[31] |= 0x80;
            assert_eq!(parse_public(&bytes).map(|_| ()), Err(CryptoError::BadPublicKey), "k = {k}, sign bit");
        }
        assert!(large_order_seen > 0);
    }

    #[test]
    fn secret_bytes_round_trip_keeps_identity() {
        let mut rng = rng();
        let device = DeviceKey::generate(&mut rng);
        let again = DeviceKey::from_secret_bytes(&device.secret_bytes());
        assert_eq!(again.id(), device.id());
        assert_eq!(again.x25519_public(), device.x25519_public());
        assert_eq!(again.sign(b"x"), device.sign(b"x"));

        let person = PersonKey::generate(&mut rng);
        assert_eq!(PersonKey::from_secret_bytes(&person.secret_bytes()).id(), person.id());
    }

    #[test]
    fn debug_does_not_show_secrets() {
        let device = DeviceKey::from_secret_bytes(&[0xab; 32]);
        let shown = format!("{device:?}");
        assert!(shown.starts_with("DeviceKey"));
        assert!(!shown.contains("ab, ab") && !shown.contains("abab") && !shown.contains("171"));
        let person = PersonKey::from_secret_bytes(&[0xab; 32]);
        assert!(!format!("{person:?}").contains("171"));
    }

    #[test]
    fn batch_all_good_one_bad_and_empty() {
        let mut rng = rng();
        let keys: Vec<DeviceKey> = (0..5).map(|_| DeviceKey::generate(&mut rng)).collect();
        let ids: Vec<[u8; 32]> = keys.iter().map(|k| k.id().0).collect();
        let msgs: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; i as usize * 10]).collect();
        let sigs: Vec<Signature> = keys.iter().zip(&msgs).map(|(k, m)| k.sign(m)).collect();
        let items: Vec<(&[u8; 32], &[u8], &Signature)> =
            (0..5).map(|i| (&ids[i], msgs[i].as_slice(), &sigs[i])).collect();
        assert_eq!(verify_batch(&items), Ok(()));
        assert_eq!(verify_batch(&items[..1]), Ok(()));
        assert_eq!(verify_batch(&[]), Ok(()));

        let mut bad = items.clone();
        bad[3].1 = b"something else";
        assert_eq!(verify_batch(&bad), Err(CryptoError::BadSignature));

        let mut swapped = items.clone();
        swapped[1].2 = &sigs[2];
        assert_eq!(verify_batch(&swapped), Err(CryptoError::BadSignature));

        let garbage = [0u8; 32];
        let mut bad_key = items.clone();
        bad_key[4].0 = &garbage;
        assert_eq!(verify_batch(&bad_key), Err(CryptoError::BadPublicKey));
    }

    #[test]
    fn batch_refuses_small_order_r_like_verify_strict() {
        // A signature whose R is the identity point and s = 0 satisfies the cofactorless
        // equation only for a small-order key, which is refused; with R refused too, nothing
        // with a degenerate R gets through.
        let mut rng = rng();
        let key = DeviceKey::generate(&mut rng);
        let good = key.sign(b"a");
        let mut degenerate = [0u8; 64];
        degenerate[0] = 1;
        let id = key.id().0;
        let items = [(&id, &b"a"[..], &good), (&id, &b"b"[..], &degenerate)];
        assert_eq!(verify_batch(&items), Err(CryptoError::BadSignature));
    }

    proptest! {
        #[test]
        fn parse_public_accepts_only_canonical_encodings(bytes in any::<[u8; 32]>()) {
            if let Ok(key) = parse_public(&bytes) {
                prop_assert_eq!(key.to_edwards().compress().to_bytes(), bytes);
                prop_assert!(!key.is_weak());
            }
        }

        #[test]
        fn verify_never_panics(public in any::<[u8; 32]>(), msg in any::<Vec<u8>>(),
                               sig in proptest::collection::vec(any::<u8>(), 64)) {
            let mut s = [0u8; 64];
            s.copy_from_slice(&sig);
            let _ = verify(&public, &msg, &s);
            let _ = verify_batch(&[(&public, &msg, &s), (&public, &msg, &s)]);
        }
    }
}

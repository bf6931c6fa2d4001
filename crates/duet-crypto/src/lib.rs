//! Duet's cryptography, in one small crate with no I/O, no clock and no hidden randomness.
//!
//! - Keys: every device has an ed25519 [`DeviceKey`] (its [`DeviceId`], and
//!   later its libp2p identity) that signs the events it appends; every person has a
//!   [`PersonKey`] (their [`PersonId`]). [`verify`] and [`verify_batch`] check signatures
//!   strictly, so all peers agree on which events are valid.
//! - [`DeviceCertificate`]: the person key signs "this device, with this X25519 key and this
//!   name, is mine". Members accept a device only with a certificate that verifies.
//! - [`SpaceKey`]: each space's 32-byte content key. Payloads are sealed with
//!   XChaCha20-Poly1305 under a random 24-byte nonce, with the event's envelope header as
//!   associated data.
//! - [`WrappedKey`]: a space key sealed to one device's X25519 key, sent when pairing and
//!   when the key is rotated after a device is removed.
//! - [`hash`] and [`hash_parts`]: BLAKE3, for event `prev` links and content addresses.
//!
//! Functions that need randomness take an `rng` argument, so tests are deterministic and
//! the caller decides where entropy comes from. Secret keys are wiped from memory when
//! dropped and never appear in `Debug` output. Decoders are bounded and never panic: they
//! return [`CryptoError`].

mod cert;
mod error;
mod hash;
mod keys;
mod safety;
mod seal;
mod wrap;

pub use cert::DeviceCertificate;
pub use duet_model::{DeviceId, PersonId};
pub use error::CryptoError;
pub use hash::{hash, hash_parts, mac, mac_eq, Hash, HASH_LEN};
pub use keys::{verify, verify_batch, DeviceKey, PersonKey, Signature, SIGNATURE_LEN};
pub use safety::SafetyNumber;
pub use seal::{DataKey, KeyId, SpaceKey, KEY_ID_LEN, NONCE_LEN, TAG_LEN};
pub use wrap::WrappedKey;

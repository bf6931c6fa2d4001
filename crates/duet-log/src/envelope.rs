//! The event envelope and its fixed, versioned binary encoding (`docs/protocols.md`, "Events").
//!
//! An event is stored under, and always travels with, its `(author, seq)`; the remaining
//! fields are its *body*, kept and sent byte for byte as signed:
//!
//! ```text
//! body = version:u8 (=1) | lamport:varint | timestamp_ms:varint | prev:[32]
//!      | nonce:[24] | ciphertext (payload + 16-byte tag) | signature:[64]
//! body = version:u8 (=2) | key:[8] | lamport:varint | …  (the rest as in version 1)
//! ```
//!
//! Version 1 is sealed with the space's first key; version 2 names the key that sealed it
//! ([`duet_crypto::SpaceKey::id`]), one shared later by a key rotation ([`crate::Keyring`]).
//! A device writes version 1 until its space's key is first rotated, so a space that never
//! removed a device keeps exactly the bytes it always had.
//!
//! The ciphertext runs to the signature, so it needs no length. The space, author and seq are
//! bound in by the signature and the AEAD associated data without being repeated in every
//! body: the store's key and the sync batch header already carry them. This keeps a
//! 100-character message at about 155 bytes over its text (the ten fields written out would
//! take 213 bytes of header alone; `docs/decisions.md`), while every field stays covered:
//!
//! - signature = ed25519(device key, BLAKE3("duet/event/1" | space | author | seq | body without signature))
//! - associated data = BLAKE3("duet/event-ad/1" | space | author | seq | header), header = body up to the nonce's end
//! - event hash (the next event's `prev`) = BLAKE3("duet/event/1" | space | author | seq | body)

use duet_crypto::{hash_parts, DeviceKey, Hash, KeyId, SpaceKey, KEY_ID_LEN, NONCE_LEN, SIGNATURE_LEN, TAG_LEN};
use duet_model::{DeviceId, SpaceId, Timestamp};
use rand_core::CryptoRngCore;

use crate::codec::{DecodeError, Reader, Writer};
use crate::keyring::Keyring;
use crate::payload::{Payload, MAX_PAYLOAD_BYTES};

/// The envelope format sealed with the space's first key.
pub const FORMAT_VERSION: u8 = 1;
/// The envelope format that names its key (a key shared by a rotation).
pub const FORMAT_VERSION_KEYED: u8 = 2;
/// The largest body accepted from anyone.
pub const MAX_EVENT_BYTES: usize = MAX_PAYLOAD_BYTES + TAG_LEN + 128;
/// The hash standing in for "no previous event" (seq 1).
pub const NO_PREV: Hash = [0; 32];

const DOMAIN: &[u8] = b"duet/event/1";
const DOMAIN_AD: &[u8] = b"duet/event-ad/1";
/// version + the shortest varints + prev + nonce + tag + signature.
const MIN_BODY: usize = 1 + 1 + 1 + 32 + NONCE_LEN + TAG_LEN + SIGNATURE_LEN;

/// A signed, sealed event exactly as stored and sent, with its header parsed.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedEvent {
    author: DeviceId,
    seq: u64,
    body: Vec<u8>,
    lamport: u64,
    timestamp: Timestamp,
    /// The key that sealed it, when not the space's first (format 2).
    key: Option<KeyId>,
    /// Where the nonce ends and the ciphertext begins.
    header_len: usize,
}

impl std::fmt::Debug for SealedEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedEvent")
            .field("author", &self.author)
            .field("seq", &self.seq)
            .field("lamport", &self.lamport)
            .field("bytes", &self.body.len())
            .finish()
    }
}

impl SealedEvent {
    /// Parses a body received for `(author, seq)`. Checks structure and bounds only; the
    /// [`crate::verify`] module checks everything else.
    pub fn decode(author: DeviceId, seq: u64, body: Vec<u8>) -> Result<Self, DecodeError> {
        if body.len() > MAX_EVENT_BYTES {
            return Err(DecodeError::TooLarge("the event"));
        }
        if body.len() < MIN_BODY {
            return Err(DecodeError::Truncated("the event"));
        }
        if seq == 0 || seq > u32::MAX as u64 {
            return Err(DecodeError::TooLarge("the sequence number"));
        }
        let mut r = Reader::new(&body);
        let key = match r.u8("the version")? {
            FORMAT_VERSION => None,
            FORMAT_VERSION_KEYED => Some(KeyId(r.array("the key id")?)),
            version => return Err(DecodeError::UnsupportedVersion(version)),
        };
        let lamport = r.varint("the lamport clock")?;
        let timestamp = Timestamp(r.varint("the timestamp")?);
        r.take(32 + NONCE_LEN, "the header")?;
        let header_len = body.len() - r.remaining();
        if r.remaining() < TAG_LEN + SIGNATURE_LEN {
            return Err(DecodeError::Truncated("the ciphertext"));
        }
        Ok(Self { author, seq, body, lamport, timestamp, key, header_len })
    }

    /// The device that wrote it.
    pub fn author(&self) -> DeviceId {
        self.author
    }
    /// Its place in the author's log: 1, 2, 3 … with no gaps.
    pub fn seq(&self) -> u64 {
        self.seq
    }
    /// The Lamport clock: greater than every event the author had seen.
    pub fn lamport(&self) -> u64 {
        self.lamport
    }
    /// The author's wall clock when it wrote the event (for display only).
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }
    /// The key that sealed it: `None` for the space's first key.
    pub fn key_id(&self) -> Option<KeyId> {
        self.key
    }
    /// The hash of the author's previous event ([`NO_PREV`] for seq 1).
    pub fn prev(&self) -> Hash {
        let start = self.header_len - NONCE_LEN - 32;
        let mut prev = [0; 32];
        prev.copy_from_slice(&self.body[start..start + 32]);
        prev
    }
    /// The XChaCha20-Poly1305 nonce.
    pub fn nonce(&self) -> [u8; NONCE_LEN] {
        let mut nonce = [0; NONCE_LEN];
        nonce.copy_from_slice(&self.body[self.header_len - NONCE_LEN..self.header_len]);
        nonce
    }
    /// The sealed payload, tag included.
    pub fn ciphertext(&self) -> &[u8] {
        &self.body[self.header_len..self.body.len() - SIGNATURE_LEN]
    }
    /// The author's ed25519 signature.
    pub fn signature(&self) -> [u8; SIGNATURE_LEN] {
        let mut sig = [0; SIGNATURE_LEN];
        sig.copy_from_slice(&self.body[self.body.len() - SIGNATURE_LEN..]);
        sig
    }
    /// The body, exactly as signed.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
    /// Takes the body out.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// What the signature signs.
    pub fn signing_digest(&self, space: &SpaceId) -> Hash {
        let seq = self.seq.to_be_bytes();
        hash_parts(&[DOMAIN, &space.0, &self.author.0, &seq, &self.body[..self.body.len() - SIGNATURE_LEN]])
    }

    /// The hash the author's next event names as `prev`.
    pub fn hash(&self, space: &SpaceId) -> Hash {
        let seq = self.seq.to_be_bytes();
        hash_parts(&[DOMAIN, &space.0, &self.author.0, &seq, &self.body])
    }

    /// Decrypts and validates the payload.
    pub fn open(&self, space: &SpaceId, key: &SpaceKey) -> Result<Payload, OpenError> {
        let ad = associated_data(space, &self.author, self.seq, &self.body[..self.header_len]);
        let plain = key.open(&self.nonce(), &ad, self.ciphertext()).map_err(|_| OpenError::Decrypt)?;
        Payload::decode(&plain).map_err(OpenError::Payload)
    }

    /// The standalone form, for a single event outside a per-author batch:
    /// `author:[32] | seq:varint | body length:varint | body`.
    pub fn encode_frame(&self, out: &mut Vec<u8>) {
        let mut w = Writer { buf: std::mem::take(out) };
        w.bytes(&self.author.0);
        w.varint(self.seq);
        w.varint(self.body.len() as u64);
        w.bytes(&self.body);
        *out = w.buf;
    }

    /// Reads one standalone frame from the front of `bytes`; returns the event and the rest.
    pub fn decode_frame(bytes: &[u8]) -> Result<(Self, &[u8]), DecodeError> {
        let mut r = Reader::new(bytes);
        let author = DeviceId(r.array("the author")?);
        let seq = r.varint("the sequence number")?;
        let len = r.bounded(MAX_EVENT_BYTES as u64, "the event")? as usize;
        let body = r.take(len, "the event")?.to_vec();
        let consumed = bytes.len() - r.remaining();
        Ok((Self::decode(author, seq, body)?, &bytes[consumed..]))
    }
}

/// Why a payload could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("the payload could not be decrypted (wrong key or tampered)")]
    Decrypt,
    #[error(transparent)]
    Payload(#[from] crate::payload::PayloadError),
}

fn associated_data(space: &SpaceId, author: &DeviceId, seq: u64, header: &[u8]) -> Hash {
    hash_parts(&[DOMAIN_AD, &space.0, &author.0, &seq.to_be_bytes(), header])
}

/// Where an author's log stands: the last seq, its hash and its Lamport clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogHead {
    pub seq: u64,
    pub hash: Hash,
    pub lamport: u64,
}

impl LogHead {
    /// The head of an empty log.
    pub const EMPTY: LogHead = LogHead { seq: 0, hash: NO_PREV, lamport: 0 };

    /// The head after `event`.
    pub fn after(event: &SealedEvent, space: &SpaceId) -> Self {
        Self { seq: event.seq(), hash: event.hash(space), lamport: event.lamport() }
    }
}

impl Default for LogHead {
    fn default() -> Self {
        Self::EMPTY
    }
}

/// Everything needed to write this device's next event.
pub struct NextEvent<'a> {
    pub space: SpaceId,
    pub device: &'a DeviceKey,
    /// The space's keys: the event is sealed with the current one ([`Keyring::sealing`]).
    pub keys: &'a Keyring,
    /// This device's own log head.
    pub head: LogHead,
    /// The highest Lamport clock this device has seen, from anyone.
    pub max_lamport: u64,
    pub now: Timestamp,
}

/// Why a local event could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    #[error(transparent)]
    Invalid(#[from] duet_model::ValidationError),
    #[error("this device's log is full")]
    LogFull,
    /// The highest Lamport clock held is the largest there is: no later event can be written.
    /// (Received clocks are bounded, so only a store that accepted one before that rule can
    /// get here.)
    #[error(
        "the space's order of events has run out (an event was dated at the end of time): nothing more can be written"
    )]
    ClockExhausted,
    #[error("the message is too large to send")]
    TooLarge,
}

impl NextEvent<'_> {
    /// Validates the payload, then seals and signs it as the next event of this device's log.
    pub fn seal(&self, payload: Payload, rng: &mut impl CryptoRngCore) -> Result<(SealedEvent, Payload), SealError> {
        let payload = payload.validated()?;
        let plain = payload.encode();
        if plain.len() > MAX_PAYLOAD_BYTES {
            return Err(SealError::TooLarge);
        }
        Ok((self.seal_plain(&plain, rng)?, payload))
    }

    /// Seals and signs `plain` as it is, unchecked: what a member device that writes garbage
    /// sends (tests and fuzzing of the receiving side).
    #[cfg(any(test, feature = "testkit"))]
    pub fn seal_unchecked(&self, plain: &[u8], rng: &mut impl CryptoRngCore) -> Result<SealedEvent, SealError> {
        self.seal_plain(plain, rng)
    }

    fn seal_plain(&self, plain: &[u8], rng: &mut impl CryptoRngCore) -> Result<SealedEvent, SealError> {
        let seq = self.head.seq + 1;
        if seq > u32::MAX as u64 {
            return Err(SealError::LogFull);
        }
        let author = self.device.id();
        let lamport = self.max_lamport.max(self.head.lamport).checked_add(1).ok_or(SealError::ClockExhausted)?;
        let (key_id, key) = self.keys.sealing();
        let mut w = Writer::with_capacity(MIN_BODY + KEY_ID_LEN + plain.len() + 16);
        match key_id {
            None => w.u8(FORMAT_VERSION),
            Some(id) => {
                w.u8(FORMAT_VERSION_KEYED);
                w.bytes(&id.0);
            }
        }
        w.varint(lamport);
        w.varint(self.now.0);
        w.bytes(&self.head.hash);
        let nonce = SpaceKey::random_nonce(rng);
        w.bytes(&nonce);
        let header_len = w.buf.len();
        let ad = associated_data(&self.space, &author, seq, &w.buf);
        w.bytes(&key.seal(&nonce, &ad, plain));
        let seq_bytes = seq.to_be_bytes();
        let digest = hash_parts(&[DOMAIN, &self.space.0, &author.0, &seq_bytes, &w.buf]);
        w.bytes(&self.device.sign(&digest));
        Ok(SealedEvent { author, seq, body: w.buf, lamport, timestamp: self.now, key: key_id, header_len })
    }
}

//! The event envelope: `SealedEvent::decode_frame` (a standalone frame from the network) and
//! `SealedEvent::decode(author, seq, body)` (a body from a sync batch or the store).
//!
//! Asserts: no panic; a decoded frame re-encodes to exactly the bytes it was read from and
//! decodes again to the same event; a decoded body re-assembled from its parsed fields
//! (version, key id in format 2, lamport, timestamp, prev, nonce, ciphertext, signature) is
//! the same body, and
//! decodes again to the same event. Every accessor, hash and `open` run without panicking.
#![no_main]

use duet_crypto::SpaceKey;
use duet_fuzz::put_varint;
use duet_log::{SealedEvent, FORMAT_VERSION, FORMAT_VERSION_KEYED};
use duet_model::{DeviceId, SpaceId};
use libfuzzer_sys::fuzz_target;

fn exercise(event: &SealedEvent) {
    // Re-assemble the body from the parsed fields: this is the envelope's encoding.
    let mut body = match event.key_id() {
        None => vec![FORMAT_VERSION],
        Some(key) => [&[FORMAT_VERSION_KEYED][..], &key.0].concat(),
    };
    put_varint(&mut body, event.lamport());
    put_varint(&mut body, event.timestamp().0);
    body.extend_from_slice(&event.prev());
    body.extend_from_slice(&event.nonce());
    body.extend_from_slice(event.ciphertext());
    body.extend_from_slice(&event.signature());
    assert_eq!(body, event.body(), "the parsed fields do not re-assemble into the body");

    let again = SealedEvent::decode(event.author(), event.seq(), body).expect("a re-assembled body must decode");
    assert_eq!(&again, event);

    // Hashing and opening are what the verifier does next: they must not panic either.
    let space = SpaceId([5; 16]);
    let _ = event.hash(&space);
    let _ = event.signing_digest(&space);
    let _ = event.open(&space, &SpaceKey::from_bytes([9; 32]));
}

fuzz_target!(|data: &[u8]| {
    // 1. The whole input as a standalone frame (with whatever follows it).
    if let Ok((event, rest)) = SealedEvent::decode_frame(data) {
        let consumed = &data[..data.len() - rest.len()];
        let mut out = Vec::new();
        event.encode_frame(&mut out);
        assert_eq!(out, consumed, "a frame does not re-encode to its own bytes");
        out.extend_from_slice(rest);
        let (again, again_rest) = SealedEvent::decode_frame(&out).expect("a re-encoded frame must decode");
        assert_eq!(again, event);
        assert_eq!(again_rest, rest);
        exercise(&event);
    }

    // 2. author = the first 32 bytes, seq = the next 8 (little-endian), body = the rest.
    if data.len() >= 40 {
        let author = DeviceId(data[..32].try_into().unwrap());
        let seq = u64::from_le_bytes(data[32..40].try_into().unwrap());
        if let Ok(event) = SealedEvent::decode(author, seq, data[40..].to_vec()) {
            assert_eq!(event.author(), author);
            assert_eq!(event.seq(), seq);
            assert_eq!(event.body(), &data[40..]);
            exercise(&event);
        }
    }
});

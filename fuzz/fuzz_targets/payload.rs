//! `Payload::decode`: what an event says once decrypted (bounded, and model-validated).
//!
//! Asserts: no panic; a decoded payload is already valid (validating it again changes
//! nothing); it encodes to bytes that decode to the same payload.
#![no_main]

use duet_log::Payload;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = Payload::decode(data) else { return };
    let _ = payload.kind();
    assert_eq!(payload.clone().validated().as_ref(), Ok(&payload), "a decoded payload is not stable under validation");
    let bytes = payload.encode();
    let again = Payload::decode(&bytes).expect("an encoded payload must decode");
    assert_eq!(again, payload);
});

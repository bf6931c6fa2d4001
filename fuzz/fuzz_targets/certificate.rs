//! `duet_crypto::DeviceCertificate::decode` and `duet_crypto::WrappedKey::decode`.
//!
//! Asserts: no panic; both are fixed-layout encodings, so a decoded value encodes to exactly
//! the input bytes and decodes again to the same value. `verify` and `unwrap` (with a fixed
//! device key) run on whatever decodes, without panicking.
#![no_main]

use duet_crypto::{DeviceCertificate, DeviceKey, WrappedKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cert) = DeviceCertificate::decode(data) {
        let bytes = cert.encode();
        assert_eq!(bytes, data, "a certificate does not re-encode to its own bytes");
        assert_eq!(DeviceCertificate::decode(&bytes).as_ref(), Ok(&cert));
        let _ = cert.verify();
    }

    if let Ok(wrapped) = WrappedKey::decode(data) {
        let bytes = wrapped.encode();
        assert_eq!(bytes, data, "a wrapped key does not re-encode to its own bytes");
        assert_eq!(WrappedKey::decode(&bytes).as_ref(), Ok(&wrapped));
        let _ = wrapped.unwrap(&DeviceKey::from_secret_bytes(&[7; 32]));
    }
});

//! `/duet/blobs/1` messages (`duet_blob::Request`, `duet_blob::Response`) and blob manifests.
//!
//! Asserts: no panic; whatever decodes encodes back to the same message; a manifest that
//! decodes checks chunks without panicking.
#![no_main]

use duet_blob::{BlobHash, Manifest, Request, Response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = Request::decode(data) {
        assert_eq!(Request::decode(&r.encode()).ok(), Some(r));
    }
    if let Ok(r) = Response::decode(data.to_vec()) {
        assert_eq!(Response::decode(r.encode()).ok(), Some(r));
    }
    let hash = BlobHash(*blake3_of(data));
    let _ = Manifest::decode_verified(data, &hash, 100 << 20);
    if let Ok(m) = Manifest::decode(data, 100 << 20) {
        let _ = m.hash();
        let _ = m.check_chunk(0, data);
        assert_eq!(Manifest::decode(&m.encode(), 100 << 20).ok(), Some(m));
    }
});

fn blake3_of(data: &[u8]) -> Box<[u8; 32]> {
    Box::new(duet_crypto::hash(data))
}

//! `VersionVector::decode`: what a receiver says it holds (inside a sync `Hello`).
//!
//! Asserts: no panic; a decoded vector encodes to bytes that decode to the same vector; the
//! comparisons sync relies on behave on it (it dominates itself and misses nothing from
//! itself, and an empty vector misses exactly its non-zero entries).
#![no_main]

use duet_log::VersionVector;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(vv) = VersionVector::decode(data) else { return };
    let again = VersionVector::decode(&vv.encode()).expect("an encoded version vector must decode");
    assert_eq!(again, vv);

    assert!(vv.dominates(&vv));
    assert!(vv.missing_from(&vv).is_empty());
    let empty = VersionVector::new();
    assert!(vv.dominates(&empty));
    let non_zero = vv.iter().filter(|(_, s)| **s > 0).count();
    assert_eq!(vv.missing_from(&empty).len(), non_zero);
});

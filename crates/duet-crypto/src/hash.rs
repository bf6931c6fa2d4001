//! BLAKE3 content hashing: event ids, `prev` links and blob addresses.

/// Length in bytes of a BLAKE3 hash.
pub const HASH_LEN: usize = 32;

/// A BLAKE3 hash.
pub type Hash = [u8; HASH_LEN];

/// BLAKE3 of bytes.
pub fn hash(bytes: &[u8]) -> Hash {
    blake3::hash(bytes).into()
}

/// BLAKE3 of several parts as if concatenated (no allocation).
///
/// Parts carry no length framing: `["ab", "c"]` and `["a", "bc"]` hash the same. Callers that
/// hash variable-length fields side by side frame them first.
pub fn hash_parts(parts: &[&[u8]]) -> Hash {
    let mut hasher = blake3::Hasher::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// A keyed BLAKE3 MAC over several parts (same framing caveat as [`hash_parts`]). Used to prove
/// knowledge of a pairing secret without revealing it.
pub fn mac(key: &[u8; 32], parts: &[&[u8]]) -> Hash {
    let mut hasher = blake3::Hasher::new_keyed(key);
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// Compares two MACs in constant time.
pub fn mac_eq(a: &Hash, b: &Hash) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_answer() {
        // The BLAKE3 of the empty input, from the BLAKE3 specification.
        let empty = hash(b"");
        assert_eq!(empty[..4], [0xaf, 0x13, 0x49, 0xb9]);
    }

    #[test]
    fn macs_depend_on_the_key() {
        let a = mac(&[1; 32], &[b"duet"]);
        assert!(mac_eq(&a, &mac(&[1; 32], &[b"du", b"et"])));
        assert!(!mac_eq(&a, &mac(&[2; 32], &[b"duet"])));
    }

    proptest! {
        #[test]
        fn parts_hash_like_their_concatenation(parts in proptest::collection::vec(any::<Vec<u8>>(), 0..6)) {
            let joined: Vec<u8> = parts.concat();
            let slices: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            prop_assert_eq!(hash_parts(&slices), hash(&joined));
        }
    }
}

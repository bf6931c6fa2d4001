//! Helpers shared by the fuzz targets: independent re-implementations of the few encodings
//! the libraries keep private, so a target can build well-formed input (a ticket with a
//! valid checksum) or re-encode a parsed value by hand to check the parser.

/// LEB128, shortest form (the `duet-log` codec's varint).
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Lowercase RFC 4648 base32 without padding (the ticket alphabet).
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buf >> bits) & 31) as usize] as char);
        }
        buf &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// A ticket whose body is `content` followed by its correct 4-byte BLAKE3 check, so the
/// fuzzer reaches the ticket's field parser instead of stopping at the checksum.
pub fn ticket_with_valid_check(content: &[u8]) -> String {
    let mut body = content.to_vec();
    body.extend_from_slice(&duet_crypto::hash(content)[..4]);
    format!("duet1{}", base32(&body))
}

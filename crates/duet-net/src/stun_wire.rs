//! STUN binding requests and answers on the wire (RFC 8489): the parsing half of
//! [`crate::stun`], with nothing but `std`, so the fuzz target compiles this file by itself
//! (`fuzz/fuzz_targets/stun.rs`) instead of building libp2p under the sanitizer.

use std::net::{IpAddr, SocketAddr};

/// STUN's port (RFC 8489 §18.6), where `duet relay` answers by default.
pub const STUN_PORT: u16 = 3478;

pub(crate) const MAGIC_COOKIE: u32 = 0x2112_A442;
const BINDING_REQUEST: u16 = 0x0001;
const BINDING_SUCCESS: u16 = 0x0101;
const XOR_MAPPED_ADDRESS: u16 = 0x0020;
pub(crate) const HEADER_LEN: usize = 20;
/// Longest request answered (a binding request is 20 bytes plus a few attributes).
pub(crate) const MAX_REQUEST: usize = 548;

/// The answer to a STUN binding request `request` that came from `from`; `None` for anything
/// that is not one.
pub fn binding_response(request: &[u8], from: SocketAddr) -> Option<Vec<u8>> {
    if request.len() < HEADER_LEN || request.len() > MAX_REQUEST {
        return None;
    }
    let kind = u16::from_be_bytes([request[0], request[1]]);
    let length = u16::from_be_bytes([request[2], request[3]]) as usize;
    let cookie = u32::from_be_bytes([request[4], request[5], request[6], request[7]]);
    if kind != BINDING_REQUEST
        || cookie != MAGIC_COOKIE
        || length != request.len() - HEADER_LEN
        || !length.is_multiple_of(4)
    {
        return None;
    }
    let transaction = &request[8..HEADER_LEN];

    let port = from.port() ^ (MAGIC_COOKIE >> 16) as u16;
    let (family, address): (u8, Vec<u8>) = match from.ip() {
        IpAddr::V4(ip) => (0x01, xor(&ip.octets(), &MAGIC_COOKIE.to_be_bytes())),
        IpAddr::V6(ip) => {
            let mut key = MAGIC_COOKIE.to_be_bytes().to_vec();
            key.extend_from_slice(transaction);
            (0x02, xor(&ip.octets(), &key))
        }
    };
    let mut value = vec![0, family];
    value.extend_from_slice(&port.to_be_bytes());
    value.extend_from_slice(&address);

    let mut out = Vec::with_capacity(HEADER_LEN + 4 + value.len());
    out.extend_from_slice(&BINDING_SUCCESS.to_be_bytes());
    out.extend_from_slice(&((4 + value.len()) as u16).to_be_bytes());
    out.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
    out.extend_from_slice(transaction);
    out.extend_from_slice(&XOR_MAPPED_ADDRESS.to_be_bytes());
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(&value);
    Some(out)
}

fn xor(bytes: &[u8], key: &[u8]) -> Vec<u8> {
    bytes.iter().zip(key).map(|(b, k)| b ^ k).collect()
}

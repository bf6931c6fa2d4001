//! The STUN binding service's parser (`duet relay` answers anyone on the internet with it).
//!
//! The first 19 input bytes pick the sender (IPv4 or IPv6 address and port); the rest is the
//! datagram. Asserts: no panic; an answer is a binding success with the request's transaction
//! id whose XOR-MAPPED-ADDRESS decodes back to the sender; and the same bytes, wrapped in a
//! well-formed binding request header (padded to whole words), are always answered.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use libfuzzer_sys::fuzz_target;

// Only `std` and the hashes: compiled here by itself (see the file's own docs).
#[path = "../../crates/duet-net/src/stun_wire.rs"]
#[allow(dead_code)]
mod stun_wire;

const COOKIE: [u8; 4] = [0x21, 0x12, 0xA4, 0x42];

/// The sender an answer names, checked field by field.
fn answered_to(request: &[u8], answer: &[u8]) -> SocketAddr {
    assert!(answer.len() >= 20 + 4, "an answer without an attribute");
    assert_eq!(&answer[0..2], &[0x01, 0x01], "not a binding success");
    assert_eq!(usize::from(u16::from_be_bytes([answer[2], answer[3]])), answer.len() - 20, "wrong length");
    assert_eq!(&answer[4..8], &COOKIE);
    assert_eq!(&answer[8..20], &request[8..20], "another transaction id");
    assert_eq!(&answer[20..22], &[0x00, 0x20], "not XOR-MAPPED-ADDRESS");
    let value = &answer[24..];
    assert_eq!(usize::from(u16::from_be_bytes([answer[22], answer[23]])), value.len());
    let port = u16::from_be_bytes([value[2], value[3]]) ^ 0x2112;
    let mut key = COOKIE.to_vec();
    key.extend_from_slice(&request[8..20]);
    let address: Vec<u8> = value[4..].iter().zip(&key).map(|(b, k)| b ^ k).collect();
    let ip = match value[1] {
        0x01 => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(address.as_slice()).expect("4 bytes"))),
        0x02 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(address.as_slice()).expect("16 bytes"))),
        family => panic!("unknown address family {family}"),
    };
    SocketAddr::new(ip, port)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 19 {
        return;
    }
    let (who, datagram) = data.split_at(19);
    let port = u16::from_be_bytes([who[1], who[2]]);
    let from = if who[0] & 1 == 0 {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(&who[3..7]).unwrap())), port)
    } else {
        SocketAddr::new(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&who[3..19]).unwrap())), port)
    };

    // 1. The datagram as it came.
    if let Some(answer) = stun_wire::binding_response(datagram, from) {
        assert_eq!(answered_to(datagram, &answer), from);
    }

    // 2. A binding request around it: answered, whatever its attributes say.
    let mut attributes = datagram.get(12..).unwrap_or_default().to_vec();
    attributes.truncate(stun_wire::MAX_REQUEST - 20);
    attributes.truncate(attributes.len() / 4 * 4);
    let mut request = vec![0x00, 0x01];
    request.extend_from_slice(&(attributes.len() as u16).to_be_bytes());
    request.extend_from_slice(&COOKIE);
    let mut transaction = datagram.get(..12).unwrap_or_default().to_vec();
    transaction.resize(12, 0);
    request.extend_from_slice(&transaction);
    request.extend_from_slice(&attributes);
    let answer = stun_wire::binding_response(&request, from).expect("a well-formed binding request is answered");
    assert_eq!(answered_to(&request, &answer), from);
});

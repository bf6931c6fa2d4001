//! The TURN server's message reader (`duet relay` reads whatever anyone on the internet
//! sends to its STUN/TURN port with it).
//!
//! Asserts: no panic on any datagram, through every accessor the server uses; a message
//! that parses, rebuilt from its attributes, parses back to the same ones; a message built
//! with a key carries integrity under that key and under no other; ChannelData reads back.
#![no_main]

use libfuzzer_sys::fuzz_target;

// Only `std` and the hashes: compiled here by itself (see the file's own docs).
#[path = "../../crates/duet-net/src/stun_wire.rs"]
#[allow(dead_code)]
mod stun_wire;

use stun_wire::*;

const KINDS: [u16; 12] = [
    USERNAME,
    MESSAGE_INTEGRITY,
    ERROR_CODE,
    CHANNEL_NUMBER,
    LIFETIME,
    XOR_PEER_ADDRESS,
    DATA,
    REALM,
    NONCE,
    XOR_RELAYED_ADDRESS,
    REQUESTED_TRANSPORT,
    XOR_MAPPED_ADDRESS,
];

fuzz_target!(|data: &[u8]| {
    // 1. The datagram as it came, through every accessor.
    let _ = channel_data(data);
    if let Some(message) = Message::parse(data) {
        for kind in KINDS {
            let _ = message.get(kind);
            let _ = message.text(kind);
            let _ = message.address(kind);
            for value in message.all(kind) {
                let _ = message.decode_address(value);
            }
        }
        let _ = (message.lifetime(), message.channel());
        let _ = message.integrity_matches(&long_term_key("user", "duet", "pass"));

        // 2. Rebuilt from its attributes (those before MESSAGE-INTEGRITY), it reads the same.
        let kept: Vec<(u16, Vec<u8>)> = KINDS
            .iter()
            .filter(|k| **k != MESSAGE_INTEGRITY)
            .flat_map(|k| message.all(*k).map(move |v| (*k, v.to_vec())))
            .collect();
        let rebuilt = kept
            .iter()
            .fold(Builder::new(message.method, message.class, message.transaction), |b, (k, v)| b.attribute(*k, v));
        let key = long_term_key("user", "duet", "pass");
        let raw = rebuilt.integrity(&key).finish();
        if let Some(again) = Message::parse(&raw) {
            assert_eq!((again.method, again.class, again.transaction), (message.method, message.class, message.transaction));
            for (k, v) in &kept {
                assert!(again.all(*k).any(|w| w == v.as_slice()), "attribute {k:#x} lost");
            }
            assert!(again.integrity_matches(&key));
            assert!(!again.integrity_matches(&long_term_key("user", "duet", "other")));
        } else {
            // Only when the attributes no longer fit STUN's 16-bit length, or are too many.
            assert!(raw.len() > 65_535 || kept.len() + 2 > MAX_ATTRIBUTES, "a rebuilt message does not parse");
        }
    }

    // 3. The datagram as ChannelData data.
    if data.len() <= 4096 {
        let framed = channel_message(0x4000 + (data.len() as u16 % 0x1000), data);
        assert_eq!(channel_data(&framed).map(|(_, d)| d), Some(data));
    }
});

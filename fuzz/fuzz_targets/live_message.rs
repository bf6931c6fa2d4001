//! `LiveMessage::decode`: every frame of `/duet/live/1` (presence, typing, call signalling).
//!
//! Covers call signalling too (tag 3). Asserts: no panic; a decoded message encodes to bytes that decode to the same message.
#![no_main]

use duet_log::LiveMessage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = LiveMessage::decode(data) else { return };
    let again = LiveMessage::decode(&msg.encode()).expect("an encoded live message must decode");
    assert_eq!(again, msg);
});

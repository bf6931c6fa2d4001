//! Pairing `/duet/pair/1`: the invite ticket a person types or scans, and the two messages.
//!
//! Every input is tried four ways:
//! 1. as ticket text (`decode_ticket` of the input read as lossy UTF-8);
//! 2. as ticket *content*, wrapped in a ticket with a correct checksum, so the fuzzer gets past
//!    the 4-byte BLAKE3 check into the field parser;
//! 3. as a `JoinRequest`; 4. as a `JoinResponse` (whose wrapped key is decoded too).
//!
//! Asserts: no panic; whatever decodes re-encodes to something that decodes to the same value.
#![no_main]

use duet_crypto::WrappedKey;
use duet_fuzz::ticket_with_valid_check;
use duet_log::pairing::{decode_ticket, encode_ticket, JoinRequest, JoinResponse};
use libfuzzer_sys::fuzz_target;

fn ticket(text: &str) {
    let Ok(invite) = decode_ticket(text) else { return };
    let again = decode_ticket(&encode_ticket(&invite)).expect("an encoded ticket must decode");
    assert_eq!(again, invite);
}

fuzz_target!(|data: &[u8]| {
    ticket(&String::from_utf8_lossy(data));
    ticket(&ticket_with_valid_check(data));

    if let Ok(req) = JoinRequest::decode(data) {
        let again = JoinRequest::decode(&req.encode()).expect("an encoded join request must decode");
        assert_eq!(again, req);
    }

    if let Ok(resp) = JoinResponse::decode(data) {
        let again = JoinResponse::decode(&resp.encode()).expect("an encoded join response must decode");
        assert_eq!(again, resp);
        if let JoinResponse::Welcome { wrapped_key, .. } = &resp {
            let _ = WrappedKey::decode(wrapped_key);
        }
    }
});

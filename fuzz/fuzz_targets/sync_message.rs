//! `SyncMessage::decode`: every frame of `/duet/sync/1`.
//!
//! Asserts: no panic; a decoded message encodes to bytes that decode to the same message.
//! The parts a receiver decodes next (a batch's event bodies, the members' certificates, a
//! hello's version vector) are decoded too, without panicking.
#![no_main]

use duet_crypto::DeviceCertificate;
use duet_log::{SyncMessage, VersionVector};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = SyncMessage::decode(data) else { return };
    let bytes = msg.encode();
    let again = SyncMessage::decode(&bytes).expect("an encoded sync message must decode");
    assert_eq!(again, msg);

    match msg {
        SyncMessage::Batch { author, first_seq, bodies } => {
            let n = bodies.len();
            if let Ok(events) = SyncMessage::batch_events(author, first_seq, bodies) {
                assert_eq!(events.len(), n);
            }
        }
        SyncMessage::Members(members) => certificates(&members.certificates),
        SyncMessage::Hello { members, held } => {
            certificates(&members.certificates);
            assert_eq!(VersionVector::decode(&held.encode()).as_ref(), Ok(&held));
        }
        _ => {}
    }
});

fn certificates(certs: &[Vec<u8>]) {
    for c in certs {
        if let Ok(cert) = DeviceCertificate::decode(c) {
            let _ = cert.verify();
        }
    }
}

//! Every way an event can be refused, each with its own error, and nothing valid is lost.

use duet_crypto::{DeviceCertificate, DeviceKey, PersonKey, SpaceKey};
use duet_model::{DeviceId, Timestamp};

use crate::envelope::{LogHead, SealedEvent, MAX_EVENT_BYTES};
use crate::payload::Payload;
use crate::testkit::TestSpace;
use crate::verify::VerifyError;

fn t(ms: u64) -> Timestamp {
    Timestamp(1_700_000_000_000 + ms)
}

fn verify_one(s: &TestSpace, head: LogHead, event: SealedEvent) -> Result<(), VerifyError> {
    s.verifier().verify(&head, event, |_| None).map(|_| ())
}

/// Rebuilds an event with one byte of its body changed.
fn flip(event: &SealedEvent, at: usize) -> SealedEvent {
    let mut body = event.body().to_vec();
    body[at] ^= 0x01;
    SealedEvent::decode(event.author(), event.seq(), body).expect("structure unchanged")
}

#[test]
fn a_good_event_passes_and_opens() {
    let mut s = TestSpace::new(1, &[1, 1]);
    let e = s.write(0, TestSpace::text("hello love"), t(0));
    let opened = s.verifier().verify(&LogHead::EMPTY, e, |_| None).unwrap().unwrap();
    assert_eq!(opened.payload, TestSpace::text("hello love"));
    assert_eq!(opened.person, s.persons[0].id());
}

#[test]
fn bad_signature() {
    let mut s = TestSpace::new(2, &[1, 1]);
    let e = s.write(0, TestSpace::text("hi"), t(0));
    let last = e.body().len() - 1;
    let err = verify_one(&s, LogHead::EMPTY, flip(&e, last)).unwrap_err();
    assert!(matches!(err, VerifyError::BadSignature { seq: 1, .. }), "{err}");
}

#[test]
fn unknown_author() {
    let mut s = TestSpace::new(3, &[1, 1]);
    let mut stranger = TestSpace::new(99, &[1]);
    let e = stranger.write(0, TestSpace::text("let me in"), t(0));
    // Same bytes claimed for this space: the author is simply not a member here.
    let err = verify_one(&s, LogHead::EMPTY, e).unwrap_err();
    assert!(matches!(err, VerifyError::UnknownAuthor(_)), "{err}");
    // A certificate from someone outside the space is refused too.
    let outsider = PersonKey::generate(&mut s.rng);
    let dev = DeviceKey::generate(&mut s.rng);
    let cert = DeviceCertificate::issue(&outsider, dev.id(), dev.x25519_public(), "x", 1).unwrap();
    assert!(s.membership.add_device(cert).is_err());
}

#[test]
fn gap() {
    let mut s = TestSpace::new(4, &[1, 1]);
    let _first = s.write(0, TestSpace::text("one"), t(0));
    let second = s.write(0, TestSpace::text("two"), t(1));
    let err = verify_one(&s, LogHead::EMPTY, second).unwrap_err();
    assert!(matches!(err, VerifyError::Gap { expected: 1, got: 2, .. }), "{err}");
}

#[test]
fn wrong_prev() {
    let mut s = TestSpace::new(5, &[1, 1]);
    let first = s.write(0, TestSpace::text("one"), t(0));
    let second = s.write(0, TestSpace::text("two"), t(1));
    let head = LogHead::after(&first, &s.space);
    // Someone other than the author changed `prev`: the signature no longer holds.
    let mut body = second.body().to_vec();
    let at = body.windows(32).position(|w| w == second.prev()).unwrap();
    body[at] ^= 1;
    let altered = SealedEvent::decode(second.author(), second.seq(), body).unwrap();
    let err = verify_one(&s, head, altered).unwrap_err();
    assert!(matches!(err, VerifyError::WrongPrev { seq: 2, .. }), "{err}");
}

#[test]
fn fork_and_duplicate() {
    let mut s = TestSpace::new(6, &[1, 1]);
    let first = s.write(0, TestSpace::text("one"), t(0));
    let head = LogHead::after(&first, &s.space);
    // The same event again is a harmless duplicate.
    let dup = s.verifier().verify(&head, first.clone(), |_| Some(head.hash)).unwrap();
    assert!(dup.is_none());
    // Another event with the same seq, signed by the author, is a fork.
    s.devices[0].head = LogHead::EMPTY;
    let other = s.write(0, TestSpace::text("one, rewritten"), t(5));
    let err = s.verifier().verify(&head, other.clone(), |_| Some(head.hash)).map(|_| ()).unwrap_err();
    assert!(matches!(err, VerifyError::Fork { seq: 1, .. }), "{err}");
    // The author (restored from a backup) goes on from the other event: the next seq names a
    // prev we do not hold, signed by the author, which is the same fork seen one step later.
    let next = s.write(0, TestSpace::text("two, after the rewrite"), t(6));
    let err = s.verifier().verify(&head, next, |_| Some(head.hash)).map(|_| ()).unwrap_err();
    assert!(matches!(err, VerifyError::Fork { seq: 2, .. }), "{err}");
    // Forged bytes for a held seq do not frame the author: a bad signature, not a fork.
    let mut body = other.body().to_vec();
    let last = body.len() - 1;
    body[last] ^= 1;
    let forged = SealedEvent::decode(other.author(), other.seq(), body).unwrap();
    let err = s.verifier().verify(&head, forged, |_| Some(head.hash)).map(|_| ()).unwrap_err();
    assert!(matches!(err, VerifyError::BadSignature { seq: 1, .. }), "{err}");
}

#[test]
fn tampered_ciphertext() {
    let mut s = TestSpace::new(7, &[1, 1]);
    let e = s.write(0, TestSpace::text("secret"), t(0));
    // Re-sign the tampered body so only the AEAD catches it.
    let mut body = e.body().to_vec();
    let ct_at = body.len() - 64 - 5;
    body[ct_at] ^= 0x80;
    let sig_at = body.len() - 64;
    let tampered = SealedEvent::decode(e.author(), e.seq(), body.clone()).unwrap();
    let sig = s.devices[0].key.sign(&tampered.signing_digest(&s.space));
    body[sig_at..].copy_from_slice(&sig);
    let tampered = SealedEvent::decode(e.author(), e.seq(), body).unwrap();
    let err = verify_one(&s, LogHead::EMPTY, tampered).unwrap_err();
    assert!(matches!(err, VerifyError::Decrypt { .. }), "{err}");

    // Sealed with another space's key: also refused.
    let mut other = TestSpace::new(7, &[1, 1]);
    other.keyring = crate::Keyring::new(SpaceKey::generate(&mut other.rng));
    let e = other.write(0, TestSpace::text("secret"), t(0));
    let err = verify_one(&s, LogHead::EMPTY, e).unwrap_err();
    assert!(matches!(err, VerifyError::Decrypt { .. }), "{err}");
}

#[test]
fn oversize_and_malformed_bodies_are_refused_before_any_work() {
    let author = DeviceId([1; 32]);
    assert!(SealedEvent::decode(author, 1, vec![1; MAX_EVENT_BYTES + 1]).is_err());
    assert!(SealedEvent::decode(author, 1, vec![1; 10]).is_err());
    assert!(SealedEvent::decode(author, 0, vec![1; 200]).is_err());
    let mut body = vec![9u8; 200];
    body[0] = 3; // unknown version
    assert!(SealedEvent::decode(author, 1, body).is_err());
    assert!(SealedEvent::decode_frame(&[0xff; 40]).is_err());
}

#[test]
fn invalid_payload() {
    let mut s = TestSpace::new(8, &[1, 1]);
    // Seal an over-long message by hand, bypassing the sender's validation.
    let long = "x".repeat(2001);
    let payload = Payload::Post {
        target: duet_model::Target::Direct,
        message_type: Default::default(),
        content: long,
        reply_to: None,
        attachments: vec![],
    };
    assert!(payload.clone().validated().is_err(), "the sender refuses it");
    let e = seal_unchecked(&mut s, payload);
    let err = verify_one(&s, LogHead::EMPTY, e).unwrap_err();
    assert!(matches!(err, VerifyError::InvalidPayload { .. }), "{err}");
}

#[test]
fn revoked_device_is_refused_after_its_last_seq() {
    let mut s = TestSpace::new(9, &[2, 1]);
    let first = s.write(1, TestSpace::text("from the old laptop"), t(0));
    let second = s.write(1, TestSpace::text("stolen laptop speaking"), t(1));
    let d = s.devices[1].key.id();
    s.membership.revoke(d, 1);
    let head = LogHead::after(&first, &s.space);
    assert!(verify_one(&s, LogHead::EMPTY, first).is_ok());
    let err = verify_one(&s, head, second).unwrap_err();
    assert!(matches!(err, VerifyError::Revoked { last_seq: 1, .. }), "{err}");
}

#[test]
fn a_batch_keeps_everything_before_the_bad_event() {
    let mut s = TestSpace::new(10, &[1, 1]);
    let mut events: Vec<SealedEvent> = (0..10).map(|i| s.write(0, TestSpace::text(&format!("m{i}")), t(i))).collect();
    events[6] = flip(&events[6], events[6].body().len() - 1);
    let bad = events[6].body().to_vec();
    let outcome = s.verifier().verify_batch(|_| LogHead::EMPTY, |_, _| None, events);
    assert_eq!(outcome.accepted.len(), 6);
    let (at, err) = outcome.rejected.unwrap();
    assert_eq!(at, 6);
    assert!(matches!(err, VerifyError::BadSignature { seq: 7, .. }));
    assert_eq!(outcome.rejected_event.map(SealedEvent::into_body), Some(bad), "the refused event is handed back");
}

#[test]
fn a_long_batch_checked_on_several_threads_keeps_the_same_prefix() {
    let mut s = TestSpace::new(12, &[1, 1]);
    let events: Vec<SealedEvent> = (0..700).map(|i| s.write(0, TestSpace::text(&format!("m{i}")), t(i))).collect();
    let all = s.verifier().verify_batch(|_| LogHead::EMPTY, |_, _| None, events.clone());
    assert_eq!((all.accepted.len(), all.rejected.is_none()), (700, true));
    assert!(all.accepted.iter().enumerate().all(|(n, e)| e.seq() == n as u64 + 1));

    // A bad signature late in the batch (another thread's part than the first).
    let mut late = events.clone();
    late[610] = flip(&late[610], late[610].body().len() - 1);
    let outcome = s.verifier().verify_batch(|_| LogHead::EMPTY, |_, _| None, late);
    assert_eq!(outcome.accepted.len(), 610);
    assert!(matches!(outcome.rejected, Some((610, VerifyError::BadSignature { seq: 611, .. }))));

    // Tampered ciphertext, re-signed so only decryption catches it, before a bad signature.
    let mut both = events;
    let body_len = both[300].body().len();
    let resealed = {
        let tampered = flip(&both[300], body_len - 64 - 5);
        let mut body = tampered.body().to_vec();
        let sig = s.devices[0].key.sign(&tampered.signing_digest(&s.space));
        body[body_len - 64..].copy_from_slice(&sig);
        SealedEvent::decode(tampered.author(), tampered.seq(), body).unwrap()
    };
    both[300] = resealed;
    both[500] = flip(&both[500], body_len - 1);
    let outcome = s.verifier().verify_batch(|_| LogHead::EMPTY, |_, _| None, both);
    assert_eq!(outcome.accepted.len(), 300);
    assert!(matches!(outcome.rejected, Some((300, VerifyError::Decrypt { seq: 301, .. }))));
}

/// The mailbox's check, without the space key: the same rules the envelope shows, the same
/// kept prefix; only what needs the key (the payload) is not its to judge.
#[test]
fn without_the_key_every_rule_the_envelope_shows_still_holds() {
    let mut s = TestSpace::new(13, &[1, 1]);
    let events: Vec<SealedEvent> = (0..10).map(|i| s.write(0, TestSpace::text(&format!("m{i}")), t(i))).collect();
    let blind = crate::Verifier { keys: None, ..s.verifier() };

    let all = blind.verify_sealed_batch(|_| LogHead::EMPTY, |_, _| None, events.clone());
    assert_eq!((all.accepted.len(), all.rejected.is_none()), (10, true));
    for pair in all.accepted.windows(2) {
        assert_eq!(pair[1].0.prev(), pair[0].1, "each event's hash is the next one's prev");
    }
    // The keyed check refuses what it cannot open; the blind one takes it.
    assert!(s.verifier().verify_batch(|_| LogHead::EMPTY, |_, _| None, events.clone()).rejected.is_none());
    let keyless = blind.verify_batch(|_| LogHead::EMPTY, |_, _| None, events.clone());
    assert!(matches!(keyless.rejected, Some((0, VerifyError::KeyNotHeld { .. }))));

    // An altered byte: the prefix before it is kept.
    let mut altered = events.clone();
    altered[4] = flip(&altered[4], altered[4].body().len() - 70);
    let outcome = blind.verify_sealed_batch(|_| LogHead::EMPTY, |_, _| None, altered);
    assert_eq!(outcome.accepted.len(), 4);
    assert!(matches!(outcome.rejected, Some((4, VerifyError::BadSignature { seq: 5, .. }))));

    // A gap, and a stranger's event.
    let outcome = blind.verify_sealed_batch(|_| LogHead::EMPTY, |_, _| None, events[1..].to_vec());
    assert!(matches!(outcome.rejected, Some((0, VerifyError::Gap { expected: 1, got: 2, .. }))));
    let mut stranger = TestSpace::new(14, &[1]);
    let theirs = stranger.write(0, TestSpace::text("let me in"), t(0));
    let outcome = blind.verify_sealed_batch(|_| LogHead::EMPTY, |_, _| None, vec![theirs]);
    assert!(matches!(outcome.rejected, Some((0, VerifyError::UnknownAuthor(_)))));
}

#[test]
fn overhead_of_a_100_character_message() {
    let mut s = TestSpace::new(11, &[1, 1]);
    s.devices[0].head.seq = 1000;
    s.devices[0].max_lamport = 5000;
    let text = "a".repeat(100);
    let e = s.write(0, TestSpace::text(&text), t(0));
    let overhead = e.body().len() - 100;
    assert!(overhead <= 160, "overhead {overhead} bytes");
}

/// Seals a payload without validating it, as a misbehaving peer might.
fn seal_unchecked(s: &mut TestSpace, payload: Payload) -> SealedEvent {
    use duet_crypto::hash_parts;
    let d = &s.devices[0];
    let author = d.key.id();
    let nonce = SpaceKey::random_nonce(&mut s.rng);
    let mut body = vec![crate::FORMAT_VERSION, 1];
    body.extend_from_slice(&[0x80, 0x01]); // timestamp 128
    body.extend_from_slice(&crate::NO_PREV);
    body.extend_from_slice(&nonce);
    let ad = hash_parts(&[b"duet/event-ad/1", &s.space.0, &author.0, &1u64.to_be_bytes(), &body]);
    body.extend_from_slice(&s.key.seal(&nonce, &ad, &payload.encode()));
    let digest = hash_parts(&[b"duet/event/1", &s.space.0, &author.0, &1u64.to_be_bytes(), &body]);
    body.extend_from_slice(&d.key.sign(&digest));
    SealedEvent::decode(author, 1, body).unwrap()
}

#[test]
fn a_clock_impossibly_far_ahead_is_refused_and_a_plausible_one_taken() {
    use crate::verify::{Verifier, MAX_LAMPORT_JUMP};
    let held = 70;
    let mut s = TestSpace::new(12, &[1, 1]);
    // Ben's device saw much that Ada has not: as far ahead as a device can honestly be, and
    // then further still (the bound moves with what is held, also within a batch).
    s.observe(1, held + MAX_LAMPORT_JUMP - 1);
    let plausible = s.write(1, TestSpace::text("I was busy"), t(0));
    assert_eq!(plausible.lamport(), held + MAX_LAMPORT_JUMP);
    s.observe(1, plausible.lamport() + MAX_LAMPORT_JUMP - 1);
    let next = s.write(1, TestSpace::text("and more"), t(1));
    // The same first event, one step further ahead than an honest device can be.
    let mut other = TestSpace::new(12, &[1, 1]);
    other.observe(1, held + MAX_LAMPORT_JUMP);
    let too_far = other.write(1, TestSpace::text("from the future"), t(0));

    let ada = Verifier { max_lamport: held, ..s.verifier() };
    ada.verify(&LogHead::EMPTY, plausible.clone(), |_| None).expect("an honest lead is taken");
    let outcome = ada.verify_batch(|_| LogHead::EMPTY, |_, _| None, vec![plausible, next]);
    assert_eq!(outcome.accepted.len(), 2, "{:?}", outcome.rejected);
    let err = ada.verify(&LogHead::EMPTY, too_far.clone(), |_| None).unwrap_err();
    assert_eq!(
        err,
        VerifyError::LamportTooFar { author: too_far.author(), seq: 1, lamport: held + MAX_LAMPORT_JUMP + 1, held }
    );
    assert!(err.to_string().contains("impossibly far ahead"), "{err}");
    // Unsigned, the same bytes accuse only the device that sent them.
    let forged = flip(&too_far, too_far.body().len() - 1);
    assert!(matches!(ada.verify(&LogHead::EMPTY, forged, |_| None), Err(VerifyError::BadSignature { .. })));
}

#[test]
fn a_clock_at_its_end_is_an_error_not_a_wrap() {
    let mut s = TestSpace::new(13, &[1, 1]);
    s.observe(0, u64::MAX - 1);
    let last = s.write(0, TestSpace::text("the last one"), t(0));
    assert_eq!(last.lamport(), u64::MAX);
    let d = &s.devices[0];
    let next = crate::envelope::NextEvent {
        space: s.space,
        device: &d.key,
        keys: &s.keyring,
        head: d.head,
        max_lamport: d.max_lamport,
        now: t(1),
    };
    let err = next.seal(TestSpace::text("one more"), &mut rand::thread_rng()).unwrap_err();
    assert_eq!(err, crate::envelope::SealError::ClockExhausted);
}

/// One signature per author run (`verify.rs`): a batch is refused exactly as checking every
/// signature would refuse it, whatever is changed in it: any byte of any event, an event left
/// out, two swapped, one repeated, one signed by another device.
mod one_signature_per_run {
    use proptest::prelude::*;

    use super::{t, SealedEvent};
    use crate::envelope::LogHead;
    use crate::testkit::TestSpace;
    use crate::verify::{BatchOutcome, Signatures};

    fn outcome(s: &TestSpace, signatures: Signatures, events: Vec<SealedEvent>) -> BatchOutcome {
        s.verifier().verify_batch_with(signatures, |_| LogHead::EMPTY, |_, _| None, events)
    }

    type Seen = (Vec<duet_crypto::Hash>, usize, Option<(usize, crate::verify::VerifyError)>, Option<Vec<u8>>);

    fn seen(o: BatchOutcome) -> Seen {
        (
            o.accepted.iter().map(|e| e.hash).collect(),
            o.duplicates,
            o.rejected,
            o.rejected_event.map(SealedEvent::into_body),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
        #[test]
        fn a_batch_is_refused_exactly_as_checking_every_signature_would(
            seed in any::<u64>(),
            runs in proptest::collection::vec((0..2usize, 1..6usize), 1..10),
            change in 0..6u8,
            at in any::<prop::sample::Index>(),
            byte in any::<prop::sample::Index>(),
        ) {
            let mut s = TestSpace::new(seed, &[1, 1]);
            let mut events = Vec::new();
            for (d, n) in runs {
                for _ in 0..n {
                    let i = events.len() as u64;
                    events.push(s.write(d, TestSpace::text(&format!("m{i}")), t(i)));
                }
            }
            let k = at.index(events.len());
            match change {
                1 => {
                    let mut body = events[k].body().to_vec();
                    let b = byte.index(body.len());
                    body[b] ^= 0x01;
                    if let Ok(changed) = SealedEvent::decode(events[k].author(), events[k].seq(), body) {
                        events[k] = changed;
                    }
                }
                2 => {
                    events.remove(k);
                }
                3 if k + 1 < events.len() => events.swap(k, k + 1),
                4 => {
                    let again = events[k].clone();
                    events.insert(k + 1, again);
                }
                5 => {
                    // Signed by the other device: a head forged by someone who is not its author.
                    let e = &events[k];
                    let other = if e.author() == s.devices[0].key.id() { 1 } else { 0 };
                    let mut body = e.body().to_vec();
                    let sig = s.devices[other].key.sign(&e.signing_digest(&s.space));
                    let len = body.len();
                    body[len - 64..].copy_from_slice(&sig);
                    events[k] = SealedEvent::decode(e.author(), e.seq(), body).expect("same structure");
                }
                _ => {}
            }
            let fast = seen(outcome(&s, Signatures::RunHeads, events.clone()));
            let every = seen(outcome(&s, Signatures::Every, events));
            prop_assert_eq!(fast, every);
        }
    }

    /// The last event of a run with a signature that does not verify: refused, everything before
    /// it kept (its run head is bad, so every signature is checked and it is the culprit).
    #[test]
    fn a_forged_run_head_is_refused_and_the_run_before_it_kept() {
        let mut s = TestSpace::new(77, &[1, 1]);
        let mut events: Vec<SealedEvent> =
            (0..20).map(|i| s.write(0, TestSpace::text(&format!("m{i}")), t(i))).collect();
        let last = events.len() - 1;
        let mut body = events[last].body().to_vec();
        let len = body.len();
        body[len - 1] ^= 0x80;
        events[last] = SealedEvent::decode(events[last].author(), events[last].seq(), body).unwrap();
        let o = outcome(&s, Signatures::RunHeads, events);
        assert_eq!(o.accepted.len(), 19);
        assert!(matches!(o.rejected, Some((19, crate::verify::VerifyError::BadSignature { seq: 20, .. }))));
    }
}

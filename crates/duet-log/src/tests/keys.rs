//! Key rotation: events sealed with a key shared later name it, open only with it, and wait
//! (not refused as tampered) where it has not arrived; a device's keyring holds what was
//! shared with it and seals with the latest rotation's key.

use duet_crypto::{SpaceKey, WrappedKey};
use duet_model::Timestamp;
use rand::SeedableRng;

use crate::envelope::{LogHead, SealedEvent, FORMAT_VERSION, FORMAT_VERSION_KEYED};
use crate::keyring::Keyring;
use crate::payload::Payload;
use crate::records::{KeyShareMark, Stamp};
use crate::testkit::TestSpace;
use crate::verify::VerifyError;

fn t(ms: u64) -> Timestamp {
    Timestamp(1_700_000_000_000 + ms)
}

/// Verifies `event` as the next after `before` (if any), with `keys`.
fn verify_one(
    s: &TestSpace,
    keys: &Keyring,
    before: Option<&SealedEvent>,
    event: SealedEvent,
) -> Result<Payload, VerifyError> {
    let verifier = crate::Verifier { space: s.space, membership: &s.membership, keys: Some(keys), max_lamport: 0 };
    let head = before.map_or(LogHead::EMPTY, |b| LogHead::after(b, &s.space));
    let outcome = verifier.verify_batch(|_| head, |_, _| None, vec![event]);
    match outcome.rejected {
        Some((_, e)) => Err(e),
        None => Ok(outcome.accepted.into_iter().next().expect("one event").payload),
    }
}

/// A share of `key` sealed to `devices` of `s`, as folded, at Lamport clock `lamport`.
fn share(s: &mut TestSpace, key: &SpaceKey, devices: &[usize], rotation: bool, lamport: u64) -> KeyShareMark {
    let wrapped: Vec<_> = devices
        .iter()
        .map(|d| {
            let x = s.devices[*d].certificate.device_x25519;
            (s.devices[*d].key.id(), WrappedKey::wrap(key, &x, &mut s.rng).encode())
        })
        .collect();
    let mut mark = KeyShareMark::default();
    mark.add(Stamp { lamport, author: s.devices[0].key.id() }, rotation, &wrapped);
    mark
}

#[test]
fn an_event_sealed_with_a_rotated_key_names_it_and_opens_only_with_it() {
    let mut s = TestSpace::new(21, &[2, 1]);
    let first = s.write(0, TestSpace::text("before"), t(0));
    assert_eq!(first.body()[0], FORMAT_VERSION, "a space never rotated keeps format 1");
    assert_eq!(first.key_id(), None);

    let rotated = SpaceKey::generate(&mut s.rng);
    let mark = share(&mut s, &rotated, &[0, 2], true, 5);
    let ring = Keyring::from_shares(s.key.clone(), [(rotated.id(), &mark)], &s.devices[0].key);
    assert_eq!(ring.sealing().0, Some(rotated.id()));
    s.keyring = ring.clone();
    let after = s.write(0, TestSpace::text("after"), t(1));
    assert_eq!(after.body()[0], FORMAT_VERSION_KEYED);
    assert_eq!(after.key_id(), Some(rotated.id()));
    let decoded = SealedEvent::decode(after.author(), after.seq(), after.body().to_vec()).unwrap();
    assert_eq!(decoded.key_id(), Some(rotated.id()), "the key id survives the wire");

    // Ben (2) got the new key: he opens both. The removed laptop (1) did not: the new event
    // waits there, named as such, and is not taken for tampering.
    let ben = Keyring::from_shares(s.key.clone(), [(rotated.id(), &mark)], &s.devices[2].key);
    assert!(verify_one(&s, &ben, None, first.clone()).is_ok());
    assert!(matches!(verify_one(&s, &ben, Some(&first), after.clone()), Ok(Payload::Post { .. })));
    let laptop = Keyring::from_shares(s.key.clone(), [(rotated.id(), &mark)], &s.devices[1].key);
    assert_eq!(laptop.sealing().0, None);
    assert!(verify_one(&s, &laptop, None, first.clone()).is_ok());
    assert!(matches!(verify_one(&s, &laptop, Some(&first), after.clone()), Err(VerifyError::KeyNotHeld { .. })));
    // Nor does the first key open it under any name: its body is sealed with the new key.
    let mut renamed = after.body().to_vec();
    renamed[1..9].copy_from_slice(&s.key.id().0);
    let renamed = SealedEvent::decode(after.author(), after.seq(), renamed).unwrap();
    assert!(verify_one(&s, &laptop, Some(&first), renamed).is_err());
}

#[test]
fn the_latest_rotation_seals_and_a_mislabelled_share_is_ignored() {
    let mut s = TestSpace::new(22, &[1, 1]);
    let (k1, k2, k3) = (SpaceKey::generate(&mut s.rng), SpaceKey::generate(&mut s.rng), SpaceKey::generate(&mut s.rng));
    let (m1, m2) = (share(&mut s, &k1, &[0, 1], true, 10), share(&mut s, &k2, &[0, 1], true, 20));
    // A share of k3 that is not a rotation: it opens old events but never seals.
    let m3 = share(&mut s, &k3, &[1], false, 30);
    // A share claiming to be k1's that carries another key.
    let liar = share(&mut s, &k3, &[1], true, 40);
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
        let shares = [(k1.id(), &m1), (k2.id(), &m2), (k3.id(), &m3)];
        let ring = Keyring::from_shares(s.key.clone(), order.map(|i| shares[i]), &s.devices[1].key);
        assert_eq!(ring.sealing().0, Some(k2.id()), "the latest rotation, whatever the order");
        assert!(ring.get(Some(k3.id())).is_some() && ring.get(None).is_some());
    }
    let ring = Keyring::from_shares(s.key.clone(), [(k1.id(), &liar)], &s.devices[1].key);
    assert!(ring.get(Some(k1.id())).is_none());
    assert_eq!(ring.sealing().0, None);
}

#[test]
fn shares_merge_in_any_order() {
    let mut s = TestSpace::new(23, &[1, 1]);
    let key = SpaceKey::generate(&mut s.rng);
    let a = share(&mut s, &key, &[0], true, 7);
    let b = share(&mut s, &key, &[0, 1], false, 3);
    let (mut ab, mut ba) = (a.clone(), b.clone());
    let entries = |m: &KeyShareMark| m.wrapped.iter().map(|(d, (_, w))| (*d, w.clone())).collect::<Vec<_>>();
    ab.add(Stamp { lamport: 3, author: s.devices[0].key.id() }, false, &entries(&b));
    ba.add(Stamp { lamport: 7, author: s.devices[0].key.id() }, true, &entries(&a));
    assert_eq!(ab, ba);
    assert_eq!(ab.rotated.map(|r| r.lamport), Some(7));
    assert_eq!(ab.wrapped.len(), 2);
}

#[test]
fn a_key_share_crosses_the_wire_and_a_malformed_one_is_refused() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    let s = TestSpace::new(24, &[1, 1]);
    let key = SpaceKey::generate(&mut rng);
    let wrapped = WrappedKey::wrap(&key, &s.devices[1].certificate.device_x25519, &mut rng).encode();
    let payload =
        Payload::KeyShare { key: key.id(), rotation: true, wrapped: vec![(s.devices[1].key.id(), wrapped.clone())] };
    assert_eq!(Payload::decode(&payload.encode()).unwrap(), payload);
    assert!(Payload::KeyShare { key: key.id(), rotation: true, wrapped: vec![] }.validated().is_err());
    let short = vec![(s.devices[1].key.id(), wrapped[..50].to_vec())];
    assert!(Payload::KeyShare { key: key.id(), rotation: false, wrapped: short }.validated().is_err());
    let mut truncated = payload.encode();
    truncated.truncate(truncated.len() - 1);
    assert!(Payload::decode(&truncated).is_err());
}

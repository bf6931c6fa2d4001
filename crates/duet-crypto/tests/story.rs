//! The crate used the way the rest of Duet uses it: a person links a device, a partner checks
//! the certificate, wraps the space key to the device, and the device opens a sealed event.

use duet_crypto::{
    hash, hash_parts, verify, verify_batch, CryptoError, DeviceCertificate, DeviceId, DeviceKey, PersonId, PersonKey,
    Signature, SpaceKey, WrappedKey, HASH_LEN, NONCE_LEN, SIGNATURE_LEN, TAG_LEN,
};
use rand::rngs::StdRng;
use rand::SeedableRng;

#[test]
fn a_linked_device_receives_the_space_key_and_reads_an_event() {
    let mut rng = StdRng::seed_from_u64(2026);

    // Maya links her phone: her person key certifies the phone's keys.
    let maya = PersonKey::generate(&mut rng);
    let phone = DeviceKey::generate(&mut rng);
    let cert = DeviceCertificate::issue(&maya, phone.id(), phone.x25519_public(), "Maya's phone", 1_767_225_600_000)
        .expect("a valid certificate");
    let cert_bytes = cert.encode();

    // Sam's laptop receives the certificate bytes and checks them before trusting the phone.
    let received = DeviceCertificate::decode(&cert_bytes).expect("decodes");
    received.verify().expect("verifies");
    assert_eq!(received.person, PersonId(maya.id().0));
    assert_eq!(received.device, DeviceId(phone.id().0));

    // The laptop wraps the space key to the phone's certified X25519 key.
    let space_key = SpaceKey::generate(&mut rng);
    let wrapped = WrappedKey::wrap(&space_key, &received.device_x25519, &mut rng);
    let wrapped_bytes = wrapped.encode();

    // The laptop seals an event payload and signs header || sealed payload.
    let header = b"duet event header v1";
    let nonce: [u8; NONCE_LEN] = SpaceKey::random_nonce(&mut rng);
    let sealed = space_key.seal(&nonce, header, b"dinner at eight?");
    let laptop = DeviceKey::generate(&mut rng);
    let signature: Signature = laptop.sign(&[&header[..], &sealed].concat());
    let event_id = hash_parts(&[header, &sealed]);
    assert_eq!(event_id, hash(&[&header[..], &sealed].concat()));
    assert_eq!(event_id.len(), HASH_LEN);

    // The phone unwraps the key, checks the signature, and reads the message.
    let unwrapped = WrappedKey::decode(&wrapped_bytes).expect("decodes").unwrap(&phone).expect("unwraps");
    verify(&laptop.id().0, &[&header[..], &sealed].concat(), &signature).expect("signature verifies");
    assert_eq!(unwrapped.open(&nonce, header, &sealed).expect("opens"), b"dinner at eight?");
    assert_eq!(sealed.len(), b"dinner at eight?".len() + TAG_LEN);
    assert_eq!(signature.len(), SIGNATURE_LEN);
}

#[test]
fn a_removed_device_cannot_read_after_rotation() {
    let mut rng = StdRng::seed_from_u64(7);
    let kept = DeviceKey::generate(&mut rng);
    let removed = DeviceKey::generate(&mut rng);

    let new_key = SpaceKey::generate(&mut rng);
    let to_kept = WrappedKey::wrap(&new_key, &kept.x25519_public(), &mut rng);
    assert!(to_kept.unwrap(&kept).is_ok());
    assert_eq!(to_kept.unwrap(&removed).map(|_| ()), Err(CryptoError::DecryptFailed));

    let nonce = SpaceKey::random_nonce(&mut rng);
    let sealed = new_key.seal(&nonce, b"h", b"only for the kept device");
    let old_key = SpaceKey::generate(&mut rng);
    assert_eq!(old_key.open(&nonce, b"h", &sealed), Err(CryptoError::DecryptFailed));
}

#[test]
fn a_batch_of_events_from_two_devices_verifies_together() {
    let mut rng = StdRng::seed_from_u64(9);
    let a = DeviceKey::generate(&mut rng);
    let b = DeviceKey::generate(&mut rng);
    let (ida, idb) = (a.id().0, b.id().0);
    let msgs: [&[u8]; 3] = [b"one", b"two", b"three"];
    let sigs = [a.sign(msgs[0]), b.sign(msgs[1]), a.sign(msgs[2])];
    let items = [(&ida, msgs[0], &sigs[0]), (&idb, msgs[1], &sigs[1]), (&ida, msgs[2], &sigs[2])];
    assert_eq!(verify_batch(&items), Ok(()));
    let forged = [(&ida, msgs[0], &sigs[0]), (&ida, msgs[1], &sigs[1]), (&ida, msgs[2], &sigs[2])];
    assert_eq!(verify_batch(&forged), Err(CryptoError::BadSignature));
}

#[test]
fn errors_read_as_plain_english() {
    assert_eq!(
        CryptoError::DecryptFailed.to_string(),
        "the message could not be decrypted: wrong key or tampered data"
    );
    assert_eq!(
        CryptoError::BadCertificate("the device name is empty").to_string(),
        "the device certificate is not valid: the device name is empty"
    );
    assert_eq!(
        CryptoError::Malformed("a wrapped key has the wrong length").to_string(),
        "the data is malformed: a wrapped key has the wrong length"
    );
}

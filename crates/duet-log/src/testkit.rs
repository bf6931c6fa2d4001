//! Builders for tests and benchmarks: a space with two people and their devices, and each
//! device's log. Deterministic from a seed.

use duet_crypto::{DeviceCertificate, DeviceKey, PersonKey, SpaceKey};
use duet_model::{MessageId, PersonId, SpaceId, Target, Timestamp};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::envelope::{LogHead, NextEvent, SealedEvent};
use crate::keyring::Keyring;
use crate::membership::Membership;
use crate::payload::Payload;
use crate::verify::{OpenedEvent, Verifier};

/// One device and its own log.
pub struct TestDevice {
    pub key: DeviceKey,
    pub person: PersonId,
    pub certificate: DeviceCertificate,
    pub head: LogHead,
    /// The highest Lamport clock this device has seen.
    pub max_lamport: u64,
}

/// A space shared by two people: person 0 ("Ada") and person 1 ("Ben").
pub struct TestSpace {
    pub space: SpaceId,
    pub key: SpaceKey,
    /// The keys events are sealed and opened with: `key` alone unless a test adds more.
    pub keyring: Keyring,
    pub persons: Vec<PersonKey>,
    pub devices: Vec<TestDevice>,
    pub membership: Membership,
    pub rng: StdRng,
}

impl TestSpace {
    /// Two people; `devices_per_person[i]` devices for person i.
    pub fn new(seed: u64, devices_per_person: &[usize]) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let space = SpaceId(rand::Rng::gen(&mut rng));
        let key = SpaceKey::generate(&mut rng);
        let persons: Vec<PersonKey> = devices_per_person.iter().map(|_| PersonKey::generate(&mut rng)).collect();
        let mut membership = Membership::new(space, persons.iter().map(|p| p.id()));
        let mut devices = Vec::new();
        for (p, count) in devices_per_person.iter().enumerate() {
            for n in 0..*count {
                let key = DeviceKey::generate(&mut rng);
                let certificate =
                    DeviceCertificate::issue(&persons[p], key.id(), key.x25519_public(), &format!("device {n}"), 1)
                        .expect("a short device name is valid");
                membership.add_device(certificate.clone()).expect("fresh certificates are valid");
                devices.push(TestDevice {
                    key,
                    person: persons[p].id(),
                    certificate,
                    head: LogHead::EMPTY,
                    max_lamport: 0,
                });
            }
        }
        let keyring = Keyring::new(key.clone());
        Self { space, key, keyring, persons, devices, membership, rng }
    }

    /// Every device's log empty again and the randomness restarted, keeping the keys (key
    /// generation is the slow part of [`TestSpace::new`]).
    pub fn reset(&mut self, seed: u64) {
        for device in &mut self.devices {
            device.head = LogHead::EMPTY;
            device.max_lamport = 0;
        }
        self.rng = StdRng::seed_from_u64(seed);
    }

    /// Device `d` writes its next event.
    pub fn write(&mut self, d: usize, payload: Payload, now: Timestamp) -> SealedEvent {
        // The randomness goes on in a copy while `next` borrows the space; `wrote` keeps it.
        let mut rng = self.rng.clone();
        let (event, _) = self.next(d, now).seal(payload, &mut rng).expect("test payloads are valid");
        self.wrote(d, rng, &event);
        event
    }

    /// What device `d` seals its next event with.
    fn next(&self, d: usize, now: Timestamp) -> NextEvent<'_> {
        let device = &self.devices[d];
        NextEvent {
            space: self.space,
            device: &device.key,
            keys: &self.keyring,
            head: device.head,
            max_lamport: device.max_lamport,
            now,
        }
    }

    /// Device `d` wrote `event` (with `rng`, the space's randomness after it).
    fn wrote(&mut self, d: usize, rng: StdRng, event: &SealedEvent) {
        self.rng = rng;
        let device = &mut self.devices[d];
        device.head = LogHead::after(event, &self.space);
        device.max_lamport = event.lamport();
    }

    /// Device `d` writes `plain` as its next event, unchecked: valid envelope, signature and
    /// seal around whatever bytes (a member device that writes garbage). `None` when even the
    /// envelope cannot be made (the device's clock ran out).
    pub fn write_unchecked(&mut self, d: usize, plain: &[u8], now: Timestamp) -> Option<SealedEvent> {
        let mut rng = self.rng.clone();
        let event = self.next(d, now).seal_unchecked(plain, &mut rng).ok()?;
        self.wrote(d, rng, &event);
        Some(event)
    }

    /// Device `d` has seen events up to this Lamport clock.
    pub fn observe(&mut self, d: usize, lamport: u64) {
        let device = &mut self.devices[d];
        device.max_lamport = device.max_lamport.max(lamport);
    }

    /// A plain text post.
    pub fn text(content: &str) -> Payload {
        Payload::Post {
            target: Target::Direct,
            message_type: Default::default(),
            content: content.to_owned(),
            reply_to: None,
            attachments: vec![],
        }
    }

    /// The id of the message `event` posted.
    pub fn message_id(event: &SealedEvent) -> MessageId {
        MessageId::new(event.timestamp(), &event.author(), event.seq())
    }

    /// A verifier for this space, as a device holding nothing yet sees it.
    pub fn verifier(&self) -> Verifier<'_> {
        Verifier { space: self.space, membership: &self.membership, keys: Some(&self.keyring), max_lamport: 0 }
    }

    /// Verifies and opens events already known to be valid, in log order per author.
    pub fn open_all(&self, events: &[SealedEvent]) -> Vec<OpenedEvent> {
        let outcome = self.verifier().verify_batch(|_| LogHead::EMPTY, |_, _| None, events.to_vec());
        assert!(outcome.rejected.is_none(), "{:?}", outcome.rejected);
        outcome.accepted
    }
}

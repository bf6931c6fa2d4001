//! Who may write to a space: its member people, and the devices their person keys certified.
//!
//! A device is a member while it holds a valid certificate from a member person and has not
//! been revoked. Revocation names the last accepted seq, so whether an event is accepted never
//! depends on the order in which a revocation and the device's events arrive.

use std::collections::{BTreeMap, BTreeSet};

use duet_crypto::DeviceCertificate;
use duet_model::{DeviceId, PersonId, SpaceId};
use thiserror::Error;

/// Why a device could not be added.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MembershipError {
    #[error("the device certificate is not valid")]
    BadCertificate,
    #[error("the device belongs to someone who is not in this space")]
    NotAMember,
    #[error("the device's short tag collides with another member device; generate a new device key")]
    TagCollision,
}

/// One member device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDevice {
    pub certificate: DeviceCertificate,
    /// Set when revoked: events after this seq are refused.
    pub last_seq: Option<u64>,
}

/// The member people and devices of one space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    space: SpaceId,
    persons: BTreeSet<PersonId>,
    devices: BTreeMap<DeviceId, MemberDevice>,
}

impl Membership {
    /// A space with these member people and no devices yet.
    pub fn new(space: SpaceId, persons: impl IntoIterator<Item = PersonId>) -> Self {
        Self { space, persons: persons.into_iter().collect(), devices: BTreeMap::new() }
    }

    pub fn space(&self) -> SpaceId {
        self.space
    }

    /// Adds a member person (the partner, after pairing).
    pub fn add_person(&mut self, person: PersonId) {
        self.persons.insert(person);
    }

    /// Adds a device after checking its certificate. Adding the same certificate twice is fine.
    pub fn add_device(&mut self, certificate: DeviceCertificate) -> Result<(), MembershipError> {
        certificate.verify().map_err(|_| MembershipError::BadCertificate)?;
        if !self.persons.contains(&certificate.person) {
            return Err(MembershipError::NotAMember);
        }
        let tag = certificate.device.tag();
        if self.devices.keys().any(|d| d.tag() == tag && *d != certificate.device) {
            return Err(MembershipError::TagCollision);
        }
        self.devices.entry(certificate.device).or_insert(MemberDevice { certificate, last_seq: None });
        Ok(())
    }

    /// Revokes a device: its events after `last_seq` are refused. The lowest cut-off wins.
    pub fn revoke(&mut self, device: DeviceId, last_seq: u64) {
        if let Some(d) = self.devices.get_mut(&device) {
            d.last_seq = Some(d.last_seq.map_or(last_seq, |s| s.min(last_seq)));
        }
    }

    /// The person a device belongs to, if it is (or was) a member.
    pub fn person_of(&self, device: &DeviceId) -> Option<PersonId> {
        self.devices.get(device).map(|d| d.certificate.person)
    }

    /// The device with this short tag (see [`DeviceId::tag`]).
    pub fn device_by_tag(&self, tag: [u8; 4]) -> Option<DeviceId> {
        self.devices.keys().find(|d| d.tag() == tag).copied()
    }

    pub fn device(&self, device: &DeviceId) -> Option<&MemberDevice> {
        self.devices.get(device)
    }

    pub fn persons(&self) -> impl Iterator<Item = &PersonId> {
        self.persons.iter()
    }

    pub fn devices(&self) -> impl Iterator<Item = (&DeviceId, &MemberDevice)> {
        self.devices.iter()
    }

    /// Whether `person` is a member.
    pub fn has_person(&self, person: &PersonId) -> bool {
        self.persons.contains(person)
    }

    /// The devices of one person.
    pub fn devices_of<'a>(&'a self, person: &'a PersonId) -> impl Iterator<Item = DeviceId> + 'a {
        self.devices.iter().filter(move |(_, d)| d.certificate.person == *person).map(|(id, _)| *id)
    }
}

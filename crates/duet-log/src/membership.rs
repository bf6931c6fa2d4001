//! Who may write to a space: its member people, and the devices their person keys certified.
//!
//! A device is a member while it holds a valid certificate from a member person and has not
//! been revoked. Revocation names the last accepted seq, so whether an event is accepted never
//! depends on the order in which a revocation and the device's events arrive.

use std::collections::{BTreeMap, BTreeSet};

use duet_crypto::DeviceCertificate;
use duet_model::{DeviceId, PersonId, SpaceId};
use thiserror::Error;

/// People in a space: a couple, for good.
pub const MAX_PEOPLE: usize = 2;

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
    /// Whether it changed anything (a device not a member, or cut off as early already: no).
    pub fn revoke(&mut self, device: DeviceId, last_seq: u64) -> bool {
        let Some(d) = self.devices.get_mut(&device) else { return false };
        let before = d.last_seq;
        d.last_seq = Some(before.map_or(last_seq, |s| s.min(last_seq)));
        d.last_seq != before
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

    /// Learns devices from another member device: valid certificates of people already in
    /// the space. Never a person: a second person enters only through the pairing
    /// ([`Membership::partner_joined`]). Whether anything was learned.
    pub fn merge_from_peer(&mut self, certificates: &[DeviceCertificate]) -> bool {
        let before = self.devices.len();
        for certificate in certificates {
            // Refused ones (not a member, bad, a colliding tag) are simply not taken.
            let _ = self.add_device(certificate.clone());
        }
        self.devices.len() != before
    }

    /// A member of the space (`by`, the person whose device wrote the `PartnerJoin` event)
    /// let in a partner with this device certificate: the partner's person and device join,
    /// if the certificate is valid, of another person, and the space has room (two people).
    /// Whether anything changed.
    pub fn partner_joined(&mut self, by: &PersonId, certificate: &DeviceCertificate) -> bool {
        if !self.persons.contains(by) || certificate.person == *by || certificate.verify().is_err() {
            return false;
        }
        if !self.persons.contains(&certificate.person) && self.persons.len() >= MAX_PEOPLE {
            return false;
        }
        let before = (self.persons.len(), self.devices.len());
        self.persons.insert(certificate.person);
        let _ = self.add_device(certificate.clone());
        (self.persons.len(), self.devices.len()) != before
    }

    /// Folds in what `events` say about who is in the space: a `PartnerJoin` lets the partner
    /// in ([`Membership::partner_joined`], `by` the event's person) and a `DeviceRevoke` by the
    /// device's own person removes that device; any other event changes nothing here. The store
    /// folds each batch in as it stores it, in the same write, so a node stopped just after a
    /// batch was stored still knows who is in the space. Whether anything changed.
    pub fn fold_events(&mut self, events: &[crate::OpenedEvent]) -> bool {
        let mut changed = false;
        for e in events {
            match &e.payload {
                crate::Payload::PartnerJoin { certificate } => {
                    if let Ok(certificate) = DeviceCertificate::decode(certificate) {
                        changed |= self.partner_joined(&e.person, &certificate);
                    }
                }
                crate::Payload::DeviceRevoke { device, last_seq } if self.person_of(device) == Some(e.person) => {
                    changed |= self.revoke(*device, *last_seq);
                }
                _ => {}
            }
        }
        changed
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::TestSpace;

    /// Ada, Ben and Carol, one device each; Ada's space knows only Ada.
    fn adas_space() -> (TestSpace, Membership) {
        let s = TestSpace::new(3, &[1, 1, 1]);
        let mut only_ada = Membership::new(s.space, [s.persons[0].id()]);
        only_ada.add_device(s.devices[0].certificate.clone()).unwrap();
        (s, only_ada)
    }

    #[test]
    fn what_another_device_says_never_adds_a_person() {
        let (s, mut m) = adas_space();
        let (ben, carol) = (s.persons[1].id(), s.persons[2].id());
        let (bens, carols) = (s.devices[1].certificate.clone(), s.devices[2].certificate.clone());
        // A device of someone not in the space is not taken, certificate and all.
        assert!(!m.merge_from_peer(std::slice::from_ref(&bens)));
        assert!(!m.merge_from_peer(std::slice::from_ref(&carols)));
        assert!(!m.has_person(&ben) && !m.has_person(&carol) && m.device(&bens.device).is_none());
        // Once Ben is in, his other devices are learned this way.
        assert!(m.partner_joined(&s.persons[0].id(), &bens));
        let mut second = TestSpace::new(4, &[1]);
        let laptop = duet_crypto::DeviceKey::generate(&mut second.rng);
        let bens_laptop =
            DeviceCertificate::issue(&s.persons[1], laptop.id(), laptop.x25519_public(), "laptop", 2).unwrap();
        assert!(m.merge_from_peer(std::slice::from_ref(&bens_laptop)));
        assert_eq!(m.devices_of(&ben).count(), 2);
    }

    #[test]
    fn the_partner_joins_once_by_a_member_and_never_a_third_person() {
        let (s, mut m) = adas_space();
        let (ada, ben, carol) = (s.persons[0].id(), s.persons[1].id(), s.persons[2].id());
        let (bens, carols) = (s.devices[1].certificate.clone(), s.devices[2].certificate.clone());
        // Only a member lets someone in, and not themselves.
        assert!(!m.partner_joined(&ben, &bens));
        assert!(!m.partner_joined(&ada, &s.devices[0].certificate));
        assert!(m.partner_joined(&ada, &bens));
        assert!(m.has_person(&ben) && m.device(&bens.device).is_some());
        // Carol, by Ada or by Ben, is never a third.
        assert!(!m.partner_joined(&ada, &carols));
        assert!(!m.partner_joined(&ben, &carols));
        assert_eq!(m.persons().count(), MAX_PEOPLE);
        assert!(!m.has_person(&carol));
        // Saying it again changes nothing.
        assert!(!m.partner_joined(&ada, &bens));
    }

    #[test]
    fn a_forged_certificate_adds_no_one() {
        let (s, mut m) = adas_space();
        let mut forged = s.devices[1].certificate.clone();
        forged.device_name = "not what Ben signed".into();
        assert!(!m.partner_joined(&s.persons[0].id(), &forged));
        assert!(!m.merge_from_peer(&[forged]));
        assert_eq!(m.persons().count(), 1);
    }
}

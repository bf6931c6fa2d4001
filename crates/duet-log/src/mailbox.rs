//! The couple's blind mailbox, sans I/O: its ticket and the registration on `/duet/mailbox/1`
//! (`docs/protocols.md`, "Mailbox").
//!
//! A mailbox is an always-on node the couple runs themselves. It stores and serves their
//! space's events over `/duet/sync/1` like any member device, but it holds **no key that opens
//! them**: it checks what the envelope shows without the space key (the author is a certified
//! member device, the seq and `prev` chain, the Lamport clock, the signature over the
//! ciphertext; [`crate::Verifier::verify_sealed_batch`]) and keeps the sealed bytes.
//!
//! ```text
//! device                                              mailbox
//!   | ── Register{space, proof, members} ──────────────▶ |  proof = MAC(ticket secret, space, device)
//!   | ◀────────────── Registered | Refused{reason} ───── |  one space per mailbox, for good
//! ```
//!
//! The ticket (`duetbox1…`, printed by `duet mailbox`) names the mailbox's device id, its
//! addresses and a secret. Whoever holds it may register *one* space; after that the mailbox
//! answers only that space's devices (the proof is checked again, and the space must match), so
//! a ticket that leaks later opens nothing: strangers can neither register another space nor
//! store into this one, since every event must be signed by a member device.

use duet_crypto::{hash, mac, mac_eq, Hash};
use duet_model::{DeviceId, SpaceId};
use thiserror::Error;

use crate::codec::{DecodeError, Reader, Writer};
use crate::pairing::{ticket_content, ticket_text, MAX_ADDRESS_CHARS, MAX_TICKET_ADDRESSES};
use crate::sync::{get_members, put_members, Members};

/// What a mailbox ticket starts with.
pub const MAILBOX_TICKET_PREFIX: &str = "duetbox1";

/// Where a couple's mailbox runs, and the secret that registers a space with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxTicket {
    pub device: DeviceId,
    pub addresses: Vec<String>,
    pub secret: [u8; 16],
}

/// Why a mailbox ticket or a registration was refused, in words.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MailboxError {
    #[error("that is not a Duet mailbox ticket (it should start with \"duetbox1\")")]
    NotATicket,
    #[error("the mailbox ticket is mistyped or damaged; copy it again")]
    Damaged,
    #[error("the mailbox refused: {0}")]
    Refused(String),
    #[error("the mailbox message is malformed: {0}")]
    Malformed(#[from] DecodeError),
}

impl MailboxTicket {
    /// One line of text.
    pub fn encode(&self) -> String {
        let mut w = Writer::default();
        w.u8(1); // ticket format version
        w.bytes(&self.device.0);
        w.bytes(&self.secret);
        w.varint(self.addresses.len() as u64);
        for a in &self.addresses {
            w.str(a);
        }
        ticket_text(MAILBOX_TICKET_PREFIX, w.buf)
    }

    /// Reads a ticket (whitespace around it is ignored).
    pub fn decode(text: &str) -> Result<Self, MailboxError> {
        let content = ticket_content(text, MAILBOX_TICKET_PREFIX)
            .ok_or(MailboxError::NotATicket)?
            .ok_or(MailboxError::Damaged)?;
        let mut r = Reader::new(&content);
        if r.u8("the ticket version")? != 1 {
            return Err(MailboxError::Damaged);
        }
        let device = DeviceId(r.array("the mailbox")?);
        let secret = r.array("the secret")?;
        let n = r.bounded(MAX_TICKET_ADDRESSES as u64, "the addresses")? as usize;
        let mut addresses = Vec::with_capacity(n);
        for _ in 0..n {
            addresses.push(r.str(MAX_ADDRESS_CHARS, "an address")?);
        }
        r.finish()?;
        Ok(Self { device, addresses, secret })
    }
}

/// A device's proof that it holds the mailbox ticket's secret.
pub fn registration_proof(secret: &[u8; 16], space: &SpaceId, device: &DeviceId) -> Hash {
    mac(&hash(secret), &[b"duet/mailbox/1", &space.0, &device.0])
}

/// Checks a registration against the mailbox's secret and the space it already serves (if any).
pub fn check_registration(
    secret: &[u8; 16],
    serving: Option<&SpaceId>,
    device: &DeviceId,
    request: &Register,
) -> Result<(), MailboxError> {
    if !mac_eq(&registration_proof(secret, &request.space, device), &request.proof) {
        return Err(MailboxError::Refused("this mailbox ticket is not valid here (wrong or old ticket)".into()));
    }
    match serving {
        Some(space) if *space != request.space => {
            Err(MailboxError::Refused("this mailbox already serves another couple's space".into()))
        }
        _ => Ok(()),
    }
}

/// Device → mailbox: serve this space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    pub space: SpaceId,
    pub proof: Hash,
    /// Who may write: the mailbox accepts events only from these people's certified devices.
    pub members: Members,
}

/// Device → mailbox, on `/duet/mailbox/1`: one request per stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailboxRequest {
    /// Serve this space (first byte 1, the registration's version).
    Register(Register),
    /// How full are you, and did the quota make you drop what a device had not fetched?
    /// (Byte 2; answered to the space's member devices only.)
    Report,
    /// A device of this person was removed (byte 3): take nothing of it after `last_seq`.
    Revoke(Revocation),
}

/// A device's signed word that another device of the same person was removed. The removal
/// itself (`Payload::DeviceRevoke`) travels sealed, so the mailbox cannot read it; this tells
/// it, in the open, what it needs: which device, from which seq on nothing counts. It holds
/// when the signer is a member device of the same person that is not removed itself, the
/// same rule the couple's devices apply to the sealed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub device: DeviceId,
    pub last_seq: u64,
    pub by: DeviceId,
    pub signature: duet_crypto::Signature,
}

impl Revocation {
    /// What is signed: `"duet/mailbox-revoke/1" | space | device | last_seq`.
    pub fn message(space: &SpaceId, device: &DeviceId, last_seq: u64) -> Vec<u8> {
        [b"duet/mailbox-revoke/1".as_slice(), &space.0, &device.0, &last_seq.to_be_bytes()].concat()
    }

    /// `by`'s signature that `device` was removed after `last_seq`.
    pub fn sign(space: &SpaceId, device: DeviceId, last_seq: u64, by: &duet_crypto::DeviceKey) -> Revocation {
        let signature = by.sign(&Self::message(space, &device, last_seq));
        Revocation { device, last_seq, by: by.id(), signature }
    }

    /// Whether it holds in `membership`: signed by a member device of the same person as the
    /// removed one, not removed itself, and not the removed one.
    pub fn check(&self, membership: &crate::Membership) -> Result<(), MailboxError> {
        let refused = |why: &str| Err(MailboxError::Refused(why.into()));
        let (Some(removed), Some(signer)) = (membership.device(&self.device), membership.device(&self.by)) else {
            return refused("a removal of or by a device this mailbox does not know");
        };
        if self.by == self.device
            || signer.last_seq.is_some()
            || signer.certificate.person != removed.certificate.person
        {
            return refused("a removal not signed by another device of the same person");
        }
        let message = Self::message(&membership.space(), &self.device, self.last_seq);
        duet_crypto::verify(&self.by.0, &message, &self.signature)
            .or_else(|_| refused("a removal whose signature does not check out"))
    }
}

/// How full a mailbox is, and what its quota made it drop before every device had it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MailboxReport {
    pub bytes_held: u64,
    pub quota_bytes: u64,
    /// Events dropped to stay under the quota while some device still lacked them, ever.
    pub dropped_undelivered: u64,
    /// When that last happened (ms since 1970).
    pub last_drop: Option<u64>,
}

/// Mailbox → device.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegisterReply {
    Registered,
    Refused {
        reason: String,
    },
    /// The answer to [`MailboxRequest::Report`].
    Report(MailboxReport),
}

impl MailboxRequest {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            MailboxRequest::Register(r) => r.encode(),
            MailboxRequest::Report => vec![2],
            MailboxRequest::Revoke(r) => {
                [&[3u8][..], &r.device.0, &r.last_seq.to_be_bytes(), &r.by.0, &r.signature[..]].concat()
            }
        }
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, MailboxError> {
        match bytes {
            [2] => Ok(MailboxRequest::Report),
            [3, rest @ ..] => {
                let mut r = Reader::new(rest);
                let device = DeviceId(r.array("the removed device")?);
                let last_seq = u64::from_be_bytes(r.array("its last seq")?);
                let by = DeviceId(r.array("the signer")?);
                let signature = r.array("the signature")?;
                r.finish()?;
                Ok(MailboxRequest::Revoke(Revocation { device, last_seq, by, signature }))
            }
            _ => Register::decode(bytes).map(MailboxRequest::Register),
        }
    }
}

impl Register {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(512);
        w.u8(1);
        w.bytes(&self.space.0);
        w.bytes(&self.proof);
        put_members(&mut w, &self.members);
        w.buf
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, MailboxError> {
        let mut r = Reader::new(bytes);
        let version = r.u8("the registration version")?;
        if version != 1 {
            return Err(DecodeError::UnknownTag { what: "registration", tag: version }.into());
        }
        let space = SpaceId(r.array("the space")?);
        let proof = r.array("the proof")?;
        let members = get_members(&mut r)?;
        r.finish()?;
        Ok(Self { space, proof, members })
    }
}

impl RegisterReply {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(64);
        match self {
            RegisterReply::Registered => w.u8(1),
            RegisterReply::Refused { reason } => {
                w.u8(2);
                w.str(reason);
            }
            RegisterReply::Report(report) => {
                w.u8(3);
                w.varint(report.bytes_held);
                w.varint(report.quota_bytes);
                w.varint(report.dropped_undelivered);
                w.varint(report.last_drop.map_or(0, |t| t.saturating_add(1)));
            }
        }
        w.buf
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, MailboxError> {
        let mut r = Reader::new(bytes);
        let reply = match r.u8("a registration reply")? {
            1 => RegisterReply::Registered,
            2 => RegisterReply::Refused { reason: r.str(1024, "a reason")? },
            3 => RegisterReply::Report(MailboxReport {
                bytes_held: r.varint("the bytes held")?,
                quota_bytes: r.varint("the quota")?,
                dropped_undelivered: r.varint("the events dropped")?,
                last_drop: r.varint("the last drop")?.checked_sub(1),
            }),
            tag => return Err(DecodeError::UnknownTag { what: "registration reply", tag }.into()),
        };
        r.finish()?;
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ticket() -> MailboxTicket {
        MailboxTicket {
            device: DeviceId([7; 32]),
            addresses: vec!["/ip4/192.168.1.20/tcp/4002".into(), "/ip4/192.168.1.20/udp/4002/quic-v1".into()],
            secret: [9; 16],
        }
    }

    #[test]
    fn a_removal_holds_only_when_another_device_of_the_same_person_signed_it() {
        use crate::testkit::TestSpace;
        // Ada: devices 0 and 1; Ben: device 2.
        let s = TestSpace::new(4, &[2, 1]);
        let (phone, laptop, ben) = (&s.devices[0], &s.devices[1], &s.devices[2]);
        let good = Revocation::sign(&s.space, laptop.key.id(), 7, &phone.key);
        assert_eq!(good.check(&s.membership), Ok(()));
        let request = MailboxRequest::Revoke(good.clone());
        assert_eq!(MailboxRequest::decode(&request.encode()).unwrap(), request);

        let mut forged = good.clone();
        forged.last_seq = 3; // signed for 7
        assert!(forged.check(&s.membership).is_err());
        assert!(
            Revocation::sign(&s.space, laptop.key.id(), 7, &ben.key).check(&s.membership).is_err(),
            "the partner's"
        );
        assert!(Revocation::sign(&s.space, laptop.key.id(), 7, &laptop.key).check(&s.membership).is_err(), "itself");
        assert!(Revocation::sign(&SpaceId([9; 16]), laptop.key.id(), 7, &phone.key).check(&s.membership).is_err());
        // A removed device cannot remove another.
        let mut m = s.membership.clone();
        m.revoke(phone.key.id(), 1);
        assert!(Revocation::sign(&s.space, laptop.key.id(), 7, &phone.key).check(&m).is_err());
    }

    #[test]
    fn requests_and_reports_round_trip() {
        let register = Register {
            space: SpaceId([3; 16]),
            proof: [4; 32],
            members: Members { persons: vec![], certificates: vec![] },
        };
        for request in [MailboxRequest::Register(register), MailboxRequest::Report] {
            assert_eq!(MailboxRequest::decode(&request.encode()).unwrap(), request);
        }
        for report in [
            MailboxReport::default(),
            MailboxReport { bytes_held: 1 << 30, quota_bytes: 1 << 30, dropped_undelivered: 12, last_drop: Some(0) },
            MailboxReport { bytes_held: 5, quota_bytes: 6, dropped_undelivered: 0, last_drop: Some(u64::MAX - 1) },
        ] {
            let reply = RegisterReply::Report(report);
            assert_eq!(RegisterReply::decode(&reply.encode()).unwrap(), reply);
        }
        assert!(MailboxRequest::decode(&[2, 0]).is_err());
        assert!(RegisterReply::decode(&[3, 1]).is_err());
    }

    #[test]
    fn tickets_round_trip_and_refuse_typos_and_invites() {
        let t = ticket().encode();
        assert!(t.starts_with("duetbox1") && !t.contains(char::is_whitespace));
        assert_eq!(MailboxTicket::decode(&format!(" {t}\n")).unwrap(), ticket());
        let mut typo = t.clone().into_bytes();
        let i = typo.len() / 2;
        typo[i] = if typo[i] == b'a' { b'b' } else { b'a' };
        assert_eq!(MailboxTicket::decode(std::str::from_utf8(&typo).unwrap()), Err(MailboxError::Damaged));
        assert_eq!(MailboxTicket::decode("duet1abc"), Err(MailboxError::NotATicket));
    }

    #[test]
    fn one_space_per_mailbox_and_only_with_the_secret() {
        let (secret, device, space) = ([9; 16], DeviceId([5; 32]), SpaceId([1; 16]));
        let request =
            Register { space, proof: registration_proof(&secret, &space, &device), members: Members::default() };
        assert_eq!(check_registration(&secret, None, &device, &request), Ok(()));
        assert_eq!(check_registration(&secret, Some(&space), &device, &request), Ok(()));
        assert!(check_registration(&secret, Some(&SpaceId([2; 16])), &device, &request).is_err());
        assert!(check_registration(&[1; 16], None, &device, &request).is_err(), "another secret");
        assert!(check_registration(&secret, None, &DeviceId([6; 32]), &request).is_err(), "a proof made for another");
    }

    #[test]
    fn messages_round_trip() {
        let r = Register {
            space: SpaceId([1; 16]),
            proof: [2; 32],
            members: Members { persons: vec![duet_model::PersonId([3; 32])], certificates: vec![vec![4; 170]] },
        };
        assert_eq!(Register::decode(&r.encode()).unwrap(), r);
        for reply in [RegisterReply::Registered, RegisterReply::Refused { reason: "no".into() }] {
            assert_eq!(RegisterReply::decode(&reply.encode()).unwrap(), reply);
        }
    }

    proptest! {
        #[test]
        fn garbage_never_panics(s in "\\PC{0,300}", bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = MailboxTicket::decode(&s);
            let _ = MailboxTicket::decode(&format!("duetbox1{s}"));
            let _ = Register::decode(&bytes);
            let _ = RegisterReply::decode(&bytes);
        }
    }
}

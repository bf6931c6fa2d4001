//! Pairing `/duet/pair/1` (`docs/protocols.md`, "Pairing"), sans I/O: the invite ticket and the two messages.
//!
//! ```text
//! inviter                                      joiner
//!   prints a ticket: inviter id, addresses, space, one-time secret, expiry
//!                                  (the joiner types or scans it, dials the inviter)
//!   | ◀── JoinRequest{proof, x25519 key, certificate | device name} ── |
//!   |   checks: invite known, unused, unexpired, proof = MAC(secret, space · joiner device)
//!   | ── Welcome{space, members, wrapped space key, certificate?} ───▶ |   or Refused{reason}
//! ```
//!
//! The proof binds the joiner's device id, which the Noise handshake has authenticated, so
//! an eavesdropper cannot replay it from another device. Partner invites bring in a new person
//! (the joiner sends a certificate its own person key issued); device invites link another
//! device of the inviter's person (the inviter issues the certificate).

use duet_crypto::{hash, mac, mac_eq, Hash};
use duet_model::{DeviceId, Invite, InviteKind, SpaceId, Timestamp};
use thiserror::Error;

use crate::codec::{DecodeError, Reader, Writer};
use crate::sync::Members;

/// How a ticket starts; the rest is lowercase base32.
pub const TICKET_PREFIX: &str = "duet1";
/// Addresses in one ticket.
pub const MAX_TICKET_ADDRESSES: usize = 8;
/// Characters of one address.
pub const MAX_ADDRESS_CHARS: usize = 200;
/// A ticket's default lifetime: one day.
pub const DEFAULT_TICKET_LIFETIME_MS: u64 = 24 * 60 * 60 * 1000;

/// Why a ticket or a join was refused, in words for the person holding the ticket.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PairError {
    #[error("that is not a Duet invite (it should start with \"duet1\")")]
    NotATicket,
    #[error("the invite is mistyped or damaged; copy it again")]
    Damaged,
    #[error("this invite expired; ask for a new one")]
    Expired,
    #[error("this invite was already used; ask for a new one")]
    AlreadyUsed,
    #[error("this invite was cancelled; ask for a new one")]
    Cancelled,
    /// A partner invite made before the partner joined with another one.
    #[error("this invite no longer works: the person who made it is already paired with their partner")]
    SpaceFull,
    #[error("this invite is not valid here (wrong or unknown invite)")]
    WrongTicket,
    #[error("the other device refused: {0}")]
    Refused(String),
    #[error("the pairing message is malformed: {0}")]
    Malformed(#[from] DecodeError),
}

/// Writes an invite as one line of text.
pub fn encode_ticket(invite: &Invite) -> String {
    let mut w = Writer::default();
    w.u8(1); // ticket format version
    w.u8(match invite.kind {
        InviteKind::Partner => 0,
        InviteKind::OwnDevice => 1,
    });
    w.bytes(&invite.inviter.0);
    w.bytes(&invite.space.0);
    w.bytes(&invite.secret);
    w.varint(invite.expires_at.0);
    w.varint(invite.addresses.len() as u64);
    for a in &invite.addresses {
        w.str(a);
    }
    ticket_text(TICKET_PREFIX, w.buf)
}

/// A ticket's one line of text: `prefix`, then base32 of `content` and the first 4 bytes of
/// its BLAKE3 (so a mistyped ticket is caught before anything is tried).
pub(crate) fn ticket_text(prefix: &str, mut content: Vec<u8>) -> String {
    let check = hash(&content);
    content.extend_from_slice(&check[..4]);
    format!("{prefix}{}", base32_encode(&content))
}

/// What [`ticket_text`] wrote: `None` when the text does not start with `prefix` (whitespace
/// around it is ignored), `Some(None)` when the rest is damaged.
pub(crate) fn ticket_content(text: &str, prefix: &str) -> Option<Option<Vec<u8>>> {
    let body = text.trim().strip_prefix(prefix)?;
    if body.len() > 4096 {
        return Some(None);
    }
    let Some(mut bytes) = base32_decode(body).filter(|b| b.len() >= 4) else { return Some(None) };
    let check = bytes.split_off(bytes.len() - 4);
    Some((hash(&bytes)[..4] == *check).then_some(bytes))
}

/// Reads a ticket (whitespace around it is ignored).
pub fn decode_ticket(text: &str) -> Result<Invite, PairError> {
    let content = ticket_content(text, TICKET_PREFIX).ok_or(PairError::NotATicket)?.ok_or(PairError::Damaged)?;
    let mut r = Reader::new(&content);
    if r.u8("the ticket version")? != 1 {
        return Err(PairError::Damaged);
    }
    let kind = match r.u8("the ticket kind")? {
        0 => InviteKind::Partner,
        1 => InviteKind::OwnDevice,
        _ => return Err(PairError::Damaged),
    };
    let inviter = DeviceId(r.array("the inviter")?);
    let space = SpaceId(r.array("the space")?);
    let secret = r.array("the secret")?;
    let expires_at = Timestamp(r.varint("the expiry")?);
    let n = r.bounded(MAX_TICKET_ADDRESSES as u64, "the addresses")? as usize;
    let mut addresses = Vec::with_capacity(n);
    for _ in 0..n {
        addresses.push(r.str(MAX_ADDRESS_CHARS, "an address")?);
    }
    r.finish()?;
    Ok(Invite { space, kind, inviter, addresses, secret, expires_at })
}

/// The joiner's proof that it holds the ticket's secret.
pub fn proof(secret: &[u8; 16], space: &SpaceId, joiner: &DeviceId) -> Hash {
    mac(&hash(secret), &[b"duet/pair/1", &space.0, &joiner.0])
}

/// The inviter's check of a join request against an invite.
pub fn check_join(
    invite: &Invite,
    used: bool,
    now: Timestamp,
    joiner: &DeviceId,
    proof_given: &Hash,
) -> Result<(), PairError> {
    if !mac_eq(&proof(&invite.secret, &invite.space, joiner), proof_given) {
        return Err(PairError::WrongTicket);
    }
    if used {
        return Err(PairError::AlreadyUsed);
    }
    if now > invite.expires_at {
        return Err(PairError::Expired);
    }
    Ok(())
}

/// What the joiner sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequest {
    pub space: SpaceId,
    pub proof: Hash,
    pub device_x25519: [u8; 32],
    /// Partner invite: the joiner's device certificate, issued by the joiner's person key.
    pub certificate: Option<Vec<u8>>,
    /// Device invite: the name for the new device's certificate.
    pub device_name: String,
}

/// What the inviter answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinResponse {
    Welcome {
        space: SpaceId,
        members: Members,
        /// `duet_crypto::WrappedKey` bytes: the space key, sealed to the joiner's X25519 key.
        wrapped_key: Vec<u8>,
        /// Device invite: the certificate the inviter's person key issued for the joiner.
        certificate: Option<Vec<u8>>,
        /// The space's later keys (after key rotations), each sealed to the joiner like
        /// `wrapped_key`: events sealed with them are in the history it is about to sync.
        /// Sent only when there are some, so a space never rotated keeps the answer it had.
        later_keys: Vec<Vec<u8>>,
    },
    Refused {
        reason: String,
    },
}

impl JoinRequest {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes(&self.space.0);
        w.bytes(&self.proof);
        w.bytes(&self.device_x25519);
        w.opt(self.certificate.as_deref(), |w, c| {
            w.varint(c.len() as u64);
            w.bytes(c)
        });
        w.str(&self.device_name);
        w.buf
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, PairError> {
        let mut r = Reader::new(bytes);
        let req = JoinRequest {
            space: SpaceId(r.array("the space")?),
            proof: r.array("the proof")?,
            device_x25519: r.array("a key")?,
            certificate: r.opt("a certificate", |r| {
                let len = r.bounded(1024, "a certificate")? as usize;
                Ok(r.take(len, "a certificate")?.to_vec())
            })?,
            device_name: r.str(256, "a device name")?,
        };
        r.finish()?;
        Ok(req)
    }
}

impl JoinResponse {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        match self {
            JoinResponse::Welcome { space, members, wrapped_key, certificate, later_keys } => {
                w.u8(1);
                w.bytes(&space.0);
                let m = crate::sync::SyncMessage::Members(members.clone()).encode();
                w.varint(m.len() as u64);
                w.bytes(&m);
                w.varint(wrapped_key.len() as u64);
                w.bytes(wrapped_key);
                w.opt(certificate.as_deref(), |w, c| {
                    w.varint(c.len() as u64);
                    w.bytes(c)
                });
                if !later_keys.is_empty() {
                    w.varint(later_keys.len() as u64);
                    for k in later_keys {
                        w.varint(k.len() as u64);
                        w.bytes(k);
                    }
                }
            }
            JoinResponse::Refused { reason } => {
                w.u8(2);
                w.str(reason);
            }
        }
        w.buf
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, PairError> {
        let mut r = Reader::new(bytes);
        let resp = match r.u8("a pairing answer")? {
            1 => {
                let space = SpaceId(r.array("the space")?);
                let len = r.bounded(256 * 1024, "the members")? as usize;
                let members = match crate::sync::SyncMessage::decode(r.take(len, "the members")?)? {
                    crate::sync::SyncMessage::Members(m) => m,
                    _ => return Err(DecodeError::UnknownTag { what: "members", tag: 0 }.into()),
                };
                let len = r.bounded(256, "a wrapped key")? as usize;
                let wrapped_key = r.take(len, "a wrapped key")?.to_vec();
                let certificate = r.opt("a certificate", |r| {
                    let len = r.bounded(1024, "a certificate")? as usize;
                    Ok(r.take(len, "a certificate")?.to_vec())
                })?;
                let mut later_keys = Vec::new();
                if r.remaining() > 0 {
                    let count = r.bounded(MAX_LATER_KEYS as u64, "the later keys")? as usize;
                    for _ in 0..count {
                        let len = r.bounded(256, "a wrapped key")? as usize;
                        later_keys.push(r.take(len, "a wrapped key")?.to_vec());
                    }
                }
                JoinResponse::Welcome { space, members, wrapped_key, certificate, later_keys }
            }
            2 => JoinResponse::Refused { reason: r.str(1024, "a reason")? },
            tag => return Err(DecodeError::UnknownTag { what: "pairing answer", tag }.into()),
        };
        r.finish()?;
        Ok(resp)
    }
}

/// Most later keys a welcome carries (one per key rotation, that is per device removed).
pub const MAX_LATER_KEYS: usize = 64;

const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|a| *a == c.to_ascii_lowercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
        buf &= (1 << bits) - 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn invite() -> Invite {
        Invite {
            space: SpaceId([3; 16]),
            kind: InviteKind::Partner,
            inviter: DeviceId([7; 32]),
            addresses: vec!["/ip4/127.0.0.1/tcp/4001".into(), "/ip4/127.0.0.1/udp/4001/quic-v1".into()],
            secret: [9; 16],
            expires_at: Timestamp(1_800_000_000_000),
        }
    }

    #[test]
    fn tickets_round_trip_and_refuse_typos() {
        let t = encode_ticket(&invite());
        assert!(t.starts_with("duet1"));
        assert!(!t.contains(char::is_whitespace));
        assert_eq!(decode_ticket(&format!("  {t}\n")).unwrap(), invite());
        let mut typo = t.clone().into_bytes();
        let i = typo.len() / 2;
        typo[i] = if typo[i] == b'a' { b'b' } else { b'a' };
        assert_eq!(decode_ticket(std::str::from_utf8(&typo).unwrap()), Err(PairError::Damaged));
        assert_eq!(decode_ticket("hello"), Err(PairError::NotATicket));
        assert_eq!(decode_ticket("duet1!!!"), Err(PairError::Damaged));
    }

    #[test]
    fn joins_are_checked() {
        let inv = invite();
        let joiner = DeviceId([5; 32]);
        let p = proof(&inv.secret, &inv.space, &joiner);
        let now = Timestamp(1_700_000_000_000);
        assert_eq!(check_join(&inv, false, now, &joiner, &p), Ok(()));
        assert_eq!(check_join(&inv, true, now, &joiner, &p), Err(PairError::AlreadyUsed));
        assert_eq!(check_join(&inv, false, Timestamp(1_900_000_000_000), &joiner, &p), Err(PairError::Expired));
        assert_eq!(check_join(&inv, false, now, &DeviceId([6; 32]), &p), Err(PairError::WrongTicket));
        let wrong = proof(&[1; 16], &inv.space, &joiner);
        assert_eq!(check_join(&inv, false, now, &joiner, &wrong), Err(PairError::WrongTicket));
    }

    #[test]
    fn messages_round_trip() {
        let req = JoinRequest {
            space: SpaceId([1; 16]),
            proof: [2; 32],
            device_x25519: [3; 32],
            certificate: Some(vec![4; 180]),
            device_name: "laptop".into(),
        };
        assert_eq!(JoinRequest::decode(&req.encode()).unwrap(), req);
        let resp = JoinResponse::Welcome {
            space: SpaceId([1; 16]),
            members: Members { persons: vec![duet_model::PersonId([8; 32])], certificates: vec![vec![1; 170]] },
            wrapped_key: vec![5; 105],
            certificate: None,
            later_keys: vec![],
        };
        assert_eq!(JoinResponse::decode(&resp.encode()).unwrap(), resp);
        let resp = JoinResponse::Welcome {
            space: SpaceId([1; 16]),
            members: Members::default(),
            wrapped_key: vec![5; 105],
            certificate: Some(vec![3; 170]),
            later_keys: vec![vec![6; 105], vec![7; 105]],
        };
        assert_eq!(JoinResponse::decode(&resp.encode()).unwrap(), resp);
    }

    proptest! {
        #[test]
        fn garbage_never_panics(s in "\\PC{0,300}", bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode_ticket(&s);
            let _ = decode_ticket(&format!("duet1{s}"));
            let _ = JoinRequest::decode(&bytes);
            let _ = JoinResponse::decode(&bytes);
        }

        #[test]
        fn base32_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(base32_decode(&base32_encode(&bytes)).unwrap(), bytes);
        }
    }
}

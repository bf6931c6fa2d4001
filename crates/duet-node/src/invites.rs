//! The invites this device made, and where each stands: open, used (and by which device),
//! cancelled, or superseded. `pairing.rs` makes and answers them; this module keeps the book.
//!
//! - A join request names its invite by its proof. An open invite becomes *used* by the
//!   joining device before the welcome is sent (the joiner may sync from then on). The welcome
//!   can be lost on the way, so the same device may use the same invite again and is welcomed
//!   again, until it has synced here as a member (*confirmed*); anyone else hears that the
//!   invite was used.
//! - The invites can be listed ([`Node::invites`]) and cancelled ([`Node::cancel_invite`]) by
//!   an id derived from the secret (the secret itself is never shown again).
//! - `/duet/pair/1` answers only while an invite is open, or used by a joiner not confirmed
//!   yet ([`pairing_wanted`]); otherwise the network refuses the protocol.

use duet_log::pairing::PairError;
use duet_model::{DeviceId, Invite, InviteKind, InviteRecord, InviteState, SpaceId, Timestamp};
use serde::Serialize;

use std::sync::Mutex;

use duet_store::Store;

use crate::{lock, now, Node, NodeError};

/// An invite as front ends list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InviteInfo {
    /// What `cancel_invite` takes (12 hex digits; see [`invite_id`]).
    pub id: String,
    pub kind: InviteKind,
    pub expires_at: Timestamp,
    pub state: InviteStatus,
    /// The device that used it.
    pub joiner: Option<DeviceId>,
}

/// Where a listed invite stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InviteStatus {
    /// Waiting to be used.
    Open,
    /// Used; its joiner has not synced yet and may use it again (a lost welcome).
    Used,
    /// Used, and its joiner is in.
    Done,
    Cancelled,
    /// A partner invite that stopped working when the partner joined with another one.
    Superseded,
}

/// An invite's id: the first 6 bytes, in hex, of a hash of its secret. Shown with the
/// invite so that it can be cancelled; it tells nothing of the secret.
pub fn invite_id(invite: &Invite) -> String {
    let digest = duet_crypto::hash_parts(&[b"duet/invite-id/1", &invite.secret]);
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// The id of the invite a ticket carries (see [`invite_id`]).
pub fn ticket_id(ticket: &str) -> Result<String, NodeError> {
    Ok(invite_id(&duet_log::pairing::decode_ticket(ticket)?))
}

/// Whom a ticket invites: a partner, or another device of the inviter's person.
pub fn ticket_kind(ticket: &str) -> Result<InviteKind, NodeError> {
    Ok(duet_log::pairing::decode_ticket(ticket.trim())?.kind)
}

/// Whether `/duet/pair/1` should answer: an invite is open, or used by a joiner that may
/// still come back for its welcome.
pub(crate) fn pairing_wanted(records: &[InviteRecord], at: Timestamp) -> bool {
    records.iter().any(|r| {
        r.invite.expires_at >= at && matches!(r.state, InviteState::Open | InviteState::Used { confirmed: false, .. })
    })
}

/// The invite a join request's proof answers for `joiner`, and whether the joiner used it
/// already (and comes back for a welcome it did not get). Refused in words otherwise.
pub(crate) fn find_for_join(
    records: &[InviteRecord],
    space: &SpaceId,
    joiner: &DeviceId,
    proof: &duet_crypto::Hash,
    at: Timestamp,
) -> Result<(usize, bool), PairError> {
    let found = records.iter().position(|r| {
        r.invite.space == *space && duet_log::pairing::check_join(&r.invite, false, Timestamp(0), joiner, proof).is_ok()
    });
    let Some(i) = found else { return Err(PairError::WrongTicket) };
    let record = &records[i];
    let again = match record.state {
        InviteState::Open => false,
        InviteState::Used { joiner: j, .. } if j == *joiner => true,
        InviteState::Used { .. } => return Err(PairError::AlreadyUsed),
        InviteState::Cancelled => return Err(PairError::Cancelled),
        InviteState::Superseded => return Err(PairError::SpaceFull),
    };
    duet_log::pairing::check_join(&record.invite, false, at, joiner, proof)?;
    Ok((i, again))
}

impl From<&InviteRecord> for InviteInfo {
    fn from(r: &InviteRecord) -> Self {
        let (state, joiner) = match r.state {
            InviteState::Open => (InviteStatus::Open, None),
            InviteState::Used { joiner, confirmed: false } => (InviteStatus::Used, Some(joiner)),
            InviteState::Used { joiner, confirmed: true } => (InviteStatus::Done, Some(joiner)),
            InviteState::Cancelled => (InviteStatus::Cancelled, None),
            InviteState::Superseded => (InviteStatus::Superseded, None),
        };
        InviteInfo { id: invite_id(&r.invite), kind: r.invite.kind, expires_at: r.invite.expires_at, state, joiner }
    }
}

/// The invites this device made, kept in the store: the book's one owner. Every change is
/// kept before the call returns.
#[derive(Default)]
pub(crate) struct InviteBook {
    records: Mutex<Vec<InviteRecord>>,
}

impl InviteBook {
    /// The invites kept in `store` that have not expired at `at`.
    pub(crate) fn load(store: &Store, at: Timestamp) -> Result<Self, NodeError> {
        let kept = store.invites()?.into_iter().filter(|r| r.invite.expires_at >= at).collect();
        Ok(Self { records: Mutex::new(kept) })
    }

    /// A new open invite.
    pub(crate) fn add(&self, store: &Store, invite: Invite) -> Result<(), NodeError> {
        let mut records = lock(&self.records);
        records.push(InviteRecord { invite, state: InviteState::Open });
        store.save_invites(&records)?;
        Ok(())
    }

    /// The invites that have not expired at `at`, oldest first.
    pub(crate) fn list(&self, at: Timestamp) -> Vec<InviteInfo> {
        lock(&self.records).iter().filter(|r| r.invite.expires_at >= at).map(InviteInfo::from).collect()
    }

    /// Forgets invites expired at `at`; whether any was.
    pub(crate) fn forget_expired(&self, store: &Store, at: Timestamp) -> bool {
        let mut records = lock(&self.records);
        let had = records.len();
        records.retain(|r| r.invite.expires_at >= at);
        if records.len() == had {
            return false;
        }
        if let Err(e) = store.save_invites(&records) {
            tracing::warn!("could not forget expired invites: {e}");
        }
        true
    }

    /// Cancels the open invite `id` (cancelling one twice is fine; a used one cannot be).
    pub(crate) fn cancel(&self, store: &Store, id: &str) -> Result<InviteInfo, NodeError> {
        let mut records = lock(&self.records);
        let record = records
            .iter_mut()
            .find(|r| invite_id(&r.invite) == id)
            .ok_or_else(|| NodeError::NotFound(format!("there is no invite {id} here (`duet invites` lists them)")))?;
        match record.state {
            InviteState::Open => record.state = InviteState::Cancelled,
            InviteState::Cancelled | InviteState::Superseded => {}
            InviteState::Used { .. } => {
                return Err(NodeError::NotAllowed(
                    "that invite was already used: the device that used it is in, and cancelling cannot undo that"
                        .into(),
                ))
            }
        }
        let info = InviteInfo::from(&*record);
        store.save_invites(&records)?;
        Ok(info)
    }

    /// Whether `/duet/pair/1` should answer now ([`pairing_wanted`]).
    pub(crate) fn pairing_wanted(&self, at: Timestamp) -> bool {
        pairing_wanted(&lock(&self.records), at)
    }

    /// Whether `device` used an invite and has not synced since (its welcome may be lost).
    pub(crate) fn awaiting_welcome(&self, device: &DeviceId) -> bool {
        lock(&self.records)
            .iter()
            .any(|r| matches!(r.state, InviteState::Used { joiner, confirmed: false } if joiner == *device))
    }

    /// `device` synced as a member: an invite it used is done. Whether one was waiting for it.
    pub(crate) fn heard(&self, store: &Store, device: &DeviceId) -> bool {
        let mut records = lock(&self.records);
        let mut changed = false;
        for r in records.iter_mut() {
            if let InviteState::Used { joiner, confirmed: false } = r.state {
                if joiner == *device {
                    r.state = InviteState::Used { joiner, confirmed: true };
                    changed = true;
                }
            }
        }
        if changed {
            if let Err(e) = store.save_invites(&records) {
                tracing::warn!("could not keep that an invite is done: {e}");
            }
        }
        changed
    }

    /// Uses the invite a join request proves for `joiner`: finds it ([`find_for_join`]), lets
    /// `admit` check the request and keep the new member (it is told the invite's kind and
    /// whether the joiner comes back for a lost welcome), then keeps the invite used. Once a
    /// partner is in, the other open partner invites are superseded. Nobody else uses an
    /// invite meanwhile; nothing changes when `admit` refuses.
    pub(crate) fn use_for_join<T>(
        &self,
        store: &Store,
        space: &SpaceId,
        joiner: &DeviceId,
        proof: &duet_crypto::Hash,
        at: Timestamp,
        admit: impl FnOnce(InviteKind, bool) -> Result<T, NodeError>,
    ) -> Result<(T, bool), NodeError> {
        let mut records = lock(&self.records);
        let (i, again) = find_for_join(&records, space, joiner, proof, at)?;
        let kind = records[i].invite.kind;
        let admitted = admit(kind, again)?;
        // Used for good, even if this device restarts; the joiner may come back for its
        // welcome until it has synced here (`heard`).
        records[i].state = InviteState::Used { joiner: *joiner, confirmed: false };
        // A space has two people for good: once the partner is in, the other partner invites
        // stop working, and whoever holds one hears why.
        if kind == InviteKind::Partner {
            for r in records.iter_mut() {
                if r.invite.kind == InviteKind::Partner && r.state == InviteState::Open {
                    r.state = InviteState::Superseded;
                }
            }
        }
        store.save_invites(&records)?;
        Ok((admitted, again))
    }
}

impl Node {
    /// The invites this device made that have not expired, oldest first.
    pub fn invites(&self) -> Vec<InviteInfo> {
        self.shared.invites.list(now())
    }

    /// Takes back an invite that was not used (`id` as [`Node::invites`] lists it): whoever
    /// holds its ticket is told it was cancelled. Cancelling one twice is fine.
    pub async fn cancel_invite(&self, id: &str) -> Result<InviteInfo, NodeError> {
        let info = self.shared.invites.cancel(&self.shared.store, &id.trim().to_ascii_lowercase())?;
        self.refresh_pairing().await?;
        Ok(info)
    }

    /// Opens or closes `/duet/pair/1` as the invites want it ([`pairing_wanted`]).
    pub(crate) async fn refresh_pairing(&self) -> Result<(), NodeError> {
        let wanted = self.shared.invites.pairing_wanted(now());
        Ok(self.shared.net.set_pairing_open(wanted).await?)
    }

    /// Whether `device` used an invite of mine and has not synced since: its welcome may have
    /// been lost, so nothing is pushed to it yet (it would refuse my streams by cutting the
    /// connection, its pair stream with it) until it opens one of its own.
    pub(crate) fn awaiting_welcome(&self, device: &DeviceId) -> bool {
        self.shared.invites.awaiting_welcome(device)
    }

    /// A member device opened a stream here: if it is a joiner that had not synced yet, it got
    /// its welcome. Its invite is done, and pairing closes if nothing else is open.
    pub(crate) async fn joiner_heard(&self, device: &DeviceId) {
        if self.shared.invites.heard(&self.shared.store, device) {
            if let Err(e) = self.refresh_pairing().await {
                tracing::warn!("could not close pairing: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(secret: u8, state: InviteState) -> InviteRecord {
        InviteRecord {
            invite: Invite {
                space: SpaceId([1; 16]),
                kind: InviteKind::Partner,
                inviter: DeviceId([2; 32]),
                addresses: vec![],
                secret: [secret; 16],
                expires_at: Timestamp(1_000),
            },
            state,
        }
    }

    fn proof(secret: u8, joiner: &DeviceId) -> duet_crypto::Hash {
        duet_log::pairing::proof(&[secret; 16], &SpaceId([1; 16]), joiner)
    }

    #[test]
    fn a_used_invite_is_the_same_joiners_again_and_nobody_elses() {
        let (ben, carol) = (DeviceId([3; 32]), DeviceId([4; 32]));
        let records = vec![record(1, InviteState::Open), record(2, InviteState::Used { joiner: ben, confirmed: true })];
        let space = SpaceId([1; 16]);
        assert_eq!(find_for_join(&records, &space, &ben, &proof(1, &ben), Timestamp(10)), Ok((0, false)));
        assert_eq!(find_for_join(&records, &space, &ben, &proof(2, &ben), Timestamp(10)), Ok((1, true)));
        assert_eq!(
            find_for_join(&records, &space, &carol, &proof(2, &carol), Timestamp(10)),
            Err(PairError::AlreadyUsed)
        );
        assert_eq!(
            find_for_join(&records, &space, &carol, &proof(9, &carol), Timestamp(10)),
            Err(PairError::WrongTicket)
        );
        assert_eq!(find_for_join(&records, &space, &ben, &proof(1, &ben), Timestamp(2_000)), Err(PairError::Expired));
        let cancelled = vec![record(1, InviteState::Cancelled), record(2, InviteState::Superseded)];
        assert_eq!(find_for_join(&cancelled, &space, &ben, &proof(1, &ben), Timestamp(10)), Err(PairError::Cancelled));
        assert_eq!(find_for_join(&cancelled, &space, &ben, &proof(2, &ben), Timestamp(10)), Err(PairError::SpaceFull));
    }

    #[test]
    fn pairing_answers_while_an_invite_is_open_or_awaits_its_joiner() {
        let ben = DeviceId([3; 32]);
        let at = Timestamp(10);
        assert!(!pairing_wanted(&[], at));
        assert!(pairing_wanted(&[record(1, InviteState::Open)], at));
        assert!(!pairing_wanted(&[record(1, InviteState::Open)], Timestamp(1_001)), "expired");
        assert!(pairing_wanted(&[record(1, InviteState::Used { joiner: ben, confirmed: false })], at));
        let done = [
            record(1, InviteState::Used { joiner: ben, confirmed: true }),
            record(2, InviteState::Cancelled),
            record(3, InviteState::Superseded),
        ];
        assert!(!pairing_wanted(&done, at));
    }

    #[test]
    fn an_invite_id_is_short_and_tells_nothing_of_the_secret() {
        let r = record(7, InviteState::Open);
        let id = invite_id(&r.invite);
        assert_eq!(id.len(), 12);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(!id.contains("0707"), "not the secret's bytes");
        assert_ne!(id, invite_id(&record(8, InviteState::Open).invite));
    }

    #[test]
    fn the_book_keeps_every_change_and_a_partner_joining_supersedes_the_other_partner_invites() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &duet_crypto::DataKey::from_bytes([5; 32])).unwrap();
        let book = InviteBook::load(&store, Timestamp(10)).unwrap();
        for secret in [1, 2, 3] {
            book.add(&store, record(secret, InviteState::Open).invite).unwrap();
        }
        let (space, ben, carol) = (SpaceId([1; 16]), DeviceId([3; 32]), DeviceId([4; 32]));

        // A refusal while admitting uses nothing up.
        let refused: Result<((), bool), NodeError> =
            book.use_for_join(&store, &space, &ben, &proof(1, &ben), Timestamp(10), |_, _| {
                Err(PairError::Refused("bad certificate".into()).into())
            });
        assert!(refused.is_err());
        assert!(book.list(Timestamp(10)).iter().all(|i| i.state == InviteStatus::Open));

        // Ben joins with the first: it is his, and the other two stop working.
        let ((), again) = book
            .use_for_join(&store, &space, &ben, &proof(1, &ben), Timestamp(10), |kind, again| {
                assert_eq!((kind, again), (InviteKind::Partner, false));
                Ok(())
            })
            .unwrap();
        assert!(!again);
        assert!(book.awaiting_welcome(&ben));
        let kept = InviteBook::load(&store, Timestamp(10)).unwrap();
        let states: Vec<InviteStatus> = kept.list(Timestamp(10)).iter().map(|i| i.state).collect();
        assert_eq!(states, [InviteStatus::Used, InviteStatus::Superseded, InviteStatus::Superseded], "kept");
        let carol_tries = book.use_for_join(&store, &space, &carol, &proof(2, &carol), Timestamp(10), |_, _| Ok(()));
        assert!(matches!(carol_tries, Err(NodeError::Pairing(PairError::SpaceFull))), "{carol_tries:?}");

        // Ben's lost welcome: he may ask again until he is heard; then the invite is done.
        let (_, again) =
            book.use_for_join(&store, &space, &ben, &proof(1, &ben), Timestamp(10), |_, again| Ok(again)).unwrap();
        assert!(again);
        assert!(book.heard(&store, &ben));
        assert!(!book.awaiting_welcome(&ben) && !book.pairing_wanted(Timestamp(10)));
        assert!(book.cancel(&store, &invite_id(&record(1, InviteState::Open).invite)).is_err(), "used for good");

        // Expired ones are forgotten, in the store too.
        assert!(book.forget_expired(&store, Timestamp(2_000)));
        assert!(InviteBook::load(&store, Timestamp(0)).unwrap().list(Timestamp(0)).is_empty());
    }
}

//! Checking a received event against every acceptance rule, each failure with its own error
//! (the rules on the wire: `docs/protocols.md`, "Sync").
//!
//! In order: the author is a member device (and not past its revocation); the seq is the next
//! one for that author (an old seq with the same bytes is a harmless duplicate, with other
//! bytes a fork); `prev` names the author's previous event; the Lamport clock grows along the
//! author's log, and is at most [`MAX_LAMPORT_JUMP`] past the highest clock held; the
//! signature verifies; the payload decrypts and passes model validation.
//!
//! [`Verifier::verify_batch`] checks a whole batch. Every event names its predecessor's hash,
//! and that hash covers the predecessor's whole body, its signature included: so the author's
//! signature on the last event of their run in the batch vouches for every event before it,
//! back to the head already held. It verifies that one signature per author (ed25519 batch
//! verification of one to a few); only when one fails does it check every signature of the
//! batch (at once, then one by one to find the culprit), so it refuses exactly what checking
//! each signature would. It keeps every event before the first bad one: what was valid is never
//! lost. Each event keeps its own signature, stored and forwarded, so an event sent alone
//! (live) stays checkable on its own (`docs/decisions.md`, "One signature per author run").

use std::collections::BTreeMap;

use duet_crypto::Hash;
use duet_model::{DeviceId, MessageId, PersonId, SpaceId, Timestamp};
use thiserror::Error;

use crate::envelope::{LogHead, OpenError, SealedEvent};
use crate::keyring::Keyring;
use crate::membership::Membership;
use crate::payload::{Payload, PayloadError};

/// How far past the highest Lamport clock held (from anyone) a received event's clock may be.
///
/// An honest device's clock is one more than the highest it has seen, so it is ahead of the
/// receiver's by at most the number of events it has seen and the receiver has not: a billion
/// is beyond any couple's history. A device that dates events further ahead is refused, so
/// the space's clock cannot be run to its end: each accepted event moves it at most this far,
/// and one device's log (at most `u32::MAX` events) cannot take it past 2^62
/// (`docs/decisions.md`, "Lamport clocks are bounded on receipt").
pub const MAX_LAMPORT_JUMP: u64 = 1 << 30;

/// Why an event was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error("event from {0:?}, which is not a member device of this space")]
    UnknownAuthor(DeviceId),
    #[error("event {seq} from {author:?}, which was removed after event {last_seq}")]
    Revoked { author: DeviceId, seq: u64, last_seq: u64 },
    #[error("event {got} from {author:?} skips ahead: expected {expected}")]
    Gap { author: DeviceId, expected: u64, got: u64 },
    /// The event names another `prev` than the event held before it, and is not signed by
    /// its author (signed, it would be a [`VerifyError::Fork`]).
    #[error("event {seq} from {author:?} does not follow the author's previous event")]
    WrongPrev { author: DeviceId, seq: u64 },
    /// The author signed an event that cannot belong to the log held: other bytes for a seq
    /// held, or the next seq continuing another event.
    #[error("two different events {seq} from {author:?}: the author's log has forked")]
    Fork { author: DeviceId, seq: u64 },
    #[error("event {seq} from {author:?} has a Lamport clock that does not grow")]
    LamportNotIncreasing { author: DeviceId, seq: u64 },
    /// Signed by its author, but dated further past everything held than an honest device
    /// could be ([`MAX_LAMPORT_JUMP`]).
    #[error(
        "event {seq} from {author:?} is dated impossibly far ahead in the space's order of events \
         (clock {lamport}, while the newest event held is at {held}): it is refused"
    )]
    LamportTooFar { author: DeviceId, seq: u64, lamport: u64, held: u64 },
    #[error("event {seq} from {author:?} has a bad signature")]
    BadSignature { author: DeviceId, seq: u64 },
    #[error("event {seq} from {author:?} could not be decrypted (tampered, or sealed with another key)")]
    Decrypt { author: DeviceId, seq: u64 },
    /// Sealed with a key this device does not hold (yet): the share that brings it has not
    /// arrived, or it was not shared with this device (it was removed). Nobody's fault: the
    /// event waits.
    #[error("event {seq} from {author:?} is sealed with a key this device has not received")]
    KeyNotHeld { author: DeviceId, seq: u64 },
    #[error("event {seq} from {author:?} carries an invalid payload: {error}")]
    InvalidPayload { author: DeviceId, seq: u64, error: PayloadError },
}

impl VerifyError {
    /// The author the error is about.
    pub fn author(&self) -> DeviceId {
        match self {
            VerifyError::UnknownAuthor(author)
            | VerifyError::Revoked { author, .. }
            | VerifyError::Gap { author, .. }
            | VerifyError::WrongPrev { author, .. }
            | VerifyError::Fork { author, .. }
            | VerifyError::LamportNotIncreasing { author, .. }
            | VerifyError::LamportTooFar { author, .. }
            | VerifyError::BadSignature { author, .. }
            | VerifyError::Decrypt { author, .. }
            | VerifyError::KeyNotHeld { author, .. }
            | VerifyError::InvalidPayload { author, .. } => *author,
        }
    }
}

/// An event that passed every check, with its payload opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedEvent {
    pub event: SealedEvent,
    /// The person the author device belongs to.
    pub person: PersonId,
    pub hash: Hash,
    pub payload: Payload,
}

impl OpenedEvent {
    pub fn author(&self) -> DeviceId {
        self.event.author()
    }
    pub fn seq(&self) -> u64 {
        self.event.seq()
    }
    pub fn lamport(&self) -> u64 {
        self.event.lamport()
    }
    pub fn timestamp(&self) -> Timestamp {
        self.event.timestamp()
    }
    /// The total order used for last-writer-wins: (Lamport clock, author).
    pub fn stamp(&self) -> crate::Stamp {
        crate::Stamp { lamport: self.lamport(), author: self.author() }
    }
    /// The id of the message this event posts (if it is a post): its time, author and seq.
    pub fn message_id(&self) -> MessageId {
        MessageId::new(self.timestamp(), &self.author(), self.seq())
    }
}

/// What a batch check found.
#[derive(Debug)]
pub struct BatchOutcome {
    /// Events that passed, in the order given.
    pub accepted: Vec<OpenedEvent>,
    /// Events already held, skipped.
    pub duplicates: usize,
    /// The first bad event's position in the batch and why; nothing after it was checked.
    pub rejected: Option<(usize, VerifyError)>,
    /// That event itself, when it was refused before being opened (a fork's other body is
    /// kept as evidence; see [`VerifyError::Fork`]).
    pub rejected_event: Option<SealedEvent>,
}

/// Checks events of one space.
/// What [`Verifier::verify_sealed_batch`] took from a batch.
#[derive(Debug)]
pub struct SealedOutcome {
    /// In order, each with its hash (the next event's `prev`).
    pub accepted: Vec<(SealedEvent, Hash)>,
    pub duplicates: usize,
    pub rejected: Option<(usize, VerifyError)>,
}

pub struct Verifier<'a> {
    pub space: SpaceId,
    pub membership: &'a Membership,
    /// The space's keys this device holds.
    /// The space's keys; `None` for a device that holds none (the couple's mailbox), which
    /// can only [`Verifier::verify_sealed_batch`].
    pub keys: Option<&'a Keyring>,
    /// The highest Lamport clock held, from anyone (events verified but not stored yet
    /// included): received clocks are bounded by it ([`MAX_LAMPORT_JUMP`]).
    pub max_lamport: u64,
}

/// Where a new event stands relative to the author's log.
enum Position {
    Next,
    Duplicate,
}

/// Which signatures a batch check verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signatures {
    /// The last event's of each author's run (the rest are bound to it by hashes); every one
    /// only when one of those fails.
    RunHeads,
    /// Every event's (what the run heads stand for; tests compare the two).
    #[cfg(test)]
    Every,
}

impl Verifier<'_> {
    /// Checks one event. `head` is the author's log head as held; `stored` looks up the hash
    /// of an event already held (for telling duplicates from forks).
    pub fn verify(
        &self,
        head: &LogHead,
        event: SealedEvent,
        stored: impl FnOnce(u64) -> Option<Hash>,
    ) -> Result<Option<OpenedEvent>, VerifyError> {
        let person = self.check_author(&event)?;
        match self.position(head, self.max_lamport, &event, stored).map_err(|e| self.confirm(&event, e))? {
            Position::Duplicate => return Ok(None),
            Position::Next => {}
        }
        let digest = event.signing_digest(&self.space);
        duet_crypto::verify(&event.author().0, &digest, &event.signature())
            .map_err(|_| VerifyError::BadSignature { author: event.author(), seq: event.seq() })?;
        let hash = event.hash(&self.space);
        self.open(event, person, hash).map(Some)
    }

    /// Checks a batch in order, against heads that advance as events are accepted.
    pub fn verify_batch(
        &self,
        head_of: impl Fn(&DeviceId) -> LogHead,
        stored: impl Fn(&DeviceId, u64) -> Option<Hash>,
        events: Vec<SealedEvent>,
    ) -> BatchOutcome {
        self.verify_batch_with(Signatures::RunHeads, head_of, stored, events)
    }

    pub(crate) fn verify_batch_with(
        &self,
        signatures: Signatures,
        head_of: impl Fn(&DeviceId) -> LogHead,
        stored: impl Fn(&DeviceId, u64) -> Option<Hash>,
        events: Vec<SealedEvent>,
    ) -> BatchOutcome {
        let (mut outcome, fresh, bad) = self.check_signed(signatures, head_of, stored, events);
        let opened = in_parallel_owned(fresh, |part| {
            part.into_iter().map(|(i, person, event, hash)| (i, self.open(event, person, hash))).collect::<Vec<_>>()
        });
        for (i, result) in opened.into_iter().flatten() {
            match result {
                Ok(opened) => outcome.accepted.push(opened),
                Err(e) => {
                    outcome.rejected = Some((i, e));
                    return outcome;
                }
            }
        }
        if let Some((i, event)) = bad {
            outcome.rejected = Some((i, VerifyError::BadSignature { author: event.author(), seq: event.seq() }));
            outcome.rejected_event = Some(event);
        }
        outcome
    }

    /// [`Verifier::verify_batch`] without the space key, for a device that stores and forwards
    /// events it cannot open (the couple's mailbox, [`crate::mailbox`]): every rule the
    /// envelope shows (member author, not revoked, seq, `prev`, Lamport clock, signature over
    /// the ciphertext), not the payload's. Returns the events it takes, each with its hash.
    pub fn verify_sealed_batch(
        &self,
        head_of: impl Fn(&DeviceId) -> LogHead,
        stored: impl Fn(&DeviceId, u64) -> Option<Hash>,
        events: Vec<SealedEvent>,
    ) -> SealedOutcome {
        let (outcome, fresh, bad) = self.check_signed(Signatures::RunHeads, head_of, stored, events);
        let rejected = match (outcome.rejected, bad) {
            (_, Some((i, event))) => Some((i, VerifyError::BadSignature { author: event.author(), seq: event.seq() })),
            (rejected, None) => rejected,
        };
        SealedOutcome {
            accepted: fresh.into_iter().map(|(_, _, event, hash)| (event, hash)).collect(),
            duplicates: outcome.duplicates,
            rejected,
        }
    }

    /// Every rule but the payload's: the events that pass (with their index, author's person
    /// and hash, in order), and the first with a bad signature, if any. An event that fails an
    /// earlier rule is in the outcome's `rejected`, and nothing after it is checked.
    #[allow(clippy::type_complexity)]
    fn check_signed(
        &self,
        signatures: Signatures,
        head_of: impl Fn(&DeviceId) -> LogHead,
        stored: impl Fn(&DeviceId, u64) -> Option<Hash>,
        events: Vec<SealedEvent>,
    ) -> (BatchOutcome, Vec<(usize, PersonId, SealedEvent, Hash)>, Option<(usize, SealedEvent)>) {
        let mut outcome = BatchOutcome {
            accepted: Vec::with_capacity(events.len()),
            duplicates: 0,
            rejected: None,
            rejected_event: None,
        };
        // Structural pass: membership, order, prev, Lamport. Stops at the first failure.
        let mut heads: BTreeMap<DeviceId, LogHead> = BTreeMap::new();
        let mut in_batch: BTreeMap<(DeviceId, u64), Hash> = BTreeMap::new();
        let mut clock = self.max_lamport;
        let mut fresh = Vec::with_capacity(events.len());
        for (i, event) in events.into_iter().enumerate() {
            let author = event.author();
            let head = *heads.entry(author).or_insert_with(|| head_of(&author));
            let checked = self.check_author(&event).and_then(|person| {
                let held = |seq| in_batch.get(&(author, seq)).copied().or_else(|| stored(&author, seq));
                Ok((person, self.position(&head, clock, &event, held).map_err(|e| self.confirm(&event, e))?))
            });
            match checked {
                Err(e) => {
                    outcome.rejected = Some((i, e));
                    outcome.rejected_event = Some(event);
                    break;
                }
                Ok((_, Position::Duplicate)) => outcome.duplicates += 1,
                Ok((person, Position::Next)) => {
                    let after = LogHead::after(&event, &self.space);
                    in_batch.insert((author, after.seq), after.hash);
                    heads.insert(author, after);
                    clock = clock.max(after.lamport);
                    fresh.push((i, person, event, after.hash));
                }
            }
        }
        // Each author's run is a hash chain from the head held: the signature on its last event
        // vouches for the run. Those alone first; every signature only when one fails.
        if signatures == Signatures::RunHeads {
            let last_of: BTreeMap<DeviceId, usize> =
                fresh.iter().enumerate().map(|(n, (_, _, e, _))| (e.author(), n)).collect();
            let heads: Vec<(Hash, [u8; 32], [u8; 64])> = last_of
                .values()
                .map(|&n| {
                    let e = &fresh[n].2;
                    (e.signing_digest(&self.space), e.author().0, e.signature())
                })
                .collect();
            let items: Vec<(&[u8; 32], &[u8], &[u8; 64])> =
                heads.iter().map(|(d, k, s)| (k, d.as_slice(), s)).collect();
            if duet_crypto::verify_batch(&items).is_ok() {
                return (outcome, fresh, None);
            }
        }
        // Every signature: all at once; one by one only when the batch fails.
        let digests: Vec<Hash> = fresh.iter().map(|(_, _, e, _)| e.signing_digest(&self.space)).collect();
        let keys: Vec<[u8; 32]> = fresh.iter().map(|(_, _, e, _)| e.author().0).collect();
        let sigs: Vec<[u8; 64]> = fresh.iter().map(|(_, _, e, _)| e.signature()).collect();
        let items: Vec<(&[u8; 32], &[u8], &[u8; 64])> =
            (0..fresh.len()).map(|i| (&keys[i], digests[i].as_slice(), &sigs[i])).collect();
        let first_bad = in_parallel(&items, |offset, part| {
            if duet_crypto::verify_batch(part).is_ok() {
                return None;
            }
            part.iter().position(|(k, m, s)| duet_crypto::verify(k, m, s).is_err()).map(|n| offset + n)
        })
        .into_iter()
        .flatten()
        .min();
        let checked = fresh.len().min(first_bad.unwrap_or(usize::MAX));
        let bad = fresh.split_off(checked).into_iter().next().map(|(i, _, event, _)| (i, event));
        (outcome, fresh, bad)
    }

    fn check_author(&self, event: &SealedEvent) -> Result<PersonId, VerifyError> {
        let author = event.author();
        let device = self.membership.device(&author).ok_or(VerifyError::UnknownAuthor(author))?;
        if let Some(last_seq) = device.last_seq {
            if event.seq() > last_seq {
                return Err(VerifyError::Revoked { author, seq: event.seq(), last_seq });
            }
        }
        Ok(device.certificate.person)
    }

    /// Where `event` stands in its author's log held up to `head`, with `clock` the highest
    /// Lamport clock held from anyone.
    fn position(
        &self,
        head: &LogHead,
        clock: u64,
        event: &SealedEvent,
        stored: impl FnOnce(u64) -> Option<Hash>,
    ) -> Result<Position, VerifyError> {
        let (author, seq) = (event.author(), event.seq());
        if seq <= head.seq {
            // The same event again is harmless; different bytes for a seq we hold is a fork.
            return match stored(seq) {
                Some(h) if h == event.hash(&self.space) => Ok(Position::Duplicate),
                _ => Err(VerifyError::Fork { author, seq }),
            };
        }
        if seq != head.seq + 1 {
            return Err(VerifyError::Gap { author, expected: head.seq + 1, got: seq });
        }
        if event.prev() != head.hash {
            return Err(VerifyError::WrongPrev { author, seq });
        }
        if event.lamport() <= head.lamport {
            return Err(VerifyError::LamportNotIncreasing { author, seq });
        }
        let held = clock.max(head.lamport);
        if event.lamport() > held.saturating_add(MAX_LAMPORT_JUMP) {
            return Err(VerifyError::LamportTooFar { author, seq, lamport: event.lamport(), held });
        }
        Ok(Position::Next)
    }

    /// An event that conflicts with the log held is the author's fork only when the author
    /// signed it: a relaying device cannot frame them with forged bytes. So a held seq with
    /// other bytes is a [`VerifyError::Fork`] if signed and a bad signature if not; the next
    /// seq naming another `prev` is a fork if signed (the author continued a different event)
    /// and [`VerifyError::WrongPrev`] if not. A clock too far ahead is the author's only when
    /// signed, too.
    fn confirm(&self, event: &SealedEvent, error: VerifyError) -> VerifyError {
        let signed =
            || duet_crypto::verify(&event.author().0, &event.signing_digest(&self.space), &event.signature()).is_ok();
        match error {
            VerifyError::WrongPrev { author, seq } if signed() => VerifyError::Fork { author, seq },
            VerifyError::Fork { author, seq } if !signed() => VerifyError::BadSignature { author, seq },
            VerifyError::LamportTooFar { author, seq, .. } if !signed() => VerifyError::BadSignature { author, seq },
            e => e,
        }
    }

    /// Decrypts and validates; `hash` is the event's own (computed once by the caller).
    fn open(&self, event: SealedEvent, person: PersonId, hash: Hash) -> Result<OpenedEvent, VerifyError> {
        let (author, seq) = (event.author(), event.seq());
        let key = self.keys.and_then(|k| k.get(event.key_id())).ok_or(VerifyError::KeyNotHeld { author, seq })?;
        let payload = event.open(&self.space, key).map_err(|e| match e {
            OpenError::Decrypt => VerifyError::Decrypt { author, seq },
            OpenError::Payload(error) => VerifyError::InvalidPayload { author, seq, error },
        })?;
        Ok(OpenedEvent { event, person, hash, payload })
    }
}

/// Batches at least this long are checked on several threads.
const PARALLEL_FROM: usize = 256;

fn threads_for(len: usize) -> usize {
    // Asked once: on Linux each answer reads the cgroup's CPU quota from three files, and a
    // backlog asks for every batch.
    static CORES: std::sync::LazyLock<usize> =
        std::sync::LazyLock::new(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(4));
    if len < PARALLEL_FROM {
        return 1;
    }
    *CORES
}

/// Runs `f` over consecutive parts of `items` (with each part's offset), on up to four
/// threads for long inputs, and returns the parts' results in order. Signature checks and
/// decryption are the receiver's main cost (`docs/platform.md`); on two cores this halves them.
fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &[T]) -> R + Sync) -> Vec<R> {
    let threads = threads_for(items.len());
    if threads < 2 {
        return vec![f(0, items)];
    }
    let size = items.len().div_ceil(threads);
    run_parts(items.chunks(size).enumerate(), |(n, part)| f(n * size, part))
}

/// [`in_parallel`] for work that consumes its items.
fn in_parallel_owned<T: Send, R: Send>(mut items: Vec<T>, f: impl Fn(Vec<T>) -> R + Sync) -> Vec<R> {
    let threads = threads_for(items.len());
    if threads < 2 {
        return vec![f(items)];
    }
    let size = items.len().div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    while items.len() > size {
        let rest = items.split_off(size);
        parts.push(std::mem::replace(&mut items, rest));
    }
    parts.push(items);
    run_parts(parts.into_iter(), f)
}

/// Runs `f` on each part and returns the results in the parts' order: the first part on this
/// thread, which would otherwise only wait, and each other part on a thread of its own.
fn run_parts<P: Send, R: Send>(mut parts: impl Iterator<Item = P>, f: impl Fn(P) -> R + Sync) -> Vec<R> {
    let Some(first) = parts.next() else { return Vec::new() };
    std::thread::scope(|scope| {
        let f = &f;
        let others: Vec<_> = parts.map(|part| scope.spawn(move || f(part))).collect();
        let mut out = Vec::with_capacity(others.len() + 1);
        out.push(f(first));
        out.extend(others.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))));
        out
    })
}

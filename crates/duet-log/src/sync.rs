//! The sync protocol `/duet/sync/1` (`docs/protocols.md`, "Sync"), sans I/O: its messages and the planner that
//! decides what to send next.
//!
//! Sync is a *push*: each device opens one stream to each connected member device and pushes
//! the events the other lacks, so every pair of devices has two streams, one each way.
//!
//! ```text
//! pusher                                  receiver
//!   | ── Members{persons, certificates} ──▶ |   who may write (so the batches can be checked)
//!   | ◀── Hello{members…, version vector} ── |   what the receiver holds
//!   | ── Batch{author, first seq, bodies} ─▶ |   missing events, per author in seq order
//!   | ◀──────────── Ack ─────────────────── |   one per batch, applied atomically
//!   | ── Batch … (at most WINDOW unacked) ─▶ |
//!   |   … then, whenever the pusher stores anything new (its own or forwarded), more Batches
//! ```
//!
//! A receiver that finds a bad event keeps the valid events before it, answers `Reject` and
//! cuts the pusher off. An event dated more than [`MAX_CLOCK_AHEAD_MS`] past the receiver's
//! clock is not bad, only early: it and the author's later events wait, unread, until the
//! receiver's clock gets there ([`first_too_early`]). Every message is bounded: [`MAX_FRAME_BYTES`] per frame,
//! [`MAX_BATCH_EVENTS`] per batch, the model's bounds inside.

use duet_model::{DeviceId, PersonId, Timestamp};

use crate::codec::{DecodeError, Reader, Writer};
use crate::envelope::{SealedEvent, MAX_EVENT_BYTES};
use crate::vv::VersionVector;

/// The largest frame either side accepts.
pub const MAX_FRAME_BYTES: usize = 4 * 1024 * 1024;
/// Events per batch.
pub const MAX_BATCH_EVENTS: usize = 1000;
/// Bytes of event bodies per batch (the pusher stops adding events past this).
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;
/// Batches a pusher may have unacknowledged.
pub const WINDOW: usize = 4;
/// Certificates in one membership message.
pub const MAX_CERTIFICATES: usize = 64;
/// People in one membership message.
pub const MAX_PERSONS: usize = 16;
/// How far past the receiver's clock an event may be dated (5 minutes). A message's place in
/// the conversation is its date, so an event dated later would sit above everything written
/// after it; it is taken only once the receiver's clock is within this of its date.
pub const MAX_CLOCK_AHEAD_MS: u64 = 5 * 60 * 1000;

/// The first of `events` dated more than [`MAX_CLOCK_AHEAD_MS`] past `now` (the receiver's
/// clock): it, and every later event of its author, waits. `None` when all may be taken.
pub fn first_too_early(events: &[SealedEvent], now: Timestamp) -> Option<usize> {
    let latest = now.0.saturating_add(MAX_CLOCK_AHEAD_MS);
    events.iter().position(|e| e.timestamp().0 > latest)
}

/// When an event dated `at` may be taken by a receiver whose clock reads `now`: `None` if
/// it may be now, else how many milliseconds from now.
pub fn wait_for(at: Timestamp, now: Timestamp) -> Option<u64> {
    let due = at.0.saturating_sub(MAX_CLOCK_AHEAD_MS);
    (due > now.0).then(|| due - now.0)
}

/// Who the sender counts as members.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Members {
    pub persons: Vec<PersonId>,
    /// Encoded `duet_crypto::DeviceCertificate`s.
    pub certificates: Vec<Vec<u8>>,
}

/// One message of `/duet/sync/1`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncMessage {
    /// Pusher → receiver, first.
    Members(Members),
    /// Receiver → pusher, first: its members and what it holds.
    Hello { members: Members, held: VersionVector },
    /// Consecutive events of one author.
    Batch { author: DeviceId, first_seq: u64, bodies: Vec<Vec<u8>> },
    /// Receiver → pusher: one batch applied.
    Ack,
    /// Receiver → pusher: a batch was refused; the stream closes.
    Reject { reason: String },
}

mod tag {
    pub const MEMBERS: u8 = 1;
    pub const HELLO: u8 = 2;
    pub const BATCH: u8 = 3;
    pub const ACK: u8 = 4;
    pub const REJECT: u8 = 5;
}

impl SyncMessage {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(64);
        match self {
            SyncMessage::Members(m) => {
                w.u8(tag::MEMBERS);
                put_members(&mut w, m);
            }
            SyncMessage::Hello { members, held } => {
                w.u8(tag::HELLO);
                put_members(&mut w, members);
                w.bytes(&held.encode());
            }
            SyncMessage::Batch { author, first_seq, bodies } => {
                w.u8(tag::BATCH);
                w.bytes(&author.0);
                w.varint(*first_seq);
                w.varint(bodies.len() as u64);
                for b in bodies {
                    w.varint(b.len() as u64);
                    w.bytes(b);
                }
            }
            SyncMessage::Ack => w.u8(tag::ACK),
            SyncMessage::Reject { reason } => {
                w.u8(tag::REJECT);
                w.str(reason);
            }
        }
        w.buf
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_FRAME_BYTES {
            return Err(DecodeError::TooLarge("a sync frame"));
        }
        let mut r = Reader::new(bytes);
        let msg = match r.u8("a sync message")? {
            tag::MEMBERS => SyncMessage::Members(get_members(&mut r)?),
            tag::HELLO => {
                let members = get_members(&mut r)?;
                let rest = r.take(r.remaining(), "a version vector")?;
                return Ok(SyncMessage::Hello { members, held: VersionVector::decode(rest)? });
            }
            tag::BATCH => {
                let author = DeviceId(r.array("an author")?);
                let first_seq = r.varint("a sequence number")?;
                let n = r.bounded(MAX_BATCH_EVENTS as u64, "a batch")? as usize;
                let mut bodies = Vec::with_capacity(n);
                for _ in 0..n {
                    let len = r.bounded(MAX_EVENT_BYTES as u64, "an event")? as usize;
                    bodies.push(r.take(len, "an event")?.to_vec());
                }
                SyncMessage::Batch { author, first_seq, bodies }
            }
            tag::ACK => SyncMessage::Ack,
            tag::REJECT => SyncMessage::Reject { reason: r.str(1024, "a reason")? },
            tag => return Err(DecodeError::UnknownTag { what: "sync message", tag }),
        };
        r.finish()?;
        Ok(msg)
    }

    /// The events of a batch, decoded (structure only; the verifier checks the rest).
    pub fn batch_events(
        author: DeviceId,
        first_seq: u64,
        bodies: Vec<Vec<u8>>,
    ) -> Result<Vec<SealedEvent>, DecodeError> {
        bodies
            .into_iter()
            .enumerate()
            .map(|(i, b)| SealedEvent::decode(author, first_seq.saturating_add(i as u64), b))
            .collect()
    }
}

pub(crate) fn put_members(w: &mut Writer, m: &Members) {
    w.varint(m.persons.len() as u64);
    for p in &m.persons {
        w.bytes(&p.0);
    }
    w.varint(m.certificates.len() as u64);
    for c in &m.certificates {
        w.varint(c.len() as u64);
        w.bytes(c);
    }
}

pub(crate) fn get_members(r: &mut Reader) -> Result<Members, DecodeError> {
    let n = r.bounded(MAX_PERSONS as u64, "a member list")? as usize;
    let mut persons = Vec::with_capacity(n);
    for _ in 0..n {
        persons.push(PersonId(r.array("a person")?));
    }
    let n = r.bounded(MAX_CERTIFICATES as u64, "a certificate list")? as usize;
    let mut certificates = Vec::with_capacity(n);
    for _ in 0..n {
        let len = r.bounded(1024, "a certificate")? as usize;
        certificates.push(r.take(len, "a certificate")?.to_vec());
    }
    Ok(Members { persons, certificates })
}

/// The bodies of consecutive `events` that go in one batch: as many as fit in
/// [`MAX_BATCH_BYTES`], and always the first. Returns them and the seq of the last one taken
/// (`None` when `events` is empty).
pub fn batch_bodies(events: Vec<SealedEvent>) -> (Vec<Vec<u8>>, Option<u64>) {
    let mut bodies = Vec::with_capacity(events.len());
    let (mut bytes, mut last) = (0, None);
    for e in events {
        bytes += e.body().len();
        if bytes > MAX_BATCH_BYTES && !bodies.is_empty() {
            break;
        }
        last = Some(e.seq());
        bodies.push(e.into_body());
    }
    (bodies, last)
}

/// What a pusher knows of its receiver, and what to send next.
#[derive(Debug, Clone, Default)]
pub struct PushPlanner {
    /// What the receiver holds, as far as the pusher knows (its Hello plus batches sent).
    theirs: Option<VersionVector>,
    in_flight: usize,
    /// Authors whose next event the pusher does not hold: nothing more of theirs is sent in
    /// this session (anything later would leave a gap the receiver must refuse).
    skipped: std::collections::BTreeSet<DeviceId>,
}

/// The next batch to send: `(author, first seq, last seq)`.
pub type BatchPlan = (DeviceId, u64, u64);

impl PushPlanner {
    pub fn new() -> Self {
        Self::default()
    }

    /// The receiver said what it holds.
    pub fn on_hello(&mut self, held: VersionVector) {
        self.theirs = Some(held);
    }

    /// The receiver applied a batch.
    pub fn on_ack(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// Whether the receiver's Hello arrived.
    pub fn ready(&self) -> bool {
        self.theirs.is_some()
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// What the receiver holds, once every batch sent was acknowledged: its Hello and all
    /// sent since. `None` before its Hello or
    /// while batches are in flight.
    pub fn held(&self) -> Option<&VersionVector> {
        self.theirs.as_ref().filter(|_| self.in_flight == 0)
    }

    /// The next batch to send given what I hold, or `None` (nothing missing, window full, or
    /// no Hello yet). The caller sends events `first..=last` of `author` (fewer if the bytes
    /// bound is reached) and reports what it sent with [`PushPlanner::sent`].
    pub fn next(&self, mine: &VersionVector) -> Option<BatchPlan> {
        let theirs = self.theirs.as_ref()?;
        if self.in_flight >= WINDOW {
            return None;
        }
        let (author, first, last) =
            mine.missing_from(theirs).into_iter().find(|(author, _, _)| !self.skipped.contains(author))?;
        Some((author, first, last.min(first + MAX_BATCH_EVENTS as u64 - 1)))
    }

    /// The receiver's next event of `author` is not held here (a mailbox dropped it): no
    /// more of `author`'s events are sent in this session, not even ones that arrive later,
    /// since the receiver could not take them over the gap. It gets them from a device that
    /// holds them; a later session (a new Hello) tries again.
    pub fn skip(&mut self, author: DeviceId) {
        self.skipped.insert(author);
    }

    /// A batch of `author`'s events up to `last_seq` was sent.
    pub fn sent(&mut self, author: DeviceId, last_seq: u64) {
        if let Some(t) = self.theirs.as_mut() {
            t.raise(author, last_seq);
        }
        self.in_flight += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_skipped_author_is_not_sent_again_in_the_session_even_when_more_arrive() {
        let (a, b) = (DeviceId([1; 32]), DeviceId([2; 32]));
        let mut planner = PushPlanner::new();
        planner.on_hello([(a, 4)].into_iter().collect());
        let mut mine: VersionVector = [(a, 60)].into_iter().collect();
        assert_eq!(planner.next(&mine), Some((a, 5, 60)));
        planner.skip(a); // 5.. were dropped here
        assert_eq!(planner.next(&mine), None);
        mine.raise(a, 70); // later events arrive: still not sent over the gap
        mine.raise(b, 3);
        assert_eq!(planner.next(&mine), Some((b, 1, 3)), "other authors go on");
        assert_eq!(planner.held().map(|vv| vv.get(&a)), Some(4), "what it holds is not raised by a skip");
    }

    #[test]
    fn an_event_dated_past_the_receivers_clock_waits_until_it_is_near() {
        use crate::testkit::TestSpace;
        let now = Timestamp(1_800_000_000_000);
        let mut s = TestSpace::new(1, &[1]);
        let minute = 60_000;
        let events: Vec<SealedEvent> = [now.0 - minute, now.0 + 4 * minute, now.0 + 6 * minute, now.0]
            .into_iter()
            .map(|at| s.write(0, TestSpace::text("hi"), Timestamp(at)))
            .collect();
        // Four minutes ahead is a clock a little fast: taken. Six is not, nor what follows it.
        assert_eq!(first_too_early(&events, now), Some(2));
        assert_eq!(first_too_early(&events[..2], now), None);
        let six = events[2].timestamp();
        assert_eq!(wait_for(six, now), Some(minute));
        assert_eq!(wait_for(six, Timestamp(now.0 + minute)), None, "taken once the clock is 5 minutes from it");
        // The end of time never overflows, and simply never comes.
        assert_eq!(wait_for(Timestamp(u64::MAX), now), Some(u64::MAX - MAX_CLOCK_AHEAD_MS - now.0));
        assert_eq!(first_too_early(&events, Timestamp(u64::MAX)), None);
    }

    #[test]
    fn messages_round_trip() {
        let held: VersionVector = [(DeviceId([1; 32]), 7)].into_iter().collect();
        let members = Members { persons: vec![PersonId([2; 32])], certificates: vec![vec![9; 100]] };
        for m in [
            SyncMessage::Members(members.clone()),
            SyncMessage::Hello { members, held },
            SyncMessage::Batch { author: DeviceId([3; 32]), first_seq: 5, bodies: vec![vec![1; 200], vec![2; 150]] },
            SyncMessage::Ack,
            SyncMessage::Reject { reason: "bad signature".into() },
        ] {
            assert_eq!(SyncMessage::decode(&m.encode()).unwrap(), m);
        }
    }

    #[test]
    fn the_planner_sends_what_is_missing_within_the_window() {
        let a = DeviceId([1; 32]);
        let b = DeviceId([2; 32]);
        let mine: VersionVector = [(a, 2500), (b, 3)].into_iter().collect();
        let mut p = PushPlanner::new();
        assert_eq!(p.next(&mine), None, "nothing before the Hello");
        p.on_hello([(b, 3)].into_iter().collect());
        let mut sent = vec![];
        while let Some((author, first, last)) = p.next(&mine) {
            sent.push((author, first, last));
            p.sent(author, last);
        }
        assert_eq!(sent, vec![(a, 1, 1000), (a, 1001, 2000), (a, 2001, 2500)]);
        assert_eq!(p.in_flight(), 3);
        let more: VersionVector = [(a, 2600), (b, 9)].into_iter().collect();
        p.sent(a, 2500); // window now full (4)
        assert_eq!(p.next(&more), None);
        p.on_ack();
        assert_eq!(p.next(&more), Some((a, 2501, 2600)));
    }

    proptest! {
        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = SyncMessage::decode(&bytes);
        }
    }
}

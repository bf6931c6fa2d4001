//! The two sides of one `/duet/sync/1` stream, over any reader and writer, for any
//! [`SyncHost`]: the push side sends a device whatever it lacks; the receive side checks each
//! batch and stores it. No network and no node inside: the node runs them on libp2p streams
//! (`super`), their tests on in-memory pipes with two stores on temp dirs.

use std::future::Future;
use std::time::Duration;

use duet_crypto::DeviceKey;
use duet_log::sync::{batch_bodies, first_too_early, wait_for, MAX_FRAME_BYTES};
use duet_log::{
    Keyring, LogHead, Members, OpenedEvent, Payload, PushPlanner, SealedEvent, SyncMessage, Verifier, VerifyError,
    VersionVector,
};
use duet_model::{DeviceId, Timestamp};
use duet_store::search::BatchWords;
use duet_store::Store;
use futures::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, watch};

use crate::frames::{read_frame, write_frame, FrameRules};
use crate::streams::SYNC_IDLE;
use crate::NodeError;

/// Frames a receiver reads ahead of its verifier.
const READ_AHEAD: usize = 2;
const SYNC_FRAMES: FrameRules = FrameRules { max: MAX_FRAME_BYTES, idle: SYNC_IDLE };

/// What a sync session needs from the device it runs on: its store, and someone to tell what
/// happened. The node is one ([`crate::Node`]); tests have their own.
pub(crate) trait SyncHost: Clone + Send + Sync + 'static {
    fn store(&self) -> &Store;
    /// This device's key (key shares are sealed to it).
    fn device_key(&self) -> &DeviceKey;
    /// Held while a batch is stored: everything that advances log heads takes turns.
    fn write_lock(&self) -> &tokio::sync::Mutex<()>;
    /// Changes each time something is stored; a push session sends what is new.
    fn changes(&self) -> watch::Receiver<u64>;
    /// Who is in the space as this device knows it (sent in `Members` and `Hello`).
    fn members(&self) -> Members;
    /// Learns who is in the space from the other device.
    fn merge_members(&self, members: &Members) -> impl Future<Output = Result<(), NodeError>> + Send;
    /// Whether `author` signed two versions of its log: nothing new is taken from it.
    fn has_forked(&self, author: &DeviceId) -> bool;
    /// From now on `author` counts as forked, in every session.
    fn mark_forked(&self, author: DeviceId);
    /// `author`'s events wait: they are dated `at`, past this computer's clock.
    fn too_early(&self, author: DeviceId, at: Timestamp);
    /// These events were stored (in order).
    fn stored(&self, events: &[OpenedEvent]) -> impl Future<Output = ()> + Send;
    /// `author` was found to have signed two versions of event `seq`, for the first time
    /// (the evidence is in the store).
    fn first_fork(&self, author: DeviceId, seq: u64) -> impl Future<Output = ()> + Send;
    /// `peer`, pushed to, holds `held` (its Hello, and each time every batch sent to it is
    /// acknowledged).
    fn peer_holds(&self, _peer: DeviceId, _held: &VersionVector) {}
}

/// The head of `author`'s log held in `store` (empty when none is, or it cannot be read).
pub(crate) fn head_of(store: &Store, author: &DeviceId) -> LogHead {
    store.head(author).unwrap_or(LogHead::EMPTY)
}

/// Reads frames into `to` until the stream closes or fails, or nobody takes them any more;
/// `to` closes when it returns.
async fn read_frames<R: AsyncRead + Unpin>(r: &mut R, to: mpsc::Sender<Vec<u8>>) {
    while let Ok(Some(frame)) = read_frame(r, SYNC_FRAMES).await {
        if to.send(frame).await.is_err() {
            break;
        }
    }
}

pub(crate) async fn send<W: AsyncWrite + Unpin>(w: &mut W, msg: &SyncMessage) -> Result<(), NodeError> {
    write_frame(w, &msg.encode()).await.map_err(|e| NodeError::NotAllowed(format!("sync stream: {e}")))
}

/// Aborts a task when dropped.
pub(crate) struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Pushes whatever the device at the other end lacks, now and whenever something new is
/// stored, until the stream fails (an error) or the host stops changing (`Ok`).
pub(crate) async fn push<H, R, W>(host: &H, peer: DeviceId, mut r: R, mut w: W) -> Result<(), NodeError>
where
    H: SyncHost,
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin,
{
    let store = host.store();
    let mut members_sent = host.members();
    send(&mut w, &SyncMessage::Members(members_sent.clone())).await?;
    let (tx, mut rx) = mpsc::channel(16);
    let _reader = AbortOnDrop(tokio::spawn(async move { read_frames(&mut r, tx).await }));
    let mut changed = host.changes();
    let mut planner = PushPlanner::new();
    loop {
        if planner.ready() {
            // Someone who joined since (my partner, a new device) is announced before their
            // events are forwarded, or the receiver could not check them.
            let members = host.members();
            if members != members_sent {
                send(&mut w, &SyncMessage::Members(members.clone())).await?;
                members_sent = members;
            }
            let vv = store.version_vector()?;
            while let Some((author, first, last)) = planner.next(&vv) {
                let events = store.events_from(&author, first, (last - first + 1) as usize)?;
                let (bodies, Some(sent_last)) = batch_bodies(events) else { break };
                send(&mut w, &SyncMessage::Batch { author, first_seq: first, bodies }).await?;
                planner.sent(author, sent_last);
            }
        }
        tokio::select! {
            // A frame that does not decode ends the session as the stream closing does.
            m = rx.recv() => match m.and_then(|frame| SyncMessage::decode(&frame).ok()) {
                Some(SyncMessage::Hello { members, held }) => {
                    host.merge_members(&members).await?;
                    host.peer_holds(peer, &held);
                    planner.on_hello(held);
                }
                Some(SyncMessage::Ack) => {
                    planner.on_ack();
                    if let Some(held) = planner.held() {
                        host.peer_holds(peer, held);
                    }
                }
                Some(SyncMessage::Reject { reason }) => {
                    return Err(NodeError::NotAllowed(format!("the other device refused our events: {reason}")));
                }
                Some(_) => return Err(NodeError::NotAllowed("unexpected sync message".into())),
                None => return Err(NodeError::Stopped),
            },
            c = changed.changed() => if c.is_err() { return Ok(()) },
        }
    }
}

/// Receives what `sender` pushes, until the stream closes (`Ok`) or `sender` sends something
/// it must answer for ([`NodeError::PeerFault`]; what it sent before stays stored).
///
/// Two stages: this task reads and verifies batch k+1 (on a blocking thread) while a second
/// stage stores batch k and acknowledges it, so verification (one core) and sled (the other)
/// overlap. The verifier sees the heads of batches it passed but that are not stored yet
/// through [`Pipeline`]; the store stage re-checks the log head under the write lock before
/// storing, and verifies again against the store when another session stored the same
/// author's events in between.
///
/// `sender` answers for what it sent, not for what its authors signed: a forwarded event that
/// conflicts with what is held here (a fork of its author's log, a clock too far ahead) cuts
/// off the author, and the session goes on ([`authors_doing`]).
pub(crate) async fn receive<H, R, W>(host: &H, sender: DeviceId, r: &mut R, w: &mut W) -> Result<(), NodeError>
where
    H: SyncHost,
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let hello = SyncMessage::Hello { members: host.members(), held: host.store().version_vector()? };
    if send(w, &hello).await.is_err() {
        return Ok(()); // the stream closed (the device left): nothing wrong
    }
    // Frames are read ahead of the verifier, so the next batch's bytes cross while this one
    // is checked (the stream's window holds about one batch): read only when the verifier
    // asked, that wait sat between every two batches' checks. When the stream closes the
    // verifier finds no more frames and ends; the reader itself never ends the session.
    let (frames_tx, mut frames) = mpsc::channel(READ_AHEAD);
    let reading = async move {
        read_frames(r, frames_tx).await;
        std::future::pending::<std::convert::Infallible>().await
    };
    let (tx, mut rx) = mpsc::channel::<Checked>(1);
    let verifying = async move {
        let mut pipeline = Pipeline::default();
        // Authors whose forwarded events this session stopped taking (a clock too far ahead).
        let mut passed_over = std::collections::HashSet::new();
        // Authors whose events are dated past this computer's clock, and when to look again:
        // they wait unread, and the session ends then, so the pusher sends them again in a
        // new one.
        let mut early = TooEarly::default();
        loop {
            let read = frames.recv();
            let read = match early.look_again() {
                Some(at) => match tokio::time::timeout_at(at, read).await {
                    Ok(read) => read,
                    Err(_) => return Ok(()),
                },
                None => read.await,
            };
            let Some(frame) = read else {
                return Ok(()); // the stream closed: nothing wrong
            };
            let msg = SyncMessage::decode(&frame)
                .map_err(|e| NodeError::PeerFault(format!("malformed sync message: {e}")))?;
            match msg {
                SyncMessage::Members(m) => host.merge_members(&m).await?,
                SyncMessage::Batch { author, .. } if author == sender && host.has_forked(&author) => {
                    return Err(NodeError::PeerFault(
                        "this device signed two versions of its log: nothing more is taken from it".into(),
                    ));
                }
                SyncMessage::Batch { author, .. }
                    if host.has_forked(&author) || passed_over.contains(&author) || early.waits(&author) =>
                {
                    // Forwarded events of an author cut off here: acknowledged unread, so the
                    // forwarder moves on to the rest.
                    if tx.send(Checked::skipped(author, head_of(host.store(), &author))).await.is_err() {
                        return Ok(());
                    }
                }
                SyncMessage::Batch { author, first_seq, bodies } => {
                    let mut events = SyncMessage::batch_events(author, first_seq, bodies)
                        .map_err(|e| NodeError::PeerFault(format!("malformed event: {e}")))?;
                    if let Some(i) = first_too_early(&events, crate::now()) {
                        let at = events[i].timestamp();
                        events.truncate(i);
                        early.wait(author, at);
                        host.too_early(author, at);
                        if events.is_empty() {
                            if tx.send(Checked::skipped(author, head_of(host.store(), &author))).await.is_err() {
                                return Ok(());
                            }
                            continue;
                        }
                    }
                    let checking = host.clone();
                    let (checked, next) = tokio::task::spawn_blocking(move || {
                        check_batch(checking.store(), checking.device_key(), author, events, pipeline)
                    })
                    .await
                    .map_err(|_| NodeError::Stopped)??;
                    pipeline = next;
                    let last = match &checked.rejected {
                        None => false,
                        Some((VerifyError::KeyNotHeld { .. }, _)) => {
                            // Sealed with a key whose share has not arrived: the author's
                            // events wait, and the session ends soon so they come again.
                            early.wait_for_key(author);
                            false
                        }
                        Some((VerifyError::UnknownAuthor(_), _)) if author != sender => {
                            // Forwarded events of a device not known here yet (my partner's,
                            // before the event that lets them in has arrived): they wait too.
                            early.wait_for_key(author);
                            false
                        }
                        Some((e, _)) if author != sender && authors_doing(e) => {
                            if matches!(e, VerifyError::Fork { .. }) {
                                // From now on, in every session: the store stage keeps the
                                // evidence and says so.
                                host.mark_forked(author);
                            } else {
                                passed_over.insert(author);
                            }
                            false
                        }
                        Some(_) => true,
                    };
                    if tx.send(checked).await.is_err() || last {
                        return Ok(());
                    }
                }
                other => return Err(NodeError::PeerFault(format!("unexpected sync message {other:?}"))),
            }
        }
    };
    let storing = async move {
        while let Some(checked) = rx.recv().await {
            store_checked(host, checked, sender).await?;
            if send(w, &SyncMessage::Ack).await.is_err() {
                return Ok(()); // the batch is stored; the device left before the ack
            }
        }
        Ok(())
    };
    // The store stage ends when the verifier drops its sender, so a rejected batch's valid
    // prefix is stored before its error is reported; the reader never ends on its own.
    let (verified, stored) = tokio::select! {
        done = async { tokio::join!(verifying, storing) } => done,
        never = reading => match never {},
    };
    stored.and(verified)
}

/// Verifies one batch (of one author) against the store, seen through what the pipeline
/// passed but has not stored yet. A key share in the batch sealed to this device opens the
/// events after it that need its key ([`learn_keys`]).
fn check_batch(
    store: &Store,
    me: &DeviceKey,
    author: DeviceId,
    events: Vec<SealedEvent>,
    mut pipeline: Pipeline,
) -> Result<(Checked, Pipeline), NodeError> {
    let state = store.space()?.ok_or(NodeError::NoSpace)?;
    let mut keys = store.keyring(me)?.ok_or(NodeError::NoSpace)?;
    let base = pipeline.head(author, head_of(store, &author));
    let mut accepted = Vec::new();
    let mut rest = events;
    let (rejected, rejected_event) = loop {
        // Kept only when an event names a key not held: a share earlier in the batch may bring it.
        let backup = rest.iter().any(|e| keys.get(e.key_id()).is_none()).then(|| rest.clone());
        let head = pipeline.head(author, head_of(store, &author));
        let max_lamport = pipeline.clock.max(store.max_lamport()?);
        let verifier = Verifier { space: state.space, membership: &state.membership, keys: Some(&keys), max_lamport };
        let outcome = verifier.verify_batch(
            |a| if *a == author { head } else { head_of(store, a) },
            |a, s| pipeline.hash(a, s).or_else(|| store.event_hash(&state.space, a, s).ok().flatten()),
            rest,
        );
        pipeline.passed(author, &outcome.accepted);
        let retry = match (&outcome.rejected, backup) {
            (Some((at, VerifyError::KeyNotHeld { .. })), Some(mut backup))
                if learn_keys(&mut keys, &outcome.accepted, me) =>
            {
                Some(backup.split_off(*at))
            }
            _ => None,
        };
        accepted.extend(outcome.accepted);
        match retry {
            Some(again) => rest = again,
            None => break (outcome.rejected, outcome.rejected_event),
        }
    };
    let fork = rejected_event.map(SealedEvent::into_body);
    let rejected = rejected.map(|(_, e)| {
        let fork = if matches!(e, VerifyError::Fork { .. }) { fork } else { None };
        (e, fork)
    });
    // Found here, on the verifying stage's thread, while the store stage stores the batch
    // before: about half of storing a synced batch otherwise. Not found, they are found while
    // storing.
    let words = store.words_of(&accepted).unwrap_or_default();
    Ok((Checked { author, base, accepted, rejected, words }, pipeline))
}

/// Takes the key shares among `events` into `keys`; whether that brought a key or a rotation.
fn learn_keys(keys: &mut Keyring, events: &[OpenedEvent], me: &DeviceKey) -> bool {
    let mut learned = false;
    for e in events {
        if let Payload::KeyShare { key, rotation, wrapped } = &e.payload {
            learned |= keys.learn(*key, e.stamp(), *rotation, wrapped, me);
        }
    }
    learned
}

/// Stores a verified batch, then tells the host. A fork is kept as evidence and its author cut
/// off; the error is `sender`'s only when it is the author (see [`authors_doing`]).
async fn store_checked<H: SyncHost>(host: &H, checked: Checked, sender: DeviceId) -> Result<(), NodeError> {
    let Checked { author, base, accepted, rejected, words } = checked;
    let (rejected, fork_body) = match rejected {
        Some((e, body)) => (Some(e), body),
        None => (None, None),
    };
    let fork = match (&rejected, fork_body) {
        (Some(VerifyError::Fork { author, seq }), Some(body)) => Some((*author, *seq, body)),
        _ => None,
    };
    let storing = host.clone();
    let guard = host.write_lock().lock().await;
    let (accepted, first_fork) = tokio::task::spawn_blocking(move || -> Result<_, NodeError> {
        let store = storing.store();
        let held = head_of(store, &author);
        let accepted = if held.seq == base.seq && held.hash == base.hash {
            store.apply_remote_with_words(&accepted, words)?;
            accepted
        } else {
            // Another session stored some of these meanwhile: check again against the store.
            let events = accepted.into_iter().map(|e| e.event).collect();
            let accepted = verify_against_store(store, storing.device_key(), events)?;
            store.apply_remote(&accepted)?;
            accepted
        };
        let mut first_fork = false;
        if let Some((author, seq, body)) = &fork {
            first_fork = !store.forks()?.iter().any(|(a, _)| a == author);
            store.record_fork(author, *seq, body)?;
        }
        Ok((accepted, first_fork))
    })
    .await
    .map_err(|_| NodeError::Stopped)??;
    drop(guard);
    if !accepted.is_empty() {
        host.stored(&accepted).await;
    }
    let Some(e) = rejected else { return Ok(()) };
    if matches!(e, VerifyError::KeyNotHeld { .. }) || (author != sender && matches!(e, VerifyError::UnknownAuthor(_))) {
        tracing::debug!(?author, "events wait for what lets them be read: {e}");
        return Ok(());
    }
    if let VerifyError::Fork { author, seq } = e {
        host.mark_forked(author);
        if first_fork {
            host.first_fork(author, seq).await;
        }
    }
    if author != sender && authors_doing(&e) {
        tracing::info!(?author, ?sender, "not taking a forwarded event: {e}");
        return Ok(());
    }
    Err(NodeError::PeerFault(e.to_string()))
}

/// Re-verifies events another route may have stored in part; keeps what still follows.
fn verify_against_store(
    store: &Store,
    me: &DeviceKey,
    events: Vec<SealedEvent>,
) -> Result<Vec<OpenedEvent>, NodeError> {
    let state = store.space()?.ok_or(NodeError::NoSpace)?;
    let keys = store.keyring(me)?.ok_or(NodeError::NoSpace)?;
    let verifier = Verifier {
        space: state.space,
        membership: &state.membership,
        keys: Some(&keys),
        max_lamport: store.max_lamport()?,
    };
    let outcome = verifier.verify_batch(
        |a| head_of(store, a),
        |a, s| store.event_hash(&state.space, a, s).ok().flatten(),
        events,
    );
    // These events passed once against the same log, so a failure now can only be a fork
    // between two routes; what precedes it is kept and the rest is left for later.
    Ok(outcome.accepted)
}

/// Whether a refused event is its author's doing rather than the sending device's: it is
/// signed by its author and valid on its own, but conflicts with what this device holds (a
/// second version of a seq held, a clock too far past the clocks held, an event past its
/// author's removal, which a device may have taken before the removal reached it). An honest
/// device may forward such an event (it holds the other branch, or more of the space), so only
/// the author is cut off, never a forwarder.
fn authors_doing(e: &VerifyError) -> bool {
    matches!(e, VerifyError::Fork { .. } | VerifyError::LamportTooFar { .. } | VerifyError::Revoked { .. })
}

/// The authors whose events one receive session leaves waiting because they are dated past
/// this computer's clock ([`duet_log::sync::MAX_CLOCK_AHEAD_MS`]), and when each may be
/// taken. The session ends at the earliest of those times, and at least once a minute (a
/// clock set right meanwhile), so the pusher opens a new one and sends them again.
#[derive(Default)]
struct TooEarly {
    due: std::collections::HashMap<DeviceId, tokio::time::Instant>,
}

impl TooEarly {
    /// The longest a session waits before looking again.
    const LOOK_AGAIN: Duration = Duration::from_secs(60);

    fn wait(&mut self, author: DeviceId, at: Timestamp) {
        let ms = wait_for(at, crate::now()).unwrap_or(0);
        let after = Duration::from_millis(ms).min(Self::LOOK_AGAIN);
        self.due.entry(author).or_insert_with(|| tokio::time::Instant::now() + after);
    }

    /// How long events sealed with a key not received yet (or forwarded from a device not
    /// known yet) wait before the session ends and they are sent again (by then the share, or
    /// the partner's `PartnerJoin`, has usually arrived through another log).
    const KEY_WAIT: Duration = Duration::from_secs(2);

    fn wait_for_key(&mut self, author: DeviceId) {
        self.due.entry(author).or_insert_with(|| tokio::time::Instant::now() + Self::KEY_WAIT);
    }

    fn waits(&self, author: &DeviceId) -> bool {
        self.due.contains_key(author)
    }

    fn look_again(&self) -> Option<tokio::time::Instant> {
        self.due.values().min().copied()
    }
}

/// A batch that passed (in part) verification, on its way to the store.
struct Checked {
    author: DeviceId,
    /// The author's head the batch was checked against.
    base: LogHead,
    accepted: Vec<OpenedEvent>,
    /// Why the rest of the batch was refused, with the forked body to keep.
    rejected: Option<(VerifyError, Option<Vec<u8>>)>,
    /// The search words of the accepted posts.
    words: BatchWords,
}

impl Checked {
    /// A batch of an author cut off here: nothing to store, only to acknowledge.
    fn skipped(author: DeviceId, head: LogHead) -> Self {
        Self { author, base: head, accepted: vec![], rejected: None, words: BatchWords::default() }
    }
}

/// What the verifying stage passed but the store may not hold yet: per author, the head after
/// the batches passed, the hashes of the last few batches (for duplicates), and the highest
/// Lamport clock passed.
#[derive(Default)]
struct Pipeline {
    heads: std::collections::HashMap<DeviceId, LogHead>,
    recent: std::collections::VecDeque<Vec<(DeviceId, u64, duet_crypto::Hash)>>,
    clock: u64,
}

impl Pipeline {
    /// Batches that can be in flight at once: one being stored, one queued, one verifying.
    const DEPTH: usize = 4;

    fn head(&self, author: DeviceId, stored: LogHead) -> LogHead {
        match self.heads.get(&author) {
            Some(h) if h.seq > stored.seq => *h,
            _ => stored,
        }
    }

    fn hash(&self, author: &DeviceId, seq: u64) -> Option<duet_crypto::Hash> {
        self.recent.iter().flatten().find(|(a, s, _)| a == author && *s == seq).map(|(_, _, h)| *h)
    }

    fn passed(&mut self, author: DeviceId, accepted: &[OpenedEvent]) {
        if let Some(last) = accepted.last() {
            self.heads.insert(author, LogHead { seq: last.seq(), hash: last.hash, lamport: last.lamport() });
            self.clock = self.clock.max(last.lamport());
        }
        self.recent.push_back(accepted.iter().map(|e| (e.author(), e.seq(), e.hash)).collect());
        if self.recent.len() > Self::DEPTH {
            self.recent.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};
    use std::sync::{Arc, Mutex};

    use duet_crypto::DeviceCertificate;
    use duet_log::testkit::TestSpace;
    use duet_log::LogHead;
    use duet_store::SpaceState;
    use futures::AsyncReadExt;

    use super::*;
    use crate::frames::pipe;

    /// One device of the test space: a real store on a temp dir, and what it was told.
    #[derive(Clone)]
    struct Device(Arc<Held>);

    struct Held {
        _dir: tempfile::TempDir,
        store: Store,
        key: DeviceKey,
        write_lock: tokio::sync::Mutex<()>,
        changed: watch::Sender<u64>,
        forked: Mutex<HashSet<DeviceId>>,
        stored: Mutex<Vec<(DeviceId, u64)>>,
        first_forks: Mutex<Vec<(DeviceId, u64)>>,
        /// What the devices pushed to said they hold, last.
        peer_holds: Mutex<HashMap<DeviceId, VersionVector>>,
    }

    impl Device {
        /// Device `who` of `space`, holding `events` (already valid).
        fn holding(space: &TestSpace, who: usize, events: &[SealedEvent]) -> Device {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(&dir.path().join("store"), &duet_crypto::DataKey::from_bytes([5; 32])).unwrap();
            let state = SpaceState { space: space.space, membership: space.membership.clone() };
            store.save_space(&state, &space.key).unwrap();
            store.apply_remote(&space.open_all(events)).unwrap();
            Device(Arc::new(Held {
                _dir: dir,
                store,
                key: DeviceKey::from_secret_bytes(&space.devices[who].key.secret_bytes()),
                write_lock: tokio::sync::Mutex::new(()),
                changed: watch::channel(0).0,
                forked: Mutex::default(),
                stored: Mutex::default(),
                first_forks: Mutex::default(),
                peer_holds: Mutex::default(),
            }))
        }

        fn holds(&self, author: &DeviceId) -> u64 {
            self.0.store.version_vector().unwrap().get(author)
        }
    }

    impl SyncHost for Device {
        fn store(&self) -> &Store {
            &self.0.store
        }

        fn device_key(&self) -> &DeviceKey {
            &self.0.key
        }

        fn write_lock(&self) -> &tokio::sync::Mutex<()> {
            &self.0.write_lock
        }

        fn changes(&self) -> watch::Receiver<u64> {
            self.0.changed.subscribe()
        }

        fn members(&self) -> Members {
            let state = self.0.store.space().unwrap().unwrap();
            Members {
                persons: state.membership.persons().copied().collect(),
                certificates: state.membership.devices().map(|(_, d)| d.certificate.encode()).collect(),
            }
        }

        async fn merge_members(&self, members: &Members) -> Result<(), NodeError> {
            let certificates: Vec<DeviceCertificate> =
                members.certificates.iter().filter_map(|c| DeviceCertificate::decode(c).ok()).collect();
            assert_eq!(certificates.len(), members.certificates.len(), "every certificate decodes");
            Ok(())
        }

        fn has_forked(&self, author: &DeviceId) -> bool {
            self.0.forked.lock().unwrap().contains(author)
        }

        fn mark_forked(&self, author: DeviceId) {
            self.0.forked.lock().unwrap().insert(author);
        }

        fn too_early(&self, author: DeviceId, at: Timestamp) {
            panic!("{author:?} wrote at {at:?}, which is not early");
        }

        async fn stored(&self, events: &[OpenedEvent]) {
            self.0.stored.lock().unwrap().extend(events.iter().map(|e| (e.author(), e.seq())));
            self.0.changed.send_modify(|n| *n += 1);
        }

        async fn first_fork(&self, author: DeviceId, seq: u64) {
            self.0.first_forks.lock().unwrap().push((author, seq));
        }
        fn peer_holds(&self, peer: DeviceId, held: &VersionVector) {
            self.0.peer_holds.lock().unwrap().insert(peer, held.clone());
        }
    }

    /// A minute ago: the events' time, well inside every clock rule.
    fn a_minute_ago() -> Timestamp {
        Timestamp(crate::now().0 - 60_000)
    }

    fn texts(space: &mut TestSpace, device: usize, n: usize) -> Vec<SealedEvent> {
        (0..n)
            .map(|i| space.write(device, TestSpace::text(&format!("message {i} {}", "x".repeat(200))), a_minute_ago()))
            .collect()
    }

    fn batch(author: DeviceId, first_seq: u64, events: &[SealedEvent]) -> SyncMessage {
        SyncMessage::Batch { author, first_seq, bodies: events.iter().map(|e| e.body().to_vec()).collect() }
    }

    async fn next<R: AsyncRead + Unpin>(r: &mut R) -> SyncMessage {
        let frame = read_frame(r, SYNC_FRAMES).await.unwrap().expect("a message");
        SyncMessage::decode(&frame).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_backlog_crosses_in_batches_and_each_event_is_stored_once_in_order() {
        let mut space = TestSpace::new(1, &[1, 1]);
        let ada = space.devices[0].key.id();
        let events = texts(&mut space, 0, 1500);
        let (pusher, receiver) = (Device::holding(&space, 0, &events), Device::holding(&space, 1, &[]));
        let (near, far) = pipe();
        let (near_r, near_w) = near.split();
        let pushing = tokio::spawn({
            let pusher = pusher.clone();
            let to = receiver.0.key.id();
            async move { push(&pusher, to, near_r, near_w).await }
        });
        let (mut far_r, mut far_w) = far.split();
        let receiving = async {
            receive(&receiver, ada, &mut far_r, &mut far_w).await.unwrap();
        };
        // Until the host has been told of every event (it is told right after each store),
        // and the pusher knows, from the acknowledgements, that the receiver holds them all.
        let pusher_knows = || pusher.0.peer_holds.lock().unwrap().get(&receiver.0.key.id()).map(|vv| vv.get(&ada));
        let waiting = async {
            while receiver.0.stored.lock().unwrap().len() < 1500 || pusher_knows() != Some(1500) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::select! {
            _ = receiving => panic!("the receive session ended early"),
            _ = tokio::time::timeout(Duration::from_secs(60), waiting) => {}
        }
        pushing.abort();
        assert_eq!(receiver.holds(&ada), 1500);
        let stored = receiver.0.stored.lock().unwrap().clone();
        assert!(
            stored == (1..=1500).map(|seq| (ada, seq)).collect::<Vec<_>>(),
            "{} told, not 1..=1500 in order",
            stored.len()
        );
        assert!(receiver.0.first_forks.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_altered_event_cuts_the_sender_off_and_what_came_before_it_stays() {
        let mut space = TestSpace::new(2, &[1, 1]);
        let ada = space.devices[0].key.id();
        let events = texts(&mut space, 0, 20);
        let receiver = Device::holding(&space, 1, &[]);
        let (near, far) = pipe();
        let (mut r, mut w) = near.split();
        let (mut far_r, mut far_w) = far.split();
        let pushing = async {
            assert!(matches!(next(&mut r).await, SyncMessage::Hello { .. }));
            send(&mut w, &batch(ada, 1, &events[..10])).await.unwrap();
            assert_eq!(next(&mut r).await, SyncMessage::Ack);
            let mut altered = batch(ada, 11, &events[10..]);
            if let SyncMessage::Batch { bodies, .. } = &mut altered {
                let body = &mut bodies[4];
                let last = body.len() - 1;
                body[last] ^= 1;
            }
            send(&mut w, &altered).await.unwrap();
            // No acknowledgement: the receiver hangs up (the node then says why, and bans).
            assert!(matches!(read_frame(&mut r, SYNC_FRAMES).await, Ok(None)));
        };
        let receiving = async {
            let result = receive(&receiver, ada, &mut far_r, &mut far_w).await;
            drop((far_r, far_w));
            result
        };
        let (result, ()) = tokio::join!(receiving, pushing);
        assert!(matches!(result, Err(NodeError::PeerFault(_))), "{result:?}");
        assert_eq!(receiver.holds(&ada), 14, "the ten of the first batch and the four before the altered one");
    }

    #[tokio::test]
    async fn a_forwarded_fork_cuts_off_its_author_not_the_device_that_passed_it_on() {
        // Ada (0) holds Ben's phone's (2) first event; Ben's laptop (1) forwards another
        // version of it, then its own events.
        let mut space = TestSpace::new(3, &[1, 2]);
        let (laptop, phone) = (space.devices[1].key.id(), space.devices[2].key.id());
        let held = space.write(2, TestSpace::text("the first"), a_minute_ago());
        space.devices[2].head = LogHead::EMPTY;
        space.devices[2].max_lamport = 0;
        let other = space.write(2, TestSpace::text("another first"), a_minute_ago());
        let own = texts(&mut space, 1, 3);
        let ada = Device::holding(&space, 0, &[held]);
        let (near, far) = pipe();
        let (mut r, mut w) = near.split();
        let (mut far_r, mut far_w) = far.split();
        let pushing = async move {
            assert!(matches!(next(&mut r).await, SyncMessage::Hello { .. }));
            send(&mut w, &batch(phone, 1, std::slice::from_ref(&other))).await.unwrap();
            assert_eq!(
                next(&mut r).await,
                SyncMessage::Ack,
                "the fork is taken as evidence, not held against the forwarder"
            );
            send(&mut w, &batch(laptop, 1, &own)).await.unwrap();
            assert_eq!(next(&mut r).await, SyncMessage::Ack);
            // The phone's later events are acknowledged unread.
            send(&mut w, &batch(phone, 2, std::slice::from_ref(&other))).await.unwrap();
            assert_eq!(next(&mut r).await, SyncMessage::Ack);
        };
        // The forwarder hangs up when done (`pushing` drops its ends): the session ends well.
        let receiving = async { receive(&ada, laptop, &mut far_r, &mut far_w).await };
        let (result, ()) = tokio::join!(receiving, pushing);
        result.unwrap();
        assert_eq!(ada.holds(&laptop), 3);
        assert_eq!(ada.holds(&phone), 1, "the version held first stays");
        assert!(ada.has_forked(&phone) && !ada.has_forked(&laptop));
        assert_eq!(*ada.0.first_forks.lock().unwrap(), vec![(phone, 1)]);
        assert_eq!(ada.0.store.forks().unwrap(), vec![(phone, 1)]);
    }

    /// Device `rotator` of `space` rotates the key: the share (sealed with the key of before,
    /// to every device), and from then on `space` seals with the new key.
    fn rotate(space: &mut TestSpace, rotator: usize) -> SealedEvent {
        let key = duet_crypto::SpaceKey::generate(&mut space.rng);
        let wrapped = (0..space.devices.len())
            .map(|d| {
                let x = space.devices[d].certificate.device_x25519;
                (space.devices[d].key.id(), duet_crypto::WrappedKey::wrap(&key, &x, &mut space.rng).encode())
            })
            .collect();
        let share = space.write(rotator, Payload::KeyShare { key: key.id(), rotation: true, wrapped }, a_minute_ago());
        let stamp = duet_log::Stamp { lamport: share.lamport(), author: share.author() };
        space.keyring.hold(key, Some(stamp));
        share
    }

    #[tokio::test]
    async fn a_key_share_opens_the_events_after_it_in_the_same_batch() {
        let mut space = TestSpace::new(4, &[1, 1]);
        let ada = space.devices[0].key.id();
        let share = rotate(&mut space, 0);
        let post = space.write(0, TestSpace::text("sealed with the new key"), a_minute_ago());
        assert!(share.key_id().is_none() && post.key_id().is_some());
        let ben = Device::holding(&space, 1, &[]);
        let (near, far) = pipe();
        let (mut r, mut w) = near.split();
        let (mut far_r, mut far_w) = far.split();
        let pushing = async move {
            assert!(matches!(next(&mut r).await, SyncMessage::Hello { .. }));
            send(&mut w, &batch(ada, 1, &[share, post])).await.unwrap();
            assert_eq!(next(&mut r).await, SyncMessage::Ack);
        };
        let (result, ()) = tokio::join!(receive(&ben, ada, &mut far_r, &mut far_w), pushing);
        result.unwrap();
        assert_eq!(ben.holds(&ada), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn events_sealed_with_a_key_not_received_yet_wait_and_come_again() {
        // Ada (0) rotates; Ben's phone (2) writes with the new key and pushes to Ben's laptop
        // (1) before Ada's share has reached it.
        let mut space = TestSpace::new(5, &[1, 2]);
        let (ada, phone) = (space.devices[0].key.id(), space.devices[2].key.id());
        let share = rotate(&mut space, 0);
        let post = space.write(2, TestSpace::text("from the phone, with the new key"), a_minute_ago());
        let laptop = Device::holding(&space, 1, &[]);

        let session = |post: SealedEvent, share: Option<SealedEvent>| {
            let laptop = laptop.clone();
            async move {
                let (near, far) = pipe();
                let (mut r, mut w) = near.split();
                let (mut far_r, mut far_w) = far.split();
                let pushing = async move {
                    assert!(matches!(next(&mut r).await, SyncMessage::Hello { .. }));
                    send(&mut w, &batch(phone, 1, std::slice::from_ref(&post))).await.unwrap();
                    assert_eq!(next(&mut r).await, SyncMessage::Ack, "not held against the phone");
                    if let Some(share) = share {
                        send(&mut w, &batch(ada, 1, &[share])).await.unwrap();
                        assert_eq!(next(&mut r).await, SyncMessage::Ack);
                    }
                    // The receiver ends the session by itself so the waiting events come again.
                    assert!(matches!(read_frame(&mut r, SYNC_FRAMES).await, Ok(None)));
                };
                let receiving = tokio::time::timeout(Duration::from_secs(30), async move {
                    let result = receive(&laptop, phone, &mut far_r, &mut far_w).await;
                    drop((far_r, far_w));
                    result
                });
                let (result, ()) = tokio::join!(receiving, pushing);
                result.expect("the session ends by itself").unwrap();
            }
        };
        session(post.clone(), Some(share)).await;
        assert_eq!(laptop.holds(&phone), 0, "the phone's event waits");
        assert_eq!(laptop.holds(&ada), 1, "the share arrived meanwhile");
        // The next session: the key is here now.
        let (near, far) = pipe();
        let (mut r, mut w) = near.split();
        let (mut far_r, mut far_w) = far.split();
        let pushing = async move {
            assert!(matches!(next(&mut r).await, SyncMessage::Hello { .. }));
            send(&mut w, &batch(phone, 1, &[post])).await.unwrap();
            assert_eq!(next(&mut r).await, SyncMessage::Ack);
        };
        let (result, ()) = tokio::join!(receive(&laptop, phone, &mut far_r, &mut far_w), pushing);
        result.unwrap();
        assert_eq!(laptop.holds(&phone), 1);
    }
}

//! `/duet/sync/1` on real streams: the push session (one per connected member device) and the
//! receive session (one per inbound stream). The protocol itself is `duet_log::sync`.

use std::time::Duration;

use duet_log::sync::{first_too_early, wait_for, MAX_BATCH_BYTES, MAX_FRAME_BYTES};
use duet_log::{LogHead, OpenedEvent, Payload, PushPlanner, SealedEvent, SyncMessage, Verifier, VerifyError};
use duet_model::{DeviceId, Timestamp};
use futures::io::{ReadHalf, WriteHalf};
use futures::AsyncReadExt;
use tokio::sync::mpsc;

use crate::frames::{read_frame, write_frame, FrameRules};
use crate::streams::SYNC_IDLE;
use crate::{Node, NodeError, NodeEvent};

/// How long a misbehaving device stays cut off.
const BAN: Duration = Duration::from_secs(60);

/// Arrivals within this window share one delivery receipt.
const DELIVERY_COALESCE: Duration = Duration::from_millis(50);

const SYNC_FRAMES: FrameRules = FrameRules { max: MAX_FRAME_BYTES, idle: SYNC_IDLE };

type Reader = ReadHalf<duet_net::Stream>;
type Writer = WriteHalf<duet_net::Stream>;

impl Node {
    /// Pushes to `device` whatever it lacks, now and whenever something new is stored, for as
    /// long as it stays connected (a failed stream is reopened after a pause).
    pub(crate) async fn push_session(self, device: DeviceId) {
        loop {
            match self.push_once(device).await {
                Ok(()) => return,
                Err(e) => tracing::debug!(?device, "push session ended: {e}"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            if !self.shared.net.connected().await.map(|c| c.contains(&device)).unwrap_or(false) {
                return;
            }
        }
    }

    async fn push_once(&self, device: DeviceId) -> Result<(), NodeError> {
        let stream = self.shared.net.open_stream(device, duet_net::DuetProtocol::Sync).await?;
        let (mut r, mut w) = stream.split();
        let mut members_sent = self.members();
        send(&mut w, &SyncMessage::Members(members_sent.clone())).await?;
        let (tx, mut rx) = mpsc::channel::<SyncMessage>(16);
        let reader = tokio::spawn(async move {
            while let Ok(Some(frame)) = read_frame(&mut r, SYNC_FRAMES).await {
                match SyncMessage::decode(&frame) {
                    Ok(m) => {
                        if tx.send(m).await.is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        });
        let _reader = AbortOnDrop(reader);
        let mut changed = self.shared.changed.subscribe();
        let mut planner = PushPlanner::new();
        loop {
            if planner.ready() {
                // Someone who joined since (my partner, a new device) is announced before
                // their events are forwarded, or the receiver could not check them.
                let members = self.members();
                if members != members_sent {
                    send(&mut w, &SyncMessage::Members(members.clone())).await?;
                    members_sent = members;
                }
                let vv = self.shared.store.version_vector()?;
                while let Some((author, first, last)) = planner.next(&vv) {
                    let events = self.shared.store.events_from(&author, first, (last - first + 1) as usize)?;
                    let mut bodies = Vec::with_capacity(events.len());
                    let mut bytes = 0;
                    let mut sent_last = first - 1;
                    for e in events {
                        bytes += e.body().len();
                        if bytes > MAX_BATCH_BYTES && !bodies.is_empty() {
                            break;
                        }
                        sent_last = e.seq();
                        bodies.push(e.into_body());
                    }
                    if bodies.is_empty() {
                        break;
                    }
                    send(&mut w, &SyncMessage::Batch { author, first_seq: first, bodies }).await?;
                    planner.sent(author, sent_last);
                }
            }
            tokio::select! {
                m = rx.recv() => match m {
                    Some(SyncMessage::Hello { members, held }) => {
                        self.merge_members(&members).await?;
                        planner.on_hello(held);
                    }
                    Some(SyncMessage::Ack) => planner.on_ack(),
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

    /// Receives what `device` pushes: checks each batch, applies it atomically, acknowledges.
    pub(crate) async fn receive_session(self, device: DeviceId, stream: duet_net::Stream) {
        let (mut r, mut w) = stream.split();
        // Only what the device sent is held against it; our own failures (store, shutdown)
        // just end the session.
        match self.receive(device, &mut r, &mut w).await {
            Ok(()) => {}
            Err(e @ NodeError::PeerFault(_)) => {
                let reason = e.to_string();
                tracing::info!(?device, "cutting off a device: {reason}");
                let _ = send(&mut w, &SyncMessage::Reject { reason: reason.clone() }).await;
                let _ = self.shared.net.disconnect(device, Some(BAN)).await;
                self.emit(NodeEvent::PeerRejected { device, reason });
            }
            Err(e) => tracing::debug!(?device, "receive session ended: {e}"),
        }
    }

    /// Two stages: this task reads and verifies batch k+1 (on a blocking thread) while a
    /// second stage stores batch k and acknowledges it, so verification (one core) and sled
    /// (the other) overlap. The verifier sees the heads of batches it passed but that are
    /// not stored yet through [`Pipeline`]; the store stage re-checks the log head under the
    /// write lock before storing, and verifies again against the store when another session
    /// stored the same author's events in between.
    ///
    /// `sender` answers for what it sent, not for what its authors signed: a forwarded event
    /// that conflicts with what is held here (a fork of its author's log, a clock too far
    /// ahead) cuts off the author, and the session goes on ([`authors_doing`]).
    async fn receive(&self, sender: DeviceId, r: &mut Reader, w: &mut Writer) -> Result<(), NodeError> {
        let hello = SyncMessage::Hello { members: self.members(), held: self.shared.store.version_vector()? };
        if send(w, &hello).await.is_err() {
            return Ok(()); // the stream closed (the device left): nothing wrong
        }
        let (tx, mut rx) = mpsc::channel::<Checked>(1);
        let verifying = async move {
            let mut pipeline = Pipeline::default();
            // Authors whose forwarded events this session stopped taking (a clock too far ahead).
            let mut passed_over = std::collections::HashSet::new();
            // Authors whose events are dated past this computer's clock, and when to look
            // again: they wait unread, and the session ends then, so the pusher sends them
            // again in a new one.
            let mut early = TooEarly::default();
            loop {
                let read = read_frame(r, SYNC_FRAMES);
                let read = match early.look_again() {
                    Some(at) => match tokio::time::timeout_at(at, read).await {
                        Ok(read) => read,
                        Err(_) => return Ok(()),
                    },
                    None => read.await,
                };
                let frame = match read {
                    Ok(Some(f)) => f,
                    Ok(None) | Err(_) => return Ok(()), // the stream closed: nothing wrong
                };
                let msg = SyncMessage::decode(&frame)
                    .map_err(|e| NodeError::PeerFault(format!("malformed sync message: {e}")))?;
                match msg {
                    SyncMessage::Members(m) => self.merge_members(&m).await?,
                    SyncMessage::Batch { author, .. } if author == sender && self.has_forked(&author) => {
                        return Err(NodeError::PeerFault(
                            "this device signed two versions of its log: nothing more is taken from it".into(),
                        ));
                    }
                    SyncMessage::Batch { author, .. }
                        if self.has_forked(&author) || passed_over.contains(&author) || early.waits(&author) =>
                    {
                        // Forwarded events of an author cut off here: acknowledged unread, so
                        // the forwarder moves on to the rest.
                        if tx.send(Checked::skipped(author, self.head_of(&author))).await.is_err() {
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
                            self.tell_too_early(author, at);
                            if events.is_empty() {
                                if tx.send(Checked::skipped(author, self.head_of(&author))).await.is_err() {
                                    return Ok(());
                                }
                                continue;
                            }
                        }
                        let node = self.clone();
                        let (checked, next) =
                            tokio::task::spawn_blocking(move || node.check_batch(author, events, pipeline))
                                .await
                                .map_err(|_| NodeError::Stopped)??;
                        pipeline = next;
                        let last = match &checked.rejected {
                            None => false,
                            Some((e, _)) if author != sender && authors_doing(e) => {
                                if matches!(e, VerifyError::Fork { .. }) {
                                    // From now on, in every session: the store stage keeps
                                    // the evidence and says so.
                                    crate::lock(&self.shared.forked).insert(author);
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
                self.store_checked(checked, sender).await?;
                if send(w, &SyncMessage::Ack).await.is_err() {
                    return Ok(()); // the batch is stored; the device left before the ack
                }
            }
            Ok(())
        };
        // The store stage ends when the verifier drops its sender, so a rejected batch's
        // valid prefix is stored before its error is reported.
        let (verified, stored) = tokio::join!(verifying, storing);
        stored.and(verified)
    }

    /// Verifies one batch (of one author) against the store, seen through what the pipeline
    /// passed but has not stored yet.
    fn check_batch(
        &self,
        author: DeviceId,
        events: Vec<SealedEvent>,
        mut pipeline: Pipeline,
    ) -> Result<(Checked, Pipeline), NodeError> {
        let store = &self.shared.store;
        let state = store.space()?.ok_or(NodeError::NoSpace)?;
        let key = store.space_key()?.ok_or(NodeError::NoSpace)?;
        let max_lamport = pipeline.clock.max(store.max_lamport()?);
        let verifier = Verifier { space: state.space, membership: &state.membership, key: &key, max_lamport };
        let base = pipeline.head(author, self.head_of(&author));
        let outcome = verifier.verify_batch(
            |a| if *a == author { base } else { self.head_of(a) },
            |a, s| pipeline.hash(a, s).or_else(|| store.event_hash(&state.space, a, s).ok().flatten()),
            events,
        );
        pipeline.passed(author, &outcome.accepted);
        let fork = outcome.rejected_event.map(SealedEvent::into_body);
        let rejected = outcome.rejected.map(|(_, e)| {
            let fork = if matches!(e, VerifyError::Fork { .. }) { fork } else { None };
            (e, fork)
        });
        Ok((Checked { author, base, accepted: outcome.accepted, rejected }, pipeline))
    }

    /// Stores a verified batch, then tells front ends and (soon, coalesced) my partner. A fork
    /// is kept as evidence and its author cut off; the error is `sender`'s only when it is the
    /// author (see [`authors_doing`]).
    async fn store_checked(&self, checked: Checked, sender: DeviceId) -> Result<(), NodeError> {
        let Checked { author, base, accepted, rejected } = checked;
        let (rejected, fork_body) = match rejected {
            Some((e, body)) => (Some(e), body),
            None => (None, None),
        };
        let fork = match (&rejected, fork_body) {
            (Some(VerifyError::Fork { author, seq }), Some(body)) => Some((*author, *seq, body)),
            _ => None,
        };
        let node = self.clone();
        let guard = self.shared.write_lock.lock().await;
        let (accepted, first_fork) = tokio::task::spawn_blocking(move || -> Result<_, NodeError> {
            let store = &node.shared.store;
            let held = node.head_of(&author);
            let accepted = if held.seq == base.seq && held.hash == base.hash {
                accepted
            } else {
                // Another session stored some of these meanwhile: check again against the store.
                let events = accepted.into_iter().map(|e| e.event).collect();
                node.verify_against_store(events)?
            };
            store.apply_remote(&accepted)?;
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
        self.after_stored(&accepted);
        self.apply_removals(&accepted).await;
        let Some(e) = rejected else { return Ok(()) };
        if let VerifyError::Fork { author, seq } = e {
            crate::lock(&self.shared.forked).insert(author);
            if first_fork {
                self.emit(NodeEvent::Fork { device: author, seq, message: self.fork_words(&author, seq) });
                self.cut_off_forked(author).await;
            }
        }
        if author != sender && authors_doing(&e) {
            tracing::info!(?author, ?sender, "not taking a forwarded event: {e}");
            return Ok(());
        }
        Err(NodeError::PeerFault(e.to_string()))
    }

    /// A member device in words: "Your device “laptop”", "Ben's device “laptop”".
    fn whose_device(&self, device: &DeviceId) -> String {
        let certificate = self.shared.store.space().ok().flatten().and_then(|s| {
            s.membership.device(device).map(|d| (d.certificate.person, d.certificate.device_name.clone()))
        });
        match certificate {
            Some((person, name)) if Some(person) == self.person_id() => format!("Your device \u{201c}{name}\u{201d}"),
            Some((person, name)) => {
                let owner = self.person(&person).ok().flatten().map(|p| p.display_name).filter(|n| !n.is_empty());
                format!("{}'s device \u{201c}{name}\u{201d}", owner.as_deref().unwrap_or("Your partner"))
            }
            None => "A device".to_owned(),
        }
    }

    /// Tells the person, once per device while the node runs, that a device's events wait
    /// because they are dated past this computer's clock.
    fn tell_too_early(&self, device: DeviceId, at: Timestamp) {
        let ahead_ms = at.0.saturating_sub(crate::now().0);
        tracing::info!(?device, ahead_ms, "events dated past this computer's clock wait");
        if !crate::lock(&self.shared.told_early).insert(device) {
            return;
        }
        let message = format!(
            "{} dates its messages {} ahead of this computer's clock, so they wait until this clock gets there. \
             One of the two clocks is wrong: check the date and time on both.",
            self.whose_device(&device),
            how_long(ahead_ms)
        );
        self.emit(NodeEvent::ClockAhead { device, ahead_ms, message });
    }

    /// What a person is told when one of the space's devices forked its log.
    fn fork_words(&self, device: &DeviceId, seq: u64) -> String {
        let whose = self.whose_device(device);
        format!(
            "{whose} signed two different versions of its history (event {seq}). Duet keeps both as evidence and \
             takes nothing new from that device any more, whoever passes it on. If nobody restored it from a \
             backup, it may be in someone else's hands."
        )
    }

    /// Stops syncing with a device that forked: it may no longer open anything here.
    async fn cut_off_forked(&self, device: DeviceId) {
        crate::lock(&self.shared.peers).remove(&device);
        if let Ok(Some(state)) = self.shared.store.space() {
            let _ = self.allow_members(&state.membership).await;
        }
        let _ = self.shared.net.disconnect(device, None).await;
    }

    /// Re-verifies events another route may have stored in part; keeps what still follows.
    fn verify_against_store(&self, events: Vec<SealedEvent>) -> Result<Vec<OpenedEvent>, NodeError> {
        let store = &self.shared.store;
        let state = store.space()?.ok_or(NodeError::NoSpace)?;
        let key = store.space_key()?.ok_or(NodeError::NoSpace)?;
        let verifier = Verifier {
            space: state.space,
            membership: &state.membership,
            key: &key,
            max_lamport: store.max_lamport()?,
        };
        let outcome = verifier.verify_batch(
            |a| self.head_of(a),
            |a, s| store.event_hash(&state.space, a, s).ok().flatten(),
            events,
        );
        // These events passed once against the same log, so a failure now can only be a
        // fork between two routes; what precedes it is kept and the rest is left for later.
        Ok(outcome.accepted)
    }

    fn after_stored(&self, accepted: &[OpenedEvent]) {
        if accepted.is_empty() {
            return;
        }
        self.stored_changed();
        self.announce(accepted);
        let me = self.person_id();
        if accepted.iter().any(|e| Some(e.person) != me && matches!(e.payload, Payload::Post { .. })) {
            self.shared.delivery_due.notify_one();
        }
    }

    /// Writes delivery receipts, one for each burst of arrivals: a backlog of a hundred
    /// batches costs one or two receipts, not a hundred, and no batch waits for one.
    pub(crate) async fn delivery_receipts(self) {
        loop {
            self.shared.delivery_due.notified().await;
            tokio::time::sleep(DELIVERY_COALESCE).await;
            self.acknowledge_delivery().await;
        }
    }

    /// Tells my partner how far I hold each of their devices' logs (a coalesced delivery
    /// receipt).
    async fn acknowledge_delivery(&self) {
        let me = self.person_id();
        let Ok(Some(state)) = self.shared.store.space() else { return };
        let Ok(vv) = self.shared.store.version_vector() else { return };
        let held: Vec<(DeviceId, u64)> = state
            .membership
            .devices()
            .filter(|(_, d)| Some(d.certificate.person) != me)
            .map(|(id, _)| (*id, vv.get(id)))
            .filter(|(_, s)| *s > 0)
            .take(duet_log::payload::MAX_RECEIPT_DEVICES)
            .collect();
        if let Err(e) = self.write(Payload::Delivered { held }).await {
            tracing::warn!("could not write a delivery receipt: {e}");
        }
    }
}

async fn send(w: &mut Writer, msg: &SyncMessage) -> Result<(), NodeError> {
    write_frame(w, &msg.encode()).await.map_err(|e| NodeError::NotAllowed(format!("sync stream: {e}")))
}

/// Aborts a task when dropped.
pub(crate) struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Whether a refused event is its author's doing rather than the sending device's: it is
/// signed by its author and valid on its own, but conflicts with what this device holds (a
/// second version of a seq held, a clock too far past the clocks held, an event past its
/// author's removal, which a device may have taken before the removal reached it). An honest device may
/// forward such an event (it holds the other branch, or more of the space), so only the
/// author is cut off, never a forwarder.
fn authors_doing(e: &VerifyError) -> bool {
    matches!(e, VerifyError::Fork { .. } | VerifyError::LamportTooFar { .. } | VerifyError::Revoked { .. })
}

/// "7 minutes", "3 hours", "about 76 years": how far a clock is ahead, in words.
fn how_long(ms: u64) -> String {
    // To the nearest minute: an hour ahead, measured a moment later, is still 60 minutes.
    let minutes = ms.saturating_add(30_000) / 60_000;
    let (n, unit) = match minutes {
        0..=119 => (minutes.max(1), "minute"),
        120..=2879 => (minutes / 60, "hour"),
        2880..=1_051_199 => (minutes / 1440, "day"),
        _ => (minutes / 525_960, "year"),
    };
    let about = if unit == "year" { "about " } else { "" };
    format!("{about}{n} {unit}{}", if n == 1 { "" } else { "s" })
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
}

/// What the verifying stage passed but the store may not hold yet: per author, the head
/// after the batches passed, the hashes of the last few batches (for duplicates), and the
/// highest Lamport clock passed.
#[derive(Default)]
struct Pipeline {
    heads: std::collections::HashMap<DeviceId, LogHead>,
    recent: std::collections::VecDeque<Vec<(DeviceId, u64, duet_crypto::Hash)>>,
    clock: u64,
}

impl Checked {
    /// A batch of an author cut off here: nothing to store, only to acknowledge.
    fn skipped(author: DeviceId, head: LogHead) -> Self {
        Self { author, base: head, accepted: vec![], rejected: None }
    }
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

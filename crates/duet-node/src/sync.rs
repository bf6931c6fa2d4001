//! `/duet/sync/1` on real streams: the push session (one per connected member device) and the
//! receive session (one per inbound stream). The protocol itself is `duet_log::sync`.

use std::time::Duration;

use duet_log::sync::{MAX_BATCH_BYTES, MAX_FRAME_BYTES};
use duet_log::{OpenedEvent, Payload, PushPlanner, SealedEvent, SyncMessage, Verifier, VerifyError};
use duet_model::DeviceId;
use futures::io::{ReadHalf, WriteHalf};
use futures::AsyncReadExt;
use tokio::sync::mpsc;

use crate::frames::{read_frame, write_frame};
use crate::{Node, NodeError, NodeEvent};

/// How long a misbehaving device stays cut off.
const BAN: Duration = Duration::from_secs(60);

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
            while let Ok(Some(frame)) = read_frame(&mut r, MAX_FRAME_BYTES).await {
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
        match self.receive(&mut r, &mut w).await {
            Ok(()) => {}
            Err(e @ NodeError::NotAllowed(_)) => {
                let reason = e.to_string();
                tracing::info!(?device, "cutting off a device: {reason}");
                let _ = send(&mut w, &SyncMessage::Reject { reason: reason.clone() }).await;
                let _ = self.shared.net.disconnect(device, Some(BAN)).await;
                self.emit(NodeEvent::PeerRejected { device, reason });
            }
            Err(e) => tracing::debug!(?device, "receive session ended: {e}"),
        }
    }

    async fn receive(&self, r: &mut Reader, w: &mut Writer) -> Result<(), NodeError> {
        let hello = SyncMessage::Hello { members: self.members(), held: self.shared.store.version_vector()? };
        if send(w, &hello).await.is_err() {
            return Ok(()); // the stream closed (the device left): nothing wrong
        }
        loop {
            let frame = match read_frame(r, MAX_FRAME_BYTES).await {
                Ok(Some(f)) => f,
                Ok(None) | Err(_) => return Ok(()), // the stream closed: nothing wrong
            };
            let msg = SyncMessage::decode(&frame)
                .map_err(|e| NodeError::NotAllowed(format!("malformed sync message: {e}")))?;
            match msg {
                SyncMessage::Members(m) => self.merge_members(&m).await?,
                SyncMessage::Batch { author, first_seq, bodies } => {
                    let events = SyncMessage::batch_events(author, first_seq, bodies)
                        .map_err(|e| NodeError::NotAllowed(format!("malformed event: {e}")))?;
                    self.apply_remote(events).await?;
                    if send(w, &SyncMessage::Ack).await.is_err() {
                        return Ok(()); // the batch is stored; the device left before the ack
                    }
                }
                other => return Err(NodeError::NotAllowed(format!("unexpected sync message {other:?}"))),
            }
        }
    }

    /// Verifies and stores a batch from the network. Events before a bad one are kept.
    pub(crate) async fn apply_remote(&self, events: Vec<SealedEvent>) -> Result<(), NodeError> {
        let node = self.clone();
        let guard = self.shared.write_lock.lock().await;
        let (accepted, rejected) = tokio::task::spawn_blocking(move || -> Result<_, NodeError> {
            let store = &node.shared.store;
            let state = store.space()?.ok_or(NodeError::NoSpace)?;
            let key = store.space_key()?.ok_or(NodeError::NoSpace)?;
            let verifier = Verifier { space: state.space, membership: &state.membership, key: &key };
            let copy = events.clone();
            let outcome = verifier.verify_batch(
                |a| node.head_of(a),
                |a, s| store.event_hash(&state.space, a, s).ok().flatten(),
                events,
            );
            store.apply_remote(&outcome.accepted)?;
            if let Some((i, VerifyError::Fork { author, seq })) = &outcome.rejected {
                store.record_fork(author, *seq, copy[*i].body())?;
            }
            Ok((outcome.accepted, outcome.rejected.map(|(_, e)| e)))
        })
        .await
        .map_err(|_| NodeError::Stopped)??;
        drop(guard);
        if !accepted.is_empty() {
            self.stored_changed();
            self.announce(&accepted);
            self.acknowledge_delivery(&accepted).await;
        }
        match rejected {
            None => Ok(()),
            Some(e) => {
                if let VerifyError::Fork { author, seq } = e {
                    self.emit(NodeEvent::Fork { device: author, seq });
                }
                Err(NodeError::NotAllowed(e.to_string()))
            }
        }
    }

    /// After storing my partner's messages, tells them (a coalesced delivery receipt: how far
    /// I hold each of their devices' logs).
    async fn acknowledge_delivery(&self, accepted: &[OpenedEvent]) {
        let me = self.person_id();
        let theirs = accepted.iter().any(|e| Some(e.person) != me && matches!(e.payload, Payload::Post { .. }));
        if !theirs {
            return;
        }
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

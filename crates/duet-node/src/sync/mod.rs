//! `/duet/sync/1` on real streams: the push session (one per connected member device) and the
//! receive session (one per inbound stream). The protocol itself is `duet_log::sync`; the two
//! sides of a stream are [`session`], over any reader and writer, for any [`SyncHost`] — here
//! the node, which also bans a device that sends anything invalid and writes delivery receipts.

mod session;

use std::time::Duration;

use duet_log::{Members, OpenedEvent, Payload, SyncMessage};
use duet_model::{DeviceId, Timestamp};
use duet_store::Store;
use futures::AsyncReadExt;
use tokio::sync::watch;

use session::SyncHost;
pub(crate) use session::{head_of, AbortOnDrop};

use crate::{Node, NodeError, NodeEvent};

/// How long a misbehaving device stays cut off.
const BAN: Duration = Duration::from_secs(60);

/// The pause before a failed push session opens its stream again, the first time.
const PUSH_RETRY_FIRST: Duration = Duration::from_millis(50);
/// The longest pause between two tries of a push session that keeps failing.
const PUSH_RETRY_MAX: Duration = Duration::from_secs(1);

/// Arrivals within this window share one delivery receipt.
const DELIVERY_COALESCE: Duration = Duration::from_millis(50);

impl SyncHost for Node {
    fn store(&self) -> &Store {
        &self.shared.store
    }

    fn device_key(&self) -> &duet_crypto::DeviceKey {
        &self.shared.device
    }

    fn write_lock(&self) -> &tokio::sync::Mutex<()> {
        &self.shared.write_lock
    }

    fn changes(&self) -> watch::Receiver<u64> {
        self.shared.changed.subscribe()
    }

    fn members(&self) -> Members {
        Node::members(self)
    }

    async fn merge_members(&self, members: &Members) -> Result<(), NodeError> {
        Node::merge_members(self, members).await
    }

    fn has_forked(&self, author: &DeviceId) -> bool {
        Node::has_forked(self, author)
    }

    fn mark_forked(&self, author: DeviceId) {
        crate::lock(&self.shared.forked).insert(author);
    }

    fn too_early(&self, author: DeviceId, at: Timestamp) {
        self.tell_too_early(author, at);
    }

    async fn stored(&self, events: &[OpenedEvent]) {
        self.membership_events_stored(events).await;
        self.after_stored(events);
        if self.catching_up() {
            let _ = self.check_caught_up();
        }
    }

    async fn first_fork(&self, author: DeviceId, seq: u64) {
        self.emit(NodeEvent::Fork { device: author, seq, message: self.fork_words(&author, seq) });
        self.cut_off_forked(author).await;
    }

    fn peer_holds(&self, peer: DeviceId, held: &duet_log::VersionVector) {
        self.catch_up_on(held);
        if self.is_mailbox(&peer) {
            self.mailbox_holds(held);
        }
    }
}

impl Node {
    /// Pushes to `device` whatever it lacks, now and whenever something new is stored, for as
    /// long as it stays connected (a failed stream is reopened after a pause).
    ///
    /// The first pause is short: when both devices dial each other at once, one of the two
    /// connections is closed just as the session opens its stream on it, and waiting a full
    /// second then held up a whole backlog (one start in six in the sync bench). A session
    /// that fails again at once waits twice as long each time, up to [`PUSH_RETRY_MAX`]; one
    /// that ran that long starts over from [`PUSH_RETRY_FIRST`].
    pub(crate) async fn push_session(self, device: DeviceId) {
        let mut pause = Duration::ZERO;
        loop {
            let started = tokio::time::Instant::now();
            match self.push_once(device).await {
                Ok(()) => return,
                Err(e) => tracing::debug!(?device, "push session ended: {e}"),
            }
            pause = if started.elapsed() >= PUSH_RETRY_MAX {
                PUSH_RETRY_FIRST
            } else {
                (pause * 2).clamp(PUSH_RETRY_FIRST, PUSH_RETRY_MAX)
            };
            tokio::time::sleep(pause).await;
            if !self.shared.net.connected().await.map(|c| c.contains(&device)).unwrap_or(false) {
                return;
            }
        }
    }

    async fn push_once(&self, device: DeviceId) -> Result<(), NodeError> {
        let stream = self.shared.net.open_stream(device, duet_net::DuetProtocol::Sync).await?;
        let (r, w) = stream.split();
        session::push(self, device, r, w).await
    }

    /// Receives what `device` pushes: checks each batch, applies it atomically, acknowledges.
    pub(crate) async fn receive_session(self, device: DeviceId, stream: duet_net::Stream) {
        let (mut r, mut w) = stream.split();
        // Only what the device sent is held against it; our own failures (store, shutdown)
        // just end the session.
        match session::receive(&self, device, &mut r, &mut w).await {
            Ok(()) => {}
            Err(e @ NodeError::PeerFault(_)) => {
                let reason = e.to_string();
                tracing::info!(?device, "cutting off a device: {reason}");
                let _ = session::send(&mut w, &SyncMessage::Reject { reason: reason.clone() }).await;
                let _ = self.shared.net.disconnect(device, Some(BAN)).await;
                self.emit(NodeEvent::PeerRejected { device, reason });
            }
            Err(e) => tracing::debug!(?device, "receive session ended: {e}"),
        }
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
        self.shared.peers.remove(&device);
        if let Ok(Some(state)) = self.shared.store.space() {
            let _ = self.allow_members(&state.membership).await;
        }
        let _ = self.shared.net.disconnect(device, None).await;
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

//! The couple's blind mailbox: running one ([`Mailbox`], `duet mailbox`), and using one from a
//! device (`duet mailbox add TICKET`).
//!
//! A device adds the mailbox once: it registers the space with it (proving it holds the
//! ticket), then writes a signed `MailboxSet` event, so every device of the couple learns
//! where the mailbox runs and uses it too. From then on each device syncs with the mailbox as
//! with a member device (`/duet/sync/1` both ways: what it writes goes there at once, and what
//! it lacks comes from there when it starts), except that the mailbox gets no live messages
//! (presence, typing, calls). Attachments of messages the partner has not received yet are
//! put there too, blind (`blobs.rs`; `docs/protocols.md`, "Mailbox").

mod blobs;
mod server;

use std::time::Duration;

use duet_log::mailbox::{registration_proof, MailboxRequest, MailboxTicket, Register, RegisterReply, Revocation};
use duet_log::Payload;
use duet_model::{DeviceId, MailboxPlace};
use duet_net::{DuetProtocol, Multiaddr};
pub use server::{Mailbox, MailboxConfig};

use crate::frames::{read_frame, write_frame, FrameRules};
use crate::streams::PAIR_FRAMES;
use crate::{Node, NodeError, NodeEvent};

/// The couple's mailbox as a device sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MailboxStatus {
    /// Where it runs; `None`: the couple uses no mailbox.
    pub mailbox: Option<MailboxPlace>,
    /// Whether this device is connected to it now.
    pub connected: bool,
    /// What it holds of what my devices wrote, as far as this device knows (from its push
    /// sessions with the mailbox): per device of mine, the time of the newest event it
    /// holds. One of my messages not delivered yet waits at the mailbox when its time is at
    /// or before its device's (an event's time only goes backwards with the clock).
    pub holds: Vec<MailboxHeld>,
    /// How full it is and what its quota dropped, as it last said (`None` until it did).
    pub usage: Option<MailboxUsage>,
}

/// How full the couple's mailbox is, and what its quota made it drop before every device
/// had it: those messages come only when a device that holds them is online too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MailboxUsage {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bytes_held: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub quota_bytes: u64,
    /// Events dropped before every device had them, ever.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub dropped_undelivered: u64,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub last_drop: Option<duet_model::Timestamp>,
}

/// What a device knows of the couple's mailbox, beyond the choice (kept in the log).
#[derive(Default)]
pub(crate) struct MailboxKnown {
    /// What it holds of my devices' events, from the push sessions.
    holds: std::sync::Mutex<Vec<MailboxHeld>>,
    /// How full it said it is, and when it said so.
    usage: std::sync::Mutex<Option<(std::time::Instant, MailboxUsage)>>,
    /// (a question about its usage is under way, ask again after it)
    asking: std::sync::Mutex<(bool, bool)>,
}

impl From<duet_log::mailbox::MailboxReport> for MailboxUsage {
    fn from(r: duet_log::mailbox::MailboxReport) -> Self {
        MailboxUsage {
            bytes_held: r.bytes_held,
            quota_bytes: r.quota_bytes,
            dropped_undelivered: r.dropped_undelivered,
            last_drop: r.last_drop.map(duet_model::Timestamp),
        }
    }
}

/// How long a mailbox's answer about its usage is shown before it is asked again.
const USAGE_FRESH: Duration = Duration::from_secs(60);

/// The newest of one of my devices' events the mailbox holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MailboxHeld {
    pub device: DeviceId,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub until: duet_model::Timestamp,
}

/// How long adding a mailbox waits for it to answer.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(30);

fn unreachable_mailbox(e: impl std::fmt::Display) -> NodeError {
    NodeError::NotAllowed(format!(
        "could not reach the mailbox ({e}). Check that `duet mailbox` runs there and that this computer can reach \
         the address in its ticket"
    ))
}

impl Node {
    /// Makes the mailbox a ticket names the couple's: registers this space with it, then tells
    /// every device of the couple (a signed event), which all use it from then on.
    pub async fn add_mailbox(&self, ticket: &str) -> Result<MailboxPlace, NodeError> {
        let ticket = MailboxTicket::decode(ticket).map_err(|e| NodeError::NotAllowed(e.to_string()))?;
        let state = self.shared.store.space()?.ok_or(NodeError::NoSpace)?;
        let addrs: Vec<Multiaddr> = ticket.addresses.iter().filter_map(|a| a.parse().ok()).collect();
        self.add_peer_addresses(ticket.device, addrs).await?;
        let request = Register {
            space: state.space,
            proof: registration_proof(&ticket.secret, &state.space, &self.device_id()),
            members: self.members(),
        };
        match self.ask_mailbox(ticket.device, &MailboxRequest::Register(request)).await? {
            RegisterReply::Registered => {}
            RegisterReply::Refused { reason } => {
                return Err(NodeError::NotAllowed(format!("the mailbox refused: {reason}")));
            }
            other => return Err(NodeError::NotAllowed(format!("the mailbox answered oddly: {other:?}"))),
        }
        let place = MailboxPlace { device: ticket.device, addresses: ticket.addresses };
        self.write(Payload::MailboxSet { mailbox: Some(place.clone()) }).await?;
        self.use_mailbox().await?;
        Ok(place)
    }

    /// One request to the mailbox `device` on `/duet/mailbox/1`, and its answer.
    async fn ask_mailbox(&self, device: DeviceId, request: &MailboxRequest) -> Result<RegisterReply, NodeError> {
        tokio::time::timeout(REGISTER_TIMEOUT, async {
            let mut stream =
                self.shared.net.open_stream(device, DuetProtocol::Mailbox).await.map_err(unreachable_mailbox)?;
            write_frame(&mut stream, &request.encode()).await.map_err(unreachable_mailbox)?;
            let frame = read_frame(&mut stream, FrameRules { idle: REGISTER_TIMEOUT, ..PAIR_FRAMES })
                .await
                .map_err(unreachable_mailbox)?
                .ok_or_else(|| unreachable_mailbox("it closed the stream"))?;
            RegisterReply::decode(&frame).map_err(|e| NodeError::NotAllowed(e.to_string()))
        })
        .await
        .map_err(|_| NodeError::Timeout)?
    }

    /// Asks the connected mailbox how full it is and what its quota dropped; keeps the
    /// answer for `mailbox_status` and tells the front ends when it changed.
    pub(crate) async fn refresh_mailbox_usage(&self, device: DeviceId) -> Result<(), NodeError> {
        let report = match self.ask_mailbox(device, &MailboxRequest::Report).await? {
            RegisterReply::Report(report) => report,
            RegisterReply::Refused { reason } => return Err(NodeError::NotAllowed(reason)),
            other => return Err(NodeError::NotAllowed(format!("the mailbox answered oddly: {other:?}"))),
        };
        let usage = MailboxUsage::from(report);
        let before = crate::lock(&self.shared.mailbox.usage).replace((std::time::Instant::now(), usage));
        if before.map(|(_, u)| u) != Some(usage) {
            self.emit(NodeEvent::MailboxChanged);
        }
        Ok(())
    }

    /// Asks in the background (a mailbox that does not answer is only logged). One question
    /// at a time: asked again while one is under way, it asks once more after it, so the last
    /// answer is never older than the last reason to ask.
    pub(crate) fn ask_mailbox_usage(&self, device: DeviceId) {
        {
            let mut asking = crate::lock(&self.shared.mailbox.asking);
            if asking.0 {
                asking.1 = true;
                return;
            }
            *asking = (true, false);
        }
        let node = self.clone();
        let task = tokio::spawn(async move {
            loop {
                if let Err(e) = node.refresh_mailbox_usage(device).await {
                    tracing::info!(?device, "the mailbox did not say how full it is: {e}");
                }
                let mut asking = crate::lock(&node.shared.mailbox.asking);
                if !asking.1 {
                    *asking = (false, false);
                    return;
                }
                asking.1 = false;
            }
        });
        self.track_task(task);
    }

    /// Tells the mailbox, signed by this device, of every device of my person that was
    /// removed: the removal travels sealed, and the mailbox must refuse what such a device
    /// sends from then on. Repeated on every connection (the mailbox keeps it once).
    pub(crate) async fn tell_mailbox_removals(&self, mailbox: DeviceId) -> Result<(), NodeError> {
        let (Some(me), Some(state)) = (self.person_id(), self.shared.store.space()?) else { return Ok(()) };
        let removed: Vec<(DeviceId, u64)> = state
            .membership
            .devices()
            .filter(|(_, d)| d.certificate.person == me)
            .filter_map(|(id, d)| d.last_seq.map(|s| (*id, s)))
            .filter(|(id, _)| *id != self.device_id())
            .collect();
        for (device, last_seq) in removed {
            let revocation = Revocation::sign(&state.space, device, last_seq, &self.shared.device);
            match self.ask_mailbox(mailbox, &MailboxRequest::Revoke(revocation)).await? {
                RegisterReply::Registered => {}
                RegisterReply::Refused { reason } => tracing::warn!(?device, "the mailbox refused a removal: {reason}"),
                other => tracing::warn!(?device, "the mailbox answered a removal oddly: {other:?}"),
            }
        }
        Ok(())
    }

    /// [`Node::tell_mailbox_removals`] in the background, when the mailbox is connected.
    pub(crate) fn tell_mailbox_removals_soon(&self) {
        let Ok(Some(place)) = self.mailbox() else { return };
        let node = self.clone();
        let task = tokio::spawn(async move {
            if let Err(e) = node.tell_mailbox_removals(place.device).await {
                tracing::info!("the mailbox was not told of a removal: {e}");
            }
        });
        self.track_task(task);
    }

    /// Stops using the couple's mailbox, on every device of theirs.
    pub async fn remove_mailbox(&self) -> Result<(), NodeError> {
        let old = self.mailbox()?;
        self.write(Payload::MailboxSet { mailbox: None }).await?;
        self.use_mailbox().await?;
        if let Some(old) = old {
            self.shared.peers.remove(&old.device);
            let _ = self.shared.net.disconnect(old.device, None).await;
        }
        Ok(())
    }

    /// The couple's mailbox, as last chosen by either of them.
    pub fn mailbox(&self) -> Result<Option<MailboxPlace>, NodeError> {
        Ok(self.shared.store.mailbox()?.and_then(|m| m.value))
    }

    /// The couple's mailbox, and whether this device reaches it now.
    pub async fn mailbox_status(&self) -> Result<MailboxStatus, NodeError> {
        let mailbox = self.mailbox()?;
        let connected = match &mailbox {
            Some(m) => self.shared.net.connected().await?.contains(&m.device),
            None => false,
        };
        let holds = match &mailbox {
            Some(_) => crate::lock(&self.shared.mailbox.holds).clone(),
            None => Vec::new(),
        };
        let usage = *crate::lock(&self.shared.mailbox.usage);
        if let (Some(m), true) = (&mailbox, connected) {
            // Asked on connecting; asked again when the answer is old (the quota may bite
            // any time a device pushes).
            if usage.is_none_or(|(at, _)| at.elapsed() > USAGE_FRESH) {
                self.ask_mailbox_usage(m.device);
            }
        }
        let usage = usage.map(|(_, u)| u).filter(|_| mailbox.is_some());
        Ok(MailboxStatus { mailbox, connected, holds, usage })
    }

    /// The mailbox said (or acknowledged) what it holds: keeps what it holds of my devices'
    /// events, and tells the front ends when that changed.
    pub(crate) fn mailbox_holds(&self, held: &duet_log::VersionVector) {
        let (Some(me), Ok(Some(state))) = (self.person_id(), self.shared.store.space()) else { return };
        let mut holds: Vec<MailboxHeld> = state
            .membership
            .devices_of(&me)
            .filter_map(|device| {
                let seq = held.get(&device);
                let event = self.shared.store.events_from(&device, seq, 1).ok()?.into_iter().next()?;
                (seq > 0 && event.seq() == seq).then(|| MailboxHeld { device, until: event.timestamp() })
            })
            .collect();
        holds.sort_by_key(|h| h.device);
        let changed = {
            let mut kept = crate::lock(&self.shared.mailbox.holds);
            let changed = *kept != holds;
            *kept = holds;
            changed
        };
        if changed {
            self.emit(NodeEvent::MailboxChanged);
            // A push that took it past its quota made it drop the oldest: ask.
            if let Ok(Some(m)) = self.mailbox() {
                self.ask_mailbox_usage(m.device);
            }
        }
    }

    /// Whether `device` is the couple's mailbox.
    pub(crate) fn is_mailbox(&self, device: &DeviceId) -> bool {
        matches!(self.mailbox(), Ok(Some(m)) if m.device == *device) && *device != self.device_id()
    }

    /// Syncs with the mailbox chosen now (after a `MailboxSet` event, mine or forwarded).
    pub(crate) async fn use_mailbox(&self) -> Result<(), NodeError> {
        // What the old one held says nothing of the new one.
        crate::lock(&self.shared.mailbox.holds).clear();
        *crate::lock(&self.shared.mailbox.usage) = None;
        if let Some(state) = self.shared.store.space()? {
            self.update_members(&state.membership).await?;
        }
        self.emit(NodeEvent::MailboxChanged);
        Ok(())
    }

    /// The mailbox's addresses told to the network, and its id if it may sync.
    pub(crate) async fn mailbox_to_allow(&self) -> Result<Option<DeviceId>, NodeError> {
        let Some(place) = self.mailbox()? else { return Ok(None) };
        if place.device == self.device_id() {
            return Ok(None);
        }
        let addrs: Vec<Multiaddr> = place.addresses.iter().filter_map(|a| a.parse().ok()).collect();
        self.shared.net.add_addresses(place.device, addrs).await?;
        Ok(Some(place.device))
    }

    /// Starts the push session to the connected mailbox. It gets no live messages: its live
    /// queue is drained and dropped.
    pub(crate) fn start_mailbox_peer(&self, device: DeviceId) {
        self.shared.peers.start(
            device,
            || tokio::spawn(self.clone().push_session(device)),
            |mut live| tokio::spawn(async move { while live.recv().await.is_some() {} }),
        );
        let task = tokio::spawn(self.clone().put_blobs_at_mailbox(device));
        self.track_task(task);
        self.tell_mailbox_removals_soon();
        // Fetches that found nobody to ask may find the attachment there.
        self.blob_peers_changed();
    }
}

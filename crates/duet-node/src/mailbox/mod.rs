//! The couple's blind mailbox: running one ([`Mailbox`], `duet mailbox`), and using one from a
//! device (`duet mailbox add TICKET`).
//!
//! A device adds the mailbox once: it registers the space with it (proving it holds the
//! ticket), then writes a signed `MailboxSet` event, so every device of the couple learns
//! where the mailbox runs and uses it too. From then on each device syncs with the mailbox as
//! with a member device (`/duet/sync/1` both ways: what it writes goes there at once, and what
//! it lacks comes from there when it starts), except that the mailbox gets no live messages
//! (presence, typing, calls) and no attachments: it carries events only (`docs/protocols.md`,
//! "Mailbox").

mod server;

use std::time::Duration;

use duet_log::mailbox::{registration_proof, MailboxTicket, Register, RegisterReply};
use duet_log::Payload;
use duet_model::{DeviceId, MailboxPlace};
use duet_net::{DuetProtocol, Multiaddr};
pub use server::{Mailbox, MailboxConfig};

use crate::frames::{read_frame, write_frame, FrameRules};
use crate::streams::PAIR_FRAMES;
use crate::{Node, NodeError};

/// The couple's mailbox as a device sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MailboxStatus {
    /// Where it runs; `None`: the couple uses no mailbox.
    pub mailbox: Option<MailboxPlace>,
    /// Whether this device is connected to it now.
    pub connected: bool,
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
        let reply = tokio::time::timeout(REGISTER_TIMEOUT, async {
            let mut stream =
                self.shared.net.open_stream(ticket.device, DuetProtocol::Mailbox).await.map_err(unreachable_mailbox)?;
            write_frame(&mut stream, &request.encode()).await.map_err(unreachable_mailbox)?;
            let frame = read_frame(&mut stream, FrameRules { idle: REGISTER_TIMEOUT, ..PAIR_FRAMES })
                .await
                .map_err(unreachable_mailbox)?
                .ok_or_else(|| unreachable_mailbox("it closed the stream"))?;
            RegisterReply::decode(&frame).map_err(|e| NodeError::NotAllowed(e.to_string()))
        })
        .await
        .map_err(|_| NodeError::Timeout)??;
        match reply {
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
        Ok(MailboxStatus { mailbox, connected })
    }

    /// Whether `device` is the couple's mailbox.
    pub(crate) fn is_mailbox(&self, device: &DeviceId) -> bool {
        matches!(self.mailbox(), Ok(Some(m)) if m.device == *device) && *device != self.device_id()
    }

    /// Syncs with the mailbox chosen now (after a `MailboxSet` event, mine or forwarded).
    pub(crate) async fn use_mailbox(&self) -> Result<(), NodeError> {
        if let Some(state) = self.shared.store.space()? {
            self.update_members(&state.membership).await?;
        }
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
    }
}

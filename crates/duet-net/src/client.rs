//! The handle the node holds: [`start`] and [`Client`].
//!
//! Every method sends one command to the event loop and awaits its `oneshot` reply, except
//! [`Client::open_stream`], which asks the loop to connect and then negotiates the stream
//! itself (so a slow negotiation never holds up the loop). Waits that depend on the network
//! are bounded: a dial gives up after [`DIAL_TIMEOUT`], a stream negotiation after
//! [`STREAM_TIMEOUT`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId, Stream};
use tokio::sync::{mpsc, oneshot};

use crate::event_loop::{Command, EventLoop};
use crate::{behaviour, device_id, peer_id, ports, DeviceId, DuetProtocol, NetConfig, NetError, NetEvent, Route};

/// How long [`Client::dial`] (and the dial inside [`Client::open_stream`]) may take.
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long negotiating a stream on an open connection may take.
pub const STREAM_TIMEOUT: Duration = Duration::from_secs(20);
/// Commands waiting for the loop.
const COMMAND_QUEUE: usize = 64;
/// Events waiting for the node.
const EVENT_QUEUE: usize = 256;

/// A handle on the network of this device. Cheap to clone; the network stops when
/// [`shutdown`](Self::shutdown) is called or the last clone is dropped.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("local_device", &self.inner.local).finish_non_exhaustive()
    }
}

struct Inner {
    commands: mpsc::Sender<Command>,
    control: libp2p_stream::Control,
    local: DeviceId,
}

/// Starts the network: builds the swarm, starts listening (and reserving relay slots), and
/// spawns the event loop on the current tokio runtime.
///
/// Fails if the key is invalid, a relay or bootstrap address lacks its `/p2p/<peer id>`, or
/// an address cannot be listened on (for example a port in use).
pub async fn start(config: NetConfig) -> Result<(Client, mpsc::Receiver<NetEvent>), NetError> {
    let key = Keypair::ed25519_from_bytes(config.device_secret).map_err(|_| NetError::InvalidKey)?;
    let local_peer = key.public().to_peer_id();
    let local = device_id(&local_peer).ok_or(NetError::InvalidKey)?;

    let relays = with_peer_ids(&config.relays, "a relay")?;
    let bootstrap = with_peer_ids(&config.bootstrap, "a bootstrap peer")?;

    let mut swarm = behaviour::build_swarm(key, &config)?;
    let same_ports = ports::same_ports(&config.listen, &config.listened, ports::port_is_free);
    for (addr, same_port) in config.listen.iter().zip(same_ports) {
        // The port from last time was free a moment ago; if it is not any more, any will do.
        if same_port != *addr && swarm.listen_on(same_port).is_ok() {
            continue;
        }
        swarm.listen_on(addr.clone()).map_err(|e| NetError::Listen { addr: addr.clone(), reason: e.to_string() })?;
    }
    for (relay, addr) in &bootstrap {
        swarm.behaviour_mut().kad.add_address(relay, addr.clone());
    }
    if !bootstrap.is_empty() {
        // Only fails without known peers, which were just added.
        let _ = swarm.behaviour_mut().kad.bootstrap();
    }

    let mut control = swarm.behaviour().stream.new_control();
    let mut incoming = Vec::new();
    for protocol in DuetProtocol::ALL {
        let streams =
            control.accept(protocol.stream_protocol()).map_err(|e| NetError::Transport { reason: e.to_string() })?;
        incoming.push((protocol, streams));
    }

    let (command_tx, command_rx) = mpsc::channel(COMMAND_QUEUE);
    let (event_tx, event_rx) = mpsc::channel(EVENT_QUEUE);
    let mut event_loop = EventLoop::new(swarm, command_rx, event_tx, incoming, config.relay_server);
    for (relay, addr) in relays {
        event_loop.add_relay(relay, addr)?;
    }
    tokio::spawn(event_loop.run());

    let client = Client { inner: Arc::new(Inner { commands: command_tx, control, local }) };
    Ok((client, event_rx))
}

/// Splits `/…/p2p/<peer>` addresses into (peer, address).
fn with_peer_ids(addrs: &[Multiaddr], role: &'static str) -> Result<Vec<(PeerId, Multiaddr)>, NetError> {
    addrs
        .iter()
        .map(|addr| match addr.iter().last() {
            Some(Protocol::P2p(peer)) => Ok((peer, addr.clone())),
            _ => Err(NetError::AddressWithoutPeer { addr: addr.clone(), role }),
        })
        .collect()
}

impl Client {
    /// This device.
    pub fn local_device(&self) -> DeviceId {
        self.inner.local
    }

    /// The confirmed listen addresses, plain (without `/p2p/<self>`; see [`crate::with_peer`]),
    /// relayed `/p2p-circuit` ones included.
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, NetError> {
        self.request(|reply| Command::ListenAddrs { reply }).await
    }

    /// Waits until at least one listen address is confirmed and, if relays are configured,
    /// at least one relayed address; returns them all (as [`listen_addrs`](Self::listen_addrs)).
    pub async fn wait_listening(&self, timeout: Duration) -> Result<Vec<Multiaddr>, NetError> {
        tokio::time::timeout(timeout, self.request(|reply| Command::WaitListening { reply }))
            .await
            .map_err(|_| NetError::Timeout { what: "the network to listen" })?
    }

    /// Tells the network where `device` may be (from the node's address book or an invite).
    pub async fn add_addresses(&self, device: DeviceId, addrs: Vec<Multiaddr>) -> Result<(), NetError> {
        self.request(|reply| Command::AddAddresses { peer: peer_id(&device), addrs, reply }).await
    }

    /// Connects to `device` using its known addresses, or a Kademlia lookup when none are
    /// known. Returns once connected (at once if already connected).
    pub async fn dial(&self, device: DeviceId) -> Result<(), NetError> {
        let peer = peer_id(&device);
        match tokio::time::timeout(DIAL_TIMEOUT, self.request(|reply| Command::Dial { peer, reply })).await {
            Ok(result) => result?,
            Err(_) => Err(NetError::Unreachable { device, reason: "no answer in time".into() }),
        }
    }

    /// The member devices: only they may open `Sync` and `Live` streams, and they are kept
    /// connected (redialed with backoff whenever the connection is lost).
    pub async fn set_members(&self, members: Vec<DeviceId>) -> Result<(), NetError> {
        let members = members.iter().map(peer_id).collect();
        self.request(|reply| Command::SetMembers { members, reply }).await
    }

    /// Whether any device may open a `Pair` stream (while an invite is out).
    pub async fn set_pairing_open(&self, open: bool) -> Result<(), NetError> {
        self.request(|reply| Command::SetPairingOpen { open, reply }).await
    }

    /// Opens a stream of `protocol` to `device`, connecting first if needed.
    pub async fn open_stream(&self, device: DeviceId, protocol: DuetProtocol) -> Result<Stream, NetError> {
        self.dial(device).await?;
        let mut control = self.inner.control.clone();
        let opened =
            tokio::time::timeout(STREAM_TIMEOUT, control.open_stream(peer_id(&device), protocol.stream_protocol()));
        match opened.await {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(libp2p_stream::OpenStreamError::UnsupportedProtocol(_))) => {
                Err(NetError::Unsupported { device, protocol })
            }
            Ok(Err(e)) => Err(NetError::Stream { device, protocol, reason: e.to_string() }),
            Err(_) => Err(NetError::Stream { device, protocol, reason: "no answer in time".into() }),
        }
    }

    /// Closes every connection to `device`; with `ban_for`, also refuses its connections (and
    /// does not dial it) for that long.
    pub async fn disconnect(&self, device: DeviceId, ban_for: Option<Duration>) -> Result<(), NetError> {
        self.request(|reply| Command::Disconnect { peer: peer_id(&device), ban_for, reply }).await
    }

    /// The devices connected right now (any peer with an ed25519 key: members, relays, DHT
    /// peers).
    pub async fn connected(&self) -> Result<Vec<DeviceId>, NetError> {
        Ok(self.routes().await?.into_keys().collect())
    }

    /// Listens through exactly these relays from now on (each ending with `/p2p/<relay id>`):
    /// slots are reserved on new ones and released on dropped ones.
    pub async fn set_relays(&self, relays: &[Multiaddr]) -> Result<(), NetError> {
        let relays = with_peer_ids(relays, "a relay")?;
        self.request(|reply| Command::SetRelays { relays, reply }).await?
    }

    /// The devices connected right now, and whether each is reached directly or only through
    /// a relay.
    pub async fn routes(&self) -> Result<HashMap<DeviceId, Route>, NetError> {
        let peers = self.request(|reply| Command::Connected { reply }).await?;
        Ok(peers.into_iter().filter_map(|(peer, route)| Some((device_id(&peer)?, route))).collect())
    }

    /// Stops the network: closes every connection and listener, then returns. Later calls on
    /// any clone fail with [`NetError::Stopped`].
    pub async fn shutdown(&self) {
        let _ = self.request(|reply| Command::Shutdown { reply }).await;
    }

    async fn request<T>(&self, command: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, NetError> {
        let (reply, answer) = oneshot::channel();
        self.inner.commands.send(command(reply)).await.map_err(|_| NetError::Stopped)?;
        answer.await.map_err(|_| NetError::Stopped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The node spawns these on a multi-threaded runtime, so they must be `Send`.
    #[allow(dead_code)]
    fn futures_are_send(client: Client, device: DeviceId) {
        fn send<T: Send>(_: T) {}
        send(start(NetConfig::new([1; 32])));
        send(client.open_stream(device, DuetProtocol::Sync));
        send(client.dial(device));
        send(client.wait_listening(Duration::from_secs(1)));
        send(client.shutdown());
    }
}

//! A relay a couple runs for themselves (`duet relay`): a libp2p circuit relay v2 and
//! Kademlia node that carries encrypted connections between their devices, plus STUN and
//! TURN on one UDP port for their calls. It can read nothing: the connections it carries are
//! Noise-encrypted end to end, the calls it relays SRTP.
//!
//! It serves the devices its owner lists (every device of both partners) and refuses every
//! other connection before any protocol runs, so a relay whose address leaks does not become
//! everyone's free relay; with no list it serves anyone (a public relay).
//!
//! TURN's credentials reach each device over its libp2p connection to the relay
//! (`/duet/turn/1`, see `duet_net::turn`): only a device the relay let connect can ask, and
//! the TURN port checks the device is still served. A node fetches them when it connects to
//! a relay (`Node::turn_servers`).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use duet_net::turn::{TurnConfig, TurnSecret};
use duet_net::{DeviceId, DuetProtocol, Multiaddr, NetConfig, NetEvent};

use crate::NodeError;

/// How a relay runs.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// The relay's key: its peer id, and TURN's password secret, derive from it.
    pub secret: [u8; 32],
    /// Where it listens for libp2p (TCP, QUIC).
    pub listen: Vec<Multiaddr>,
    /// Where it answers STUN and TURN; `None`: neither.
    pub stun: Option<SocketAddr>,
    /// Its address on the internet, where TURN relays from (see `duet_net::turn::relay_ip`).
    pub turn_ip: Option<IpAddr>,
    /// The devices it serves; `None` serves anyone.
    pub allow: Option<Vec<DeviceId>>,
}

/// A running relay.
pub struct Relay {
    client: duet_net::Client,
    addrs: Vec<Multiaddr>,
    stun: Option<SocketAddr>,
    turn_ip: Option<IpAddr>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Relay {
    /// Starts the relay and waits (up to 30 s) until it listens.
    pub async fn start(config: RelayConfig) -> Result<Relay, NodeError> {
        let mut net = NetConfig::new(config.secret);
        net.relay_server = true;
        net.allow_only = config.allow.clone();
        net.mdns = false;
        net.listen = config.listen.clone();
        let (client, mut events) = duet_net::start(net).await?;
        let peer = duet_net::peer_id(&client.local_device());
        let listening = client.wait_listening(Duration::from_secs(30)).await?;
        let addrs = listening.iter().map(|a| duet_net::with_peer(a.clone(), &peer)).collect();

        let mut tasks = Vec::new();
        let (mut stun, mut turn_ip, mut turn) = (None, None, None);
        if let Some(at) = config.stun {
            let socket = tokio::net::UdpSocket::bind(at)
                .await
                .map_err(|e| NodeError::Failed(format!("cannot answer STUN and TURN on {at}: {e}")))?;
            let bound = socket.local_addr().map_err(|e| NodeError::Failed(e.to_string()))?;
            let relay_ip = duet_net::turn::relay_ip(config.turn_ip, at, &listening);
            let secret = TurnSecret::derive(&config.secret);
            let turn_config = TurnConfig {
                secret: secret.clone(),
                relay_ip,
                allowed: config.allow.map(|devices| devices.into_iter().collect()),
            };
            tasks.push(tokio::spawn(duet_net::turn::serve(socket, turn_config)));
            (stun, turn_ip, turn) = (Some(bound), Some(relay_ip), Some((secret, bound.port())));
        }
        tasks.push(tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                // Only devices the network layer let connect get here (the allow list).
                let NetEvent::InboundStream { device, protocol: DuetProtocol::Turn, stream } = event else { continue };
                let Some((secret, port)) = &turn else { continue };
                let credentials = secret.issue(&device, *port, duet_net::turn::unix_now());
                // A device that hangs up before reading them asks again when it reconnects.
                tokio::spawn(async move { duet_net::turn::give_credentials(stream, &credentials).await });
            }
        }));
        Ok(Relay { client, addrs, stun, turn_ip, tasks })
    }

    /// Where devices reach it (each ends with `/p2p/<relay>`): what `--relay` takes.
    pub fn addrs(&self) -> &[Multiaddr] {
        &self.addrs
    }

    /// Where it answers STUN and TURN, if it does.
    pub fn stun_addr(&self) -> Option<SocketAddr> {
        self.stun
    }

    /// The address TURN relays calls from, if it serves TURN.
    pub fn turn_ip(&self) -> Option<IpAddr> {
        self.turn_ip
    }

    pub async fn shutdown(self) {
        for task in &self.tasks {
            task.abort();
        }
        self.client.shutdown().await;
    }
}

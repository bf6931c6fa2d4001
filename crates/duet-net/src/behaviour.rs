//! The libp2p behaviour of a Duet device, and the swarm that drives it.
//!
//! Transports: TCP and QUIC, plus the circuit relay v2 client transport (so a device behind
//! NAT can listen through a relay); TCP and relayed connections are secured with Noise and
//! multiplexed with Yamux, QUIC brings its own TLS.
//!
//! Behaviours, in the order the swarm consults them (the first three can refuse a connection
//! before anyone else sees it):
//! - `allow_list` (only in a relay that serves listed devices): everyone else;
//! - `block_list`: peers cut off with a ban (`Client::disconnect(.., Some(..))`);
//! - `limits`: the connection limit; member devices and relays bypass it;
//! - `keep_alive`: keeps idle connections to members open (see [`crate::keep_alive`]);
//! - `relay_client` / `relay_server` (only in `duet relay` mode) / `dcutr`: relayed
//!   connections and hole punching to turn them into direct ones;
//! - `identify`, `ping`, `autonat` (v1: one behaviour is both client and server, which is the
//!   cheapest fit; it only probes every few minutes), `kad` (Duet's own DHT, `/duet/kad/1`,
//!   for finding a device's current addresses), `mdns` (optional LAN discovery);
//! - `stream`: raw streams for the three Duet protocols (see [`crate::DuetProtocol`]).

use std::num::NonZeroUsize;
use std::time::Duration;

use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{
    allow_block_list, autonat, connection_limits, dcutr, identify, identity, kad, mdns, noise, ping, relay, tcp, yamux,
    StreamProtocol, Swarm, SwarmBuilder,
};

use crate::{keep_alive, NetConfig, NetError};

/// The Kademlia protocol: a DHT of Duet devices and relays only, apart from the public IPFS one.
pub(crate) const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/duet/kad/1");
/// What identify announces as our protocol version.
const IDENTIFY_PROTOCOL: &str = "/duet/1";
/// Connections nobody needs (no open stream, not a member, no relay reservation) close after
/// this long.
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections to one peer: direct TCP and QUIC, a relayed one, and one from each side's dial.
const MAX_CONNECTIONS_PER_PEER: u32 = 8;

#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    /// Only in a relay that serves listed devices (`NetConfig::allow_only`): everyone else's
    /// connection is refused before any protocol runs.
    pub(crate) allow_list: Toggle<allow_block_list::Behaviour<allow_block_list::AllowedPeers>>,
    pub(crate) block_list: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    pub(crate) limits: connection_limits::Behaviour,
    pub(crate) keep_alive: keep_alive::Behaviour,
    pub(crate) relay_client: relay::client::Behaviour,
    pub(crate) relay_server: Toggle<relay::Behaviour>,
    pub(crate) dcutr: dcutr::Behaviour,
    pub(crate) identify: identify::Behaviour,
    pub(crate) ping: ping::Behaviour,
    pub(crate) autonat: autonat::Behaviour,
    pub(crate) kad: kad::Behaviour<kad::store::MemoryStore>,
    pub(crate) mdns: Toggle<mdns::tokio::Behaviour>,
    pub(crate) stream: libp2p_stream::Behaviour,
}

impl Behaviour {
    fn new(key: &identity::Keypair, relay_client: relay::client::Behaviour, config: &NetConfig) -> Self {
        let local = key.public().to_peer_id();

        let limits = connection_limits::ConnectionLimits::default()
            .with_max_established(Some(config.max_connections))
            .with_max_pending_incoming(Some(config.max_connections))
            .with_max_pending_outgoing(Some(config.max_connections))
            .with_max_established_per_peer(Some(MAX_CONNECTIONS_PER_PEER));

        let relay_server = config.relay_server.then(|| {
            // A relay the couple runs for themselves carries whole sync sessions when hole
            // punching fails, so its circuits are longer and larger than libp2p's defaults
            // (2 minutes, 128 KiB), which only suit a hole-punching rendezvous.
            let relay_config = relay::Config {
                max_circuit_duration: Duration::from_secs(30 * 60),
                max_circuit_bytes: 256 << 20,
                max_circuits: 64,
                ..relay::Config::default()
            };
            relay::Behaviour::new(local, relay_config)
        });

        let identify = identify::Behaviour::new(
            identify::Config::new(IDENTIFY_PROTOCOL.to_owned(), key.public())
                // No version: nothing reads it, and a stranger needs no help matching a
                // device to a release with a known bug (docs/threat-model.md).
                .with_agent_version("duet".to_owned())
                // Tell connected peers at once when our addresses change (a relay slot
                // confirmed, a new interface), so partners can persist them.
                .with_push_listen_addr_updates(true)
                .with_cache_size(256),
        );

        let mut kad_config = kad::Config::new(KAD_PROTOCOL);
        kad_config.set_query_timeout(Duration::from_secs(30));
        if let Some(replication) = NonZeroUsize::new(8) {
            kad_config.set_replication_factor(replication);
            // Eight peers a bucket, as BitTorrent's DHT keeps, instead of libp2p's 20: the
            // table allocates every bucket's room when the swarm is built, 256 buckets whether
            // or not they ever hold a peer (heaptrack, the app at rest: 1.75 MB live after
            // building the swarm with 20, 0.79 MB with 8), and a DHT of Duet devices and
            // relays is small.
            kad_config.set_kbucket_size(replication);
        }
        let mut kad = kad::Behaviour::with_config(local, kad::store::MemoryStore::new(local), kad_config);
        if config.relay_server {
            // A relay is publicly reachable by definition: answer DHT queries from the start.
            kad.set_mode(Some(kad::Mode::Server));
        }

        // No multicast (a container, a locked-down network) only costs LAN discovery.
        let mdns = match config.mdns.then(|| mdns::tokio::Behaviour::new(mdns::Config::default(), local)) {
            Some(Ok(mdns)) => Some(mdns),
            Some(Err(e)) => {
                tracing::warn!("LAN discovery (mDNS) is off: {e}");
                None
            }
            None => None,
        };

        let allow_list = config.allow_only.as_ref().map(|devices| {
            let mut allowed = allow_block_list::Behaviour::<allow_block_list::AllowedPeers>::default();
            for device in devices {
                allowed.allow_peer(crate::peer_id(device));
            }
            allowed
        });

        Self {
            allow_list: Toggle::from(allow_list),
            block_list: allow_block_list::Behaviour::default(),
            limits: connection_limits::Behaviour::new(limits),
            keep_alive: keep_alive::Behaviour::default(),
            relay_client,
            relay_server: Toggle::from(relay_server),
            dcutr: dcutr::Behaviour::new(local),
            identify,
            ping: ping::Behaviour::new(ping::Config::new()),
            autonat: autonat::Behaviour::new(local, autonat::Config::default()),
            kad,
            mdns: Toggle::from(mdns),
            stream: libp2p_stream::Behaviour::new(),
        }
    }
}

/// Builds the swarm for `config` with the device's identity.
pub(crate) fn build_swarm(key: identity::Keypair, config: &NetConfig) -> Result<Swarm<Behaviour>, NetError> {
    let transport_error = |e: &dyn std::fmt::Display| NetError::Transport { reason: e.to_string() };
    let swarm = SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(tcp::Config::new().nodelay(true), noise::Config::new, yamux::Config::default)
        .map_err(|e| transport_error(&e))?
        .with_quic()
        .with_relay_client(noise::Config::new, yamux::Config::default)
        .map_err(|e| transport_error(&e))?
        .with_behaviour(|key, relay_client| Behaviour::new(key, relay_client, config))
        .map_err(|e| transport_error(&e))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_CONNECTION_TIMEOUT))
        .build();
    Ok(swarm)
}

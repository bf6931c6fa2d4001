//! Duet's networking: one libp2p swarm per device, behind a cloneable [`Client`].
//!
//! # Shape
//!
//! [`start`] builds the swarm and spawns **one event loop task** that owns it. Everything
//! else talks to that task: a [`Client`] sends commands (each carries a `oneshot` for its
//! reply) on a bounded channel, and the loop reports [`NetEvent`]s on a bounded channel.
//! [`Client::shutdown`] stops the loop; so does dropping every `Client`. The loop never
//! blocks on a slow consumer: events wait in a small bounded outbox, and when that is full
//! they are dropped with a warning (an unclaimed inbound stream is then reset).
//!
//! # Identity
//!
//! A device's ed25519 key is its libp2p identity, so a [`PeerId`] and a [`DeviceId`] name the
//! same thing ([`peer_id`] and [`device_id`] convert).
//!
//! # Who dials whom
//!
//! - The node tells the network who its **members** are ([`Client::set_members`]): the
//!   devices of the couple's spaces. Every device dials every member it is not connected to,
//!   at once and then, while that fails or after the connection drops, with a capped,
//!   jittered exponential backoff (½ s doubling to 60 s, see [`redial`]). Both sides do
//!   this, so whichever comes up later is found by the other. A fresh address for a member
//!   (from the node, mDNS or Kademlia) makes the next attempt immediate. Member connections
//!   are kept open while idle and are exempt from the connection limit.
//! - Addresses come from the node's address book ([`Client::add_addresses`], persisted from
//!   [`NetEvent::Addresses`]), from what the network learns (identify, mDNS, Kademlia), and,
//!   when nothing is known, from a Kademlia lookup on Duet's own DHT (`/duet/kad/1`, seeded
//!   by [`NetConfig::bootstrap`]).
//! - Behind NAT, a device listens through relays ([`NetConfig::relays`]): it reserves a slot
//!   on each and announces the `/p2p-circuit` address; a partner reaching it that way gets a
//!   relayed connection, which DCUtR then tries to turn into a direct one (hole punching).
//!   A lost reservation is re-made with the same backoff. AutoNAT tells the device whether it
//!   is publicly reachable (which also switches Kademlia into server mode).
//! - `duet relay` runs with [`NetConfig::relay_server`]: a relay v2 server and a Kademlia
//!   server whose listen addresses count as its public addresses.
//!
//! # Who may talk
//!
//! Any peer may connect (relays, DHT peers and LAN neighbours need that), within the
//! connection limit. The Duet protocols ([`DuetProtocol`]) are guarded per stream:
//! `Sync`, `Live` and `Blobs` streams are accepted only from members, `Pair` and `Mailbox`
//! streams only while pairing is open ([`Client::set_pairing_open`]; a mailbox keeps it open
//! for registrations, which its ticket's secret decides). A stranger that tries is refused: its
//! stream is dropped, it is disconnected, and the node sees [`NetEvent::Refused`]. (A member
//! that opens `Pair` while pairing is closed only loses the stream; cutting a member off would
//! just make both sides redial.) [`Client::disconnect`] with a ban refuses a misbehaving
//! peer's connections for a while.
//!
//! # Addresses
//!
//! Addresses handed out by this crate ([`Client::listen_addrs`], [`NetEvent::Addresses`])
//! are plain: they do not end with `/p2p/<the device>` (a relayed address keeps the relay's
//! `/p2p/<relay>` before `/p2p-circuit`). Addresses handed in may have it or not.
//! [`with_peer`] appends it, e.g. for an invite ticket.

mod address_book;
mod behaviour;
mod client;
mod event_loop;
mod keep_alive;
mod ports;
pub mod redial;
pub mod stun;
mod stun_wire;
pub mod turn;

use std::fmt;

use libp2p::multiaddr::Protocol;
use libp2p::multihash::Multihash;
use libp2p::StreamProtocol;

pub use client::{start, Client};
pub use duet_model::DeviceId;
pub use libp2p::{Multiaddr, PeerId, Stream};

/// The Duet protocols. Each stream carries one of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DuetProtocol {
    /// `/duet/sync/1`: version vectors, then the events the other side lacks (members only).
    Sync,
    /// `/duet/live/1`: presence, typing, call signalling, nudges; never stored (members only).
    Live,
    /// `/duet/pair/1`: proving an invite's secret to join (anyone, while pairing is open).
    Pair,
    /// `/duet/blobs/1`: attachment content, chunk by chunk (members only).
    Blobs,
    /// `/duet/mailbox/1`: registering a space with the couple's mailbox (anyone, on a
    /// mailbox; the ticket's secret decides).
    Mailbox,
    /// `/duet/turn/1`: a relay's TURN credentials for the device asking (on `duet relay`
    /// only; to the devices it serves).
    Turn,
}

impl DuetProtocol {
    /// All of them.
    pub const ALL: [DuetProtocol; 6] = [
        DuetProtocol::Sync,
        DuetProtocol::Live,
        DuetProtocol::Pair,
        DuetProtocol::Blobs,
        DuetProtocol::Mailbox,
        DuetProtocol::Turn,
    ];

    /// The protocol name negotiated on the wire.
    pub fn name(self) -> &'static str {
        match self {
            DuetProtocol::Sync => "/duet/sync/1",
            DuetProtocol::Live => "/duet/live/1",
            DuetProtocol::Pair => "/duet/pair/1",
            DuetProtocol::Blobs => "/duet/blobs/1",
            DuetProtocol::Mailbox => "/duet/mailbox/1",
            DuetProtocol::Turn => "/duet/turn/1",
        }
    }

    pub(crate) fn stream_protocol(self) -> StreamProtocol {
        StreamProtocol::new(self.name())
    }
}

impl fmt::Display for DuetProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a connected peer is reached, the best of its connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    /// A direct connection to a private, link-local or loopback address: the same network
    /// (home Wi-Fi), or this very machine.
    Lan,
    /// At least one connection goes straight to the peer (to a public address, or through a
    /// hole DCUtR punched in the NATs in between).
    Direct,
    /// Every connection runs through a relay (a circuit, limited in time and bytes by the
    /// relay).
    Relayed,
}

impl Route {
    /// The route of one direct connection whose remote address is `addr`.
    pub fn of_direct(addr: &Multiaddr) -> Route {
        let lan = addr.iter().any(|p| match p {
            Protocol::Ip4(ip) => ip.is_private() || ip.is_loopback() || ip.is_link_local(),
            // fc00::/7 (unique local) and fe80::/10 (link-local).
            Protocol::Ip6(ip) => {
                ip.is_loopback() || (ip.segments()[0] & 0xfe00) == 0xfc00 || (ip.segments()[0] & 0xffc0) == 0xfe80
            }
            _ => false,
        });
        if lan {
            Route::Lan
        } else {
            Route::Direct
        }
    }
}

/// How the network of one device is set up.
#[derive(Clone)]
pub struct NetConfig {
    /// The ed25519 secret of the device key; the libp2p identity is derived from it, so the
    /// device's [`PeerId`] is its [`DeviceId`].
    pub device_secret: [u8; 32],
    /// Where to listen. Default: all interfaces, a random port, TCP and QUIC.
    pub listen: Vec<Multiaddr>,
    /// Where this device listened last time (as [`Client::listen_addrs`] gave them): a
    /// `listen` address with port 0 gets the port it had then, when that port is free, so
    /// partners find the device where they saw it (see `ports.rs`).
    pub listened: Vec<Multiaddr>,
    /// Relays to listen through (each ends with `/p2p/<relay peer id>`): a slot is reserved
    /// on each and its `/p2p-circuit` address is announced.
    pub relays: Vec<Multiaddr>,
    /// Kademlia bootstrap peers (each ends with `/p2p/<peer id>`).
    pub bootstrap: Vec<Multiaddr>,
    /// Find and announce devices on the LAN with mDNS.
    pub mdns: bool,
    /// Act as a relay v2 server and a Kademlia server (the `duet relay` mode).
    pub relay_server: bool,
    /// The only devices that may connect at all (a relay that serves its owner's couple
    /// only); `None` lets anyone connect.
    pub allow_only: Option<Vec<DeviceId>>,
    /// Most connections at once (members and relays do not count against it).
    pub max_connections: u32,
}

impl NetConfig {
    /// A device's default setup: listen everywhere on TCP and QUIC, mDNS on, no relays, no
    /// bootstrap peers, at most 64 connections.
    pub fn new(device_secret: [u8; 32]) -> Self {
        let listen =
            ["/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/udp/0/quic-v1"].iter().filter_map(|a| a.parse().ok()).collect();
        Self {
            device_secret,
            listen,
            listened: Vec::new(),
            relays: Vec::new(),
            bootstrap: Vec::new(),
            mdns: true,
            relay_server: false,
            allow_only: None,
            max_connections: 64,
        }
    }
}

impl fmt::Debug for NetConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetConfig")
            .field("device_secret", &"<secret>")
            .field("listen", &self.listen)
            .field("listened", &self.listened)
            .field("relays", &self.relays)
            .field("bootstrap", &self.bootstrap)
            .field("mdns", &self.mdns)
            .field("relay_server", &self.relay_server)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// The protobuf header of an ed25519 public key inside a peer id: field 1 (key type) =
/// 1 (Ed25519), field 2 (data) of 32 bytes.
const ED25519_KEY_PREFIX: [u8; 4] = [0x08, 0x01, 0x12, 0x20];
/// The "identity" multihash code: short keys are embedded in the peer id as they are.
const IDENTITY_MULTIHASH: u64 = 0x00;

/// Whether an address goes through a relay (`…/p2p-circuit…`).
pub fn is_relayed(addr: &Multiaddr) -> bool {
    addr.iter().any(|p| matches!(p, Protocol::P2pCircuit))
}

/// The libp2p peer id of a device: its ed25519 public key, embedded as libp2p does.
///
/// Built from the bytes without decoding the curve point, so it never fails; a device id that
/// is not a valid key simply names a peer that cannot exist.
pub fn peer_id(device: &DeviceId) -> PeerId {
    let mut encoded = [0u8; 36];
    encoded[..4].copy_from_slice(&ED25519_KEY_PREFIX);
    encoded[4..].copy_from_slice(&device.0);
    let multihash =
        Multihash::<64>::wrap(IDENTITY_MULTIHASH, &encoded).expect("a 36-byte digest fits a 64-byte multihash");
    PeerId::from_multihash(multihash).expect("an identity multihash of 36 bytes is a valid peer id")
}

/// The device behind a peer id, or `None` if the peer's key is not ed25519.
pub fn device_id(peer: &PeerId) -> Option<DeviceId> {
    let multihash: &Multihash<64> = peer.as_ref();
    let digest = multihash.digest();
    if multihash.code() != IDENTITY_MULTIHASH || digest.len() != 36 || digest[..4] != ED25519_KEY_PREFIX {
        return None;
    }
    DeviceId::from_slice(&digest[4..])
}

/// The device an address names at its end (`…/p2p/<device>`), if it does.
pub fn device_at(addr: &Multiaddr) -> Option<DeviceId> {
    match addr.iter().last()? {
        Protocol::P2p(peer) => device_id(&peer),
        _ => None,
    }
}

/// `addr` ending with `/p2p/<peer>` (unchanged if it already does).
pub fn with_peer(addr: Multiaddr, peer: &PeerId) -> Multiaddr {
    match addr.iter().last() {
        Some(Protocol::P2p(last)) if last == *peer => addr,
        _ => addr.with(Protocol::P2p(*peer)),
    }
}

/// What happened on the network.
#[derive(Debug)]
#[non_exhaustive]
pub enum NetEvent {
    /// A listen address was confirmed (plain, without `/p2p/<self>`); relayed ones contain
    /// `/p2p-circuit`.
    Listening { addr: Multiaddr },
    /// The first connection to a peer opened (any peer: members, relays, DHT peers).
    Connected { device: DeviceId, addr: Multiaddr },
    /// The last connection to a peer closed.
    Disconnected { device: DeviceId },
    /// Addresses not reported before, learned for a member (or, while pairing is open, for
    /// any peer) via identify, mDNS or Kademlia: the node persists them in its address book.
    Addresses { device: DeviceId, addrs: Vec<Multiaddr> },
    /// A peer opened a Duet stream and is allowed to: `Sync`/`Live` from members, `Pair`
    /// while pairing is open.
    InboundStream { device: DeviceId, protocol: DuetProtocol, stream: Stream },
    /// A peer that is not allowed to tried a Duet protocol: its stream was dropped and, unless
    /// it is a member, it was disconnected.
    Refused { device: DeviceId, protocol: DuetProtocol },
}

/// Why a network operation failed. Messages are plain English, for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    #[error("the device key is not a valid ed25519 secret key")]
    InvalidKey,
    #[error("\"{addr}\" cannot be used as {role}: it must end with /p2p/<peer id>")]
    AddressWithoutPeer { addr: Multiaddr, role: &'static str },
    #[error("could not set up the network: {reason}")]
    Transport { reason: String },
    #[error("could not listen on {addr}: {reason}")]
    Listen { addr: Multiaddr, reason: String },
    #[error("the network stopped")]
    Stopped,
    #[error("no known address for device {device}")]
    NoAddress { device: DeviceId },
    #[error("could not reach the other device: {reason}")]
    Unreachable { device: DeviceId, reason: String },
    #[error("device {device} is blocked for a while after misbehaving")]
    Banned { device: DeviceId },
    #[error("a device cannot connect to itself")]
    DialSelf,
    #[error("the other device does not speak {protocol}")]
    Unsupported { device: DeviceId, protocol: DuetProtocol },
    #[error("could not open a {protocol} stream to the other device: {reason}")]
    Stream { device: DeviceId, protocol: DuetProtocol, reason: String },
    #[error("timed out waiting for {what}")]
    Timeout { what: &'static str },
}

#[cfg(test)]
mod tests {
    use super::*;
    use libp2p::identity::Keypair;

    #[test]
    fn peer_ids_are_device_keys() {
        for seed in [[0u8; 32], [7; 32], [255; 32]] {
            let key = Keypair::ed25519_from_bytes(seed).expect("32 bytes");
            let from_libp2p = key.public().to_peer_id();
            let public = key.public().try_into_ed25519().expect("ed25519").to_bytes();
            let device = DeviceId(public);
            assert_eq!(peer_id(&device), from_libp2p);
            assert_eq!(device_id(&from_libp2p), Some(device));
        }
    }

    #[test]
    fn any_32_bytes_round_trip_and_other_key_types_have_no_device() {
        let device = DeviceId([0xab; 32]);
        assert_eq!(device_id(&peer_id(&device)), Some(device));
        assert_eq!(device_id(&PeerId::random()), None, "random peer ids are sha256 multihashes");
    }

    #[test]
    fn with_peer_appends_once() {
        let peer = peer_id(&DeviceId([3; 32]));
        let addr: Multiaddr = "/ip4/127.0.0.1/tcp/4001".parse().expect("valid");
        let full = with_peer(addr.clone(), &peer);
        assert_eq!(full, addr.with(Protocol::P2p(peer)));
        assert_eq!(with_peer(full.clone(), &peer), full);
    }

    #[test]
    fn protocol_names() {
        let names: Vec<_> = DuetProtocol::ALL.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            names,
            ["/duet/sync/1", "/duet/live/1", "/duet/pair/1", "/duet/blobs/1", "/duet/mailbox/1", "/duet/turn/1"]
        );
    }
}

#[cfg(test)]
mod route_tests {
    use super::*;

    #[test]
    fn private_link_local_and_loopback_addresses_are_the_same_network() {
        let route = |a: &str| Route::of_direct(&a.parse().unwrap());
        for lan in [
            "/ip4/192.168.1.20/tcp/4001",
            "/ip4/10.0.0.7/udp/4001/quic-v1",
            "/ip4/127.0.0.1/tcp/1",
            "/ip6/fe80::1/tcp/1",
            "/ip6/fd12::3/tcp/1",
            "/ip4/169.254.3.4/tcp/1",
        ] {
            assert_eq!(route(lan), Route::Lan, "{lan}");
        }
        for direct in ["/ip4/203.0.113.9/tcp/4001", "/ip6/2001:db8::1/udp/4001/quic-v1"] {
            assert_eq!(route(direct), Route::Direct, "{direct}");
        }
    }
}

//! Where each device was last seen: the event loop's bounded, in-memory address book.
//!
//! It is fed by the node (addresses it persisted, or read from an invite ticket) and by what
//! the network learns about members (identify, mDNS, Kademlia). Addresses are kept plain:
//! without a trailing `/p2p/<that device>` (a `/p2p-circuit` address keeps the relay's
//! `/p2p/<relay>` inside it, which dialing needs). Bounds: a few addresses per device (the
//! newest win) and a few thousand devices (new ones are ignored once full), so a peer that
//! announces junk cannot grow memory.

use std::collections::{HashMap, VecDeque};

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};

/// Addresses kept per device; the oldest is forgotten first.
pub(crate) const MAX_ADDRS_PER_PEER: usize = 16;
/// Devices kept.
pub(crate) const MAX_PEERS: usize = 4096;
/// Longest address accepted, in bytes (real ones are well under 200).
const MAX_ADDR_LEN: usize = 512;

#[derive(Default)]
pub(crate) struct AddressBook {
    peers: HashMap<PeerId, VecDeque<Multiaddr>>,
}

impl AddressBook {
    /// Adds `addrs` for `peer` and returns those that were not known yet (plain form).
    pub(crate) fn add(&mut self, peer: PeerId, addrs: impl IntoIterator<Item = Multiaddr>) -> Vec<Multiaddr> {
        if !self.peers.contains_key(&peer) && self.peers.len() >= MAX_PEERS {
            return Vec::new();
        }
        let known = self.peers.entry(peer).or_default();
        let mut fresh = Vec::new();
        for addr in addrs {
            let Some(addr) = plain(addr, &peer) else { continue };
            if known.contains(&addr) {
                continue;
            }
            if known.len() >= MAX_ADDRS_PER_PEER {
                known.pop_front();
            }
            known.push_back(addr.clone());
            fresh.push(addr);
        }
        if known.is_empty() {
            self.peers.remove(&peer);
        }
        fresh
    }

    /// The known addresses of `peer`, oldest first.
    pub(crate) fn get(&self, peer: &PeerId) -> Vec<Multiaddr> {
        self.peers.get(peer).map(|a| a.iter().cloned().collect()).unwrap_or_default()
    }
}

/// `addr` without a trailing `/p2p/<peer>`, or `None` if it is not worth keeping: it names
/// another peer at its end, is oversized, or is an unspecified (0.0.0.0) address.
pub(crate) fn plain(mut addr: Multiaddr, peer: &PeerId) -> Option<Multiaddr> {
    if addr.len() > MAX_ADDR_LEN || addr.is_empty() {
        return None;
    }
    if let Some(Protocol::P2p(last)) = addr.iter().last() {
        if last != *peer {
            return None;
        }
        addr.pop();
    }
    let unspecified = addr.iter().any(|p| match p {
        Protocol::Ip4(ip) => ip.is_unspecified(),
        Protocol::Ip6(ip) => ip.is_unspecified(),
        _ => false,
    });
    (!unspecified).then_some(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(n: u8) -> PeerId {
        crate::peer_id(&duet_model::DeviceId([n; 32]))
    }

    fn tcp(port: u16) -> Multiaddr {
        format!("/ip4/127.0.0.1/tcp/{port}").parse().expect("valid")
    }

    #[test]
    fn keeps_plain_addresses_and_reports_only_new_ones() {
        let mut book = AddressBook::default();
        let a = peer(1);
        let with_p2p = tcp(1).with(Protocol::P2p(a));
        assert_eq!(book.add(a, [with_p2p, tcp(2)]), vec![tcp(1), tcp(2)]);
        assert_eq!(book.add(a, [tcp(1), tcp(3)]), vec![tcp(3)]);
        assert_eq!(book.get(&a), vec![tcp(1), tcp(2), tcp(3)]);
    }

    #[test]
    fn drops_addresses_of_other_peers_and_unspecified_ones() {
        let mut book = AddressBook::default();
        let (a, b) = (peer(1), peer(2));
        let unspecified: Multiaddr = "/ip4/0.0.0.0/tcp/5".parse().expect("valid");
        assert!(book.add(a, [tcp(1).with(Protocol::P2p(b)), unspecified]).is_empty());
        assert!(book.get(&a).is_empty());
    }

    #[test]
    fn keeps_relay_circuit_addresses_whole() {
        let (a, relay) = (peer(1), peer(9));
        let circuit = tcp(7).with(Protocol::P2p(relay)).with(Protocol::P2pCircuit);
        assert_eq!(plain(circuit.clone().with(Protocol::P2p(a)), &a), Some(circuit));
    }

    #[test]
    fn is_bounded_per_peer_keeping_the_newest() {
        let mut book = AddressBook::default();
        let a = peer(1);
        book.add(a, (0..40).map(tcp));
        let kept = book.get(&a);
        assert_eq!(kept.len(), MAX_ADDRS_PER_PEER);
        assert_eq!(kept.last(), Some(&tcp(39)));
    }
}

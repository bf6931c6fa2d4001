//! Swarm events: connections coming and going, listeners, and what identify, Kademlia,
//! mDNS, the relay client, DCUtR and AutoNAT report.

use std::collections::HashMap;
use std::time::Instant;

use libp2p::swarm::{DialError, SwarmEvent};
use libp2p::{identify, kad, mdns, relay, Multiaddr, PeerId};
use rand::Rng;
use tracing::{debug, info, warn};

use super::EventLoop;
use crate::address_book::plain;
use crate::behaviour::{BehaviourEvent, KAD_PROTOCOL};
use crate::{device_id, NetEvent, Route};

impl EventLoop {
    pub(super) fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { listener_id, address } => {
                debug!(%address, "listening");
                if let Some(relay) = self.relays.iter_mut().find(|r| r.listener == Some(listener_id)) {
                    relay.backoff.succeeded(Instant::now());
                    relay.reserved = true;
                } else if self.relay_server {
                    // A relay's own listen addresses are its public addresses: the relay
                    // server only hands out reservations once it has some.
                    self.swarm.add_external_address(address.clone());
                }
                if let Some(addr) = plain(address, self.swarm.local_peer_id()) {
                    self.emit(NetEvent::Listening { addr });
                }
                self.answer_listen_waiters();
            }
            SwarmEvent::ListenerClosed { listener_id, reason, .. } => {
                let jitter = self.rng.gen::<f64>();
                if let Some(relay) = self.relays.iter_mut().find(|r| r.listener == Some(listener_id)) {
                    // Said once when a slot is lost; the retries while the relay stays away
                    // are quiet.
                    if relay.reserved {
                        warn!(relay = %relay.peer, ?reason, "relay slot lost, will reserve again");
                    } else {
                        debug!(relay = %relay.peer, ?reason, "no slot on the relay yet, will try again");
                    }
                    relay.reserved = false;
                    relay.listener = None;
                    relay.backoff.failed(Instant::now(), jitter);
                } else if reason.is_ok() {
                    debug!("listener closed"); // a relay dropped from the settings, say
                } else {
                    warn!(?reason, "listener closed");
                }
            }
            SwarmEvent::ConnectionEstablished { peer_id, connection_id, endpoint, num_established, .. } => {
                if endpoint.is_relayed() {
                    debug!(%peer_id, "connected through a relay");
                } else {
                    let route = Route::of_direct(endpoint.get_remote_address());
                    self.direct.entry(peer_id).or_default().insert(connection_id, route);
                }
                if num_established.get() == 1 {
                    if let Some(device) = device_id(&peer_id) {
                        let addr = endpoint.get_remote_address().clone();
                        self.emit(NetEvent::Connected { device, addr });
                    }
                }
                if let Some(backoff) = self.members.get_mut(&peer_id) {
                    backoff.succeeded(Instant::now());
                }
                for waiter in self.pending_dials.remove(&peer_id).unwrap_or_default() {
                    let _ = waiter.send(Ok(()));
                }
            }
            SwarmEvent::ConnectionClosed { peer_id, connection_id, num_established, cause, .. } => {
                if let Some(direct) = self.direct.get_mut(&peer_id) {
                    direct.remove(&connection_id);
                    if direct.is_empty() {
                        self.direct.remove(&peer_id);
                    }
                }
                if num_established > 0 {
                    return;
                }
                debug!(%peer_id, ?cause, "disconnected");
                if let Some(device) = device_id(&peer_id) {
                    self.emit(NetEvent::Disconnected { device });
                }
                let jitter = self.rng.gen::<f64>();
                if let Some(backoff) = self.members.get_mut(&peer_id) {
                    backoff.failed(Instant::now(), jitter);
                }
            }
            SwarmEvent::OutgoingConnectionError { peer_id: Some(peer), error, .. } => {
                debug!(%peer, %error, "dial failed");
                if !self.swarm.is_connected(&peer) {
                    let reason = match error {
                        DialError::NoAddresses => None,
                        e => Some(e.to_string()),
                    };
                    self.dial_failed(peer, reason);
                }
            }
            SwarmEvent::ExternalAddrConfirmed { address } => info!(%address, "reachable at"),
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event),
            _ => {}
        }
    }

    fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                if info.protocols.contains(&KAD_PROTOCOL) {
                    for addr in &info.listen_addrs {
                        self.swarm.behaviour_mut().kad.add_address(&peer_id, addr.clone());
                    }
                }
                self.learn_addresses(peer_id, info.listen_addrs);
            }
            BehaviourEvent::Kad(kad::Event::RoutingUpdated { peer, addresses, .. }) => {
                self.learn_addresses(peer, addresses.into_vec());
            }
            BehaviourEvent::Kad(kad::Event::OutboundQueryProgressed { id, result, step, .. }) => {
                let Some(target) = self.lookups.get(&id).copied() else { return };
                let peers = match result {
                    kad::QueryResult::GetClosestPeers(Ok(ok)) => ok.peers,
                    kad::QueryResult::GetClosestPeers(Err(kad::GetClosestPeersError::Timeout { peers, .. })) => peers,
                    _ => Vec::new(),
                };
                for found in peers.into_iter().filter(|p| p.peer_id == target) {
                    self.book.add(target, found.addrs);
                }
                if step.last {
                    self.lookups.remove(&id);
                    if !self.swarm.is_connected(&target) {
                        self.dial(target, false);
                    }
                }
            }
            BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                let mut by_peer: HashMap<PeerId, Vec<Multiaddr>> = HashMap::new();
                for (peer, addr) in found {
                    by_peer.entry(peer).or_default().push(addr);
                }
                for (peer, addrs) in by_peer {
                    self.learn_addresses(peer, addrs);
                }
            }
            BehaviourEvent::RelayClient(relay::client::Event::ReservationReqAccepted {
                relay_peer_id,
                renewal: false,
                ..
            }) => info!(relay = %relay_peer_id, "relay slot reserved"),
            BehaviourEvent::Dcutr(libp2p::dcutr::Event { remote_peer_id, result }) => match result {
                Ok(_) => info!(peer = %remote_peer_id, "hole punched: connected directly"),
                Err(e) => info!(peer = %remote_peer_id, "hole punching failed, staying on the relay: {e}"),
            },
            BehaviourEvent::Autonat(libp2p::autonat::Event::StatusChanged { old, new }) => {
                info!(?old, ?new, "reachability changed");
            }
            _ => {}
        }
    }

    /// Records addresses learned for a member (or anyone while pairing is open) and reports
    /// the new ones to the node.
    fn learn_addresses(&mut self, peer: PeerId, addrs: Vec<Multiaddr>) {
        let member = self.members.contains_key(&peer);
        if !(member || self.pairing_open) || peer == *self.swarm.local_peer_id() {
            return;
        }
        let Some(device) = device_id(&peer) else { return };
        let fresh = self.book.add(peer, addrs);
        if fresh.is_empty() {
            return;
        }
        self.emit(NetEvent::Addresses { device, addrs: fresh });
        self.hurry_redial(peer);
    }
}

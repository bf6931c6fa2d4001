//! Keeps connections to member devices open while they are idle.
//!
//! libp2p closes a connection once no behaviour needs it and no stream is open (after the
//! swarm's idle timeout). That is right for relays' and Kademlia's passers-by, but a partner's
//! device must stay reachable for pushes, presence and calls without the node holding a stream
//! open. This behaviour speaks no protocol: its handler only answers "keep alive" for
//! connections to members, and the event loop tells it who the members are.

use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::task::{Context, Poll, Waker};

use libp2p::core::transport::PortUse;
use libp2p::core::upgrade::DeniedUpgrade;
use libp2p::core::Endpoint;
use libp2p::swarm::handler::ConnectionEvent;
use libp2p::swarm::{
    ConnectionClosed, ConnectionDenied, ConnectionHandlerEvent, ConnectionId, FromSwarm, NetworkBehaviour,
    NotifyHandler, SubstreamProtocol, THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};

/// The behaviour: which peers to keep, and their open connections.
#[derive(Default)]
pub(crate) struct Behaviour {
    keep: HashSet<PeerId>,
    connections: HashMap<PeerId, Vec<ConnectionId>>,
    /// Handler updates, bounded by the number of open connections.
    pending: VecDeque<(PeerId, ConnectionId, bool)>,
    waker: Option<Waker>,
}

impl Behaviour {
    /// Keeps exactly these peers' connections alive from now on.
    pub(crate) fn set_peers(&mut self, peers: &HashSet<PeerId>) {
        let changed: Vec<PeerId> = self.keep.symmetric_difference(peers).copied().collect();
        self.keep = peers.clone();
        for peer in changed {
            let keep = self.keep.contains(&peer);
            for connection in self.connections.get(&peer).into_iter().flatten() {
                self.pending.push_back((peer, *connection, keep));
            }
        }
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    fn handler_for(&mut self, connection: ConnectionId, peer: PeerId) -> Handler {
        self.connections.entry(peer).or_default().push(connection);
        Handler { keep_alive: self.keep.contains(&peer) }
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = Handler;
    type ToSwarm = Infallible;

    fn handle_established_inbound_connection(
        &mut self,
        connection: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(self.handler_for(connection, peer))
    }

    fn handle_established_outbound_connection(
        &mut self,
        connection: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(self.handler_for(connection, peer))
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        if let FromSwarm::ConnectionClosed(ConnectionClosed { peer_id, connection_id, .. }) = event {
            if let Some(connections) = self.connections.get_mut(&peer_id) {
                connections.retain(|c| *c != connection_id);
                if connections.is_empty() {
                    self.connections.remove(&peer_id);
                }
            }
            self.pending.retain(|(_, c, _)| *c != connection_id);
        }
    }

    fn on_connection_handler_event(&mut self, _: PeerId, _: ConnectionId, event: THandlerOutEvent<Self>) {
        match event {}
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        match self.pending.pop_front() {
            Some((peer_id, connection, keep)) => {
                Poll::Ready(ToSwarm::NotifyHandler { peer_id, handler: NotifyHandler::One(connection), event: keep })
            }
            None => {
                self.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// One connection's handler: no protocol, just the keep-alive answer.
pub(crate) struct Handler {
    keep_alive: bool,
}

impl libp2p::swarm::ConnectionHandler for Handler {
    type FromBehaviour = bool;
    type ToBehaviour = Infallible;
    type InboundProtocol = DeniedUpgrade;
    type OutboundProtocol = DeniedUpgrade;
    type InboundOpenInfo = ();
    type OutboundOpenInfo = ();

    fn listen_protocol(&self) -> SubstreamProtocol<Self::InboundProtocol> {
        SubstreamProtocol::new(DeniedUpgrade, ())
    }

    fn connection_keep_alive(&self) -> bool {
        self.keep_alive
    }

    fn poll(
        &mut self,
        _: &mut Context<'_>,
    ) -> Poll<ConnectionHandlerEvent<Self::OutboundProtocol, (), Self::ToBehaviour>> {
        Poll::Pending
    }

    fn on_behaviour_event(&mut self, keep_alive: bool) {
        self.keep_alive = keep_alive;
    }

    fn on_connection_event(&mut self, _: ConnectionEvent<Self::InboundProtocol, Self::OutboundProtocol>) {
        // `DeniedUpgrade` negotiates nothing, so no stream ever reaches this handler.
    }
}

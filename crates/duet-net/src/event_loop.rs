//! The event loop: the one task that owns the swarm.
//!
//! Each turn it handles whichever is ready first: a command from a [`Client`](crate::Client),
//! a swarm event, an inbound Duet stream, room in the event channel for a queued event, or the
//! timer. The timer is set to the earliest thing due: a member to redial, a relay slot to
//! re-reserve, a ban to lift. Nothing that comes from the network is unwrapped.

mod swarm_events;

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use futures::stream::{BoxStream, SelectAll};
use futures::StreamExt;
use libp2p::core::transport::ListenerId;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ConnectionId, DialError};
use libp2p::{kad, Multiaddr, PeerId, Stream, Swarm};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::address_book::{plain, AddressBook};
use crate::behaviour::Behaviour;
use crate::redial::{Backoff, BackoffPolicy};
use crate::{device_id, is_relayed, DuetProtocol, NetError, NetEvent, Route};

/// Events waiting for room in the event channel; beyond this they are dropped.
const OUTBOX_LIMIT: usize = 1024;
/// How long the timer sleeps when nothing is due.
const IDLE_TICK: Duration = Duration::from_secs(3600);
/// Longest dial error kept in a message.
const MAX_REASON_LEN: usize = 300;

/// What a [`Client`](crate::Client) asks of the loop.
pub(crate) enum Command {
    ListenAddrs { reply: oneshot::Sender<Vec<Multiaddr>> },
    WaitListening { reply: oneshot::Sender<Vec<Multiaddr>> },
    AddAddresses { peer: PeerId, addrs: Vec<Multiaddr>, reply: oneshot::Sender<()> },
    Dial { peer: PeerId, reply: oneshot::Sender<Result<(), NetError>> },
    SetMembers { members: HashSet<PeerId>, reply: oneshot::Sender<()> },
    SetPairingOpen { open: bool, reply: oneshot::Sender<()> },
    Disconnect { peer: PeerId, ban_for: Option<Duration>, reply: oneshot::Sender<()> },
    Connected { reply: oneshot::Sender<Vec<(PeerId, Route)>> },
    SetRelays { relays: Vec<(PeerId, Multiaddr)>, reply: oneshot::Sender<Result<(), NetError>> },
    Shutdown { reply: oneshot::Sender<()> },
}

/// A relay we listen through.
struct Relay {
    peer: PeerId,
    /// The relay's address, ending with `/p2p/<relay>`.
    addr: Multiaddr,
    /// The `/p2p-circuit` listener while it is open.
    listener: Option<ListenerId>,
    /// A slot is reserved on it now (its listener has an address).
    reserved: bool,
    backoff: Backoff,
}

type InboundStreams = SelectAll<BoxStream<'static, (DuetProtocol, PeerId, Stream)>>;

pub(crate) struct EventLoop {
    swarm: Swarm<Behaviour>,
    commands: mpsc::Receiver<Command>,
    incoming: InboundStreams,
    events: mpsc::Sender<NetEvent>,
    outbox: VecDeque<NetEvent>,
    /// The node dropped its receiver: events are no longer queued.
    events_closed: bool,
    relay_server: bool,
    policy: BackoffPolicy,
    /// Member devices and when to redial each.
    members: HashMap<PeerId, Backoff>,
    pairing_open: bool,
    book: AddressBook,
    /// `Client::dial` calls waiting for a connection.
    pending_dials: HashMap<PeerId, Vec<oneshot::Sender<Result<(), NetError>>>>,
    /// Kademlia lookups for devices with no known address.
    lookups: HashMap<kad::QueryId, PeerId>,
    /// Banned peers and when their ban ends.
    bans: HashMap<PeerId, Instant>,
    relays: Vec<Relay>,
    /// The direct (not relayed) connections open to each peer and where each goes, for [`Route`].
    direct: HashMap<PeerId, HashMap<ConnectionId, Route>>,
    listen_waiters: Vec<oneshot::Sender<Vec<Multiaddr>>>,
    rng: StdRng,
}

impl EventLoop {
    pub(crate) fn new(
        swarm: Swarm<Behaviour>,
        commands: mpsc::Receiver<Command>,
        events: mpsc::Sender<NetEvent>,
        incoming: Vec<(DuetProtocol, libp2p_stream::IncomingStreams)>,
        relay_server: bool,
    ) -> Self {
        let incoming = futures::stream::select_all(
            incoming
                .into_iter()
                .map(|(protocol, streams)| streams.map(move |(peer, stream)| (protocol, peer, stream)).boxed()),
        );
        Self {
            swarm,
            commands,
            incoming,
            events,
            outbox: VecDeque::new(),
            events_closed: false,
            relay_server,
            policy: BackoffPolicy::default(),
            members: HashMap::new(),
            pairing_open: false,
            book: AddressBook::default(),
            pending_dials: HashMap::new(),
            lookups: HashMap::new(),
            bans: HashMap::new(),
            relays: Vec::new(),
            direct: HashMap::new(),
            listen_waiters: Vec::new(),
            rng: StdRng::from_entropy(),
        }
    }

    /// Listens through `relay` (at `addr`, which ends with `/p2p/<relay>`).
    pub(crate) fn add_relay(&mut self, peer: PeerId, addr: Multiaddr) -> Result<(), NetError> {
        let circuit = addr.clone().with(Protocol::P2pCircuit);
        let listener = self
            .swarm
            .listen_on(circuit.clone())
            .map_err(|e| NetError::Listen { addr: circuit, reason: e.to_string() })?;
        self.swarm.behaviour_mut().limits.bypass_peer_id(&peer);
        self.swarm.behaviour_mut().kad.add_address(&peer, addr.clone());
        let backoff = Backoff::idle(self.policy, Instant::now());
        self.relays.push(Relay { peer, addr, listener: Some(listener), reserved: false, backoff });
        Ok(())
    }

    /// Listens through exactly `relays` from now on: new ones are reserved on, dropped ones
    /// released.
    fn set_relays(&mut self, relays: Vec<(PeerId, Multiaddr)>) -> Result<(), NetError> {
        let (kept, dropped): (Vec<Relay>, Vec<Relay>) =
            std::mem::take(&mut self.relays).into_iter().partition(|r| relays.iter().any(|(_, a)| *a == r.addr));
        self.relays = kept;
        for relay in dropped {
            if let Some(listener) = relay.listener {
                self.swarm.remove_listener(listener);
            }
            if !self.members.contains_key(&relay.peer) {
                self.swarm.behaviour_mut().limits.remove_peer_id(&relay.peer);
            }
        }
        for (peer, addr) in relays {
            if !self.relays.iter().any(|r| r.addr == addr) {
                self.add_relay(peer, addr)?;
            }
        }
        Ok(())
    }

    pub(crate) async fn run(mut self) {
        let mut timer = Box::pin(tokio::time::sleep(IDLE_TICK));
        let shutdown_reply = loop {
            tokio::select! {
                command = self.commands.recv() => match command {
                    None => break None,
                    Some(Command::Shutdown { reply }) => break Some(reply),
                    Some(command) => self.on_command(command),
                },
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                Some((protocol, peer, stream)) = self.incoming.next() => self.on_inbound_stream(protocol, peer, stream),
                // An owned permit (of a cloned sender) borrows nothing from `self`.
                permit = self.events.clone().reserve_owned(), if !self.outbox.is_empty() => match permit {
                    Ok(permit) => {
                        if let Some(event) = self.outbox.pop_front() {
                            permit.send(event);
                        }
                    }
                    Err(_) => self.close_events(),
                },
                () = &mut timer => self.on_timer(Instant::now()),
            }
            let now = Instant::now();
            let deadline = self.next_deadline().unwrap_or(now + IDLE_TICK).min(now + IDLE_TICK);
            timer.as_mut().reset(tokio::time::Instant::from_std(deadline));
        };
        debug!("network event loop stopping");
        // Close listeners and connections before answering, so a caller that restarts on the
        // same port finds it free.
        let EventLoop { swarm, .. } = self;
        drop(swarm);
        if let Some(reply) = shutdown_reply {
            let _ = reply.send(());
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::ListenAddrs { reply } => {
                let _ = reply.send(self.listen_addrs());
            }
            Command::WaitListening { reply } => {
                self.listen_waiters.retain(|w| !w.is_closed());
                self.listen_waiters.push(reply);
                self.answer_listen_waiters();
            }
            Command::AddAddresses { peer, addrs, reply } => {
                let fresh = self.book.add(peer, addrs);
                if !fresh.is_empty() {
                    self.hurry_redial(peer);
                }
                let _ = reply.send(());
            }
            Command::Dial { peer, reply } => self.dial_for_client(peer, reply),
            Command::SetMembers { members, reply } => {
                self.set_members(members);
                let _ = reply.send(());
            }
            Command::SetPairingOpen { open, reply } => {
                self.pairing_open = open;
                let _ = reply.send(());
            }
            Command::Disconnect { peer, ban_for, reply } => {
                self.disconnect(peer, ban_for);
                let _ = reply.send(());
            }
            Command::Connected { reply } => {
                let route = |peer: &PeerId| match self.direct.get(peer) {
                    Some(c) if c.values().any(|r| *r == Route::Lan) => Route::Lan,
                    Some(_) => Route::Direct,
                    None => Route::Relayed,
                };
                let _ = reply.send(self.swarm.connected_peers().map(|p| (*p, route(p))).collect());
            }
            Command::SetRelays { relays, reply } => {
                let _ = reply.send(self.set_relays(relays));
            }
            Command::Shutdown { reply } => {
                // Handled by `run`; answering here keeps the match total.
                let _ = reply.send(());
            }
        }
    }

    // ---- listening -------------------------------------------------------------------

    fn listen_addrs(&self) -> Vec<Multiaddr> {
        let local = *self.swarm.local_peer_id();
        self.swarm.listeners().filter_map(|a| plain(a.clone(), &local)).collect()
    }

    fn answer_listen_waiters(&mut self) {
        let addrs = self.listen_addrs();
        let relayed = addrs.iter().any(is_relayed);
        if addrs.is_empty() || (!self.relays.is_empty() && !relayed) {
            return;
        }
        for waiter in self.listen_waiters.drain(..) {
            let _ = waiter.send(addrs.clone());
        }
    }

    // ---- members, dialing and bans ---------------------------------------------------

    fn set_members(&mut self, members: HashSet<PeerId>) {
        let now = Instant::now();
        let local = *self.swarm.local_peer_id();
        let members: HashSet<PeerId> = members.into_iter().filter(|p| *p != local).collect();
        let behaviour = self.swarm.behaviour_mut();
        behaviour.keep_alive.set_peers(&members);
        for gone in self.members.keys().filter(|p| !members.contains(p)) {
            behaviour.limits.remove_peer_id(gone);
        }
        self.members.retain(|peer, _| members.contains(peer));
        for peer in members {
            if self.members.contains_key(&peer) {
                continue;
            }
            self.swarm.behaviour_mut().limits.bypass_peer_id(&peer);
            let backoff = if self.swarm.is_connected(&peer) {
                Backoff::idle(self.policy, now)
            } else {
                Backoff::due_now(self.policy, now)
            };
            self.members.insert(peer, backoff);
            // Addresses learned while it was pairing (its identify came before it was a
            // member) are told again now, so the node keeps them for its next start.
            let known = self.book.get(&peer);
            if let (false, Some(device)) = (known.is_empty(), device_id(&peer)) {
                self.emit(NetEvent::Addresses { device, addrs: known });
            }
        }
    }

    /// A member is worth dialing at once (new address seen).
    fn hurry_redial(&mut self, peer: PeerId) {
        if self.swarm.is_connected(&peer) {
            return;
        }
        if let Some(backoff) = self.members.get_mut(&peer) {
            backoff.hurry(Instant::now());
        }
    }

    fn dial_for_client(&mut self, peer: PeerId, reply: oneshot::Sender<Result<(), NetError>>) {
        let Some(device) = device_id(&peer) else {
            let _ = reply.send(Err(NetError::Transport { reason: "not a Duet device".into() }));
            return;
        };
        if peer == *self.swarm.local_peer_id() {
            let _ = reply.send(Err(NetError::DialSelf));
            return;
        }
        // Bans first: a banned peer's connections may still be closing.
        if self.bans.contains_key(&peer) {
            let _ = reply.send(Err(NetError::Banned { device }));
            return;
        }
        if self.swarm.is_connected(&peer) {
            let _ = reply.send(Ok(()));
            return;
        }
        let waiting = self.pending_dials.entry(peer).or_default();
        waiting.retain(|w| !w.is_closed());
        waiting.push(reply);
        self.dial(peer, true);
    }

    /// Dials `peer` with every address we and the behaviours know. With none, starts a
    /// Kademlia lookup if `may_look_up`, else fails.
    fn dial(&mut self, peer: PeerId, may_look_up: bool) {
        let opts = DialOpts::peer_id(peer)
            .addresses(self.book.get(&peer))
            .extend_addresses_through_behaviour()
            .condition(PeerCondition::DisconnectedAndNotDialing)
            .build();
        match self.swarm.dial(opts) {
            Ok(()) => {}
            // Already dialing: the outcome arrives as a swarm event.
            Err(DialError::DialPeerConditionFalse(_)) => {}
            Err(DialError::NoAddresses) if may_look_up => {
                if !self.lookups.values().any(|p| *p == peer) {
                    debug!(%peer, "no known address, asking the DHT");
                    let query = self.swarm.behaviour_mut().kad.get_closest_peers(peer);
                    self.lookups.insert(query, peer);
                }
            }
            Err(DialError::NoAddresses) => self.dial_failed(peer, None),
            Err(e) => self.dial_failed(peer, Some(e.to_string())),
        }
    }

    /// A dial of `peer` failed (`reason`, or `None` for "no address"): answer the waiting
    /// clients and schedule the next attempt if it is a member.
    fn dial_failed(&mut self, peer: PeerId, reason: Option<String>) {
        if let Some(device) = device_id(&peer) {
            let error = match reason {
                None => NetError::NoAddress { device },
                Some(mut reason) => {
                    if reason.len() > MAX_REASON_LEN {
                        let cut = (0..=MAX_REASON_LEN).rev().find(|i| reason.is_char_boundary(*i)).unwrap_or(0);
                        reason.truncate(cut);
                        reason.push('…');
                    }
                    NetError::Unreachable { device, reason }
                }
            };
            for waiter in self.pending_dials.remove(&peer).unwrap_or_default() {
                let _ = waiter.send(Err(error.clone()));
            }
        }
        let jitter = self.rng.gen::<f64>();
        if let Some(backoff) = self.members.get_mut(&peer) {
            backoff.failed(Instant::now(), jitter);
        }
    }

    fn disconnect(&mut self, peer: PeerId, ban_for: Option<Duration>) {
        match ban_for {
            Some(ban) => {
                let now = Instant::now();
                // `Duration::MAX` must not overflow the clock: a century is forever enough.
                let until = now
                    .checked_add(ban)
                    .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
                    .unwrap_or(now);
                self.bans.insert(peer, until);
                // Blocking also closes its open connections.
                self.swarm.behaviour_mut().block_list.block_peer(peer);
                if let Some(device) = device_id(&peer) {
                    for waiter in self.pending_dials.remove(&peer).unwrap_or_default() {
                        let _ = waiter.send(Err(NetError::Banned { device }));
                    }
                }
            }
            None => {
                let _ = self.swarm.disconnect_peer_id(peer);
            }
        }
    }

    // ---- the timer -------------------------------------------------------------------

    fn next_deadline(&self) -> Option<Instant> {
        let members = self.members.values().filter_map(Backoff::next_attempt);
        let relays = self.relays.iter().filter(|r| r.listener.is_none()).filter_map(|r| r.backoff.next_attempt());
        members.chain(relays).chain(self.bans.values().copied()).min()
    }

    fn on_timer(&mut self, now: Instant) {
        let lifted: Vec<PeerId> = self.bans.iter().filter(|(_, until)| **until <= now).map(|(p, _)| *p).collect();
        for peer in lifted {
            self.bans.remove(&peer);
            self.swarm.behaviour_mut().block_list.unblock_peer(peer);
            self.hurry_redial(peer);
        }

        let mut due = Vec::new();
        for (peer, backoff) in &mut self.members {
            if backoff.take_due(now) {
                due.push(*peer);
            }
        }
        for peer in due {
            if self.swarm.is_connected(&peer) {
                if let Some(backoff) = self.members.get_mut(&peer) {
                    backoff.succeeded(now);
                }
            } else if self.bans.contains_key(&peer) {
                let jitter = self.rng.gen::<f64>();
                if let Some(backoff) = self.members.get_mut(&peer) {
                    backoff.failed(now, jitter);
                }
            } else {
                debug!(%peer, "redialing member");
                self.dial(peer, true);
            }
        }

        for i in 0..self.relays.len() {
            let relay = &mut self.relays[i];
            if relay.listener.is_some() || !relay.backoff.take_due(now) {
                continue;
            }
            let circuit = relay.addr.clone().with(Protocol::P2pCircuit);
            match self.swarm.listen_on(circuit) {
                Ok(listener) => self.relays[i].listener = Some(listener),
                Err(e) => {
                    warn!(relay = %self.relays[i].peer, "could not listen through relay: {e}");
                    let jitter = self.rng.gen::<f64>();
                    self.relays[i].backoff.failed(now, jitter);
                }
            }
        }
    }

    // ---- inbound streams -------------------------------------------------------------

    fn on_inbound_stream(&mut self, protocol: DuetProtocol, peer: PeerId, stream: Stream) {
        let member = self.members.contains_key(&peer);
        let allowed = match protocol {
            DuetProtocol::Sync | DuetProtocol::Live | DuetProtocol::Blobs => member,
            DuetProtocol::Pair | DuetProtocol::Mailbox => self.pairing_open,
            // A relay serves whoever it let connect (its `--allow` list, or anyone when open).
            DuetProtocol::Turn => self.relay_server,
        };
        let device = device_id(&peer);
        if let (true, Some(device)) = (allowed, device) {
            self.emit(NetEvent::InboundStream { device, protocol, stream });
            return;
        }
        drop(stream);
        info!(%peer, %protocol, "refused a stream");
        if !member {
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        if let Some(device) = device {
            self.emit(NetEvent::Refused { device, protocol });
        }
    }

    // ---- events out ------------------------------------------------------------------

    fn emit(&mut self, event: NetEvent) {
        if self.events_closed {
            return;
        }
        let event = if self.outbox.is_empty() {
            match self.events.try_send(event) {
                Ok(()) => return,
                Err(mpsc::error::TrySendError::Full(event)) => event,
                Err(mpsc::error::TrySendError::Closed(_)) => return self.close_events(),
            }
        } else {
            event
        };
        if self.outbox.len() >= OUTBOX_LIMIT {
            warn!(?event, "the node is not reading network events; dropping one");
            return;
        }
        self.outbox.push_back(event);
    }

    fn close_events(&mut self) {
        self.events_closed = true;
        self.outbox.clear();
    }
}

//! TURN (RFC 8656, UDP relays only), run by `duet relay` on its STUN port, and the
//! credentials that open it.
//!
//! When both partners sit behind routers that give every destination another outside port
//! (symmetric NATs, common on mobile networks and in offices), no STUN address works and no
//! hole can be punched: a call's media must go through a machine both can reach. The relay a
//! couple runs is that machine. It sees only SRTP: the call stays end-to-end encrypted.
//!
//! **Credentials only for the devices it serves.** TURN's long-term credentials are a
//! username and a password. Here the username is `<expiry>:<device id>` and the password a
//! keyed BLAKE3 hash of the username with a secret derived from the relay's key (the shape
//! of the "TURN REST API" many servers use), so the relay keeps no table of passwords and a
//! restart keeps them valid. A device gets its credentials over `/duet/turn/1`, a libp2p
//! stream on its connection to the relay, which is authenticated and which a relay with an
//! `--allow` list only lets its listed devices open. The TURN port checks the password, the
//! expiry and that the device is still served.
//!
//! **What is kept, and bounds.** Per client address, one allocation: a UDP socket on the
//! relay's address, its permissions (peer IPs, 5 minutes each) and channels (10 minutes).
//! At most [`MAX_ALLOCATIONS`] at once, [`MAX_PER_DEVICE`] per device, lifetimes at most an
//! hour; everything expires unless refreshed. Binding requests are answered as the plain
//! STUN service does, without credentials.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use duet_model::DeviceId;
use futures::{AsyncReadExt, AsyncWriteExt};
use libp2p::Multiaddr;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::stun_wire::binding_response;
use crate::stun_wire::{
    channel_data, channel_message, long_term_key, Builder, Class, Message, ALLOCATE, BINDING, CHANNELS, CHANNEL_BIND,
    CREATE_PERMISSION, DATA, DATA_INDICATION, NONCE, REALM, REFRESH, REQUESTED_TRANSPORT, SEND, TRANSPORT_UDP,
    USERNAME, XOR_MAPPED_ADDRESS, XOR_PEER_ADDRESS, XOR_RELAYED_ADDRESS,
};

/// The realm every credential belongs to.
pub const REALM_NAME: &str = "duet";
/// How long credentials given to a device stay valid.
pub const CREDENTIAL_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// Most allocations at once, over all devices.
pub const MAX_ALLOCATIONS: usize = 128;
/// Most allocations one device holds at once (one per local address and call; a call that
/// ends releases them).
pub const MAX_PER_DEVICE: usize = 16;
const DEFAULT_LIFETIME: u32 = 600;
const MAX_LIFETIME: u32 = 3600;
const PERMISSION_LIFETIME: Duration = Duration::from_secs(300);
const CHANNEL_LIFETIME: Duration = Duration::from_secs(600);
/// Most permissions and channels per allocation (a call needs a handful).
const MAX_PEERS: usize = 64;
/// The largest datagram relayed; a bigger one is dropped (calls send at most ~1,200 bytes).
const MAX_DATAGRAM: usize = 4096;
/// Datagrams from peers waiting for the server loop; beyond this they are dropped, as a
/// congested UDP path drops them.
const PEER_QUEUE: usize = 1024;

/// The credentials a relay gives one device for its TURN port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnCredentials {
    /// The relay's TURN port (on the relay's own host).
    pub port: u16,
    pub username: String,
    pub password: String,
    /// When they stop working, in seconds since 1970.
    pub expires: u64,
}

/// The most bytes of encoded credentials read from a relay.
const MAX_CREDENTIALS: usize = 512;

impl TurnCredentials {
    /// `port (2) · expires (8) · username length (1) · username · password length (1) · password`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(12 + self.username.len() + self.password.len());
        out.extend_from_slice(&self.port.to_be_bytes());
        out.extend_from_slice(&self.expires.to_be_bytes());
        for text in [&self.username, &self.password] {
            let bytes = &text.as_bytes()[..text.len().min(255)];
            out.push(bytes.len() as u8);
            out.extend_from_slice(bytes);
        }
        out
    }

    /// The credentials in `bytes`, or `None` if they are not whole and nothing more.
    pub fn decode(bytes: &[u8]) -> Option<TurnCredentials> {
        let port = u16::from_be_bytes(bytes.get(..2)?.try_into().ok()?);
        let expires = u64::from_be_bytes(bytes.get(2..10)?.try_into().ok()?);
        let mut rest = &bytes[10..];
        let mut text = || {
            let len = usize::from(*rest.first()?);
            let value = std::str::from_utf8(rest.get(1..1 + len)?).ok()?.to_owned();
            rest = &rest[1 + len..];
            Some(value)
        };
        let (username, password) = (text()?, text()?);
        (rest.is_empty() && port != 0).then_some(TurnCredentials { port, username, password, expires })
    }

    /// The `turn:` URL for these credentials on the relay at `relay` (its host, their port),
    /// or `None` for a relay address that names no host.
    pub fn url(&self, relay: &Multiaddr) -> Option<String> {
        Some(format!("turn:{}:{}?transport=udp", crate::stun::relay_host(relay)?, self.port))
    }

    /// Whether they are still good at `now` (seconds since 1970) for at least `margin`.
    pub fn valid_for(&self, now: u64, margin: Duration) -> bool {
        self.expires > now.saturating_add(margin.as_secs())
    }
}

/// Seconds since 1970, now.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The relay's secret for TURN passwords, derived from its key.
#[derive(Clone)]
pub struct TurnSecret([u8; 32]);

impl TurnSecret {
    pub fn derive(relay_secret: &[u8; 32]) -> TurnSecret {
        TurnSecret(blake3::derive_key("duet relay turn credentials v1", relay_secret))
    }

    fn password(&self, username: &str) -> String {
        let hash = blake3::keyed_hash(&self.0, username.as_bytes());
        hash.as_bytes()[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Credentials for `device` on TURN port `port`, valid from `now` for
    /// [`CREDENTIAL_LIFETIME`].
    pub fn issue(&self, device: &DeviceId, port: u16, now: u64) -> TurnCredentials {
        let expires = now + CREDENTIAL_LIFETIME.as_secs();
        let username = format!("{expires}:{device}");
        TurnCredentials { port, password: self.password(&username), username, expires }
    }

    /// The device and password behind `username`, if this relay issued it and it has not
    /// expired at `now`.
    fn check(&self, username: &str, now: u64) -> Option<(DeviceId, String)> {
        let (expires, device) = username.split_once(':')?;
        let expires: u64 = expires.parse().ok()?;
        let device: DeviceId = device.parse().ok()?;
        let fresh = expires > now && expires <= now + 2 * CREDENTIAL_LIFETIME.as_secs();
        fresh.then(|| (device, self.password(username)))
    }
}

/// Answers a device's `/duet/turn/1` stream with its credentials.
pub async fn give_credentials(
    mut stream: impl futures::AsyncWrite + Unpin,
    credentials: &TurnCredentials,
) -> io::Result<()> {
    stream.write_all(&credentials.encode()).await?;
    stream.close().await
}

/// Reads the credentials a relay gives on `/duet/turn/1` (within 10 s).
pub async fn take_credentials(mut stream: impl futures::AsyncRead + Unpin) -> io::Result<TurnCredentials> {
    let mut bytes = Vec::new();
    let mut limited = (&mut stream).take(MAX_CREDENTIALS as u64 + 1);
    tokio::time::timeout(Duration::from_secs(10), limited.read_to_end(&mut bytes))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "the relay gave no TURN credentials in 10 s"))??;
    TurnCredentials::decode(&bytes)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "the relay's TURN credentials do not read"))
}

/// How a relay serves TURN.
pub struct TurnConfig {
    pub secret: TurnSecret,
    /// The address relayed sockets are opened on and announced with: the relay's address on
    /// the internet.
    pub relay_ip: IpAddr,
    /// The devices served; `None` serves any device holding credentials from this relay.
    pub allowed: Option<HashSet<DeviceId>>,
}

/// The address TURN opens relayed sockets on and tells devices: `--turn-ip`, else the STUN
/// address when it names one, else the first address the relay listens on that is not
/// loopback (on a machine with a public address, that one), else loopback.
pub fn relay_ip(given: Option<IpAddr>, stun: SocketAddr, listening: &[Multiaddr]) -> IpAddr {
    use libp2p::multiaddr::Protocol;
    if let Some(ip) = given {
        return ip;
    }
    if !stun.ip().is_unspecified() {
        return stun.ip();
    }
    let ips = listening.iter().filter_map(|a| match a.iter().next() {
        Some(Protocol::Ip4(ip)) => Some(IpAddr::V4(ip)),
        _ => None,
    });
    let mut ips: Vec<IpAddr> = ips.collect();
    ips.sort_by_key(|ip| ip.is_loopback());
    ips.first().copied().unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
}

/// One client's allocation.
struct Allocation {
    device: DeviceId,
    socket: Arc<UdpSocket>,
    relayed: SocketAddr,
    expires: Instant,
    permissions: HashMap<IpAddr, Instant>,
    /// Channel number → peer, and back.
    channels: HashMap<u16, (SocketAddr, Instant)>,
    by_peer: HashMap<SocketAddr, u16>,
    reader: tokio::task::JoinHandle<()>,
}

impl Allocation {
    fn permitted(&self, peer: IpAddr, now: Instant) -> bool {
        self.permissions.get(&peer).is_some_and(|until| *until > now)
    }

    fn expire(&mut self, now: Instant) {
        self.permissions.retain(|_, until| *until > now);
        let gone: Vec<u16> = self.channels.iter().filter(|(_, (_, until))| *until <= now).map(|(c, _)| *c).collect();
        for channel in gone {
            if let Some((peer, _)) = self.channels.remove(&channel) {
                self.by_peer.remove(&peer);
            }
        }
    }
}

impl Drop for Allocation {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// A datagram that came to a relayed socket: for which client, from whom.
struct FromPeer {
    client: SocketAddr,
    peer: SocketAddr,
    data: Vec<u8>,
}

/// The TURN server's state, owned by its loop.
struct Server {
    config: TurnConfig,
    socket: Arc<UdpSocket>,
    nonce: String,
    allocations: HashMap<SocketAddr, Allocation>,
    from_peers: mpsc::Sender<FromPeer>,
}

/// Serves STUN binding requests and TURN on `socket` for as long as the relay runs.
pub async fn serve(socket: UdpSocket, config: TurnConfig) {
    let socket = Arc::new(socket);
    let (tx, mut from_peers) = mpsc::channel(PEER_QUEUE);
    let nonce: String = (0..16).map(|_| format!("{:02x}", rand::random::<u8>())).collect();
    let mut server = Server { config, socket: socket.clone(), nonce, allocations: HashMap::new(), from_peers: tx };
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    let mut sweep = tokio::time::interval(Duration::from_secs(15));
    loop {
        tokio::select! {
            received = socket.recv_from(&mut buf) => match received {
                Ok((n, from)) if n <= MAX_DATAGRAM => server.on_client_datagram(from, &buf[..n]).await,
                Ok(_) => {} // larger than anything a call sends: dropped
                Err(e) => {
                    // One sender's trouble (an ICMP error reported on the next receive, a
                    // datagram too large on some systems) must not stop the others; a pause
                    // keeps a dead socket from spinning a core.
                    tracing::debug!("TURN: a receive failed, going on: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(datagram) = from_peers.recv() => server.on_peer_datagram(datagram),
            _ = sweep.tick() => server.sweep(Instant::now()),
        }
    }
}

impl Server {
    async fn on_client_datagram(&mut self, from: SocketAddr, datagram: &[u8]) {
        if let Some((channel, data)) = channel_data(datagram) {
            self.relay_channel(from, channel, data);
            return;
        }
        let Some(message) = Message::parse(datagram) else { return };
        let now = Instant::now();
        let answer = match (message.method, message.class) {
            (BINDING, Class::Request) => binding_response(datagram, from),
            (SEND, Class::Indication) => {
                self.relay_send(from, &message, now);
                None
            }
            (ALLOCATE, Class::Request) => Some(self.allocate(from, &message, now).await),
            (REFRESH | CREATE_PERMISSION | CHANNEL_BIND, Class::Request) => {
                Some(self.on_allocation(from, &message, now))
            }
            _ => None,
        };
        if let Some(answer) = answer {
            // An answer that cannot be sent (the client's network went away) is not ours to fix.
            let _ = self.socket.send_to(&answer, from).await;
        }
    }

    /// The device and key behind a request's credentials, or the error answer to send.
    fn authenticate(&self, message: &Message<'_>) -> Result<(DeviceId, [u8; 16]), Vec<u8>> {
        let unauthorized = |reason: &str| {
            Builder::answer(message, Class::Error)
                .error(401, reason)
                .attribute(REALM, REALM_NAME.as_bytes())
                .attribute(NONCE, self.nonce.as_bytes())
                .finish()
        };
        let (Some(username), Some(_)) = (message.text(USERNAME), message.get(crate::stun_wire::MESSAGE_INTEGRITY))
        else {
            return Err(unauthorized("Unauthorized"));
        };
        if message.text(NONCE) != Some(self.nonce.as_str()) {
            return Err(Builder::answer(message, Class::Error)
                .error(438, "Stale Nonce")
                .attribute(REALM, REALM_NAME.as_bytes())
                .attribute(NONCE, self.nonce.as_bytes())
                .finish());
        }
        let Some((device, password)) = self.config.secret.check(username, unix_now()) else {
            return Err(unauthorized("Unknown or expired credentials"));
        };
        let key = long_term_key(username, REALM_NAME, &password);
        if !message.integrity_matches(&key) {
            return Err(unauthorized("Wrong credentials"));
        }
        if self.config.allowed.as_ref().is_some_and(|allowed| !allowed.contains(&device)) {
            return Err(Builder::answer(message, Class::Error).error(403, "Forbidden").integrity(&key).finish());
        }
        Ok((device, key))
    }

    async fn allocate(&mut self, from: SocketAddr, message: &Message<'_>, now: Instant) -> Vec<u8> {
        let (device, key) = match self.authenticate(message) {
            Ok(found) => found,
            Err(answer) => return answer,
        };
        let error = |code: u16, reason: &str| {
            Builder::answer(message, Class::Error).error(code, reason).integrity(&key).finish()
        };
        let lifetime = message.lifetime().unwrap_or(DEFAULT_LIFETIME).clamp(DEFAULT_LIFETIME, MAX_LIFETIME);
        if let Some(existing) = self.allocations.get(&from) {
            // A retransmitted Allocate gets the same answer; anything else is a mismatch.
            return if existing.device == device {
                success_allocate(message, existing.relayed, from, lifetime, &key)
            } else {
                error(437, "Allocation Mismatch")
            };
        }
        if message.get(REQUESTED_TRANSPORT).and_then(|v| v.first()) != Some(&TRANSPORT_UDP) {
            return error(442, "Unsupported Transport Protocol");
        }
        let held = self.allocations.values().filter(|a| a.device == device).count();
        if self.allocations.len() >= MAX_ALLOCATIONS || held >= MAX_PER_DEVICE {
            return error(486, "Allocation Quota Reached");
        }
        let socket = match UdpSocket::bind(SocketAddr::new(self.config.relay_ip, 0)).await {
            Ok(socket) => Arc::new(socket),
            Err(e) => {
                tracing::warn!("TURN: no relayed socket on {}: {e}", self.config.relay_ip);
                return error(508, "Insufficient Capacity");
            }
        };
        let relayed = match socket.local_addr() {
            Ok(addr) => addr,
            Err(_) => return error(508, "Insufficient Capacity"),
        };
        let reader = tokio::spawn(read_peers(socket.clone(), from, self.from_peers.clone()));
        self.allocations.insert(
            from,
            Allocation {
                device,
                socket,
                relayed,
                expires: now + Duration::from_secs(lifetime.into()),
                permissions: HashMap::new(),
                channels: HashMap::new(),
                by_peer: HashMap::new(),
                reader,
            },
        );
        tracing::info!(%device, %from, %relayed, "TURN: allocated");
        success_allocate(message, relayed, from, lifetime, &key)
    }

    /// Refresh, CreatePermission and ChannelBind: on the sender's allocation.
    fn on_allocation(&mut self, from: SocketAddr, message: &Message<'_>, now: Instant) -> Vec<u8> {
        let (device, key) = match self.authenticate(message) {
            Ok(found) => found,
            Err(answer) => return answer,
        };
        let error = |code: u16, reason: &str| {
            Builder::answer(message, Class::Error).error(code, reason).integrity(&key).finish()
        };
        let Some(allocation) = self.allocations.get_mut(&from).filter(|a| a.device == device) else {
            return error(437, "Allocation Mismatch");
        };
        match message.method {
            REFRESH => {
                let lifetime = message.lifetime().unwrap_or(DEFAULT_LIFETIME).min(MAX_LIFETIME);
                if lifetime == 0 {
                    self.allocations.remove(&from);
                    tracing::info!(%device, %from, "TURN: released");
                } else {
                    allocation.expires = now + Duration::from_secs(lifetime.into());
                }
                Builder::answer(message, Class::Success).lifetime(lifetime).integrity(&key).finish()
            }
            CREATE_PERMISSION => {
                let peers: Vec<SocketAddr> = peer_addresses(message).collect();
                if peers.is_empty() {
                    return error(400, "Bad Request");
                }
                allocation.expire(now);
                for peer in peers {
                    if !allocation.permissions.contains_key(&peer.ip()) && allocation.permissions.len() >= MAX_PEERS {
                        return error(508, "Insufficient Capacity");
                    }
                    allocation.permissions.insert(peer.ip(), now + PERMISSION_LIFETIME);
                }
                Builder::answer(message, Class::Success).integrity(&key).finish()
            }
            _ => {
                let (Some(channel), Some(peer)) = (message.channel(), message.address(XOR_PEER_ADDRESS)) else {
                    return error(400, "Bad Request");
                };
                allocation.expire(now);
                let taken_by_other = allocation.channels.get(&channel).is_some_and(|(p, _)| *p != peer)
                    || allocation.by_peer.get(&peer).is_some_and(|c| *c != channel);
                if !CHANNELS.contains(&channel) || taken_by_other {
                    return error(400, "Bad Request");
                }
                if !allocation.channels.contains_key(&channel) && allocation.channels.len() >= MAX_PEERS {
                    return error(508, "Insufficient Capacity");
                }
                allocation.channels.insert(channel, (peer, now + CHANNEL_LIFETIME));
                allocation.by_peer.insert(peer, channel);
                allocation.permissions.insert(peer.ip(), now + PERMISSION_LIFETIME);
                Builder::answer(message, Class::Success).integrity(&key).finish()
            }
        }
    }

    /// A Send indication: its data to its peer, if permitted.
    fn relay_send(&mut self, from: SocketAddr, message: &Message<'_>, now: Instant) {
        let (Some(allocation), Some(peer), Some(data)) =
            (self.allocations.get(&from), message.address(XOR_PEER_ADDRESS), message.get(DATA))
        else {
            return;
        };
        if allocation.permitted(peer.ip(), now) {
            // UDP: a datagram the socket has no room for is dropped, as the network would.
            let _ = allocation.socket.try_send_to(data, peer);
        }
    }

    /// ChannelData from a client: to the channel's peer.
    fn relay_channel(&mut self, from: SocketAddr, channel: u16, data: &[u8]) {
        let now = Instant::now();
        let Some(allocation) = self.allocations.get(&from) else { return };
        if let Some((peer, until)) = allocation.channels.get(&channel) {
            if *until > now && allocation.permitted(peer.ip(), now) {
                let _ = allocation.socket.try_send_to(data, *peer);
            }
        }
    }

    /// A datagram to a relayed address: to its client, on a channel if one is bound, else
    /// as a Data indication; dropped without a permission.
    fn on_peer_datagram(&mut self, FromPeer { client, peer, data }: FromPeer) {
        let now = Instant::now();
        let Some(allocation) = self.allocations.get(&client) else { return };
        if !allocation.permitted(peer.ip(), now) {
            return;
        }
        let out = match allocation.by_peer.get(&peer) {
            Some(channel) => channel_message(*channel, &data),
            None => Builder::new(DATA_INDICATION, Class::Indication, rand::random())
                .address(XOR_PEER_ADDRESS, peer)
                .attribute(DATA, &data)
                .finish(),
        };
        let _ = self.socket.try_send_to(&out, client);
    }

    fn sweep(&mut self, now: Instant) {
        self.allocations.retain(|client, allocation| {
            let alive = allocation.expires > now;
            if !alive {
                tracing::info!(device = %allocation.device, %client, "TURN: expired");
            }
            alive
        });
        for allocation in self.allocations.values_mut() {
            allocation.expire(now);
        }
    }
}

/// Every XOR-PEER-ADDRESS of a request, decoded.
fn peer_addresses<'a>(message: &'a Message<'a>) -> impl Iterator<Item = SocketAddr> + 'a {
    message.all(XOR_PEER_ADDRESS).filter_map(|value| message.decode_address(value))
}

fn success_allocate(
    message: &Message<'_>,
    relayed: SocketAddr,
    client: SocketAddr,
    lifetime: u32,
    key: &[u8],
) -> Vec<u8> {
    Builder::answer(message, Class::Success)
        .address(XOR_RELAYED_ADDRESS, relayed)
        .lifetime(lifetime)
        .address(XOR_MAPPED_ADDRESS, client)
        .integrity(key)
        .finish()
}

/// Reads what peers send to one relayed socket and hands it to the server loop.
async fn read_peers(socket: Arc<UdpSocket>, client: SocketAddr, to_server: mpsc::Sender<FromPeer>) {
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((n, peer)) if n <= MAX_DATAGRAM => {
                if to_server.try_send(FromPeer { client, peer, data: buf[..n].to_vec() }).is_err()
                    && to_server.is_closed()
                {
                    return;
                }
            }
            Ok(_) => {}
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stun_wire::{MESSAGE_INTEGRITY, NONCE};

    const ADA: DeviceId = DeviceId([1; 32]);
    const STRANGER: DeviceId = DeviceId([9; 32]);

    /// A TURN client by hand, over a real UDP socket on loopback.
    struct Client {
        socket: UdpSocket,
        server: SocketAddr,
        credentials: TurnCredentials,
        nonce: String,
    }

    impl Client {
        async fn new(server: SocketAddr, credentials: TurnCredentials) -> Client {
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            Client { socket, server, credentials, nonce: String::new() }
        }

        async fn receive(&self) -> Vec<u8> {
            let mut buf = vec![0u8; 2048];
            let (n, _) = tokio::time::timeout(Duration::from_secs(5), self.socket.recv_from(&mut buf))
                .await
                .expect("an answer within 5 s")
                .unwrap();
            buf.truncate(n);
            buf
        }

        /// Sends a request built by `build` (credentials added) and returns the answer.
        async fn request(&mut self, method: u16, build: impl Fn(Builder) -> Builder) -> Vec<u8> {
            let key = long_term_key(&self.credentials.username, REALM_NAME, &self.credentials.password);
            let request = build(Builder::new(method, Class::Request, rand::random()))
                .attribute(USERNAME, self.credentials.username.as_bytes())
                .attribute(REALM, REALM_NAME.as_bytes())
                .attribute(NONCE, self.nonce.as_bytes())
                .integrity(&key)
                .finish();
            self.socket.send_to(&request, self.server).await.unwrap();
            self.receive().await
        }

        /// Allocates as webrtc-rs does: first without credentials (401 with the nonce), then
        /// with them. The relayed address, or the error code.
        async fn allocate(&mut self) -> Result<SocketAddr, u16> {
            let bare = Builder::new(ALLOCATE, Class::Request, rand::random())
                .attribute(REQUESTED_TRANSPORT, &[TRANSPORT_UDP, 0, 0, 0])
                .finish();
            self.socket.send_to(&bare, self.server).await.unwrap();
            let answer = self.receive().await;
            let challenge = Message::parse(&answer).unwrap();
            assert_eq!((challenge.class, error_code(&challenge)), (Class::Error, Some(401)));
            assert_eq!(challenge.text(REALM), Some(REALM_NAME));
            self.nonce = challenge.text(NONCE).unwrap().to_owned();
            let answer = self.request(ALLOCATE, |b| b.attribute(REQUESTED_TRANSPORT, &[TRANSPORT_UDP, 0, 0, 0])).await;
            let message = Message::parse(&answer).unwrap();
            match message.class {
                Class::Success => {
                    assert_eq!(message.address(XOR_MAPPED_ADDRESS), Some(self.socket.local_addr().unwrap()));
                    assert_eq!(message.lifetime(), Some(DEFAULT_LIFETIME));
                    Ok(message.address(XOR_RELAYED_ADDRESS).unwrap())
                }
                _ => Err(error_code(&message).unwrap()),
            }
        }
    }

    fn error_code(message: &Message<'_>) -> Option<u16> {
        let v = message.get(crate::stun_wire::ERROR_CODE)?;
        Some(u16::from(v[2]) * 100 + u16::from(v[3]))
    }

    async fn server(allowed: Option<HashSet<DeviceId>>) -> (SocketAddr, TurnSecret) {
        let secret = TurnSecret::derive(&[7; 32]);
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let config = TurnConfig { secret: secret.clone(), relay_ip: "127.0.0.1".parse().unwrap(), allowed };
        tokio::spawn(serve(socket, config));
        (addr, secret)
    }

    async fn peer_receives(peer: &UdpSocket) -> (Vec<u8>, SocketAddr) {
        let mut buf = vec![0u8; 2048];
        let (n, from) =
            tokio::time::timeout(Duration::from_secs(5), peer.recv_from(&mut buf)).await.expect("within 5 s").unwrap();
        buf.truncate(n);
        (buf, from)
    }

    #[tokio::test]
    async fn a_device_relays_both_ways_through_an_allocation() {
        let (addr, secret) = server(Some(HashSet::from([ADA]))).await;
        let mut ada = Client::new(addr, secret.issue(&ADA, addr.port(), unix_now())).await;
        let relayed = ada.allocate().await.expect("allocated");
        assert_eq!(relayed.ip(), "127.0.0.1".parse::<IpAddr>().unwrap());

        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let peer_addr = peer.local_addr().unwrap();

        let answer = ada.request(CREATE_PERMISSION, |b| b.address(XOR_PEER_ADDRESS, peer_addr)).await;
        assert_eq!(Message::parse(&answer).unwrap().class, Class::Success);
        let send = Builder::new(SEND, Class::Indication, rand::random())
            .address(XOR_PEER_ADDRESS, peer_addr)
            .attribute(DATA, b"hello through the relay")
            .finish();
        ada.socket.send_to(&send, addr).await.unwrap();
        let (data, from) = peer_receives(&peer).await;
        assert_eq!((data.as_slice(), from), (&b"hello through the relay"[..], relayed));

        peer.send_to(b"hello back", relayed).await.unwrap();
        let indication = ada.receive().await;
        let message = Message::parse(&indication).expect("a Data indication, not the early datagram");
        assert_eq!((message.method, message.class), (DATA_INDICATION, Class::Indication));
        assert_eq!(message.address(XOR_PEER_ADDRESS), Some(peer_addr));
        assert_eq!(message.get(DATA), Some(&b"hello back"[..]));

        // A channel: ChannelData both ways.
        let answer = ada
            .request(CHANNEL_BIND, |b| {
                b.attribute(crate::stun_wire::CHANNEL_NUMBER, &[0x40, 0x01, 0, 0]).address(XOR_PEER_ADDRESS, peer_addr)
            })
            .await;
        assert_eq!(Message::parse(&answer).unwrap().class, Class::Success);
        ada.socket.send_to(&channel_message(0x4001, b"on a channel"), addr).await.unwrap();
        assert_eq!(peer_receives(&peer).await, (b"on a channel".to_vec(), relayed));
        peer.send_to(b"channel back", relayed).await.unwrap();
        assert_eq!(channel_data(&ada.receive().await), Some((0x4001, &b"channel back"[..])));

        // A peer Ada gave no permission (another address) is not relayed to her: what she
        // gets next is her peer's, and nothing after it.
        let stranger = UdpSocket::bind("127.0.0.2:0").await.unwrap();
        stranger.send_to(b"let me in", relayed).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        peer.send_to(b"after", relayed).await.unwrap();
        assert_eq!(channel_data(&ada.receive().await), Some((0x4001, &b"after"[..])));
        let mut buf = [0u8; 64];
        let nothing = tokio::time::timeout(Duration::from_millis(300), ada.socket.recv_from(&mut buf)).await;
        assert!(nothing.is_err(), "the stranger's datagram was relayed");

        // Released: the relayed address is gone.
        let answer = ada.request(REFRESH, |b| b.lifetime(0)).await;
        assert_eq!(Message::parse(&answer).unwrap().class, Class::Success);
        let again = ada.request(CREATE_PERMISSION, |b| b.address(XOR_PEER_ADDRESS, peer_addr)).await;
        assert_eq!(error_code(&Message::parse(&again).unwrap()), Some(437));
    }

    #[tokio::test]
    async fn only_the_devices_it_serves_get_an_allocation() {
        let (addr, secret) = server(Some(HashSet::from([ADA]))).await;

        // Credentials the relay issued, to a device it no longer serves.
        let mut stranger = Client::new(addr, secret.issue(&STRANGER, addr.port(), unix_now())).await;
        assert_eq!(stranger.allocate().await, Err(403));

        // A password made up for Ada, another relay's, and Ada's expired ones.
        let mut forged = secret.issue(&ADA, addr.port(), unix_now());
        forged.password = "0".repeat(32);
        assert_eq!(Client::new(addr, forged).await.allocate().await, Err(401));
        let other = TurnSecret::derive(&[8; 32]).issue(&ADA, addr.port(), unix_now());
        assert_eq!(Client::new(addr, other).await.allocate().await, Err(401));
        let old = secret.issue(&ADA, addr.port(), unix_now() - 2 * CREDENTIAL_LIFETIME.as_secs());
        assert_eq!(Client::new(addr, old).await.allocate().await, Err(401));

        // A request without MESSAGE-INTEGRITY is not one.
        let ada = Client::new(addr, secret.issue(&ADA, addr.port(), unix_now())).await;
        let bare = Builder::new(CREATE_PERMISSION, Class::Request, rand::random())
            .attribute(USERNAME, ada.credentials.username.as_bytes())
            .finish();
        ada.socket.send_to(&bare, addr).await.unwrap();
        let answer = ada.receive().await;
        let message = Message::parse(&answer).unwrap();
        assert_eq!(error_code(&message), Some(401));
        assert!(message.get(MESSAGE_INTEGRITY).is_none());

        // Binding requests are answered for anyone, as the STUN service does.
        let binding = Builder::new(BINDING, Class::Request, [3; 12]).finish();
        ada.socket.send_to(&binding, addr).await.unwrap();
        let answer = ada.receive().await;
        let message = Message::parse(&answer).unwrap();
        assert_eq!(message.class, Class::Success);
        assert_eq!(message.address(XOR_MAPPED_ADDRESS), Some(ada.socket.local_addr().unwrap()));
    }

    #[tokio::test]
    async fn one_device_holds_a_bounded_number_of_allocations() {
        let (addr, secret) = server(None).await;
        let mut clients = Vec::new();
        for _ in 0..MAX_PER_DEVICE {
            let mut c = Client::new(addr, secret.issue(&ADA, addr.port(), unix_now())).await;
            c.allocate().await.expect("within the bound");
            clients.push(c);
        }
        let mut one_more = Client::new(addr, secret.issue(&ADA, addr.port(), unix_now())).await;
        assert_eq!(one_more.allocate().await, Err(486));
        // Another device is not held back by Ada's.
        let mut ben = Client::new(addr, secret.issue(&DeviceId([2; 32]), addr.port(), unix_now())).await;
        assert!(ben.allocate().await.is_ok());
    }

    #[test]
    fn relayed_sockets_open_on_the_relays_internet_address() {
        let any: SocketAddr = "0.0.0.0:3478".parse().unwrap();
        let listening: Vec<Multiaddr> =
            ["/ip4/127.0.0.1/tcp/4001", "/ip4/198.51.100.1/tcp/4001"].iter().map(|a| a.parse().unwrap()).collect();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(relay_ip(Some(ip("203.0.113.9")), any, &listening), ip("203.0.113.9"));
        assert_eq!(relay_ip(None, "198.51.100.5:3478".parse().unwrap(), &listening), ip("198.51.100.5"));
        assert_eq!(relay_ip(None, any, &listening), ip("198.51.100.1"));
        assert_eq!(relay_ip(None, any, &listening[..1]), ip("127.0.0.1"));
        assert_eq!(relay_ip(None, any, &[]), ip("127.0.0.1"));
    }

    #[test]
    fn credentials_cross_as_bytes_and_name_the_relays_host() {
        let c = TurnSecret::derive(&[7; 32]).issue(&ADA, 3478, 1_700_000_000);
        assert_eq!(TurnCredentials::decode(&c.encode()), Some(c.clone()));
        let bytes = c.encode();
        assert_eq!(TurnCredentials::decode(&bytes[..bytes.len() - 1]), None);
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(TurnCredentials::decode(&longer), None);
        let relay: Multiaddr = "/ip4/198.51.100.1/tcp/4001".parse().unwrap();
        assert_eq!(c.url(&relay).as_deref(), Some("turn:198.51.100.1:3478?transport=udp"));
        assert!(c.valid_for(1_700_000_000, Duration::from_secs(600)));
        assert!(!c.valid_for(1_700_000_000 + CREDENTIAL_LIFETIME.as_secs(), Duration::ZERO));
    }
}

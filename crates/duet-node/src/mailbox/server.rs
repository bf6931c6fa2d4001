//! Running the couple's blind mailbox (`duet mailbox`): an always-on node that stores the
//! space's sealed events and serves them to the couple's devices, and can open none of them.
//!
//! It speaks `/duet/sync/1` like a member device, both ways: every device pushes what it
//! writes (and forwards) to it, and it pushes to each device what that device lacks. What
//! comes in is checked without the space key (`Verifier::verify_sealed_batch`: a certified
//! member author, the seq and `prev` chain, the Lamport clock, the signature) and kept as
//! sent. Strangers are refused before any of that: only devices certified by one of the
//! registered people may open sync streams (`duet_net` refuses the rest), and only the
//! holder of the ticket may register the space (`duet_log::mailbox`).
//!
//! Old events go once every member device holds them and they are older than the retention
//! (90 days by default); when more than the quota (1 GiB) is held, the oldest go whoever
//! lacks them (at once, when a push takes it past the quota), and the log says so. A device that lacks dropped events gets them from its
//! partner's or its own other devices, as without a mailbox.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use duet_blob::{Request as BlobRequest, Response as BlobResponse};
use duet_crypto::DeviceCertificate;
use duet_log::mailbox::{check_registration, MailboxReport, MailboxRequest, MailboxTicket, Register, RegisterReply};
use duet_log::sync::batch_bodies;
use duet_log::{LogHead, Members, PushPlanner, SyncMessage, Verifier, VersionVector};
use duet_model::DeviceId;
use duet_net::{Client, DuetProtocol, Multiaddr, NetConfig, NetEvent};
use duet_store::mailbox::MailboxStore;
use futures::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::{mpsc, watch};

use crate::frames::{read_frame, write_frame, FrameRules};
use crate::streams::{PAIR_FRAMES, SYNC_IDLE};
use crate::sync::AbortOnDrop;
use crate::{lock, now, NodeError};

/// Sync frames, as between devices.
/// Blob requests: a sealed chunk to keep and its header at most.
const BLOB_FRAMES: FrameRules = FrameRules { max: duet_blob::MAX_FRAME_BYTES, idle: crate::streams::BLOB_IDLE };
const SYNC_FRAMES: FrameRules = FrameRules { max: duet_log::sync::MAX_FRAME_BYTES, idle: SYNC_IDLE };
/// How long a device that misbehaved is cut off.
const BAN: Duration = Duration::from_secs(60);
/// Registrations answered at once: anyone may open `/duet/mailbox/1`, so a stranger opening
/// thousands gets them dropped, not a task each (a real one takes one stream, briefly).
const REGISTRATIONS_AT_ONCE: usize = 8;
/// How often old events are looked at.
const PRUNE_EVERY: Duration = Duration::from_secs(60 * 60);

/// How a mailbox runs.
#[derive(Debug, Clone)]
pub struct MailboxConfig {
    /// Its folder: the identity key (`mailbox.key`) and the store (`mailbox/`).
    pub dir: PathBuf,
    /// Where to listen; the ticket names these addresses.
    pub listen: Vec<Multiaddr>,
    /// Events every device holds go after this long.
    pub retention: Duration,
    /// Most bytes of events held.
    pub quota_bytes: u64,
}

impl MailboxConfig {
    /// Listens on all interfaces on port 4002 (TCP and QUIC); keeps 90 days and at most 1 GiB.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            listen: ["/ip4/0.0.0.0/tcp/4002", "/ip4/0.0.0.0/udp/4002/quic-v1"]
                .iter()
                .filter_map(|a| a.parse().ok())
                .collect(),
            retention: Duration::from_secs(90 * 24 * 60 * 60),
            quota_bytes: 1 << 30,
        }
    }
}

struct Inner {
    config: MailboxConfig,
    store: MailboxStore,
    net: Client,
    /// Bumped after every append: wakes the push sessions.
    changed: watch::Sender<u64>,
    /// The push session to each connected member device.
    pushing: Mutex<HashMap<DeviceId, AbortOnDrop>>,
    /// Places for registrations being answered.
    registrations: Arc<tokio::sync::Semaphore>,
}

/// A running mailbox. Stops when dropped or with [`Mailbox::shutdown`].
pub struct Mailbox {
    inner: Arc<Inner>,
    _run: AbortOnDrop,
    _prune: AbortOnDrop,
}

/// The mailbox's identity lives in `<dir>/mailbox.key` (0600), so its ticket stays valid.
fn identity(dir: &Path) -> Result<[u8; 32], NodeError> {
    let path = dir.join("mailbox.key");
    if let Ok(bytes) = std::fs::read(&path) {
        return <[u8; 32]>::try_from(bytes.as_slice())
            .map_err(|_| NodeError::NotAllowed(format!("{} is damaged (not a key)", path.display())));
    }
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut secret = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut secret);
    let failed = |e: std::io::Error| NodeError::NotAllowed(format!("cannot write {}: {e}", path.display()));
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).map_err(failed)?;
    file.write_all(&secret).and_then(|()| file.sync_all()).map_err(failed)?;
    Ok(secret)
}

impl Mailbox {
    /// Opens the mailbox's store and starts listening.
    pub async fn start(config: MailboxConfig) -> Result<Self, NodeError> {
        crate::private_dir(&config.dir)?;
        let store = MailboxStore::open(&config.dir.join("mailbox"))?;
        let mut net_config = NetConfig::new(identity(&config.dir)?);
        net_config.listen = config.listen.clone();
        net_config.mdns = false;
        let (net, events) = duet_net::start(net_config).await?;
        // Registrations come on `/duet/mailbox/1`, open to anyone: the ticket's secret decides.
        net.set_pairing_open(true).await?;
        let inner = Arc::new(Inner {
            config,
            store,
            net,
            changed: watch::channel(0).0,
            pushing: Mutex::new(HashMap::new()),
            registrations: Arc::new(tokio::sync::Semaphore::new(REGISTRATIONS_AT_ONCE)),
        });
        inner.allow_members().await?;
        let run = tokio::spawn(inner.clone().run(events));
        let prune = tokio::spawn(inner.clone().prune_now_and_then());
        Ok(Self { inner, _run: AbortOnDrop(run), _prune: AbortOnDrop(prune) })
    }

    /// The mailbox's device id.
    pub fn device_id(&self) -> DeviceId {
        self.inner.net.local_device()
    }

    /// Waits until it listens, then gives the one-line ticket a device adds it with.
    pub async fn ticket(&self, patience: Duration) -> Result<String, NodeError> {
        let addrs = self.inner.net.wait_listening(patience).await?;
        let addresses = addrs
            .iter()
            .filter(|a| !duet_net::is_relayed(a))
            .map(|a| a.to_string())
            .filter(|a| a.len() <= duet_log::pairing::MAX_ADDRESS_CHARS)
            .take(duet_log::pairing::MAX_TICKET_ADDRESSES)
            .collect();
        let secret = self.inner.store.secret()?;
        Ok(MailboxTicket { device: self.device_id(), addresses, secret }.encode())
    }

    /// What it holds: the highest seq of each author.
    pub fn version_vector(&self) -> Result<VersionVector, NodeError> {
        Ok(self.inner.store.version_vector()?)
    }

    /// Bytes of sealed events held.
    pub fn bytes_held(&self) -> Result<u64, NodeError> {
        Ok(self.inner.store.bytes_held()?)
    }

    /// Whether it serves `device` now (a member device not removed).
    pub fn serves(&self, device: &DeviceId) -> bool {
        self.inner.is_member(device)
    }

    /// Attachments kept, and their chunks.
    pub fn blobs_held(&self) -> (usize, usize) {
        (self.inner.store.blob_count(), self.inner.store.blob_chunk_count())
    }

    /// Stops listening and closes the store.
    ///
    /// The event loop stops first and is waited for: running on another thread, it could
    /// start a push session after the sessions were stopped, and that session (holding the
    /// mailbox, which holds it) would keep the store open.
    pub async fn shutdown(self) {
        let Self { inner, _run: run, _prune: prune } = self;
        for mut task in [run, prune] {
            task.0.abort();
            let _ = (&mut task.0).await;
        }
        lock(&inner.pushing).clear();
        inner.net.shutdown().await;
    }
}

impl Inner {
    async fn run(self: Arc<Self>, mut events: mpsc::Receiver<NetEvent>) {
        while let Some(event) = events.recv().await {
            match event {
                NetEvent::Connected { device, .. } if self.is_member(&device) => self.start_push(device),
                NetEvent::Disconnected { device } => {
                    lock(&self.pushing).remove(&device);
                }
                NetEvent::InboundStream { device, protocol: DuetProtocol::Mailbox, stream } => {
                    let Ok(place) = self.registrations.clone().try_acquire_owned() else {
                        tracing::debug!(?device, "too many registrations at once; dropping one");
                        continue;
                    };
                    let inner = self.clone();
                    tokio::spawn(async move {
                        let _place = place;
                        inner.answer_registration(device, stream).await
                    });
                }
                NetEvent::InboundStream { device, protocol: DuetProtocol::Sync, stream } if self.is_member(&device) => {
                    self.start_push(device);
                    tokio::spawn(self.clone().receive_session(device, stream));
                }
                NetEvent::InboundStream { device, protocol: DuetProtocol::Blobs, stream }
                    if self.is_member(&device) =>
                {
                    tokio::spawn(self.clone().serve_blobs(device, stream));
                }
                // Live and pairing are not a mailbox's business.
                _ => {}
            }
        }
    }

    /// Keeps the blobs a member device puts (sealed, by mailbox id) and serves them, on one
    /// `/duet/blobs/1` stream, until it closes or sends something out of bounds.
    async fn serve_blobs(self: Arc<Self>, device: DeviceId, stream: duet_net::Stream) {
        let (mut r, mut w) = stream.split();
        loop {
            let Ok(Some(frame)) = read_frame(&mut r, BLOB_FRAMES).await else { return };
            let request = match BlobRequest::decode(&frame) {
                Ok(request) => request,
                Err(e) => {
                    tracing::info!(?device, "closing a blob stream: {e}");
                    return;
                }
            };
            let store = self.store.clone();
            let answer = tokio::task::spawn_blocking(move || -> Result<Option<BlobResponse>, NodeError> {
                Ok(match request {
                    BlobRequest::Put { blob, chunks, manifest } => store
                        .put_blob(&blob, chunks, &manifest, now())?
                        .map(|have| BlobResponse::Manifest { manifest, have }),
                    BlobRequest::PutChunk { blob, index, sealed } => {
                        store.put_chunk(&blob, index, &sealed)?.then_some(BlobResponse::Stored { index })
                    }
                    BlobRequest::Manifest { blob } => Some(match store.blob(&blob)? {
                        Some((manifest, have)) => BlobResponse::Manifest { manifest, have },
                        None => BlobResponse::NotFound,
                    }),
                    BlobRequest::Chunk { blob, index } => Some(match store.blob_chunk(&blob, index)? {
                        Some(sealed) => BlobResponse::Chunk { index, sealed },
                        None => BlobResponse::Missing { index },
                    }),
                })
            });
            let response = match answer.await {
                Ok(Ok(Some(response))) => response,
                Ok(Ok(None)) => {
                    tracing::info!(?device, "closing a blob stream: a blob or chunk out of bounds");
                    return;
                }
                Ok(Err(e)) => {
                    tracing::warn!(?device, "the mailbox could not keep or read a blob: {e}");
                    return;
                }
                Err(_) => return,
            };
            let stored = matches!(response, BlobResponse::Stored { .. });
            if write_frame(&mut w, &response.encode()).await.is_err() {
                return;
            }
            if stored && self.store.bytes_held().unwrap_or(0) > self.config.quota_bytes {
                self.prune().await;
            }
        }
    }

    fn is_member(&self, device: &DeviceId) -> bool {
        matches!(self.store.membership(), Ok(Some(m)) if m.device(device).is_some_and(|d| d.last_seq.is_none()))
    }

    fn members(&self) -> Members {
        match self.store.membership() {
            Ok(Some(m)) => Members {
                persons: m.persons().copied().collect(),
                certificates: m.devices().map(|(_, d)| d.certificate.encode()).collect(),
            },
            _ => Members::default(),
        }
    }

    /// Lets the member devices open sync streams (and keeps redialing them).
    async fn allow_members(&self) -> Result<(), NodeError> {
        let devices = match self.store.membership()? {
            Some(m) => m.devices().filter(|(_, d)| d.last_seq.is_none()).map(|(id, _)| *id).collect(),
            None => Vec::new(),
        };
        self.net.set_members(devices).await?;
        Ok(())
    }

    /// Learns people and devices from a member device (its sync `Members`, a registration).
    async fn merge_members(&self, members: &Members) -> Result<(), NodeError> {
        let added = self.store.add_persons(&members.persons)?;
        let certificates: Vec<DeviceCertificate> =
            members.certificates.iter().filter_map(|c| DeviceCertificate::decode(c).ok()).collect();
        if self.store.merge_certificates(&certificates)? || added {
            self.allow_members().await?;
        }
        Ok(())
    }

    fn start_push(self: &Arc<Self>, device: DeviceId) {
        let mut pushing = lock(&self.pushing);
        if pushing.get(&device).is_some_and(|t| !t.0.is_finished()) {
            return;
        }
        pushing.insert(device, AbortOnDrop(tokio::spawn(self.clone().push_session(device))));
    }

    /// One request on `/duet/mailbox/1`: a registration, or a member device asking how full
    /// the mailbox is.
    async fn answer_registration(self: Arc<Self>, device: DeviceId, mut stream: duet_net::Stream) {
        let reply = match self.answer(device, &mut stream).await {
            Ok(reply) => reply,
            Err(e) => {
                tracing::info!(?device, "refused a mailbox request: {e}");
                RegisterReply::Refused { reason: e.to_string() }
            }
        };
        let _ = write_frame(&mut stream, &reply.encode()).await;
    }

    async fn answer(&self, device: DeviceId, stream: &mut duet_net::Stream) -> Result<RegisterReply, NodeError> {
        let frame = read_frame(stream, PAIR_FRAMES)
            .await
            .map_err(|e| NodeError::PeerFault(format!("no request: {e}")))?
            .ok_or_else(|| NodeError::PeerFault("no request".into()))?;
        match MailboxRequest::decode(&frame).map_err(|e| NodeError::PeerFault(e.to_string()))? {
            MailboxRequest::Register(request) => {
                self.register(device, request).await.map(|()| RegisterReply::Registered)
            }
            MailboxRequest::Report if self.is_member(&device) => Ok(RegisterReply::Report(self.report()?)),
            MailboxRequest::Report => Err(NodeError::NotAllowed("only the couple's devices may ask".into())),
            MailboxRequest::Revoke(revocation) => {
                let membership = self.store.membership()?.ok_or(NodeError::NoSpace)?;
                revocation.check(&membership).map_err(|e| NodeError::NotAllowed(e.to_string()))?;
                if self.store.revoke(revocation.device, revocation.last_seq)? {
                    tracing::info!(device = ?revocation.device, last_seq = revocation.last_seq, "a device was removed");
                    // It may no longer connect or sync; what it wrote before stays.
                    self.allow_members().await?;
                    lock(&self.pushing).remove(&revocation.device);
                    let _ = self.net.disconnect(revocation.device, None).await;
                }
                Ok(RegisterReply::Registered)
            }
        }
    }

    /// How full it is, and what the quota made it drop before every device had it.
    fn report(&self) -> Result<MailboxReport, NodeError> {
        let (dropped_undelivered, last_drop) = self.store.drops()?;
        Ok(MailboxReport {
            bytes_held: self.store.bytes_held()?,
            quota_bytes: self.config.quota_bytes,
            dropped_undelivered,
            last_drop: last_drop.map(|t| t.0),
        })
    }

    async fn register(&self, device: DeviceId, request: Register) -> Result<(), NodeError> {
        check_registration(&self.store.secret()?, self.store.space()?.as_ref(), &device, &request)
            .map_err(|e| NodeError::NotAllowed(e.to_string()))?;
        // The registering device must be one of the members it names.
        let own = request
            .members
            .certificates
            .iter()
            .filter_map(|c| DeviceCertificate::decode(c).ok())
            .any(|c| c.device == device && request.members.persons.contains(&c.person) && c.verify().is_ok());
        if !own {
            return Err(NodeError::NotAllowed("the registering device is not among the members it names".into()));
        }
        self.store.register(request.space, &request.members.persons)?;
        self.merge_members(&request.members).await?;
        tracing::info!(?device, space = ?request.space, "serving a space");
        Ok(())
    }

    /// Receives what a member device pushes: checks each batch without the key, stores it
    /// durably, acknowledges.
    async fn receive_session(self: Arc<Self>, device: DeviceId, stream: duet_net::Stream) {
        let (mut r, mut w) = stream.split();
        match self.receive(device, &mut r, &mut w).await {
            Ok(()) => {}
            Err(e @ NodeError::PeerFault(_)) => {
                let reason = e.to_string();
                tracing::info!(?device, "cutting off a device: {reason}");
                let _ = send(&mut w, &SyncMessage::Reject { reason }).await;
                let _ = self.net.disconnect(device, Some(BAN)).await;
            }
            Err(e) => tracing::debug!(?device, "receive session ended: {e}"),
        }
    }

    async fn receive<R, W>(&self, device: DeviceId, r: &mut R, w: &mut W) -> Result<(), NodeError>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let hello = SyncMessage::Hello { members: self.members(), held: self.store.version_vector()? };
        if send(w, &hello).await.is_err() {
            return Ok(());
        }
        loop {
            let frame = match read_frame(r, SYNC_FRAMES).await {
                Ok(Some(f)) => f,
                Ok(None) | Err(_) => return Ok(()),
            };
            let msg = SyncMessage::decode(&frame)
                .map_err(|e| NodeError::PeerFault(format!("malformed sync message: {e}")))?;
            match msg {
                SyncMessage::Members(m) => self.merge_members(&m).await?,
                SyncMessage::Batch { author, first_seq, bodies } => {
                    let events = SyncMessage::batch_events(author, first_seq, bodies)
                        .map_err(|e| NodeError::PeerFault(format!("malformed event: {e}")))?;
                    let store = self.store.clone();
                    let outcome = tokio::task::spawn_blocking(move || -> Result<_, NodeError> {
                        let membership = store.membership()?.ok_or(NodeError::NoSpace)?;
                        let space = membership.space();
                        let verifier =
                            Verifier { space, membership: &membership, keys: None, max_lamport: store.max_lamport()? };
                        let outcome = verifier.verify_sealed_batch(
                            |a| store.head(a).unwrap_or(LogHead::EMPTY),
                            |a, s| store.event_hash(&space, a, s).ok().flatten(),
                            events,
                        );
                        store.append(&outcome.accepted)?;
                        Ok(outcome)
                    })
                    .await
                    .map_err(|_| NodeError::Stopped)??;
                    if !outcome.accepted.is_empty() {
                        tracing::debug!(?device, ?author, events = outcome.accepted.len(), "stored");
                        self.changed.send_modify(|n| *n = n.wrapping_add(1));
                        if self.store.bytes_held()? > self.config.quota_bytes {
                            self.prune().await;
                        }
                    }
                    if let Some((_, e)) = outcome.rejected {
                        return Err(NodeError::PeerFault(format!("refused an event: {e}")));
                    }
                    if send(w, &SyncMessage::Ack).await.is_err() {
                        return Ok(());
                    }
                }
                other => return Err(NodeError::PeerFault(format!("unexpected sync message {other:?}"))),
            }
        }
    }

    /// Pushes to a member device what it lacks, now and whenever something new is stored,
    /// while it stays connected (a failed stream is reopened after a pause).
    async fn push_session(self: Arc<Self>, device: DeviceId) {
        loop {
            match self.push_once(device).await {
                Ok(()) => return,
                Err(e) => tracing::debug!(?device, "push session ended: {e}"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            if !self.net.connected().await.map(|c| c.contains(&device)).unwrap_or(false) {
                return;
            }
        }
    }

    async fn push_once(&self, device: DeviceId) -> Result<(), NodeError> {
        let stream = self.net.open_stream(device, DuetProtocol::Sync).await?;
        let (mut r, mut w) = stream.split();
        send(&mut w, &SyncMessage::Members(self.members())).await?;
        let (tx, mut rx) = mpsc::channel::<SyncMessage>(16);
        let reader = tokio::spawn(async move {
            while let Ok(Some(frame)) = read_frame(&mut r, SYNC_FRAMES).await {
                let Ok(m) = SyncMessage::decode(&frame) else { break };
                if tx.send(m).await.is_err() {
                    break;
                }
            }
        });
        let _reader = AbortOnDrop(reader);
        let mut changed = self.changed.subscribe();
        let mut planner = PushPlanner::new();
        loop {
            if planner.ready() {
                let vv = self.store.version_vector()?;
                while let Some((author, first, last)) = planner.next(&vv) {
                    let events = self.store.events_from(&author, first, (last - first + 1) as usize)?;
                    let (bodies, Some(sent_last)) = batch_bodies(events) else {
                        // Dropped here (the quota): the device gets them from another device.
                        planner.skip(author);
                        continue;
                    };
                    send(&mut w, &SyncMessage::Batch { author, first_seq: first, bodies }).await?;
                    planner.sent(author, sent_last);
                }
            }
            tokio::select! {
                m = rx.recv() => match m {
                    Some(SyncMessage::Hello { members, held }) => {
                        self.merge_members(&members).await?;
                        self.store.set_held_by(&device, &held)?;
                        planner.on_hello(held);
                    }
                    Some(SyncMessage::Ack) => planner.on_ack(),
                    Some(SyncMessage::Reject { reason }) => {
                        return Err(NodeError::NotAllowed(format!("the device refused our events: {reason}")));
                    }
                    Some(_) => return Err(NodeError::NotAllowed("unexpected sync message".into())),
                    None => return Err(NodeError::Stopped),
                },
                c = changed.changed() => if c.is_err() { return Ok(()) },
            }
        }
    }

    /// Drops old events now, then every hour.
    async fn prune_now_and_then(self: Arc<Self>) {
        loop {
            self.prune().await;
            tokio::time::sleep(PRUNE_EVERY).await;
        }
    }

    /// Drops events every device holds that are past the retention, attachments past it, and
    /// while over the quota the oldest attachments, then the oldest events.
    async fn prune(&self) {
        let retention = u64::try_from(self.config.retention.as_millis()).unwrap_or(u64::MAX);
        let store = self.store.clone();
        let quota = self.config.quota_bytes;
        match tokio::task::spawn_blocking(move || store.prune(now(), retention, quota)).await {
            Ok(Ok(pruned)) if pruned.undelivered > 0 => tracing::warn!(
                dropped = pruned.undelivered,
                "the mailbox is full: dropped its oldest events before every device had them \
                 (they still reach them from the couple's other devices)"
            ),
            Ok(Ok(pruned)) if pruned.delivered > 0 || pruned.blobs > 0 => tracing::info!(
                events = pruned.delivered,
                attachments = pruned.blobs,
                "dropped old events every device holds, and old attachments"
            ),
            Ok(Err(e)) => tracing::warn!("could not drop old events: {e}"),
            _ => {}
        }
    }
}

async fn send<W: AsyncWrite + Unpin>(w: &mut W, msg: &SyncMessage) -> Result<(), NodeError> {
    write_frame(w, &msg.encode()).await.map_err(|e| NodeError::NotAllowed(format!("sync stream: {e}")))
}

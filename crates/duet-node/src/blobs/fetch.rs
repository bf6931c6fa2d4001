//! Fetching a blob from member devices: one worker per device, each with a few chunk
//! requests in flight on its own `/duet/blobs/1` stream, sharing one [`FetchPlan`].
//!
//! [`Fetcher`] is the downloading side on its own: it owns the blob store's downloads (the
//! fetches under way, the slots they take turns for, the counters) and reaches the devices
//! through a [`FetchHost`] — who is connected, a stream to one of them, the space key, whom to
//! tell — over any reader and writer. The node is one host; the tests below are another,
//! whose devices are [`BlobServer`](super::serve::BlobServer)s (and a hostile one) at the far
//! end of in-memory pipes.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use duet_blob::{chunk_len, open_chunk, Bitmap, FetchPlan, Manifest, Request, Response, CHUNK_SIZE, MAX_FRAME_BYTES};
use duet_crypto::SpaceKey;
use duet_model::{BlobHash, DeviceId, ValidationError};
use duet_store::{BlobRecord, BlobStore, BlobStoreError};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::{mpsc, watch, Notify, Semaphore};
use tokio::task::JoinHandle;

use crate::frames::{read_frame, write_frame, FrameRules};
use crate::sync::AbortOnDrop;
use crate::{lock, now, NodeError, NodeEvent};

/// Blob fetches running at once; more wait their turn.
const CONCURRENT_FETCHES: usize = 4;
/// Chunk requests in flight on one device's stream.
const PER_PEER: usize = 8;
/// Chunk requests in flight for one blob, over all devices.
const TOTAL: usize = 12;
/// Chunk checks (open, check against the manifest, store) running at once on one device's
/// stream: one per core, at least 2 and at most 4, so the next chunk is checked while one is.
static CHECKS_IN_FLIGHT: LazyLock<usize> =
    LazyLock::new(|| std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 4));
/// How long a fetch with no device to ask waits before looking again (a member connecting
/// wakes it sooner).
const IDLE_RETRY: Duration = Duration::from_secs(2);
/// Answers: a manifest or one sealed chunk each.
const RESPONSE_FRAMES: FrameRules = FrameRules { max: MAX_FRAME_BYTES, idle: crate::streams::BLOB_IDLE };

/// What a fetch needs from the device it runs on. The node is one ([`crate::Node`]); the tests
/// have their own.
pub(crate) trait FetchHost: Clone + Send + Sync + 'static {
    /// A `/duet/blobs/1` stream to one device.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// The space key now (chunks are opened with it).
    fn space_key(&self) -> Result<SpaceKey, NodeError>;
    /// The member devices connected now (each may hold the blob).
    fn devices(&self) -> impl Future<Output = Result<Vec<DeviceId>, NodeError>> + Send;
    /// The couple's blind mailbox, if one is used: it is asked by mailbox id and gives the
    /// manifest sealed (`duet_blob::mailbox`).
    fn mailbox(&self) -> Option<DeviceId> {
        None
    }
    /// Opens a stream to `device`; `None` when it cannot be reached now.
    fn open(&self, device: DeviceId) -> impl Future<Output = Option<Self::Stream>> + Send;
    /// Tells front ends (progress, completion, a device that sent something bad).
    fn tell(&self, event: NodeEvent);
    /// Keeps a fetch's task with the host's tasks (stopped when it stops).
    fn track(&self, task: JoinHandle<()>);
}

/// Where a fetch stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FetchState {
    Running,
    Complete,
    Failed(String),
}

/// The downloads of one blob store. Shared (`Arc`) by the node and the fetches' tasks.
pub(crate) struct Fetcher {
    store: BlobStore,
    /// The largest blob fetched.
    max_size: u64,
    fetches: Mutex<HashMap<BlobHash, watch::Receiver<FetchState>>>,
    /// Bumped when a member device connects: stalled fetches look again.
    peers_changed: watch::Sender<u64>,
    slots: Arc<Semaphore>,
    /// Chunks received, checked and stored.
    pub(crate) fetched: AtomicU64,
    /// Times a device sent something that did not check out.
    pub(crate) rejected: AtomicU64,
}

/// One blob's fetch, shared by its workers.
struct Fetch {
    hash: BlobHash,
    size: u64,
    record: Mutex<Option<BlobRecord>>,
    plan: Mutex<Option<FetchPlan<DeviceId>>>,
    /// Something changed that may give a waiting worker work (a chunk went back to the queue).
    changed: Notify,
    /// Devices that sent something bad: not asked again for this blob.
    bad: Mutex<HashSet<DeviceId>>,
    last_percent: AtomicU64,
}

/// What a worker's chunks are opened with and checked against.
struct CheckAgainst {
    hash: BlobHash,
    /// What the device is asked for: the hash, or at the mailbox its mailbox id.
    ask_as: BlobHash,
    manifest: Manifest,
    key: SpaceKey,
}

/// A chunk being opened, checked and stored on the blocking pool.
type Check = tokio::task::JoinHandle<Result<(), CheckError>>;

/// Why a chunk was not stored.
enum CheckError {
    /// It does not open or does not match the manifest: the device's fault.
    Bad(String),
    /// The store could not write it.
    Local(BlobStoreError),
}

/// Why a worker stopped.
enum WorkerEnd {
    /// Nothing more to ask this device, or the stream closed.
    Done,
    /// The device sent something that does not check out.
    Bad(String),
    /// A local failure (the store): the fetch fails.
    Local(NodeError),
}

impl Fetcher {
    pub(crate) fn new(store: BlobStore, max_size: u64) -> Self {
        Self {
            store,
            max_size,
            fetches: Mutex::new(HashMap::new()),
            peers_changed: watch::channel(0).0,
            slots: Arc::new(Semaphore::new(CONCURRENT_FETCHES)),
            fetched: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
        }
    }

    /// Starts fetching a blob (or joins the fetch under way) without waiting.
    pub(crate) fn start<H: FetchHost>(
        self: &Arc<Self>,
        host: &H,
        hash: BlobHash,
        size: u64,
    ) -> watch::Receiver<FetchState> {
        if let Ok(true) = self.store.is_complete(&hash) {
            return watch::channel(FetchState::Complete).1;
        }
        let mut fetches = lock(&self.fetches);
        if let Some(rx) = fetches.get(&hash) {
            if *rx.borrow() == FetchState::Running {
                return rx.clone();
            }
        }
        let (tx, rx) = watch::channel(FetchState::Running);
        fetches.insert(hash, rx.clone());
        drop(fetches);
        host.track(tokio::spawn(self.clone().fetch_task(host.clone(), hash, size, tx)));
        rx
    }

    /// Fetches a blob of `size` bytes and waits until all of it is here.
    pub(crate) async fn fetch_blob<H: FetchHost>(
        self: &Arc<Self>,
        host: &H,
        hash: BlobHash,
        size: u64,
    ) -> Result<(), NodeError> {
        self.check_size(&hash, size)?;
        let mut rx = self.start(host, hash, size);
        loop {
            let state = rx.borrow_and_update().clone();
            match state {
                FetchState::Complete => return Ok(()),
                FetchState::Failed(reason) => return Err(NodeError::NotAllowed(reason)),
                FetchState::Running => {}
            }
            rx.changed().await.map_err(|_| NodeError::Stopped)?;
        }
    }

    fn check_size(&self, hash: &BlobHash, size: u64) -> Result<(), NodeError> {
        if size > self.max_size {
            let name = format!("attachment {}", &hash.to_string()[..12]);
            return Err(NodeError::Invalid(ValidationError::AttachmentTooLarge { name, size, max: self.max_size }));
        }
        Ok(())
    }

    /// Resumes the fetches a previous run left unfinished.
    pub(crate) fn resume<H: FetchHost>(self: &Arc<Self>, host: &H) {
        match self.store.wants() {
            Ok(wants) => {
                for (hash, size) in wants {
                    self.start(host, hash, size);
                }
            }
            Err(e) => tracing::warn!("could not resume attachment downloads: {e}"),
        }
    }

    /// A member device connected: fetches waiting for one look again.
    pub(crate) fn peers_changed(&self) {
        self.peers_changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    async fn fetch_task<H: FetchHost>(
        self: Arc<Self>,
        host: H,
        hash: BlobHash,
        size: u64,
        tx: watch::Sender<FetchState>,
    ) {
        let result = self.fetch(&host, hash, size).await;
        let state = match result {
            Ok(()) => {
                host.tell(NodeEvent::BlobProgress { blob: hash, done: size, total: size });
                host.tell(NodeEvent::BlobComplete { blob: hash });
                FetchState::Complete
            }
            Err(e) => {
                let reason = e.to_string();
                tracing::info!(?hash, "attachment download failed: {reason}");
                host.tell(NodeEvent::BlobFailed { blob: hash, reason: reason.clone() });
                FetchState::Failed(reason)
            }
        };
        let _ = tx.send(state);
        let mut fetches = lock(&self.fetches);
        if fetches.get(&hash).is_some_and(|rx| rx.same_channel(&tx.subscribe())) {
            fetches.remove(&hash);
        }
    }

    async fn fetch<H: FetchHost>(&self, host: &H, hash: BlobHash, size: u64) -> Result<(), NodeError> {
        self.check_size(&hash, size)?;
        self.store.want(&hash, size)?;
        let _slot = self.slots.clone().acquire_owned().await.map_err(|_| NodeError::Stopped)?;
        let record = self.store.record(&hash)?;
        let plan = match &record {
            Some(r) => Some(FetchPlan::new(self.store.have(&hash, &r.manifest)?, PER_PEER, TOTAL)),
            None => None,
        };
        let fetch = Fetch {
            hash,
            size,
            record: Mutex::new(record),
            plan: Mutex::new(plan),
            changed: Notify::new(),
            bad: Mutex::new(HashSet::new()),
            last_percent: AtomicU64::new(u64::MAX),
        };
        let mut peers_changed = self.peers_changed.subscribe();
        loop {
            if self.finished(&hash)? {
                return Ok(());
            }
            if !self.store.is_wanted(&hash)? {
                return Err(NodeError::NotFound("the attachment is no longer needed (its message was deleted)".into()));
            }
            let bad = lock(&fetch.bad).clone();
            let devices: Vec<DeviceId> = host.devices().await?.into_iter().filter(|d| !bad.contains(d)).collect();
            if !devices.is_empty() {
                let workers = devices.into_iter().map(|d| self.fetch_from(host, &fetch, d));
                for end in futures::future::join_all(workers).await {
                    if let WorkerEnd::Local(e) = end {
                        return Err(e);
                    }
                }
                if self.finished(&hash)? {
                    return Ok(());
                }
            }
            let done = match lock(&fetch.plan).as_ref() {
                Some(plan) => bytes_held(size, plan.have()),
                None => 0,
            };
            host.tell(NodeEvent::BlobWaiting { blob: hash, done, total: size });
            tokio::select! {
                c = peers_changed.changed() => if c.is_err() { return Err(NodeError::Stopped) },
                _ = tokio::time::sleep(IDLE_RETRY) => {}
            }
        }
    }

    /// Whether the blob is all here (and now marked complete). Not knowing it yet is not an
    /// error: no device that was asked held it (or a stream failed before its manifest came),
    /// so the fetch waits and asks again.
    fn finished(&self, hash: &BlobHash) -> Result<bool, NodeError> {
        match self.store.finish(hash) {
            Ok(done) => Ok(done),
            Err(BlobStoreError::Unknown) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// One device's part of a fetch.
    async fn fetch_from<H: FetchHost>(&self, host: &H, fetch: &Fetch, device: DeviceId) -> WorkerEnd {
        let end = self.fetch_from_inner(host, fetch, device).await;
        if let Some(plan) = lock(&fetch.plan).as_mut() {
            match &end {
                // Whatever it sent (a bad chunk, or a frame that does not decode), none of its
                // requests stay in flight, or the other devices would wait for them.
                WorkerEnd::Bad(_) => plan.distrust(device),
                _ => plan.remove_peer(device),
            }
        }
        fetch.changed.notify_waiters();
        if let WorkerEnd::Bad(reason) = &end {
            self.rejected.fetch_add(1, Ordering::Relaxed);
            lock(&fetch.bad).insert(device);
            tracing::info!(?device, hash = ?fetch.hash, "a device sent a bad part of an attachment: {reason}");
            host.tell(NodeEvent::BlobRejected { blob: fetch.hash, device, reason: reason.clone() });
        }
        end
    }

    async fn fetch_from_inner<H: FetchHost>(&self, host: &H, fetch: &Fetch, device: DeviceId) -> WorkerEnd {
        let key = match host.space_key() {
            Ok(k) => k,
            Err(e) => return WorkerEnd::Local(e),
        };
        let Some(stream) = host.open(device).await else {
            return WorkerEnd::Done;
        };
        let (mut r, mut w) = stream.split();
        let at_mailbox = host.mailbox() == Some(device);
        let ask_as = match at_mailbox {
            true => duet_blob::mailbox::mailbox_id(&key, &fetch.hash),
            false => fetch.hash,
        };
        if write_frame(&mut w, &Request::Manifest { blob: ask_as }.encode()).await.is_err() {
            return WorkerEnd::Done;
        }
        let (manifest, have) = match read_frame(&mut r, RESPONSE_FRAMES).await {
            Ok(Some(frame)) => match Response::decode(frame) {
                Ok(Response::Manifest { manifest, have }) if at_mailbox => {
                    match duet_blob::mailbox::open_manifest(&key, &fetch.hash, &manifest) {
                        Ok(manifest) => (manifest, have),
                        Err(e) => return WorkerEnd::Bad(e.to_string()),
                    }
                }
                Ok(Response::Manifest { manifest, have }) => (manifest, have),
                Ok(Response::NotFound) => return WorkerEnd::Done,
                Ok(_) => return WorkerEnd::Bad("answered a manifest request with something else".into()),
                Err(e) => return WorkerEnd::Bad(e.to_string()),
            },
            _ => return WorkerEnd::Done,
        };
        let record = match self.adopt_manifest(fetch, &manifest) {
            Ok(r) => r,
            Err(end) => return end,
        };
        let Ok(has) = Bitmap::from_bytes(&have, record.manifest.chunks()) else {
            return WorkerEnd::Bad("sent a chunk list of the wrong length".into());
        };
        match lock(&fetch.plan).as_mut() {
            Some(plan) => plan.add_peer(device, has),
            None => return WorkerEnd::Done,
        }

        // Responses are read by their own task, so the next chunk arrives while one is checked.
        let (tx, mut rx) = mpsc::channel::<Result<Response, String>>(4);
        let _reader = AbortOnDrop(tokio::spawn(async move {
            loop {
                let item = match read_frame(&mut r, RESPONSE_FRAMES).await {
                    Ok(Some(frame)) => Response::decode(frame).map_err(|e| e.to_string()),
                    _ => return,
                };
                let stop = item.is_err();
                if tx.send(item).await.is_err() || stop {
                    return;
                }
            }
        }));
        let mut checks = VecDeque::new();
        let against = Arc::new(CheckAgainst { hash: fetch.hash, ask_as, manifest: record.manifest, key });
        let end = self.fetch_chunks(host, fetch, device, &against, &mut w, &mut rx, &mut checks).await;
        // Checks still running end before this device's chunks go back to the queue, so no
        // chunk is written by two workers at once; those that check out are kept.
        self.settle_checks(host, fetch, device, &mut checks).await;
        end
    }

    /// Asks `device` for chunks and checks what it sends: responses are matched to requests in
    /// order, up to [`CHECKS_IN_FLIGHT`] of them are opened, checked and stored at once, and
    /// their results are taken in order too.
    #[allow(clippy::too_many_arguments)]
    async fn fetch_chunks<H: FetchHost, W: AsyncWrite + Unpin>(
        &self,
        host: &H,
        fetch: &Fetch,
        device: DeviceId,
        against: &Arc<CheckAgainst>,
        w: &mut W,
        rx: &mut mpsc::Receiver<Result<Response, String>>,
        checks: &mut VecDeque<(u32, Check)>,
    ) -> WorkerEnd {
        let mut in_flight = VecDeque::new();
        loop {
            // Checks already done are taken first: they free this device's request slots.
            while checks.front().is_some_and(|(_, c)| c.is_finished()) {
                if let Err(end) = self.finish_check(host, fetch, device, checks).await {
                    return end;
                }
            }
            loop {
                let next = lock(&fetch.plan).as_mut().and_then(|p| p.next(device));
                let Some(index) = next else { break };
                in_flight.push_back(index);
                if write_frame(w, &Request::Chunk { blob: against.ask_as, index }.encode()).await.is_err() {
                    return WorkerEnd::Done;
                }
            }
            // Nothing more to read, or enough checks running: the oldest check goes first.
            if !checks.is_empty() && (in_flight.is_empty() || checks.len() >= *CHECKS_IN_FLIGHT) {
                if let Err(end) = self.finish_check(host, fetch, device, checks).await {
                    return end;
                }
                continue;
            }
            if in_flight.is_empty() {
                let waiting = lock(&fetch.plan).as_ref().is_some_and(|p| !p.is_complete() && p.in_flight() > 0);
                if !waiting {
                    return WorkerEnd::Done;
                }
                // Another device's chunks may come back to the queue: wait for a change.
                let _ = tokio::time::timeout(Duration::from_secs(1), fetch.changed.notified()).await;
                continue;
            }
            let response = match rx.recv().await {
                Some(Ok(r)) => r,
                Some(Err(e)) => return WorkerEnd::Bad(e),
                None => return WorkerEnd::Done,
            };
            let expected = in_flight.pop_front();
            match response {
                Response::Chunk { index, sealed } if Some(index) == expected => {
                    checks.push_back((index, self.spawn_check(against.clone(), index, sealed)));
                }
                Response::Missing { index } if Some(index) == expected => {
                    if let Some(p) = lock(&fetch.plan).as_mut() {
                        p.missing(device, index);
                    }
                }
                _ => {
                    self.settle_checks(host, fetch, device, checks).await;
                    if let (Some(p), Some(index)) = (lock(&fetch.plan).as_mut(), expected) {
                        p.rejected(device, index);
                    }
                    return WorkerEnd::Bad("answered out of order".into());
                }
            }
        }
    }

    /// Opens, checks and stores one sealed chunk on the blocking pool.
    fn spawn_check(&self, against: Arc<CheckAgainst>, index: u32, sealed: Vec<u8>) -> Check {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let CheckAgainst { hash, manifest, key, .. } = &*against;
            let plain = open_chunk(key, hash, index, &sealed).map_err(|e| CheckError::Bad(e.to_string()))?;
            manifest.check_chunk(index, &plain).map_err(|e| CheckError::Bad(e.to_string()))?;
            store.store_chunk(hash, index, &sealed).map_err(CheckError::Local)
        })
    }

    /// Waits for the oldest check and records its result; a bad chunk or a local failure ends
    /// the worker (after the checks behind it).
    async fn finish_check<H: FetchHost>(
        &self,
        host: &H,
        fetch: &Fetch,
        device: DeviceId,
        checks: &mut VecDeque<(u32, Check)>,
    ) -> Result<(), WorkerEnd> {
        let Some((index, check)) = checks.pop_front() else { return Ok(()) };
        match check.await {
            Ok(Ok(())) => {
                self.chunk_stored(host, fetch, device, index);
                Ok(())
            }
            Ok(Err(CheckError::Bad(reason))) => {
                self.settle_checks(host, fetch, device, checks).await;
                if let Some(p) = lock(&fetch.plan).as_mut() {
                    p.rejected(device, index);
                }
                Err(WorkerEnd::Bad(reason))
            }
            Ok(Err(CheckError::Local(e))) => {
                self.settle_checks(host, fetch, device, checks).await;
                if let Some(p) = lock(&fetch.plan).as_mut() {
                    p.retry(device, index);
                }
                Err(WorkerEnd::Local(e.into()))
            }
            Err(_) => Err(WorkerEnd::Local(NodeError::Stopped)),
        }
    }

    /// Waits for every check still running, oldest first, and keeps the chunks that checked
    /// out; the others stay in flight until the worker ends and gives them back.
    async fn settle_checks<H: FetchHost>(
        &self,
        host: &H,
        fetch: &Fetch,
        device: DeviceId,
        checks: &mut VecDeque<(u32, Check)>,
    ) {
        while let Some((index, check)) = checks.pop_front() {
            if let Ok(Ok(())) = check.await {
                self.chunk_stored(host, fetch, device, index);
            }
        }
    }

    /// A chunk from `device` checked out and is stored.
    fn chunk_stored<H: FetchHost>(&self, host: &H, fetch: &Fetch, device: DeviceId, index: u32) {
        self.fetched.fetch_add(1, Ordering::Relaxed);
        let have = lock(&fetch.plan).as_mut().map(|p| {
            p.stored(device, index);
            p.have().clone()
        });
        if let Some(have) = have {
            self.report_progress(host, fetch, &have);
        }
    }

    /// Takes the first manifest that checks out against the blob's hash and size; records it
    /// and starts the plan from the chunks already held.
    fn adopt_manifest(&self, fetch: &Fetch, bytes: &[u8]) -> Result<BlobRecord, WorkerEnd> {
        let mut record = lock(&fetch.record);
        if let Some(r) = record.as_ref() {
            return Ok(r.clone());
        }
        let manifest =
            Manifest::decode_verified(bytes, &fetch.hash, self.max_size).map_err(|e| WorkerEnd::Bad(e.to_string()))?;
        if manifest.size() != fetch.size {
            return Err(WorkerEnd::Bad(format!(
                "described a {}-byte blob where the message says {} bytes",
                manifest.size(),
                fetch.size
            )));
        }
        let r = self.store.begin(&manifest, now()).map_err(|e| WorkerEnd::Local(e.into()))?;
        let have = self.store.have(&fetch.hash, &r.manifest).map_err(|e| WorkerEnd::Local(e.into()))?;
        *lock(&fetch.plan) = Some(FetchPlan::new(have, PER_PEER, TOTAL));
        *record = Some(r.clone());
        Ok(r)
    }

    /// Emits download progress when the whole percentage moves.
    fn report_progress<H: FetchHost>(&self, host: &H, fetch: &Fetch, have: &Bitmap) {
        let done = bytes_held(fetch.size, have);
        let percent = (done * 100).checked_div(fetch.size).unwrap_or(100);
        if fetch.last_percent.swap(percent, Ordering::Relaxed) != percent {
            host.tell(NodeEvent::BlobProgress { blob: fetch.hash, done, total: fetch.size });
        }
    }
}

/// How many bytes of a `size`-byte blob the chunks in `have` hold.
fn bytes_held(size: u64, have: &Bitmap) -> u64 {
    let count = have.count() as u64;
    let Some(last) = have.len().checked_sub(1) else { return 0 };
    if have.get(last) { (count - 1) * CHUNK_SIZE + chunk_len(size, last) } else { count * CHUNK_SIZE }.min(size)
}

#[cfg(test)]
mod tests {
    use duet_model::Timestamp;
    use rand_core::OsRng;

    use super::*;
    use crate::blobs::serve::BlobServer;
    use crate::frames::pipe;

    type Pipe = tokio_util::compat::Compat<tokio::io::DuplexStream>;

    const HONEST: DeviceId = DeviceId([0xA1; 32]);
    const LIAR: DeviceId = DeviceId([0xB1; 32]);

    /// How a device at the far end of a pipe answers.
    #[derive(Clone)]
    enum Far {
        /// A real blob server over a store holding the blob.
        Honest(BlobServer),
        /// Describes the blob truly (from that store), then sends chunks that do not open.
        Liar(BlobStore),
    }

    /// The devices a test fetch reaches: pipes to whoever is "connected" now.
    #[derive(Clone)]
    struct Devices {
        key: SpaceKey,
        connected: Arc<Mutex<Vec<(DeviceId, Far)>>>,
        told: mpsc::Sender<NodeEvent>,
    }

    impl FetchHost for Devices {
        type Stream = Pipe;

        fn space_key(&self) -> Result<SpaceKey, NodeError> {
            Ok(self.key.clone())
        }

        async fn devices(&self) -> Result<Vec<DeviceId>, NodeError> {
            Ok(lock(&self.connected).iter().map(|(d, _)| *d).collect())
        }

        async fn open(&self, device: DeviceId) -> Option<Pipe> {
            let far = lock(&self.connected).iter().find(|(d, _)| *d == device).map(|(_, f)| f.clone())?;
            let (near, end) = pipe();
            let (r, w) = end.split();
            match far {
                Far::Honest(server) => drop(tokio::spawn(async move { server.serve(r, w, |_, _| {}).await })),
                Far::Liar(store) => drop(tokio::spawn(lie(store, r, w))),
            }
            Some(near)
        }

        fn tell(&self, event: NodeEvent) {
            let _ = self.told.try_send(event);
        }

        fn track(&self, _task: JoinHandle<()>) {}
    }

    /// Answers a manifest request truly and every chunk request with bytes that do not open.
    async fn lie<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(store: BlobStore, mut r: R, mut w: W) {
        let rules = FrameRules { max: 64, idle: Duration::from_secs(10) };
        while let Ok(Some(frame)) = read_frame(&mut r, rules).await {
            let answer = match Request::decode(&frame) {
                Ok(Request::Manifest { blob }) => {
                    let record = store.record(&blob).unwrap().unwrap();
                    let have = store.have(&blob, &record.manifest).unwrap();
                    Response::Manifest { manifest: record.manifest.encode(), have: have.as_bytes().to_vec() }
                }
                Ok(Request::Chunk { index, .. }) => Response::Chunk { index, sealed: vec![0x5a; 300] },
                Ok(Request::Put { .. } | Request::PutChunk { .. }) | Err(_) => return,
            };
            if write_frame(&mut w, &answer.encode()).await.is_err() {
                return;
            }
        }
    }

    /// Two devices' stores, the first holding a blob of `chunks` full chunks and a bit; a
    /// fetcher over the second.
    struct World {
        dir: tempfile::TempDir,
        key: SpaceKey,
        holder: BlobStore,
        fetcher: Arc<Fetcher>,
        content: Vec<u8>,
        hash: BlobHash,
    }

    fn world(chunks: u64) -> World {
        let dir = tempfile::tempdir().unwrap();
        let blobs = |name: &str| {
            let store = duet_store::Store::open(
                &dir.path().join(name).join("store"),
                &duet_crypto::DataKey::from_bytes([5; 32]),
            )
            .unwrap();
            store.blobs(&dir.path().join(name).join("blobs")).unwrap()
        };
        let holder = blobs("holder");
        let key = SpaceKey::generate(&mut OsRng);
        let content: Vec<u8> = (0..chunks * CHUNK_SIZE + 777).map(|i| (i % 253) as u8).collect();
        let hash = holder.import_bytes(&key, &content, Timestamp(1)).unwrap().hash;
        let fetcher = Arc::new(Fetcher::new(blobs("fetcher"), 1 << 30));
        World { dir, key, holder, fetcher, content, hash }
    }

    impl World {
        fn devices(&self, connected: Vec<(DeviceId, Far)>) -> (Devices, mpsc::Receiver<NodeEvent>) {
            let (told, heard) = mpsc::channel(1024);
            (Devices { key: self.key.clone(), connected: Arc::new(Mutex::new(connected)), told }, heard)
        }

        fn honest(&self) -> Far {
            let key = self.key.clone();
            Far::Honest(BlobServer { blobs: self.holder.clone(), key: Arc::new(move || Some(key.clone())) })
        }

        /// What the fetcher's store holds of the blob, read back whole.
        fn fetched(&self) -> Vec<u8> {
            let out = self.dir.path().join("fetched");
            self.fetcher.store.export_to(&self.key, &self.hash, &out).unwrap();
            std::fs::read(out).unwrap()
        }
    }

    fn heard_so_far(heard: &mut mpsc::Receiver<NodeEvent>) -> Vec<NodeEvent> {
        std::iter::from_fn(|| heard.try_recv().ok()).collect()
    }

    #[tokio::test]
    async fn a_blob_comes_whole_though_one_device_lies_and_the_liar_is_reported_once() {
        let w = world(5);
        let (devices, mut heard) = w.devices(vec![(LIAR, Far::Liar(w.holder.clone())), (HONEST, w.honest())]);
        w.fetcher.fetch_blob(&devices, w.hash, w.content.len() as u64).await.unwrap();
        assert_eq!(w.fetched(), w.content, "every chunk checked out against the manifest");

        let events = heard_so_far(&mut heard);
        let rejected: Vec<DeviceId> = events
            .iter()
            .filter_map(|e| match e {
                NodeEvent::BlobRejected { blob, device, .. } if *blob == w.hash => Some(*device),
                _ => None,
            })
            .collect();
        assert_eq!(rejected, vec![LIAR], "the liar is reported once and not asked again");
        assert!(events.iter().any(|e| matches!(e, NodeEvent::BlobComplete { blob } if *blob == w.hash)));
        assert_eq!(w.fetcher.rejected.load(Ordering::Relaxed), 1);
        assert_eq!(w.fetcher.fetched.load(Ordering::Relaxed), 6, "each chunk stored once");
    }

    #[tokio::test]
    async fn a_fetch_with_nobody_to_ask_waits_and_goes_on_when_a_holder_connects() {
        let w = world(2);
        let (devices, mut heard) = w.devices(vec![]);
        let mut state = w.fetcher.start(&devices, w.hash, w.content.len() as u64);
        // Nobody holds it yet: the fetch says it waits, and goes on waiting.
        loop {
            match heard.recv().await.unwrap() {
                NodeEvent::BlobWaiting { blob, done: 0, .. } if blob == w.hash => break,
                _ => continue,
            }
        }
        assert_eq!(*state.borrow(), FetchState::Running);
        // A device that holds it connects.
        lock(&devices.connected).push((HONEST, w.honest()));
        w.fetcher.peers_changed();
        while *state.borrow_and_update() == FetchState::Running {
            state.changed().await.unwrap();
        }
        assert_eq!(*state.borrow(), FetchState::Complete);
        assert_eq!(w.fetched(), w.content);
        // Asked again, it is already here: nothing is fetched twice.
        assert_eq!(*w.fetcher.start(&devices, w.hash, w.content.len() as u64).borrow(), FetchState::Complete);
        assert_eq!(w.fetcher.fetched.load(Ordering::Relaxed), 3);
    }

    #[tokio::test]
    async fn a_blob_over_the_limit_is_refused_before_anyone_is_asked() {
        let w = world(1);
        let (devices, mut heard) = w.devices(vec![(HONEST, w.honest())]);
        let small = Fetcher::new(w.fetcher.store.clone(), 1000);
        let err = Arc::new(small).fetch_blob(&devices, w.hash, w.content.len() as u64).await.unwrap_err();
        assert!(err.to_string().contains("too large") || err.to_string().contains("limit"), "{err}");
        assert!(heard_so_far(&mut heard).is_empty(), "nothing started");
    }
}

//! Fetching a blob from member devices: one worker per device, each with a few chunk
//! requests in flight on its own `/duet/blobs/1` stream, sharing one [`FetchPlan`].

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use duet_blob::{chunk_len, open_chunk, Bitmap, FetchPlan, Manifest, Request, Response, CHUNK_SIZE, MAX_FRAME_BYTES};
use duet_crypto::SpaceKey;
use duet_model::{BlobHash, DeviceId, ValidationError};
use duet_store::{BlobRecord, BlobStoreError};
use futures::AsyncReadExt;
use tokio::sync::{mpsc, watch, Notify};

use crate::frames::{read_frame, write_frame, FrameRules};
use crate::sync::AbortOnDrop;
use crate::{lock, now, DuetProtocol, Node, NodeError, NodeEvent};

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

/// Where a fetch stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FetchState {
    Running,
    Complete,
    Failed(String),
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

impl Node {
    /// Starts fetching a blob (or joins the fetch under way) without waiting.
    pub(crate) fn start_fetch(&self, hash: BlobHash, size: u64) -> watch::Receiver<FetchState> {
        if let Ok(true) = self.blobs().store.is_complete(&hash) {
            return watch::channel(FetchState::Complete).1;
        }
        let mut fetches = lock(&self.blobs().fetches);
        if let Some(rx) = fetches.get(&hash) {
            if *rx.borrow() == FetchState::Running {
                return rx.clone();
            }
        }
        let (tx, rx) = watch::channel(FetchState::Running);
        fetches.insert(hash, rx.clone());
        drop(fetches);
        let task = tokio::spawn(self.clone().fetch_task(hash, size, tx));
        let mut tasks = lock(&self.shared.tasks);
        tasks.retain(|t| !t.is_finished());
        tasks.push(task);
        rx
    }

    /// Fetches a blob of `size` bytes and waits until all of it is here.
    pub async fn fetch_blob(&self, hash: BlobHash, size: u64) -> Result<(), NodeError> {
        self.check_size(&hash, size)?;
        let mut rx = self.start_fetch(hash, size);
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
        let max = self.max_blob_size();
        if size > max {
            let name = format!("attachment {}", &hash.to_string()[..12]);
            return Err(NodeError::Invalid(ValidationError::AttachmentTooLarge { name, size, max }));
        }
        Ok(())
    }

    /// Resumes the fetches a previous run left unfinished.
    pub(crate) fn resume_fetches(&self) {
        match self.blobs().store.wants() {
            Ok(wants) => {
                for (hash, size) in wants {
                    self.start_fetch(hash, size);
                }
            }
            Err(e) => tracing::warn!("could not resume attachment downloads: {e}"),
        }
    }

    /// A member device connected: fetches waiting for one look again.
    pub(crate) fn blob_peers_changed(&self) {
        self.blobs().peers_changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    async fn fetch_task(self, hash: BlobHash, size: u64, tx: watch::Sender<FetchState>) {
        let result = self.fetch(hash, size).await;
        let state = match result {
            Ok(()) => {
                self.emit(NodeEvent::BlobProgress { blob: hash, done: size, total: size });
                self.emit(NodeEvent::BlobComplete { blob: hash });
                FetchState::Complete
            }
            Err(e) => {
                let reason = e.to_string();
                tracing::info!(?hash, "attachment download failed: {reason}");
                self.emit(NodeEvent::BlobFailed { blob: hash, reason: reason.clone() });
                FetchState::Failed(reason)
            }
        };
        let _ = tx.send(state);
        let mut fetches = lock(&self.blobs().fetches);
        if fetches.get(&hash).is_some_and(|rx| rx.same_channel(&tx.subscribe())) {
            fetches.remove(&hash);
        }
    }

    async fn fetch(&self, hash: BlobHash, size: u64) -> Result<(), NodeError> {
        self.check_size(&hash, size)?;
        let blobs = self.blobs();
        blobs.store.want(&hash, size)?;
        let _slot = blobs.fetch_slots.clone().acquire_owned().await.map_err(|_| NodeError::Stopped)?;
        let record = blobs.store.record(&hash)?;
        let plan = match &record {
            Some(r) => Some(FetchPlan::new(blobs.store.have(&hash, &r.manifest)?, PER_PEER, TOTAL)),
            None => None,
        };
        let fetch = Arc::new(Fetch {
            hash,
            size,
            record: Mutex::new(record),
            plan: Mutex::new(plan),
            changed: Notify::new(),
            bad: Mutex::new(HashSet::new()),
            last_percent: AtomicU64::new(u64::MAX),
        });
        let mut peers_changed = blobs.peers_changed.subscribe();
        loop {
            if self.finished(&hash)? {
                return Ok(());
            }
            if !blobs.store.is_wanted(&hash)? {
                return Err(NodeError::NotFound("the attachment is no longer needed (its message was deleted)".into()));
            }
            let bad = lock(&fetch.bad).clone();
            let devices: Vec<DeviceId> = self
                .shared
                .net
                .connected()
                .await?
                .into_iter()
                .filter(|d| self.is_member(d) && !bad.contains(d))
                .collect();
            if !devices.is_empty() {
                let workers = devices.into_iter().map(|d| self.clone().fetch_from(fetch.clone(), d));
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
            self.emit(NodeEvent::BlobWaiting { blob: hash, done, total: size });
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
        match self.blobs().store.finish(hash) {
            Ok(done) => Ok(done),
            Err(BlobStoreError::Unknown) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// One device's part of a fetch.
    async fn fetch_from(self, fetch: Arc<Fetch>, device: DeviceId) -> WorkerEnd {
        let end = self.fetch_from_inner(&fetch, device).await;
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
            self.blobs().rejected.fetch_add(1, Ordering::Relaxed);
            lock(&fetch.bad).insert(device);
            tracing::info!(?device, hash = ?fetch.hash, "a device sent a bad part of an attachment: {reason}");
            self.emit(NodeEvent::BlobRejected { blob: fetch.hash, device, reason: reason.clone() });
        }
        end
    }

    async fn fetch_from_inner(&self, fetch: &Fetch, device: DeviceId) -> WorkerEnd {
        let key = match self.space_key() {
            Ok(k) => k,
            Err(e) => return WorkerEnd::Local(e),
        };
        let Ok(stream) = self.shared.net.open_stream(device, DuetProtocol::Blobs).await else {
            return WorkerEnd::Done;
        };
        let (mut r, mut w) = stream.split();
        if write_frame(&mut w, &Request::Manifest { blob: fetch.hash }.encode()).await.is_err() {
            return WorkerEnd::Done;
        }
        let (manifest, have) = match read_frame(&mut r, RESPONSE_FRAMES).await {
            Ok(Some(frame)) => match Response::decode(frame) {
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
        let against = Arc::new(CheckAgainst { hash: fetch.hash, manifest: record.manifest, key });
        let end = self.fetch_chunks(fetch, device, &against, &mut w, &mut rx, &mut checks).await;
        // Checks still running end before this device's chunks go back to the queue, so no
        // chunk is written by two workers at once; those that check out are kept.
        self.settle_checks(fetch, device, &mut checks).await;
        end
    }

    /// Asks `device` for chunks and checks what it sends: responses are matched to requests in
    /// order, up to [`CHECKS_IN_FLIGHT`] of them are opened, checked and stored at once, and
    /// their results are taken in order too.
    async fn fetch_chunks<W: futures::AsyncWrite + Unpin>(
        &self,
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
                if let Err(end) = self.finish_check(fetch, device, checks).await {
                    return end;
                }
            }
            loop {
                let next = lock(&fetch.plan).as_mut().and_then(|p| p.next(device));
                let Some(index) = next else { break };
                in_flight.push_back(index);
                if write_frame(w, &Request::Chunk { blob: fetch.hash, index }.encode()).await.is_err() {
                    return WorkerEnd::Done;
                }
            }
            // Nothing more to read, or enough checks running: the oldest check goes first.
            if !checks.is_empty() && (in_flight.is_empty() || checks.len() >= *CHECKS_IN_FLIGHT) {
                if let Err(end) = self.finish_check(fetch, device, checks).await {
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
                    self.settle_checks(fetch, device, checks).await;
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
        let node = self.clone();
        tokio::task::spawn_blocking(move || {
            let CheckAgainst { hash, manifest, key } = &*against;
            let plain = open_chunk(key, hash, index, &sealed).map_err(|e| CheckError::Bad(e.to_string()))?;
            manifest.check_chunk(index, &plain).map_err(|e| CheckError::Bad(e.to_string()))?;
            node.shared.blobs.store.store_chunk(hash, index, &sealed).map_err(CheckError::Local)
        })
    }

    /// Waits for the oldest check and records its result; a bad chunk or a local failure ends
    /// the worker (after the checks behind it).
    async fn finish_check(
        &self,
        fetch: &Fetch,
        device: DeviceId,
        checks: &mut VecDeque<(u32, Check)>,
    ) -> Result<(), WorkerEnd> {
        let Some((index, check)) = checks.pop_front() else { return Ok(()) };
        match check.await {
            Ok(Ok(())) => {
                self.chunk_stored(fetch, device, index);
                Ok(())
            }
            Ok(Err(CheckError::Bad(reason))) => {
                self.settle_checks(fetch, device, checks).await;
                if let Some(p) = lock(&fetch.plan).as_mut() {
                    p.rejected(device, index);
                }
                Err(WorkerEnd::Bad(reason))
            }
            Ok(Err(CheckError::Local(e))) => {
                self.settle_checks(fetch, device, checks).await;
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
    async fn settle_checks(&self, fetch: &Fetch, device: DeviceId, checks: &mut VecDeque<(u32, Check)>) {
        while let Some((index, check)) = checks.pop_front() {
            if let Ok(Ok(())) = check.await {
                self.chunk_stored(fetch, device, index);
            }
        }
    }

    /// A chunk from `device` checked out and is stored.
    fn chunk_stored(&self, fetch: &Fetch, device: DeviceId, index: u32) {
        self.blobs().fetched.fetch_add(1, Ordering::Relaxed);
        let have = lock(&fetch.plan).as_mut().map(|p| {
            p.stored(device, index);
            p.have().clone()
        });
        if let Some(have) = have {
            self.report_progress(fetch, &have);
        }
    }

    /// Takes the first manifest that checks out against the blob's hash and size; records it
    /// and starts the plan from the chunks already held.
    fn adopt_manifest(&self, fetch: &Fetch, bytes: &[u8]) -> Result<BlobRecord, WorkerEnd> {
        let mut record = lock(&fetch.record);
        if let Some(r) = record.as_ref() {
            return Ok(r.clone());
        }
        let manifest = Manifest::decode_verified(bytes, &fetch.hash, self.max_blob_size())
            .map_err(|e| WorkerEnd::Bad(e.to_string()))?;
        if manifest.size() != fetch.size {
            return Err(WorkerEnd::Bad(format!(
                "described a {}-byte blob where the message says {} bytes",
                manifest.size(),
                fetch.size
            )));
        }
        let blobs = self.blobs();
        let r = blobs.store.begin(&manifest, now()).map_err(|e| WorkerEnd::Local(e.into()))?;
        let have = blobs.store.have(&fetch.hash, &r.manifest).map_err(|e| WorkerEnd::Local(e.into()))?;
        *lock(&fetch.plan) = Some(FetchPlan::new(have, PER_PEER, TOTAL));
        *record = Some(r.clone());
        Ok(r)
    }

    /// Emits download progress when the whole percentage moves.
    fn report_progress(&self, fetch: &Fetch, have: &Bitmap) {
        let done = bytes_held(fetch.size, have);
        let percent = (done * 100).checked_div(fetch.size).unwrap_or(100);
        if fetch.last_percent.swap(percent, Ordering::Relaxed) != percent {
            self.emit(NodeEvent::BlobProgress { blob: fetch.hash, done, total: fetch.size });
        }
    }
}

/// How many bytes of a `size`-byte blob the chunks in `have` hold.
fn bytes_held(size: u64, have: &Bitmap) -> u64 {
    let count = have.count() as u64;
    let Some(last) = have.len().checked_sub(1) else { return 0 };
    if have.get(last) { (count - 1) * CHUNK_SIZE + chunk_len(size, last) } else { count * CHUNK_SIZE }.min(size)
}

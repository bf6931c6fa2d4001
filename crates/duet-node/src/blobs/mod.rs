//! Attachments on this node: sending files, images and voice messages, fetching blobs from
//! member devices over `/duet/blobs/1`, reading them, and collecting those no message needs.
//!
//! - **Sending** ([`Node::send_file`], [`Node::send_bytes`], [`Node::send_voice`]): the file
//!   or the bytes handed over are imported into the blob store (hashed, sealed in 256 KiB
//!   chunks) before the post is written, so the message never names content this device
//!   cannot serve. Images get a thumbnail (a second, small blob named in the attachment's
//!   [`Media::Image`]); voice messages carry their duration and waveform ([`Media::Voice`]).
//! - **Fetching** (`fetch`): when a post arrives, its thumbnails and every attachment up to
//!   [`NodeConfig::auto_fetch_size`](crate::NodeConfig) are fetched at once; bigger ones when
//!   asked ([`Node::fetch_attachment`]). A fetch asks every connected member device for the
//!   manifest and which chunks it holds, then keeps a few chunk requests in flight on each;
//!   every chunk is checked on arrival, and a device that sent a bad one is reported
//!   ([`NodeEvent::BlobRejected`]) and not asked again for that blob (not cut off: a damaged
//!   disk on my partner's laptop should not stop our chat). Wanted blobs are remembered, so a
//!   fetch resumes after a disconnect or a restart with the chunks it already holds.
//! - **Serving** (`serve`): a member device may ask for any blob this device holds, whole or
//!   in part; sealed chunks are sent as stored.
//! - **Collecting** ([`Node::collect_blobs`]): blobs that no message, thumbnail or avatar
//!   refers to any more (their message was deleted) are removed, every ten minutes and when
//!   asked. A send holds [`Blobs::sending`] from before its import until its post is
//!   written, and a collection waits for it: nothing a message is about to name is removed.

mod fetch;
mod serve;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use duet_log::{OpenedEvent, Payload};
use duet_model::{
    Attachment, AttachmentKind, Avatar, Blob, BlobHash, Media, Message, MessageId, MessageType, Target, Thumbnail,
    ValidationError,
};
use duet_store::{BlobStore, BlobStoreError};
use serde::Serialize;
use tokio::sync::{watch, Semaphore};

use crate::{now, Node, NodeError};

pub(crate) use fetch::FetchState;
use fetch::{FetchHost, Fetcher};

/// Inbound `/duet/blobs/1` streams served at once; more are dropped.
const CONCURRENT_SERVES: usize = 16;
/// How often unreferenced blobs are collected.
const COLLECT_EVERY: Duration = Duration::from_secs(600);
/// Images bigger than this get no thumbnail (decoding would take too much memory).
const MAX_THUMBNAIL_SOURCE: u64 = 48 << 20;

/// Counters of blob traffic since the node started (for tests, benchmarks and diagnostics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BlobStats {
    /// Chunks this node sent to other devices.
    pub chunks_served: u64,
    /// Chunks this node received, checked and stored.
    pub chunks_fetched: u64,
    /// Chunks this node received and threw away (they did not match).
    pub chunks_rejected: u64,
}

/// What a collection removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CollectReport {
    pub removed: Vec<BlobHash>,
    pub kept: usize,
}

pub(crate) struct Blobs {
    pub(crate) store: BlobStore,
    /// Downloads (`fetch`).
    pub(crate) fetcher: Arc<Fetcher>,
    pub(crate) serve_slots: Arc<Semaphore>,
    /// Held for reading by every send from before its import until its post is written, and
    /// for writing by a collection: a blob imported for a post not written yet is referenced by
    /// nothing, and would otherwise be removed. (Pinning each blob once imported left an
    /// instant between the import and the pin.)
    pub(crate) sending: tokio::sync::RwLock<()>,
    pub(crate) served: AtomicU64,
    /// Bytes served per (blob, device), for upload progress.
    pub(crate) uploads: Mutex<HashMap<(BlobHash, duet_model::DeviceId), u64>>,
}

impl Blobs {
    pub(crate) fn open(store: &duet_store::Store, data_dir: &Path, max_size: u64) -> Result<Self, NodeError> {
        let store = store.blobs(&blobs_dir(data_dir))?;
        Ok(Self {
            fetcher: Arc::new(Fetcher::new(store.clone(), max_size)),
            store,
            serve_slots: Arc::new(Semaphore::new(CONCURRENT_SERVES)),
            sending: tokio::sync::RwLock::new(()),
            served: AtomicU64::new(0),
            uploads: Mutex::new(HashMap::new()),
        })
    }
}

/// Where a data directory keeps its blob files.
pub fn blobs_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("blobs")
}

/// Where an attachment's content comes from.
enum Source {
    /// A file on disk, read and sealed chunk by chunk.
    File(PathBuf),
    /// Content already in memory (a paste, a drop).
    Bytes(Vec<u8>),
}

/// An attachment over the limit, as the person who chose it is told.
fn too_large(e: BlobStoreError) -> NodeError {
    match e {
        BlobStoreError::TooLarge { name, size, max } => {
            NodeError::Invalid(ValidationError::AttachmentTooLarge { name, size, max })
        }
        other => other.into(),
    }
}

/// Which kind an attachment is, from its file name.
fn kind_of(name: &str) -> (AttachmentKind, MessageType) {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "png" | "jpg" | "jpeg" | "gif" | "webp" => (AttachmentKind::Image, MessageType::Image),
        "ogg" | "opus" | "oga" => (AttachmentKind::Audio, MessageType::Voice),
        "mp3" | "wav" | "flac" | "m4a" | "aac" => (AttachmentKind::Audio, MessageType::File),
        "mp4" | "webm" | "mkv" | "mov" => (AttachmentKind::Video, MessageType::File),
        _ => (AttachmentKind::File, MessageType::File),
    }
}

/// The node reaches the devices a fetch asks: its connected member devices over the network.
impl FetchHost for Node {
    type Stream = duet_net::Stream;

    fn space_key(&self) -> Result<duet_crypto::SpaceKey, NodeError> {
        Node::space_key(self)
    }

    async fn devices(&self) -> Result<Vec<duet_model::DeviceId>, NodeError> {
        // Member devices, and the couple's mailbox, which keeps attachments sent while the
        // partner was away.
        let mailbox = FetchHost::mailbox(self);
        Ok(self
            .shared
            .net
            .connected()
            .await?
            .into_iter()
            .filter(|d| self.is_member(d) || Some(*d) == mailbox)
            .collect())
    }

    fn mailbox(&self) -> Option<duet_model::DeviceId> {
        self.mailbox().ok().flatten().map(|m| m.device).filter(|d| *d != self.device_id())
    }

    async fn open(&self, device: duet_model::DeviceId) -> Option<Self::Stream> {
        self.shared.net.open_stream(device, duet_net::DuetProtocol::Blobs).await.ok()
    }

    fn tell(&self, event: crate::NodeEvent) {
        self.emit(event);
    }

    fn track(&self, task: tokio::task::JoinHandle<()>) {
        self.track_task(task);
    }
}

impl Node {
    /// Starts fetching a blob (or joins the fetch under way) without waiting.
    pub(crate) fn start_fetch(&self, hash: BlobHash, size: u64) -> watch::Receiver<FetchState> {
        self.blobs().fetcher.start(self, hash, size)
    }

    /// Fetches a blob of `size` bytes and waits until all of it is here.
    pub async fn fetch_blob(&self, hash: BlobHash, size: u64) -> Result<(), NodeError> {
        self.blobs().fetcher.fetch_blob(self, hash, size).await
    }

    /// Resumes the fetches a previous run left unfinished.
    pub(crate) fn resume_fetches(&self) {
        self.blobs().fetcher.resume(self);
    }

    /// A member device connected: fetches waiting for one look again.
    pub(crate) fn blob_peers_changed(&self) {
        self.blobs().fetcher.peers_changed();
    }

    pub(crate) fn blobs(&self) -> &Blobs {
        &self.shared.blobs
    }

    /// The largest attachment this node sends or fetches.
    pub fn max_blob_size(&self) -> u64 {
        self.shared.config.max_blob_size.min(duet_model::MAX_ATTACHMENT_SIZE)
    }

    pub(crate) fn space_key(&self) -> Result<duet_crypto::SpaceKey, NodeError> {
        self.shared.store.space_key()?.ok_or(NodeError::NoSpace)
    }

    /// Sends a file as an attachment, with `text` (or, when it is empty, the file's name) as
    /// the message. Images get a thumbnail; Ogg Opus files are sent as voice messages with
    /// their duration and waveform. The file is read, hashed and sealed into the blob store
    /// first: a file that cannot be read or is over the limit is refused with a clear error,
    /// and nothing is written.
    pub async fn send_file(
        &self,
        target: Target,
        path: &Path,
        text: &str,
        reply_to: Option<MessageId>,
    ) -> Result<Message, NodeError> {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        self.send_attachment(target, &name, Source::File(path.to_path_buf()), text, reply_to).await
    }

    /// Sends content held in memory (a pasted or dropped image, a file handed over by a
    /// window) as an attachment named `name`, exactly as [`Node::send_file`] sends a file of
    /// that name: the same media detection, limits and errors. The name is made safe to save
    /// under (no path separators, control characters or leading dots) before it is checked.
    pub async fn send_bytes(
        &self,
        target: Target,
        name: &str,
        bytes: Vec<u8>,
        text: &str,
        reply_to: Option<MessageId>,
    ) -> Result<Message, NodeError> {
        let name = duet_store::safe_file_name(name);
        self.send_attachment(target, &name, Source::Bytes(bytes), text, reply_to).await
    }

    /// What [`Node::send_file`] and [`Node::send_bytes`] share: checks, import, media, post.
    async fn send_attachment(
        &self,
        target: Target,
        name: &str,
        source: Source,
        text: &str,
        reply_to: Option<MessageId>,
    ) -> Result<Message, NodeError> {
        self.touch();
        if let Target::Channel(c) = target {
            self.channel(&c)?;
        }
        let name = duet_model::validate_name("a file name", name, duet_model::MAX_ATTACHMENT_NAME_CHARS)?;
        let content = duet_model::validate_content(if text.trim().is_empty() { &name } else { text })?;
        let max = self.max_blob_size();
        if let Source::Bytes(bytes) = &source {
            let size = bytes.len() as u64;
            if size > max {
                return Err(too_large(BlobStoreError::TooLarge { name, size, max }));
            }
        }
        let key = self.space_key()?;
        let _sending = self.blobs().sending.read().await;
        let (kind, message_type) = kind_of(&name);
        let node = self.clone();
        let (record, media) = tokio::task::spawn_blocking(move || -> Result<_, NodeError> {
            let blobs = &node.shared.blobs.store;
            let (record, held) = match source {
                Source::File(path) => (blobs.import_file(&key, &path, max, now()).map_err(too_large)?, None),
                Source::Bytes(bytes) => (blobs.import_bytes(&key, &bytes, now())?, Some(bytes)),
            };
            // The content, for a look inside: from memory when it was sent from there.
            let read = || -> Result<Cow<'_, [u8]>, NodeError> {
                match &held {
                    Some(bytes) => Ok(Cow::Borrowed(bytes)),
                    None => Ok(Cow::Owned(blobs.read(&key, &record.hash)?)),
                }
            };
            let media = match kind {
                AttachmentKind::Image if record.manifest.size() <= MAX_THUMBNAIL_SOURCE => {
                    node.image_media(&key, &read()?)
                }
                AttachmentKind::Audio if message_type == MessageType::Voice => duet_media::voice::inspect(&read()?)
                    .ok()
                    .map(|v| Media::Voice { duration_ms: v.duration_ms, waveform: v.waveform }),
                _ => None,
            };
            Ok((record, media))
        })
        .await
        .map_err(|_| NodeError::Stopped)??;
        // A file that did not decode as what its name says is sent as a plain file.
        let (kind, message_type) = match (&media, kind) {
            (None, AttachmentKind::Image | AttachmentKind::Audio) => (AttachmentKind::File, MessageType::File),
            (_, kind) => (kind, message_type),
        };
        let attachment = Attachment::new(kind, record.hash, &name, record.manifest.size())?.with_media(media)?;
        self.post_attachments(target, message_type, content, reply_to, vec![attachment]).await
    }

    /// Sends a voice message recorded as 16-bit PCM (mono or interleaved stereo): encoded to
    /// Opus in Ogg here, with its duration and waveform.
    pub async fn send_voice(
        &self,
        target: Target,
        pcm: Vec<i16>,
        sample_rate: u32,
        channels: u8,
        text: &str,
    ) -> Result<Message, NodeError> {
        self.touch();
        let key = self.space_key()?;
        let _sending = self.blobs().sending.read().await;
        let node = self.clone();
        let (record, note) = tokio::task::spawn_blocking(move || -> Result<_, NodeError> {
            let note = duet_media::voice::encode(&pcm, sample_rate, channels)
                .map_err(|e| NodeError::NotAllowed(format!("could not encode the voice message: {e}")))?;
            let record = node.shared.blobs.store.import_bytes(&key, &note.ogg, now())?;
            Ok((record, note))
        })
        .await
        .map_err(|_| NodeError::Stopped)??;
        let name = format!("voice-{}.ogg", now().0);
        let content = duet_model::validate_content(if text.trim().is_empty() { "🎤 voice message" } else { text })?;
        let attachment = Attachment::new(AttachmentKind::Audio, record.hash, &name, record.manifest.size())?
            .with_media(Some(Media::Voice { duration_ms: note.duration_ms, waveform: note.waveform }))?;
        self.post_attachments(target, MessageType::Voice, content, None, vec![attachment]).await
    }

    /// The image's size and its thumbnail, imported as a blob (`None` for a file that does not
    /// decode).
    fn image_media(&self, key: &duet_crypto::SpaceKey, bytes: &[u8]) -> Option<Media> {
        let image = duet_media::image::thumbnail(bytes).ok()?;
        let thumb = image.thumbnail.and_then(|t| {
            let record = self.shared.blobs.store.import_bytes(key, &t.bytes, now()).ok()?;
            Thumbnail::new(record.hash, record.manifest.size(), t.width, t.height).ok()
        });
        Some(Media::Image { width: image.width, height: image.height, thumbnail: thumb })
    }

    async fn post_attachments(
        &self,
        target: Target,
        message_type: MessageType,
        content: String,
        reply_to: Option<MessageId>,
        attachments: Vec<Attachment>,
    ) -> Result<Message, NodeError> {
        let opened = self.write(Payload::Post { target, message_type, content, reply_to, attachments }).await?;
        let id = opened.message_id();
        self.shared.store.message(&id)?.ok_or_else(|| NodeError::NotFound("the message just sent".into()))
    }

    /// How much of a blob is here (`None`: nothing is known of it yet). It can be read once
    /// [`NodeEvent::BlobComplete`](crate::NodeEvent::BlobComplete) has been sent (its file is
    /// synced just after the last chunk arrives).
    pub fn blob_status(&self, hash: &BlobHash) -> Result<Option<Blob>, NodeError> {
        Ok(self.blobs().store.status(hash)?)
    }

    /// A complete blob's content (for the app's `duet://blob/<hash>` handler).
    pub async fn read_blob(&self, hash: BlobHash) -> Result<Vec<u8>, NodeError> {
        let key = self.space_key()?;
        let node = self.clone();
        tokio::task::spawn_blocking(move || Ok(node.shared.blobs.store.read(&key, &hash)?))
            .await
            .map_err(|_| NodeError::Stopped)?
    }

    /// One attachment of a message.
    pub fn attachment(&self, message: &MessageId, index: usize) -> Result<Attachment, NodeError> {
        let m = self.message(message)?;
        let count = m.attachments.len();
        m.attachments.into_iter().nth(index).ok_or_else(|| {
            NodeError::NotFound(format!(
                "message {message} has {count} attachment(s); there is no number {}",
                index + 1
            ))
        })
    }

    /// Fetches an attachment (from any member device that has it) and waits until it is
    /// here, reporting [`NodeEvent::BlobProgress`](crate::NodeEvent::BlobProgress) on the way.
    pub async fn fetch_attachment(&self, message: &MessageId, index: usize) -> Result<Attachment, NodeError> {
        let a = self.attachment(message, index)?;
        self.fetch_blob(a.blob, a.size).await?;
        Ok(a)
    }

    /// Fetches an attachment and saves it in `dir` under its name; returns the path.
    pub async fn save_attachment(&self, message: &MessageId, index: usize, dir: &Path) -> Result<PathBuf, NodeError> {
        let a = self.fetch_attachment(message, index).await?;
        let key = self.space_key()?;
        let dest = dir.join(duet_store::safe_file_name(&a.name));
        let node = self.clone();
        let out = dest.clone();
        tokio::task::spawn_blocking(move || node.shared.blobs.store.export_to(&key, &a.blob, &out))
            .await
            .map_err(|_| NodeError::Stopped)??;
        Ok(dest)
    }

    /// Blob traffic since the node started.
    pub fn blob_stats(&self) -> BlobStats {
        let b = self.blobs();
        BlobStats {
            chunks_served: b.served.load(Ordering::Relaxed),
            chunks_fetched: b.fetcher.fetched.load(Ordering::Relaxed),
            chunks_rejected: b.fetcher.rejected.load(Ordering::Relaxed),
        }
    }

    /// Starts fetching the blobs of new posts: thumbnails always, content up to the
    /// auto-fetch size.
    pub(crate) fn auto_fetch(&self, events: &[OpenedEvent]) {
        let auto = self.shared.config.auto_fetch_size;
        for e in events {
            let Payload::Post { attachments, .. } = &e.payload else { continue };
            for a in attachments {
                if let Some(t) = a.media.as_ref().and_then(Media::thumbnail) {
                    self.start_fetch(t.blob, t.size);
                }
                if a.size <= auto {
                    self.start_fetch(a.blob, a.size);
                }
            }
        }
    }

    /// Every blob a message, thumbnail or avatar still refers to.
    fn referenced_blobs(&self) -> Result<HashSet<BlobHash>, NodeError> {
        let mut refs = HashSet::new();
        let Some(state) = self.shared.store.space()? else { return Ok(refs) };
        for person in state.membership.persons() {
            if let Some(Avatar::Image(h)) = self.shared.store.person(person)?.and_then(|p| p.avatar) {
                refs.insert(h);
            }
        }
        let Some(me) = self.person_id() else { return Ok(refs) };
        for conversation in self.shared.store.conversations(&me)? {
            let mut before = None;
            loop {
                let page = self.shared.store.messages(&conversation.id, before, 1000)?;
                for m in &page.messages {
                    refs.extend(m.attachments.iter().flat_map(|a| a.blobs().map(|(h, _)| h)));
                }
                match page.older {
                    Some(older) => before = Some(older),
                    None => break,
                }
            }
        }
        Ok(refs)
    }

    /// Removes every blob no message, thumbnail or avatar refers to any more (and stops
    /// fetching it).
    pub async fn collect_blobs(&self) -> Result<CollectReport, NodeError> {
        let _no_sends = self.blobs().sending.write().await;
        let node = self.clone();
        tokio::task::spawn_blocking(move || {
            let refs = node.referenced_blobs()?;
            let blobs = node.blobs();
            let mut report = CollectReport::default();
            for (hash, _) in blobs.store.wants()? {
                if !refs.contains(&hash) {
                    blobs.store.unwant(&hash)?;
                }
            }
            for record in blobs.store.list()? {
                if refs.contains(&record.hash) {
                    report.kept += 1;
                } else {
                    blobs.store.remove(&record.hash)?;
                    report.removed.push(record.hash);
                }
            }
            Ok(report)
        })
        .await
        .map_err(|_| NodeError::Stopped)?
    }

    /// Collects unreferenced blobs every ten minutes.
    pub(crate) async fn collect_ticker(self) {
        loop {
            tokio::time::sleep(COLLECT_EVERY).await;
            if let Err(e) = self.collect_blobs().await {
                tracing::warn!("could not collect unused attachments: {e}");
            }
        }
    }
}

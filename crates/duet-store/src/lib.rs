//! Duet's local store: everything a device keeps, in sled.
//!
//! - **Events** are kept exactly as signed, per author, in runs (see [`keyspace`] for every
//!   tree and key). The version vector is the set of log heads.
//! - **Views** (messages, conversations, channels, profiles, receipts…) are folded from the
//!   events by `duet_log::fold`, into the same write as the events.
//! - **Atomicity**: appending a local event and applying a remote batch each write events,
//!   heads and views in one sled transaction, then flush; a crash leaves the store as it was
//!   before or after each write, never between (checked by `tests/crash.rs`).
//! - **Queries**: a conversation's messages newest first, page by page; messages between two
//!   people; conversations with unread counts; messages older than a time, for clean-up.
//!
//! The store does not verify: callers pass events that `duet_log::Verifier` accepted, and
//! the store gives the verifier what it needs (log heads, stored hashes, membership).

mod backup;
mod blobs;
mod blocks;
mod calls;
pub mod consolidate;
mod cut;
mod flusher;
mod identity;
mod keyspace;
pub mod mailbox;
mod queries;
mod runs;
mod scan;
mod sealed;
pub mod search;
mod txn;
pub mod vault;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Mutex, RwLock};

use duet_crypto::{DataKey, Hash};
use duet_log::{fold, LogHead, OpenedEvent, SealedEvent, VersionVector};
use duet_model::{ConversationId, DeviceId, MessageId, PersonId, SpaceId};
use thiserror::Error;

pub use backup::{restore as restore_backup, BackupCounts, BackupError};
pub use blobs::{safe_file_name, write_whole, BlobRecord, BlobStore, BlobStoreError};
pub use identity::{LocalIdentity, SpaceState};
pub use queries::Page;
pub use search::Query;

use keyspace::{cat, meta, Ks};
use txn::Txn;

/// The store format this code writes. Opening a newer store is refused; older ones migrate.
///
/// 2: new messages are written in blocks (`message_blocks`), which format 1 did not read.
/// 3: the memories index (`views`, `M`), built from the stored messages when a store of an
/// older format is opened.
/// 4: the words index (`search`), likewise built from the stored messages.
pub const SCHEMA_VERSION: u32 = 4;

/// Why a store operation failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("the local database could not be opened or written: {0}")]
    Sled(#[from] sled::Error),
    #[error("the local database is damaged: {0}")]
    Corrupt(&'static str),
    #[error("this data was written by a newer version of Duet (format {found}, this version reads up to {SCHEMA_VERSION}); please update Duet")]
    NewerSchema { found: u32 },
    #[error("this device has no space yet: create a profile or join your partner first")]
    NoSpace,
    #[error("event {seq} from {author:?} does not follow the stored log (expected {expected})")]
    OutOfOrder { author: DeviceId, seq: u64, expected: u64 },
}

pub(crate) struct Inner {
    db: sled::Db,
    trees: Vec<sealed::Tree>,
    /// The same trees unwrapped, for transactions across them (values sealed beforehand).
    raw: Vec<sled::Tree>,
    sealer: std::sync::Arc<sealed::Sealer>,
    /// Conversations that hold messages (a handful): where to look for a message by id; and
    /// the newest message id each holds, so a new message (the usual case: newer than all)
    /// is known to be absent without a lookup.
    conversations: RwLock<BTreeMap<ConversationId, MessageId>>,
    space: RwLock<Option<SpaceState>>,
    /// The person this device belongs to, once known ([`Store::person_id`]).
    person: RwLock<Option<PersonId>>,
    /// Names words in the search index (see [`search::word_key`]).
    word_key: search::WordKey,
    /// Writes committed since the store opened ([`Store::writes`]).
    writes: std::sync::atomic::AtomicU64,
    /// What writes added to since the last [`Store::consolidate`].
    touched: Mutex<consolidate::Touched>,
    /// Merges of stored values begun and ended (odd while one commits): see
    /// [`consolidate`], "Readers".
    reshaped: std::sync::atomic::AtomicU64,
}

impl Inner {
    pub(crate) fn tree(&self, ks: Ks) -> &sealed::Tree {
        &self.trees[ks as usize]
    }

    pub(crate) fn conversations(&self) -> BTreeSet<ConversationId> {
        self.conversations.read().map(|c| c.keys().copied().collect()).unwrap_or_default()
    }

    /// The conversations the meta tree lists as holding messages (before the cache is loaded).
    pub(crate) fn conversations_stored(&self) -> Result<Vec<ConversationId>, StoreError> {
        let mut out = Vec::new();
        for item in self.tree(Ks::Meta).scan_prefix(meta::CONVERSATION) {
            let (k, _) = item?;
            out.extend(ConversationId::from_slice(&k[meta::CONVERSATION.len()..]));
        }
        Ok(out)
    }

    /// Whether `conversation` holds messages.
    pub(crate) fn holds(&self, conversation: &ConversationId) -> bool {
        self.conversations.read().is_ok_and(|c| c.contains_key(conversation))
    }

    /// Whether `id` is newer than every message `conversation` holds (a new post or a synced
    /// batch, nearly always): then nothing stored can be it or surround it.
    pub(crate) fn newer_than_all(&self, conversation: &ConversationId, id: &MessageId) -> bool {
        self.conversations.read().ok().and_then(|c| c.get(conversation).copied()).is_none_or(|newest| *id > newest)
    }

    /// The member people other than `person`.
    pub(crate) fn others(&self, person: &PersonId) -> Vec<PersonId> {
        let space = self.space.read().ok();
        match space.as_ref().and_then(|s| s.as_ref()) {
            Some(s) => s.membership.persons().filter(|p| *p != person).copied().collect(),
            None => vec![],
        }
    }
}

/// What applying a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Events stored.
    pub stored: usize,
}

/// The folder of the (sealed) store inside a data directory.
pub fn store_dir(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("db")
}

/// Whether `data_dir` holds a store (sealed, or an older version's not sealed yet).
pub fn holds_store(data_dir: &Path) -> bool {
    store_dir(data_dir).exists() || data_dir.join(PLAIN_DIR).exists()
}

/// Where versions before encryption at rest kept the store, unsealed.
const PLAIN_DIR: &str = "store";

/// Where an unsealed store is being sealed ([`Store::open_in`]).
const SEALING_DIR: &str = "db.part";

/// How long opening waits for the store's lock to be let go: sled's I/O threads of a store
/// just closed by this same process may hold it for a moment after the close returns.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(3);

/// Opens the sled database in `dir`, waiting up to [`LOCK_PATIENCE`] for its lock. sled's own
/// flusher thread is off: a [`Store`] runs [`flusher::Flusher`] instead (its module says why);
/// other users of this (a backup being restored) flush when they are done.
pub(crate) fn open_db(dir: &Path) -> Result<sled::Db, StoreError> {
    let started = std::time::Instant::now();
    loop {
        let opened = sled::Config::new().path(dir).cache_capacity(256 << 20).flush_every_ms(None).open();
        match opened {
            Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                if started.elapsed() >= LOCK_PATIENCE {
                    return Err(sled::Error::Io(e).into());
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return Ok(other?),
        }
    }
}

/// The local store of one device.
pub struct Store {
    inner: Inner,
    /// One writer at a time: a write reads and then writes several trees.
    writer: Mutex<()>,
    /// One merge of the words index at a time ([`Store::compact_words`]).
    compacting: Mutex<()>,
    /// Writes what was written, every half second.
    _flusher: flusher::Flusher,
}

impl Store {
    /// Writes `(tree, key, value)`s in one sled transaction: all of them or none, whatever
    /// happens in between.
    pub(crate) fn write_together(&self, writes: &[(Ks, &[u8], &[u8])]) -> Result<(), StoreError> {
        use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
        let sealed: Vec<(usize, &[u8], Vec<u8>)> =
            writes.iter().map(|(ks, key, value)| (*ks as usize, *key, self.inner.tree(*ks).seal(key, value))).collect();
        let result: Result<(), TransactionError<()>> = self.inner.raw.as_slice().transaction(|t| {
            for (tree, key, value) in &sealed {
                t[*tree].insert(*key, value.as_slice())?;
            }
            Ok::<(), ConflictableTransactionError<()>>(())
        });
        match result {
            Ok(()) => Ok(()),
            Err(TransactionError::Storage(e)) => Err(e.into()),
            Err(TransactionError::Abort(())) => Err(StoreError::Corrupt("a write was aborted")),
        }
    }

    /// Opens (or creates) the store of the data directory `data_dir`, in [`store_dir`], under
    /// `key`. An unsealed store that a version before encryption at rest left in
    /// `<data dir>/store` is sealed first, in place and crash-safely:
    ///
    /// 1. every value is copied, sealed, into `db.part`, which is synced;
    /// 2. `db.part` is renamed `db` (one rename: before it the old store is whole and is
    ///    sealed again from the start, after it the sealed store is whole);
    /// 3. the old folder is removed (again at the next start if a crash came first).
    ///
    /// The old files' blocks may stay on the disk until reused: no file system promises more.
    pub fn open_in(data_dir: &Path, key: &DataKey) -> Result<Self, StoreError> {
        let sealed = store_dir(data_dir);
        let plain = data_dir.join(PLAIN_DIR);
        if plain.exists() {
            if !sealed.exists() {
                let part = data_dir.join(SEALING_DIR);
                if part.exists() {
                    std::fs::remove_dir_all(&part).map_err(sled::Error::Io)?;
                }
                sealed::seal_copy(&plain, &part, key)?;
                std::fs::rename(&part, &sealed).map_err(sled::Error::Io)?;
                std::fs::File::open(data_dir).and_then(|d| d.sync_all()).map_err(sled::Error::Io)?;
            }
            std::fs::remove_dir_all(&plain).map_err(sled::Error::Io)?;
        }
        Self::open(&sealed, key)
    }

    /// Opens (or creates) the store in `dir`, its values sealed with `key` (see [`sealed`]).
    /// A store written under another key does not open: its first value read fails.
    pub fn open(dir: &Path, key: &DataKey) -> Result<Self, StoreError> {
        let db = open_db(dir)?;
        let raw = Ks::ALL.iter().map(|ks| db.open_tree(ks.name())).collect::<Result<Vec<_>, _>>()?;
        let sealer = std::sync::Arc::new(sealed::Sealer::new(key.clone()));
        let trees = raw.iter().map(|t| sealed::Tree::new(t.clone(), sealer.clone())).collect();
        let inner = Inner {
            db,
            trees,
            raw,
            sealer,
            conversations: RwLock::new(BTreeMap::new()),
            space: RwLock::new(None),
            person: RwLock::new(None),
            word_key: search::word_key(key),
            writes: std::sync::atomic::AtomicU64::new(0),
            touched: Mutex::new(consolidate::Touched::new()),
            reshaped: std::sync::atomic::AtomicU64::new(0),
        };
        let _flusher = flusher::Flusher::start(inner.db.clone()).map_err(sled::Error::Io)?;
        let store = Self { inner, writer: Mutex::new(()), compacting: Mutex::new(()), _flusher };
        store.migrate()?;
        store.load_caches()?;
        Ok(store)
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let meta = self.inner.tree(Ks::Meta);
        let found = match meta.get(meta::SCHEMA)? {
            Some(v) => {
                u32::from_be_bytes(v.as_ref().try_into().map_err(|_| StoreError::Corrupt("bad schema version"))?)
            }
            None => 0,
        };
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema { found });
        }
        // Format 0 is an empty store. Format 1 → 2 needs no step: a format-1 store is a format-2
        // store without blocks. Future formats add their migration steps here, each taking
        // the store from version n to n + 1 in one transaction.
        if (1..3).contains(&found) {
            self.index_memories()?;
        }
        if (1..4).contains(&found) {
            self.index_words()?;
        }
        if found < SCHEMA_VERSION {
            meta.insert(meta::SCHEMA, SCHEMA_VERSION.to_be_bytes())?;
            self.inner.db.flush()?;
        }
        Ok(())
    }

    /// Format 2 → 3: indexes the messages already stored that belong in the memories, in
    /// one batch. The format is raised only after it, so a crash in between indexes again.
    fn index_memories(&self) -> Result<(), StoreError> {
        let mut batch = sealed::Batch::default();
        for c in self.inner.conversations_stored()? {
            for item in scan::Scan::all(&self.inner, &c, false) {
                let (id, bytes) = item?;
                // A record that does not read is left out of the memories, not a store that
                // cannot open: the message reads (or fails) on its own as before.
                let record = txn::decode::<duet_log::MessageRecord>(&bytes);
                if record.is_ok_and(|r| keyspace::is_memory(&r.attachments)) {
                    batch.insert(keyspace::media_key(&id, &c), &[][..]);
                }
            }
        }
        self.inner.tree(Ks::Views).apply_batch(batch)?;
        Ok(())
    }

    fn load_caches(&self) -> Result<(), StoreError> {
        let mut convs = BTreeMap::new();
        for c in self.inner.conversations_stored()? {
            if let Some(item) = scan::Scan::all(&self.inner, &c, true).next() {
                convs.insert(c, item?.0);
            }
        }
        *self.inner.conversations.write().map_err(|_| StoreError::Corrupt("lock poisoned"))? = convs;
        let space = self.load_space()?;
        *self.inner.space.write().map_err(|_| StoreError::Corrupt("lock poisoned"))? = space;
        Ok(())
    }

    /// How many writes were committed since the store opened: a caller that sees the same
    /// number twice a while apart knows nothing was written in between (the node merges the
    /// words index then).
    pub fn writes(&self) -> u64 {
        self.inner.writes.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        // A panic while holding the lock cannot leave a half write (commits are atomic).
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The head of `author`'s log as stored.
    pub fn head(&self, author: &DeviceId) -> Result<LogHead, StoreError> {
        Ok(match self.inner.tree(Ks::Heads).get(author.0)? {
            Some(v) => decode_head(&v)?,
            None => LogHead::EMPTY,
        })
    }

    /// Every author's highest seq held.
    pub fn version_vector(&self) -> Result<VersionVector, StoreError> {
        let mut vv = VersionVector::new();
        for item in self.inner.tree(Ks::Heads).iter() {
            let (k, v) = item?;
            let author = DeviceId::from_slice(&k).ok_or(StoreError::Corrupt("bad head key"))?;
            vv.raise(author, decode_head(&v)?.seq);
        }
        Ok(vv)
    }

    /// The highest Lamport clock seen from anyone.
    pub fn max_lamport(&self) -> Result<u64, StoreError> {
        Ok(match self.inner.tree(Ks::Meta).get(meta::LAMPORT)? {
            Some(v) => u64::from_be_bytes(v.as_ref().try_into().map_err(|_| StoreError::Corrupt("bad lamport"))?),
            None => 0,
        })
    }

    /// One stored event.
    pub fn event(&self, author: &DeviceId, seq: u64) -> Result<Option<SealedEvent>, StoreError> {
        Ok(self.events_from(author, seq, 1)?.into_iter().next().filter(|e| e.seq() == seq))
    }

    /// The hash of a stored event, for telling duplicates from forks.
    pub fn event_hash(&self, space: &SpaceId, author: &DeviceId, seq: u64) -> Result<Option<Hash>, StoreError> {
        Ok(self.event(author, seq)?.map(|e| e.hash(space)))
    }

    /// Up to `limit` events of `author` from `from_seq` on, in seq order (for sync).
    pub fn events_from(&self, author: &DeviceId, from_seq: u64, limit: usize) -> Result<Vec<SealedEvent>, StoreError> {
        self.steady(|| self.events_from_once(author, from_seq, limit))
    }

    /// [`Store::events_from`], read once.
    fn events_from_once(&self, author: &DeviceId, from_seq: u64, limit: usize) -> Result<Vec<SealedEvent>, StoreError> {
        let tree = self.inner.tree(Ks::Events);
        let from_seq = from_seq.max(1);
        let start = keyspace::event_key(author, from_seq);
        // The run holding `from_seq` starts at or before it; later runs follow in key order.
        let first = tree.range(keyspace::event_key(author, 0)..=start.clone()).next_back();
        let later = tree.range((std::ops::Bound::Excluded(start), std::ops::Bound::Unbounded));
        let mut out = Vec::new();
        for item in first.into_iter().chain(later) {
            if out.len() >= limit {
                break;
            }
            let (k, run) = item?;
            if !k.starts_with(&author.0) {
                break;
            }
            let first_seq = u64::from_be_bytes(k[32..40].try_into().map_err(|_| StoreError::Corrupt("bad event key"))?);
            let skip = from_seq.saturating_sub(first_seq);
            for e in runs::decode(*author, first_seq, &run, skip)? {
                if out.len() >= limit {
                    break;
                }
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Stores this device's own new event and folds it into the views, atomically.
    pub fn append_local(&self, event: &OpenedEvent) -> Result<(), StoreError> {
        self.apply(std::slice::from_ref(event), None).map(|_| ())
    }

    /// Stores a verified batch (in per-author seq order, continuing the stored logs) and folds
    /// it into the views, atomically: all of it or none of it.
    pub fn apply_remote(&self, batch: &[OpenedEvent]) -> Result<ApplyReport, StoreError> {
        self.apply(batch, None)
    }

    /// [`Store::apply_remote`] with the words of the batch's posts found beforehand
    /// ([`Store::words_of`], on another thread while an earlier batch was being stored).
    /// Words given for another batch cost only extra postings (queries check every candidate):
    /// a post of this batch that `words` does not name is indexed here as usual.
    pub fn apply_remote_with_words(
        &self,
        batch: &[OpenedEvent],
        words: search::BatchWords,
    ) -> Result<ApplyReport, StoreError> {
        self.apply(batch, Some(words))
    }

    fn apply(&self, batch: &[OpenedEvent], words: Option<search::BatchWords>) -> Result<ApplyReport, StoreError> {
        if batch.is_empty() {
            return Ok(ApplyReport::default());
        }
        let space = self.space_id()?;
        let _guard = self.lock();
        let mut txn = Txn::new(&self.inner);
        if let Some(words) = words {
            txn.words_found(words);
        }
        // Events: one run per author per batch; heads advance.
        let mut heads: std::collections::BTreeMap<DeviceId, (LogHead, u64, Vec<&[u8]>)> = Default::default();
        let mut max_lamport = self.max_lamport()?;
        for e in batch {
            let author = e.author();
            let (head, _, bodies) = match heads.entry(author) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(v) => {
                    let head = self.head(&author)?;
                    v.insert((head, head.seq + 1, Vec::new()))
                }
            };
            if e.seq() != head.seq + 1 {
                return Err(StoreError::OutOfOrder { author, seq: e.seq(), expected: head.seq + 1 });
            }
            *head = LogHead { seq: e.seq(), hash: e.hash, lamport: e.lamport() };
            bodies.push(e.event.body());
            max_lamport = max_lamport.max(e.lamport());
        }
        for (author, (head, first_seq, bodies)) in &heads {
            txn.put(Ks::Events, keyspace::event_key(author, *first_seq), runs::encode(bodies));
            txn.put(Ks::Heads, author.0.to_vec(), encode_head(head));
        }
        txn.put(Ks::Meta, meta::LAMPORT.to_vec(), max_lamport.to_be_bytes().to_vec());
        for e in batch {
            fold(&mut txn, space, e);
        }
        // Who is in the space changes in the same write as the events that say so: stored
        // first and folded in after, a stop in between lost a partner's joining for good.
        // Most batches say nothing about it: the space is only copied for one that does.
        let space_changed = if batch.iter().any(|e| e.payload.changes_membership()) {
            self.space()?.and_then(|mut s| s.membership.fold_events(batch).then_some(s))
        } else {
            None
        };
        if let Some(state) = &space_changed {
            txn.put(Ks::Meta, meta::SPACE.to_vec(), identity::encode_space(state));
        }
        let newest = txn.commit()?;
        self.inner.db.flush()?;
        if let Some(state) = space_changed {
            self.keep_space(state)?;
        }
        if let Ok(mut c) = self.inner.conversations.write() {
            for (conversation, id) in newest {
                let held = c.entry(conversation).or_insert(id);
                *held = (*held).max(id);
            }
        }
        Ok(ApplyReport { stored: batch.len() })
    }

    /// Keeps the second body of a forked seq, so the user can be told and nothing is lost.
    pub fn record_fork(&self, author: &DeviceId, seq: u64, body: &[u8]) -> Result<(), StoreError> {
        self.inner.tree(Ks::Forks).insert(keyspace::event_key(author, seq), body)?;
        self.inner.db.flush()?;
        Ok(())
    }

    /// Forked seqs recorded so far: (author, seq).
    pub fn forks(&self) -> Result<Vec<(DeviceId, u64)>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.tree(Ks::Forks).iter() {
            let (k, _) = item?;
            let author = DeviceId::from_slice(&k[..32]).ok_or(StoreError::Corrupt("bad fork key"))?;
            let seq = u64::from_be_bytes(k[32..40].try_into().map_err(|_| StoreError::Corrupt("bad fork key"))?);
            out.push((author, seq));
        }
        Ok(out)
    }

    /// The blob store: its own trees in this database, sealed chunks in files under `dir`
    /// (see the `blobs` module).
    pub fn blobs(&self, dir: &Path) -> Result<BlobStore, BlobStoreError> {
        BlobStore::open(&self.inner.db, &self.inner.sealer, dir)
    }

    /// Writes everything to disk now.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.inner.db.flush()?;
        Ok(())
    }

    pub(crate) fn space_id(&self) -> Result<SpaceId, StoreError> {
        let space = self.inner.space.read().map_err(|_| StoreError::Corrupt("lock poisoned"))?;
        space.as_ref().map(|s| s.space).ok_or(StoreError::NoSpace)
    }
}

pub(crate) fn encode_head(h: &LogHead) -> Vec<u8> {
    cat(&[&h.seq.to_be_bytes(), &h.hash, &h.lamport.to_be_bytes()])
}

pub(crate) fn decode_head(v: &[u8]) -> Result<LogHead, StoreError> {
    if v.len() != 48 {
        return Err(StoreError::Corrupt("bad log head"));
    }
    let mut hash = [0; 32];
    hash.copy_from_slice(&v[8..40]);
    Ok(LogHead {
        seq: u64::from_be_bytes(v[..8].try_into().map_err(|_| StoreError::Corrupt("bad log head"))?),
        hash,
        lamport: u64::from_be_bytes(v[40..48].try_into().map_err(|_| StoreError::Corrupt("bad log head"))?),
    })
}

#[cfg(test)]
mod tests;

//! A backup: everything this device keeps, in one file sealed with a passphrase, and its
//! restore into a fresh data folder.
//!
//! **What is in it.** Every value of every tree of the store (the log, what is folded from it,
//! this device's keys and identity, its settings), opened with the data key, and every
//! attachment file under `blobs/` as it lies (its chunks are sealed with the space key
//! already). A restore writes them back under a new data key, so the restored folder reads
//! exactly as the old one did: the same messages, reactions, lists, photos and settings.
//!
//! **The file.** A plain header, then frames:
//!
//! ```text
//! "DUETBAK" 0x01 · argon2id memory KiB (u32 BE) · passes (u32 BE) · lanes (u32 BE)
//!   · salt (16) · nonce prefix (16)
//! frame*: length (u32 BE) · XChaCha20-Poly1305(key, nonce = prefix · frame number (u64 LE),
//!                                              associated data = the header) of one record
//! record: 1 · tree name length (u8) · tree name · key length (u32 BE) · key · value
//!       | 2 · file name length (u8) · file name · bytes to append to that file
//!       | 3 · values (u64 BE) · files (u64 BE) · file bytes (u64 BE)      (the end)
//! ```
//!
//! The key is argon2id of the passphrase with the vault's settings. The frame number in the
//! nonce keeps frames in order; the end record, which must come last and count what came
//! before, tells a file cut short from a whole one. A wrong passphrase fails on the first
//! frame; a damaged file fails at the damaged frame. Every length is bounded before it is
//! read, and the settings in the header are bounded before argon2 runs.
//!
//! **Restoring changes nothing until it is whole.** The backup is written into a folder
//! beside the target (`.<name>.restoring`), opened once as a store to check it, and only then
//! moved into place; a failure removes that folder and leaves the target as it was.
//!
//! **A running store.** [`Store::write_backup`] holds the store's writer lock while it reads
//! the trees, so the log, heads and indexes are copied as one state; attachment files are read
//! after their trees, and a chunk is in its file before it is recorded, so every recorded
//! chunk is in the copy.
//!
//! **The restored device is the same device.** Its keys come back with everything else, so its
//! own log may be behind what it wrote after the backup and its partner holds. The store is
//! marked restored ([`Store::restored`]) and the node holds its writes until a member device
//! has shown it holds nothing newer of ours (see `duet-node`'s `restore.rs`): writing sooner
//! would sign a second version of an event already sent, which every device refuses as a fork.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use duet_crypto::{DataKey, NONCE_LEN, TAG_LEN};
use rand_core::{OsRng, RngCore};

use crate::keyspace::{meta, Ks};
use crate::vault::{self, Unlock, VaultError};
use crate::{open_db, sealed, store_dir, Store, StoreError};

const MAGIC: &[u8; 8] = b"DUETBAK\x01";
const HEADER_LEN: usize = 8 + 12 + 16 + 16;
/// Where the header keeps argon2's salt and the nonces' prefix.
const SALT: std::ops::Range<usize> = 20..36;
const NONCE_PREFIX: std::ops::Range<usize> = 36..52;
/// How the backup file is named in an error (the node knows its path; the store does not).
const THE_BACKUP: &str = "the backup";
/// The largest record: a value of the store (events and message blocks are far smaller) or a
/// piece of an attachment file ([`FILE_PIECE`]).
const MAX_RECORD: usize = 16 << 20;
/// How much of an attachment file goes in one record.
const FILE_PIECE: usize = 1 << 20;
/// The trees a backup holds besides the store's own ([`Ks::ALL`]): the blob store's.
const BLOB_TREES: [&str; 3] = ["blob_meta", "blob_chunks", "blob_wants"];
/// The folder under the data folder where attachment files live.
const BLOBS: &str = "blobs";

const ENTRY: u8 = 1;
const FILE_PART: u8 = 2;
const END: u8 = 3;

/// Why a backup could not be written or restored, in words for the person.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("that passphrase does not open this backup (or the file is not a Duet backup)")]
    WrongPassphrase,
    #[error("this is not a Duet backup file")]
    NotABackup,
    #[error("this backup is damaged ({0}); nothing was restored")]
    Damaged(String),
    #[error("this backup was made by a newer version of Duet; please update Duet to restore it")]
    Newer,
    #[error("{0} already holds Duet data; restore into a new, empty folder")]
    NotEmpty(PathBuf),
    #[error("choose a backup passphrase of at least {} characters", vault::MIN_PASSPHRASE)]
    WeakPassphrase,
    #[error("cannot read or write {path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// What a backup holds (or a restore brought back).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackupCounts {
    /// Values of the store.
    pub values: u64,
    /// Attachment files.
    pub files: u64,
    /// Bytes of attachment files.
    pub file_bytes: u64,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> BackupError + '_ {
    move |e| BackupError::Io { path: path.to_path_buf(), reason: e.to_string() }
}

fn damaged(why: impl Into<String>) -> BackupError {
    BackupError::Damaged(why.into())
}

/// Whether `name` is an attachment file's name (`<64 hex>.sealed`): nothing else is written
/// from a backup, so a crafted name cannot reach outside `blobs/`.
fn is_blob_file(name: &str) -> bool {
    name.strip_suffix(".sealed")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

fn key_of(passphrase: &str, salt: &[u8], settings: (u32, u32, u32)) -> Result<DataKey, BackupError> {
    let stretched = vault::stretch(passphrase, salt, settings).map_err(damaged)?;
    Ok(DataKey::from_bytes(*stretched))
}

/// Seals records into frames.
struct FrameWriter<W: Write> {
    out: W,
    key: DataKey,
    header: [u8; HEADER_LEN],
    frame: u64,
    written: u64,
}

impl<W: Write> FrameWriter<W> {
    fn new(mut out: W, passphrase: &str) -> Result<Self, BackupError> {
        vault::check_passphrase(passphrase).map_err(|_| BackupError::WeakPassphrase)?;
        let mut header = [0u8; HEADER_LEN];
        header[..8].copy_from_slice(MAGIC);
        let (m, t, p) = vault::ARGON2;
        header[8..12].copy_from_slice(&m.to_be_bytes());
        header[12..16].copy_from_slice(&t.to_be_bytes());
        header[16..20].copy_from_slice(&p.to_be_bytes());
        OsRng.fill_bytes(&mut header[SALT.start..]);
        let key = key_of(passphrase, &header[SALT], vault::ARGON2)?;
        out.write_all(&header).map_err(io(Path::new(THE_BACKUP)))?;
        Ok(Self { out, key, header, frame: 0, written: HEADER_LEN as u64 })
    }

    fn record(&mut self, record: &[u8]) -> std::io::Result<()> {
        let nonce = nonce(&self.header, self.frame);
        let mut sealed = Vec::with_capacity(record.len() + TAG_LEN);
        self.key.seal_append(&nonce, &self.header, record, &mut sealed);
        self.out.write_all(&(sealed.len() as u32).to_be_bytes())?;
        self.out.write_all(&sealed)?;
        self.frame += 1;
        self.written += 4 + sealed.len() as u64;
        Ok(())
    }
}

fn nonce(header: &[u8; HEADER_LEN], frame: u64) -> [u8; NONCE_LEN] {
    let mut nonce = [0; NONCE_LEN];
    nonce[..16].copy_from_slice(&header[NONCE_PREFIX]);
    nonce[16..].copy_from_slice(&frame.to_le_bytes());
    nonce
}

fn entry(tree: &str, key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut r = Vec::with_capacity(6 + tree.len() + key.len() + value.len());
    r.push(ENTRY);
    r.push(tree.len() as u8);
    r.extend_from_slice(tree.as_bytes());
    r.extend_from_slice(&(key.len() as u32).to_be_bytes());
    r.extend_from_slice(key);
    r.extend_from_slice(value);
    r
}

impl Store {
    /// Writes a backup of everything this store holds, and the attachment files of
    /// `data_dir`, to `out`, sealed with `passphrase`. Returns what it holds and its size.
    pub fn write_backup(
        &self,
        data_dir: &Path,
        out: impl Write,
        passphrase: &str,
    ) -> Result<(BackupCounts, u64), BackupError> {
        let mut w = FrameWriter::new(out, passphrase)?;
        let mut counts = BackupCounts::default();
        let target = PathBuf::from(THE_BACKUP);
        {
            let _writes_wait = self.lock();
            let own = Ks::ALL.iter().map(|ks| (ks.name(), self.inner.tree(*ks).clone()));
            let blob_trees = BLOB_TREES
                .iter()
                .map(|name| Ok((*name, sealed::Tree::new(self.inner.db.open_tree(name)?, self.inner.sealer.clone()))))
                .collect::<Result<Vec<_>, sled::Error>>()
                .map_err(StoreError::from)?;
            for (name, tree) in own.chain(blob_trees) {
                for item in tree.iter() {
                    let (key, value) = item.map_err(StoreError::from)?;
                    w.record(&entry(name, &key, &value)).map_err(io(&target))?;
                    counts.values += 1;
                }
            }
        }
        let blobs = data_dir.join(BLOBS);
        let mut names: Vec<String> = match fs::read_dir(&blobs) {
            Ok(dir) => dir
                .filter_map(|e| e.ok().and_then(|e| e.file_name().into_string().ok()))
                .filter(|n| is_blob_file(n))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(&blobs)(e)),
        };
        names.sort();
        let mut piece = vec![0u8; FILE_PIECE];
        for name in names {
            let path = blobs.join(&name);
            let mut file = File::open(&path).map_err(io(&path))?;
            let mut head = vec![FILE_PART, name.len() as u8];
            head.extend_from_slice(name.as_bytes());
            loop {
                let n = file.read(&mut piece).map_err(io(&path))?;
                if n == 0 {
                    break;
                }
                let mut record = Vec::with_capacity(head.len() + n);
                record.extend_from_slice(&head);
                record.extend_from_slice(&piece[..n]);
                w.record(&record).map_err(io(&target))?;
                counts.file_bytes += n as u64;
            }
            counts.files += 1;
        }
        let mut end = vec![END];
        for n in [counts.values, counts.files, counts.file_bytes] {
            end.extend_from_slice(&n.to_be_bytes());
        }
        w.record(&end).map_err(io(&target))?;
        w.out.flush().map_err(io(&target))?;
        Ok((counts, w.written))
    }

    /// Whether this store was restored from a backup and its device has not yet seen that it
    /// holds everything it wrote (see the module notes).
    pub fn restored(&self) -> Result<bool, StoreError> {
        Ok(self.inner.tree(Ks::Meta).contains_key(meta::RESTORED)?)
    }

    /// The restored device has caught up with its own log: it may write again.
    pub fn clear_restored(&self) -> Result<(), StoreError> {
        self.inner.tree(Ks::Meta).remove(meta::RESTORED)?;
        Ok(())
    }
}

/// Reads frames and opens their records.
struct FrameReader<R: Read> {
    input: R,
    key: DataKey,
    header: [u8; HEADER_LEN],
    frame: u64,
    offset: u64,
}

impl<R: Read> FrameReader<R> {
    fn new(mut input: R, passphrase: &str) -> Result<Self, BackupError> {
        let mut header = [0u8; HEADER_LEN];
        match read_exact_or_eof(&mut input, &mut header) {
            Ok(true) => {}
            Ok(false) => return Err(BackupError::NotABackup),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Err(BackupError::NotABackup),
            Err(e) => return Err(io(Path::new(THE_BACKUP))(e)),
        }
        if header[..7] != MAGIC[..7] {
            return Err(BackupError::NotABackup);
        }
        if header[7] != MAGIC[7] {
            return Err(BackupError::Newer);
        }
        let n = |at: usize| u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]]);
        let key = key_of(passphrase, &header[SALT], (n(8), n(12), n(16)))?;
        Ok(Self { input, key, header, frame: 0, offset: HEADER_LEN as u64 })
    }

    /// The next record; `None` at the end of the file.
    fn next(&mut self) -> Result<Option<Vec<u8>>, BackupError> {
        let mut len = [0u8; 4];
        match read_exact_or_eof(&mut self.input, &mut len) {
            Ok(true) => {}
            Ok(false) => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(damaged("it is cut short in the middle of a frame"))
            }
            Err(e) => return Err(io(Path::new(THE_BACKUP))(e)),
        }
        let len = u32::from_be_bytes(len) as usize;
        if !(TAG_LEN..=MAX_RECORD + TAG_LEN).contains(&len) {
            return Err(damaged(format!("a frame at byte {} has an impossible length", self.offset)));
        }
        let mut sealed = vec![0u8; len];
        match read_exact_or_eof(&mut self.input, &mut sealed) {
            Ok(true) => {}
            Ok(false) => return Err(damaged("it is cut short in the middle of a frame")),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(damaged("it is cut short in the middle of a frame"))
            }
            Err(e) => return Err(io(Path::new(THE_BACKUP))(e)),
        }
        let opened = self.key.open(&nonce(&self.header, self.frame), &self.header, &sealed).map_err(|_| {
            if self.frame == 0 {
                BackupError::WrongPassphrase
            } else {
                damaged(format!("the frame at byte {} does not open", self.offset))
            }
        })?;
        self.frame += 1;
        self.offset += 4 + len as u64;
        Ok(Some(opened))
    }
}

/// Fills `buf`; `false` if the input ended before the first byte; an error if it ended after.
fn read_exact_or_eof(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Splits `len`-prefixed bytes off the front of `r`.
fn take<'a>(r: &mut &'a [u8], len: usize) -> Result<&'a [u8], BackupError> {
    if r.len() < len {
        return Err(damaged("a record is cut short"));
    }
    let (head, rest) = r.split_at(len);
    *r = rest;
    Ok(head)
}

fn take_u32(r: &mut &[u8]) -> Result<usize, BackupError> {
    let b = take(r, 4)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

fn take_u64(r: &mut &[u8]) -> Result<u64, BackupError> {
    let b = take(r, 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Ok(u64::from_be_bytes(a))
}

fn take_name<'a>(r: &mut &'a [u8]) -> Result<&'a str, BackupError> {
    let len = take(r, 1)?[0] as usize;
    std::str::from_utf8(take(r, len)?).map_err(|_| damaged("a name is not text"))
}

/// Restores a backup into `data_dir`, which must not hold Duet data yet, its data key kept as
/// `unlock` says. Nothing in `data_dir` changes unless the whole backup is restored.
pub fn restore(
    input: impl Read,
    passphrase: &str,
    data_dir: &Path,
    unlock: &Unlock,
) -> Result<BackupCounts, BackupError> {
    if crate::holds_store(data_dir) {
        return Err(BackupError::NotEmpty(data_dir.to_path_buf()));
    }
    let name = data_dir.file_name().and_then(|n| n.to_str()).unwrap_or("duet");
    let parent = data_dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let staging = parent.join(format!(".{name}.restoring"));
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    let result = restore_into(input, passphrase, &staging, unlock).and_then(|counts| {
        move_into_place(&staging, data_dir)?;
        Ok(counts)
    });
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

fn holds_anything(dir: &Path) -> Result<bool, BackupError> {
    match fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_some()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io(dir)(e)),
    }
}

fn restore_into(
    input: impl Read,
    passphrase: &str,
    staging: &Path,
    unlock: &Unlock,
) -> Result<BackupCounts, BackupError> {
    let mut frames = FrameReader::new(input, passphrase)?;
    private_dir(staging)?;
    let key = vault::unlock(staging, unlock)?;
    let counts = {
        let db = open_db(&store_dir(staging))?;
        let sealer = std::sync::Arc::new(sealed::Sealer::new(key.clone()));
        let mut trees: std::collections::HashMap<String, sealed::Tree> = Default::default();
        let known = |name: &str| Ks::ALL.iter().any(|ks| ks.name() == name) || BLOB_TREES.contains(&name);
        let blobs = staging.join(BLOBS);
        fs::create_dir_all(&blobs).map_err(io(&blobs))?;
        let mut open_file: Option<(String, File)> = None;
        let mut counts = BackupCounts::default();
        let mut ended = None;
        while let Some(record) = frames.next()? {
            if ended.is_some() {
                return Err(damaged("something follows its end"));
            }
            let mut r = record.as_slice();
            match take(&mut r, 1)?[0] {
                ENTRY => {
                    let tree = take_name(&mut r)?;
                    if !known(tree) {
                        return Err(BackupError::Newer);
                    }
                    let len = take_u32(&mut r)?;
                    let k = take(&mut r, len)?;
                    let t = match trees.get(tree) {
                        Some(t) => t,
                        None => {
                            let t = sealed::Tree::new(db.open_tree(tree).map_err(StoreError::from)?, sealer.clone());
                            trees.entry(tree.to_owned()).or_insert(t)
                        }
                    };
                    t.insert(k, r).map_err(StoreError::from)?;
                    counts.values += 1;
                }
                FILE_PART => {
                    let name = take_name(&mut r)?;
                    if !is_blob_file(name) {
                        return Err(damaged(format!("it names a file {name:?} that is no attachment")));
                    }
                    if open_file.as_ref().is_none_or(|(n, _)| n != name) {
                        let path = blobs.join(name);
                        if path.exists() {
                            return Err(damaged(format!("the attachment file {name} comes twice")));
                        }
                        let file = File::create(&path).map_err(io(&path))?;
                        if let Some((_, done)) = open_file.replace((name.to_owned(), file)) {
                            done.sync_all().map_err(io(&blobs))?;
                        }
                        counts.files += 1;
                    }
                    if let Some((_, file)) = open_file.as_mut() {
                        file.write_all(r).map_err(io(&blobs))?;
                    }
                    counts.file_bytes += r.len() as u64;
                }
                END => {
                    let told = BackupCounts {
                        values: take_u64(&mut r)?,
                        files: take_u64(&mut r)?,
                        file_bytes: take_u64(&mut r)?,
                    };
                    if told != counts {
                        return Err(damaged("it holds less than it says"));
                    }
                    ended = Some(told);
                }
                _ => return Err(BackupError::Newer),
            }
        }
        let Some(counts) = ended else { return Err(damaged("it is cut short: its end is missing")) };
        if let Some((_, file)) = open_file {
            file.sync_all().map_err(io(&blobs))?;
        }
        sealed::Tree::new(db.open_tree(Ks::Meta.name()).map_err(StoreError::from)?, sealer.clone())
            .insert(meta::RESTORED, [])
            .map_err(StoreError::from)?;
        db.flush().map_err(StoreError::from)?;
        counts
    };
    // Opened once as a store: a backup of a newer format, or one whose values do not fold,
    // fails here, before anything is moved into place.
    let store = Store::open(&store_dir(staging), &key)?;
    if store.identity()?.is_none() {
        return Err(damaged("it holds no identity"));
    }
    store.flush()?;
    Ok(counts)
}

fn private_dir(dir: &Path) -> Result<(), BackupError> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io(dir))
}

/// Moves what `staging` holds into `data_dir`: one rename when `data_dir` is missing or
/// empty, else entry by entry (the key file last, so a folder with a key holds its store).
fn move_into_place(staging: &Path, data_dir: &Path) -> Result<(), BackupError> {
    if !data_dir.exists() || !holds_anything(data_dir)? {
        if data_dir.exists() {
            fs::remove_dir(data_dir).map_err(io(data_dir))?;
        }
        fs::rename(staging, data_dir).map_err(io(data_dir))?;
    } else {
        let mut entries: Vec<PathBuf> =
            fs::read_dir(staging).map_err(io(staging))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        let key_file = vault::path(staging);
        entries.sort_by_key(|p| *p == key_file);
        for from in entries {
            let Some(name) = from.file_name() else { continue };
            let to = data_dir.join(name);
            if name == BLOBS && to.exists() {
                for blob in fs::read_dir(&from).map_err(io(&from))?.filter_map(|e| e.ok()) {
                    let to = to.join(blob.file_name());
                    fs::rename(blob.path(), &to).map_err(io(&to))?;
                }
                continue;
            }
            fs::rename(&from, &to).map_err(io(&to))?;
        }
        fs::remove_dir_all(staging).map_err(io(staging))?;
    }
    if let Some(parent) = data_dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        File::open(parent).and_then(|d| d.sync_all()).map_err(io(parent))?;
    }
    Ok(())
}

//! The blob store: attachment content, sealed, in files beside the database.
//!
//! **Where.** Sealed chunks live in one file per blob, `<data dir>/blobs/<hash>.sealed`, each
//! chunk at a fixed place ([`duet_blob::sealed_offset`]), so a partial file holds what
//! arrived where it belongs and a chunk is read or served with one positioned read. What
//! is known about blobs lives in three sled trees of the store's database:
//!
//! | tree | key | value |
//! |---|---|---|
//! | `blob_meta` | hash(32) | state(1: 0 partial, 1 complete) · created ms(8) · manifest |
//! | `blob_chunks` | hash(32) · index(4 BE) | empty: the chunk is in the file |
//! | `blob_wants` | hash(32) | size(8): a fetch to resume after a restart |
//!
//! Why files and not sled values: a 100 MiB attachment would pass through sled's log and
//! page cache (and its 256 MiB cache) next to the events, slowing sync and doubling what is
//! written; files give positioned reads and writes and a plain `rename` when an import is
//! done. One sled key per chunk (~6 µs) is nothing beside 256 KiB of data.
//!
//! **Crashes.** A chunk is written to the file and synced to the disk first, and recorded in
//! `blob_chunks` after, so a recorded chunk is in the file even after a power cut; a blob is
//! marked complete only after its file is synced. A chunk is checked before it is served
//! ([`BlobStore::read_sealed_checked`]) and before it is read ([`BlobStore::read_chunk`]);
//! one that fails (damaged on disk) is forgotten, so the fetch asks for it again.
//!
//! **Nothing decrypted on disk.** Content is read into memory ([`BlobStore::read`]) or
//! written where the person asks ([`BlobStore::export_to`]); no decrypted copy is kept under
//! the data folder (an older version kept some in `blobs/open`, removed when the store opens).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use duet_blob::{
    chunk_count, chunk_len, open_chunk, seal_chunk, sealed_len, sealed_offset, Bitmap, BlobError, Manifest,
    ManifestBuilder, CHUNK_SIZE,
};
use duet_crypto::SpaceKey;
use duet_model::{Blob, BlobHash, Timestamp, MAX_ATTACHMENT_SIZE};
use rand_core::OsRng;
use thiserror::Error;

const COMPLETE: u8 = 1;
const PARTIAL: u8 = 0;

/// Why a blob operation failed. The `Display` text is for people.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BlobStoreError {
    #[error("the local database could not be read or written: {0}")]
    Sled(#[from] sled::Error),
    #[error("cannot read {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("cannot write {path}: {reason}")]
    Unwritable { path: PathBuf, reason: String },
    #[error("\"{name}\" is {size} bytes, over the {max}-byte limit for attachments")]
    TooLarge { name: String, size: u64, max: u64 },
    #[error("\"{path}\" changed while it was being read; try again")]
    Changed { path: PathBuf },
    #[error("{0}")]
    Blob(#[from] BlobError),
    #[error("this device does not hold all of the attachment yet")]
    Incomplete,
    #[error("the attachment is not on this device")]
    Unknown,
    #[error("the local copy of the attachment is damaged (chunk {index}); it will be fetched again")]
    Damaged { index: u32 },
}

/// A blob as the store records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRecord {
    pub hash: BlobHash,
    pub complete: bool,
    pub created_at: Timestamp,
    pub manifest: Manifest,
}

/// The blobs of one device. Cheap to clone.
#[derive(Clone)]
pub struct BlobStore {
    meta: crate::sealed::Tree,
    chunks: crate::sealed::Tree,
    wants: crate::sealed::Tree,
    dir: PathBuf,
    /// Chunks written to their file but not yet synced and recorded, per blob.
    pending: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<BlobHash, Vec<u32>>>>,
}

/// Written chunks are synced to the disk and recorded as held this many at a time (4 MiB):
/// one sync per chunk made a 100 MiB fetch four times slower (0.27 s → 1.07 s). A fetch that
/// stops between two syncs fetches those chunks again later.
pub const CHUNKS_PER_SYNC: usize = 16;

fn chunk_key(hash: &BlobHash, index: u32) -> [u8; 36] {
    let mut k = [0u8; 36];
    k[..32].copy_from_slice(&hash.0);
    k[32..].copy_from_slice(&index.to_be_bytes());
    k
}

fn unreadable(path: &Path, e: impl std::fmt::Display) -> BlobStoreError {
    BlobStoreError::Unreadable { path: path.to_path_buf(), reason: e.to_string() }
}

/// Writes `dest` whole or not at all: `write` fills a temporary file beside it, which is synced
/// and renamed over `dest`; on any failure the temporary file is removed. `write` fails in the
/// caller's error type, which the file's own failures convert into.
pub fn write_whole<T, E: From<BlobStoreError>>(
    dest: &Path,
    write: impl FnOnce(&mut File) -> Result<T, E>,
) -> Result<T, E> {
    let tmp = dest.with_extension(format!("duet-{}.part", std::process::id()));
    let result = (|| {
        let mut file = File::create(&tmp).map_err(|e| unwritable(&tmp, e))?;
        let out = write(&mut file)?;
        file.sync_all().map_err(|e| unwritable(&tmp, e))?;
        fs::rename(&tmp, dest).map_err(|e| unwritable(dest, e))?;
        Ok(out)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn unwritable(path: &Path, e: impl std::fmt::Display) -> BlobStoreError {
    BlobStoreError::Unwritable { path: path.to_path_buf(), reason: e.to_string() }
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

impl BlobStore {
    pub(crate) fn open(
        db: &sled::Db,
        sealer: &std::sync::Arc<crate::sealed::Sealer>,
        dir: &Path,
    ) -> Result<Self, BlobStoreError> {
        fs::create_dir_all(dir).map_err(|e| unwritable(dir, e))?;
        // Decrypted copies an older version kept for the app: not kept any more.
        let _ = fs::remove_dir_all(dir.join("open"));
        let tree = |name: &str| Ok::<_, sled::Error>(crate::sealed::Tree::new(db.open_tree(name)?, sealer.clone()));
        Ok(Self {
            meta: tree("blob_meta")?,
            chunks: tree("blob_chunks")?,
            wants: tree("blob_wants")?,
            dir: dir.to_path_buf(),
            pending: Default::default(),
        })
    }

    /// The file of a blob's sealed chunks.
    fn file_path(&self, hash: &BlobHash) -> PathBuf {
        self.dir.join(format!("{hash}.sealed"))
    }

    /// Imports a file: hashes it, seals it chunk by chunk into the store and returns its
    /// record. Refuses a file over `max_size` before reading it. Reads the file twice (the
    /// hash must be known to seal); content that changes in between is refused.
    pub fn import_file(
        &self,
        key: &SpaceKey,
        path: &Path,
        max_size: u64,
        now: Timestamp,
    ) -> Result<BlobRecord, BlobStoreError> {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let meta = fs::metadata(path).map_err(|e| unreadable(path, e))?;
        if !meta.is_file() {
            return Err(unreadable(path, "it is not a file"));
        }
        let max = max_size.min(MAX_ATTACHMENT_SIZE);
        if meta.len() > max {
            return Err(BlobStoreError::TooLarge { name, size: meta.len(), max });
        }
        let size = meta.len();
        let open = || File::open(path).map_err(|e| unreadable(path, e));
        let mut buf = vec![0u8; CHUNK_SIZE as usize];
        // Pass 1: the manifest (and so the hash).
        let mut file = open()?;
        let mut builder = ManifestBuilder::new(size);
        for index in 0..chunk_count(size) {
            let want = chunk_len(size, index) as usize;
            let got = read_full(&mut file, &mut buf[..want]).map_err(|e| unreadable(path, e))?;
            builder.push(&buf[..got]);
        }
        let extra = read_full(&mut file, &mut buf[..1]).map_err(|e| unreadable(path, e))?;
        let manifest = match builder.finish() {
            Some(m) if extra == 0 => m,
            _ => return Err(BlobStoreError::Changed { path: path.to_path_buf() }),
        };
        // Pass 2: seal what is read, checking it is what was hashed.
        let mut file = open()?;
        let hash = manifest.hash();
        self.import_with(key, &manifest, now, |index, out| {
            let want = chunk_len(size, index) as usize;
            let got = read_full(&mut file, &mut out[..want]).map_err(|e| unreadable(path, e))?;
            if manifest.check_chunk(index, &out[..got]).is_err() {
                return Err(BlobStoreError::Changed { path: path.to_path_buf() });
            }
            Ok(got)
        })?;
        self.record(&hash)?.ok_or(BlobStoreError::Unknown)
    }

    /// Imports content held in memory (a thumbnail, a voice message).
    pub fn import_bytes(&self, key: &SpaceKey, content: &[u8], now: Timestamp) -> Result<BlobRecord, BlobStoreError> {
        let manifest = Manifest::of(content);
        let hash = manifest.hash();
        self.import_with(key, &manifest, now, |index, out| {
            let start = (index as u64 * CHUNK_SIZE) as usize;
            let piece = &content[start..start + chunk_len(manifest.size(), index) as usize];
            out[..piece.len()].copy_from_slice(piece);
            Ok(piece.len())
        })?;
        self.record(&hash)?.ok_or(BlobStoreError::Unknown)
    }

    fn import_with(
        &self,
        key: &SpaceKey,
        manifest: &Manifest,
        now: Timestamp,
        mut read: impl FnMut(u32, &mut [u8]) -> Result<usize, BlobStoreError>,
    ) -> Result<(), BlobStoreError> {
        let hash = manifest.hash();
        if self.record(&hash)?.is_some_and(|r| r.complete) {
            return Ok(()); // the same content is already here
        }
        let tmp = self.dir.join(format!("import-{hash}-{}.tmp", std::process::id()));
        let result = (|| {
            let mut out = File::create(&tmp).map_err(|e| unwritable(&tmp, e))?;
            let mut buf = vec![0u8; CHUNK_SIZE as usize];
            for index in 0..manifest.chunks() {
                let got = read(index, &mut buf)?;
                let sealed = seal_chunk(key, &hash, index, &buf[..got], &mut OsRng);
                out.write_all(&sealed).map_err(|e| unwritable(&tmp, e))?;
                // Chunks sit at fixed places: pad all but the last to the full sealed size.
                let pad = sealed_len(CHUNK_SIZE) - sealed.len() as u64;
                if index + 1 < manifest.chunks() && pad > 0 {
                    out.write_all(&vec![0; pad as usize]).map_err(|e| unwritable(&tmp, e))?;
                }
            }
            out.sync_all().map_err(|e| unwritable(&tmp, e))?;
            let path = self.file_path(&hash);
            fs::rename(&tmp, &path).map_err(|e| unwritable(&path, e))?;
            let mut batch = crate::sealed::Batch::default();
            for index in 0..manifest.chunks() {
                batch.insert(&chunk_key(&hash, index)[..], &[][..]);
            }
            self.chunks.apply_batch(batch)?;
            self.meta.insert(hash.0, encode_record(COMPLETE, now, manifest))?;
            self.meta.flush()?;
            Ok(())
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// What is recorded about a blob.
    pub fn record(&self, hash: &BlobHash) -> Result<Option<BlobRecord>, BlobStoreError> {
        let Some(v) = self.meta.get(hash.0)? else { return Ok(None) };
        decode_record(hash, &v).map(Some)
    }

    /// A blob's size and how much of it is here.
    pub fn status(&self, hash: &BlobHash) -> Result<Option<Blob>, BlobStoreError> {
        let Some(r) = self.record(hash)? else { return Ok(None) };
        let have = self.have(hash, &r.manifest)?;
        let bytes = (0..have.len()).filter(|i| have.get(*i)).map(|i| chunk_len(r.manifest.size(), i)).sum();
        Ok(Some(Blob { hash: *hash, size: r.manifest.size(), have: bytes }))
    }

    pub fn is_complete(&self, hash: &BlobHash) -> Result<bool, BlobStoreError> {
        Ok(self.record(hash)?.is_some_and(|r| r.complete))
    }

    /// The chunks held.
    pub fn have(&self, hash: &BlobHash, manifest: &Manifest) -> Result<Bitmap, BlobStoreError> {
        let mut have = Bitmap::empty(manifest.chunks());
        for item in self.chunks.scan_prefix(hash.0) {
            let (k, _) = item?;
            if let Some(i) = k.get(32..36).and_then(|b| b.try_into().ok()).map(u32::from_be_bytes) {
                have.set(i);
            }
        }
        Ok(have)
    }

    /// Records the (checked) manifest of a blob being fetched.
    pub fn begin(&self, manifest: &Manifest, now: Timestamp) -> Result<BlobRecord, BlobStoreError> {
        let hash = manifest.hash();
        if let Some(r) = self.record(&hash)? {
            return Ok(r);
        }
        let path = self.file_path(&hash);
        OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(|e| unwritable(&path, e))?;
        self.meta.insert(hash.0, encode_record(PARTIAL, now, manifest))?;
        Ok(BlobRecord { hash, complete: false, created_at: now, manifest: manifest.clone() })
    }

    /// Stores a sealed chunk the caller has checked. It is on the disk (synced) before it is
    /// recorded as held, so after a power cut a held chunk is a chunk that is there; the sync
    /// and the record happen every [`CHUNKS_PER_SYNC`] chunks, and for the rest in
    /// [`BlobStore::finish`] or [`BlobStore::commit_chunks`].
    pub fn store_chunk(&self, hash: &BlobHash, index: u32, sealed: &[u8]) -> Result<(), BlobStoreError> {
        let path = self.file_path(hash);
        let file = OpenOptions::new().write(true).open(&path).map_err(|e| unwritable(&path, e))?;
        file.write_all_at(sealed, sealed_offset(index)).map_err(|e| unwritable(&path, e))?;
        let due = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let written = pending.entry(*hash).or_default();
            written.push(index);
            written.len() >= CHUNKS_PER_SYNC
        };
        if due {
            self.commit_chunks(hash)?;
        }
        Ok(())
    }

    /// [`BlobStore::commit_chunks`] for every blob with chunks written (at shutdown).
    pub fn commit_all(&self) -> Result<(), BlobStoreError> {
        let hashes: Vec<BlobHash> = self.pending.lock().unwrap_or_else(|e| e.into_inner()).keys().copied().collect();
        hashes.iter().try_for_each(|h| self.commit_chunks(h))
    }

    /// Syncs the chunks of `hash` written so far and records them as held.
    pub fn commit_chunks(&self, hash: &BlobHash) -> Result<(), BlobStoreError> {
        let written = self.pending.lock().unwrap_or_else(|e| e.into_inner()).remove(hash).unwrap_or_default();
        if written.is_empty() {
            return Ok(());
        }
        let path = self.file_path(hash);
        File::open(&path).and_then(|f| f.sync_data()).map_err(|e| unwritable(&path, e))?;
        let mut batch = crate::sealed::Batch::default();
        for index in written {
            batch.insert(&chunk_key(hash, index)[..], &[][..]);
        }
        self.chunks.apply_batch(batch)?;
        Ok(())
    }

    /// Marks a fetched blob complete once every chunk is here (its file synced first).
    pub fn finish(&self, hash: &BlobHash) -> Result<bool, BlobStoreError> {
        self.commit_chunks(hash)?;
        let Some(r) = self.record(hash)? else { return Err(BlobStoreError::Unknown) };
        if r.complete {
            return Ok(true);
        }
        if !self.have(hash, &r.manifest)?.is_full() {
            return Ok(false);
        }
        let path = self.file_path(hash);
        File::open(&path).and_then(|f| f.sync_all()).map_err(|e| unwritable(&path, e))?;
        self.meta.insert(hash.0, encode_record(COMPLETE, r.created_at, &r.manifest))?;
        self.wants.remove(hash.0)?;
        self.meta.flush()?;
        Ok(true)
    }

    /// A sealed chunk as stored, to serve to another device (`None` if not held).
    pub fn read_sealed(
        &self,
        hash: &BlobHash,
        index: u32,
        manifest: &Manifest,
    ) -> Result<Option<Vec<u8>>, BlobStoreError> {
        if index >= manifest.chunks() || !self.chunks.contains_key(chunk_key(hash, index))? {
            return Ok(None);
        }
        let path = self.file_path(hash);
        let file = File::open(&path).map_err(|e| unreadable(&path, e))?;
        let mut buf = vec![0u8; sealed_len(chunk_len(manifest.size(), index)) as usize];
        match file.read_exact_at(&mut buf, sealed_offset(index)) {
            Ok(()) => Ok(Some(buf)),
            Err(_) => {
                // Recorded but not in the file (a power cut): forget it so it is fetched again.
                self.forget_chunk(hash, index)?;
                Ok(None)
            }
        }
    }

    /// A sealed chunk to serve to another device, checked first (it opens with the space key
    /// and matches the manifest): a chunk damaged on this disk is forgotten, to be fetched
    /// again, rather than handed on. `None` if not held (or just forgotten).
    pub fn read_sealed_checked(
        &self,
        key: &SpaceKey,
        record: &BlobRecord,
        index: u32,
    ) -> Result<Option<Vec<u8>>, BlobStoreError> {
        let Some(sealed) = self.read_sealed(&record.hash, index, &record.manifest)? else { return Ok(None) };
        let opened = open_chunk(key, &record.hash, index, &sealed);
        if opened.and_then(|plain| record.manifest.check_chunk(index, &plain)).is_err() {
            self.forget_chunk(&record.hash, index)?;
            return Ok(None);
        }
        Ok(Some(sealed))
    }

    fn forget_chunk(&self, hash: &BlobHash, index: u32) -> Result<(), BlobStoreError> {
        self.chunks.remove(chunk_key(hash, index))?;
        if let Some(r) = self.record(hash)? {
            if r.complete {
                self.meta.insert(hash.0, encode_record(PARTIAL, r.created_at, &r.manifest))?;
            }
        }
        Ok(())
    }

    /// Opens and checks one chunk. A chunk that fails is forgotten (and the blob marked
    /// partial), so it will be fetched again.
    pub fn read_chunk(&self, key: &SpaceKey, record: &BlobRecord, index: u32) -> Result<Vec<u8>, BlobStoreError> {
        let hash = &record.hash;
        let sealed = self.read_sealed(hash, index, &record.manifest)?.ok_or(BlobStoreError::Incomplete)?;
        match open_chunk(key, hash, index, &sealed).and_then(|p| record.manifest.check_chunk(index, &p).map(|_| p)) {
            Ok(plain) => Ok(plain),
            Err(_) => {
                self.forget_chunk(hash, index)?;
                Err(BlobStoreError::Damaged { index })
            }
        }
    }

    /// Writes a complete blob's content to `out`, chunk by chunk.
    pub fn export(&self, key: &SpaceKey, hash: &BlobHash, out: &mut impl Write) -> Result<u64, BlobStoreError> {
        let record = self.record(hash)?.ok_or(BlobStoreError::Unknown)?;
        if !record.complete {
            return Err(BlobStoreError::Incomplete);
        }
        for index in 0..record.manifest.chunks() {
            let plain = self.read_chunk(key, &record, index)?;
            out.write_all(&plain).map_err(|e| unwritable(Path::new("the output"), e))?;
        }
        Ok(record.manifest.size())
    }

    /// A complete blob's content in memory.
    pub fn read(&self, key: &SpaceKey, hash: &BlobHash) -> Result<Vec<u8>, BlobStoreError> {
        let mut out = Vec::new();
        self.export(key, hash, &mut out)?;
        Ok(out)
    }

    /// Copies a complete blob to `dest` (through a temporary file beside it, then renamed).
    pub fn export_to(&self, key: &SpaceKey, hash: &BlobHash, dest: &Path) -> Result<u64, BlobStoreError> {
        write_whole(dest, |file| self.export(key, hash, file))
    }

    /// Remembers to fetch a blob (resumed after a restart until it is complete).
    pub fn want(&self, hash: &BlobHash, size: u64) -> Result<(), BlobStoreError> {
        self.wants.insert(hash.0, size.to_be_bytes())?;
        Ok(())
    }

    /// Blobs to fetch, with their sizes.
    pub fn wants(&self) -> Result<Vec<(BlobHash, u64)>, BlobStoreError> {
        let mut out = Vec::new();
        for item in self.wants.iter() {
            let (k, v) = item?;
            if let (Some(h), Ok(s)) = (BlobHash::from_slice(&k), <[u8; 8]>::try_from(v.as_ref())) {
                out.push((h, u64::from_be_bytes(s)));
            }
        }
        Ok(out)
    }

    /// Whether a fetch of this blob is still wanted.
    pub fn is_wanted(&self, hash: &BlobHash) -> Result<bool, BlobStoreError> {
        Ok(self.wants.contains_key(hash.0)?)
    }

    pub fn unwant(&self, hash: &BlobHash) -> Result<(), BlobStoreError> {
        self.wants.remove(hash.0)?;
        Ok(())
    }

    /// Every blob recorded here.
    pub fn list(&self) -> Result<Vec<BlobRecord>, BlobStoreError> {
        let mut out = Vec::new();
        for item in self.meta.iter() {
            let (k, v) = item?;
            if let Some(h) = BlobHash::from_slice(&k) {
                out.push(decode_record(&h, &v)?);
            }
        }
        Ok(out)
    }

    /// Removes a blob: its record, its chunks and its file.
    pub fn remove(&self, hash: &BlobHash) -> Result<(), BlobStoreError> {
        self.meta.remove(hash.0)?;
        self.wants.remove(hash.0)?;
        let keys: Vec<_> = self.chunks.scan_prefix(hash.0).keys().collect::<Result<_, _>>()?;
        let mut batch = crate::sealed::Batch::default();
        for k in keys {
            batch.remove(k);
        }
        self.chunks.apply_batch(batch)?;
        let _ = fs::remove_file(self.file_path(hash));
        Ok(())
    }
}

/// A file name that stays inside its folder: path separators and leading dots replaced.
pub fn safe_file_name(name: &str) -> String {
    let cleaned: String = name.chars().map(|c| if c == '/' || c == '\\' || c.is_control() { '_' } else { c }).collect();
    let cleaned = cleaned.trim_start_matches('.').trim();
    if cleaned.is_empty() {
        "attachment".into()
    } else {
        cleaned.to_owned()
    }
}

fn encode_record(state: u8, created: Timestamp, manifest: &Manifest) -> Vec<u8> {
    let m = manifest.encode();
    let mut v = Vec::with_capacity(9 + m.len());
    v.push(state);
    v.extend_from_slice(&created.0.to_be_bytes());
    v.extend_from_slice(&m);
    v
}

fn decode_record(hash: &BlobHash, v: &[u8]) -> Result<BlobRecord, BlobStoreError> {
    let (Some(&state), Some(created)) = (v.first(), v.get(1..9)) else {
        return Err(BlobError::MalformedManifest("a short blob record").into());
    };
    let created = u64::from_be_bytes(created.try_into().map_err(|_| BlobError::MalformedManifest("a short record"))?);
    let manifest = Manifest::decode(&v[9..], MAX_ATTACHMENT_SIZE)?;
    Ok(BlobRecord { hash: *hash, complete: state == COMPLETE, created_at: Timestamp(created), manifest })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, BlobStore, SpaceKey) {
        let tmp = tempfile::tempdir().unwrap();
        let db = sled::Config::new().temporary(true).open().unwrap();
        let sealer = std::sync::Arc::new(crate::sealed::Sealer::new(crate::tests::test_key()));
        let blobs = BlobStore::open(&db, &sealer, &tmp.path().join("blobs")).unwrap();
        (tmp, blobs, SpaceKey::from_bytes([3; 32]))
    }

    fn content(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 253) as u8).collect()
    }

    #[test]
    fn a_file_is_imported_sealed_and_read_back() {
        let (tmp, blobs, key) = setup();
        let data = content(2 * CHUNK_SIZE as usize + 1000);
        let path = tmp.path().join("photo.jpg");
        fs::write(&path, &data).unwrap();
        let r = blobs.import_file(&key, &path, MAX_ATTACHMENT_SIZE, Timestamp(5)).unwrap();
        assert_eq!(r.hash.0, *blake3::hash(&data).as_bytes());
        assert!(r.complete);
        assert_eq!(blobs.read(&key, &r.hash).unwrap(), data);
        let sealed = fs::read(blobs.file_path(&r.hash)).unwrap();
        assert!(!sealed.windows(64).any(|w| w == &data[..64]), "nothing is kept in the clear");
        assert_eq!(blobs.status(&r.hash).unwrap().unwrap().have, data.len() as u64);
        blobs.remove(&r.hash).unwrap();
        assert!(blobs.record(&r.hash).unwrap().is_none());
        assert!(!blobs.file_path(&r.hash).exists());
    }

    #[test]
    fn bad_paths_and_big_files_are_refused_in_words() {
        let (tmp, blobs, key) = setup();
        let err = blobs.import_file(&key, &tmp.path().join("nope.txt"), 100, Timestamp(0)).unwrap_err();
        assert!(err.to_string().starts_with("cannot read"), "{err}");
        let err = blobs.import_file(&key, tmp.path(), 100, Timestamp(0)).unwrap_err();
        assert!(err.to_string().contains("not a file"), "{err}");
        let path = tmp.path().join("big.bin");
        fs::write(&path, content(101)).unwrap();
        let err = blobs.import_file(&key, &path, 100, Timestamp(0)).unwrap_err();
        assert!(matches!(err, BlobStoreError::TooLarge { size: 101, max: 100, .. }), "{err}");
        assert!(blobs.list().unwrap().is_empty());
    }

    #[test]
    fn a_fetched_blob_is_assembled_and_a_damaged_chunk_is_forgotten() {
        let (_tmp, source, key) = setup();
        let (_tmp2, sink, _) = setup();
        let data = content(3 * CHUNK_SIZE as usize);
        let r = source.import_bytes(&key, &data, Timestamp(1)).unwrap();
        let m = Manifest::decode_verified(&r.manifest.encode(), &r.hash, MAX_ATTACHMENT_SIZE).unwrap();
        let rec = sink.begin(&m, Timestamp(2)).unwrap();
        for i in [2, 0] {
            let sealed = source.read_sealed(&r.hash, i, &m).unwrap().unwrap();
            sink.store_chunk(&r.hash, i, &sealed).unwrap();
        }
        assert!(!sink.finish(&r.hash).unwrap());
        assert_eq!(sink.have(&r.hash, &m).unwrap().count(), 2);
        assert!(matches!(sink.read(&key, &r.hash), Err(BlobStoreError::Incomplete)));
        let sealed = source.read_sealed(&r.hash, 1, &m).unwrap().unwrap();
        sink.store_chunk(&r.hash, 1, &sealed).unwrap();
        assert!(sink.finish(&r.hash).unwrap());
        assert_eq!(sink.read(&key, &rec.hash).unwrap(), data);

        // Damage chunk 1 on disk: reading notices, forgets it, and the blob is partial again.
        let path = sink.file_path(&r.hash);
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all_at(&[0xAA; 8], sealed_offset(1) + 100).unwrap();
        assert!(matches!(sink.read(&key, &r.hash), Err(BlobStoreError::Damaged { index: 1 })));
        assert!(!sink.is_complete(&r.hash).unwrap());
        assert!(!sink.have(&r.hash, &m).unwrap().get(1));
    }

    #[test]
    fn a_chunk_damaged_on_disk_is_not_served_but_forgotten() {
        let (_tmp, blobs, key) = setup();
        let data = content(2 * CHUNK_SIZE as usize);
        let r = blobs.import_bytes(&key, &data, Timestamp(1)).unwrap();
        assert!(blobs.read_sealed_checked(&key, &r, 0).unwrap().is_some(), "a good chunk is served");
        let file = OpenOptions::new().write(true).open(blobs.file_path(&r.hash)).unwrap();
        file.write_all_at(&[0x55; 4], sealed_offset(0) + 40).unwrap();
        // Unchecked, the damaged bytes would go out; checked, nothing does.
        assert!(blobs.read_sealed(&r.hash, 0, &r.manifest).unwrap().is_some());
        assert!(blobs.read_sealed_checked(&key, &r, 0).unwrap().is_none());
        assert!(!blobs.have(&r.hash, &r.manifest).unwrap().get(0), "forgotten, to be fetched again");
        assert!(!blobs.is_complete(&r.hash).unwrap());
        assert!(blobs.read_sealed_checked(&key, &r, 1).unwrap().is_some(), "the other chunk still serves");
    }
}

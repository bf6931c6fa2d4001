//! Every value the store keeps is sealed with the device's data key before sled sees it, so
//! the files under the data folder read as noise to anyone who copies them.
//!
//! A sealed value is `1 · nonce(24) · ciphertext · tag(16)`: XChaCha20-Poly1305 under the
//! [`DataKey`], with the tree's name and the value's key as associated data, so a value moved
//! under another key or into another tree does not open. Nonces are a random 16-byte prefix
//! drawn when the store opens and a counter after it: unique without asking the system for
//! randomness on every write.
//!
//! **What stays readable**: sled's keys, because they give the order every query walks. They
//! are ids, times and small fixed names (see [`crate::keyspace`]): a copy of the folder shows
//! how many messages there are and when they were written, never what they say, who is named
//! in them, or any key. Events are sealed once more here although their payloads are already
//! sealed with the space key: one rule for every value is easier to check than exceptions.
//!
//! [`Tree`] wraps a `sled::Tree` with the same calls the store uses; [`Batch`] likewise.
//! Transactions seal their values before they start ([`Tree::seal`]).

use std::ops::RangeBounds;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use duet_crypto::{DataKey, NONCE_LEN, TAG_LEN};
use rand_core::{OsRng, RngCore};
use sled::IVec;

/// The first byte of a sealed value: how it is sealed.
const FORMAT: u8 = 1;

/// What sealing adds to a value.
pub(crate) const OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

/// Seals and opens values under one data key.
pub(crate) struct Sealer {
    key: DataKey,
    prefix: [u8; 16],
    counter: AtomicU64,
}

impl Sealer {
    pub(crate) fn new(key: DataKey) -> Self {
        let mut prefix = [0; 16];
        OsRng.fill_bytes(&mut prefix);
        Self { key, prefix, counter: AtomicU64::new(0) }
    }

    fn seal(&self, tree: &[u8], key: &[u8], value: &[u8]) -> Vec<u8> {
        let mut nonce = [0; NONCE_LEN];
        nonce[..16].copy_from_slice(&self.prefix);
        nonce[16..].copy_from_slice(&self.counter.fetch_add(1, Ordering::Relaxed).to_le_bytes());
        let mut out = Vec::with_capacity(OVERHEAD + value.len());
        out.push(FORMAT);
        out.extend_from_slice(&nonce);
        self.key.seal_append(&nonce, &aad(tree, key), value, &mut out);
        out
    }

    fn open(&self, tree: &[u8], key: &[u8], sealed: &[u8]) -> sled::Result<IVec> {
        let damaged = || {
            sled::Error::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "a stored value does not open with this device's data key: the data folder is damaged, \
                 or was written under another key",
            ))
        };
        if sealed.len() < OVERHEAD || sealed[0] != FORMAT {
            return Err(damaged());
        }
        let nonce: &[u8; NONCE_LEN] = sealed[1..1 + NONCE_LEN].try_into().map_err(|_| damaged())?;
        let plain = self.key.open(nonce, &aad(tree, key), &sealed[1 + NONCE_LEN..]).map_err(|_| damaged())?;
        Ok(IVec::from(plain))
    }
}

fn aad(tree: &[u8], key: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(tree.len() + 1 + key.len());
    aad.extend_from_slice(tree);
    aad.push(0);
    aad.extend_from_slice(key);
    aad
}

/// A sled tree whose values are sealed.
#[derive(Clone)]
pub(crate) struct Tree {
    raw: sled::Tree,
    name: IVec,
    sealer: Arc<Sealer>,
}

impl Tree {
    pub(crate) fn new(raw: sled::Tree, sealer: Arc<Sealer>) -> Self {
        Self { name: raw.name(), raw, sealer }
    }

    /// The sled tree itself (the tests look at what is on disk).
    #[cfg(test)]
    pub(crate) fn raw(&self) -> &sled::Tree {
        &self.raw
    }

    /// `value` sealed as the value of `key` in this tree.
    pub(crate) fn seal(&self, key: &[u8], value: &[u8]) -> Vec<u8> {
        self.sealer.seal(&self.name, key, value)
    }

    fn open(&self, key: &[u8], sealed: &[u8]) -> sled::Result<IVec> {
        self.sealer.open(&self.name, key, sealed)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.raw.len()
    }

    pub(crate) fn get(&self, key: impl AsRef<[u8]>) -> sled::Result<Option<IVec>> {
        let key = key.as_ref();
        self.raw.get(key)?.map(|v| self.open(key, &v)).transpose()
    }

    pub(crate) fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> sled::Result<()> {
        let key = key.as_ref();
        self.raw.insert(key, self.seal(key, value.as_ref()))?;
        Ok(())
    }

    pub(crate) fn remove(&self, key: impl AsRef<[u8]>) -> sled::Result<()> {
        self.raw.remove(key)?;
        Ok(())
    }

    pub(crate) fn contains_key(&self, key: impl AsRef<[u8]>) -> sled::Result<bool> {
        self.raw.contains_key(key)
    }

    pub(crate) fn iter(&self) -> Iter {
        Iter { raw: self.raw.iter(), tree: self.clone() }
    }

    pub(crate) fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> Iter {
        Iter { raw: self.raw.range(range), tree: self.clone() }
    }

    pub(crate) fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> Iter {
        Iter { raw: self.raw.scan_prefix(prefix), tree: self.clone() }
    }

    pub(crate) fn first(&self) -> sled::Result<Option<(IVec, IVec)>> {
        self.iter().next().transpose()
    }

    pub(crate) fn apply_batch(&self, batch: Batch) -> sled::Result<()> {
        let mut raw = sled::Batch::default();
        for (key, value) in batch.ops {
            match value {
                Some(v) => {
                    let sealed = self.seal(&key, &v);
                    raw.insert(key, sealed);
                }
                None => raw.remove(key),
            }
        }
        self.raw.apply_batch(raw)
    }

    /// Writes the whole database to disk now.
    pub(crate) fn flush(&self) -> sled::Result<()> {
        self.raw.flush().map(|_| ())
    }
}

/// Writes to one tree applied together ([`Tree::apply_batch`]), sealed as they are applied.
#[derive(Default)]
pub(crate) struct Batch {
    ops: Vec<(IVec, Option<IVec>)>,
}

impl Batch {
    pub(crate) fn insert(&mut self, key: impl Into<IVec>, value: impl Into<IVec>) {
        self.ops.push((key.into(), Some(value.into())));
    }

    pub(crate) fn remove(&mut self, key: impl Into<IVec>) {
        self.ops.push((key.into(), None));
    }
}

/// Entries of a [`Tree`], opened as they are read.
pub(crate) struct Iter {
    raw: sled::Iter,
    tree: Tree,
}

impl Iter {
    /// Only the keys (nothing to open).
    pub(crate) fn keys(self) -> impl DoubleEndedIterator<Item = sled::Result<IVec>> {
        self.raw.keys()
    }

    fn opened(&self, item: sled::Result<(IVec, IVec)>) -> sled::Result<(IVec, IVec)> {
        let (k, v) = item?;
        let v = self.tree.open(&k, &v)?;
        Ok((k, v))
    }
}

impl Iterator for Iter {
    type Item = sled::Result<(IVec, IVec)>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.raw.next()?;
        Some(self.opened(item))
    }
}

impl DoubleEndedIterator for Iter {
    fn next_back(&mut self) -> Option<Self::Item> {
        let item = self.raw.next_back()?;
        Some(self.opened(item))
    }
}

/// Copies every tree of the unsealed store (an older version's) in `plain` into a new store
/// in `sealed`, sealing each value, and syncs it. Returns how many values it copied. `sealed`
/// must not hold a store yet; the caller swaps the folders once this returns.
pub(crate) fn seal_copy(plain: &std::path::Path, sealed: &std::path::Path, key: &DataKey) -> sled::Result<u64> {
    let from = sled::Config::new().path(plain).open()?;
    let to = sled::Config::new().path(sealed).open()?;
    let sealer = Arc::new(Sealer::new(key.clone()));
    let mut copied = 0;
    for name in from.tree_names() {
        let source = from.open_tree(&name)?;
        if source.is_empty() {
            continue;
        }
        let target = Tree::new(to.open_tree(&name)?, sealer.clone());
        let mut batch = Batch::default();
        let mut in_batch = 0;
        for item in source.iter() {
            let (k, v) = item?;
            batch.insert(k, v);
            in_batch += 1;
            if in_batch == 4096 {
                target.apply_batch(std::mem::take(&mut batch))?;
                copied += in_batch;
                in_batch = 0;
            }
        }
        target.apply_batch(batch)?;
        copied += in_batch;
    }
    to.flush()?;
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(dir: &std::path::Path, key: [u8; 32]) -> Tree {
        let db = sled::Config::new().path(dir).open().unwrap();
        Tree::new(db.open_tree("views").unwrap(), Arc::new(Sealer::new(DataKey::from_bytes(key))))
    }

    #[test]
    fn values_are_sealed_on_disk_and_open_only_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let t = tree(dir.path(), [1; 32]);
        t.insert(b"a", b"a secret word").unwrap();
        t.insert(b"b", b"another").unwrap();
        assert_eq!(t.get(b"a").unwrap().unwrap(), &b"a secret word"[..]);
        let raw = t.raw().get(b"a").unwrap().unwrap();
        assert_eq!(raw.len(), OVERHEAD + b"a secret word".len());
        assert!(!raw.windows(6).any(|w| w == b"secret"));
        // Moved under another key: refused, not read as that key's value.
        t.raw().insert(b"b", raw).unwrap();
        assert!(t.get(b"b").is_err());
        let all: Vec<_> = t.iter().collect();
        assert!(all[0].is_ok() && all[1].is_err());
        // Another key reads nothing.
        drop(t);
        let other = tree(dir.path(), [2; 32]);
        assert!(other.get(b"a").is_err());
    }

    #[test]
    fn nonces_never_repeat_in_one_session() {
        let dir = tempfile::tempdir().unwrap();
        let t = tree(dir.path(), [1; 32]);
        let a = t.seal(b"k", b"same");
        let b = t.seal(b"k", b"same");
        assert_ne!(a, b);
        assert_ne!(a[1..1 + NONCE_LEN], b[1..1 + NONCE_LEN]);
    }

    #[test]
    fn batches_and_ranges_see_the_plain_values() {
        let dir = tempfile::tempdir().unwrap();
        let t = tree(dir.path(), [3; 32]);
        let mut batch = Batch::default();
        for i in 0u8..10 {
            batch.insert(vec![b'x', i], vec![i; 3]);
        }
        batch.remove(vec![b'x', 4]);
        t.apply_batch(batch).unwrap();
        let back: Vec<_> = t.range(vec![b'x', 2]..vec![b'x', 6]).rev().map(|r| r.unwrap().1.to_vec()).collect();
        assert_eq!(back, vec![vec![5; 3], vec![3; 3], vec![2; 3]]);
        assert_eq!(t.scan_prefix(b"x").keys().count(), 9);
        assert_eq!(t.first().unwrap().unwrap().1, &[0u8; 3][..]);
    }
}

//! The store of the couple's blind mailbox (`duet mailbox`): sealed events it cannot open,
//! kept to serve to the couple's devices.
//!
//! Unlike a device's [`crate::Store`], nothing here is sealed again with a data key: every
//! value is an event already sealed with the space key (which the mailbox never holds), a
//! public device certificate, a person id or a count. The one secret is the ticket's
//! registration secret, and once a space is registered it opens nothing else (one space per
//! mailbox, `duet_log::mailbox`). The folder is 0700 like every Duet data folder.
//!
//! | tree | key | value |
//! |---|---|---|
//! | `events` | author(32) · seq(8, big-endian) | the event's body, as signed |
//! | `heads` | author(32) | seq(8) · hash(32) · lamport(8): the author's newest event held |
//! | `held` | device(32) | the version vector that device last said it holds |
//! | `blobs` | mailbox id(32) | chunks(4) · stored at(8) · the sealed manifest (`duet_blob::mailbox`) |
//! | `blob_chunks` | mailbox id(32) · index(4) | the sealed chunk, as the device stores it |
//! | `meta` | `secret`, `space`, `persons`, `certs`, `revoked`, `lamport`, `bytes`, `dropped`, `last_drop` | the registration, removed devices and running totals |

use std::path::Path;

use duet_crypto::{DeviceCertificate, Hash};
use duet_log::{LogHead, Membership, SealedEvent, VersionVector};
use duet_model::{BlobHash, DeviceId, PersonId, SpaceId, Timestamp};
use sled::Transactional;

use crate::StoreError;

const SECRET: &[u8] = b"secret";
const SPACE: &[u8] = b"space";
const PERSONS: &[u8] = b"persons";
const CERTS: &[u8] = b"certs";
const LAMPORT: &[u8] = b"lamport";
const BYTES: &[u8] = b"bytes";
/// Events the quota dropped before every device had them, ever; and when, last.
const DROPPED: &[u8] = b"dropped";
/// Devices removed: device(32) · last seq that counts(8), each.
const REVOKED: &[u8] = b"revoked";
const LAST_DROP: &[u8] = b"last_drop";

/// The mailbox's sled database.
#[derive(Clone)]
pub struct MailboxStore {
    db: sled::Db,
    events: sled::Tree,
    heads: sled::Tree,
    held: sled::Tree,
    meta: sled::Tree,
    blobs: sled::Tree,
    blob_chunks: sled::Tree,
    /// The membership as last read: every sync batch and stream is checked against it, and
    /// reading it checks every certificate's signature. Emptied when people or devices change.
    membership: std::sync::Arc<std::sync::RwLock<Option<Membership>>>,
}

/// What [`MailboxStore::prune`] dropped.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Events every member device held, older than the retention.
    pub delivered: u64,
    /// Events dropped to stay under the quota although some device had not fetched them.
    pub undelivered: u64,
    /// Attachments dropped: older than the retention, or the oldest while over the quota.
    pub blobs: u64,
}

/// A blob kept at a mailbox: its sealed manifest, and a bitmap of the chunks held.
pub type HeldBlob = (Vec<u8>, Vec<u8>);

/// The most chunks a blob kept at a mailbox may have (4 GiB at 256 KiB a chunk).
pub const MAX_BLOB_CHUNKS: u32 = 16_384;

fn event_key(author: &DeviceId, seq: u64) -> Vec<u8> {
    [&author.0[..], &seq.to_be_bytes()].concat()
}

fn io_error(e: std::io::Error) -> StoreError {
    StoreError::Sled(sled::Error::Io(e))
}

fn u32_of(bytes: &[u8]) -> Result<u32, StoreError> {
    Ok(u32::from_be_bytes(bytes.try_into().map_err(|_| StoreError::Corrupt("a mailbox count"))?))
}

fn u64_of(bytes: &[u8]) -> Result<u64, StoreError> {
    Ok(u64::from_be_bytes(bytes.try_into().map_err(|_| StoreError::Corrupt("a mailbox count"))?))
}

impl MailboxStore {
    /// Opens (or creates) the mailbox's store in `dir`, made private to this user.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        {
            use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io_error)?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io_error)?;
        }
        let db = sled::open(dir)?;
        let store = Self {
            events: db.open_tree("events")?,
            heads: db.open_tree("heads")?,
            held: db.open_tree("held")?,
            meta: db.open_tree("meta")?,
            blobs: db.open_tree("blobs")?,
            blob_chunks: db.open_tree("blob_chunks")?,
            membership: Default::default(),
            db,
        };
        if store.meta.get(SECRET)?.is_none() {
            let mut secret = [0u8; 16];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut secret);
            store.meta.insert(SECRET, &secret)?;
            store.db.flush()?;
        }
        Ok(store)
    }

    /// The secret a ticket carries to register a space.
    pub fn secret(&self) -> Result<[u8; 16], StoreError> {
        let v = self.meta.get(SECRET)?.ok_or(StoreError::Corrupt("the mailbox's secret"))?;
        v.as_ref().try_into().map_err(|_| StoreError::Corrupt("the mailbox's secret"))
    }

    /// The space served, once registered.
    pub fn space(&self) -> Result<Option<SpaceId>, StoreError> {
        self.meta
            .get(SPACE)?
            .map(|v| v.as_ref().try_into().map(SpaceId).map_err(|_| StoreError::Corrupt("the mailbox's space")))
            .transpose()
    }

    /// Who may write: the registered people and their certified devices.
    pub fn membership(&self) -> Result<Option<Membership>, StoreError> {
        if let Some(m) = self.membership.read().map_err(|_| StoreError::Corrupt("lock poisoned"))?.as_ref() {
            return Ok(Some(m.clone()));
        }
        let read = self.read_membership()?;
        *self.membership.write().map_err(|_| StoreError::Corrupt("lock poisoned"))? = read.clone();
        Ok(read)
    }

    /// Forgets the membership read, after a change to it.
    fn membership_changed(&self) -> Result<(), StoreError> {
        *self.membership.write().map_err(|_| StoreError::Corrupt("lock poisoned"))? = None;
        Ok(())
    }

    fn read_membership(&self) -> Result<Option<Membership>, StoreError> {
        let Some(space) = self.space()? else { return Ok(None) };
        let persons = self.meta.get(PERSONS)?.unwrap_or_default();
        let persons = persons.chunks_exact(32).filter_map(|c| c.try_into().ok()).map(PersonId);
        let mut membership = Membership::new(space, persons);
        membership.merge_from_peer(&self.certificates()?);
        for (device, last_seq) in self.revocations()? {
            membership.revoke(device, last_seq);
        }
        Ok(Some(membership))
    }

    /// The devices removed, and the last seq of each that counts.
    fn revocations(&self) -> Result<Vec<(DeviceId, u64)>, StoreError> {
        let bytes = self.meta.get(REVOKED)?.unwrap_or_default();
        bytes
            .chunks_exact(40)
            .map(|c| {
                Ok((DeviceId(c[..32].try_into().map_err(|_| StoreError::Corrupt("a removal"))?), u64_of(&c[32..])?))
            })
            .collect()
    }

    /// Takes nothing more of `device` after `last_seq` (a removal a device of its person
    /// signed, checked by the caller). Whether that changed anything.
    pub fn revoke(&self, device: DeviceId, last_seq: u64) -> Result<bool, StoreError> {
        let mut held = self.revocations()?;
        let last_seq = match held.iter().find(|(d, _)| *d == device) {
            Some((_, s)) if *s <= last_seq => return Ok(false),
            _ => last_seq,
        };
        held.retain(|(d, _)| *d != device);
        held.push((device, last_seq));
        let bytes: Vec<u8> = held.iter().flat_map(|(d, s)| [&d.0[..], &s.to_be_bytes()].concat()).collect();
        self.meta.insert(REVOKED, bytes)?;
        self.db.flush()?;
        self.membership_changed()?;
        Ok(true)
    }

    fn certificates(&self) -> Result<Vec<DeviceCertificate>, StoreError> {
        let Some(bytes) = self.meta.get(CERTS)? else { return Ok(Vec::new()) };
        let list: Vec<Vec<u8>> = crate::txn::decode(&bytes)?;
        Ok(list.iter().filter_map(|c| DeviceCertificate::decode(c).ok()).collect())
    }

    /// Serves `space` from now on, with these people (a registration; the space never changes).
    pub fn register(&self, space: SpaceId, persons: &[PersonId]) -> Result<(), StoreError> {
        if self.space()?.is_none() {
            self.meta.insert(SPACE, &space.0)?;
            self.membership_changed()?;
        }
        self.add_persons(persons)?;
        Ok(())
    }

    /// Adds people (at most [`duet_log::membership::MAX_PEOPLE`] in all: a couple).
    pub fn add_persons(&self, persons: &[PersonId]) -> Result<bool, StoreError> {
        let mut held: Vec<[u8; 32]> =
            self.meta.get(PERSONS)?.unwrap_or_default().chunks_exact(32).filter_map(|c| c.try_into().ok()).collect();
        let before = held.len();
        for p in persons {
            if !held.contains(&p.0) && held.len() < duet_log::membership::MAX_PEOPLE {
                held.push(p.0);
            }
        }
        if held.len() == before {
            return Ok(false);
        }
        self.meta.insert(PERSONS, held.concat())?;
        self.membership_changed()?;
        self.db.flush()?;
        Ok(true)
    }

    /// Keeps the valid certificates of member people among `certificates`; whether any was new.
    pub fn merge_certificates(&self, certificates: &[DeviceCertificate]) -> Result<bool, StoreError> {
        let Some(mut membership) = self.membership()? else { return Ok(false) };
        if !membership.merge_from_peer(certificates) {
            return Ok(false);
        }
        let list: Vec<Vec<u8>> = membership.devices().map(|(_, d)| d.certificate.encode()).collect();
        self.meta.insert(CERTS, crate::txn::encode(&list))?;
        self.membership_changed()?;
        self.db.flush()?;
        Ok(true)
    }

    /// The author's newest event held.
    pub fn head(&self, author: &DeviceId) -> Result<LogHead, StoreError> {
        self.heads.get(author.0)?.map_or(Ok(LogHead::EMPTY), |v| crate::decode_head(&v))
    }

    /// The hash of a held event (to tell a duplicate from a fork), computed from its bytes.
    pub fn event_hash(&self, space: &SpaceId, author: &DeviceId, seq: u64) -> Result<Option<Hash>, StoreError> {
        let Some(body) = self.events.get(event_key(author, seq))? else { return Ok(None) };
        let event = SealedEvent::decode(*author, seq, body.to_vec()).map_err(|_| StoreError::Corrupt("an event"))?;
        Ok(Some(event.hash(space)))
    }

    /// The highest seq held of each author.
    pub fn version_vector(&self) -> Result<VersionVector, StoreError> {
        let mut vv = VersionVector::new();
        for entry in self.heads.iter() {
            let (k, v) = entry?;
            let author = DeviceId(k.as_ref().try_into().map_err(|_| StoreError::Corrupt("a mailbox author"))?);
            vv.raise(author, crate::decode_head(&v)?.seq);
        }
        Ok(vv)
    }

    /// The highest Lamport clock held.
    pub fn max_lamport(&self) -> Result<u64, StoreError> {
        self.meta.get(LAMPORT)?.map_or(Ok(0), |v| u64_of(&v))
    }

    /// Bytes of event bodies held.
    pub fn bytes_held(&self) -> Result<u64, StoreError> {
        self.meta.get(BYTES)?.map_or(Ok(0), |v| u64_of(&v))
    }

    /// Stores checked events (each with its hash), in order, with the heads and totals, all
    /// at once and durably: what is acknowledged is on disk.
    pub fn append(&self, events: &[(SealedEvent, Hash)]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        (&self.events, &self.heads, &self.meta)
            .transaction(|(tx_events, tx_heads, tx_meta)| {
                let mut lamport = tx_meta.get(LAMPORT)?.map_or(0, |v| u64_of(&v).unwrap_or(0));
                let mut bytes = tx_meta.get(BYTES)?.map_or(0, |v| u64_of(&v).unwrap_or(0));
                for (event, hash) in events {
                    tx_events.insert(event_key(&event.author(), event.seq()), event.body())?;
                    let head = LogHead { seq: event.seq(), hash: *hash, lamport: event.lamport() };
                    tx_heads.insert(&event.author().0, crate::encode_head(&head))?;
                    lamport = lamport.max(event.lamport());
                    bytes = bytes.saturating_add(event.body().len() as u64);
                }
                tx_meta.insert(LAMPORT, &lamport.to_be_bytes())?;
                tx_meta.insert(BYTES, &bytes.to_be_bytes())?;
                Ok(())
            })
            .map_err(|e: sled::transaction::TransactionError<()>| match e {
                sled::transaction::TransactionError::Storage(e) => StoreError::Sled(e),
                sled::transaction::TransactionError::Abort(()) => StoreError::Corrupt("a mailbox append"),
            })?;
        self.db.flush()?;
        Ok(())
    }

    /// Up to `n` consecutive events of `author` from `first`; empty if `first` is not held
    /// (never held, or dropped).
    pub fn events_from(&self, author: &DeviceId, first: u64, n: usize) -> Result<Vec<SealedEvent>, StoreError> {
        let mut out = Vec::new();
        for entry in self.events.range(event_key(author, first)..event_key(author, u64::MAX)).take(n) {
            let (k, v) = entry?;
            let seq = u64_of(&k[32..])?;
            if seq != first + out.len() as u64 {
                break;
            }
            out.push(SealedEvent::decode(*author, seq, v.to_vec()).map_err(|_| StoreError::Corrupt("an event"))?);
        }
        Ok(out)
    }

    /// Records what a member device says it holds (its sync `Hello`).
    pub fn set_held_by(&self, device: &DeviceId, held: &VersionVector) -> Result<(), StoreError> {
        self.held.insert(device.0, held.encode())?;
        Ok(())
    }

    /// Keeps a blob of `chunks` chunks under its mailbox id, with its sealed manifest; what of
    /// it is held (a bitmap, `duet_blob::Bitmap`). `None` when refused: a chunk count out of
    /// bounds, a manifest longer than such a blob's, or the id already kept with another count.
    pub fn put_blob(
        &self,
        id: &BlobHash,
        chunks: u32,
        manifest: &[u8],
        now: Timestamp,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        // A manifest is 8 bytes of size and 32 per chunk, sealed (40 more).
        let longest = 8 + 32 * chunks as usize + 64;
        if !(1..=MAX_BLOB_CHUNKS).contains(&chunks) || manifest.len() > longest {
            return Ok(None);
        }
        match self.blobs.get(id.0)? {
            Some(v) if u32_of(&v[..4])? != chunks => return Ok(None),
            Some(_) => {}
            None => {
                let value = [&chunks.to_be_bytes()[..], &now.0.to_be_bytes(), manifest].concat();
                self.blobs.insert(id.0, value)?;
                self.add_bytes(manifest.len() as i64 + 44)?;
            }
        }
        self.blob(id).map(|held| held.map(|(_, have)| have))
    }

    /// Keeps chunk `index` of a blob put before. Whether it was taken (not: no such blob, an
    /// index past its end, or more than a sealed chunk).
    pub fn put_chunk(&self, id: &BlobHash, index: u32, sealed: &[u8]) -> Result<bool, StoreError> {
        let Some(v) = self.blobs.get(id.0)? else { return Ok(false) };
        if index >= u32_of(&v[..4])? || sealed.len() as u64 > duet_blob::sealed_len(duet_blob::CHUNK_SIZE) {
            return Ok(false);
        }
        let key = [&id.0[..], &index.to_be_bytes()].concat();
        let old = self.blob_chunks.insert(key, sealed)?;
        self.add_bytes(sealed.len() as i64 - old.map_or(0, |o| o.len() as i64))?;
        Ok(true)
    }

    /// A blob's sealed manifest and what of it is held (a bitmap).
    pub fn blob(&self, id: &BlobHash) -> Result<Option<HeldBlob>, StoreError> {
        let Some(v) = self.blobs.get(id.0)? else { return Ok(None) };
        let chunks = u32_of(v.get(..4).ok_or(StoreError::Corrupt("a mailbox blob"))?)?;
        let manifest = v.get(12..).ok_or(StoreError::Corrupt("a mailbox blob"))?.to_vec();
        let mut have = duet_blob::Bitmap::empty(chunks);
        for entry in self.blob_chunks.scan_prefix(id.0).keys() {
            let key = entry?;
            let index = u32_of(&key[32..])?;
            if index < chunks {
                have.set(index);
            }
        }
        Ok(Some((manifest, have.as_bytes().to_vec())))
    }

    /// Chunk `index` of a blob, sealed.
    pub fn blob_chunk(&self, id: &BlobHash, index: u32) -> Result<Option<Vec<u8>>, StoreError> {
        let key = [&id.0[..], &index.to_be_bytes()].concat();
        Ok(self.blob_chunks.get(key)?.map(|v| v.to_vec()))
    }

    /// How many blobs are kept.
    pub fn blob_count(&self) -> usize {
        self.blobs.len()
    }

    /// How many of their chunks are kept.
    pub fn blob_chunk_count(&self) -> usize {
        self.blob_chunks.len()
    }

    fn drop_blob(&self, id: &[u8]) -> Result<(), StoreError> {
        let mut freed = 0i64;
        if let Some(v) = self.blobs.remove(id)? {
            freed += v.len() as i64 - 12 + 44;
        }
        for entry in self.blob_chunks.scan_prefix(id) {
            let (k, v) = entry?;
            self.blob_chunks.remove(k)?;
            freed += v.len() as i64;
        }
        self.add_bytes(-freed)
    }

    fn add_bytes(&self, delta: i64) -> Result<(), StoreError> {
        let bytes = self.bytes_held()?.saturating_add_signed(delta);
        self.meta.insert(BYTES, &bytes.to_be_bytes())?;
        Ok(())
    }

    /// Drops what is no longer needed: events that every member device holds and that are
    /// older than `retention_ms`; then, while more than `quota_bytes` are held, the oldest
    /// events whoever lacks them (counted apart, so the devices can be told).
    pub fn prune(&self, now: Timestamp, retention_ms: u64, quota_bytes: u64) -> Result<Pruned, StoreError> {
        let mut pruned = Pruned::default();
        let Some(membership) = self.membership()? else { return Ok(pruned) };
        let mut everyone: Option<VersionVector> = None;
        for (device, _) in membership.devices().filter(|(_, d)| d.last_seq.is_none()) {
            let held = match self.held.get(device.0)? {
                Some(v) => VersionVector::decode(&v).map_err(|_| StoreError::Corrupt("a held version vector"))?,
                None => VersionVector::new(),
            };
            everyone = Some(match everyone {
                None => held,
                Some(so_far) => so_far.iter().map(|(a, s)| (*a, (*s).min(held.get(a)))).collect(),
            });
        }
        let everyone = everyone.unwrap_or_default();
        let cutoff = now.0.saturating_sub(retention_ms);
        // Attachments: after the retention they go (which device fetched one is not known
        // here); over the quota the oldest go first, before any event (a device that lacks
        // one fetches it from a device of the partner's).
        let mut blobs: Vec<(u64, sled::IVec)> = Vec::new();
        for entry in self.blobs.iter() {
            let (id, v) = entry?;
            let at = u64_of(v.get(4..12).ok_or(StoreError::Corrupt("a mailbox blob"))?)?;
            if at < cutoff {
                self.drop_blob(&id)?;
                pruned.blobs += 1;
            } else {
                blobs.push((at, id));
            }
        }
        blobs.sort();
        for (_, id) in blobs {
            if self.bytes_held()? <= quota_bytes {
                break;
            }
            self.drop_blob(&id)?;
            pruned.blobs += 1;
        }
        let mut oldest: Vec<(u64, Vec<u8>, usize, bool)> = Vec::new();
        for entry in self.events.iter() {
            let (k, v) = entry?;
            let author = DeviceId(k[..32].try_into().map_err(|_| StoreError::Corrupt("a mailbox key"))?);
            let seq = u64_of(&k[32..])?;
            let event = SealedEvent::decode(author, seq, v.to_vec()).map_err(|_| StoreError::Corrupt("an event"))?;
            let at = event.timestamp().0;
            let everyone_has_it = seq <= everyone.get(&author);
            if everyone_has_it && at < cutoff {
                self.drop_event(&k, v.len())?;
                pruned.delivered += 1;
            } else {
                oldest.push((at, k.to_vec(), v.len(), everyone_has_it));
            }
        }
        if self.bytes_held()? > quota_bytes {
            oldest.sort();
            for (_, key, len, everyone_has_it) in oldest {
                if self.bytes_held()? <= quota_bytes {
                    break;
                }
                self.drop_event(&key, len)?;
                match everyone_has_it {
                    true => pruned.delivered += 1,
                    false => pruned.undelivered += 1,
                }
            }
        }
        if pruned.undelivered > 0 {
            let (dropped, _) = self.drops()?;
            self.meta.insert(DROPPED, &(dropped + pruned.undelivered).to_be_bytes())?;
            self.meta.insert(LAST_DROP, &now.0.to_be_bytes())?;
        }
        self.db.flush()?;
        Ok(pruned)
    }

    /// Events the quota dropped before every device had them, ever, and when it last did.
    pub fn drops(&self) -> Result<(u64, Option<Timestamp>), StoreError> {
        let dropped = self.meta.get(DROPPED)?.map_or(Ok(0), |v| u64_of(&v))?;
        let last = self.meta.get(LAST_DROP)?.map(|v| u64_of(&v)).transpose()?.map(Timestamp);
        Ok((dropped, last))
    }

    fn drop_event(&self, key: &[u8], len: usize) -> Result<(), StoreError> {
        self.events.remove(key)?;
        let bytes = self.bytes_held()?.saturating_sub(len as u64);
        self.meta.insert(BYTES, &bytes.to_be_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use duet_log::testkit::TestSpace;

    fn t(ms: u64) -> Timestamp {
        Timestamp(1_700_000_000_000 + ms)
    }

    fn stored(space: &TestSpace, events: &[SealedEvent]) -> Vec<(SealedEvent, Hash)> {
        events.iter().map(|e| (e.clone(), e.hash(&space.space))).collect()
    }

    #[test]
    fn events_are_kept_across_a_reopen_and_served_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = TestSpace::new(1, &[1, 1]);
        let events: Vec<SealedEvent> = (0..5).map(|i| s.write(0, TestSpace::text(&format!("m{i}")), t(i))).collect();
        let author = events[0].author();
        {
            let store = MailboxStore::open(dir.path()).unwrap();
            store.register(s.space, &s.membership.persons().copied().collect::<Vec<_>>()).unwrap();
            store.append(&stored(&s, &events)).unwrap();
        }
        let store = MailboxStore::open(dir.path()).unwrap();
        assert_eq!(store.space().unwrap(), Some(s.space));
        assert_eq!(store.version_vector().unwrap().get(&author), 5);
        assert_eq!(store.head(&author).unwrap(), LogHead::after(&events[4], &s.space));
        assert_eq!(store.events_from(&author, 2, 10).unwrap(), events[1..].to_vec());
        assert_eq!(store.event_hash(&s.space, &author, 3).unwrap(), Some(events[2].hash(&s.space)));
        assert_eq!(store.max_lamport().unwrap(), events[4].lamport());
        let secret = store.secret().unwrap();
        drop(store);
        assert_eq!(MailboxStore::open(dir.path()).unwrap().secret().unwrap(), secret, "the ticket stays valid");
    }

    #[test]
    fn only_what_every_device_holds_ages_out_unless_the_quota_forces_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = TestSpace::new(2, &[1, 1]);
        let store = MailboxStore::open(dir.path()).unwrap();
        store.register(s.space, &s.membership.persons().copied().collect::<Vec<_>>()).unwrap();
        let certs: Vec<DeviceCertificate> = s.membership.devices().map(|(_, d)| d.certificate.clone()).collect();
        assert!(store.merge_certificates(&certs).unwrap());
        let events: Vec<SealedEvent> = (0..10).map(|i| s.write(0, TestSpace::text(&format!("m{i}")), t(i))).collect();
        let author = events[0].author();
        store.append(&stored(&s, &events)).unwrap();
        let devices: Vec<DeviceId> = s.membership.devices().map(|(d, _)| *d).collect();

        // One device holds 6, the other 4: only the first 4 may go, and only once old.
        store.set_held_by(&devices[0], &[(author, 6)].into_iter().collect()).unwrap();
        store.set_held_by(&devices[1], &[(author, 4)].into_iter().collect()).unwrap();
        assert_eq!(store.prune(t(100), 1_000, u64::MAX).unwrap(), Pruned::default(), "too young");
        assert_eq!(store.drops().unwrap(), (0, None));
        assert_eq!(store.prune(t(10_000), 1_000, u64::MAX).unwrap(), Pruned { delivered: 4, undelivered: 0, blobs: 0 });
        assert!(store.events_from(&author, 1, 10).unwrap().is_empty(), "dropped events are not served");
        assert_eq!(store.events_from(&author, 5, 10).unwrap().len(), 6);
        assert_eq!(store.version_vector().unwrap().get(&author), 10, "the head stays");

        // Over the quota, the oldest go even though a device lacks them.
        let one = events[9].body().len() as u64;
        let pruned = store.prune(t(10_000), 1_000, 3 * one).unwrap();
        assert_eq!(pruned, Pruned { delivered: 0, undelivered: 3, blobs: 0 });
        assert_eq!(store.events_from(&author, 8, 10).unwrap().len(), 3);
        assert!(store.bytes_held().unwrap() <= 3 * one);
        // Kept, to tell the devices.
        assert_eq!(store.drops().unwrap(), (3, Some(t(10_000))));
        // Events every device holds count as delivered even when the quota takes them.
        for device in &devices {
            store.set_held_by(device, &[(author, 8)].into_iter().collect()).unwrap();
        }
        assert_eq!(store.prune(t(10_000), 1_000, one).unwrap(), Pruned { delivered: 1, undelivered: 1, blobs: 0 });
        assert_eq!(store.drops().unwrap(), (4, Some(t(10_000))));
    }

    #[test]
    fn attachments_are_kept_blind_bounded_and_go_first_when_full() {
        let dir = tempfile::tempdir().unwrap();
        let s = TestSpace::new(3, &[1, 1]);
        let store = MailboxStore::open(dir.path()).unwrap();
        store.register(s.space, &s.membership.persons().copied().collect::<Vec<_>>()).unwrap();
        let certs: Vec<DeviceCertificate> = s.membership.devices().map(|(_, d)| d.certificate.clone()).collect();
        store.merge_certificates(&certs).unwrap();
        let (photo, old) = (BlobHash([1; 32]), BlobHash([2; 32]));

        let have = store.put_blob(&photo, 3, &[7; 100], t(5_000)).unwrap().expect("kept");
        assert!(!duet_blob::Bitmap::from_bytes(&have, 3).unwrap().get(0));
        assert!(store.put_chunk(&photo, 0, &[8; 500]).unwrap());
        assert!(store.put_chunk(&photo, 2, &[9; 300]).unwrap());
        assert!(!store.put_chunk(&photo, 3, &[9; 10]).unwrap(), "past its end");
        assert!(!store.put_chunk(&BlobHash([5; 32]), 0, &[9; 10]).unwrap(), "never put");
        let too_big = vec![0u8; duet_blob::sealed_len(duet_blob::CHUNK_SIZE) as usize + 1];
        assert!(!store.put_chunk(&photo, 1, &too_big).unwrap());
        assert_eq!(store.put_blob(&photo, 4, &[7; 100], t(5_000)).unwrap(), None, "another count");
        assert_eq!(store.put_blob(&old, MAX_BLOB_CHUNKS + 1, &[7; 10], t(5_000)).unwrap(), None);
        assert_eq!(store.put_blob(&old, 1, &[7; 200], t(5_000)).unwrap(), None, "a manifest too long");

        let (manifest, have) = store.blob(&photo).unwrap().unwrap();
        assert_eq!(manifest, vec![7; 100]);
        let have = duet_blob::Bitmap::from_bytes(&have, 3).unwrap();
        assert!(have.get(0) && !have.get(1) && have.get(2));
        assert_eq!(store.blob_chunk(&photo, 2).unwrap(), Some(vec![9; 300]));
        assert_eq!(store.blob_chunk(&photo, 1).unwrap(), None);
        assert_eq!(store.bytes_held().unwrap(), 100 + 44 + 500 + 300);

        // An older blob, then over the quota: the oldest blob goes first.
        store.put_blob(&old, 1, &[6; 50], t(1_000)).unwrap().unwrap();
        store.put_chunk(&old, 0, &[6; 400]).unwrap();
        let pruned = store.prune(t(6_000), 1_000_000, 1_000).unwrap();
        assert_eq!(pruned, Pruned { delivered: 0, undelivered: 0, blobs: 1 });
        assert!(store.blob(&old).unwrap().is_none() && store.blob_chunk(&old, 0).unwrap().is_none());
        assert!(store.blob(&photo).unwrap().is_some());
        assert_eq!(store.bytes_held().unwrap(), 100 + 44 + 500 + 300);
        // Past the retention, it goes too.
        assert_eq!(store.prune(t(2_000_000), 1_000, u64::MAX).unwrap().blobs, 1);
        assert_eq!((store.blob_count(), store.bytes_held().unwrap()), (0, 0));
    }
}

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
//! | `meta` | `secret`, `space`, `persons`, `certs`, `lamport`, `bytes` | the registration and running totals |

use std::path::Path;

use duet_crypto::{DeviceCertificate, Hash};
use duet_log::{LogHead, Membership, SealedEvent, VersionVector};
use duet_model::{DeviceId, PersonId, SpaceId, Timestamp};
use sled::Transactional;

use crate::StoreError;

const SECRET: &[u8] = b"secret";
const SPACE: &[u8] = b"space";
const PERSONS: &[u8] = b"persons";
const CERTS: &[u8] = b"certs";
const LAMPORT: &[u8] = b"lamport";
const BYTES: &[u8] = b"bytes";

/// The mailbox's sled database.
#[derive(Clone)]
pub struct MailboxStore {
    db: sled::Db,
    events: sled::Tree,
    heads: sled::Tree,
    held: sled::Tree,
    meta: sled::Tree,
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
}

fn event_key(author: &DeviceId, seq: u64) -> Vec<u8> {
    [&author.0[..], &seq.to_be_bytes()].concat()
}

fn io_error(e: std::io::Error) -> StoreError {
    StoreError::Sled(sled::Error::Io(e))
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
        Ok(Some(membership))
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
        let mut oldest: Vec<(u64, Vec<u8>, usize)> = Vec::new();
        for entry in self.events.iter() {
            let (k, v) = entry?;
            let author = DeviceId(k[..32].try_into().map_err(|_| StoreError::Corrupt("a mailbox key"))?);
            let seq = u64_of(&k[32..])?;
            let event = SealedEvent::decode(author, seq, v.to_vec()).map_err(|_| StoreError::Corrupt("an event"))?;
            let at = event.timestamp().0;
            if seq <= everyone.get(&author) && at < cutoff {
                self.drop_event(&k, v.len())?;
                pruned.delivered += 1;
            } else {
                oldest.push((at, k.to_vec(), v.len()));
            }
        }
        if self.bytes_held()? > quota_bytes {
            oldest.sort();
            for (_, key, len) in oldest {
                if self.bytes_held()? <= quota_bytes {
                    break;
                }
                self.drop_event(&key, len)?;
                pruned.undelivered += 1;
            }
        }
        self.db.flush()?;
        Ok(pruned)
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
        assert_eq!(store.prune(t(10_000), 1_000, u64::MAX).unwrap(), Pruned { delivered: 4, undelivered: 0 });
        assert!(store.events_from(&author, 1, 10).unwrap().is_empty(), "dropped events are not served");
        assert_eq!(store.events_from(&author, 5, 10).unwrap().len(), 6);
        assert_eq!(store.version_vector().unwrap().get(&author), 10, "the head stays");

        // Over the quota, the oldest go even though a device lacks them.
        let one = events[9].body().len() as u64;
        let pruned = store.prune(t(10_000), 1_000, 3 * one).unwrap();
        assert_eq!(pruned, Pruned { delivered: 0, undelivered: 3 });
        assert_eq!(store.events_from(&author, 8, 10).unwrap().len(), 3);
        assert!(store.bytes_held().unwrap() <= 3 * one);
    }
}

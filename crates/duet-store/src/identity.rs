//! This device's identity and its space: keys, certificate, membership.
//!
//! Secrets are kept in the `keys` tree of the local store. Sealing them with an OS keyring
//! is a later step (the store directory is the user's own, like any chat app's profile).

use duet_crypto::{DeviceCertificate, DeviceKey, PersonKey, SpaceKey};
use duet_log::Membership;
use duet_model::{Avatar, DeviceId, Invite, InviteRecord, InviteState, Person, PersonId, SpaceId};
use serde::{Deserialize, Serialize};

use crate::keyspace::{meta, secret, view, Ks};
use crate::txn::{decode, encode};
use crate::{Store, StoreError};

/// This device's keys. A device that joined as another device of an existing person has no
/// person key (the person key stays on the first device).
pub struct LocalIdentity {
    pub device: DeviceKey,
    pub person: Option<PersonKey>,
    /// The certificate that makes this device a member; `None` until it is issued or received.
    pub certificate: Option<DeviceCertificate>,
    /// The name chosen at `init`, shown until the person's profile events say otherwise.
    pub display_name: String,
}

impl LocalIdentity {
    pub fn device_id(&self) -> DeviceId {
        self.device.id()
    }

    /// The person this device belongs to, once known.
    pub fn person_id(&self) -> Option<PersonId> {
        self.certificate.as_ref().map(|c| c.person).or_else(|| self.person.as_ref().map(|p| p.id()))
    }
}

#[derive(Serialize, Deserialize)]
struct StoredIdentity {
    device: [u8; 32],
    person: Option<[u8; 32]>,
    certificate: Option<Vec<u8>>,
    display_name: String,
}

/// The space this device belongs to.
#[derive(Debug, Clone)]
pub struct SpaceState {
    pub space: SpaceId,
    pub membership: Membership,
}

#[derive(Serialize, Deserialize)]
struct StoredSpace {
    space: SpaceId,
    persons: Vec<PersonId>,
    devices: Vec<(Vec<u8>, Option<u64>)>,
}

impl Store {
    /// Saves this device's keys (replacing any).
    pub fn save_identity(&self, identity: &LocalIdentity) -> Result<(), StoreError> {
        let stored = StoredIdentity {
            device: *identity.device.secret_bytes(),
            person: identity.person.as_ref().map(|p| *p.secret_bytes()),
            certificate: identity.certificate.as_ref().map(|c| c.encode()),
            display_name: identity.display_name.clone(),
        };
        self.inner.tree(Ks::Keys).insert(secret::IDENTITY, encode(&stored))?;
        self.flush()?;
        if let Ok(mut person) = self.inner.person.write() {
            *person = identity.person_id();
        }
        Ok(())
    }

    /// The person this device belongs to, once known: [`Self::identity`]'s, kept once read.
    /// Asked for every event written and every batch stored, and reading the identity derives
    /// its keys (two scalar multiplications) and opens the sealed record: 9% of both nodes'
    /// CPU while messages went back and forth one at a time (`cargo bench -p duet-tests
    /// --bench sync`, part d). A device's person never changes once known; the identity is
    /// written only by [`Self::save_identity`], which keeps the new one.
    pub fn person_id(&self) -> Result<Option<PersonId>, StoreError> {
        if let Some(person) = self.inner.person.read().ok().and_then(|p| *p) {
            return Ok(Some(person));
        }
        let person = self.identity()?.and_then(|i| i.person_id());
        if let (Some(known), Ok(mut cached)) = (person, self.inner.person.write()) {
            *cached = Some(known);
        }
        Ok(person)
    }

    /// This device's keys, if created.
    pub fn identity(&self) -> Result<Option<LocalIdentity>, StoreError> {
        let Some(bytes) = self.inner.tree(Ks::Keys).get(secret::IDENTITY)? else { return Ok(None) };
        let stored: StoredIdentity = decode(&bytes)?;
        let certificate = stored
            .certificate
            .map(|c| DeviceCertificate::decode(&c).map_err(|_| StoreError::Corrupt("the stored device certificate")))
            .transpose()?;
        Ok(Some(LocalIdentity {
            device: DeviceKey::from_secret_bytes(&stored.device),
            person: stored.person.map(|p| PersonKey::from_secret_bytes(&p)),
            certificate,
            display_name: stored.display_name,
        }))
    }

    /// Saves the space this device belongs to, its key and its membership.
    pub fn save_space(&self, state: &SpaceState, key: &SpaceKey) -> Result<(), StoreError> {
        // The key and the membership it opens go in together: a crash between two writes
        // would leave a space key with another space's membership (`tests/crash.rs`).
        let key_bytes = key.to_bytes();
        let _writing = self.lock();
        self.write_together(&[
            (Ks::Keys, secret::SPACE_KEY, &key_bytes[..]),
            (Ks::Meta, meta::SPACE, &encode_space(state)),
        ])?;
        self.flush()?;
        self.keep_space(state.clone())
    }

    /// Changes the space's membership with `change` (which says whether it changed anything)
    /// and keeps it, as one step among the store's writes: a batch stored meanwhile (which
    /// folds its own membership events in, [`duet_log::Membership::fold_events`]) is not
    /// undone by a membership read before it. The space as it is now, if `change` changed it.
    pub fn update_membership(
        &self,
        change: impl FnOnce(&mut Membership) -> bool,
    ) -> Result<Option<SpaceState>, StoreError> {
        let _writing = self.lock();
        let Some(mut state) = self.space()? else { return Ok(None) };
        if !change(&mut state.membership) {
            return Ok(None);
        }
        self.write_space(&state)?;
        Ok(Some(state))
    }

    /// [`Store::update_membership`] for a change that may be refused (a pairing request checked
    /// against the membership it changes): an error from `change` leaves the space as it was.
    /// The space as it is now and what `change` answered; `Ok(None)` when there is no space.
    pub fn try_update_membership<T, E: From<StoreError>>(
        &self,
        change: impl FnOnce(&mut Membership) -> Result<T, E>,
    ) -> Result<Option<(SpaceState, T)>, E> {
        let _writing = self.lock();
        let Some(mut state) = self.space()? else { return Ok(None) };
        let answer = change(&mut state.membership)?;
        self.write_space(&state)?;
        Ok(Some((state, answer)))
    }

    /// Writes the space's membership and keeps it; the caller holds the writer lock.
    fn write_space(&self, state: &SpaceState) -> Result<(), StoreError> {
        self.inner.tree(Ks::Meta).insert(meta::SPACE, encode_space(state))?;
        self.flush()?;
        self.keep_space(state.clone())
    }

    /// Makes `state` the space [`Store::space`] answers with (it was written).
    pub(crate) fn keep_space(&self, state: SpaceState) -> Result<(), StoreError> {
        *self.inner.space.write().map_err(|_| StoreError::Corrupt("lock poisoned"))? = Some(state);
        Ok(())
    }

    pub(crate) fn load_space(&self) -> Result<Option<SpaceState>, StoreError> {
        let Some(bytes) = self.inner.tree(Ks::Meta).get(meta::SPACE)? else { return Ok(None) };
        let stored: StoredSpace = decode(&bytes)?;
        let mut membership = Membership::new(stored.space, stored.persons);
        for (cert, last_seq) in stored.devices {
            let cert = DeviceCertificate::decode(&cert).map_err(|_| StoreError::Corrupt("a stored certificate"))?;
            let device = cert.device;
            membership.add_device(cert).map_err(|_| StoreError::Corrupt("a stored certificate"))?;
            if let Some(s) = last_seq {
                membership.revoke(device, s);
            }
        }
        Ok(Some(SpaceState { space: stored.space, membership }))
    }

    /// The space this device belongs to.
    pub fn space(&self) -> Result<Option<SpaceState>, StoreError> {
        Ok(self.inner.space.read().map_err(|_| StoreError::Corrupt("lock poisoned"))?.clone())
    }

    /// The space's content key.
    pub fn space_key(&self) -> Result<Option<SpaceKey>, StoreError> {
        let Some(v) = self.inner.tree(Ks::Keys).get(secret::SPACE_KEY)? else { return Ok(None) };
        let bytes: [u8; 32] = v.as_ref().try_into().map_err(|_| StoreError::Corrupt("the stored space key"))?;
        Ok(Some(SpaceKey::from_bytes(bytes)))
    }

    /// Keeps the invites this device made (with their secrets, beside the other keys) and
    /// where each stands, so a ticket works for its whole lifetime even if the inviter
    /// restarts meanwhile, and a used or cancelled one stays so.
    pub fn save_invites(&self, invites: &[InviteRecord]) -> Result<(), StoreError> {
        self.put_list(Ks::Keys, secret::INVITE_RECORDS, invites)?;
        self.inner.tree(Ks::Keys).remove(secret::INVITES)?;
        self.flush()
    }

    /// The invites kept by [`Store::save_invites`]. Those an older version kept are read
    /// too: the unused ones stay open; the used ones are left out (which device used them was
    /// not kept, and they can never be used again).
    pub fn invites(&self) -> Result<Vec<InviteRecord>, StoreError> {
        if self.inner.tree(Ks::Keys).contains_key(secret::INVITE_RECORDS)? {
            return self.list(Ks::Keys, secret::INVITE_RECORDS);
        }
        let old: Vec<(Invite, bool)> = self.list(Ks::Keys, secret::INVITES)?;
        Ok(old
            .into_iter()
            .filter(|(_, used)| !used)
            .map(|(invite, _)| InviteRecord { invite, state: InviteState::Open })
            .collect())
    }

    /// The raw profile record of a person (name, avatar, custom status, devices).
    pub fn person_record(&self, id: &PersonId) -> Result<Option<duet_log::ProfileRecord>, StoreError> {
        self.inner.tree(Ks::Views).get([&[view::PROFILE][..], &id.0].concat())?.map(|v| decode(&v)).transpose()
    }

    /// `by`'s latest mark that they compared their safety number with `of`.
    pub fn verified(&self, by: &PersonId, of: &PersonId) -> Result<Option<duet_log::VerifiedMark>, StoreError> {
        self.inner.tree(Ks::Views).get([&[view::VERIFIED][..], &by.0, &of.0].concat())?.map(|v| decode(&v)).transpose()
    }

    /// A person's mood as they last set it.
    pub fn mood(&self, person: &PersonId) -> Result<Option<duet_log::MoodMark>, StoreError> {
        self.inner.tree(Ks::Views).get([&[view::MOOD][..], &person.0].concat())?.map(|v| decode(&v)).transpose()
    }

    /// A person's latest "thinking of you" nudge.
    pub fn last_nudge(&self, person: &PersonId) -> Result<Option<duet_log::NudgeMark>, StoreError> {
        self.inner.tree(Ks::Views).get([&[view::NUDGE][..], &person.0].concat())?.map(|v| decode(&v)).transpose()
    }

    /// The day the two count from.
    pub fn together_since(&self) -> Result<Option<duet_log::TogetherMark>, StoreError> {
        self.inner.tree(Ks::Views).get([view::TOGETHER])?.map(|v| decode(&v)).transpose()
    }

    /// The couple's mailbox, as last chosen.
    pub fn mailbox(&self) -> Result<Option<duet_log::MailboxMark>, StoreError> {
        self.inner.tree(Ks::Views).get([view::MAILBOX])?.map(|v| decode(&v)).transpose()
    }

    /// Every shared date ever made, removed ones included (their value is `None`).
    pub fn dates(&self) -> Result<Vec<(duet_model::DateId, duet_log::DateMark)>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.tree(Ks::Views).scan_prefix([view::DATE]) {
            let (key, value) = item?;
            let id = duet_model::DateId::from_slice(&key[1..]).ok_or(StoreError::Corrupt("bad date key"))?;
            out.push((id, decode(&value)?));
        }
        Ok(out)
    }

    /// Every shared list ever made, deleted ones included (their title is `None`).
    pub fn lists(&self) -> Result<Vec<(duet_model::ListId, duet_log::ListMark)>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.tree(Ks::Views).scan_prefix([view::LIST]) {
            let (key, value) = item?;
            let id = duet_model::ListId::from_slice(&key[1..]).ok_or(StoreError::Corrupt("bad list key"))?;
            out.push((id, decode(&value)?));
        }
        Ok(out)
    }

    /// One list's title as kept (`None` inside: deleted), if it was ever made.
    pub fn shared_list(&self, id: &duet_model::ListId) -> Result<Option<duet_log::ListMark>, StoreError> {
        self.inner.tree(Ks::Views).get([&[view::LIST][..], &id.0].concat())?.map(|v| decode(&v)).transpose()
    }

    /// Every item ever added to a list, removed ones included.
    pub fn list_items(
        &self,
        list: &duet_model::ListId,
    ) -> Result<Vec<(duet_model::ItemId, duet_log::ItemMark)>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.tree(Ks::Views).scan_prefix([&[view::LIST_ITEM][..], &list.0].concat()) {
            let (key, value) = item?;
            let id = duet_model::ItemId::from_slice(&key[17..]).ok_or(StoreError::Corrupt("bad list item key"))?;
            out.push((id, decode(&value)?));
        }
        Ok(out)
    }

    /// What was shared of each space key after the first (key rotations), by key id.
    pub fn key_shares(&self) -> Result<Vec<(duet_crypto::KeyId, duet_log::KeyShareMark)>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.tree(Ks::Views).scan_prefix([view::KEY_SHARE]) {
            let (key, value) = item?;
            let id: [u8; duet_crypto::KEY_ID_LEN] =
                key[1..].try_into().map_err(|_| StoreError::Corrupt("bad key share key"))?;
            out.push((duet_crypto::KeyId(id), decode(&value)?));
        }
        Ok(out)
    }

    /// The space's keys this device holds: the first and every later one shared with it, the
    /// latest rotation's sealing ([`duet_log::Keyring`]). `None` before there is a space.
    pub fn keyring(&self, me: &duet_crypto::DeviceKey) -> Result<Option<duet_log::Keyring>, StoreError> {
        let Some(first) = self.space_key()? else { return Ok(None) };
        let shares = self.key_shares()?;
        let mut ring = duet_log::Keyring::from_shares(first, shares.iter().map(|(id, mark)| (*id, mark)), me);
        for item in self.inner.tree(Ks::Keys).scan_prefix(secret::LATER_KEY) {
            let (_, value) = item?;
            let bytes: [u8; 32] = value.as_ref().try_into().map_err(|_| StoreError::Corrupt("a stored later key"))?;
            let key = SpaceKey::from_bytes(bytes);
            let rotated = shares.iter().find(|(id, _)| *id == key.id()).and_then(|(_, mark)| mark.rotated);
            ring.hold(key, rotated);
        }
        Ok(Some(ring))
    }

    /// Keeps the later space keys this device was given when it paired.
    pub fn save_later_keys(&self, keys: &[SpaceKey]) -> Result<(), StoreError> {
        let mut batch = crate::sealed::Batch::default();
        for key in keys {
            let name = [secret::LATER_KEY, &key.id().0].concat();
            batch.insert(name, &key.to_bytes()[..]);
        }
        self.inner.tree(Ks::Keys).apply_batch(batch)?;
        self.flush()
    }

    /// A person as their own events describe them (name, avatar, devices).
    pub fn person(&self, id: &PersonId) -> Result<Option<Person>, StoreError> {
        let record = self.person_record(id)?;
        let space = self.space()?;
        let mut devices: Vec<DeviceId> = match &space {
            Some(s) => s.membership.devices_of(id).collect(),
            None => vec![],
        };
        if let Some(r) = &record {
            devices.extend(r.devices.iter().filter(|d| !r.revoked.contains_key(d)));
        }
        devices.sort();
        devices.dedup();
        let known = record.is_some() || !devices.is_empty();
        Ok(known.then(|| Person {
            id: *id,
            display_name: record
                .as_ref()
                .and_then(|r| r.display_name.as_ref())
                .map(|n| n.value.clone())
                .unwrap_or_default(),
            avatar: record.as_ref().and_then(|r| r.avatar.as_ref()).and_then(|a| a.value.clone()),
            devices,
        }))
    }

    /// The person this device belongs to, if a profile was created.
    pub fn local_profile(&self) -> Result<Option<Person>, StoreError> {
        let Some(identity) = self.identity()? else { return Ok(None) };
        let Some(person) = identity.person_id() else { return Ok(None) };
        let mut profile = self.person(&person)?.unwrap_or(Person {
            id: person,
            display_name: String::new(),
            avatar: None::<Avatar>,
            devices: vec![identity.device_id()],
        });
        if profile.display_name.is_empty() {
            profile.display_name = identity.display_name;
        }
        Ok(Some(profile))
    }

    /// Remembers when a person was last seen online (kept across restarts).
    pub fn set_last_seen(&self, person: &PersonId, at: duet_model::Timestamp) -> Result<(), StoreError> {
        self.inner.tree(Ks::Views).insert([&[view::LAST_SEEN][..], &person.0].concat(), at.0.to_be_bytes())?;
        Ok(())
    }

    /// When a person was last seen online.
    pub fn last_seen(&self, person: &PersonId) -> Result<Option<duet_model::Timestamp>, StoreError> {
        Ok(self
            .inner
            .tree(Ks::Views)
            .get([&[view::LAST_SEEN][..], &person.0].concat())?
            .map(|v| crate::txn::read_time(&v)))
    }

    /// The address book: where a member device was last seen (multiaddr text), newest first.
    pub fn save_addresses(&self, device: &DeviceId, addresses: &[String]) -> Result<(), StoreError> {
        let bounded: Vec<&String> = addresses.iter().filter(|a| a.len() <= 256).take(16).collect();
        self.inner.tree(Ks::Meta).insert([meta::ADDRESS, &device.0[..]].concat(), encode(&bounded))?;
        Ok(())
    }

    /// Where this device listens (multiaddr text), remembered so that it can listen on the
    /// same ports after a restart, where its partners will look for it.
    pub fn save_listened(&self, addresses: &[String]) -> Result<(), StoreError> {
        let bounded: Vec<&String> = addresses.iter().filter(|a| a.len() <= 256).take(16).collect();
        self.put_list(Ks::Meta, meta::LISTENED, &bounded)
    }

    /// Where this device listened last time (empty the first time).
    pub fn listened(&self) -> Result<Vec<String>, StoreError> {
        self.list(Ks::Meta, meta::LISTENED)
    }

    /// The relays this device listens through, as chosen in its settings.
    pub fn save_relays(&self, relays: &[String]) -> Result<(), StoreError> {
        self.put_list(Ks::Meta, meta::RELAYS, relays)?;
        self.flush()
    }

    /// The relays kept by [`Store::save_relays`].
    pub fn relays(&self) -> Result<Vec<String>, StoreError> {
        self.list(Ks::Meta, meta::RELAYS)
    }

    /// The devices chosen for calls, as the node writes them (it bounds them; the store does
    /// not read them). Kept on this device only.
    pub fn save_media_devices(&self, value: &[u8]) -> Result<(), StoreError> {
        self.inner.tree(Ks::Meta).insert(meta::MEDIA_DEVICES, value)?;
        self.flush()
    }

    /// What [`Store::save_media_devices`] kept.
    pub fn media_devices(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.inner.tree(Ks::Meta).get(meta::MEDIA_DEVICES)?.map(|v| v.to_vec()))
    }

    /// The occurrence of date `id` this device last reminded of (this device only: each
    /// device reminds its person once).
    pub fn reminded(&self, id: &duet_model::DateId) -> Result<Option<u64>, StoreError> {
        let v = self.inner.tree(Ks::Meta).get([meta::REMINDED, &id.0[..]].concat())?;
        Ok(v.and_then(|v| <[u8; 8]>::try_from(&v[..]).ok()).map(u64::from_be_bytes))
    }

    /// Keeps that this device reminded of date `id`'s occurrence at `occurrence` (ms).
    pub fn set_reminded(&self, id: &duet_model::DateId, occurrence: u64) -> Result<(), StoreError> {
        self.inner.tree(Ks::Meta).insert([meta::REMINDED, &id.0[..]].concat(), occurrence.to_be_bytes())?;
        self.flush()
    }

    /// A small list kept whole under one key (settings, invites).
    fn put_list<T: Serialize>(&self, ks: Ks, key: &[u8], items: &[T]) -> Result<(), StoreError> {
        self.inner.tree(ks).insert(key, encode(&items))?;
        Ok(())
    }

    /// The list kept by [`Store::put_list`] (empty when none was).
    fn list<T: serde::de::DeserializeOwned>(&self, ks: Ks, key: &[u8]) -> Result<Vec<T>, StoreError> {
        self.inner.tree(ks).get(key)?.map_or(Ok(Vec::new()), |v| decode(&v))
    }

    /// Every device's remembered addresses.
    pub fn addresses(&self) -> Result<Vec<(DeviceId, Vec<String>)>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.tree(Ks::Meta).scan_prefix(meta::ADDRESS) {
            let (k, v) = item?;
            if let Some(d) = DeviceId::from_slice(&k[meta::ADDRESS.len()..]) {
                out.push((d, decode(&v)?));
            }
        }
        Ok(out)
    }
}

/// The stored form of `state` (its key is stored apart).
pub(crate) fn encode_space(state: &SpaceState) -> Vec<u8> {
    encode(&StoredSpace {
        space: state.space,
        persons: state.membership.persons().copied().collect(),
        devices: state.membership.devices().map(|(_, d)| (d.certificate.encode(), d.last_seq)).collect(),
    })
}

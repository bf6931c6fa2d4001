//! A space's keys as one device holds them.
//!
//! Every space starts with one key, shared when each device joins. When a device is removed,
//! the device that removes it makes a new key and shares it, sealed to each device that
//! remains (a [`Payload::KeyShare`](crate::Payload::KeyShare) with `rotation` set): from then
//! on events are sealed with it, and the removed device, which holds only the older keys,
//! opens nothing written after. A device that joins later gets the space's first key when it
//! pairs and every later key in shares sealed to it alone.
//!
//! Which key seals new events is the same on every device that holds it: the one whose
//! rotation comes last in the space's order of events ([`crate::Stamp`]). Two partners who
//! each remove a device at once make two keys; both open what they sealed, and the later
//! rotation's key seals from then on.

use duet_crypto::{DeviceKey, KeyId, SpaceKey, WrappedKey};

use crate::records::{KeyShareMark, Stamp};

/// The keys a device holds for one space, and the one that seals its new events.
#[derive(Clone)]
pub struct Keyring {
    first: SpaceKey,
    /// Keys shared later, with the stamp of their rotation (`None`: only shared, never
    /// announced as a rotation this device has seen).
    later: Vec<(KeyId, SpaceKey, Option<Stamp>)>,
}

impl Keyring {
    /// A space's first key alone.
    pub fn new(first: SpaceKey) -> Self {
        Self { first, later: Vec::new() }
    }

    /// The space's keys that `me` can open among `shares` (each a key id and what was shared
    /// of it), besides the first. A share whose key does not match its id is ignored.
    pub fn from_shares<'a>(
        first: SpaceKey,
        shares: impl IntoIterator<Item = (KeyId, &'a KeyShareMark)>,
        me: &DeviceKey,
    ) -> Self {
        let mut ring = Self::new(first);
        for (id, share) in shares {
            let Some((_, (_, wrapped))) = share.wrapped.iter().find(|(device, _)| *device == me.id()) else {
                continue;
            };
            if let Some(key) = unwrap(id, wrapped, me) {
                ring.hold(key, share.rotated);
            }
        }
        ring
    }

    /// Adds a later key (one this device was given when it paired, say), with the stamp of
    /// its rotation if one is known. A key held already only gains the stamp.
    pub fn hold(&mut self, key: SpaceKey, rotated: Option<Stamp>) {
        let id = key.id();
        if id == self.first.id() {
            return;
        }
        match self.later.iter_mut().find(|(i, _, _)| *i == id) {
            Some((_, _, stamp)) => *stamp = (*stamp).or(rotated),
            None => self.later.push((id, key, rotated)),
        }
    }

    /// Takes in a share just read (`KeyShare` at `stamp`): the key, if it was sealed to `me`;
    /// and, for a key held, its rotation. Whether the ring changed.
    pub fn learn(
        &mut self,
        id: KeyId,
        stamp: Stamp,
        rotation: bool,
        wrapped: &[(duet_model::DeviceId, Vec<u8>)],
        me: &DeviceKey,
    ) -> bool {
        let rotated = rotation.then_some(stamp);
        if let Some((_, _, held)) = self.later.iter_mut().find(|(i, _, _)| *i == id) {
            let before = *held;
            *held = match (*held, rotated) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            return *held != before;
        }
        let Some((_, bytes)) = wrapped.iter().find(|(device, _)| *device == me.id()) else { return false };
        match unwrap(id, bytes, me) {
            Some(key) if id != self.first.id() => {
                self.later.push((id, key, rotated));
                true
            }
            _ => false,
        }
    }

    /// The later keys held (to give a device that joins).
    pub fn later(&self) -> impl Iterator<Item = &SpaceKey> {
        self.later.iter().map(|(_, key, _)| key)
    }

    /// The space's first key (given to each device when it pairs).
    pub fn first(&self) -> &SpaceKey {
        &self.first
    }

    /// The key named `id` (`None`: the first key), if this device holds it.
    pub fn get(&self, id: Option<KeyId>) -> Option<&SpaceKey> {
        match id {
            None => Some(&self.first),
            Some(id) => self.later.iter().find(|(i, _, _)| *i == id).map(|(_, k, _)| k),
        }
    }

    /// The key new events are sealed with, and its id (`None`: the first key, and events in
    /// format 1): the latest rotation's among the keys held.
    pub fn sealing(&self) -> (Option<KeyId>, &SpaceKey) {
        self.later
            .iter()
            .filter_map(|(id, key, rotated)| rotated.map(|stamp| (stamp, id, key)))
            .max_by_key(|(stamp, _, _)| *stamp)
            .map_or((None, &self.first), |(_, id, key)| (Some(*id), key))
    }
}

/// The key in `wrapped` (sealed to `me`), if it opens and is the key named `id`.
fn unwrap(id: KeyId, wrapped: &[u8], me: &DeviceKey) -> Option<SpaceKey> {
    let key = WrappedKey::decode(wrapped).and_then(|w| w.unwrap(me)).ok()?;
    (key.id() == id).then_some(key)
}

//! The devices of the space, and removing one of mine.
//!
//! A removal is a signed event in the log (`Payload::DeviceRevoke`) written by one of the
//! person's other devices: it names the last event of the removed device that counts (the
//! newest this device holds), and every device that folds it refuses that device's later
//! events and its connections (it is no member of anything any more). A device that was lost,
//! sold or stolen can therefore write nothing that the couple will read, and gets nothing new.
//!
//! Right after the removal the same device rotates the space key (`rotate_key`): a new key,
//! sealed to each device that remains, in a `Payload::KeyShare` (itself sealed with the key
//! of before, so every remaining device can read it; the removed one reads only that it
//! happened). From then on every device seals with the new key once it has it, so a copy of
//! a later event reaching the removed device by some other way (never from Duet's own
//! protocols, which refuse it) does not open. What it held before stays readable to it: a key
//! cannot be taken back.

use duet_crypto::{SpaceKey, WrappedKey};
use duet_log::Payload;
use duet_model::{DeviceId, PersonId, Timestamp};
use rand_core::OsRng;
use serde::Serialize;

use crate::{Node, NodeError, NodeEvent};

/// A member device as Settings → Devices lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeviceInfo {
    pub device: DeviceId,
    pub person: PersonId,
    pub name: String,
    /// One of my own devices (else my partner's).
    pub mine: bool,
    /// The device this node runs on.
    pub this_device: bool,
    /// When its person linked it (its certificate's date).
    pub added_at: Timestamp,
    /// When it last wrote something held here, or now if it is connected.
    pub last_seen: Option<Timestamp>,
    pub connected: bool,
    /// Removed: its events after the removal are refused everywhere.
    pub removed: bool,
}

impl Node {
    /// Every device of both people, mine first, this one first of all.
    pub async fn devices(&self) -> Result<Vec<DeviceInfo>, NodeError> {
        let Some(state) = self.shared.store.space()? else { return Ok(vec![]) };
        let me = self.person_id();
        let connected = self.shared.net.connected().await.unwrap_or_default();
        let at = crate::now();
        let mut devices: Vec<DeviceInfo> = state
            .membership
            .devices()
            .map(|(d, m)| {
                let head = self.head_of(d);
                let wrote = (head.seq > 0)
                    .then(|| self.shared.store.event(d, head.seq).ok().flatten().map(|e| e.timestamp()))
                    .flatten();
                let is_connected = connected.contains(d) && m.last_seq.is_none();
                DeviceInfo {
                    device: *d,
                    person: m.certificate.person,
                    name: m.certificate.device_name.clone(),
                    mine: Some(m.certificate.person) == me,
                    this_device: *d == self.device_id(),
                    added_at: Timestamp(m.certificate.issued_at_ms),
                    last_seen: if is_connected || *d == self.device_id() { Some(at) } else { wrote },
                    connected: is_connected,
                    removed: m.last_seq.is_some(),
                }
            })
            .collect();
        devices.sort_by_key(|d| (!d.this_device, !d.mine, d.removed, d.added_at));
        Ok(devices)
    }

    /// Removes one of my other devices (lost, sold, stolen): see the module docs.
    pub async fn remove_device(&self, device: DeviceId) -> Result<DeviceInfo, NodeError> {
        self.touch();
        let state = self.shared.store.space()?.ok_or(NodeError::NoSpace)?;
        let member = state.membership.device(&device).ok_or_else(|| {
            NodeError::NotFound("there is no such device in your space (`duet devices` lists them)".into())
        })?;
        if device == self.device_id() {
            return Err(NodeError::NotAllowed(
                "this is the device you are using: remove it from another of your devices".into(),
            ));
        }
        if Some(member.certificate.person) != self.person_id() {
            return Err(NodeError::NotAllowed(
                "that device is your partner's: only they can remove their devices".into(),
            ));
        }
        if member.last_seq.is_none() {
            let last_seq = self.head_of(&device).seq;
            let opened = self.write(Payload::DeviceRevoke { device, last_seq }).await?;
            self.membership_events_stored(std::slice::from_ref(&opened)).await;
            // The mailbox cannot read the removal: it is told in the open, signed.
            self.tell_mailbox_removals_soon();
            self.rotate_key().await?;
        }
        self.devices()
            .await?
            .into_iter()
            .find(|d| d.device == device)
            .ok_or_else(|| NodeError::NotFound("the device is gone from the list".into()))
    }

    /// Makes a new space key and shares it with every device that remains (mine and my
    /// partner's): new events are sealed with it from now on (`duet_log::Keyring`).
    pub(crate) async fn rotate_key(&self) -> Result<(), NodeError> {
        let state = self.shared.store.space()?.ok_or(NodeError::NoSpace)?;
        let key = SpaceKey::generate(&mut OsRng);
        let wrapped: Vec<(DeviceId, Vec<u8>)> = state
            .membership
            .devices()
            .filter(|(_, m)| m.last_seq.is_none())
            .map(|(d, m)| (*d, WrappedKey::wrap(&key, &m.certificate.device_x25519, &mut OsRng).encode()))
            .collect();
        // The first share makes it the key that seals; a space with more devices than one
        // share names gets the rest in plain shares.
        for (i, part) in wrapped.chunks(duet_log::payload::MAX_KEY_SHARE_DEVICES).enumerate() {
            self.write(Payload::KeyShare { key: key.id(), rotation: i == 0, wrapped: part.to_vec() }).await?;
        }
        Ok(())
    }

    /// After `events` were stored (mine or received): a `PartnerJoin` among them let a partner
    /// in, a `DeviceRevoke` removed a device. The store folded both into the membership as it
    /// stored them (`duet_log::Membership::fold_events`: a `PartnerJoin`, written by a device of
    /// the person who invited them, is the only way a second person enters the space, and a
    /// device is removed only by its own person); here the network is told who may connect
    /// now, a removed device is disconnected and front ends are told. Done again for events
    /// already folded in, it changes nothing.
    pub(crate) async fn membership_events_stored(&self, events: &[duet_log::OpenedEvent]) {
        if !events.iter().any(|e| e.payload.changes_membership()) {
            return;
        }
        let Ok(Some(state)) = self.shared.store.space() else { return };
        if let Err(e) = self.update_members(&state.membership).await {
            tracing::warn!("could not tell the network who may connect after a membership change: {e}");
        }
        let removed = events.iter().filter_map(|e| match e.payload {
            Payload::DeviceRevoke { device, .. } => Some(device),
            _ => None,
        });
        for device in removed.filter(|d| state.membership.device(d).is_some_and(|m| m.last_seq.is_some())) {
            self.shared.peers.remove(&device);
            let _ = self.shared.net.disconnect(device, None).await;
        }
        self.emit(NodeEvent::SpaceChanged);
    }
}

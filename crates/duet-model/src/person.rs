//! People, their devices, and invitations.

use serde::{Deserialize, Serialize};

use crate::ids::{BlobHash, DeviceId, PersonId, SpaceId};
use crate::time::Timestamp;

pub const MAX_DISPLAY_NAME_CHARS: usize = 64;
pub const MAX_DEVICE_NAME_CHARS: usize = 64;

/// An avatar: an emoji, or an image blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Avatar {
    Emoji(String),
    Image(BlobHash),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Person {
    pub id: PersonId,
    pub display_name: String,
    pub avatar: Option<Avatar>,
    pub devices: Vec<DeviceId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Device {
    pub id: DeviceId,
    pub person: PersonId,
    pub name: String,
    pub linked_at: Timestamp,
    pub revoked: bool,
}

/// Whether an invite brings in the partner or another device of the inviter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum InviteKind {
    Partner,
    OwnDevice,
}

/// An invitation: who to dial, a one-time secret, and when it stops working. Printed as a
/// one-line ticket (and a QR code) by `duet_log::pairing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    pub space: SpaceId,
    pub kind: InviteKind,
    pub inviter: DeviceId,
    /// Where the inviter listens (multiaddr text, e.g. `/ip4/192.0.2.7/udp/4001/quic-v1`).
    pub addresses: Vec<String>,
    /// The one-time secret the joiner proves it knows.
    pub secret: [u8; 16],
    pub expires_at: Timestamp,
}

/// Where an invite this device made stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InviteState {
    /// Waiting to be used.
    Open,
    /// Used by the device `joiner`. Until `confirmed` (the joiner has synced as a member, so
    /// it got its welcome) the same device may use it again: a welcome can be lost on the way.
    Used { joiner: DeviceId, confirmed: bool },
    /// Taken back by the device that made it.
    Cancelled,
    /// A partner invite that stopped working when the partner joined with another one: a
    /// space has two people, for good.
    Superseded,
}

/// An invite this device made, as it keeps it until it expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteRecord {
    pub invite: Invite,
    pub state: InviteState,
}

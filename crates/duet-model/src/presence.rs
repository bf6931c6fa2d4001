//! The seed's Presence model (the seed is cut off inside it; the fields after `status` are
//! what a presence needs besides: last seen, custom status text, which device; see
//! `docs/architecture.md`, "The data model").

use serde::{Deserialize, Serialize};

use crate::ids::{DeviceId, PersonId};
use crate::time::Timestamp;

/// Characters in a custom status ("at the gym 🏋️").
pub const MAX_CUSTOM_STATUS_CHARS: usize = 128;

/// The seed's presence `status` enum. `offline` is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum PresenceStatus {
    Online,
    #[default]
    Offline,
    /// Idle: set automatically after a while without input.
    Away,
    /// Do not disturb: no notifications.
    Busy,
    /// Fully usable, but shown offline to others.
    Invisible,
}

impl PresenceStatus {
    /// All variants, in their wire order.
    pub const ALL: [PresenceStatus; 5] = [Self::Online, Self::Offline, Self::Away, Self::Busy, Self::Invisible];

    /// What others see: invisible shows as offline.
    pub fn as_seen_by_others(self) -> Self {
        match self {
            Self::Invisible => Self::Offline,
            s => s,
        }
    }
}

/// One per person (the seed's `userId` is `unique`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Presence {
    pub person: PersonId,
    pub status: PresenceStatus,
    pub last_seen: Option<Timestamp>,
    pub custom_status: Option<String>,
    /// The device the status was last reported from.
    pub device: Option<DeviceId>,
    pub updated_at: Timestamp,
}

impl Presence {
    /// The default presence of a person nobody has heard from: offline, never seen.
    pub fn unknown(person: PersonId) -> Self {
        Self {
            person,
            status: PresenceStatus::default(),
            last_seen: None,
            custom_status: None,
            device: None,
            updated_at: Timestamp(0),
        }
    }
}

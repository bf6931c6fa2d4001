//! The seed's Presence model (the seed is cut off inside it; the fields after `status` are
//! what a presence needs besides: last seen, custom status text, which device; see
//! `docs/architecture.md`, "The data model").

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::ids::{DeviceId, PersonId};
use crate::text::{validate_emoji, validate_name};
use crate::time::Timestamp;

/// Characters in a custom status ("at the gym 🏋️").
pub const MAX_CUSTOM_STATUS_CHARS: usize = 128;
/// Characters in a mood's words ("missing you", "long day").
pub const MAX_MOOD_WORDS_CHARS: usize = 60;

/// How a person feels, shown on their card to their partner: an emoji and, if they like, a
/// few words. Set and cleared by its person only; the latest one counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Mood {
    pub emoji: String,
    pub words: Option<String>,
}

impl Mood {
    /// Checks the emoji and the words (trimmed; empty words are no words) and returns the
    /// mood normalized.
    pub fn validated(self) -> Result<Self, ValidationError> {
        let emoji = validate_emoji(&self.emoji)?;
        let words = match self.words.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(w) => Some(validate_name("a mood's words", w, MAX_MOOD_WORDS_CHARS)?),
        };
        Ok(Mood { emoji, words })
    }
}

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
    /// How they feel, as they last said it (`None`: nothing said, or cleared).
    pub mood: Option<Mood>,
    /// When they last sent a "thinking of you" nudge.
    pub last_nudge: Option<Timestamp>,
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
            mood: None,
            last_nudge: None,
        }
    }
}

//! The seed's Conversation model.

use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, ConversationId, MessageId, PersonId, SpaceId};
use crate::time::Timestamp;

/// Where a message goes: the couple's direct conversation, or a channel of the space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Direct,
    Channel(ChannelId),
}

impl Target {
    /// The conversation this target names inside `space`.
    pub fn conversation(self, space: SpaceId) -> ConversationId {
        match self {
            Target::Direct => space.into(),
            Target::Channel(c) => c.into(),
        }
    }

    /// The channel, if this is a channel target.
    pub fn channel(self) -> Option<ChannelId> {
        match self {
            Target::Direct => None,
            Target::Channel(c) => Some(c),
        }
    }
}

/// Per-person conversation settings (the seed's `isArchived`, `isMuted`): archiving on my
/// laptop archives on my desktop, not on my partner's devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConversationSettings {
    pub archived: bool,
    pub muted: bool,
}

/// The seed's Conversation, as seen by one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Conversation {
    pub id: ConversationId,
    pub target: Target,
    /// The seed's `participants`.
    pub participants: Vec<PersonId>,
    /// The seed's `lastMessageId`.
    pub last_message: Option<MessageId>,
    pub last_message_at: Option<Timestamp>,
    /// Messages from others newer than my read marker.
    pub unread_count: u32,
    /// The seed's `isArchived`.
    pub archived: bool,
    /// The seed's `isMuted`.
    pub muted: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

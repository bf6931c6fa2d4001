//! Servers and channels: a Space is a Discord "server"; a couple starts with one space that
//! holds their direct conversation.

use serde::{Deserialize, Serialize};

use crate::ids::{BlobHash, ChannelId, PersonId, SpaceId};
use crate::person::Avatar;
use crate::time::Timestamp;

pub const MAX_SPACE_NAME_CHARS: usize = 100;
pub const MAX_CHANNEL_NAME_CHARS: usize = 100;
pub const MAX_TOPIC_CHARS: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Space {
    pub id: SpaceId,
    pub name: String,
    pub icon: Option<Avatar>,
    pub owner: PersonId,
    pub members: Vec<PersonId>,
    /// Channels in display order.
    pub channels: Vec<ChannelId>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    #[default]
    Text,
    Voice,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 2] = [Self::Text, Self::Voice];
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Channel {
    pub id: ChannelId,
    pub space: SpaceId,
    pub name: String,
    pub kind: ChannelKind,
    pub topic: Option<String>,
    pub position: u32,
    pub archived: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Attachment content, stored by hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Blob {
    pub hash: BlobHash,
    pub size: u64,
    /// Bytes held locally so far (a transfer may be partial).
    pub have: u64,
}

/// Addresses one mailbox record may list.
pub const MAX_MAILBOX_ADDRESSES: usize = 8;
/// Characters of one mailbox address.
pub const MAX_MAILBOX_ADDRESS_CHARS: usize = 200;

/// Where the couple's mailbox runs: its device id and the addresses it listens on (multiaddrs,
/// as text). Chosen by either partner (`duet mailbox add`), latest wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MailboxPlace {
    pub device: crate::ids::DeviceId,
    pub addresses: Vec<String>,
}

impl MailboxPlace {
    pub fn validated(self) -> Result<Self, crate::ValidationError> {
        if self.addresses.len() > MAX_MAILBOX_ADDRESSES {
            return Err(crate::ValidationError::TooLong {
                field: "the mailbox's address list",
                len: self.addresses.len(),
                max: MAX_MAILBOX_ADDRESSES,
            });
        }
        for a in &self.addresses {
            crate::validate_name("a mailbox address", a, MAX_MAILBOX_ADDRESS_CHARS)?;
        }
        Ok(self)
    }
}

//! Identifiers. Keys are ed25519 public keys (32 bytes); everything else is 16 bytes.
//! All of them print and parse as lowercase hex, and serialize to JSON as hex strings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use crate::time::Timestamp;

/// A string that is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("\"{input}\" is not a valid {kind}: expected {len} hexadecimal characters")]
pub struct IdParseError {
    pub kind: &'static str,
    pub input: String,
    pub len: usize,
}

macro_rules! byte_id {
    ($(#[$doc:meta])* $name:ident, $len:expr, $kind:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;

            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// Reads the identifier from exactly `LEN` bytes.
            pub fn from_slice(bytes: &[u8]) -> Option<Self> {
                <[u8; $len]>::try_from(bytes).ok().map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Short form: enough to tell ids apart in logs.
                write!(f, "{}({})", stringify!($name), &hex::encode(self.0)[..8])
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let err = || IdParseError { kind: $kind, input: s.chars().take(80).collect(), len: $len * 2 };
                let bytes = hex::decode(s.trim()).map_err(|_| err())?;
                Self::from_slice(&bytes).ok_or_else(err)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                // Hex in JSON (people and scripts read it); raw bytes in binary formats.
                if s.is_human_readable() {
                    s.serialize_str(&self.to_string())
                } else {
                    s.serialize_bytes(&self.0)
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if d.is_human_readable() {
                    let s = String::deserialize(d)?;
                    s.parse().map_err(serde::de::Error::custom)
                } else {
                    d.deserialize_bytes(BytesVisitor::<$len>).map(Self)
                }
            }
        }
    };
}

/// Reads exactly `N` bytes from a binary format.
struct BytesVisitor<const N: usize>;

impl<'de, const N: usize> serde::de::Visitor<'de> for BytesVisitor<N> {
    type Value = [u8; N];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{N} bytes")
    }

    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        <[u8; N]>::try_from(v).map_err(|_| E::invalid_length(v.len(), &self))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = [0; N];
        for (i, b) in out.iter_mut().enumerate() {
            *b = seq.next_element()?.ok_or_else(|| serde::de::Error::invalid_length(i, &self))?;
        }
        Ok(out)
    }
}

byte_id!(
    /// A person: the ed25519 public key of their person key.
    PersonId, 32, "person id"
);
byte_id!(
    /// A device: the ed25519 public key of the device key (also its libp2p PeerId).
    DeviceId, 32, "device id"
);
byte_id!(
    /// A space (a Discord "server"), chosen at random when it is created.
    SpaceId, 16, "space id"
);
byte_id!(
    /// A channel inside a space, chosen at random when it is created.
    ChannelId, 16, "channel id"
);
byte_id!(
    /// A conversation: the direct conversation of a space shares the space's id; a channel's
    /// conversation shares the channel's id.
    ConversationId, 16, "conversation id"
);
byte_id!(
    /// A message: its `created_at` (milliseconds, big-endian), then the first 4 bytes of its
    /// author device's key, then the low 32 bits of the `post` event's sequence number.
    ///
    /// Sorting ids sorts messages by time, so a conversation's keyspace is keyed by
    /// (conversation, id) and no other table is written per message (every sled key written
    /// costs ~9 µs here; see docs/decisions.md). Linking refuses a device whose tag collides
    /// with a member's, and a log refuses to grow past `u32::MAX` events, so ids are unique.
    MessageId, 16, "message id"
);
byte_id!(
    /// A shared date (an anniversary, a dinner), chosen at random when it is made.
    DateId, 16, "date id"
);
byte_id!(
    /// A call, chosen at random by the caller.
    CallId, 16, "call id"
);
byte_id!(
    /// A shared list (groceries, plans), chosen at random when it is made.
    ListId, 16, "list id"
);
byte_id!(
    /// An item of a shared list, chosen at random when it is added.
    ItemId, 16, "item id"
);
byte_id!(
    /// The BLAKE3 hash of an attachment's content (`duet-blob` checks each 256 KiB chunk
    /// against it through BLAKE3's tree, so a blob is verified piece by piece as it arrives).
    BlobHash, 32, "blob hash"
);

impl DeviceId {
    /// The first 4 bytes of the key: how a [`MessageId`] names its author. Linking refuses a
    /// device whose tag collides with a member's, so the tag is unique within a space.
    pub fn tag(&self) -> [u8; 4] {
        let mut tag = [0; 4];
        tag.copy_from_slice(&self.0[..4]);
        tag
    }
}

impl MessageId {
    /// The id of the message created at `created_at` by `author`'s event number `seq`.
    pub fn new(created_at: Timestamp, author: &DeviceId, seq: u64) -> Self {
        let mut id = [0; 16];
        id[..8].copy_from_slice(&created_at.0.to_be_bytes());
        id[8..12].copy_from_slice(&author.tag());
        id[12..].copy_from_slice(&(seq as u32).to_be_bytes());
        Self(id)
    }

    /// When the message was created (the sender's clock).
    pub fn created_at(&self) -> Timestamp {
        let mut ms = [0; 8];
        ms.copy_from_slice(&self.0[..8]);
        Timestamp(u64::from_be_bytes(ms))
    }

    /// The author device's tag (see [`DeviceId::tag`]).
    pub fn device_tag(&self) -> [u8; 4] {
        let mut tag = [0; 4];
        tag.copy_from_slice(&self.0[8..12]);
        tag
    }

    /// The low 32 bits of the creating event's sequence number.
    pub fn seq(&self) -> u32 {
        let mut seq = [0; 4];
        seq.copy_from_slice(&self.0[12..]);
        u32::from_be_bytes(seq)
    }

    /// The smallest id created at `at`: a bound for range queries by time.
    pub fn first_at(at: Timestamp) -> Self {
        let mut id = [0; 16];
        id[..8].copy_from_slice(&at.0.to_be_bytes());
        Self(id)
    }
}

impl From<SpaceId> for ConversationId {
    fn from(space: SpaceId) -> Self {
        Self(space.0)
    }
}

impl From<ChannelId> for ConversationId {
    fn from(channel: ChannelId) -> Self {
        Self(channel.0)
    }
}

impl BlobHash {
    /// The seed's attachment `url`: a local reference the app resolves to the stored blob.
    pub fn url(&self) -> String {
        format!("duet://blob/{self}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_json() {
        let id = MessageId::new(Timestamp(1_700_000_000_000), &DeviceId([7; 32]), 42);
        assert_eq!(id.seq(), 42);
        assert_eq!(id.device_tag(), [7; 4]);
        assert_eq!(id.created_at(), Timestamp(1_700_000_000_000));
        assert!(MessageId::first_at(Timestamp(1_700_000_000_001)) > id);
        let text = id.to_string();
        assert_eq!(text.parse::<MessageId>().unwrap(), id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<MessageId>(&json).unwrap(), id);
    }

    #[test]
    fn bad_ids_are_refused_in_words() {
        let err = "zz".parse::<PersonId>().unwrap_err();
        assert!(err.to_string().contains("not a valid person id"));
        assert!("abcd".parse::<SpaceId>().is_err());
    }
}

//! The live protocol `/duet/live/1` (DESIGN §5), sans I/O: what is not stored. Presence
//! heartbeats and typing indicators travel here; call signalling joins them later.
//!
//! Each device opens one live stream to each connected member device and sends a
//! `Presence` at once, on every change, and every heartbeat interval; `Typing` while the user
//! types. A device that misses three heartbeats counts as gone.

use duet_model::{PresenceStatus, Target, Timestamp};

use crate::codec::{DecodeError, Reader, Writer};

/// The largest live frame.
pub const MAX_LIVE_FRAME_BYTES: usize = 64 * 1024;

/// One message of `/duet/live/1`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LiveMessage {
    /// The sender's status as others should see it (invisible is sent as offline).
    Presence { status: PresenceStatus, at: Timestamp },
    /// The sender is typing in a conversation.
    Typing { target: Target, at: Timestamp },
}

impl LiveMessage {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        match self {
            LiveMessage::Presence { status, at } => {
                w.u8(1);
                w.u8(PresenceStatus::ALL.iter().position(|s| s == status).unwrap_or(1) as u8);
                w.varint(at.0);
            }
            LiveMessage::Typing { target, at } => {
                w.u8(2);
                match target {
                    Target::Direct => w.u8(0),
                    Target::Channel(c) => {
                        w.u8(1);
                        w.bytes(&c.0);
                    }
                }
                w.varint(at.0);
            }
        }
        w.buf
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_LIVE_FRAME_BYTES {
            return Err(DecodeError::TooLarge("a live frame"));
        }
        let mut r = Reader::new(bytes);
        let msg = match r.u8("a live message")? {
            1 => {
                let tag = r.u8("a status")?;
                let status =
                    *PresenceStatus::ALL.get(tag as usize).ok_or(DecodeError::UnknownTag { what: "status", tag })?;
                LiveMessage::Presence { status, at: Timestamp(r.varint("a time")?) }
            }
            2 => {
                let target = match r.u8("a target")? {
                    0 => Target::Direct,
                    1 => Target::Channel(duet_model::ChannelId(r.array("a channel")?)),
                    tag => return Err(DecodeError::UnknownTag { what: "target", tag }),
                };
                LiveMessage::Typing { target, at: Timestamp(r.varint("a time")?) }
            }
            tag => return Err(DecodeError::UnknownTag { what: "live message", tag }),
        };
        r.finish()?;
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip() {
        for m in [
            LiveMessage::Presence { status: PresenceStatus::Busy, at: Timestamp(5) },
            LiveMessage::Typing { target: Target::Channel(duet_model::ChannelId([4; 16])), at: Timestamp(9) },
        ] {
            assert_eq!(LiveMessage::decode(&m.encode()).unwrap(), m);
        }
    }

    proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = LiveMessage::decode(&bytes);
        }
    }
}

//! The seed's Message model: content, type, receipts, edits, reactions and attachments.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::ids::{BlobHash, ChannelId, ConversationId, DeviceId, MessageId, PersonId};
use crate::text::validate_name;
use crate::time::Timestamp;

/// The seed's `content.maxlength`.
pub const MAX_CONTENT_CHARS: usize = 2000;
/// A reaction is one emoji, possibly a ZWJ sequence with modifiers.
pub const MAX_EMOJI_CHARS: usize = 10;
/// Byte bound for a reaction emoji.
pub const MAX_EMOJI_BYTES: usize = 40;
/// Different emoji one person can have on one message at once; past it, a reaction is
/// refused when sent and not shown when received (the earliest ones count).
pub const MAX_REACTIONS_PER_PERSON: usize = 20;
/// Different emoji one person's reactions to one message are remembered for, taken-back
/// ones included (a taken-back reaction must be remembered to beat an older copy arriving
/// late); past it, the fold keeps the smallest emoji, so every device keeps the same ones.
pub const MAX_REACTIONS_KEPT_PER_PERSON: usize = 64;
/// Attachments per message.
pub const MAX_ATTACHMENTS: usize = 10;
/// Characters in an attachment's file name.
pub const MAX_ATTACHMENT_NAME_CHARS: usize = 255;
/// The largest attachment a message may refer to (100 MiB).
pub const MAX_ATTACHMENT_SIZE: u64 = 100 * 1024 * 1024;
/// Bars in a voice message's waveform summary.
pub const MAX_WAVEFORM_BARS: usize = 64;
/// The longest voice message (30 minutes).
pub const MAX_VOICE_DURATION_MS: u32 = 30 * 60 * 1000;
/// The largest thumbnail blob (one 256 KiB blob chunk).
pub const MAX_THUMBNAIL_SIZE: u64 = 256 * 1024;
/// The longest side of an image, in pixels, that a message may describe.
pub const MAX_IMAGE_SIDE: u32 = 1 << 16;

/// The seed's `messageType` enum; `text` by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    #[default]
    Text,
    Image,
    Voice,
    File,
    System,
}

impl MessageType {
    /// All variants, in their wire order.
    pub const ALL: [MessageType; 5] = [Self::Text, Self::Image, Self::Voice, Self::File, Self::System];
}

/// The seed's attachment `type` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum AttachmentKind {
    Image,
    Video,
    Audio,
    File,
}

impl AttachmentKind {
    /// All variants, in their wire order.
    pub const ALL: [AttachmentKind; 4] = [Self::Image, Self::Video, Self::Audio, Self::File];
}

/// The seed's attachment: `{type, url (required), name, size}`. The content lives in the
/// blob store under `blob`; `url` is the local `duet://blob/<hash>` reference the app resolves.
///
/// `media` is what the sender measured (an image's size and thumbnail, a voice message's
/// duration and waveform), so the app can draw the message before the content arrives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Attachment {
    #[serde(rename = "type")]
    pub kind: AttachmentKind,
    pub blob: BlobHash,
    pub url: String,
    pub name: String,
    pub size: u64,
    #[serde(default)]
    pub media: Option<Media>,
}

/// What the sender measured about an attachment's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
// Externally tagged (`{"image": {..}}`): the store keeps views in postcard, which cannot
// read internally tagged enums.
#[serde(rename_all = "lowercase")]
pub enum Media {
    /// An image: its size in pixels and a small preview, itself a blob (fetched at once by
    /// receivers, shown inline; the full image is fetched on demand or when small enough).
    Image { width: u32, height: u32, thumbnail: Option<Thumbnail> },
    /// A voice message (Opus in Ogg): its length and [`MAX_WAVEFORM_BARS`] peak levels
    /// (0..=255), evenly spaced over the recording.
    Voice { duration_ms: u32, waveform: Vec<u8> },
}

/// A small preview of an image, stored as its own blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Thumbnail {
    pub blob: BlobHash,
    /// `duet://blob/<hash>`, like an attachment's.
    pub url: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
}

impl Thumbnail {
    /// A validated thumbnail reference.
    pub fn new(blob: BlobHash, size: u64, width: u32, height: u32) -> Result<Self, ValidationError> {
        if size > MAX_THUMBNAIL_SIZE {
            return Err(ValidationError::TooLong {
                field: "a thumbnail",
                len: size as usize,
                max: MAX_THUMBNAIL_SIZE as usize,
            });
        }
        check_side(width)?;
        check_side(height)?;
        Ok(Self { blob, url: blob.url(), size, width, height })
    }
}

fn check_side(pixels: u32) -> Result<(), ValidationError> {
    if pixels > MAX_IMAGE_SIDE {
        return Err(ValidationError::TooLong {
            field: "an image side (pixels)",
            len: pixels as usize,
            max: MAX_IMAGE_SIDE as usize,
        });
    }
    Ok(())
}

impl Media {
    /// The media description with its bounds checked (and thumbnail urls rebuilt).
    pub fn validated(self) -> Result<Self, ValidationError> {
        Ok(match self {
            Media::Image { width, height, thumbnail } => {
                check_side(width)?;
                check_side(height)?;
                let thumbnail = thumbnail.map(|t| Thumbnail::new(t.blob, t.size, t.width, t.height)).transpose()?;
                Media::Image { width, height, thumbnail }
            }
            Media::Voice { duration_ms, waveform } => {
                if waveform.len() > MAX_WAVEFORM_BARS {
                    return Err(ValidationError::TooLong {
                        field: "a waveform",
                        len: waveform.len(),
                        max: MAX_WAVEFORM_BARS,
                    });
                }
                if duration_ms > MAX_VOICE_DURATION_MS {
                    return Err(ValidationError::TooLong {
                        field: "a voice message (milliseconds)",
                        len: duration_ms as usize,
                        max: MAX_VOICE_DURATION_MS as usize,
                    });
                }
                Media::Voice { duration_ms, waveform }
            }
        })
    }

    /// The thumbnail blob, if any.
    pub fn thumbnail(&self) -> Option<&Thumbnail> {
        match self {
            Media::Image { thumbnail, .. } => thumbnail.as_ref(),
            Media::Voice { .. } => None,
        }
    }
}

impl Attachment {
    /// A validated attachment.
    pub fn new(kind: AttachmentKind, blob: BlobHash, name: &str, size: u64) -> Result<Self, ValidationError> {
        let name = validate_name("a file name", name, MAX_ATTACHMENT_NAME_CHARS)?;
        if size > MAX_ATTACHMENT_SIZE {
            return Err(ValidationError::AttachmentTooLarge { name, size, max: MAX_ATTACHMENT_SIZE });
        }
        Ok(Self { kind, blob, url: blob.url(), name, size, media: None })
    }

    /// The same attachment with what the sender measured about it.
    pub fn with_media(self, media: Option<Media>) -> Result<Self, ValidationError> {
        Ok(Self { media: media.map(Media::validated).transpose()?, ..self })
    }

    /// Every blob this attachment refers to: its content, then its thumbnail.
    pub fn blobs(&self) -> impl Iterator<Item = (BlobHash, u64)> + '_ {
        std::iter::once((self.blob, self.size))
            .chain(self.media.as_ref().and_then(Media::thumbnail).map(|t| (t.blob, t.size)))
    }

    /// Checks every attachment of a message against the bounds.
    pub fn validate_all(attachments: &[Attachment]) -> Result<(), ValidationError> {
        if attachments.len() > MAX_ATTACHMENTS {
            return Err(ValidationError::TooManyAttachments { count: attachments.len(), max: MAX_ATTACHMENTS });
        }
        for a in attachments {
            let valid = Attachment::new(a.kind, a.blob, &a.name, a.size)?.with_media(a.media.clone())?;
            if valid != *a {
                return Err(ValidationError::ControlCharacter { field: "an attachment (not normalized)" });
            }
        }
        Ok(())
    }
}

/// The seed's reaction: `{userId, emoji (required), createdAt}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Reaction {
    pub user: PersonId,
    pub emoji: String,
    pub created_at: Timestamp,
}

/// A delivery or read receipt: a flag and the time it first became true.
///
/// The seed's pre-save hook sets `deliveredAt`/`readAt` once, when the flag first becomes
/// true. Receipts here may arrive in any order, so "first" is the earliest receipt time seen:
/// recording a later receipt never moves the time, and the fold is order-independent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Receipt {
    pub at: Option<Timestamp>,
}

impl Receipt {
    /// Whether the flag is true.
    pub fn is_set(&self) -> bool {
        self.at.is_some()
    }

    /// Records that the flag became true at `at`; keeps the earliest time.
    pub fn record(&mut self, at: Timestamp) {
        self.at = Some(self.at.map_or(at, |t| t.min(at)));
    }
}

/// The three indexes of the seed's Message schema, each kept as a sled keyspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageIndex {
    /// `{senderId: 1, recipientId: 1, createdAt: -1}`: direct messages between two people,
    /// newest first.
    SenderRecipientTime,
    /// `{channelId: 1, createdAt: -1}`: a channel's (or the direct conversation's) messages,
    /// newest first.
    ChannelTime,
    /// `{createdAt: 1}`: oldest first, for retention clean-up.
    Time,
}

/// A message as the user sees it: the seed's Message, folded from the event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Message {
    pub id: MessageId,
    /// The seed's `senderId`.
    pub sender: PersonId,
    /// Which of the sender's devices wrote it.
    pub sender_device: DeviceId,
    /// The seed's `recipientId`: the partner, for a direct message.
    pub recipient: Option<PersonId>,
    /// The seed's `channelId`, for a channel message.
    pub channel: Option<ChannelId>,
    /// The conversation it belongs to (direct or channel).
    pub conversation: ConversationId,
    pub content: String,
    pub message_type: MessageType,
    /// The message this one replies to.
    pub reply_to: Option<MessageId>,
    pub read: bool,
    pub read_at: Option<Timestamp>,
    pub delivered: bool,
    pub delivered_at: Option<Timestamp>,
    pub edited: bool,
    pub edited_at: Option<Timestamp>,
    /// Deleted messages keep their place (so replies and receipts still make sense) but lose
    /// their content, reactions and attachments.
    pub deleted: bool,
    pub deleted_at: Option<Timestamp>,
    pub reactions: Vec<Reaction>,
    pub attachments: Vec<Attachment>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Message {
    /// Applies the seed's pre-save hook for delivery: `delivered_at` is set once.
    pub fn set_delivered(&mut self, at: Timestamp) {
        let mut r = Receipt { at: self.delivered_at };
        r.record(at);
        self.delivered = true;
        self.delivered_at = r.at;
    }

    /// Applies the seed's pre-save hook for reading: `read_at` is set once.
    pub fn set_read(&mut self, at: Timestamp) {
        let mut r = Receipt { at: self.read_at };
        r.record(at);
        self.read = true;
        self.read_at = r.at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        Message {
            id: MessageId::new(Timestamp(10), &DeviceId([1; 32]), 1),
            sender: PersonId([1; 32]),
            sender_device: DeviceId([1; 32]),
            recipient: Some(PersonId([2; 32])),
            channel: None,
            conversation: ConversationId([0; 16]),
            content: "hi".into(),
            message_type: MessageType::default(),
            reply_to: None,
            read: false,
            read_at: None,
            delivered: false,
            delivered_at: None,
            edited: false,
            edited_at: None,
            deleted: false,
            deleted_at: None,
            reactions: vec![],
            attachments: vec![],
            created_at: Timestamp(10),
            updated_at: Timestamp(10),
        }
    }

    #[test]
    fn receipts_are_set_once_at_the_first_time() {
        let mut m = message();
        assert_eq!(m.message_type, MessageType::Text);
        m.set_delivered(Timestamp(20));
        m.set_delivered(Timestamp(30));
        assert!(m.delivered);
        assert_eq!(m.delivered_at, Some(Timestamp(20)));
        m.set_read(Timestamp(40));
        m.set_read(Timestamp(35));
        assert_eq!(m.read_at, Some(Timestamp(35)));
    }

    #[test]
    fn attachments_are_bounded() {
        let ok = Attachment::new(AttachmentKind::Image, BlobHash([3; 32]), "cat.png", 1000).unwrap();
        assert!(ok.url.starts_with("duet://blob/0303"));
        let err = Attachment::new(AttachmentKind::File, BlobHash([3; 32]), "big.iso", MAX_ATTACHMENT_SIZE + 1);
        assert!(matches!(err, Err(ValidationError::AttachmentTooLarge { .. })));
        assert!(Attachment::new(AttachmentKind::File, BlobHash([3; 32]), " ", 1).is_err());
        let many = vec![ok.clone(); MAX_ATTACHMENTS + 1];
        assert!(Attachment::validate_all(&many).is_err());

        let thumb = Thumbnail::new(BlobHash([4; 32]), 5000, 320, 200).unwrap();
        let image = ok.clone().with_media(Some(Media::Image { width: 4000, height: 2500, thumbnail: Some(thumb) }));
        let image = image.unwrap();
        assert_eq!(image.blobs().count(), 2);
        assert!(Attachment::validate_all(&[image]).is_ok());
        assert!(Thumbnail::new(BlobHash([4; 32]), MAX_THUMBNAIL_SIZE + 1, 1, 1).is_err());
        let voice = |bars: usize, duration_ms| Media::Voice { duration_ms, waveform: vec![9; bars] };
        assert!(ok.clone().with_media(Some(voice(MAX_WAVEFORM_BARS, 1000))).is_ok());
        assert!(ok.clone().with_media(Some(voice(MAX_WAVEFORM_BARS + 1, 1000))).is_err());
        assert!(ok.clone().with_media(Some(voice(8, MAX_VOICE_DURATION_MS + 1))).is_err());
        let mut forged = ok;
        forged.url = "https://example.com/x".into();
        assert!(Attachment::validate_all(&[forged]).is_err(), "the url is always the blob's");
    }

    #[test]
    fn json_uses_the_seed_names() {
        let json = serde_json::to_value(message()).unwrap();
        assert_eq!(json["message_type"], "text");
        assert_eq!(json["delivered"], false);
        assert!(json["delivered_at"].is_null());
    }
}

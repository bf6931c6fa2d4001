use thiserror::Error;

/// Why a value was refused. The `Display` text is meant for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ValidationError {
    #[error("{field} can't be empty")]
    Empty { field: &'static str },
    #[error("{field} is too long: {len} characters, the limit is {max}")]
    TooLong { field: &'static str, len: usize, max: usize },
    #[error("{field} can't contain control characters")]
    ControlCharacter { field: &'static str },
    #[error("that doesn't look like an emoji (no spaces or letters-only text)")]
    NotAnEmoji,
    #[error("the year {year} is outside what Duet keeps dates for (1900 to 9999)")]
    DateOutOfRange { year: i64 },
    #[error("that day does not exist in the calendar")]
    NoSuchDay,
    #[error("you already reacted to this message with {max} different emoji: take one back to add another")]
    TooManyReactions { max: usize },
    #[error(
        "you have used {max} different reactions on this message, the most Duet remembers for one person: \
         choose one you used before"
    )]
    TooManyReactionsTried { max: usize },
    #[error("the file \"{name}\" is too big: {size} bytes, the limit is {max} bytes")]
    AttachmentTooLarge { name: String, size: u64, max: u64 },
    #[error("too many attachments: {count}, the limit is {max}")]
    TooManyAttachments { count: usize, max: usize },
    #[error("a message needs either a recipient or a channel, not both and not neither")]
    BadTarget,
    /// Offline is what others see when none of my devices is online; it cannot be chosen.
    #[error("you can't set yourself offline while Duet runs: choose invisible to appear offline and still use Duet")]
    OfflineNotAChoice,
}

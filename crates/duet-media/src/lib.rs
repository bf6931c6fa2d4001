//! Media made on the sender, before an attachment is sealed and sent.
//!
//! - [`image`]: decodes PNG, JPEG, GIF and WebP (bounded in pixels and memory) and makes a
//!   thumbnail of at most 320 pixels a side, JPEG (PNG when the image has transparency),
//!   at most 256 KiB. It travels as its own small blob, named in the attachment.
//! - [`voice`]: encodes 16-bit PCM to Opus in Ogg (RFC 7845) with Debian's libopus, and
//!   reads such files back (bounded) to measure their duration and a 64-bar waveform.
//! - [`source`]: a sine [`tone`](source::tone) to test with. The app records voice notes from
//!   the chosen microphone through cpal (`duet_call::devices`).
//!
//! Everything here takes bytes and returns bytes: no files, no network, no clock. Nothing
//! panics on bad input; it returns [`MediaError`].

pub mod image;
pub mod source;
pub mod voice;

use thiserror::Error;

/// Why media could not be made or read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MediaError {
    #[error("this image could not be read: {0}")]
    Image(String),
    #[error("this audio could not be encoded: {0}")]
    Encode(String),
    #[error("this is not an Opus voice message: {0}")]
    NotOpus(String),
    #[error("the recording is too long: {ms} ms, the limit is {max} ms")]
    TooLong { ms: u64, max: u64 },
    #[error("the recording is empty")]
    Empty,
}

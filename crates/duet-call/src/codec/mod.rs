//! Codecs: Opus through libopus, VP8 through libvpx (both Debian's system libraries), and the
//! VP8 RTP payload parsing that turns packets back into frames.

pub mod opus;
pub mod vp8;
pub mod vp8_rtp;

/// A codec refused to start or to work on a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    #[error("opus: {0}")]
    Opus(String),
    #[error("vp8: {0}")]
    Vp8(String),
    #[error("a {width}x{height} frame is not a size a call carries")]
    BadSize { width: u32, height: u32 },
}

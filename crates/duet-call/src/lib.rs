//! Duet's voice and video calls (`docs/architecture.md`, "Calls").
//!
//! The webview cannot do WebRTC on Linux, so the whole call lives here, in Rust:
//!
//! - [`machine`]: the call state machine, sans I/O (invite → ringing → answered, declined,
//!   busy, missed or cancelled → active → ended; glare; hang-up from either side). Signals,
//!   user actions and the time go in; what to send, show and store comes out.
//! - [`session`]: one call's media over webrtc-rs: Opus audio, VP8 video, a data channel for
//!   mute/camera notes, key frame requests and app data. It speaks SDP and ICE through the
//!   same [`duet_log::CallSignal`]s the machine relays over `/duet/live/1`.
//! - [`source`]: where media comes from and goes to (traits), with synthetic sources a
//!   receiver can check (a sine tone, a moving test pattern of known colours) and probes that
//!   record what arrived; [`analysis`] finds the tone's frequency.
//! - [`jitter`]: the adaptive playout buffer between the partner's audio packets and the
//!   decoder (reordering, Opus FEC for a lost frame, concealment, a delay that follows jitter).
//! - [`codec`]: Opus (libopus) and VP8 (libvpx) from Debian's system libraries.
//! - [`devices`]: the real microphone and speaker through cpal, cameras through V4L2.
//!
//! `duet-node` drives a machine per device and a session per call; front ends only see the
//! node's commands and events.

pub mod analysis;
pub mod codec;
pub mod convert;
pub mod devices;
pub mod frame;
pub mod jitter;
pub mod machine;
pub mod processing;
pub mod quality;
pub mod resample;
pub mod session;
pub mod source;

pub use frame::VideoFrame;
pub use machine::{Action, CallError, CallInfo, CallMachine, CallOutcome, CallPhase, Direction, MachineConfig};
pub use quality::CallQuality;
pub use session::{MediaConfig, MediaError, MediaEvent, MediaSession, MediaStats, TurnServer};
pub use source::{AudioProbe, AudioSink, AudioSource, CallMedia, VideoProbe, VideoSink, VideoSource};

/// A lock that a panicked holder left poisoned is taken anyway: every value behind these locks
/// (buffers, the newest frame, counters) stays usable, and a media thread must not die of
/// another's panic.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

//! Real devices, in every build: the microphone and speaker through cpal over ALSA (Debian's
//! `libasound2-dev`; PulseAudio and PipeWire desktops are reached through their ALSA plugins)
//! and cameras through V4L2 (the `v4l` crate, whose bindings need `libclang-dev` to build).
//!
//! Each device runs on its own thread (cpal streams are not `Send`; V4L2 reads and X11 grabs
//! block) and meets the call's media tasks through a bounded buffer: a short queue of audio
//! for the microphone and the speaker, only the latest frame for a camera or a shared
//! screen. An underrun plays or sends silence; nothing blocks the call. Screen sharing (X11's
//! GetImage, or on Wayland the desktop portal and PipeWire: `libpipewire-0.3-dev`) is here
//! too: it is a video source like a camera.
//!
//! [`open_call_media`] turns a person's [`MediaChoice`] into a call's media, saying in words
//! what could not be opened.

mod audio;
mod camera;
mod media;
mod portal;
mod screen;

pub use audio::{
    microphones, speakers, AudioDeviceInfo, LevelMeter, Microphone, Processing, Speaker, Tap, DEFAULT_DEVICE,
};
pub use camera::{cameras, Camera, CameraChoice, CameraInfo, CameraMode, CameraSize, CameraStatus, PixelFormat};
pub use media::{
    open_call_audio, open_call_media, open_call_picture, open_microphone, open_speaker, previewed, MediaChoice,
    OpenedAudio, OpenedMedia, TEST_TONE_HZ,
};
pub use screen::{
    bgrx_to_i420, packed_to_i420, share_targets, PixelOrder, ScreenShare, ShareTarget, PORTAL, SHARE_FPS, WHOLE_SCREEN,
};

/// A device could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DeviceError(pub String);

/// Opens the chosen camera (`None`: the first one) for a call.
pub fn open_camera(id: Option<&str>) -> Result<Box<dyn crate::VideoSource>, DeviceError> {
    Ok(Box::new(Camera::open(CameraChoice { device: id.map(str::to_owned), size: CameraSize::Sd })?))
}

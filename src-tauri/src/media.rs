//! What the app plays and captures in calls and voice notes, and how decoded video reaches
//! the window.
//!
//! The webview has no WebRTC (`docs/platform.md`), so the node runs the call and the app hands it a
//! [`CallMedia`]: where sound and pictures come from and go to. Real devices are behind cargo
//! features (`devices-audio`: the default microphone and speaker through cpal;
//! `devices-camera`: `/dev/video0` through V4L2), off by default like duet-call's. Without
//! them the app uses synthetic sources — a test tone and a moving test pattern — and says so
//! ([`MediaSources`], shown in the UI as "test tone" / "test pattern"), rather than pretending
//! to hear the person. A device that fails to open falls back to the synthetic source and the
//! reason is reported the same way.
//!
//! Video frames (the partner's, decoded, and my own preview) go to the window over a Tauri
//! [`Channel`] as raw bytes: `width: u32 LE | height: u32 LE | RGBA pixels`, at most
//! [`MAX_FPS`] a second, which `ui/src/calls/VideoCanvas.svelte` paints on a `<canvas>`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use duet_node::duet_call::frame::{FRAME_SAMPLES, SAMPLE_RATE};
use duet_node::duet_call::source::{Discard, SineTone, TestPattern};
use duet_node::duet_call::{AudioSink, AudioSource, CallMedia, VideoFrame, VideoSink, VideoSource};
use serde::Serialize;
use tauri::ipc::{Channel, InvokeResponseBody};

/// Frames a second sent to the window, per stream; decoded frames beyond it are skipped.
pub const MAX_FPS: u32 = 15;
/// The synthetic camera's picture size.
const PATTERN_SIZE: (u32, u32) = (320, 240);
/// The test tone's pitch (A4) and level.
const TONE_HZ: f32 = 440.0;
const TONE_LEVEL: f32 = 0.3;
/// The longest voice note (5 minutes of 48 kHz mono).
pub const MAX_VOICE_SAMPLES: usize = 5 * 60 * SAMPLE_RATE as usize;

/// What this build of the app captures and plays, in words for the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MediaSources {
    /// `true`: the microphone is real; `false`: a test tone is sent instead.
    pub microphone: bool,
    /// `true`: the camera is real; `false`: a moving test pattern is sent instead.
    pub camera: bool,
    /// `true`: the partner is heard on the speaker; `false`: their sound is received but not
    /// played (this build has no audio output).
    pub speaker: bool,
    /// Why a device could not be used, if one was wanted (e.g. "no microphone").
    pub problem: Option<String>,
}

/// A video sink (or a tee of a source) that forwards frames to the window.
#[derive(Clone)]
pub struct FrameChannel {
    channel: Channel<InvokeResponseBody>,
    last: Arc<Mutex<Option<Instant>>>,
}

impl FrameChannel {
    pub fn new(channel: Channel<InvokeResponseBody>) -> Self {
        Self { channel, last: Arc::default() }
    }

    fn send(&self, frame: &VideoFrame) {
        let now = Instant::now();
        {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|t| now.duration_since(t) < Duration::from_millis(1000 / u64::from(MAX_FPS))) {
                return;
            }
            *last = Some(now);
        }
        // A window that went away just stops receiving; the call goes on.
        let _ = self.channel.send(InvokeResponseBody::Raw(encode_frame(frame)));
    }
}

/// `width | height | RGBA`, both sizes little-endian u32.
pub fn encode_frame(frame: &VideoFrame) -> Vec<u8> {
    let rgba = frame.to_rgba();
    let mut out = Vec::with_capacity(8 + rgba.len());
    out.extend_from_slice(&frame.width.to_le_bytes());
    out.extend_from_slice(&frame.height.to_le_bytes());
    out.extend_from_slice(&rgba);
    out
}

impl VideoSink for FrameChannel {
    fn frame(&mut self, frame: &VideoFrame) {
        self.send(frame);
    }
}

/// A video source whose frames are also shown to me (the local preview).
struct Previewed {
    source: Box<dyn VideoSource>,
    preview: FrameChannel,
}

impl VideoSource for Previewed {
    fn size(&self) -> (u32, u32) {
        self.source.size()
    }

    fn next_frame(&mut self) -> Option<VideoFrame> {
        let frame = self.source.next_frame()?;
        self.preview.send(&frame);
        Some(frame)
    }
}

/// The sources and sinks for a call: real devices where this build has them and they open,
/// synthetic ones otherwise. `video`: whether to send my picture (a video call).
pub fn call_media(video: bool, remote: FrameChannel, preview: FrameChannel) -> (CallMedia, MediaSources) {
    let (audio_source, audio_sink, mut sources) = audio();
    let video_source = video.then(|| {
        let (camera, problem) = camera();
        sources.camera = problem.is_none() && cfg!(feature = "devices-camera");
        if problem.is_some() {
            sources.problem = problem;
        }
        Box::new(Previewed { source: camera, preview }) as Box<dyn VideoSource>
    });
    let media = CallMedia { audio_source, audio_sink, video_source, video_sink: Box::new(remote) };
    (media, sources)
}

/// What a call would use, without opening anything.
pub fn sources() -> MediaSources {
    MediaSources {
        microphone: cfg!(feature = "devices-audio"),
        camera: cfg!(feature = "devices-camera"),
        speaker: cfg!(feature = "devices-audio"),
        problem: None,
    }
}

#[cfg(feature = "devices-audio")]
fn audio() -> (Box<dyn AudioSource>, Box<dyn AudioSink>, MediaSources) {
    use duet_node::duet_call::devices::{Microphone, Speaker};
    let mut sources = sources();
    let source: Box<dyn AudioSource> = match Microphone::open() {
        Ok(mic) => Box::new(mic),
        Err(e) => {
            sources.microphone = false;
            sources.problem = Some(format!("The microphone could not be opened ({e}); a test tone is sent instead"));
            Box::new(SineTone::new(TONE_HZ, TONE_LEVEL))
        }
    };
    let sink: Box<dyn AudioSink> = match Speaker::open() {
        Ok(speaker) => Box::new(speaker),
        Err(e) => {
            sources.speaker = false;
            sources.problem = Some(format!("The speaker could not be opened ({e}); you will not hear your partner"));
            Box::new(Discard)
        }
    };
    (source, sink, sources)
}

#[cfg(not(feature = "devices-audio"))]
fn audio() -> (Box<dyn AudioSource>, Box<dyn AudioSink>, MediaSources) {
    (Box::new(SineTone::new(TONE_HZ, TONE_LEVEL)), Box::new(Discard), sources())
}

#[cfg(feature = "devices-camera")]
fn camera() -> (Box<dyn VideoSource>, Option<String>) {
    match duet_node::duet_call::devices::Camera::open(0, 640, 480) {
        Ok(camera) => (Box::new(camera), None),
        Err(e) => (
            Box::new(TestPattern::new(PATTERN_SIZE.0, PATTERN_SIZE.1)),
            Some(format!("The camera could not be opened ({e}); a test pattern is sent instead")),
        ),
    }
}

#[cfg(not(feature = "devices-camera"))]
fn camera() -> (Box<dyn VideoSource>, Option<String>) {
    (Box::new(TestPattern::new(PATTERN_SIZE.0, PATTERN_SIZE.1)), None)
}

/// The source a voice note records from: the microphone with `devices-audio`, else the test
/// tone.
fn voice_source() -> Result<Box<dyn AudioSource>, String> {
    #[cfg(feature = "devices-audio")]
    {
        duet_node::duet_call::devices::Microphone::open()
            .map(|m| Box::new(m) as Box<dyn AudioSource>)
            .map_err(|e| format!("The microphone could not be opened ({e})"))
    }
    #[cfg(not(feature = "devices-audio"))]
    {
        Ok(Box::new(SineTone::new(TONE_HZ, TONE_LEVEL)))
    }
}

/// A voice note being recorded: a task pulls 20 ms frames from the source into a buffer
/// until it is stopped or five minutes are full.
pub struct Recording {
    samples: Arc<Mutex<Vec<i16>>>,
    task: tauri::async_runtime::JoinHandle<()>,
}

impl Recording {
    pub fn start() -> Result<Self, String> {
        let mut source = voice_source()?;
        let samples: Arc<Mutex<Vec<i16>>> = Arc::default();
        let into = samples.clone();
        let task = tauri::async_runtime::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            let mut frame = vec![0i16; FRAME_SAMPLES];
            loop {
                tick.tick().await;
                source.read(&mut frame);
                let mut all = into.lock().unwrap_or_else(|e| e.into_inner());
                if all.len() + frame.len() > MAX_VOICE_SAMPLES {
                    break;
                }
                all.extend_from_slice(&frame);
            }
        });
        Ok(Self { samples, task })
    }

    /// Stops recording; the 48 kHz mono samples so far.
    pub fn stop(self) -> Vec<i16> {
        self.task.abort();
        std::mem::take(&mut *self.samples.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_reaches_the_window_as_its_size_then_rgba() {
        let frame = TestPattern::new(32, 16).next_frame().unwrap();
        let bytes = encode_frame(&frame);
        assert_eq!(&bytes[..4], &32u32.to_le_bytes());
        assert_eq!(&bytes[4..8], &16u32.to_le_bytes());
        assert_eq!(bytes.len(), 8 + 32 * 16 * 4);
        // The top-left quadrant of the test pattern is red.
        let px = &bytes[8 + (4 * 32 + 4) * 4..][..4];
        assert!(px[0] > 200 && px[1] < 60 && px[2] < 60, "{px:?}");
    }

    #[test]
    fn without_device_features_the_sources_are_said_to_be_synthetic() {
        let s = sources();
        assert_eq!(s.microphone, cfg!(feature = "devices-audio"));
        assert_eq!(s.camera, cfg!(feature = "devices-camera"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_voice_note_records_the_source_until_stopped() {
        if cfg!(feature = "devices-audio") {
            return; // no microphone on a test machine
        }
        let rec = Recording::start().unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let pcm = rec.stop();
        assert!(pcm.len() >= FRAME_SAMPLES * 3, "{} samples", pcm.len());
        assert!(pcm.iter().any(|s| s.unsigned_abs() > 5000), "the tone is audible");
    }
}

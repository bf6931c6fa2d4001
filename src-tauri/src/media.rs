//! What calls and voice notes capture and play, and how decoded video reaches the window.
//!
//! The webview has no WebRTC (`docs/platform.md`), so the node runs the call and the app hands it
//! a [`CallMedia`]: the microphone, speaker and camera the person chose in Settings (kept by the
//! node as a [`MediaChoice`]), opened by duet-call's [`devices::open_call_media`]. A device that
//! cannot be opened never stops a call: duet-call says so in words ("No camera found: the call
//! goes on with sound only") and the call goes on without it. Those words reach the window in
//! two ways:
//!
//! - what was said while opening comes back with the call (`CallStart::notices`);
//! - what happens later (a headset unplugged mid-call) is said on a bounded queue the device
//!   threads write to without waiting; [`LaterNotices::forward`] emits each as the Tauri event
//!   [`NOTICE_EVENT`], tagged with the call it belongs to.
//!
//! "Send a test tone instead of my microphone" (`MediaChoice::test_tone`, for checking a setup)
//! sends duet-call's 440 Hz tone and test pattern instead of the microphone and camera.
//!
//! Video frames (the partner's, decoded, and my own preview) go to the window over a Tauri
//! [`Channel`] as raw bytes: `width: u32 LE | height: u32 LE | RGBA pixels`, at most
//! [`MAX_FPS`] a second, which `ui/src/calls/VideoCanvas.svelte` paints on a `<canvas>`.
//!
//! Voice notes ([`Recording`]) record from the chosen microphone (or the test tone when it is
//! on) and report their level and length to the window as they go.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use duet_model::CallId;
use duet_node::duet_call::analysis::rms;
use duet_node::duet_call::devices::{self, MediaChoice, Microphone, TEST_TONE_HZ};
use duet_node::duet_call::frame::{FRAME_SAMPLES, SAMPLE_RATE};
use duet_node::duet_call::source::SineTone;
use duet_node::duet_call::{AudioSource, CallMedia, VideoFrame, VideoSink};
use serde::Serialize;
use tauri::ipc::{Channel, InvokeResponseBody};
use tokio::sync::mpsc;

use crate::error::AppError;

/// Frames a second sent to the window, per stream; decoded frames beyond it are skipped.
pub const MAX_FPS: u32 = 15;
/// The longest voice note (5 minutes of 48 kHz mono).
pub const MAX_VOICE_SAMPLES: usize = 5 * 60 * SAMPLE_RATE as usize;
/// The Tauri event that carries a [`CallNotice`].
pub const NOTICE_EVENT: &str = "duet://call-notice";
/// Notices waiting for the window. Devices say something once per change (unplugged, back),
/// so a few are plenty; when the queue is full the device thread drops the newest rather than
/// wait (`duet-call`'s `tell`).
const MAX_QUEUED_NOTICES: usize = 16;
/// The voice-note test tone's level: the one calls send it at (duet-call's test tone).
const TEST_TONE_LEVEL: f32 = 0.3;
/// A voice note reports its progress every this many 20 ms frames (25 times a second): often
/// enough for a meter that follows the voice, rarely enough not to busy the window.
const PROGRESS_EVERY_FRAMES: u64 = 2;
/// One frame of recorded audio.
const FRAME: Duration = Duration::from_millis(1000 * FRAME_SAMPLES as u64 / SAMPLE_RATE as u64);

/// Something said about a call's devices after it started ("The microphone “USB Headset” went
/// away: using the default microphone").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CallNotice {
    /// The call whose devices this is about.
    pub call: CallId,
    /// A sentence to show as it is.
    pub words: String,
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

/// A call's devices, opened.
pub struct OpenedCall {
    pub media: CallMedia,
    /// What did not open as chosen, in words.
    pub notices: Vec<String>,
    /// What the devices say later.
    pub later: LaterNotices,
}

/// Opens the devices of `choice` for a call (`video`: send my picture too). Blocking: opening
/// waits for each device to start (a camera up to 2 s for its first frame).
pub fn open_call(choice: &MediaChoice, video: bool, remote: FrameChannel, preview: FrameChannel) -> OpenedCall {
    let (tx, rx) = mpsc::channel(MAX_QUEUED_NOTICES);
    let opened = devices::open_call_media(choice, video, Box::new(remote), Some(Box::new(preview)), Some(tx));
    OpenedCall { media: opened.media, notices: opened.notices, later: LaterNotices(rx) }
}

/// Opens other devices for the call in progress: the microphone and speaker of `choice` (with
/// their echo canceller), and with `picture` its camera (or test pattern) shown on `preview`.
/// Blocking, like [`open_call`].
pub fn open_switch(choice: &MediaChoice, audio: bool, picture: Option<FrameChannel>) -> Switched {
    let (tx, rx) = mpsc::channel(MAX_QUEUED_NOTICES);
    let mut notices = Vec::new();
    let audio = audio.then(|| {
        let opened = devices::open_call_audio(choice, Some(tx));
        notices.extend(opened.notices);
        (opened.source, opened.sink)
    });
    let picture = picture.and_then(|preview| match devices::open_call_picture(choice, Some(Box::new(preview))) {
        Ok(source) => Some(source),
        Err(e) => {
            notices.push(format!("{e}: the picture stays as it was"));
            None
        }
    });
    Switched { audio, picture, notices, later: LaterNotices(rx) }
}

/// Devices opened to switch to mid-call ([`open_switch`]).
pub struct Switched {
    pub audio: Option<(Box<dyn AudioSource>, Box<dyn duet_node::duet_call::AudioSink>)>,
    pub picture: Option<Box<dyn duet_node::duet_call::VideoSource>>,
    /// What did not open as chosen, in words.
    pub notices: Vec<String>,
    pub later: LaterNotices,
}

/// What a call's devices say after they opened. Held until the call has its id (the devices
/// open before the node places the call); what is said meanwhile waits in the queue.
pub struct LaterNotices(mpsc::Receiver<String>);

impl LaterNotices {
    /// Hands each notice of `call` to `emit` until the call's devices are closed (the
    /// queue's senders live in the device threads, which stop when the call's media is
    /// dropped).
    pub fn forward(mut self, call: CallId, emit: impl Fn(CallNotice) + Send + 'static) {
        tokio::spawn(async move {
            while let Some(words) = self.0.recv().await {
                emit(CallNotice { call, words });
            }
        });
    }
}

/// How a voice note is going, sent to the window while it records.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VoiceNoteProgress {
    /// How loud the last 20 ms were, 0.0 to 1.0 (RMS).
    pub level: f32,
    /// How much is recorded, in milliseconds.
    pub recorded_ms: u32,
    /// Five minutes are recorded: recording stopped by itself, the note waits to be sent or
    /// thrown away.
    pub full: bool,
    /// Something the microphone said since the last report ("The microphone stopped working;
    /// trying it again").
    pub notice: Option<String>,
}

/// Where a voice note comes from, opened.
pub struct VoiceSource {
    pub source: Box<dyn AudioSource>,
    /// What did not open as chosen ("… was not found: recording from the default microphone").
    pub notices: Vec<String>,
    later: mpsc::Receiver<String>,
}

/// Opens the chosen microphone for a voice note (the default one when the chosen one is
/// missing, saying so), or the test tone when that is on. No microphone at all is an error:
/// a voice note of silence is not worth sending. Blocking, like [`open_call`].
pub fn open_voice_source(choice: &MediaChoice) -> Result<VoiceSource, AppError> {
    let (tx, later) = mpsc::channel(MAX_QUEUED_NOTICES);
    if choice.test_tone {
        let source = Box::new(SineTone::new(TEST_TONE_HZ, TEST_TONE_LEVEL));
        return Ok(VoiceSource { source, notices: Vec::new(), later });
    }
    let nothing = |e: devices::DeviceError| AppError::device(format!("{e}, so nothing can be recorded"));
    let mut notices = Vec::new();
    let chosen = choice.microphone.as_deref();
    match Microphone::open(chosen, Some(tx.clone())) {
        Ok(mic) => return Ok(VoiceSource { source: Box::new(mic), notices, later }),
        Err(e) if chosen.is_some() => notices.push(format!("{e}: recording from the default microphone")),
        Err(e) => return Err(nothing(e)),
    }
    let mic = Microphone::open(None, Some(tx)).map_err(nothing)?;
    Ok(VoiceSource { source: Box::new(mic), notices, later })
}

/// A voice note being recorded: a task pulls 20 ms frames from the source into a buffer and
/// reports to `progress`, until it is stopped or five minutes are full. The source (the
/// microphone) is released as soon as recording ends either way.
pub struct Recording {
    samples: Arc<Mutex<Vec<i16>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Recording {
    /// Starts recording; must be called inside the async runtime.
    pub fn start(voice: VoiceSource, mut progress: impl FnMut(VoiceNoteProgress) + Send + 'static) -> Self {
        let VoiceSource { mut source, mut later, .. } = voice;
        let samples: Arc<Mutex<Vec<i16>>> = Arc::default();
        let into = samples.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(FRAME);
            let mut frame = vec![0i16; FRAME_SAMPLES];
            let mut frames = 0u64;
            loop {
                tick.tick().await;
                source.read(&mut frame);
                let recorded = {
                    let mut all = into.lock().unwrap_or_else(|e| e.into_inner());
                    let room = MAX_VOICE_SAMPLES.saturating_sub(all.len());
                    all.extend_from_slice(&frame[..room.min(frame.len())]);
                    all.len()
                };
                frames += 1;
                let full = recorded >= MAX_VOICE_SAMPLES;
                let notice = later.try_recv().ok();
                if full || notice.is_some() || frames.is_multiple_of(PROGRESS_EVERY_FRAMES) {
                    let recorded_ms = (recorded as u64 * 1000 / u64::from(SAMPLE_RATE)) as u32;
                    progress(VoiceNoteProgress { level: rms(&frame), recorded_ms, full, notice });
                }
                if full {
                    break;
                }
            }
        });
        Self { samples, task }
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
    use duet_node::duet_call::analysis::dominant_frequency;
    use duet_node::duet_call::source::TestPattern;
    use duet_node::duet_call::VideoSource;

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

    #[tokio::test]
    async fn what_a_call_s_devices_say_later_reaches_the_window_tagged_with_the_call() {
        let (tx, rx) = mpsc::channel(MAX_QUEUED_NOTICES);
        // Said before the call had its id: it waits in the queue.
        tx.try_send("The microphone “USB Headset” went away: using the default microphone".into()).unwrap();
        let (seen_tx, mut seen) = mpsc::channel(4);
        let call = CallId([7; 16]);
        LaterNotices(rx).forward(call, move |notice| seen_tx.try_send(notice).unwrap());
        tx.try_send("The microphone stopped working; trying it again".into()).unwrap();
        drop(tx); // the call's devices closed

        let first = seen.recv().await.unwrap();
        assert_eq!(first.call, call);
        assert!(first.words.contains("went away"), "{first:?}");
        assert_eq!(seen.recv().await.unwrap().words, "The microphone stopped working; trying it again");
        assert_eq!(seen.recv().await, None, "forwarding ends with the devices");
    }

    /// The test tone as a voice source, with a queue a test can speak on as the microphone would.
    fn tone() -> (VoiceSource, mpsc::Sender<String>) {
        let mut voice = open_voice_source(&MediaChoice { test_tone: true, ..MediaChoice::default() }).unwrap();
        let (tx, rx) = mpsc::channel(MAX_QUEUED_NOTICES);
        voice.later = rx;
        (voice, tx)
    }

    #[tokio::test(start_paused = true)]
    async fn a_voice_note_records_its_source_and_reports_level_and_length_until_stopped() {
        let (voice, mic) = tone();
        let (tx, mut reports) = mpsc::channel(1024);
        let recording = Recording::start(voice, move |p| tx.try_send(p).unwrap());
        let mut last = None;
        while last.as_ref().is_none_or(|p: &VoiceNoteProgress| p.recorded_ms < 1000) {
            last = Some(reports.recv().await.unwrap());
        }
        let last = last.unwrap();
        assert!(last.level > 0.1, "the tone is loud: {last:?}");
        assert!(!last.full);
        mic.try_send("The microphone stopped working; trying it again".into()).unwrap();
        let told = loop {
            let p = reports.recv().await.unwrap();
            if p.notice.is_some() {
                break p;
            }
        };
        assert_eq!(told.notice.as_deref(), Some("The microphone stopped working; trying it again"));

        let pcm = recording.stop();
        let ms = pcm.len() as u64 * 1000 / u64::from(SAMPLE_RATE);
        assert!(ms >= u64::from(told.recorded_ms), "{ms} ms kept, {} reported", told.recorded_ms);
        let hz = dominant_frequency(&pcm, SAMPLE_RATE).unwrap();
        assert!((hz - TEST_TONE_HZ).abs() <= 10.0, "{hz} Hz recorded");
    }

    #[tokio::test(start_paused = true)]
    async fn a_voice_note_stops_by_itself_at_five_minutes_and_says_so() {
        let (voice, _mic) = tone();
        let (tx, mut reports) = mpsc::channel(1);
        let recording = Recording::start(voice, move |p| {
            if p.full {
                tx.try_send(p).unwrap();
            }
        });
        let full = reports.recv().await.unwrap();
        assert_eq!(full.recorded_ms, 5 * 60 * 1000);
        // Nothing more is recorded after that, however long the note waits to be sent.
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(recording.stop().len(), MAX_VOICE_SAMPLES);
    }
}

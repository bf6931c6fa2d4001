//! What a call captures and plays, from a person's device choice: the one place that turns a
//! [`MediaChoice`] into a [`CallMedia`], shared by the app and the `duet` command.
//!
//! Nothing here fails a call. A device that is missing, mistyped or refuses to open is said in
//! words and the call goes on without it (or with the default device): no microphone sends
//! silence, no speaker discards, no camera makes the call sound only. The words are returned
//! with the media, for the front end to show.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::audio::{Microphone, Speaker, Tap};
use crate::processing::{audio_processor, ProcessingSettings};
use crate::source::{
    AudioSink, AudioSource, CallMedia, Discard, Silence, SineTone, TestPattern, VideoSink, VideoSource,
};

/// The test tone's pitch (A4) and level, for checking a setup.
pub const TEST_TONE_HZ: f32 = 440.0;
const TEST_TONE_LEVEL: f32 = 0.3;
/// The test pattern's size.
const PATTERN_SIZE: (u32, u32) = (640, 480);

/// A person's choice of devices for calls and voice notes. Every device is optional: `None`
/// is the desktop's default. Kept by the node (it travels with the data directory, not to the
/// partner) and given per call by the CLI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct MediaChoice {
    /// The microphone's ALSA id ([`super::microphones`]).
    pub microphone: Option<String>,
    /// The speaker's ALSA id ([`super::speakers`]).
    pub speaker: Option<String>,
    /// The camera ([`super::cameras`]).
    pub camera: Option<String>,
    /// Send a 440 Hz test tone and a test pattern instead of the microphone and camera (to
    /// check that a call gets through, without saying anything). The speaker still plays.
    pub test_tone: bool,
}

/// A call's media, opened.
pub struct OpenedMedia {
    pub media: CallMedia,
    /// What did not go as chosen, in words ("No camera found: the call goes on with sound only").
    pub notices: Vec<String>,
}

/// Opens the devices of `choice`. `video`: send my picture (a video call); `preview` sees
/// every frame sent (the self-view). What happens to the devices later (unplugged) is said on
/// `notices`.
pub fn open_call_media(
    choice: &MediaChoice,
    video: bool,
    video_sink: Box<dyn VideoSink>,
    preview: Option<Box<dyn VideoSink>>,
    notices: Option<mpsc::Sender<String>>,
) -> OpenedMedia {
    let OpenedAudio { source: audio_source, sink: audio_sink, notices: mut said } = open_call_audio(choice, notices);
    let video_source = if video {
        match open_call_picture(choice, preview) {
            Ok(source) => Some(source),
            Err(e) => {
                said.push(format!("{e}: the call goes on with sound only"));
                None
            }
        }
    } else {
        None
    };
    OpenedMedia { media: CallMedia { audio_source, audio_sink, video_source, video_sink }, notices: said }
}

/// A call's microphone and speaker, opened together.
pub struct OpenedAudio {
    pub source: Box<dyn AudioSource>,
    pub sink: Box<dyn AudioSink>,
    /// What did not go as chosen, in words.
    pub notices: Vec<String>,
}

/// Opens the microphone and speaker of `choice` (or the test tone and the speaker), with an
/// echo canceller of their own between them: it hears what this speaker plays and cleans
/// this microphone. They are opened and switched as a pair ([`crate::Session::set_audio_source`]
/// and `set_audio_sink` together), because a new microphone or speaker is a new echo path
/// that the canceller has to learn from the start anyway.
pub fn open_call_audio(choice: &MediaChoice, notices: Option<mpsc::Sender<String>>) -> OpenedAudio {
    let mut said = Vec::new();
    let (mut processor, mut reference) = audio_processor(ProcessingSettings::default());
    let source: Box<dyn AudioSource> = if choice.test_tone {
        Box::new(SineTone::new(TEST_TONE_HZ, TEST_TONE_LEVEL))
    } else {
        match open_microphone(choice.microphone.as_deref(), notices.clone(), &mut said) {
            Some(mic) => Box::new(mic.with_processing(Box::new(move |frame| {
                if let Err(e) = processor.capture(frame) {
                    tracing::debug!("the microphone's frame went out unprocessed: {e}");
                }
            }))),
            None => Box::new(Silence),
        }
    };
    let tap: Tap = Box::new(move |played| reference.render(played));
    let sink: Box<dyn AudioSink> = match open_speaker(choice.speaker.as_deref(), notices, Some(tap), &mut said) {
        Some(speaker) => Box::new(speaker),
        None => Box::new(Discard),
    };
    OpenedAudio { source, sink, notices: said }
}

/// My picture for a call as `choice` has it: the chosen camera (the test pattern with the test
/// tone), each frame also shown on `preview`. The error says, in words, why there is none.
pub fn open_call_picture(
    choice: &MediaChoice,
    preview: Option<Box<dyn VideoSink>>,
) -> Result<Box<dyn VideoSource>, super::DeviceError> {
    let source = if choice.test_tone {
        Box::new(TestPattern::new(PATTERN_SIZE.0, PATTERN_SIZE.1)) as Box<dyn VideoSource>
    } else {
        super::open_camera(choice.camera.as_deref())?
    };
    Ok(match preview {
        Some(preview) => previewed(source, preview),
        None => source,
    })
}

/// The chosen microphone, else the default one (saying so), else nothing (saying so).
pub fn open_microphone(
    id: Option<&str>,
    notices: Option<mpsc::Sender<String>>,
    said: &mut Vec<String>,
) -> Option<Microphone> {
    match Microphone::open(id, notices.clone()) {
        Ok(mic) => return Some(mic),
        Err(e) if id.is_some() => said.push(format!("{e}: using the default microphone")),
        Err(_) => {}
    }
    match Microphone::open(None, notices) {
        Ok(mic) => Some(mic),
        Err(e) => {
            said.push(format!("{e}: your partner will not hear you"));
            None
        }
    }
}

/// The chosen speaker, else the default one (saying so), else nothing (saying so). `tap`
/// hears everything it plays.
pub fn open_speaker(
    id: Option<&str>,
    notices: Option<mpsc::Sender<String>>,
    tap: Option<Tap>,
    said: &mut Vec<String>,
) -> Option<Speaker> {
    // Each attempt gets a handle on the one tap (a failed attempt drops only its handle).
    let tap = tap.map(|t| Arc::new(Mutex::new(t)));
    let handle = || {
        tap.clone()
            .map(|t| Box::new(move |played: &[i16]| (t.lock().unwrap_or_else(|e| e.into_inner()))(played)) as Tap)
    };
    match Speaker::open(id, notices.clone(), handle()) {
        Ok(speaker) => return Some(speaker),
        Err(e) if id.is_some() => said.push(format!("{e}: using the default speaker")),
        Err(_) => {}
    }
    match Speaker::open(None, notices, handle()) {
        Ok(speaker) => Some(speaker),
        Err(e) => {
            said.push(format!("{e}: you will not hear your partner"));
            None
        }
    }
}

/// `source`, each of its frames also shown to me on `preview` (the self-view).
pub fn previewed(source: Box<dyn VideoSource>, preview: Box<dyn VideoSink>) -> Box<dyn VideoSource> {
    Box::new(Previewed { source, preview })
}

/// A video source whose frames are also shown to me (the self-view).
struct Previewed {
    source: Box<dyn VideoSource>,
    preview: Box<dyn VideoSink>,
}

impl VideoSource for Previewed {
    fn size(&self) -> (u32, u32) {
        self.source.size()
    }

    fn next_frame(&mut self) -> Option<crate::VideoFrame> {
        let frame = self.source.next_frame()?;
        self.preview.frame(&frame);
        Some(frame)
    }
}

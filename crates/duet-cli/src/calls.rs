//! `duet call`, `answer`, `decline`, `hangup`, `mute`, `calls`, `call-status`,
//! `devices-media`: the node's call commands over the control socket.
//!
//! A call uses the real microphone, speaker and camera of the machine `duet up` runs on: the
//! devices kept in the node's settings, or those given with `--mic`, `--speaker`, `--camera`
//! (ids as `duet devices-media` lists them). A device that is missing is said in words and the
//! call goes on without it. `--synthetic` sends a sine tone (`--tone`, 440 Hz for the caller
//! and 660 Hz for the answerer by default, so each side can tell what it hears) and a 640×480
//! test pattern instead, and plays nothing: for tests and for checking a connection.
//!
//! Either way, what arrives is also recorded by probes, so `duet call-status` reports the
//! pitch heard, whether the picture shows the test pattern's colours, and what was said about
//! the devices.

use std::collections::VecDeque;
use std::sync::Mutex;

use duet_model::CallKind;
use duet_node::duet_call::devices::{self, MediaChoice};
use duet_node::duet_call::source::TestPattern;
use duet_node::duet_call::{AudioProbe, AudioSink, VideoProbe};
use duet_node::{CallMedia, Node, NodeError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// What the current (or last) call's probes recorded.
static PROBES: Mutex<Option<(AudioProbe, VideoProbe)>> = Mutex::new(None);
/// What was said about the devices of the current (or last) call, newest last.
static NOTICES: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());
/// The devices the current call uses (for `call-audio`, which changes one and keeps the other).
static CHOICE: Mutex<Option<MediaChoice>> = Mutex::new(None);
/// Notices kept for `call-status`.
const MAX_NOTICES: usize = 16;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn note(words: String) {
    eprintln!("duet: {words}");
    let mut n = lock(&NOTICES);
    n.push_back(words);
    while n.len() > MAX_NOTICES {
        n.pop_front();
    }
}

/// How a call's media is chosen on the command line.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MediaFlags {
    pub synthetic: bool,
    pub tone: f32,
    pub mic: Option<String>,
    pub speaker: Option<String>,
    pub camera: Option<String>,
}

/// A speaker that a probe also listens to.
struct Tee(Box<dyn AudioSink>, AudioProbe);

impl AudioSink for Tee {
    fn write(&mut self, samples: &[i16]) {
        self.0.write(samples);
        self.1.write(samples);
    }

    fn queued(&self) -> Option<usize> {
        self.0.queued()
    }
}

fn media(node: &Node, flags: &MediaFlags, video: bool) -> Result<CallMedia, NodeError> {
    lock(&NOTICES).clear();
    *lock(&CHOICE) = None;
    if flags.synthetic {
        if !(50.0..=4000.0).contains(&flags.tone) {
            return Err(NodeError::NotAllowed("--tone must be between 50 and 4000 Hz".into()));
        }
        let (media, heard, seen) = CallMedia::synthetic(flags.tone, video.then_some((640, 480)));
        *lock(&PROBES) = Some((heard, seen));
        return Ok(media);
    }
    let kept = node.media_devices()?;
    let choice = MediaChoice {
        microphone: flags.mic.clone().or(kept.microphone),
        speaker: flags.speaker.clone().or(kept.speaker),
        camera: flags.camera.clone().or(kept.camera),
        test_tone: kept.test_tone,
    };
    let (heard, seen) = (AudioProbe::default(), VideoProbe::default());
    let opened = devices::open_call_media(&choice, video, Box::new(seen.clone()), None, Some(later_notices()));
    opened.notices.into_iter().for_each(note);
    let mut media = opened.media;
    media.audio_sink = Box::new(Tee(media.audio_sink, heard.clone()));
    *lock(&PROBES) = Some((heard, seen));
    *lock(&CHOICE) = Some(choice);
    Ok(media)
}

/// Where the devices say what happens to them later (unplugged, back): into `call-status`.
fn later_notices() -> mpsc::Sender<String> {
    let (tx, mut rx) = mpsc::channel(MAX_NOTICES);
    tokio::spawn(async move {
        while let Some(words) = rx.recv().await {
            note(words);
        }
    });
    tx
}

/// Switches the call to another microphone and/or speaker (ids from `devices-media`; the one
/// not given stays as the call has it). For this call only: `devices-media --set-mic` keeps a
/// choice for every call. A device that cannot be opened is said in words and the default one
/// is used, as when a call starts.
pub fn switch_audio(node: &Node, mic: Option<String>, speaker: Option<String>) -> Result<Value, NodeError> {
    if node.current_call().is_none_or(|c| c.phase != duet_node::CallPhase::Active) {
        return Err(NodeError::NotAllowed("there is no call in progress to switch devices in".into()));
    }
    let mut choice = match lock(&CHOICE).clone() {
        Some(choice) => choice,
        // A synthetic call: from now on it uses real devices.
        None => node.media_devices()?,
    };
    choice.test_tone = false;
    if mic.is_some() {
        choice.microphone = mic;
    }
    if speaker.is_some() {
        choice.speaker = speaker;
    }
    let opened = devices::open_call_audio(&choice, Some(later_notices()));
    let heard = {
        let mut probes = lock(&PROBES);
        probes.get_or_insert_with(Default::default).0.clone()
    };
    node.switch_call_audio(opened.source, Box::new(Tee(opened.sink, heard)))?;
    opened.notices.iter().cloned().for_each(note);
    *lock(&CHOICE) = Some(choice);
    Ok(json!({ "notices": opened.notices }))
}

pub async fn call(node: &Node, peer: Option<&str>, video: bool, flags: &MediaFlags) -> Result<Value, NodeError> {
    let partner = node.partner()?.ok_or(NodeError::NoSpace)?;
    if let Some(peer) = peer {
        let name = node.person(&partner)?.map(|p| p.display_name).unwrap_or_default();
        let id = partner.to_string();
        if !name.eq_ignore_ascii_case(peer.trim()) && !id.starts_with(peer.trim()) {
            return Err(NodeError::NotFound(format!("\"{peer}\" is not your partner ({name})")));
        }
    }
    let kind = if video { CallKind::Video } else { CallKind::Voice };
    let media = media(node, flags, video)?;
    let info = node.start_call(kind, media).await?;
    Ok(json!({ "call": info, "notices": notices() }))
}

pub async fn answer(node: &Node, flags: &MediaFlags) -> Result<Value, NodeError> {
    let video = node.current_call().is_some_and(|c| c.kind == CallKind::Video);
    let media = media(node, flags, video)?;
    let info = node.answer_call(media).await?;
    Ok(json!({ "call": info, "notices": notices() }))
}

fn notices() -> Vec<String> {
    lock(&NOTICES).iter().cloned().collect()
}

/// Turns my picture on (from the chosen camera, or `camera`) or off, in any call.
pub fn video(node: &Node, on: bool, camera: Option<String>) -> Result<Value, NodeError> {
    if !on {
        node.set_call_video(None)?;
        return Ok(Value::Null);
    }
    let camera = camera.or(node.media_devices()?.camera);
    let source = devices::open_camera(camera.as_deref()).map_err(|e| NodeError::NotFound(e.to_string()))?;
    node.set_call_video(Some(source))?;
    Ok(Value::Null)
}

/// Shares the screen or a window (`target` from `share_targets`) in the call, instead of the
/// camera; `None` stops sharing. Opening waits off the async workers: on Wayland it waits for
/// the person's choice in the desktop's dialog.
pub async fn share_screen(node: &Node, target: Option<&str>) -> Result<Value, NodeError> {
    let Some(target) = target.map(str::to_owned) else {
        node.set_call_video(None)?;
        return Ok(Value::Null);
    };
    let share = tokio::task::spawn_blocking(move || devices::ScreenShare::open(&target))
        .await
        .map_err(|e| NodeError::NotFound(format!("Screen sharing could not start ({e})")))?
        .map_err(|e| NodeError::NotFound(e.to_string()))?;
    node.set_call_video(Some(Box::new(share)))?;
    Ok(Value::Null)
}

/// What can be shared on this machine's display.
pub fn share_targets() -> Result<Value, NodeError> {
    let targets = devices::share_targets().map_err(|e| NodeError::NotFound(e.to_string()))?;
    Ok(json!(targets))
}

/// The microphones, speakers and cameras of this machine, and which are chosen.
pub fn devices_media(node: Option<&Node>) -> Value {
    let chosen = node.and_then(|n| n.media_devices().ok()).unwrap_or_default();
    json!({
        "microphones": devices::microphones(),
        "speakers": devices::speakers(),
        "cameras": devices::cameras(),
        "chosen": chosen,
    })
}

/// The current call, its media counters and connection quality, what the probes heard and
/// saw, and what was said about the devices.
pub async fn status(node: &Node) -> Value {
    let probes = lock(&PROBES).clone();
    let (heard, seen) = match probes {
        Some((a, v)) => {
            let last = v.last();
            (
                json!({ "frames": a.frames(), "dominant_hz": a.dominant_frequency(), "rms": a.rms() }),
                json!({
                    "frames": v.frames(),
                    "pattern_frames": v.pattern_frames(),
                    "size": last.as_ref().map(|f| [f.width, f.height]),
                    "quadrant_colours": last.as_ref().map(TestPattern::quadrant_colours),
                }),
            )
        }
        None => (Value::Null, Value::Null),
    };
    json!({
        "call": node.current_call(),
        "stats": node.call_stats().map(|(id, s)| json!({ "call": id, "media": s })),
        "heard": heard,
        "seen": seen,
        "quality": node.call_quality().await,
        "notices": notices(),
    })
}

//! `duet call`, `answer`, `decline`, `hangup`, `mute`, `calls`, `call-status`: the node's call
//! commands over the control socket.
//!
//! This build of `duet` has no microphone, speaker or camera (those are `duet-call` features
//! for the app), so calls use synthetic media: a sine tone (`--tone`, 440 Hz for the caller
//! and 660 Hz for the answerer by default, so each side can tell what it hears) and, for
//! video, a 640×480 test pattern. What arrives is recorded by probes; `duet call-status`
//! reports the pitch heard and whether the picture shows the pattern's colours.

use std::sync::Mutex;

use duet_model::CallKind;
use duet_node::duet_call::source::TestPattern;
use duet_node::duet_call::{AudioProbe, VideoProbe};
use duet_node::{CallMedia, Node, NodeError};
use serde_json::{json, Value};

/// What the current (or last) call's probes recorded.
static PROBES: Mutex<Option<(AudioProbe, VideoProbe)>> = Mutex::new(None);

fn media(synthetic: bool, tone: f32, video: bool) -> Result<CallMedia, NodeError> {
    if !synthetic {
        return Err(NodeError::NotAllowed(
            "this duet has no microphone or camera support: add --synthetic to call with a test tone and picture"
                .into(),
        ));
    }
    if !(50.0..=4000.0).contains(&tone) {
        return Err(NodeError::NotAllowed("--tone must be between 50 and 4000 Hz".into()));
    }
    let (media, heard, seen) = CallMedia::synthetic(tone, video.then_some((640, 480)));
    *PROBES.lock().unwrap_or_else(|e| e.into_inner()) = Some((heard, seen));
    Ok(media)
}

pub async fn call(
    node: &Node,
    peer: Option<&str>,
    video: bool,
    synthetic: bool,
    tone: f32,
) -> Result<Value, NodeError> {
    let partner = node.partner()?.ok_or(NodeError::NoSpace)?;
    if let Some(peer) = peer {
        let name = node.person(&partner)?.map(|p| p.display_name).unwrap_or_default();
        let id = partner.to_string();
        if !name.eq_ignore_ascii_case(peer.trim()) && !id.starts_with(peer.trim()) {
            return Err(NodeError::NotFound(format!("\"{peer}\" is not your partner ({name})")));
        }
    }
    let kind = if video { CallKind::Video } else { CallKind::Voice };
    let media = media(synthetic, tone, video)?;
    Ok(json!(node.start_call(kind, media).await?))
}

pub async fn answer(node: &Node, synthetic: bool, tone: f32) -> Result<Value, NodeError> {
    let video = node.current_call().is_some_and(|c| c.kind == CallKind::Video);
    let media = media(synthetic, tone, video)?;
    Ok(json!(node.answer_call(media).await?))
}

/// The current call, its media counters, and what the probes heard and saw.
pub fn status(node: &Node) -> Value {
    let probes = PROBES.lock().unwrap_or_else(|e| e.into_inner()).clone();
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
    })
}

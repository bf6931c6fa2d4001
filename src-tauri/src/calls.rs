//! Call commands (`ui/src/lib/backend/commands.ts` → `ui/src/calls/`): each is one call into
//! `duet-node`. Starting and answering also take two Tauri channels, the window's ends of the
//! partner's video and of my own preview; the media they carry is chosen in `media.rs`.

use duet_model::{Call, CallKind};
use duet_node::{CallInfo, NodeError};
use serde::Serialize;
use tauri::ipc::{Channel, InvokeResponseBody};
use tauri::State;

use crate::error::AppError;
use crate::media::{self, FrameChannel, MediaSources};
use crate::state::AppState;

type Answer<T> = Result<T, AppError>;
type Frames = Channel<InvokeResponseBody>;

/// A call just placed or answered, and what this side sends in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CallStart {
    pub call: CallInfo,
    pub sources: MediaSources,
}

/// What calls and voice notes capture in this build (real devices, or the test tone/pattern).
#[tauri::command]
pub fn media_sources() -> MediaSources {
    media::sources()
}

/// Calls my partner: `video` receives their decoded picture, `preview` my own.
#[tauri::command]
pub async fn start_call(
    state: State<'_, AppState>,
    kind: CallKind,
    video: Frames,
    preview: Frames,
) -> Answer<CallStart> {
    let (media, sources) =
        media::call_media(kind == CallKind::Video, FrameChannel::new(video), FrameChannel::new(preview));
    let call = state.node().await?.start_call(kind, media).await?;
    Ok(CallStart { call, sources })
}

/// Answers the call ringing here (with my picture too if it is a video call).
#[tauri::command]
pub async fn answer_call(state: State<'_, AppState>, video: Frames, preview: Frames) -> Answer<CallStart> {
    let node = state.node().await?;
    let ringing = node.current_call().ok_or_else(|| NodeError::NotFound("no call is ringing".into()))?;
    let (media, sources) =
        media::call_media(ringing.kind == CallKind::Video, FrameChannel::new(video), FrameChannel::new(preview));
    let call = node.answer_call(media).await?;
    Ok(CallStart { call, sources })
}

#[tauri::command]
pub async fn decline_call(state: State<'_, AppState>) -> Answer<()> {
    Ok(state.node().await?.decline_call().await?)
}

/// Cancels my unanswered call, declines a ringing one, or ends the call.
#[tauri::command]
pub async fn hang_up(state: State<'_, AppState>) -> Answer<()> {
    Ok(state.node().await?.hang_up().await?)
}

/// The call in progress (or ringing) on this device, e.g. after the window reloads.
#[tauri::command]
pub async fn current_call(state: State<'_, AppState>) -> Answer<Option<CallInfo>> {
    Ok(state.node().await?.current_call())
}

#[tauri::command]
pub async fn set_call_muted(state: State<'_, AppState>, muted: bool) -> Answer<()> {
    Ok(state.node().await?.set_call_muted(muted)?)
}

#[tauri::command]
pub async fn set_call_camera(state: State<'_, AppState>, on: bool) -> Answer<()> {
    Ok(state.node().await?.set_call_camera(on)?)
}

/// Every call, newest first.
#[tauri::command]
pub async fn call_history(state: State<'_, AppState>) -> Answer<Vec<Call>> {
    Ok(state.node().await?.call_history()?)
}

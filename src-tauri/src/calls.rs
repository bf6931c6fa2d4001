//! Call commands (`ui/src/lib/backend/commands.ts` → `ui/src/calls/`): each is one call into
//! `duet-node`. Starting and answering also take two Tauri channels, the window's ends of the
//! partner's video and of my own preview. The devices are those chosen in Settings (kept by the
//! node), opened in `media.rs`; what could not be opened comes back with the call in words,
//! and what the devices say later arrives as `duet://call-notice` events.

use duet_model::{Call, CallKind};
use duet_node::duet_call::devices::{self, MediaChoice, ShareTarget};
use duet_node::duet_call::VideoSource;
use duet_node::{CallInfo, CallMedia, CallPhase, CallQuality, Node, NodeError};
use serde::Serialize;
use tauri::ipc::{Channel, InvokeResponseBody};
use tauri::{AppHandle, Emitter, State};

use crate::error::{AppError, ErrorCode};
use crate::media::{self, FrameChannel, LaterNotices, OpenedCall, NOTICE_EVENT};
use crate::state::AppState;

type Answer<T> = Result<T, AppError>;
type Frames = Channel<InvokeResponseBody>;

/// A call just placed or answered, and what this side sends in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CallStart {
    pub call: CallInfo,
    /// What did not open as chosen, in words ("No camera found: the call goes on with sound
    /// only"); empty when every device opened.
    pub notices: Vec<String>,
    /// The test tone (and, in a video call, the test pattern) is sent instead of my microphone
    /// and camera (Settings → Audio & video).
    pub test_tone: bool,
    /// My picture is sent: a video call whose camera (or test pattern) opened. `false` in a
    /// voice call, and in a video call without a camera (it goes on with sound only).
    pub camera: bool,
}

/// Opens the devices chosen in Settings for a call (on the blocking pool: opening waits for
/// each device to start).
async fn open_media(
    state: &AppState,
    node: &Node,
    video: bool,
    remote: Frames,
    preview: Frames,
) -> Answer<(OpenedCall, bool)> {
    let choice = node.media_devices()?;
    let test_tone = choice.test_tone;
    let (remote, preview) = (FrameChannel::new(remote), FrameChannel::new(preview));
    state.set_call_preview(preview.clone());
    let opened = tauri::async_runtime::spawn_blocking(move || media::open_call(&choice, video, remote, preview))
        .await
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("The call's devices could not be opened ({e}).")))?;
    Ok((opened, test_tone))
}

/// What the window is told about a call's devices, once the node has taken the media.
struct Opened {
    notices: Vec<String>,
    later: LaterNotices,
    camera: bool,
}

impl Opened {
    fn split(opened: OpenedCall) -> (CallMedia, Self) {
        let OpenedCall { media, notices, later } = opened;
        let camera = media.video_source.is_some();
        (media, Self { notices, later, camera })
    }
}

/// The call has its id: from now on what its devices say reaches the window.
fn started(app: AppHandle, call: CallInfo, opened: Opened, test_tone: bool) -> CallStart {
    let Opened { notices, later, camera } = opened;
    later.forward(call.id, move |notice| {
        if let Err(error) = app.emit(NOTICE_EVENT, &notice) {
            eprintln!("duet-app: a call notice could not reach the window: {error}");
        }
    });
    CallStart { call, notices, test_tone, camera }
}

/// Calls my partner: `video` receives their decoded picture, `preview` my own.
#[tauri::command]
pub async fn start_call(
    app: AppHandle,
    state: State<'_, AppState>,
    kind: CallKind,
    video: Frames,
    preview: Frames,
) -> Answer<CallStart> {
    let node = state.node().await?;
    let (opened, test_tone) = open_media(&state, &node, kind == CallKind::Video, video, preview).await?;
    let (media, opened) = Opened::split(opened);
    // When the call cannot be placed (my partner is not online), the devices just opened
    // close with `media` as the error returns.
    let call = node.start_call(kind, media).await?;
    Ok(started(app, call, opened, test_tone))
}

/// Answers the call ringing here (with my picture too if it is a video call).
#[tauri::command]
pub async fn answer_call(
    app: AppHandle,
    state: State<'_, AppState>,
    video: Frames,
    preview: Frames,
) -> Answer<CallStart> {
    let node = state.node().await?;
    let ringing = node.current_call().ok_or_else(|| NodeError::NotFound("no call is ringing".into()))?;
    let (opened, test_tone) = open_media(&state, &node, ringing.kind == CallKind::Video, video, preview).await?;
    let (media, opened) = Opened::split(opened);
    let call = node.answer_call(media).await?;
    Ok(started(app, call, opened, test_tone))
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

/// Switches the call in progress to the devices of `choice` (the call view's picker) and keeps
/// them for later calls, as Settings → Audio & video does. Only what changed is reopened: the
/// microphone and speaker together (a new echo path for the echo canceller to learn), the
/// camera when my picture comes from it (not while my screen is shared: the new camera is used
/// when sharing stops). Returns what did not open as chosen, in words; the call goes on either
/// way.
#[tauri::command]
pub async fn switch_call_devices(
    app: AppHandle,
    state: State<'_, AppState>,
    choice: MediaChoice,
) -> Answer<Vec<String>> {
    let node = state.node().await?;
    let call = node
        .current_call()
        .filter(|c| c.phase == CallPhase::Active)
        .ok_or_else(|| NodeError::NotAllowed("there is no call in progress to switch devices in".into()))?;
    let before = node.media_devices()?;
    let kept = node.set_media_devices(choice)?;
    let audio = (kept.microphone != before.microphone)
        || (kept.speaker != before.speaker)
        || (kept.test_tone != before.test_tone);
    let picture = (kept.camera != before.camera || kept.test_tone != before.test_tone)
        && node.call_has_picture()
        && !state.sharing();
    let preview = if picture { state.call_preview() } else { None };
    let switched = tauri::async_runtime::spawn_blocking(move || media::open_switch(&kept, audio, preview))
        .await
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("The call's devices could not be opened ({e}).")))?;
    let media::Switched { audio, picture, notices, later } = switched;
    if let Some((source, sink)) = audio {
        node.switch_call_audio(source, sink)?;
    }
    if let Some(source) = picture {
        node.switch_call_camera(source)?;
    }
    later.forward(call.id, move |notice| {
        if let Err(error) = app.emit(NOTICE_EVENT, &notice) {
            eprintln!("duet-app: a call notice could not reach the window: {error}");
        }
    });
    Ok(notices)
}

/// Every call, newest first.
#[tauri::command]
pub async fn call_history(state: State<'_, AppState>) -> Answer<Vec<Call>> {
    Ok(state.node().await?.call_history()?)
}

/// The call's connection over the last few seconds (round trip, loss, bitrates, and whether a
/// person would call it poor), for the call view's indicator. `None` outside a call and
/// before there is anything to compare.
#[tauri::command]
pub async fn call_quality(state: State<'_, AppState>) -> Answer<Option<CallQuality>> {
    Ok(state.node().await?.call_quality().await)
}

/// What can be shared in a call on this display: the whole screen, then its windows (on
/// Wayland one entry: the desktop's own dialog). Said in words where sharing cannot work (no
/// desktop session).
#[tauri::command]
pub async fn share_targets() -> Answer<Vec<ShareTarget>> {
    tauri::async_runtime::spawn_blocking(devices::share_targets)
        .await
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("The screen could not be listed ({e}).")))?
        .map_err(AppError::device)
}

/// Shares the screen or a window (`target`, an id from [`share_targets`]) in the call instead
/// of my camera, shown in my own preview too. `None` stops sharing: in a video call the chosen
/// camera comes back (or, when it cannot, no picture and the reason in words); in a voice call
/// the picture stops.
#[tauri::command]
pub async fn share_screen(state: State<'_, AppState>, target: Option<String>) -> Answer<()> {
    let node = state.node().await?;
    let call =
        node.current_call().ok_or_else(|| NodeError::NotFound("there is no call to share your screen in".into()))?;
    let camera = node.media_devices()?.camera;
    let stopping = target.is_none();
    let sharing = !stopping;
    let opened = tauri::async_runtime::spawn_blocking(move || match &target {
        Some(target) => devices::ScreenShare::open(target).map(|s| Some(Box::new(s) as Box<dyn VideoSource>)),
        None if call.kind == CallKind::Video => devices::open_camera(camera.as_deref()).map(Some),
        None => Ok(None),
    })
    .await
    .map_err(|e| AppError::new(ErrorCode::Internal, format!("The picture could not be changed ({e}).")))?;
    let source = match opened {
        Ok(source) => source,
        Err(e) => {
            // Stopping a share always stops it, even when the camera cannot come back; a share
            // that cannot start leaves the picture as it was.
            if stopping {
                node.set_call_video(None)?;
            }
            return Err(AppError::device(e));
        }
    };
    let source = match (source, state.call_preview()) {
        (Some(source), Some(preview)) => Some(devices::previewed(source, Box::new(preview))),
        (source, _) => source,
    };
    node.set_call_video(source)?;
    state.set_sharing(sharing);
    Ok(())
}

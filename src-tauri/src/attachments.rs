//! Attachment commands (`ui/src/chat/attachments/`): files from a path or from bytes (a
//! paste, a drop, the file picker), voice notes, reading blobs, saving to Downloads. Each is
//! one call into `duet-node`, plus the little a shell must do around it:
//!
//! - Bytes from the window arrive as the raw body of the invoke (no JSON array of numbers),
//!   with the file's name and the conversation in headers (`duet-name`, URI-encoded;
//!   `duet-target`, JSON). `send_bytes` sends them as it would send a file of that name.
//! - A blob is read as raw bytes for the window (which makes an object URL of it): the
//!   content is sealed on disk, so the webview cannot load it by path.
//! - "Save" writes into the person's Downloads folder (no file dialog: one click) and says
//!   where.

use std::path::PathBuf;
use std::sync::Mutex;

use duet_model::{Attachment, Blob, BlobHash, Message, MessageId, Target};
use serde::Serialize;
use tauri::ipc::{Channel, InvokeBody, Request, Response};
use tauri::{AppHandle, Manager, State};

use crate::error::{AppError, ErrorCode};
use crate::media::{open_voice_source, Recording, VoiceNoteProgress};
use crate::state::AppState;

type Answer<T> = Result<T, AppError>;

/// Sends the file at `path` (images get a thumbnail, Ogg Opus files go as voice notes).
#[tauri::command]
pub async fn send_file(
    state: State<'_, AppState>,
    target: Target,
    path: PathBuf,
    text: Option<String>,
) -> Answer<Message> {
    Ok(state.node().await?.send_file(target, &path, text.as_deref().unwrap_or(""), None).await?)
}

/// Sends bytes from the window as a file: the raw invoke body, with headers `duet-name` (the
/// file name, URI-encoded) and `duet-target` (the conversation, as JSON).
#[tauri::command]
pub async fn send_file_bytes(state: State<'_, AppState>, request: Request<'_>) -> Answer<Message> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(invalid("The file's bytes did not arrive (expected a raw body)."));
    };
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(percent_decode);
    let name = header("duet-name").filter(|n| !n.trim().is_empty()).unwrap_or_else(|| "pasted".into());
    let target: Target = header("duet-target")
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| invalid("The conversation to send the file to was not given."))?;
    Ok(state.node().await?.send_bytes(target, &name, bytes.clone(), "", None).await?)
}

/// The voice note being recorded, if any.
#[derive(Default)]
pub struct VoiceRecorder(Mutex<Option<Recording>>);

impl VoiceRecorder {
    /// Throws away what is being recorded, if anything (the window reloaded: nobody can send
    /// it any more), releasing the microphone.
    pub fn discard(&self) {
        if let Some(recording) = self.0.lock().unwrap_or_else(|e| e.into_inner()).take() {
            recording.stop();
        }
    }
}

/// A voice note that started recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VoiceNoteStart {
    /// What did not open as chosen ("The microphone “USB Headset” was not found: recording from
    /// the default microphone").
    pub notices: Vec<String>,
    /// The test tone is recorded instead of the microphone (Settings → Audio & video).
    pub test_tone: bool,
}

/// Starts recording a voice note from the microphone chosen in Settings (or the test tone when
/// that is on); its level and length arrive on `progress` as it records. With no microphone
/// at all nothing is recorded and the error says so.
#[tauri::command]
pub async fn start_voice_note(
    state: State<'_, AppState>,
    recorder: State<'_, VoiceRecorder>,
    progress: Channel<VoiceNoteProgress>,
) -> Answer<VoiceNoteStart> {
    let choice = state.node().await?.media_devices()?;
    let test_tone = choice.test_tone;
    // A second start (a double click) replaces the first recording, and its microphone is let
    // go before the next one opens.
    recorder.discard();
    let voice = tauri::async_runtime::spawn_blocking(move || open_voice_source(&choice))
        .await
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("The microphone could not be opened ({e}).")))??;
    let notices = voice.notices.clone();
    let recording = Recording::start(voice, move |p| {
        // A window that went away just stops hearing how it goes; the note is kept until
        // stopped.
        let _ = progress.send(p);
    });
    if let Some(old) = recorder.0.lock().unwrap_or_else(|e| e.into_inner()).replace(recording) {
        old.stop();
    }
    Ok(VoiceNoteStart { notices, test_tone })
}

/// Stops recording; sends the note to `target`, or throws it away when `target` is absent.
#[tauri::command]
pub async fn stop_voice_note(
    state: State<'_, AppState>,
    recorder: State<'_, VoiceRecorder>,
    target: Option<Target>,
) -> Answer<Option<Message>> {
    let recording = recorder.0.lock().unwrap_or_else(|e| e.into_inner()).take();
    let recording = recording.ok_or_else(|| AppError::new(ErrorCode::NotFound, "Nothing is being recorded."))?;
    let pcm = recording.stop();
    let Some(target) = target else { return Ok(None) };
    if pcm.len() < duet_node::duet_call::frame::SAMPLE_RATE as usize / 2 {
        return Err(invalid("That voice message was too short: record at least half a second."));
    }
    let rate = duet_node::duet_call::frame::SAMPLE_RATE;
    Ok(Some(state.node().await?.send_voice(target, pcm, rate, 1, "").await?))
}

/// A complete blob's bytes (an image, its thumbnail, a voice note…).
#[tauri::command]
pub async fn read_blob(state: State<'_, AppState>, hash: BlobHash) -> Answer<Response> {
    Ok(Response::new(state.node().await?.read_blob(hash).await?))
}

/// How much of a blob is here (`null`: nothing known yet).
#[tauri::command]
pub async fn blob_status(state: State<'_, AppState>, hash: BlobHash) -> Answer<Option<Blob>> {
    Ok(state.node().await?.blob_status(&hash)?)
}

/// Fetches an attachment too big to come by itself; resolves once it is here.
#[tauri::command]
pub async fn fetch_attachment(state: State<'_, AppState>, message: MessageId, index: u32) -> Answer<Attachment> {
    Ok(state.node().await?.fetch_attachment(&message, index as usize).await?)
}

/// Saves an attachment into the Downloads folder; returns the file's path.
#[tauri::command]
pub async fn save_attachment(
    app: AppHandle,
    state: State<'_, AppState>,
    message: MessageId,
    index: u32,
) -> Answer<String> {
    let dir = app.path().download_dir().or_else(|_| app.path().home_dir()).map_err(|e| {
        AppError::new(ErrorCode::StoreUnavailable, format!("There is no Downloads folder to save to ({e})."))
    })?;
    let path = state.node().await?.save_attachment(&message, index as usize, &dir).await?;
    Ok(path.display().to_string())
}

fn invalid(message: &str) -> AppError {
    AppError::new(ErrorCode::InvalidInput, message)
}

/// Decodes `%XX` escapes (what `encodeURIComponent` makes); invalid UTF-8 is replaced.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn file_names_survive_the_header() {
        assert_eq!(percent_decode("caf%C3%A9%20photo.png"), "café photo.png");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%7B%22channel%22%3A%22ab%22%7D"), r#"{"channel":"ab"}"#);
    }
}

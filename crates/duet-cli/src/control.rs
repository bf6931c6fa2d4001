//! The control socket: how `duet` commands talk to a running `duet up` in the same data dir.
//!
//! A Unix socket `<data dir>/duet.sock`. The client writes one JSON request line; the node
//! answers one JSON line: `{"ok": <value>}` or `{"error": {"code": "...", "message": "..."}}`.
//! A `fetch` request may first get `{"progress": {"done": <bytes>, "total": <bytes>, "waiting":
//! <bool>}}` lines (`waiting`: the node has no device to fetch from yet).
//! Each request maps to one `duet_node::Node` method; no logic lives here.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use duet_model::{ChannelKind, InviteKind, MessageId, PresenceStatus, Target};
use duet_node::{Node, NodeError, NodeEvent};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// One request to a running node. `SendFile` sends a file (an absolute path, read by the
/// node) with optional text; `Fetch` saves an attachment in the folder `out`, answering
/// progress lines first.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Request {
    Invite {
        device: bool,
    },
    Invites,
    CancelInvite {
        id: String,
    },
    /// The safety number; with `mark`, marks it checked (or takes the mark back) first.
    Verify {
        mark: Option<bool>,
    },
    Devices,
    RemoveDevice {
        device: duet_model::DeviceId,
    },
    Join {
        ticket: String,
    },
    /// The couple's mailbox: with `ticket`, adds it first; with `remove`, stops using it.
    Mailbox {
        ticket: Option<String>,
        remove: bool,
    },
    Send {
        channel: Option<String>,
        text: String,
        reply_to: Option<MessageId>,
    },
    SendFile {
        channel: Option<String>,
        path: PathBuf,
        text: String,
        reply_to: Option<MessageId>,
    },
    Fetch {
        id: MessageId,
        index: usize,
        out: PathBuf,
    },
    Messages {
        channel: Option<String>,
        limit: usize,
    },
    Edit {
        id: MessageId,
        text: String,
    },
    React {
        id: MessageId,
        emoji: String,
    },
    Unreact {
        id: MessageId,
        emoji: String,
    },
    Delete {
        id: MessageId,
    },
    Read {
        id: MessageId,
    },
    Status {
        status: PresenceStatus,
        text: Option<String>,
        clear_text: bool,
    },
    Peers,
    Presence,
    Mood {
        mood: Option<duet_model::Mood>,
    },
    Nudge,
    Pin {
        id: MessageId,
        channel: Option<String>,
        pinned: bool,
    },
    Pins {
        channel: Option<String>,
    },
    Memories {
        before: Option<MessageId>,
        limit: usize,
    },
    Search {
        words: String,
        channel: Option<String>,
        before: Option<duet_model::Timestamp>,
        limit: usize,
    },
    MemoriesIn {
        windows: Vec<duet_node::TimeWindow>,
    },
    ExportStory {
        path: std::path::PathBuf,
    },
    Backup {
        path: std::path::PathBuf,
        passphrase: String,
    },
    Dates,
    Lists,
    ListNew {
        title: String,
    },
    ListEdit {
        list: String,
        edit: crate::lists::Edit,
    },
    TogetherSince {
        date: Option<duet_model::CalendarDate>,
    },
    SaveDate {
        id: Option<duet_model::DateId>,
        date: duet_model::SharedDate,
    },
    RemoveDate {
        id: duet_model::DateId,
    },
    Channels,
    CreateChannel {
        name: String,
    },
    RenameChannel {
        channel: String,
        name: String,
    },
    Conversations,
    Call {
        peer: Option<String>,
        video: bool,
        media: crate::calls::MediaFlags,
    },
    Answer {
        media: crate::calls::MediaFlags,
    },
    DevicesMedia,
    Video {
        on: bool,
        camera: Option<String>,
    },
    ShareScreen {
        target: Option<String>,
    },
    CallAudio {
        mic: Option<String>,
        speaker: Option<String>,
    },
    ShareTargets,
    SetMediaDevices {
        choice: duet_node::duet_call::devices::MediaChoice,
    },
    Decline,
    Hangup,
    Mute {
        muted: bool,
    },
    Calls,
    CallStatus,
}

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join("duet.sock")
}

/// Sends a request to the node running in `data_dir`.
pub async fn call(data_dir: &Path, request: &Request) -> anyhow::Result<Value> {
    call_with_progress(data_dir, request, |_| {}).await
}

/// Where a long request stands, as the node reports it.
pub struct Progress {
    pub done: u64,
    pub total: u64,
    /// No device that could serve it is connected: the request waits for one.
    pub waiting: bool,
}

/// Sends a request and hands each progress line to `on_progress`.
pub async fn call_with_progress(
    data_dir: &Path,
    request: &Request,
    mut on_progress: impl FnMut(Progress),
) -> anyhow::Result<Value> {
    let path = socket_path(data_dir);
    let stream = match UnixStream::connect(&path).await {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => bail!(
            "the Duet in {dir} belongs to another user of this computer: run duet as that user",
            dir = data_dir.display()
        ),
        Err(_) => bail!(
            "Duet is not running for {dir}; start it first with `duet --data-dir {dir} up`",
            dir = data_dir.display()
        ),
    };
    let (r, mut w) = stream.into_split();
    let mut line = serde_json::to_string(request)?;
    line.push('\n');
    w.write_all(line.as_bytes()).await?;
    let mut reader = BufReader::new(r);
    let answer = loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.context("the node closed the connection")? == 0 {
            bail!("the node closed the connection");
        }
        let answer: Value = serde_json::from_str(&line).context("the node's answer is not JSON")?;
        match answer.get("progress") {
            Some(p) => on_progress(Progress {
                done: p["done"].as_u64().unwrap_or(0),
                total: p["total"].as_u64().unwrap_or(0),
                waiting: p["waiting"].as_bool().unwrap_or(false),
            }),
            None => break answer,
        }
    };
    if let Some(e) = answer.get("error") {
        bail!("{}", e.get("message").and_then(Value::as_str).unwrap_or("the node refused"));
    }
    Ok(answer.get("ok").cloned().unwrap_or(Value::Null))
}

/// Serves requests until the task is dropped.
///
/// Only this user may drive the node: a connection from another user (the socket's peer
/// credentials, checked against the socket's owner) gets a refusal in words and is closed.
/// (The socket is 0600 in a 0700 data directory, so another user should not even reach it;
/// this holds also when someone widened those permissions by hand.)
pub async fn serve(node: Node, listener: UnixListener, owner: u32) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else { continue };
        let node = node.clone();
        if stream.peer_cred().map(|c| c.uid()).ok() != Some(owner) {
            tokio::spawn(async move {
                // Read the request first (bounded, briefly), so the refusal is what the other
                // side reads rather than a broken pipe.
                let mut line = String::new();
                let mut request = BufReader::new((&mut stream).take(1 << 20));
                let _ = tokio::time::timeout(std::time::Duration::from_secs(2), request.read_line(&mut line)).await;
                let refusal = json!({ "error": { "code": "not_allowed", "message": "this Duet belongs to another user of this computer" } });
                let _ = stream.write_all(format!("{refusal}\n").as_bytes()).await;
            });
            continue;
        }
        tokio::spawn(async move {
            let (r, mut w) = stream.into_split();
            let mut line = String::new();
            let mut reader = BufReader::new(r.take(1 << 20));
            if reader.read_line(&mut line).await.is_err() {
                return;
            }
            let answer = match serde_json::from_str::<Request>(&line) {
                Ok(Request::Fetch { id, index, out }) => match fetch(&node, id, index, &out, &mut w).await {
                    Ok(v) => json!({ "ok": v }),
                    Err(e) => json!({ "error": { "code": e.code(), "message": e.to_string() } }),
                },
                Ok(request) => match handle(&node, request).await {
                    Ok(v) => json!({ "ok": v }),
                    Err(e) => json!({ "error": { "code": e.code(), "message": e.to_string() } }),
                },
                Err(e) => json!({ "error": { "code": "bad_request", "message": e.to_string() } }),
            };
            let mut out = answer.to_string();
            out.push('\n');
            let _ = w.write_all(out.as_bytes()).await;
        });
    }
}

/// Fetches an attachment, writing a progress line whenever the node reports one.
async fn fetch(
    node: &Node,
    id: MessageId,
    index: usize,
    out: &Path,
    w: &mut (impl AsyncWriteExt + Unpin),
) -> Result<Value, NodeError> {
    let attachment = node.attachment(&id, index)?;
    let mut events = node.subscribe();
    let line = |done: u64, total: u64, waiting: bool| {
        format!("{}\n", json!({ "progress": { "done": done, "total": total, "waiting": waiting } }))
    };
    if let Some(b) = node.blob_status(&attachment.blob)? {
        let _ = w.write_all(line(b.have, b.size, false).as_bytes()).await;
    }
    let save = node.save_attachment(&id, index, out);
    tokio::pin!(save);
    loop {
        tokio::select! {
            saved = &mut save => {
                let path = saved?;
                return Ok(json!({ "path": path, "name": attachment.name, "size": attachment.size }));
            }
            event = events.recv() => match event {
                Ok(NodeEvent::BlobProgress { blob, done, total }) if blob == attachment.blob => {
                    let _ = w.write_all(line(done, total, false).as_bytes()).await;
                }
                Ok(NodeEvent::BlobWaiting { blob, done, total }) if blob == attachment.blob => {
                    let _ = w.write_all(line(done, total, true).as_bytes()).await;
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return Err(NodeError::Stopped),
            },
        }
    }
}

fn target(node: &Node, channel: Option<&str>) -> Result<Target, NodeError> {
    match channel {
        None => Ok(Target::Direct),
        Some(name) => Ok(Target::Channel(node.channel_by_name(name)?.id)),
    }
}

fn to_json<T: Serialize>(v: T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

async fn handle(node: &Node, request: Request) -> Result<Value, NodeError> {
    Ok(match request {
        Request::Invite { device } => {
            let kind = if device { InviteKind::OwnDevice } else { InviteKind::Partner };
            let ticket = node.invite(kind).await?;
            json!({ "id": duet_node::ticket_id(&ticket)?, "ticket": ticket })
        }
        Request::Invites => to_json(node.invites()),
        Request::CancelInvite { id } => to_json(node.cancel_invite(&id).await?),
        Request::Join { ticket } => {
            node.join(&ticket).await?;
            json!({ "person_id": node.person_id(), "device_id": node.device_id() })
        }
        Request::Mailbox { ticket, remove } => {
            if let Some(ticket) = ticket {
                node.add_mailbox(&ticket).await?;
            } else if remove {
                node.remove_mailbox().await?;
            }
            to_json(node.mailbox_status().await?)
        }
        Request::Send { channel, text, reply_to } => {
            let t = target(node, channel.as_deref())?;
            to_json(node.send(t, &text, reply_to).await?)
        }
        Request::SendFile { channel, path, text, reply_to } => {
            let t = target(node, channel.as_deref())?;
            to_json(node.send_file(t, &path, &text, reply_to).await?)
        }
        Request::Fetch { id, index, out } => {
            let path = node.save_attachment(&id, index, &out).await?;
            json!({ "path": path })
        }
        Request::Messages { channel, limit } => {
            let t = target(node, channel.as_deref())?;
            let mut page = node.messages(t, None, limit)?.messages;
            page.reverse();
            to_json(page)
        }
        Request::Edit { id, text } => to_json(node.edit(id, &text).await?),
        Request::React { id, emoji } => to_json(node.react(id, &emoji).await?),
        Request::Unreact { id, emoji } => to_json(node.unreact(id, &emoji).await?),
        Request::Delete { id } => {
            node.delete(id).await?;
            Value::Null
        }
        Request::Read { id } => {
            node.mark_read(id).await?;
            Value::Null
        }
        Request::Status { status, text, clear_text } => {
            let custom = if clear_text { Some(None) } else { text.map(Some) };
            node.set_status(status, custom).await?;
            Value::Null
        }
        Request::Peers => to_json(node.peers().await?),
        Request::Devices => to_json(node.devices().await?),
        Request::RemoveDevice { device } => to_json(node.remove_device(device).await?),
        Request::Verify { mark: None } => to_json(node.verification()?),
        Request::Verify { mark: Some(verified) } => to_json(node.mark_verified(verified).await?),
        Request::Presence => to_json(node.presence()?),
        Request::Mood { mood } => {
            node.set_mood(mood).await?;
            Value::Null
        }
        Request::Nudge => {
            node.nudge().await?;
            Value::Null
        }
        Request::Pin { id, channel, pinned } => {
            let t = target(node, channel.as_deref())?;
            to_json(node.pin(t, id, pinned).await?)
        }
        Request::Dates => to_json(node.dates()?),
        Request::Lists => to_json(node.lists()?),
        Request::ListNew { title } => to_json(node.create_list(&title).await?),
        Request::ListEdit { list, edit } => crate::lists::edit(node, &list, edit).await?,
        Request::TogetherSince { date } => to_json(node.set_together_since(date).await?),
        Request::SaveDate { id, date } => to_json(node.save_date(id, date).await?),
        Request::RemoveDate { id } => {
            node.remove_date(id).await?;
            Value::Null
        }
        Request::Pins { channel } => to_json(node.pinned(target(node, channel.as_deref())?)?),
        Request::Memories { before, limit } => to_json(node.memories(before, limit)?),
        Request::Search { words, channel, before, limit } => {
            let target = channel.map(|c| target(node, Some(&c))).transpose()?;
            to_json(node.search(&words, target, before, limit)?)
        }
        Request::MemoriesIn { windows } => to_json(node.memories_in(&windows)?),
        Request::ExportStory { path } => to_json(node.export_story(&path).await?),
        Request::Backup { path, passphrase } => to_json(node.backup(&path, passphrase).await?),
        Request::Channels => to_json(node.channels()?),
        Request::CreateChannel { name } => to_json(node.create_channel(&name, ChannelKind::Text, None).await?),
        Request::RenameChannel { channel, name } => {
            let c = node.channel_by_name(&channel)?;
            to_json(node.rename_channel(c.id, &name).await?)
        }
        Request::Conversations => to_json(node.conversations()?),
        Request::Call { peer, video, media } => crate::calls::call(node, peer.as_deref(), video, &media).await?,
        Request::Answer { media } => crate::calls::answer(node, &media).await?,
        Request::DevicesMedia => crate::calls::devices_media(Some(node)),
        Request::Video { on, camera } => crate::calls::video(node, on, camera)?,
        Request::ShareScreen { target } => crate::calls::share_screen(node, target.as_deref()).await?,
        Request::ShareTargets => crate::calls::share_targets()?,
        Request::CallAudio { mic, speaker } => crate::calls::switch_audio(node, mic, speaker)?,
        Request::SetMediaDevices { choice } => to_json(node.set_media_devices(choice)?),
        Request::Decline => {
            node.decline_call().await?;
            Value::Null
        }
        Request::Hangup => {
            node.hang_up().await?;
            Value::Null
        }
        Request::Mute { muted } => {
            node.set_call_muted(muted)?;
            Value::Null
        }
        Request::Calls => to_json(node.call_history()?),
        Request::CallStatus => crate::calls::status(node).await,
    })
}

//! Calls (`docs/architecture.md`, "Calls"): the node drives one `duet_call::CallMachine` per
//! device and one `duet_call::MediaSession` per call.
//!
//! The component ([`Calls`], `driver.rs`) owns the machine and the session and reaches the
//! rest of the device through a [`CallHost`]; this module is the node's side: the host (live
//! streams, the log, the relays' STUN) and the façade the shells call.
//!
//! - Commands ([`Node::start_call`], [`Node::answer_call`], [`Node::decline_call`],
//!   [`Node::hang_up`]) and signals from member devices (`LiveMessage::Call`, read by
//!   `live`) go into the machine under a lock; the actions that come out are carried out in
//!   order outside it: signals are sent on the peer's live stream (awaited, never dropped
//!   like presence), media sessions are started and stopped, front ends get
//!   [`NodeEvent::Call`], and the caller's device stores the call's record in the log.
//! - A call rings on every connected device of the partner; the machine tells the others to
//!   stop when one answers.
//! - The media a call plays and captures is the front end's choice ([`CallMedia`]): the app
//!   passes its microphone, speaker, camera and a video sink that paints its canvas; the CLI
//!   and tests pass synthetic sources and probes.
//! - A ticker runs the machine's timeouts (ring, connect) four times a second.

mod driver;
mod turn;

pub(crate) use turn::TurnCredentialsHeld;

use std::sync::Arc;
use std::time::Duration;

use duet_call::devices::MediaChoice;
use duet_call::{AudioSink, AudioSource, CallInfo, CallMedia, CallQuality, MachineConfig, MediaConfig, MediaStats};
use duet_call::{MediaSession, VideoSource};
use duet_log::{CallRecordPayload, CallSignal, LiveMessage, Payload};
use duet_model::{Call, CallId, CallKind, DeviceId, PersonId};

pub(crate) use driver::{CallHost, Calls};

use crate::{Node, NodeError, NodeEvent};

/// Call timeouts and where media binds.
#[derive(Debug, Clone)]
pub struct CallSettings {
    /// How long a call rings before it is missed (30 s).
    pub ring_timeout: Duration,
    /// How long an answered call may take to connect (20 s).
    pub connect_timeout: Duration,
    pub media: MediaConfig,
}

impl Default for CallSettings {
    fn default() -> Self {
        let m = MachineConfig::default();
        Self { ring_timeout: m.ring_timeout, connect_timeout: m.connect_timeout, media: MediaConfig::default() }
    }
}

/// The longest device id kept in the media device setting (ALSA and V4L2 names are short).
pub const MAX_DEVICE_ID_CHARS: usize = 256;

/// How long a call signal waits for a just-connected device's live sender.
const LIVE_SENDER_PATIENCE: Duration = Duration::from_secs(5);

/// The node is a call's host: it knows who I am, reaches devices on their live streams,
/// and keeps the record in the log.
impl CallHost for Node {
    fn me(&self) -> Option<(DeviceId, PersonId)> {
        Some((self.device_id(), self.person_id()?))
    }

    async fn send_signal(&self, to: DeviceId, signal: CallSignal) {
        // A device that has just connected may not have its live sender yet: wait (up to
        // LIVE_SENDER_PATIENCE) until it is ready rather than lose the signal.
        let tx = self.shared.peers.live_sender(&to, LIVE_SENDER_PATIENCE).await;
        let Some(tx) = tx else {
            tracing::info!(?to, "a call signal was not sent: the device is not connected");
            return;
        };
        // Unlike presence, a call signal waits for room (briefly) rather than being dropped.
        let _ = tokio::time::timeout(Duration::from_secs(2), tx.send(LiveMessage::Call(signal))).await;
    }

    async fn media_config(&self) -> Result<MediaConfig, NodeError> {
        let mut config = self.shared.config.calls.media.clone();
        if config.stun_servers.is_empty() {
            // Each relay answers STUN too (`duet relay`): with it, a call gets through the
            // home routers on both sides, as the chat does.
            config.stun_servers = self.relays_in_use()?.iter().filter_map(duet_net::stun::stun_url).collect();
        }
        if config.turn_servers.is_empty() {
            // And TURN, for when no hole punches through (symmetric NATs on both sides).
            config.turn_servers = self.turn_servers().await;
        }
        Ok(config)
    }

    async fn record(&self, record: CallRecordPayload) {
        if let Err(e) = self.write(Payload::CallRecord(record)).await {
            tracing::warn!("the call record could not be stored: {e}");
        }
    }

    fn tell(&self, event: NodeEvent) {
        self.emit(event);
    }

    fn track(&self, task: tokio::task::JoinHandle<()>) {
        self.track_task(task);
    }
}

impl Node {
    fn calls(&self) -> &Arc<Calls> {
        &self.shared.calls
    }

    /// Calls my partner on all their connected devices. `media` is what this side plays and
    /// captures for the call.
    pub async fn start_call(&self, kind: CallKind, media: CallMedia) -> Result<CallInfo, NodeError> {
        self.touch();
        let partner = self.partner()?.ok_or(NodeError::NoSpace)?;
        let devices = self.partner_devices(partner).await?;
        self.calls().place(self, kind, partner, &devices, media).await
    }

    /// Answers the call ringing on this device.
    pub async fn answer_call(&self, media: CallMedia) -> Result<CallInfo, NodeError> {
        self.touch();
        self.calls().answer(self, media).await
    }

    /// Declines the call ringing on this device (on all my devices: the caller stops it).
    pub async fn decline_call(&self) -> Result<(), NodeError> {
        self.calls().decline(self).await
    }

    /// Hangs up: cancels my unanswered call, declines a ringing one, ends an answered one.
    pub async fn hang_up(&self) -> Result<(), NodeError> {
        self.calls().hang_up(self).await
    }

    /// The call in progress on this device, if any.
    pub fn current_call(&self) -> Option<CallInfo> {
        self.calls().current()
    }

    /// Media counters of the call in progress, or of the last call.
    pub fn call_stats(&self) -> Option<(CallId, MediaStats)> {
        self.calls().stats()
    }

    fn session(&self) -> Result<Arc<MediaSession>, NodeError> {
        self.calls().session()
    }

    /// How good the call's connection is over the last few seconds (round trip, loss,
    /// bitrates, and whether it is poor). `None` without media, or right at the start.
    pub async fn call_quality(&self) -> Option<CallQuality> {
        let session = self.session().ok()?;
        session.quality().await
    }

    /// Mutes or unmutes my microphone in the call.
    pub fn set_call_muted(&self, muted: bool) -> Result<(), NodeError> {
        self.session()?.set_muted(muted);
        Ok(())
    }

    /// Turns my camera off or on in a video call.
    pub fn set_call_camera(&self, on: bool) -> Result<(), NodeError> {
        self.session()?.set_camera(on).map_err(|e| NodeError::NotAllowed(e.to_string()))
    }

    /// Sends my picture from `source` from now on — a camera turned on in a voice call too,
    /// or a shared screen — or stops sending pictures (`None`). My partner is told.
    pub fn set_call_video(&self, source: Option<Box<dyn VideoSource>>) -> Result<(), NodeError> {
        self.session()?.set_video_source(source);
        Ok(())
    }

    /// Whether my picture has a source in the call now (a camera or a shared screen), on or off.
    pub fn call_has_picture(&self) -> bool {
        self.session().is_ok_and(|s| s.has_picture())
    }

    /// Switches my picture to another camera, keeping it on or off as it is. Refused when the
    /// call has no picture (`set_call_video` turns one on).
    pub fn switch_call_camera(&self, source: Box<dyn VideoSource>) -> Result<(), NodeError> {
        self.session()?.switch_video_source(source).map_err(|e| NodeError::NotAllowed(e.to_string()))
    }

    /// Switches the call to another microphone and speaker (opened together, with the echo
    /// canceller between them: `duet_call::devices::open_call_audio`): the next frame sent
    /// comes from `source`, the partner's next frame plays on `sink`. The old ones close.
    pub fn switch_call_audio(&self, source: Box<dyn AudioSource>, sink: Box<dyn AudioSink>) -> Result<(), NodeError> {
        let session = self.session()?;
        session.set_audio_source(source);
        session.set_audio_sink(sink);
        Ok(())
    }

    /// Sends application data to my partner over the call's data channel (at most 16 KiB).
    pub async fn send_call_data(&self, data: &[u8]) -> Result<(), NodeError> {
        self.session()?.send_data(data).await.map_err(|e| NodeError::NotAllowed(e.to_string()))
    }

    /// The microphone, speaker and camera chosen for calls and voice notes (the defaults
    /// until one is chosen; a setting that does not read back is treated as never made).
    pub fn media_devices(&self) -> Result<MediaChoice, NodeError> {
        let kept = self.shared.store.media_devices()?;
        Ok(kept.and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default())
    }

    /// Keeps the devices chosen for calls and voice notes (on this device only). Each is a
    /// device id as `duet devices-media` lists it; empty means the default.
    pub fn set_media_devices(&self, mut choice: MediaChoice) -> Result<MediaChoice, NodeError> {
        for (what, id) in
            [("microphone", &mut choice.microphone), ("speaker", &mut choice.speaker), ("camera", &mut choice.camera)]
        {
            if id.as_deref().is_some_and(|v| v.trim().is_empty()) {
                *id = None;
            }
            if let Some(v) = id.as_deref() {
                if v.chars().count() > MAX_DEVICE_ID_CHARS || v.chars().any(char::is_control) {
                    return Err(NodeError::BadAddress(format!(
                        "that {what} name cannot be a device: device names are at most {MAX_DEVICE_ID_CHARS} characters on one line"
                    )));
                }
            }
        }
        let bytes = serde_json::to_vec(&choice).map_err(|e| NodeError::NotAllowed(e.to_string()))?;
        self.shared.store.save_media_devices(&bytes)?;
        Ok(choice)
    }

    /// Every call in the history, newest first (both partners' devices hold the same records).
    pub fn call_history(&self) -> Result<Vec<Call>, NodeError> {
        let space = self.shared.store.space()?.ok_or(NodeError::NoSpace)?.space;
        Ok(self.shared.store.calls(space)?)
    }

    async fn partner_devices(&self, partner: PersonId) -> Result<Vec<DeviceId>, NodeError> {
        let state = self.shared.store.space()?.ok_or(NodeError::NoSpace)?;
        let connected = self.shared.net.connected().await?;
        let devices: Vec<DeviceId> = state
            .membership
            .devices()
            .filter(|(d, m)| m.certificate.person == partner && m.last_seq.is_none() && connected.contains(d))
            .map(|(d, _)| *d)
            .collect();
        if devices.is_empty() {
            let name = self.person(&partner)?.map(|p| p.display_name).unwrap_or_else(|| "your partner".into());
            return Err(NodeError::NotAllowed(format!("{name} is not online: none of their devices is connected")));
        }
        Ok(devices)
    }

    /// A call signal from a member device (read from its live stream).
    pub(crate) async fn on_call_signal(&self, from: DeviceId, person: PersonId, signal: CallSignal) {
        self.calls().on_signal(self, from, person, signal).await;
    }

    /// Runs the calls' timeouts and what media sessions ask for (a supervised part).
    pub(crate) async fn call_loop(self) {
        self.calls().clone().run(self.clone()).await;
    }
}

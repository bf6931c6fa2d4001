//! Calls (`docs/architecture.md`, "Calls"): the node drives one `duet_call::CallMachine` per
//! device and one `duet_call::MediaSession` per call.
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

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use duet_call::devices::MediaChoice;
use duet_call::{Action, CallInfo, CallMachine, CallMedia, MachineConfig, MediaConfig, MediaEvent, MediaSession};
use duet_call::{AudioSink, AudioSource, CallError, CallQuality, MediaStats, VideoSource};
use duet_log::{CallSignal, LiveMessage, Payload};
use duet_model::{Call, CallId, CallKind, DeviceId, PersonId};
use rand_core::{OsRng, RngCore};
use tokio::sync::mpsc;

use crate::{lock, now, Node, NodeError, NodeEvent};

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

/// Signals for a session that is still starting, held at most this many.
const MAX_EARLY_SIGNALS: usize = 64;

/// The node's call state.
pub(crate) struct Calls {
    state: Mutex<CallsState>,
    /// Actions from media sessions, carried out by [`Node::call_loop`] (a queue rather than a
    /// call, so a session's task never runs the code that started it).
    queued: mpsc::Sender<Vec<Action>>,
    /// Held by `call_loop` while it runs (an async lock, so a panic there keeps the queue).
    queue: tokio::sync::Mutex<mpsc::Receiver<Vec<Action>>>,
}

impl Default for Calls {
    fn default() -> Self {
        let (queued, queue) = mpsc::channel(64);
        Self { state: Mutex::default(), queued, queue: tokio::sync::Mutex::new(queue) }
    }
}

#[derive(Default)]
struct CallsState {
    machine: Option<CallMachine>,
    /// The media the next session of the current call uses (given with start or answer).
    media: Option<CallMedia>,
    session: Option<(CallId, Arc<MediaSession>)>,
    /// SDP/ICE that arrived before the session was up.
    early: Vec<CallSignal>,
    /// Stats of the last session, kept after it ends.
    last_stats: Option<(CallId, MediaStats)>,
}

fn refused(e: CallError) -> NodeError {
    NodeError::NotAllowed(e.to_string())
}

impl Node {
    /// Runs `f` on the machine (created on first use, once this device belongs to a person).
    fn with_machine<T>(
        &self,
        f: impl FnOnce(&mut CallMachine, &mut CallsState) -> Result<T, NodeError>,
    ) -> Result<T, NodeError> {
        let person = self.person_id().ok_or(NodeError::NoSpace)?;
        let settings = &self.shared.config.calls;
        let mut state = lock(&self.shared.calls.state);
        let mut machine = state.machine.take().unwrap_or_else(|| {
            let config = MachineConfig {
                ring_timeout: settings.ring_timeout,
                connect_timeout: settings.connect_timeout,
                ..MachineConfig::default()
            };
            CallMachine::new(self.device_id(), person, config)
        });
        let out = f(&mut machine, &mut state);
        state.machine = Some(machine);
        out
    }

    /// Calls my partner on all their connected devices. `media` is what this side plays and
    /// captures for the call.
    pub async fn start_call(&self, kind: CallKind, media: CallMedia) -> Result<CallInfo, NodeError> {
        self.touch();
        let partner = self.partner()?.ok_or(NodeError::NoSpace)?;
        let devices = self.partner_devices(partner).await?;
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        let actions = self.with_machine(|m, state| {
            let actions = m.place(CallId(id), kind, partner, &devices, now()).map_err(refused)?;
            state.media = Some(media);
            Ok(actions)
        })?;
        let info = self.current_call().ok_or(NodeError::NotAllowed("the call ended at once".into()))?;
        self.run_call_actions(actions).await;
        Ok(info)
    }

    /// Answers the call ringing on this device.
    pub async fn answer_call(&self, media: CallMedia) -> Result<CallInfo, NodeError> {
        self.touch();
        let actions = self.with_machine(|m, state| {
            let actions = m.answer(now()).map_err(refused)?;
            state.media = Some(media);
            Ok(actions)
        })?;
        let info = self.current_call().ok_or(NodeError::NotAllowed("the call ended at once".into()))?;
        self.run_call_actions(actions).await;
        Ok(info)
    }

    /// Declines the call ringing on this device (on all my devices: the caller stops it).
    pub async fn decline_call(&self) -> Result<(), NodeError> {
        let actions = self.with_machine(|m, _| m.decline(now()).map_err(refused))?;
        self.run_call_actions(actions).await;
        Ok(())
    }

    /// Hangs up: cancels my unanswered call, declines a ringing one, ends an answered one.
    pub async fn hang_up(&self) -> Result<(), NodeError> {
        let actions = self.with_machine(|m, _| m.hang_up(now()).map_err(refused))?;
        self.run_call_actions(actions).await;
        Ok(())
    }

    /// The call in progress on this device, if any.
    pub fn current_call(&self) -> Option<CallInfo> {
        lock(&self.shared.calls.state).machine.as_ref().and_then(|m| m.current().cloned())
    }

    /// Media counters of the call in progress, or of the last call.
    pub fn call_stats(&self) -> Option<(CallId, MediaStats)> {
        let state = lock(&self.shared.calls.state);
        match &state.session {
            Some((id, s)) => Some((*id, s.stats())),
            None => state.last_stats,
        }
    }

    fn session(&self) -> Result<Arc<MediaSession>, NodeError> {
        lock(&self.shared.calls.state)
            .session
            .as_ref()
            .map(|(_, s)| s.clone())
            .ok_or_else(|| NodeError::NotAllowed("there is no call with media now".into()))
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
        let Ok(actions) = self.with_machine(|m, _| Ok(m.receive(from, person, signal, now()))) else { return };
        self.run_call_actions(actions).await;
    }

    /// Runs the machine's timeouts, and the actions media sessions queue.
    pub(crate) async fn call_loop(self) {
        let mut queue = self.shared.calls.queue.lock().await;
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                Some(actions) = queue.recv() => {
                    self.run_call_actions(actions).await;
                    continue;
                }
            }
            let due = lock(&self.shared.calls.state)
                .machine
                .as_ref()
                .and_then(|m| m.next_deadline())
                .is_some_and(|d| now() >= d);
            if due {
                if let Ok(actions) = self.with_machine(|m, _| Ok(m.tick(now()))) {
                    self.run_call_actions(actions).await;
                }
            }
        }
    }

    /// Carries out the machine's actions in order (and whatever follows from them).
    async fn run_call_actions(&self, actions: Vec<Action>) {
        let mut queue: VecDeque<Action> = actions.into();
        while let Some(action) = queue.pop_front() {
            match action {
                Action::Send { to, signal } => self.send_call_signal(to, signal).await,
                Action::StartMedia { call, peer: _, kind, offerer } => {
                    if let Err(e) = self.start_media(call, kind, offerer).await {
                        tracing::warn!("call media could not start: {e}");
                        if let Ok(more) = self.with_machine(|m, _| Ok(m.media_failed(call, now()))) {
                            queue.extend(more);
                        }
                    }
                }
                Action::ToMedia { call, signal } => {
                    let session = {
                        let mut state = lock(&self.shared.calls.state);
                        match &state.session {
                            Some((id, s)) if *id == call => Some(s.clone()),
                            _ => {
                                if state.early.len() < MAX_EARLY_SIGNALS {
                                    state.early.push(signal.clone());
                                }
                                None
                            }
                        }
                    };
                    if let Some(s) = session {
                        if let Err(e) = s.remote_signal(signal).await {
                            // The partner's SDP was unusable: the call cannot connect.
                            tracing::warn!("call signal refused: {e}");
                            if let Ok(more) = self.with_machine(|m, _| Ok(m.media_failed(call, now()))) {
                                queue.extend(more);
                            }
                        }
                    }
                }
                Action::StopMedia { call } => {
                    let session = {
                        let mut state = lock(&self.shared.calls.state);
                        state.media = None;
                        state.early.clear();
                        match state.session.take() {
                            Some((id, s)) if id == call => {
                                state.last_stats = Some((id, s.stats()));
                                Some(s)
                            }
                            other => {
                                state.session = other;
                                None
                            }
                        }
                    };
                    if let Some(s) = session {
                        let started = std::time::Instant::now();
                        tracing::debug!(%call, "closing the call's media");
                        s.close().await;
                        tracing::debug!(%call, elapsed = ?started.elapsed(), "the call's media is closed");
                    }
                }
                Action::Changed(info) => {
                    tracing::debug!(call = %info.id, phase = ?info.phase, outcome = ?info.outcome, "call changed");
                    if info.outcome.is_some() {
                        let mut state = lock(&self.shared.calls.state);
                        if state.session.is_none() {
                            state.media = None;
                        }
                    }
                    self.emit(NodeEvent::Call { call: info });
                }
                Action::Record(record) => {
                    if let Err(e) = self.write(Payload::CallRecord(record)).await {
                        tracing::warn!("the call record could not be stored: {e}");
                    }
                }
            }
        }
    }

    async fn send_call_signal(&self, to: DeviceId, signal: CallSignal) {
        // A device that has just connected may not have its live sender yet: wait (up to
        // LIVE_SENDER_PATIENCE) until it is ready rather than lose the signal (an invite lost
        // is a call that never rings).
        let tx = self.shared.peers.live_sender(&to, LIVE_SENDER_PATIENCE).await;
        let Some(tx) = tx else {
            tracing::info!(?to, "a call signal was not sent: the device is not connected");
            return;
        };
        // Unlike presence, a call signal waits for room (briefly) rather than being dropped.
        let _ = tokio::time::timeout(Duration::from_secs(2), tx.send(LiveMessage::Call(signal))).await;
    }

    async fn start_media(&self, call: CallId, kind: CallKind, offerer: bool) -> Result<(), NodeError> {
        let media = lock(&self.shared.calls.state).media.take();
        let media = media.ok_or_else(|| NodeError::NotAllowed("no media was given for the call".into()))?;
        let mut config = self.shared.config.calls.media.clone();
        if config.stun_servers.is_empty() {
            // Each relay answers STUN too (`duet relay`): with it, a call gets through the
            // home routers on both sides, as the chat does.
            config.stun_servers = self.relays_in_use()?.iter().filter_map(duet_net::stun::stun_url).collect();
        }
        let (session, mut events) = MediaSession::start(call, kind, offerer, media, &config)
            .await
            .map_err(|e| NodeError::NotAllowed(format!("call media: {e}")))?;
        let session = Arc::new(session);
        let early = {
            let mut state = lock(&self.shared.calls.state);
            let current = state.machine.as_ref().and_then(|m| m.current()).map(|i| i.id);
            if current != Some(call) {
                None // the call ended while media was starting
            } else {
                state.session = Some((call, session.clone()));
                Some(std::mem::take(&mut state.early))
            }
        };
        let Some(early) = early else {
            session.close().await;
            return Ok(());
        };
        for signal in early {
            let _ = session.remote_signal(signal).await;
        }
        let node = self.clone();
        let queued = self.shared.calls.queued.clone();
        let pump = tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                let actions = match event {
                    MediaEvent::Signal(s) => node.with_machine(|m, _| Ok(m.local_media(s))),
                    MediaEvent::Connected => node.with_machine(|m, _| Ok(m.media_connected(call, now()))),
                    MediaEvent::Failed(_) => node.with_machine(|m, _| Ok(m.media_failed(call, now()))),
                    MediaEvent::RemoteMuted(muted) => {
                        node.emit(NodeEvent::CallPeerMedia { call, muted: Some(muted), camera: None });
                        continue;
                    }
                    MediaEvent::RemoteCamera(on) => {
                        node.emit(NodeEvent::CallPeerMedia { call, muted: None, camera: Some(on) });
                        continue;
                    }
                    MediaEvent::Data(data) => {
                        node.emit(NodeEvent::CallData { call, data });
                        continue;
                    }
                };
                if let Ok(actions) = actions {
                    if queued.send(actions).await.is_err() {
                        break;
                    }
                }
            }
        });
        let mut tasks = lock(&self.shared.tasks);
        tasks.retain(|t| !t.is_finished());
        tasks.push(pump);
        Ok(())
    }
}

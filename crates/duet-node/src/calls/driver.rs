//! The calls component: one `duet_call::CallMachine` and at most one `MediaSession`, driven
//! by commands, by signals from the partner's devices and by the clock, with the machine's
//! actions carried out in order.
//!
//! [`Calls`] owns that state; what it needs from the device it runs on — who I am, a way to
//! send a signal to one device, the media settings, the log for the call's record, someone to
//! tell — comes through a [`CallHost`]. The node is one host (`calls/mod.rs`); the test below
//! wires two `Calls` to each other through channels and runs a real call between them over
//! webrtc-rs on loopback, with no libp2p and no store.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use duet_call::{Action, CallError, CallInfo, CallMachine, CallMedia, MachineConfig, MediaConfig, MediaEvent};
use duet_call::{MediaSession, MediaStats};
use duet_log::{CallRecordPayload, CallSignal};
use duet_model::{CallId, CallKind, DeviceId, PersonId};
use rand_core::{OsRng, RngCore};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::{lock, now, NodeError, NodeEvent};

/// Signals for a session that is still starting, held at most this many.
const MAX_EARLY_SIGNALS: usize = 64;
/// How often the machine's timeouts (ring, connect) are looked at.
const TICK: Duration = Duration::from_millis(250);

/// What the calls component needs from the device it runs on.
pub(crate) trait CallHost: Clone + Send + Sync + 'static {
    /// This device and its person (`None` before the device belongs to one).
    fn me(&self) -> Option<(DeviceId, PersonId)>;
    /// Sends a signal to one device of the call. Unlike presence it is not dropped when the
    /// way is busy: an invite lost is a call that never rings.
    fn send_signal(&self, to: DeviceId, signal: CallSignal) -> impl Future<Output = ()> + Send;
    /// The settings a new media session starts with (where it binds, which STUN servers).
    fn media_config(&self) -> impl Future<Output = Result<MediaConfig, NodeError>> + Send;
    /// Keeps the call's record in the log (the caller's device writes it).
    fn record(&self, record: CallRecordPayload) -> impl Future<Output = ()> + Send;
    /// Tells front ends (the call changed, the partner muted, data arrived).
    fn tell(&self, event: NodeEvent);
    /// Keeps a spawned task with the host's tasks (stopped when it stops).
    fn track(&self, task: JoinHandle<()>);
}

/// A device's calls. Shared (`Arc`) by the node and the media sessions' pumps.
pub(crate) struct Calls {
    timeouts: MachineConfig,
    state: Mutex<CallsState>,
    /// Actions from media sessions, carried out by [`Calls::run`] (a queue rather than a
    /// call, so a session's task never runs the code that started it).
    queued: mpsc::Sender<Vec<Action>>,
    /// Held by `run` while it runs (an async lock, so a panic there keeps the queue).
    queue: tokio::sync::Mutex<mpsc::Receiver<Vec<Action>>>,
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

impl Calls {
    /// Calls that ring for `ring_timeout` and may take `connect_timeout` to connect.
    pub(crate) fn new(ring_timeout: Duration, connect_timeout: Duration) -> Self {
        let (queued, queue) = mpsc::channel(64);
        Self {
            timeouts: MachineConfig { ring_timeout, connect_timeout, ..MachineConfig::default() },
            state: Mutex::default(),
            queued,
            queue: tokio::sync::Mutex::new(queue),
        }
    }

    /// Runs `f` on the machine (created on first use, once this device belongs to a person).
    fn with_machine<H: CallHost, T>(
        &self,
        host: &H,
        f: impl FnOnce(&mut CallMachine, &mut CallsState) -> Result<T, NodeError>,
    ) -> Result<T, NodeError> {
        let (device, person) = host.me().ok_or(NodeError::NoSpace)?;
        let mut state = lock(&self.state);
        let mut machine = state.machine.take().unwrap_or_else(|| CallMachine::new(device, person, self.timeouts));
        let out = f(&mut machine, &mut state);
        state.machine = Some(machine);
        out
    }

    /// Calls `partner` on `devices` (those connected now), with `media` for this side.
    pub(crate) async fn place<H: CallHost>(
        self: &Arc<Self>,
        host: &H,
        kind: CallKind,
        partner: PersonId,
        devices: &[DeviceId],
        media: CallMedia,
    ) -> Result<CallInfo, NodeError> {
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        let actions = self.with_machine(host, |m, state| {
            let actions = m.place(CallId(id), kind, partner, devices, now()).map_err(refused)?;
            state.media = Some(media);
            Ok(actions)
        })?;
        self.show_then_run(host, actions).await
    }

    /// Answers the call ringing on this device.
    pub(crate) async fn answer<H: CallHost>(
        self: &Arc<Self>,
        host: &H,
        media: CallMedia,
    ) -> Result<CallInfo, NodeError> {
        let actions = self.with_machine(host, |m, state| {
            let actions = m.answer(now()).map_err(refused)?;
            state.media = Some(media);
            Ok(actions)
        })?;
        self.show_then_run(host, actions).await
    }

    /// The call as it stands now (answered to the command that made it so), then its actions
    /// carried out.
    async fn show_then_run<H: CallHost>(
        self: &Arc<Self>,
        host: &H,
        actions: Vec<Action>,
    ) -> Result<CallInfo, NodeError> {
        let info = self.current().ok_or(NodeError::NotAllowed("the call ended at once".into()))?;
        self.run_actions(host, actions).await;
        Ok(info)
    }

    /// Declines the call ringing on this device.
    pub(crate) async fn decline<H: CallHost>(self: &Arc<Self>, host: &H) -> Result<(), NodeError> {
        let actions = self.with_machine(host, |m, _| m.decline(now()).map_err(refused))?;
        self.run_actions(host, actions).await;
        Ok(())
    }

    /// Cancels my unanswered call, declines a ringing one, ends an answered one.
    pub(crate) async fn hang_up<H: CallHost>(self: &Arc<Self>, host: &H) -> Result<(), NodeError> {
        let actions = self.with_machine(host, |m, _| m.hang_up(now()).map_err(refused))?;
        self.run_actions(host, actions).await;
        Ok(())
    }

    /// The call in progress, if any.
    pub(crate) fn current(&self) -> Option<CallInfo> {
        lock(&self.state).machine.as_ref().and_then(|m| m.current().cloned())
    }

    /// Media counters of the call in progress, or of the last call.
    pub(crate) fn stats(&self) -> Option<(CallId, MediaStats)> {
        let state = lock(&self.state);
        match &state.session {
            Some((id, s)) => Some((*id, s.stats())),
            None => state.last_stats,
        }
    }

    /// The media session of the call in progress.
    pub(crate) fn session(&self) -> Result<Arc<MediaSession>, NodeError> {
        lock(&self.state)
            .session
            .as_ref()
            .map(|(_, s)| s.clone())
            .ok_or_else(|| NodeError::NotAllowed("there is no call with media now".into()))
    }

    /// A call signal from `from`, a device of `person`.
    pub(crate) async fn on_signal<H: CallHost>(
        self: &Arc<Self>,
        host: &H,
        from: DeviceId,
        person: PersonId,
        signal: CallSignal,
    ) {
        let Ok(actions) = self.with_machine(host, |m, _| Ok(m.receive(from, person, signal, now()))) else { return };
        self.run_actions(host, actions).await;
    }

    /// Runs the machine's timeouts, and the actions media sessions queue, for as long as the
    /// host runs.
    pub(crate) async fn run<H: CallHost>(self: Arc<Self>, host: H) {
        let mut queue = self.queue.lock().await;
        let mut tick = tokio::time::interval(TICK);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                Some(actions) = queue.recv() => {
                    self.run_actions(&host, actions).await;
                    continue;
                }
            }
            let due = lock(&self.state).machine.as_ref().and_then(|m| m.next_deadline()).is_some_and(|d| now() >= d);
            if due {
                if let Ok(actions) = self.with_machine(&host, |m, _| Ok(m.tick(now()))) {
                    self.run_actions(&host, actions).await;
                }
            }
        }
    }

    /// Carries out the machine's actions in order (and whatever follows from them).
    async fn run_actions<H: CallHost>(self: &Arc<Self>, host: &H, actions: Vec<Action>) {
        let mut queue: VecDeque<Action> = actions.into();
        while let Some(action) = queue.pop_front() {
            match action {
                Action::Send { to, signal } => host.send_signal(to, signal).await,
                Action::StartMedia { call, peer: _, kind, offerer } => {
                    if let Err(e) = self.start_media(host, call, kind, offerer).await {
                        tracing::warn!("call media could not start: {e}");
                        if let Ok(more) = self.with_machine(host, |m, _| Ok(m.media_failed(call, now()))) {
                            queue.extend(more);
                        }
                    }
                }
                Action::ToMedia { call, signal } => {
                    let session = {
                        let mut state = lock(&self.state);
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
                            if let Ok(more) = self.with_machine(host, |m, _| Ok(m.media_failed(call, now()))) {
                                queue.extend(more);
                            }
                        }
                    }
                }
                Action::StopMedia { call } => {
                    let session = {
                        let mut state = lock(&self.state);
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
                        let mut state = lock(&self.state);
                        if state.session.is_none() {
                            state.media = None;
                        }
                    }
                    host.tell(NodeEvent::Call { call: info });
                }
                Action::Record(record) => host.record(record).await,
            }
        }
    }

    async fn start_media<H: CallHost>(
        self: &Arc<Self>,
        host: &H,
        call: CallId,
        kind: CallKind,
        offerer: bool,
    ) -> Result<(), NodeError> {
        let media = lock(&self.state).media.take();
        let media = media.ok_or_else(|| NodeError::NotAllowed("no media was given for the call".into()))?;
        let config = host.media_config().await?;
        let (session, mut events) = MediaSession::start(call, kind, offerer, media, &config)
            .await
            .map_err(|e| NodeError::NotAllowed(format!("call media: {e}")))?;
        let session = Arc::new(session);
        let early = {
            let mut state = lock(&self.state);
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
        let calls = self.clone();
        let pump_host = host.clone();
        let pump = tokio::spawn(async move {
            let host = pump_host;
            while let Some(event) = events.recv().await {
                let actions = match event {
                    MediaEvent::Signal(s) => calls.with_machine(&host, |m, _| Ok(m.local_media(s))),
                    MediaEvent::Connected => calls.with_machine(&host, |m, _| Ok(m.media_connected(call, now()))),
                    MediaEvent::Failed(_) => calls.with_machine(&host, |m, _| Ok(m.media_failed(call, now()))),
                    MediaEvent::RemoteMuted(muted) => {
                        host.tell(NodeEvent::CallPeerMedia { call, muted: Some(muted), camera: None });
                        continue;
                    }
                    MediaEvent::RemoteCamera(on) => {
                        host.tell(NodeEvent::CallPeerMedia { call, muted: None, camera: Some(on) });
                        continue;
                    }
                    MediaEvent::Data(data) => {
                        host.tell(NodeEvent::CallData { call, data });
                        continue;
                    }
                };
                if let Ok(actions) = actions {
                    if calls.queued.send(actions).await.is_err() {
                        break;
                    }
                }
            }
        });
        host.track(pump);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use duet_call::{AudioProbe, CallOutcome, CallPhase};

    const ADA: (DeviceId, PersonId) = (DeviceId([0xA1; 32]), PersonId([0xA0; 32]));
    const BEN: (DeviceId, PersonId) = (DeviceId([0xB1; 32]), PersonId([0xB0; 32]));

    /// One side of a call: its signals go down `line` to the other side.
    #[derive(Clone)]
    struct Phone {
        me: (DeviceId, PersonId),
        line: mpsc::Sender<(DeviceId, CallSignal)>,
        told: mpsc::Sender<NodeEvent>,
        records: Arc<Mutex<Vec<CallRecordPayload>>>,
    }

    impl CallHost for Phone {
        fn me(&self) -> Option<(DeviceId, PersonId)> {
            Some(self.me)
        }

        async fn send_signal(&self, _to: DeviceId, signal: CallSignal) {
            let _ = self.line.send((self.me.0, signal)).await;
        }

        async fn media_config(&self) -> Result<MediaConfig, NodeError> {
            Ok(MediaConfig::loopback())
        }

        async fn record(&self, record: CallRecordPayload) {
            lock(&self.records).push(record);
        }

        fn tell(&self, event: NodeEvent) {
            let _ = self.told.try_send(event);
        }

        fn track(&self, _task: JoinHandle<()>) {}
    }

    struct Side {
        calls: Arc<Calls>,
        phone: Phone,
        heard: mpsc::Receiver<NodeEvent>,
    }

    impl Side {
        /// Waits until this side's call is told to be in a state `want` accepts.
        async fn until(&mut self, what: &str, want: impl Fn(&CallInfo) -> bool) -> CallInfo {
            let wait = async {
                loop {
                    if let Some(NodeEvent::Call { call }) = self.heard.recv().await {
                        if want(&call) {
                            return call;
                        }
                    }
                }
            };
            tokio::time::timeout(Duration::from_secs(30), wait).await.unwrap_or_else(|_| panic!("no {what}"))
        }
    }

    /// Two call components wired to each other, each with its ticker running.
    fn two_phones() -> (Side, Side) {
        let (to_ben, at_ben) = mpsc::channel(64);
        let (to_ada, at_ada) = mpsc::channel(64);
        let side = |me, line| {
            let (told, heard) = mpsc::channel(1024);
            let phone = Phone { me, line, told, records: Arc::default() };
            let calls = Arc::new(Calls::new(Duration::from_secs(30), Duration::from_secs(20)));
            tokio::spawn(calls.clone().run(phone.clone()));
            Side { calls, phone, heard }
        };
        let ada = side(ADA, to_ben);
        let ben = side(BEN, to_ada);
        // Each side's signals reach the other as its live stream would deliver them.
        let deliver = |side: &Side, from_person: PersonId, mut inbox: mpsc::Receiver<(DeviceId, CallSignal)>| {
            let (calls, phone) = (side.calls.clone(), side.phone.clone());
            tokio::spawn(async move {
                while let Some((from, signal)) = inbox.recv().await {
                    calls.on_signal(&phone, from, from_person, signal).await;
                }
            });
        };
        deliver(&ben, ADA.1, at_ben);
        deliver(&ada, BEN.1, at_ada);
        (ada, ben)
    }

    /// Waits until `probe` played `frames` frames.
    async fn plays(probe: &AudioProbe, frames: u64) {
        let wait = async {
            while probe.frames() < frames {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(30), wait).await.expect("audio to play");
    }

    fn near(f: Option<f32>, want: f32) -> bool {
        f.is_some_and(|f| (f - want).abs() <= 15.0)
    }

    /// The tone `probe` hears, once it is `want` Hz (or what it last heard, after 30 s). Its last
    /// 100 ms are looked at again and again: on a loaded machine they may hold a gap that the
    /// playout filled with silence, which is not the tone missing.
    async fn hears(probe: &AudioProbe, want: f32) -> Option<f32> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let heard = probe.dominant_frequency();
            if near(heard, want) || tokio::time::Instant::now() >= deadline {
                return heard;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_call_rings_connects_carries_both_voices_and_ends_with_one_record() {
        let (mut ada, mut ben) = two_phones();
        let (ada_media, ada_hears, _) = CallMedia::synthetic(440.0, None);
        let (ben_media, ben_hears, _) = CallMedia::synthetic(660.0, None);

        let placed = ada.calls.place(&ada.phone, CallKind::Voice, BEN.1, &[BEN.0], ada_media).await.unwrap();
        let ringing = ben.until("ringing at Ben", |c| c.phase == CallPhase::Ringing).await;
        assert_eq!((ringing.id, ringing.caller), (placed.id, ADA.1));
        assert!(ben.calls.session().is_err(), "no media before Ben answers");

        ben.calls.answer(&ben.phone, ben_media).await.unwrap();
        ada.until("Ada's call active", |c| c.phase == CallPhase::Active).await;
        ben.until("Ben's call active", |c| c.phase == CallPhase::Active).await;
        plays(&ben_hears, 50).await;
        plays(&ada_hears, 50).await;
        let ben_heard = hears(&ben_hears, 440.0).await;
        assert!(near(ben_heard, 440.0), "Ben hears Ada: {ben_heard:?}");
        let ada_heard = hears(&ada_hears, 660.0).await;
        assert!(near(ada_heard, 660.0), "Ada hears Ben: {ada_heard:?}");

        ada.calls.hang_up(&ada.phone).await.unwrap();
        let ended = ben.until("the end at Ben", |c| c.outcome.is_some()).await;
        assert_eq!(ended.outcome, Some(CallOutcome::Ended));
        ada.until("the end at Ada", |c| c.outcome.is_some()).await;
        assert!(ada.calls.current().is_none_or(|c| c.outcome.is_some()));
        assert!(ada.calls.session().is_err(), "the media is closed");
        let (id, stats) = ada.calls.stats().expect("the last call's stats are kept");
        assert_eq!(id, placed.id);
        assert!(stats.audio_frames_sent > 0 && stats.audio_frames_decoded > 0, "{stats:?}");
        assert_eq!(lock(&ada.phone.records).len(), 1, "the caller keeps one record");
        assert!(lock(&ben.phone.records).is_empty(), "the callee keeps none (the caller's syncs)");
    }
}

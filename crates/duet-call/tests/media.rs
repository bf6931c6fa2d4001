//! Real webrtc-rs peer connections on loopback, signalled by hand: what one side sends, the
//! other hears and sees, checked by what a person would notice (the tone's pitch, the
//! pattern's colours, silence when muted, no picture with the camera off), and audio that
//! keeps playing through a relay that drops 5% of packets, or drops 10% and holds the rest
//! back 0–40 ms each (so they overtake each other), checked 20 ms frame by 20 ms frame; and
//! a microphone and a speaker with clocks of their own (as a sound card has) that the call
//! follows.

#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test, with its line

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use duet_call::analysis;
use duet_call::source::{AudioProbe, AudioSink, AudioSource, SineTone, TestPattern, VideoProbe};
use duet_call::{CallMedia, MediaConfig, MediaEvent, MediaSession};
use duet_log::CallSignal;
use duet_model::{CallId, CallKind};
use rand::{Rng, SeedableRng};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;

const PATIENCE: Duration = Duration::from_secs(30);

struct Side {
    session: Arc<MediaSession>,
    /// Everything but signals.
    events: mpsc::Receiver<MediaEvent>,
    heard: AudioProbe,
    seen: VideoProbe,
}

/// Rewrites what travels from one side to the other (the lossy relay swaps addresses).
type Rewrite = Arc<dyn Fn(CallSignal) -> CallSignal + Send + Sync>;

/// Forwards `from`'s signals to `to`; other events go to the returned receiver.
fn pump(
    mut from: mpsc::Receiver<MediaEvent>,
    to: Arc<tokio::sync::OnceCell<Arc<MediaSession>>>,
    rewrite: Rewrite,
) -> mpsc::Receiver<MediaEvent> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        while let Some(event) = from.recv().await {
            match event {
                MediaEvent::Signal(s) => {
                    let target = to.get_or_init(|| async { unreachable!("the peer is set first") }).await.clone();
                    target.remote_signal(rewrite(s)).await.expect("the peer takes the signal");
                }
                other => {
                    let _ = tx.send(other).await;
                }
            }
        }
    });
    rx
}

async fn call(kind: CallKind, video: Option<(u32, u32)>, a_to_b: Rewrite, b_to_a: Rewrite) -> (Side, Side) {
    call_recording(kind, video, a_to_b, b_to_a, None).await
}

/// A call in which B also keeps every frame it plays in `b_frames`.
async fn call_recording(
    kind: CallKind,
    video: Option<(u32, u32)>,
    a_to_b: Rewrite,
    b_to_a: Rewrite,
    b_frames: Option<FrameRecorder>,
) -> (Side, Side) {
    let call = CallId([3; 16]);
    let (media_a, heard_a, seen_a) = CallMedia::synthetic(880.0, video);
    let (mut media_b, heard_b, seen_b) = CallMedia::synthetic(440.0, video);
    if let Some(frames) = b_frames {
        media_b.audio_sink = Box::new(Recording { frames, then: heard_b.clone() });
    }
    let config = MediaConfig::loopback();
    let cell_a = Arc::new(tokio::sync::OnceCell::new());
    let cell_b = Arc::new(tokio::sync::OnceCell::new());
    // The answerer first, so the offer has somewhere to go.
    let (b, b_rx) = MediaSession::start(call, kind, false, media_b, &config).await.expect("B starts");
    let b = Arc::new(b);
    cell_b.set(b.clone()).ok();
    let b_events = pump(b_rx, cell_a.clone(), b_to_a);
    let (a, a_rx) = MediaSession::start(call, kind, true, media_a, &config).await.expect("A starts");
    let a = Arc::new(a);
    cell_a.set(a.clone()).ok();
    let a_events = pump(a_rx, cell_b, a_to_b);
    (
        Side { session: a, events: a_events, heard: heard_a, seen: seen_a },
        Side { session: b, events: b_events, heard: heard_b, seen: seen_b },
    )
}

fn as_is() -> Rewrite {
    Arc::new(|s| s)
}

async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn next_event(side: &mut Side, what: &str, want: impl Fn(&MediaEvent) -> bool) {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let e = side.events.recv().await.expect("events go on");
            if want(&e) {
                return;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("gave up waiting for {what}"));
}

fn near(freq: Option<f32>, want: f32) -> bool {
    freq.is_some_and(|f| (f - want).abs() <= 15.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_call_carries_tone_pattern_mute_camera_and_data() {
    let (mut a, mut b) = call(CallKind::Video, Some((320, 240)), as_is(), as_is()).await;
    next_event(&mut a, "A connected", |e| *e == MediaEvent::Connected).await;

    // Each hears the other's tone, and sees the other's test pattern.
    until("B hears A's 880 Hz tone", || b.heard.frames() > 25 && near(b.heard.dominant_frequency(), 880.0)).await;
    until("A hears B's 440 Hz tone", || a.heard.frames() > 25 && near(a.heard.dominant_frequency(), 440.0)).await;
    until("B sees A's test pattern", || b.seen.pattern_frames() >= 5).await;
    let frame = b.seen.last().expect("a frame");
    assert_eq!((frame.width, frame.height), (320, 240));
    assert_eq!(frame.to_rgba().len(), 320 * 240 * 4, "RGBA for the canvas");

    // A mutes: B is told, and hears silence.
    a.session.set_muted(true);
    next_event(&mut b, "B told A muted", |e| *e == MediaEvent::RemoteMuted(true)).await;
    until("B hears silence", || b.heard.rms() < 0.01).await;
    a.session.set_muted(false);
    until("B hears A again", || near(b.heard.dominant_frequency(), 880.0)).await;

    // A turns the camera off: B is told, and the picture stops.
    a.session.set_camera(false).expect("a video call");
    next_event(&mut b, "B told A's camera is off", |e| *e == MediaEvent::RemoteCamera(false)).await;
    // Frames already on their way land within a few frames' time; then, for the next second
    // of A's audio (50 frames, counted, not timed), no picture comes.
    let heard = b.heard.frames();
    until("B plays a few more frames of A", || b.heard.frames() >= heard + 15).await;
    let frozen = b.seen.frames();
    let heard = b.heard.frames();
    until("B plays a second more of A", || b.heard.frames() >= heard + 50).await;
    assert_eq!(b.seen.frames(), frozen, "no picture while the camera is off");
    a.session.set_camera(true).expect("a video call");
    until("B sees A again", || b.seen.frames() > frozen + 3).await;

    // The data channel carries app data.
    b.session.send_data(b"hello from B").await.expect("the data channel is open");
    next_event(&mut a, "A gets B's data", |e| *e == MediaEvent::Data(b"hello from B".to_vec())).await;

    let stats = b.session.stats();
    assert!(stats.audio_frames_decoded > 50 && stats.video_frames_decoded > 5, "{stats:?}");

    // On loopback the connection reads good: a short round trip, nothing lost, audio and
    // video coming in.
    let mut quality = None;
    until("B reads the connection", || {
        quality = futures_now(b.session.quality());
        quality.is_some_and(|q| q.incoming_kbps > 0)
    })
    .await;
    let q = quality.expect("a reading");
    eprintln!("loopback video call: {q:?}");
    assert!(!q.poor && q.loss_percent == 0 && q.round_trip_ms.is_none_or(|r| r < 100), "{q:?}");
    a.session.close().await;
    b.session.close().await;
}

/// Runs a short future to its end on this thread (the session's stats are a quick lock).
fn futures_now<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voice_call_adds_a_picture_and_switches_microphones_without_renegotiating() {
    let (mut a, mut b) = call(CallKind::Voice, Some((320, 240)), as_is(), as_is()).await;
    next_event(&mut a, "A connected", |e| *e == MediaEvent::Connected).await;
    until("B hears A", || near(b.heard.dominant_frequency(), 880.0)).await;
    // A voice call starts without a picture, and a camera cannot be turned on without one.
    assert!(a.session.set_camera(true).is_err());
    assert_eq!(b.seen.frames(), 0);

    // A turns a camera on in the middle of the voice call: B is told and sees it.
    a.session.set_video_source(Some(Box::new(TestPattern::new(320, 240))));
    next_event(&mut b, "B told A's camera is on", |e| *e == MediaEvent::RemoteCamera(true)).await;
    until("B sees A's picture", || b.seen.pattern_frames() >= 3).await;
    // A shares something of another size: a new encoder, and B sees the new size.
    a.session.set_video_source(Some(Box::new(TestPattern::new(160, 120))));
    until("B sees the new size", || b.seen.last().is_some_and(|f| (f.width, f.height) == (160, 120))).await;
    // And turns it off again.
    a.session.set_video_source(None);
    next_event(&mut b, "B told A's camera is off", |e| *e == MediaEvent::RemoteCamera(false)).await;

    // A switches to another microphone (here a 330 Hz tone): B hears it.
    a.session.set_audio_source(Box::new(SineTone::new(330.0, 0.4)));
    until("B hears A's other microphone", || near(b.heard.dominant_frequency(), 330.0)).await;
    // B switches speakers: the new one plays A from then on.
    let other = AudioProbe::default();
    b.session.set_audio_sink(Box::new(other.clone()));
    until("B's other speaker plays A", || other.frames() > 10 && near(other.dominant_frequency(), 330.0)).await;
}

/// Two relay sockets standing in for each side: A talks to `for_b` (thinking it is B), B to
/// `for_a`; each datagram is dropped with probability `loss`, and the rest are each held back
/// a random 0 to `jitter`, so a later one may overtake an earlier one.
struct LossyRelay {
    for_a: SocketAddr,
    for_b: SocketAddr,
}

/// Datagrams a relay direction holds back at most (far more than 40 ms of a call).
const RELAY_LINE: usize = 1024;

impl LossyRelay {
    async fn start(loss: f64, jitter: Duration) -> Self {
        let x = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap()); // stands for A, to B
        let y = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap()); // stands for B, to A
        let relay = Self { for_a: x.local_addr().unwrap(), for_b: y.local_addr().unwrap() };
        for (inbound, outbound, seed) in [(x.clone(), y.clone(), 1u64), (y, x, 2u64)] {
            let (line, held) = mpsc::channel(RELAY_LINE);
            let to = inbound.local_addr().unwrap();
            tokio::spawn(deliver(held, outbound, to));
            tokio::spawn(async move {
                let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
                let mut buf = vec![0u8; 2048];
                loop {
                    let Ok((n, _)) = inbound.recv_from(&mut buf).await else { break };
                    if rng.gen_bool(loss) {
                        continue;
                    }
                    let due = Instant::now() + jitter.mul_f64(rng.gen_range(0.0..=1.0));
                    // A full line drops the datagram, as a router's full queue would.
                    let _ = line.try_send((due, buf[..n].to_vec()));
                }
            });
        }
        relay
    }
}

/// Sends each held-back datagram when it is due, earliest due first (not first come), to
/// the real address behind relay socket `to`.
async fn deliver(mut held: mpsc::Receiver<(Instant, Vec<u8>)>, outbound: Arc<UdpSocket>, to: SocketAddr) {
    let mut line: BinaryHeap<Reverse<(Instant, u64, Vec<u8>)>> = BinaryHeap::new();
    let mut arrivals = 0u64; // keeps datagrams due at the same instant in the order they came
    loop {
        let due = line.peek().map(|Reverse((t, _, _))| *t);
        tokio::select! {
            got = held.recv() => {
                let Some((t, datagram)) = got else { break };
                if line.len() < RELAY_LINE {
                    line.push(Reverse((t, arrivals, datagram)));
                    arrivals += 1;
                }
            }
            _ = async { tokio::time::sleep_until(due.unwrap_or_else(Instant::now)).await }, if due.is_some() => {
                while line.peek().is_some_and(|Reverse((t, _, _))| *t <= Instant::now()) {
                    let Some(Reverse((_, _, datagram))) = line.pop() else { break };
                    let Some(real) = real(to) else { continue };
                    let _ = outbound.send_to(&datagram, real).await;
                }
            }
        }
    }
}

/// Relay socket → the real address of the side it forwards to (learnt as candidates pass).
static REAL: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<SocketAddr, SocketAddr>>> =
    std::sync::LazyLock::new(Default::default);

fn real(relay_socket: SocketAddr) -> Option<SocketAddr> {
    REAL.lock().unwrap().get(&relay_socket).copied()
}

/// Swaps the address in a candidate line for the relay socket `to`, remembering the real one:
/// what comes in on `to` goes there (sent from the relay socket standing for the other side).
fn through(candidate: &str, to: SocketAddr) -> String {
    let mut fields: Vec<String> = candidate.split(' ').map(str::to_owned).collect();
    if fields.len() > 5 {
        if let (Ok(ip), Ok(port)) = (fields[4].parse::<std::net::IpAddr>(), fields[5].parse::<u16>()) {
            REAL.lock().unwrap().insert(to, SocketAddr::new(ip, port));
            fields[4] = to.ip().to_string();
            fields[5] = to.port().to_string();
        }
    }
    fields.join(" ")
}

fn via(to: SocketAddr) -> Rewrite {
    Arc::new(move |s| match s {
        CallSignal::Ice { call, candidate, sdp_mid, sdp_mline_index } => {
            CallSignal::Ice { call, candidate: through(&candidate, to), sdp_mid, sdp_mline_index }
        }
        CallSignal::Sdp { call, kind, sdp } => {
            // Only trickled candidates are rewritten: none may sneak past in the SDP.
            let sdp = sdp.split("\r\n").filter(|l| !l.starts_with("a=candidate")).collect::<Vec<_>>().join("\r\n");
            CallSignal::Sdp { call, kind, sdp }
        }
        other => other,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_keeps_decoding_through_five_percent_packet_loss() {
    let relay = LossyRelay::start(0.05, Duration::ZERO).await;
    // A's candidates reach B as `for_a` (packets B sends there go to A from `for_b`), and
    // B's reach A as `for_b`.
    let (mut a, b) = call(CallKind::Voice, None, via(relay.for_a), via(relay.for_b)).await;
    next_event(&mut a, "A connected through the lossy relay", |e| *e == MediaEvent::Connected).await;
    until("B hears A", || b.heard.frames() > 10).await;
    let (start, played) = (b.session.stats(), b.heard.frames());
    until("B plays 200 more frames", || b.heard.frames() >= played + 200).await;
    let end = b.session.stats();
    let decoded = end.audio_frames_decoded - start.audio_frames_decoded;
    let rebuilt =
        end.audio_frames_fec + end.audio_frames_concealed - start.audio_frames_fec - start.audio_frames_concealed;
    assert!(rebuilt > 0, "some frames were lost and rebuilt: {end:?}");
    // About 10 of the 200 frames are lost; the rest play from their own packet.
    assert!(decoded >= 180, "decoded {decoded}, rebuilt {rebuilt}");
    assert!(near(b.heard.dominant_frequency(), 880.0), "still the tone: {:?}", b.heard.dominant_frequency());
}

/// Frames kept for the per-frame test (20 s of audio).
const MAX_RECORDED: usize = 1000;

/// Every frame a side plays, kept (up to [`MAX_RECORDED`]) to be checked one by one after
/// the call; the checking is too slow to do as they are played.
#[derive(Clone, Default)]
struct FrameRecorder(Arc<Mutex<Vec<Vec<i16>>>>);

impl FrameRecorder {
    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    fn frames(&self) -> Vec<Vec<i16>> {
        self.0.lock().unwrap().clone()
    }
}

/// Records each frame, then passes it on to the side's own probe.
struct Recording {
    frames: FrameRecorder,
    then: AudioProbe,
}

impl AudioSink for Recording {
    fn write(&mut self, samples: &[i16]) {
        {
            let mut frames = self.frames.0.lock().unwrap();
            if frames.len() < MAX_RECORDED {
                frames.push(samples.to_vec());
            }
        }
        self.then.write(samples);
    }
}

/// A frame quieter than this (about 30 dB under the test tone) is silence.
const SILENT_RMS: f32 = 0.01;

/// The 20 ms frames checked.
const CHECKED_FRAMES: usize = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voice_call_through_loss_and_jitter_keeps_its_pitch_frame_by_frame() {
    let relay = LossyRelay::start(0.10, Duration::from_millis(40)).await;
    let frames = FrameRecorder::default();
    let (mut a, b) =
        call_recording(CallKind::Voice, None, via(relay.for_a), via(relay.for_b), Some(frames.clone())).await;
    next_event(&mut a, "A connected through the lossy, jittery relay", |e| *e == MediaEvent::Connected).await;

    // The check starts at the first frame of A's tone (before it, the decoder is warming up).
    until("B plays A's tone", || frames.frames().iter().any(|f| near(analysis::dominant_frequency(f, 48_000), 880.0)))
        .await;
    let first = frames.frames().iter().position(|f| near(analysis::dominant_frequency(f, 48_000), 880.0));
    let first = first.expect("the tone came");
    let (sent_before, played_before, stats_before) =
        (a.session.stats().audio_frames_sent, frames.len(), b.session.stats());
    let _first_sample = b.session.quality().await;
    until("B plays 400 frames of A's tone", || frames.len() >= first + CHECKED_FRAMES).await;
    let (sent, played, stats) =
        (a.session.stats().audio_frames_sent - sent_before, frames.len() - played_before, b.session.stats());
    // Ten percent of the partner's audio lost is a poor connection, and the call view says so.
    let quality = b.session.quality().await.expect("eight seconds of samples");
    eprintln!("10% loss, 0–40 ms jitter: {quality:?}");
    assert!(quality.poor && quality.loss_percent >= 5, "{quality:?}");
    a.session.close().await;
    b.session.close().await;

    let checked = &frames.frames()[first..first + CHECKED_FRAMES];
    let right_pitch = checked.iter().filter(|f| near(analysis::dominant_frequency(f, 48_000), 880.0)).count();
    let longest_silence = checked
        .iter()
        .map(|f| analysis::rms(f) < SILENT_RMS)
        .fold((0usize, 0usize), |(run, longest), silent| {
            let run = if silent { run + 1 } else { 0 };
            (run, longest.max(run))
        })
        .1;
    let d = |f: fn(&duet_call::MediaStats) -> u64| f(&stats) - f(&stats_before);
    eprintln!(
        "10% loss, 0–40 ms jitter: {right_pitch}/{CHECKED_FRAMES} frames at 880 Hz, longest silence {} ms; \
         while checking: {} decoded, {} rebuilt from FEC, {} concealed, {} packets late, {} duplicates; \
         jitter delay now {} ms; B played {played} frames while A sent {sent}; whole call: {stats:?}",
        longest_silence * 20,
        d(|s| s.audio_frames_decoded),
        d(|s| s.audio_frames_fec),
        d(|s| s.audio_frames_concealed),
        d(|s| s.audio_packets_late),
        d(|s| s.audio_packets_duplicate),
        stats.audio_jitter_delay_ms,
    );
    assert!(right_pitch * 100 >= CHECKED_FRAMES * 95, "{right_pitch} of {CHECKED_FRAMES} frames at A's pitch");
    assert!(longest_silence <= 3, "{longest_silence} silent frames in a row");
    // A steady tone survives FEC and concealment too well to tell them apart; speech does
    // not: FEC is a coarser copy, concealment a guess. With 10% lost on the way, at least 85%
    // of the frames must play at full quality from their own packet, and at most 5% be
    // guessed. (Decoding packets as they came, with no buffer, played 79% from their own
    // packet here: a packet overtaken by the next one was rebuilt from its FEC, then dropped.)
    let (decoded, concealed) = (d(|s| s.audio_frames_decoded) as usize, d(|s| s.audio_frames_concealed) as usize);
    assert!(decoded * 100 >= CHECKED_FRAMES * 85, "{decoded} of {CHECKED_FRAMES} frames decoded: {stats:?}");
    assert!(concealed * 100 <= CHECKED_FRAMES * 5, "{concealed} of {CHECKED_FRAMES} frames concealed: {stats:?}");
    // The buffer never ran dry: B played a frame for each A sent, give or take what the
    // buffer holds (at most 200 ms, 10 frames) and a few for two clocks on a busy machine.
    assert!(played + 15 >= sent as usize, "B played {played} frames while A sent {sent}");
    assert!(d(|s| s.audio_frames_fec) > 0, "lost frames were rebuilt from FEC: {stats:?}");
    assert!(stats.audio_jitter_delay_ms >= 40, "the buffer grew to cover the jitter: {stats:?}");
}

/// A sound card's 5 ms period, in 48 kHz samples.
const PERIOD: usize = 240;

/// A microphone with a clock of its own: a thread adds 5 ms of a tone every 5 ms, until
/// `stalled` (a device that stops delivering).
#[derive(Clone, Default)]
struct CardMicrophone {
    captured: Arc<Mutex<VecDeque<i16>>>,
    stalled: Arc<AtomicBool>,
}

impl CardMicrophone {
    fn start(freq: f32, done: Arc<AtomicBool>) -> Self {
        let mic = Self::default();
        let (captured, stalled) = (mic.captured.clone(), mic.stalled.clone());
        std::thread::spawn(move || {
            let mut tone = SineTone::new(freq, 0.4);
            let mut block = vec![0i16; PERIOD];
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(5));
                if !stalled.load(Ordering::Relaxed) {
                    tone.read(&mut block);
                    captured.lock().unwrap().extend(&block);
                }
            }
        });
        mic
    }
}

impl AudioSource for CardMicrophone {
    fn read(&mut self, out: &mut [i16]) {
        let mut c = self.captured.lock().unwrap();
        for s in out.iter_mut() {
            *s = c.pop_front().unwrap_or(0);
        }
    }

    fn ready(&self) -> Option<usize> {
        Some(self.captured.lock().unwrap().len())
    }
}

/// A speaker with a clock of its own: a thread plays 5 ms every 5 ms into `played`; the most
/// it ever held is kept.
#[derive(Clone, Default)]
struct CardSpeaker {
    queue: Arc<Mutex<VecDeque<i16>>>,
    most_held: Arc<AtomicUsize>,
}

impl CardSpeaker {
    fn start(mut played: AudioProbe, done: Arc<AtomicBool>) -> Self {
        let speaker = Self::default();
        let queue = speaker.queue.clone();
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(5));
                let block: Vec<i16> = {
                    let mut q = queue.lock().unwrap();
                    (0..PERIOD).map(|_| q.pop_front().unwrap_or(0)).collect()
                };
                played.write(&block);
            }
        });
        speaker
    }
}

impl AudioSink for CardSpeaker {
    fn write(&mut self, samples: &[i16]) {
        let mut q = self.queue.lock().unwrap();
        q.extend(samples);
        self.most_held.fetch_max(q.len(), Ordering::Relaxed);
    }

    fn queued(&self) -> Option<usize> {
        Some(self.queue.lock().unwrap().len())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_follows_a_sound_cards_clock_and_keeps_pace_when_the_microphone_stalls() {
    let (mut a, b) = call(CallKind::Voice, None, as_is(), as_is()).await;
    next_event(&mut a, "A connected", |e| *e == MediaEvent::Connected).await;
    let done = Arc::new(AtomicBool::new(false));
    let mic = CardMicrophone::start(660.0, done.clone());
    let played = AudioProbe::default();
    let speaker = CardSpeaker::start(played.clone(), done.clone());
    a.session.set_audio_source(Box::new(mic.clone()));
    b.session.set_audio_sink(Box::new(speaker.clone()));
    until("B's speaker plays A's microphone", || played.frames() > 50 && near(played.dominant_frequency(), 660.0))
        .await;
    // The speaker is given a frame only when it runs low: it never holds more than that low
    // mark (10 ms) and one frame (20 ms).
    let most = speaker.most_held.load(Ordering::Relaxed);
    assert!(most <= 1_440, "the speaker held {most} samples");

    // A's microphone stops delivering: A goes on sending (silence) at the call's pace, so B's
    // jitter buffer keeps its schedule.
    mic.stalled.store(true, Ordering::Relaxed);
    until("B's speaker plays silence", || played.rms() < 0.01).await;
    let (sent, at) = (a.session.stats().audio_frames_sent, Instant::now());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let per_second = (a.session.stats().audio_frames_sent - sent) as f64 / at.elapsed().as_secs_f64();
    // 50 a second; a busy machine may skip some ticks, a sender that waited for the silent
    // microphone would send none.
    assert!(per_second >= 30.0, "{per_second:.0} frames a second while the microphone was silent");

    // It delivers again: B hears it.
    mic.stalled.store(false, Ordering::Relaxed);
    until("B hears A's microphone again", || near(played.dominant_frequency(), 660.0)).await;
    done.store(true, Ordering::Relaxed);
}

//! Real webrtc-rs peer connections on loopback, signalled by hand: what one side sends, the
//! other hears and sees, checked by what a person would notice (the tone's pitch, the
//! pattern's colours, silence when muted, no picture with the camera off), and audio that
//! keeps playing through a relay that drops 5% of packets.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use duet_call::source::{AudioProbe, VideoProbe};
use duet_call::{CallMedia, MediaConfig, MediaEvent, MediaSession};
use duet_log::CallSignal;
use duet_model::{CallId, CallKind};
use rand::{Rng, SeedableRng};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

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
    let call = CallId([3; 16]);
    let (media_a, heard_a, seen_a) = CallMedia::synthetic(880.0, video);
    let (media_b, heard_b, seen_b) = CallMedia::synthetic(440.0, video);
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
    tokio::time::sleep(Duration::from_millis(300)).await;
    let frozen = b.seen.frames();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(b.seen.frames(), frozen, "no picture while the camera is off");
    a.session.set_camera(true).expect("a video call");
    until("B sees A again", || b.seen.frames() > frozen + 3).await;

    // The data channel carries app data.
    b.session.send_data(b"hello from B").await.expect("the data channel is open");
    next_event(&mut a, "A gets B's data", |e| *e == MediaEvent::Data(b"hello from B".to_vec())).await;

    let stats = b.session.stats();
    assert!(stats.audio_frames_decoded > 50 && stats.video_frames_decoded > 5, "{stats:?}");
    a.session.close().await;
    b.session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voice_call_has_no_camera() {
    let (mut a, b) = call(CallKind::Voice, Some((320, 240)), as_is(), as_is()).await;
    next_event(&mut a, "A connected", |e| *e == MediaEvent::Connected).await;
    until("B hears A", || near(b.heard.dominant_frequency(), 880.0)).await;
    assert!(a.session.set_camera(true).is_err());
    assert_eq!(b.seen.frames(), 0);
}

/// Two relay sockets standing in for each side: A talks to `for_b` (thinking it is B), B to
/// `for_a`; each datagram is dropped with probability `loss`.
struct LossyRelay {
    for_a: SocketAddr,
    for_b: SocketAddr,
}

impl LossyRelay {
    async fn start(loss: f64) -> Self {
        let x = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap()); // stands for A, to B
        let y = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap()); // stands for B, to A
        let relay = Self { for_a: x.local_addr().unwrap(), for_b: y.local_addr().unwrap() };
        for (inbound, outbound, seed) in [(x.clone(), y.clone(), 1u64), (y, x, 2u64)] {
            tokio::spawn(async move {
                let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
                let mut buf = vec![0u8; 2048];
                loop {
                    let Ok((n, _)) = inbound.recv_from(&mut buf).await else { break };
                    if rng.gen_bool(loss) {
                        continue;
                    }
                    let Some(to) = real(inbound.local_addr().unwrap()) else { continue };
                    let _ = outbound.send_to(&buf[..n], to).await;
                }
            });
        }
        relay
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
    let relay = LossyRelay::start(0.05).await;
    // A's candidates reach B as `for_a` (packets B sends there go to A from `for_b`), and
    // B's reach A as `for_b`.
    let (mut a, b) = call(CallKind::Voice, None, via(relay.for_a), via(relay.for_b)).await;
    next_event(&mut a, "A connected through the lossy relay", |e| *e == MediaEvent::Connected).await;
    until("B hears A", || b.heard.frames() > 10).await;
    let start = b.session.stats();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let end = b.session.stats();
    let decoded = end.audio_frames_decoded - start.audio_frames_decoded;
    let recovered = end.audio_frames_recovered - start.audio_frames_recovered;
    assert!(recovered > 0, "some frames were lost and rebuilt: {end:?}");
    // Four seconds is 200 frames; nearly all play, decoded or rebuilt.
    assert!(decoded + recovered >= 180, "decoded {decoded}, rebuilt {recovered}");
    assert!(near(b.heard.dominant_frequency(), 880.0), "still the tone: {:?}", b.heard.dominant_frequency());
}

//! Call media figures (harness = false; `cargo bench -p duet-call --bench call`):
//!
//! - added one-way audio latency, encode → RTP → decode on loopback: a source that is silent
//!   but for a tone burst twice a second records when it hands over the burst's first frame;
//!   the receiving sink records when the first loud frame comes out of the decoder. The 20 ms
//!   a microphone takes to fill a frame and the speaker's own buffer are not included.
//! - CPU of a video call at 640×480 and at 1280×720: both ends in this process, 30 frames a
//!   second each way, CPU time (user + system, all threads) over wall time. (A camera's
//!   conversion to I420 comes on top: `cargo test --release -p duet-call --test camera
//!   conversion_cost`.)
//!
//! Invite → first decoded audio through real nodes is `cargo bench -p duet-tests --bench calls`.

#![allow(clippy::unwrap_used)] // a benchmark: a failed unwrap stops it, with its line

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use duet_call::source::{AudioSink, AudioSource, Discard, SineTone, TestPattern, VideoProbe};
use duet_call::{CallMedia, MediaConfig, MediaEvent, MediaSession};
use duet_model::{CallId, CallKind};
use tokio::sync::mpsc;

/// Silence, and a 1 kHz burst of 100 ms every 500 ms; remembers when each burst began.
struct Clicks {
    tone: SineTone,
    frame: u64,
    sent: Arc<Mutex<Vec<Instant>>>,
}

impl AudioSource for Clicks {
    fn read(&mut self, out: &mut [i16]) {
        let phase = self.frame % 25;
        if phase < 5 {
            self.tone.read(out);
            if phase == 0 {
                self.sent.lock().unwrap().push(Instant::now());
            }
        } else {
            out.fill(0);
        }
        self.frame += 1;
    }
}

/// Remembers when each burst came out of the decoder.
struct Onsets {
    loud: bool,
    heard: Arc<Mutex<Vec<Instant>>>,
}

impl AudioSink for Onsets {
    fn write(&mut self, samples: &[i16]) {
        let loud = duet_call::analysis::rms(samples) > 0.05;
        if loud && !self.loud {
            self.heard.lock().unwrap().push(Instant::now());
        }
        self.loud = loud;
    }
}

/// Starts two sessions and pumps their signals; returns them once connected.
async fn connect(
    kind: CallKind,
    a: CallMedia,
    b: CallMedia,
    config: &MediaConfig,
) -> (Arc<MediaSession>, Arc<MediaSession>) {
    let call = CallId([9; 16]);
    let (b_session, b_rx) = MediaSession::start(call, kind, false, b, config).await.expect("B");
    let b_session = Arc::new(b_session);
    let (a_session, a_rx) = MediaSession::start(call, kind, true, a, config).await.expect("A");
    let a_session = Arc::new(a_session);
    let (up_tx, mut up_rx) = mpsc::channel(4);
    for (mut rx, to, up) in [(a_rx, b_session.clone(), up_tx.clone()), (b_rx, a_session.clone(), up_tx)] {
        tokio::spawn(async move {
            while let Some(e) = rx.recv().await {
                match e {
                    MediaEvent::Signal(s) => {
                        let _ = to.remote_signal(s).await;
                    }
                    MediaEvent::Connected => {
                        let _ = up.send(()).await;
                    }
                    _ => {}
                }
            }
        });
    }
    for _ in 0..2 {
        tokio::time::timeout(Duration::from_secs(30), up_rx.recv()).await.expect("connected");
    }
    (a_session, b_session)
}

fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

async fn audio_latency() {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::new(Mutex::new(Vec::new()));
    let a = CallMedia {
        audio_source: Box::new(Clicks { tone: SineTone::new(1000.0, 0.5), frame: 0, sent: sent.clone() }),
        audio_sink: Box::new(Discard),
        video_source: None,
        video_sink: Box::new(Discard),
    };
    let b = CallMedia {
        audio_source: Box::new(duet_call::source::Silence),
        audio_sink: Box::new(Onsets { loud: false, heard: heard.clone() }),
        video_source: None,
        video_sink: Box::new(Discard),
    };
    let (a, b) = connect(CallKind::Voice, a, b, &MediaConfig::loopback()).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let skip = sent.lock().unwrap().len(); // bursts before the measurement window
    tokio::time::sleep(Duration::from_secs(12)).await;
    let sent = sent.lock().unwrap().clone();
    let heard = heard.lock().unwrap().clone();
    // Pair each burst with the first onset heard after it (and before the next burst).
    let mut latencies = Vec::new();
    for (i, t) in sent.iter().enumerate().skip(skip) {
        let next = sent.get(i + 1).copied();
        if let Some(h) = heard.iter().find(|h| **h >= *t && next.is_none_or(|n| **h < n)) {
            latencies.push(*h - *t);
        }
    }
    a.close().await;
    b.close().await;
    println!(
        "audio one-way latency (encode → RTP → decode, loopback): p50 {:.1} ms, p90 {:.1} ms over {} bursts (target ≤ 60 ms)",
        percentile(latencies.clone(), 0.5).as_secs_f64() * 1000.0,
        percentile(latencies.clone(), 0.9).as_secs_f64() * 1000.0,
        latencies.len()
    );
}

#[allow(unsafe_code)]
fn cpu_time() -> Duration {
    // SAFETY: an all-zero rusage is a valid value, and getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    tv(u.ru_utime) + tv(u.ru_stime)
}

async fn video_cpu(width: u32, height: u32, bitrate_kbps: u32) {
    let config = MediaConfig { video_fps: 30, video_bitrate_kbps: bitrate_kbps, ..MediaConfig::loopback() };
    let (seen_a, seen_b) = (VideoProbe::default(), VideoProbe::default());
    let side = |seen: &VideoProbe, hz: f32| CallMedia {
        audio_source: Box::new(SineTone::new(hz, 0.3)),
        audio_sink: Box::new(Discard),
        video_source: Some(Box::new(TestPattern::new(width, height))),
        video_sink: Box::new(seen.clone()),
    };
    let (a, b) = connect(CallKind::Video, side(&seen_a, 440.0), side(&seen_b, 880.0), &config).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (wall0, cpu0, frames0) = (Instant::now(), cpu_time(), seen_a.frames() + seen_b.frames());
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (wall, cpu) = (wall0.elapsed(), cpu_time() - cpu0);
    let frames = seen_a.frames() + seen_b.frames() - frames0;
    let stats = b.stats();
    a.close().await;
    b.close().await;
    let share = cpu.as_secs_f64() / wall.as_secs_f64() * 100.0;
    println!(
        "{width}×{height} video call at {bitrate_kbps} kbit/s, both ends in one process: {share:.0}% of one core \
         ({:.0}% per end; target at 720p ≤ 50%), {:.1} frames/s decoded per end (30 sent), {} pattern frames, {} lost",
        share / 2.0,
        frames as f64 / wall.as_secs_f64() / 2.0,
        seen_a.pattern_frames() + seen_b.pattern_frames(),
        stats.video_frames_lost,
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs this too, so keep it quick then.
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        audio_latency().await;
        video_cpu(640, 480, 1000).await;
        video_cpu(1280, 720, 2000).await;
    });
}

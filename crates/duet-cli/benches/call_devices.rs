//! Calls through the real device path, measured (harness = false;
//! `cargo bench -p duet-cli --bench call_devices`). Two `duet up` processes on loopback, each
//! with a private PulseAudio (tests/common/sound.rs), no `--synthetic`: microphone → capture
//! buffer → echo cancellation, noise suppression, gain → Opus → RTP over loopback → jitter
//! buffer → decode → speaker buffer → the sound card's buffer → the sound server.
//!
//! - **Mouth to ear**: Ada "speaks" syllables (250 ms of a tone, 250 ms pause) into her
//!   microphone. What her microphone hears and what Ben's speaker plays are recorded from the
//!   two sound servers the same way, each 10 ms block stamped when it was read, so the
//!   reading cancels out. Each syllable's loudness envelope (1 ms steps) at the microphone is
//!   matched against Ben's speaker at every delay from 0 to 500 ms; the delay where they match
//!   best is that syllable's mouth-to-ear time. (Matching the shape, not the moment a level is
//!   crossed: noise suppression and gain control soften a syllable's start, and a threshold
//!   would count that as delay.) The sound servers' own buffering is part of the figure, as on
//!   a desktop.
//! - **Invite → first audio**: from `duet call` until Ben's speaker plays Ada's voice, Ben
//!   answering the moment his computer rings (so the figure is the machinery, not a person;
//!   it includes the `duet` commands' own start-up, and up to 250 ms of Ada's pause between
//!   syllables).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::couple::{call_status, Couple};
use common::sound::{Recording, BLOCK, RATE};
use common::{ok, wait_until};
use duet_node::duet_call::analysis::rms;

const MAX_DELAY_MS: usize = 500;
const SYLLABLE_MS: usize = 250;

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// A recording as one timeline: the loudness in 1 ms steps, and when the first step was
/// read (the blocks come at the sound server's pace, so the median of "read at" minus
/// "position" is the timeline's start, free of the reader's wobble).
fn envelope(rec: &Recording) -> (Instant, Vec<f32>) {
    let blocks = rec.blocks();
    let mut offsets: Vec<Instant> =
        blocks.iter().enumerate().map(|(i, (at, _))| *at - Duration::from_millis(10 * i as u64)).collect();
    offsets.sort();
    let start = offsets[offsets.len() / 2];
    let per_ms = RATE as usize / 1000;
    let env = blocks.iter().flat_map(|(_, pcm)| pcm.chunks_exact(per_ms).map(rms).collect::<Vec<_>>()).collect();
    debug_assert_eq!(BLOCK % per_ms, 0);
    (start, env)
}

fn correlation(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    let (ma, mb) = (a.iter().map(|x| f64::from(*x)).sum::<f64>() / n, b.iter().map(|x| f64::from(*x)).sum::<f64>() / n);
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (f64::from(*x) - ma, f64::from(*y) - mb);
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        ab / (aa * bb).sqrt()
    }
}

/// Each syllable's delay from `spoken` to `heard`, in ms (those that matched clearly).
fn delays(spoken: &Recording, heard: &Recording) -> (Vec<f64>, usize) {
    let ((s0, s), (h0, h)) = (envelope(spoken), envelope(heard));
    let mut out = Vec::new();
    let mut syllables = 0;
    // A syllable begins where the level rises past 0.02 after 100 ms below it.
    let mut last_loud: Option<usize> = None;
    let mut i = 0;
    while i + SYLLABLE_MS + 20 < s.len() {
        let loud = s[i] > 0.02;
        if loud && last_loud.is_some_and(|l| i - l >= 100) {
            syllables += 1;
            let window = &s[i.saturating_sub(20)..i + SYLLABLE_MS + 20];
            // The heard timeline's index of the same moment.
            let at = (s0 + Duration::from_millis(i.saturating_sub(20) as u64)).checked_duration_since(h0);
            if let Some(at) = at.map(|d| d.as_millis() as usize) {
                let best = (0..=MAX_DELAY_MS)
                    .filter(|d| at + d + window.len() <= h.len())
                    .map(|d| (d, correlation(window, &h[at + d..at + d + window.len()])))
                    .max_by(|x, y| x.1.total_cmp(&y.1));
                if let Some((d, _)) = best.filter(|(_, c)| *c > 0.8) {
                    out.push(d as f64);
                }
            }
            last_loud = Some(i);
            i += 1;
            continue;
        }
        if loud || last_loud.is_none() {
            last_loud = Some(i);
        }
        i += 1;
    }
    (out, syllables)
}

/// From `duet call` until `heard` (Ben's speaker, already recording) plays Ada's voice.
fn invite_to_first_audio(couple: &Couple, heard: &Recording) -> f64 {
    let invited = Instant::now();
    ok(couple.a(), &["call"]);
    wait_until("Ben's computer rings", || call_status(couple.b())["call"]["phase"] == "ringing");
    ok(couple.b(), &["answer"]);
    let first = || heard.blocks().into_iter().find(|(at, pcm)| *at > invited && rms(pcm) > 0.02).map(|(at, _)| at);
    wait_until("Ben hears Ada", || first().is_some());
    first().map(|t| (t - invited).as_secs_f64() * 1000.0).unwrap_or(f64::NAN)
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let couple = Couple::new(440.0, 660.0);
    // A recording of a sound server's monitor takes a second or two to start delivering:
    // start it before the calls, and let it get going.
    let heard = couple.b_sound.record_timed("speaker.monitor");
    wait_until("Ben's speaker is being recorded", || heard.blocks().len() > 10);
    let mut setups = Vec::new();
    for _ in 0..5 {
        setups.push(invite_to_first_audio(&couple, &heard));
        ok(couple.a(), &["hangup"]);
        wait_until("the call ended", || call_status(couple.b())["call"].is_null());
    }
    println!(
        "invite → first audio on the speaker (real device path, loopback): p50 {:.0} ms, max {:.0} ms over {} calls (target ≤ 1000 ms)",
        percentile(setups.clone(), 0.5),
        percentile(setups.clone(), 1.0),
        setups.len()
    );

    couple.call(&[]);
    // Let the echo canceller, gain control and jitter buffer settle, then record 20 s.
    std::thread::sleep(Duration::from_secs(3));
    drop(heard);
    let spoken = couple.a_sound.record_timed("mic");
    let heard = couple.b_sound.record_timed("speaker.monitor");
    wait_until("both are being recorded", || spoken.blocks().len() > 10 && heard.blocks().len() > 10);
    std::thread::sleep(Duration::from_secs(20));
    let (latencies, syllables) = delays(&spoken, &heard);
    assert!(!latencies.is_empty(), "no syllable was matched at Ben's speaker");
    let status = call_status(couple.b());
    println!(
        "mouth to ear (microphone → speaker, real device path, loopback): p50 {:.0} ms, p90 {:.0} ms over {} of {} syllables (target p50 ≤ 100 ms); jitter buffer {} ms, {} of {} frames concealed; {}",
        percentile(latencies.clone(), 0.5),
        percentile(latencies.clone(), 0.9),
        latencies.len(),
        syllables,
        status["stats"]["media"]["audio_jitter_delay_ms"],
        status["stats"]["media"]["audio_frames_concealed"],
        status["stats"]["media"]["audio_frames_decoded"],
        status["quality"],
    );
}

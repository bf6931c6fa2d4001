//! Calls through the real device path, with no hardware: Ada's and Ben's `duet up` each have a
//! sound server of their own (`common::sound`: a private PulseAudio whose default microphone
//! plays what the test feeds it and whose default speaker the test records), reached the way a
//! desktop reaches it: cpal → ALSA `default` → the pulse plugin. No `--synthetic` anywhere.

#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test, with its line

mod common;

use common::couple::{call_status, json, Couple};
use common::sound::{dominant_hz, VirtualSound};
use common::{duet, ok, up_with, wait_until};
use serde_json::Value;

/// These tests run one after another: four calls at once, each two nodes and two sound
/// servers, overload a 2-core machine until the sound servers miss their deadlines, and a
/// sound card that skips moves the echo under the echo canceller's feet.
fn one_call_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}

fn near(hz: Option<f32>, want: f32) -> bool {
    hz.is_some_and(|f| (f - want).abs() <= 15.0)
}

/// Whether `sound`'s speaker plays `want` Hz now (0.6 s of it: at least one whole syllable).
fn speaker_plays(sound: &VirtualSound, want: f32) -> bool {
    near(dominant_hz(&sound.record_speaker(600)), want)
}

#[test]
fn partners_hear_each_others_microphones_on_their_speakers() {
    let _alone = one_call_at_a_time();
    let couple = Couple::new(440.0, 660.0);

    let listed = json(couple.a(), &["devices-media", "--json"]);
    assert_eq!(listed["microphones"][0]["id"], "default", "{listed}");
    assert_eq!(listed["speakers"][0]["id"], "default", "{listed}");
    // The sound server is offered by name; a sound server's plugin that does not open (JACK,
    // not running here) is not.
    let ids: Vec<&str> = listed["microphones"].as_array().unwrap().iter().filter_map(|m| m["id"].as_str()).collect();
    assert!(ids.contains(&"pulse") && !ids.contains(&"jack"), "{ids:?}");

    let placed = couple.call(&[]);
    assert_eq!(placed["notices"], serde_json::json!([]), "every device opened: {placed}");
    wait_until("Ben's speaker plays Ada's 440 Hz", || speaker_plays(&couple.b_sound, 440.0));
    wait_until("Ada's speaker plays Ben's 660 Hz", || speaker_plays(&couple.a_sound, 660.0));
    // Five seconds on (the noise suppression has long settled), Ada's voice still comes through.
    wait_until("five seconds of call", || {
        call_status(couple.b())["stats"]["media"]["audio_frames_decoded"].as_u64().unwrap_or(0) > 250
    });
    assert!(speaker_plays(&couple.b_sound, 440.0), "Ada's voice faded out of the call");
    let quality = call_status(couple.b())["quality"].clone();
    assert_eq!(quality["poor"], false, "a loopback call reads good: {quality}");
    assert!(quality["incoming_kbps"].as_u64().unwrap_or(0) > 0, "{quality}");

    // Ada mutes: Ben's speaker goes quiet; she unmutes and he hears her again.
    ok(couple.a(), &["mute"]);
    wait_until("Ben hears silence", || dominant_hz(&couple.b_sound.record_speaker(600)).is_none());
    ok(couple.a(), &["mute", "--off"]);
    wait_until("Ben hears Ada again", || speaker_plays(&couple.b_sound, 440.0));

    ok(couple.a(), &["hangup"]);
    wait_until("the call ended on both", || {
        call_status(couple.a())["call"].is_null() && call_status(couple.b())["call"].is_null()
    });
}

/// The power of a voice "speaking" at `hz` (its syllables wander within 2%), in dB.
fn level_db(samples: &[i16], hz: f32) -> f64 {
    let power = [0.98, 0.99, 1.0, 1.01, 1.02]
        .iter()
        .map(|bend| duet_node::duet_call::analysis::power_at(samples, 48_000, hz * bend))
        .fold(0.0, f64::max);
    10.0 * (power / samples.len() as f64).max(1e-12).log10()
}

#[test]
fn a_laptop_without_headphones_does_not_send_the_partner_their_own_voice() {
    let _alone = one_call_at_a_time();
    // Ben's microphone hears his speaker 50 ms later at -6 dB; Ben himself says nothing.
    let mut couple = Couple::new(440.0, 660.0);
    couple.b_sound.stop_speaking();
    couple.b_sound.echo_speaker_into_microphone(50, -6.0);
    couple.call(&[]);
    wait_until("Ben's speaker plays Ada", || speaker_plays(&couple.b_sound, 440.0));
    // Give the echo canceller its few seconds of Ada's speech to find the echo path.
    wait_until("six seconds of call", || {
        call_status(couple.b())["stats"]["media"]["audio_frames_decoded"].as_u64().unwrap_or(0) > 300
    });
    // What Ben's microphone picks up is his speaker's sound 6 dB down; what comes back to
    // Ada's speaker must be at least 20 dB weaker than that. Measured in half-second windows,
    // and the typical (median) window counts: when the machine is loaded, a sound card that
    // skips moves the echo by a few milliseconds, and the echo canceller takes a second or
    // two to find it again (as every WebRTC echo canceller does); that short return of the
    // echo is not what this test is about.
    let played_at_ben = level_db(&couple.b_sound.record_speaker(3000), 440.0);
    let picked_up = played_at_ben - 6.0;
    let heard_by_ada = couple.a_sound.record_speaker(4000);
    let mut windows: Vec<f64> = heard_by_ada.chunks_exact(24_000).map(|w| level_db(w, 440.0)).collect();
    eprintln!(
        "Ben's speaker {played_at_ben:.1} dB, his microphone hears {picked_up:.1} dB, Ada hears (each 0.5 s) {:.0?} dB",
        windows
    );
    windows.sort_by(f64::total_cmp);
    let echo_at_ada = windows[windows.len() / 2];
    assert!(picked_up - echo_at_ada >= 20.0, "the echo is only {:.1} dB weaker", picked_up - echo_at_ada);
}

#[test]
fn a_device_that_is_not_there_is_said_in_words_and_the_call_goes_on() {
    let _alone = one_call_at_a_time();
    let couple = Couple::new(440.0, 660.0);

    let placed = couple.call(&["--video", "--mic", "no-such-microphone", "--camera", "/dev/video-none"]);
    let notices: Vec<&str> = placed["notices"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(
        notices.iter().any(|n| n.contains("“no-such-microphone” was not found: using the default microphone")),
        "{notices:?}"
    );
    assert!(notices.iter().any(|n| n.contains("the call goes on with sound only")), "{notices:?}");
    wait_until("Ben still hears Ada's microphone", || speaker_plays(&couple.b_sound, 440.0));

    // A device choice that could not be a device is refused in words, and nothing is kept.
    let out = duet(couple.a(), &["devices-media", "--set-mic", "bad\nname"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("device names are at most"));
    let chosen = json(couple.a(), &["devices-media", "--json"])["chosen"].clone();
    assert!(chosen["microphone"].is_null(), "{chosen}");
    // A good one is kept.
    ok(couple.a(), &["devices-media", "--set-mic", "pulse"]);
    assert_eq!(json(couple.a(), &["devices-media", "--json"])["chosen"]["microphone"], "pulse");
}

#[test]
fn a_headset_plugged_in_mid_call_takes_the_call_over_when_chosen() {
    let _alone = one_call_at_a_time();
    let mut couple = Couple::new(440.0, 660.0);
    couple.call(&[]);
    wait_until("Ben hears Ada's laptop microphone", || speaker_plays(&couple.b_sound, 440.0));

    // Ada plugs in a headset (its microphone hears her at 550 Hz) and switches the call to it.
    couple.a_sound.plug_in_headset(550.0);
    let out = duet(couple.a(), &["call-audio", "--mic", "headset_mic", "--speaker", "headphones"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "both devices opened as chosen");
    wait_until("Ben hears Ada's headset microphone", || speaker_plays(&couple.b_sound, 550.0));
    wait_until("Ada hears Ben in her headphones", || near(dominant_hz(&couple.a_sound.record_headphones(600)), 660.0));
    wait_until("her laptop's speaker is quiet", || dominant_hz(&couple.a_sound.record_speaker(600)).is_none());

    // Switching one keeps the other; a device that is not there is said and the default used.
    let out = duet(couple.a(), &["call-audio", "--mic", "no-such-microphone"]);
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("“no-such-microphone” was not found: using the default microphone"), "{said}");
    wait_until("Ben hears Ada's laptop microphone again", || speaker_plays(&couple.b_sound, 440.0));
    // Switching the microphone restarts the audio streams: the headphones may miss a moment.
    wait_until("the headphones stay", || near(dominant_hz(&couple.a_sound.record_headphones(600)), 660.0));

    // For this call only: the devices kept for calls are as they were.
    let chosen = json(couple.a(), &["devices-media", "--json"])["chosen"].clone();
    assert!(chosen["microphone"].is_null() && chosen["speaker"].is_null(), "{chosen}");

    // Outside a call there is nothing to switch, and words say so.
    ok(couple.a(), &["hangup"]);
    wait_until("the call ended", || call_status(couple.a())["call"].is_null());
    let out = duet(couple.a(), &["call-audio", "--mic", "headset_mic"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no call in progress"));
}

/// A private X server (Xvfb) showing a picture of four known colours over the whole screen.
struct Screen {
    xvfb: std::process::Child,
    viewer: Option<std::process::Child>,
    display: String,
    _dir: tempfile::TempDir,
}

impl Screen {
    fn showing_the_test_pattern() -> Screen {
        common::require_tool("Xvfb");
        common::require_tool("/usr/bin/convert");
        common::require_tool("/usr/bin/display");
        use std::io::BufRead;
        let mut xvfb = std::process::Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "640x480x24", "-nolisten", "tcp"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start Xvfb");
        let mut line = String::new();
        std::io::BufReader::new(xvfb.stdout.take().unwrap()).read_line(&mut line).expect("Xvfb names its display");
        let display = format!(":{}", line.trim());
        let dir = tempfile::tempdir().unwrap();
        let picture = dir.path().join("quadrants.png");
        // The test pattern's colours: red, green / blue, yellow.
        let made = std::process::Command::new("/usr/bin/convert")
            .args(["(", "-size", "320x240", "xc:#ff0000", "xc:#00ff00", "+append", ")"])
            .args(["(", "-size", "320x240", "xc:#0000ff", "xc:#ffff00", "+append", ")", "-append"])
            .arg(&picture)
            .status()
            .expect("run convert");
        assert!(made.success());
        let viewer = std::process::Command::new("/usr/bin/display")
            .args(["-geometry", "+0+0", "-borderwidth", "0"])
            .arg(&picture)
            .env("DISPLAY", &display)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start display");
        Screen { xvfb, viewer: Some(viewer), display, _dir: dir }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        if let Some(mut v) = self.viewer.take() {
            let _ = v.kill();
            let _ = v.wait();
        }
        let _ = self.xvfb.kill();
        let _ = self.xvfb.wait();
    }
}

#[test]
fn a_sound_system_that_goes_away_mid_call_is_said_in_words_and_the_call_comes_back() {
    let _alone = one_call_at_a_time();
    let mut couple = Couple::new(440.0, 660.0);
    couple.call(&["--mic", "pulse"]);
    wait_until("Ben hears Ada", || speaker_plays(&couple.b_sound, 440.0));

    // Ada's sound system goes away (her headset is pulled out, her sound server crashes).
    couple.a_sound.stop_server();
    wait_until("Ada is told", || {
        let notices = call_status(couple.a())["notices"].to_string();
        notices.contains("The microphone “pulse” went away: using the default microphone")
            && notices.contains("No microphone can be used right now; Duet keeps trying")
    });
    assert_eq!(call_status(couple.b())["call"]["phase"], "active", "the call goes on");

    // It comes back: her default microphone is taken up again and Ben hears her.
    couple.a_sound.restart_server();
    wait_until("Ben hears Ada again", || speaker_plays(&couple.b_sound, 440.0));
    let status = call_status(couple.a());
    assert_eq!(status["call"]["phase"], "active");
    wait_until("Ada is told it works again", || {
        call_status(couple.a())["notices"].to_string().contains("The microphone works again")
    });
}

#[test]
fn a_shared_screen_reaches_the_partner_in_a_voice_call() {
    let _alone = one_call_at_a_time();
    let screen = Screen::showing_the_test_pattern();
    let (mut a_sound, mut b_sound) = (VirtualSound::start(), VirtualSound::start());
    a_sound.speak_tone(440.0);
    b_sound.speak_tone(660.0);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (a.path(), b.path());
    ok(a, &["init", "--name", "Ada"]);
    ok(b, &["init", "--name", "Ben"]);
    let mut a_env = a_sound.env();
    a_env.push(("DISPLAY", screen.display.clone().into()));
    let _ups = (up_with(a, &a_env), up_with(b, &b_sound.env()));
    let ticket = ok(a, &["invite"]).lines().next().unwrap().to_owned();
    ok(b, &["join", &ticket]);

    ok(a, &["call"]);
    wait_until("Ben's computer rings", || call_status(b)["call"]["phase"] == "ringing");
    ok(b, &["answer"]);
    wait_until("the voice call is active", || call_status(b)["call"]["phase"] == "active");
    assert!(ok(a, &["share-screen", "--list"]).contains("screen — Whole screen"));
    ok(a, &["share-screen"]);
    wait_until("Ben sees the four colours on Ada's screen", || {
        call_status(b)["seen"]["pattern_frames"].as_u64().unwrap_or(0) >= 3
    });
    let seen = call_status(b)["seen"].clone();
    assert_eq!(seen["size"], serde_json::json!([640, 480]), "{seen}");

    ok(a, &["share-screen", "--stop"]);
    // A camera that is not there is refused in words; the call goes on.
    let out = duet(a, &["video", "--camera", "/dev/video-none"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("/dev/video-none"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(call_status(b)["call"]["phase"], "active");
}

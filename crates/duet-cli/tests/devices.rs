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
        let args = ["-displayfd", "1", "-screen", "0", "640x480x24", "-nolisten", "tcp"];
        let (xvfb, number) = spawn_saying(std::process::Command::new("Xvfb").args(args), "Xvfb names its display");
        let display = format!(":{number}");
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

/// A Wayland desktop's screen-sharing path, private to a test: its own D-Bus session bus,
/// PipeWire with WirePlumber, and the real xdg-desktop-portal, whose ScreenCast backend here
/// is a stand-in (the `ScreenBackend` below) that shares "the screen" without a dialog: a
/// PipeWire node drawing SMPTE colour bars (PipeWire's own videotestsrc). A real compositor's
/// backend cannot run here: xdg-desktop-portal-wlr 0.7 refuses to cast from a compositor
/// without a GPU (no DMA-BUF formats; upstream issue 289), and GNOME's and KDE's backends ask
/// the person in a dialog. Everything Duet does is real: the portal's D-Bus conversation, the
/// PipeWire remote it hands out, the stream, the frames.
struct PortalDesktop {
    children: Vec<std::process::Child>,
    dir: tempfile::TempDir,
    bus: String,
    /// XDG_CONFIG_HOME of its programs (PipeWire's drop-in).
    config: std::path::PathBuf,
}

/// The stand-in ScreenCast backend: every request succeeds and shares `node`.
struct ScreenBackend {
    node: u32,
}

type Vardict = std::collections::HashMap<String, zbus::zvariant::OwnedValue>;

#[zbus::interface(name = "org.freedesktop.impl.portal.ScreenCast")]
impl ScreenBackend {
    fn create_session(
        &self,
        _handle: zbus::zvariant::ObjectPath<'_>,
        _session: zbus::zvariant::ObjectPath<'_>,
        _app_id: &str,
        _options: Vardict,
    ) -> (u32, Vardict) {
        (0, Vardict::new())
    }

    fn select_sources(
        &self,
        _handle: zbus::zvariant::ObjectPath<'_>,
        _session: zbus::zvariant::ObjectPath<'_>,
        _app_id: &str,
        _options: Vardict,
    ) -> (u32, Vardict) {
        (0, Vardict::new())
    }

    fn start(
        &self,
        _handle: zbus::zvariant::ObjectPath<'_>,
        _session: zbus::zvariant::ObjectPath<'_>,
        _app_id: &str,
        _parent_window: &str,
        _options: Vardict,
    ) -> (u32, Vardict) {
        let mut stream = Vardict::new();
        stream.insert("source_type".into(), zbus::zvariant::OwnedValue::from(1u32));
        let streams = zbus::zvariant::Value::new(vec![(self.node, stream)]);
        let mut results = Vardict::new();
        results.insert("streams".into(), streams.try_into().expect("streams are a D-Bus value"));
        (0, results)
    }

    #[zbus(property)]
    fn available_source_types(&self) -> u32 {
        1 | 2
    }

    #[zbus(property)]
    fn available_cursor_modes(&self) -> u32 {
        1 | 2
    }

    #[zbus(property, name = "version")]
    fn version(&self) -> u32 {
        4
    }
}

/// A private D-Bus session bus with its config in `dir`: the standard session bus (which
/// starts the services it knows of when asked), or with `activation` off one where only what
/// the test starts runs. Returns the daemon and its address.
fn session_bus(dir: &std::path::Path, activation: bool) -> (std::process::Child, String) {
    let mut command = std::process::Command::new("dbus-daemon");
    if activation {
        command.arg("--session");
    } else {
        let config = dir.join("bus.conf");
        std::fs::write(
            &config,
            "<busconfig><type>session</type><listen>unix:tmpdir=/tmp</listen><auth>EXTERNAL</auth>\
             <policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>\
             <allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>",
        )
        .unwrap();
        command.arg(format!("--config-file={}", config.display()));
    }
    spawn_saying(command.args(["--nofork", "--nopidfile", "--print-address=1"]), "the bus says its address")
}

/// Starts a program that prints where to reach it as its first line (Xvfb's display, a bus's
/// address); returns it and that line, trimmed.
fn spawn_saying(command: &mut std::process::Command, what: &str) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {:?}: {e}", command.get_program()));
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect(what);
    (child, line.trim().to_owned())
}

impl PortalDesktop {
    const BACKEND: &'static str = "org.freedesktop.impl.portal.desktop.duettest";

    fn sharing_colour_bars() -> PortalDesktop {
        use std::process::Command;
        common::require_tool("pipewire");
        common::require_tool("wireplumber");
        common::require_tool("pw-dump");
        common::require_tool("dbus-daemon");
        common::require_tool("/usr/libexec/xdg-desktop-portal");
        let dir = tempfile::tempdir().unwrap();
        let (runtime, config, portals) =
            (dir.path().join("run"), dir.path().join("config"), dir.path().join("portals"));
        let dropins = config.join("pipewire/pipewire.conf.d");
        for d in [&runtime, &dropins, &portals] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(
            dropins.join("screen.conf"),
            "context.spa-libs = { videotestsrc = videotestsrc/libspa-videotestsrc }\n\
             context.objects = [ { factory = spa-node-factory args = { factory.name = videotestsrc \
             node.name = duet-test-screen media.class = Video/Source } } ]\n",
        )
        .unwrap();
        std::fs::write(
            portals.join("duettest.portal"),
            format!(
                "[portal]\nDBusName={}\nInterfaces=org.freedesktop.impl.portal.ScreenCast;\nUseIn=duettest\n",
                Self::BACKEND
            ),
        )
        .unwrap();

        let (bus, address) = session_bus(dir.path(), true);
        let mut desktop = PortalDesktop { children: vec![bus], dir, bus: address, config };
        desktop.start("pipewire", &[]);
        desktop.start("wireplumber", &[]);

        // The colour bars' node, once PipeWire has made it.
        let mut node = None;
        wait_until("PipeWire has the screen's node", || {
            let out = Command::new("pw-dump").envs(desktop.env()).output().expect("run pw-dump");
            let objects: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
            node = objects.as_array().into_iter().flatten().find_map(|o| {
                (o["info"]["props"]["node.name"] == "duet-test-screen").then(|| o["id"].as_u64()).flatten()
            });
            node.is_some()
        });
        let node = u32::try_from(node.unwrap()).unwrap();

        // The backend, on the bus before the portal looks for it.
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let bus_address = desktop.bus.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let connection = zbus::connection::Builder::address(bus_address.as_str())
                    .unwrap()
                    .name(Self::BACKEND)
                    .unwrap()
                    .serve_at("/org/freedesktop/portal/desktop", ScreenBackend { node })
                    .unwrap()
                    .build()
                    .await
                    .expect("the stand-in backend is on the bus");
                ready_tx.send(()).unwrap();
                // Serves for as long as the test runs.
                std::future::pending::<()>().await;
                drop(connection);
            });
        });
        ready_rx.recv().expect("the stand-in backend starts");
        desktop.start("/usr/libexec/xdg-desktop-portal", &["--replace", "--verbose"]);
        desktop
    }

    fn start(&mut self, program: &str, args: &[&str]) {
        let name = program.rsplit('/').next().unwrap_or(program);
        let log = std::fs::File::create(self.dir.path().join(format!("{name}.log"))).unwrap();
        let child = std::process::Command::new(program)
            .args(args)
            .envs(self.env())
            .env("XDG_CONFIG_HOME", &self.config)
            .env("XDG_DESKTOP_PORTAL_DIR", self.dir.path().join("portals"))
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {program}: {e}"));
        self.children.push(child);
    }

    /// What a program of this desktop's session is started with. Nothing listens at the
    /// Wayland display's name: it only says "this is a Wayland session".
    fn env(&self) -> Vec<(&'static str, std::path::PathBuf)> {
        vec![
            ("WAYLAND_DISPLAY", self.dir.path().join("wayland-stand-in")),
            ("DBUS_SESSION_BUS_ADDRESS", self.bus.clone().into()),
            ("XDG_RUNTIME_DIR", self.dir.path().join("run")),
            ("XDG_CURRENT_DESKTOP", "duettest".into()),
        ]
    }
}

impl Drop for PortalDesktop {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for name in ["pipewire", "wireplumber", "xdg-desktop-portal"] {
                let log = std::fs::read_to_string(self.dir.path().join(format!("{name}.log"))).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                eprintln!("--- {name}'s log, last lines ---");
                tail.iter().rev().for_each(|l| eprintln!("{l}"));
            }
        }
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Whether each channel of `seen` is within 25 of `want` (a picture through VP8 drifts a little).
fn looks_like(seen: &Value, want: [i64; 3]) -> bool {
    seen.as_array().is_some_and(|c| {
        c.len() == 3 && c.iter().zip(want).all(|(s, w)| s.as_i64().is_some_and(|s| (s - w).abs() <= 25))
    })
}

/// Ada and Ben in a voice call, each with a sound server of their own speaking a tone; their
/// `duet up` also get `ada_env` and `ben_env` (their desktop sessions).
struct VoiceCall {
    a: tempfile::TempDir,
    b: tempfile::TempDir,
    _ups: (common::Up, common::Up),
    _sounds: (VirtualSound, VirtualSound),
}

impl VoiceCall {
    fn start(
        ada_env: Vec<(&'static str, std::path::PathBuf)>,
        ben_env: Vec<(&'static str, std::path::PathBuf)>,
    ) -> VoiceCall {
        let (mut a_sound, mut b_sound) = (VirtualSound::start(), VirtualSound::start());
        a_sound.speak_tone(440.0);
        b_sound.speak_tone(660.0);
        let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (a, b) = (a_dir.path(), b_dir.path());
        ok(a, &["init", "--name", "Ada"]);
        ok(b, &["init", "--name", "Ben"]);
        let (mut a_env, mut b_env) = (a_sound.env(), b_sound.env());
        a_env.extend(ada_env);
        b_env.extend(ben_env);
        let ups = (up_with(a, &a_env), up_with(b, &b_env));
        let ticket = ok(a, &["invite"]).lines().next().unwrap().to_owned();
        ok(b, &["join", &ticket]);
        ok(a, &["call"]);
        wait_until("Ben's computer rings", || call_status(b)["call"]["phase"] == "ringing");
        ok(b, &["answer"]);
        wait_until("the voice call is active", || call_status(b)["call"]["phase"] == "active");
        VoiceCall { a: a_dir, b: b_dir, _ups: ups, _sounds: (a_sound, b_sound) }
    }
}

#[test]
fn a_shared_wayland_screen_reaches_the_partner_through_the_desktop_portal() {
    let _alone = one_call_at_a_time();
    let desktop = PortalDesktop::sharing_colour_bars();
    // Ada's session is the Wayland desktop's: no X11 display at all. Ben's is a Wayland session
    // whose bus has no portal and starts none.
    let empty = tempfile::tempdir().unwrap();
    let (mut empty_bus, empty_address) = session_bus(empty.path(), false);
    let ben_env = vec![
        ("WAYLAND_DISPLAY", empty.path().join("wayland-stand-in")),
        ("DBUS_SESSION_BUS_ADDRESS", empty_address.into()),
    ];
    let call = VoiceCall::start(desktop.env(), ben_env);
    let (a, b) = (call.a.path(), call.b.path());
    // With no portal, sharing says so in words, and the call goes on.
    let out = duet(b, &["share-screen"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(said.contains("needs the desktop's screen-sharing service (xdg-desktop-portal with PipeWire)"), "{said}");
    assert_eq!(call_status(a)["call"]["phase"], "active");
    let _ = empty_bus.kill();
    let _ = empty_bus.wait();

    // A Wayland session offers the desktop's own choice, and the whole screen goes there too.
    assert!(ok(a, &["share-screen", "--list"]).contains("portal — A screen or window"));
    ok(a, &["share-screen"]);
    // PipeWire's colour bars at their 320×240, left to right: grey, yellow, cyan, green,
    // magenta, red, blue (191 bright), over the top two thirds. Each of the partner's quadrant
    // colours is the mean of a box an eighth of the picture wide around the quarter point:
    // top left, 31 columns of yellow and 9 of cyan; top right, 8 of magenta and 32 of red.
    wait_until("Ben sees the colour bars of Ada's screen", || {
        let seen = call_status(b)["seen"].clone();
        let colours = &seen["quadrant_colours"];
        seen["size"] == serde_json::json!([320, 240])
            && looks_like(&colours[0], [148, 191, 43])
            && looks_like(&colours[1], [191, 0, 38])
    });
    ok(a, &["share-screen", "--stop"]);
    assert_eq!(call_status(b)["call"]["phase"], "active");
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
    let call = VoiceCall::start(vec![("DISPLAY", screen.display.clone().into())], Vec::new());
    let (a, b) = (call.a.path(), call.b.path());
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

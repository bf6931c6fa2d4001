//! A sound server of one's own for tests of the real device path: a private PulseAudio with a
//! virtual speaker (a null sink whose monitor a test records) and a virtual microphone (a
//! second null sink, `micfeed`, whose monitor is remapped into a source called `mic`, so what
//! a test plays into `micfeed` is what the microphone hears). Both are the server's defaults,
//! so a `duet` started with [`VirtualSound::env`] reaches them through ALSA's `default`
//! device (the pulse plugin, `libasound2-plugins`), exactly as on a desktop.
//!
//! Each machine of a test gets its own server (its own runtime directory and socket).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::{require_tool, wait_until};

pub const RATE: u32 = 48_000;

/// A private PulseAudio, stopped (with whatever feeds it) when dropped.
pub struct VirtualSound {
    dir: tempfile::TempDir,
    server: Child,
    feeders: Vec<(Child, Arc<AtomicBool>)>,
    /// What each microphone is fed (its feed sink, the pitch), to feed it again after a restart.
    tones: Vec<(String, f32)>,
}

impl VirtualSound {
    pub fn start() -> VirtualSound {
        require_tool("pulseaudio");
        require_tool("pactl");
        require_tool("pacat");
        require_tool("parec");
        let dir = tempfile::tempdir().expect("a runtime directory");
        let server = Self::serve(dir.path());
        // The headset's ALSA devices are declared from the start (a process reads ALSA's
        // configuration once); they open once it is plugged in (`plug_in_headset`).
        let alsa = |name: &str, description: &str| {
            format!("pcm.{name} {{\n type pulse\n device \"{name}\"\n hint {{ show on description \"{description}\" }}\n}}\n")
        };
        let rc = alsa("headset_mic", "Headset microphone") + &alsa("headphones", "Headphones");
        std::fs::write(dir.path().join(".asoundrc"), rc).expect("write ~/.asoundrc");
        let sound = VirtualSound { dir, server, feeders: Vec::new(), tones: Vec::new() };
        sound.wait_ready();
        sound
    }

    /// Starts the server of the runtime directory `dir`.
    fn serve(dir: &Path) -> Child {
        let socket = dir.join("native");
        let script = dir.join("default.pa");
        std::fs::write(
            &script,
            format!(
                "load-module module-native-protocol-unix auth-anonymous=1 socket={socket}\n\
                 load-module module-null-sink sink_name=speaker rate={RATE} channels=1 sink_properties=device.description=Speaker\n\
                 load-module module-null-sink sink_name=micfeed rate={RATE} channels=1 sink_properties=device.description=MicFeed\n\
                 load-module module-remap-source source_name=mic master=micfeed.monitor channels=1 source_properties=device.description=Microphone\n\
                 set-default-sink speaker\n\
                 set-default-source mic\n",
                socket = socket.display()
            ),
        )
        .expect("write the server's script");
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(dir.join("pulseaudio.log")).expect("a log file");
        Command::new("pulseaudio")
            .args(["--daemonize=no", "--system=false", "--exit-idle-time=-1", "--disallow-exit", "-n", "-F"])
            .arg(&script)
            .args(["--log-target=stderr", "--log-level=warning"])
            .envs(Self::env_for(dir))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start pulseaudio")
    }

    fn wait_ready(&self) {
        wait_until("the sound server answers", || {
            Command::new("pactl").arg("info").envs(self.env()).output().is_ok_and(|o| o.status.success())
        });
    }

    /// Takes the sound server away (every device of this machine goes with it), as when a
    /// USB headset is pulled out or the desktop's sound server crashes.
    pub fn stop_server(&mut self) {
        let tones = self.tones.clone();
        self.stop_speaking();
        self.tones = tones;
        let _ = self.server.kill();
        let _ = self.server.wait();
    }

    /// Brings the server back, speaking what it spoke before.
    pub fn restart_server(&mut self) {
        self.server = Self::serve(self.dir.path());
        self.wait_ready();
        for (feed, freq) in std::mem::take(&mut self.tones) {
            self.speak_tone_into(&feed, freq);
        }
    }

    fn env_for(dir: &Path) -> Vec<(&'static str, PathBuf)> {
        vec![
            ("XDG_RUNTIME_DIR", dir.to_path_buf()),
            ("PULSE_SERVER", format!("unix:{}", dir.join("native").display()).into()),
            // The client library looks for a cookie and a config under HOME.
            ("HOME", dir.to_path_buf()),
        ]
    }

    /// What a process needs in its environment to use this server.
    pub fn env(&self) -> Vec<(&'static str, PathBuf)> {
        Self::env_for(self.dir.path())
    }

    /// "Speaks" into the microphone at `freq` Hz, from now until dropped: syllables of a sine
    /// tone (250 ms, with soft edges, each a little higher or lower) and 250 ms pauses, the
    /// rhythm of speech. (A steady tone is taken for background noise by the noise
    /// suppression, as it should be, and fades out of the call within seconds.)
    pub fn speak_tone(&mut self, freq: f32) {
        self.speak_tone_into("micfeed", freq);
    }

    /// [`VirtualSound::speak_tone`] into the microphone fed by the sink `feed`.
    fn speak_tone_into(&mut self, feed: &str, freq: f32) {
        self.tones.push((feed.to_owned(), freq));
        let mut feeder = Command::new("pacat")
            .args(["--playback", "--format=s16le", "--channels=1", "--latency-msec=20"])
            .arg(format!("--device={feed}"))
            .arg(format!("--rate={RATE}"))
            .envs(self.env())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pacat");
        let mut stdin = feeder.stdin.take().expect("pacat's input");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            // The server takes the audio as fast as it plays it: the pipe paces this loop.
            let mut n: u64 = 0;
            let mut phase = 0.0f64;
            let mut block = Vec::with_capacity(960 * 2);
            while !stopped.load(Ordering::Relaxed) {
                block.clear();
                for _ in 0..960 {
                    let t = n as f64 / f64::from(RATE);
                    // Each syllable a little higher or lower, as a voice goes (within 2%).
                    let bend = [1.0, 1.02, 0.99, 1.01, 0.98][((t / PERIOD) as usize) % 5];
                    phase = (phase + 2.0 * std::f64::consts::PI * f64::from(freq) * bend / f64::from(RATE))
                        % (2.0 * std::f64::consts::PI);
                    let s = (phase.sin() * 0.4 * syllable(t) * 32767.0) as i16;
                    block.extend_from_slice(&s.to_le_bytes());
                    n += 1;
                }
                if stdin.write_all(&block).is_err() {
                    break;
                }
            }
        });
        self.feeders.push((feeder, stop));
    }

    /// Stops what [`VirtualSound::speak_tone`] started: the microphone hears only the room.
    pub fn stop_speaking(&mut self) {
        self.tones.clear();
        for (mut feeder, stop) in self.feeders.drain(..) {
            stop.store(true, Ordering::Relaxed);
            let _ = feeder.kill();
            let _ = feeder.wait();
        }
    }

    /// Lets the microphone hear the speaker, `latency_ms` later and `db` louder (negative:
    /// quieter), as a laptop's microphone hears its own speakers without headphones.
    pub fn echo_speaker_into_microphone(&self, latency_ms: u32, db: f32) {
        let pactl = |args: &[&str]| {
            let out = Command::new("pactl").args(args).envs(self.env()).output().expect("run pactl");
            assert!(out.status.success(), "pactl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        pactl(&[
            "load-module",
            "module-loopback",
            "source=speaker.monitor",
            "sink=micfeed",
            &format!("latency_msec={latency_ms}"),
            "source_dont_move=true",
            "sink_dont_move=true",
        ]);
        // The loopback's playback into `micfeed` is the sink input its driver names.
        let inputs = pactl(&["list", "short", "sink-inputs"]);
        let input = inputs
            .lines()
            .find(|l| l.split('\t').nth(3) == Some("module-loopback.c"))
            .and_then(|l| l.split('\t').next())
            .expect("the loopback's sink input")
            .to_owned();
        pactl(&["set-sink-input-volume", &input, &format!("{db}dB")]);
    }

    /// Plugs in a headset: a second microphone (`headset_mic`) speaking at `freq` Hz and a
    /// second speaker (`headphones`), each also an ALSA device of that name (through the pulse
    /// plugin, declared in `~/.asoundrc` at start), as a USB headset appears next to a laptop's
    /// own.
    /// Neither becomes the default.
    pub fn plug_in_headset(&mut self, freq: f32) {
        let pactl = |args: &[&str]| {
            let out = Command::new("pactl").args(args).envs(self.env()).output().expect("run pactl");
            assert!(out.status.success(), "pactl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        let sink = |name: &str, description: &str| {
            pactl(&[
                "load-module",
                "module-null-sink",
                &format!("sink_name={name}"),
                &format!("rate={RATE}"),
                "channels=1",
                &format!("sink_properties=device.description={description}"),
            ])
        };
        sink("headsetfeed", "HeadsetFeed");
        sink("headphones", "Headphones");
        pactl(&[
            "load-module",
            "module-remap-source",
            "source_name=headset_mic",
            "master=headsetfeed.monitor",
            "channels=1",
            "source_properties=device.description=HeadsetMicrophone",
        ]);
        self.speak_tone_into("headsetfeed", freq);
    }

    /// Records `ms` milliseconds of what the speaker plays.
    pub fn record_speaker(&self, ms: u64) -> Vec<i16> {
        self.record("speaker.monitor", ms)
    }

    /// Records `ms` milliseconds of what the headphones ([`VirtualSound::plug_in_headset`]) play.
    pub fn record_headphones(&self, ms: u64) -> Vec<i16> {
        self.record("headphones.monitor", ms)
    }

    fn record(&self, device: &str, ms: u64) -> Vec<i16> {
        let mut rec = Command::new("parec")
            .args(["--format=s16le", "--channels=1", "--latency-msec=20"])
            .arg(format!("--device={device}"))
            .arg(format!("--rate={RATE}"))
            .envs(self.env())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start parec");
        let mut out = rec.stdout.take().expect("parec's output");
        let want = (u64::from(RATE) * ms / 1000) as usize * 2;
        let mut bytes = vec![0u8; want];
        let read = out.read_exact(&mut bytes);
        let _ = rec.kill();
        let _ = rec.wait();
        read.expect("parec records");
        bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect()
    }

    /// Records `device` (`mic`: what the microphone hears; `speaker.monitor`: what the
    /// speaker plays) from now until dropped, noting when each 10 ms block was read. Two
    /// recordings read the same way, so what reading adds cancels out of a comparison.
    pub fn record_timed(&self, device: &str) -> Recording {
        let mut rec = Command::new("parec")
            .args(["--format=s16le", "--channels=1", "--latency-msec=10"])
            .arg(format!("--device={device}"))
            .arg(format!("--rate={RATE}"))
            .envs(self.env())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start parec");
        let mut out = rec.stdout.take().expect("parec's output");
        let blocks = Arc::new(std::sync::Mutex::new(Vec::new()));
        let into = blocks.clone();
        std::thread::spawn(move || {
            let mut block = vec![0u8; BLOCK * 2];
            while out.read_exact(&mut block).is_ok() {
                let at = std::time::Instant::now();
                let pcm: Vec<i16> = block.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
                into.lock().unwrap_or_else(|e| e.into_inner()).push((at, pcm));
            }
        });
        Recording { recorder: rec, blocks }
    }

    /// What the server logged (printed when a test fails).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pulseaudio.log")).unwrap_or_default()
    }
}

/// Samples a [`Recording`] reads at a time (10 ms).
pub const BLOCK: usize = RATE as usize / 100;

/// 10 ms of sound and when it was read.
pub type TimedBlock = (std::time::Instant, Vec<i16>);

/// A device's sound as [`VirtualSound::record_timed`] reads it: 10 ms blocks, each with when
/// it was read.
pub struct Recording {
    recorder: Child,
    blocks: Arc<std::sync::Mutex<Vec<TimedBlock>>>,
}

impl Recording {
    pub fn blocks(&self) -> Vec<TimedBlock> {
        self.blocks.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        let _ = self.recorder.kill();
        let _ = self.recorder.wait();
    }
}

/// One syllable and its pause.
const PERIOD: f64 = 0.500;

/// The loudness envelope of speech-like syllables at time `t` (seconds): 0.0 to 1.0.
fn syllable(t: f64) -> f64 {
    const ON: f64 = 0.250;
    const EDGE: f64 = 0.020;
    let x = t % PERIOD;
    if x >= ON {
        0.0
    } else {
        (x / EDGE).min((ON - x) / EDGE).min(1.0)
    }
}

impl Drop for VirtualSound {
    fn drop(&mut self) {
        self.stop_speaking();
        if std::thread::panicking() {
            eprintln!("--- pulseaudio's log ---\n{}", self.log());
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
        // Give the socket a moment to go before the directory is removed.
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The dominant frequency (to 5 Hz) of `samples`, or `None` for near silence.
pub fn dominant_hz(samples: &[i16]) -> Option<f32> {
    duet_node::duet_call::analysis::dominant_frequency(samples, RATE)
}

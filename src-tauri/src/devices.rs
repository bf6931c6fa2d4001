//! Settings → Audio & video (`ui/src/settings/MediaSettings.svelte`): which microphone, speaker
//! and camera calls and voice notes use, and two ways to check them.
//!
//! - [`media_devices`] lists what is plugged in and what is chosen; [`set_media_devices`] keeps
//!   a new choice in the node at once (the next call and voice note use it). "System default"
//!   is the window's own first choice (`None`), so the desktop's `default` entry that duet-call
//!   lists first is left out here rather than shown twice.
//! - [`start_microphone_meter`] opens a microphone and sends its level to the window over a
//!   Tauri channel about 20 times a second, until [`stop_microphone_meter`], until another
//!   meter starts, or until the window stops listening; the microphone is released then.
//! - [`play_test_sound`] plays a short two-note chime on a speaker.
//!
//! Listing and opening devices block (ALSA, V4L2, a device thread starting), so they run on
//! the blocking pool, never on the window's thread or the async workers.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use duet_node::duet_call::devices::{
    self, AudioDeviceInfo, CameraInfo, MediaChoice, Microphone, Speaker, DEFAULT_DEVICE,
};
use duet_node::duet_call::frame::{FRAME_SAMPLES, SAMPLE_RATE};
use duet_node::duet_call::AudioSink;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

type Answer<T> = Result<T, AppError>;

/// How often the meter reports: 20 times a second follows a voice without flicker.
const METER_EVERY: Duration = Duration::from_millis(50);
/// The chime's two notes (A5, then the E6 a fifth above), how long each rings, and when the
/// second starts.
const CHIME_HZ: [f32; 2] = [880.0, 1318.5];
const CHIME_NOTE: Duration = Duration::from_millis(450);
const CHIME_SECOND_AT: Duration = Duration::from_millis(220);
/// The chime's loudest point, well below full scale (it is played at whatever volume the
/// speaker is set to).
const CHIME_PEAK: f32 = 0.35;
/// One 20 ms frame, what a call hands the speaker at a time. The speaker's queue is kept short
/// for calls (duet-call cuts back whatever grows past a few frames: it would be delay), so the
/// chime is handed over the same way, a frame whenever less than one is waiting.
const FRAME_MS: usize = 1000 * FRAME_SAMPLES / SAMPLE_RATE as usize;
/// After the last sample is handed over, the sound card and the sound server still hold the
/// tail; the stream stays open until it has played.
const SPEAKER_TAIL: Duration = Duration::from_millis(300);
/// How long a speaker may take to start playing before the test sound gives up on it.
const SPEAKER_START: Duration = Duration::from_secs(5);

/// A camera a person can pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CameraDevice {
    /// Its device node (`/dev/video0`), what a choice keeps.
    pub id: String,
    /// The name its driver gives it ("Integrated Webcam").
    pub name: String,
}

impl From<CameraInfo> for CameraDevice {
    fn from(camera: CameraInfo) -> Self {
        Self { id: camera.path, name: camera.name }
    }
}

/// The devices of this computer and which are chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MediaDevices {
    /// Microphones a person can pick besides "System default".
    pub microphones: Vec<AudioDeviceInfo>,
    /// Speakers and headphones besides "System default".
    pub speakers: Vec<AudioDeviceInfo>,
    /// Cameras; empty when none is plugged in.
    pub cameras: Vec<CameraDevice>,
    pub chosen: MediaChoice,
}

impl MediaDevices {
    fn new(
        microphones: Vec<AudioDeviceInfo>,
        speakers: Vec<AudioDeviceInfo>,
        cameras: Vec<CameraInfo>,
        chosen: MediaChoice,
    ) -> Self {
        let specific = |list: Vec<AudioDeviceInfo>| list.into_iter().filter(|d| d.id != DEFAULT_DEVICE).collect();
        Self {
            microphones: specific(microphones),
            speakers: specific(speakers),
            cameras: cameras.into_iter().map(CameraDevice::from).collect(),
            chosen,
        }
    }
}

/// Runs blocking device work off the async workers.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Answer<T> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("Looking at the devices failed ({e}).")))
}

/// What is plugged in, and what calls and voice notes use.
#[tauri::command]
pub async fn media_devices(state: State<'_, AppState>) -> Answer<MediaDevices> {
    let chosen = state.node().await?.media_devices()?;
    let (microphones, speakers, cameras) =
        blocking(|| (devices::microphones(), devices::speakers(), devices::cameras())).await?;
    Ok(MediaDevices::new(microphones, speakers, cameras, chosen))
}

/// Keeps the devices for calls and voice notes (on this device only); returns them as kept.
#[tauri::command]
pub async fn set_media_devices(state: State<'_, AppState>, choice: MediaChoice) -> Answer<MediaChoice> {
    Ok(state.node().await?.set_media_devices(choice)?)
}

/// The microphone meter running, if any. Aborting its task drops the microphone it owns.
#[derive(Default)]
pub struct MicrophoneMeter(Mutex<Option<tauri::async_runtime::JoinHandle<()>>>);

impl MicrophoneMeter {
    /// Stops the meter, if one runs, releasing its microphone.
    pub fn stop(&self) {
        self.replace(None);
    }

    fn replace(&self, next: Option<tauri::async_runtime::JoinHandle<()>>) {
        let previous = std::mem::replace(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()), next);
        if let Some(task) = previous {
            task.abort();
        }
    }
}

/// Opens `microphone` (`None`: the default) and sends its level, 0.0 to 1.0 (RMS), on `levels`
/// about 20 times a second until stopped. A microphone that cannot be opened is an error in
/// words, not a silent meter of some other microphone.
#[tauri::command]
pub async fn start_microphone_meter(
    meter: State<'_, MicrophoneMeter>,
    microphone: Option<String>,
    levels: Channel<f32>,
) -> Answer<()> {
    // A microphone some drivers open only once: release the one metered before.
    meter.stop();
    let mic = blocking(move || Microphone::open(microphone.as_deref(), None)).await?.map_err(AppError::device)?;
    let task = tauri::async_runtime::spawn(async move {
        let level = mic.meter();
        let mut tick = tokio::time::interval(METER_EVERY);
        loop {
            tick.tick().await;
            // The window went away (a reload): nobody is looking, so let the microphone go.
            if levels.send(level.level()).is_err() {
                break;
            }
        }
        drop(mic);
    });
    meter.replace(Some(task));
    Ok(())
}

/// Stops the meter and releases its microphone.
#[tauri::command]
pub fn stop_microphone_meter(meter: State<'_, MicrophoneMeter>) {
    meter.stop();
}

/// Plays a short two-note chime on `speaker` (`None`: the default); resolves once played.
#[tauri::command]
pub async fn play_test_sound(speaker: Option<String>) -> Answer<()> {
    blocking(move || play(speaker.as_deref(), &chime())).await?
}

fn play(speaker: Option<&str>, sound: &[i16]) -> Answer<()> {
    let mut out = Speaker::open(speaker, None, None).map_err(AppError::device)?;
    let length = Duration::from_millis(sound.len() as u64 * 1000 / u64::from(SAMPLE_RATE));
    // A speaker that takes nothing (a stalled device) must not hold the button forever; one
    // that starts slowly is not stalled (a sound server's first stream took 1.7 s here).
    if !feed(&mut out, sound, Instant::now() + length + SPEAKER_START) {
        let name = speaker.unwrap_or("System default");
        return Err(AppError::device(format!("The speaker “{name}” did not play the sound")));
    }
    std::thread::sleep(SPEAKER_TAIL);
    Ok(())
}

/// A speaker as the test sound feeds it: duet-call's [`Speaker`], or a fake sound card in tests.
trait Playback {
    /// Audio handed over but not played yet, in milliseconds.
    fn queued_ms(&mut self) -> usize;
    fn write(&mut self, block: &[i16]);
}

impl Playback for Speaker {
    fn queued_ms(&mut self) -> usize {
        Speaker::queued_ms(self)
    }

    fn write(&mut self, block: &[i16]) {
        AudioSink::write(self, block);
    }
}

/// Hands `sound` to `out` a frame at a time, each once less than a frame is waiting, until all
/// of it has been taken; `false` if the speaker stopped taking it before `deadline`.
fn feed(out: &mut impl Playback, sound: &[i16], deadline: Instant) -> bool {
    let wait_below = |out: &mut dyn Playback, ms: usize| {
        while out.queued_ms() > ms {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        true
    };
    for block in sound.chunks(FRAME_SAMPLES) {
        if !wait_below(out, FRAME_MS - 1) {
            return false;
        }
        out.write(block);
    }
    wait_below(out, 0)
}

/// Two bell-like notes, the second a fifth above the first and starting as the first fades:
/// a soft attack, an exponential decay, a short release and a little of the octave above, at
/// 48 kHz mono.
pub fn chime() -> Vec<i16> {
    let rate = SAMPLE_RATE as f32;
    let at = |d: Duration| (d.as_secs_f32() * rate) as usize;
    let (note, second) = (at(CHIME_NOTE), at(CHIME_SECOND_AT));
    let mut mix = vec![0f32; second + note];
    for (i, hz) in CHIME_HZ.iter().enumerate() {
        let start = i * second;
        for n in 0..note {
            let t = n as f32 / rate;
            let attack = (t / 0.008).min(1.0);
            let decay = (-t * 7.0).exp();
            // The last 30 ms close to silence, so the note ends without a click.
            let release = ((note - n) as f32 / (0.03 * rate)).min(1.0);
            let phase = 2.0 * std::f32::consts::PI * hz * t;
            mix[start + n] += CHIME_PEAK * attack * decay * release * (phase.sin() + 0.25 * (2.0 * phase).sin()) / 1.25;
        }
    }
    mix.iter().map(|x| (x.clamp(-1.0, 1.0) * f32::from(i16::MAX)) as i16).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use duet_node::duet_call::analysis::{dominant_frequency, rms};
    use duet_node::duet_call::devices::CameraMode;

    fn audio(id: &str, name: &str, is_default: bool) -> AudioDeviceInfo {
        AudioDeviceInfo { id: id.into(), name: name.into(), is_default }
    }

    #[test]
    fn the_lists_hold_each_device_once_with_system_default_left_to_the_window() {
        let mics =
            vec![audio(DEFAULT_DEVICE, "System default", true), audio("sysdefault:CARD=Headset", "USB Headset", false)];
        let speakers = vec![audio(DEFAULT_DEVICE, "System default", true), audio("pulse", "PulseAudio", false)];
        let cameras = vec![CameraInfo {
            path: "/dev/video0".into(),
            name: "Integrated Webcam".into(),
            modes: vec![CameraMode { format: devices::PixelFormat::Yuyv, width: 640, height: 480, max_fps: Some(30) }],
        }];
        let chosen = MediaChoice { microphone: Some("sysdefault:CARD=Headset".into()), ..MediaChoice::default() };
        let listed = MediaDevices::new(mics, speakers, cameras, chosen.clone());
        assert_eq!(listed.microphones, vec![audio("sysdefault:CARD=Headset", "USB Headset", false)]);
        assert_eq!(listed.speakers, vec![audio("pulse", "PulseAudio", false)]);
        assert_eq!(listed.cameras, vec![CameraDevice { id: "/dev/video0".into(), name: "Integrated Webcam".into() }]);
        assert_eq!(listed.chosen, chosen);
        // The window reads the choice with the same field names the node keeps.
        let json = serde_json::to_value(&listed).unwrap();
        assert_eq!(json["chosen"]["microphone"], "sysdefault:CARD=Headset");
        assert_eq!(json["chosen"]["test_tone"], false);
    }

    /// A sound card that plays 10 ms each time it is looked at, behind a queue that, like the
    /// speaker's in calls, cuts back to 30 ms whatever grows past 60 ms.
    #[derive(Default)]
    struct Card {
        queue: std::collections::VecDeque<i16>,
        played: Vec<i16>,
        cut: usize,
    }

    impl Playback for Card {
        fn queued_ms(&mut self) -> usize {
            let period = self.queue.len().min(480);
            self.played.extend(self.queue.drain(..period));
            self.queue.len() * 1000 / SAMPLE_RATE as usize
        }

        fn write(&mut self, block: &[i16]) {
            self.queue.extend(block);
            let (max, keep) = (60 * SAMPLE_RATE as usize / 1000, 30 * SAMPLE_RATE as usize / 1000);
            if self.queue.len() > max {
                let excess = self.queue.len() - keep;
                self.cut += excess;
                self.queue.drain(..excess);
            }
        }
    }

    #[test]
    fn the_test_sound_reaches_a_short_speaker_queue_whole() {
        let sound = chime();
        let mut card = Card::default();
        assert!(feed(&mut card, &sound, Instant::now() + Duration::from_secs(60)));
        assert_eq!(card.cut, 0, "nothing was cut back");
        assert_eq!(card.played, sound, "every sample played, in order");
    }

    /// A sound card that never plays.
    struct Stalled;

    impl Playback for Stalled {
        fn queued_ms(&mut self) -> usize {
            FRAME_MS
        }

        fn write(&mut self, _: &[i16]) {}
    }

    #[test]
    fn a_speaker_that_plays_nothing_is_given_up_on() {
        assert!(!feed(&mut Stalled, &chime(), Instant::now()));
    }

    #[test]
    fn the_test_sound_is_two_notes_rising_a_fifth_and_fading_out() {
        let sound = chime();
        let ms = |m: usize| m * SAMPLE_RATE as usize / 1000;
        let hz = |from: usize, to: usize| dominant_frequency(&sound[ms(from)..ms(to)], SAMPLE_RATE).unwrap();
        let first = hz(20, 200);
        let second = hz(400, 600);
        assert!((first - CHIME_HZ[0]).abs() <= 10.0, "first note at {first} Hz");
        assert!((second - CHIME_HZ[1]).abs() <= 10.0, "second note at {second} Hz");
        assert_eq!(sound.len(), ms(670));
        let loudest = sound.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!(loudest < i16::MAX as u16 / 2, "never near full scale: {loudest}");
        assert!(rms(&sound[sound.len() - ms(20)..]) < 0.01, "it fades out rather than stopping with a click");
        assert!(sound[0].unsigned_abs() < 100, "and starts softly");
    }
}

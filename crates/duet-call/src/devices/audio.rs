//! The microphone and the speaker through cpal over ALSA. PulseAudio and PipeWire desktops are
//! reached through their ALSA plugins: ALSA's `default` device is the desktop's default, so
//! "System default" follows what the person picked in their sound settings.
//!
//! - **Choosing**: [`microphones`] and [`speakers`] list ALSA's PCM devices a person would
//!   pick (the default, the sound server, one entry per card), each with the card's own words.
//!   A device is named by its ALSA id (`default`, `sysdefault:CARD=Headset`), which is what the
//!   settings keep and `--mic`/`--speaker` take.
//! - **Formats**: a device is opened at 48 kHz mono 16-bit when it offers that, else at the
//!   nearest it offers (16-bit or float, any rate, mono or stereo), converted on the audio
//!   thread ([`crate::resample`]).
//! - **Threads and buffers**: each device runs on its own thread (cpal streams are not `Send`)
//!   and meets the call's media tasks through a bounded buffer. The call follows the card's
//!   clock ([`AudioSource::ready`], [`AudioSink::queued`]): a frame is sent when the
//!   microphone holds one, decoded when the speaker runs low. A reader that stalls lets a
//!   buffer grow; past [`MAX_BUFFERED_MS`] it is cut back to [`TRIM_TO_MS`] (a short skip
//!   instead of a delay that stays for the rest of the call). An underrun plays or sends
//!   silence.
//! - **Unplugged**: when the stream fails (a USB headset pulled out), the thread opens the
//!   default device instead and says so on the notice channel; if there is no device at all it
//!   tries again every second. The choice itself is kept by whoever made it.
//! - **Echo**: the speaker hands every block it actually plays to a tap (the echo canceller's
//!   far-end reference); the microphone runs a processing step (echo cancellation, noise
//!   suppression, gain) on its audio thread, 10 ms at a time, on the stream exactly as the
//!   card delivers it, before any cut or gap. The echo canceller has to see two unbroken
//!   streams: when it ran on the call's 20 ms reads instead, every backlog cut and every
//!   underrun's silence shifted the echo by that much, and on a loaded machine the echo came
//!   back for seconds at a time while it searched again (`tests/devices.rs` in the CLI).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample, StreamConfig, SupportedStreamConfigRange};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::DeviceError;
use crate::frame::SAMPLE_RATE;
use crate::lock;
use crate::processing::CHUNK_SAMPLES;
use crate::resample::{downmix, to_f32, to_i16, Resampler};
use crate::source::{AudioSink, AudioSource};

/// A buffer holding more than this is cut back (the clocks drifted, or a reader stalled).
pub const MAX_BUFFERED_MS: usize = 120;
/// What a cut-back buffer keeps.
pub const TRIM_TO_MS: usize = 40;
/// The sound card's buffer, each way. The speaker's is delay on the way to the ear all the
/// time (it is kept full); 40 ms → 20 ms took mouth-to-ear p50 from about 118 ms to 95
/// (`cargo bench -p duet-cli --bench call_devices`), and the echo canceller kept removing
/// 37–54 dB with three busy loops on the two cores (`tests/devices.rs` in the CLI).
pub const DEVICE_BUFFER_MS: u32 = 20;
/// A microphone buffer holding more than this when the call reads it is cut back to one
/// frame: what piled up while the reader stalled would otherwise stay as delay for the rest
/// of the call. (The first read always cuts back: what piled up while the call connected.)
/// The echo canceller runs before this cut (on the audio thread), so cutting does not move
/// the echo under its feet; 30 ms instead of 60 took mouth-to-ear p50 from 143 to 131 ms
/// (`cargo bench -p duet-cli --bench call_devices`).
const MAX_MICROPHONE_BACKLOG_MS: usize = 30;
/// The speaker's queue (decoded audio not yet handed to the sound card) is kept under this,
/// cut back to [`SPEAKER_QUEUE_MS`]. The call decodes a frame when the queue runs low
/// ([`AudioSink::queued`]), so it stays far below; the cut is for a writer that does not look.
const MAX_SPEAKER_QUEUE_MS: usize = 60;
const SPEAKER_QUEUE_MS: usize = 30;
/// The ALSA id of the desktop's default device.
pub const DEFAULT_DEVICE: &str = "default";

const fn samples(ms: usize) -> usize {
    SAMPLE_RATE as usize * ms / 1000
}

/// A microphone or speaker a person can pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AudioDeviceInfo {
    /// ALSA's name for it, what a choice keeps (`default`, `sysdefault:CARD=Headset`).
    pub id: String,
    /// In the card's own words ("USB Headset, USB Audio").
    pub name: String,
    /// The desktop's default device.
    pub is_default: bool,
}

/// The microphones of this machine, the default first.
pub fn microphones() -> Vec<AudioDeviceInfo> {
    list(alsa::Direction::Capture)
}

/// The speakers (and headphones) of this machine, the default first.
pub fn speakers() -> Vec<AudioDeviceInfo> {
    list(alsa::Direction::Playback)
}

/// ALSA lists every way to reach every card (front, surround51, dmix, hw, plughw…); a person
/// picks a card, so only the entries that mean "this card, converted as needed" are kept.
fn is_pickable(id: &str) -> bool {
    is_server_plugin(id) || id.starts_with("sysdefault:") || id.starts_with("hdmi:")
}

/// ALSA's plugins that reach a sound server rather than a card.
fn is_server_plugin(id: &str) -> bool {
    matches!(id, "pulse" | "pipewire" | "jack")
}

fn list(direction: alsa::Direction) -> Vec<AudioDeviceInfo> {
    let mut out = vec![AudioDeviceInfo { id: DEFAULT_DEVICE.into(), name: "System default".into(), is_default: true }];
    let Ok(hints) = alsa::device_name::HintIter::new_str(None, "pcm") else { return out };
    for hint in hints {
        let Some(id) = hint.name else { continue };
        if !is_pickable(&id) || hint.direction.is_some_and(|d| d != direction) || out.iter().any(|d| d.id == id) {
            continue;
        }
        // ALSA lists its sound-server plugins whether or not that server runs (JACK on a
        // desktop without it): offered only when they open, so the list has nothing that
        // cannot work. A card is never opened here (it may be in use).
        if is_server_plugin(&id) && alsa::PCM::new(&id, direction, true).is_err() {
            continue;
        }
        let name = hint
            .desc
            .map(|d| d.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(", "))
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| id.clone());
        out.push(AudioDeviceInfo { id, name, is_default: false });
    }
    out
}

fn is_default(id: Option<&str>) -> bool {
    id.is_none_or(|id| id.is_empty() || id == DEFAULT_DEVICE)
}

fn find(id: Option<&str>, input: bool) -> Result<cpal::Device, DeviceError> {
    let host = cpal::default_host();
    let what = if input { "microphone" } else { "speaker" };
    if is_default(id) {
        let device = if input { host.default_input_device() } else { host.default_output_device() };
        return device.ok_or_else(|| DeviceError(format!("No {what} found")));
    }
    let id = id.unwrap_or(DEFAULT_DEVICE);
    let devices = if input { host.input_devices() } else { host.output_devices() };
    devices
        .map_err(|e| DeviceError(format!("The {what}s could not be listed ({e})")))?
        .find(|d| d.name().is_ok_and(|n| n == id))
        .ok_or_else(|| DeviceError(format!("The {what} “{id}” was not found")))
}

/// The config closest to 48 kHz mono 16-bit among what the device offers.
fn pick_config(ranges: impl Iterator<Item = SupportedStreamConfigRange>) -> Option<(StreamConfig, SampleFormat)> {
    let format_rank = |f: SampleFormat| match f {
        SampleFormat::I16 => 0,
        SampleFormat::F32 => 1,
        SampleFormat::I32 => 2,
        SampleFormat::U16 => 3,
        _ => 9,
    };
    ranges
        .filter(|r| format_rank(r.sample_format()) < 9 && r.channels() > 0)
        .map(|r| {
            let rate = SAMPLE_RATE.clamp(r.min_sample_rate().0, r.max_sample_rate().0);
            let score = (rate.abs_diff(SAMPLE_RATE), r.channels(), format_rank(r.sample_format()));
            (
                score,
                StreamConfig {
                    channels: r.channels(),
                    sample_rate: cpal::SampleRate(rate),
                    buffer_size: cpal::BufferSize::Default,
                },
                r.sample_format(),
            )
        })
        .min_by_key(|(score, ..)| *score)
        .map(|(_, config, format)| (config, format))
}

/// The device buffer asked for: [`DEVICE_BUFFER_MS`] (cpal splits it in four periods). ALSA's
/// default is 100 ms, all of it delay on the way to the ear; a device that refuses a fixed
/// size is opened with its default instead. An underrun on a busy machine is a click (cpal
/// prepares the device again and goes on), not a failure.
fn with_low_latency(config: &StreamConfig) -> StreamConfig {
    let frames = config.sample_rate.0 * DEVICE_BUFFER_MS / 1000;
    StreamConfig { buffer_size: cpal::BufferSize::Fixed(frames), ..config.clone() }
}

/// Drops the oldest audio of a buffer that grew past [`MAX_BUFFERED_MS`].
fn trim(buffer: &mut VecDeque<i16>) {
    if buffer.len() > samples(MAX_BUFFERED_MS) {
        let excess = buffer.len() - samples(TRIM_TO_MS);
        buffer.drain(..excess);
    }
}

/// What the device thread and the call's side share.
#[derive(Default)]
struct Shared {
    buffer: Mutex<VecDeque<i16>>,
    /// RMS of the last block, as `f32` bits (0.0 to 1.0).
    level: AtomicU32,
    /// The stream reported an error: the thread opens the default device instead.
    failed: AtomicBool,
    stop: AtomicBool,
    /// The microphone's processing, run on the audio thread ([`Microphone::with_processing`]).
    processing: Mutex<Option<Processing>>,
}

impl Shared {
    fn set_level(&self, block: &[f32]) {
        if block.is_empty() {
            return;
        }
        let rms = (block.iter().map(|x| x * x).sum::<f32>() / block.len() as f32).sqrt();
        self.level.store(rms.to_bits(), Ordering::Relaxed);
    }
}

/// Says something to the person, if anyone listens (a full queue drops it: notices are not
/// worth blocking an audio thread for).
fn tell(notices: &Option<mpsc::Sender<String>>, words: String) {
    tracing::info!("{words}");
    if let Some(n) = notices {
        let _ = n.try_send(words);
    }
}

/// Keeps a stream running on its own thread: opens `id` (reporting the first failure to the
/// caller), and when the stream fails later, opens the default device instead.
fn run_device(
    id: Option<String>,
    input: bool,
    shared: Arc<Shared>,
    notices: Option<mpsc::Sender<String>>,
    tap: Option<Tap>,
) -> Result<String, DeviceError> {
    let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
    let what = if input { "microphone" } else { "speaker" };
    std::thread::Builder::new()
        .name(format!("duet-{what}"))
        .spawn(move || {
            let tap = tap.map(|t| Arc::new(Mutex::new(t)));
            let mut current = id;
            let mut ready = Some(ready_tx);
            let mut said_missing = false;
            while !shared.stop.load(Ordering::Relaxed) {
                shared.failed.store(false, Ordering::Relaxed);
                let opened = find(current.as_deref(), input).and_then(|device| {
                    let name = device.name().unwrap_or_else(|_| DEFAULT_DEVICE.into());
                    let stream = if input {
                        build_input(&device, shared.clone())?
                    } else {
                        build_output(&device, shared.clone(), tap.clone())?
                    };
                    stream.play().map_err(|e| DeviceError(format!("The {what} “{name}” could not start ({e})")))?;
                    Ok((stream, name))
                });
                match opened {
                    Ok((stream, name)) => {
                        if said_missing {
                            tell(&notices, format!("The {what} works again"));
                        }
                        said_missing = false;
                        if let Some(r) = ready.take() {
                            let _ = r.send(Ok(name.clone()));
                        }
                        while !shared.stop.load(Ordering::Relaxed) && !shared.failed.load(Ordering::Relaxed) {
                            std::thread::sleep(Duration::from_millis(50));
                        }
                        drop(stream);
                        if shared.failed.load(Ordering::Relaxed) && !shared.stop.load(Ordering::Relaxed) {
                            let words = if is_default(current.as_deref()) {
                                format!("The {what} stopped working; trying it again")
                            } else {
                                format!("The {what} “{name}” went away: using the default {what}")
                            };
                            tell(&notices, words);
                            current = None;
                        }
                    }
                    Err(e) => {
                        if let Some(r) = ready.take() {
                            let _ = r.send(Err(e));
                            return;
                        }
                        // The details are for the log; the person needs to know where things stand.
                        tracing::info!("{e}");
                        if !said_missing {
                            tell(&notices, format!("No {what} can be used right now; Duet keeps trying"));
                            said_missing = true;
                        }
                        current = None;
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
            }
        })
        .map_err(|e| DeviceError(format!("The {what} thread could not start ({e})")))?;
    ready_rx.recv().map_err(|_| DeviceError(format!("The {what} thread stopped")))?
}

fn stream_error(shared: &Arc<Shared>, what: &'static str) -> impl FnMut(cpal::StreamError) + Send + 'static {
    let shared = shared.clone();
    move |e| {
        tracing::warn!("{what}: {e}");
        shared.failed.store(true, Ordering::Relaxed);
    }
}

fn build_input(device: &cpal::Device, shared: Arc<Shared>) -> Result<cpal::Stream, DeviceError> {
    let name = device.name().unwrap_or_default();
    let ranges = device
        .supported_input_configs()
        .map_err(|e| DeviceError(format!("The microphone “{name}” could not be asked what it offers ({e})")))?;
    let (config, format) =
        pick_config(ranges).ok_or_else(|| DeviceError(format!("The microphone “{name}” offers no usable format")))?;
    let build = |config: &StreamConfig| match format {
        SampleFormat::I16 => input_stream::<i16>(device, config, shared.clone()),
        SampleFormat::F32 => input_stream::<f32>(device, config, shared.clone()),
        SampleFormat::I32 => input_stream::<i32>(device, config, shared.clone()),
        _ => input_stream::<u16>(device, config, shared.clone()),
    };
    build(&with_low_latency(&config))
        .or_else(|_| build(&config))
        .map_err(|e| DeviceError(format!("The microphone “{name}” could not be opened ({e})")))
}

fn input_stream<T>(
    device: &cpal::Device,
    config: &StreamConfig,
    shared: Arc<Shared>,
) -> Result<cpal::Stream, cpal::BuildStreamError>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let channels = usize::from(config.channels);
    let mut resampler = Resampler::new(config.sample_rate.0, SAMPLE_RATE);
    let (mut raw, mut mono, mut out) = (Vec::new(), Vec::new(), Vec::new());
    // Samples waiting for a whole 10 ms chunk to process (the card's blocks rarely are).
    let mut pending: Vec<i16> = Vec::with_capacity(2 * CHUNK_SAMPLES);
    let on_error = stream_error(&shared, "microphone");
    device.build_input_stream(
        config,
        move |data: &[T], _: &cpal::InputCallbackInfo| {
            raw.clear();
            raw.extend(data.iter().map(|s| f32::from_sample_(*s)));
            mono.clear();
            downmix(&raw, channels, &mut mono);
            out.clear();
            resampler.process(&mono, &mut out);
            shared.set_level(&out);
            pending.extend(out.iter().map(|&x| to_i16(x)));
            let whole = pending.len() - pending.len() % CHUNK_SAMPLES;
            if whole == 0 {
                return;
            }
            if let Some(p) = lock(&shared.processing).as_mut() {
                p(&mut pending[..whole]);
            }
            let mut b = lock(&shared.buffer);
            b.extend(pending.drain(..whole));
            trim(&mut b);
        },
        on_error,
        None,
    )
}

fn build_output(
    device: &cpal::Device,
    shared: Arc<Shared>,
    tap: Option<Arc<Mutex<Tap>>>,
) -> Result<cpal::Stream, DeviceError> {
    let name = device.name().unwrap_or_default();
    let ranges = device
        .supported_output_configs()
        .map_err(|e| DeviceError(format!("The speaker “{name}” could not be asked what it offers ({e})")))?;
    let (config, format) =
        pick_config(ranges).ok_or_else(|| DeviceError(format!("The speaker “{name}” offers no usable format")))?;
    let build = |config: &StreamConfig| match format {
        SampleFormat::I16 => output_stream::<i16>(device, config, shared.clone(), tap.clone()),
        SampleFormat::F32 => output_stream::<f32>(device, config, shared.clone(), tap.clone()),
        SampleFormat::I32 => output_stream::<i32>(device, config, shared.clone(), tap.clone()),
        _ => output_stream::<u16>(device, config, shared.clone(), tap.clone()),
    };
    build(&with_low_latency(&config))
        .or_else(|_| build(&config))
        .map_err(|e| DeviceError(format!("The speaker “{name}” could not be opened ({e})")))
}

fn output_stream<T>(
    device: &cpal::Device,
    config: &StreamConfig,
    shared: Arc<Shared>,
    tap: Option<Arc<Mutex<Tap>>>,
) -> Result<cpal::Stream, cpal::BuildStreamError>
where
    T: SizedSample + FromSample<f32>,
{
    let channels = usize::from(config.channels).max(1);
    let rate = config.sample_rate.0;
    let mut resampler = Resampler::new(SAMPLE_RATE, rate);
    let (mut played, mut pcm, mut out) = (Vec::new(), Vec::new(), Vec::new());
    let on_error = stream_error(&shared, "speaker");
    device.build_output_stream(
        config,
        move |data: &mut [T], _: &cpal::OutputCallbackInfo| {
            let frames = data.len() / channels;
            // Call-rate samples needed for `frames` device frames (one more when resampling,
            // so the interpolation never runs dry; the remainder waits for the next block).
            let wanted = if rate == SAMPLE_RATE {
                frames
            } else {
                (frames as u64 * u64::from(SAMPLE_RATE) / u64::from(rate)) as usize + 1
            };
            played.clear();
            {
                let mut b = lock(&shared.buffer);
                played.extend((0..wanted).map(|_| b.pop_front().unwrap_or(0)));
            }
            if let Some(tap) = &tap {
                (lock(tap))(&played);
            }
            pcm.clear();
            pcm.extend(played.iter().map(|&s| to_f32(s)));
            shared.set_level(&pcm);
            out.clear();
            resampler.process(&pcm, &mut out);
            for (i, frame) in data.chunks_exact_mut(channels).enumerate() {
                let x = out.get(i).copied().unwrap_or(0.0);
                frame.fill(T::from_sample_(x));
            }
        },
        on_error,
        None,
    )
}

/// Called with every block the speaker plays (48 kHz mono), on the audio thread.
pub type Tap = Box<dyn FnMut(&[i16]) + Send>;
/// Runs on the microphone's audio as the card delivers it, a whole number of 10 ms chunks at
/// a time, on the audio thread (echo cancellation): it must not block.
pub type Processing = Box<dyn FnMut(&mut [i16]) + Send>;

/// A microphone, 48 kHz mono.
pub struct Microphone {
    shared: Arc<Shared>,
    name: String,
    /// Nothing was read yet.
    fresh: bool,
}

impl Microphone {
    /// Opens the microphone `id` (`None`: the default). What happens to it later (unplugged,
    /// replaced by the default) is said on `notices`.
    pub fn open(id: Option<&str>, notices: Option<mpsc::Sender<String>>) -> Result<Self, DeviceError> {
        let shared = Arc::new(Shared::default());
        let name = run_device(id.map(str::to_owned), true, shared.clone(), notices, None)?;
        Ok(Self { shared, name, fresh: true })
    }

    /// Runs `processing` on the microphone's audio from now on, on its audio thread.
    pub fn with_processing(self, processing: Processing) -> Self {
        *lock(&self.shared.processing) = Some(processing);
        self
    }

    /// The device's ALSA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How loud the microphone is right now, 0.0 to 1.0 (RMS of the last block).
    pub fn level(&self) -> f32 {
        f32::from_bits(self.shared.level.load(Ordering::Relaxed))
    }

    /// A handle that reads the level from elsewhere (a meter) while the microphone is in use.
    pub fn meter(&self) -> LevelMeter {
        LevelMeter(self.shared.clone())
    }
}

/// Reads a device's level from another task.
#[derive(Clone)]
pub struct LevelMeter(Arc<Shared>);

impl LevelMeter {
    /// 0.0 to 1.0 (RMS of the last block).
    pub fn level(&self) -> f32 {
        f32::from_bits(self.0.level.load(Ordering::Relaxed))
    }
}

impl AudioSource for Microphone {
    fn read(&mut self, out: &mut [i16]) {
        let mut b = lock(&self.shared.buffer);
        if b.len() > samples(MAX_MICROPHONE_BACKLOG_MS) || (self.fresh && b.len() > out.len()) {
            let excess = b.len() - out.len();
            b.drain(..excess);
        }
        self.fresh = false;
        for s in out.iter_mut() {
            *s = b.pop_front().unwrap_or(0);
        }
    }

    fn ready(&self) -> Option<usize> {
        Some(lock(&self.shared.buffer).len())
    }
}

impl Drop for Microphone {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

/// A speaker, 48 kHz mono.
pub struct Speaker {
    shared: Arc<Shared>,
    name: String,
}

impl Speaker {
    /// Opens the speaker `id` (`None`: the default); `tap` hears everything it plays.
    pub fn open(
        id: Option<&str>,
        notices: Option<mpsc::Sender<String>>,
        tap: Option<Tap>,
    ) -> Result<Self, DeviceError> {
        let shared = Arc::new(Shared::default());
        let name = run_device(id.map(str::to_owned), false, shared.clone(), notices, tap)?;
        Ok(Self { shared, name })
    }

    /// The device's ALSA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Audio written but not played yet, in milliseconds.
    pub fn queued_ms(&self) -> usize {
        lock(&self.shared.buffer).len() * 1000 / SAMPLE_RATE as usize
    }
}

impl AudioSink for Speaker {
    fn write(&mut self, pcm: &[i16]) {
        let mut b = lock(&self.shared.buffer);
        b.extend(pcm.iter().copied());
        if b.len() > samples(MAX_SPEAKER_QUEUE_MS) {
            let excess = b.len() - samples(SPEAKER_QUEUE_MS);
            b.drain(..excess);
        }
    }

    fn queued(&self) -> Option<usize> {
        Some(lock(&self.shared.buffer).len())
    }
}

impl Drop for Speaker {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpal::{SampleRate, SupportedBufferSize};

    fn range(channels: u16, min: u32, max: u32, format: SampleFormat) -> SupportedStreamConfigRange {
        SupportedStreamConfigRange::new(
            channels,
            SampleRate(min),
            SampleRate(max),
            SupportedBufferSize::Unknown,
            format,
        )
    }

    #[test]
    fn the_config_nearest_48k_mono_16_bit_is_picked() {
        let (c, f) = pick_config(
            [range(2, 44_100, 44_100, SampleFormat::I16), range(1, 8_000, 192_000, SampleFormat::F32)].into_iter(),
        )
        .unwrap();
        assert_eq!((c.channels, c.sample_rate.0, f), (1, 48_000, SampleFormat::F32), "the rate matters most");
        let (c, f) = pick_config(
            [range(2, 44_100, 44_100, SampleFormat::F32), range(2, 44_100, 44_100, SampleFormat::I16)].into_iter(),
        )
        .unwrap();
        assert_eq!((c.channels, c.sample_rate.0, f), (2, 44_100, SampleFormat::I16));
        assert!(pick_config([range(2, 48_000, 48_000, SampleFormat::U8)].into_iter()).is_none());
    }

    #[test]
    fn a_grown_buffer_is_cut_back_to_its_newest_audio() {
        let mut b: VecDeque<i16> = (0..samples(MAX_BUFFERED_MS) as i16).collect();
        trim(&mut b);
        assert_eq!(b.len(), samples(MAX_BUFFERED_MS), "at the limit, nothing is dropped");
        b.push_back(i16::MAX);
        trim(&mut b);
        assert_eq!(b.len(), samples(TRIM_TO_MS));
        assert_eq!(b.back(), Some(&i16::MAX), "the newest sample stays");
    }

    #[test]
    fn the_default_device_is_always_listed_first() {
        for list in [microphones(), speakers()] {
            assert_eq!(list[0].id, DEFAULT_DEVICE);
            assert!(list[0].is_default);
            assert!(list.iter().skip(1).all(|d| is_pickable(&d.id)), "{list:?}");
        }
    }
}

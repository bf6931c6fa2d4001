//! Echo cancellation, noise suppression and gain control for the microphone
//! (docs/architecture.md, "Calls"), with WebRTC's AudioProcessing module as ported to Rust by
//! `sonora` (AEC3, NS, AGC2, high-pass filter).
//!
//! The flow, per call:
//!
//! - The speaker's audio thread hands every block it plays to an [`EchoReference`]
//!   ([`EchoReference::render`], any length). It cuts the audio into 10 ms chunks and puts them
//!   on a bounded queue without ever blocking; when the queue is full (nobody is capturing),
//!   the chunk is dropped and counted.
//! - The send path hands each microphone frame (20 ms, or any whole number of 10 ms) to the
//!   [`AudioProcessor`] ([`AudioProcessor::capture`]). It first drains the reference queue into
//!   the echo canceller (in order, so AEC3 sees exactly what was played), then processes the
//!   frame in place, 10 ms at a time: high-pass, echo cancellation, noise suppression, gain
//!   control. The RMS level of what comes out is kept for a microphone meter
//!   ([`ProcessedLevel`]).
//!
//! AEC3 finds the delay between the reference and the echo by itself (tested at 50 ms; it
//! takes it a few seconds of far-end speech), so no delay has to be measured or passed in.
//!
//! Why sonora and not `webrtc-audio-processing` (bindings to the C++ module): on the same echo
//! test they remove about as much echo (median 22 against 21 dB in continuous double talk,
//! 50 against 38 dB with the partner alone; the C++ one keeps the voice 1 dB closer), and the
//! C++ one costs half the CPU (about 130 against 250 µs per 10 ms, both under 3% of a core).
//! But its build needs a newer meson than Debian 12's, ninja, libclang and abseil 20240722,
//! which Debian 12 does not package and meson downloads while building, and it took about 10
//! CPU-minutes cold against sonora's 1.5 (docs/decisions.md, "Echo cancellation").

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;

use sonora::config::{AdaptiveDigital, EchoCanceller, GainController2, HighPassFilter, NoiseSuppression};
use sonora::{AudioProcessing, Config, StreamConfig};

use crate::analysis;
use crate::frame::SAMPLE_RATE;

/// Samples in the 10 ms chunk the module works on (48 kHz mono).
pub const CHUNK_SAMPLES: usize = SAMPLE_RATE as usize / 100;

/// Reference chunks kept for the capture side: half a second. The capture side drains the
/// queue every 20 ms, so in a call it holds one or two chunks; the bound only matters when
/// capture stops while the speaker plays (mute at the device, a stalled send path).
pub const REFERENCE_QUEUE_CHUNKS: usize = 50;

/// The level reported for digital silence (and the floor of every reading).
pub const SILENCE_DBFS: f32 = -100.0;

/// What runs on the microphone. Each is on by default; turning one off is for a headset (no
/// echo to cancel), a studio microphone, or a test that wants to hear the raw signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessingSettings {
    /// AEC3: removes what the speaker played from the microphone.
    pub echo_cancellation: bool,
    /// Removes steady background noise (fans, hum). A steady tone counts as noise.
    pub noise_suppression: bool,
    /// AGC2's adaptive digital gain: brings a quiet or loud voice towards a common level.
    pub gain_control: bool,
}

impl Default for ProcessingSettings {
    fn default() -> Self {
        Self { echo_cancellation: true, noise_suppression: true, gain_control: true }
    }
}

impl ProcessingSettings {
    fn config(self) -> Config {
        Config {
            // Always on: removes DC and rumble below the voice, which the echo canceller
            // would otherwise spend its filter on.
            high_pass_filter: Some(HighPassFilter::default()),
            echo_canceller: self.echo_cancellation.then(EchoCanceller::default),
            noise_suppression: self.noise_suppression.then(NoiseSuppression::default),
            gain_controller2: self.gain_control.then(|| GainController2 {
                // Duet does not move the system's microphone volume: digital gain only.
                input_volume_controller: false,
                adaptive_digital: Some(AdaptiveDigital::default()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

/// The microphone's audio could not be processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessingError {
    /// The frame is not a whole number of 10 ms chunks (the module works on 10 ms).
    #[error("a frame of {len} samples is not a whole number of 10 ms chunks ({CHUNK_SAMPLES} samples)")]
    FrameLength { len: usize },
    /// The module refused a chunk (it does not for 48 kHz mono; kept rather than unwrapped).
    #[error("audio processing refused a chunk: {0}")]
    Refused(String),
}

/// Creates the two halves for one call: the processor for the send path and the reference
/// feed for the speaker's audio thread.
pub fn audio_processor(settings: ProcessingSettings) -> (AudioProcessor, EchoReference) {
    let (tx, rx) = sync_channel(REFERENCE_QUEUE_CHUNKS);
    let stream = StreamConfig::new(SAMPLE_RATE, 1);
    let apm = AudioProcessing::builder().config(settings.config()).capture_config(stream).render_config(stream).build();
    let dropped = Arc::new(AtomicU64::new(0));
    let processor = AudioProcessor {
        apm,
        settings,
        reference: rx,
        level: ProcessedLevel(Arc::new(AtomicU32::new(SILENCE_DBFS.to_bits()))),
        dropped: dropped.clone(),
        input: [0; CHUNK_SAMPLES],
        scratch: [0; CHUNK_SAMPLES],
    };
    let reference = EchoReference { queue: tx, pending: [0; CHUNK_SAMPLES], filled: 0, dropped };
    (processor, reference)
}

/// The speaker's half: what the speaker actually plays goes in here, on the audio thread.
pub struct EchoReference {
    queue: SyncSender<[i16; CHUNK_SAMPLES]>,
    /// The start of the next chunk (the speaker's blocks are rarely a multiple of 10 ms).
    pending: [i16; CHUNK_SAMPLES],
    filled: usize,
    dropped: Arc<AtomicU64>,
}

impl EchoReference {
    /// Hands over samples the speaker is playing (48 kHz mono, any length). Never blocks and
    /// never allocates, so it is safe in an audio callback.
    pub fn render(&mut self, samples: &[i16]) {
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (CHUNK_SAMPLES - self.filled).min(rest.len());
            self.pending[self.filled..self.filled + take].copy_from_slice(&rest[..take]);
            self.filled += take;
            rest = &rest[take..];
            if self.filled == CHUNK_SAMPLES {
                self.filled = 0;
                match self.queue.try_send(self.pending) {
                    Ok(()) => {}
                    // Nobody has drained for half a second: this chunk is lost, and AEC3
                    // re-finds the delay once capture resumes.
                    Err(TrySendError::Full(_)) => {
                        self.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    // The processor is gone (the call ended): nothing to feed.
                    Err(TrySendError::Disconnected(_)) => {}
                }
            }
        }
    }
}

/// The send path's half: processes the microphone in place.
pub struct AudioProcessor {
    apm: AudioProcessing,
    settings: ProcessingSettings,
    reference: Receiver<[i16; CHUNK_SAMPLES]>,
    level: ProcessedLevel,
    dropped: Arc<AtomicU64>,
    /// The module reads one buffer and writes another; these avoid an allocation per chunk.
    input: [i16; CHUNK_SAMPLES],
    scratch: [i16; CHUNK_SAMPLES],
}

impl AudioProcessor {
    /// Processes one microphone frame in place: 48 kHz mono, a whole number of 10 ms chunks
    /// (a call's 20 ms frame is two). Reference audio played since the last call is fed to
    /// the echo canceller first.
    pub fn capture(&mut self, frame: &mut [i16]) -> Result<(), ProcessingError> {
        if !frame.len().is_multiple_of(CHUNK_SAMPLES) {
            return Err(ProcessingError::FrameLength { len: frame.len() });
        }
        while let Ok(chunk) = self.reference.try_recv() {
            // Without the echo canceller nothing reads the reference; draining still keeps
            // the queue fresh for when it is turned back on.
            if self.settings.echo_cancellation {
                self.apm.process_render_i16(&chunk, &mut self.scratch).map_err(refused)?;
            }
        }
        for chunk in frame.chunks_exact_mut(CHUNK_SAMPLES) {
            self.input.copy_from_slice(chunk);
            self.apm.process_capture_i16(&self.input, chunk).map_err(refused)?;
        }
        self.level.set(frame);
        Ok(())
    }

    /// Turns parts on or off mid-call (AEC3 starts adapting afresh when turned back on).
    pub fn set_settings(&mut self, settings: ProcessingSettings) {
        if settings != self.settings {
            self.apm.apply_config(settings.config());
            self.settings = settings;
        }
    }

    pub fn settings(&self) -> ProcessingSettings {
        self.settings
    }

    /// The level of the last processed frame, readable from another thread (a meter).
    pub fn level(&self) -> ProcessedLevel {
        self.level.clone()
    }

    /// Reference chunks lost because the queue was full (the capture side had stopped).
    pub fn dropped_reference_chunks(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

fn refused(e: sonora::Error) -> ProcessingError {
    ProcessingError::Refused(e.to_string())
}

/// The RMS level of the processed microphone, in dBFS, shared with a meter.
#[derive(Debug, Clone)]
pub struct ProcessedLevel(Arc<AtomicU32>);

impl ProcessedLevel {
    /// From [`SILENCE_DBFS`] (silence) to 0 dBFS (a full-scale square wave); a full-scale
    /// sine reads about −3.
    pub fn dbfs(&self) -> f32 {
        f32::from_bits(self.0.load(Ordering::Relaxed))
    }

    fn set(&self, samples: &[i16]) {
        self.0.store(dbfs(analysis::rms(samples)).to_bits(), Ordering::Relaxed);
    }
}

fn dbfs(rms: f32) -> f32 {
    if rms <= 0.0 {
        return SILENCE_DBFS;
    }
    (20.0 * rms.log10()).max(SILENCE_DBFS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{AudioSource, SineTone};

    fn both_halves_cross_threads<T: Send + 'static>() {}

    #[test]
    fn halves_can_live_on_their_own_threads() {
        both_halves_cross_threads::<AudioProcessor>();
        both_halves_cross_threads::<EchoReference>();
        both_halves_cross_threads::<ProcessedLevel>();
        let (mut processor, mut reference) = audio_processor(ProcessingSettings::default());
        let speaker = std::thread::spawn(move || {
            let block = [1000i16; 441];
            for _ in 0..10 {
                reference.render(&block);
            }
        });
        speaker.join().expect("speaker thread");
        let mut frame = [0i16; 960];
        assert_eq!(processor.capture(&mut frame), Ok(()));
        assert_eq!(processor.dropped_reference_chunks(), 0);
    }

    #[test]
    fn a_frame_must_be_whole_10_ms_chunks() {
        let (mut processor, _reference) = audio_processor(ProcessingSettings::default());
        assert_eq!(processor.capture(&mut [0; 960]), Ok(()));
        assert_eq!(processor.capture(&mut [0; 480]), Ok(()));
        assert_eq!(processor.capture(&mut [0; 1000]), Err(ProcessingError::FrameLength { len: 1000 }));
    }

    #[test]
    fn the_reference_queue_is_bounded_and_counts_what_it_drops() {
        let (mut processor, mut reference) = audio_processor(ProcessingSettings::default());
        // Two seconds played, none captured: only half a second is kept.
        reference.render(&vec![500; 2 * SAMPLE_RATE as usize]);
        assert_eq!(processor.dropped_reference_chunks(), 200 - REFERENCE_QUEUE_CHUNKS as u64);
        assert_eq!(processor.capture(&mut [0; 960]), Ok(()));
        assert!(processor.reference.try_recv().is_err(), "capture drains the queue");
        // And it fills again once drained.
        reference.render(&[500; CHUNK_SAMPLES]);
        assert_eq!(processor.dropped_reference_chunks(), 200 - REFERENCE_QUEUE_CHUNKS as u64);
    }

    #[test]
    fn the_meter_reads_the_processed_level() {
        let off = ProcessingSettings { echo_cancellation: false, noise_suppression: false, gain_control: false };
        let (mut processor, _reference) = audio_processor(off);
        let meter = processor.level();
        assert_eq!(meter.dbfs(), SILENCE_DBFS);
        let mut tone = SineTone::new(440.0, 0.5);
        let mut frame = [0i16; 960];
        for _ in 0..10 {
            tone.read(&mut frame);
            processor.capture(&mut frame).expect("processed");
        }
        // A sine at half scale is −6 dBFS peak, −9 dBFS RMS.
        assert!((meter.dbfs() + 9.0).abs() < 1.0, "{} dBFS", meter.dbfs());
        // The module delays the signal by a few milliseconds, and the high-pass filter rings
        // after a loud tone stops dead (−47, −53, −58 … dBFS in the frames after it): the
        // meter falls to silence within a fifth of a second.
        for _ in 0..10 {
            processor.capture(&mut [0; 960]).expect("processed");
        }
        assert!(meter.dbfs() < -60.0, "{} dBFS after silence", meter.dbfs());
    }
}

//! Where call media comes from and goes to. Sources and sinks are traits so that the app plugs
//! in a microphone, speaker and camera (`devices` module, behind cargo features), and tests
//! and `duet call --synthetic` plug in synthetic ones whose output a receiver can check: a sine
//! tone, and a test pattern of four known colours with a white square moving across it.
//!
//! Sources are pulled on the media tasks' clock (every 20 ms for audio, every frame for
//! video) and must not block; sinks are called as media is decoded and must not block either
//! (a device sink hands samples to its own audio thread through a bounded buffer). An audio
//! source or sink with a clock of its own (a microphone, a speaker: the sound card's) says how
//! much it holds, and the call follows that clock instead of its own: a frame is sent the
//! moment the microphone has one, and decoded when the speaker is about to run out. Two clocks
//! side by side cost up to a frame of waiting at each end, all of it delay.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::analysis;
use crate::frame::{VideoFrame, FRAME_SAMPLES, SAMPLE_RATE};
use crate::lock;

/// Audio to send: 48 kHz mono, pulled one 20 ms frame at a time.
pub trait AudioSource: Send + 'static {
    /// Fills `out` (one frame, [`FRAME_SAMPLES`] samples) with the next audio.
    fn read(&mut self, out: &mut [i16]);

    /// For a source with its own clock: how many samples it holds, ready to read. `None` (the
    /// default): a source read on the call's 20 ms clock.
    fn ready(&self) -> Option<usize> {
        None
    }
}

/// Audio received, 48 kHz mono, as it is decoded.
pub trait AudioSink: Send + 'static {
    fn write(&mut self, samples: &[i16]);

    /// For a sink with its own clock: how many samples it holds, written and not played yet.
    /// `None` (the default): a sink written on the call's 20 ms clock.
    fn queued(&self) -> Option<usize> {
        None
    }
}

/// Video to send.
pub trait VideoSource: Send + 'static {
    /// The frame size (even, at most 1920×1080).
    fn size(&self) -> (u32, u32);
    /// The next frame, or `None` when there is none right now (the frame is skipped).
    fn next_frame(&mut self) -> Option<VideoFrame>;
}

/// Video received, as it is decoded. Front ends that paint on a canvas call
/// [`VideoFrame::to_rgba`].
pub trait VideoSink: Send + 'static {
    fn frame(&mut self, frame: &VideoFrame);
}

/// Everything one side of a call plays and captures.
pub struct CallMedia {
    pub audio_source: Box<dyn AudioSource>,
    pub audio_sink: Box<dyn AudioSink>,
    /// `None`: no camera (a video call still receives the partner's video).
    pub video_source: Option<Box<dyn VideoSource>>,
    pub video_sink: Box<dyn VideoSink>,
}

impl CallMedia {
    /// A tone out, the test pattern out (for video calls), and probes that record what
    /// arrives. Returns the probes to look at later.
    pub fn synthetic(tone_hz: f32, video: Option<(u32, u32)>) -> (Self, AudioProbe, VideoProbe) {
        let (audio, picture) = (AudioProbe::default(), VideoProbe::default());
        let media = Self {
            audio_source: Box::new(SineTone::new(tone_hz, 0.4)),
            audio_sink: Box::new(audio.clone()),
            video_source: video.map(|(w, h)| Box::new(TestPattern::new(w, h)) as Box<dyn VideoSource>),
            video_sink: Box::new(picture.clone()),
        };
        (media, audio, picture)
    }
}

/// A sine tone.
#[derive(Debug, Clone)]
pub struct SineTone {
    step: f64,
    phase: f64,
    amplitude: f64,
}

impl SineTone {
    /// `amplitude` from 0.0 to 1.0 of full scale.
    pub fn new(freq_hz: f32, amplitude: f32) -> Self {
        let step = 2.0 * std::f64::consts::PI * f64::from(freq_hz) / f64::from(SAMPLE_RATE);
        Self { step, phase: 0.0, amplitude: f64::from(amplitude.clamp(0.0, 1.0)) * 32767.0 }
    }
}

impl AudioSource for SineTone {
    fn read(&mut self, out: &mut [i16]) {
        for s in out {
            *s = (self.phase.sin() * self.amplitude) as i16;
            self.phase = (self.phase + self.step) % (2.0 * std::f64::consts::PI);
        }
    }
}

/// Silence.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silence;

impl AudioSource for Silence {
    fn read(&mut self, out: &mut [i16]) {
        out.fill(0);
    }
}

/// A sink that drops everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Discard;

impl AudioSink for Discard {
    fn write(&mut self, _: &[i16]) {}
}

impl VideoSink for Discard {
    fn frame(&mut self, _: &VideoFrame) {}
}

/// The test pattern: four quadrants in [`TestPattern::COLOURS`] (top left, top right, bottom
/// left, bottom right) and a white square sliding along the horizontal middle line, so the
/// picture moves while the quadrant centres stay put.
#[derive(Debug, Clone)]
pub struct TestPattern {
    width: u32,
    height: u32,
    frame: u64,
}

impl TestPattern {
    pub const COLOURS: [[u8; 3]; 4] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]];

    /// A pattern of the given size (rounded down to even, at least 16×16).
    pub fn new(width: u32, height: u32) -> Self {
        Self { width: (width & !1).clamp(16, 1920), height: (height & !1).clamp(16, 1080), frame: 0 }
    }

    /// The frames made so far.
    pub fn frames(&self) -> u64 {
        self.frame
    }

    /// Whether a decoded frame shows the pattern: each quadrant's centre within a tolerance
    /// of its colour.
    pub fn matches(frame: &VideoFrame) -> bool {
        Self::quadrant_colours(frame)
            .iter()
            .zip(Self::COLOURS)
            .all(|(seen, want)| seen.iter().zip(want).all(|(s, w)| s.abs_diff(w) <= 40))
    }

    /// The mean colour around each quadrant's centre.
    pub fn quadrant_colours(frame: &VideoFrame) -> [[u8; 3]; 4] {
        let (w, h) = (frame.width, frame.height);
        let (bw, bh) = ((w / 8).max(1), (h / 8).max(1));
        let centre = |cx: u32, cy: u32| frame.mean_rgb(cx - bw / 2, cy - bh / 2, bw, bh);
        [centre(w / 4, h / 4), centre(3 * w / 4, h / 4), centre(w / 4, 3 * h / 4), centre(3 * w / 4, 3 * h / 4)]
    }
}

impl VideoSource for TestPattern {
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn next_frame(&mut self) -> Option<VideoFrame> {
        let (w, h) = (self.width, self.height);
        let mut f = VideoFrame::black(w, h)?;
        let [tl, tr, bl, br] = Self::COLOURS;
        f.fill_rect(0, 0, w / 2, h / 2, tl);
        f.fill_rect(w / 2, 0, w - w / 2, h / 2, tr);
        f.fill_rect(0, h / 2, w / 2, h - h / 2, bl);
        f.fill_rect(w / 2, h / 2, w - w / 2, h - h / 2, br);
        let side = (h / 10).max(2);
        let x = ((self.frame * 4) % u64::from(w.saturating_sub(side).max(1))) as u32;
        f.fill_rect(x, h / 2 - side / 2, side, side, [255, 255, 255]);
        self.frame += 1;
        Some(f)
    }
}

/// Records what audio arrived: the last second of it, how many frames, when the first came.
/// Cloning shares the record (one clone is the sink, another is read by the test).
#[derive(Clone, Default)]
pub struct AudioProbe(Arc<Mutex<AudioRecord>>);

#[derive(Default)]
struct AudioRecord {
    recent: VecDeque<i16>,
    frames: u64,
    first_at: Option<Instant>,
    last_at: Option<Instant>,
}

impl AudioProbe {
    /// Frames of audio decoded.
    pub fn frames(&self) -> u64 {
        lock(&self.0).frames
    }

    pub fn first_at(&self) -> Option<Instant> {
        lock(&self.0).first_at
    }

    pub fn last_at(&self) -> Option<Instant> {
        lock(&self.0).last_at
    }

    /// The last `n` samples (at most one second).
    pub fn recent(&self, n: usize) -> Vec<i16> {
        let r = lock(&self.0);
        let skip = r.recent.len().saturating_sub(n);
        r.recent.iter().skip(skip).copied().collect()
    }

    /// The dominant frequency of the last 100 ms.
    pub fn dominant_frequency(&self) -> Option<f32> {
        analysis::dominant_frequency(&self.recent(4800), SAMPLE_RATE)
    }

    /// The loudness of the last 100 ms.
    pub fn rms(&self) -> f32 {
        analysis::rms(&self.recent(4800))
    }
}

impl AudioSink for AudioProbe {
    fn write(&mut self, samples: &[i16]) {
        let mut r = lock(&self.0);
        let now = Instant::now();
        r.first_at.get_or_insert(now);
        r.last_at = Some(now);
        r.frames += 1;
        r.recent.extend(samples.iter().copied());
        let excess = r.recent.len().saturating_sub(SAMPLE_RATE as usize);
        r.recent.drain(..excess);
    }
}

/// Records what video arrived: the last frame, how many, how many showed the test pattern.
#[derive(Clone, Default)]
pub struct VideoProbe(Arc<Mutex<VideoRecord>>);

#[derive(Default)]
struct VideoRecord {
    last: Option<VideoFrame>,
    frames: u64,
    pattern_frames: u64,
    first_at: Option<Instant>,
}

impl VideoProbe {
    pub fn frames(&self) -> u64 {
        lock(&self.0).frames
    }

    /// Frames that showed [`TestPattern`]'s colours.
    pub fn pattern_frames(&self) -> u64 {
        lock(&self.0).pattern_frames
    }

    pub fn last(&self) -> Option<VideoFrame> {
        lock(&self.0).last.clone()
    }

    pub fn first_at(&self) -> Option<Instant> {
        lock(&self.0).first_at
    }
}

impl VideoSink for VideoProbe {
    fn frame(&mut self, frame: &VideoFrame) {
        let matches = TestPattern::matches(frame);
        let mut r = lock(&self.0);
        r.first_at.get_or_insert_with(Instant::now);
        r.frames += 1;
        r.pattern_frames += u64::from(matches);
        r.last = Some(frame.clone());
    }
}

/// One frame's worth of samples, for sources.
pub fn frame_buffer() -> Vec<i16> {
    vec![0; FRAME_SAMPLES]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pattern_moves_but_its_quadrants_stay() {
        let mut p = TestPattern::new(320, 240);
        let a = p.next_frame().unwrap();
        let b = p.next_frame().unwrap();
        assert_ne!(a, b, "the square moved");
        assert!(TestPattern::matches(&a) && TestPattern::matches(&b));
        assert!(!TestPattern::matches(&VideoFrame::black(320, 240).unwrap()));
    }

    #[test]
    fn the_probe_keeps_one_second() {
        let mut probe = AudioProbe::default();
        let mut tone = SineTone::new(440.0, 0.5);
        let mut buf = frame_buffer();
        for _ in 0..100 {
            tone.read(&mut buf);
            probe.write(&buf);
        }
        assert_eq!(probe.frames(), 100);
        assert_eq!(probe.recent(usize::MAX).len(), SAMPLE_RATE as usize);
        assert!((probe.dominant_frequency().unwrap() - 440.0).abs() <= 10.0);
    }
}

//! Sample-rate and channel conversion between a sound device and the call's 48 kHz mono.
//!
//! Most devices are opened at 48 kHz mono directly (ALSA's `default` and `pulse` devices
//! convert for us). A device that only offers other formats — a USB headset at 44.1 kHz
//! stereo, a `plughw` card at 16 kHz — is opened at what it offers, and its audio goes through
//! here: channels are averaged down to mono (or the mono signal is copied to every channel on
//! the way out), and the rate is changed by linear interpolation.
//!
//! Linear interpolation is enough for speech between the common rates (44.1/48 kHz both
//! ways, and up from 16 kHz): it costs a few operations per sample and adds no delay. Going
//! *down* to a much lower rate it would alias the highest speech harmonics; devices that need
//! that are rare, and still intelligible.

/// Changes the rate of a mono stream, keeping its position between calls (so 10 ms chunks in
/// give a continuous signal out).
#[derive(Debug, Clone)]
pub struct Resampler {
    from: u32,
    to: u32,
    /// Where the next output sample falls, in input samples after `last`.
    position: f64,
    /// The last input sample of the previous chunk (interpolation reaches back to it).
    last: f32,
}

impl Resampler {
    /// `from` and `to` in samples per second (both clamped to at least 1).
    pub fn new(from: u32, to: u32) -> Self {
        Self { from: from.max(1), to: to.max(1), position: 0.0, last: 0.0 }
    }

    /// Whether the rates differ (when they do not, [`Resampler::process`] copies).
    pub fn is_needed(&self) -> bool {
        self.from != self.to
    }

    /// Appends `input` converted to the output rate to `out`.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        if !self.is_needed() {
            out.extend_from_slice(input);
            return;
        }
        let step = f64::from(self.from) / f64::from(self.to);
        // Position 0.0 is `last`; input[i] is at i + 1.
        let available = input.len() as f64;
        while self.position < available {
            let i = self.position.floor();
            let frac = (self.position - i) as f32;
            let i = i as usize;
            let a = if i == 0 { self.last } else { input[i - 1] };
            let b = input[i];
            out.push(a + (b - a) * frac);
            self.position += step;
        }
        self.position -= available;
        if let Some(&l) = input.last() {
            self.last = l;
        }
    }
}

/// Averages interleaved `channels` down to mono.
pub fn downmix(interleaved: &[f32], channels: usize, out: &mut Vec<f32>) {
    let channels = channels.max(1);
    out.extend(interleaved.chunks_exact(channels).map(|frame| frame.iter().sum::<f32>() / channels as f32));
}

/// Converts an `f32` in -1.0..=1.0 to `i16` (clipping what is outside).
pub fn to_i16(x: f32) -> i16 {
    (x.clamp(-1.0, 1.0) * 32767.0) as i16
}

/// Converts an `i16` sample to `f32` in -1.0..1.0.
pub fn to_f32(x: i16) -> f32 {
    f32::from(x) / 32768.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::dominant_frequency;

    fn tone(freq: f32, rate: u32, n: usize) -> Vec<f32> {
        (0..n).map(|i| (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin() * 0.5).collect()
    }

    #[test]
    fn a_tone_keeps_its_pitch_across_rates_in_small_chunks() {
        for (from, to) in [(44_100, 48_000), (48_000, 44_100), (16_000, 48_000), (48_000, 48_000)] {
            let input = tone(440.0, from, from as usize);
            let mut r = Resampler::new(from, to);
            let mut out = Vec::new();
            // 10 ms chunks, as a device delivers them.
            for chunk in input.chunks((from / 100) as usize) {
                r.process(chunk, &mut out);
            }
            let expected = to as usize;
            assert!(out.len().abs_diff(expected) <= 2, "{from}->{to}: {} samples", out.len());
            let pcm: Vec<i16> = out.iter().map(|&x| to_i16(x)).collect();
            let f = dominant_frequency(&pcm[pcm.len() / 2..], to).unwrap();
            assert!((f - 440.0).abs() <= 10.0, "{from}->{to}: heard {f} Hz");
        }
    }

    #[test]
    fn stereo_is_averaged_and_samples_clip() {
        let mut out = Vec::new();
        downmix(&[1.0, 0.0, -0.5, -0.5, 0.25], 2, &mut out);
        assert_eq!(out, vec![0.5, -0.5], "a trailing half frame is dropped");
        assert_eq!(to_i16(2.0), 32767);
        assert_eq!(to_i16(-2.0), -32767);
        assert_eq!(to_f32(-32768), -1.0);
    }
}

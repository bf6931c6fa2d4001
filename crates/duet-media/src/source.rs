//! Where recorded sound comes from.
//!
//! A voice message is recorded from an [`AudioSource`]: 16-bit PCM at the source's rate.
//! Tests use [`Tone`], a sine wave, so they can check what arrived (its length, its level).
//!
//! The microphone is not read here. The app records voice notes in `src-tauri/src/media.rs`
//! from the chosen microphone (`duet_call::devices::Microphone`, cpal over ALSA). The PCM it
//! records is handed to `Node::send_voice`; voice notes also come from files (`send_file`
//! with an `.ogg`/`.opus`).

/// Something that gives 16-bit PCM.
pub trait AudioSource {
    /// Samples per second per channel.
    fn sample_rate(&self) -> u32;
    /// 1 (mono) or 2 (interleaved stereo).
    fn channels(&self) -> u8;
    /// Fills `out` with the next samples; returns how many were written (0 at the end).
    fn read(&mut self, out: &mut [i16]) -> usize;

    /// Everything the source gives, up to `max_samples`.
    fn read_all(&mut self, max_samples: usize) -> Vec<i16> {
        let mut pcm = Vec::new();
        let mut buf = [0i16; 960];
        while pcm.len() < max_samples {
            let n = self.read(&mut buf);
            if n == 0 {
                break;
            }
            pcm.extend_from_slice(&buf[..n.min(max_samples - pcm.len())]);
        }
        pcm
    }
}

/// A mono sine wave of a given frequency, level and length.
#[derive(Debug, Clone)]
pub struct Tone {
    pub frequency: f32,
    /// Peak level, 0.0..=1.0.
    pub level: f32,
    pub sample_rate: u32,
    remaining: u64,
    t: u64,
}

impl Tone {
    /// `ms` milliseconds of `frequency` Hz at `level` (0.0..=1.0), 48 kHz mono.
    pub fn new(frequency: f32, level: f32, ms: u64) -> Self {
        let sample_rate = 48_000;
        Self { frequency, level: level.clamp(0.0, 1.0), sample_rate, remaining: ms * sample_rate as u64 / 1000, t: 0 }
    }
}

impl AudioSource for Tone {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn channels(&self) -> u8 {
        1
    }

    fn read(&mut self, out: &mut [i16]) -> usize {
        let n = (out.len() as u64).min(self.remaining) as usize;
        for s in &mut out[..n] {
            let phase = self.t as f32 * self.frequency / self.sample_rate as f32;
            *s = ((phase * std::f32::consts::TAU).sin() * self.level * i16::MAX as f32) as i16;
            self.t += 1;
        }
        self.remaining -= n as u64;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_has_its_length_and_level() {
        let pcm = Tone::new(440.0, 0.5, 250).read_all(usize::MAX);
        assert_eq!(pcm.len(), 12_000);
        let peak = pcm.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((16_000..=16_384).contains(&peak), "{peak}");
    }
}

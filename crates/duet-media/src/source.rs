//! Sound to test with. A voice message is recorded elsewhere — the app records it from the
//! chosen microphone through `duet_call::devices` (the one `AudioSource` trait of Duet is
//! `duet_call::AudioSource`) and hands the PCM to `Node::send_voice`; voice notes also come
//! from files (`send_file` with an `.ogg`/`.opus`). Tests make theirs with [`tone`], a sine
//! wave, so they can check what arrived (its length, its level).

/// The rate [`tone`] makes sound at.
pub const TONE_RATE: u32 = 48_000;

/// `ms` milliseconds of a `frequency` Hz sine at peak `level` (0.0..=1.0), 48 kHz mono.
pub fn tone(frequency: f32, level: f32, ms: u64) -> Vec<i16> {
    let level = level.clamp(0.0, 1.0);
    let n = ms * u64::from(TONE_RATE) / 1000;
    (0..n)
        .map(|t| {
            let phase = t as f32 * frequency / TONE_RATE as f32;
            ((phase * std::f32::consts::TAU).sin() * level * i16::MAX as f32) as i16
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_has_its_length_and_level() {
        let pcm = tone(440.0, 0.5, 250);
        assert_eq!(pcm.len(), 12_000);
        let peak = pcm.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((16_000..=16_384).contains(&peak), "{peak}");
    }
}

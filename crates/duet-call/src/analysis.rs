//! What a receiver can prove about what it heard: the loudness and the dominant frequency of
//! decoded audio (a Goertzel filter swept over the voice band).

/// Root mean square of the samples, 0.0 to 1.0.
pub fn rms(samples: &[i16]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|s| f64::from(*s) / 32768.0).map(|s| s * s).sum();
    (sum / samples.len() as f64).sqrt() as f32
}

/// The power of one frequency in the samples (Goertzel).
pub fn power_at(samples: &[i16], rate: u32, freq: f32) -> f64 {
    let w = 2.0 * std::f64::consts::PI * f64::from(freq) / f64::from(rate);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for x in samples {
        let s0 = f64::from(*x) / 32768.0 + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// The strongest frequency between 50 Hz and 4 kHz, to 5 Hz; `None` for near silence.
pub fn dominant_frequency(samples: &[i16], rate: u32) -> Option<f32> {
    if rms(samples) < 0.005 {
        return None;
    }
    let mut best = (0.0f32, 0.0f64);
    let mut f = 50.0f32;
    while f <= 4000.0 {
        let p = power_at(samples, rate, f);
        if p > best.1 {
            best = (f, p);
        }
        f += 5.0;
    }
    Some(best.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{AudioSource, SineTone};

    #[test]
    fn finds_the_tone() {
        for freq in [220.0, 440.0, 880.0, 1500.0] {
            let mut tone = SineTone::new(freq, 0.3);
            let mut buf = vec![0i16; 4800];
            tone.read(&mut buf);
            let f = dominant_frequency(&buf, 48_000).unwrap();
            assert!((f - freq).abs() <= 10.0, "{freq} Hz heard as {f}");
        }
        assert_eq!(dominant_frequency(&[0; 4800], 48_000), None);
    }
}

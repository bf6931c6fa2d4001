//! Voice messages: 16-bit PCM to Opus in Ogg (RFC 7845), and back.
//!
//! Encoding: 20 ms Opus frames (VoIP mode) at the input's rate when Opus supports it
//! (8, 12, 16, 24 or 48 kHz), otherwise resampled to 48 kHz first; an `OpusHead` page, an
//! `OpusTags` page, then the audio, the last page's granule position giving the exact length.
//! The duration and a waveform of [`WAVEFORM_BARS`] peak levels are measured on the PCM.
//!
//! Reading ([`inspect`], [`decode`]) is bounded: at most [`MAX_DURATION_MS`] of audio, one or
//! two channels, and any malformed page, header or packet is an error, never a panic.

use std::io::Cursor;

use ogg::{PacketReader, PacketWriteEndInfo, PacketWriter};
use opus::{Application, Channels, Decoder, Encoder};

use crate::MediaError;

/// Bars in a waveform summary.
pub const WAVEFORM_BARS: usize = 64;
/// The longest voice message: 30 minutes.
pub const MAX_DURATION_MS: u64 = 30 * 60 * 1000;
/// Opus's own clock.
const OPUS_RATE: u32 = 48_000;
/// The longest Opus packet's samples per channel at 48 kHz (120 ms).
const MAX_PACKET_SAMPLES: usize = 5760;
const SERIAL: u32 = 0x6475_6574; // "duet"

/// An encoded voice message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceNote {
    pub ogg: Vec<u8>,
    pub duration_ms: u32,
    pub waveform: Vec<u8>,
}

/// What a voice message file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceInfo {
    pub duration_ms: u32,
    pub waveform: Vec<u8>,
    pub channels: u8,
}

/// Decoded audio at 48 kHz.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Interleaved when stereo.
    pub pcm: Vec<i16>,
    pub channels: u8,
}

/// Peak levels (0..=255) of `bars` equal stretches of `pcm` (interleaved channels count as
/// one stream).
pub fn waveform(pcm: &[i16], bars: usize) -> Vec<u8> {
    if pcm.is_empty() || bars == 0 {
        return vec![0; bars];
    }
    (0..bars)
        .map(|b| {
            let (start, end) = (b * pcm.len() / bars, ((b + 1) * pcm.len() / bars).max(b * pcm.len() / bars + 1));
            let peak = pcm[start..end.min(pcm.len())].iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
            (peak as u32 * 255 / 32768) as u8
        })
        .collect()
}

fn resample_to_48k(pcm: &[i16], rate: u32, channels: usize) -> Vec<i16> {
    let frames = pcm.len() / channels;
    let out_frames = (frames as u64 * OPUS_RATE as u64 / rate as u64) as usize;
    let mut out = Vec::with_capacity(out_frames * channels);
    for i in 0..out_frames {
        let pos = i as f64 * rate as f64 / OPUS_RATE as f64;
        let (j, frac) = (pos as usize, pos.fract());
        for c in 0..channels {
            let a = pcm[(j.min(frames - 1)) * channels + c] as f64;
            let b = pcm[((j + 1).min(frames - 1)) * channels + c] as f64;
            out.push((a + (b - a) * frac) as i16);
        }
    }
    out
}

/// Encodes PCM (mono, or interleaved stereo) recorded at `sample_rate` Hz.
pub fn encode(pcm: &[i16], sample_rate: u32, channels: u8) -> Result<VoiceNote, MediaError> {
    let ch = match channels {
        1 => Channels::Mono,
        2 => Channels::Stereo,
        n => return Err(MediaError::Encode(format!("{n} channels (1 or 2 are supported)"))),
    };
    let n_ch = channels as usize;
    if sample_rate == 0 || pcm.len() < n_ch {
        return Err(MediaError::Empty);
    }
    let frames = (pcm.len() / n_ch) as u64;
    let ms = frames * 1000 / sample_rate as u64;
    if ms > MAX_DURATION_MS {
        return Err(MediaError::TooLong { ms, max: MAX_DURATION_MS });
    }
    let (pcm, rate) = match sample_rate {
        8_000 | 12_000 | 16_000 | 24_000 | 48_000 => (pcm[..frames as usize * n_ch].to_vec(), sample_rate),
        other => (resample_to_48k(&pcm[..frames as usize * n_ch], other, n_ch), OPUS_RATE),
    };
    let enc_err = |e: opus::Error| MediaError::Encode(e.to_string());
    let mut encoder = Encoder::new(rate, ch, Application::Voip).map_err(enc_err)?;
    let pre_skip = encoder.get_lookahead().map_err(enc_err)?.max(0) as u64 * (OPUS_RATE / rate) as u64;
    let frame = (rate / 50) as usize * n_ch; // 20 ms
    let total_48k = (pcm.len() / n_ch) as u64 * (OPUS_RATE / rate) as u64;
    let waveform = waveform(&pcm, WAVEFORM_BARS);

    let mut out = Vec::new();
    {
        let mut w = PacketWriter::new(&mut out);
        let io = |e: std::io::Error| MediaError::Encode(e.to_string());
        let mut head = Vec::with_capacity(19);
        head.extend_from_slice(b"OpusHead");
        head.push(1);
        head.push(channels);
        head.extend_from_slice(&(pre_skip as u16).to_le_bytes());
        head.extend_from_slice(&sample_rate.to_le_bytes());
        head.extend_from_slice(&0i16.to_le_bytes());
        head.push(0);
        w.write_packet(head, SERIAL, PacketWriteEndInfo::EndPage, 0).map_err(io)?;
        let vendor = b"duet";
        let mut tags = Vec::new();
        tags.extend_from_slice(b"OpusTags");
        tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
        tags.extend_from_slice(vendor);
        tags.extend_from_slice(&0u32.to_le_bytes());
        w.write_packet(tags, SERIAL, PacketWriteEndInfo::EndPage, 0).map_err(io)?;

        // The encoder delays its output by the pre-skip: feed that much silence after the end.
        let mut pcm = pcm;
        pcm.resize(pcm.len() + (pre_skip as usize / (OPUS_RATE / rate) as usize) * n_ch, 0);
        let chunks: Vec<&[i16]> = pcm.chunks(frame).collect();
        let mut padded = vec![0i16; frame];
        let mut granule = pre_skip;
        for (i, chunk) in chunks.iter().enumerate() {
            let input: &[i16] = if chunk.len() == frame {
                chunk
            } else {
                padded[..chunk.len()].copy_from_slice(chunk);
                padded[chunk.len()..].fill(0);
                &padded
            };
            let packet = encoder.encode_vec(input, 4000).map_err(enc_err)?;
            let last = i + 1 == chunks.len();
            granule =
                if last { pre_skip + total_48k } else { granule + (frame / n_ch) as u64 * (OPUS_RATE / rate) as u64 };
            let end = if last {
                PacketWriteEndInfo::EndStream
            } else if i % 50 == 49 {
                PacketWriteEndInfo::EndPage // about one page a second
            } else {
                PacketWriteEndInfo::NormalPacket
            };
            w.write_packet(packet, SERIAL, end, granule).map_err(io)?;
        }
    }
    Ok(VoiceNote { ogg: out, duration_ms: (frames * 1000 / sample_rate as u64) as u32, waveform })
}

struct Header {
    channels: u8,
    pre_skip: u64,
}

fn not_opus(why: impl std::fmt::Display) -> MediaError {
    MediaError::NotOpus(why.to_string())
}

/// Reads the stream's packets, decoding each; `each` sees the PCM of every packet, trimmed
/// of the pre-skip. Returns the header and the samples per channel after pre-skip.
fn walk(bytes: &[u8], mut each: impl FnMut(&[i16])) -> Result<(Header, u64), MediaError> {
    let mut reader = PacketReader::new(Cursor::new(bytes));
    let head = reader.read_packet().map_err(not_opus)?.ok_or_else(|| not_opus("no packets"))?;
    let d = &head.data;
    if d.len() < 19 || &d[..8] != b"OpusHead" || d[8] != 1 {
        return Err(not_opus("no OpusHead"));
    }
    let channels = d[9];
    if !(1..=2).contains(&channels) || d[18] != 0 {
        return Err(not_opus("only mono and stereo are supported"));
    }
    let header = Header { channels, pre_skip: u16::from_le_bytes([d[10], d[11]]) as u64 };
    let tags = reader.read_packet().map_err(not_opus)?.ok_or_else(|| not_opus("no OpusTags"))?;
    if tags.data.len() < 8 || &tags.data[..8] != b"OpusTags" {
        return Err(not_opus("no OpusTags"));
    }
    let mut decoder =
        Decoder::new(OPUS_RATE, if channels == 1 { Channels::Mono } else { Channels::Stereo }).map_err(not_opus)?;
    let n_ch = channels as usize;
    let max_samples = MAX_DURATION_MS * OPUS_RATE as u64 / 1000;
    let mut buf = vec![0i16; MAX_PACKET_SAMPLES * n_ch];
    let (mut decoded, mut last_granule) = (0u64, None);
    while let Some(packet) = reader.read_packet().map_err(not_opus)? {
        let n = decoder.decode(&packet.data, &mut buf, false).map_err(not_opus)?;
        let skip = header.pre_skip.saturating_sub(decoded).min(n as u64) as usize;
        decoded += n as u64;
        if decoded > max_samples + header.pre_skip {
            return Err(MediaError::TooLong { ms: decoded * 1000 / OPUS_RATE as u64, max: MAX_DURATION_MS });
        }
        each(&buf[skip * n_ch..n * n_ch]);
        if packet.last_in_stream() {
            last_granule = Some(packet.absgp_page());
            break;
        }
    }
    // The final granule position trims the padding of the last frame.
    let available = decoded.saturating_sub(header.pre_skip);
    let samples = match last_granule {
        Some(g) => g.saturating_sub(header.pre_skip).min(available),
        None => available,
    };
    if samples == 0 {
        return Err(MediaError::Empty);
    }
    Ok((header, samples))
}

/// Decodes a voice message to 48 kHz PCM (trimmed to its true length).
pub fn decode(bytes: &[u8]) -> Result<Decoded, MediaError> {
    let mut pcm = Vec::new();
    let (header, samples) = walk(bytes, |p| pcm.extend_from_slice(p))?;
    pcm.truncate(samples as usize * header.channels as usize);
    Ok(Decoded { pcm, channels: header.channels })
}

/// Measures a voice message: its duration and waveform, decoding it once.
pub fn inspect(bytes: &[u8]) -> Result<VoiceInfo, MediaError> {
    let d = decode(bytes)?;
    let frames = (d.pcm.len() / d.channels as usize) as u64;
    Ok(VoiceInfo {
        duration_ms: (frames * 1000 / OPUS_RATE as u64) as u32,
        waveform: waveform(&d.pcm, WAVEFORM_BARS),
        channels: d.channels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::tone;
    use proptest::prelude::*;

    #[test]
    fn a_tone_round_trips_with_its_length_and_level() {
        let pcm = tone(440.0, 0.5, 1_530);
        let note = encode(&pcm, 48_000, 1).unwrap();
        assert_eq!(note.duration_ms, 1_530);
        assert_eq!(note.waveform.len(), WAVEFORM_BARS);
        assert!(note.waveform.iter().all(|b| (120..=130).contains(b)), "{:?}", note.waveform);
        assert!(note.ogg.starts_with(b"OggS"));
        assert!(note.ogg.len() < pcm.len() / 4, "Opus compresses: {} bytes", note.ogg.len());

        let back = decode(&note.ogg).unwrap();
        assert_eq!(back.pcm.len(), pcm.len(), "the granule position trims the padding");
        let info = inspect(&note.ogg).unwrap();
        assert_eq!(info.duration_ms, 1_530);
        // Lossy, but a steady tone keeps its level.
        let mid = &info.waveform[4..60];
        assert!(mid.iter().all(|b| (100..=150).contains(b)), "{:?}", info.waveform);
    }

    #[test]
    fn other_rates_and_stereo_are_encoded() {
        let mono = tone(300.0, 0.3, 500);
        let at_44k: Vec<i16> = mono.iter().step_by(48).flat_map(|s| std::iter::repeat_n(*s, 44)).collect();
        let note = encode(&at_44k, 44_100, 1).unwrap();
        let ms = inspect(&note.ogg).unwrap().duration_ms;
        assert!((495..=505).contains(&ms), "{ms}");
        let stereo: Vec<i16> = mono.iter().flat_map(|s| [*s, *s / 2]).collect();
        let note = encode(&stereo, 48_000, 2).unwrap();
        let info = inspect(&note.ogg).unwrap();
        assert_eq!((info.channels, info.duration_ms), (2, 500));
        assert!(encode(&[], 48_000, 1).is_err());
        assert!(encode(&mono, 48_000, 3).is_err());
    }

    #[test]
    fn damaged_files_are_refused() {
        let note = encode(&tone(440.0, 0.5, 300), 16_000, 1).unwrap();
        assert!(inspect(b"OggS not really").is_err());
        assert!(inspect(&[]).is_err());
        for len in [10, 40, 80] {
            assert!(inspect(&note.ogg[..len]).is_err(), "cut at {len}");
        }
        let mut flipped = note.ogg.clone();
        flipped[30] ^= 0xff; // inside the OpusHead page: its checksum no longer matches
        assert!(inspect(&flipped).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn reading_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = inspect(&bytes);
            let _ = inspect(&[b"OggS".as_slice(), &bytes].concat());
        }

        #[test]
        fn waveforms_have_their_bars(pcm in proptest::collection::vec(any::<i16>(), 0..300), bars in 0usize..80) {
            prop_assert_eq!(waveform(&pcm, bars).len(), bars);
        }
    }
}

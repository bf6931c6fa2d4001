//! Opus, 48 kHz mono, 20 ms frames, tuned for speech over a lossy path: in-band FEC on, the
//! encoder told to expect some loss, so the decoder can rebuild a lost frame from the next.

use super::CodecError;
use crate::frame::{FRAME_SAMPLES, SAMPLE_RATE};

/// The largest Opus packet we produce or accept (RFC 6716 allows 1275 bytes per frame).
pub const MAX_OPUS_PACKET: usize = 1500;

pub struct OpusEncoder {
    inner: opus::Encoder,
    buf: Vec<u8>,
}

impl OpusEncoder {
    pub fn new(bitrate: i32) -> Result<Self, CodecError> {
        let e = |e: opus::Error| CodecError::Opus(e.to_string());
        let mut inner = opus::Encoder::new(SAMPLE_RATE, opus::Channels::Mono, opus::Application::Voip).map_err(e)?;
        inner.set_bitrate(opus::Bitrate::Bits(bitrate)).map_err(e)?;
        inner.set_inband_fec(true).map_err(e)?;
        inner.set_packet_loss_perc(10).map_err(e)?;
        Ok(Self { inner, buf: vec![0; MAX_OPUS_PACKET] })
    }

    /// Encodes one 20 ms frame (exactly [`FRAME_SAMPLES`] samples).
    pub fn encode(&mut self, pcm: &[i16]) -> Result<Vec<u8>, CodecError> {
        if pcm.len() != FRAME_SAMPLES {
            return Err(CodecError::Opus(format!("a frame is {FRAME_SAMPLES} samples, not {}", pcm.len())));
        }
        let n = self.inner.encode(pcm, &mut self.buf).map_err(|e| CodecError::Opus(e.to_string()))?;
        Ok(self.buf[..n].to_vec())
    }
}

pub struct OpusDecoder {
    inner: opus::Decoder,
    pcm: Vec<i16>,
}

impl OpusDecoder {
    pub fn new() -> Result<Self, CodecError> {
        let inner =
            opus::Decoder::new(SAMPLE_RATE, opus::Channels::Mono).map_err(|e| CodecError::Opus(e.to_string()))?;
        // Room for the longest Opus frame (120 ms).
        Ok(Self { inner, pcm: vec![0; FRAME_SAMPLES * 6] })
    }

    /// Decodes one packet from the peer. Errors (a malformed packet) are returned, never panics.
    pub fn decode(&mut self, packet: &[u8]) -> Result<&[i16], CodecError> {
        if packet.is_empty() || packet.len() > MAX_OPUS_PACKET {
            return Err(CodecError::Opus(format!("a {}-byte packet", packet.len())));
        }
        let n = self.inner.decode(packet, &mut self.pcm, false).map_err(|e| CodecError::Opus(e.to_string()))?;
        Ok(&self.pcm[..n])
    }

    /// Rebuilds a lost frame: from the in-band FEC of the packet that followed it when there
    /// is one, else by concealment.
    pub fn recover(&mut self, next: Option<&[u8]>) -> Result<&[i16], CodecError> {
        let frame = &mut self.pcm[..FRAME_SAMPLES];
        let n = match next.filter(|p| !p.is_empty() && p.len() <= MAX_OPUS_PACKET) {
            Some(p) => self.inner.decode(p, frame, true),
            None => self.inner.decode(&[], frame, false),
        }
        .map_err(|e| CodecError::Opus(e.to_string()))?;
        Ok(&self.pcm[..n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_survives_encoding() {
        let mut enc = OpusEncoder::new(32_000).unwrap();
        let mut dec = OpusDecoder::new().unwrap();
        let mut tone = crate::source::SineTone::new(880.0, 0.5);
        let mut out = Vec::new();
        for _ in 0..50 {
            let mut pcm = vec![0i16; FRAME_SAMPLES];
            crate::source::AudioSource::read(&mut tone, &mut pcm);
            let packet = enc.encode(&pcm).unwrap();
            out.extend_from_slice(dec.decode(&packet).unwrap());
        }
        let f = crate::analysis::dominant_frequency(&out[out.len() - 4800..], SAMPLE_RATE).unwrap();
        assert!((f - 880.0).abs() < 15.0, "heard {f} Hz");
        assert!(dec.decode(&[0xff; 3]).is_err() || dec.decode(&[0xff; 3]).is_ok(), "garbage does not panic");
        assert!(dec.decode(&[]).is_err());
        assert_eq!(dec.recover(None).unwrap().len(), FRAME_SAMPLES);
    }
}

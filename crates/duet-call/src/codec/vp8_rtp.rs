//! VP8 over RTP (RFC 7741), receiving side: each packet's payload descriptor is parsed with
//! bounds checks, and packets of one frame (same timestamp, consecutive sequence numbers,
//! from the one with the start bit to the one with the marker bit) are joined into the
//! frame. A frame with a hole is dropped, and the caller is told so it can ask for a key frame.

use super::vp8::MAX_VP8_FRAME;

/// The VP8 payload inside one RTP payload: whether it starts a frame, and its bytes.
pub fn parse_descriptor(payload: &[u8]) -> Option<(bool, &[u8])> {
    let mut i = 0usize;
    let b0 = *payload.get(i)?;
    i += 1;
    let (x, s, pid) = (b0 & 0x80 != 0, b0 & 0x10 != 0, b0 & 0x07);
    if x {
        let b1 = *payload.get(i)?;
        i += 1;
        let (has_i, has_l, has_t, has_k) = (b1 & 0x80 != 0, b1 & 0x40 != 0, b1 & 0x20 != 0, b1 & 0x10 != 0);
        if has_i {
            let m = *payload.get(i)? & 0x80 != 0;
            i += if m { 2 } else { 1 };
        }
        if has_l {
            i += 1;
        }
        if has_t || has_k {
            i += 1;
        }
    }
    let data = payload.get(i..)?;
    if data.is_empty() {
        return None;
    }
    Some((s && pid == 0, data))
}

/// What one packet did to the frame being assembled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assembled {
    /// Nothing complete yet.
    Pending,
    /// A whole frame.
    Frame(Vec<u8>),
    /// A frame was lost (a hole, or a malformed packet): ask for a key frame.
    Lost,
}

#[derive(Debug, Default)]
pub struct Vp8Assembler {
    timestamp: Option<u32>,
    next_seq: u16,
    buf: Vec<u8>,
    /// The current frame has a hole; skip to the next start.
    broken: bool,
}

impl Vp8Assembler {
    pub fn push(&mut self, seq: u16, timestamp: u32, marker: bool, payload: &[u8]) -> Assembled {
        let Some((start, data)) = parse_descriptor(payload) else {
            self.broken = true;
            return Assembled::Lost;
        };
        let mut lost = false;
        if start {
            // A frame still open when the next one starts lost its tail.
            lost = self.timestamp.is_some() && !self.broken && !self.buf.is_empty();
            self.timestamp = Some(timestamp);
            self.buf.clear();
            self.broken = false;
        } else if self.timestamp != Some(timestamp) || seq != self.next_seq {
            lost = !self.broken;
            self.broken = true;
        }
        self.next_seq = seq.wrapping_add(1);
        if self.broken {
            return if lost { Assembled::Lost } else { Assembled::Pending };
        }
        if self.buf.len() + data.len() > MAX_VP8_FRAME {
            self.broken = true;
            return Assembled::Lost;
        }
        self.buf.extend_from_slice(data);
        if marker {
            self.timestamp = None;
            return Assembled::Frame(std::mem::take(&mut self.buf));
        }
        if lost {
            Assembled::Lost
        } else {
            Assembled::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(start: bool, data: &[u8]) -> Vec<u8> {
        let mut p = vec![if start { 0x10 } else { 0x00 }];
        p.extend_from_slice(data);
        p
    }

    #[test]
    fn packets_of_a_frame_join_and_a_hole_drops_it() {
        let mut a = Vp8Assembler::default();
        assert_eq!(a.push(10, 1, false, &packet(true, b"ab")), Assembled::Pending);
        assert_eq!(a.push(11, 1, true, &packet(false, b"cd")), Assembled::Frame(b"abcd".to_vec()));
        // Packet 21 is lost.
        assert_eq!(a.push(20, 2, false, &packet(true, b"ab")), Assembled::Pending);
        assert_eq!(a.push(22, 2, true, &packet(false, b"ef")), Assembled::Lost);
        // The next frame is whole again.
        assert_eq!(a.push(23, 3, true, &packet(true, b"gh")), Assembled::Frame(b"gh".to_vec()));
    }

    #[test]
    fn descriptors_with_extensions_parse_and_short_ones_are_refused() {
        // X, I with a 16-bit picture id, L, T: four bytes of descriptor.
        let p = [0x90, 0xe0, 0x80, 0x01, 0x02, 0x03, 0xaa];
        assert_eq!(parse_descriptor(&p), Some((true, &[0xaa][..])));
        for short in [&[][..], &[0x90], &[0x90, 0x80], &[0x90, 0xe0, 0x80, 0x01, 0x02, 0x03]] {
            assert_eq!(parse_descriptor(short), None);
        }
        let mut a = Vp8Assembler::default();
        assert_eq!(a.push(1, 1, true, &[0x90]), Assembled::Lost);
    }
}

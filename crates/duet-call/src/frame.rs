//! Raw media: 20 ms of 48 kHz mono audio, and I420 video frames (what VP8 encodes and
//! decodes), with a conversion to RGBA for front ends that paint on a canvas.

/// Audio sample rate everywhere in a call (Opus's native rate).
pub const SAMPLE_RATE: u32 = 48_000;
/// Samples in one 20 ms audio frame (mono).
pub const FRAME_SAMPLES: usize = 960;
/// The length of one audio frame.
pub const FRAME_DURATION: std::time::Duration = std::time::Duration::from_millis(20);
/// The largest video frame accepted from a source or a peer (1080p).
pub const MAX_VIDEO_WIDTH: u32 = 1920;
pub const MAX_VIDEO_HEIGHT: u32 = 1080;

/// One video frame in I420: a full-size luma plane and two quarter-size chroma planes, each
/// tightly packed (stride = plane width). Width and height are even.
#[derive(Clone, PartialEq, Eq)]
pub struct VideoFrame {
    pub width: u32,
    pub height: u32,
    /// `width * height` bytes of Y, then `(width/2) * (height/2)` of U, then as many of V.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for VideoFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VideoFrame({}x{})", self.width, self.height)
    }
}

impl VideoFrame {
    /// A black frame, or `None` for a size that is odd, empty or over the limit.
    pub fn black(width: u32, height: u32) -> Option<Self> {
        if width == 0 || height == 0 || width & 1 == 1 || height & 1 == 1 {
            return None;
        }
        if width > MAX_VIDEO_WIDTH || height > MAX_VIDEO_HEIGHT {
            return None;
        }
        let (y, c) = ((width * height) as usize, (width / 2 * height / 2) as usize);
        let mut data = vec![16u8; y + 2 * c];
        data[y..].fill(128);
        Some(Self { width, height, data })
    }

    fn plane_sizes(&self) -> (usize, usize) {
        ((self.width * self.height) as usize, (self.width / 2 * self.height / 2) as usize)
    }

    /// The Y, U and V planes.
    pub fn planes(&self) -> (&[u8], &[u8], &[u8]) {
        let (y, c) = self.plane_sizes();
        let (luma, chroma) = self.data.split_at(y);
        let (u, v) = chroma.split_at(c);
        (luma, u, v)
    }

    pub fn planes_mut(&mut self) -> (&mut [u8], &mut [u8], &mut [u8]) {
        let (y, c) = self.plane_sizes();
        let (luma, chroma) = self.data.split_at_mut(y);
        let (u, v) = chroma.split_at_mut(c);
        (luma, u, v)
    }

    /// Whether the buffer matches the size (a frame from a source is checked before encoding).
    pub fn is_well_formed(&self) -> bool {
        let (y, c) = self.plane_sizes();
        self.width > 0
            && self.height > 0
            && self.width & 1 == 0
            && self.height & 1 == 0
            && self.width <= MAX_VIDEO_WIDTH
            && self.height <= MAX_VIDEO_HEIGHT
            && self.data.len() == y + 2 * c
    }

    /// The frame flipped left to right: the self-view, so that it moves like a mirror does.
    pub fn mirrored(&self) -> Self {
        let mut out = self.clone();
        // The planes of a frame whose buffer does not match its size cannot be found.
        if !self.is_well_formed() {
            return out;
        }
        let (w, cw) = (self.width as usize, self.width as usize / 2);
        let (y, u, v) = self.planes();
        let (oy, ou, ov) = out.planes_mut();
        for (from, to, row) in [(y, oy, w), (u, ou, cw), (v, ov, cw)] {
            for (src, dst) in from.chunks_exact(row).zip(to.chunks_exact_mut(row)) {
                dst.iter_mut().zip(src.iter().rev()).for_each(|(d, &s)| *d = s);
            }
        }
        out
    }

    /// Paints a rectangle in an RGB colour (clipped to the frame; even-aligned for chroma).
    pub fn fill_rect(&mut self, x: u32, y: u32, w: u32, h: u32, rgb: [u8; 3]) {
        let (yy, uu, vv) = rgb_to_yuv(rgb);
        let (fw, fh) = (self.width, self.height);
        let (x0, y0) = (x.min(fw) & !1, y.min(fh) & !1);
        let (x1, y1) = ((x.saturating_add(w)).min(fw) & !1, (y.saturating_add(h)).min(fh) & !1);
        let (luma, u, v) = self.planes_mut();
        for row in y0..y1 {
            let start = (row * fw + x0) as usize;
            luma[start..start + (x1 - x0) as usize].fill(yy);
        }
        let cw = fw / 2;
        for row in y0 / 2..y1 / 2 {
            let start = (row * cw + x0 / 2) as usize;
            let len = ((x1 - x0) / 2) as usize;
            u[start..start + len].fill(uu);
            v[start..start + len].fill(vv);
        }
    }

    /// The mean RGB colour of a rectangle (clipped; black if empty).
    pub fn mean_rgb(&self, x: u32, y: u32, w: u32, h: u32) -> [u8; 3] {
        let (x0, y0) = (x.min(self.width), y.min(self.height));
        let (x1, y1) = (x.saturating_add(w).min(self.width), y.saturating_add(h).min(self.height));
        let (mut sum, mut n) = ([0u64; 3], 0u64);
        for row in y0..y1 {
            for col in x0..x1 {
                let p = self.rgb_at(col, row);
                for i in 0..3 {
                    sum[i] += u64::from(p[i]);
                }
                n += 1;
            }
        }
        if n == 0 {
            return [0; 3];
        }
        [(sum[0] / n) as u8, (sum[1] / n) as u8, (sum[2] / n) as u8]
    }

    fn rgb_at(&self, x: u32, y: u32) -> [u8; 3] {
        let (luma, u, v) = self.planes();
        let c = ((y / 2) * (self.width / 2) + x / 2) as usize;
        yuv_to_rgb(luma[(y * self.width + x) as usize], u[c], v[c])
    }

    /// The frame as RGBA bytes (`width * height * 4`), row by row: what a canvas paints.
    pub fn to_rgba(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity((self.width * self.height * 4) as usize);
        for y in 0..self.height {
            for x in 0..self.width {
                let [r, g, b] = self.rgb_at(x, y);
                out.extend_from_slice(&[r, g, b, 255]);
            }
        }
        out
    }
}

/// BT.601 limited range, as VP8 and most cameras use.
pub fn rgb_to_yuv([r, g, b]: [u8; 3]) -> (u8, u8, u8) {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    let y = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
    let u = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128;
    let v = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128;
    (clamp(y), clamp(u), clamp(v))
}

pub fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let c = i32::from(y) - 16;
    let d = i32::from(u) - 128;
    let e = i32::from(v) - 128;
    let r = (298 * c + 409 * e + 128) >> 8;
    let g = (298 * c - 100 * d - 208 * e + 128) >> 8;
    let b = (298 * c + 516 * d + 128) >> 8;
    [clamp(r), clamp(g), clamp(b)]
}

fn clamp(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_survive_the_round_trip_through_yuv() {
        for rgb in [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [255, 255, 255], [0, 0, 0]] {
            let (y, u, v) = rgb_to_yuv(rgb);
            let back = yuv_to_rgb(y, u, v);
            for i in 0..3 {
                assert!(back[i].abs_diff(rgb[i]) <= 3, "{rgb:?} came back as {back:?}");
            }
        }
    }

    #[test]
    fn a_filled_rectangle_reads_back_as_its_colour() {
        let mut f = VideoFrame::black(64, 48).unwrap();
        f.fill_rect(8, 8, 16, 16, [255, 0, 0]);
        let m = f.mean_rgb(10, 10, 10, 10);
        assert!(m[0] > 240 && m[1] < 15 && m[2] < 15, "{m:?}");
        assert_eq!(f.to_rgba().len(), 64 * 48 * 4);
        assert!(f.is_well_formed());
        assert!(VideoFrame::black(63, 48).is_none());
        assert!(VideoFrame::black(4000, 48).is_none());
    }
}

//! Camera pixels to the I420 [`VideoFrame`]s VP8 encodes.
//!
//! Webcams deliver one of two formats through V4L2: YUYV (packed 4:2:2, one row after another
//! with a driver-chosen stride) or MJPEG (each frame a JPEG of its own). Both come straight
//! from a driver and a USB cable, so every size and length is checked here: a frame larger
//! than 1920×1080, a buffer shorter than its size says, or a JPEG that does not decode is an
//! error, never a panic. There is no I/O here, so the conversions are tested and fuzzed on
//! recorded bytes with no camera attached.
//!
//! Colour ranges: V4L2's YUYV is BT.601 limited range, as [`VideoFrame`] is, and passes
//! through; JPEG (JFIF) is full range and is squeezed into limited range here. Many webcams
//! leave the Huffman tables out of their MJPEG frames (the tables are fixed by the AVI MJPEG
//! convention); the JPEG standard's tables are then put in before decoding.

use std::borrow::Cow;

use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use crate::frame::{VideoFrame, MAX_VIDEO_HEIGHT, MAX_VIDEO_WIDTH};

/// A camera frame that cannot be turned into a picture.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    #[error("a {width}×{height} picture is larger than 1920×1080")]
    TooLarge { width: u32, height: u32 },
    #[error("a {width}×{height} picture is too small to show")]
    TooSmall { width: u32, height: u32 },
    #[error("a row of {stride} bytes cannot hold {width} YUYV pixels")]
    ShortStride { stride: usize, width: u32 },
    #[error("the frame holds {got} bytes where its size needs {needed}")]
    Truncated { needed: usize, got: usize },
    #[error("the JPEG could not be read: {0}")]
    Jpeg(String),
}

/// YUYV (packed 4:2:2: `Y0 U Y1 V` for each pair of pixels) to I420.
///
/// `stride` is the driver's bytes per row (V4L2's `bytesperline`); 0 means rows are packed
/// tightly. I420 keeps one chroma sample per 2×2 block where YUYV has one per 2×1, so each
/// chroma sample is the mean of the two rows' samples: dropping every other row would make
/// horizontal colour edges jagged. An odd width or height loses its last column or row.
pub fn yuyv_to_i420(buf: &[u8], width: u32, height: u32, stride: usize) -> Result<VideoFrame, ConvertError> {
    let (w, h) = even_size(width, height)?;
    // YUYV rows always hold whole pixel pairs, so a tight row of an odd width is rounded up.
    let tight = (width as usize).div_ceil(2) * 4;
    let stride = if stride == 0 { tight } else { stride };
    let row = w as usize * 2;
    if stride < row {
        return Err(ConvertError::ShortStride { stride, width });
    }
    // The last row need not be padded out to the stride.
    let needed = stride.saturating_mul(h as usize - 1).saturating_add(row);
    if buf.len() < needed {
        return Err(ConvertError::Truncated { needed, got: buf.len() });
    }

    let mut frame = VideoFrame::black(w, h).ok_or(ConvertError::TooSmall { width, height })?;
    let w = w as usize;
    let (luma, u, v) = frame.planes_mut();
    let rows = luma.chunks_exact_mut(2 * w).zip(u.chunks_exact_mut(w / 2)).zip(v.chunks_exact_mut(w / 2));
    for (pair, ((luma, u), v)) in rows.enumerate() {
        let top = &buf[2 * pair * stride..][..row];
        let bottom = &buf[(2 * pair + 1) * stride..][..row];
        let (luma_top, luma_bottom) = luma.split_at_mut(w);
        let pixels = top.chunks_exact(4).zip(bottom.chunks_exact(4));
        let out = luma_top.chunks_exact_mut(2).zip(luma_bottom.chunks_exact_mut(2)).zip(u.iter_mut().zip(v));
        for ((t, b), ((yt, yb), (u, v))) in pixels.zip(out) {
            yt[0] = t[0];
            yt[1] = t[2];
            yb[0] = b[0];
            yb[1] = b[2];
            *u = mean2(t[1], b[1]);
            *v = mean2(t[3], b[3]);
        }
    }
    Ok(frame)
}

/// One MJPEG frame (a baseline JPEG, usually 4:2:2) to I420.
///
/// A frame cut short (no end-of-image marker after its picture data) is refused rather than
/// shown with a grey lower half: USB cameras drop the tail of a frame now and then, and the
/// next frame is a thirtieth of a second away.
pub fn mjpeg_to_i420(buf: &[u8]) -> Result<VideoFrame, ConvertError> {
    let headers = scan_headers(buf)?;
    let data = if headers.has_huffman_tables {
        Cow::Borrowed(buf)
    } else {
        let mut with = Vec::with_capacity(buf.len() + STANDARD_DHT.len());
        with.extend_from_slice(&buf[..headers.scan_marker]);
        with.extend_from_slice(&STANDARD_DHT);
        with.extend_from_slice(&buf[headers.scan_marker..]);
        Cow::Owned(with)
    };

    let jpeg_error = |e: zune_jpeg::errors::DecodeErrors| ConvertError::Jpeg(e.to_string());
    // The decoder refuses larger pictures before allocating for them.
    let options =
        DecoderOptions::default().set_max_width(MAX_VIDEO_WIDTH as usize).set_max_height(MAX_VIDEO_HEIGHT as usize);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(data.as_ref()), options);
    decoder.decode_headers().map_err(jpeg_error)?;
    let Some((width, height)) = decoder.dimensions() else {
        return Err(ConvertError::Jpeg("no picture size".into()));
    };
    let (width, height) = (width as u32, height as u32);
    let (w, h) = even_size(width, height)?;
    // Asking for YCbCr skips the decoder's conversion to RGB: I420 wants YCbCr anyway.
    let out = match decoder.input_colorspace() {
        Some(ColorSpace::YCbCr) => ColorSpace::YCbCr,
        Some(ColorSpace::Luma) => ColorSpace::Luma,
        other => return Err(ConvertError::Jpeg(format!("a JPEG in {other:?}; cameras send YCbCr"))),
    };
    decoder.set_options(options.jpeg_set_out_colorspace(out));
    let pixels = decoder.decode().map_err(jpeg_error)?;
    let channels = out.num_components();
    let (src_w, src_h) = (width as usize, height as usize);
    if pixels.len() < src_w * src_h * channels {
        return Err(ConvertError::Truncated { needed: src_w * src_h * channels, got: pixels.len() });
    }

    let mut frame = VideoFrame::black(w, h).ok_or(ConvertError::TooSmall { width, height })?;
    let w = w as usize;
    let (luma, u, v) = frame.planes_mut();
    let src_row = src_w * channels;
    let rows = luma.chunks_exact_mut(2 * w).zip(u.chunks_exact_mut(w / 2)).zip(v.chunks_exact_mut(w / 2));
    for (pair, ((luma, u), v)) in rows.enumerate() {
        let top = &pixels[2 * pair * src_row..][..w * channels];
        let bottom = &pixels[(2 * pair + 1) * src_row..][..w * channels];
        let (luma_top, luma_bottom) = luma.split_at_mut(w);
        if channels == 1 {
            // Greyscale: the chroma planes stay neutral, as `black` left them.
            luma_top.iter_mut().zip(top).for_each(|(o, &y)| *o = FULL_TO_LIMITED_LUMA[usize::from(y)]);
            luma_bottom.iter_mut().zip(bottom).for_each(|(o, &y)| *o = FULL_TO_LIMITED_LUMA[usize::from(y)]);
            continue;
        }
        let pixels = top.chunks_exact(6).zip(bottom.chunks_exact(6));
        let out = luma_top.chunks_exact_mut(2).zip(luma_bottom.chunks_exact_mut(2)).zip(u.iter_mut().zip(v));
        for ((t, b), ((yt, yb), (u, v))) in pixels.zip(out) {
            yt[0] = FULL_TO_LIMITED_LUMA[usize::from(t[0])];
            yt[1] = FULL_TO_LIMITED_LUMA[usize::from(t[3])];
            yb[0] = FULL_TO_LIMITED_LUMA[usize::from(b[0])];
            yb[1] = FULL_TO_LIMITED_LUMA[usize::from(b[3])];
            *u = FULL_TO_LIMITED_CHROMA[usize::from(mean4(t[1], t[4], b[1], b[4]))];
            *v = FULL_TO_LIMITED_CHROMA[usize::from(mean4(t[2], t[5], b[2], b[5]))];
        }
    }
    Ok(frame)
}

/// The size as a [`VideoFrame`] holds it: within 1080p, rounded down to even.
fn even_size(width: u32, height: u32) -> Result<(u32, u32), ConvertError> {
    if width > MAX_VIDEO_WIDTH || height > MAX_VIDEO_HEIGHT {
        return Err(ConvertError::TooLarge { width, height });
    }
    let (w, h) = (width & !1, height & !1);
    if w == 0 || h == 0 {
        return Err(ConvertError::TooSmall { width, height });
    }
    Ok((w, h))
}

fn mean2(a: u8, b: u8) -> u8 {
    ((u16::from(a) + u16::from(b) + 1) >> 1) as u8
}

fn mean4(a: u8, b: u8, c: u8, d: u8) -> u8 {
    ((u16::from(a) + u16::from(b) + u16::from(c) + u16::from(d) + 2) >> 2) as u8
}

/// What [`scan_headers`] learnt about a JPEG before its picture data.
struct JpegHeaders {
    has_huffman_tables: bool,
    /// Where the start-of-scan marker begins (its 0xFF byte).
    scan_marker: usize,
}

/// Walks the JPEG's marker segments up to the first start of scan: whether it brings its own
/// Huffman tables, and whether the frame arrived whole (its end-of-image marker follows the
/// scan; 0xFF 0xD9 cannot occur inside entropy-coded data, where 0xFF is always followed by 0
/// or a restart marker).
fn scan_headers(buf: &[u8]) -> Result<JpegHeaders, ConvertError> {
    const SOI: u8 = 0xD8;
    const EOI: u8 = 0xD9;
    const SOS: u8 = 0xDA;
    const DHT: u8 = 0xC4;
    const TEM: u8 = 0x01;
    const RST0: u8 = 0xD0;
    const RST7: u8 = 0xD7;
    let not_jpeg = || ConvertError::Jpeg("not a JPEG picture".into());
    let cut_short = |needed: usize| ConvertError::Truncated { needed, got: buf.len() };
    if buf.get(..2) != Some(&[0xFF, SOI]) {
        return Err(not_jpeg());
    }
    let mut has_huffman_tables = false;
    let mut at = 2;
    loop {
        // Some encoders leave stray bytes between segments; decoders skip to the next marker.
        while buf.get(at).is_some_and(|&b| b != 0xFF) {
            at += 1;
        }
        let start = at;
        // Any number of 0xFF fill bytes may precede a marker.
        while buf.get(at) == Some(&0xFF) {
            at += 1;
        }
        let Some(&marker) = buf.get(at) else { return Err(cut_short(at + 1)) };
        at += 1;
        match marker {
            SOI | TEM | RST0..=RST7 => continue,
            EOI => return Err(ConvertError::Jpeg("a JPEG with no picture data".into())),
            _ => {}
        }
        let Some(&[hi, lo]) = buf.get(at..at + 2) else { return Err(cut_short(at + 2)) };
        let length = usize::from(u16::from_be_bytes([hi, lo]));
        if length < 2 {
            return Err(ConvertError::Jpeg(format!("a marker segment of length {length}")));
        }
        has_huffman_tables |= marker == DHT;
        at += length;
        if marker == SOS {
            let scan = buf.get(at..).unwrap_or_default();
            if !scan.windows(2).rev().any(|w| w == [0xFF, EOI]) {
                return Err(cut_short(buf.len() + 2));
            }
            return Ok(JpegHeaders { has_huffman_tables, scan_marker: start });
        }
    }
}

/// The JPEG standard's Huffman tables (ITU T.81 Annex K.3, tables K.3 to K.6) as one DHT
/// segment: what the AVI MJPEG convention says a frame without tables was coded with.
const STANDARD_DHT: [u8; 420] = standard_dht();

const fn standard_dht() -> [u8; 420] {
    const DC_LUMA_COUNTS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
    const DC_CHROMA_COUNTS: [u8; 16] = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
    const DC_VALUES: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    const AC_LUMA_COUNTS: [u8; 16] = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D];
    const AC_LUMA_VALUES: [u8; 162] = [
        0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71,
        0x14, 0x32, 0x81, 0x91, 0xA1, 0x08, 0x23, 0x42, 0xB1, 0xC1, 0x15, 0x52, 0xD1, 0xF0, 0x24, 0x33, 0x62, 0x72,
        0x82, 0x09, 0x0A, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x34, 0x35, 0x36, 0x37,
        0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59,
        0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x83,
        0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3,
        0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3,
        0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE1, 0xE2,
        0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA,
    ];
    const AC_CHROMA_COUNTS: [u8; 16] = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
    const AC_CHROMA_VALUES: [u8; 162] = [
        0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22,
        0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xA1, 0xB1, 0xC1, 0x09, 0x23, 0x33, 0x52, 0xF0, 0x15, 0x62, 0x72, 0xD1,
        0x0A, 0x16, 0x24, 0x34, 0xE1, 0x25, 0xF1, 0x17, 0x18, 0x19, 0x1A, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x35, 0x36,
        0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58,
        0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A,
        0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A,
        0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA,
        0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA,
        0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA,
    ];

    let mut out = [0u8; 420];
    // Marker, then the length of everything after the marker.
    out[0] = 0xFF;
    out[1] = 0xC4;
    out[2] = 0x01;
    out[3] = 0xA2;
    let mut at = 4;
    // (table class << 4 | table id, counts, values): DC 0, DC 1, AC 0, AC 1.
    let tables: [(u8, &[u8; 16], &[u8]); 4] = [
        (0x00, &DC_LUMA_COUNTS, &DC_VALUES),
        (0x01, &DC_CHROMA_COUNTS, &DC_VALUES),
        (0x10, &AC_LUMA_COUNTS, &AC_LUMA_VALUES),
        (0x11, &AC_CHROMA_COUNTS, &AC_CHROMA_VALUES),
    ];
    let mut t = 0;
    while t < tables.len() {
        let (class_id, counts, values) = tables[t];
        out[at] = class_id;
        at += 1;
        let mut i = 0;
        while i < 16 {
            out[at] = counts[i];
            at += 1;
            i += 1;
        }
        let mut i = 0;
        while i < values.len() {
            out[at] = values[i];
            at += 1;
            i += 1;
        }
        t += 1;
    }
    // Indexing past 420 above fails the build, so the segment is exactly full here.
    assert!(at == 420);
    out
}

/// JPEG's full-range luma (0–255) to BT.601 limited range (16–235).
static FULL_TO_LIMITED_LUMA: [u8; 256] = range_table(0, 16, 219);
/// JPEG's full-range chroma (0–255 around 128) to limited range (16–240 around 128).
static FULL_TO_LIMITED_CHROMA: [u8; 256] = range_table(128, 128, 224);

/// `to + (x - from) * span / 255`, rounded half away from zero so that the chroma table is
/// symmetric about 128.
const fn range_table(from: i32, to: i32, span: i32) -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut x = 0;
    while x < 256 {
        let scaled = (x as i32 - from) * span;
        let offset = if scaled >= 0 { (scaled + 127) / 255 } else { (scaled - 127) / 255 };
        table[x] = (to + offset) as u8;
        x += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const MJPEG: &[u8] = include_bytes!("../tests/fixtures/quadrants.mjpeg");
    const MJPEG_NO_DHT: &[u8] = include_bytes!("../tests/fixtures/quadrants-no-dht.mjpeg");

    proptest! {
        #[test]
        fn random_bytes_never_panic_the_mjpeg_converter(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            if let Ok(frame) = mjpeg_to_i420(&bytes) {
                prop_assert!(frame.is_well_formed());
            }
        }

        #[test]
        fn a_damaged_mjpeg_frame_never_panics_the_converter(
            damage in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
            cut in prop::option::weighted(0.25, any::<prop::sample::Index>()),
            bare in any::<bool>(),
        ) {
            // Random bytes seldom get past the headers; a real frame with a few bytes changed
            // reaches the decoder's tables and picture data.
            let mut jpeg = if bare { MJPEG_NO_DHT } else { MJPEG }.to_vec();
            for (at, byte) in damage {
                let i = at.index(jpeg.len());
                jpeg[i] = byte;
            }
            // Mostly whole, so that the end-of-image marker survives and the decoder runs.
            let keep = cut.map_or(jpeg.len(), |c| c.index(jpeg.len()));
            if let Ok(frame) = mjpeg_to_i420(&jpeg[..keep]) {
                prop_assert!(frame.is_well_formed());
            }
        }

        #[test]
        fn random_bytes_never_panic_the_yuyv_converter(
            bytes in proptest::collection::vec(any::<u8>(), 0..8192),
            width in 0u32..2000,
            height in 0u32..1200,
            stride in prop_oneof![Just(0usize), 0usize..5000, Just(usize::MAX)],
        ) {
            if let Ok(frame) = yuyv_to_i420(&bytes, width, height, stride) {
                prop_assert!(frame.is_well_formed());
                prop_assert_eq!((frame.width, frame.height), (width & !1, height & !1));
            }
        }
    }

    #[test]
    fn the_standard_huffman_segment_holds_what_its_counts_say() {
        let mut at = 4;
        for _ in 0..4 {
            let counts: usize = STANDARD_DHT[at + 1..at + 17].iter().map(|&c| usize::from(c)).sum();
            at += 17 + counts;
        }
        assert_eq!(at, STANDARD_DHT.len());
        assert_eq!(usize::from(u16::from_be_bytes([STANDARD_DHT[2], STANDARD_DHT[3]])), STANDARD_DHT.len() - 2);
    }

    #[test]
    fn full_range_maps_onto_limited_range() {
        assert_eq!((FULL_TO_LIMITED_LUMA[0], FULL_TO_LIMITED_LUMA[255]), (16, 235));
        assert_eq!(
            (FULL_TO_LIMITED_CHROMA[0], FULL_TO_LIMITED_CHROMA[128], FULL_TO_LIMITED_CHROMA[255]),
            (16, 128, 240)
        );
        assert!(FULL_TO_LIMITED_LUMA.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn yuyv_chroma_is_the_mean_of_both_rows() {
        // 2×2: the top row's chroma (U 100, V 60) and the bottom row's (U 200, V 160).
        let buf = [50, 100, 51, 60, 52, 200, 53, 160];
        let frame = yuyv_to_i420(&buf, 2, 2, 0).unwrap();
        assert_eq!(frame.planes(), (&[50, 51, 52, 53][..], &[150][..], &[110][..]));
    }

    #[test]
    fn yuyv_rows_are_read_at_the_stride() {
        // Two rows of one pixel pair, each padded to 8 bytes with junk.
        let buf = [10, 128, 11, 128, 99, 99, 99, 99, 12, 128, 13, 128];
        let frame = yuyv_to_i420(&buf, 2, 2, 8).unwrap();
        assert_eq!(frame.planes().0, &[10, 11, 12, 13]);
        assert_eq!(yuyv_to_i420(&buf, 2, 2, 3), Err(ConvertError::ShortStride { stride: 3, width: 2 }));
    }
}

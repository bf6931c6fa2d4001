//! Cameras without a camera: frames recorded in the formats webcams send (YUYV, MJPEG with and
//! without Huffman tables; `tests/fixtures/`, made by `fixtures/make.sh`) must come out as the
//! picture that went in, quadrant by quadrant; damaged, oversized or random input must be
//! refused, never panic (random and damaged input: the property tests in `src/convert.rs`).
//! What a machine with no camera says is tested in `src/devices/camera.rs`.
//!
//! `cargo test --release -p duet-call --test camera conversion_cost -- --nocapture` prints what
//! converting one 720p frame costs.

use std::time::Instant;

use duet_call::convert::{mjpeg_to_i420, yuyv_to_i420, ConvertError};
use duet_call::source::TestPattern;
use duet_call::VideoFrame;
use rand::{Rng, SeedableRng};

/// The fixture's quadrants: top left, top right, bottom left, bottom right (see make.sh).
const QUADRANTS: [[u8; 3]; 4] = [[200, 60, 50], [60, 170, 70], [50, 80, 190], [220, 210, 90]];
/// Rounding in each conversion step and JPEG's quantisation, on flat colour; small enough
/// that reading JPEG's full-range colour as limited range (or the reverse) fails.
const TOLERANCE: u8 = 4;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn assert_quadrants(frame: &VideoFrame, want: [[u8; 3]; 4], tolerance: u8) {
    let seen = TestPattern::quadrant_colours(frame);
    for (i, (seen, want)) in seen.iter().zip(want).enumerate() {
        let off = seen.iter().zip(want).map(|(s, w)| s.abs_diff(w)).max().unwrap_or(0);
        assert!(
            off <= tolerance,
            "quadrant {i}: saw {seen:?}, want {want:?} (all: {:?})",
            TestPattern::quadrant_colours(frame)
        );
    }
}

#[test]
fn a_recorded_yuyv_frame_shows_its_four_colours() {
    let frame = yuyv_to_i420(&fixture("quadrants.yuyv"), 64, 48, 128).unwrap();
    assert!(frame.is_well_formed());
    assert_eq!((frame.width, frame.height), (64, 48));
    assert_quadrants(&frame, QUADRANTS, TOLERANCE);
}

#[test]
fn a_yuyv_frame_with_padded_rows_reads_the_same() {
    let tight = fixture("quadrants.yuyv");
    // Rows of 128 bytes padded to 160 with junk, as some drivers align them.
    let padded: Vec<u8> = tight.chunks(128).flat_map(|row| row.iter().copied().chain([0xEE; 32])).collect();
    assert_eq!(yuyv_to_i420(&padded, 64, 48, 160), yuyv_to_i420(&tight, 64, 48, 0));
}

#[test]
fn a_recorded_mjpeg_frame_shows_its_four_colours() {
    let frame = mjpeg_to_i420(&fixture("quadrants.mjpeg")).unwrap();
    assert!(frame.is_well_formed());
    assert_eq!((frame.width, frame.height), (64, 48));
    assert_quadrants(&frame, QUADRANTS, TOLERANCE);
}

#[test]
fn an_mjpeg_frame_without_huffman_tables_decodes_with_the_standard_ones() {
    let bare = fixture("quadrants-no-dht.mjpeg");
    assert!(!bare.windows(2).any(|w| w == [0xFF, 0xC4]), "the fixture still has a DHT segment");
    let frame = mjpeg_to_i420(&bare).unwrap();
    assert_quadrants(&frame, QUADRANTS, TOLERANCE);
    // Same picture data, same tables: the same frame, to the byte.
    assert_eq!(Ok(frame), mjpeg_to_i420(&fixture("quadrants.mjpeg")));
}

#[test]
fn the_self_view_is_mirrored() {
    let frame = mjpeg_to_i420(&fixture("quadrants.mjpeg")).unwrap();
    let mirror = frame.mirrored();
    let [tl, tr, bl, br] = QUADRANTS;
    assert_quadrants(&mirror, [tr, tl, br, bl], TOLERANCE);
    assert_eq!(mirror.mirrored(), frame);
    assert!(mirror.is_well_formed());
}

#[test]
fn a_short_yuyv_buffer_is_refused() {
    let full = fixture("quadrants.yuyv");
    assert_eq!(
        yuyv_to_i420(&full[..full.len() - 1], 64, 48, 0),
        Err(ConvertError::Truncated { needed: 6144, got: 6143 })
    );
    // The stride the driver named decides, not the width.
    assert!(matches!(yuyv_to_i420(&full, 64, 48, 160), Err(ConvertError::Truncated { .. })));
    assert!(yuyv_to_i420(&[], 64, 48, 0).is_err());
}

#[test]
fn every_cut_short_mjpeg_frame_is_refused() {
    let full = fixture("quadrants.mjpeg");
    for len in 0..full.len() {
        assert!(mjpeg_to_i420(&full[..len]).is_err(), "the first {len} bytes were taken for a frame");
    }
    let bare = fixture("quadrants-no-dht.mjpeg");
    for len in 0..bare.len() {
        assert!(mjpeg_to_i420(&bare[..len]).is_err(), "the first {len} bytes (no DHT) were taken for a frame");
    }
}

#[test]
fn frames_larger_than_1080p_are_refused() {
    let buf = vec![128u8; 1922 * 2 * 1082];
    assert_eq!(yuyv_to_i420(&buf, 1922, 1080, 0), Err(ConvertError::TooLarge { width: 1922, height: 1080 }));
    assert_eq!(yuyv_to_i420(&buf, 1920, 1082, 0), Err(ConvertError::TooLarge { width: 1920, height: 1082 }));
    assert!(yuyv_to_i420(&buf, 1920, 1080, 0).is_ok());
    assert_eq!(yuyv_to_i420(&buf, 0, 480, 0), Err(ConvertError::TooSmall { width: 0, height: 480 }));
    assert_eq!(yuyv_to_i420(&buf, 640, 1, 0), Err(ConvertError::TooSmall { width: 640, height: 1 }));

    // The fixture with its frame header saying 4000×3000 (SOF0: FF C0, length, precision,
    // then height and width).
    let mut jpeg = fixture("quadrants.mjpeg");
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0x0B, 0xB8, 0x0F, 0xA0]);
    assert!(mjpeg_to_i420(&jpeg).is_err());
}

#[test]
fn garbage_is_not_a_frame() {
    assert!(mjpeg_to_i420(b"").is_err());
    assert!(mjpeg_to_i420(b"\xFF\xD8\xFF\xD9").is_err());
    assert!(mjpeg_to_i420(&[0xFF; 4096]).is_err());
    let mut noise = vec![0u8; 10_000];
    rand::rngs::StdRng::seed_from_u64(7).fill(&mut noise[..]);
    assert!(mjpeg_to_i420(&noise).is_err());
}

/// A 720p camera-like picture: the four quadrants with a little sensor-like noise, so that its
/// JPEG is as large as a webcam's smaller 720p frames (about 60 KB; they run 50–150 KB). Flat
/// colour would compress to almost nothing and decode faster than any real frame.
fn camera_like_720p() -> Vec<u8> {
    let (w, h) = (1280usize, 720usize);
    let mut rng = rand::rngs::StdRng::seed_from_u64(720);
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let q = usize::from(y >= h / 2) * 2 + usize::from(x >= w / 2);
            for c in QUADRANTS[q] {
                rgb.push((i16::from(c) + rng.gen_range(-4..=4)).clamp(0, 255) as u8);
            }
        }
    }
    rgb
}

/// Converting one 1280×720 frame: YUYV and MJPEG, microseconds per frame and the share of one
/// core at 30 frames a second. A figure to read (run with `--release`), not a pass mark.
#[test]
fn conversion_cost() {
    let (w, h) = (1280u32, 720u32);
    let rgb = camera_like_720p();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode(&rgb, w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    // The YUYV of the same picture, by way of an I420 frame.
    let reference = mjpeg_to_i420(&jpeg).unwrap();
    assert_quadrants(&reference, QUADRANTS, TOLERANCE);
    let (y, u, v) = reference.planes();
    let (w_, cw) = (w as usize, w as usize / 2);
    let yuyv: Vec<u8> = (0..h as usize)
        .flat_map(|row| {
            (0..cw).flat_map(move |i| {
                let c = (row / 2) * cw + i;
                [y[row * w_ + 2 * i], u[c], y[row * w_ + 2 * i + 1], v[c]]
            })
        })
        .collect();
    assert_quadrants(&yuyv_to_i420(&yuyv, w, h, 0).unwrap(), QUADRANTS, TOLERANCE);

    let rounds = if cfg!(debug_assertions) { 5 } else { 100 };
    let time = |f: &dyn Fn() -> Result<VideoFrame, ConvertError>| {
        f().unwrap();
        let start = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(f().unwrap());
        }
        start.elapsed().as_secs_f64() * 1e6 / f64::from(rounds)
    };
    let yuyv_us = time(&|| yuyv_to_i420(&yuyv, w, h, 0));
    let mjpeg_us = time(&|| mjpeg_to_i420(&jpeg));
    let share = |us: f64| us * 30.0 / 1e6 * 100.0;
    let build = if cfg!(debug_assertions) { "debug build; use --release for real figures" } else { "release" };
    println!("1280×720 conversion ({build}):");
    println!("  YUYV → I420:  {yuyv_us:8.0} µs/frame  ({:.1}% of a core at 30 fps)", share(yuyv_us));
    println!(
        "  MJPEG → I420: {mjpeg_us:8.0} µs/frame  ({:.1}% of a core at 30 fps; a {} KB frame)",
        share(mjpeg_us),
        jpeg.len() / 1024
    );
}

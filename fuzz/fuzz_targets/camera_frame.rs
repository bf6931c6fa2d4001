//! Camera frames (`duet_call::convert`): what a webcam's driver hands over, MJPEG and YUYV, to
//! the I420 frames a call encodes.
//!
//! The whole input is tried as an MJPEG frame; after a 6-byte header (width, height and stride
//! as little-endian u16s) the rest is tried as a YUYV frame of that size. Asserts: no panic;
//! whatever converts is a well-formed frame within 1080p, of the size asked for (YUYV), and
//! mirroring it twice gives it back.
#![no_main]

use duet_call::convert::{mjpeg_to_i420, yuyv_to_i420};
use duet_call::VideoFrame;
use libfuzzer_sys::fuzz_target;

fn check(frame: &VideoFrame) {
    assert!(frame.is_well_formed(), "{frame:?}");
    assert_eq!(&frame.mirrored().mirrored(), frame);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = mjpeg_to_i420(data) {
        check(&frame);
    }
    if let [w0, w1, h0, h1, s0, s1, pixels @ ..] = data {
        let (w, h) = (u16::from_le_bytes([*w0, *w1]), u16::from_le_bytes([*h0, *h1]));
        let stride = u16::from_le_bytes([*s0, *s1]);
        if let Ok(frame) = yuyv_to_i420(pixels, w.into(), h.into(), stride.into()) {
            check(&frame);
            assert_eq!((frame.width, frame.height), (u32::from(w) & !1, u32::from(h) & !1));
        }
    }
});

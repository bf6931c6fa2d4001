//! VP8 through libvpx: a real-time encoder (one pass, CBR, no lag, error resilient, a key frame
//! at least every few seconds and on request) and a decoder whose output is copied out into a
//! [`VideoFrame`]. This is the crate's `unsafe` code but for one V4L2 ioctl (`devices/camera.rs`;
//! the workspace denies `unsafe` elsewhere): each call into libvpx is wrapped
//! here, with the size and error checks around it.

#![allow(unsafe_code)]

use std::mem::MaybeUninit;
use std::ptr;

use vpx_sys as vpx;

use super::CodecError;
use crate::frame::{VideoFrame, MAX_VIDEO_HEIGHT, MAX_VIDEO_WIDTH};

/// The largest encoded frame accepted from a peer.
pub const MAX_VP8_FRAME: usize = 1024 * 1024;

/// Encoder settings.
#[derive(Debug, Clone, Copy)]
pub struct Vp8Settings {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub bitrate_kbps: u32,
    /// A key frame at least this often (frames), so a receiver that lost one recovers.
    pub keyframe_interval: u32,
}

impl Vp8Settings {
    pub fn new(width: u32, height: u32, fps: u32) -> Self {
        Self { width, height, fps, bitrate_kbps: 800, keyframe_interval: fps.max(1) * 3 }
    }
}

/// One encoded frame.
#[derive(Debug, Clone)]
pub struct EncodedFrame {
    pub data: Vec<u8>,
    pub keyframe: bool,
}

fn check(err: vpx::vpx_codec_err_t, what: &str) -> Result<(), CodecError> {
    if err == vpx::vpx_codec_err_t::VPX_CODEC_OK {
        Ok(())
    } else {
        Err(CodecError::Vp8(format!("{what}: {err:?}")))
    }
}

pub struct Vp8Encoder {
    ctx: Box<vpx::vpx_codec_ctx_t>,
    settings: Vp8Settings,
    pts: i64,
}

// The codec context is only touched through `&mut self`.
unsafe impl Send for Vp8Encoder {}

impl Vp8Encoder {
    /// The frame size this encoder takes.
    pub fn size(&self) -> (u32, u32) {
        (self.settings.width, self.settings.height)
    }

    pub fn new(settings: Vp8Settings) -> Result<Self, CodecError> {
        let (w, h) = (settings.width, settings.height);
        if VideoFrame::black(w, h).is_none() || settings.fps == 0 {
            return Err(CodecError::BadSize { width: w, height: h });
        }
        // SAFETY: the config is fully written by `vpx_codec_enc_config_default` before use;
        // the context is boxed so its address stays put for libvpx.
        unsafe {
            let iface = vpx::vpx_codec_vp8_cx();
            let mut cfg = MaybeUninit::<vpx::vpx_codec_enc_cfg_t>::zeroed();
            check(vpx::vpx_codec_enc_config_default(iface, cfg.as_mut_ptr(), 0), "default config")?;
            let mut cfg = cfg.assume_init();
            cfg.g_w = w;
            cfg.g_h = h;
            cfg.g_timebase = vpx::vpx_rational { num: 1, den: settings.fps as i32 };
            cfg.g_threads = 1;
            cfg.g_lag_in_frames = 0;
            cfg.g_error_resilient = vpx::VPX_ERROR_RESILIENT_DEFAULT;
            cfg.g_pass = vpx::vpx_enc_pass::VPX_RC_ONE_PASS;
            cfg.rc_end_usage = vpx::vpx_rc_mode::VPX_CBR;
            cfg.rc_target_bitrate = settings.bitrate_kbps;
            cfg.rc_min_quantizer = 4;
            cfg.rc_max_quantizer = 56;
            cfg.rc_dropframe_thresh = 0;
            cfg.kf_mode = vpx::vpx_kf_mode::VPX_KF_AUTO;
            cfg.kf_max_dist = settings.keyframe_interval.max(1);
            let mut ctx: Box<vpx::vpx_codec_ctx_t> = Box::new(MaybeUninit::zeroed().assume_init());
            check(
                vpx::vpx_codec_enc_init_ver(&mut *ctx, iface, &cfg, 0, vpx::VPX_ENCODER_ABI_VERSION as i32),
                "encoder init",
            )?;
            // Speed over quality: real time on a small CPU.
            let speed = vpx::vp8e_enc_control_id::VP8E_SET_CPUUSED as i32;
            let _ = vpx::vpx_codec_control_(&mut *ctx, speed, 12i32);
            Ok(Self { ctx, settings, pts: 0 })
        }
    }

    pub fn settings(&self) -> Vp8Settings {
        self.settings
    }

    /// Encodes one frame of the configured size; `keyframe` forces a key frame.
    pub fn encode(&mut self, frame: &VideoFrame, keyframe: bool) -> Result<Vec<EncodedFrame>, CodecError> {
        if !frame.is_well_formed() || frame.width != self.settings.width || frame.height != self.settings.height {
            return Err(CodecError::BadSize { width: frame.width, height: frame.height });
        }
        let flags = if keyframe { vpx::VPX_EFLAG_FORCE_KF as vpx::vpx_enc_frame_flags_t } else { 0 };
        let mut out = Vec::new();
        // SAFETY: `img` wraps `frame.data`, which outlives the encode call and has exactly the
        // I420 layout for this size (checked above); libvpx copies what it keeps. Packets
        // returned by `get_cx_data` are valid until the next encode call and copied at once.
        unsafe {
            let mut img = MaybeUninit::<vpx::vpx_image_t>::zeroed();
            let wrapped = vpx::vpx_img_wrap(
                img.as_mut_ptr(),
                vpx::vpx_img_fmt::VPX_IMG_FMT_I420,
                frame.width,
                frame.height,
                1,
                frame.data.as_ptr() as *mut u8,
            );
            if wrapped.is_null() {
                return Err(CodecError::Vp8("wrapping the frame".into()));
            }
            check(
                vpx::vpx_codec_encode(&mut *self.ctx, wrapped, self.pts, 1, flags, vpx::VPX_DL_REALTIME as _),
                "encode",
            )?;
            self.pts += 1;
            let mut iter: vpx::vpx_codec_iter_t = ptr::null();
            loop {
                let pkt = vpx::vpx_codec_get_cx_data(&mut *self.ctx, &mut iter);
                if pkt.is_null() {
                    break;
                }
                if (*pkt).kind != vpx::vpx_codec_cx_pkt_kind::VPX_CODEC_CX_FRAME_PKT {
                    continue;
                }
                let f = (*pkt).data.frame;
                let data = std::slice::from_raw_parts(f.buf as *const u8, f.sz as usize).to_vec();
                out.push(EncodedFrame { data, keyframe: f.flags & vpx::VPX_FRAME_IS_KEY != 0 });
            }
        }
        Ok(out)
    }
}

impl Drop for Vp8Encoder {
    fn drop(&mut self) {
        // SAFETY: the context was initialised in `new` and is destroyed once.
        unsafe {
            vpx::vpx_codec_destroy(&mut *self.ctx);
        }
    }
}

pub struct Vp8Decoder {
    ctx: Box<vpx::vpx_codec_ctx_t>,
}

unsafe impl Send for Vp8Decoder {}

impl Vp8Decoder {
    pub fn new() -> Result<Self, CodecError> {
        // SAFETY: as for the encoder; a single-threaded decoder config.
        unsafe {
            let mut ctx: Box<vpx::vpx_codec_ctx_t> = Box::new(MaybeUninit::zeroed().assume_init());
            let cfg = vpx::vpx_codec_dec_cfg_t { threads: 1, w: 0, h: 0 };
            check(
                vpx::vpx_codec_dec_init_ver(
                    &mut *ctx,
                    vpx::vpx_codec_vp8_dx(),
                    &cfg,
                    0,
                    vpx::VPX_DECODER_ABI_VERSION as i32,
                ),
                "decoder init",
            )?;
            Ok(Self { ctx })
        }
    }

    /// Decodes one frame from the peer. A key frame announcing a size over the limit is
    /// refused before libvpx allocates for it; malformed data is an error, never a panic.
    pub fn decode(&mut self, data: &[u8]) -> Result<Vec<VideoFrame>, CodecError> {
        if data.is_empty() || data.len() > MAX_VP8_FRAME {
            return Err(CodecError::Vp8(format!("a {}-byte frame", data.len())));
        }
        if let Some((w, h)) = keyframe_size(data) {
            if w == 0 || h == 0 || w > MAX_VIDEO_WIDTH || h > MAX_VIDEO_HEIGHT {
                return Err(CodecError::BadSize { width: w, height: h });
            }
        }
        let mut frames = Vec::new();
        // SAFETY: `data` is valid for the call; images returned by `get_frame` are valid
        // until the next decode call, and their planes are read within `d_w`/`d_h` and the
        // strides libvpx reports.
        unsafe {
            check(
                vpx::vpx_codec_decode(&mut *self.ctx, data.as_ptr(), data.len() as u32, ptr::null_mut(), 0),
                "decode",
            )?;
            let mut iter: vpx::vpx_codec_iter_t = ptr::null();
            loop {
                let img = vpx::vpx_codec_get_frame(&mut *self.ctx, &mut iter);
                if img.is_null() {
                    break;
                }
                let img = &*img;
                if img.fmt != vpx::vpx_img_fmt::VPX_IMG_FMT_I420 {
                    continue;
                }
                let (w, h) = (img.d_w & !1, img.d_h & !1);
                let Some(mut frame) = VideoFrame::black(w, h) else { continue };
                let (y, u, v) = frame.planes_mut();
                copy_plane(y, img.planes[0], img.stride[0], w as usize, h as usize);
                copy_plane(u, img.planes[1], img.stride[1], (w / 2) as usize, (h / 2) as usize);
                copy_plane(v, img.planes[2], img.stride[2], (w / 2) as usize, (h / 2) as usize);
                frames.push(frame);
            }
        }
        Ok(frames)
    }
}

/// Copies `rows` rows of `width` bytes from a strided plane into a packed one.
///
/// # Safety
/// `src` must point to at least `rows` rows of `stride` bytes, each holding `width` bytes.
unsafe fn copy_plane(dst: &mut [u8], src: *const u8, stride: i32, width: usize, rows: usize) {
    if src.is_null() || stride < width as i32 {
        return;
    }
    for r in 0..rows {
        let row = std::slice::from_raw_parts(src.add(r * stride as usize), width);
        dst[r * width..(r + 1) * width].copy_from_slice(row);
    }
}

impl Drop for Vp8Decoder {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`, destroyed once.
        unsafe {
            vpx::vpx_codec_destroy(&mut *self.ctx);
        }
    }
}

/// The size a VP8 key frame announces (RFC 6386 §9.1), or `None` for an inter frame.
pub fn keyframe_size(data: &[u8]) -> Option<(u32, u32)> {
    if data.len() < 10 || data[0] & 1 != 0 {
        return None;
    }
    if data[3..6] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let w = u32::from(u16::from_le_bytes([data[6], data[7]]) & 0x3fff);
    let h = u32::from(u16::from_le_bytes([data[8], data[9]]) & 0x3fff);
    Some((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{TestPattern, VideoSource};

    #[test]
    fn the_test_pattern_survives_encoding_with_its_colours() {
        let mut pattern = TestPattern::new(320, 240);
        let mut enc = Vp8Encoder::new(Vp8Settings::new(320, 240, 30)).unwrap();
        let mut dec = Vp8Decoder::new().unwrap();
        let mut last = None;
        for i in 0..10 {
            let frame = pattern.next_frame().unwrap();
            for packet in enc.encode(&frame, i == 0).unwrap() {
                assert_eq!(packet.keyframe, i == 0 || packet.keyframe);
                if i == 0 {
                    assert_eq!(keyframe_size(&packet.data), Some((320, 240)));
                }
                last = dec.decode(&packet.data).unwrap().pop().or(last);
            }
        }
        let got = last.expect("frames decode");
        assert_eq!((got.width, got.height), (320, 240));
        assert!(TestPattern::matches(&got), "the colours are the pattern's");
    }

    #[test]
    fn garbage_and_oversized_frames_are_refused() {
        let mut dec = Vp8Decoder::new().unwrap();
        assert!(dec.decode(&[]).is_err());
        let _ = dec.decode(&[0x55; 100]);
        let mut huge = vec![0u8; 20];
        huge[3..6].copy_from_slice(&[0x9d, 0x01, 0x2a]);
        huge[6..8].copy_from_slice(&16000u16.to_le_bytes());
        huge[8..10].copy_from_slice(&16000u16.to_le_bytes());
        assert!(matches!(dec.decode(&huge), Err(CodecError::BadSize { .. })));
        assert!(Vp8Encoder::new(Vp8Settings::new(321, 240, 30)).is_err());
    }
}

//! Screen sharing on X11: the whole screen or one window, captured with the core protocol's
//! `GetImage` (x11rb, pure Rust, no extension needed), a few times a second on a thread of its
//! own, converted to I420 and handed to the call like a camera's frames.
//!
//! - **What can be shared**: [`share_targets`] lists the screen and the top-level windows the
//!   window manager lists (`_NET_CLIENT_LIST`, with their titles). A window is captured as it
//!   is drawn on the screen (`GetImage` on the window), so it must be open, not minimised.
//! - **Size**: a picture larger than a call carries (1920×1080) is halved until it fits; odd
//!   sizes lose their last row or column (I420 needs even sizes).
//! - **Rate**: [`SHARE_FPS`] frames a second: a shared screen is read more than watched, and a
//!   full screen is 8 MB a frame through the X socket.
//! - **Wayland**: the compositor lets no client read the screen, and under XWayland only X11
//!   apps' windows could be read; so in a Wayland session the one thing offered is the desktop
//!   portal ([`PORTAL`], `devices::portal`), whose own dialog asks what to share.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{AtomEnum, ConnectionExt, ImageFormat, Window};
use x11rb::rust_connection::RustConnection;

use super::DeviceError;
use crate::frame::{rgb_to_yuv, VideoFrame, MAX_VIDEO_HEIGHT, MAX_VIDEO_WIDTH};
use crate::lock;
use crate::source::VideoSource;

/// Frames a second of a shared screen.
pub const SHARE_FPS: u32 = 5;
/// The id of the whole screen among [`share_targets`].
pub const WHOLE_SCREEN: &str = "screen";
/// The id of "what the desktop's dialog offers" in a Wayland session.
pub const PORTAL: &str = "portal";
/// Titles listed at most this long.
const MAX_TITLE_CHARS: usize = 120;
/// Windows listed at most.
const MAX_WINDOWS: usize = 64;

/// Something that can be shared: the whole screen, or one window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ShareTarget {
    /// `screen`, or `window:0x…` (the X11 window id).
    pub id: String,
    /// "Whole screen", or the window's title.
    pub name: String,
}

fn no_display() -> DeviceError {
    DeviceError("Screen sharing needs a desktop session (no X11 or Wayland display was found)".into())
}

fn connect() -> Result<(RustConnection, usize), DeviceError> {
    if std::env::var_os("DISPLAY").is_none() {
        return Err(no_display());
    }
    RustConnection::connect(None).map_err(|e| DeviceError(format!("The X11 display could not be reached ({e})")))
}

fn x11_err(e: impl std::fmt::Display) -> DeviceError {
    DeviceError(format!("The screen could not be read ({e})"))
}

/// The screen, then the windows the window manager lists; in a Wayland session, the desktop's
/// own choice ([`PORTAL`]).
pub fn share_targets() -> Result<Vec<ShareTarget>, DeviceError> {
    if super::portal::is_wayland() {
        return Ok(vec![ShareTarget {
            id: PORTAL.into(),
            name: "A screen or window (your desktop asks which)".into(),
        }]);
    }
    let (conn, screen) = connect()?;
    let root = conn.setup().roots[screen].root;
    let mut out = vec![ShareTarget { id: WHOLE_SCREEN.into(), name: "Whole screen".into() }];
    let atom = |name: &str| -> Result<u32, DeviceError> {
        Ok(conn.intern_atom(false, name.as_bytes()).map_err(x11_err)?.reply().map_err(x11_err)?.atom)
    };
    let (list, net_name, utf8) = (atom("_NET_CLIENT_LIST")?, atom("_NET_WM_NAME")?, atom("UTF8_STRING")?);
    let Ok(reply) =
        conn.get_property(false, root, list, AtomEnum::WINDOW, 0, MAX_WINDOWS as u32).map_err(x11_err)?.reply()
    else {
        return Ok(out); // no window manager: only the screen
    };
    for window in reply.value32().into_iter().flatten().take(MAX_WINDOWS) {
        let title = |property: u32, kind: u32| {
            conn.get_property(false, window, property, kind, 0, 256)
                .ok()
                .and_then(|c| c.reply().ok())
                .map(|r| String::from_utf8_lossy(&r.value).into_owned())
                .filter(|t| !t.trim().is_empty())
        };
        let name = title(net_name, utf8).or_else(|| title(AtomEnum::WM_NAME.into(), AtomEnum::STRING.into()));
        let Some(name) = name else { continue };
        let name: String = name.chars().filter(|c| !c.is_control()).take(MAX_TITLE_CHARS).collect();
        out.push(ShareTarget { id: format!("window:{window:#x}"), name });
    }
    Ok(out)
}

fn parse_target(id: &str, root: Window) -> Result<Window, DeviceError> {
    if id == WHOLE_SCREEN {
        return Ok(root);
    }
    id.strip_prefix("window:0x")
        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
        .ok_or_else(|| DeviceError(format!("“{id}” is neither the screen nor a window")))
}

/// Reads one picture of `window` as an I420 frame.
fn grab(conn: &RustConnection, window: Window) -> Result<VideoFrame, DeviceError> {
    let geometry = conn.get_geometry(window).map_err(x11_err)?.reply().map_err(|_| closed())?;
    let (w, h) = (geometry.width, geometry.height);
    if w < 2 || h < 2 {
        return Err(DeviceError("The shared window is too small to see".into()));
    }
    let image = conn
        .get_image(ImageFormat::Z_PIXMAP, window, 0, 0, w, h, u32::MAX)
        .map_err(x11_err)?
        .reply()
        .map_err(|_| DeviceError("The shared window cannot be seen (is it minimised?)".into()))?;
    let bpp = conn.setup().pixmap_formats.iter().find(|f| f.depth == image.depth).map(|f| f.bits_per_pixel);
    if bpp != Some(32) {
        return Err(DeviceError(format!("This screen's colour depth ({} bits) cannot be shared", image.depth)));
    }
    if conn.setup().image_byte_order != x11rb::protocol::xproto::ImageOrder::LSB_FIRST {
        return Err(DeviceError("This screen's byte order cannot be shared".into()));
    }
    bgrx_to_i420(&image.data, u32::from(w), u32::from(h), u32::from(w) as usize * 4)
        .ok_or_else(|| DeviceError("The screen sent a picture smaller than its size".into()))
}

fn closed() -> DeviceError {
    DeviceError("The shared window was closed".into())
}

/// The byte order of a packed 8-bit RGB pixel with a fourth (padding or alpha) byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelOrder {
    /// Blue, green, red, padding: X11 at depth 24/32 on little-endian machines.
    Bgrx,
    /// Red, green, blue, padding.
    Rgbx,
    /// Red, green, blue: three bytes.
    Rgb,
}

impl PixelOrder {
    pub(super) fn bytes(self) -> usize {
        match self {
            PixelOrder::Bgrx | PixelOrder::Rgbx => 4,
            PixelOrder::Rgb => 3,
        }
    }
}

/// BGRX (what X11 gives at depth 24/32 on little-endian machines) to I420: [`packed_to_i420`].
pub fn bgrx_to_i420(data: &[u8], width: u32, height: u32, stride: usize) -> Option<VideoFrame> {
    packed_to_i420(data, width, height, stride, PixelOrder::Bgrx)
}

/// Packed 8-bit RGB to I420, halving until it fits a call and trimming odd sizes. `None` if
/// `data` is shorter than the size says.
pub fn packed_to_i420(data: &[u8], width: u32, height: u32, stride: usize, order: PixelOrder) -> Option<VideoFrame> {
    let mut scale = 1u32;
    while width / scale > MAX_VIDEO_WIDTH || height / scale > MAX_VIDEO_HEIGHT {
        scale *= 2;
    }
    let (w, h) = ((width / scale) & !1, (height / scale) & !1);
    let bytes = order.bytes();
    if data.len() < stride.checked_mul(height as usize)? || stride < width as usize * bytes {
        return None;
    }
    let mut frame = VideoFrame::black(w, h)?;
    let cw = (w / 2) as usize;
    let px = |x: u32, y: u32| {
        let i = (y * scale) as usize * stride + (x * scale) as usize * bytes;
        match order {
            PixelOrder::Bgrx => [data[i + 2], data[i + 1], data[i]],
            PixelOrder::Rgbx | PixelOrder::Rgb => [data[i], data[i + 1], data[i + 2]],
        }
    };
    let (luma, u, v) = frame.planes_mut();
    for y in 0..h {
        for x in 0..w {
            luma[(y * w + x) as usize] = rgb_to_yuv(px(x, y)).0;
        }
    }
    for y in 0..h / 2 {
        for x in 0..w / 2 {
            // Chroma from the mean of the 2×2 block.
            let mut sum = [0u32; 3];
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let p = px(2 * x + dx, 2 * y + dy);
                (0..3).for_each(|i| sum[i] += u32::from(p[i]));
            }
            let (_, cu, cv) = rgb_to_yuv(sum.map(|s| (s / 4) as u8));
            u[y as usize * cw + x as usize] = cu;
            v[y as usize * cw + x as usize] = cv;
        }
    }
    Some(frame)
}

/// What a capture thread (X11 grabs, or the portal's PipeWire stream) shares with its
/// [`ScreenShare`].
#[derive(Clone, Default)]
pub(super) struct Feed {
    /// The newest picture, taken by the call.
    pub latest: Arc<Mutex<Option<VideoFrame>>>,
    /// Set when sharing stops: the thread ends.
    pub stop: Arc<AtomicBool>,
    /// Why sharing stopped by itself (the window closed), if it did.
    pub ended: Arc<Mutex<Option<String>>>,
}

/// A screen or window being shared: a thread grabs [`SHARE_FPS`] pictures a second (or the
/// portal's stream delivers them); the call takes the newest.
pub struct ScreenShare {
    size: (u32, u32),
    feed: Feed,
}

impl ScreenShare {
    /// Starts sharing `target` (an id from [`share_targets`]). In a Wayland session the whole
    /// screen is asked of the desktop too (its dialog offers the screens).
    pub fn open(target: &str) -> Result<ScreenShare, DeviceError> {
        let feed = Feed::default();
        if target == PORTAL || (target == WHOLE_SCREEN && super::portal::is_wayland()) {
            let size = super::portal::open(&feed)?;
            return Ok(ScreenShare { size, feed });
        }
        let (conn, screen) = connect()?;
        let window = parse_target(target, conn.setup().roots[screen].root)?;
        let first = grab(&conn, window)?;
        let size = (first.width, first.height);
        *lock(&feed.latest) = Some(first);
        let grabber = feed.clone();
        std::thread::Builder::new()
            .name("duet-screen".into())
            .spawn(move || {
                let interval = Duration::from_secs(1) / SHARE_FPS;
                let mut next = Instant::now();
                while !grabber.stop.load(Ordering::Relaxed) {
                    next += interval;
                    if let Some(wait) = next.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    } else {
                        next = Instant::now();
                    }
                    match grab(&conn, window) {
                        Ok(frame) => *lock(&grabber.latest) = Some(frame),
                        Err(e) => {
                            *lock(&grabber.ended) = Some(e.to_string());
                            break;
                        }
                    }
                }
            })
            .map_err(|e| DeviceError(format!("Screen sharing could not start ({e})")))?;
        Ok(ScreenShare { size, feed })
    }

    /// Why sharing stopped by itself (the shared window was closed), if it did.
    pub fn ended(&self) -> Option<String> {
        lock(&self.feed.ended).clone()
    }
}

impl VideoSource for ScreenShare {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn next_frame(&mut self) -> Option<VideoFrame> {
        // A window resized mid-share keeps the first size's encoder: frames of another size
        // are skipped until it is back (or sharing restarts).
        lock(&self.feed.latest).take().filter(|f| (f.width, f.height) == self.size)
    }
}

impl Drop for ScreenShare {
    fn drop(&mut self) {
        self.feed.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bgrx(w: u32, h: u32, colour: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let [r, g, b] = colour(x, y);
                data.extend_from_slice(&[b, g, r, 0]);
            }
        }
        data
    }

    #[test]
    fn a_picture_keeps_its_colours_and_a_big_one_is_halved() {
        let quadrants = |w: u32, h: u32| {
            move |x: u32, y: u32| {
                crate::source::TestPattern::COLOURS[((y >= h / 2) as usize) * 2 + (x >= w / 2) as usize]
            }
        };
        let frame = bgrx_to_i420(&bgrx(64, 48, quadrants(64, 48)), 64, 48, 64 * 4).unwrap();
        assert_eq!((frame.width, frame.height), (64, 48));
        assert!(
            crate::source::TestPattern::matches(&frame),
            "{:?}",
            crate::source::TestPattern::quadrant_colours(&frame)
        );

        let big = bgrx_to_i420(&bgrx(2560, 1440, quadrants(2560, 1440)), 2560, 1440, 2560 * 4).unwrap();
        assert_eq!((big.width, big.height), (1280, 720));
        assert!(crate::source::TestPattern::matches(&big));

        let odd = bgrx_to_i420(&bgrx(33, 21, |_, _| [0, 0, 255]), 33, 21, 33 * 4).unwrap();
        assert_eq!((odd.width, odd.height), (32, 20));
    }

    #[test]
    fn red_first_pictures_keep_their_colours_too() {
        let colour = |x: u32, _y: u32| if x < 32 { [255, 0, 0] } else { [0, 0, 255] };
        let rgbx: Vec<u8> = bgrx(64, 48, colour).chunks(4).flat_map(|p| [p[2], p[1], p[0], 0]).collect();
        let rgb: Vec<u8> = bgrx(64, 48, colour).chunks(4).flat_map(|p| [p[2], p[1], p[0]]).collect();
        for frame in [
            packed_to_i420(&rgbx, 64, 48, 64 * 4, PixelOrder::Rgbx).unwrap(),
            packed_to_i420(&rgb, 64, 48, 64 * 3, PixelOrder::Rgb).unwrap(),
        ] {
            let left = frame.mean_rgb(4, 4, 8, 8);
            let right = frame.mean_rgb(52, 4, 8, 8);
            assert!(left[0] > 200 && left[2] < 50, "{left:?}");
            assert!(right[2] > 200 && right[0] < 50, "{right:?}");
        }
        // Three bytes a pixel: a stride of four bytes' width is too short for RGBX.
        assert!(packed_to_i420(&rgb, 64, 48, 64 * 3, PixelOrder::Rgbx).is_none());
    }

    #[test]
    fn a_short_or_badly_strided_picture_is_refused() {
        assert!(bgrx_to_i420(&[0; 100], 64, 48, 64 * 4).is_none());
        assert!(bgrx_to_i420(&bgrx(64, 48, |_, _| [0; 3]), 64, 48, 10).is_none());
        assert!(bgrx_to_i420(&[], 0, 0, 0).is_none());
    }

    #[test]
    fn a_target_is_the_screen_or_a_window() {
        assert_eq!(parse_target("screen", 7).unwrap(), 7);
        assert_eq!(parse_target("window:0x2a", 7).unwrap(), 42);
        assert!(parse_target("window:zz", 7).is_err());
        assert!(parse_target("/dev/video0", 7).is_err());
    }
}

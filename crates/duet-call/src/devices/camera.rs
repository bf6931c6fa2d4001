//! Cameras through V4L2: which are plugged in ([`cameras`]), and one opened for a call
//! ([`Camera`]).
//!
//! Opening negotiates what the camera sends. YUYV needs no decoding, so it is taken at the
//! asked size when the camera offers it there at 15 frames a second or more; otherwise MJPEG,
//! which is how USB 2 webcams reach 720p at 30 frames a second; when the camera offers
//! neither at the asked size, the nearest size it does offer. A camera that offers neither
//! format is refused in words a person can act on.
//!
//! A thread per camera reads frames, converts them to I420 ([`crate::convert`]) and keeps
//! only the latest; the call's video task takes it when it wants a frame, so a slow encoder
//! never queues up old pictures. When the thread stops on its own (the camera was unplugged,
//! stopped sending pictures, or sends nothing that can be read), [`CameraStatus`] says so and
//! why, so the caller can fall back to another source and tell the person.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use v4l::buffer::{Flags as BufferFlags, Type};
use v4l::capability::Flags as CapabilityFlags;
use v4l::frameinterval::FrameIntervalEnum;
use v4l::framesize::FrameSizeEnum;
use v4l::io::traits::CaptureStream;
use v4l::video::capture::Parameters;
use v4l::video::Capture;
use v4l::{Device, FourCC, Fraction};

use super::DeviceError;
use crate::convert::{mjpeg_to_i420, yuyv_to_i420};
use crate::frame::{VideoFrame, MAX_VIDEO_HEIGHT, MAX_VIDEO_WIDTH};
use crate::source::VideoSource;

/// Below this a YUYV mode looks like a slide show; MJPEG at the same size is preferred.
const MIN_SMOOTH_FPS: u32 = 15;
/// The frame rate asked for; the camera picks the nearest it can do.
const WANTED_FPS: u32 = 30;
/// How long one wait for a frame lasts before the thread looks at its stop flag again.
const POLL: Duration = Duration::from_millis(250);
/// Waits with no frame before the camera counts as stopped (5 s).
const STALLED_POLLS: u32 = 20;
/// Frames in a row that cannot be converted before the camera counts as unusable (2 s at
/// 30 fps): one bad frame is a glitch, a run of them is a camera whose pictures we cannot read.
const UNREADABLE_FRAMES: u32 = 60;
/// How long [`Camera::open`] waits for the first frame before handing the camera over anyway.
const FIRST_FRAME: Duration = Duration::from_secs(2);
/// Sizes tried within a camera's range when it offers a range rather than a list.
const COMMON_SIZES: [(u32, u32); 9] =
    [(160, 120), (320, 240), (640, 360), (640, 480), (800, 600), (1024, 768), (1280, 720), (1280, 960), (1920, 1080)];

/// How a camera's pixels arrive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PixelFormat {
    /// Packed 4:2:2, uncompressed.
    Yuyv,
    /// One JPEG per frame (V4L2's `MJPG`, or `JPEG`).
    Mjpeg,
    /// Anything else, by its four-character code; not used.
    Other(String),
}

impl PixelFormat {
    fn of(fourcc: FourCC) -> Self {
        match &fourcc.repr {
            b"YUYV" => Self::Yuyv,
            b"MJPG" | b"JPEG" => Self::Mjpeg,
            other => Self::Other(String::from_utf8_lossy(&other[..]).trim_end().to_owned()),
        }
    }

    fn is_usable(&self) -> bool {
        matches!(self, Self::Yuyv | Self::Mjpeg)
    }
}

impl std::fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Yuyv => f.write_str("YUYV"),
            Self::Mjpeg => f.write_str("MJPEG"),
            Self::Other(code) => f.write_str(code),
        }
    }
}

/// One format at one size that a camera offers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CameraMode {
    pub format: PixelFormat,
    pub width: u32,
    pub height: u32,
    /// The most frames a second the camera names for this mode, if it names any.
    pub max_fps: Option<u32>,
}

/// A V4L2 capture device that is plugged in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CameraInfo {
    /// Its device node, e.g. `/dev/video0`.
    pub path: String,
    /// The name its driver gives it (V4L2's card name), e.g. "Integrated Webcam".
    pub name: String,
    /// Everything it offers, in the order it lists them.
    pub modes: Vec<CameraMode>,
}

/// The picture size a call asks a camera for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CameraSize {
    /// 640×480.
    #[default]
    Sd,
    /// 1280×720.
    Hd,
}

impl CameraSize {
    /// Width and height in pixels.
    pub fn dimensions(self) -> (u32, u32) {
        match self {
            Self::Sd => (640, 480),
            Self::Hd => (1280, 720),
        }
    }
}

/// Which camera to open, and at what size.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CameraChoice {
    /// A device node (`/dev/video0`, or a stable link such as `/dev/v4l/by-id/…`) or a
    /// camera's name as [`cameras`] lists it; `None` for the first camera listed.
    pub device: Option<String>,
    pub size: CameraSize,
}

/// The V4L2 capture devices plugged in, in device-node order. Nodes that only carry metadata
/// (UVC cameras have one beside each picture node) and nodes this user may not open are left
/// out; with no camera the list is empty.
pub fn cameras() -> Vec<CameraInfo> {
    cameras_in(Path::new("/dev"))
}

fn cameras_in(dir: &Path) -> Vec<CameraInfo> {
    video_nodes(dir)
        .into_iter()
        .filter_map(|path| {
            let device =
                Device::with_path(&path).map_err(|e| tracing::debug!("camera {}: {e}", path.display())).ok()?;
            let name = capture_name(&device)?;
            let modes = offers(&device).into_iter().map(|o| o.mode).collect();
            Some(CameraInfo { path: path.display().to_string(), name, modes })
        })
        .collect()
}

/// `dir/videoN` nodes, by N.
fn video_nodes(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut nodes: Vec<(u32, std::path::PathBuf)> = entries
        .filter_map(|e| {
            let e = e.ok()?;
            let n = e.file_name().to_str()?.strip_prefix("video")?.parse().ok()?;
            Some((n, e.path()))
        })
        .collect();
    nodes.sort();
    nodes.into_iter().map(|(_, p)| p).collect()
}

/// The card name, if the device captures video (QUERYCAP). Asked directly rather than through
/// `Device::query_caps`, which panics on a name that is not UTF-8 (the kernel cuts USB product
/// names at 31 bytes, which can split a character).
#[allow(unsafe_code)]
fn capture_name(device: &Device) -> Option<String> {
    // SAFETY: v4l2_capability is plain data the kernel fills in; the pointer lives for the call.
    let caps = unsafe {
        let mut caps: v4l::v4l_sys::v4l2_capability = std::mem::zeroed();
        v4l::v4l2::ioctl(
            device.handle().fd(),
            v4l::v4l2::vidioc::VIDIOC_QUERYCAP,
            &mut caps as *mut _ as *mut std::os::raw::c_void,
        )
        .ok()?;
        caps
    };
    // `device_caps` describes this node; `capabilities` the whole physical device.
    let flags = if CapabilityFlags::from(caps.capabilities).contains(CapabilityFlags::DEVICE_CAPS) {
        CapabilityFlags::from(caps.device_caps)
    } else {
        CapabilityFlags::from(caps.capabilities)
    };
    if !flags.contains(CapabilityFlags::VIDEO_CAPTURE) {
        return None;
    }
    let end = caps.card.iter().position(|&b| b == 0).unwrap_or(caps.card.len());
    Some(String::from_utf8_lossy(&caps.card[..end]).trim().to_owned())
}

/// A mode and the four-character code to ask for it with.
struct Offer {
    mode: CameraMode,
    fourcc: FourCC,
}

fn offers(device: &Device) -> Vec<Offer> {
    let mut offers: Vec<Offer> = Vec::new();
    for description in device.enum_formats().unwrap_or_default() {
        let fourcc = description.fourcc;
        let format = PixelFormat::of(fourcc);
        let mut sizes: Vec<(u32, u32)> = device
            .enum_framesizes(fourcc)
            .unwrap_or_default()
            .into_iter()
            .flat_map(|size| match size.size {
                FrameSizeEnum::Discrete(d) => vec![(d.width, d.height)],
                FrameSizeEnum::Stepwise(s) => {
                    let fits = |v: u32, min: u32, max: u32, step: u32| {
                        (min..=max).contains(&v) && (v - min).is_multiple_of(step.max(1))
                    };
                    COMMON_SIZES
                        .into_iter()
                        .filter(|&(w, h)| {
                            fits(w, s.min_width, s.max_width, s.step_width)
                                && fits(h, s.min_height, s.max_height, s.step_height)
                        })
                        .collect()
                }
            })
            .collect();
        if sizes.is_empty() && format.is_usable() {
            // Some drivers (older virtual cameras) cannot list sizes but still take one when
            // the format is set, answering with the nearest they have.
            sizes = vec![CameraSize::Sd.dimensions(), CameraSize::Hd.dimensions()];
        }
        for (width, height) in sizes {
            // A camera listing both `MJPG` and `JPEG` offers the same thing twice.
            let listed = |o: &Offer| o.mode.format == format && (o.mode.width, o.mode.height) == (width, height);
            if !offers.iter().any(listed) {
                let max_fps = max_fps(device, fourcc, width, height);
                offers.push(Offer { mode: CameraMode { format: format.clone(), width, height, max_fps }, fourcc });
            }
        }
    }
    offers
}

fn max_fps(device: &Device, fourcc: FourCC, width: u32, height: u32) -> Option<u32> {
    // Rounded: 30000/1001 s⁻¹ is 30 frames a second.
    let fps = |f: &Fraction| {
        let (num, den) = (u64::from(f.numerator), u64::from(f.denominator));
        (num > 0).then(|| u32::try_from((den + num / 2) / num).unwrap_or(u32::MAX))
    };
    device
        .enum_frameintervals(fourcc, width, height)
        .ok()?
        .iter()
        .filter_map(|i| match &i.interval {
            FrameIntervalEnum::Discrete(f) => fps(f),
            FrameIntervalEnum::Stepwise(s) => fps(&s.min),
        })
        .max()
}

/// The mode to capture in, from what the camera offers (see the module doc), or why none will
/// do. `name` is the camera's, for the message.
fn choose_mode(name: &str, modes: &[CameraMode], (want_w, want_h): (u32, u32)) -> Result<CameraMode, DeviceError> {
    let usable = modes.iter().filter(|m| m.format.is_usable());
    if usable.clone().next().is_none() {
        return Err(DeviceError(format!("The camera “{name}” offers neither YUYV nor MJPEG")));
    }
    let fitting = usable.filter(|m| m.width <= MAX_VIDEO_WIDTH && m.height <= MAX_VIDEO_HEIGHT);
    // An unnamed frame rate (virtual cameras) is taken as smooth.
    let smooth = |m: &CameraMode| m.max_fps.is_none_or(|f| f >= MIN_SMOOTH_FPS);
    let distance = |m: &CameraMode| m.width.abs_diff(want_w) + m.height.abs_diff(want_h);
    let format_rank = |m: &CameraMode| u8::from(m.format != PixelFormat::Yuyv);
    // Smooth first; then the nearest size; then YUYV before MJPEG; then the faster.
    fitting
        .min_by_key(|m| (!smooth(m), distance(m), format_rank(m), std::cmp::Reverse(m.max_fps)))
        .cloned()
        .ok_or_else(|| DeviceError(format!("The camera “{name}” offers no picture size up to 1920×1080")))
}

/// What the capture thread shares with the [`Camera`] and its [`CameraStatus`] handles.
#[derive(Default)]
struct Shared {
    latest: Mutex<Option<VideoFrame>>,
    failure: Mutex<Option<DeviceError>>,
    running: AtomicBool,
    stop: AtomicBool,
}

impl Shared {
    fn fail(&self, error: DeviceError) {
        tracing::warn!("{error}");
        *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
    }
}

/// Whether a [`Camera`]'s capture is still running; a handle that stays with the caller after
/// the camera itself has gone into the call as a `Box<dyn VideoSource>`.
#[derive(Clone)]
pub struct CameraStatus(Arc<Shared>);

impl CameraStatus {
    /// Whether frames are still being captured.
    pub fn is_alive(&self) -> bool {
        self.0.running.load(Ordering::Acquire)
    }

    /// Why capture stopped on its own, in a sentence for the person (`None` while it runs, or
    /// when the camera was closed on purpose).
    pub fn failure(&self) -> Option<DeviceError> {
        self.0.failure.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A V4L2 camera, capturing on its own thread; each frame converted to I420.
pub struct Camera {
    name: String,
    mode: CameraMode,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Camera {
    /// Opens the chosen camera and starts capturing; returns once the first frame has arrived
    /// (or after two seconds without one, leaving [`CameraStatus`] to tell what follows).
    pub fn open(choice: CameraChoice) -> Result<Self, DeviceError> {
        let (path, name) = resolve(choice.device.as_deref())?;
        let device = Device::with_path(&path).map_err(|e| opening_failed(&name, &e))?;
        let name = capture_name(&device)
            .map(|n| if n.is_empty() { name.clone() } else { n })
            .ok_or_else(|| DeviceError(format!("“{name}” is not a camera")))?;
        let offers = offers(&device);
        let modes: Vec<CameraMode> = offers.iter().map(|o| o.mode.clone()).collect();
        let wanted = choose_mode(&name, &modes, choice.size.dimensions())?;
        let fourcc = offers.iter().find(|o| o.mode == wanted).map_or(FourCC::new(b"YUYV"), |o| o.fourcc);

        let mut format = device.format().map_err(|e| opening_failed(&name, &e))?;
        (format.width, format.height, format.fourcc) = (wanted.width, wanted.height, fourcc);
        let format = device.set_format(&format).map_err(|e| opening_failed(&name, &e))?;
        let got = PixelFormat::of(format.fourcc);
        if got != wanted.format || format.width > MAX_VIDEO_WIDTH || format.height > MAX_VIDEO_HEIGHT {
            return Err(DeviceError(format!(
                "The camera “{name}” would not send {} at {}×{}",
                wanted.format, wanted.width, wanted.height
            )));
        }
        // Without this some cameras stay at whatever rate they were last left at.
        if let Err(e) = device.set_params(&Parameters::with_fps(WANTED_FPS)) {
            tracing::debug!("camera {name}: could not ask for {WANTED_FPS} fps: {e}");
        }
        let mode =
            CameraMode { format: got, width: format.width & !1, height: format.height & !1, max_fps: wanted.max_fps };
        if mode.width == 0 || mode.height == 0 {
            return Err(DeviceError(format!("The camera “{name}” offers an empty picture")));
        }

        let shared = Arc::new(Shared { running: AtomicBool::new(true), ..Shared::default() });
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let capture = CaptureThread {
            name: name.clone(),
            format: mode.format.clone(),
            size: (format.width, format.height),
            stride: format.stride as usize,
            shared: shared.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("duet-camera".into())
            .spawn(move || capture.run(&device, ready_tx))
            .map_err(|e| DeviceError(format!("The camera “{name}” could not be started: {e}")))?;
        match ready_rx.recv_timeout(FIRST_FRAME) {
            Ok(Err(e)) => return Err(e),
            Ok(Ok(())) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                return Err(DeviceError(format!("The camera “{name}” stopped as it started")));
            }
        }
        tracing::info!("camera {name}: {} {}×{}", mode.format, mode.width, mode.height);
        Ok(Self { name, mode, shared, thread: Some(thread) })
    }

    /// The camera's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What it captures in: the format and size agreed with the camera.
    pub fn mode(&self) -> &CameraMode {
        &self.mode
    }

    /// A handle that tells whether capture is still running, and why not.
    pub fn status(&self) -> CameraStatus {
        CameraStatus(self.shared.clone())
    }

    /// Whether frames are still being captured (see [`CameraStatus::failure`] for why not).
    pub fn is_alive(&self) -> bool {
        self.status().is_alive()
    }
}

/// The device node and a name for messages, for a choice.
fn resolve(device: Option<&str>) -> Result<(String, String), DeviceError> {
    match device {
        Some(path) if path.starts_with('/') => Ok((path.to_owned(), path.to_owned())),
        Some(wanted) => {
            let list = cameras();
            list.iter()
                .find(|c| c.name == wanted)
                .or_else(|| list.iter().find(|c| c.name.eq_ignore_ascii_case(wanted)))
                .map(|c| (c.path.clone(), c.name.clone()))
                .ok_or_else(|| DeviceError(format!("No camera called “{wanted}” is plugged in")))
        }
        None => cameras()
            .into_iter()
            .next()
            .map(|c| (c.path, c.name))
            .ok_or_else(|| DeviceError("No camera is plugged in".into())),
    }
}

fn opening_failed(name: &str, e: &io::Error) -> DeviceError {
    DeviceError(match e.raw_os_error() {
        Some(libc::ENOENT | libc::ENODEV) => format!("The camera “{name}” is not plugged in"),
        Some(libc::EBUSY) => format!("The camera “{name}” is in use by another program"),
        Some(libc::EACCES | libc::EPERM) => {
            format!("This user may not use the camera “{name}” (on most systems, membership of the “video” group)")
        }
        Some(libc::ENOSPC) => {
            format!("The camera “{name}” could not start: its USB port has too little bandwidth left")
        }
        _ => format!("The camera “{name}” could not be opened: {e}"),
    })
}

/// A wait for a frame that ended without one but left the stream as it was.
fn is_transient(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted)
}

/// The capture thread's state.
struct CaptureThread {
    name: String,
    format: PixelFormat,
    size: (u32, u32),
    stride: usize,
    shared: Arc<Shared>,
}

impl CaptureThread {
    fn run(self, device: &Device, ready: SyncSender<Result<(), DeviceError>>) {
        // Marks the camera stopped however the thread ends, a panic in the v4l crate included.
        struct Stopped<'a>(&'a Shared, &'a str);
        impl Drop for Stopped<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() && !self.0.stop.load(Ordering::Relaxed) {
                    self.0.fail(DeviceError(format!("The camera “{}” stopped working", self.1)));
                }
                self.0.running.store(false, Ordering::Release);
            }
        }
        let _stopped = Stopped(&self.shared, &self.name);
        let mut ready = Some(ready);
        let mut stream = match v4l::io::mmap::Stream::with_buffers(device, Type::VideoCapture, 4) {
            Ok(s) => s,
            Err(e) => return self.give_up(opening_failed(&self.name, &e), &mut ready),
        };
        stream.set_timeout(POLL);
        // After a wait that timed out every buffer is queued, and the v4l crate's `next` would
        // queue one again (an error): one buffer is dequeued by hand first.
        let mut all_queued = false;
        let (mut empty_polls, mut unreadable) = (0u32, 0u32);
        while !self.shared.stop.load(Ordering::Relaxed) {
            let result = if all_queued {
                CaptureStream::dequeue(&mut stream).map(|_| None)
            } else {
                stream.next().map(|(buf, meta)| Some(self.convert(buf, meta)))
            };
            match result {
                Ok(None) => all_queued = false,
                Ok(Some(Ok(frame))) => {
                    (empty_polls, unreadable) = (0, 0);
                    *self.shared.latest.lock().unwrap_or_else(|e| e.into_inner()) = Some(frame);
                    if let Some(r) = ready.take() {
                        let _ = r.send(Ok(()));
                    }
                }
                Ok(Some(Err(why))) => {
                    empty_polls = 0;
                    unreadable += 1;
                    tracing::debug!("camera {}: a frame was dropped: {why}", self.name);
                    if unreadable >= UNREADABLE_FRAMES {
                        let name = &self.name;
                        let e = DeviceError(format!("The camera “{name}” sends pictures that cannot be read ({why})"));
                        return self.give_up(e, &mut ready);
                    }
                }
                Err(e) if is_transient(&e) => {
                    all_queued = true;
                    empty_polls += u32::from(e.kind() == io::ErrorKind::TimedOut);
                    if empty_polls >= STALLED_POLLS {
                        let e = DeviceError(format!("The camera “{}” stopped sending pictures", self.name));
                        return self.give_up(e, &mut ready);
                    }
                }
                Err(e) => {
                    let e = match (e.raw_os_error(), &ready) {
                        (Some(libc::ENODEV), _) => DeviceError(format!("The camera “{}” was unplugged", self.name)),
                        // Still starting: streaming is refused for the same reasons opening is.
                        (_, Some(_)) => opening_failed(&self.name, &e),
                        (_, None) => DeviceError(format!("The camera “{}” stopped working ({e})", self.name)),
                    };
                    return self.give_up(e, &mut ready);
                }
            }
        }
    }

    /// Records why capture ended, and tells `open` if it is still waiting for the first frame.
    fn give_up(&self, error: DeviceError, ready: &mut Option<SyncSender<Result<(), DeviceError>>>) {
        if let Some(r) = ready.take() {
            let _ = r.send(Err(error.clone()));
        }
        self.shared.fail(error);
    }

    fn convert(&self, buf: &[u8], meta: &v4l::buffer::Metadata) -> Result<VideoFrame, String> {
        if meta.flags.contains(BufferFlags::ERROR) {
            return Err("the driver marked it damaged".into());
        }
        // The mapped buffer is as long as the largest frame; `bytesused` says how much of it
        // this one fills (what matters for MJPEG, whose frames vary in length).
        let used = match meta.bytesused as usize {
            0 => buf.len(),
            n => n.min(buf.len()),
        };
        let frame = match self.format {
            PixelFormat::Mjpeg => mjpeg_to_i420(&buf[..used]),
            _ => yuyv_to_i420(&buf[..used], self.size.0, self.size.1, self.stride),
        }
        .map_err(|e| e.to_string())?;
        let want = (self.size.0 & !1, self.size.1 & !1);
        if (frame.width, frame.height) != want {
            return Err(format!("a {}×{} picture in a {}×{} stream", frame.width, frame.height, want.0, want.1));
        }
        Ok(frame)
    }
}

impl VideoSource for Camera {
    fn size(&self) -> (u32, u32) {
        (self.mode.width, self.mode.height)
    }

    fn next_frame(&mut self) -> Option<VideoFrame> {
        self.shared.latest.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl Drop for Camera {
    /// Stops the thread and waits for it (at most one [`POLL`]), so the device is free to be
    /// opened again as soon as this returns.
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests;

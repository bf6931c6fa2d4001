//! Real devices, behind cargo features that are off by default (CI builds without them):
//! `devices-audio` (microphone and speaker through cpal/ALSA; Debian's `libasound2-dev`) and
//! `devices-camera` (a V4L2 camera, YUYV 640×480; the `v4l` crate's bindings need
//! `libclang-dev` to build).
//!
//! Each device runs on its own thread (cpal streams are not `Send`; V4L2 reads block) and
//! meets the call's media tasks through a bounded buffer: the microphone keeps at most half a
//! second (older audio is dropped), the speaker likewise, the camera only its latest frame.
//! An underrun plays or sends silence; nothing blocks the call.

#[cfg(feature = "devices-audio")]
pub use audio::{Microphone, Speaker};
#[cfg(feature = "devices-camera")]
pub use camera::Camera;

/// A device could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DeviceError(pub String);

#[cfg(feature = "devices-audio")]
mod audio {
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

    use super::DeviceError;
    use crate::frame::SAMPLE_RATE;
    use crate::source::{AudioSink, AudioSource};

    /// Half a second of audio at most in either direction.
    const MAX_BUFFERED: usize = SAMPLE_RATE as usize / 2;

    type Buffer = Arc<Mutex<VecDeque<i16>>>;

    fn lock(b: &Buffer) -> std::sync::MutexGuard<'_, VecDeque<i16>> {
        b.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn config() -> cpal::StreamConfig {
        cpal::StreamConfig {
            channels: 1,
            sample_rate: cpal::SampleRate(SAMPLE_RATE),
            buffer_size: cpal::BufferSize::Default,
        }
    }

    /// Runs `build` on a thread that keeps the stream alive until `stop` is set.
    fn hold_stream(
        build: impl FnOnce() -> Result<cpal::Stream, DeviceError> + Send + 'static,
        stop: Arc<AtomicBool>,
    ) -> Result<(), DeviceError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("duet-audio-device".into())
            .spawn(move || {
                let stream = match build().and_then(|s| s.play().map(|_| s).map_err(|e| DeviceError(e.to_string()))) {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                drop(stream);
            })
            .map_err(|e| DeviceError(e.to_string()))?;
        ready_rx.recv().map_err(|_| DeviceError("the audio thread stopped".into()))?
    }

    /// The default microphone, 48 kHz mono.
    pub struct Microphone {
        buffer: Buffer,
        stop: Arc<AtomicBool>,
    }

    impl Microphone {
        pub fn open() -> Result<Self, DeviceError> {
            let buffer: Buffer = Arc::default();
            let stop = Arc::new(AtomicBool::new(false));
            let into = buffer.clone();
            hold_stream(
                move || {
                    let device = cpal::default_host()
                        .default_input_device()
                        .ok_or_else(|| DeviceError("no microphone".into()))?;
                    device
                        .build_input_stream(
                            &config(),
                            move |data: &[i16], _: &cpal::InputCallbackInfo| {
                                let mut b = lock(&into);
                                b.extend(data.iter().copied());
                                let excess = b.len().saturating_sub(MAX_BUFFERED);
                                b.drain(..excess);
                            },
                            |e| tracing::warn!("microphone: {e}"),
                            None,
                        )
                        .map_err(|e| DeviceError(e.to_string()))
                },
                stop.clone(),
            )?;
            Ok(Self { buffer, stop })
        }
    }

    impl AudioSource for Microphone {
        fn read(&mut self, out: &mut [i16]) {
            let mut b = lock(&self.buffer);
            for s in out.iter_mut() {
                *s = b.pop_front().unwrap_or(0);
            }
        }
    }

    impl Drop for Microphone {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::Relaxed);
        }
    }

    /// The default speaker, 48 kHz mono.
    pub struct Speaker {
        buffer: Buffer,
        stop: Arc<AtomicBool>,
    }

    impl Speaker {
        pub fn open() -> Result<Self, DeviceError> {
            let buffer: Buffer = Arc::default();
            let stop = Arc::new(AtomicBool::new(false));
            let from = buffer.clone();
            hold_stream(
                move || {
                    let device =
                        cpal::default_host().default_output_device().ok_or_else(|| DeviceError("no speaker".into()))?;
                    device
                        .build_output_stream(
                            &config(),
                            move |data: &mut [i16], _: &cpal::OutputCallbackInfo| {
                                let mut b = lock(&from);
                                for s in data.iter_mut() {
                                    *s = b.pop_front().unwrap_or(0);
                                }
                            },
                            |e| tracing::warn!("speaker: {e}"),
                            None,
                        )
                        .map_err(|e| DeviceError(e.to_string()))
                },
                stop.clone(),
            )?;
            Ok(Self { buffer, stop })
        }
    }

    impl AudioSink for Speaker {
        fn write(&mut self, samples: &[i16]) {
            let mut b = lock(&self.buffer);
            b.extend(samples.iter().copied());
            let excess = b.len().saturating_sub(MAX_BUFFERED);
            b.drain(..excess);
        }
    }

    impl Drop for Speaker {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(feature = "devices-camera")]
mod camera {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    use v4l::buffer::Type;
    use v4l::io::traits::CaptureStream;
    use v4l::video::Capture;

    use super::DeviceError;
    use crate::frame::VideoFrame;
    use crate::source::VideoSource;

    /// A V4L2 camera (`/dev/video<index>`) capturing YUYV, converted to I420.
    pub struct Camera {
        size: (u32, u32),
        latest: Arc<Mutex<Option<VideoFrame>>>,
        stop: Arc<AtomicBool>,
    }

    impl Camera {
        pub fn open(index: usize, width: u32, height: u32) -> Result<Self, DeviceError> {
            let err = |e: std::io::Error| DeviceError(format!("camera: {e}"));
            let device = v4l::Device::new(index).map_err(err)?;
            let mut format = device.format().map_err(err)?;
            format.width = width & !1;
            format.height = height & !1;
            format.fourcc = v4l::FourCC::new(b"YUYV");
            let format = device.set_format(&format).map_err(err)?;
            if format.fourcc != v4l::FourCC::new(b"YUYV") {
                return Err(DeviceError("the camera does not offer YUYV".into()));
            }
            let size = (format.width & !1, format.height & !1);
            VideoFrame::black(size.0, size.1).ok_or(DeviceError("an unusable camera size".into()))?;
            let latest = Arc::new(Mutex::new(None));
            let stop = Arc::new(AtomicBool::new(false));
            let (into, halt, stride) = (latest.clone(), stop.clone(), format.stride);
            std::thread::Builder::new()
                .name("duet-camera".into())
                .spawn(move || {
                    let Ok(mut stream) = v4l::io::mmap::Stream::with_buffers(&device, Type::VideoCapture, 4) else {
                        return;
                    };
                    while !halt.load(Ordering::Relaxed) {
                        let Ok((buf, _)) = stream.next() else { break };
                        if let Some(frame) = yuyv_to_i420(buf, size.0, size.1, stride as usize) {
                            *into.lock().unwrap_or_else(|e| e.into_inner()) = Some(frame);
                        }
                    }
                })
                .map_err(|e| DeviceError(e.to_string()))?;
            Ok(Self { size, latest, stop })
        }
    }

    /// YUYV (4:2:2 packed) to I420: chroma from even rows.
    fn yuyv_to_i420(buf: &[u8], w: u32, h: u32, stride: usize) -> Option<VideoFrame> {
        let mut f = VideoFrame::black(w, h)?;
        let (w, h) = (w as usize, h as usize);
        let stride = stride.max(w * 2);
        if buf.len() < stride * h {
            return None;
        }
        let (y, u, v) = f.planes_mut();
        for row in 0..h {
            let line = &buf[row * stride..row * stride + w * 2];
            for (i, px) in line.chunks_exact(4).enumerate() {
                y[row * w + 2 * i] = px[0];
                y[row * w + 2 * i + 1] = px[2];
                if row & 1 == 0 {
                    u[(row / 2) * (w / 2) + i] = px[1];
                    v[(row / 2) * (w / 2) + i] = px[3];
                }
            }
        }
        Some(f)
    }

    impl VideoSource for Camera {
        fn size(&self) -> (u32, u32) {
            self.size
        }

        fn next_frame(&mut self) -> Option<VideoFrame> {
            self.latest.lock().unwrap_or_else(|e| e.into_inner()).take()
        }
    }

    impl Drop for Camera {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::Relaxed);
        }
    }
}

//! Screen sharing on Wayland: the desktop portal's ScreenCast (`org.freedesktop.portal.
//! ScreenCast` over D-Bus, through ashpd) asks the person what to share in the desktop's own
//! dialog, then hands out a PipeWire stream of it, which a thread here reads (libpipewire,
//! through the `pipewire` crate) and converts to I420 like an X11 grab.
//!
//! - **Why the portal**: a Wayland compositor lets no client read the screen or other windows;
//!   the portal is the one door, on GNOME, KDE and the wlroots desktops alike, and the choice
//!   of screen or window is the desktop's dialog, not ours (Duet lists one entry for it).
//! - **Threads**: the portal's D-Bus conversation runs on a thread of its own with a small
//!   tokio runtime (it waits on the person's choice, which may take a while, and must not hold
//!   a caller's runtime); the session stays open there until sharing stops, then is closed. The
//!   PipeWire main loop runs on a second thread; its process callback keeps the newest frame.
//! - **Formats**: 8-bit RGB with a padding or alpha byte, in either order (what screen casts
//!   offer in shared memory), or plain 3-byte RGB; buffers are mapped by PipeWire
//!   (`MAP_BUFFERS`). No DMA-BUF: no modifiers are offered, so the compositor sends shared
//!   memory.
//! - **Ending**: the person may stop sharing from the desktop (a panel button): the stream
//!   stops, and [`super::screen::ScreenShare::ended`] says so in words.

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ashpd::desktop::screencast::{CursorMode, Screencast, SelectSourcesOptions, SourceType};
use ashpd::desktop::PersistMode;
use pipewire as pw;
use pw::spa;

use super::screen::{packed_to_i420, Feed, PixelOrder};
use super::DeviceError;
use crate::lock;

/// How long the first picture may take once the person has chosen.
const FIRST_FRAME_WITHIN: Duration = Duration::from_secs(10);
/// How long a portal step that does not wait on the person may take.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);
/// How long the person may take to choose in the desktop's dialog.
const CHOICE_WITHIN: Duration = Duration::from_secs(120);

/// A Wayland session, where the portal is the way to share.
pub fn is_wayland() -> bool {
    std::env::var_os("WAYLAND_DISPLAY").is_some()
}

/// What the portal gave: the PipeWire remote and the stream's node (the session itself stays
/// with the portal thread, which closes it when sharing stops).
struct Granted {
    remote: OwnedFd,
    node: u32,
}

fn portal_err(e: ashpd::Error) -> DeviceError {
    match e {
        ashpd::Error::Response(ashpd::desktop::ResponseError::Cancelled) => {
            DeviceError("Screen sharing was cancelled".into())
        }
        // No portal on the bus, or one without ScreenCast.
        ashpd::Error::PortalNotFound(_) | ashpd::Error::Zbus(_) | ashpd::Error::Portal(ashpd::PortalError::ZBus(_)) => {
            DeviceError(format!(
                "Screen sharing on Wayland needs the desktop's screen-sharing service \
             (xdg-desktop-portal with PipeWire), which did not answer ({e})"
            ))
        }
        e => DeviceError(format!("The desktop did not share the screen ({e})")),
    }
}

/// A portal step that does not wait on the person, within [`ANSWER_WITHIN`].
async fn answered<T>(step: impl std::future::Future<Output = Result<T, ashpd::Error>>) -> Result<T, DeviceError> {
    tokio::time::timeout(ANSWER_WITHIN, step)
        .await
        .map_err(|_| {
            DeviceError("The desktop's screen-sharing service (xdg-desktop-portal) did not answer in time".into())
        })?
        .map_err(portal_err)
}

/// Asks the portal for one screen or window; keeps the session open until `stop`.
async fn ask(granted: std::sync::mpsc::SyncSender<Result<Granted, DeviceError>>, stop: Arc<AtomicBool>) {
    let asked = async {
        let proxy = answered(Screencast::new()).await?;
        let session = answered(proxy.create_session(Default::default())).await?;
        let cursor = match answered(proxy.available_cursor_modes()).await {
            Ok(modes) if modes.contains(CursorMode::Embedded) => CursorMode::Embedded,
            _ => CursorMode::Hidden,
        };
        answered(
            proxy.select_sources(
                &session,
                SelectSourcesOptions::default()
                    .set_cursor_mode(cursor)
                    .set_sources(SourceType::Monitor | SourceType::Window)
                    .set_multiple(false)
                    .set_persist_mode(PersistMode::DoNot),
            ),
        )
        .await?;
        // The one step that waits on the person.
        let started = tokio::time::timeout(CHOICE_WITHIN, proxy.start(&session, None, Default::default()))
            .await
            .map_err(|_| DeviceError("Nothing was chosen to share".into()))?
            .map_err(portal_err)?;
        let streams = started.response().map_err(portal_err)?;
        let node = streams
            .streams()
            .first()
            .map(|s| s.pipe_wire_node_id())
            .ok_or_else(|| DeviceError("The desktop shared nothing".into()))?;
        let remote = answered(proxy.open_pipe_wire_remote(&session, Default::default())).await?;
        Ok::<_, DeviceError>((Granted { remote, node }, session))
    };
    match asked.await {
        Ok((g, session)) => {
            if granted.send(Ok(g)).is_err() {
                let _ = session.close().await;
                return;
            }
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let _ = session.close().await;
        }
        Err(e) => {
            let _ = granted.send(Err(e));
        }
    }
}

/// The video formats asked of the stream: packed 8-bit RGB, any size and rate.
fn format_params() -> Result<Vec<u8>, DeviceError> {
    use spa::param::format::{FormatProperties, MediaSubtype, MediaType};
    use spa::param::video::VideoFormat;
    let obj = spa::pod::object!(
        spa::utils::SpaTypes::ObjectParamFormat,
        spa::param::ParamType::EnumFormat,
        spa::pod::property!(FormatProperties::MediaType, Id, MediaType::Video),
        spa::pod::property!(FormatProperties::MediaSubtype, Id, MediaSubtype::Raw),
        spa::pod::property!(
            FormatProperties::VideoFormat,
            Choice,
            Enum,
            Id,
            VideoFormat::BGRx,
            VideoFormat::BGRx,
            VideoFormat::BGRA,
            VideoFormat::RGBx,
            VideoFormat::RGBA,
            VideoFormat::RGB,
        ),
        spa::pod::property!(
            FormatProperties::VideoSize,
            Choice,
            Range,
            Rectangle,
            spa::utils::Rectangle { width: 1280, height: 720 },
            spa::utils::Rectangle { width: 2, height: 2 },
            spa::utils::Rectangle { width: 8192, height: 8192 }
        ),
        spa::pod::property!(
            FormatProperties::VideoFramerate,
            Choice,
            Range,
            Fraction,
            spa::utils::Fraction { num: super::screen::SHARE_FPS, denom: 1 },
            spa::utils::Fraction { num: 0, denom: 1 },
            spa::utils::Fraction { num: 60, denom: 1 }
        ),
    );
    spa::pod::serialize::PodSerializer::serialize(std::io::Cursor::new(Vec::new()), &spa::pod::Value::Object(obj))
        .map(|(bytes, _)| bytes.into_inner())
        .map_err(|e| DeviceError(format!("Screen sharing could not start ({e:?})")))
}

/// The stream's negotiated format.
#[derive(Default)]
struct Negotiated {
    size: (u32, u32),
    order: Option<PixelOrder>,
}

fn pixel_order(format: spa::param::video::VideoFormat) -> Option<PixelOrder> {
    use spa::param::video::VideoFormat;
    match format {
        f if f == VideoFormat::BGRx || f == VideoFormat::BGRA => Some(PixelOrder::Bgrx),
        f if f == VideoFormat::RGBx || f == VideoFormat::RGBA => Some(PixelOrder::Rgbx),
        f if f == VideoFormat::RGB => Some(PixelOrder::Rgb),
        _ => None,
    }
}

/// Reads the stream `node` from `remote` until `feed.stop`; every frame replaces the newest.
fn read_stream(remote: OwnedFd, node: u32, feed: Feed) -> Result<(), String> {
    pw::init();
    let mainloop = pw::main_loop::MainLoop::new(None).map_err(|e| e.to_string())?;
    let context = pw::context::Context::new(&mainloop).map_err(|e| e.to_string())?;
    let core = context.connect_fd(remote, None).map_err(|e| e.to_string())?;
    let stream = pw::stream::Stream::new(
        &core,
        "duet-screen",
        pw::properties::properties! {
            *pw::keys::MEDIA_TYPE => "Video",
            *pw::keys::MEDIA_CATEGORY => "Capture",
            *pw::keys::MEDIA_ROLE => "Screen",
        },
    )
    .map_err(|e| e.to_string())?;
    let latest = feed.latest.clone();
    let ended_by_state = feed.ended.clone();
    let quit = mainloop.downgrade();
    let _listener = stream
        .add_local_listener_with_user_data(Negotiated::default())
        .state_changed(move |_, _, _, new| {
            let why = match new {
                pw::stream::StreamState::Error(e) => format!("Screen sharing stopped ({e})"),
                pw::stream::StreamState::Unconnected => "Screen sharing was stopped from the desktop".into(),
                _ => return,
            };
            lock(&ended_by_state).get_or_insert(why);
            if let Some(l) = quit.upgrade() {
                l.quit();
            }
        })
        .param_changed(|_, negotiated, id, param| {
            let Some(param) = param else { return };
            if id != spa::param::ParamType::Format.as_raw() {
                return;
            }
            let mut info = spa::param::video::VideoInfoRaw::default();
            if info.parse(param).is_ok() {
                negotiated.size = (info.size().width, info.size().height);
                negotiated.order = pixel_order(info.format());
            }
        })
        .process(move |stream, negotiated| {
            let Some(mut buffer) = stream.dequeue_buffer() else { return };
            let Some(order) = negotiated.order else { return };
            let (w, h) = negotiated.size;
            let Some(data) = buffer.datas_mut().first_mut() else { return };
            let chunk = data.chunk();
            let (offset, size) = (chunk.offset() as usize, chunk.size() as usize);
            let stride = usize::try_from(chunk.stride()).ok().filter(|s| *s > 0).unwrap_or(w as usize * order.bytes());
            let Some(bytes) = data.data() else { return };
            let Some(picture) = offset.checked_add(size).and_then(|end| bytes.get(offset..end)) else { return };
            if let Some(frame) = packed_to_i420(picture, w, h, stride, order) {
                *lock(&latest) = Some(frame);
            }
        })
        .register()
        .map_err(|e| e.to_string())?;
    let values = format_params().map_err(|e| e.0)?;
    let pod = spa::pod::Pod::from_bytes(&values).ok_or("the format could not be written")?;
    stream
        .connect(
            spa::utils::Direction::Input,
            Some(node),
            pw::stream::StreamFlags::AUTOCONNECT | pw::stream::StreamFlags::MAP_BUFFERS,
            &mut [pod],
        )
        .map_err(|e| e.to_string())?;
    let stop = feed.stop.clone();
    let weak = mainloop.downgrade();
    let timer = mainloop.loop_().add_timer(move |_| {
        if stop.load(Ordering::Relaxed) {
            if let Some(l) = weak.upgrade() {
                l.quit();
            }
        }
    });
    let every = Some(Duration::from_millis(100));
    let _ = timer.update_timer(every, every);
    mainloop.run();
    Ok(())
}

/// Asks the desktop for a screen or window and starts reading it into `feed`; returns once
/// the first picture came (its size is the call's), or in words why there is none.
pub(super) fn open(feed: &Feed) -> Result<(u32, u32), DeviceError> {
    let (granted_tx, granted_rx) = std::sync::mpsc::sync_channel(1);
    let stop = feed.stop.clone();
    std::thread::Builder::new()
        .name("duet-portal".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                let _ = granted_tx.send(Err(DeviceError("Screen sharing could not start".into())));
                return;
            };
            rt.block_on(ask(granted_tx, stop));
        })
        .map_err(|e| DeviceError(format!("Screen sharing could not start ({e})")))?;
    let Granted { remote, node } = granted_rx
        .recv()
        .map_err(|_| DeviceError("The desktop's screen-sharing service stopped answering".into()))??;

    let reader = feed.clone();
    std::thread::Builder::new()
        .name("duet-screen".into())
        .spawn(move || {
            if let Err(e) = read_stream(remote, node, reader.clone()) {
                lock(&reader.ended).get_or_insert(format!("Screen sharing stopped ({e})"));
            }
        })
        .map_err(|e| DeviceError(format!("Screen sharing could not start ({e})")))?;
    let deadline = Instant::now() + FIRST_FRAME_WITHIN;
    loop {
        if let Some(frame) = lock(&feed.latest).as_ref() {
            return Ok((frame.width, frame.height));
        }
        if let Some(why) = lock(&feed.ended).clone() {
            feed.stop.store(true, Ordering::Relaxed);
            return Err(DeviceError(why));
        }
        if Instant::now() > deadline {
            feed.stop.store(true, Ordering::Relaxed);
            return Err(DeviceError("The shared screen sent no picture".into()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

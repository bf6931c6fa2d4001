//! The desktop around the window: a tray icon showing the unread count (with "Open Duet" and
//! "Quit" in its menu), and desktop notifications.
//!
//! Both are best effort. A desktop without a tray host or a notification service (a bare X
//! server, as in the end-to-end test) still runs Duet: failures are logged, never shown as
//! errors, because nothing the person did caused them.
//!
//! Notifications go to the freedesktop notification service (`org.freedesktop.Notifications`)
//! over the session D-Bus through GIO, which Tauri's GTK webview links anyway; that spares the
//! notification plugin and its second D-Bus stack.

use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager};

const TRAY_ID: &str = "duet";
const WINDOW_TITLE: &str = "Duet";

/// Puts Duet's icon in the tray.
pub fn create_tray(app: &AppHandle) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Open Duet", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Duet", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &quit])?;
    let mut tray = TrayIconBuilder::with_id(TRAY_ID).tooltip(WINDOW_TITLE).menu(&menu).on_menu_event(|app, event| {
        match event.id().as_ref() {
            "open" => show_window(app),
            "quit" => app.exit(0),
            _ => {}
        }
    });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

fn show_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Shows the unread count on the tray icon (tooltip and label) and in the window title.
pub fn show_unread(app: &AppHandle, count: u32) {
    let (title, label) = match count {
        0 => (WINDOW_TITLE.to_owned(), None),
        n => (format!("{WINDOW_TITLE} ({n})"), Some(n.to_string())),
    };
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let tooltip = match count {
            0 => WINDOW_TITLE.to_owned(),
            1 => format!("{WINDOW_TITLE}: 1 unread message"),
            n => format!("{WINDOW_TITLE}: {n} unread messages"),
        };
        let _ = tray.set_tooltip(Some(tooltip));
        let _ = tray.set_title(label);
    }
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.set_title(&title);
    }
}

/// Shows a desktop notification, or logs why it could not.
pub async fn notify(title: String, body: String) {
    let shown = tauri::async_runtime::spawn_blocking(move || send_notification(&title, &body)).await;
    match shown {
        Ok(Ok(())) => {}
        Ok(Err(error)) => eprintln!("duet-app: no desktop notification: {error}"),
        Err(error) => eprintln!("duet-app: no desktop notification: {error}"),
    }
}

#[cfg(target_os = "linux")]
fn send_notification(title: &str, body: &str) -> Result<(), String> {
    use std::collections::HashMap;

    use gio::glib::{ToVariant, Variant};

    let bus = gio::bus_get_sync(gio::BusType::Session, gio::Cancellable::NONE).map_err(|e| e.to_string())?;
    // Notify(app_name, replaces_id, app_icon, summary, body, actions, hints, expire_timeout)
    let args = (
        WINDOW_TITLE,
        0u32,
        "app.duet.desktop",
        title,
        body,
        Vec::<String>::new(),
        HashMap::<String, Variant>::new(),
        -1i32,
    )
        .to_variant();
    bus.call_sync(
        Some("org.freedesktop.Notifications"),
        "/org/freedesktop/Notifications",
        "org.freedesktop.Notifications",
        "Notify",
        Some(&args),
        None,
        gio::DBusCallFlags::NONE,
        5_000,
        gio::Cancellable::NONE,
    )
    .map(drop)
    .map_err(|e| e.to_string())
}

#[cfg(not(target_os = "linux"))]
fn send_notification(_title: &str, _body: &str) -> Result<(), String> {
    Err("desktop notifications are only wired on Linux so far".into())
}

/// Opens a link from a message in the person's own browser: `http` and `https` only, handed to
/// `xdg-open` (the desktop's choice of browser). Anything else (a `file:`, `javascript:` or
/// Duet's own address) is refused. The window itself never navigates away from Duet.
pub fn open_in_browser(url: &tauri::Url) {
    if !matches!(url.scheme(), "http" | "https") {
        eprintln!("duet-app: not opening a {} link", url.scheme());
        return;
    }
    let opened = std::process::Command::new("xdg-open")
        .arg(url.as_str())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match opened {
        // Reaped on its own thread: xdg-open returns once the browser has the link.
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
        }
        Err(error) => eprintln!("duet-app: the link could not be opened ({error}); is xdg-utils installed?"),
    }
}

/// Where a file the person asked for is saved: their Downloads folder (as the desktop names
/// it in `~/.config/user-dirs.dirs`, `XDG_DOWNLOAD_DIR`), else `~/Downloads` when it exists,
/// else their home.
pub fn downloads_dir() -> std::path::PathBuf {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from).unwrap_or_else(|| "/tmp".into());
    let config =
        std::env::var_os("XDG_CONFIG_HOME").map(std::path::PathBuf::from).unwrap_or_else(|| home.join(".config"));
    let named = std::fs::read_to_string(config.join("user-dirs.dirs")).ok().and_then(|dirs| {
        dirs.lines().find_map(|l| l.strip_prefix("XDG_DOWNLOAD_DIR=")).map(|v| {
            let v = v.trim().trim_matches('"');
            match v.strip_prefix("$HOME") {
                Some(rest) => home.join(rest.trim_start_matches('/')),
                None => std::path::PathBuf::from(v),
            }
        })
    });
    named.into_iter().chain([home.join("Downloads")]).find(|d| d.is_dir()).unwrap_or(home)
}

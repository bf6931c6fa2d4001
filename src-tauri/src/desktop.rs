//! The desktop around the window: a tray icon showing the unread count (with "Open Duet" and
//! "Quit" in its menu), and desktop notifications.
//!
//! Their words are the window's: the UI sends them in its language ([`Words`], through
//! `set_desktop_words`) when it starts and when the language changes; until then, English.
//!
//! Both are best effort. A desktop without a tray host or a notification service (a bare X
//! server, as in the end-to-end test) still runs Duet: failures are logged, never shown as
//! errors, because nothing the person did caused them.
//!
//! Notifications go to the freedesktop notification service (`org.freedesktop.Notifications`)
//! over the session D-Bus through GIO, which Tauri's GTK webview links anyway; that spares the
//! notification plugin and its second D-Bus stack.

use std::sync::Mutex;

use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};

const TRAY_ID: &str = "duet";
const WINDOW_TITLE: &str = "Duet";

/// The most characters one of the desktop's words may have.
const MAX_WORDS_CHARS: usize = 120;

/// What the desktop around the window says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    /// The tray menu's "Open Duet".
    pub open: String,
    /// The tray menu's "Quit Duet".
    pub quit: String,
    /// A notification's text while the app is locked (nothing of the message).
    pub locked_message: String,
}

impl Default for Words {
    fn default() -> Self {
        Self { open: "Open Duet".into(), quit: "Quit Duet".into(), locked_message: "New message".into() }
    }
}

impl Words {
    /// The words the window sent, if each is a short single line.
    pub fn checked(open: String, quit: String, locked_message: String) -> Result<Self, String> {
        for (what, text) in [("open", &open), ("quit", &quit), ("locked_message", &locked_message)] {
            check_line(what, text)?;
        }
        Ok(Self { open, quit, locked_message })
    }
}

/// A short single line of text for the desktop: not blank, no control characters, bounded.
pub fn check_line(what: &str, text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err(format!("the desktop's {what} text is empty"));
    }
    if text.chars().count() > MAX_WORDS_CHARS {
        return Err(format!("the desktop's {what} text is longer than {MAX_WORDS_CHARS} characters"));
    }
    if text.chars().any(char::is_control) {
        return Err(format!("the desktop's {what} text has a control character in it"));
    }
    Ok(())
}

/// The words in use, kept by the app (`app.manage`).
#[derive(Debug, Default)]
pub struct DesktopWords(Mutex<Words>);

impl DesktopWords {
    pub fn get(&self) -> Words {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    fn set(&self, words: Words) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = words;
    }
}

fn tray_menu(app: &AppHandle, words: &Words) -> tauri::Result<Menu<Wry>> {
    let open = MenuItem::with_id(app, "open", &words.open, true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", &words.quit, true, None::<&str>)?;
    Menu::with_items(app, &[&open, &quit])
}

/// Uses the window's words from now on: the tray menu at once, notifications from the next.
pub fn use_words(app: &AppHandle, words: Words) -> tauri::Result<()> {
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        tray.set_menu(Some(tray_menu(app, &words)?))?;
    }
    app.state::<DesktopWords>().set(words);
    Ok(())
}

/// Puts Duet's icon in the tray.
pub fn create_tray(app: &AppHandle) -> tauri::Result<()> {
    let menu = tray_menu(app, &app.state::<DesktopWords>().get())?;
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

/// Shows the unread count on the tray icon (tooltip and label) and in the window title; the
/// tooltip in the window's words when it gives them ("Duet : 3 messages non lus").
pub fn show_unread(app: &AppHandle, count: u32, tooltip: Option<String>) {
    let (title, label) = match count {
        0 => (WINDOW_TITLE.to_owned(), None),
        n => (format!("{WINDOW_TITLE} ({n})"), Some(n.to_string())),
    };
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let tooltip = tooltip.unwrap_or_else(|| match count {
            0 => WINDOW_TITLE.to_owned(),
            1 => format!("{WINDOW_TITLE}: 1 unread message"),
            n => format!("{WINDOW_TITLE}: {n} unread messages"),
        });
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
    let opened = crate::webview::for_other_programs(&mut std::process::Command::new("xdg-open"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_windows_words_are_taken_when_each_is_a_short_line() {
        let words = Words::checked("Ouvrir Duet".into(), "Quitter Duet".into(), "Nouveau message".into()).unwrap();
        assert_eq!(words.quit, "Quitter Duet");
        for (open, why) in [
            ("  ".to_owned(), "empty"),
            ("x".repeat(MAX_WORDS_CHARS + 1), "longer than 120"),
            ("Open\nDuet".to_owned(), "control character"),
        ] {
            let err = Words::checked(open, "Quit".into(), "New".into()).unwrap_err();
            assert!(err.contains("open") && err.contains(why), "{err}");
        }
        assert!(Words::checked("Open".into(), "Quit".into(), "é".repeat(MAX_WORDS_CHARS)).is_ok());
    }
}

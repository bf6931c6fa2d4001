//! The Duet desktop app: a thin Tauri 2 shell over `duet-node`.
//!
//! At start it picks the data directory (`$DUET_DATA_DIR` if set, else the per-user app data
//! directory, `~/.local/share/app.duet.desktop` on Linux), opens the window with the Svelte UI
//! from `ui/`, and starts the node in the background if a profile exists (`state.rs`). The UI
//! asks for things through commands (`commands.rs`; calls in `calls.rs`, attachments in
//! `attachments.rs`, the device settings in `devices.rs`), each one call into the node; calls
//! and voice notes open the chosen devices in `media.rs`; the node's
//! events reach it as Tauri events (`events.rs`); failures as `{code, message}` (`error.rs`).
//! The tray icon and notifications are in `desktop.rs`, the app lock in `lock.rs`, WebKit's settings in `webview.rs`. No
//! business logic lives here.
//!
//! The window is built here rather than by Tauri from `tauri.conf.json` (`"create": false`)
//! so that the webview's own storage also lives under the data directory (`webview/`): two
//! instances with different `DUET_DATA_DIR`s, as tests run them, share nothing.

mod attachments;
mod backup;
mod bindings;
mod calls;
mod commands;
mod desktop;
mod devices;
mod error;
mod events;
mod lock;
mod media;
mod state;
mod transport;
mod webview;
mod zone;

use anyhow::Context;
use tauri::webview::PageLoadEvent;
use tauri::{Manager, RunEvent, WebviewWindowBuilder};

use crate::state::AppState;

fn main() -> anyhow::Result<()> {
    duet_node::logging::init();
    // Without a display GTK cannot start and Tauri panics with a backtrace; say it in words.
    #[cfg(target_os = "linux")]
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        anyhow::bail!(
            "Duet is a desktop app and needs a desktop session: no display was found (neither DISPLAY nor WAYLAND_DISPLAY is set). \
             To use Duet without a screen, run the `duet` command instead."
        );
    }
    webview::before_start();
    let app = tauri::Builder::default()
        .setup(|app| {
            let data_dir = state::data_dir(app.handle());
            let webview_dir = data_dir.as_ref().ok().map(|dir| dir.join("webview"));
            if let Ok(dir) = &data_dir {
                eprintln!("duet-app: data in {}", dir.display());
            }
            app.manage(lock::AppLock::open(data_dir.as_deref().ok()));
            app.manage(AppState::new(data_dir));
            app.manage(desktop::DesktopWords::default());
            app.manage(attachments::VoiceRecorder::default());
            app.manage(devices::MicrophoneMeter::default());
            app.state::<AppState>().launch(app.handle());

            let config = app.config().app.windows.first().context("tauri.conf.json declares no window")?;
            // A link in a message (`target="_blank"`) opens in the person's browser; the window
            // never leaves Duet's own page.
            let zone = zone::script();
            let mut window = WebviewWindowBuilder::from_config(app, config)?
                .on_new_window(|url, _| {
                    desktop::open_in_browser(&url);
                    tauri::webview::NewWindowResponse::Deny
                })
                // The local time zone, before the page's script runs (zone.rs says why).
                .initialization_script(&zone);
            if let Some(dir) = webview_dir {
                window = window.data_directory(dir);
            }
            window.build()?;
            zone::watch(app.handle().clone(), zone);

            if let Err(error) = desktop::create_tray(app.handle()) {
                eprintln!("duet-app: no tray icon: {error}");
            }
            Ok(())
        })
        .on_page_load(|webview, payload| {
            // A page that (re)loads has no meter or recording of its own any more: whatever the
            // last page left running would hold the microphone open with nobody looking.
            if payload.event() == PageLoadEvent::Started {
                let app = webview.app_handle();
                app.state::<devices::MicrophoneMeter>().stop();
                app.state::<attachments::VoiceRecorder>().discard();
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_state,
            commands::create_profile,
            commands::unlock_data,
            commands::choose_data_passphrase,
            commands::data_protection,
            commands::change_data_protection,
            commands::set_profile,
            commands::invite,
            commands::join,
            commands::peers,
            commands::link_device,
            commands::verification,
            commands::devices,
            commands::remove_device,
            commands::mark_verified,
            commands::set_mood,
            commands::nudge,
            commands::pin_message,
            commands::pinned_messages,
            commands::memories,
            commands::memories_in,
            commands::search,
            commands::export_story,
            backup::backup,
            backup::find_backups,
            backup::restore_backup,
            commands::dates,
            commands::set_together_since,
            commands::save_date,
            commands::lists,
            commands::create_list,
            commands::rename_list,
            commands::delete_list,
            commands::add_list_item,
            commands::set_list_item,
            commands::move_list_item,
            commands::remove_list_item,
            commands::remove_date,
            commands::relays,
            commands::set_relays,
            commands::mailbox,
            commands::add_mailbox,
            commands::remove_mailbox,
            commands::conversations,
            commands::channels,
            commands::create_channel,
            commands::rename_channel,
            commands::set_conversation,
            commands::messages,
            commands::send,
            commands::edit,
            commands::delete,
            commands::react,
            commands::unreact,
            commands::mark_read,
            commands::mark_all_read,
            commands::typing,
            commands::presence,
            commands::set_status,
            commands::touch,
            commands::set_unread_badge,
            commands::set_desktop_words,
            commands::notify,
            lock::app_lock,
            lock::set_app_lock,
            lock::lock_app,
            lock::unlock_app,
            devices::media_devices,
            devices::set_media_devices,
            devices::start_microphone_meter,
            devices::stop_microphone_meter,
            devices::play_test_sound,
            calls::start_call,
            calls::answer_call,
            calls::decline_call,
            calls::hang_up,
            calls::current_call,
            calls::set_call_muted,
            calls::set_call_camera,
            calls::call_history,
            calls::call_quality,
            calls::share_targets,
            calls::share_screen,
            calls::switch_call_devices,
            attachments::send_file,
            attachments::send_file_bytes,
            attachments::start_voice_note,
            attachments::stop_voice_note,
            attachments::read_blob,
            attachments::blob_status,
            attachments::fetch_attachment,
            attachments::save_attachment,
        ])
        .build(tauri::generate_context!("../tauri.conf.json"))
        .context("the Duet window could not be started")?;

    app.run(|app, event| {
        if let RunEvent::Exit = event {
            // Flush the store and say goodbye to the network before the process ends.
            tauri::async_runtime::block_on(app.state::<AppState>().shutdown());
        }
    });
    Ok(())
}

//! The Duet desktop app: a thin Tauri 2 shell.
//!
//! At start it picks the data directory (`$DUET_DATA_DIR` if set, else the per-user app data
//! directory, `~/.local/share/app.duet.desktop` on Linux), opens the local store there, and
//! opens the window with the Svelte UI from `ui/`. The UI asks for things through commands
//! (`commands.rs`), each a one-line call into the Duet crates; results reach it in the shapes
//! of `transport.rs`, failures as `{code, message}` (`error.rs`). No business logic lives here.
//!
//! A store that cannot be opened does not stop the window from opening: the UI shows why, in
//! plain words, where the profile would be.
//!
//! The window is built here rather than by Tauri from `tauri.conf.json` (`"create": false`)
//! so that the webview's own storage also lives under the data directory (`webview/`): two
//! instances with different `DUET_DATA_DIR`s, as tests run them, share nothing.

mod commands;
mod error;
mod state;
mod transport;

use anyhow::Context;
use tauri::{Manager, WebviewWindowBuilder};

use crate::state::AppState;

fn main() -> anyhow::Result<()> {
    tauri::Builder::default()
        .setup(|app| {
            let data_dir = state::data_dir(app.handle());
            let webview_dir = data_dir.as_ref().ok().map(|dir| dir.join("webview"));
            app.manage(AppState::open(data_dir));

            let config = app.config().app.windows.first().context("tauri.conf.json declares no window")?;
            let mut window = WebviewWindowBuilder::from_config(app, config)?;
            if let Some(dir) = webview_dir {
                window = window.data_directory(dir);
            }
            window.build()?;
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![commands::local_profile])
        .run(tauri::generate_context!("../tauri.conf.json"))
        .context("the Duet window could not be started")
}

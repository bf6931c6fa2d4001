//! What the commands share: the local store, opened once at start, or the reason it could not
//! be opened (kept so every command can tell the UI, instead of the app refusing to start).

use std::path::{Path, PathBuf};

use anyhow::Context;
use duet_store::Store;
use tauri::{AppHandle, Manager};

use crate::error::AppError;

/// Overrides where Duet keeps its data (tests, several instances on one machine).
pub const DATA_DIR_ENV: &str = "DUET_DATA_DIR";

/// Where this instance keeps its data: `$DUET_DATA_DIR`, else the per-user app data directory.
pub fn data_dir(app: &AppHandle) -> anyhow::Result<PathBuf> {
    match std::env::var_os(DATA_DIR_ENV).filter(|dir| !dir.is_empty()) {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => app.path().app_data_dir().context("this user has no data directory (is HOME set?)"),
    }
}

/// The state managed by Tauri and handed to commands.
pub struct AppState {
    store: Result<Store, AppError>,
}

impl AppState {
    /// Opens the store in `data_dir`. Never fails: a failure is kept for the UI.
    pub fn open(data_dir: anyhow::Result<PathBuf>) -> Self {
        let store = data_dir.and_then(|dir| open_store(&dir)).map_err(|cause| {
            eprintln!("duet-app: {cause:#}");
            AppError::store_unavailable(&cause)
        });
        Self { store }
    }

    /// The store, or why there is none.
    pub fn store(&self) -> Result<&Store, AppError> {
        self.store.as_ref().map_err(Clone::clone)
    }
}

fn open_store(dir: &Path) -> anyhow::Result<Store> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let store = Store::open(dir).with_context(|| format!("cannot open the store in {}", dir.display()))?;
    eprintln!("duet-app: data in {}", dir.display());
    Ok(store)
}

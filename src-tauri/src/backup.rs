//! Backups from the window: Settings → Backup writes one (`backup`), and a new install's first
//! screen brings one back (`find_backups`, `restore_backup`). The file and what a restored
//! device does first are described in `duet-node`'s `backup.rs`.
//!
//! There is no file dialog (the shell links no dialog plugin): a backup goes to the Downloads
//! folder as `duet-backup-YYYY-MM-DD.duetbackup`, and the first screen lists the backups it
//! finds in Downloads, the home folder and the desktop (newest first), with a field for a
//! path elsewhere (a USB stick).

use std::path::{Path, PathBuf};

use duet_node::BackupReport;
use serde::Serialize;
use tauri::{AppHandle, State};

use crate::error::AppError;
use crate::state::AppState;
use crate::transport::AppSnapshot;

/// What a backup file is called when the window writes it.
pub const EXTENSION: &str = "duetbackup";

/// How many backups the first screen lists at most.
const MAX_FOUND: usize = 20;

/// A backup file found on this computer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FoundBackup {
    pub path: String,
    pub bytes: u64,
    /// When it was last written, in ms since 1970.
    pub modified: u64,
}

/// Writes a backup of everything this device keeps to `path`, or to the Downloads folder as
/// `duet-backup-YYYY-MM-DD.duetbackup`, sealed with `passphrase` (`invalid_input` when it is
/// too short). Answers where and what it wrote.
#[tauri::command]
pub async fn backup(
    state: State<'_, AppState>,
    path: Option<String>,
    passphrase: String,
) -> Result<BackupReport, AppError> {
    let path = match path.filter(|p| !p.trim().is_empty()) {
        Some(p) => PathBuf::from(p),
        None => crate::desktop::downloads_dir()
            .join(format!("duet-backup-{}.{EXTENSION}", chrono::Local::now().format("%Y-%m-%d"))),
    };
    Ok(state.node().await?.backup(&path, passphrase).await?)
}

/// The backups in Downloads, the home folder and the desktop, newest first.
#[tauri::command]
pub async fn find_backups() -> Result<Vec<FoundBackup>, AppError> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut places = vec![crate::desktop::downloads_dir()];
    places.extend(home.iter().flat_map(|h| [h.clone(), h.join("Desktop")]));
    places.dedup();
    Ok(found_in(&places))
}

fn found_in(places: &[PathBuf]) -> Vec<FoundBackup> {
    let mut found: Vec<FoundBackup> = places
        .iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flat_map(|entries| entries.filter_map(|e| e.ok()))
        .filter(|e| e.path().extension().is_some_and(|x| x == EXTENSION))
        .filter_map(|e| {
            let meta = e.metadata().ok().filter(|m| m.is_file())?;
            let modified = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as u64;
            Some(FoundBackup { path: e.path().to_string_lossy().into_owned(), bytes: meta.len(), modified })
        })
        .collect();
    found.sort_by(|a, b| b.modified.cmp(&a.modified).then_with(|| a.path.cmp(&b.path)));
    found.dedup_by(|a, b| a.path == b.path);
    found.truncate(MAX_FOUND);
    found
}

/// Restores the backup at `path` (sealed with `passphrase`) on this new install and starts
/// Duet with it. `wrong_passphrase`, `invalid_input` (not a backup, damaged),
/// `unreadable_file` or `keyring_unavailable` (choose a data passphrase, then again) change
/// nothing.
#[tauri::command]
pub async fn restore_backup(
    app: AppHandle,
    state: State<'_, AppState>,
    path: String,
    passphrase: String,
) -> Result<AppSnapshot, AppError> {
    let node = state.restore(&app, Path::new(path.trim()), passphrase).await?;
    Ok(AppSnapshot::of(&node)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backups_are_found_newest_first_and_nothing_else() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let older = dir.path().join("duet-backup-2026-01-01.duetbackup");
        let newer = dir.path().join("duet-backup-2026-02-01.duetbackup");
        std::fs::write(&older, b"1").expect("write");
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&newer, b"22").expect("write");
        std::fs::write(dir.path().join("notes.txt"), b"x").expect("write");
        std::fs::create_dir(dir.path().join("folder.duetbackup")).expect("mkdir");
        let found = found_in(&[dir.path().to_path_buf(), dir.path().join("missing")]);
        let paths: Vec<&str> = found.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, [newer.to_str().expect("utf-8"), older.to_str().expect("utf-8")]);
        assert_eq!(found[0].bytes, 2);
    }
}

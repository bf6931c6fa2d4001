//! Backups: everything this device keeps, sealed with a passphrase in one file
//! ([`Node::backup`]), and restored into a fresh data folder ([`restore_backup`]). The file
//! and what it holds are described in `duet-store`'s `backup.rs`.
//!
//! **Writes wait after a restore.** A restored device is the device that made the backup: the
//! same keys, its log as it was then. If it wrote after the backup, its partner holds those
//! events, and a new event written now would take the number of one already sent: every
//! device would refuse it as a second version of its history (a fork). So until a member
//! device (or the couple's mailbox) has said what it holds of this device's log, and this
//! device holds as much, [`Node::write`] refuses with words; the peer sends what is missing
//! in the same sync, and writing resumes by itself. The mark is kept in the store, so a restart
//! before that keeps waiting.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use duet_log::VersionVector;
use duet_store::vault::Unlock;
use serde::Serialize;

use crate::{lock, Node, NodeError};

/// What a backup wrote, or a restore brought back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BackupReport {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub path: PathBuf,
    /// Values of the store: events, what is folded from them, keys, settings.
    pub values: u64,
    /// Attachment files.
    pub files: u64,
    /// The size of the backup file.
    pub bytes: u64,
}

/// A restored device waiting to see its own log whole (see the module notes).
#[derive(Debug, Default)]
pub(crate) struct CatchUp {
    /// Set while waiting.
    waiting: Mutex<Option<Seen>>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    /// Whether any member device or the mailbox has told what it holds.
    told: bool,
    /// The most of this device's log any of them holds.
    held: u64,
}

impl CatchUp {
    pub(crate) fn new(restored: bool) -> Self {
        Self { waiting: Mutex::new(restored.then(Seen::default)) }
    }
}

/// The words a write gets while a restored device catches up.
const WAITING: &str = "Duet was restored from a backup and is catching up with your partner's devices before \
     it sends anything, so nothing you wrote after the backup is overwritten. Stay online; \
     this takes a moment once a device of yours or your partner's (or your mailbox) is reachable.";

impl Node {
    /// Writes a backup of everything this device keeps (messages, reactions, lists, photos,
    /// keys and settings) to `path`, sealed with `passphrase`, whole or not at all
    /// (`duet_store::write_whole`).
    pub async fn backup(&self, path: &Path, passphrase: String) -> Result<BackupReport, NodeError> {
        let node = self.clone();
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || node.write_backup(&path, &passphrase))
            .await
            .map_err(|_| NodeError::Stopped)?
    }

    fn write_backup(&self, path: &Path, passphrase: &str) -> Result<BackupReport, NodeError> {
        duet_store::write_whole(path, |file| {
            // `write_backup` flushes what it wrote before it returns.
            let out = std::io::BufWriter::with_capacity(1 << 20, file);
            let (counts, bytes) = self.shared.store.write_backup(&self.shared.config.data_dir, out, passphrase)?;
            Ok(BackupReport { path: path.to_path_buf(), values: counts.values, files: counts.files, bytes })
        })
    }

    /// Refuses a write while a restored device catches up (see the module notes).
    pub(crate) fn check_caught_up(&self) -> Result<(), NodeError> {
        let mut waiting = lock(&self.shared.catch_up.waiting);
        let Some(seen) = *waiting else { return Ok(()) };
        let mine = self.shared.store.version_vector()?.get(&self.device_id());
        if !seen.told || mine < seen.held {
            return Err(NodeError::NotAllowed(WAITING.into()));
        }
        self.shared.store.clear_restored()?;
        *waiting = None;
        drop(waiting);
        tracing::info!(seq = mine, "restored from a backup: this device holds its whole log again");
        self.emit(crate::NodeEvent::CaughtUp);
        Ok(())
    }

    /// A member device or the mailbox holds `held`: how much of my log it has.
    pub(crate) fn catch_up_on(&self, held: &VersionVector) {
        let mut waiting = lock(&self.shared.catch_up.waiting);
        if let Some(seen) = waiting.as_mut() {
            seen.told = true;
            seen.held = seen.held.max(held.get(&self.device_id()));
        }
        drop(waiting);
        let _ = self.check_caught_up();
    }

    /// Whether this device was restored and still waits to see its own log whole.
    pub fn catching_up(&self) -> bool {
        lock(&self.shared.catch_up.waiting).is_some()
    }
}

/// Restores the backup in `file` (sealed with `passphrase`) into `data_dir`, which must hold no
/// Duet data yet; the restored data's key is kept as `unlock` says. Nothing in `data_dir`
/// changes unless the whole backup is restored.
pub fn restore_backup(
    file: &Path,
    passphrase: &str,
    data_dir: &Path,
    unlock: &Unlock,
) -> Result<BackupReport, NodeError> {
    let unreadable = |e: std::io::Error| {
        NodeError::Backup(duet_store::BackupError::Io { path: file.to_path_buf(), reason: e.to_string() })
    };
    let bytes = std::fs::metadata(file).map_err(unreadable)?.len();
    let input = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(file).map_err(unreadable)?);
    let counts = duet_store::restore_backup(input, passphrase, data_dir, unlock)?;
    Ok(BackupReport { path: data_dir.to_path_buf(), values: counts.values, files: counts.files, bytes })
}

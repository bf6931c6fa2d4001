//! App lock: a passphrase that covers the window, on demand (Ctrl+L) and after a chosen idle
//! time, with notifications that show nothing of a message while it is locked.
//!
//! It guards against someone at the computer while it is unlocked and unattended (the laptop
//! left open on the sofa), not against someone who copies the data directory: the store is not
//! encrypted with this passphrase (docs/threat-model.md says so).
//!
//! - The passphrase is kept as an argon2id hash (PHC string: m = 19 MiB, t = 2, p = 1, the
//!   OWASP minimum) in `app-lock.json` in the data directory, written
//!   whole to a temporary file (mode 0600) and renamed over the old one, so a crash leaves the
//!   old setting or the new one.
//! - Duet starts locked when a passphrase is set. Changing or removing it asks for the current
//!   one. A wrong passphrase is answered after a second, so it cannot be guessed quickly.
//! - While locked, [`AppLock::notification`] replaces a notification's words with "Duet" /
//!   "New message", whatever the window asked for: the shell enforces it, not the page.
//! - A file that does not read back (damaged, hand-edited) locks the app with no passphrase
//!   that works rather than opening it: the person is told to delete the file, which only
//!   removes the lock (nothing else lives in it).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, ErrorCode};

/// The file in the data directory.
pub const LOCK_FILE: &str = "app-lock.json";
/// Shortest passphrase accepted (a PIN of four digits).
pub const MIN_PASSPHRASE: usize = 4;
/// Longest passphrase accepted, in bytes.
pub const MAX_PASSPHRASE: usize = 1024;
/// Longest idle time that can be chosen (a day), in minutes; 0 locks only on demand.
pub const MAX_IDLE_MINUTES: u32 = 24 * 60;
/// How long a wrong passphrase waits before it is answered.
const WRONG_DELAY: Duration = Duration::from_secs(1);

/// What the window knows of the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LockStatus {
    /// A passphrase is set.
    pub enabled: bool,
    /// The window locks after this many minutes without a key or mouse move; 0: only on
    /// demand.
    pub idle_minutes: u32,
    /// Locked now.
    pub locked: bool,
    /// Why the lock cannot be opened, when its file does not read back.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    /// The passphrase's argon2id hash (PHC string).
    passphrase: String,
    idle_minutes: u32,
}

#[derive(Debug)]
struct State {
    stored: Option<Stored>,
    locked: bool,
    problem: Option<String>,
}

/// The lock of this app, kept in its data directory.
#[derive(Debug)]
pub struct AppLock {
    file: Option<PathBuf>,
    state: Mutex<State>,
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("fixed argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn not_allowed(words: &str) -> AppError {
    AppError::new(ErrorCode::NotAllowed, words)
}

impl AppLock {
    /// Reads the lock from `data_dir` (none there: unlocked, no passphrase). Starts locked when
    /// a passphrase is set.
    pub fn open(data_dir: Option<&Path>) -> Self {
        let file = data_dir.map(|dir| dir.join(LOCK_FILE));
        let mut state = State { stored: None, locked: false, problem: None };
        if let Some(file) = &file {
            match std::fs::read(file) {
                Ok(bytes) => match serde_json::from_slice::<Stored>(&bytes) {
                    Ok(stored) if PasswordHash::new(&stored.passphrase).is_ok() => {
                        state.stored = Some(stored);
                        state.locked = true;
                    }
                    _ => {
                        state.locked = true;
                        state.problem = Some(format!(
                            "The app lock's settings could not be read ({}). Quit Duet and delete that file to remove the \
                             lock: your messages are not in it.",
                            file.display()
                        ));
                    }
                },
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    state.locked = true;
                    state.problem =
                        Some(format!("The app lock's settings could not be read ({}: {e}).", file.display()));
                }
            }
        }
        Self { file, state: Mutex::new(state) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn status(&self) -> LockStatus {
        let state = self.state();
        LockStatus {
            enabled: state.stored.is_some(),
            idle_minutes: state.stored.as_ref().map_or(0, |s| s.idle_minutes),
            locked: state.locked,
            problem: state.problem.clone(),
        }
    }

    /// Whether the window is locked now.
    pub fn is_locked(&self) -> bool {
        self.state().locked
    }

    /// Locks now (a passphrase must be set).
    pub fn lock(&self) -> Result<LockStatus, AppError> {
        {
            let mut state = self.state();
            if state.stored.is_none() && state.problem.is_none() {
                return Err(not_allowed("Choose a passphrase in Settings → App lock first."));
            }
            state.locked = true;
        }
        Ok(self.status())
    }

    /// Opens the lock with `passphrase`; a wrong one is refused after a second.
    pub async fn unlock(&self, passphrase: &str) -> Result<LockStatus, AppError> {
        if let Some(problem) = self.state().problem.clone() {
            return Err(not_allowed(&problem));
        }
        if self.matches(passphrase).await? {
            self.state().locked = false;
            Ok(self.status())
        } else {
            tokio::time::sleep(WRONG_DELAY).await;
            Err(not_allowed("That is not the passphrase of this Duet. Try again."))
        }
    }

    /// Whether `passphrase` is the one set (true when none is).
    async fn matches(&self, passphrase: &str) -> Result<bool, AppError> {
        let Some(stored) = self.state().stored.clone() else { return Ok(true) };
        let passphrase = passphrase.to_owned();
        tauri::async_runtime::spawn_blocking(move || {
            let hash = PasswordHash::new(&stored.passphrase).ok()?;
            Some(hasher().verify_password(passphrase.as_bytes(), &hash).is_ok())
        })
        .await
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("The passphrase could not be checked ({e}).")))
        .map(|ok| ok.unwrap_or(false))
    }

    /// Sets, changes or (with `passphrase: None`) removes the passphrase, and the idle time.
    /// When one is set, `current` must be it (a wrong one is refused after a second).
    pub async fn set(
        &self,
        current: Option<&str>,
        passphrase: Option<&str>,
        idle_minutes: u32,
    ) -> Result<LockStatus, AppError> {
        if self.state().problem.is_some() {
            return Err(not_allowed("The app lock's settings could not be read: see the lock screen."));
        }
        if idle_minutes > MAX_IDLE_MINUTES {
            return Err(AppError::new(ErrorCode::InvalidInput, "Choose an idle time of at most a day."));
        }
        let enabled = self.state().stored.is_some();
        if enabled && !self.matches(current.unwrap_or_default()).await? {
            tokio::time::sleep(WRONG_DELAY).await;
            return Err(not_allowed("The current passphrase is not right, so nothing was changed."));
        }
        let stored = match passphrase {
            None => None,
            Some(new) => {
                if new.chars().count() < MIN_PASSPHRASE || new.len() > MAX_PASSPHRASE {
                    return Err(AppError::new(
                        ErrorCode::InvalidInput,
                        format!("Choose a passphrase of at least {MIN_PASSPHRASE} characters."),
                    ));
                }
                let new = new.to_owned();
                let hash = tauri::async_runtime::spawn_blocking(move || {
                    let salt = SaltString::generate(&mut OsRng);
                    hasher().hash_password(new.as_bytes(), &salt).map(|h| h.to_string())
                })
                .await
                .map_err(|e| AppError::new(ErrorCode::Internal, format!("The passphrase could not be kept ({e}).")))?
                .map_err(|e| AppError::new(ErrorCode::Internal, format!("The passphrase could not be kept ({e}).")))?;
                Some(Stored { passphrase: hash, idle_minutes })
            }
        };
        self.write(stored.as_ref())?;
        let mut state = self.state();
        state.stored = stored;
        state.locked = false;
        drop(state);
        Ok(self.status())
    }

    fn write(&self, stored: Option<&Stored>) -> Result<(), AppError> {
        let Some(file) = &self.file else {
            return Err(AppError::new(ErrorCode::StoreUnavailable, "Duet has no data directory to keep the lock in."));
        };
        let failed = |e: std::io::Error| {
            AppError::new(ErrorCode::StoreFailed, format!("The app lock could not be saved ({}: {e}).", file.display()))
        };
        match stored {
            None => match std::fs::remove_file(file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(failed(e)),
                _ => Ok(()),
            },
            Some(stored) => {
                let bytes = serde_json::to_vec_pretty(stored).expect("the lock's settings serialize");
                let temp = file.with_extension("json.new");
                write_private(&temp, &bytes).map_err(failed)?;
                std::fs::rename(&temp, file).map_err(failed)
            }
        }
    }

    /// The words a notification may show now: while locked, nothing of the message, only
    /// `locked_message` ("New message" in the window's language).
    pub fn notification(&self, title: String, body: String, locked_message: &str) -> (String, String) {
        if self.is_locked() {
            ("Duet".to_owned(), locked_message.to_owned())
        } else {
            (title, body)
        }
    }
}

/// Where the lock stands (the window asks at start and after a reload).
#[tauri::command]
pub fn app_lock(lock: tauri::State<'_, AppLock>) -> LockStatus {
    lock.status()
}

/// Sets, changes or removes (`passphrase: null`) the passphrase, and the idle time.
#[tauri::command]
pub async fn set_app_lock(
    lock: tauri::State<'_, AppLock>,
    current: Option<String>,
    passphrase: Option<String>,
    idle_minutes: u32,
) -> Result<LockStatus, AppError> {
    lock.set(current.as_deref(), passphrase.as_deref(), idle_minutes).await
}

/// Locks the window now (Ctrl+L, or the idle time passed).
#[tauri::command]
pub fn lock_app(lock: tauri::State<'_, AppLock>) -> Result<LockStatus, AppError> {
    lock.lock()
}

/// Opens the lock.
#[tauri::command]
pub async fn unlock_app(lock: tauri::State<'_, AppLock>, passphrase: String) -> Result<LockStatus, AppError> {
    lock.unlock(&passphrase).await
}

/// Writes `bytes` to a new file only its owner can read, synced to disk.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lock_is_set_survives_a_restart_opens_only_with_its_passphrase_and_is_removed_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let lock = AppLock::open(Some(dir.path()));
        assert_eq!(lock.status(), LockStatus { enabled: false, idle_minutes: 0, locked: false, problem: None });
        let err = lock.lock().unwrap_err();
        assert!(err.message.contains("Choose a passphrase"), "{}", err.message);
        let err = lock.set(None, Some("abc"), 5).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput);

        let status = lock.set(None, Some("sofa 1234"), 5).await.unwrap();
        assert_eq!(status, LockStatus { enabled: true, idle_minutes: 5, locked: false, problem: None });
        let kept = std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap();
        assert!(kept.contains("$argon2id$") && !kept.contains("sofa 1234"), "{kept}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(LOCK_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        // Locked, notifications say nothing of the message.
        lock.lock().unwrap();
        assert_eq!(
            lock.notification("Ben".into(), "the surprise is on Friday".into(), "New message"),
            ("Duet".to_owned(), "New message".to_owned())
        );

        // After a restart it starts locked; a wrong passphrase is refused and it stays locked.
        let again = AppLock::open(Some(dir.path()));
        assert!(again.is_locked());
        let err = again.unlock("sofa 4321").await.unwrap_err();
        assert_eq!(err.code, ErrorCode::NotAllowed);
        assert!(again.is_locked());
        assert!(!again.unlock("sofa 1234").await.unwrap().locked);
        assert_eq!(again.notification("Ben".into(), "hi".into(), "New message"), ("Ben".to_owned(), "hi".to_owned()));

        // Changing or removing it needs the current passphrase.
        let err = again.set(Some("wrong"), None, 0).await.unwrap_err();
        assert!(err.message.contains("nothing was changed"), "{}", err.message);
        assert!(again.status().enabled);
        let status = again.set(Some("sofa 1234"), None, 0).await.unwrap();
        assert!(!status.enabled && !status.locked);
        assert!(!dir.path().join(LOCK_FILE).exists());
        assert!(!AppLock::open(Some(dir.path())).is_locked());
    }

    #[tokio::test]
    async fn a_damaged_lock_file_keeps_the_app_locked_and_says_how_to_remove_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LOCK_FILE), b"{ not json").unwrap();
        let lock = AppLock::open(Some(dir.path()));
        let status = lock.status();
        assert!(status.locked);
        let problem = status.problem.unwrap();
        assert!(problem.contains("delete that file") && problem.contains(LOCK_FILE), "{problem}");
        assert!(lock.unlock("anything").await.is_err());
        assert!(lock.is_locked());
    }
}

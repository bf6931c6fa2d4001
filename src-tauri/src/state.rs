//! What the commands share: the data directory and the running node.
//!
//! The node starts at launch when the data directory holds a profile, otherwise when the
//! person creates one (`create_profile`: `init`, then start). While it starts, commands wait
//! for it (they read the lock the start holds for writing) instead of failing. A node that
//! cannot start does not stop the window from opening: the reason is kept, and every command
//! returns it (`node_unavailable`), so the UI can say it in plain words.
//!
//! Environment (documented in docs/desktop-app.md): `DUET_DATA_DIR` (where the data lives),
//! `DUET_LISTEN` (comma-separated multiaddrs to listen on, e.g. `/ip4/127.0.0.1/tcp/0` for
//! tests), `DUET_NO_MDNS=1` (no LAN discovery).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use duet_node::{Node, NodeConfig, NodeError, Unlock, Wrapping};
use tauri::{AppHandle, Manager};
use tokio::sync::{OwnedRwLockWriteGuard, RwLock};

use crate::error::{AppError, ErrorCode};
use crate::events;
use crate::media::FrameChannel;

/// Overrides where Duet keeps its data (tests, several instances on one machine).
pub const DATA_DIR_ENV: &str = "DUET_DATA_DIR";
/// Overrides where the node listens: comma-separated multiaddrs.
pub const LISTEN_ENV: &str = "DUET_LISTEN";
/// `1` turns LAN discovery (mDNS) off.
pub const NO_MDNS_ENV: &str = "DUET_NO_MDNS";

/// Where this instance keeps its data: `$DUET_DATA_DIR`, else the per-user app data directory.
pub fn data_dir(app: &AppHandle) -> anyhow::Result<PathBuf> {
    match std::env::var_os(DATA_DIR_ENV).filter(|dir| !dir.is_empty()) {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => app.path().app_data_dir().context("this user has no data directory (is HOME set?)"),
    }
}

/// The state managed by Tauri and handed to commands.
pub struct AppState {
    data_dir: Result<PathBuf, AppError>,
    node: Arc<RwLock<Option<Node>>>,
    /// Why the node is not running, when it failed to start.
    failure: Mutex<Option<AppError>>,
    /// The window's end of my own picture in the call now, for a source that replaces the
    /// camera mid-call (a shared screen, the camera again).
    call_preview: Mutex<Option<FrameChannel>>,
    /// My screen (or a window) is my picture in the call now, instead of the camera: a camera
    /// chosen in the call view waits until sharing stops.
    sharing: std::sync::atomic::AtomicBool,
    /// What opens the data key: a passphrase typed in the window (or `DUET_PASSPHRASE`);
    /// `None` for the desktop keyring.
    unlock: Mutex<Option<Unlock>>,
}

impl AppState {
    /// Keeps the window's end of my picture for the call being placed or answered.
    pub fn set_call_preview(&self, preview: FrameChannel) {
        *self.call_preview.lock().unwrap_or_else(|e| e.into_inner()) = Some(preview);
        self.set_sharing(false);
    }

    /// Whether my screen is my picture in the call now.
    pub fn sharing(&self) -> bool {
        self.sharing.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_sharing(&self, sharing: bool) {
        self.sharing.store(sharing, std::sync::atomic::Ordering::Relaxed);
    }

    /// The window's end of my picture in the latest call.
    pub fn call_preview(&self) -> Option<FrameChannel> {
        self.call_preview.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Never fails: a missing data directory is kept for the UI.
    pub fn new(data_dir: anyhow::Result<PathBuf>) -> Self {
        let data_dir = data_dir.map_err(|cause| {
            eprintln!("duet-app: {cause:#}");
            AppError::store_unavailable(&cause)
        });
        Self {
            data_dir,
            node: Arc::new(RwLock::new(None)),
            failure: Mutex::new(None),
            call_preview: Mutex::new(None),
            sharing: Default::default(),
            unlock: Mutex::new(duet_node::passphrase_from_env()),
        }
    }

    fn unlock(&self) -> Option<Unlock> {
        self.unlock.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_unlock(&self, unlock: Option<Unlock>) {
        *self.unlock.lock().unwrap_or_else(|e| e.into_inner()) = unlock;
    }

    /// The node's settings for `dir`, opened with what opens the data key.
    fn node_config(&self, dir: PathBuf) -> Result<NodeConfig, NodeError> {
        let mut config = node_config(dir)?;
        config.unlock = self.unlock().unwrap_or(Unlock::Keyring);
        Ok(config)
    }

    /// The passphrase a new profile's data will be locked with (when the desktop has no
    /// keyring to keep its key): checked here, used by the next `create_profile`.
    pub fn choose_passphrase(&self, passphrase: String) -> Result<(), AppError> {
        duet_node::check_passphrase(&passphrase).map_err(NodeError::from)?;
        self.set_unlock(Some(Unlock::passphrase(passphrase)));
        // The keyring's failure is answered now: the next create or link starts afresh.
        let mut failure = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        if failure.as_ref().is_some_and(|f| f.code == ErrorCode::KeyringUnavailable) {
            *failure = None;
        }
        Ok(())
    }

    /// How this device's data key is kept: `"keyring"` or `"passphrase"`.
    pub fn protection(&self) -> Result<&'static str, AppError> {
        let dir = self.data_dir.clone()?;
        Ok(match duet_node::vault_wrapping(&dir)? {
            Some(Wrapping::Passphrase) => "passphrase",
            _ => "keyring",
        })
    }

    /// Locks this device's data with `passphrase` from now on, or with the desktop keyring
    /// when `None`; `current` is the passphrase it is locked with now (not asked of a keyring).
    /// A wrong `current` is refused and changes nothing.
    pub async fn change_protection(
        &self,
        current: Option<String>,
        passphrase: Option<String>,
    ) -> Result<&'static str, AppError> {
        let dir = self.data_dir.clone()?;
        let current = match duet_node::vault_wrapping(&dir)? {
            Some(Wrapping::Passphrase) => {
                Unlock::passphrase(current.ok_or(NodeError::from(duet_node::VaultError::NeedsPassphrase))?)
            }
            _ => Unlock::Keyring,
        };
        let new = passphrase.map(Unlock::passphrase);
        let next = new.clone().unwrap_or(Unlock::Keyring);
        tauri::async_runtime::spawn_blocking(move || duet_node::change_unlock(&dir, &current, &next))
            .await
            .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))??;
        self.set_unlock(new);
        self.protection()
    }

    /// Starts the node with the passphrase typed on the unlock screen. A wrong one is
    /// refused in words and the screen stays.
    pub async fn unlock_with(&self, app: &AppHandle, passphrase: String) -> Result<Node, AppError> {
        let dir = self.data_dir.clone()?;
        let guard = self.node.clone().write_owned().await;
        if let Some(node) = guard.as_ref() {
            return Ok(node.clone());
        }
        self.set_unlock(Some(Unlock::passphrase(passphrase)));
        match self.start(guard, app, dir).await {
            Ok(node) => {
                *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = None;
                Ok(node)
            }
            Err(e) if e.code() == duet_node::ErrorCode::WrongPassphrase => {
                self.set_unlock(None);
                Err(e.into())
            }
            Err(e) => {
                self.fail(&e);
                Err(self.failure()?.unwrap_or_else(|| e.into()))
            }
        }
    }

    /// Starts the node in the background if this data directory holds a profile. Commands
    /// called meanwhile wait for it.
    pub fn launch(&self, app: &AppHandle) {
        let Ok(dir) = self.data_dir.clone() else { return };
        if !duet_node::holds_data(&dir) {
            return;
        }
        // Locked with a passphrase and none given: the window asks for it (`unlock_with`).
        if self.unlock().is_none() && matches!(duet_node::vault_wrapping(&dir), Ok(Some(Wrapping::Passphrase))) {
            self.fail(&duet_node::VaultError::NeedsPassphrase.into());
            return;
        }
        let Ok(guard) = self.node.clone().try_write_owned() else { return };
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            let state = app.state::<AppState>();
            match state.start(guard, &app, dir).await {
                Ok(_) | Err(NodeError::NotInitialized) => {}
                // No keyring, and a store an older version left that has no key yet.
                Err(error) if error.code() == duet_node::ErrorCode::KeyringUnavailable && !state.has_vault() => {
                    eprintln!("duet-app: {error}");
                    *state.failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(AppError::new(
                        ErrorCode::NeedsNewPassphrase,
                        "Duet now encrypts what it keeps on this computer, and no keyring here can hold the key: \
                         choose a passphrase.",
                    ));
                }
                Err(error) => state.fail(&error),
            }
        });
    }

    /// Starts the node again if it could not start before (`node_unavailable`): the cause may
    /// have gone (the keyring is back, another Duet let the data go). Other failures wait for
    /// what the window asks (a passphrase).
    pub fn retry_start(&self, app: &AppHandle) {
        {
            let mut failure = self.failure.lock().unwrap_or_else(|e| e.into_inner());
            if !failure.as_ref().is_some_and(|f| f.code == ErrorCode::NodeUnavailable) {
                return;
            }
            *failure = None;
        }
        self.launch(app);
    }

    /// The running node, or why there is none.
    pub async fn node(&self) -> Result<Node, AppError> {
        if let Some(node) = self.node.read().await.as_ref() {
            return Ok(node.clone());
        }
        Err(self.failure()?.unwrap_or_else(|| AppError::from(NodeError::NotInitialized)))
    }

    /// The running node, or `None` before onboarding (still an error if it failed to start).
    pub async fn node_if_any(&self) -> Result<Option<Node>, AppError> {
        match self.node().await {
            Ok(node) => Ok(Some(node)),
            Err(e) if e.code == ErrorCode::NotInitialized => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates this device's profile and starts the node.
    pub async fn create_profile(&self, app: &AppHandle, name: &str) -> Result<Node, AppError> {
        let dir = self.data_dir.clone()?;
        let guard = self.node.clone().write_owned().await;
        if guard.is_some() {
            return Err(NodeError::AlreadyInitialized.into());
        }
        // A refused name changes nothing; anything else leaves a profile that did not start.
        let created = Node::create(self.node_config(dir)?, name).await;
        let node = created.inspect_err(|e| {
            if e.code() != duet_node::ErrorCode::InvalidInput {
                self.fail(e)
            }
        })?;
        let node = self.run(guard, app, node);
        *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(node)
    }

    /// Restores the backup at `path` into this install's data folder (which holds no profile
    /// yet) and starts the node with it. A refused backup (wrong passphrase, damaged, no
    /// keyring for the new data key) changes nothing, and the person may try again.
    pub async fn restore(&self, app: &AppHandle, path: &Path, passphrase: String) -> Result<Node, AppError> {
        let dir = self.data_dir.clone()?;
        let guard = self.node.clone().write_owned().await;
        if guard.is_some() {
            return Err(NodeError::AlreadyInitialized.into());
        }
        let unlock = self.unlock().unwrap_or(Unlock::Keyring);
        let (file, to) = (path.to_path_buf(), dir.clone());
        tauri::async_runtime::spawn_blocking(move || duet_node::restore_backup(&file, &passphrase, &to, &unlock))
            .await
            .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))??;
        let node = self.start(guard, app, dir).await.inspect_err(|e| self.fail(e))?;
        *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(node)
    }

    /// The node of a device being linked to a person by a device invite: the running one if
    /// it is such a device (a first try that did not get through), else a new one without a
    /// person of its own.
    pub async fn device_to_link(&self, app: &AppHandle) -> Result<Node, AppError> {
        if let Some(node) = self.node_if_any().await? {
            if node.person_id().is_some() {
                return Err(NodeError::AlreadyInitialized.into());
            }
            return Ok(node);
        }
        let dir = self.data_dir.clone()?;
        let guard = self.node.clone().write_owned().await;
        if guard.is_some() {
            return Err(NodeError::AlreadyInitialized.into());
        }
        let node = Node::create_device(self.node_config(dir)?).await.inspect_err(|e| self.fail(e))?;
        let node = self.run(guard, app, node);
        *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(node)
    }

    /// Stops the node (at exit), so the store is flushed.
    pub async fn shutdown(&self) {
        if let Some(node) = self.node.write().await.take() {
            node.shutdown().await;
        }
    }

    async fn start(
        &self,
        guard: OwnedRwLockWriteGuard<Option<Node>>,
        app: &AppHandle,
        dir: PathBuf,
    ) -> Result<Node, NodeError> {
        let node = Node::start_when_unlocked(self.node_config(dir)?).await?;
        Ok(self.run(guard, app, node))
    }

    /// Hands a started node to the commands, and its events to the window.
    fn run(&self, mut guard: OwnedRwLockWriteGuard<Option<Node>>, app: &AppHandle, node: Node) -> Node {
        eprintln!("duet-app: device {} started", node.device_id());
        events::forward(app.clone(), &node);
        *guard = Some(node.clone());
        node
    }

    /// Whether this data directory's key exists yet (kept by the keyring or a passphrase).
    fn has_vault(&self) -> bool {
        let Ok(dir) = self.data_dir.as_ref() else { return false };
        !matches!(duet_node::vault_wrapping(dir), Ok(None))
    }

    fn fail(&self, error: &NodeError) {
        use duet_node::ErrorCode::{KeyringUnavailable, NeedsPassphrase, WrongPassphrase};
        eprintln!("duet-app: the node could not start: {error}");
        // What the window can answer (a passphrase) keeps its own code; the rest is "could not
        // start", with a retry. A keyring that held the key and is not there now (a session
        // without it, say) is the latter: choosing a passphrase would not open that data.
        let failure = match error.code() {
            NeedsPassphrase | WrongPassphrase => AppError::from(error),
            KeyringUnavailable if !self.has_vault() => AppError::from(error),
            _ => AppError::node_unavailable(error),
        };
        *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(failure);
    }

    fn failure(&self) -> Result<Option<AppError>, AppError> {
        self.data_dir.as_ref().map_err(Clone::clone)?;
        Ok(self.failure.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

/// The node's settings: the defaults, with `DUET_LISTEN` and `DUET_NO_MDNS` applied.
fn node_config(dir: PathBuf) -> Result<NodeConfig, NodeError> {
    let mut config = NodeConfig::new(dir);
    if let Some(listen) = std::env::var(LISTEN_ENV).ok().filter(|l| !l.trim().is_empty()) {
        config.listen = listen
            .split(',')
            .map(|a| a.trim().parse().map_err(|e| NodeError::NotAllowed(format!("{LISTEN_ENV}: \"{a}\": {e}"))))
            .collect::<Result<_, _>>()?;
    }
    if std::env::var(NO_MDNS_ENV).is_ok_and(|v| v == "1") {
        config.mdns = false;
    }
    Ok(config)
}

use duet_log::pairing::PairError;
use duet_model::ValidationError;
use thiserror::Error;

/// Why a node command failed. [`NodeError::code`] is stable for front ends; the `Display`
/// text is for people.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NodeError {
    #[error("no profile here yet: run `duet init --name NAME` first")]
    NotInitialized,
    #[error("a profile already exists in this data directory")]
    AlreadyInitialized,
    #[error("you are not paired yet: invite your partner or join with their invite")]
    NoSpace,
    #[error("this device is already paired")]
    AlreadyPaired,
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    #[error("{0}")]
    Pairing(#[from] PairError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    NotAllowed(String),
    /// An address typed in that cannot be used (a relay without its peer id, say).
    #[error("{0}")]
    BadAddress(String),
    #[error("network: {0}")]
    Network(#[from] duet_net::NetError),
    #[error("{0}")]
    Store(#[from] duet_store::StoreError),
    #[error("the other device did not answer in time")]
    Timeout,
    #[error("the node has stopped")]
    Stopped,
    /// What a peer sent broke the protocol or the space's rules (a bad event, a malformed
    /// message): the only error a session cuts a peer off and bans it for. Local failures (the
    /// store, a closed stream, shutting down) never are.
    #[error("{0}")]
    PeerFault(String),
    /// A part of the node kept failing and the node stopped (`Node::failure`).
    #[error("{0}")]
    Failed(String),
    #[error("{0}")]
    Blob(#[from] duet_store::BlobStoreError),
    /// The data key could not be opened (or made): a passphrase needed or wrong, no keyring.
    #[error("{0}")]
    Vault(#[from] duet_store::vault::VaultError),
    /// A backup could not be written or restored.
    #[error(transparent)]
    Backup(#[from] duet_store::BackupError),
}

/// What kind of error a [`NodeError`] is: the stable contract front ends branch on (they never
/// read the words). Serialized as its snake_case name (`"not_paired"`); the desktop app's
/// `ErrorCode` maps every one of these, so a new code fails its build until it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    NotInitialized,
    AlreadyInitialized,
    NotPaired,
    AlreadyPaired,
    /// Something typed or chosen cannot be accepted (empty, too long, not an emoji, too big).
    InvalidInput,
    PairingFailed,
    NotFound,
    NotAllowed,
    Network,
    Store,
    Timeout,
    /// The node stopped, or a part of it kept failing.
    Stopped,
    /// A file the person chose could not be read.
    UnreadableFile,
    /// A file could not be written where the person asked.
    UnwritableFile,
    /// An attachment is not (wholly) on this device yet: fetch it, or wait for a device that has it.
    BlobNotHere,
    /// The attachment store failed otherwise.
    Blob,
    /// This device's data is locked with a passphrase and none was given.
    NeedsPassphrase,
    /// The passphrase given does not open this device's data.
    WrongPassphrase,
    /// No desktop keyring could keep the data key: a passphrase is needed instead.
    KeyringUnavailable,
}

impl ErrorCode {
    /// The code as front ends and the CLI's JSON spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotInitialized => "not_initialized",
            ErrorCode::AlreadyInitialized => "already_initialized",
            ErrorCode::NotPaired => "not_paired",
            ErrorCode::AlreadyPaired => "already_paired",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::PairingFailed => "pairing_failed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::NotAllowed => "not_allowed",
            ErrorCode::Network => "network",
            ErrorCode::Store => "store",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Stopped => "stopped",
            ErrorCode::UnreadableFile => "unreadable_file",
            ErrorCode::UnwritableFile => "unwritable_file",
            ErrorCode::BlobNotHere => "blob_not_here",
            ErrorCode::Blob => "blob",
            ErrorCode::NeedsPassphrase => "needs_passphrase",
            ErrorCode::WrongPassphrase => "wrong_passphrase",
            ErrorCode::KeyringUnavailable => "keyring_unavailable",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl NodeError {
    /// A stable code for front ends (they never match on the message).
    pub fn code(&self) -> ErrorCode {
        match self {
            NodeError::NotInitialized => ErrorCode::NotInitialized,
            NodeError::AlreadyInitialized => ErrorCode::AlreadyInitialized,
            NodeError::NoSpace => ErrorCode::NotPaired,
            NodeError::AlreadyPaired => ErrorCode::AlreadyPaired,
            NodeError::Invalid(_) | NodeError::BadAddress(_) => ErrorCode::InvalidInput,
            NodeError::Pairing(_) => ErrorCode::PairingFailed,
            NodeError::NotFound(_) => ErrorCode::NotFound,
            NodeError::NotAllowed(_) | NodeError::PeerFault(_) => ErrorCode::NotAllowed,
            NodeError::Network(_) => ErrorCode::Network,
            NodeError::Store(_) => ErrorCode::Store,
            NodeError::Timeout => ErrorCode::Timeout,
            NodeError::Stopped | NodeError::Failed(_) => ErrorCode::Stopped,
            NodeError::Blob(e) => match e {
                duet_store::BlobStoreError::Unreadable { .. } => ErrorCode::UnreadableFile,
                duet_store::BlobStoreError::Unwritable { .. } => ErrorCode::UnwritableFile,
                duet_store::BlobStoreError::TooLarge { .. } => ErrorCode::InvalidInput,
                duet_store::BlobStoreError::Incomplete | duet_store::BlobStoreError::Unknown => ErrorCode::BlobNotHere,
                _ => ErrorCode::Blob,
            },
            NodeError::Vault(e) => vault_code(e),
            NodeError::Backup(e) => match e {
                duet_store::BackupError::WrongPassphrase => ErrorCode::WrongPassphrase,
                duet_store::BackupError::NotEmpty(_) => ErrorCode::AlreadyInitialized,
                duet_store::BackupError::Io { .. } => ErrorCode::UnreadableFile,
                duet_store::BackupError::Store(_) => ErrorCode::Store,
                duet_store::BackupError::Vault(v) => vault_code(v),
                _ => ErrorCode::InvalidInput,
            },
        }
    }
}

fn vault_code(e: &duet_store::vault::VaultError) -> ErrorCode {
    use duet_store::vault::VaultError;
    match e {
        VaultError::NeedsPassphrase => ErrorCode::NeedsPassphrase,
        VaultError::WrongPassphrase => ErrorCode::WrongPassphrase,
        VaultError::Keyring(_) => ErrorCode::KeyringUnavailable,
        VaultError::WeakPassphrase => ErrorCode::InvalidInput,
        _ => ErrorCode::Store,
    }
}

impl From<duet_log::SealError> for NodeError {
    fn from(e: duet_log::SealError) -> Self {
        match e {
            duet_log::SealError::Invalid(v) => NodeError::Invalid(v),
            other => NodeError::NotAllowed(other.to_string()),
        }
    }
}

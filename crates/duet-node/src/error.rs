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
    /// A part of the node kept failing and the node stopped (`Node::failure`).
    #[error("{0}")]
    Failed(String),
    #[error("{0}")]
    Blob(#[from] duet_store::BlobStoreError),
}

impl NodeError {
    /// A stable code for front ends (they never match on the message).
    pub fn code(&self) -> &'static str {
        match self {
            NodeError::NotInitialized => "not_initialized",
            NodeError::AlreadyInitialized => "already_initialized",
            NodeError::NoSpace => "not_paired",
            NodeError::AlreadyPaired => "already_paired",
            NodeError::Invalid(_) => "invalid_input",
            NodeError::Pairing(_) => "pairing_failed",
            NodeError::NotFound(_) => "not_found",
            NodeError::NotAllowed(_) => "not_allowed",
            NodeError::BadAddress(_) => "invalid_input",
            NodeError::Network(_) => "network",
            NodeError::Store(_) => "store",
            NodeError::Timeout => "timeout",
            NodeError::Stopped | NodeError::Failed(_) => "stopped",
            NodeError::Blob(e) => match e {
                duet_store::BlobStoreError::Unreadable { .. } => "unreadable_file",
                duet_store::BlobStoreError::Unwritable { .. } => "unwritable_file",
                duet_store::BlobStoreError::TooLarge { .. } => "invalid_input",
                duet_store::BlobStoreError::Incomplete | duet_store::BlobStoreError::Unknown => "blob_not_here",
                _ => "blob",
            },
        }
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

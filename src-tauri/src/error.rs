//! Errors as the UI receives them: `{"code": "not_paired", "message": "…"}`. The code is
//! stable, so the UI can branch on it without reading the words; the message is for people.
//! `ErrorCode` is exported to `ui/src/lib/backend/bindings/ErrorCode.ts`, so a new code fails
//! the UI's type check until the UI knows it.

use std::fmt;

use duet_node::NodeError;
use serde::Serialize;

/// What went wrong, in a form the UI can branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// There is no data directory (no home directory?); nothing can be read or written.
    StoreUnavailable,
    /// The local data could not be read or written.
    StoreFailed,
    /// The node could not start (its data is locked by another Duet, the network failed…).
    NodeUnavailable,
    /// No profile on this device yet: onboarding comes first.
    NotInitialized,
    AlreadyInitialized,
    /// Not paired with a partner yet.
    NotPaired,
    AlreadyPaired,
    /// The person typed something that cannot be accepted (empty, too long, not an emoji…).
    InvalidInput,
    PairingFailed,
    NotFound,
    NotAllowed,
    Network,
    Timeout,
    Stopped,
    /// A microphone, speaker or camera could not be opened; the message says which and why.
    DeviceUnavailable,
    /// A file the person chose could not be read.
    UnreadableFile,
    /// A file could not be saved where the person asked.
    UnwritableFile,
    /// An attachment is not on this device yet (it is being fetched, or no device that has it
    /// is reachable): not a failure, a wait.
    BlobNotHere,
    /// The attachment store failed otherwise.
    BlobFailed,
    /// This device's data is locked with a passphrase: the unlock screen asks for it.
    NeedsPassphrase,
    /// The passphrase typed does not open this device's data.
    WrongPassphrase,
    /// No desktop keyring can keep the data key: the person chooses a passphrase instead.
    KeyringUnavailable,
    /// Data an older, unencrypted Duet left is here, and no keyring can keep the key it is to
    /// be encrypted with: the person chooses a passphrase (then `unlock_data` with it).
    NeedsNewPassphrase,
    /// Anything else; the message says what.
    Internal,
}

/// An error sent to the UI.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// There is no data directory; `cause` says why.
    pub fn store_unavailable(cause: &anyhow::Error) -> Self {
        Self::new(ErrorCode::StoreUnavailable, format!("Duet could not open its data on this device: {cause:#}."))
    }

    /// A device could not be opened; `words` say which and why ("No microphone found").
    pub fn device(words: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::DeviceUnavailable, sentence(&words.to_string()))
    }

    /// The node failed to start; `cause` says why.
    pub fn node_unavailable(cause: &NodeError) -> Self {
        Self::new(ErrorCode::NodeUnavailable, format!("Duet could not start on this device: {cause}."))
    }
}

impl From<NodeError> for AppError {
    fn from(error: NodeError) -> Self {
        Self::from(&error)
    }
}

impl From<&NodeError> for AppError {
    fn from(error: &NodeError) -> Self {
        // `NodeError::code` is the node's stable contract; every code is mapped (a new one
        // fails this match until it is).
        use duet_node::ErrorCode as Node;
        let code = match error.code() {
            Node::NotInitialized => ErrorCode::NotInitialized,
            Node::AlreadyInitialized => ErrorCode::AlreadyInitialized,
            Node::NotPaired => ErrorCode::NotPaired,
            Node::AlreadyPaired => ErrorCode::AlreadyPaired,
            Node::InvalidInput => ErrorCode::InvalidInput,
            Node::PairingFailed => ErrorCode::PairingFailed,
            Node::NotFound => ErrorCode::NotFound,
            Node::NotAllowed => ErrorCode::NotAllowed,
            Node::Network => ErrorCode::Network,
            Node::Store => ErrorCode::StoreFailed,
            Node::Timeout => ErrorCode::Timeout,
            Node::Stopped => ErrorCode::Stopped,
            Node::UnreadableFile => ErrorCode::UnreadableFile,
            Node::UnwritableFile => ErrorCode::UnwritableFile,
            Node::BlobNotHere => ErrorCode::BlobNotHere,
            Node::Blob => ErrorCode::BlobFailed,
            Node::NeedsPassphrase => ErrorCode::NeedsPassphrase,
            Node::WrongPassphrase => ErrorCode::WrongPassphrase,
            Node::KeyringUnavailable => ErrorCode::KeyringUnavailable,
        };
        Self::new(code, sentence(&error.to_string()))
    }
}

/// The node's texts are written for a terminal (`no profile here yet: run …`); a window shows
/// a sentence.
fn sentence(text: &str) -> String {
    let mut chars = text.trim().chars();
    let mut out: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    out.extend(chars);
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_reach_the_ui_as_a_code_and_a_message() {
        let error = AppError::store_unavailable(&anyhow::anyhow!("disk on fire"));
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["code"], "store_unavailable");
        assert!(json["message"].as_str().unwrap().contains("disk on fire"));
    }

    #[test]
    fn node_errors_keep_their_stable_code_and_read_as_a_sentence() {
        let error = AppError::from(NodeError::NoSpace);
        assert_eq!(serde_json::to_value(&error).unwrap()["code"], "not_paired");
        assert!(error.message.starts_with("You are not paired yet"));
        assert!(error.message.ends_with('.'));

        let invalid = AppError::from(NodeError::from(duet_model::ValidationError::NotAnEmoji));
        assert_eq!(invalid.code, ErrorCode::InvalidInput);
        assert_eq!(AppError::from(NodeError::Timeout).code, ErrorCode::Timeout);
        assert_eq!(AppError::from(NodeError::NotFound("no message".into())).code, ErrorCode::NotFound);
    }

    #[test]
    fn an_attachment_not_here_yet_is_not_a_crash() {
        let not_here = AppError::from(NodeError::Blob(duet_store::BlobStoreError::Incomplete));
        assert_eq!(serde_json::to_value(&not_here).unwrap()["code"], "blob_not_here");
        let unreadable = NodeError::Blob(duet_store::BlobStoreError::Unreadable {
            path: "/nowhere".into(),
            reason: "no such file".into(),
        });
        assert_eq!(AppError::from(unreadable).code, ErrorCode::UnreadableFile);
    }
}

//! Errors as the UI receives them: `{"code": "store_unavailable", "message": "…"}`. The code is
//! stable, so the UI can branch on it without reading the words; the message is for people.
//! The codes are mirrored in `ui/src/lib/backend/types.ts` (`ErrorCode`).

use std::fmt;

use duet_store::StoreError;
use serde::Serialize;

/// What went wrong, in a form the UI can branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The data directory or the store could not be opened at start; nothing can be read.
    StoreUnavailable,
    /// The store is open, but reading or writing it failed.
    StoreFailed,
}

/// An error sent to the UI.
#[derive(Debug, Clone, Serialize)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

impl AppError {
    /// The store could not be opened; `cause` says where and why.
    pub fn store_unavailable(cause: &anyhow::Error) -> Self {
        Self {
            code: ErrorCode::StoreUnavailable,
            message: format!("Duet could not open its data on this device: {cause:#}."),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        Self { code: ErrorCode::StoreFailed, message: format!("Duet could not read its data on this device: {error}.") }
    }
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
}

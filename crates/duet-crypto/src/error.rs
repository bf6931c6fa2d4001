//! The one error type of this crate.

use thiserror::Error;

/// Why a cryptographic operation refused its input.
///
/// Every variant reads as a plain sentence, so it can be shown to a person or written to a log
/// as it is. The `&'static str` details never contain key material or peer-supplied text.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// A signature does not match the public key and the message it claims to sign.
    #[error("the signature does not match the signer and the message")]
    BadSignature,
    /// Bytes that should be a public key are not a usable one (not on the curve, not in
    /// canonical form, or of small order).
    #[error("the public key is not a valid key")]
    BadPublicKey,
    /// Authenticated decryption failed.
    #[error("the message could not be decrypted: wrong key or tampered data")]
    DecryptFailed,
    /// A device certificate is well formed but breaks a rule; the detail says which.
    #[error("the device certificate is not valid: {0}")]
    BadCertificate(&'static str),
    /// Bytes could not be decoded; the detail says what was wrong.
    #[error("the data is malformed: {0}")]
    Malformed(&'static str),
}

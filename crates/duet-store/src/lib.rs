//! Duet's local store (being written). The contract the Tauri shell relies on:
//! `Store::open(dir)` and `Store::local_profile()`.

use std::path::Path;

use duet_model::Person;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("the local database could not be opened or written: {0}")]
    Sled(#[from] sled::Error),
}

/// The local store of one device.
pub struct Store {
    _db: sled::Db,
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(Self { _db: sled::open(dir)? })
    }

    /// The person this device belongs to, if a profile was created.
    pub fn local_profile(&self) -> Result<Option<Person>, StoreError> {
        Ok(None)
    }
}

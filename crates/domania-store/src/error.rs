//! Errors of the store.

use std::path::PathBuf;

/// Result type of `domania-store`.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: cannot open the store: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: is not a GeoPackage (application_id {found:#x})")]
    NotGeoPackage { path: PathBuf, found: i32 },
    #[error("unknown layer {0:?} (layers: parcels, owners, qpv, subsectors, conventions, spaces)")]
    UnknownLayer(String),
    #[error("layer {layer} has no version {version} (latest: {latest})")]
    NoSuchVersion { layer: String, version: i64, latest: i64 },
    #[error("two rows of the same import have the key {key} in layer {layer}")]
    DuplicateKey { layer: String, key: String },
    #[error("the store is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl StoreError {
    /// Whether the user is to blame (bad name, missing version) rather than the machine.
    #[must_use]
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            StoreError::UnknownLayer(_)
                | StoreError::NoSuchVersion { .. }
                | StoreError::DuplicateKey { .. }
                | StoreError::NotGeoPackage { .. }
        )
    }
}

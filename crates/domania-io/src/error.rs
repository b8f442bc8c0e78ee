//! Errors of the readers: each names the file and, where it can, the line or feature.

use std::path::PathBuf;

/// Result type of `domania-io`.
pub type Result<T, E = IoError> = std::result::Result<T, E>;

/// A file could not be read at all. Problems with single features are not errors but entries
/// of the [`crate::report::ValidationReport`].
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    #[error("{path}: cannot read: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the file is empty")]
    Empty { path: PathBuf },
    #[error("{path}: invalid JSON at line {line}, column {column}{near}: {source}", near = feature_hint(*.feature))]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        /// Index of the feature being read when the error happened, if any.
        feature: Option<usize>,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: not a GeoJSON FeatureCollection: {reason}")]
    NotFeatureCollection { path: PathBuf, reason: String },
    #[error("{path}: unsupported or unknown CRS {crs:?} (supported: {supported})", supported = crate::crs::SUPPORTED)]
    UnknownCrs { path: PathBuf, crs: String },
    #[error(
        "{path}: the `crs` member comes after the first feature and says {crs}, not the {assumed} the features were read in; pass --crs"
    )]
    LateCrs { path: PathBuf, crs: String, assumed: String },
    #[error("{path}: line {line}: {source}")]
    Csv {
        path: PathBuf,
        line: u64,
        #[source]
        source: csv::Error,
    },
    #[error("{path}: line {line}: expected {expected} columns, found {found}")]
    ColumnCount { path: PathBuf, line: u64, expected: usize, found: usize },
    #[error("{path}: header not recognised: {reason}")]
    Header { path: PathBuf, reason: String },
    #[error("{path}: encoding problem: {reason}")]
    Encoding { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    Shapefile { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    Gdal { path: PathBuf, reason: String },
    #[error("{path}: EDIGÉO sheet {sheet}, {file}: {reason}")]
    Edigeo { path: PathBuf, sheet: String, file: String, reason: String },
    #[error(
        "{path}: {what} is read through GDAL: this domania was built without it (cargo install --path crates/domania-cli --features gdal, with Debian's libgdal-dev)"
    )]
    NeedsGdal { path: PathBuf, what: &'static str },
    #[error("{path}: this is not {expected}: {found}")]
    WrongKind { path: PathBuf, expected: &'static str, found: String },
    #[error("{path}: {reason}")]
    Archive { path: PathBuf, reason: String },
    #[error("{path}: the archive unpacks to more than {limit_mb} MB: refused, nothing was changed")]
    ArchiveTooLarge { path: PathBuf, limit_mb: u64 },
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn feature_hint(feature: Option<usize>) -> String {
    feature.map(|i| format!(" (in feature {i})")).unwrap_or_default()
}

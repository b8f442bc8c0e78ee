//! Errors of the store. Each says what a person can do about it; SQLite's result codes are
//! translated into reasons ([`sqlite_reason`]).

use std::path::PathBuf;

use rusqlite::ErrorCode;

/// Result type of `domania-store`.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: no store here (check --store; `domania init` or a first import creates one)")]
    Missing { path: PathBuf },
    #[error("{path}: the file is empty (0 bytes), not a store; remove it or choose another --store")]
    EmptyFile { path: PathBuf },
    /// The file could not be opened; `reason` says why in words (SQLite's own after them).
    #[error("{path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("{path}: not a SQLite database, so not a GeoPackage store")]
    NotSqlite { path: PathBuf },
    #[error("{path}: a SQLite database but not a GeoPackage (application_id {found:#x})")]
    NotGeoPackage { path: PathBuf, found: i32 },
    #[error(
        "{path}: a GeoPackage that is not a Domania store (its tables: {tables}); Domania does not \
         change it unless asked: `domania --store {path} init --adopt` adds Domania's layers to it"
    )]
    Foreign { path: PathBuf, tables: String },
    #[error(
        "{path}: cannot add Domania's layers: the GeoPackage already has a table {table:?} that is \
         not one of them; rename that table or choose another --store"
    )]
    NameClash { path: PathBuf, table: String },
    #[error("{path}: the store is busy: {holder}; gave up after {waited_s} s (raise --wait to wait longer)")]
    Busy { path: PathBuf, holder: String, waited_s: u64 },
    #[error("{path}: the store is read-only here; {what} needs to write it")]
    ReadOnly { path: PathBuf, what: &'static str },
    #[error("layer {0} holds no perimeters (perimeter layers: qpv, subsectors, conventions)")]
    NotPerimeterLayer(crate::Layer),
    #[error("layer {layer} has no version {version} (latest: {latest})")]
    NoSuchVersion { layer: String, version: i64, latest: i64 },
    #[error("two rows of the same import have the key {key} in layer {layer}")]
    DuplicateKey { layer: String, key: String },
    #[error("layer {layer} is not imported by {scope} (it is imported by: {allowed})")]
    ScopeNotAllowed { layer: &'static str, scope: &'static str, allowed: String },
    #[error("row {key} is outside the declared scope {scope}")]
    OutOfScope { key: String, scope: String },
    #[error(
        "nothing to import into {layer}: the file holds no row; an empty file never empties a layer \
         (to empty part of it on purpose, pass --scope KIND=CODES with --force)"
    )]
    EmptyImport { layer: &'static str },
    #[error(
        "refused: this import would remove {} (limit {limit_pct:.0} % of a scope); if that is \
         what you want, pass --force (or raise --max-removed)",
        Overflow::list(over)
    )]
    TooManyRemoved { over: Vec<Overflow>, limit_pct: f64 },
    #[error(
        "refused: the {layer} layer is at version {found}, not {expected} as this change was made on; nothing changed"
    )]
    Moved { layer: &'static str, expected: i64, found: i64 },
    #[error("refused: more edits were saved into the {layer} layer while these were read; nothing changed")]
    EditedMeanwhile { layer: &'static str },
    #[error("a token named {0:?} exists already (revoke it or choose another name)")]
    TokenNameTaken(String),
    #[error("the store is corrupt: {0}")]
    Corrupt(String),
    #[error("no report {0}")]
    NoSuchReport(i64),
    /// A change of a report refused, with the reason.
    #[error("{0}")]
    Refused(String),
    /// A database failure, in words; SQLite's error is its source, behind an opaque type so
    /// that the store's public API does not depend on rusqlite.
    #[error("{0}")]
    Database(DbError),
    /// A failure of PostgreSQL, in words (its SQLSTATE code after them).
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    #[error(
        "{path}: cannot copy into a store that already holds versions, tokens or rules; copy into a new file or an \
         empty database"
    )]
    CopyTargetNotEmpty { path: PathBuf },
    #[error(
        "{table}, row {key}: {column} holds a NUL character (U+0000), which PostgreSQL cannot store; nothing was \
         copied (correct the row in the source, e.g. import the layer again without it, then copy again)"
    )]
    CopyUnstorable { table: &'static str, key: String, column: String },
}

/// A part of a layer an import would empty too much.
#[derive(Debug, Clone, PartialEq)]
pub struct Overflow {
    /// `layer`, `commune`, `departement`…
    pub kind: String,
    /// The layer's name or the part's code.
    pub code: String,
    /// Rows the import would remove from it.
    pub removed: i64,
    /// Rows it holds now.
    pub current: i64,
}

impl Overflow {
    /// The share removed, in percent.
    #[must_use]
    pub fn percent(&self) -> f64 {
        self.removed as f64 / self.current as f64 * 100.0
    }

    fn list(over: &[Overflow]) -> String {
        let one = |o: &Overflow| {
            format!("{} {}: {} of its {} rows ({:.1} %)", o.kind, o.code, o.removed, o.current, o.percent())
        };
        over.iter().map(one).collect::<Vec<_>>().join("; ")
    }
}

/// A failure of the database engine: its reason in words, SQLite's error as the source.
#[derive(Debug)]
pub struct DbError(rusqlite::Error);

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&sqlite_reason(&self.0))
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(DbError(e))
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        StoreError::Postgres(described(&e))
    }
}

/// A PostgreSQL error as a user reads it: the server's message with its detail and SQLSTATE,
/// or the client's error with its cause (tokio-postgres's own text is often only "invalid
/// configuration" or "error connecting to server", the cause says which option or why).
pub(crate) fn described(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail}) [SQLSTATE {}]", db.message(), db.code().code()),
            None => format!("{} [SQLSTATE {}]", db.message(), db.code().code()),
        },
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

/// A reason a person understands for a SQLite failure, with SQLite's own words after it.
#[must_use]
pub(crate) fn sqlite_reason(e: &rusqlite::Error) -> String {
    let why = match e.sqlite_error_code() {
        Some(ErrorCode::CannotOpen) => "cannot open the file (its folder is missing or not accessible)",
        Some(ErrorCode::NotADatabase) => "not a SQLite database (or encrypted)",
        Some(ErrorCode::ReadOnly) => "the store is read-only (the file or its folder cannot be written)",
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            "the store is locked by another program (another Domania, QGIS editing it…)"
        }
        Some(ErrorCode::DatabaseCorrupt) => "the store file is damaged (run `sqlite3 FILE 'PRAGMA integrity_check'`)",
        Some(ErrorCode::DiskFull) => "the disk is full",
        Some(ErrorCode::SystemIoFailure) => "the system failed to read or write the file (disk or network share)",
        Some(ErrorCode::PermissionDenied) => "permission denied",
        Some(ErrorCode::OutOfMemory) => "out of memory",
        Some(ErrorCode::TooBig) => "a value is too large for the store",
        Some(ErrorCode::SchemaChanged) => "the store's structure changed while reading; run the command again",
        _ => return format!("database error: {e}"),
    };
    format!("{why} [{e}]")
}

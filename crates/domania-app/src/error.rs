//! The errors of the application: one type for every use case, each with a stable code (what
//! a script or the server's JSON errors match on), whether the user or the machine is to blame,
//! a message that says what to do, and, for a refused file, its validation report.

use std::fmt;

use domania_engine::{EngineError, ScenarioError};
use domania_io::IoError;
use domania_io::report::ValidationReport;
use domania_store::StoreError;
use serde::Serialize;

/// Result type of `domania-app`.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Who is to blame for an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The input: a file, an argument, a store path. The server answers 4xx.
    User,
    /// The machine or a bug: disk, database, a thread that died. The server answers 5xx.
    Internal,
}

/// Stable error codes. Never renamed once released: scripts and API clients match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No store at the path.
    StoreMissing,
    /// A file at the path that is not a Domania store (empty, not SQLite, not a GeoPackage,
    /// another application's GeoPackage, a table name clash).
    NotAStore,
    /// Another process holds the store's writer lock.
    StoreBusy,
    /// The store cannot be written here.
    StoreReadOnly,
    /// The store is damaged.
    StoreCorrupt,
    /// A database failure (disk, SQLite, PostgreSQL).
    Database,
    /// The store changed between reading and writing (another import meanwhile).
    StoreChanged,
    /// A layer has no such version.
    NoSuchVersion,
    /// An import's scope does not fit the layer or the file.
    ScopeRefused,
    /// An import the safety checks refuse (too many rows removed, empty file).
    ImportRefused,
    /// Two rows of one import have the same key.
    DuplicateKey,
    /// A file cannot be opened or read.
    FileUnreadable,
    /// A file is not well-formed (JSON, CSV, Shapefile, encoding, header).
    InvalidFile,
    /// A file is not what it is imported as (a PPM file as parcels…).
    WrongKind,
    /// A CRS Domania does not know.
    UnknownCrs,
    /// Features or lines were rejected: nothing was imported (the report says which).
    FeaturesRejected,
    /// A configuration file (rules, territory, scenario, perimeters) is invalid.
    InvalidConfig,
    /// An argument is invalid (IDU, date, encoding, layer…).
    InvalidArgument,
    /// What was asked for is not in the store (a parcel, a QPV code).
    NotFound,
    /// A layer the use case needs has not been imported yet.
    LayerMissing,
    /// A scenario or perimeter definition cannot be applied to the store.
    InvalidScenario,
    /// A name already in use (a token's).
    NameTaken,
    /// No credentials, or unknown ones.
    Unauthorized,
    /// Credentials whose role does not allow what was asked.
    Forbidden,
    /// A point outside the territory the store holds.
    OutsideTerritory,
    /// A change the current state does not allow (a report's status).
    Refused,
    /// A fault of the program or the machine.
    Internal,
}

impl ErrorCode {
    /// The code as text (`store_missing`…).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::StoreMissing => "store_missing",
            ErrorCode::NotAStore => "not_a_store",
            ErrorCode::StoreBusy => "store_busy",
            ErrorCode::StoreReadOnly => "store_read_only",
            ErrorCode::StoreCorrupt => "store_corrupt",
            ErrorCode::Database => "database",
            ErrorCode::StoreChanged => "store_changed",
            ErrorCode::NoSuchVersion => "no_such_version",
            ErrorCode::ScopeRefused => "scope_refused",
            ErrorCode::ImportRefused => "import_refused",
            ErrorCode::DuplicateKey => "duplicate_key",
            ErrorCode::FileUnreadable => "file_unreadable",
            ErrorCode::InvalidFile => "invalid_file",
            ErrorCode::WrongKind => "wrong_kind",
            ErrorCode::UnknownCrs => "unknown_crs",
            ErrorCode::FeaturesRejected => "features_rejected",
            ErrorCode::InvalidConfig => "invalid_config",
            ErrorCode::InvalidArgument => "invalid_argument",
            ErrorCode::NotFound => "not_found",
            ErrorCode::LayerMissing => "layer_missing",
            ErrorCode::InvalidScenario => "invalid_scenario",
            ErrorCode::NameTaken => "name_taken",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::OutsideTerritory => "outside_territory",
            ErrorCode::Refused => "refused",
            ErrorCode::Internal => "internal",
        }
    }

    /// Who is to blame.
    #[must_use]
    pub fn kind(self) -> ErrorKind {
        match self {
            ErrorCode::StoreCorrupt | ErrorCode::Database | ErrorCode::Internal => ErrorKind::Internal,
            _ => ErrorKind::User,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error of a use case.
#[derive(Debug)]
pub struct AppError {
    code: ErrorCode,
    message: String,
    report: Option<Box<ValidationReport>>,
}

impl AppError {
    #[must_use]
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), report: None }
    }

    /// An error that comes with the validation report of the file it is about.
    #[must_use]
    pub fn with_report(mut self, report: ValidationReport) -> Self {
        self.report = Some(Box::new(report));
        self
    }

    #[must_use]
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.code.kind()
    }

    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The validation report of a refused file.
    #[must_use]
    pub fn report(&self) -> Option<&ValidationReport> {
        self.report.as_deref()
    }

    /// Puts what was being done before the message (`reading rules.toml: …`), unless the
    /// message already says it: each thing is said once.
    #[must_use]
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        let what = what.to_string();
        if !self.message.contains(&what) {
            // A message that starts with the path the context names keeps only what it adds.
            let rest = match self.message.split_once(": ") {
                Some((head, rest)) if !head.is_empty() && what.contains(head) => rest.to_owned(),
                _ => std::mem::take(&mut self.message),
            };
            self.message = format!("{what}: {rest}");
        }
        self
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

/// `result.context(|| …)` for the application's results.
pub trait Context<T> {
    fn context<D: fmt::Display>(self, what: impl FnOnce() -> D) -> Result<T>;
}

impl<T, E: Into<AppError>> Context<T> for std::result::Result<T, E> {
    fn context<D: fmt::Display>(self, what: impl FnOnce() -> D) -> Result<T> {
        self.map_err(|e| e.into().context(what()))
    }
}

/// The message of an error and of its causes, each said once.
fn chain_text(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let s = c.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        cause = c.source();
    }
    text
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        let code = match &e {
            StoreError::Missing { .. } => ErrorCode::StoreMissing,
            StoreError::EmptyFile { .. }
            | StoreError::NotSqlite { .. }
            | StoreError::NotGeoPackage { .. }
            | StoreError::Foreign { .. }
            | StoreError::NameClash { .. } => ErrorCode::NotAStore,
            StoreError::Busy { .. } => ErrorCode::StoreBusy,
            StoreError::ReadOnly { .. } => ErrorCode::StoreReadOnly,
            StoreError::Open { .. } => ErrorCode::FileUnreadable,
            StoreError::NotPerimeterLayer(_) => ErrorCode::InvalidArgument,
            StoreError::NoSuchVersion { .. } => ErrorCode::NoSuchVersion,
            StoreError::DuplicateKey { .. } => ErrorCode::DuplicateKey,
            StoreError::ScopeNotAllowed { .. } | StoreError::OutOfScope { .. } => ErrorCode::ScopeRefused,
            StoreError::EmptyImport { .. }
            | StoreError::TooManyRemoved { .. }
            | StoreError::CopyTargetNotEmpty { .. } => ErrorCode::ImportRefused,
            StoreError::TokenNameTaken(_) => ErrorCode::NameTaken,
            StoreError::Corrupt(_) => ErrorCode::StoreCorrupt,
            StoreError::Database(_) | StoreError::Postgres(_) => ErrorCode::Database,
            StoreError::NoSuchReport(_) => ErrorCode::NotFound,
            StoreError::Refused(_) => ErrorCode::Refused,
        };
        AppError::new(code, chain_text(&e))
    }
}

impl From<IoError> for AppError {
    fn from(e: IoError) -> Self {
        let code = match &e {
            IoError::Open { .. } | IoError::Empty { .. } => ErrorCode::FileUnreadable,
            IoError::Json { .. }
            | IoError::NotFeatureCollection { .. }
            | IoError::Csv { .. }
            | IoError::ColumnCount { .. }
            | IoError::Header { .. }
            | IoError::Encoding { .. }
            | IoError::Shapefile { .. }
            | IoError::Edigeo { .. }
            | IoError::Gdal { .. } => ErrorCode::InvalidFile,
            IoError::NeedsGdal { .. } => ErrorCode::InvalidArgument,
            IoError::UnknownCrs { .. } | IoError::LateCrs { .. } => ErrorCode::UnknownCrs,
            IoError::WrongKind { .. } => ErrorCode::WrongKind,
            IoError::Write { .. } => ErrorCode::Internal,
        };
        AppError::new(code, chain_text(&e))
    }
}

impl From<EngineError> for AppError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Store(s) => s.into(),
            other @ EngineError::Mismatch { .. } => AppError::new(ErrorCode::Internal, other.to_string()),
        }
    }
}

impl From<ScenarioError> for AppError {
    fn from(e: ScenarioError) -> Self {
        AppError::new(ErrorCode::InvalidScenario, e.to_string())
    }
}

impl From<domania_core::ModelError> for AppError {
    fn from(e: domania_core::ModelError) -> Self {
        AppError::new(ErrorCode::InvalidArgument, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_text_and_say_who_is_to_blame() {
        assert_eq!(ErrorCode::StoreMissing.as_str(), "store_missing");
        assert_eq!(serde_json::to_string(&ErrorCode::FeaturesRejected).unwrap(), "\"features_rejected\"");
        assert_eq!(ErrorCode::Database.kind(), ErrorKind::Internal);
        assert_eq!(ErrorCode::WrongKind.kind(), ErrorKind::User);
        let e: AppError = StoreError::Missing { path: "x.gpkg".into() }.into();
        assert_eq!(e.code(), ErrorCode::StoreMissing);
        assert!(e.message().starts_with("x.gpkg: no store here"));
    }

    #[test]
    fn context_says_each_thing_once() {
        let e = AppError::new(ErrorCode::FileUnreadable, "/tmp/x.json: No such file or directory (os error 2)")
            .context("reading /tmp/x.json");
        assert_eq!(e.message(), "reading /tmp/x.json: No such file or directory (os error 2)");
        let e = AppError::new(ErrorCode::InvalidConfig, "bad").context("rules.toml").context("rules.toml");
        assert_eq!(e.message(), "rules.toml: bad");
    }
}

//! The errors of the application: one type for every use case, each with a stable code (what
//! a script or the server's JSON errors match on), whether the user or the machine is to blame,
//! a message that says what to do, and, for a refused file, its validation report.

use std::fmt;

use domania_engine::{EngineError, ScenarioError};
use domania_i18n::{Arg, Lang};
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

/// The table of error codes: variant, stable text, HTTP status, and what it means. One row per
/// code, so that a code, its text and its status are written once; the server answers every
/// error with one of these, the CLI prints the same text.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $text:literal, $status:literal;)*) => {
        /// Stable error codes. Never renamed once released: scripts and API clients match on them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* #[serde(rename = $text)] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in the table's order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The code as text (`store_missing`…).
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $text,)*
                }
            }

            /// The HTTP status an answer with this code has.
            #[must_use]
            pub fn http_status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)*
                }
            }
        }
    };
}

error_codes! {
    /// No store at the path.
    StoreMissing = "store_missing", 503;
    /// A file at the path that is not a Domania store (empty, not SQLite, not a GeoPackage,
    /// another application's GeoPackage, a table name clash).
    NotAStore = "not_a_store", 503;
    /// Another process holds the store's writer lock.
    StoreBusy = "store_busy", 503;
    /// The store cannot be written here.
    StoreReadOnly = "store_read_only", 503;
    /// The store is damaged.
    StoreCorrupt = "store_corrupt", 500;
    /// A database failure (disk, SQLite, PostgreSQL).
    Database = "database", 500;
    /// The store changed between reading and writing (another import meanwhile).
    StoreChanged = "store_changed", 409;
    /// A layer has no such version.
    NoSuchVersion = "no_such_version", 404;
    /// An import's scope does not fit the layer or the file.
    ScopeRefused = "scope_refused", 409;
    /// An import the safety checks refuse (too many rows removed, empty file).
    ImportRefused = "import_refused", 409;
    /// Two rows of one import have the same key.
    DuplicateKey = "duplicate_key", 422;
    /// A file cannot be opened or read.
    FileUnreadable = "file_unreadable", 400;
    /// A file is not well-formed (JSON, CSV, Shapefile, encoding, header).
    InvalidFile = "invalid_file", 422;
    /// A file is not what it is imported as (a PPM file as parcels…).
    WrongKind = "wrong_kind", 422;
    /// A CRS Domania does not know.
    UnknownCrs = "unknown_crs", 400;
    /// Features or lines were rejected: nothing was imported (the report says which).
    FeaturesRejected = "features_rejected", 422;
    /// A configuration file (rules, territory, scenario, perimeters) is invalid.
    InvalidConfig = "invalid_config", 400;
    /// An argument is invalid (IDU, date, encoding, layer…).
    InvalidArgument = "invalid_argument", 400;
    /// What was asked for is not in the store (a parcel, a QPV code), or no such route.
    NotFound = "not_found", 404;
    /// A layer the use case needs has not been imported yet.
    LayerMissing = "layer_missing", 404;
    /// A scenario or perimeter definition cannot be applied to the store.
    InvalidScenario = "invalid_scenario", 400;
    /// A name already in use (a token's).
    NameTaken = "name_taken", 409;
    /// No credentials, or unknown ones.
    Unauthorized = "unauthorized", 401;
    /// Credentials whose role does not allow what was asked.
    Forbidden = "forbidden", 403;
    /// A point outside the territory the store holds.
    OutsideTerritory = "outside_territory", 400;
    /// A change the current state does not allow (a report's status).
    Refused = "refused", 409;
    /// A query parameter that does not parse (a number that is not one, an unknown value).
    BadParameter = "bad_parameter", 400;
    /// A query parameter that is neither a parameter of the route nor a property to filter on.
    UnknownParameter = "unknown_parameter", 400;
    /// A point given neither as lon/lat nor as x/y.
    BadPoint = "bad_point", 400;
    /// A point outside metropolitan France, where Lambert-93 is defined.
    OutsideFrance = "outside_france", 400;
    /// An intervention kind the rules do not define.
    UnknownKind = "unknown_kind", 400;
    /// Not an IDU.
    BadIdu = "bad_idu", 400;
    /// A section that is neither `AB` nor a commune and a section.
    BadSection = "bad_section", 400;
    /// A `bbox` that is not four numbers, min before max.
    BadBbox = "bad_bbox", 400;
    /// A CRS the API does not serve.
    BadCrs = "bad_crs", 400;
    /// A `limit` out of its range.
    BadLimit = "bad_limit", 400;
    /// A negative `offset`.
    BadOffset = "bad_offset", 400;
    /// A format (`f=`) the answer does not come in.
    BadFormat = "bad_format", 400;
    /// A tile address out of range.
    BadTile = "bad_tile", 400;
    /// A scenario body that does not parse.
    BadScenario = "bad_scenario", 400;
    /// Rules that are not TOML text.
    BadRules = "bad_rules", 400;
    /// A token request that does not parse.
    BadToken = "bad_token", 400;
    /// An upload that cannot be read (not a zip, no .shp in it…).
    BadUpload = "bad_upload", 400;
    /// An upload without a body.
    EmptyUpload = "empty_upload", 400;
    /// An upload or an archive larger than the server takes.
    UploadTooLarge = "upload_too_large", 413;
    /// A layer that is computed, not uploaded.
    NotImportable = "not_importable", 400;
    /// A layer that is imported whole (the cadastre, the owners, the addresses) or computed:
    /// not edited feature by feature.
    NotEditable = "not_editable", 405;
    /// A feature edited since the editor loaded it (its tag is not the one named by `If-Match`).
    FeatureChanged = "feature_changed", 412;
    /// A feature created with a key the layer already has.
    FeatureExists = "feature_exists", 409;
    /// A body that is not a GeoJSON feature with a polygon in CRS84.
    BadFeature = "bad_feature", 400;
    /// A scope that does not parse.
    BadScope = "bad_scope", 400;
    /// Versions of a diff that do not parse.
    BadVersions = "bad_versions", 400;
    /// A rollback request that does not parse.
    BadRollback = "bad_rollback", 400;
    /// A request body that is not valid JSON for the route, or a form that does not parse.
    BadBody = "bad_body", 400;
    /// A body sent with a media type the route does not take.
    UnsupportedMediaType = "unsupported_media_type", 415;
    /// A method the route does not answer.
    MethodNotAllowed = "method_not_allowed", 405;
    /// The request took longer than the server allows, or its body paused too long.
    Timeout = "timeout", 408;
    /// The server is at one of its limits (connections, uploads or heavy requests under way):
    /// try again after `Retry-After` seconds.
    Busy = "busy", 503;
    /// A text field holding a character no store can keep (NUL), or longer than allowed.
    BadText = "bad_text", 422;
    /// Too many posts from one token or one address: try again after `Retry-After` seconds.
    RateLimited = "rate_limited", 429;
    /// A fault of the program or the machine.
    Internal = "internal", 500;
}

impl ErrorCode {
    /// Who is to blame.
    #[must_use]
    pub fn kind(self) -> ErrorKind {
        if self.http_status() >= 500 && !matches!(self.http_status(), 503) {
            ErrorKind::Internal
        } else {
            ErrorKind::User
        }
    }
}

/// A layer's name as a reader of `lang` says it (`sous-secteurs`); the name itself for a layer
/// the catalogue does not know.
#[must_use]
pub fn layer_label(layer: &str, lang: Lang) -> String {
    let id = format!("layer-{layer}");
    if lang.has(&id) { lang.t(&id, &[]) } else { layer.to_owned() }
}

/// A layer as the argument of a message: its name in each language.
#[must_use]
pub fn layer_arg(layer: domania_core::Layer) -> Arg {
    let name = layer.to_string();
    Arg::each(|lang| layer_label(&name, lang))
}

/// The sentence that says what an error code means, in `lang`.
#[must_use]
pub fn code_sentence(code: ErrorCode, lang: Lang) -> String {
    lang.t(&format!("code-{}", code.as_str()), &[])
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who reads an error: what to do is said for the tool in front of them (a flag of the
/// command line, a box to tick in the viewer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Audience {
    /// A person at the command line.
    #[default]
    Cli,
    /// A person in the viewer or a client of the HTTP API.
    Web,
}

impl Audience {
    fn as_str(self) -> &'static str {
        match self {
            Audience::Cli => "cli",
            Audience::Web => "web",
        }
    }
}

/// An error as a message of the catalogues, said in the reader's language.
#[derive(Debug, Clone)]
pub struct Said {
    id: &'static str,
    args: Vec<(&'static str, Arg)>,
    /// English readers are told the error's own message (more precise than the catalogue's).
    english_is_message: bool,
}

impl Said {
    /// The message `id` with its arguments.
    #[must_use]
    pub fn new(id: &'static str, args: Vec<(&'static str, Arg)>) -> Self {
        Self { id, args, english_is_message: false }
    }

    /// The message in `lang`, for `audience`.
    #[must_use]
    pub fn text(&self, lang: Lang, audience: Audience) -> String {
        let mut args = self.args.clone();
        args.push(("ui", Arg::from(audience.as_str())));
        lang.t(self.id, &args)
    }
}

/// An error of a use case.
#[derive(Debug, Clone)]
pub struct AppError {
    code: ErrorCode,
    /// In English, with every detail: for logs, and for English readers when not `said`.
    message: String,
    /// The message of the catalogues, when the error has one.
    said: Option<Said>,
    report: Option<Box<ValidationReport>>,
    /// When to try again, in seconds (a limit reached).
    retry_after_s: Option<u64>,
}

impl AppError {
    #[must_use]
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), said: None, report: None, retry_after_s: None }
    }

    /// An error said by the catalogues' message `id` (its English text is the message).
    #[must_use]
    pub fn said(code: ErrorCode, id: &'static str, args: Vec<(&'static str, Arg)>) -> Self {
        let said = Said::new(id, args);
        Self { code, message: said.text(Lang::En, Audience::Cli), said: Some(said), report: None, retry_after_s: None }
    }

    /// The message in `lang` for `audience`: the catalogues' message when the error has one;
    /// otherwise the code's sentence with the details (in English, as the lower layers give
    /// them) when the language is not English.
    #[must_use]
    pub fn text(&self, lang: Lang, audience: Audience) -> String {
        match (&self.said, lang) {
            (Some(said), Lang::En) if said.english_is_message => self.message.clone(),
            (Some(said), _) => said.text(lang, audience),
            (None, Lang::En) => self.message.clone(),
            (None, _) => {
                let sentence = code_sentence(self.code, lang);
                lang.t("error-detail", &[("sentence", sentence.into()), ("detail", self.message.clone().into())])
            }
        }
    }

    /// The error said by the catalogues' message `id` in every language but English, where its
    /// own message, more precise, is kept.
    #[must_use]
    pub fn said_but_in_english(mut self, id: &'static str, args: Vec<(&'static str, Arg)>) -> Self {
        self.said = Some(Said { id, args, english_is_message: true });
        self
    }

    /// The error with the seconds after which trying again may succeed.
    #[must_use]
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_s = Some(seconds);
        self
    }

    /// The seconds after which trying again may succeed, when a limit was reached.
    #[must_use]
    pub fn retry_after_s(&self) -> Option<u64> {
        self.retry_after_s
    }

    /// The catalogues' message, when the error has one.
    #[must_use]
    pub fn said_as(&self) -> Option<&Said> {
        self.said.as_ref()
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

    /// The error without `prefix` (a server's temporary folder) in its message and its
    /// report: a person is told the file as they sent it, never where the server put it.
    #[must_use]
    pub fn without(mut self, prefix: &str) -> Self {
        self.message = self.message.replace(prefix, "");
        if let Some(said) = self.said.as_mut() {
            for (_, arg) in &mut said.args {
                if let Arg::Text(t) = arg {
                    *t = t.replace(prefix, "");
                }
            }
        }
        if let Some(r) = self.report.as_mut() {
            let shown = r.path.display().to_string().replace(prefix, "");
            r.path = shown.into();
            for issue in &mut r.issues {
                issue.message = issue.message.replace(prefix, "");
            }
        }
        self
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
            StoreError::Moved { .. } | StoreError::EditedMeanwhile { .. } => ErrorCode::FeatureChanged,
            StoreError::CopyUnstorable { .. } => ErrorCode::BadText,
            StoreError::Corrupt(_) => ErrorCode::StoreCorrupt,
            StoreError::Database(_) | StoreError::Postgres(_) => ErrorCode::Database,
            StoreError::NoSuchReport(_) => ErrorCode::NotFound,
            StoreError::Refused(_) => ErrorCode::Refused,
        };
        let text = |s: &dyn fmt::Display| Arg::from(s.to_string());
        let said = match &e {
            StoreError::Missing { path } => {
                Some(Said::new("error-store-missing", vec![("path", text(&path.display()))]))
            }
            StoreError::EmptyFile { path }
            | StoreError::NotSqlite { path }
            | StoreError::NotGeoPackage { path, .. }
            | StoreError::Foreign { path, .. }
            | StoreError::NameClash { path, .. } => {
                Some(Said::new("error-not-a-store", vec![("path", text(&path.display()))]))
            }
            StoreError::Busy { holder, waited_s, .. } => Some(Said::new(
                "error-store-busy",
                vec![("holder", holder.as_str().into()), ("seconds", text(waited_s))],
            )),
            StoreError::NoSuchVersion { layer, version, latest } => Some(Said::new(
                "error-no-version",
                vec![("layer", layer.as_str().into()), ("version", text(version)), ("latest", text(latest))],
            )),
            StoreError::DuplicateKey { layer, key } => Some(Said::new(
                "error-duplicate-key",
                vec![("layer", layer.as_str().into()), ("key", key.as_str().into())],
            )),
            StoreError::ScopeNotAllowed { layer, scope, allowed } => Some(Said::new(
                "error-scope-not-allowed",
                vec![("layer", (*layer).into()), ("scope", (*scope).into()), ("allowed", allowed.as_str().into())],
            )),
            StoreError::OutOfScope { key, scope } => Some(Said::new(
                "error-out-of-scope",
                vec![("key", key.as_str().into()), ("scope", scope.as_str().into())],
            )),
            StoreError::EmptyImport { layer } => {
                Some(Said::new("error-empty-import", vec![("layer", (*layer).into())]))
            }
            StoreError::Moved { layer, .. } | StoreError::EditedMeanwhile { layer } => Some(Said::new(
                "error-layer-moved",
                vec![("layer", layer.parse::<domania_core::Layer>().map_or_else(|_| (*layer).into(), layer_arg))],
            )),
            StoreError::TooManyRemoved { over, limit_pct } => {
                let parts = |lang: Lang| {
                    let one = |o: &domania_store::Overflow| {
                        lang.t(
                            "removal-part",
                            &[
                                ("kind", o.kind.as_str().into()),
                                (
                                    "code",
                                    if o.kind == "layer" { layer_label(&o.code, lang) } else { o.code.clone() }.into(),
                                ),
                                ("removed", Arg::Count(o.removed)),
                                ("current", Arg::Count(o.current)),
                                ("percent", domania_i18n::format::percent(o.percent() / 100.0, 1, lang).into()),
                            ],
                        )
                    };
                    over.iter().map(one).collect::<Vec<_>>().join(" ; ")
                };
                Some(Said::new(
                    "error-too-many-removed",
                    vec![
                        ("details", Arg::each(parts)),
                        ("limit", Arg::each(|lang| domania_i18n::format::percent(*limit_pct / 100.0, 0, lang))),
                    ],
                ))
            }
            StoreError::TokenNameTaken(name) => {
                Some(Said::new("error-token-taken", vec![("name", name.as_str().into())]))
            }
            StoreError::NoSuchReport(id) => Some(Said::new("error-no-request", vec![("id", text(id))])),
            _ => None,
        };
        let mut error = AppError::new(code, chain_text(&e));
        error.said = said;
        error
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
            IoError::Archive { .. } => ErrorCode::BadUpload,
            IoError::ArchiveTooLarge { .. } => ErrorCode::UploadTooLarge,
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

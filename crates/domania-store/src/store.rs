//! The versioned store, on one of two engines: a GeoPackage file ([`crate::sqlite`]) for a
//! communauté urbaine, or a PostgreSQL/PostGIS database ([`crate::pg`]) shared by many servers.
//!
//! Both keep the same model. Each layer is two tables: `<layer>` holds the current version (what
//! QGIS and `ogrinfo` show, spatially indexed), `<layer>_history` holds every row a later
//! version replaced or removed, with the version range it was valid in (`v_from` ≤ v < `v_to`).
//! A row of the current table is valid from `v_from` on. The rows of version V are therefore
//! `current WHERE v_from <= V` plus `history WHERE v_from <= V AND v_to > V`.
//!
//! An import is one transaction: [`ImportTx`] compares the new rows with the current ones by
//! key and content hash (the same code for both engines), the engine's writer moves replaced
//! and removed rows to the history, writes the new ones and records the version in
//! `domania_versions`. Killed at any moment, the store holds the previous version, whole.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use geo_types::MultiPolygon;
use serde::Serialize;

use crate::error::{Result, StoreError};
use crate::layer::{Layer, Row};
use crate::pg::PgDb;
use crate::scope::{Scope, ScopeKind};
use crate::sqlite::GpkgDb;

/// Who imports what: recorded with the version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportMeta {
    pub author: String,
    /// Source file path (or a description for rollbacks).
    pub source: String,
    pub source_sha256: Option<String>,
    pub rejected: usize,
    pub repaired: usize,
    /// The validation report, as JSON.
    pub report_json: Option<String>,
}

/// One version of one layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionInfo {
    pub layer: Layer,
    pub version: i64,
    /// `import` or `rollback`.
    pub kind: String,
    /// True when the import changed nothing: no version was written, `version` is the current
    /// one.
    pub unchanged: bool,
    /// What the version replaced: `commune=91216`, `departement=75,78`, `layer`…
    pub scope: String,
    pub author: String,
    pub created_at: String,
    pub source: String,
    pub source_sha256: Option<String>,
    pub features: i64,
    pub added: i64,
    pub removed: i64,
    pub changed: i64,
    pub reshaped: i64,
    pub rejected: i64,
    pub repaired: i64,
}

/// One part of a layer (a commune, a département…) and the version that last replaced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeInfo {
    pub scope_kind: ScopeKind,
    /// The code (`91216`, `75`), empty for a whole-layer import.
    pub scope: String,
    pub version: i64,
    /// `import` or `rollback`.
    pub kind: String,
    pub created_at: String,
    pub author: String,
    pub source: String,
    pub source_sha256: Option<String>,
    /// Rows of the layer in this part now.
    pub features: i64,
}

/// Current state of a layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerSummary {
    pub layer: Layer,
    pub version: Option<i64>,
    pub features: i64,
    pub history_rows: i64,
}

/// What changed between two versions of a layer, by key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub from: i64,
    pub to: i64,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Geometry changed.
    pub reshaped: Vec<String>,
    /// Attributes changed, geometry unchanged.
    pub attributes_changed: Vec<String>,
    /// Owners layer only: parcels (IDU) whose set of rights changed, i.e. a (right, SIREN, name)
    /// appeared or disappeared. A change of groupe, forme or SUF row count is in
    /// `attributes_changed` only.
    pub parcels_with_owner_changes: Vec<String>,
}

/// A stored parcel with its version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredParcel {
    pub idu: String,
    pub contenance: Option<i64>,
    pub geom_l93: MultiPolygon<f64>,
    pub v_from: i64,
}

/// A stored perimeter.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPerimeter {
    pub key: String,
    pub name: Option<String>,
    pub properties_json: String,
    pub geom_l93: MultiPolygon<f64>,
}

/// A stored right of a legal person on a parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredRight {
    pub idu: String,
    /// The *code droit*: only [`domania_core::Right::Proprietaire`] makes an owner.
    pub droit: domania_core::Right,
    pub siren: String,
    pub denomination: String,
    pub groupe: Option<u8>,
    pub forme: Option<String>,
    pub forme_abregee: Option<String>,
}

/// The current state of a store, read at once (see [`Store::read_all`]).
#[derive(Debug, Clone, Default)]
pub struct StoreContents {
    pub parcels: Vec<StoredParcel>,
    /// Rights `P` (owners).
    pub owner_rights: Vec<StoredRight>,
    /// See [`Store::owner_coverage`].
    pub owner_coverage: BTreeSet<String>,
    pub subsectors: Vec<StoredPerimeter>,
    pub qpv: Vec<StoredPerimeter>,
    pub conventions: Vec<StoredPerimeter>,
    /// The current version of each layer (`None` before its first import).
    pub versions: BTreeMap<Layer, Option<i64>>,
}

/// How long and with what message an opening waits for a store another process holds.
pub struct Wait<'a> {
    /// The longest wait, for the writer lock and for SQLite's own locks.
    pub timeout: Duration,
    /// Told once, when the store is found busy, who holds it.
    pub on_wait: &'a dyn Fn(&str),
}

impl Default for Wait<'_> {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(30), on_wait: &|_| {} }
    }
}

impl Wait<'_> {
    /// Takes a writers' lock: `try_take` answers `None` once the lock is ours, or who holds it.
    /// Who holds it is told once, the first time, and is in the error when the wait is over.
    pub(crate) fn for_lock(
        &self,
        shown: &Path,
        every: Duration,
        mut try_take: impl FnMut() -> Result<Option<String>>,
    ) -> Result<()> {
        let start = std::time::Instant::now();
        let mut told = false;
        while let Some(holder) = try_take()? {
            let holder = format!("being written by {holder}");
            if start.elapsed() >= self.timeout {
                return Err(StoreError::Busy { path: shown.to_path_buf(), holder, waited_s: self.timeout.as_secs() });
            }
            if !told {
                (self.on_wait)(&format!("{}: {holder}; waiting up to {} s", shown.display(), self.timeout.as_secs()));
                told = true;
            }
            std::thread::sleep(every);
        }
        Ok(())
    }
}

/// An API token as the store keeps it (its secret's hash is never given out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub name: String,
    pub role: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

impl StoredRight {
    /// The owner as the classifier takes it.
    #[must_use]
    pub fn owner(&self) -> domania_core::Owner {
        domania_core::Owner {
            siren: domania_core::Siren::new(&self.siren),
            name: self.denomination.clone(),
            groupe: self.groupe,
            forme: self.forme.clone(),
            forme_abregee: self.forme_abregee.clone(),
        }
    }
}

/// What an import replaces and what it may remove.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportOptions {
    pub scope: Scope,
    /// The largest share (0–1) of a scope's current rows an import may remove without `force`.
    pub max_removed: f64,
    /// Accept an import the guard would refuse (a scope losing more than `max_removed` of its
    /// rows; with an explicit scope, an empty file that empties it).
    pub force: bool,
}

/// Default of [`ImportOptions::max_removed`]: a yearly cadastre of a commune removes a few
/// per cent of its parcels (divisions, mergers); losing a fifth is a wrong or partial file far
/// more often than a real change.
pub const MAX_REMOVED_DEFAULT: f64 = 0.2;

impl Default for ImportOptions {
    fn default() -> Self {
        Self { scope: Scope::layer(), max_removed: MAX_REMOVED_DEFAULT, force: false }
    }
}

impl ImportOptions {
    /// The default options of a layer: its default scope, derived from the imported rows.
    #[must_use]
    pub fn for_layer(layer: Layer) -> Self {
        let kind = ScopeKind::default_for(layer);
        Self { scope: if kind == ScopeKind::Layer { Scope::layer() } else { Scope::touched(kind) }, ..Self::default() }
    }
}

/// Where a store is: a GeoPackage file, or a PostgreSQL database (`postgresql://…`,
/// `postgres://…`, or a libpq key-value string starting with `postgresql:`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    File(PathBuf),
    /// A libpq connection string (URL or key-value form).
    Postgres(String),
}

impl Location {
    /// Whether a store may already be there: the file exists, or (a database) always.
    #[must_use]
    pub fn exists(&self) -> bool {
        match self {
            Location::File(p) => p.exists(),
            Location::Postgres(_) => true,
        }
    }

    /// The file of a GeoPackage store.
    #[must_use]
    pub fn file(&self) -> Option<&Path> {
        match self {
            Location::File(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }

    /// The location as it may be shown: a database's password is masked.
    #[must_use]
    pub fn display(&self) -> impl fmt::Display + '_ {
        self
    }

    /// The location as a path in error messages (a database's masked URL).
    pub(crate) fn as_error_path(&self) -> PathBuf {
        PathBuf::from(self.to_string())
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => f.write_str(&mask_password(url)),
        }
    }
}

/// `postgresql://user:secret@host/db` → `postgresql://user:***@host/db`; `password=secret` →
/// `password=***`.
fn mask_password(url: &str) -> String {
    if let Some(rest) = url.split_once("://").map(|(_, r)| r)
        && let Some((auth, _)) = rest.split_once('@')
        && let Some((_, pw)) = auth.split_once(':')
        && !pw.is_empty()
    {
        return url.replacen(&format!(":{pw}@"), ":***@", 1);
    }
    crate::pg_tls::key_values(url)
        .into_iter()
        .map(|(k, _, raw)| if k == "password" { "password=***".to_owned() } else { raw })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `s` is a libpq `key=value` connection string (`host=… dbname=…`): its first word
/// is one of the keys that name a server or a database.
fn is_conninfo(s: &str) -> bool {
    let first = s.split_whitespace().next().unwrap_or("");
    first.split_once('=').is_some_and(|(k, _)| {
        matches!(k.trim(), "host" | "hostaddr" | "port" | "dbname" | "user" | "password" | "service")
    })
}

impl FromStr for Location {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(Self::from(s))
    }
}

impl From<&str> for Location {
    fn from(s: &str) -> Self {
        if s.starts_with("postgresql:") || s.starts_with("postgres:") || is_conninfo(s) {
            Location::Postgres(s.to_owned())
        } else {
            Location::File(PathBuf::from(s))
        }
    }
}

impl From<&Path> for Location {
    fn from(p: &Path) -> Self {
        p.to_str().map_or_else(|| Location::File(p.to_path_buf()), Location::from)
    }
}

impl From<PathBuf> for Location {
    fn from(p: PathBuf) -> Self {
        Location::from(p.as_path())
    }
}

/// One row of `domania_versions`, as both engines keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VersionRecord {
    pub layer: String,
    pub version: i64,
    pub kind: String,
    pub author: String,
    /// Set by the engine when the version is written; kept as it is by a copy.
    pub created_at: Option<String>,
    pub source: String,
    pub source_sha256: Option<String>,
    pub features: i64,
    pub added: i64,
    pub removed: i64,
    pub changed: i64,
    pub reshaped: i64,
    pub rejected: i64,
    pub repaired: i64,
    pub report: Option<String>,
}

/// One row of `domania_scopes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScopeRecord {
    pub layer: String,
    pub version: i64,
    pub scope_kind: String,
    pub scope: String,
    pub features: i64,
    pub added: i64,
    pub removed: i64,
    pub changed: i64,
}

/// A stored token with its secret's hash, as a copy moves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenRecord {
    pub name: String,
    pub role: String,
    pub sha256: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// A saved version of the rules, as a copy moves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RulesRecord {
    pub version: i64,
    pub author: String,
    pub created_at: String,
    pub toml: String,
}

/// A row of a query on either engine, read by position: the records below are read by one
/// function each, from the same columns, whatever the engine.
pub(crate) trait RecordRow {
    fn at<T>(&self, i: usize) -> Result<T>
    where
        T: rusqlite::types::FromSql + for<'a> postgres::types::FromSql<'a>;
}

/// What both engines read the same way: the columns to select, and the record made of them.
pub(crate) trait Record: Sized {
    /// The columns [`Record::read`] reads, in its order.
    const COLUMNS: &'static str;
    fn read(r: &impl RecordRow) -> Result<Self>;
}

impl Record for VersionRecord {
    const COLUMNS: &'static str = "layer, version, kind, author, created_at, source, source_sha256, \
        features, added, removed, changed, reshaped, rejected, repaired, report";

    fn read(r: &impl RecordRow) -> Result<Self> {
        Ok(Self {
            layer: r.at(0)?,
            version: r.at(1)?,
            kind: r.at(2)?,
            author: r.at(3)?,
            created_at: r.at(4)?,
            source: r.at(5)?,
            source_sha256: r.at(6)?,
            features: r.at(7)?,
            added: r.at(8)?,
            removed: r.at(9)?,
            changed: r.at(10)?,
            reshaped: r.at(11)?,
            rejected: r.at(12)?,
            repaired: r.at(13)?,
            report: r.at(14)?,
        })
    }
}

impl Record for ScopeRecord {
    const COLUMNS: &'static str = "layer, version, scope_kind, scope, features, added, removed, changed";

    fn read(r: &impl RecordRow) -> Result<Self> {
        Ok(Self {
            layer: r.at(0)?,
            version: r.at(1)?,
            scope_kind: r.at(2)?,
            scope: r.at(3)?,
            features: r.at(4)?,
            added: r.at(5)?,
            removed: r.at(6)?,
            changed: r.at(7)?,
        })
    }
}

impl Record for TokenRecord {
    const COLUMNS: &'static str = "name, role, sha256, created_at, revoked_at";

    fn read(r: &impl RecordRow) -> Result<Self> {
        Ok(Self { name: r.at(0)?, role: r.at(1)?, sha256: r.at(2)?, created_at: r.at(3)?, revoked_at: r.at(4)? })
    }
}

impl Record for TokenInfo {
    const COLUMNS: &'static str = "name, role, created_at, revoked_at";

    fn read(r: &impl RecordRow) -> Result<Self> {
        Ok(Self { name: r.at(0)?, role: r.at(1)?, created_at: r.at(2)?, revoked_at: r.at(3)? })
    }
}

impl Record for RulesRecord {
    const COLUMNS: &'static str = "version, author, created_at, toml";

    fn read(r: &impl RecordRow) -> Result<Self> {
        Ok(Self { version: r.at(0)?, author: r.at(1)?, created_at: r.at(2)?, toml: r.at(3)? })
    }
}

/// A stored row with its bookkeeping: what a copy moves from one engine to the other.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawRow {
    pub fid: i64,
    pub row: Row,
    pub ghash: i64,
    pub ahash: i64,
    pub v_from: i64,
    /// `None` for a current row, the end of its validity for a history row.
    pub v_to: Option<i64>,
}

/// The hashes of a stored row (current or history): what diffs and dumps read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HashRow {
    pub key: String,
    pub v_from: i64,
    pub v_to: Option<i64>,
    pub ghash: i64,
    pub ahash: i64,
}

/// What `store copy` moved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CopyReport {
    pub from: String,
    pub to: String,
    pub versions: usize,
    pub tokens: usize,
    pub rules_versions: usize,
    /// Per layer: (current rows, history rows).
    pub layers: BTreeMap<String, (usize, usize)>,
}

/// What [`Store::verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub store: String,
    /// The engine's own check (`PRAGMA integrity_check`, the partitions of a database): `ok`, or
    /// what is wrong.
    pub engine: String,
    /// Per layer: rows read (current, history).
    pub layers: BTreeMap<String, (usize, usize)>,
    /// The rows that are not what Domania wrote: their content no longer matches the hashes
    /// written with them (an edit in QGIS, sqlite3 or psql, outside any version).
    pub altered: Vec<AlteredRow>,
    /// The layers whose row counts are not what their versions add up to: rows deleted or
    /// added outside Domania.
    pub miscounted: Vec<Miscount>,
}

impl VerifyReport {
    /// Whether the engine is sound and every row is as Domania wrote it.
    #[must_use]
    pub fn is_sound(&self) -> bool {
        self.engine == "ok" && self.altered.is_empty() && self.miscounted.is_empty()
    }
}

/// A layer whose rows are not as many as its versions say. Every version records how many rows
/// it added, removed and changed; a removed or changed row goes to the history. So the current
/// rows are the sum of `added − removed`, and the history rows the sum of `removed + changed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Miscount {
    pub layer: Layer,
    /// Current rows: found, and what the versions add up to.
    pub current: (usize, i64),
    /// History rows: found, and what the versions add up to.
    pub history: (usize, i64),
}

/// A row changed outside Domania.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlteredRow {
    pub layer: Layer,
    pub key: String,
    /// The version that wrote the row.
    pub v_from: i64,
    /// For a row of the history, the version that replaced it.
    pub v_to: Option<i64>,
    /// Whether its geometry, and its attributes, differ from what was written.
    pub geometry: bool,
    pub attributes: bool,
    /// The hashes of what it holds now (geometry, attributes).
    #[serde(skip)]
    pub now: (i64, i64),
}

/// Rights by parcel, then SIREN and name.
fn sort_rights(rights: &mut [StoredRight]) {
    rights.sort_unstable_by(|a, b| {
        (&a.idu, &a.siren, &a.denomination, a.droit.code()).cmp(&(&b.idu, &b.siren, &b.denomination, b.droit.code()))
    });
}

/// The engine of a store.
enum Db {
    Gpkg(GpkgDb),
    Pg(Box<PgDb>),
}

/// Runs the same call on whichever engine holds the store.
macro_rules! on_db {
    ($self:expr, $db:ident => $call:expr) => {
        match $self {
            Db::Gpkg($db) => $call,
            Db::Pg($db) => $call,
        }
    };
}

/// A Domania store: a GeoPackage file or a PostGIS database.
pub struct Store {
    db: Db,
    location: Location,
}

impl Store {
    fn gpkg(db: GpkgDb) -> Self {
        let location = Location::File(db.path().to_path_buf());
        Self { db: Db::Gpkg(db), location }
    }

    /// Opens an existing GeoPackage store for reading only: nothing in the file can change, it
    /// may be read-only, and a missing path, an empty file or a foreign GeoPackage is an error.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_read(path, &Wait::default())
    }

    /// [`Store::open`], waiting at most `wait` for a writer that is committing.
    pub fn open_read(path: &Path, wait: &Wait<'_>) -> Result<Self> {
        GpkgDb::open_read(path, wait).map(Self::gpkg)
    }

    /// Opens an existing GeoPackage store for writing (rollback, the spaces layer): the writer
    /// lock is taken first, waiting at most `wait.timeout` for another writer.
    pub fn open_write(path: &Path, wait: &Wait<'_>) -> Result<Self> {
        GpkgDb::open_write(path, wait).map(Self::gpkg)
    }

    /// Opens a GeoPackage store for an import, creating a new one when nothing is at `path`. A
    /// foreign GeoPackage gets Domania's tables only with `adopt` (and never when one of its
    /// tables has a Domania layer's name); an empty file is refused.
    pub fn create(path: &Path, adopt: bool, wait: &Wait<'_>) -> Result<Self> {
        GpkgDb::create(path, adopt, wait).map(Self::gpkg)
    }

    /// Opens the store at `location` for reading only.
    pub fn open_read_at(location: &Location, wait: &Wait<'_>) -> Result<Self> {
        match location {
            Location::File(p) => Self::open_read(p, wait),
            Location::Postgres(url) => {
                Ok(Self { db: Db::Pg(Box::new(PgDb::open(url, false, wait)?)), location: location.clone() })
            }
        }
    }

    /// Opens the existing store at `location` for writing (see [`Store::open_write`]).
    pub fn open_write_at(location: &Location, wait: &Wait<'_>) -> Result<Self> {
        match location {
            Location::File(p) => Self::open_write(p, wait),
            Location::Postgres(url) => {
                Ok(Self { db: Db::Pg(Box::new(PgDb::open(url, true, wait)?)), location: location.clone() })
            }
        }
    }

    /// Opens the store at `location` for an import, creating it when there is none (a file
    /// created, or Domania's schema created in the database).
    pub fn create_at(location: &Location, adopt: bool, wait: &Wait<'_>) -> Result<Self> {
        match location {
            Location::File(p) => Self::create(p, adopt, wait),
            Location::Postgres(url) => {
                Ok(Self { db: Db::Pg(Box::new(PgDb::create(url, wait)?)), location: location.clone() })
            }
        }
    }

    /// Where the store is.
    #[must_use]
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The file path of a GeoPackage store, the masked URL of a database.
    #[must_use]
    pub fn path(&self) -> PathBuf {
        self.location.as_error_path()
    }

    /// Whether the store is a PostGIS database.
    #[must_use]
    pub fn is_postgres(&self) -> bool {
        matches!(self.db, Db::Pg(_))
    }

    /// Removes the file this opening created, if no version was written into it: a failed first
    /// import leaves nothing behind. A database is never removed.
    pub fn discard_if_new(self) {
        if let Db::Gpkg(db) = self.db {
            db.discard_if_new();
        }
    }

    fn is_writer(&self) -> bool {
        on_db!(&self.db, db => db.is_writer())
    }

    fn need_writer(&self, what: &'static str) -> Result<()> {
        if self.is_writer() { Ok(()) } else { Err(StoreError::ReadOnly { path: self.path(), what }) }
    }

    /// Latest version number of a layer (`None` before its first import).
    pub fn latest_version(&self, layer: Layer) -> Result<Option<i64>> {
        on_db!(&self.db, db => db.latest_version(layer))
    }

    /// Imports rows as a new version of a layer, replacing what `opts.scope` covers.
    pub fn import(
        &mut self,
        layer: Layer,
        rows: Vec<Row>,
        meta: &ImportMeta,
        opts: &ImportOptions,
    ) -> Result<VersionInfo> {
        let mut tx = self.begin_import(layer, opts.clone())?;
        for row in rows {
            tx.push(row)?;
        }
        tx.commit(meta)
    }

    /// Starts writing a new version of `layer` in one transaction. Rows are pushed one by one
    /// (so a reader thread can feed them while the file is still being parsed); nothing is
    /// visible until [`ImportTx::commit`], and dropping the `ImportTx` rolls everything back.
    pub fn begin_import(&mut self, layer: Layer, opts: ImportOptions) -> Result<ImportTx<'_>> {
        opts.scope.check(layer)?;
        self.need_writer("an import")?;
        self.begin(layer, "import", opts)
    }

    fn begin(&mut self, layer: Layer, kind: &str, opts: ImportOptions) -> Result<ImportTx<'_>> {
        let (writer, version) = match &mut self.db {
            Db::Gpkg(db) => db.writer(layer)?,
            Db::Pg(db) => db.writer(layer)?,
        };
        ImportTx::new(writer, layer, kind, version, opts)
    }

    /// Version → what it replaced (`commune=75118,91216`), from `domania_scopes`.
    fn scope_texts(&self, layer: Layer) -> Result<HashMap<i64, String>> {
        let mut by: BTreeMap<(i64, String), Vec<String>> = BTreeMap::new();
        for s in on_db!(&self.db, db => db.scope_records(Some(layer)))? {
            by.entry((s.version, s.scope_kind)).or_default().push(s.scope);
        }
        Ok(by
            .into_iter()
            .map(|((v, kind), mut codes)| {
                codes.sort();
                (v, if kind == "layer" { kind } else { format!("{kind}={}", codes.join(",")) })
            })
            .collect())
    }

    /// Every version of a layer, oldest first.
    pub fn history(&self, layer: Layer) -> Result<Vec<VersionInfo>> {
        let scopes = self.scope_texts(layer)?;
        let records = on_db!(&self.db, db => db.version_records(Some(layer)))?;
        Ok(records
            .into_iter()
            .map(|r| VersionInfo {
                layer,
                version: r.version,
                kind: r.kind,
                unchanged: false,
                // Versions written before scopes existed replaced the whole layer.
                scope: scopes.get(&r.version).cloned().unwrap_or_else(|| "layer".to_owned()),
                author: r.author,
                created_at: r.created_at.unwrap_or_default(),
                source: r.source,
                source_sha256: r.source_sha256,
                features: r.features,
                added: r.added,
                removed: r.removed,
                changed: r.changed,
                reshaped: r.reshaped,
                rejected: r.rejected,
                repaired: r.repaired,
            })
            .collect())
    }

    /// The parts of a layer (communes, départements…) with the version that last replaced each,
    /// where it came from, and how many rows each holds now.
    pub fn scopes(&self, layer: Layer) -> Result<Vec<ScopeInfo>> {
        let versions: HashMap<i64, VersionRecord> =
            on_db!(&self.db, db => db.version_records(Some(layer)))?.into_iter().map(|r| (r.version, r)).collect();
        // The latest version of each (kind, code).
        let mut last: BTreeMap<(ScopeKind, String), i64> = BTreeMap::new();
        for s in on_db!(&self.db, db => db.scope_records(Some(layer)))? {
            let kind = ScopeKind::ALL.into_iter().find(|k| k.as_str() == s.scope_kind).unwrap_or(ScopeKind::Layer);
            let v = last.entry((kind, s.scope)).or_insert(s.version);
            *v = (*v).max(s.version);
        }
        // Rows each part holds now (a later import of another kind may have changed it).
        let mut counts: HashMap<(ScopeKind, String), i64> = HashMap::new();
        let kinds: BTreeSet<ScopeKind> = last.keys().map(|(k, _)| *k).collect();
        for key in on_db!(&self.db, db => db.keys(layer))? {
            for k in &kinds {
                if let Some(code) = k.code_of(&key) {
                    *counts.entry((*k, code.to_owned())).or_default() += 1;
                }
            }
        }
        Ok(last
            .into_iter()
            .filter_map(|((scope_kind, scope), version)| {
                let v = versions.get(&version)?;
                Some(ScopeInfo {
                    scope_kind,
                    features: counts.get(&(scope_kind, scope.clone())).copied().unwrap_or(0),
                    scope,
                    version,
                    kind: v.kind.clone(),
                    created_at: v.created_at.clone().unwrap_or_default(),
                    author: v.author.clone(),
                    source: v.source.clone(),
                    source_sha256: v.source_sha256.clone(),
                })
            })
            .collect())
    }

    /// A logical dump of the whole store: every version record and, per layer, every row
    /// (current and history) by key, version range and content hashes — what two stores must
    /// share to hold the same data, whatever their engine or bytes. Sorted, so dumps compare as
    /// text.
    pub fn dump(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut records = on_db!(&self.db, db => db.version_records(None))?;
        records.sort_by(|a, b| (&a.layer, a.version).cmp(&(&b.layer, b.version)));
        for r in records {
            let opt = |s: &Option<String>| s.clone().unwrap_or_default();
            out.push(format!(
                "version|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
                r.layer,
                r.version,
                r.kind,
                r.author,
                r.source,
                opt(&r.source_sha256),
                r.features,
                r.added,
                r.removed,
                r.changed,
                r.reshaped,
                r.rejected,
                r.repaired
            ));
        }
        for layer in Layer::ALL {
            let t = layer.table();
            let mut rows: Vec<String> = on_db!(&self.db, db => db.hash_rows(layer))?
                .into_iter()
                .map(|h| {
                    format!(
                        "{t}|{}|{}|{}|{:016x}|{:016x}",
                        h.key,
                        h.v_from,
                        h.v_to.map_or_else(|| "current".to_owned(), |v| v.to_string()),
                        h.ghash,
                        h.ahash
                    )
                })
                .collect();
            rows.sort();
            out.extend(rows);
        }
        Ok(out)
    }

    /// Summary of every layer.
    pub fn layers(&self) -> Result<Vec<LayerSummary>> {
        Layer::ALL
            .into_iter()
            .map(|layer| {
                let (features, history_rows) = on_db!(&self.db, db => db.counts(layer))?;
                Ok(LayerSummary { layer, version: self.latest_version(layer)?, features, history_rows })
            })
            .collect()
    }

    fn check_version(&self, layer: Layer, version: i64) -> Result<()> {
        let latest = self.latest_version(layer)?.unwrap_or(0);
        if version < 1 || version > latest {
            return Err(StoreError::NoSuchVersion { layer: layer.table().to_owned(), version, latest });
        }
        Ok(())
    }

    /// Key → (geometry hash, attribute hash) of every row valid at `version`.
    fn hashes_at(&self, layer: Layer, version: i64) -> Result<BTreeMap<String, (i64, i64)>> {
        Ok(on_db!(&self.db, db => db.hash_rows(layer))?
            .into_iter()
            .filter(|h| h.v_from <= version && h.v_to.is_none_or(|to| to > version))
            .map(|h| (h.key, (h.ghash, h.ahash)))
            .collect())
    }

    /// What changed from version `v1` to version `v2` of a layer.
    pub fn diff(&self, layer: Layer, v1: i64, v2: i64) -> Result<Diff> {
        self.check_version(layer, v1)?;
        self.check_version(layer, v2)?;
        let a = self.hashes_at(layer, v1)?;
        let b = self.hashes_at(layer, v2)?;
        let mut d = Diff { from: v1, to: v2, ..Diff::default() };
        for (k, (gh, ah)) in &b {
            match a.get(k) {
                None => d.added.push(k.clone()),
                Some((ogh, _)) if ogh != gh => d.reshaped.push(k.clone()),
                Some((_, oah)) if oah != ah => d.attributes_changed.push(k.clone()),
                Some(_) => {}
            }
        }
        d.removed = a.keys().filter(|k| !b.contains_key(*k)).cloned().collect();
        if layer == Layer::Owners {
            let idus: BTreeSet<String> =
                d.added.iter().chain(&d.removed).filter_map(|k| k.split('|').next().map(str::to_owned)).collect();
            d.parcels_with_owner_changes = idus.into_iter().collect();
        }
        Ok(d)
    }

    /// Full rows of a layer as they were at `version`.
    pub fn rows_at(&self, layer: Layer, version: i64) -> Result<Vec<Row>> {
        self.check_version(layer, version)?;
        on_db!(&self.db, db => db.rows_at(layer, version))
    }

    /// Makes `version` current again by writing it as a new version: history is never erased.
    /// With a scope that lists codes (`commune=91216`), only those parts go back to `version`;
    /// without, the whole layer does. A rollback is an explicit choice: the removal guard does
    /// not apply.
    pub fn rollback(&mut self, layer: Layer, version: i64, scope: Option<Scope>, author: &str) -> Result<VersionInfo> {
        let scope = scope.unwrap_or_else(Scope::layer);
        scope.check(layer)?;
        let mut rows = self.rows_at(layer, version)?;
        if let Some(codes) = &scope.codes {
            rows.retain(|r| scope.kind.code_of(&r.key).is_some_and(|c| codes.contains(c)));
        } else if scope.kind != ScopeKind::Layer {
            return Err(StoreError::ScopeNotAllowed {
                layer: layer.table(),
                scope: scope.kind.as_str(),
                allowed: format!("layer, or {}=CODES", scope.kind),
            });
        }
        let meta = ImportMeta {
            author: author.to_owned(),
            source: format!("rollback of {scope} to version {version}"),
            ..ImportMeta::default()
        };
        self.need_writer("a rollback")?;
        let opts = ImportOptions { scope, force: true, ..ImportOptions::default() };
        let mut tx = self.begin(layer, "rollback", opts)?;
        for row in rows {
            tx.push(row)?;
        }
        tx.commit(&meta)
    }

    /// The current parcel with this IDU.
    pub fn parcel(&self, idu: &str) -> Result<Option<StoredParcel>> {
        on_db!(&self.db, db => db.parcel(idu))
    }

    /// Current rights (all codes) on a parcel.
    pub fn rights_of(&self, idu: &str) -> Result<Vec<StoredRight>> {
        on_db!(&self.db, db => db.rights_of(idu))
    }

    /// Every current right of kind `right` (e.g. [`domania_core::Right::Proprietaire`]), by
    /// parcel, then SIREN and name: the same order on both engines.
    pub fn rights_with_code(&self, right: domania_core::Right) -> Result<Vec<StoredRight>> {
        let mut rights = on_db!(&self.db, db => db.rights_with_code(right))?;
        sort_rights(&mut rights);
        Ok(rights)
    }

    /// Every current parcel, geometry decoded.
    pub fn parcels(&self) -> Result<Vec<StoredParcel>> {
        on_db!(&self.db, db => db.parcels_meeting(None))
    }

    /// Every current row of a layer of keyed shapes: QPV, sub-sectors, conventions, and the
    /// cadastre's buildings and sections.
    pub fn perimeters(&self, layer: Layer) -> Result<Vec<StoredPerimeter>> {
        if !matches!(layer, Layer::Qpv | Layer::Subsectors | Layer::Conventions | Layer::Buildings | Layer::Sections) {
            return Err(StoreError::NotPerimeterLayer(layer));
        }
        on_db!(&self.db, db => db.perimeters(layer))
    }

    /// The communes an owner file covers: those with at least one right (any code) in the
    /// current owners layer. A PPM file lists every parcel of a legal person in its communes, so
    /// a parcel of a covered commune without a right `P` is held by natural persons; a parcel of
    /// a commune no file covers has an unknown owner. Counted by commune, not département:
    /// owner files circulate split in parts (the EF_PPM parts of the Yvelines file hold five
    /// communes of 259).
    pub fn owner_coverage(&self) -> Result<BTreeSet<String>> {
        on_db!(&self.db, db => db.owner_coverage())
    }

    /// Whether an owner file covers `commune` (see [`Store::owner_coverage`]): one range look-up
    /// in the owners' IDU index, not the list of every covered commune.
    pub fn owner_file_covers(&self, commune: &str) -> Result<bool> {
        on_db!(&self.db, db => db.owner_file_covers(commune))
    }

    /// The départements with current parcels, sorted (on PostGIS, the non-empty partitions).
    pub fn departements(&self) -> Result<Vec<String>> {
        on_db!(&self.db, db => db.departements())
    }

    /// Every current parcel IDU.
    pub fn parcel_idus(&self) -> Result<Vec<String>> {
        let mut keys = on_db!(&self.db, db => db.keys(Layer::Parcels))?;
        keys.sort();
        Ok(keys)
    }

    /// Everything a snapshot of the store is built from, read inside one read transaction: one
    /// consistent state, even while a writer commits a new version meanwhile.
    pub fn read_all(&self) -> Result<StoreContents> {
        self.read_contents(None)
    }

    /// Like [`Store::read_all`], but only the parcels whose boxes meet a zone of `zones` (a
    /// perimeter layer), found through the spatial index: what shares and assignments in those
    /// zones need, without decoding the rest of the territory.
    pub fn read_for_zones(&self, zones: Layer) -> Result<StoreContents> {
        if !zones.is_zone() {
            return Err(StoreError::NotPerimeterLayer(zones));
        }
        self.read_contents(Some(zones))
    }

    /// What a server of one part of the territory serves (see [`crate::served`]): the parcels
    /// of `scope` (départements or communes), every zone meeting them, and every parcel meeting
    /// a kept zone, so that the zones' figures are whole. On PostGIS only the partitions of the
    /// départements concerned are read.
    pub fn read_scoped(&self, scope: &Scope) -> Result<StoreContents> {
        let contents = match (&self.db, crate::served::departements(scope)) {
            (Db::Pg(db), Some(deps)) => self.in_read(|| {
                let mut c = db.read_departements(&deps)?;
                sort_rights(&mut c.owner_rights);
                c.versions = self.versions()?;
                Ok(c)
            })?,
            _ => self.read_all()?,
        };
        Ok(crate::served::restrict(contents, scope))
    }

    fn read_contents(&self, zones: Option<Layer>) -> Result<StoreContents> {
        self.in_read(|| {
            Ok(StoreContents {
                versions: self.versions()?,
                parcels: on_db!(&self.db, db => db.parcels_meeting(zones))?,
                owner_rights: self.rights_with_code(domania_core::Right::Proprietaire)?,
                owner_coverage: self.owner_coverage()?,
                subsectors: self.perimeters(Layer::Subsectors)?,
                qpv: self.perimeters(Layer::Qpv)?,
                conventions: self.perimeters(Layer::Conventions)?,
            })
        })
    }

    /// `read` in one read transaction: on a live PostGIS store, one consistent state.
    fn in_read<T>(&self, read: impl FnOnce() -> Result<T>) -> Result<T> {
        on_db!(&self.db, db => db.begin_read())?;
        let out = read();
        on_db!(&self.db, db => db.end_read())?;
        out
    }

    /// Every stored row of `layer`, current then history, in chunks to `each`; how many of each
    /// there were.
    fn raw_layer(&self, layer: Layer, each: &mut dyn FnMut(Vec<RawRow>) -> Result<()>) -> Result<(usize, usize)> {
        let mut counts = (0, 0);
        for history in [false, true] {
            on_db!(&self.db, db => db.raw_rows(layer, history, &mut |chunk: Vec<RawRow>| {
                if history { counts.1 += chunk.len() } else { counts.0 += chunk.len() }
                each(chunk)
            }))?;
        }
        Ok(counts)
    }

    /// The current version of every layer (`None` before its first import).
    pub fn versions(&self) -> Result<BTreeMap<Layer, Option<i64>>> {
        Layer::ALL.into_iter().map(|l| Ok((l, self.latest_version(l)?))).collect()
    }

    /// Records an API token: its name, role and the SHA-256 of its secret (the secret itself is
    /// never stored). A name already in use is refused.
    pub fn create_token(&mut self, name: &str, role: &str, secret_sha256: &str) -> Result<TokenInfo> {
        self.need_writer("creating a token")?;
        match &mut self.db {
            Db::Gpkg(db) => db.create_token(name, role, secret_sha256)?,
            Db::Pg(db) => db.create_token(name, role, secret_sha256)?,
        }
        self.tokens()?
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| StoreError::Corrupt("a token just created is not there".into()))
    }

    /// Every token, revoked ones included (never their secrets).
    pub fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let mut list: Vec<TokenInfo> = on_db!(&self.db, db => db.token_records())?
            .into_iter()
            .map(|t| TokenInfo { name: t.name, role: t.role, created_at: t.created_at, revoked_at: t.revoked_at })
            .collect();
        list.sort_by(|a, b| (&a.created_at, &a.name).cmp(&(&b.created_at, &b.name)));
        Ok(list)
    }

    /// The token whose secret hashes to `secret_sha256`, unless revoked.
    pub fn token_by_hash(&self, secret_sha256: &str) -> Result<Option<TokenInfo>> {
        on_db!(&self.db, db => db.token_by_hash(secret_sha256))
    }

    /// Gives the current rows among `altered` the hashes of what they hold now, in one
    /// transaction, so that the next import of their source file sees them differ from it and
    /// replaces them: a new version, whose history keeps the edited state. The data are not
    /// changed; rows of the history are left as found (what they held is lost). Returns how many
    /// rows were marked.
    pub fn mark_altered(&mut self, altered: &[AlteredRow]) -> Result<usize> {
        self.need_writer("marking rows changed outside Domania")?;
        let mut by_layer: BTreeMap<Layer, Vec<(&str, i64, i64)>> = BTreeMap::new();
        for a in altered.iter().filter(|a| a.v_to.is_none()) {
            by_layer.entry(a.layer).or_default().push((&a.key, a.now.0, a.now.1));
        }
        match &mut self.db {
            Db::Gpkg(db) => db.set_hashes(&by_layer),
            Db::Pg(db) => db.set_hashes(&by_layer),
        }
    }

    /// Revokes a token by name; `false` when no live token has that name.
    pub fn revoke_token(&mut self, name: &str) -> Result<bool> {
        self.need_writer("revoking a token")?;
        match &mut self.db {
            Db::Gpkg(db) => db.revoke_token(name),
            Db::Pg(db) => db.revoke_token(name),
        }
    }

    /// Records a new version of the management rules (their TOML text, checked by the caller)
    /// and returns its number.
    pub fn save_rules(&mut self, toml: &str, author: &str) -> Result<i64> {
        self.need_writer("saving the rules")?;
        match &mut self.db {
            Db::Gpkg(db) => db.save_rules(toml, author),
            Db::Pg(db) => db.save_rules(toml, author),
        }
    }

    /// The latest rules saved in the store: (version, TOML text), if any.
    pub fn rules(&self) -> Result<Option<(i64, String)>> {
        Ok(on_db!(&self.db, db => db.rules_records())?
            .into_iter()
            .max_by_key(|r| r.version)
            .map(|r| (r.version, r.toml)))
    }

    /// The engine's own check: `PRAGMA integrity_check` of a GeoPackage, the schema and
    /// partitions of a database (“ok” when sound).
    pub fn integrity_check(&self) -> Result<String> {
        on_db!(&self.db, db => db.integrity_check())
    }

    /// Reads every row of every layer, current and history, and checks it against the content
    /// hashes Domania wrote with it; then the engine's own check. One read transaction: on a
    /// live PostGIS store, a consistent state.
    pub fn verify(&self) -> Result<VerifyReport> {
        let mut report = VerifyReport { store: self.location.to_string(), ..VerifyReport::default() };
        self.in_read(|| {
            let versions = on_db!(&self.db, db => db.version_records(None))?;
            for layer in Layer::ALL {
                let counts = self.raw_layer(layer, &mut |chunk| {
                    for r in chunk {
                        let now = (r.row.geom_hash(), r.row.attr_hash());
                        let (geometry, attributes) = (now.0 != r.ghash, now.1 != r.ahash);
                        if geometry || attributes {
                            report.altered.push(AlteredRow {
                                layer,
                                key: r.row.key,
                                v_from: r.v_from,
                                v_to: r.v_to,
                                geometry,
                                attributes,
                                now,
                            });
                        }
                    }
                    Ok(())
                })?;
                let of_layer = || versions.iter().filter(|v| v.layer == layer.table());
                let current: i64 = of_layer().map(|v| v.added - v.removed).sum();
                let history: i64 = of_layer().map(|v| v.removed + v.changed).sum();
                if i64::try_from(counts.0).ok() != Some(current) || i64::try_from(counts.1).ok() != Some(history) {
                    report.miscounted.push(Miscount {
                        layer,
                        current: (counts.0, current),
                        history: (counts.1, history),
                    });
                }
                report.layers.insert(layer.table().to_owned(), counts);
            }
            report.engine = on_db!(&self.db, db => db.integrity_check())?;
            Ok(())
        })?;
        Ok(report)
    }

    /// Copies this whole store — every layer with its history, every version record, tokens
    /// and rules — into `dest`, which must hold no version yet. Row keys, version ranges,
    /// content hashes and dates are kept, so both stores give the same [`Store::dump`].
    pub fn copy_into(&self, dest: &mut Store, progress: &dyn Fn(&str)) -> Result<CopyReport> {
        dest.need_writer("a copy")?;
        let mut holds = false;
        for l in Layer::ALL {
            holds |= dest.latest_version(l)?.is_some();
        }
        holds |= !dest.tokens()?.is_empty() || dest.rules()?.is_some();
        if holds {
            return Err(StoreError::CopyTargetNotEmpty { path: dest.path() });
        }
        let mut report =
            CopyReport { from: self.location.to_string(), to: dest.location.to_string(), ..CopyReport::default() };
        self.in_read(|| {
            let versions = on_db!(&self.db, db => db.version_records(None))?;
            let scopes = on_db!(&self.db, db => db.scope_records(None))?;
            let tokens = on_db!(&self.db, db => db.token_records())?;
            let rules = on_db!(&self.db, db => db.rules_records())?;
            (report.versions, report.tokens, report.rules_versions) = (versions.len(), tokens.len(), rules.len());
            let mut sink: Box<dyn RawSink + '_> = match &mut dest.db {
                Db::Gpkg(db) => db.raw_sink()?,
                Db::Pg(db) => db.raw_sink()?,
            };
            for layer in Layer::ALL {
                let counts = self.raw_layer(layer, &mut |chunk| sink.rows(layer, chunk))?;
                progress(&format!("{}: {} current rows, {} history rows", layer.table(), counts.0, counts.1));
                report.layers.insert(layer.table().to_owned(), counts);
            }
            sink.records(&versions, &scopes, &tokens, &rules)?;
            sink.commit()
        })?;
        Ok(report)
    }
}

/// The writing half of an engine for one import: [`ImportTx`] decides, the writer writes.
pub(crate) trait Writer {
    /// The current rows (key, fid, geometry hash, attribute hash) of the département `dep`, or
    /// of the whole layer for `None`. An engine may give more than asked, never a row twice.
    fn current(&mut self, dep: Option<&str>) -> Result<Vec<(String, i64, i64, i64)>>;
    /// Writes a row of the new version: a new row, or (with the fid of the row it replaces) a
    /// changed one, whose old state goes to the history first.
    fn put(&mut self, row: Row, replaces: Option<i64>, ghash: i64, ahash: i64) -> Result<()>;
    /// Moves the rows of `fids` (with their keys) to the history: they are not in the new
    /// version.
    fn retire(&mut self, fids: &[(i64, String)]) -> Result<()>;
    /// Records the version and its scopes, and returns its `created_at`.
    fn finish(&mut self, version: &VersionRecord, scopes: &[ScopeRecord]) -> Result<String>;
    /// The `created_at` of a version already written.
    fn created_at(&mut self, version: i64) -> Result<Option<String>>;
    fn commit(self: Box<Self>) -> Result<()>;
}

/// Rows per chunk of an import's `COPY` and of a copy between stores.
pub(crate) const CHUNK_ROWS: usize = 20_000;

/// Rows of a copy handed on [`CHUNK_ROWS`] at a time, as each engine reads them.
pub(crate) struct Chunked<'a> {
    chunk: Vec<RawRow>,
    each: &'a mut dyn FnMut(Vec<RawRow>) -> Result<()>,
}

impl<'a> Chunked<'a> {
    pub(crate) fn new(each: &'a mut dyn FnMut(Vec<RawRow>) -> Result<()>) -> Self {
        Self { chunk: Vec::with_capacity(CHUNK_ROWS), each }
    }

    pub(crate) fn push(&mut self, row: RawRow) -> Result<()> {
        self.chunk.push(row);
        if self.chunk.len() == CHUNK_ROWS {
            (self.each)(std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK_ROWS)))?;
        }
        Ok(())
    }

    /// Hands on the last, partial chunk.
    pub(crate) fn finish(self) -> Result<()> {
        if self.chunk.is_empty() { Ok(()) } else { (self.each)(self.chunk) }
    }
}

/// The writing half of an engine for a copy into an empty store.
pub(crate) trait RawSink {
    fn rows(&mut self, layer: Layer, rows: Vec<RawRow>) -> Result<()>;
    fn records(
        &mut self,
        versions: &[VersionRecord],
        scopes: &[ScopeRecord],
        tokens: &[TokenRecord],
        rules: &[RulesRecord],
    ) -> Result<()>;
    fn commit(self: Box<Self>) -> Result<()>;
}

/// What an engine opens an import with: its writer, and the number of the new version.
pub(crate) type Begun<'a> = (Box<dyn Writer + 'a>, i64);

/// Counts of one scope during an import.
#[derive(Debug, Clone, Copy, Default)]
struct ScopeCount {
    /// Rows of the scope before the import.
    current: i64,
    features: i64,
    added: i64,
    changed: i64,
    removed: i64,
}

/// A new version being written (see [`Store::begin_import`]).
pub struct ImportTx<'a> {
    w: Box<dyn Writer + 'a>,
    layer: Layer,
    kind: String,
    version: i64,
    opts: ImportOptions,
    /// Current rows not (yet) matched by a pushed row: key → (fid, ghash, ahash). Of a layer
    /// cut by commune, only the départements the import concerns are read: those its scope
    /// names, and those of its rows as they come. A national layer is then never held whole.
    current: HashMap<String, (i64, i64, i64)>,
    /// Whether current rows are read by département (else the whole layer is, at the start).
    by_dep: bool,
    /// The départements whose current rows are read.
    loaded: HashSet<String>,
    seen: HashSet<String>,
    scopes: BTreeMap<String, ScopeCount>,
    features: i64,
    added: i64,
    changed: i64,
    reshaped: i64,
}

impl<'a> ImportTx<'a> {
    fn new(w: Box<dyn Writer + 'a>, layer: Layer, kind: &str, version: i64, opts: ImportOptions) -> Result<Self> {
        let by_dep = ScopeKind::allowed(layer).contains(&ScopeKind::Departement) && opts.scope.kind != ScopeKind::Layer;
        let mut tx = Self {
            w,
            layer,
            kind: kind.to_owned(),
            version,
            opts,
            current: HashMap::new(),
            by_dep,
            loaded: HashSet::new(),
            seen: HashSet::new(),
            scopes: BTreeMap::new(),
            features: 0,
            added: 0,
            changed: 0,
            reshaped: 0,
        };
        if !by_dep {
            tx.load(None)?;
        } else if let Some(codes) = tx.opts.scope.codes.clone() {
            // What the scope replaces is read even if no row of it comes (a commune emptied).
            for code in &codes {
                if let Some(dep) = ScopeKind::Departement.code_of(code) {
                    tx.load(Some(dep))?;
                }
            }
        }
        Ok(tx)
    }

    /// Reads the current rows of a département (`None`: of the layer), once.
    fn load(&mut self, dep: Option<&str>) -> Result<()> {
        if dep.is_some_and(|d| self.loaded.contains(d)) {
            return Ok(());
        }
        let rows = self.w.current(dep)?;
        self.current.reserve(rows.len());
        for (key, fid, gh, ah) in rows {
            if let Some(code) = self.opts.scope.kind.code_of(&key) {
                self.scopes.entry(code.to_owned()).or_default().current += 1;
            }
            self.current.insert(key, (fid, gh, ah));
        }
        if let Some(d) = dep {
            self.loaded.insert(d.to_owned());
        }
        Ok(())
    }

    /// The version number this import will have.
    #[must_use]
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Writes one row of the new version.
    pub fn push(&mut self, row: Row) -> Result<()> {
        let scope = &self.opts.scope;
        let code = match scope.kind.code_of(&row.key) {
            Some(c) if scope.codes.as_ref().is_none_or(|set| set.contains(c)) => c.to_owned(),
            _ => return Err(StoreError::OutOfScope { key: row.key, scope: scope.to_string() }),
        };
        if !self.seen.insert(row.key.clone()) {
            return Err(StoreError::DuplicateKey { layer: self.layer.table().to_owned(), key: row.key });
        }
        if self.by_dep
            && let Some(dep) = ScopeKind::Departement.code_of(&row.key)
        {
            self.load(Some(dep))?;
        }
        let count = self.scopes.entry(code).or_default();
        count.features += 1;
        self.features += 1;
        let (gh, ah) = (row.geom_hash(), row.attr_hash());
        let old = self.current.remove(&row.key);
        if let Some((_, ogh, oah)) = old
            && ogh == gh
            && oah == ah
        {
            return Ok(());
        }
        match old {
            None => {
                count.added += 1;
                self.added += 1;
            }
            Some((_, ogh, _)) => {
                count.changed += 1;
                self.changed += 1;
                self.reshaped += i64::from(ogh != gh);
            }
        }
        self.w.put(row, old.map(|(fid, _, _)| fid), gh, ah)
    }

    /// The record of this import as version `version`.
    fn info(&self, meta: &ImportMeta, version: i64, created_at: String, scope: String, removed: i64) -> VersionInfo {
        VersionInfo {
            layer: self.layer,
            version,
            kind: self.kind.clone(),
            unchanged: false,
            scope,
            author: meta.author.clone(),
            created_at,
            source: meta.source.clone(),
            source_sha256: meta.source_sha256.clone(),
            features: self.features,
            added: self.added,
            removed,
            changed: self.changed,
            reshaped: self.reshaped,
            rejected: meta.rejected as i64,
            repaired: meta.repaired as i64,
        }
    }

    /// The scopes this import replaces: the declared codes, or those its rows touched.
    fn replaced_scopes(&self) -> BTreeSet<String> {
        match &self.opts.scope.codes {
            Some(codes) => codes.clone(),
            None if self.opts.scope.kind == ScopeKind::Layer => std::iter::once(String::new()).collect(),
            None => self.scopes.iter().filter(|(_, c)| c.features > 0).map(|(k, _)| k.clone()).collect(),
        }
    }

    /// Retires the rows of the replaced scopes that no pushed row matched, checks the removal
    /// guard, records the version and commits. An import that changes nothing writes nothing
    /// and returns the current version with `unchanged` set.
    pub fn commit(mut self, meta: &ImportMeta) -> Result<VersionInfo> {
        let t = self.layer.table();
        if self.features == 0 && !(self.opts.force && self.opts.scope.is_explicit()) {
            return Err(StoreError::EmptyImport { layer: t });
        }
        let replaced = self.replaced_scopes();
        let kind = self.opts.scope.kind;
        let mut retired = Vec::new();
        for (key, (fid, _, _)) in &self.current {
            if let Some(code) = kind.code_of(key)
                && replaced.contains(code)
            {
                retired.push((*fid, key.clone()));
                self.scopes.entry(code.to_owned()).or_default().removed += 1;
            }
        }
        if !self.opts.force {
            let over: Vec<String> = self
                .scopes
                .iter()
                .filter(|(code, c)| {
                    replaced.contains(*code)
                        && c.current > 0
                        && c.removed as f64 / c.current as f64 > self.opts.max_removed
                })
                .map(|(code, c)| {
                    let name = if kind == ScopeKind::Layer { format!("layer {t}") } else { format!("{kind} {code}") };
                    format!(
                        "{name}: {} of its {} rows ({:.1} %)",
                        c.removed,
                        c.current,
                        c.removed as f64 / c.current as f64 * 100.0
                    )
                })
                .collect();
            if !over.is_empty() {
                return Err(StoreError::TooManyRemoved {
                    details: over.join("; "),
                    limit_pct: self.opts.max_removed * 100.0,
                });
            }
        }
        let removed = retired.len() as i64;
        let scope_text = if self.opts.scope.codes.is_some() || kind == ScopeKind::Layer {
            self.opts.scope.to_string()
        } else {
            format!("{kind}={}", replaced.iter().cloned().collect::<Vec<_>>().join(","))
        };
        if self.added == 0 && self.changed == 0 && removed == 0 {
            // Nothing changed: no version. Dropping the writer rolls back.
            let latest = self.version - 1;
            let created_at = if latest > 0 { self.w.created_at(latest)? } else { None };
            let mut info = self.info(meta, latest, created_at.unwrap_or_default(), scope_text, 0);
            (info.unchanged, info.added, info.changed, info.reshaped) = (true, 0, 0, 0);
            return Ok(info);
        }
        retired.sort_unstable();
        self.w.retire(&retired)?;
        let record = VersionRecord {
            layer: t.to_owned(),
            version: self.version,
            kind: self.kind.clone(),
            author: meta.author.clone(),
            created_at: None,
            source: meta.source.clone(),
            source_sha256: meta.source_sha256.clone(),
            features: self.features,
            added: self.added,
            removed,
            changed: self.changed,
            reshaped: self.reshaped,
            rejected: meta.rejected as i64,
            repaired: meta.repaired as i64,
            report: meta.report_json.clone(),
        };
        let scopes: Vec<ScopeRecord> = replaced
            .iter()
            .map(|code| {
                let c = self.scopes.get(code).copied().unwrap_or_default();
                ScopeRecord {
                    layer: t.to_owned(),
                    version: self.version,
                    scope_kind: kind.as_str().to_owned(),
                    scope: code.clone(),
                    features: c.features,
                    added: c.added,
                    removed: c.removed,
                    changed: c.changed,
                }
            })
            .collect();
        let created_at = self.w.finish(&record, &scopes)?;
        let info = self.info(meta, self.version, created_at, scope_text, removed);
        self.w.commit()?;
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_say_which_engine_and_never_show_a_password() {
        let url = Location::from("postgresql://gis:s3cret@db.example/sig?sslmode=verify-full");
        assert!(matches!(url, Location::Postgres(_)));
        assert_eq!(url.to_string(), "postgresql://gis:***@db.example/sig?sslmode=verify-full");
        let kv = Location::from("host=db.example dbname=sig password='s3 cret' user=gis");
        assert!(matches!(kv, Location::Postgres(_)));
        assert_eq!(kv.to_string(), "host=db.example dbname=sig password=*** user=gis");
        assert!(matches!(Location::from("postgres:///sig?host=/run/postgresql"), Location::Postgres(_)));
        for file in ["store.gpkg", "/srv/sig/host.gpkg", "a b=c.gpkg", "data/domania.gpkg"] {
            assert!(matches!(Location::from(file), Location::File(_)), "{file}");
        }
    }
}

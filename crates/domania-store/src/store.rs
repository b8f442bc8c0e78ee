//! The versioned store.
//!
//! Each layer is two tables: `<layer>` holds the current version (what QGIS and `ogrinfo`
//! show, with its R-tree), `<layer>_history` holds every row a later version replaced or
//! removed, with the version range it was valid in (`v_from` ≤ v < `v_to`). A row of the current
//! table is valid from `v_from` on. The rows of version V are therefore
//! `current WHERE v_from <= V` plus `history WHERE v_from <= V AND v_to > V`.
//!
//! An import is one SQLite transaction (rollback journal, see `open_write`): it compares the new rows with the current
//! ones by key and content hash, moves replaced and removed rows to the history, writes the new
//! ones and records the version in `domania_versions`. Killed at any moment, the file holds the
//! previous version, whole.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use geo_types::MultiPolygon;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params, params_from_iter};
use serde::Serialize;

use crate::error::{Result, StoreError, sqlite_reason};
use crate::gpkg;
use crate::layer::{Layer, Row, Value};
use crate::scope::{Scope, ScopeKind};

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

/// A hot journal left by a writer killed mid-transaction can only be rolled back by a
/// read-write connection; a read-only one would fail on it. Rolling it back restores the last
/// committed version — what a reader reads anyway — so a read command may do it.
fn recover_hot_journal(path: &Path) {
    let mut journal = path.as_os_str().to_owned();
    journal.push("-journal");
    if std::fs::metadata(&journal).is_ok_and(|m| m.len() > 0)
        && let Ok(conn) =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
    {
        let _ = conn.busy_timeout(Duration::from_secs(5));
        let _ = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0));
    }
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

/// The GeoPackage store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Held by a store opened for writing: the advisory lock that keeps two writers apart
    /// (released when the store is dropped).
    writer: Option<WriterLock>,
    /// This opening created the file (decided under the writer lock).
    created: bool,
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

/// Page size of new stores: SQLite's default, which keeps R-tree nodes small.
const PAGE_SIZE: i64 = 4096;

const VERSIONS_DDL: &str = "CREATE TABLE IF NOT EXISTS domania_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, layer TEXT NOT NULL, version INTEGER NOT NULL,
    kind TEXT NOT NULL, author TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    source TEXT NOT NULL, source_sha256 TEXT, features INTEGER NOT NULL, added INTEGER NOT NULL,
    removed INTEGER NOT NULL, changed INTEGER NOT NULL, reshaped INTEGER NOT NULL,
    rejected INTEGER NOT NULL, repaired INTEGER NOT NULL, report TEXT,
    UNIQUE (layer, version))";

/// One row per (version, scope it replaced): the provenance of each commune or département.
const SCOPES_DDL: &str = "CREATE TABLE IF NOT EXISTS domania_scopes (
    layer TEXT NOT NULL, version INTEGER NOT NULL, scope_kind TEXT NOT NULL, scope TEXT NOT NULL,
    features INTEGER NOT NULL, added INTEGER NOT NULL, removed INTEGER NOT NULL, changed INTEGER NOT NULL,
    PRIMARY KEY (layer, version, scope_kind, scope))";

/// API tokens of the HTTP server: the SHA-256 of each secret, never the secret.
const TOKENS_DDL: &str = "CREATE TABLE IF NOT EXISTS domania_tokens (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), revoked_at TEXT)";

/// Management rules saved by the server's administrators, every version kept.
const RULES_DDL: &str = "CREATE TABLE IF NOT EXISTS domania_rules (
    version INTEGER PRIMARY KEY, author TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), toml TEXT NOT NULL)";

/// An API token as the store keeps it (its secret's hash is never given out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub name: String,
    pub role: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// The tables Domania owns in a store (besides `gpkg_*` and the R-trees).
fn domania_tables() -> Vec<String> {
    let mut t = vec!["domania_versions".to_owned(), "domania_scopes".to_owned()];
    for l in Layer::ALL {
        t.push(l.table().to_owned());
        t.push(format!("{}_history", l.table()));
    }
    t
}

/// The sidecar file whose advisory lock keeps two Domania writers apart, and which says who
/// holds it. The lock dies with its process (`kill -9` included); the file may stay, empty.
fn lock_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// Who holds the writer lock of a store, as its holder wrote it, when a Domania process does.
#[must_use]
pub fn lock_holder(path: &Path) -> Option<String> {
    let file = std::fs::File::open(lock_path(path)).ok()?;
    // When nobody holds it, what the file says is stale.
    if file.try_lock_shared().is_ok() {
        return None;
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut &file, &mut text).ok()?;
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The writer lock of an open store.
struct WriterLock {
    file: std::fs::File,
}

impl WriterLock {
    fn acquire(path: &Path, wait: &Wait<'_>) -> Result<Self> {
        let lp = lock_path(path);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lp)
            .map_err(|_| StoreError::ReadOnly { path: path.to_path_buf(), what: "this command" })?;
        let start = Instant::now();
        let mut told = false;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {
                    let holder = lock_holder(path).unwrap_or_else(|| "another Domania process".to_owned());
                    if start.elapsed() >= wait.timeout {
                        return Err(StoreError::Busy {
                            path: path.to_path_buf(),
                            holder: format!("being written by {holder}"),
                            waited_s: wait.timeout.as_secs(),
                        });
                    }
                    if !told {
                        (wait.on_wait)(&format!(
                            "{}: being written by {holder}; waiting up to {} s",
                            path.display(),
                            wait.timeout.as_secs()
                        ));
                        told = true;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(StoreError::Corrupt(format!("cannot lock {}: {e}", lp.display())));
                }
            }
        }
        let args: Vec<String> = std::env::args().collect();
        let user = std::env::var("USER").unwrap_or_else(|_| "?".to_owned());
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let info = format!("pid {} (user {user}, `{}`, since unix time {since})", std::process::id(), args.join(" "));
        // The text is for people; failing to write it does not weaken the lock.
        let _ = file.set_len(0);
        let _ = std::io::Write::write_all(&mut &file, info.as_bytes());
        Ok(Self { file })
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
    }
}

/// What a path holds before it is opened.
enum FileState {
    Missing,
    Empty,
    Present,
}

fn file_state(path: &Path) -> Result<FileState> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileState::Missing),
        Err(e) => Err(StoreError::Open { path: path.to_path_buf(), reason: format!("cannot read the file: {e}") }),
        Ok(m) if m.is_dir() => Err(StoreError::Open {
            path: path.to_path_buf(),
            reason: "is a folder; --store takes a .gpkg file".to_owned(),
        }),
        Ok(m) if m.len() == 0 => Ok(FileState::Empty),
        Ok(_) => Ok(FileState::Present),
    }
}

fn connect(path: &Path, flags: OpenFlags) -> Result<Connection> {
    Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|source| StoreError::Open { path: path.to_path_buf(), reason: sqlite_reason(&source) })
}

/// Checks that an existing file is a Domania store: a SQLite file, a GeoPackage, with
/// Domania's tables. Returns the names of its user tables when it is a foreign GeoPackage.
fn check_kind(conn: &Connection, path: &Path) -> Result<Option<Vec<String>>> {
    let app: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0)).map_err(|e| {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) {
            StoreError::NotSqlite { path: path.to_path_buf() }
        } else {
            StoreError::Open { path: path.to_path_buf(), reason: sqlite_reason(&e) }
        }
    })?;
    if app != gpkg::APPLICATION_ID {
        return Err(StoreError::NotGeoPackage { path: path.to_path_buf(), found: app });
    }
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if tables.iter().any(|t| t == "domania_versions") {
        return Ok(None);
    }
    Ok(Some(
        tables
            .into_iter()
            .filter(|t| !t.starts_with("gpkg_") && !t.starts_with("rtree_") && !t.starts_with("sqlite_"))
            .collect(),
    ))
}

impl Store {
    /// Opens an existing store for reading only: nothing in the file can change, it may be
    /// read-only, and a missing path, an empty file or a foreign GeoPackage is an error.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_read(path, &Wait::default())
    }

    /// [`Store::open`], waiting at most `wait` for a writer that is committing.
    pub fn open_read(path: &Path, wait: &Wait<'_>) -> Result<Self> {
        match file_state(path)? {
            FileState::Missing => return Err(StoreError::Missing { path: path.to_path_buf() }),
            FileState::Empty => return Err(StoreError::EmptyFile { path: path.to_path_buf() }),
            FileState::Present => {}
        }
        recover_hot_journal(path);
        let conn = connect(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(wait.timeout)?;
        if let Some(tables) = check_kind(&conn, path)? {
            return Err(StoreError::Foreign { path: path.to_path_buf(), tables: tables.join(", ") });
        }
        Ok(Self { conn, path: path.to_path_buf(), writer: None, created: false })
    }

    /// Opens an existing store for writing (rollback, the spaces layer): the writer lock is
    /// taken first, waiting at most `wait.timeout` for another writer.
    pub fn open_write(path: &Path, wait: &Wait<'_>) -> Result<Self> {
        match file_state(path)? {
            FileState::Missing => return Err(StoreError::Missing { path: path.to_path_buf() }),
            FileState::Empty => return Err(StoreError::EmptyFile { path: path.to_path_buf() }),
            FileState::Present => {}
        }
        Self::writable(path, wait, false)
    }

    /// Opens a store for an import, creating a new GeoPackage when nothing is at `path`. A
    /// foreign GeoPackage gets Domania's tables only with `adopt` (and never when one of its
    /// tables has a Domania layer's name); an empty file is refused.
    pub fn create(path: &Path, adopt: bool, wait: &Wait<'_>) -> Result<Self> {
        match file_state(path)? {
            FileState::Empty => Err(StoreError::EmptyFile { path: path.to_path_buf() }),
            FileState::Present => Self::writable(path, wait, adopt),
            FileState::Missing => {
                let writer = WriterLock::acquire(path, wait)?;
                // Another writer may have created it while this one waited for the lock.
                if !matches!(file_state(path)?, FileState::Missing) {
                    drop(writer);
                    return Self::create(path, adopt, wait);
                }
                let conn = connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE)?;
                // Set before the first table. SQLite sizes R-tree nodes by the page: 64 KiB pages
                // gave 2,700-entry nodes and made every index insert 5 times slower (measured).
                conn.pragma_update(None, "page_size", PAGE_SIZE)?;
                let mut store = Self::configure(conn, path, writer, wait)?;
                store.created = true;
                store.init_schema()?;
                Ok(store)
            }
        }
    }

    /// Removes the file this opening created, if no version was written into it: a failed first
    /// import leaves nothing behind. Done while the writer lock is still held; a store that
    /// existed before, or that holds a version, is never removed.
    pub fn discard_if_new(self) {
        let empty = self
            .conn
            .query_row("SELECT COUNT(*) FROM domania_versions", [], |r| r.get::<_, i64>(0))
            .is_ok_and(|n| n == 0);
        if !(self.created && empty && self.writer.is_some()) {
            return;
        }
        let Store { conn, path, writer, .. } = self;
        drop(conn);
        let _ = std::fs::remove_file(&path);
        drop(writer);
    }

    fn writable(path: &Path, wait: &Wait<'_>, adopt: bool) -> Result<Self> {
        let writer = WriterLock::acquire(path, wait)?;
        let conn = connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        if let Some(tables) = check_kind(&conn, path)? {
            if !adopt {
                return Err(StoreError::Foreign { path: path.to_path_buf(), tables: tables.join(", ") });
            }
            let ours = domania_tables();
            if let Some(clash) = tables.iter().find(|t| ours.contains(t)) {
                return Err(StoreError::NameClash { path: path.to_path_buf(), table: clash.clone() });
            }
        }
        let store = Self::configure(conn, path, writer, wait)?;
        store.init_schema()?;
        Ok(store)
    }

    fn configure(conn: Connection, path: &Path, writer: WriterLock, wait: &Wait<'_>) -> Result<Self> {
        conn.busy_timeout(wait.timeout)?;
        // Rollback journal, not WAL: with WAL every page is written twice (log, then checkpoint
        // at close), 10 ms of the 65 ms Paris import. Both survive `kill -9`.
        conn.pragma_update(None, "journal_mode", "DELETE").map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ReadOnly) => {
                StoreError::ReadOnly { path: path.to_path_buf(), what: "this command" }
            }
            _ => StoreError::from(e),
        })?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "cache_size", -65_536)?;
        gpkg::register_functions(&conn)?;
        Ok(Self { conn, path: path.to_path_buf(), writer: Some(writer), created: false })
    }

    /// The file path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn init_schema(&self) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        gpkg::init(&tx)?;
        tx.execute_batch(VERSIONS_DDL)?;
        tx.execute_batch(SCOPES_DDL)?;
        gpkg::register_attribute_table(&tx, "domania_versions", "Domania: one row per version of each layer")?;
        for layer in Layer::ALL {
            let t = layer.table();
            let cols: String = crate::layer::columns(layer).iter().fold(String::new(), |mut acc, (n, ty)| {
                use std::fmt::Write as _;
                let _ = write!(acc, ", {n} {ty}");
                acc
            });
            let geom = if layer.is_spatial() { ", geom MULTIPOLYGON" } else { "" };
            tx.execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS {t} (fid INTEGER PRIMARY KEY AUTOINCREMENT{geom}, key TEXT NOT NULL UNIQUE{cols},
                   ghash INTEGER NOT NULL, ahash INTEGER NOT NULL, v_from INTEGER NOT NULL);
                 CREATE TABLE IF NOT EXISTS {t}_history (hid INTEGER PRIMARY KEY AUTOINCREMENT, fid INTEGER NOT NULL{geom},
                   key TEXT NOT NULL{cols}, ghash INTEGER NOT NULL, ahash INTEGER NOT NULL,
                   v_from INTEGER NOT NULL, v_to INTEGER NOT NULL);
                 CREATE INDEX IF NOT EXISTS {t}_history_key ON {t}_history (key, v_from);"
            ))?;
            if layer == Layer::Owners {
                tx.execute_batch("CREATE INDEX IF NOT EXISTS owners_idu ON owners (idu);")?;
            }
            if layer.is_spatial() {
                gpkg::register_feature_table(&tx, t, "fid", layer.description())?;
            } else {
                gpkg::register_attribute_table(&tx, t, layer.description())?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Latest version number of a layer (`None` before its first import).
    pub fn latest_version(&self, layer: Layer) -> Result<Option<i64>> {
        Ok(self.conn.query_row("SELECT MAX(version) FROM domania_versions WHERE layer = ?1", [layer.table()], |r| {
            r.get::<_, Option<i64>>(0)
        })?)
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
        if self.writer.is_none() {
            return Err(StoreError::ReadOnly { path: self.path.clone(), what: "an import" });
        }
        ImportTx::new(&mut self.conn, layer, "import", opts)
    }

    /// Whether the store has a table (an older store may lack the newer ones; a read-only
    /// store cannot get them).
    fn has_table(&self, name: &str) -> Result<bool> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", [name], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Version → what it replaced (`commune=75118,91216`), from `domania_scopes`.
    fn scope_texts(&self, layer: Layer) -> Result<HashMap<i64, String>> {
        let mut out: HashMap<i64, String> = HashMap::new();
        if !self.has_table("domania_scopes")? {
            return Ok(out);
        }
        let mut stmt = self.conn.prepare(
            "SELECT version, scope_kind, group_concat(scope, ',') FROM
               (SELECT version, scope_kind, scope FROM domania_scopes WHERE layer = ?1 ORDER BY version, scope)
             GROUP BY version, scope_kind",
        )?;
        let rows = stmt.query_map([layer.table()], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?))
        })?;
        for row in rows {
            let (v, kind, codes) = row?;
            let codes = codes.unwrap_or_default();
            out.insert(v, if kind == "layer" { kind } else { format!("{kind}={codes}") });
        }
        Ok(out)
    }

    /// Every version of a layer, oldest first.
    pub fn history(&self, layer: Layer) -> Result<Vec<VersionInfo>> {
        let scopes = self.scope_texts(layer)?;
        let mut stmt = self.conn.prepare(
            "SELECT version, kind, author, created_at, source, source_sha256, features, added, removed, changed, reshaped, rejected, repaired
             FROM domania_versions WHERE layer = ?1 ORDER BY version",
        )?;
        let rows = stmt.query_map([layer.table()], |r| {
            let version: i64 = r.get(0)?;
            Ok(VersionInfo {
                layer,
                version,
                kind: r.get(1)?,
                unchanged: false,
                // Versions written before scopes existed replaced the whole layer.
                scope: scopes.get(&version).cloned().unwrap_or_else(|| "layer".to_owned()),
                author: r.get(2)?,
                created_at: r.get(3)?,
                source: r.get(4)?,
                source_sha256: r.get(5)?,
                features: r.get(6)?,
                added: r.get(7)?,
                removed: r.get(8)?,
                changed: r.get(9)?,
                reshaped: r.get(10)?,
                rejected: r.get(11)?,
                repaired: r.get(12)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The parts of a layer (communes, départements…) with the version that last replaced each,
    /// where it came from, and how many rows each holds now.
    pub fn scopes(&self, layer: Layer) -> Result<Vec<ScopeInfo>> {
        if !self.has_table("domania_scopes")? {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare(
            "SELECT s.scope_kind, s.scope, s.version, v.kind, v.created_at, v.author, v.source, v.source_sha256
             FROM domania_scopes s JOIN domania_versions v ON v.layer = s.layer AND v.version = s.version
             WHERE s.layer = ?1 AND s.version = (SELECT MAX(version) FROM domania_scopes s2
               WHERE s2.layer = s.layer AND s2.scope_kind = s.scope_kind AND s2.scope = s.scope)
             ORDER BY s.scope_kind, s.scope",
        )?;
        let mut list: Vec<ScopeInfo> = stmt
            .query_map([layer.table()], |r| {
                let kind: String = r.get(0)?;
                Ok(ScopeInfo {
                    scope_kind: ScopeKind::ALL.into_iter().find(|k| k.as_str() == kind).unwrap_or(ScopeKind::Layer),
                    scope: r.get(1)?,
                    version: r.get(2)?,
                    kind: r.get(3)?,
                    created_at: r.get(4)?,
                    author: r.get(5)?,
                    source: r.get(6)?,
                    source_sha256: r.get(7)?,
                    features: 0,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        // Rows each part holds now (a later import of another kind may have changed it).
        let mut counts: HashMap<(ScopeKind, String), i64> = HashMap::new();
        let kinds: BTreeSet<ScopeKind> = list.iter().map(|s| s.scope_kind).collect();
        let mut stmt = self.conn.prepare(&format!("SELECT key FROM {}", layer.table()))?;
        let mut q = stmt.query([])?;
        while let Some(r) = q.next()? {
            let key: String = r.get(0)?;
            for k in &kinds {
                if let Some(code) = k.code_of(&key) {
                    *counts.entry((*k, code.to_owned())).or_default() += 1;
                }
            }
        }
        for s in &mut list {
            s.features = counts.get(&(s.scope_kind, s.scope.clone())).copied().unwrap_or(0);
        }
        Ok(list)
    }

    /// A logical dump of the whole store: every version record and, per layer, every row
    /// (current and history) by key, version range and content hashes — what two stores must
    /// share to hold the same data, whatever their bytes. Sorted, so dumps compare as text.
    pub fn dump(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut stmt = self.conn.prepare(
            "SELECT layer, version, kind, author, source, source_sha256, features, added, removed, changed, reshaped, rejected, repaired
             FROM domania_versions ORDER BY layer, version",
        )?;
        let mut q = stmt.query([])?;
        while let Some(r) = q.next()? {
            let mut cols = Vec::with_capacity(13);
            for i in 0..13 {
                cols.push(match r.get::<_, Value>(i)? {
                    Value::Null => String::new(),
                    Value::Integer(n) => n.to_string(),
                    Value::Text(t) => t,
                    Value::Real(x) => x.to_string(),
                });
            }
            out.push(format!("version|{}", cols.join("|")));
        }
        for layer in Layer::ALL {
            let t = layer.table();
            let mut rows: Vec<String> = Vec::new();
            if !self.has_table(t)? {
                continue;
            }
            for (table, v_to) in [(t.to_owned(), "NULL"), (format!("{t}_history"), "v_to")] {
                let mut stmt = self.conn.prepare(&format!("SELECT key, v_from, {v_to}, ghash, ahash FROM {table}"))?;
                let mut q = stmt.query([])?;
                while let Some(r) = q.next()? {
                    rows.push(format!(
                        "{t}|{}|{}|{}|{:016x}|{:016x}",
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<i64>>(2)?.map_or_else(|| "current".to_owned(), |v| v.to_string()),
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?
                    ));
                }
            }
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
                let t = layer.table();
                // A store made before a layer existed has no table for it until a writer opens
                // it: an empty layer.
                if !self.has_table(t)? {
                    return Ok(LayerSummary { layer, version: None, features: 0, history_rows: 0 });
                }
                let features = self.conn.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))?;
                let history_rows =
                    self.conn.query_row(&format!("SELECT COUNT(*) FROM {t}_history"), [], |r| r.get(0))?;
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
        let t = layer.table();
        let mut stmt = self.conn.prepare(&format!(
            "SELECT key, ghash, ahash FROM {t} WHERE v_from <= ?1
             UNION ALL SELECT key, ghash, ahash FROM {t}_history WHERE v_from <= ?1 AND v_to > ?1"
        ))?;
        let rows = stmt.query_map([version], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
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
            let idus: std::collections::BTreeSet<String> =
                d.added.iter().chain(&d.removed).filter_map(|k| k.split('|').next().map(str::to_owned)).collect();
            d.parcels_with_owner_changes = idus.into_iter().collect();
        }
        Ok(d)
    }

    /// Full rows of a layer as they were at `version`.
    pub fn rows_at(&self, layer: Layer, version: i64) -> Result<Vec<Row>> {
        self.check_version(layer, version)?;
        let t = layer.table();
        let names: Vec<&str> = crate::layer::columns(layer).iter().map(|(n, _)| *n).collect();
        let geom = if layer.is_spatial() { "geom" } else { "NULL" };
        let cols = format!("{geom}, key, {}", names.join(", "));
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {cols} FROM {t} WHERE v_from <= ?1
             UNION ALL SELECT {cols} FROM {t}_history WHERE v_from <= ?1 AND v_to > ?1"
        ))?;
        let n = names.len();
        let rows = stmt.query_map([version], |r| {
            let mut values = Vec::with_capacity(n);
            for i in 0..n {
                values.push(r.get::<_, Value>(i + 2)?);
            }
            Ok(Row { geom: r.get(0)?, key: r.get(1)?, values })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
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
        if self.writer.is_none() {
            return Err(StoreError::ReadOnly { path: self.path.clone(), what: "a rollback" });
        }
        let opts = ImportOptions { scope, force: true, ..ImportOptions::default() };
        let mut tx = ImportTx::new(&mut self.conn, layer, "rollback", opts)?;
        for row in rows {
            tx.push(row)?;
        }
        tx.commit(&meta)
    }

    /// The current parcel with this IDU.
    pub fn parcel(&self, idu: &str) -> Result<Option<StoredParcel>> {
        let row = self
            .conn
            .query_row("SELECT idu, contenance, geom, v_from FROM parcels WHERE key = ?1", [idu], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?, r.get::<_, Vec<u8>>(2)?, r.get::<_, i64>(3)?))
            })
            .optional()?;
        row.map(|(idu, contenance, blob, v_from)| {
            Ok(StoredParcel { idu, contenance, geom_l93: gpkg::decode_multipolygon(&blob)?, v_from })
        })
        .transpose()
    }

    /// Current rights (all codes) on a parcel.
    pub fn rights_of(&self, idu: &str) -> Result<Vec<StoredRight>> {
        let mut stmt = self.conn.prepare(
            "SELECT idu, droit, siren, denomination, groupe, forme, forme_abregee FROM owners WHERE idu = ?1 ORDER BY droit, siren",
        )?;
        let rows = stmt.query_map([idu], stored_right)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every current right of kind `right` (e.g. [`domania_core::Right::Proprietaire`]).
    pub fn rights_with_code(&self, right: domania_core::Right) -> Result<Vec<StoredRight>> {
        let droit = right.code().to_string();
        let mut stmt = self.conn.prepare(
            "SELECT idu, droit, siren, denomination, groupe, forme, forme_abregee FROM owners WHERE droit = ?1 ORDER BY idu",
        )?;
        let rows = stmt.query_map([droit.as_str()], stored_right)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every current parcel, geometry decoded.
    pub fn parcels(&self) -> Result<Vec<StoredParcel>> {
        self.parcels_meeting(None)
    }

    /// The current parcels, or those whose boxes meet a zone of `zones` (R-tree boxes are
    /// rounded outwards, so none that meets a zone is missed).
    fn parcels_meeting(&self, zones: Option<Layer>) -> Result<Vec<StoredParcel>> {
        let sql = match zones {
            None => "SELECT idu, contenance, geom, v_from FROM parcels ORDER BY fid".to_owned(),
            Some(z) => format!(
                "SELECT idu, contenance, geom, v_from FROM parcels WHERE fid IN (SELECT r.id FROM \
                 rtree_{z}_geom z JOIN rtree_parcels_geom r ON r.maxx >= z.minx AND r.minx <= z.maxx \
                 AND r.maxy >= z.miny AND r.miny <= z.maxy) ORDER BY fid"
            ),
        };
        let mut stmt = self.conn.prepare(&sql)?;
        let mut q = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = q.next()? {
            // Decoded from SQLite's own buffer: no copy of the blob.
            let blob = r.get_ref(2)?.as_blob().map_err(|e| StoreError::Corrupt(format!("a parcel geometry: {e}")))?;
            let geom_l93 = gpkg::decode_multipolygon(blob)?;
            out.push(StoredParcel { idu: r.get(0)?, contenance: r.get(1)?, geom_l93, v_from: r.get(3)? });
        }
        Ok(out)
    }

    /// Every current row of a layer of keyed shapes: QPV, sub-sectors, conventions, and the
    /// cadastre's buildings and sections.
    pub fn perimeters(&self, layer: Layer) -> Result<Vec<StoredPerimeter>> {
        if !matches!(layer, Layer::Qpv | Layer::Subsectors | Layer::Conventions | Layer::Buildings | Layer::Sections) {
            return Err(StoreError::NotPerimeterLayer(layer));
        }
        let t = layer.table();
        if !self.has_table(t)? {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare(&format!("SELECT key, name, properties, geom FROM {t} ORDER BY key"))?;
        let mut q = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = q.next()? {
            let blob: Vec<u8> = r.get(3)?;
            out.push(StoredPerimeter {
                key: r.get(0)?,
                name: r.get(1)?,
                properties_json: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                geom_l93: gpkg::decode_multipolygon(&blob)?,
            });
        }
        Ok(out)
    }

    /// The communes an owner file covers: those with at least one right (any code) in the
    /// current owners layer. A PPM file lists every parcel of a legal person in its communes, so
    /// a parcel of a covered commune without a right `P` is held by natural persons; a parcel of
    /// a commune no file covers has an unknown owner. Counted by commune, not département:
    /// owner files circulate split in parts (the EF_PPM parts of the Yvelines file hold five
    /// communes of 259).
    pub fn owner_coverage(&self) -> Result<BTreeSet<String>> {
        let mut stmt = self.conn.prepare("SELECT DISTINCT substr(idu, 1, 5) FROM owners")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Whether an owner file covers `commune` (see [`Store::owner_coverage`]): one range look-up
    /// in the owners' IDU index, not the list of every covered commune.
    pub fn owner_file_covers(&self, commune: &str) -> Result<bool> {
        let end = format!("{commune}\u{10FFFF}");
        Ok(self
            .conn
            .query_row("SELECT 1 FROM owners WHERE idu >= ?1 AND idu < ?2 LIMIT 1", [commune, end.as_str()], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Every current parcel IDU.
    pub fn parcel_idus(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("SELECT key FROM parcels ORDER BY key")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Everything a snapshot of the store is built from, read inside one read transaction: one
    /// consistent state, even while a writer commits a new version meanwhile.
    pub fn read_all(&self) -> Result<StoreContents> {
        self.read_contents(None)
    }

    /// Like [`Store::read_all`], but only the parcels whose boxes meet a zone of `zones` (a
    /// perimeter layer), found through the GeoPackage R-trees: what shares and assignments in
    /// those zones need, without decoding the rest of the territory.
    pub fn read_for_zones(&self, zones: Layer) -> Result<StoreContents> {
        if !zones.is_zone() {
            return Err(StoreError::NotPerimeterLayer(zones));
        }
        self.read_contents(Some(zones))
    }

    fn read_contents(&self, zones: Option<Layer>) -> Result<StoreContents> {
        let tx = self.conn.unchecked_transaction()?;
        let versions = self.versions()?;
        let contents = StoreContents {
            parcels: self.parcels_meeting(zones)?,
            owner_rights: self.rights_with_code(domania_core::Right::Proprietaire)?,
            owner_coverage: self.owner_coverage()?,
            subsectors: self.perimeters(Layer::Subsectors)?,
            qpv: self.perimeters(Layer::Qpv)?,
            conventions: self.perimeters(Layer::Conventions)?,
            versions,
        };
        tx.commit()?;
        Ok(contents)
    }

    /// The current version of every layer (`None` before its first import).
    pub fn versions(&self) -> Result<BTreeMap<Layer, Option<i64>>> {
        Layer::ALL.into_iter().map(|l| Ok((l, self.latest_version(l)?))).collect()
    }

    /// Records an API token: its name, role and the SHA-256 of its secret (the secret itself is
    /// never stored). A name already in use is refused.
    pub fn create_token(&mut self, name: &str, role: &str, secret_sha256: &str) -> Result<TokenInfo> {
        if self.writer.is_none() {
            return Err(StoreError::ReadOnly { path: self.path.clone(), what: "creating a token" });
        }
        let tx = self.conn.transaction()?;
        tx.execute_batch(TOKENS_DDL)?;
        let taken: bool =
            tx.query_row("SELECT COUNT(*) FROM domania_tokens WHERE name = ?1", [name], |r| r.get::<_, i64>(0))? > 0;
        if taken {
            return Err(StoreError::TokenNameTaken(name.to_owned()));
        }
        tx.execute(
            "INSERT INTO domania_tokens (name, role, sha256) VALUES (?1, ?2, ?3)",
            rusqlite::params![name, role, secret_sha256],
        )?;
        tx.commit()?;
        self.tokens()?
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| StoreError::Corrupt("a token just created is not there".into()))
    }

    /// Every token, revoked ones included (never their secrets).
    pub fn tokens(&self) -> Result<Vec<TokenInfo>> {
        if !self.has_table("domania_tokens")? {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare("SELECT name, role, created_at, revoked_at FROM domania_tokens ORDER BY created_at, name")?;
        let rows = stmt.query_map([], |r| {
            Ok(TokenInfo { name: r.get(0)?, role: r.get(1)?, created_at: r.get(2)?, revoked_at: r.get(3)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The token whose secret hashes to `secret_sha256`, unless revoked.
    pub fn token_by_hash(&self, secret_sha256: &str) -> Result<Option<TokenInfo>> {
        if !self.has_table("domania_tokens")? {
            return Ok(None);
        }
        Ok(self
            .conn
            .query_row(
                "SELECT name, role, created_at, revoked_at FROM domania_tokens WHERE sha256 = ?1 AND revoked_at IS NULL",
                [secret_sha256],
                |r| Ok(TokenInfo { name: r.get(0)?, role: r.get(1)?, created_at: r.get(2)?, revoked_at: r.get(3)? }),
            )
            .optional()?)
    }

    /// Revokes a token by name; `false` when no live token has that name.
    pub fn revoke_token(&mut self, name: &str) -> Result<bool> {
        if self.writer.is_none() {
            return Err(StoreError::ReadOnly { path: self.path.clone(), what: "revoking a token" });
        }
        if !self.has_table("domania_tokens")? {
            return Ok(false);
        }
        let n = self.conn.execute(
            "UPDATE domania_tokens SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE name = ?1 AND revoked_at IS NULL",
            [name],
        )?;
        Ok(n > 0)
    }

    /// Records a new version of the management rules (their TOML text, checked by the caller)
    /// and returns its number.
    pub fn save_rules(&mut self, toml: &str, author: &str) -> Result<i64> {
        if self.writer.is_none() {
            return Err(StoreError::ReadOnly { path: self.path.clone(), what: "saving the rules" });
        }
        let tx = self.conn.transaction()?;
        tx.execute_batch(RULES_DDL)?;
        let version: i64 = tx.query_row("SELECT COALESCE(MAX(version), 0) + 1 FROM domania_rules", [], |r| r.get(0))?;
        tx.execute(
            "INSERT INTO domania_rules (version, author, toml) VALUES (?1, ?2, ?3)",
            rusqlite::params![version, author, toml],
        )?;
        tx.commit()?;
        Ok(version)
    }

    /// The latest rules saved in the store: (version, TOML text), if any.
    pub fn rules(&self) -> Result<Option<(i64, String)>> {
        if !self.has_table("domania_rules")? {
            return Ok(None);
        }
        Ok(self
            .conn
            .query_row("SELECT version, toml FROM domania_rules ORDER BY version DESC LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?)
    }

    /// `PRAGMA integrity_check` (“ok” when the file is sound).
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
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

fn stored_right(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRight> {
    Ok(StoredRight {
        idu: r.get(0)?,
        droit: {
            let code: String = r.get(1)?;
            domania_core::Right::parse(&code).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, "empty code droit".into())
            })?
        },
        siren: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
        denomination: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
        groupe: r.get::<_, Option<i64>>(4)?.map(|g| g as u8),
        forme: r.get(5)?,
        forme_abregee: r.get(6)?,
    })
}

/// SQL of one layer's writes, built once per import.
struct LayerSql {
    insert: String,
    update: String,
    archive: String,
    delete: String,
    rtree_upsert: String,
    rtree_delete: String,
}

impl LayerSql {
    fn new(layer: Layer) -> Self {
        let t = layer.table();
        let names: Vec<&str> = crate::layer::columns(layer).iter().map(|(n, _)| *n).collect();
        let geom_col = if layer.is_spatial() { "geom, " } else { "" };
        let all_cols = format!("{geom_col}key, {}, ghash, ahash, v_from", names.join(", "));
        let n_params = usize::from(layer.is_spatial()) + 1 + names.len() + 3;
        let placeholders: Vec<String> = (1..=n_params).map(|i| format!("?{i}")).collect();
        let sets: Vec<String> = all_cols.split(", ").zip(&placeholders).map(|(c, p)| format!("{c} = {p}")).collect();
        Self {
            insert: format!("INSERT INTO {t} ({all_cols}) VALUES ({})", placeholders.join(", ")),
            update: format!("UPDATE {t} SET {} WHERE fid = ?{}", sets.join(", "), n_params + 1),
            archive: format!(
                "INSERT INTO {t}_history (fid, {all_cols}, v_to) SELECT fid, {all_cols}, ?1 FROM {t} WHERE fid = ?2"
            ),
            delete: format!("DELETE FROM {t} WHERE fid = ?1"),
            rtree_upsert: format!("INSERT OR REPLACE INTO rtree_{t}_geom VALUES (?1, ?2, ?3, ?4, ?5)"),
            rtree_delete: format!("DELETE FROM rtree_{t}_geom WHERE id = ?1"),
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
    tx: rusqlite::Transaction<'a>,
    layer: Layer,
    kind: String,
    version: i64,
    opts: ImportOptions,
    /// Current rows not (yet) matched by a pushed row: key → (fid, ghash, ahash).
    current: HashMap<String, (i64, i64, i64)>,
    seen: HashSet<String>,
    scopes: BTreeMap<String, ScopeCount>,
    sql: LayerSql,
    features: i64,
    added: i64,
    changed: i64,
    reshaped: i64,
}

impl<'a> ImportTx<'a> {
    fn new(conn: &'a mut Connection, layer: Layer, kind: &str, opts: ImportOptions) -> Result<Self> {
        let t = layer.table();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: i64 =
            tx.query_row("SELECT COALESCE(MAX(version), 0) + 1 FROM domania_versions WHERE layer = ?1", [t], |r| {
                r.get(0)
            })?;
        let mut current: HashMap<String, (i64, i64, i64)> = HashMap::new();
        let mut scopes: BTreeMap<String, ScopeCount> = BTreeMap::new();
        {
            let mut stmt = tx.prepare(&format!("SELECT key, fid, ghash, ahash FROM {t}"))?;
            let mut q = stmt.query([])?;
            while let Some(r) = q.next()? {
                let key: String = r.get(0)?;
                if let Some(code) = opts.scope.kind.code_of(&key) {
                    scopes.entry(code.to_owned()).or_default().current += 1;
                }
                current.insert(key, (r.get(1)?, r.get(2)?, r.get(3)?));
            }
        }
        if layer.is_spatial() {
            // The import maintains the R-tree itself: a trigger on every INSERT makes SQLite
            // keep a statement journal per row (27 % of a 100k import, measured). The standard
            // triggers are back before commit, so no committed state ever lacks them.
            gpkg::drop_rtree_triggers(&tx, t)?;
        }
        Ok(Self {
            tx,
            layer,
            kind: kind.to_owned(),
            version,
            opts,
            current,
            seen: HashSet::new(),
            scopes,
            sql: LayerSql::new(layer),
            features: 0,
            added: 0,
            changed: 0,
            reshaped: 0,
        })
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
            None => count.added += 1,
            Some(_) => count.changed += 1,
        }
        let mut values: Vec<rusqlite::types::Value> = Vec::with_capacity(row.values.len() + 6);
        let env = row.geom.as_deref().and_then(gpkg::envelope);
        if self.layer.is_spatial() {
            values.push(row.geom.map_or(rusqlite::types::Value::Null, rusqlite::types::Value::Blob));
        }
        values.push(rusqlite::types::Value::Text(row.key));
        values.extend(row.values.into_iter().map(|v| match v {
            Value::Null => rusqlite::types::Value::Null,
            Value::Integer(i) => rusqlite::types::Value::Integer(i),
            Value::Real(r) => rusqlite::types::Value::Real(r),
            Value::Text(t) => rusqlite::types::Value::Text(t),
        }));
        values.extend([gh, ah, self.version].map(rusqlite::types::Value::Integer));
        match old {
            None => {
                self.tx.prepare_cached(&self.sql.insert)?.execute(params_from_iter(values))?;
                let fid = self.tx.last_insert_rowid();
                self.index(fid, env)?;
                self.added += 1;
            }
            Some((fid, ogh, _)) => {
                self.tx.prepare_cached(&self.sql.archive)?.execute(params![self.version, fid])?;
                values.push(rusqlite::types::Value::Integer(fid));
                self.tx.prepare_cached(&self.sql.update)?.execute(params_from_iter(values))?;
                self.index(fid, env)?;
                self.changed += 1;
                self.reshaped += i64::from(ogh != gh);
            }
        }
        Ok(())
    }

    /// Puts a row's box in the R-tree (or takes it out when it has no geometry).
    fn index(&self, fid: i64, env: Option<[f64; 4]>) -> Result<()> {
        if !self.layer.is_spatial() {
            return Ok(());
        }
        match env {
            Some(e) => self.tx.prepare_cached(&self.sql.rtree_upsert)?.execute(params![fid, e[0], e[1], e[2], e[3]])?,
            None => self.tx.prepare_cached(&self.sql.rtree_delete)?.execute([fid])?,
        };
        Ok(())
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
                retired.push(*fid);
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
            // Nothing changed: no version. Dropping the transaction rolls back (the R-tree
            // triggers dropped in `new` come back with it).
            let latest: Option<i64> =
                self.tx.query_row("SELECT MAX(version) FROM domania_versions WHERE layer = ?1", [t], |r| r.get(0))?;
            let created_at: Option<String> = self
                .tx
                .query_row(
                    "SELECT created_at FROM domania_versions WHERE layer = ?1 AND version = ?2",
                    params![t, latest],
                    |r| r.get(0),
                )
                .optional()?;
            let mut info = self.info(meta, latest.unwrap_or(0), created_at.unwrap_or_default(), scope_text, 0);
            (info.unchanged, info.added, info.changed, info.reshaped) = (true, 0, 0, 0);
            return Ok(info);
        }
        for fid in &retired {
            self.tx.prepare_cached(&self.sql.archive)?.execute(params![self.version, fid])?;
            self.tx.prepare_cached(&self.sql.delete)?.execute([fid])?;
            if self.layer.is_spatial() {
                self.tx.prepare_cached(&self.sql.rtree_delete)?.execute([fid])?;
            }
        }
        if self.layer.is_spatial() {
            gpkg::create_rtree_triggers(&self.tx, t, "fid")?;
        }
        self.tx.execute(
            "INSERT INTO domania_versions (layer, version, kind, author, source, source_sha256, features, added, removed, changed, reshaped, rejected, repaired, report)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                t,
                self.version,
                self.kind,
                meta.author,
                meta.source,
                meta.source_sha256,
                self.features,
                self.added,
                removed,
                self.changed,
                self.reshaped,
                meta.rejected as i64,
                meta.repaired as i64,
                meta.report_json
            ],
        )?;
        for code in &replaced {
            let c = self.scopes.get(code).copied().unwrap_or_default();
            self.tx.execute(
                "INSERT INTO domania_scopes (layer, version, scope_kind, scope, features, added, removed, changed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![t, self.version, kind.as_str(), code, c.features, c.added, c.removed, c.changed],
            )?;
        }
        if self.layer.is_spatial() {
            // The R-tree holds float32 boxes rounded outwards: a conservative extent, as the
            // GeoPackage extent may be.
            self.tx.execute(
                &format!(
                    "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now'),
                       min_x = (SELECT MIN(minx) FROM rtree_{t}_geom), max_x = (SELECT MAX(maxx) FROM rtree_{t}_geom),
                       min_y = (SELECT MIN(miny) FROM rtree_{t}_geom), max_y = (SELECT MAX(maxy) FROM rtree_{t}_geom)
                     WHERE table_name = ?1"
                ),
                [t],
            )?;
        } else {
            self.tx.execute(
                "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = ?1",
                [t],
            )?;
        }
        let created_at = self.tx.query_row(
            "SELECT created_at FROM domania_versions WHERE layer = ?1 AND version = ?2",
            params![t, self.version],
            |r| r.get(0),
        )?;
        let info = self.info(meta, self.version, created_at, scope_text, removed);
        self.tx.commit()?;
        Ok(info)
    }
}

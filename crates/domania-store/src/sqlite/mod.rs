//! The GeoPackage engine of the store (see [`crate::store`] for the model): one SQLite file
//! that `ogrinfo` and QGIS open as it is, an R-tree per spatial layer, one writer at a time
//! (an advisory lock on a sidecar file). An import is one SQLite transaction (rollback
//! journal, see `configure`): killed at any moment, the file holds the previous version, whole.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

pub mod gpkg;
pub(crate) mod lock;
mod read;
mod write;

use crate::blob;
use crate::contract::{Begun, CommuneOwners, Engine, RawSink};
use crate::error::{Result, StoreError, sqlite_reason};
use crate::layer::{Layer, Row, Value};
use crate::location::Wait;
use crate::model::{StoredParcel, StoredPerimeter, StoredRight};
use crate::records::{
    Chunked, HashRow, RawRow, ReachRecord, Record, RulesRecord, ScopeRecord, TokenRecord, VersionRecord,
};
use crate::scope::DEPARTEMENT_OF_KEY;
use lock::WriterLock;
use read::stored_right;
use write::{GpkgSink, GpkgWriter, LayerSql};

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

/// A GeoPackage store.
pub(crate) struct GpkgDb {
    conn: Connection,
    path: PathBuf,
    /// Held by a store opened for writing: the advisory lock that keeps two writers apart
    /// (released when the store is dropped).
    writer: Option<WriterLock>,
    /// This opening created the file (decided under the writer lock).
    created: bool,
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

/// One row per version of a spatial layer: the box of the shapes it changed (see
/// `ReachRecord`).
const REACH_DDL: &str = "CREATE TABLE IF NOT EXISTS domania_reach (
    layer TEXT NOT NULL, version INTEGER NOT NULL, min_x INTEGER NOT NULL, min_y INTEGER NOT NULL,
    max_x INTEGER NOT NULL, max_y INTEGER NOT NULL, PRIMARY KEY (layer, version))";

/// API tokens of the HTTP server: the SHA-256 of each secret, never the secret.
const TOKENS_DDL: &str = "CREATE TABLE IF NOT EXISTS domania_tokens (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), revoked_at TEXT)";

/// Management rules saved by the server's administrators, every version kept.
const RULES_DDL: &str = "CREATE TABLE IF NOT EXISTS domania_rules (
    version INTEGER PRIMARY KEY, author TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), toml TEXT NOT NULL)";

/// Domania's own columns of a layer's current rows.
const OWN_COLUMNS: &str = "ghash INTEGER NOT NULL, ahash INTEGER NOT NULL, v_from INTEGER NOT NULL";
/// The same in a layer editors save into: a feature QGIS creates leaves them empty.
const EDITED_OWN_COLUMNS: &str = "ghash INTEGER NOT NULL ON CONFLICT REPLACE DEFAULT 0, \
     ahash INTEGER NOT NULL ON CONFLICT REPLACE DEFAULT 0, v_from INTEGER NOT NULL ON CONFLICT REPLACE DEFAULT 0";

/// Rebuilds an edited layer's table of a store made before editors saved into it, with
/// [`EDITED_OWN_COLUMNS`] (SQLite cannot change a column's default in place): the rows, their
/// fids and the fid counter kept, the R-tree triggers made again.
fn open_to_editors(tx: &Connection, layer: Layer) -> Result<()> {
    let t = layer.table();
    let sql: String =
        tx.query_row("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1", [t], |r| r.get(0))?;
    if sql.contains("ON CONFLICT REPLACE") {
        return Ok(());
    }
    let seq: i64 =
        tx.query_row("SELECT seq FROM sqlite_sequence WHERE name = ?1", [t], |r| r.get(0)).optional()?.unwrap_or(0);
    let cols: String = crate::layer::columns(layer).iter().fold(String::new(), |mut acc, (n, ty)| {
        use std::fmt::Write as _;
        let _ = write!(acc, ", {n} {ty}");
        acc
    });
    let names: String = crate::layer::columns(layer).iter().map(|(n, _)| format!(", {n}")).collect();
    gpkg::drop_rtree_triggers(tx, t)?;
    tx.execute_batch(&format!(
        "CREATE TABLE {t}_rebuilt (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom MULTIPOLYGON, key TEXT NOT NULL UNIQUE{cols},
           {EDITED_OWN_COLUMNS});
         INSERT INTO {t}_rebuilt (fid, geom, key{names}, ghash, ahash, v_from)
           SELECT fid, geom, key{names}, ghash, ahash, v_from FROM {t};
         DROP TABLE {t};
         ALTER TABLE {t}_rebuilt RENAME TO {t};"
    ))?;
    tx.execute("UPDATE sqlite_sequence SET seq = max(seq, ?2) WHERE name = ?1", rusqlite::params![t, seq])?;
    // GDAL's count of the table's rows lost its triggers with the old table: unknown, so
    // that GDAL counts again.
    let counted: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'gpkg_ogr_contents')",
        [],
        |r| r.get(0),
    )?;
    if counted {
        tx.execute("UPDATE gpkg_ogr_contents SET feature_count = NULL WHERE table_name = ?1", [t])?;
    }
    gpkg::create_rtree_triggers(tx, t, "fid")
}

/// The tables Domania owns in a store (besides `gpkg_*` and the R-trees).
fn domania_tables() -> Vec<String> {
    let mut t = vec![
        "domania_versions".to_owned(),
        "domania_scopes".to_owned(),
        "domania_edits".to_owned(),
        "domania_reach".to_owned(),
    ];
    for l in Layer::ALL {
        t.push(l.table().to_owned());
        t.push(format!("{}_history", l.table()));
    }
    t
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

impl GpkgDb {
    /// See [`crate::Store::open_read`].
    pub(crate) fn open_read(path: &Path, wait: &Wait<'_>) -> Result<Self> {
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
    pub(crate) fn open_write(path: &Path, wait: &Wait<'_>) -> Result<Self> {
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
    pub(crate) fn create(path: &Path, adopt: bool, wait: &Wait<'_>) -> Result<Self> {
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
        // QGIS puts a GeoPackage it edits in WAL mode, and leaving WAL needs the file to
        // itself: while QGIS has it open, the store stays in WAL (readers and one writer work
        // together there too).
        let wal = conn.pragma_query_value(None, "journal_mode", |r| r.get::<_, String>(0))?.eq_ignore_ascii_case("wal");
        conn.pragma_update(None, "journal_mode", "DELETE").or_else(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ReadOnly) => {
                Err(StoreError::ReadOnly { path: path.to_path_buf(), what: "this command" })
            }
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) if wal => Ok(()),
            _ => Err(StoreError::from(e)),
        })?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "cache_size", -65_536)?;
        gpkg::register_functions(&conn)?;
        Ok(Self { conn, path: path.to_path_buf(), writer: Some(writer), created: false })
    }

    /// The file path.
    #[must_use]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn init_schema(&self) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        gpkg::init(&tx)?;
        tx.execute_batch(VERSIONS_DDL)?;
        tx.execute_batch(SCOPES_DDL)?;
        tx.execute_batch(REACH_DDL)?;
        gpkg::register_attribute_table(&tx, "domania_versions", "Domania: one row per version of each layer")?;
        for layer in Layer::ALL {
            let t = layer.table();
            let cols: String = crate::layer::columns(layer).iter().fold(String::new(), |mut acc, (n, ty)| {
                use std::fmt::Write as _;
                let _ = write!(acc, ", {n} {ty}");
                acc
            });
            let geom = if layer.is_spatial() { ", geom MULTIPOLYGON" } else { "" };
            // An edited layer's own columns take 0 when an editor's new feature leaves them
            // empty (the journal and the next version give them their values).
            let own = if layer.is_edited() { EDITED_OWN_COLUMNS } else { OWN_COLUMNS };
            tx.execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS {t} (fid INTEGER PRIMARY KEY AUTOINCREMENT{geom}, key TEXT NOT NULL UNIQUE{cols},
                   {own});
                 CREATE TABLE IF NOT EXISTS {t}_history (hid INTEGER PRIMARY KEY AUTOINCREMENT, fid INTEGER NOT NULL{geom},
                   key TEXT NOT NULL{cols}, ghash INTEGER NOT NULL, ahash INTEGER NOT NULL,
                   v_from INTEGER NOT NULL, v_to INTEGER NOT NULL);
                 CREATE INDEX IF NOT EXISTS {t}_history_key ON {t}_history (key, v_from);"
            ))?;
            // A column added to the layer after this store was made: added, empty.
            for table in [t.to_owned(), format!("{t}_history")] {
                let have = table_columns(&tx, &table)?;
                for (n, ty) in crate::layer::columns(layer) {
                    if !have.iter().any(|h| h == n) {
                        let ty = ty.replace(" NOT NULL", "");
                        tx.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {n} {ty}"))?;
                    }
                }
            }
            if layer == Layer::Owners {
                tx.execute_batch("CREATE INDEX IF NOT EXISTS owners_idu ON owners (idu);")?;
            }
            if layer.is_spatial() {
                gpkg::register_feature_table(&tx, t, "fid", layer.description())?;
            } else {
                gpkg::register_attribute_table(&tx, t, layer.description())?;
            }
            if layer.is_edited() {
                open_to_editors(&tx, layer)?;
            }
        }
        tx.execute_batch(gpkg::EDITS_DDL)?;
        gpkg::restore_edit_triggers(&tx, crate::model::MAX_REMOVED_DEFAULT)?;
        tx.commit()?;
        Ok(())
    }

    /// The layer's columns as a `SELECT` list: a column an older store lacks (its writer has
    /// not opened it since the column was added) is read as empty.
    fn column_list(&self, layer: Layer) -> Result<String> {
        let have = table_columns(&self.conn, layer.table())?;
        let names: Vec<String> = crate::layer::columns(layer)
            .iter()
            .map(|(n, _)| if have.iter().any(|h| h == n) { (*n).to_owned() } else { format!("NULL AS {n}") })
            .collect();
        Ok(names.join(", "))
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

    /// The current parcels `filter` (an SQL `WHERE` clause, or nothing) keeps, by fid: the
    /// order of a full read.
    fn parcels_where(&self, filter: &str, params: impl rusqlite::Params) -> Result<Vec<StoredParcel>> {
        let sql = format!("SELECT idu, contenance, geom, v_from, fid FROM parcels {filter} ORDER BY fid");
        let mut stmt = self.conn.prepare(&sql)?;
        let mut q = stmt.query(params)?;
        let mut out = Vec::new();
        while let Some(r) = q.next()? {
            // Decoded from SQLite's own buffer: no copy of the blob.
            let blob = r.get_ref(2)?.as_blob().map_err(|e| StoreError::Corrupt(format!("a parcel geometry: {e}")))?;
            let geom_l93 = blob::decode_multipolygon(blob)?;
            out.push(StoredParcel {
                idu: r.get(0)?,
                contenance: r.get(1)?,
                geom_l93,
                v_from: r.get(3)?,
                fid: r.get(4)?,
            });
        }
        Ok(out)
    }

    /// The records of the rows of `sql`, which selects `T::COLUMNS`.
    fn records<T: Record>(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<T>> {
        let mut stmt = self.conn.prepare(sql)?;
        let mut q = stmt.query(params)?;
        let mut out = Vec::new();
        while let Some(r) = q.next()? {
            out.push(T::read(r)?);
        }
        Ok(out)
    }
}

impl Engine for GpkgDb {
    /// Removes the file this opening created, if no version was written into it: a failed first
    /// import leaves nothing behind. Done while the writer lock is still held; a store that
    /// existed before, or that holds a version, is never removed.
    fn discard_if_new(self: Box<Self>) {
        let empty = self
            .conn
            .query_row("SELECT COUNT(*) FROM domania_versions", [], |r| r.get::<_, i64>(0))
            .is_ok_and(|n| n == 0);
        if !(self.created && empty && self.writer.is_some()) {
            return;
        }
        let GpkgDb { conn, path, writer, .. } = *self;
        drop(conn);
        let _ = std::fs::remove_file(&path);
        drop(writer);
    }

    fn is_postgres(&self) -> bool {
        false
    }

    fn is_writer(&self) -> bool {
        self.writer.is_some()
    }

    fn latest_version(&self, layer: Layer) -> Result<Option<i64>> {
        Ok(self.conn.query_row("SELECT MAX(version) FROM domania_versions WHERE layer = ?1", [layer.table()], |r| {
            r.get::<_, Option<i64>>(0)
        })?)
    }

    fn version_records(&self, layer: Option<Layer>) -> Result<Vec<VersionRecord>> {
        self.records(
            &format!(
                "SELECT {} FROM domania_versions WHERE ?1 IS NULL OR layer = ?1 ORDER BY layer, version",
                VersionRecord::COLUMNS
            ),
            [layer.map(Layer::table)],
        )
    }

    fn scope_records(&self, layer: Option<Layer>) -> Result<Vec<ScopeRecord>> {
        if !self.has_table("domania_scopes")? {
            return Ok(Vec::new());
        }
        self.records(
            &format!(
                "SELECT {} FROM domania_scopes WHERE ?1 IS NULL OR layer = ?1 ORDER BY layer, version, scope_kind, scope",
                ScopeRecord::COLUMNS
            ),
            [layer.map(Layer::table)],
        )
    }

    fn reach_records(&self, layer: Option<Layer>) -> Result<Vec<ReachRecord>> {
        if !self.has_table("domania_reach")? {
            return Ok(Vec::new());
        }
        self.records(
            &format!(
                "SELECT {} FROM domania_reach WHERE ?1 IS NULL OR layer = ?1 ORDER BY layer, version",
                ReachRecord::COLUMNS
            ),
            [layer.map(Layer::table)],
        )
    }

    /// The keys of a layer's current rows.
    fn keys(&self, layer: Layer) -> Result<Vec<String>> {
        let t = layer.table();
        if !self.has_table(t)? {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare(&format!("SELECT key FROM {t}"))?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every row of a layer, current and history, by key, version range and hashes.
    fn hash_rows(&self, layer: Layer) -> Result<Vec<HashRow>> {
        let t = layer.table();
        if !self.has_table(t)? {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare(&format!(
            "SELECT key, v_from, NULL, ghash, ahash FROM {t} UNION ALL SELECT key, v_from, v_to, ghash, ahash FROM {t}_history"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok(HashRow { key: r.get(0)?, v_from: r.get(1)?, v_to: r.get(2)?, ghash: r.get(3)?, ahash: r.get(4)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// (current rows, history rows) of a layer.
    fn counts(&self, layer: Layer) -> Result<(i64, i64)> {
        let t = layer.table();
        // A store made before a layer existed has no table for it until a writer opens it: an
        // empty layer.
        if !self.has_table(t)? {
            return Ok((0, 0));
        }
        let features = self.conn.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))?;
        let history = self.conn.query_row(&format!("SELECT COUNT(*) FROM {t}_history"), [], |r| r.get(0))?;
        Ok((features, history))
    }

    fn rows_at(&self, layer: Layer, version: i64) -> Result<Vec<Row>> {
        let t = layer.table();
        let names: Vec<&str> = crate::layer::columns(layer).iter().map(|(n, _)| *n).collect();
        let geom = if layer.is_spatial() { "geom" } else { "NULL" };
        let cols = format!("{geom}, key, {}", self.column_list(layer)?);
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

    fn parcel(&self, idu: &str) -> Result<Option<StoredParcel>> {
        let row = self
            .conn
            .query_row("SELECT idu, contenance, geom, v_from, fid FROM parcels WHERE key = ?1", [idu], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })
            .optional()?;
        row.map(|(idu, contenance, blob, v_from, fid)| {
            Ok(StoredParcel { idu, contenance, geom_l93: blob::decode_multipolygon(&blob)?, v_from, fid })
        })
        .transpose()
    }

    fn rights_of(&self, idu: &str) -> Result<Vec<StoredRight>> {
        let mut stmt = self.conn.prepare(rights_query!("WHERE idu = ?1 ORDER BY droit, siren"))?;
        let rows = stmt.query_map([idu], stored_right)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn rights_with_code(&self, right: domania_core::Right) -> Result<Vec<StoredRight>> {
        let droit = right.code().to_string();
        let mut stmt = self.conn.prepare(rights_query!("WHERE droit = ?1 ORDER BY idu"))?;
        let rows = stmt.query_map([droit.as_str()], stored_right)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn owners_of_commune(&self, commune: &str) -> Result<CommuneOwners> {
        if !self.has_table("owners")? {
            return Ok((Vec::new(), Vec::new()));
        }
        let (droit, end) = (domania_core::Right::Proprietaire.code().to_string(), format!("{commune}\u{10FFFF}"));
        let mut stmt = self.conn.prepare(rights_query!("WHERE idu >= ?1 AND idu < ?2 AND droit = ?3 ORDER BY idu"))?;
        let rights = stmt.query_map([commune, end.as_str(), droit.as_str()], stored_right)?;
        let rights = rights.collect::<rusqlite::Result<_>>()?;
        if !table_columns(&self.conn, "owners")?.iter().any(|c| c == "adresse") {
            return Ok((rights, Vec::new()));
        }
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT idu, adresse FROM owners WHERE idu >= ?1 AND idu < ?2 AND adresse IS NOT NULL
             ORDER BY idu, adresse",
        )?;
        let addresses = stmt.query_map([commune, end.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok((rights, addresses.collect::<rusqlite::Result<_>>()?))
    }

    fn parcels_of_commune(&self, commune: &str) -> Result<Vec<StoredParcel>> {
        let end = format!("{commune}\u{10FFFF}");
        self.parcels_where("WHERE key >= ?1 AND key < ?2", [commune, end.as_str()])
    }

    fn street_addresses(&self) -> Result<Vec<(String, String)>> {
        // A store whose writer has not opened it since the column was added has none.
        if !self.has_table("owners")? || !table_columns(&self.conn, "owners")?.iter().any(|c| c == "adresse") {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT idu, adresse FROM owners WHERE adresse IS NOT NULL ORDER BY idu, adresse")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The current parcels, or those whose boxes meet a zone of `zones` (R-tree boxes are
    /// rounded outwards, so none that meets a zone is missed).
    fn parcels_meeting(&self, zones: Option<Layer>) -> Result<Vec<StoredParcel>> {
        let filter = match zones {
            None => String::new(),
            Some(z) => format!(
                "WHERE fid IN (SELECT r.id FROM rtree_{z}_geom z JOIN rtree_parcels_geom r ON r.maxx >= z.minx \
                 AND r.minx <= z.maxx AND r.maxy >= z.miny AND r.miny <= z.maxy)"
            ),
        };
        self.parcels_where(&filter, [])
    }

    fn perimeters(&self, layer: Layer) -> Result<Vec<StoredPerimeter>> {
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
                geom_l93: blob::decode_multipolygon(&blob)?,
            });
        }
        Ok(out)
    }

    fn departements(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(&format!("SELECT DISTINCT {DEPARTEMENT_OF_KEY} FROM parcels ORDER BY 1"))?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn owner_coverage(&self) -> Result<BTreeSet<String>> {
        let mut stmt = self.conn.prepare("SELECT DISTINCT substr(idu, 1, 5) FROM owners")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn cadastre_updated(&self) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT max(updated) FROM parcels", [], |r| r.get(0))?)
    }

    fn owner_file_covers(&self, commune: &str) -> Result<bool> {
        let end = format!("{commune}\u{10FFFF}");
        Ok(self
            .conn
            .query_row("SELECT 1 FROM owners WHERE idu >= ?1 AND idu < ?2 LIMIT 1", [commune, end.as_str()], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Starts a read transaction: what follows reads one state of the file.
    fn begin_read(&self) -> Result<()> {
        Ok(self.conn.execute_batch("BEGIN DEFERRED")?)
    }

    fn end_read(&self) -> Result<()> {
        Ok(self.conn.execute_batch("COMMIT")?)
    }

    fn create_token(&mut self, name: &str, role: &str, secret_sha256: &str) -> Result<()> {
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
        Ok(())
    }

    fn token_records(&self) -> Result<Vec<TokenRecord>> {
        if !self.has_table("domania_tokens")? {
            return Ok(Vec::new());
        }
        self.records(&format!("SELECT {} FROM domania_tokens", TokenRecord::COLUMNS), [])
    }

    fn token_by_hash(&self, secret_sha256: &str) -> Result<Option<crate::TokenInfo>> {
        if !self.has_table("domania_tokens")? {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {} FROM domania_tokens WHERE sha256 = ?1 AND revoked_at IS NULL",
            crate::TokenInfo::COLUMNS
        );
        Ok(self.records::<crate::TokenInfo>(&sql, [secret_sha256])?.pop())
    }

    fn edits_journaled(&self) -> Result<bool> {
        self.has_table("domania_edits")
    }

    fn last_edit(&self, layer: Layer) -> Result<Option<i64>> {
        if !self.has_table("domania_edits")? {
            return Ok(None);
        }
        gpkg::last_edit(&self.conn, layer)
    }

    fn discard_edits(&mut self, layer: Layer, upto: i64) -> Result<bool> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if gpkg::last_edit(&tx, layer)? != Some(upto) {
            return Ok(false);
        }
        gpkg::drop_edit_triggers(&tx)?;
        gpkg::restore_before_edits(&tx, layer)?;
        gpkg::restore_edit_triggers(&tx, crate::model::MAX_REMOVED_DEFAULT)?;
        tx.commit()?;
        Ok(true)
    }

    /// Sets the hashes of current rows by key (see `Store::mark_altered`).
    fn set_hashes(&mut self, rows: &BTreeMap<Layer, Vec<(&str, i64, i64)>>) -> Result<usize> {
        let tx = self.conn.transaction()?;
        // Marking is not an edit: the journal does not see it.
        gpkg::drop_edit_triggers(&tx)?;
        let mut n = 0;
        for (layer, rows) in rows {
            let mut stmt =
                tx.prepare(&format!("UPDATE {} SET ghash = ?1, ahash = ?2 WHERE key = ?3", layer.table()))?;
            for (key, g, a) in rows {
                n += stmt.execute(rusqlite::params![g, a, key])?;
            }
        }
        gpkg::restore_edit_triggers(&tx, crate::model::MAX_REMOVED_DEFAULT)?;
        tx.commit()?;
        Ok(n)
    }

    fn revoke_token(&mut self, name: &str) -> Result<bool> {
        if !self.has_table("domania_tokens")? {
            return Ok(false);
        }
        let n = self.conn.execute(
            "UPDATE domania_tokens SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE name = ?1 AND revoked_at IS NULL",
            [name],
        )?;
        Ok(n > 0)
    }

    fn save_rules(&mut self, toml: &str, author: &str) -> Result<i64> {
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

    fn rules_records(&self) -> Result<Vec<RulesRecord>> {
        if !self.has_table("domania_rules")? {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT {} FROM domania_rules ORDER BY version", RulesRecord::COLUMNS);
        self.records(&sql, [])
    }

    fn integrity_check(&self) -> Result<String> {
        Ok(self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// Opens the writer of a new version of `layer`.
    fn writer(&mut self, layer: Layer, absorb: Option<i64>) -> Result<Begun<'_>> {
        let t = layer.table();
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Domania keeps the history of its own writes: the editors' triggers are off until
        // the commit (dropping the writer rolls their removal back).
        gpkg::drop_edit_triggers(&tx)?;
        if let Some(upto) = absorb {
            if gpkg::last_edit(&tx, layer)? != Some(upto) {
                return Err(StoreError::EditedMeanwhile { layer: t });
            }
            gpkg::restore_before_edits(&tx, layer)?;
        }
        let version: i64 =
            tx.query_row("SELECT COALESCE(MAX(version), 0) + 1 FROM domania_versions WHERE layer = ?1", [t], |r| {
                r.get(0)
            })?;
        if layer.is_spatial() {
            // The import maintains the R-tree itself: a trigger on every INSERT makes SQLite
            // keep a statement journal per row (27 % of a 100k import, measured). The standard
            // triggers are back before commit, so no committed state ever lacks them.
            gpkg::drop_rtree_triggers(&tx, t)?;
        }
        Ok((Box::new(GpkgWriter { tx, layer, version, sql: LayerSql::new(layer), archived: None }), version))
    }

    /// Every stored row of a layer (current, or history), in chunks, for a copy.
    fn raw_rows(&self, layer: Layer, history: bool, each: &mut dyn FnMut(Vec<RawRow>) -> Result<()>) -> Result<()> {
        let t = layer.table();
        if !self.has_table(t)? {
            return Ok(());
        }
        let names: Vec<&str> = crate::layer::columns(layer).iter().map(|(n, _)| *n).collect();
        let geom = if layer.is_spatial() { "geom" } else { "NULL" };
        let (table, v_to) = if history { (format!("{t}_history"), "v_to") } else { (t.to_owned(), "NULL") };
        let order = if history { "hid" } else { "fid" };
        let mut stmt = self.conn.prepare(&format!(
            "SELECT fid, {geom}, key, ghash, ahash, v_from, {v_to}, {} FROM {table} ORDER BY {order}",
            self.column_list(layer)?
        ))?;
        let mut q = stmt.query([])?;
        let mut chunks = Chunked::new(each);
        while let Some(r) = q.next()? {
            let values = (0..names.len()).map(|i| r.get::<_, Value>(7 + i)).collect::<rusqlite::Result<Vec<_>>>()?;
            chunks.push(RawRow {
                fid: r.get(0)?,
                row: Row { geom: r.get(1)?, key: r.get(2)?, values },
                ghash: r.get(3)?,
                ahash: r.get(4)?,
                v_from: r.get(5)?,
                v_to: r.get(6)?,
            })?;
        }
        chunks.finish()
    }

    /// The writer of a copy into this (empty) store: one transaction.
    fn raw_sink(&mut self) -> Result<Box<dyn RawSink + '_>> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(TOKENS_DDL)?;
        tx.execute_batch(RULES_DDL)?;
        gpkg::drop_edit_triggers(&tx)?;
        Ok(Box::new(GpkgSink { tx }))
    }
}

/// The columns a table has.
fn table_columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let names = stmt.query_map([table], |r| r.get::<_, String>(0))?;
    Ok(names.collect::<rusqlite::Result<_>>()?)
}

//! The versioned store.
//!
//! Each layer is two tables: `<layer>` holds the current version (what QGIS and `ogrinfo`
//! show, with its R-tree), `<layer>_history` holds every row a later version replaced or
//! removed, with the version range it was valid in (`v_from` ≤ v < `v_to`). A row of the current
//! table is valid from `v_from` on. The rows of version V are therefore
//! `current WHERE v_from <= V` plus `history WHERE v_from <= V AND v_to > V`.
//!
//! An import is one SQLite transaction (WAL journal): it compares the new rows with the current
//! ones by key and content hash, moves replaced and removed rows to the history, writes the new
//! ones and records the version in `domania_versions`. Killed at any moment, the file holds the
//! previous version, whole.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use geo_types::MultiPolygon;
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params, params_from_iter};
use serde::Serialize;

use crate::error::{Result, StoreError};
use crate::gpkg;
use crate::layer::{Layer, Row};

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
    pub droit: String,
    pub siren: String,
    pub denomination: String,
    pub groupe: Option<u8>,
    pub forme: Option<String>,
    pub forme_abregee: Option<String>,
}

/// The GeoPackage store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
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

impl Store {
    /// Opens the store, creating a new GeoPackage if the file does not exist.
    pub fn open(path: &Path) -> Result<Self> {
        let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
        let existed = path.exists() && path.metadata().is_ok_and(|m| m.len() > 0);
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        if existed {
            let app: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0)).map_err(open_err)?;
            if app != gpkg::APPLICATION_ID {
                return Err(StoreError::NotGeoPackage { path: path.to_path_buf(), found: app });
            }
        }
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(open_err)?;
        if !existed {
            // Set before the first table. SQLite sizes R-tree nodes by the page: 64 KiB pages
            // gave 2,700-entry nodes and made every index insert 5 times slower (measured).
            conn.pragma_update(None, "page_size", PAGE_SIZE).map_err(open_err)?;
        }
        conn.pragma_update(None, "journal_mode", "DELETE").map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(open_err)?;
        conn.pragma_update(None, "cache_size", -65_536).map_err(open_err)?;
        gpkg::register_functions(&conn)?;
        let store = Self { conn, path: path.to_path_buf() };
        store.init_schema()?;
        Ok(store)
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
        gpkg::register_attribute_table(&tx, "domania_versions", "Domania: one row per version of each layer")?;
        for layer in Layer::ALL {
            let t = layer.table();
            let cols: String = layer.columns().iter().fold(String::new(), |mut acc, (n, ty)| {
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

    /// Imports a complete new version of a layer. `rows` must have distinct keys.
    pub fn import(&mut self, layer: Layer, rows: Vec<Row>, meta: &ImportMeta) -> Result<VersionInfo> {
        let mut tx = self.begin_import(layer)?;
        for row in rows {
            tx.push(row)?;
        }
        tx.commit(meta)
    }

    /// Starts writing a new version of `layer` in one transaction. Rows are pushed one by one
    /// (so a reader thread can feed them while the file is still being parsed); nothing is
    /// visible until [`ImportTx::commit`], and dropping the `ImportTx` rolls everything back.
    pub fn begin_import(&mut self, layer: Layer) -> Result<ImportTx<'_>> {
        ImportTx::new(&mut self.conn, layer, "import")
    }

    fn write_version(&mut self, layer: Layer, rows: Vec<Row>, meta: &ImportMeta, kind: &str) -> Result<VersionInfo> {
        let mut tx = ImportTx::new(&mut self.conn, layer, kind)?;
        for row in rows {
            tx.push(row)?;
        }
        tx.commit(meta)
    }

    /// Every version of a layer, oldest first.
    pub fn history(&self, layer: Layer) -> Result<Vec<VersionInfo>> {
        let mut stmt = self.conn.prepare(
            "SELECT version, kind, author, created_at, source, source_sha256, features, added, removed, changed, reshaped, rejected, repaired
             FROM domania_versions WHERE layer = ?1 ORDER BY version",
        )?;
        let rows = stmt.query_map([layer.table()], |r| {
            Ok(VersionInfo {
                layer,
                version: r.get(0)?,
                kind: r.get(1)?,
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

    /// Summary of every layer.
    pub fn layers(&self) -> Result<Vec<LayerSummary>> {
        Layer::ALL
            .into_iter()
            .map(|layer| {
                let t = layer.table();
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
        let names: Vec<&str> = layer.columns().iter().map(|(n, _)| *n).collect();
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
    pub fn rollback(&mut self, layer: Layer, version: i64, author: &str) -> Result<VersionInfo> {
        let rows = self.rows_at(layer, version)?;
        let meta = ImportMeta {
            author: author.to_owned(),
            source: format!("rollback to version {version}"),
            ..ImportMeta::default()
        };
        self.write_version(layer, rows, &meta, "rollback")
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

    /// Every current right of right code `droit` (e.g. `P`).
    pub fn rights_with_code(&self, droit: &str) -> Result<Vec<StoredRight>> {
        let mut stmt = self.conn.prepare(
            "SELECT idu, droit, siren, denomination, groupe, forme, forme_abregee FROM owners WHERE droit = ?1 ORDER BY idu",
        )?;
        let rows = stmt.query_map([droit], stored_right)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every current parcel, geometry decoded.
    pub fn parcels(&self) -> Result<Vec<StoredParcel>> {
        let mut stmt = self.conn.prepare("SELECT idu, contenance, geom, v_from FROM parcels ORDER BY fid")?;
        let mut q = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = q.next()? {
            let blob: Vec<u8> = r.get(2)?;
            out.push(StoredParcel {
                idu: r.get(0)?,
                contenance: r.get(1)?,
                geom_l93: gpkg::decode_multipolygon(&blob)?,
                v_from: r.get(3)?,
            });
        }
        Ok(out)
    }

    /// Every current perimeter of a perimeter layer (QPV, sub-sectors, conventions).
    pub fn perimeters(&self, layer: Layer) -> Result<Vec<StoredPerimeter>> {
        if !matches!(layer, Layer::Qpv | Layer::Subsectors | Layer::Conventions) {
            return Err(StoreError::UnknownLayer(format!("{layer} is not a perimeter layer")));
        }
        let t = layer.table();
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

    /// Every current parcel IDU.
    pub fn parcel_idus(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("SELECT key FROM parcels ORDER BY key")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
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
        droit: r.get(1)?,
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
        let names: Vec<&str> = layer.columns().iter().map(|(n, _)| *n).collect();
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

/// A new version being written (see [`Store::begin_import`]).
pub struct ImportTx<'a> {
    tx: rusqlite::Transaction<'a>,
    layer: Layer,
    kind: String,
    version: i64,
    /// Current rows not (yet) matched by a pushed row: key → (fid, ghash, ahash).
    current: HashMap<String, (i64, i64, i64)>,
    seen: HashSet<String>,
    sql: LayerSql,
    features: i64,
    added: i64,
    changed: i64,
    reshaped: i64,
}

impl<'a> ImportTx<'a> {
    fn new(conn: &'a mut Connection, layer: Layer, kind: &str) -> Result<Self> {
        let t = layer.table();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: i64 =
            tx.query_row("SELECT COALESCE(MAX(version), 0) + 1 FROM domania_versions WHERE layer = ?1", [t], |r| {
                r.get(0)
            })?;
        let mut current: HashMap<String, (i64, i64, i64)> = HashMap::new();
        {
            let mut stmt = tx.prepare(&format!("SELECT key, fid, ghash, ahash FROM {t}"))?;
            let mut q = stmt.query([])?;
            while let Some(r) = q.next()? {
                current.insert(r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?));
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
            current,
            seen: HashSet::new(),
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
        if !self.seen.insert(row.key.clone()) {
            return Err(StoreError::DuplicateKey { layer: self.layer.table().to_owned(), key: row.key });
        }
        self.features += 1;
        let (gh, ah) = (row.geom_hash(), row.attr_hash());
        let old = self.current.remove(&row.key);
        if let Some((_, ogh, oah)) = old
            && ogh == gh
            && oah == ah
        {
            return Ok(());
        }
        let mut values: Vec<Value> = Vec::with_capacity(row.values.len() + 6);
        let env = row.geom.as_deref().and_then(gpkg::envelope);
        if self.layer.is_spatial() {
            values.push(row.geom.map_or(Value::Null, Value::Blob));
        }
        values.push(Value::Text(row.key));
        values.extend(row.values);
        values.extend([Value::Integer(gh), Value::Integer(ah), Value::Integer(self.version)]);
        match old {
            None => {
                self.tx.prepare_cached(&self.sql.insert)?.execute(params_from_iter(values))?;
                let fid = self.tx.last_insert_rowid();
                self.index(fid, env)?;
                self.added += 1;
            }
            Some((fid, ogh, _)) => {
                self.tx.prepare_cached(&self.sql.archive)?.execute(params![self.version, fid])?;
                values.push(Value::Integer(fid));
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

    /// Retires the rows no pushed row matched, records the version and commits.
    pub fn commit(self, meta: &ImportMeta) -> Result<VersionInfo> {
        let t = self.layer.table();
        let removed = self.current.len() as i64;
        for (fid, _, _) in self.current.values() {
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
        let info = VersionInfo {
            layer: self.layer,
            version: self.version,
            kind: self.kind,
            author: meta.author.clone(),
            created_at: self.tx.query_row(
                "SELECT created_at FROM domania_versions WHERE layer = ?1 AND version = ?2",
                params![t, self.version],
                |r| r.get(0),
            )?,
            source: meta.source.clone(),
            source_sha256: meta.source_sha256.clone(),
            features: self.features,
            added: self.added,
            removed,
            changed: self.changed,
            reshaped: self.reshaped,
            rejected: meta.rejected as i64,
            repaired: meta.repaired as i64,
        };
        self.tx.commit()?;
        Ok(info)
    }
}

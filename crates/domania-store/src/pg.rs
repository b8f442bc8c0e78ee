//! The PostgreSQL/PostGIS engine of the store (see [`crate::store`] for the model), for
//! territories past one machine: many servers on one database, replicas for reading.
//!
//! - The same tables as a GeoPackage (`<layer>`, `<layer>_history`, `domania_versions`,
//!   `domania_scopes`, `domania_tokens`, `domania_rules`), in the database's search path, with
//!   `geometry(MultiPolygon, 2154)` columns and GiST indexes: QGIS and `ogrinfo PG:` open them as
//!   they are.
//! - The layers cut by commune (parcels, owners, buildings, sections) are partitioned by
//!   département (`PARTITION BY LIST (dep)`, one partition `parcels_d75` per département, made
//!   by the first import that needs it), so one département can be reloaded, vacuumed, detached
//!   or moved without touching the others.
//! - One writer at a time: a session advisory lock, held from the opening for writing to the
//!   end of the connection, whose holder `pg_stat_activity` names.
//! - An import is one transaction. Rows go in by `COPY` in chunks, replaced and removed rows move
//!   to the history by set-based statements; the version record is written last and a
//!   `NOTIFY domania_versions` tells the servers after the commit.
//! - The schema is created and migrated by Domania (`domania_schema` holds its version).
//! - Its tables are Domania's to write: a statement trigger on each (partitions included)
//!   refuses a write from any session that is not Domania's, so that an edit in QGIS or psql
//!   cannot change a layer behind its history (see [`guard_function`]).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use postgres::Client;
use postgres::fallible_iterator::FallibleIterator as _;
use postgres::types::ToSql;

use crate::error::{Result, StoreError};
use crate::gpkg;
use crate::layer::{Layer, Row, Value};
use crate::scope::{DEPARTEMENT_OF_KEY, ScopeKind};
use crate::store::{
    Begun, CHUNK_ROWS, Chunked, HashRow, RawRow, RawSink, Record, RulesRecord, ScopeRecord, StoredParcel,
    StoredPerimeter, StoredRight, TokenInfo, TokenRecord, VersionRecord, Wait, Writer,
};

/// The schema version this Domania writes: 1, the tables; 2, their guard ([`guard_function`]).
const SCHEMA_VERSION: i32 = 2;

/// The setting by which a session is Domania's, and may write its tables: every connection
/// Domania makes sets it. A database administrator who must edit a table by hand may set it
/// too, and then takes the history out of step with the data deliberately, not by accident.
const WRITER_SETTING: &str = "domania.writer";

/// The function of the statement triggers that keep Domania's tables to Domania: a write
/// (insert, update, delete, truncate, `COPY`) from a session without [`WRITER_SETTING`] fails
/// with a message saying how to change the data instead. Statement triggers cost nothing per
/// row; they are not inherited, so each partition gets its own ([`guard`]).
fn guard_function() -> String {
    format!(
        "CREATE OR REPLACE FUNCTION domania_guard() RETURNS trigger LANGUAGE plpgsql AS $g$
BEGIN
  IF current_setting('{WRITER_SETTING}', true) IS DISTINCT FROM 'on' THEN
    RAISE EXCEPTION 'table % is kept by Domania: change its data with domania import or domania rollback, which make each change a version and keep the history', TG_TABLE_NAME
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Read it freely (QGIS, ogr2ogr, psql). An administrator who must edit it by hand can SET {WRITER_SETTING} = on, and then puts the history out of step with the data.';
  END IF;
  RETURN NULL;
END $g$;"
    )
}

/// The guard trigger on `table` (a name as `regclass` writes it), made when it is missing.
/// `CREATE TRIGGER` locks out writers, not readers, for its instant; the check spares even that
/// when the trigger is there.
fn guard(table: &str) -> String {
    let literal = table.replace('\'', "''");
    format!(
        "DO $d$BEGIN
           IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = '{literal}'::regclass AND tgname = 'domania_guard') THEN
             CREATE TRIGGER domania_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
               FOR EACH STATEMENT EXECUTE FUNCTION domania_guard();
           END IF;
         END$d$;"
    )
}

/// The tables of a Domania store, partitions aside.
fn store_tables() -> impl Iterator<Item = String> {
    Layer::ALL
        .iter()
        .flat_map(|l| [l.table().to_owned(), format!("{}_history", l.table())])
        .chain(["domania_versions", "domania_scopes", "domania_tokens", "domania_rules"].map(str::to_owned))
}

/// The key of the writers' advisory lock ("Doma").
const WRITER_LOCK: i64 = 0x446F_6D61;

/// The channel servers listen on; the payload is `layer:version`.
pub const CHANNEL: &str = "domania_versions";

/// `created_at` in the same form as a GeoPackage store's.
const NOW: &str = r#"to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"#;

/// Whether a layer is partitioned by département.
fn partitioned(layer: Layer) -> bool {
    ScopeKind::allowed(layer).contains(&ScopeKind::Departement)
}

/// The partition value of a row: its département for a partitioned layer, empty otherwise.
fn dep_of(layer: Layer, key: &str) -> String {
    if partitioned(layer) { ScopeKind::Departement.code_of(key).unwrap_or("").to_owned() } else { String::new() }
}

/// The PostgreSQL type of a layer column spelled in SQLite terms. Text compares byte by byte
/// (`COLLATE "C"`), as in SQLite, whatever the database's collation: keys, IDU ranges and
/// orders are then the same on both engines.
fn pg_type(sqlite: &str) -> String {
    sqlite.replace("INTEGER", "bigint").replace("REAL", "double precision").replace("TEXT", "text COLLATE \"C\"")
}

/// A PostGIS store.
pub(crate) struct PgDb {
    client: RefCell<Client>,
    writer: bool,
}

fn connect(url: &str, wait: &Wait<'_>) -> Result<Client> {
    connect_within(url, Some(wait.timeout))
}

/// A connection to `url`, secured as its `sslmode` asks (see `pg_tls`), and named in
/// `pg_stat_activity` by the pid and the command only.
pub fn client(url: &str) -> Result<Client> {
    connect_within(url, None)
}

fn connect_within(url: &str, timeout: Option<std::time::Duration>) -> Result<Client> {
    let mut secured = crate::pg_tls::secured(url).map_err(|e| StoreError::Postgres(format!("{}: {e}", mask(url))))?;
    // What `pg_stat_activity` shows to every role: the pid and the command, never a URL (its
    // password) nor paths; at most 63 bytes, cut on a character boundary.
    let command: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-') && !a.contains(':') && !a.contains('/'))
        .take(2)
        .collect();
    let mut app = format!("domania pid {} {}", std::process::id(), command.join(" "));
    while app.len() > 63 {
        app.pop();
    }
    secured.config.application_name(&app);
    if let Some(t) = timeout {
        secured.config.connect_timeout(t);
    }
    let mut client = secured.connect().map_err(|e| match StoreError::from(e) {
        // With its cause: the TLS handshake failed, how.
        StoreError::Postgres(m) if m.ends_with("password missing") => StoreError::Postgres(format!(
            "{}: cannot connect: {m} (the server asks for one: {})",
            mask(url),
            secured
                .note
                .as_deref()
                .unwrap_or("set PGPASSWORD or write it in ~/.pgpass, as for psql, rather than on the command line")
        )),
        StoreError::Postgres(m) => StoreError::Postgres(format!("{}: cannot connect: {m}", mask(url))),
        other => other,
    })?;
    // This session is Domania's: its tables' guard lets it write (see `guard_function`).
    client.batch_execute(&format!("SET {WRITER_SETTING} = on"))?;
    Ok(client)
}

fn mask(url: &str) -> String {
    crate::store::Location::Postgres(url.to_owned()).to_string()
}

/// Takes the writers' advisory lock, waiting at most `wait.timeout` and telling who holds it.
fn lock_writer(client: &mut Client, shown: &str, wait: &Wait<'_>) -> Result<()> {
    wait.for_lock(Path::new(shown), std::time::Duration::from_millis(100), || {
        if client.query_one("SELECT pg_try_advisory_lock($1)", &[&WRITER_LOCK])?.get::<_, bool>(0) {
            return Ok(None);
        }
        let holder = client.query_opt(
            "SELECT a.application_name, a.pid, a.client_addr::text, to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS')
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.granted AND l.objid = $1::bigint::oid AND l.objsubid = 1
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1",
            &[&WRITER_LOCK],
        )?;
        Ok(Some(holder.map_or_else(
            || "another Domania process".to_owned(),
            |r| {
                format!(
                    "`{}` (backend pid {}, from {}, since {})",
                    r.get::<_, Option<String>>(0).unwrap_or_default(),
                    r.get::<_, i32>(1),
                    r.get::<_, Option<String>>(2).unwrap_or_else(|| "a local socket".into()),
                    r.get::<_, Option<String>>(3).unwrap_or_default()
                )
            },
        )))
    })
}

impl PgDb {
    /// Opens a database that holds a Domania store; for writing, the writers' lock is taken.
    pub(crate) fn open(url: &str, write: bool, wait: &Wait<'_>) -> Result<Self> {
        let shown = mask(url);
        let mut client = connect(url, wait)?;
        // Snapshots sort a few hundred thousand parcels: in memory, not in temporary files.
        client.batch_execute("SET work_mem = '128MB'")?;
        match schema_version(&mut client)? {
            None => return Err(StoreError::Missing { path: shown.into() }),
            Some(v) if v > SCHEMA_VERSION => return Err(newer(&shown, v)),
            Some(_) => {}
        }
        if write {
            lock_writer(&mut client, &shown, wait)?;
            migrate(&mut client)?;
        }
        Ok(Self { client: RefCell::new(client), writer: write })
    }

    /// Opens a database for an import, creating Domania's schema (and PostGIS) when absent.
    pub(crate) fn create(url: &str, wait: &Wait<'_>) -> Result<Self> {
        let shown = mask(url);
        let mut client = connect(url, wait)?;
        match schema_version(&mut client)? {
            Some(v) if v > SCHEMA_VERSION => return Err(newer(&shown, v)),
            Some(_) => {}
            // A database of the user's: Domania never takes over a table of its own names.
            None => {
                let ours: Vec<String> = store_tables().chain(["reports", "report_events"].map(str::to_owned)).collect();
                let clash: Option<String> = client
                    .query_opt("SELECT t FROM unnest($1::text[]) t WHERE to_regclass(t) IS NOT NULL LIMIT 1", &[&ours])?
                    .map(|r| r.get(0));
                if let Some(table) = clash {
                    return Err(StoreError::NameClash { path: shown.into(), table });
                }
            }
        }
        lock_writer(&mut client, &shown, wait)?;
        migrate(&mut client)?;
        Ok(Self { client: RefCell::new(client), writer: true })
    }

    pub(crate) fn is_writer(&self) -> bool {
        self.writer
    }

    fn c(&self) -> std::cell::RefMut<'_, Client> {
        self.client.borrow_mut()
    }

    pub(crate) fn latest_version(&self, layer: Layer) -> Result<Option<i64>> {
        Ok(self.c().query_one("SELECT MAX(version) FROM domania_versions WHERE layer = $1", &[&layer.table()])?.get(0))
    }

    pub(crate) fn version_records(&self, layer: Option<Layer>) -> Result<Vec<VersionRecord>> {
        let sql = format!(
            "SELECT {} FROM domania_versions WHERE $1::text IS NULL OR layer = $1 ORDER BY layer, version",
            VersionRecord::COLUMNS
        );
        self.c().query(&sql, &[&layer.map(Layer::table)])?.iter().map(VersionRecord::read).collect()
    }

    pub(crate) fn scope_records(&self, layer: Option<Layer>) -> Result<Vec<ScopeRecord>> {
        let sql = format!(
            "SELECT {} FROM domania_scopes WHERE $1::text IS NULL OR layer = $1 ORDER BY layer, version, scope_kind, scope",
            ScopeRecord::COLUMNS
        );
        self.c().query(&sql, &[&layer.map(Layer::table)])?.iter().map(ScopeRecord::read).collect()
    }

    pub(crate) fn keys(&self, layer: Layer) -> Result<Vec<String>> {
        let mut c = self.c();
        let mut it = c.query_raw(&format!("SELECT key FROM {}", layer.table()), std::iter::empty::<&str>())?;
        let mut out = Vec::new();
        while let Some(r) = it.next()? {
            out.push(r.get(0));
        }
        Ok(out)
    }

    pub(crate) fn hash_rows(&self, layer: Layer) -> Result<Vec<HashRow>> {
        let t = layer.table();
        let mut c = self.c();
        let mut it = c.query_raw(
            &format!(
                "SELECT key, v_from, NULL::bigint, ghash, ahash FROM {t}
                 UNION ALL SELECT key, v_from, v_to, ghash, ahash FROM {t}_history"
            ),
            std::iter::empty::<&str>(),
        )?;
        let mut out = Vec::new();
        while let Some(r) = it.next()? {
            out.push(HashRow { key: r.get(0), v_from: r.get(1), v_to: r.get(2), ghash: r.get(3), ahash: r.get(4) });
        }
        Ok(out)
    }

    pub(crate) fn counts(&self, layer: Layer) -> Result<(i64, i64)> {
        let t = layer.table();
        let r = self
            .c()
            .query_one(&format!("SELECT (SELECT COUNT(*) FROM {t}), (SELECT COUNT(*) FROM {t}_history)"), &[])?;
        Ok((r.get(0), r.get(1)))
    }

    /// The select list of a layer's full rows: geometry as WKB, key, the layer's columns.
    fn row_columns(layer: Layer) -> String {
        let names: Vec<&str> = crate::layer::columns(layer).iter().map(|(n, _)| *n).collect();
        let geom = if layer.is_spatial() { "ST_AsBinary(geom, 'NDR')" } else { "NULL::bytea" };
        format!("{geom}, key, {}", names.join(", "))
    }

    pub(crate) fn rows_at(&self, layer: Layer, version: i64) -> Result<Vec<Row>> {
        let t = layer.table();
        let cols = Self::row_columns(layer);
        let mut c = self.c();
        let mut it = c.query_raw(
            &format!(
                "SELECT {cols} FROM {t} WHERE v_from <= $1
                 UNION ALL SELECT {cols} FROM {t}_history WHERE v_from <= $1 AND v_to > $1"
            ),
            [&version as &dyn ToSql],
        )?;
        let mut out = Vec::new();
        while let Some(r) = it.next()? {
            out.push(read_row(layer, &r, 0)?);
        }
        Ok(out)
    }

    pub(crate) fn parcel(&self, idu: &str) -> Result<Option<StoredParcel>> {
        let dep = dep_of(Layer::Parcels, idu);
        self.c()
            .query_opt(
                "SELECT idu, contenance, ST_AsBinary(geom, 'NDR'), v_from FROM parcels WHERE key = $1 AND dep = $2",
                &[&idu, &dep],
            )?
            .map(|r| stored_parcel(&r))
            .transpose()
    }

    pub(crate) fn rights_of(&self, idu: &str) -> Result<Vec<StoredRight>> {
        let dep = dep_of(Layer::Owners, idu);
        let rows = self.c().query(
            "SELECT idu, droit, siren, denomination, groupe, forme, forme_abregee FROM owners
             WHERE idu = $1 AND dep = $2 ORDER BY droit, siren",
            &[&idu, &dep],
        )?;
        rows.iter().map(stored_right).collect()
    }

    pub(crate) fn rights_with_code(&self, right: domania_core::Right) -> Result<Vec<StoredRight>> {
        let droit = right.code().to_string();
        let mut c = self.c();
        let mut it = c.query_raw(
            // Sorted by the caller: a sort of every right across the partitions took 3.5 s of
            // 3.6 on 5M parcels.
            "SELECT idu, droit, siren, denomination, groupe, forme, forme_abregee FROM owners WHERE droit = $1",
            [&droit as &dyn ToSql],
        )?;
        let mut out = Vec::new();
        while let Some(r) = it.next()? {
            out.push(stored_right(&r)?);
        }
        Ok(out)
    }

    /// The current parcels, or those whose boxes meet a zone of `zones` (through the GiST
    /// indexes; boxes, as the GeoPackage's R-trees give).
    pub(crate) fn parcels_meeting(&self, zones: Option<Layer>) -> Result<Vec<StoredParcel>> {
        // Driven from the zones, one GiST probe of the parcels each (`OFFSET 0` keeps the
        // planner from turning it into a probe of the zones per parcel: 4× slower on 200k
        // parcels, and it grows with the territory, not with the zones); the parcels come out
        // of the probes themselves (fids are unique across partitions), not by a second look-up
        // (7.3 → 2.1 s on 5M parcels and 36,744 sub-sectors).
        let sql = zones.map_or_else(
            || "SELECT idu, contenance, ST_AsBinary(geom, 'NDR'), v_from FROM parcels ORDER BY fid".to_owned(),
            |z| {
                format!(
                    "SELECT DISTINCT ON (q.fid) q.idu, q.contenance, ST_AsBinary(q.geom, 'NDR'), q.v_from
                     FROM {} z CROSS JOIN LATERAL
                       (SELECT fid, idu, contenance, geom, v_from FROM parcels q WHERE q.geom && z.geom OFFSET 0) q
                     ORDER BY q.fid",
                    z.table()
                )
            },
        );
        let mut c = self.c();
        let mut it = c.query_raw(&sql, std::iter::empty::<&str>())?;
        let mut out = Vec::new();
        while let Some(r) = it.next()? {
            out.push(stored_parcel(&r)?);
        }
        Ok(out)
    }

    /// The parcels, owners and coverage of the départements `deps` and of those whose parcels
    /// meet a sub-sector or QPV that meets `deps` (what [`crate::served::restrict`] then cuts
    /// exactly), with every zone; only those départements' partitions are read.
    pub(crate) fn read_departements(&self, deps: &BTreeSet<String>) -> Result<crate::store::StoreContents> {
        let scope: Vec<&str> = deps.iter().map(String::as_str).collect();
        let mut needed: BTreeSet<String> = deps.clone();
        {
            let mut c = self.c();
            let rows = c.query(
                "WITH kept AS (
                   SELECT z.geom FROM subsectors z CROSS JOIN LATERAL
                     (SELECT 1 FROM parcels q WHERE q.dep = ANY($1) AND q.geom && z.geom LIMIT 1) hit
                   UNION ALL
                   SELECT z.geom FROM qpv z CROSS JOIN LATERAL
                     (SELECT 1 FROM parcels q WHERE q.dep = ANY($1) AND q.geom && z.geom LIMIT 1) hit)
                 SELECT DISTINCT p.dep FROM kept k CROSS JOIN LATERAL
                   (SELECT dep FROM parcels p WHERE p.geom && k.geom OFFSET 0) p",
                &[&scope],
            )?;
            needed.extend(rows.iter().map(|r| r.get::<_, String>(0)));
        }
        let needed: Vec<&str> = needed.iter().map(String::as_str).collect();
        let mut parcels = Vec::new();
        let mut owner_rights = Vec::new();
        {
            let mut c = self.c();
            let mut it = c.query_raw(
                "SELECT idu, contenance, ST_AsBinary(geom, 'NDR'), v_from FROM parcels WHERE dep = ANY($1) ORDER BY fid",
                [&needed as &dyn ToSql],
            )?;
            while let Some(r) = it.next()? {
                parcels.push(stored_parcel(&r)?);
            }
        }
        {
            let mut c = self.c();
            let droit = domania_core::Right::Proprietaire.code().to_string();
            let mut it = c.query_raw(
                "SELECT idu, droit, siren, denomination, groupe, forme, forme_abregee FROM owners
                 WHERE droit = $1 AND dep = ANY($2)",
                [&droit as &dyn ToSql, &needed as &dyn ToSql],
            )?;
            while let Some(r) = it.next()? {
                owner_rights.push(stored_right(&r)?);
            }
        }
        let owner_coverage = self
            .c()
            .query("SELECT DISTINCT substr(idu, 1, 5) FROM owners WHERE dep = ANY($1)", &[&needed])?
            .iter()
            .map(|r| r.get(0))
            .collect();
        Ok(crate::store::StoreContents {
            parcels,
            owner_rights,
            owner_coverage,
            subsectors: self.perimeters(Layer::Subsectors)?,
            qpv: self.perimeters(Layer::Qpv)?,
            conventions: self.perimeters(Layer::Conventions)?,
            versions: std::collections::BTreeMap::new(),
        })
    }

    pub(crate) fn perimeters(&self, layer: Layer) -> Result<Vec<StoredPerimeter>> {
        let rows = self.c().query(
            &format!("SELECT key, name, properties, ST_AsBinary(geom, 'NDR') FROM {} ORDER BY key", layer.table()),
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(StoredPerimeter {
                    key: r.get(0),
                    name: r.get(1),
                    properties_json: r.get::<_, Option<String>>(2).unwrap_or_default(),
                    geom_l93: gpkg::decode_wkb(r.get::<_, &[u8]>(3))?,
                })
            })
            .collect()
    }

    /// The non-empty partitions of the parcels: one look at each, not a scan of the layer.
    pub(crate) fn departements(&self) -> Result<Vec<String>> {
        let mut c = self.c();
        let mut tx = c.build_transaction().read_only(true).start()?;
        let parts: BTreeSet<String> = partitions(&mut tx, Layer::Parcels)?.into_iter().collect();
        let mut out = Vec::new();
        for dep in parts {
            let name = format!("parcels_d{}", dep.to_ascii_lowercase());
            if tx.query_opt(&format!("SELECT 1 FROM {name} LIMIT 1"), &[])?.is_some() {
                out.push(dep);
            }
        }
        tx.commit()?;
        Ok(out)
    }

    pub(crate) fn owner_coverage(&self) -> Result<BTreeSet<String>> {
        let rows = self.c().query("SELECT DISTINCT substr(idu, 1, 5) FROM owners", &[])?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    pub(crate) fn owner_file_covers(&self, commune: &str) -> Result<bool> {
        let dep = dep_of(Layer::Owners, commune);
        let end = format!("{commune}\u{10FFFF}");
        Ok(self
            .c()
            .query_opt(
                "SELECT 1 FROM owners WHERE dep = $1 AND idu >= $2 AND idu < $3 LIMIT 1",
                &[&dep, &commune, &end],
            )?
            .is_some())
    }

    /// Starts a read transaction: what follows reads one state of the database.
    pub(crate) fn begin_read(&self) -> Result<()> {
        Ok(self.c().batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?)
    }

    pub(crate) fn end_read(&self) -> Result<()> {
        Ok(self.c().batch_execute("COMMIT")?)
    }

    pub(crate) fn create_token(&mut self, name: &str, role: &str, secret_sha256: &str) -> Result<()> {
        let mut c = self.c();
        let mut tx = c.transaction()?;
        let taken: i64 = tx.query_one("SELECT COUNT(*) FROM domania_tokens WHERE name = $1", &[&name])?.get(0);
        if taken > 0 {
            return Err(StoreError::TokenNameTaken(name.to_owned()));
        }
        tx.execute(
            "INSERT INTO domania_tokens (name, role, sha256) VALUES ($1, $2, $3)",
            &[&name, &role, &secret_sha256],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn token_records(&self) -> Result<Vec<TokenRecord>> {
        let sql = format!("SELECT {} FROM domania_tokens", TokenRecord::COLUMNS);
        self.c().query(&sql, &[])?.iter().map(TokenRecord::read).collect()
    }

    pub(crate) fn token_by_hash(&self, secret_sha256: &str) -> Result<Option<TokenInfo>> {
        let sql = format!("SELECT {} FROM domania_tokens WHERE sha256 = $1 AND revoked_at IS NULL", TokenInfo::COLUMNS);
        self.c().query_opt(&sql, &[&secret_sha256])?.as_ref().map(TokenInfo::read).transpose()
    }

    /// Sets the hashes of current rows by key (see `Store::mark_altered`).
    pub(crate) fn set_hashes(&mut self, rows: &BTreeMap<Layer, Vec<(&str, i64, i64)>>) -> Result<usize> {
        let mut tx = self.client.get_mut().transaction()?;
        let mut n = 0;
        for (layer, rows) in rows {
            let stmt = tx.prepare(&format!("UPDATE {} SET ghash = $1, ahash = $2 WHERE key = $3", layer.table()))?;
            for (key, g, a) in rows {
                n += tx.execute(&stmt, &[g, a, key])?;
            }
        }
        tx.commit()?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    pub(crate) fn revoke_token(&mut self, name: &str) -> Result<bool> {
        let n = self.c().execute(
            &format!("UPDATE domania_tokens SET revoked_at = {NOW} WHERE name = $1 AND revoked_at IS NULL"),
            &[&name],
        )?;
        Ok(n > 0)
    }

    pub(crate) fn save_rules(&mut self, toml: &str, author: &str) -> Result<i64> {
        let mut c = self.c();
        let mut tx = c.transaction()?;
        tx.batch_execute("LOCK TABLE domania_rules IN EXCLUSIVE MODE")?;
        let version: i64 = tx.query_one("SELECT COALESCE(MAX(version), 0) + 1 FROM domania_rules", &[])?.get(0);
        tx.execute(
            "INSERT INTO domania_rules (version, author, toml) VALUES ($1, $2, $3)",
            &[&version, &author, &toml],
        )?;
        tx.commit()?;
        Ok(version)
    }

    pub(crate) fn rules_records(&self) -> Result<Vec<RulesRecord>> {
        let sql = format!("SELECT {} FROM domania_rules ORDER BY version", RulesRecord::COLUMNS);
        self.c().query(&sql, &[])?.iter().map(RulesRecord::read).collect()
    }

    /// Checks what the engine cannot: every row of a partitioned layer sits in the partition of
    /// its key's département, and every geometry has SRID 2154.
    pub(crate) fn integrity_check(&self) -> Result<String> {
        let mut problems = Vec::new();
        let mut c = self.c();
        for layer in Layer::ALL {
            let t = layer.table();
            for table in [t.to_owned(), format!("{t}_history")] {
                if partitioned(layer) {
                    let n: i64 = c
                        .query_one(&format!("SELECT COUNT(*) FROM {table} WHERE dep <> {DEPARTEMENT_OF_KEY}"), &[])?
                        .get(0);
                    if n > 0 {
                        problems.push(format!("{table}: {n} rows in the partition of another département"));
                    }
                }
                if layer.is_spatial() {
                    let n: i64 =
                        c.query_one(&format!("SELECT COUNT(*) FROM {table} WHERE ST_SRID(geom) <> 2154"), &[])?.get(0);
                    if n > 0 {
                        problems.push(format!("{table}: {n} geometries not in EPSG:2154"));
                    }
                }
            }
        }
        Ok(if problems.is_empty() { "ok".to_owned() } else { problems.join("; ") })
    }

    /// Opens the writer of a new version of `layer`.
    pub(crate) fn writer(&mut self, layer: Layer) -> Result<Begun<'_>> {
        let t = layer.table();
        let client = self.client.get_mut();
        let mut tx = client.transaction()?;
        let version: i64 =
            tx.query_one("SELECT COALESCE(MAX(version), 0) + 1 FROM domania_versions WHERE layer = $1", &[&t])?.get(0);
        let deps = partitions(&mut tx, layer)?;
        let w = PgWriter {
            tx,
            layer,
            version,
            pending: Vec::new(),
            replaced: Vec::new(),
            fids: Vec::new(),
            deps,
            staged: BTreeSet::new(),
            touched: BTreeSet::new(),
        };
        Ok((Box::new(w), version))
    }

    /// Every stored row of a layer (current, or history), in chunks, for a copy.
    pub(crate) fn raw_rows(
        &self,
        layer: Layer,
        history: bool,
        each: &mut dyn FnMut(Vec<RawRow>) -> Result<()>,
    ) -> Result<()> {
        let t = layer.table();
        let cols = Self::row_columns(layer);
        let (table, v_to, order) =
            if history { (format!("{t}_history"), "v_to", "hid") } else { (t.to_owned(), "NULL::bigint", "fid") };
        let mut c = self.c();
        let mut it = c.query_raw(
            &format!("SELECT {cols}, fid, ghash, ahash, v_from, {v_to} FROM {table} ORDER BY {order}"),
            std::iter::empty::<&str>(),
        )?;
        let n = crate::layer::columns(layer).len() + 2;
        let mut chunks = Chunked::new(each);
        while let Some(r) = it.next()? {
            chunks.push(RawRow {
                row: read_row(layer, &r, 0)?,
                fid: r.get(n),
                ghash: r.get(n + 1),
                ahash: r.get(n + 2),
                v_from: r.get(n + 3),
                v_to: r.get(n + 4),
            })?;
        }
        chunks.finish()
    }

    /// The writer of a copy into this (empty) store: one transaction.
    pub(crate) fn raw_sink(&mut self) -> Result<Box<dyn RawSink + '_>> {
        let tx = self.client.get_mut().transaction()?;
        Ok(Box::new(PgSink { tx, deps: Layer::ALL.iter().map(|_| HashSet::new()).collect() }))
    }
}

fn newer(shown: &str, v: i32) -> StoreError {
    StoreError::Open {
        path: shown.into(),
        reason: format!(
            "the Domania schema of this database is version {v}, made by a newer Domania (this one knows version {SCHEMA_VERSION})"
        ),
    }
}

/// The schema version of Domania's tables in the database (`None`: none there).
fn schema_version(client: &mut Client) -> Result<Option<i32>> {
    let exists: bool = client.query_one("SELECT to_regclass('domania_schema') IS NOT NULL", &[])?.get(0);
    if !exists {
        return Ok(None);
    }
    Ok(client.query_opt("SELECT version FROM domania_schema", &[])?.map(|r| r.get(0)))
}

/// Creates or migrates Domania's schema (under the writers' lock), in one transaction.
fn migrate(client: &mut Client) -> Result<()> {
    let have = schema_version(client)?.unwrap_or(0);
    if have >= SCHEMA_VERSION {
        return Ok(());
    }
    let mut tx = client.transaction()?;
    tx.batch_execute("CREATE EXTENSION IF NOT EXISTS postgis")
        .map_err(|e| StoreError::Postgres(format!("PostGIS is needed and could not be enabled: {e}")))?;
    let mut ddl = format!(
        "CREATE TABLE IF NOT EXISTS domania_schema (version integer NOT NULL);
         CREATE TABLE IF NOT EXISTS domania_versions (
           id bigserial PRIMARY KEY, layer text NOT NULL, version bigint NOT NULL, kind text NOT NULL,
           author text NOT NULL, created_at text NOT NULL DEFAULT {NOW}, source text NOT NULL, source_sha256 text,
           features bigint NOT NULL, added bigint NOT NULL, removed bigint NOT NULL, changed bigint NOT NULL,
           reshaped bigint NOT NULL, rejected bigint NOT NULL, repaired bigint NOT NULL, report text,
           UNIQUE (layer, version));
         COMMENT ON TABLE domania_versions IS 'Domania: one row per version of each layer';
         CREATE TABLE IF NOT EXISTS domania_scopes (
           layer text NOT NULL, version bigint NOT NULL, scope_kind text NOT NULL, scope text NOT NULL,
           features bigint NOT NULL, added bigint NOT NULL, removed bigint NOT NULL, changed bigint NOT NULL,
           PRIMARY KEY (layer, version, scope_kind, scope));
         CREATE TABLE IF NOT EXISTS domania_tokens (
           name text PRIMARY KEY, role text NOT NULL, sha256 text NOT NULL UNIQUE,
           created_at text NOT NULL DEFAULT {NOW}, revoked_at text);
         CREATE TABLE IF NOT EXISTS domania_rules (
           version bigint PRIMARY KEY, author text NOT NULL, created_at text NOT NULL DEFAULT {NOW}, toml text NOT NULL);"
    );
    for layer in Layer::ALL {
        ddl.push_str(&layer_ddl(layer));
    }
    tx.batch_execute(&ddl)?;
    // Version 2: the guard, on every table and on every partition there is, whatever its name
    // (one made by hand, a DEFAULT partition, as well as Domania's own).
    let mut ddl = guard_function();
    let tables: Vec<String> = store_tables().chain(std::iter::once("domania_schema".to_owned())).collect();
    let children = tx.query(
        "SELECT c.oid::regclass::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent::regclass::text = ANY($1) AND c.relkind IN ('r', 'p') ORDER BY 1",
        &[&tables],
    )?;
    for table in tables.iter().cloned().chain(children.iter().map(|r| r.get::<_, String>(0))) {
        ddl.push_str(&guard(&table));
    }
    let _ = write!(ddl, "DELETE FROM domania_schema; INSERT INTO domania_schema VALUES ({SCHEMA_VERSION});");
    tx.batch_execute(&ddl)?;
    tx.commit()?;
    Ok(())
}

/// The tables of a layer: current and history, partitioned by département where the layer is
/// cut by commune, with their GiST and key indexes.
fn layer_ddl(layer: Layer) -> String {
    let t = layer.table();
    let cols: String = crate::layer::columns(layer).iter().map(|(n, ty)| format!(", {n} {}", pg_type(ty))).collect();
    let geom = if layer.is_spatial() { ", geom geometry(MultiPolygon, 2154)" } else { "" };
    let part = if partitioned(layer) { " PARTITION BY LIST (dep)" } else { "" };
    let mut ddl = format!(
        "CREATE SEQUENCE IF NOT EXISTS {t}_fid_seq;
         CREATE TABLE IF NOT EXISTS {t} (fid bigint NOT NULL DEFAULT nextval('{t}_fid_seq'),
           dep text COLLATE \"C\" NOT NULL{geom}, key text COLLATE \"C\" NOT NULL{cols}, ghash bigint NOT NULL, ahash bigint NOT NULL, v_from bigint NOT NULL,
           PRIMARY KEY (fid, dep), UNIQUE (key, dep)){part};
         COMMENT ON TABLE {t} IS '{}';
         CREATE SEQUENCE IF NOT EXISTS {t}_history_hid_seq;
         CREATE TABLE IF NOT EXISTS {t}_history (hid bigint NOT NULL DEFAULT nextval('{t}_history_hid_seq'),
           fid bigint NOT NULL, dep text COLLATE \"C\" NOT NULL{geom}, key text COLLATE \"C\" NOT NULL{cols},
           ghash bigint NOT NULL,
           ahash bigint NOT NULL, v_from bigint NOT NULL, v_to bigint NOT NULL, PRIMARY KEY (hid, dep)){part};
         CREATE INDEX IF NOT EXISTS {t}_history_key ON {t}_history (key, v_from);
         CREATE INDEX IF NOT EXISTS {t}_history_fid ON {t}_history (fid);",
        layer.description().replace('\'', "''")
    );
    if layer.is_spatial() {
        let _ = write!(ddl, "CREATE INDEX IF NOT EXISTS {t}_geom ON {t} USING gist (geom);");
    }
    if layer == Layer::Owners {
        ddl.push_str("CREATE INDEX IF NOT EXISTS owners_idu ON owners (idu); CREATE INDEX IF NOT EXISTS owners_droit ON owners (droit);");
    }
    ddl
}

/// The départements that have a partition of `layer` already.
fn partitions(tx: &mut postgres::Transaction<'_>, layer: Layer) -> Result<HashSet<String>> {
    if !partitioned(layer) {
        return Ok(std::iter::once(String::new()).collect());
    }
    // From the partitions' names (`parcels_d2a`, see [`partition`]), not their bounds:
    // `pg_get_expr` opens each partition, and so waits for one that another session holds (a
    // VACUUM FULL, a detach), while the catalog alone does not.
    let prefix = format!("{}_d", layer.table());
    let rows = tx.query(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = to_regclass($1)",
        &[&layer.table()],
    )?;
    Ok(rows.iter().filter_map(|r| r.get::<_, String>(0).strip_prefix(&prefix).map(str::to_ascii_uppercase)).collect())
}

/// The partition of `layer` holding département `dep`.
fn partition(layer: Layer, dep: &str) -> String {
    format!("{}_d{}", layer.table(), dep.to_ascii_lowercase())
}

/// The partition of `layer`'s history holding département `dep`.
fn history_partition(layer: Layer, dep: &str) -> String {
    format!("{}_history_d{}", layer.table(), dep.to_ascii_lowercase())
}

/// Makes the partitions of `layer` (current and history) for the départements of `deps` not
/// in `known` yet. With `staged`, a new current partition is made as a table of its own, not
/// attached and without indexes, and its name added to `staged`: the import fills it by `COPY`
/// and attaches it before commit ([`attach_staged`]), which builds its indexes in one pass
/// instead of row by row (the first load of a département).
fn ensure_partitions<'d>(
    tx: &mut postgres::Transaction<'_>,
    layer: Layer,
    known: &mut HashSet<String>,
    deps: impl IntoIterator<Item = &'d str>,
    mut staged: Option<&mut BTreeSet<String>>,
) -> Result<()> {
    let t = layer.table();
    for dep in deps {
        if known.contains(dep) {
            continue;
        }
        if !dep.bytes().all(|b| b.is_ascii_alphanumeric()) || dep.is_empty() {
            return Err(StoreError::Corrupt(format!("{t}: no département in the key of a row (partition {dep:?})")));
        }
        let (current, history) = (partition(layer, dep), history_partition(layer, dep));
        // Staged, both partitions are tables of their own until the commit: creating a
        // partition takes an exclusive lock on its parent until the end of the transaction,
        // which would keep readers of the layer out for the whole first load.
        let mut ddl = match staged.as_deref_mut() {
            Some(list) => {
                list.insert(dep.to_owned());
                format!(
                    "CREATE TABLE {current} (LIKE {t} INCLUDING DEFAULTS);
                     CREATE TABLE {history} (LIKE {t}_history INCLUDING DEFAULTS);"
                )
            }
            None => format!(
                "CREATE TABLE IF NOT EXISTS {current} PARTITION OF {t} FOR VALUES IN ('{dep}');
                 CREATE TABLE IF NOT EXISTS {history} PARTITION OF {t}_history FOR VALUES IN ('{dep}');"
            ),
        };
        ddl.push_str(&guard(&current));
        ddl.push_str(&guard(&history));
        tx.batch_execute(&ddl)?;
        known.insert(dep.to_owned());
    }
    Ok(())
}

/// Attaches the partitions an import filled on their own (see [`ensure_partitions`]):
/// PostgreSQL checks their rows and builds their indexes then.
fn attach_staged(tx: &mut postgres::Transaction<'_>, layer: Layer, staged: &BTreeSet<String>) -> Result<()> {
    let t = layer.table();
    for dep in staged {
        let (p, h) = (partition(layer, dep), history_partition(layer, dep));
        tx.batch_execute(&format!(
            "ALTER TABLE {t} ATTACH PARTITION {p} FOR VALUES IN ('{dep}');
             ALTER TABLE {t}_history ATTACH PARTITION {h} FOR VALUES IN ('{dep}');"
        ))?;
    }
    Ok(())
}

/// Appends a text value to a `COPY … FROM STDIN` (text format) line.
fn copy_text(out: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// One line of a `COPY` into a layer table: fid, dep, geom, key, columns, hashes, `v_from`
/// (and `v_to` for the history).
fn copy_line(out: &mut String, layer: Layer, fid: i64, row: &Row, hashes: [i64; 3], v_to: Option<i64>) -> Result<()> {
    use std::fmt::Write as _;
    let _ = write!(out, "{fid}\t");
    copy_text(out, &dep_of(layer, &row.key));
    if layer.is_spatial() {
        out.push('\t');
        match &row.geom {
            Some(blob) => gpkg::ewkb_hex(blob, out)?,
            None => out.push_str("\\N"),
        }
    }
    out.push('\t');
    copy_text(out, &row.key);
    for v in &row.values {
        out.push('\t');
        match v {
            Value::Null => out.push_str("\\N"),
            Value::Integer(i) => {
                let _ = write!(out, "{i}");
            }
            // Rust prints the shortest text that reads back to the same f64.
            Value::Real(r) => {
                let _ = write!(out, "{r:?}");
            }
            Value::Text(s) => copy_text(out, s),
        }
    }
    for h in hashes {
        let _ = write!(out, "\t{h}");
    }
    if let Some(to) = v_to {
        let _ = write!(out, "\t{to}");
    }
    out.push('\n');
    Ok(())
}

/// The column list of a `COPY` into a layer table (see [`copy_line`]).
fn copy_columns(layer: Layer, history: bool) -> String {
    let names: Vec<&str> = crate::layer::columns(layer).iter().map(|(n, _)| *n).collect();
    let geom = if layer.is_spatial() { "geom, " } else { "" };
    let to = if history { ", v_to" } else { "" };
    format!("fid, dep, {geom}key, {}, ghash, ahash, v_from{to}", names.join(", "))
}

/// `COPY` of text-format lines into `table`. With `freeze` (a table made in this transaction),
/// rows are written frozen, hint bits set: the first reads after a bulk load then write
/// nothing back (they rewrote every page of a fresh million-parcel partition).
fn copy_in(tx: &mut postgres::Transaction<'_>, table: &str, columns: &str, data: &str, freeze: bool) -> Result<()> {
    let with = if freeze { " WITH (FREEZE)" } else { "" };
    let mut w = tx.copy_in(&format!("COPY {table} ({columns}) FROM STDIN{with}"))?;
    w.write_all(data.as_bytes()).map_err(|e| StoreError::Postgres(format!("COPY into {table}: {e}")))?;
    w.finish()?;
    Ok(())
}

/// A row read back: geometry (as a GeoPackage blob, so both engines hand out the same rows),
/// key and the layer's columns, from column `at` on.
fn read_row(layer: Layer, r: &postgres::Row, at: usize) -> Result<Row> {
    let geom = r
        .get::<_, Option<&[u8]>>(at)
        .map(|wkb| gpkg::decode_wkb(wkb).map(|mp| gpkg::encode_multipolygon(&mp)))
        .transpose()?;
    let mut values = Vec::new();
    for (i, (_, ty)) in crate::layer::columns(layer).iter().enumerate() {
        let i = at + 2 + i;
        values.push(if ty.starts_with("INTEGER") {
            r.get::<_, Option<i64>>(i).map_or(Value::Null, Value::Integer)
        } else if ty.starts_with("REAL") {
            r.get::<_, Option<f64>>(i).map_or(Value::Null, Value::Real)
        } else {
            r.get::<_, Option<String>>(i).map_or(Value::Null, Value::Text)
        });
    }
    Ok(Row { key: r.get(at + 1), geom, values })
}

fn stored_parcel(r: &postgres::Row) -> Result<StoredParcel> {
    Ok(StoredParcel {
        idu: r.get(0),
        contenance: r.get(1),
        geom_l93: gpkg::decode_wkb(r.get::<_, &[u8]>(2))?,
        v_from: r.get(3),
    })
}

fn stored_right(r: &postgres::Row) -> Result<StoredRight> {
    let code: String = r.get(1);
    Ok(StoredRight {
        idu: r.get(0),
        droit: domania_core::Right::parse(&code)
            .ok_or_else(|| StoreError::Corrupt(format!("owners: empty code droit on {}", r.get::<_, String>(0))))?,
        siren: r.get::<_, Option<String>>(2).unwrap_or_default(),
        denomination: r.get::<_, Option<String>>(3).unwrap_or_default(),
        groupe: r.get::<_, Option<i64>>(4).map(|g| g as u8),
        forme: r.get(5),
        forme_abregee: r.get(6),
    })
}

/// Moves the rows `fids` (each with its key) from a layer to its history, valid until
/// `version`. A partitioned layer is asked one département at a time, so that only the
/// partitions concerned are read.
fn archive(tx: &mut postgres::Transaction<'_>, layer: Layer, fids: &[(i64, String)], version: i64) -> Result<()> {
    let t = layer.table();
    let cols = copy_columns(layer, false);
    let mut by_dep: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (fid, key) in fids {
        by_dep.entry(dep_of(layer, key)).or_default().push(*fid);
    }
    for (dep, fids) in by_dep {
        let (only, params): (&str, &[&(dyn ToSql + Sync)]) =
            if partitioned(layer) { ("dep = $3 AND", &[&fids, &version, &dep]) } else { ("", &[&fids, &version]) };
        tx.execute(
            &format!(
                "WITH gone AS (DELETE FROM {t} WHERE {only} fid = ANY($1) RETURNING {cols})
                 INSERT INTO {t}_history ({cols}, v_to) SELECT {cols}, $2 FROM gone"
            ),
            params,
        )?;
    }
    Ok(())
}

/// The writer of one import into PostGIS.
struct PgWriter<'a> {
    tx: postgres::Transaction<'a>,
    layer: Layer,
    version: i64,
    /// Rows to write, with their fids.
    pending: Vec<(i64, Row, i64, i64)>,
    /// Fids (and keys) of pending rows that replace a current row.
    replaced: Vec<(i64, String)>,
    /// Fids reserved from the layer's sequence, not used yet.
    fids: Vec<i64>,
    /// Départements with partitions.
    deps: HashSet<String>,
    /// Départements whose partition this import made, filled unattached.
    staged: BTreeSet<String>,
    /// Départements whose rows this import wrote (analysed at the end).
    touched: BTreeSet<String>,
}

impl PgWriter<'_> {
    fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let layer = self.layer;
        let deps: BTreeSet<String> = self.pending.iter().map(|(_, r, _, _)| dep_of(layer, &r.key)).collect();
        self.touched.extend(deps.iter().cloned());
        let staged = partitioned(layer).then_some(&mut self.staged);
        ensure_partitions(&mut self.tx, layer, &mut self.deps, deps.iter().map(String::as_str), staged)?;
        archive(&mut self.tx, layer, &std::mem::take(&mut self.replaced), self.version)?;
        // Rows of a staged partition go to it directly, the others through the parent.
        let mut by_table: BTreeMap<String, String> = BTreeMap::new();
        for (fid, row, gh, ah) in self.pending.drain(..) {
            let dep = dep_of(layer, &row.key);
            let table = if self.staged.contains(&dep) { partition(layer, &dep) } else { layer.table().to_owned() };
            let data = by_table.entry(table).or_insert_with(|| String::with_capacity(CHUNK_ROWS * 512));
            copy_line(data, layer, fid, &row, [gh, ah, self.version], None)?;
        }
        for (table, data) in by_table {
            let staged = table != layer.table();
            copy_in(&mut self.tx, &table, &copy_columns(layer, false), &data, staged)?;
        }
        Ok(())
    }
}

impl crate::store::RecordRow for postgres::Row {
    fn at<T>(&self, i: usize) -> Result<T>
    where
        T: rusqlite::types::FromSql + for<'a> postgres::types::FromSql<'a>,
    {
        Ok(self.try_get(i)?)
    }
}

impl Writer for PgWriter<'_> {
    fn current(&mut self, dep: Option<&str>) -> Result<Vec<(String, i64, i64, i64)>> {
        let t = self.layer.table();
        let mut it = match dep {
            // One partition read (pruned by the planner).
            Some(d) => self.tx.query_raw(&format!("SELECT key, fid, ghash, ahash FROM {t} WHERE dep = $1"), [d])?,
            None => {
                self.tx.query_raw(&format!("SELECT key, fid, ghash, ahash FROM {t}"), std::iter::empty::<&str>())?
            }
        };
        let mut out = Vec::new();
        while let Some(r) = it.next()? {
            out.push((r.get(0), r.get(1), r.get(2), r.get(3)));
        }
        Ok(out)
    }

    fn put(&mut self, row: Row, replaces: Option<i64>, ghash: i64, ahash: i64) -> Result<()> {
        let fid = if let Some(fid) = replaces {
            self.replaced.push((fid, row.key.clone()));
            fid
        } else {
            if self.fids.is_empty() {
                let seq = format!("{}_fid_seq", self.layer.table());
                let n = i64::try_from(CHUNK_ROWS).unwrap_or(i64::MAX);
                self.fids = self
                    .tx
                    .query("SELECT nextval($1::text::regclass) FROM generate_series(1, $2::bigint)", &[&seq, &n])?
                    .iter()
                    .rev()
                    .map(|r| r.get(0))
                    .collect();
            }
            self.fids.pop().ok_or_else(|| StoreError::Corrupt("no fid from the sequence".into()))?
        };
        self.pending.push((fid, row, ghash, ahash));
        if self.pending.len() >= CHUNK_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn retire(&mut self, fids: &[(i64, String)]) -> Result<()> {
        self.flush()?;
        for chunk in fids.chunks(CHUNK_ROWS) {
            archive(&mut self.tx, self.layer, chunk, self.version)?;
        }
        Ok(())
    }

    fn finish(&mut self, v: &VersionRecord, scopes: &[ScopeRecord]) -> Result<String> {
        self.flush()?;
        attach_staged(&mut self.tx, self.layer, &std::mem::take(&mut self.staged))?;
        // Fresh statistics for the tables this import changed (a sample of 30,000 rows each):
        // the zone-driven plans of the reads depend on them, and autovacuum comes later.
        let analyse: Vec<String> = if partitioned(self.layer) {
            std::mem::take(&mut self.touched).iter().map(|d| partition(self.layer, d)).collect()
        } else {
            vec![self.layer.table().to_owned()]
        };
        for t in analyse {
            self.tx.batch_execute(&format!("ANALYZE {t}"))?;
        }
        insert_records(&mut self.tx, std::slice::from_ref(v), scopes)?;
        self.tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &format!("{}:{}", v.layer, v.version)])?;
        Ok(self
            .tx
            .query_one(
                "SELECT created_at FROM domania_versions WHERE layer = $1 AND version = $2",
                &[&v.layer, &v.version],
            )?
            .get(0))
    }

    fn created_at(&mut self, version: i64) -> Result<Option<String>> {
        Ok(self
            .tx
            .query_opt(
                "SELECT created_at FROM domania_versions WHERE layer = $1 AND version = $2",
                &[&self.layer.table(), &version],
            )?
            .map(|r| r.get(0)))
    }

    fn commit(self: Box<Self>) -> Result<()> {
        Ok(self.tx.commit()?)
    }
}

/// Writes version and scope records; a record without `created_at` gets the time now.
fn insert_records(
    tx: &mut postgres::Transaction<'_>,
    versions: &[VersionRecord],
    scopes: &[ScopeRecord],
) -> Result<()> {
    let stmt = tx.prepare(&format!(
        "INSERT INTO domania_versions (layer, version, kind, author, created_at, source, source_sha256, features, added,
           removed, changed, reshaped, rejected, repaired, report)
         VALUES ($1, $2, $3, $4, COALESCE($5, {NOW}), $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    ))?;
    for v in versions {
        tx.execute(
            &stmt,
            &[
                &v.layer,
                &v.version,
                &v.kind,
                &v.author,
                &v.created_at,
                &v.source,
                &v.source_sha256,
                &v.features,
                &v.added,
                &v.removed,
                &v.changed,
                &v.reshaped,
                &v.rejected,
                &v.repaired,
                &v.report,
            ],
        )?;
    }
    let stmt = tx.prepare(
        "INSERT INTO domania_scopes (layer, version, scope_kind, scope, features, added, removed, changed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )?;
    for s in scopes {
        tx.execute(
            &stmt,
            &[&s.layer, &s.version, &s.scope_kind, &s.scope, &s.features, &s.added, &s.removed, &s.changed],
        )?;
    }
    Ok(())
}

/// The writer of a copy into PostGIS: rows keep their fids, by `COPY`.
struct PgSink<'a> {
    tx: postgres::Transaction<'a>,
    /// Per layer (in [`Layer::ALL`] order), the départements with partitions.
    deps: Vec<HashSet<String>>,
}

impl RawSink for PgSink<'_> {
    fn rows(&mut self, layer: Layer, rows: Vec<RawRow>) -> Result<()> {
        let Some(i) = Layer::ALL.iter().position(|l| *l == layer) else { return Ok(()) };
        if self.deps[i].is_empty() {
            self.deps[i] = partitions(&mut self.tx, layer)?;
        }
        let deps: BTreeSet<String> = rows.iter().map(|r| dep_of(layer, &r.row.key)).collect();
        ensure_partitions(&mut self.tx, layer, &mut self.deps[i], deps.iter().map(String::as_str), None)?;
        let (mut current, mut history) = (String::new(), String::new());
        for r in &rows {
            let out = if r.v_to.is_some() { &mut history } else { &mut current };
            copy_line(out, layer, r.fid, &r.row, [r.ghash, r.ahash, r.v_from], r.v_to)?;
        }
        let t = layer.table();
        if !current.is_empty() {
            copy_in(&mut self.tx, t, &copy_columns(layer, false), &current, false)?;
        }
        if !history.is_empty() {
            copy_in(&mut self.tx, &format!("{t}_history"), &copy_columns(layer, true), &history, false)?;
        }
        Ok(())
    }

    fn records(
        &mut self,
        versions: &[VersionRecord],
        scopes: &[ScopeRecord],
        tokens: &[TokenRecord],
        rules: &[RulesRecord],
    ) -> Result<()> {
        insert_records(&mut self.tx, versions, scopes)?;
        for t in tokens {
            self.tx.execute(
                "INSERT INTO domania_tokens (name, role, sha256, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5)",
                &[&t.name, &t.role, &t.sha256, &t.created_at, &t.revoked_at],
            )?;
        }
        for r in rules {
            self.tx.execute(
                "INSERT INTO domania_rules (version, author, created_at, toml) VALUES ($1, $2, $3, $4)",
                &[&r.version, &r.author, &r.created_at, &r.toml],
            )?;
        }
        // New rows after the copy get fids above every copied one.
        for layer in Layer::ALL {
            let t = layer.table();
            self.tx.execute(
                &format!(
                    "SELECT setval('{t}_fid_seq', GREATEST((SELECT MAX(fid) FROM {t}), (SELECT MAX(fid) FROM {t}_history), 1))"
                ),
                &[],
            )?;
        }
        for l in Layer::ALL {
            self.tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &format!("{}:copy", l.table())])?;
        }
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<()> {
        Ok(self.tx.commit()?)
    }
}

/// A throwaway database on a PostgreSQL server, dropped when this is dropped: what the tests
/// and benchmarks of the PostGIS engine run on. The server is named by `$DOMANIA_TEST_PG`, a
/// URL of a role that may create databases (`postgresql://domania:domania@localhost/postgres`).
pub struct ScratchDatabase {
    admin: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    /// A new empty database named after `tag`, on the server of `$DOMANIA_TEST_PG`. `None`
    /// when the variable is unset, except under CI (`$CI` set), where a missing server must
    /// fail the run rather than skip its tests.
    ///
    /// # Panics
    /// When the server cannot be reached or the database cannot be made, or under CI without
    /// `$DOMANIA_TEST_PG`.
    #[must_use]
    pub fn from_env(tag: &str) -> Option<Self> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let Ok(admin) = std::env::var("DOMANIA_TEST_PG") else {
            assert!(std::env::var_os("CI").is_none(), "CI must give a PostgreSQL server in $DOMANIA_TEST_PG");
            eprintln!("skipped: no PostgreSQL server ($DOMANIA_TEST_PG unset)");
            return None;
        };
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name: String = format!("domania_test_{tag}_{}_{n}", std::process::id())
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
            .collect();
        let mut client = client(&admin).unwrap_or_else(|e| panic!("{e}"));
        // Databases of earlier runs whose process is gone (a panic or a kill skips `Drop`).
        let stale = "SELECT datname::text FROM pg_database WHERE datname LIKE 'domania\\_test\\_%'";
        for row in client.query(stale, &[]).unwrap() {
            let old: String = row.get(0);
            let pid = old.rsplit('_').nth(1).and_then(|p| p.parse::<u32>().ok());
            if pid.is_some_and(|p| p != std::process::id() && !std::path::Path::new(&format!("/proc/{p}")).exists()) {
                let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS \"{old}\" WITH (FORCE)"));
            }
        }
        // One statement each: neither may run inside the implicit transaction of a batch.
        client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
        client.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let url = with_database(&admin, &name);
        Some(Self { admin, name, url })
    }

    /// The connection URL of the database.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = client(&self.admin) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

/// The URL `url` with its database replaced by `db`.
#[must_use]
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_values_and_copy_escaping() {
        assert_eq!(dep_of(Layer::Parcels, "75118000AB0001"), "75");
        assert_eq!(dep_of(Layer::Parcels, "97411000AB0001"), "974");
        assert_eq!(dep_of(Layer::Owners, "2A004000AB0001|P|123|X"), "2A");
        assert_eq!(dep_of(Layer::Qpv, "QN07501M"), "");
        let mut s = String::new();
        copy_text(&mut s, "a\tb\\c\nd");
        assert_eq!(s, "a\\tb\\\\c\\nd");
        assert_eq!(pg_type("INTEGER NOT NULL"), "bigint NOT NULL");
        assert_eq!(pg_type("REAL"), "double precision");
        assert_eq!(with_database("postgresql://u:p@h:5432/postgres", "x"), "postgresql://u:p@h:5432/x");
        assert_eq!(with_database("postgresql://h/postgres?sslmode=disable", "x"), "postgresql://h/x?sslmode=disable");
        assert_eq!(with_database("postgresql://h", "x"), "postgresql://h/x");
    }
}

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

use postgres::Client;
use postgres::fallible_iterator::FallibleIterator as _;
use postgres::types::ToSql;

mod connect;
mod edit;
mod env;
mod listen;
mod read;
mod schema;
mod tls;
mod write;

pub(crate) use connect::SCHEMA_LOCK;
pub use connect::client;
pub use edit::{EDITS_SAVED, SCHEMA as EDIT_SCHEMA};
pub use listen::{Heard, Listener};
pub use schema::CHANNEL;

use crate::blob;
use crate::contract::{Begun, CommuneOwners, Engine, RawSink};
use crate::error::{Result, StoreError};
use crate::layer::{Layer, Row};
use crate::location::Wait;
use crate::model::{StoreContents, StoredParcel, StoredPerimeter, StoredRight, TokenInfo};
use crate::records::{
    Chunked, HashRow, RawRow, ReachRecord, Record, RulesRecord, ScopeRecord, TokenRecord, VersionRecord,
};
use crate::scope::DEPARTEMENT_OF_KEY;
use connect::{connect, lock_writer, mask};
use read::{read_row, stored_parcel, stored_right};
use schema::{NOW, SCHEMA_VERSION, dep_of, migrate, newer, partitioned, partitions, schema_version, store_tables};
use write::{PgSink, PgWriter};

/// A PostGIS store.
pub(crate) struct PgDb {
    client: RefCell<Client>,
    writer: bool,
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
        // A reader changes nothing: what an older schema lacks (a layer's tables, a column added
        // since) is read as empty until a writer adds it.
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

    fn c(&self) -> std::cell::RefMut<'_, Client> {
        self.client.borrow_mut()
    }

    /// The select list of a layer's full rows: geometry as WKB, key, the layer's columns (a
    /// column a schema made by an older Domania lacks is read as empty).
    fn row_columns(&self, layer: Layer) -> Result<String> {
        let have = self.table_columns(layer.table())?;
        let names: Vec<String> = crate::layer::columns(layer)
            .iter()
            .map(|(n, ty)| {
                if have.iter().any(|h| h == n) {
                    (*n).to_owned()
                } else {
                    format!(
                        "NULL::{} AS {n}",
                        schema::pg_type(&ty.replace(" NOT NULL", "")).replace(" COLLATE \"C\"", "")
                    )
                }
            })
            .collect();
        let geom = if layer.is_spatial() { "ST_AsBinary(geom, 'NDR')" } else { "NULL::bytea" };
        Ok(format!("{geom}, key, {}", names.join(", ")))
    }

    /// The columns a table has (a schema made by an older Domania lacks the newer ones).
    fn table_columns(&self, table: &str) -> Result<Vec<String>> {
        let rows = self.c().query(
            "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
            &[&table],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Whether a table is there (a schema made by an older Domania lacks the newer layers').
    fn has_table(&self, table: &str) -> Result<bool> {
        Ok(self.c().query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])?.get(0))
    }

    /// The rights `P` of the départements `deps` (their partitions only) and the communes
    /// their owners cover.
    fn owners_in(&self, deps: &[&str]) -> Result<(Vec<StoredRight>, BTreeSet<String>)> {
        let mut owner_rights = Vec::new();
        {
            let mut c = self.c();
            let droit = domania_core::Right::Proprietaire.code().to_string();
            let mut it = c.query_raw(
                rights_query!("WHERE droit = $1 AND dep = ANY($2)"),
                [&droit as &dyn ToSql, &deps as &dyn ToSql],
            )?;
            while let Some(r) = it.next()? {
                owner_rights.push(stored_right(&r)?);
            }
        }
        let owner_coverage = self
            .c()
            .query("SELECT DISTINCT substr(idu, 1, 5) FROM owners WHERE dep = ANY($1)", &[&deps])?
            .iter()
            .map(|r| r.get(0))
            .collect();
        Ok((owner_rights, owner_coverage))
    }
}

impl Engine for PgDb {
    fn is_postgres(&self) -> bool {
        true
    }

    fn is_writer(&self) -> bool {
        self.writer
    }

    fn latest_version(&self, layer: Layer) -> Result<Option<i64>> {
        Ok(self.c().query_one("SELECT MAX(version) FROM domania_versions WHERE layer = $1", &[&layer.table()])?.get(0))
    }

    fn version_records(&self, layer: Option<Layer>) -> Result<Vec<VersionRecord>> {
        let sql = format!(
            "SELECT {} FROM domania_versions WHERE $1::text IS NULL OR layer = $1 ORDER BY layer, version",
            VersionRecord::COLUMNS
        );
        self.c().query(&sql, &[&layer.map(Layer::table)])?.iter().map(VersionRecord::read).collect()
    }

    fn scope_records(&self, layer: Option<Layer>) -> Result<Vec<ScopeRecord>> {
        let sql = format!(
            "SELECT {} FROM domania_scopes WHERE $1::text IS NULL OR layer = $1 ORDER BY layer, version, scope_kind, scope",
            ScopeRecord::COLUMNS
        );
        self.c().query(&sql, &[&layer.map(Layer::table)])?.iter().map(ScopeRecord::read).collect()
    }

    fn reach_records(&self, layer: Option<Layer>) -> Result<Vec<ReachRecord>> {
        // A database of schema 4 has none (its servers read before it is migrated).
        if !self.has_table("domania_reach")? {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {} FROM domania_reach WHERE $1::text IS NULL OR layer = $1 ORDER BY layer, version",
            ReachRecord::COLUMNS
        );
        self.c().query(&sql, &[&layer.map(Layer::table)])?.iter().map(ReachRecord::read).collect()
    }

    fn keys(&self, layer: Layer) -> Result<Vec<String>> {
        if !self.has_table(layer.table())? {
            return Ok(Vec::new());
        }
        let mut c = self.c();
        let mut it = c.query_raw(&format!("SELECT key FROM {}", layer.table()), std::iter::empty::<&str>())?;
        let mut out = Vec::new();
        while let Some(r) = it.next()? {
            out.push(r.get(0));
        }
        Ok(out)
    }

    fn hash_rows(&self, layer: Layer) -> Result<Vec<HashRow>> {
        let t = layer.table();
        if !self.has_table(t)? {
            return Ok(Vec::new());
        }
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

    fn counts(&self, layer: Layer) -> Result<(i64, i64)> {
        let t = layer.table();
        if !self.has_table(t)? {
            return Ok((0, 0));
        }
        let r = self
            .c()
            .query_one(&format!("SELECT (SELECT COUNT(*) FROM {t}), (SELECT COUNT(*) FROM {t}_history)"), &[])?;
        Ok((r.get(0), r.get(1)))
    }

    fn rows_at(&self, layer: Layer, version: i64) -> Result<Vec<Row>> {
        let t = layer.table();
        if !self.has_table(t)? {
            return Ok(Vec::new());
        }
        let cols = self.row_columns(layer)?;
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

    fn parcel(&self, idu: &str) -> Result<Option<StoredParcel>> {
        let dep = dep_of(Layer::Parcels, idu);
        self.c()
            .query_opt(
                "SELECT idu, contenance, ST_AsBinary(geom, 'NDR'), v_from, fid FROM parcels WHERE key = $1 AND dep = $2",
                &[&idu, &dep],
            )?
            .map(|r| stored_parcel(&r))
            .transpose()
    }

    fn rights_of(&self, idu: &str) -> Result<Vec<StoredRight>> {
        let dep = dep_of(Layer::Owners, idu);
        let rows = self.c().query(rights_query!("WHERE idu = $1 AND dep = $2 ORDER BY droit, siren"), &[&idu, &dep])?;
        rows.iter().map(stored_right).collect()
    }

    fn owners_of_commune(&self, commune: &str) -> Result<CommuneOwners> {
        let (dep, end) = (dep_of(Layer::Owners, commune), format!("{commune}\u{10FFFF}"));
        let droit = domania_core::Right::Proprietaire.code().to_string();
        let rows = self.c().query(
            rights_query!("WHERE dep = $1 AND idu >= $2 AND idu < $3 AND droit = $4"),
            &[&dep, &commune, &end, &droit],
        )?;
        let rights = rows.iter().map(stored_right).collect::<Result<_>>()?;
        if !self.table_columns("owners")?.iter().any(|c| c == "adresse") {
            return Ok((rights, Vec::new()));
        }
        let rows = self.c().query(
            "SELECT DISTINCT idu, adresse FROM owners WHERE dep = $1 AND idu >= $2 AND idu < $3 AND adresse IS NOT NULL
             ORDER BY idu, adresse",
            &[&dep, &commune, &end],
        )?;
        Ok((rights, rows.iter().map(|r| (r.get(0), r.get(1))).collect()))
    }

    fn parcels_of_commune(&self, commune: &str) -> Result<Vec<StoredParcel>> {
        let (dep, end) = (dep_of(Layer::Parcels, commune), format!("{commune}\u{10FFFF}"));
        let rows = self.c().query(
            "SELECT idu, contenance, ST_AsBinary(geom, 'NDR'), v_from, fid FROM parcels
             WHERE dep = $1 AND key >= $2 AND key < $3 ORDER BY fid",
            &[&dep, &commune, &end],
        )?;
        rows.iter().map(stored_parcel).collect()
    }

    fn street_addresses(&self) -> Result<Vec<(String, String)>> {
        // A schema made by an older Domania has no such column until a writer adds it.
        if !self.table_columns("owners")?.iter().any(|c| c == "adresse") {
            return Ok(Vec::new());
        }
        let rows = self
            .c()
            .query("SELECT DISTINCT idu, adresse FROM owners WHERE adresse IS NOT NULL ORDER BY idu, adresse", &[])?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn rights_with_code(&self, right: domania_core::Right) -> Result<Vec<StoredRight>> {
        let droit = right.code().to_string();
        let mut c = self.c();
        let mut it = c.query_raw(
            // Sorted by the caller: a sort of every right across the partitions took 3.5 s of
            // 3.6 on 5M parcels.
            rights_query!("WHERE droit = $1"),
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
    fn parcels_meeting(&self, zones: Option<Layer>) -> Result<Vec<StoredParcel>> {
        // Driven from the zones, one GiST probe of the parcels each (`OFFSET 0` keeps the
        // planner from turning it into a probe of the zones per parcel: 4× slower on 200k
        // parcels, and it grows with the territory, not with the zones); the parcels come out
        // of the probes themselves (fids are unique across partitions), not by a second look-up
        // (7.3 → 2.1 s on 5M parcels and 36,744 sub-sectors).
        let sql = zones.map_or_else(
            || "SELECT idu, contenance, ST_AsBinary(geom, 'NDR'), v_from, fid FROM parcels ORDER BY fid".to_owned(),
            |z| {
                format!(
                    "SELECT DISTINCT ON (q.fid) q.idu, q.contenance, ST_AsBinary(q.geom, 'NDR'), q.v_from, q.fid
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
    fn read_departements(&self, deps: &BTreeSet<String>) -> Result<Option<StoreContents>> {
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
        {
            let mut c = self.c();
            let mut it = c.query_raw(
                "SELECT idu, contenance, ST_AsBinary(geom, 'NDR'), v_from, fid FROM parcels WHERE dep = ANY($1) ORDER BY fid",
                [&needed as &dyn ToSql],
            )?;
            while let Some(r) = it.next()? {
                parcels.push(stored_parcel(&r)?);
            }
        }
        let (owner_rights, owner_coverage) = self.owners_in(&needed)?;
        Ok(Some(StoreContents {
            parcels,
            owner_rights,
            owner_coverage,
            subsectors: self.perimeters(Layer::Subsectors)?,
            qpv: self.perimeters(Layer::Qpv)?,
            conventions: self.perimeters(Layer::Conventions)?,
            // Read by the caller, in the same transaction.
            addresses: Vec::new(),
            street_addresses: Vec::new(),
            versions: std::collections::BTreeMap::new(),
        }))
    }

    fn owners_of_departements(&self, deps: &[&str]) -> Result<Option<(Vec<StoredRight>, BTreeSet<String>)>> {
        self.owners_in(deps).map(Some)
    }

    fn perimeters(&self, layer: Layer) -> Result<Vec<StoredPerimeter>> {
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
                    geom_l93: blob::decode_wkb(r.get::<_, &[u8]>(3))?,
                })
            })
            .collect()
    }

    /// The non-empty partitions of the parcels: one look at each, not a scan of the layer.
    fn departements(&self) -> Result<Vec<String>> {
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

    fn owner_coverage(&self) -> Result<BTreeSet<String>> {
        let rows = self.c().query("SELECT DISTINCT substr(idu, 1, 5) FROM owners", &[])?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn cadastre_updated(&self) -> Result<Option<String>> {
        Ok(self.c().query_one("SELECT max(updated) FROM parcels", &[])?.get(0))
    }

    fn owner_file_covers(&self, commune: &str) -> Result<bool> {
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
    fn begin_read(&self) -> Result<()> {
        Ok(self.c().batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?)
    }

    fn end_read(&self) -> Result<()> {
        Ok(self.c().batch_execute("COMMIT")?)
    }

    fn create_token(&mut self, name: &str, role: &str, secret_sha256: &str) -> Result<()> {
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

    fn token_records(&self) -> Result<Vec<TokenRecord>> {
        let sql = format!("SELECT {} FROM domania_tokens", TokenRecord::COLUMNS);
        self.c().query(&sql, &[])?.iter().map(TokenRecord::read).collect()
    }

    fn token_by_hash(&self, secret_sha256: &str) -> Result<Option<TokenInfo>> {
        let sql = format!("SELECT {} FROM domania_tokens WHERE sha256 = $1 AND revoked_at IS NULL", TokenInfo::COLUMNS);
        self.c().query_opt(&sql, &[&secret_sha256])?.as_ref().map(TokenInfo::read).transpose()
    }

    /// Sets the hashes of current rows by key (see `Store::mark_altered`).
    fn edits_journaled(&self) -> Result<bool> {
        edit::journal_exists(&mut *self.c())
    }

    fn saved_edits(&self, layer: Layer) -> Result<Vec<crate::model::SavedEdit>> {
        edit::saved(&mut *self.c(), layer)
    }

    fn discard_edits(&mut self, layer: Layer, upto: i64) -> Result<bool> {
        let mut tx = self.client.get_mut().transaction()?;
        let taken = edit::take(&mut tx, layer, upto)?;
        tx.commit()?;
        Ok(taken)
    }

    fn set_hashes(&mut self, rows: &BTreeMap<Layer, Vec<(&str, i64, i64)>>) -> Result<usize> {
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

    fn revoke_token(&mut self, name: &str) -> Result<bool> {
        let mut c = self.c();
        let mut tx = c.transaction()?;
        let n = tx.execute(
            &format!("UPDATE domania_tokens SET revoked_at = {NOW} WHERE name = $1 AND revoked_at IS NULL"),
            &[&name],
        )?;
        // Every server sharing the store forgets the token at commit (see `Listener`).
        tx.execute("SELECT pg_notify($1, $2)", &[&schema::CHANNEL, &schema::TOKENS_REVOKED])?;
        tx.commit()?;
        Ok(n > 0)
    }

    fn save_rules(&mut self, toml: &str, author: &str) -> Result<i64> {
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

    fn rules_records(&self) -> Result<Vec<RulesRecord>> {
        let sql = format!("SELECT {} FROM domania_rules ORDER BY version", RulesRecord::COLUMNS);
        self.c().query(&sql, &[])?.iter().map(RulesRecord::read).collect()
    }

    /// Checks what the engine cannot: every row of a partitioned layer sits in the partition of
    /// its key's département, and every geometry has SRID 2154.
    fn integrity_check(&self) -> Result<String> {
        let mut problems = Vec::new();
        // A layer newer than the schema has nothing to check.
        let present: Vec<Layer> =
            Layer::ALL.into_iter().filter(|l| self.has_table(l.table()).unwrap_or(true)).collect();
        let mut c = self.c();
        for layer in present {
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
    fn writer(&mut self, layer: Layer, absorb: Option<i64>) -> Result<Begun<'_>> {
        let t = layer.table();
        let client = self.client.get_mut();
        let mut tx = client.transaction()?;
        // A saving transaction made a version: its journal entries go with the version.
        if let Some(xid) = absorb
            && !edit::take(&mut tx, layer, xid)?
        {
            return Err(StoreError::EditedMeanwhile { layer: t });
        }
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
            archived: None,
        };
        Ok((Box::new(w), version))
    }

    /// Every stored row of a layer (current, or history), in chunks, for a copy.
    fn raw_rows(&self, layer: Layer, history: bool, each: &mut dyn FnMut(Vec<RawRow>) -> Result<()>) -> Result<()> {
        let t = layer.table();
        if !self.has_table(t)? {
            return Ok(());
        }
        let cols = self.row_columns(layer)?;
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
    fn raw_sink(&mut self) -> Result<Box<dyn RawSink + '_>> {
        let tx = self.client.get_mut().transaction()?;
        Ok(Box::new(PgSink { tx, deps: Layer::ALL.iter().map(|_| HashSet::new()).collect() }))
    }
}

#[cfg(test)]
mod tests {
    use super::schema::pg_type;
    use super::write::copy_text;
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
    }
}

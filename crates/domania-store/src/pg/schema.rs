//! Domania's schema in a database: the tables and their partitions by département, the
//! guard that keeps them Domania's to write, and the migrations between schema versions.

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;

use postgres::Client;

use crate::error::{Result, StoreError};
use crate::layer::Layer;
use crate::scope::ScopeKind;

/// The channel servers listen on; the payload is `layer:version`.
pub const CHANNEL: &str = "domania_versions";

/// The payload announcing that a token was revoked (servers forget the tokens they checked).
pub const TOKENS_REVOKED: &str = "tokens:revoked";

/// `created_at` in the same form as a GeoPackage store's.
pub(super) const NOW: &str = r#"to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"#;

/// The schema version this Domania writes: 1, the tables; 2, their guard ([`guard_function`]);
/// 3, the addresses layer and the owners' street address (the columns a layer gained since its
/// tables were made are added, empty).
/// 4, the views QGIS saves into (`domania_edit`, see [`super::edit`]).
pub(super) const SCHEMA_VERSION: i32 = 5;

/// The setting by which a session is Domania's, and may write its tables: every connection
/// Domania makes sets it. A database administrator who must edit a table by hand may set it
/// too, and then takes the history out of step with the data deliberately, not by accident.
pub(super) const WRITER_SETTING: &str = "domania.writer";

/// The function of the statement triggers that keep Domania's tables to Domania: a write
/// (insert, update, delete, truncate, `COPY`) from a session without [`WRITER_SETTING`] fails
/// with a message saying how to change the data instead. Statement triggers cost nothing per
/// row; they are not inherited, so each partition gets its own ([`guard`]).
pub(super) fn guard_function() -> String {
    format!(
        "CREATE OR REPLACE FUNCTION domania_guard() RETURNS trigger LANGUAGE plpgsql AS $g$
BEGIN
  IF current_setting('{WRITER_SETTING}', true) IS DISTINCT FROM 'on' THEN
    RAISE EXCEPTION 'Domania refuse cette modification : la table % est tenue par Domania ; changez ses données avec domania import ou domania rollback, qui font de chaque changement une version et gardent l''historique', TG_TABLE_NAME
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Lisez-la librement (QGIS, ogr2ogr, psql). Les sous-secteurs, les conventions et les QPV se modifient dans QGIS par les vues du schéma domania_edit : chaque enregistrement en devient une version. Un administrateur qui doit la modifier à la main peut faire SET {WRITER_SETTING} = on, et désaccorde alors l''historique des données en connaissance de cause.';
  END IF;
  RETURN NULL;
END $g$;"
    )
}

/// The guard trigger on `table` (a name as `regclass` writes it), made when it is missing.
/// `CREATE TRIGGER` locks out writers, not readers, for its instant; the check spares even that
/// when the trigger is there.
pub(super) fn guard(table: &str) -> String {
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
pub(super) fn store_tables() -> impl Iterator<Item = String> {
    Layer::ALL.iter().flat_map(|l| [l.table().to_owned(), format!("{}_history", l.table())]).chain(
        ["domania_versions", "domania_scopes", "domania_reach", "domania_tokens", "domania_rules"].map(str::to_owned),
    )
}

/// Whether a layer is partitioned by département.
pub(super) fn partitioned(layer: Layer) -> bool {
    ScopeKind::allowed(layer).contains(&ScopeKind::Departement)
}

/// The partition value of a row: its département for a partitioned layer, empty otherwise.
pub(super) fn dep_of(layer: Layer, key: &str) -> String {
    if partitioned(layer) { ScopeKind::Departement.code_of(key).unwrap_or("").to_owned() } else { String::new() }
}

/// The PostgreSQL type of a layer column spelled in SQLite terms. Text compares byte by byte
/// (`COLLATE "C"`), as in SQLite, whatever the database's collation: keys, IDU ranges and
/// orders are then the same on both engines.
pub(super) fn pg_type(sqlite: &str) -> String {
    sqlite.replace("INTEGER", "bigint").replace("REAL", "double precision").replace("TEXT", "text COLLATE \"C\"")
}

pub(super) fn newer(shown: &str, v: i32) -> StoreError {
    StoreError::Open {
        path: shown.into(),
        reason: format!(
            "the Domania schema of this database is version {v}, made by a newer Domania (this one knows version {SCHEMA_VERSION})"
        ),
    }
}

/// The schema version of Domania's tables in the database (`None`: none there).
pub(super) fn schema_version(client: &mut Client) -> Result<Option<i32>> {
    let exists: bool = client.query_one("SELECT to_regclass('domania_schema') IS NOT NULL", &[])?.get(0);
    if !exists {
        return Ok(None);
    }
    Ok(client.query_opt("SELECT version FROM domania_schema", &[])?.map(|r| r.get(0)))
}

/// Creates or migrates Domania's schema (under the writers' lock), in one transaction.
pub(super) fn migrate(client: &mut Client) -> Result<()> {
    let have = schema_version(client)?.unwrap_or(0);
    if have >= SCHEMA_VERSION {
        return Ok(());
    }
    let mut tx = client.transaction()?;
    // Under the schema lock, and looked at again once it is held: another process may have
    // migrated meanwhile.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&super::connect::SCHEMA_LOCK])?;
    let exists: bool = tx.query_one("SELECT to_regclass('domania_schema') IS NOT NULL", &[])?.get(0);
    if exists
        && tx.query_opt("SELECT version FROM domania_schema", &[])?.map_or(0, |r| r.get::<_, i32>(0)) >= SCHEMA_VERSION
    {
        return Ok(());
    }
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
         CREATE TABLE IF NOT EXISTS domania_reach (
           layer text NOT NULL, version bigint NOT NULL, min_x bigint NOT NULL, min_y bigint NOT NULL,
           max_x bigint NOT NULL, max_y bigint NOT NULL, PRIMARY KEY (layer, version));
         COMMENT ON TABLE domania_reach IS 'Domania: the box of the shapes each version of a layer changed';
         CREATE TABLE IF NOT EXISTS domania_tokens (
           name text PRIMARY KEY, role text NOT NULL, sha256 text NOT NULL UNIQUE,
           created_at text NOT NULL DEFAULT {NOW}, revoked_at text);
         CREATE TABLE IF NOT EXISTS domania_rules (
           version bigint PRIMARY KEY, author text NOT NULL, created_at text NOT NULL DEFAULT {NOW}, toml text NOT NULL);"
    );
    for layer in Layer::ALL {
        ddl.push_str(&layer_ddl(layer));
        // Version 3: the columns added to a layer since its tables were made.
        let t = layer.table();
        for (n, ty) in crate::layer::columns(layer) {
            let ty = pg_type(&ty.replace(" NOT NULL", ""));
            let _ = write!(
                ddl,
                "ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {n} {ty}; ALTER TABLE {t}_history ADD COLUMN IF NOT EXISTS {n} {ty};"
            );
        }
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
    // Version 4: the views QGIS saves into. (Version 5, `domania_reach`, is in the first batch.)
    ddl.push_str(&super::edit::ddl(crate::model::MAX_REMOVED_DEFAULT));
    let _ = write!(ddl, "DELETE FROM domania_schema; INSERT INTO domania_schema VALUES ({SCHEMA_VERSION});");
    tx.batch_execute(&ddl)?;
    tx.commit()?;
    Ok(())
}

/// The tables of a layer: current and history, partitioned by département where the layer is
/// cut by commune, with their GiST and key indexes.
pub(super) fn layer_ddl(layer: Layer) -> String {
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
pub(super) fn partitions(tx: &mut postgres::Transaction<'_>, layer: Layer) -> Result<HashSet<String>> {
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
pub(super) fn partition(layer: Layer, dep: &str) -> String {
    format!("{}_d{}", layer.table(), dep.to_ascii_lowercase())
}

/// The partition of `layer`'s history holding département `dep`.
pub(super) fn history_partition(layer: Layer, dep: &str) -> String {
    format!("{}_history_d{}", layer.table(), dep.to_ascii_lowercase())
}

/// Makes the partitions of `layer` (current and history) for the départements of `deps` not
/// in `known` yet. With `staged`, a new current partition is made as a table of its own, not
/// attached and without indexes, and its name added to `staged`: the import fills it by `COPY`
/// and attaches it before commit ([`attach_staged`]), which builds its indexes in one pass
/// instead of row by row (the first load of a département).
pub(super) fn ensure_partitions<'d>(
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
pub(super) fn attach_staged(tx: &mut postgres::Transaction<'_>, layer: Layer, staged: &BTreeSet<String>) -> Result<()> {
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

//! GeoPackage plumbing: the standard tables, the Lambert-93 SRS, and the R-tree spatial index
//! extension with its standard triggers and the `ST_*` functions those triggers call (the
//! geometry blobs are [`crate::blob`]).

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, params};

use crate::blob::{SRS_L93, envelope};
use crate::error::Result;
use crate::layer::Layer;
use crate::refusals;

/// `PRAGMA application_id` of a GeoPackage ("GPKG").
pub const APPLICATION_ID: i32 = 0x4750_4B47;
/// `PRAGMA user_version` of GeoPackage 1.3.0 (the R-tree triggers below are the 1.3 ones).
pub const USER_VERSION: i32 = 10300;

const WKT_2154: &str = r#"PROJCS["RGF93 v1 / Lambert-93",GEOGCS["RGF93 v1",DATUM["Reseau_Geodesique_Francais_1993_v1",SPHEROID["GRS 1980",6378137,298.257222101,AUTHORITY["EPSG","7019"]],TOWGS84[0,0,0,0,0,0,0],AUTHORITY["EPSG","6171"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4171"]],PROJECTION["Lambert_Conformal_Conic_2SP"],PARAMETER["latitude_of_origin",46.5],PARAMETER["central_meridian",3],PARAMETER["standard_parallel_1",49],PARAMETER["standard_parallel_2",44],PARAMETER["false_easting",700000],PARAMETER["false_northing",6600000],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","2154"]]"#;
const WKT_4326: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#;

/// Creates the mandatory GeoPackage tables and SRS rows (idempotent).
pub(crate) fn init(conn: &Connection) -> Result<()> {
    conn.execute_batch(&format!(
        "PRAGMA application_id = {APPLICATION_ID};
         PRAGMA user_version = {USER_VERSION};
         CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
           srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
           organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
         CREATE TABLE IF NOT EXISTS gpkg_contents (
           table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
           description TEXT DEFAULT '',
           last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
           min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
           CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
         CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
           table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
           srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
           CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
           CONSTRAINT uk_gc_table_name UNIQUE (table_name),
           CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
           CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
         CREATE TABLE IF NOT EXISTS gpkg_extensions (
           table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
           scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));"
    ))?;
    let mut srs = conn.prepare(
        "INSERT OR IGNORE INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, organization_coordsys_id, definition, description)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    srs.execute(params![
        "Undefined cartesian SRS",
        -1,
        "NONE",
        -1,
        "undefined",
        "undefined cartesian coordinate reference system"
    ])?;
    srs.execute(params![
        "Undefined geographic SRS",
        0,
        "NONE",
        0,
        "undefined",
        "undefined geographic coordinate reference system"
    ])?;
    srs.execute(params![
        "WGS 84 geodetic",
        4326,
        "EPSG",
        4326,
        WKT_4326,
        "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"
    ])?;
    srs.execute(params![
        "RGF93 v1 / Lambert-93",
        SRS_L93,
        "EPSG",
        SRS_L93,
        WKT_2154,
        "France métropolitaine, the storage CRS of Domania"
    ])?;
    Ok(())
}

/// Registers the SQL functions the R-tree triggers call (`ST_MinX`, …, `ST_IsEmpty`), reading
/// the envelope of the GeoPackageBinary header. GDAL and QGIS register their own.
pub fn register_functions(conn: &Connection) -> Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    for (name, idx) in [("ST_MinX", 0usize), ("ST_MaxX", 1), ("ST_MinY", 2), ("ST_MaxY", 3)] {
        conn.create_scalar_function(name, 1, flags, move |ctx| {
            Ok(ctx.get_raw(0).as_blob_or_null()?.and_then(envelope).map(|e| e[idx]))
        })?;
    }
    conn.create_scalar_function("ST_IsEmpty", 1, flags, |ctx| {
        Ok(ctx.get_raw(0).as_blob_or_null()?.map(|b| b.len() < 8 || b[3] & 0b1_0000 != 0))
    })?;
    Ok(())
}

/// Registers a feature table in `gpkg_contents` and `gpkg_geometry_columns`, with an R-tree.
pub(crate) fn register_feature_table(conn: &Connection, table: &str, pk: &str, description: &str) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES (?1, 'features', ?1, ?2, ?3)",
        params![table, description, SRS_L93],
    )?;
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_geometry_columns VALUES (?1, 'geom', 'MULTIPOLYGON', ?2, 0, 0)",
        params![table, SRS_L93],
    )?;
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_extensions VALUES (?1, 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        params![table],
    )?;
    create_rtree_triggers(conn, table, pk)
}

/// The standard R-tree maintenance triggers of a feature table (GeoPackage 1.3, geometry
/// column `geom`).
pub(crate) fn create_rtree_triggers(conn: &Connection, table: &str, pk: &str) -> Result<()> {
    let t = table;
    let r = format!("rtree_{t}_geom");
    let vals = "NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)";
    conn.execute_batch(&format!(
        "CREATE VIRTUAL TABLE IF NOT EXISTS \"{r}\" USING rtree(id, minx, maxx, miny, maxy);
         CREATE TRIGGER IF NOT EXISTS \"{r}_insert\" AFTER INSERT ON \"{t}\"
           WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
           BEGIN INSERT OR REPLACE INTO \"{r}\" VALUES (NEW.{pk}, ST_MinX({vals}); END;
         CREATE TRIGGER IF NOT EXISTS \"{r}_update1\" AFTER UPDATE OF geom ON \"{t}\"
           WHEN OLD.{pk} = NEW.{pk} AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
           BEGIN INSERT OR REPLACE INTO \"{r}\" VALUES (NEW.{pk}, ST_MinX({vals}); END;
         CREATE TRIGGER IF NOT EXISTS \"{r}_update2\" AFTER UPDATE OF geom ON \"{t}\"
           WHEN OLD.{pk} = NEW.{pk} AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
           BEGIN DELETE FROM \"{r}\" WHERE id = OLD.{pk}; END;
         CREATE TRIGGER IF NOT EXISTS \"{r}_update3\" AFTER UPDATE ON \"{t}\"
           WHEN OLD.{pk} != NEW.{pk} AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
           BEGIN DELETE FROM \"{r}\" WHERE id = OLD.{pk};
                 INSERT OR REPLACE INTO \"{r}\" VALUES (NEW.{pk}, ST_MinX({vals}); END;
         CREATE TRIGGER IF NOT EXISTS \"{r}_update4\" AFTER UPDATE ON \"{t}\"
           WHEN OLD.{pk} != NEW.{pk} AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
           BEGIN DELETE FROM \"{r}\" WHERE id IN (OLD.{pk}, NEW.{pk}); END;
         CREATE TRIGGER IF NOT EXISTS \"{r}_delete\" AFTER DELETE ON \"{t}\"
           WHEN old.geom NOT NULL
           BEGIN DELETE FROM \"{r}\" WHERE id = OLD.{pk}; END;"
    ))?;
    Ok(())
}

/// Drops the R-tree triggers of a feature table, for a write that maintains the index itself;
/// [`create_rtree_triggers`] restores them in the same transaction.
pub(crate) fn drop_rtree_triggers(conn: &Connection, table: &str) -> Result<()> {
    for suffix in ["insert", "update1", "update2", "update3", "update4", "delete"] {
        conn.execute_batch(&format!("DROP TRIGGER IF EXISTS \"rtree_{table}_geom_{suffix}\";"))?;
    }
    Ok(())
}

/// Registers an attribute (non-spatial) table in `gpkg_contents`.
pub(crate) fn register_attribute_table(conn: &Connection, table: &str, description: &str) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) VALUES (?1, 'attributes', ?1, ?2)",
        params![table, description],
    )?;
    Ok(())
}

/// The journal of edits made in the file by another program (QGIS through GDAL): every row an
/// editor inserts, changes or deletes in an edited layer, with the row as it was before. The
/// next Domania that opens the store makes the edits a version ([`restore_before_edits`] puts
/// the layer back as it was, then the edited rows are imported), and the journal empties.
pub(crate) const EDITS_DDL: &str = "CREATE TABLE IF NOT EXISTS domania_edits (
    id INTEGER PRIMARY KEY AUTOINCREMENT, layer TEXT NOT NULL, fid INTEGER NOT NULL, op TEXT NOT NULL,
    geom BLOB, key TEXT, name TEXT, properties TEXT, ghash INTEGER, ahash INTEGER, v_from INTEGER);
    CREATE INDEX IF NOT EXISTS domania_edits_fid ON domania_edits (layer, fid)";

/// The triggers that check an editor's save of an edited layer and journal it. They call only
/// plain SQL and the GeoPackage functions GDAL registers (`ST_IsEmpty`, `ST_IsValid`), so they
/// run in QGIS's own connection: a refused save is an `ABORT` whose message QGIS shows, and
/// nothing of the save is kept. `max_removed` is the import's mass-removal guard.
pub(crate) fn create_edit_triggers(conn: &Connection, layer: Layer, max_removed: f64) -> Result<()> {
    let t = layer.table();
    let refuse = |why: &str| format!("SELECT RAISE(ABORT, 'Domania refuse cet enregistrement : {why}')");
    let no_key = refuse(&refusals::no_key(layer));
    let taken = refuse(
        "cette clé (champ key) est déjà prise dans la couche. Donnez une clé nouvelle à l''entité découpée ou créée.",
    );
    let no_shape = refuse(&refusals::no_shape(layer));
    let invalid = refuse(
        "la géométrie n''est pas valide (contour qui se recoupe, anneau trop court ou trou hors du contour). \
         Corrigez-la (Vecteur > Outils de géométrie > Vérifier la validité), puis enregistrez à nouveau.",
    );
    let too_many = refuse(&refusals::too_many(max_removed, "%"));
    let cols: Vec<&str> = crate::layer::columns(layer).iter().map(|(n, _)| *n).collect();
    let old_cols: String = cols.iter().map(|c| format!(", OLD.{c}")).collect();
    let col_list: String = cols.iter().map(|c| format!(", {c}")).collect();
    let journal_old = format!(
        "INSERT INTO domania_edits (layer, fid, op, geom, key{col_list}, ghash, ahash, v_from)
           VALUES ('{t}', OLD.fid, 'before', OLD.geom, OLD.key{old_cols}, OLD.ghash, OLD.ahash, OLD.v_from);"
    );
    // Rows of the layer deleted since the last version (a row inserted since is not counted).
    let deleted = format!(
        "(SELECT count(*) FROM (SELECT fid FROM domania_edits WHERE layer = '{t}' GROUP BY fid
           HAVING sum(op = 'insert') = 0) WHERE fid NOT IN (SELECT fid FROM \"{t}\"))"
    );
    let shape_checks = format!(
        "{no_shape} WHERE NEW.geom IS NULL OR ST_IsEmpty(NEW.geom);
         {invalid} WHERE ST_IsValid(NEW.geom) = 0;"
    );
    conn.execute_batch(&format!(
        "CREATE TRIGGER IF NOT EXISTS \"domania_{t}_insert_check\" BEFORE INSERT ON \"{t}\" BEGIN
           {no_key} WHERE NEW.key IS NULL OR trim(NEW.key) = '';
           {taken} WHERE EXISTS (SELECT 1 FROM \"{t}\" WHERE key = NEW.key);
           {shape_checks}
         END;
         CREATE TRIGGER IF NOT EXISTS \"domania_{t}_update_check\" BEFORE UPDATE ON \"{t}\" BEGIN
           {no_key} WHERE NEW.key IS NULL OR trim(NEW.key) = '';
           {taken} WHERE EXISTS (SELECT 1 FROM \"{t}\" WHERE key = NEW.key AND fid != OLD.fid);
           {shape_checks}
         END;
         CREATE TRIGGER IF NOT EXISTS \"domania_{t}_delete_check\" BEFORE DELETE ON \"{t}\"
           WHEN {deleted} + 1 > {max_removed} * ((SELECT count(*) FROM \"{t}\") + {deleted})
           BEGIN {too_many}; END;
         CREATE TRIGGER IF NOT EXISTS \"domania_{t}_insert_journal\" AFTER INSERT ON \"{t}\" BEGIN
           INSERT INTO domania_edits (layer, fid, op) VALUES ('{t}', NEW.fid, 'insert');
         END;
         CREATE TRIGGER IF NOT EXISTS \"domania_{t}_update_journal\" AFTER UPDATE ON \"{t}\" BEGIN
           {journal_old}
           INSERT INTO domania_edits (layer, fid, op) SELECT '{t}', NEW.fid, 'insert' WHERE NEW.fid != OLD.fid;
         END;
         CREATE TRIGGER IF NOT EXISTS \"domania_{t}_delete_journal\" AFTER DELETE ON \"{t}\" BEGIN
           {journal_old}
         END;"
    ))?;
    Ok(())
}

/// What a layer that is not edited is called in the refusal of an edit, and where it comes
/// from.
fn kept(layer: Layer) -> &'static str {
    match layer {
        Layer::Parcels => "des parcelles vient du cadastre (DGFiP, Etalab)",
        Layer::Owners => "des propriétaires vient des fichiers des parcelles des personnes morales (DGFiP)",
        Layer::Addresses => "des adresses vient de la Base Adresse Nationale",
        Layer::Buildings => "des bâtiments vient du cadastre (DGFiP, Etalab)",
        Layer::Sections => "des sections vient du cadastre (DGFiP, Etalab)",
        _ => "des espaces est calculée par Domania (domania assign)",
    }
}

/// The guard of a layer that is not edited (the cadastre, the owners, the addresses, the
/// computed spaces): an edit from QGIS or any SQLite client is refused, saying where the layer
/// comes from and how it changes — by an import, which makes it a version. An administrator who
/// must edit by hand drops these triggers first, and puts the history out of step with the data
/// knowingly (`domania store verify` then says which rows changed).
pub(crate) fn create_guard_triggers(conn: &Connection, layer: Layer) -> Result<()> {
    let t = layer.table();
    let why = format!(
        "Domania refuse cette modification : la couche {} ; elle ne se modifie pas objet par objet. \
         Importez sa source avec Domania (domania import), qui en fait une version et garde l''historique.",
        kept(layer)
    );
    for op in ["insert", "update", "delete"] {
        conn.execute_batch(&format!(
            "CREATE TRIGGER IF NOT EXISTS \"domania_{t}_guard_{op}\" BEFORE {op} ON \"{t}\"
               BEGIN SELECT RAISE(ABORT, '{why}'); END;"
        ))?;
    }
    Ok(())
}

/// The names of the triggers Domania keeps on a layer's table for other programs: the
/// editors' checks and journal on an edited layer, the guard on the others.
fn editor_triggers(layer: Layer) -> &'static [&'static str] {
    if layer.is_edited() {
        &["insert_check", "update_check", "delete_check", "insert_journal", "update_journal", "delete_journal"]
    } else {
        &["guard_insert", "guard_update", "guard_delete"]
    }
}

/// Drops the triggers Domania keeps for other programs on every layer, for a write of its own
/// (an import keeps the history itself); [`restore_edit_triggers`] makes them again in the
/// same transaction, so that no committed state lacks them.
pub(crate) fn drop_edit_triggers(conn: &Connection) -> Result<()> {
    for layer in Layer::ALL {
        let t = layer.table();
        for suffix in editor_triggers(layer) {
            conn.execute_batch(&format!("DROP TRIGGER IF EXISTS \"domania_{t}_{suffix}\";"))?;
        }
    }
    Ok(())
}

/// Makes the triggers of [`drop_edit_triggers`] again (or for the first time).
pub(crate) fn restore_edit_triggers(conn: &Connection, max_removed: f64) -> Result<()> {
    for layer in Layer::ALL {
        if layer.is_edited() {
            create_edit_triggers(conn, layer, max_removed)?;
        } else {
            create_guard_triggers(conn, layer)?;
        }
    }
    Ok(())
}

/// The journal's last entry for `layer`, when an editor's saves wait to become a version.
pub(crate) fn last_edit(conn: &Connection, layer: Layer) -> Result<Option<i64>> {
    Ok(conn.query_row("SELECT max(id) FROM domania_edits WHERE layer = ?1", [layer.table()], |r| r.get(0))?)
}

/// Puts `layer` back as it was before the journaled edits (each touched row as the journal
/// first saw it; the rows an editor inserted removed) and empties its journal. The edit
/// triggers must be off; the R-tree triggers keep the index.
pub(crate) fn restore_before_edits(conn: &Connection, layer: Layer) -> Result<()> {
    let t = layer.table();
    let cols: String = crate::layer::columns(layer).iter().map(|(n, _)| format!(", {n}")).collect();
    conn.execute(&format!("DELETE FROM \"{t}\" WHERE fid IN (SELECT fid FROM domania_edits WHERE layer = ?1)"), [t])?;
    conn.execute(
        &format!(
            "INSERT INTO \"{t}\" (fid, geom, key{cols}, ghash, ahash, v_from)
               SELECT fid, geom, key{cols}, ghash, ahash, v_from FROM domania_edits e
               WHERE layer = ?1 AND op = 'before'
                 AND id = (SELECT min(id) FROM domania_edits f WHERE f.layer = ?1 AND f.fid = e.fid)"
        ),
        [t],
    )?;
    conn.execute("DELETE FROM domania_edits WHERE layer = ?1", [t])?;
    Ok(())
}

//! GeoPackage plumbing: the standard tables, the Lambert-93 SRS, geometry blobs
//! (GeoPackageBinary header + ISO WKB), and the R-tree spatial index extension with its
//! standard triggers and the `ST_*` functions those triggers call.

use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, params};

use crate::error::{Result, StoreError};

/// `PRAGMA application_id` of a GeoPackage ("GPKG").
pub const APPLICATION_ID: i32 = 0x4750_4B47;
/// `PRAGMA user_version` of GeoPackage 1.3.0 (the R-tree triggers below are the 1.3 ones).
pub const USER_VERSION: i32 = 10300;
/// The storage SRS.
pub const SRS_L93: i32 = 2154;

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

/// Envelope [min_x, max_x, min_y, max_y] of a GeoPackageBinary blob with an XY envelope.
#[must_use]
pub fn envelope(blob: &[u8]) -> Option<[f64; 4]> {
    if blob.len() < 8 || &blob[0..2] != b"GP" {
        return None;
    }
    let flags = blob[3];
    let little = flags & 1 == 1;
    let env_kind = (flags >> 1) & 0b111;
    if env_kind == 0 || blob.len() < 40 {
        return None;
    }
    let mut e = [0.0; 4];
    for (i, v) in e.iter_mut().enumerate() {
        let bytes: [u8; 8] = blob[8 + i * 8..16 + i * 8].try_into().ok()?;
        *v = if little { f64::from_le_bytes(bytes) } else { f64::from_be_bytes(bytes) };
    }
    Some(e)
}

/// Encodes a multipolygon as a GeoPackageBinary blob (little-endian, XY envelope, SRS 2154).
#[must_use]
pub fn encode_multipolygon(mp: &MultiPolygon<f64>) -> Vec<u8> {
    let n_coords: usize =
        mp.0.iter().map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>()).sum();
    let mut out = Vec::with_capacity(40 + 9 + mp.0.len() * 9 + n_coords * 16 + 64);
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for p in &mp.0 {
        for c in &p.exterior().0 {
            x0 = x0.min(c.x);
            x1 = x1.max(c.x);
            y0 = y0.min(c.y);
            y1 = y1.max(c.y);
        }
    }
    let empty = mp.0.is_empty();
    out.extend_from_slice(b"GP");
    out.push(0); // version 1
    out.push(if empty { 0b1_0001 } else { 0b0011 }); // little-endian, XY envelope (or empty)
    out.extend_from_slice(&SRS_L93.to_le_bytes());
    if !empty {
        for v in [x0, x1, y0, y1] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out.push(1);
    out.extend_from_slice(&6u32.to_le_bytes());
    out.extend_from_slice(&(mp.0.len() as u32).to_le_bytes());
    for p in &mp.0 {
        out.push(1);
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&((1 + p.interiors().len()) as u32).to_le_bytes());
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            out.extend_from_slice(&(ring.0.len() as u32).to_le_bytes());
            for c in &ring.0 {
                out.extend_from_slice(&c.x.to_le_bytes());
                out.extend_from_slice(&c.y.to_le_bytes());
            }
        }
    }
    out
}

struct Wkb<'a> {
    b: &'a [u8],
    pos: usize,
    little: bool,
}

impl Wkb<'_> {
    fn bytes<const N: usize>(&mut self) -> Option<[u8; N]> {
        let s = self.b.get(self.pos..self.pos + N)?;
        self.pos += N;
        s.try_into().ok()
    }
    fn u32(&mut self) -> Option<u32> {
        let b = self.bytes::<4>()?;
        Some(if self.little { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    }
    fn f64(&mut self) -> Option<f64> {
        let b = self.bytes::<8>()?;
        Some(if self.little { f64::from_le_bytes(b) } else { f64::from_be_bytes(b) })
    }
    fn header(&mut self) -> Option<u32> {
        self.little = self.bytes::<1>()?[0] == 1;
        self.u32()
    }
    /// Bytes left to read: every count in a blob is checked against them before anything is
    /// allocated (a count of 4 billion in a damaged blob must not ask for 100 GB).
    fn left(&self) -> usize {
        self.b.len().saturating_sub(self.pos)
    }
    fn polygon(&mut self) -> Option<Polygon<f64>> {
        let n_rings = self.u32()? as usize;
        // A ring takes at least its 4-byte count.
        if n_rings > self.left() / 4 {
            return None;
        }
        let mut rings = Vec::with_capacity(n_rings);
        for _ in 0..n_rings {
            let n = self.u32()? as usize;
            // A point takes 16 bytes.
            if n > self.left() / 16 {
                return None;
            }
            let mut pts = Vec::with_capacity(n);
            for _ in 0..n {
                pts.push(Coord { x: self.f64()?, y: self.f64()? });
            }
            rings.push(LineString::new(pts));
        }
        if rings.is_empty() {
            return Some(Polygon::new(LineString::new(vec![]), vec![]));
        }
        let ext = rings.remove(0);
        Some(Polygon::new(ext, rings))
    }
}

/// The ISO WKB inside a GeoPackageBinary blob (after its header and envelope).
pub fn wkb_of(blob: &[u8]) -> Result<&[u8]> {
    let bad = |why: &str| StoreError::Corrupt(format!("geometry blob: {why}"));
    if blob.len() < 8 || &blob[0..2] != b"GP" {
        return Err(bad("no GP header"));
    }
    let env_len = match (blob[3] >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        _ => return Err(bad("bad envelope code")),
    };
    blob.get(8 + env_len..).ok_or_else(|| bad("truncated"))
}

/// Decodes a GeoPackageBinary blob holding a Polygon or MultiPolygon (XY).
pub fn decode_multipolygon(blob: &[u8]) -> Result<MultiPolygon<f64>> {
    decode_wkb(wkb_of(blob)?)
}

/// Decodes ISO WKB holding a Polygon or MultiPolygon (XY), as PostGIS's `ST_AsBinary` gives it.
pub fn decode_wkb(wkb: &[u8]) -> Result<MultiPolygon<f64>> {
    let bad = |why: &str| StoreError::Corrupt(format!("geometry blob: {why}"));
    let mut w = Wkb { b: wkb, pos: 0, little: true };
    match w.header().ok_or_else(|| bad("truncated"))? {
        3 => Ok(MultiPolygon::new(vec![w.polygon().ok_or_else(|| bad("truncated polygon"))?])),
        6 => {
            let n = w.u32().ok_or_else(|| bad("truncated"))? as usize;
            // A member polygon takes at least 9 bytes (byte order, type, ring count).
            if n > w.left() / 9 {
                return Err(bad("more polygons announced than bytes"));
            }
            let mut polys = Vec::with_capacity(n);
            for _ in 0..n {
                if w.header() != Some(3) {
                    return Err(bad("multipolygon member is not a polygon"));
                }
                polys.push(w.polygon().ok_or_else(|| bad("truncated polygon"))?);
            }
            Ok(MultiPolygon::new(polys))
        }
        t => Err(bad(&format!("unsupported WKB type {t}"))),
    }
}

/// The hexadecimal EWKB of a GeoPackageBinary blob, SRID 2154 inside: what PostGIS reads in a
/// `COPY` into a `geometry(MultiPolygon, 2154)` column.
pub fn ewkb_hex(blob: &[u8], out: &mut String) -> Result<()> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let wkb = wkb_of(blob)?;
    if wkb.len() < 5 {
        return Err(StoreError::Corrupt("geometry blob: truncated".into()));
    }
    let little = wkb[0] == 1;
    let ty = if little {
        u32::from_le_bytes(wkb[1..5].try_into().unwrap_or_default())
    } else {
        u32::from_be_bytes(wkb[1..5].try_into().unwrap_or_default())
    };
    let (ty, srid) = (ty | 0x2000_0000, SRS_L93 as u32);
    let head: Vec<u8> = if little {
        [&[1u8][..], &ty.to_le_bytes(), &srid.to_le_bytes()].concat()
    } else {
        [&[0u8][..], &ty.to_be_bytes(), &srid.to_be_bytes()].concat()
    };
    out.reserve((head.len() + wkb.len()) * 2);
    for b in head.iter().chain(&wkb[5..]) {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    #[test]
    fn blob_round_trip_and_envelope() {
        let p = polygon![(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 5.0), (x: 0.0, y: 0.0)];
        let mp = MultiPolygon::new(vec![p]);
        let blob = encode_multipolygon(&mp);
        assert_eq!(envelope(&blob), Some([0.0, 10.0, 0.0, 5.0]));
        assert_eq!(decode_multipolygon(&blob).unwrap(), mp);
        assert!(decode_multipolygon(&blob[..30]).is_err());
    }

    /// Regression (found by review for the fuzz target): counts in a damaged blob sized vectors
    /// before any byte was checked; 4 billion rings asked for ~100 GB.
    #[test]
    fn counts_larger_than_the_blob_are_refused_without_allocating() {
        let mp =
            MultiPolygon::new(vec![polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)]]);
        let mut blob = encode_multipolygon(&mp);
        // Header 8 + envelope 32, then 1 byte order + 4 type + 4 count (multipolygon), then the
        // member polygon: 1 + 4 type, then its ring count.
        let rings_at = 8 + 32 + 9 + 5;
        blob[rings_at..rings_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_multipolygon(&blob).is_err());
        let mut blob = encode_multipolygon(&mp);
        blob[8 + 32 + 5..8 + 32 + 9].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_multipolygon(&blob).is_err());
    }
}

//! ESRI Shapefile polygons (.shp + .dbf + .prj, optional .cpg).
//!
//! Geometry comes from the `shapefile` crate; the DBF table is read here so that its text
//! encoding is under our control: `.cpg` if present, else the DBF language driver byte, else
//! UTF-8 when the bytes are valid UTF-8 and Windows-1252 otherwise (the usual French case).

use std::fs;
use std::path::{Path, PathBuf};

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use geo_types::Coord;
use serde_json::{Map, Number, Value};
use shapefile::{PolygonRing, Shape};

use crate::crs::Crs;
use crate::error::{IoError, Result};
use crate::features::{PolygonFeature, ReadOptions};
use crate::geometry::{Problem, rings_to_l93};
use crate::report::{Location, Severity, ValidationReport};

fn err(path: &Path, reason: impl Into<String>) -> IoError {
    IoError::Shapefile { path: path.to_path_buf(), reason: reason.into() }
}

fn sibling(path: &Path, ext: &str) -> Option<PathBuf> {
    [ext.to_owned(), ext.to_ascii_uppercase()].into_iter().map(|e| path.with_extension(e)).find(|p| p.exists())
}

/// Reads a Shapefile's polygons and attributes (see [`crate::polygons::read_polygons`]).
pub fn read_shapefile(
    path: &Path,
    opts: ReadOptions,
    report: &mut ValidationReport,
    mut accept: impl FnMut(PolygonFeature) -> std::result::Result<(), (Option<String>, Problem)>,
) -> Result<()> {
    let crs = if let Some(c) = opts.crs {
        c
    } else {
        let prj = sibling(path, "prj").ok_or_else(|| err(path, "no .prj file beside it: pass --crs EPSG:nnnn"))?;
        let wkt = fs::read_to_string(&prj).map_err(|source| IoError::Open { path: prj.clone(), source })?;
        crs_from_wkt(&wkt).ok_or_else(|| IoError::UnknownCrs { path: prj.clone(), crs: wkt.trim().to_owned() })?
    };
    report.crs = crs.to_string();
    let dbf_path = sibling(path, "dbf").ok_or_else(|| err(path, "no .dbf file beside it"))?;
    let records = read_dbf(&dbf_path)?;
    let bytes = fs::read(path).map_err(|source| IoError::Open { path: path.to_path_buf(), source })?;
    let mut index = 0usize;
    for shape in shapes(path, &bytes)? {
        let shape = shape.map_err(|e| err(path, format!("shape {index}: {e}")))?;
        report.read += 1;
        let properties = records.get(index).cloned().unwrap_or_default();
        let id = properties.get("id").and_then(Value::as_str).map(str::to_owned);
        let result = match shape_rings(shape) {
            None => Err(Problem { code: "wrong_geometry_type", message: "expected a polygon shape".into() }),
            Some(polys) => rings_to_l93(polys, &crs, opts.invalid),
        };
        crate::features::deliver(report, index, id.as_deref(), properties, result, &mut accept);
        index += 1;
    }
    if index != records.len() {
        report.push(
            Location::Feature(index),
            None,
            Severity::Warning,
            "record_count_mismatch",
            format!("{} shapes but {} DBF records", index, records.len()),
        );
    }
    Ok(())
}

/// The polygons of a shape as rings of source coordinates (first ring of each the exterior);
/// `None` for a shape that is not a polygon.
fn shape_rings(shape: Shape) -> Option<Vec<Vec<Vec<Coord<f64>>>>> {
    match shape {
        Shape::Polygon(p) => Some(group_rings(p.into_inner().into_iter().map(|r| map_ring(r, |pt| (pt.x, pt.y))))),
        Shape::PolygonZ(p) => Some(group_rings(p.into_inner().into_iter().map(|r| map_ring(r, |pt| (pt.x, pt.y))))),
        Shape::PolygonM(p) => Some(group_rings(p.into_inner().into_iter().map(|r| map_ring(r, |pt| (pt.x, pt.y))))),
        _ => None,
    }
}

/// Checks every record of `.shp` bytes before the `shapefile` crate reads them: each record must
/// lie inside the file, and a multi-part shape must hold the parts and points it announces. The
/// crate sizes its vectors from those counts, so a damaged file announcing 2 billion points
/// would ask for 32 GB (found by the fuzz target).
fn check_shp_records(path: &Path, bytes: &[u8]) -> Result<Vec<std::ops::Range<usize>>> {
    const HEADER: usize = 100;
    if bytes.len() < HEADER {
        return Err(err(path, format!("{} bytes: too short for a Shapefile header", bytes.len())));
    }
    let be = |at: usize| bytes.get(at..at + 4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let le = |at: usize| bytes.get(at..at + 4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let mut pos = HEADER;
    let mut index = 0usize;
    let mut records = Vec::new();
    while pos + 8 <= bytes.len() {
        let words = be(pos + 4).unwrap_or(-1);
        let len = usize::try_from(words).map_err(|_| err(path, format!("shape {index}: negative record length")))? * 2;
        let content = pos + 8;
        if content + len > bytes.len() {
            return Err(err(path, format!("shape {index}: its record runs past the end of the file")));
        }
        let kind = le(content).unwrap_or(0);
        // Polylines, polygons and multipoints (plain, Z, M): parts and points after a 32-byte box.
        if matches!(kind, 3 | 5 | 8 | 13 | 15 | 18 | 23 | 25 | 28) && len >= 4 {
            let (parts, points) = if matches!(kind, 8 | 18 | 28) {
                (0, le(content + 36).unwrap_or(-1))
            } else {
                (le(content + 36).unwrap_or(-1), le(content + 40).unwrap_or(-1))
            };
            let fits = usize::try_from(parts).ok().zip(usize::try_from(points).ok()).is_some_and(|(parts, points)| {
                44usize.saturating_add(parts.saturating_mul(4)).saturating_add(points.saturating_mul(16)) <= len
            });
            if !fits {
                return Err(err(
                    path,
                    format!("shape {index}: announces {parts} parts and {points} points in a {len}-byte record"),
                ));
            }
            // Each part starts at a point of the shape, in order: the crate sizes a part's
            // points from the difference of two starts (a start of -1.6 billion asked for 25 GB).
            let starts: Vec<i32> =
                (0..usize::try_from(parts).unwrap_or(0)).map(|k| le(content + 44 + 4 * k).unwrap_or(-1)).collect();
            let ordered = starts.first().is_none_or(|&s| s == 0)
                && starts.windows(2).all(|w| w[0] <= w[1])
                && starts.iter().all(|&s| (0..=points).contains(&s));
            if !ordered {
                return Err(err(
                    path,
                    format!("shape {index}: its parts do not start at points of the shape, in order"),
                ));
            }
        }
        records.push(pos..content + len);
        pos = content + len;
        index += 1;
    }
    Ok(records)
}

/// The shapes of checked `.shp` bytes, each read by the `shapefile` crate on its own (the file's
/// header and that one record): the crate reads on after an error from wherever it stopped, so
/// a record it misreads would make it take the next bytes for a record header and a point count
/// (the fuzz target saw it ask for 18 GB that way).
fn shapes(path: &Path, bytes: &[u8]) -> Result<Vec<std::result::Result<Shape, String>>> {
    let records = check_shp_records(path, bytes)?;
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let mut one = Vec::with_capacity(100 + r.len());
        one.extend_from_slice(&bytes[..100]);
        one.extend_from_slice(&bytes[r]);
        let words = i32::try_from(one.len() / 2).unwrap_or(i32::MAX);
        one[24..28].copy_from_slice(&words.to_be_bytes());
        let mut reader =
            shapefile::ShapeReader::new(std::io::Cursor::new(one.as_slice())).map_err(|e| err(path, e.to_string()))?;
        let shape = reader.iter_shapes().next().unwrap_or(Err(shapefile::Error::InvalidShapeRecordSize));
        out.push(shape.map_err(|e| e.to_string()));
    }
    Ok(out)
}

/// The shapes of `.shp` bytes through the geometry policy, one result per shape (`path` names
/// the file in errors): what [`read_shapefile`] does to geometries, on bytes in memory.
pub fn parse_shp(
    path: &Path,
    bytes: &[u8],
    crs: &Crs,
    policy: crate::geometry::InvalidPolicy,
) -> Result<Vec<std::result::Result<geo_types::MultiPolygon<f64>, Problem>>> {
    let mut out = Vec::new();
    for (index, shape) in shapes(path, bytes)?.into_iter().enumerate() {
        let shape = shape.map_err(|e| err(path, format!("shape {index}: {e}")))?;
        out.push(match shape_rings(shape) {
            None => Err(Problem { code: "wrong_geometry_type", message: "expected a polygon shape".into() }),
            Some(polys) => rings_to_l93(polys, crs, policy).map(|(g, _)| g),
        });
    }
    Ok(out)
}

fn map_ring<P>(ring: PolygonRing<P>, f: impl Fn(&P) -> (f64, f64)) -> (bool, Vec<Coord<f64>>) {
    let (outer, pts) = match ring {
        PolygonRing::Outer(p) => (true, p),
        PolygonRing::Inner(p) => (false, p),
    };
    (outer, pts.iter().map(f).map(|(x, y)| Coord { x, y }).collect())
}

/// Shapefile rings come as a flat list; an inner ring belongs to the outer ring before it
/// (the convention writers follow). A leading inner ring is kept as its own polygon so the
/// validity step reports it rather than losing it.
fn group_rings(rings: impl Iterator<Item = (bool, Vec<Coord<f64>>)>) -> Vec<Vec<Vec<Coord<f64>>>> {
    let mut polys: Vec<Vec<Vec<Coord<f64>>>> = Vec::new();
    for (outer, pts) in rings {
        match polys.last_mut() {
            Some(poly) if !outer => poly.push(pts),
            _ => polys.push(vec![pts]),
        }
    }
    polys
}

/// The EPSG code of a `.prj` WKT: an explicit EPSG authority, else a known name.
#[must_use]
pub fn crs_from_wkt(wkt: &str) -> Option<Crs> {
    // The last AUTHORITY["EPSG","nnnn"] is the one of the whole CRS.
    if let Some(pos) = wkt.rfind("AUTHORITY[\"EPSG\",\"") {
        let rest = &wkt[pos + 18..];
        if let Some(end) = rest.find('"')
            && let Ok(code) = rest[..end].parse()
        {
            return Crs::from_epsg(code);
        }
    }
    let name = wkt.split('"').nth(1)?.to_ascii_lowercase().replace([' ', '-', '/'], "_");
    let code = if name.contains("lambert_93") || name.contains("lambert93") {
        2154
    } else if let Some(pos) = name.find("cc") {
        let digits: String = name[pos + 2..].chars().take_while(char::is_ascii_digit).collect();
        3900 + digits.parse::<u32>().ok()?
    } else if name.contains("pseudo_mercator") || name.contains("web_mercator") {
        3857
    } else if name.contains("utm_zone_") {
        let tail = &name[name.find("utm_zone_")? + 9..];
        let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
        let zone: u32 = digits.parse().ok()?;
        if tail[digits.len()..].starts_with('s') { 32700 + zone } else { 32600 + zone }
    } else if name.starts_with("gcs_wgs_1984") || name == "wgs_84" || name.starts_with("gcs_rgf93") || name == "rgf93" {
        4326
    } else {
        return None;
    };
    Crs::from_epsg(code)
}

/// Reads every DBF record of `path` as a JSON object (see [`parse_dbf`]), with the `.cpg`
/// beside it, if any, naming the encoding.
fn read_dbf(path: &Path) -> Result<Vec<Map<String, Value>>> {
    let bytes = fs::read(path).map_err(|source| IoError::Open { path: path.to_path_buf(), source })?;
    let cpg = sibling(path, "cpg").and_then(|c| fs::read_to_string(c).ok());
    parse_dbf(path, &bytes, cpg.as_deref())
}

/// Parses DBF bytes: every record as a JSON object (text trimmed, numbers as numbers, deleted
/// records skipped). `path` names the file in errors; `cpg` is the text of its `.cpg`. Every
/// count and length in the header is checked against the bytes there are: a damaged file is
/// an error, never a panic or a huge allocation.
pub fn parse_dbf(path: &Path, bytes: &[u8], cpg: Option<&str>) -> Result<Vec<Map<String, Value>>> {
    if bytes.len() < 33 {
        return Err(err(path, "DBF file too short for a header"));
    }
    let n_records = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    let header_len = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    let record_len = usize::from(u16::from_le_bytes([bytes[10], bytes[11]]));
    if header_len < 33 || header_len > bytes.len() {
        return Err(err(path, format!("DBF header length {header_len} does not fit the file ({} bytes)", bytes.len())));
    }
    if record_len == 0 {
        return Err(err(path, "DBF record length is 0"));
    }
    let available = (bytes.len() - header_len) / record_len;
    if n_records > available {
        return Err(err(path, format!("DBF header says {n_records} records, the file holds {available}")));
    }
    let encoding = dbf_encoding(cpg, bytes[29], &bytes[header_len..]);
    let mut fields = Vec::new();
    let mut pos = 32;
    while pos + 32 <= header_len && bytes[pos] != 0x0D {
        let raw_name = &bytes[pos..pos + 11];
        let name_end = raw_name.iter().position(|&b| b == 0).unwrap_or(11);
        let (name, _, _) = encoding.decode(&raw_name[..name_end]);
        let kind = bytes[pos + 11];
        let len = usize::from(bytes[pos + 16]);
        fields.push((name.trim().to_owned(), kind, len));
        pos += 32;
    }
    let mut out = Vec::with_capacity(n_records);
    for r in 0..n_records {
        let start = header_len + r * record_len;
        let Some(rec) = bytes.get(start..start + record_len) else {
            return Err(err(path, format!("record {r} is truncated")));
        };
        if rec[0] == b'*' {
            continue;
        }
        let mut map = Map::new();
        let mut off = 1;
        for (name, kind, len) in &fields {
            let raw =
                rec.get(off..off + len).ok_or_else(|| err(path, format!("record {r}: field {name} overflows")))?;
            off += len;
            let (text, _, had_errors) = encoding.decode(raw);
            if had_errors {
                return Err(IoError::Encoding {
                    path: path.to_path_buf(),
                    reason: format!("record {r}, field {name}: not valid {}", encoding.name()),
                });
            }
            let text = text.trim();
            let value = match kind {
                _ if text.is_empty() => Value::Null,
                b'N' | b'F' => text
                    .parse::<i64>()
                    .map(Value::from)
                    .ok()
                    .or_else(|| text.parse::<f64>().ok().and_then(Number::from_f64).map(Value::Number))
                    .unwrap_or_else(|| Value::String(text.to_owned())),
                b'L' => Value::Bool(matches!(text, "T" | "t" | "Y" | "y")),
                _ => Value::String(text.to_owned()),
            };
            map.insert(name.clone(), value);
        }
        out.push(map);
    }
    Ok(out)
}

fn dbf_encoding(cpg: Option<&str>, ldid: u8, body: &[u8]) -> &'static Encoding {
    if let Some(text) = cpg {
        let label = text.trim();
        let label =
            if label.chars().all(|c| c.is_ascii_digit()) { format!("windows-{label}") } else { label.to_owned() };
        if let Some(enc) = Encoding::for_label(label.as_bytes()) {
            return enc;
        }
    }
    match ldid {
        0x57 | 0x03 | 0x58 | 0x59 => WINDOWS_1252,
        _ if std::str::from_utf8(body).is_ok() => UTF_8,
        _ => WINDOWS_1252,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (fuzz target `shapefile`): a polygon record announcing more points than its
    /// bytes made the `shapefile` crate ask for gigabytes.
    #[test]
    fn shp_records_announcing_more_than_they_hold_are_refused() {
        let mut shp = vec![0u8; 100];
        let mut content = Vec::new();
        content.extend_from_slice(&5i32.to_le_bytes()); // polygon
        content.extend_from_slice(&[0u8; 32]); // box
        content.extend_from_slice(&1i32.to_le_bytes()); // parts
        content.extend_from_slice(&i32::MAX.to_le_bytes()); // points
        content.extend_from_slice(&0i32.to_le_bytes()); // the one part starts at 0
        shp.extend_from_slice(&1i32.to_be_bytes());
        shp.extend_from_slice(&((content.len() / 2) as i32).to_be_bytes());
        shp.extend_from_slice(&content);
        let e = check_shp_records(Path::new("x.shp"), &shp).unwrap_err().to_string();
        assert!(e.contains("shape 0: announces 1 parts and 2147483647 points"), "{e}");
        assert!(check_shp_records(Path::new("x.shp"), &shp[..120]).is_err());
        // A part starting at a negative point (fuzz: 25 GB asked for).
        let mut shp = vec![0u8; 100];
        let mut content = Vec::new();
        content.extend_from_slice(&5i32.to_le_bytes());
        content.extend_from_slice(&[0u8; 32]);
        content.extend_from_slice(&1i32.to_le_bytes());
        content.extend_from_slice(&4i32.to_le_bytes());
        content.extend_from_slice(&(-1_610_612_736i32).to_le_bytes());
        content.extend_from_slice(&[0u8; 64]);
        shp.extend_from_slice(&1i32.to_be_bytes());
        shp.extend_from_slice(&((content.len() / 2) as i32).to_be_bytes());
        shp.extend_from_slice(&content);
        let e = check_shp_records(Path::new("x.shp"), &shp).unwrap_err().to_string();
        assert!(e.contains("its parts do not start at points of the shape"), "{e}");
        assert!(check_shp_records(Path::new("x.shp"), &shp[..50]).is_err());
    }

    /// Regression (fuzz target `shapefile`): after a record it could not read, the crate read on
    /// from the middle of that record and took coordinates for a count of 1.1 billion points.
    #[test]
    fn each_record_is_read_on_its_own() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bad-inputs/shapefile-misread.bin");
        let data = std::fs::read(path).unwrap();
        let split = data.windows(2).position(|w| w == [0xFF, 0xFE]).unwrap();
        let shp = &data[split + 2..];
        let got = parse_shp(Path::new("x.shp"), shp, &Crs::lambert93(), crate::geometry::InvalidPolicy::Repair);
        // The damaged second record is an error that names it; reading stopped inside it.
        let e = got.unwrap_err().to_string();
        assert!(e.contains("shape 1: "), "{e}");
    }

    /// Regression: a record length of 0 indexed an empty record, and a record count of 4 billion
    /// asked for that many slots before reading any.
    #[test]
    fn damaged_dbf_headers_are_errors_not_panics() {
        let mut bytes = vec![0u8; 64];
        bytes[8] = 33; // header length
        bytes[32] = 0x0D;
        bytes[4..8].copy_from_slice(&1u32.to_le_bytes());
        assert!(parse_dbf(Path::new("x.dbf"), &bytes, None).unwrap_err().to_string().contains("record length is 0"));
        bytes[10] = 1;
        bytes[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse_dbf(Path::new("x.dbf"), &bytes, None).unwrap_err().to_string().contains("the file holds 31"));
        bytes[8] = 200;
        assert!(parse_dbf(Path::new("x.dbf"), &bytes, None).is_err());
    }

    #[test]
    fn prj_names_and_authorities() {
        let l93 = r#"PROJCS["RGF93_Lambert_93",GEOGCS["GCS_RGF_1993",DATUM["D_RGF_1993",SPHEROID["GRS_1980",6378137.0,298.257222101]]]]"#;
        assert_eq!(crs_from_wkt(l93).unwrap().epsg(), 2154);
        assert_eq!(crs_from_wkt(r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984"]]"#).unwrap().epsg(), 4326);
        assert_eq!(crs_from_wkt(r#"PROJCS["RGF93_CC49",GEOGCS["x"]]"#).unwrap().epsg(), 3949);
        assert_eq!(crs_from_wkt(r#"PROJCS["x",AUTHORITY["EPSG","3857"]]"#).unwrap().epsg(), 3857);
        assert_eq!(crs_from_wkt(r#"PROJCS["WGS_1984_UTM_Zone_40S",GEOGCS["x"]]"#).unwrap().epsg(), 32740);
        assert!(crs_from_wkt(r#"PROJCS["NTF_Paris_Lambert_II_etendu"]"#).is_none());
    }
}

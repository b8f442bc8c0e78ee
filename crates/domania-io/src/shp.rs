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
    let bytes = fs::read(path).map_err(|source| IoError::Open { path: path.to_path_buf(), source })?;
    let shapes = shapes(path, &bytes)?;
    drop(bytes);
    // The table is checked against the shapes before a record is read: a DBF announcing more
    // records than there are shapes does not belong with this .shp.
    let mut dbf = open_dbf(&dbf_path)?;
    if dbf.len() > shapes.len() {
        return Err(err(
            &dbf_path,
            format!(
                "the DBF holds {} records for {} shapes: it does not belong with this .shp",
                dbf.len(),
                shapes.len()
            ),
        ));
    }
    let mut index = 0usize;
    for shape in shapes {
        let shape = shape.map_err(|e| err(path, format!("shape {index}: {e}")))?;
        report.read += 1;
        // A deleted record leaves its shape without attributes (the shape keeps its place).
        let properties = if index < dbf.len() { dbf.record(index)?.unwrap_or_default() } else { Map::new() };
        let id = properties.get("id").and_then(Value::as_str).map(str::to_owned);
        let result = match shape_rings(shape) {
            None => Err(Problem { code: "wrong_geometry_type", message: "expected a polygon shape".into() }),
            Some(polys) => rings_to_l93(polys, &crs, opts.invalid),
        };
        crate::features::deliver(report, index, id.as_deref(), properties, result, &mut accept);
        index += 1;
    }
    if index != dbf.len() {
        report.push(
            Location::Feature(index),
            None,
            Severity::Warning,
            "record_count_mismatch",
            format!("{} shapes but {} DBF records", index, dbf.len()),
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
        // Every record holds at least its shape type (a null shape is those 4 bytes): a
        // run of empty records is padding, or a file of zeros.
        if len < 4 {
            return Err(err(path, format!("shape {index}: an empty record ({len} bytes), not a shape")));
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

/// Checks the first 100 bytes of a `.shp` whose size is `size`: the file code, and the length
/// the header gives equal to the size.
///
/// # Errors
/// Says which.
pub fn check_shp_header(path: &Path, head: &[u8], size: u64) -> Result<()> {
    if head.len() < 100 || i32::from_be_bytes([head[0], head[1], head[2], head[3]]) != 9994 {
        return Err(err(path, "not a Shapefile: its header does not start with the file code 9994"));
    }
    let words = i32::from_be_bytes([head[24], head[25], head[26], head[27]]);
    let said = u64::try_from(words).unwrap_or(0) * 2;
    if said != size {
        return Err(err(
            path,
            format!("its header says {said} bytes, the file holds {size}: a damaged or altered file"),
        ));
    }
    Ok(())
}

/// The number of records of the `.shp` at `path`, from the record headers alone (a seek from
/// one to the next): what a `.dbf` beside it may hold, checked before the `.dbf` is read.
///
/// # Errors
/// The file cannot be read, or a record runs past its end.
pub fn shape_count(path: &Path) -> Result<usize> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    let io = |source| IoError::Open { path: path.to_path_buf(), source };
    let mut f = std::io::BufReader::new(fs::File::open(path).map_err(io)?);
    let size = f.get_ref().metadata().map_err(io)?.len();
    let mut pos = 100u64;
    let mut n = 0usize;
    let mut head = [0u8; 8];
    while pos + 8 <= size {
        f.seek(SeekFrom::Start(pos)).and_then(|_| f.read_exact(&mut head)).map_err(io)?;
        let words = i32::from_be_bytes([head[4], head[5], head[6], head[7]]);
        let len = u64::try_from(words).map_err(|_| err(path, format!("shape {n}: negative record length")))? * 2;
        pos += 8 + len;
        if pos > size {
            return Err(err(path, format!("shape {n}: its record runs past the end of the file")));
        }
        n += 1;
    }
    Ok(n)
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

/// Bytes a DBF file may hold past what its header accounts for (the end-of-file mark, padding
/// some writers add).
const DBF_SLACK: u64 = 4096;

/// A DBF table read one record at a time: its header is checked against the file's size before
/// any record is read (a file larger than its header says is refused, not read), and a record
/// is read only when asked for, so memory holds one record whatever the file's size.
pub struct Dbf<R> {
    src: R,
    path: PathBuf,
    n_records: usize,
    header_len: u64,
    record_len: usize,
    fields: Vec<(String, u8, usize)>,
    encoding: &'static Encoding,
}

/// What a DBF header says: records, header length, record length.
fn dbf_header(path: &Path, head: &[u8]) -> Result<(usize, u64, usize)> {
    if head.len() < 32 {
        return Err(err(path, "DBF file too short for a header"));
    }
    let n_records = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
    let header_len = u64::from(u16::from_le_bytes([head[8], head[9]]));
    let record_len = usize::from(u16::from_le_bytes([head[10], head[11]]));
    Ok((n_records, header_len, record_len))
}

/// The size a DBF file whose first 32 bytes are `head` should have, at most (its header, its
/// records, and a little slack).
///
/// # Errors
/// The header is too short.
pub fn dbf_expected_size(path: &Path, head: &[u8]) -> Result<u64> {
    let (n, header_len, record_len) = dbf_header(path, head)?;
    Ok(header_len + n as u64 * record_len as u64 + DBF_SLACK)
}

impl<R: std::io::Read + std::io::Seek> Dbf<R> {
    /// Reads and checks the header of the DBF `src` of `size` bytes (`path` names it in
    /// errors; `cpg` is the text of its `.cpg`).
    ///
    /// # Errors
    /// A header that does not fit the file, or a file larger than its header accounts for.
    pub fn open(path: &Path, mut src: R, size: u64, cpg: Option<&str>) -> Result<Self> {
        let io = |e: std::io::Error| IoError::Open { path: path.to_path_buf(), source: e };
        let mut head = [0u8; 32];
        if size < 33 {
            return Err(err(path, "DBF file too short for a header"));
        }
        src.read_exact(&mut head).map_err(io)?;
        let (n_records, header_len, record_len) = dbf_header(path, &head)?;
        if header_len < 33 || header_len > size {
            return Err(err(path, format!("DBF header length {header_len} does not fit the file ({size} bytes)")));
        }
        if record_len == 0 {
            return Err(err(path, "DBF record length is 0"));
        }
        let available = (size - header_len) / record_len as u64;
        if n_records as u64 > available {
            return Err(err(path, format!("DBF header says {n_records} records, the file holds {available}")));
        }
        let declared = header_len + n_records as u64 * record_len as u64;
        if size > declared + DBF_SLACK {
            return Err(err(
                path,
                format!(
                    "the DBF file is {size} bytes but its header accounts for {declared} ({n_records} records of \
                     {record_len} bytes): a damaged or altered file, not read"
                ),
            ));
        }
        let mut descriptors = vec![0u8; usize::try_from(header_len).unwrap_or(usize::MAX) - 32];
        src.read_exact(&mut descriptors).map_err(io)?;
        let ldid = head[29];
        let encoding = if let Some(e) = dbf_encoding(cpg, ldid) {
            e
        } else {
            // Valid UTF-8 all through (checked a piece at a time), else Windows-1252.
            let utf8 = utf8_all_through(&mut src, declared - header_len).map_err(io)?;
            src.seek(std::io::SeekFrom::Start(header_len)).map_err(io)?;
            if utf8 { UTF_8 } else { WINDOWS_1252 }
        };
        let mut fields = Vec::new();
        let mut pos = 0;
        while pos + 32 <= descriptors.len() && descriptors[pos] != 0x0D {
            let raw_name = &descriptors[pos..pos + 11];
            let name_end = raw_name.iter().position(|&b| b == 0).unwrap_or(11);
            let (name, _, _) = encoding.decode(&raw_name[..name_end]);
            fields.push((name.trim().to_owned(), descriptors[pos + 11], usize::from(descriptors[pos + 16])));
            pos += 32;
        }
        Ok(Self { src, path: path.to_path_buf(), n_records, header_len, record_len, fields, encoding })
    }

    /// The number of records the header announces (deleted ones included).
    #[must_use]
    pub fn len(&self) -> usize {
        self.n_records
    }

    /// Whether the table has no record.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.n_records == 0
    }

    /// Record `r` as a JSON object (text trimmed, numbers as numbers); `None` when deleted.
    ///
    /// # Errors
    /// A record that cannot be read or decoded.
    pub fn record(&mut self, r: usize) -> Result<Option<Map<String, Value>>> {
        let path = self.path.clone();
        let io = |e: std::io::Error| IoError::Open { path: path.clone(), source: e };
        let mut rec = vec![0u8; self.record_len];
        self.src
            .seek(std::io::SeekFrom::Start(self.header_len + r as u64 * self.record_len as u64))
            .and_then(|_| self.src.read_exact(&mut rec))
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    err(&path, format!("record {r} is truncated"))
                } else {
                    io(e)
                }
            })?;
        if rec[0] == b'*' {
            return Ok(None);
        }
        let mut map = Map::new();
        let mut off = 1;
        for (name, kind, len) in &self.fields {
            let raw =
                rec.get(off..off + len).ok_or_else(|| err(&path, format!("record {r}: field {name} overflows")))?;
            off += len;
            let (text, _, had_errors) = self.encoding.decode(raw);
            if had_errors {
                return Err(IoError::Encoding {
                    path: path.clone(),
                    reason: format!("record {r}, field {name}: not valid {}", self.encoding.name()),
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
        Ok(Some(map))
    }
}

/// Whether the next `len` bytes of `src` are valid UTF-8, read a piece at a time.
fn utf8_all_through(src: &mut impl std::io::Read, len: u64) -> std::io::Result<bool> {
    let mut buf = vec![0u8; 1 << 16];
    let mut carry = 0usize;
    let mut left = len;
    while left > 0 {
        let want = usize::try_from(left.min((buf.len() - carry) as u64)).unwrap_or(0);
        let got = src.read(&mut buf[carry..carry + want])?;
        if got == 0 {
            break;
        }
        left -= got as u64;
        let filled = carry + got;
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => carry = 0,
            // A character cut at the end of the piece: keep its first bytes for the next one.
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                buf.copy_within(valid..filled, 0);
                carry = filled - valid;
            }
            Err(_) => return Ok(false),
        }
    }
    Ok(carry == 0)
}

/// The DBF `path` with the `.cpg` beside it, if any, naming the encoding.
fn open_dbf(path: &Path) -> Result<Dbf<std::io::BufReader<fs::File>>> {
    let file = fs::File::open(path).map_err(|source| IoError::Open { path: path.to_path_buf(), source })?;
    let size = file.metadata().map_err(|source| IoError::Open { path: path.to_path_buf(), source })?.len();
    let cpg = sibling(path, "cpg").and_then(|c| fs::read_to_string(c).ok());
    Dbf::open(path, std::io::BufReader::new(file), size, cpg.as_deref())
}

/// Parses DBF bytes: every record as a JSON object (text trimmed, numbers as numbers, deleted
/// records skipped). `path` names the file in errors; `cpg` is the text of its `.cpg`. Every
/// count and length in the header is checked against the bytes there are: a damaged file is
/// an error, never a panic or a huge allocation.
pub fn parse_dbf(path: &Path, bytes: &[u8], cpg: Option<&str>) -> Result<Vec<Map<String, Value>>> {
    let mut dbf = Dbf::open(path, std::io::Cursor::new(bytes), bytes.len() as u64, cpg)?;
    let mut out = Vec::new();
    for r in 0..dbf.len() {
        if let Some(m) = dbf.record(r)? {
            out.push(m);
        }
    }
    Ok(out)
}

/// The encoding the `.cpg` or the language driver byte name; `None` when neither decides.
fn dbf_encoding(cpg: Option<&str>, ldid: u8) -> Option<&'static Encoding> {
    if let Some(text) = cpg {
        let label = text.trim();
        let label =
            if label.chars().all(|c| c.is_ascii_digit()) { format!("windows-{label}") } else { label.to_owned() };
        if let Some(enc) = Encoding::for_label(label.as_bytes()) {
            return Some(enc);
        }
    }
    matches!(ldid, 0x57 | 0x03 | 0x58 | 0x59).then_some(WINDOWS_1252)
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

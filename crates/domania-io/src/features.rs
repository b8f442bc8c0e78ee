//! Polygon features from GeoJSON or Shapefile, with the source CRS resolved and every geometry
//! taken through [`crate::geometry`]. The typed readers (cadastre, perimeters) build on it.

use std::path::Path;

use geo_types::MultiPolygon;
use serde_json::{Map, Value};

use crate::crs::Crs;
use crate::error::{IoError, Result};
use crate::geojson::{RawFeature, read_features};
use crate::geometry::{InvalidPolicy, Problem, polygonal_l93};
use crate::report::{Location, Severity, ValidationReport};

/// Options shared by the readers of polygon layers.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReadOptions {
    /// Overrides the CRS the file declares (or the WGS84 default of GeoJSON).
    pub crs: Option<Crs>,
    pub invalid: InvalidPolicy,
    /// Sub-sectors of one file that overlap are reported as warnings, with each pair and its
    /// area; with this set they are rejections, and the import is refused.
    pub reject_overlaps: bool,
}

/// A polygon feature ready for a typed reader: properties and a valid Lambert-93 geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct PolygonFeature {
    pub index: usize,
    pub id: Option<String>,
    pub properties: Map<String, Value>,
    pub geom_l93: MultiPolygon<f64>,
}

/// True if the path looks like a Shapefile.
#[must_use]
pub fn is_shapefile(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("shp"))
}

/// Reads polygon features from GeoJSON (optionally gzipped) or Shapefile. Geometry problems are
/// recorded in `report` (feature rejected or repaired); `accept` is called for every feature
/// whose geometry is usable and returns the feature's problem if its attributes are not.
///
/// With the `gdal` feature, a file of another format, or a GeoJSON or Shapefile in a CRS outside
/// the pure-Rust set (refused before any feature is read), is read through GDAL
/// ([`crate::ogr`]).
pub fn read_polygons(
    path: &Path,
    opts: ReadOptions,
    report: &mut ValidationReport,
    mut accept: impl FnMut(PolygonFeature) -> std::result::Result<(), (Option<String>, Problem)>,
) -> Result<()> {
    #[cfg(feature = "gdal")]
    if crate::ogr::wants_gdal(path) {
        return crate::ogr::read_ogr(path, opts, report, accept);
    }
    let pure = read_polygons_here(path, opts, report, &mut accept);
    #[cfg(feature = "gdal")]
    if matches!(pure, Err(IoError::UnknownCrs { .. })) && report.read == 0 {
        return crate::ogr::read_ogr(path, opts, report, accept);
    }
    pure
}

/// Hands a feature whose geometry was converted (`Ok`) or refused (`Err`) to `accept`, and
/// records the outcome in `report`: rejected, accepted (with its repairs), or refused by
/// `accept`. The one place every polygon reader ends in.
pub(crate) fn deliver(
    report: &mut ValidationReport,
    index: usize,
    id: Option<&str>,
    properties: Map<String, Value>,
    geometry: std::result::Result<(geo_types::MultiPolygon<f64>, Vec<crate::geometry::Repair>), Problem>,
    accept: &mut impl FnMut(PolygonFeature) -> std::result::Result<(), (Option<String>, Problem)>,
) {
    let (geom_l93, repairs) = match geometry {
        Ok(g) => g,
        Err(p) => return report.push(Location::Feature(index), id, Severity::Rejected, p.code, p.message),
    };
    let repaired = !repairs.is_empty();
    match accept(PolygonFeature { index, id: id.map(str::to_owned), properties, geom_l93 }) {
        Ok(()) => {
            for r in repairs {
                report.push(Location::Feature(index), id, Severity::Repaired, r.code, r.message);
            }
            report.accepted += 1;
            report.repaired += usize::from(repaired);
        }
        Err((key, p)) => {
            report.push(Location::Feature(index), key.as_deref().or(id), Severity::Rejected, p.code, p.message);
        }
    }
}

/// [`read_polygons`] by the pure-Rust readers.
fn read_polygons_here(
    path: &Path,
    opts: ReadOptions,
    report: &mut ValidationReport,
    mut accept: impl FnMut(PolygonFeature) -> std::result::Result<(), (Option<String>, Problem)>,
) -> Result<()> {
    if is_shapefile(path) {
        return crate::shp::read_shapefile(path, opts, report, accept);
    }
    let mut late_crs = None;
    let mut resolved: Option<Crs> = None;
    let mut crs_error = None;
    let info = read_features(path, |raw: RawFeature, info| {
        if crs_error.is_some() {
            return;
        }
        let crs = match resolved {
            Some(c) => c,
            None => match resolve_crs(path, opts.crs, info.crs.as_deref()) {
                Ok(c) => {
                    resolved = Some(c);
                    c
                }
                Err(e) => {
                    crs_error = Some(e);
                    return;
                }
            },
        };
        report.read += 1;
        let id = raw.id.clone().or_else(|| raw.properties.get("id").and_then(Value::as_str).map(str::to_owned));
        let oversized = oversized_field(&raw.properties).or_else(|| {
            id.as_ref().filter(|i| i.len() > MAX_FIELD_BYTES).map(|i| Problem {
                code: "field_too_large",
                message: format!("the feature id holds {} bytes; the limit is {MAX_FIELD_BYTES}", i.len()),
            })
        });
        if let Some(p) = oversized {
            let shown = id.as_deref().map(|i| shorten(i, 40));
            report.push(Location::Feature(raw.index), shown.as_deref(), Severity::Rejected, p.code, p.message);
            return;
        }
        let geometry = polygonal_l93(raw.geometry.as_ref(), &crs, opts.invalid);
        deliver(report, raw.index, id.as_deref(), raw.properties, geometry, &mut accept);
    })?;
    if let Some(e) = crs_error {
        return Err(e);
    }
    let crs = match resolved {
        Some(c) => c,
        None => resolve_crs(path, opts.crs, info.crs.as_deref())?,
    };
    if info.crs_after_features && opts.crs.is_none() {
        late_crs.clone_from(&info.crs);
    }
    if let Some(late) = late_crs {
        let declared = Crs::parse(&late);
        if declared.map(|c| c.epsg()) != Some(crs.epsg()) {
            return Err(IoError::LateCrs { path: path.to_path_buf(), crs: late, assumed: crs.to_string() });
        }
    }
    report.crs = crs.to_string();
    Ok(())
}

fn resolve_crs(path: &Path, forced: Option<Crs>, declared: Option<&str>) -> Result<Crs> {
    if let Some(c) = forced {
        return Ok(c);
    }
    match declared {
        None => Ok(Crs::wgs84()),
        Some(name) => {
            Crs::parse(name).ok_or_else(|| IoError::UnknownCrs { path: path.to_path_buf(), crs: name.to_owned() })
        }
    }
}

/// `text` cut to at most `max` characters (not bytes: a cut inside an accented character
/// panicked here before), with an ellipsis when cut.
#[must_use]
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((at, _)) => format!("{}…", &text[..at]),
    }
}

/// The largest property value a feature may carry, in bytes. Cadastre, QPV and sub-sector
/// attributes are short (names, codes, dates); a value this large is a broken export (a
/// geometry pasted into a field, a whole file in a cell), stored nowhere.
pub const MAX_FIELD_BYTES: usize = 64 * 1024;

/// The first property whose value (as JSON text) is larger than [`MAX_FIELD_BYTES`].
fn oversized_field(props: &Map<String, Value>) -> Option<Problem> {
    props.iter().find_map(|(k, v)| {
        let size = match v {
            Value::String(s) => s.len(),
            Value::Array(_) | Value::Object(_) => v.to_string().len(),
            _ => 0,
        };
        (size > MAX_FIELD_BYTES).then(|| Problem {
            code: "field_too_large",
            message: format!("property {:?} holds {size} bytes; the limit is {MAX_FIELD_BYTES}", shorten(k, 40)),
        })
    })
}

/// Reads an optional string property; a number is accepted and written as text, any other type
/// is a `wrong_property_type` problem.
pub fn prop_str(props: &Map<String, Value>, name: &str) -> std::result::Result<Option<String>, Problem> {
    match props.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(wrong_type(name, "a string", other)),
    }
}

/// Reads an optional integer property; anything but an integer or null is a problem.
pub fn prop_int(props: &Map<String, Value>, name: &str) -> std::result::Result<Option<i64>, Problem> {
    match props.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            n.as_i64().map(Some).ok_or_else(|| wrong_type(name, "an integer", &Value::Number(n.clone())))
        }
        Some(other) => Err(wrong_type(name, "an integer", other)),
    }
}

/// The first of `names` that is present and non-empty, as a string.
pub fn first_str(props: &Map<String, Value>, names: &[&str]) -> std::result::Result<Option<String>, Problem> {
    for n in names {
        if let Some(v) = prop_str(props, n)?
            && !v.trim().is_empty()
        {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

fn wrong_type(name: &str, expected: &str, found: &Value) -> Problem {
    let shown = shorten(&found.to_string(), 40);
    Problem { code: "wrong_property_type", message: format!("property {name:?} should be {expected}, found {shown}") }
}

//! What every polygon reader shares: the options, the feature handed to a typed reader, the one
//! place a feature's outcome is recorded ([`deliver`]), and the property helpers. The readers
//! themselves are [`crate::polygons`] (dispatch, GeoJSON), [`crate::shp`] and `ogr`.

use std::path::Path;

use geo_types::MultiPolygon;
use serde_json::{Map, Value};

use crate::crs::Crs;
use crate::geometry::{InvalidPolicy, Problem};
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
    if let Some(p) = nul_field(id, &properties) {
        let shown = id.map(|i| shorten(i, 40));
        return report.push(Location::Feature(index), shown.as_deref(), Severity::Rejected, p.code, p.message);
    }
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
pub(crate) fn oversized_field(props: &Map<String, Value>) -> Option<Problem> {
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

/// Whether a JSON value holds a NUL character in any of its strings.
fn holds_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(holds_nul),
        Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

/// The first field no store can keep: a NUL character (U+0000) in the id, a property's name or
/// its value (PostgreSQL's text holds none; the GeoPackage refuses it too, so that both engines
/// take the same files).
pub(crate) fn nul_field(id: Option<&str>, props: &Map<String, Value>) -> Option<Problem> {
    let message = |what: String| Problem {
        code: "nul_character",
        message: format!("{what} holds a NUL character (U+0000), which cannot be stored: remove it from the file"),
    };
    if id.is_some_and(|i| i.contains('\0')) {
        return Some(message("the feature id".to_owned()));
    }
    props
        .iter()
        .find(|(k, v)| k.contains('\0') || holds_nul(v))
        .map(|(k, _)| message(format!("property {:?}", shorten(k, 40))))
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

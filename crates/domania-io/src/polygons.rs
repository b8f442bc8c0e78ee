//! Polygon features from GeoJSON or Shapefile, with the source CRS resolved and every geometry
//! taken through [`crate::geometry`]: the dispatch to the format's reader. The typed readers
//! (cadastre, perimeters) build on it.

use std::path::Path;

use serde_json::Value;

use crate::crs::Crs;
use crate::error::{IoError, Result};
use crate::features::{MAX_FIELD_BYTES, PolygonFeature, ReadOptions, deliver, is_shapefile, oversized_field, shorten};
use crate::geojson::{RawFeature, read_features};
use crate::geometry::{Problem, polygonal_l93};
use crate::report::{Location, Severity, ValidationReport};

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

//! Any vector format GDAL opens (GeoPackage, MapInfo TAB/MIF, FlatGeobuf, KML, GML, DXF…), in any
//! CRS PROJ knows, for the perimeter layers (feature `gdal`): reprojected to Lambert-93 by GDAL's
//! own PROJ, then through the same geometry policy as every other reader.
//!
//! The pure-Rust readers keep GeoJSON and Shapefile in the CRSs Domania transforms itself; a
//! file of another format, or one of those in a CRS outside that set, comes here.

use std::path::Path;

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::vector::{FieldValue, LayerAccess};
use serde_json::{Map, Value};

use crate::crs::Crs;
use crate::error::{IoError, Result};
use crate::features::{PolygonFeature, ReadOptions};
use crate::geometry::{Problem, geo_rings, rings_to_l93};
use crate::report::{Location, Severity, ValidationReport};

/// Whether a file is for GDAL: not one the pure-Rust readers take (GeoJSON, gzipped GeoJSON,
/// Shapefile).
#[must_use]
pub fn wants_gdal(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    !(name.ends_with(".json") || name.ends_with(".geojson") || name.ends_with(".gz") || name.ends_with(".shp"))
}

fn open_error(path: &Path, reason: String) -> IoError {
    IoError::Gdal { path: path.to_path_buf(), reason }
}

fn value(v: FieldValue) -> Value {
    match v {
        FieldValue::IntegerValue(i) => Value::from(i),
        FieldValue::Integer64Value(i) => Value::from(i),
        FieldValue::RealValue(r) => serde_json::Number::from_f64(r).map_or(Value::Null, Value::Number),
        FieldValue::StringValue(s) => Value::String(s),
        other => Value::String(format!("{other:?}")),
    }
}

/// Reads the polygons of the first layer of a GDAL dataset (see [`crate::polygons::read_polygons`]).
///
/// # Errors
/// A file GDAL cannot open, with no layer, or with no CRS (and no `--crs`).
pub fn read_ogr(
    path: &Path,
    opts: ReadOptions,
    report: &mut ValidationReport,
    mut accept: impl FnMut(PolygonFeature) -> std::result::Result<(), (Option<String>, Problem)>,
) -> Result<()> {
    let ds = gdal::Dataset::open(path).map_err(|e| open_error(path, format!("GDAL cannot open it: {e}")))?;
    let mut layer = ds.layer(0).map_err(|e| open_error(path, format!("no vector layer: {e}")))?;
    let mut src = match opts.crs {
        Some(c) => SpatialRef::from_epsg(c.epsg()).map_err(|e| open_error(path, format!("--crs {c}: {e}")))?,
        None => layer
            .spatial_ref()
            .ok_or_else(|| IoError::UnknownCrs { path: path.to_path_buf(), crs: "none (pass --crs)".into() })?,
    };
    let mut dst = SpatialRef::from_epsg(2154).map_err(|e| open_error(path, format!("EPSG:2154: {e}")))?;
    // x east, y north on both sides, whatever the authority's axis order.
    src.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    dst.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let to_l93 = CoordTransform::new(&src, &dst)
        .map_err(|e| open_error(path, format!("no transformation to Lambert-93: {e}")))?;
    report.crs = match (src.auth_name(), src.auth_code()) {
        (Some(a), Ok(c)) => format!("{a}:{c}"),
        _ => src.name().unwrap_or_else(|| "unnamed CRS".into()),
    };
    report.format = format!("{} ({})", report.format, ds.driver().short_name());
    let l93 = Crs::lambert93();
    for (index, f) in layer.features().enumerate() {
        report.read += 1;
        let mut properties = Map::new();
        for (name, v) in f.fields() {
            properties.insert(name, v.map_or(Value::Null, value));
        }
        let id =
            properties.get("id").and_then(Value::as_str).map(str::to_owned).or_else(|| f.fid().map(|i| i.to_string()));
        let reject = |report: &mut ValidationReport, code: &'static str, message: String| {
            report.push(Location::Feature(index), id.as_deref(), Severity::Rejected, code, message);
        };
        let Some(g) = f.geometry() else {
            reject(report, "missing_geometry", "the feature has no geometry".into());
            continue;
        };
        let moved = match g.transform(&to_l93) {
            Ok(m) => m,
            Err(e) => {
                reject(report, "transform_failed", format!("GDAL could not reproject it to Lambert-93: {e}"));
                continue;
            }
        };
        let geometry = match moved.to_geo().ok().as_ref().and_then(geo_rings) {
            Some(polys) => rings_to_l93(polys, &l93, opts.invalid),
            None => Err(Problem {
                code: "wrong_geometry_type",
                message: format!("expected Polygon or MultiPolygon, found {}", g.geometry_name()),
            }),
        };
        crate::features::deliver(report, index, id.as_deref(), properties, geometry, &mut accept);
    }
    Ok(())
}

/// The GDAL driver of an output file, from its extension.
#[must_use]
pub fn driver_for(path: &Path) -> Option<&'static str> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let ext = name.rsplit('.').next().unwrap_or("");
    Some(match ext {
        "gpkg" => "GPKG",
        "fgb" => "FlatGeobuf",
        "tab" | "mif" => "MapInfo File",
        "kml" => "KML",
        "dxf" => "DXF",
        "shp" => "ESRI Shapefile",
        "geojson" | "json" => "GeoJSON",
        "gml" => "GML",
        "csv" => "CSV",
        "sqlite" => "SQLite",
        _ => return None,
    })
}

/// One feature to write: its Lambert-93 shape and its properties (strings, numbers, booleans;
/// null leaves the field unset).
pub type OutFeature<'a> = (&'a geo_types::MultiPolygon<f64>, Map<String, Value>);

/// Writes `features` as layer `name` of a new file `path` with GDAL's `driver` (in Lambert-93;
/// drivers bound to WGS84, such as KML, reproject it). Field types come from the first value
/// seen of each property: integer, real, or text. Returns how many features were written.
///
/// # Errors
/// A driver GDAL does not have, a file it cannot create, a feature it refuses.
pub fn write_layer<'a>(
    path: &Path,
    driver: &str,
    name: &str,
    features: impl IntoIterator<Item = OutFeature<'a>>,
) -> Result<usize> {
    use gdal::vector::{FieldDefn, OGRFieldType, ToGdal};
    let bad = |reason: String| IoError::Gdal { path: path.to_path_buf(), reason };
    let features: Vec<OutFeature<'a>> = features.into_iter().collect();
    let drv =
        gdal::DriverManager::get_driver_by_name(driver).map_err(|e| bad(format!("no GDAL driver {driver:?}: {e}")))?;
    let mut ds = drv.create_vector_only(path).map_err(|e| bad(format!("GDAL ({driver}) cannot create it: {e}")))?;
    let srs = SpatialRef::from_epsg(2154).map_err(|e| bad(format!("EPSG:2154: {e}")))?;
    let layer = ds
        .create_layer(gdal::vector::LayerOptions {
            name,
            srs: Some(&srs),
            ty: gdal::vector::OGRwkbGeometryType::wkbMultiPolygon,
            options: None,
        })
        .map_err(|e| bad(format!("creating layer {name}: {e}")))?;
    // The fields, in the order first seen, typed by their first value.
    let mut fields: Vec<(String, OGRFieldType::Type)> = Vec::new();
    for (_, props) in &features {
        for (k, v) in props {
            if fields.iter().any(|(f, _)| f == k) || v.is_null() {
                continue;
            }
            let ty = match v {
                Value::Number(n) if n.is_i64() => OGRFieldType::OFTInteger64,
                Value::Number(_) => OGRFieldType::OFTReal,
                Value::Bool(_) => OGRFieldType::OFTInteger,
                _ => OGRFieldType::OFTString,
            };
            fields.push((k.clone(), ty));
        }
    }
    for (k, ty) in &mut fields {
        let defn = FieldDefn::new(k, *ty).map_err(|e| bad(format!("field {k}: {e}")))?;
        if defn.add_to_layer(&layer).is_err() && *ty == OGRFieldType::OFTInteger64 {
            // Formats without 64-bit integers (MapInfo): a real holds every area and count.
            *ty = OGRFieldType::OFTReal;
            let defn = FieldDefn::new(k, *ty).map_err(|e| bad(format!("field {k}: {e}")))?;
            defn.add_to_layer(&layer).map_err(|e| bad(format!("field {k}: {e}")))?;
        } else if layer.defn().field_index(k.as_str()).is_err() {
            return Err(bad(format!("the {driver} format refuses field {k}")));
        }
    }
    let defn = gdal::vector::Defn::from_layer(&layer);
    let mut n = 0;
    for (i, (shape, props)) in features.iter().enumerate() {
        let mut f = gdal::vector::Feature::new(&defn).map_err(|e| bad(format!("feature {i}: {e}")))?;
        let g = (*shape).to_gdal().map_err(|e| bad(format!("feature {i}: {e}")))?;
        f.set_geometry(g).map_err(|e| bad(format!("feature {i}: {e}")))?;
        for (k, v) in props {
            let Ok(idx) = f.field_index(k) else { continue };
            let real = fields.iter().any(|(name, ty)| name == k && *ty == OGRFieldType::OFTReal);
            let set = match v {
                Value::Null => Ok(()),
                Value::Number(n) if real => f.set_field_double(idx, n.as_f64().unwrap_or_default()),
                Value::Number(n) if n.is_i64() => f.set_field_integer64(idx, n.as_i64().unwrap_or_default()),
                Value::Number(n) => f.set_field_double(idx, n.as_f64().unwrap_or_default()),
                Value::Bool(b) => f.set_field_integer(idx, i32::from(*b)),
                Value::String(s) => f.set_field_string(idx, s),
                other => f.set_field_string(idx, &other.to_string()),
            };
            set.map_err(|e| bad(format!("feature {i}, field {k}: {e}")))?;
        }
        f.create(&layer).map_err(|e| bad(format!("feature {i}: {e}")))?;
        n += 1;
    }
    Ok(n)
}

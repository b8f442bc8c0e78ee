//! Readers and writers of Domania: the formats SIG officers receive, turned into the domain
//! model of `domania-core` with a validation report, everything in Lambert-93.
//!
//! Depends on `domania-core` only (no store, no engine). Readers stream where the format
//! allows and never drop a feature silently: every rejection or repair is in the report.
//!
//! - [`cadastre`]: Etalab cadastre GeoJSON parcels (`.json`, `.json.gz`)
//! - [`edigeo`]: DGFiP EDIGÉO PCI-Vecteur sheets (feature `gdal`)
//! - [`ppm`]: DGFiP PPM owner files (2025 and 2021–2023 header styles)
//! - [`ban`]: the Base Adresse Nationale's departmental CSV
//! - [`perimeter`]: QPV, sub-sectors and conventions (GeoJSON, Shapefile; with the `gdal`
//!   feature, any format and CRS GDAL reads: `ogr`)
//! - [`crs`]: pure-Rust transforms to Lambert-93 (re-exported from `domania-core`)
//! - [`report`]: validation reports

pub mod archive;
pub mod ban;
pub mod cadastre;
pub mod edigeo;
/// The CRS transforms live in `domania_core::crs` (the tiles need them without the readers).
pub use domania_core::crs;
pub mod error;
pub mod features;
pub mod geojson;
pub mod geometry;
#[cfg(feature = "gdal")]
pub mod ogr;
pub mod perimeter;
pub mod polygons;
pub mod ppm;
pub mod report;
pub mod shp;
pub mod sniff;
pub mod synth;
mod table;

pub use error::{IoError, Result};

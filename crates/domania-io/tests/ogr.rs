//! Perimeters in a format and a CRS only GDAL reads (feature `gdal`): the real QPV of Occitanie
//! in Lambert-93, reprojected by `ogr2ogr` to NTF Lambert II étendu (EPSG:27572, outside Domania's own set) as
//! a GeoPackage and as a GeoJSON, read back through GDAL's PROJ to Lambert-93: each QPV's area
//! within 1 m² of the original's.
#![cfg(feature = "gdal")]

use std::path::PathBuf;
use std::process::Command;

use domania_io::features::ReadOptions;
use domania_io::perimeter::read_perimeters;
use domania_io::sniff::Layer;
use geo::Area;

fn data(file: &str) -> PathBuf {
    let dir = std::env::var_os("DOMANIA_DATA")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"), PathBuf::from);
    let path = dir.join(file);
    assert!(path.exists(), "{} is missing (set DOMANIA_DATA to the shared data folder)", path.display());
    path
}

#[test]
fn qpv_in_ntf_lambert_ii_from_a_geopackage_and_a_geojson_keep_their_areas() {
    // The original in Lambert-93 (read by the pure-Rust reader), so that going to NTF and back
    // is one transformation and its inverse (the NTF ↔ RGF93 grid both ways): from WGS84, PROJ
    // would reach NTF by another path than the one back, and the two differ by metres.
    let tmp = tempfile::tempdir().unwrap();
    let original = tmp.path().join("qpv-2154.geojson");
    let run = Command::new("ogr2ogr")
        .args(["-f", "GeoJSON", "-t_srs", "EPSG:2154"])
        .arg(&original)
        .arg(data("qpv2015-occitanie-hackaviz2021.geojson"))
        .output()
        .expect("ogr2ogr (gdal-bin, installed by .ci/run)");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let base = read_perimeters(&original, Layer::Qpv, ReadOptions::default()).expect("the original, pure Rust");
    assert_eq!(base.report.crs, "EPSG:2154");
    assert!(base.perimeters.len() > 50);
    for (name, driver) in [("qpv-27572.gpkg", "GPKG"), ("qpv-27572.geojson", "GeoJSON")] {
        let out = tmp.path().join(name);
        let run = Command::new("ogr2ogr")
            .args(["-f", driver, "-t_srs", "EPSG:27572"])
            .arg(&out)
            .arg(&original)
            .output()
            .expect("ogr2ogr (gdal-bin, installed by .ci/run)");
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let read = read_perimeters(&out, Layer::Qpv, ReadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(read.report.crs, "EPSG:27572", "{name}");
        assert_eq!(read.perimeters.len(), base.perimeters.len(), "{name}");
        let mut worst = 0.0f64;
        for (a, b) in base.perimeters.iter().zip(&read.perimeters) {
            assert_eq!(a.key, b.key, "{name}: the same QPV in the same order");
            let gap = (a.geom_l93.unsigned_area() - b.geom_l93.unsigned_area()).abs();
            worst = worst.max(gap);
        }
        eprintln!("ogr: {name}: {} QPV, worst area gap {worst:.4} m²", read.perimeters.len());
        assert!(worst < 1.0, "{name}: a QPV's area moved by {worst} m²");
    }
}

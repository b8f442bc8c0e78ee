//! Two jobs.
//!
//! 1. With the `gdal` feature, two SQLite libraries live in the binary's process: the store's,
//!    compiled into the binary by rusqlite (`bundled`, foreign keys on by default), and the
//!    system's, which GDAL (and SpatiaLite behind it) is linked against. By default the linker
//!    exports the binary's `sqlite3_*` symbols to satisfy GDAL's references, so GDAL's
//!    GeoPackage driver ended up calling the store's copy while SpatiaLite used the system's, and
//!    crashed when closing a file. `--exclude-libs,ALL` keeps the bundled copy's symbols inside
//!    the binary: each library uses its own SQLite.
//!
//! 2. The end-to-end tests use real clients (GDAL, PROJ, a browser, nginx, QGIS, the pmtiles
//!    package, the MapLibre style validator, the `georeport` Open311 client, Mapbox's tile decoder
//!    and Shapely, poppler's `pdftotext` and `pdfinfo`) and a PostgreSQL
//!    server. On a machine that lacks one,
//!    the tests needing it are reported as ignored, with the reason, rather than failing or
//!    passing with their body skipped: this script looks for each and sets a `domania_without_*`
//!    cfg the tests' `#[cfg_attr(…, ignore = "…")]` read. Under CI (`$CI` set) nothing is
//!    excused: a missing client fails its tests. `DOMANIA_E2E_ENGINE=postgis` sets
//!    `domania_e2e_postgis`, under which the tests about the GeoPackage file itself are ignored.

use std::path::{Path, PathBuf};
use std::process::Command;

const CFGS: [&str; 13] = [
    "domania_without_pg",
    "domania_without_gdal",
    "domania_without_proj",
    "domania_without_pmtiles",
    "domania_without_style_check",
    "domania_without_browser",
    "domania_without_nginx",
    "domania_without_qgis",
    "domania_without_georeport",
    "domania_without_smtp",
    "domania_without_shape_check",
    "domania_without_poppler",
    "domania_e2e_postgis",
];

fn on_path(tool: &str) -> bool {
    let dirs = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&dirs)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .any(|d| d.join(tool).is_file())
}

fn python_imports(module: &str) -> bool {
    Command::new("python3").args(["-c", &format!("import {module}")]).output().is_ok_and(|o| o.status.success())
}

/// Reruns when `path` changes, if it exists (a missing path would rerun the script on every
/// build).
fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if linux && std::env::var_os("CARGO_FEATURE_GDAL").is_some() {
        println!("cargo:rustc-link-arg=-Wl,--exclude-libs,ALL");
    }

    for cfg in CFGS {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    for var in ["CI", "DOMANIA_TEST_PG", "DOMANIA_E2E_ENGINE", "PATH"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for p in
        ["/usr/bin", "/usr/sbin", "/usr/lib/python3/dist-packages/qgis", "/usr/lib/python3/dist-packages/osgeo_utils"]
    {
        watch(Path::new(p));
    }
    watch(&root.join("tools/browser/node_modules"));
    watch(&root.join("tools/style-check/node_modules"));
    if std::env::var("DOMANIA_E2E_ENGINE").is_ok_and(|e| e == "postgis") {
        println!("cargo:rustc-cfg=domania_e2e_postgis");
    }
    if std::env::var_os("CI").is_some() {
        return;
    }
    let node = on_path("node");
    let without = [
        ("domania_without_pg", std::env::var_os("DOMANIA_TEST_PG").is_none()),
        (
            "domania_without_gdal",
            !(on_path("ogrinfo")
                && on_path("ogr2ogr")
                && Path::new("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py").exists()),
        ),
        ("domania_without_proj", !on_path("cs2cs")),
        ("domania_without_pmtiles", !python_imports("pmtiles")),
        ("domania_without_style_check", !(node && root.join("tools/style-check/node_modules").is_dir())),
        ("domania_without_browser", !(node && on_path("chromium") && root.join("tools/browser/node_modules").is_dir())),
        ("domania_without_nginx", !(on_path("nginx") && on_path("openssl") && on_path("curl"))),
        ("domania_without_qgis", !Path::new("/usr/lib/python3/dist-packages/qgis/core/__init__.py").exists()),
        ("domania_without_georeport", !python_imports("georeport, xmltodict, requests")),
        ("domania_without_smtp", !python_imports("aiosmtpd")),
        ("domania_without_shape_check", !python_imports("mapbox_vector_tile, shapely, pmtiles")),
        ("domania_without_poppler", !(on_path("pdftotext") && on_path("pdfinfo"))),
    ];
    for (cfg, missing) in without {
        if missing {
            println!("cargo:rustc-cfg={cfg}");
        }
    }
}

//! Puts the viewer's map library in `OUT_DIR` for the server to embed: MapLibre GL JS from the
//! npm registry, pinned by `viewer/package-lock.json` (installed with `npm ci` into
//! `viewer/node_modules` when missing or of another version than the lockfile's).
//!
//! Without npm (or with `DOMANIA_NO_NPM` set) the server still builds: the viewer page then says
//! that its map library was not built in, and how to get it; everything else works.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The files of `maplibre-gl/dist` the viewer loads (the worker is found beside the module).
const FILES: [&str; 3] = ["maplibre-gl.mjs", "maplibre-gl-worker.mjs", "maplibre-gl.css"];

fn version_in(path: &Path, pointer: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.pointer(pointer)?.as_str().map(str::to_owned)
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let viewer = manifest.join("../../viewer");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let lock = viewer.join("package-lock.json");
    let installed = viewer.join("node_modules/maplibre-gl/package.json");
    for p in [&lock, &viewer.join("package.json"), &installed] {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    println!("cargo:rerun-if-env-changed=DOMANIA_NO_NPM");
    let wanted = version_in(&lock, "/packages/node_modules~1maplibre-gl/version");
    let have = version_in(&installed, "/version");
    if wanted.is_some() && wanted != have && std::env::var_os("DOMANIA_NO_NPM").is_none() {
        match Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--silent"]).current_dir(&viewer).status() {
            Ok(s) if s.success() => {}
            Ok(s) => println!(
                "cargo:warning=viewer: `npm ci` in {} failed ({s}): the map page is built without its map library",
                viewer.display()
            ),
            Err(e) => println!(
                "cargo:warning=viewer: npm not found ({e}): the map page is built without its map library (install Node.js and npm, then rebuild)"
            ),
        }
    }
    let have = version_in(&installed, "/version").filter(|v| Some(v) == wanted.as_ref());
    let dist = viewer.join("node_modules/maplibre-gl/dist");
    for f in FILES {
        let bytes = if have.is_some() { std::fs::read(dist.join(f)).unwrap_or_default() } else { Vec::new() };
        std::fs::write(out.join(f), bytes).expect("write to OUT_DIR");
    }
    println!("cargo:rustc-env=DOMANIA_MAPLIBRE_VERSION={}", have.unwrap_or_default());
}

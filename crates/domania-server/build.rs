//! Puts the viewer's map library in `OUT_DIR` for the server to embed: MapLibre GL JS, and the
//! font the map's labels are drawn with (Open Sans, regular and semibold), from the npm
//! registry, pinned by `viewer/package-lock.json`, installed with `npm ci` into this build's
//! own folder (`OUT_DIR/npm`: nothing written into the source tree, no two builds racing on one
//! `node_modules`; npm's cache makes the second install of a version an offline copy). It runs
//! again only when the lockfile changes.
//!
//! Without npm (or with `DOMANIA_NO_NPM` set) the server still builds: the viewer page then says
//! that its map library was not built in, and how to get it; everything else works.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The files of `maplibre-gl/dist` the viewer loads (the worker is found beside the module).
const FILES: [&str; 3] = ["maplibre-gl.mjs", "maplibre-gl-worker.mjs", "maplibre-gl.css"];

/// The fonts of the labels, from `open-sans-fonts` (written empty when it is not installed: the
/// map then has no labels, and says nothing wrong).
const FONTS: [(&str, &str); 2] = [
    ("open-sans/Regular/OpenSans-Regular.ttf", "OpenSans-Regular.ttf"),
    ("open-sans/Semibold/OpenSans-Semibold.ttf", "OpenSans-Semibold.ttf"),
];

fn version_in(path: &Path, pointer: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.pointer(pointer)?.as_str().map(str::to_owned)
}

/// `npm ci` of the viewer's lockfile in `dir`; a warning when it cannot be done.
fn install(viewer: &Path, dir: &Path) {
    let copied = std::fs::create_dir_all(dir).and_then(|()| {
        for f in ["package.json", "package-lock.json"] {
            std::fs::copy(viewer.join(f), dir.join(f))?;
        }
        Ok(())
    });
    if let Err(e) = copied {
        println!("cargo:warning=viewer: copying the lockfile to {}: {e}", dir.display());
        return;
    }
    let run = Command::new("npm")
        .args(["ci", "--prefer-offline", "--no-audit", "--no-fund", "--silent"])
        .current_dir(dir)
        .status();
    match run {
        Ok(s) if s.success() => {}
        Ok(s) => println!("cargo:warning=viewer: `npm ci` failed ({s}): the map page is built without its map library"),
        Err(e) => println!(
            "cargo:warning=viewer: npm not found ({e}): the map page is built without its map library \
             (install Node.js and npm, then rebuild)"
        ),
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let viewer = manifest.join("../../viewer");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let lock = viewer.join("package-lock.json");
    for p in [&lock, &viewer.join("package.json")] {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    println!("cargo:rerun-if-env-changed=DOMANIA_NO_NPM");
    let npm = out.join("npm");
    let installed = npm.join("node_modules/maplibre-gl/package.json");
    let wanted = version_in(&lock, "/packages/node_modules~1maplibre-gl/version");
    // Every package of the lockfile at its version, or `npm ci` again.
    let stale = ["maplibre-gl", "open-sans-fonts", "pmtiles"].iter().any(|p| {
        version_in(&lock, &format!("/packages/node_modules~1{p}/version"))
            != version_in(&npm.join("node_modules").join(p).join("package.json"), "/version")
    });
    if wanted.is_some() && stale && std::env::var_os("DOMANIA_NO_NPM").is_none() {
        install(&viewer, &npm);
    }
    // The PMTiles protocol (one script, its decompressor bundled), for basemaps in archives.
    let pmtiles = std::fs::read(npm.join("node_modules/pmtiles/dist/pmtiles.js")).unwrap_or_default();
    std::fs::write(out.join("pmtiles.js"), pmtiles).expect("write to OUT_DIR");
    for (from, to) in FONTS {
        let bytes = std::fs::read(npm.join("node_modules/open-sans-fonts").join(from)).unwrap_or_default();
        std::fs::write(out.join(to), bytes).expect("write to OUT_DIR");
    }
    let dist = npm.join("node_modules/maplibre-gl/dist");
    let files: Vec<Vec<u8>> = FILES.iter().map(|f| std::fs::read(dist.join(f)).unwrap_or_default()).collect();
    // All three files of the version the lockfile names, or none (the page says so).
    let whole = version_in(&installed, "/version") == wanted && files.iter().all(|b| !b.is_empty());
    if wanted.is_some() && !whole && std::env::var_os("DOMANIA_NO_NPM").is_none() {
        println!(
            "cargo:warning=viewer: MapLibre GL JS is missing from {}: the map page is built without it",
            dist.display()
        );
    }
    for (f, bytes) in FILES.iter().zip(&files) {
        std::fs::write(out.join(f), if whole { bytes.as_slice() } else { &[] }).expect("write to OUT_DIR");
    }
    println!(
        "cargo:rustc-env=DOMANIA_MAPLIBRE_VERSION={}",
        if whole { wanted.unwrap_or_default() } else { String::new() }
    );
}

//! The MapLibre styles `domania styles` writes, checked by the style specification's own
//! validator (`@maplibre/maplibre-gl-style-spec`, installed by .ci/run with
//! `npm ci --prefix tools/style-check`), for a server's TileJSON and for a PMTiles export; and
//! the same styles served by `domania serve`.

use std::process::Command;

use crate::support::{domania, root, texts};

pub(crate) fn validate(file: &std::path::Path) {
    let bin = root().join("tools/style-check/node_modules/.bin/gl-style-validate");
    assert!(bin.exists(), "{} is missing: npm ci --prefix tools/style-check (done by .ci/run)", bin.display());
    let out = Command::new(&bin).arg(file).output().expect("run gl-style-validate");
    assert!(
        out.status.success(),
        "{}: {}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[cfg_attr(
    domania_without_style_check,
    ignore = "needs Node.js and the MapLibre style validator: npm ci --prefix tools/style-check"
)]
fn styles_pass_the_maplibre_validator_for_a_server_and_for_pmtiles() {
    // The sources every style is built from (styles/, one per view, and the labels) are valid
    // styles themselves.
    for source in ["owners", "managers", "decisions", "labels"] {
        validate(&root().join("styles").join(format!("{source}.json")));
    }
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.gpkg");
    for source in ["http://127.0.0.1:8080/tiles/parcels,spaces,subsectors,qpv.json", "pmtiles://gpso.pmtiles"] {
        let out_dir = dir.path().join(if source.starts_with("pmtiles") { "pm" } else { "http" });
        let out = domania(&store, &["styles", "--out", out_dir.to_str().unwrap(), "--source", source]);
        assert!(out.status.success(), "{}", texts(&out).1);
        let files: Vec<_> = std::fs::read_dir(&out_dir).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 8, "six intervention kinds, owners, decisions: {files:?}");
        for f in &files {
            validate(f);
            let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
            assert_eq!(s["sources"]["domania"]["url"], source);
            assert!(!s["metadata"]["domania:legend"].as_array().unwrap().is_empty());
        }
    }
    // A style that breaks the specification is refused by the validator (the check can fail).
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"version": 8, "sources": {}, "layers": [{"id": "x", "type": "fil"}]}"#).unwrap();
    let out =
        Command::new(root().join("tools/style-check/node_modules/.bin/gl-style-validate")).arg(&bad).output().unwrap();
    assert!(!out.status.success());
}

//! QGIS itself (3.22, its Python bindings) as the SIG officers' editor: it saves into a
//! GeoPackage store while `domania serve` follows it, and every save becomes a version.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::serve::Server;
use crate::support::{domania, root, texts};

/// The `shares` rows of one sub-sector (CSV, as a program reads it): actor and owner → area.
fn shares_of(store: &std::path::Path, key: &str) -> BTreeMap<String, String> {
    let out = domania(store, &["shares", "--format", "csv"]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    stdout
        .lines()
        .filter(|l| l.starts_with(&format!("{key},")))
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[1..cells.len() - 2].join(","), cells[cells.len() - 2..].join(","))
        })
        .collect()
}

fn served_geometry(server: &Server, key: &str) -> Value {
    let url = format!("{}/collections/subsectors/items/{key}", server.url);
    let body = ureq::get(&url).timeout(Duration::from_secs(30)).call().unwrap().into_string().unwrap();
    serde_json::from_str::<Value>(&body).unwrap()["geometry"].clone()
}

#[test]
#[cfg_attr(domania_e2e_postgis, ignore = "QGIS saves into a GeoPackage file: runs in the GeoPackage pass")]
#[cfg_attr(all(domania_without_qgis, not(domania_e2e_postgis)), ignore = "needs QGIS's Python bindings (python3-qgis)")]
fn a_sig_officer_saves_in_qgis_into_the_geopackage_and_each_save_is_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("demo.gpkg");
    let out = domania(&store, &["demo", "--dir", root().join("data").to_str().unwrap()]);
    assert!(out.status.success(), "{}", texts(&out).1);
    let (moved, split, new, race) = ("QN078001-03", "QN078001-05", "QN078001-05b", "QN078001-07");
    let before = shares_of(&store, moved);
    assert!(!before.is_empty());
    let server = Server::start(&store);
    let served_before = served_geometry(&server, moved);

    let t = Instant::now();
    let out = Command::new("/usr/bin/python3")
        .arg(root().join("tools/qgis/edit.py"))
        .args([store.to_str().unwrap(), moved, split, new, race])
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
        .expect("QGIS's Python (Debian's python3-qgis)");
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let seen: Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap();
    eprintln!("QGIS, {:.1} s: {seen}", t.elapsed().as_secs_f64());

    // The vertex moved and the split saved as a user saves, and the server made it a version
    // (the journal emptied); it serves the new shape.
    assert_eq!((seen["split"].as_i64(), seen["new_parts"].as_i64()), (Some(0), Some(1)), "{seen}");
    assert_eq!(seen["edit"]["saved"], true, "{seen}");
    assert!(seen["absorbed_s"].is_number(), "the server did not make the save a version: {seen}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while served_geometry(&server, moved) == served_before {
        assert!(Instant::now() < deadline, "the server still serves the shape before the save");
        std::thread::sleep(Duration::from_millis(100));
    }
    let history = texts(&domania(&store, &["history", "subsectors"])).0;
    let v2 = history.lines().find(|l| l.starts_with("v2 ")).unwrap_or_else(|| panic!("{history}"));
    assert!(v2.contains("by QGIS") && v2.contains("+1 -0 ~2 (reshaped 2)"), "{history}");
    assert!(v2.contains("domania.gpkg") || v2.contains("demo.gpkg"), "{history}");
    assert!(!v2.contains(dir.path().to_str().unwrap()), "the source names the file, not its folder: {v2}");
    let diff = texts(&domania(&store, &["diff", "subsectors", "1", "2"])).0;
    assert!(diff.contains(moved) && diff.contains(split) && diff.contains(new), "{diff}");
    // The figures follow: the moved sub-sector's shares changed, the new part has its own.
    let after = shares_of(&store, moved);
    assert_ne!(after, before, "the shares of {moved} did not follow its new boundary");
    assert!(!shares_of(&store, new).is_empty());

    // Refused at save, with Domania's words in QGIS, and nothing kept.
    assert_eq!(seen["bow_tie"]["saved"], false, "{seen}");
    let said = seen["bow_tie"]["errors"].as_str().unwrap();
    assert!(said.contains("Domania refuse cet enregistrement : la géométrie n'est pas valide"), "{said}");
    assert_eq!(seen["no_key"]["saved"], false, "{seen}");
    let said = seen["no_key"]["errors"].as_str().unwrap();
    assert!(said.contains("un sous-secteur sans clé (champ key) ne peut pas être enregistré"), "{said}");
    assert_eq!(seen["pending_after_refusals"], 0, "{seen}");

    // Two officers, one sub-sector: the first save is a version, the second is refused (QGIS
    // no longer finds the feature it loaded) and the first officer's boundary stays.
    assert_eq!(seen["race_first"]["saved"], true, "{seen}");
    assert!(seen["race_absorbed_s"].is_number(), "{seen}");
    assert_eq!(seen["race_second"]["saved"], false, "{seen}");
    assert!(seen["race_second"]["errors"].as_str().unwrap().contains("not found"), "{seen}");
    let history = texts(&domania(&store, &["history", "subsectors"])).0;
    let last = history.lines().last().unwrap();
    assert!(last.starts_with("v3 ") && last.contains("by QGIS") && last.contains("~1 (reshaped 1)"), "{history}");

    // A rollback restores the figures from before the officers' saves.
    drop(server);
    let out = domania(&store, &["rollback", "subsectors", "1"]);
    assert!(out.status.success(), "{}", texts(&out).1);
    assert_eq!(shares_of(&store, moved), before);
    assert!(shares_of(&store, new).is_empty());
    let out = domania(&store, &["store", "verify"]);
    assert!(out.status.success(), "{}\n{}", texts(&out).0, texts(&out).1);
}

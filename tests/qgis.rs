//! QGIS itself (3.22, its Python bindings) as the SIG officers' editor, on both engines: it
//! saves into a GeoPackage store's file (its OGR provider), or into the views of a PostGIS
//! store's `domania_edit` schema (its PostgreSQL provider), while `domania serve` follows the
//! store; every save becomes a version.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::serve::Server;
use crate::support::{domania, on_postgis, root, store_arg, texts};

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

fn versions(store: &std::path::Path) -> Vec<Value> {
    let out = domania(store, &["--json", "history", "subsectors"]);
    assert!(out.status.success(), "{}", texts(&out).1);
    serde_json::from_slice::<Value>(&out.stdout).unwrap().as_array().unwrap().clone()
}

#[test]
#[cfg_attr(domania_without_qgis, ignore = "needs QGIS's Python bindings (python3-qgis, qgis-providers)")]
fn a_sig_officer_saves_in_qgis_and_each_save_is_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("demo.gpkg");
    let out = domania(&store, &["demo", "--dir", root().join("data").to_str().unwrap()]);
    assert!(out.status.success(), "{}", texts(&out).1);
    let (moved, split, new, race) = ("QN078001-03", "QN078001-05", "QN078001-05b", "QN078001-07");
    let before = shares_of(&store, moved);
    assert!(!before.is_empty());
    let server = Server::start(&store);
    let served_before = served_geometry(&server, moved);

    let target = store_arg(&store);
    let t = Instant::now();
    let out = Command::new("/usr/bin/python3")
        .arg(root().join("tools/qgis/edit.py"))
        .arg(&target)
        .args([moved, split, new, race, &server.url])
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
        .expect("QGIS's Python (Debian's python3-qgis)");
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let seen: Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap();
    eprintln!("QGIS, {:.1} s: {seen}", t.elapsed().as_secs_f64());

    // The vertex moved and the split saved as a user saves, and the server made the save
    // versions (the journal emptied); it serves the new shape.
    assert_eq!((seen["split"].as_i64(), seen["new_parts"].as_i64()), (Some(0), Some(1)), "{seen}");
    assert_eq!(seen["edit"]["saved"], true, "{seen}");
    assert!(seen["served_after_save_s"].is_number(), "the server still serves the shape before the save: {seen}");
    assert!(seen["absorbed_s"].is_number(), "the server did not empty the journal: {seen}");
    assert_ne!(served_geometry(&server, moved), served_before);
    // By whom: a file says nothing of its editor (QGIS); a database names the role.
    let author = if on_postgis() {
        let url = target.to_string_lossy();
        let user = url.split_once("://").map_or("", |(_, rest)| rest);
        user.split([':', '@']).next().unwrap_or("").to_owned()
    } else {
        "QGIS".to_owned()
    };
    // QGIS saves its changed shapes and its new features in a transaction each: one version
    // from a file, two from a database (each saving transaction is one); the officers' race
    // (below) made the last.
    let saved = versions(&store);
    let n = if on_postgis() { 2 } else { 1 };
    assert_eq!(saved.len(), 1 + n + 1, "{saved:?}");
    let by_qgis: Vec<&Value> = saved[1..=n].iter().collect();
    for v in &by_qgis {
        assert_eq!(v["author"], author.as_str(), "{v}");
        assert!(v["source"].as_str().unwrap().starts_with("QGIS, "), "{v}");
        assert!(!v["source"].as_str().unwrap().contains(dir.path().to_str().unwrap()), "a path in the source: {v}");
    }
    let count = |k: &str| by_qgis.iter().map(|v| v[k].as_i64().unwrap()).sum::<i64>();
    assert_eq!((count("added"), count("removed"), count("changed"), count("reshaped")), (1, 0, 2, 2), "{saved:?}");
    let last = by_qgis.last().unwrap()["version"].as_i64().unwrap();
    let diff = texts(&domania(&store, &["diff", "subsectors", "1", &last.to_string()])).0;
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

    // Two officers, one sub-sector: the first save is a version, the second is refused (his
    // copy is of a feature that is no longer current) and the first officer's boundary stays.
    assert_eq!(seen["race_first"]["saved"], true, "{seen}");
    assert!(seen["race_absorbed_s"].is_number(), "{seen}");
    assert_eq!(seen["race_second"]["saved"], false, "{seen}");
    let said = seen["race_second"]["errors"].as_str().unwrap();
    let told =
        if on_postgis() { "a changé ou a été supprimée depuis que vous l'avez chargée" } else { "not found" };
    assert!(said.contains(told), "{said}");
    let raced = saved.last().unwrap();
    assert_eq!(raced["version"].as_i64(), Some(last + 1), "{saved:?}");
    assert_eq!((raced["changed"].as_i64(), raced["reshaped"].as_i64()), (Some(1), Some(1)), "{raced}");

    // The cadastre is imported whole, never edited: QGIS is told so.
    assert_eq!(seen["parcel_edit"]["saved"], false, "{seen}");
    let said = seen["parcel_edit"]["errors"].as_str().unwrap();
    let told = if on_postgis() { "est tenue par Domania" } else { "la couche des parcelles vient du cadastre" };
    assert!(said.contains(told), "{said}");

    // A rollback restores the figures from before the officers' saves.
    drop(server);
    let out = domania(&store, &["rollback", "subsectors", "1"]);
    assert!(out.status.success(), "{}", texts(&out).1);
    assert_eq!(shares_of(&store, moved), before);
    assert!(shares_of(&store, new).is_empty());
    let out = domania(&store, &["store", "verify"]);
    assert!(out.status.success(), "{}\n{}", texts(&out).0, texts(&out).1);
}

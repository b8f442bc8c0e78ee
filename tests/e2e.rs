//! End-to-end tests: the real `domania` binary on real files, bad inputs, GDAL as a client, and
//! `kill -9` in the middle of an import.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

mod addresses;
mod crs;
mod documents;
mod edigeo;
mod edits;
mod french;
mod hostile;
mod land_figures;
mod layering;
mod mail;
mod one_answer;
mod postgis;
mod proxy;
mod qgis;
mod reports;
mod serve;
mod store_trust;
mod styles;
mod support;
mod tiles;
mod validity;
mod viewer;

use support::{bad_input, command, domania, root, shared_data, texts};

fn ok(store: &Path, args: &[&str]) -> String {
    let out = domania(store, args);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "domania {args:?} failed:\n{stdout}\n{stderr}");
    stdout
}

fn json(store: &Path, args: &[&str]) -> serde_json::Value {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    serde_json::from_str(&ok(store, &a)).expect("valid JSON")
}

fn fails(store: &Path, args: &[&str]) -> String {
    let out = domania(store, args);
    let (stdout, stderr) = texts(&out);
    assert!(!out.status.success(), "domania {args:?} should fail:\n{stdout}");
    stderr
}

#[test]
#[cfg_attr(domania_without_gdal, ignore = "needs GDAL's ogrinfo and validate_gpkg.py (gdal-bin, python3-gdal)")]
fn real_paris_import_history_diff_rollback_and_gdal_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("paris.gpkg");
    let cad = shared_data("cadastre-75118-parcelles.json");
    let v = json(&store, &["import", "parcels", cad.to_str().unwrap()]);
    assert_eq!((v["version"].as_i64(), v["features"].as_i64()), (Some(1), Some(6821)));
    let ppm = shared_data("dgfip_pm/PM_25_NB_750_part_003.csv");
    json(&store, &["import", "owners", ppm.to_str().unwrap()]);

    // The owners report: every owner, its actor and the layer that decided it.
    let owners = json(&store, &["owners"]);
    let ph = owners.as_array().unwrap().iter().find(|o| o["name"] == "PARIS HABITAT-OPH").unwrap();
    assert_eq!((ph["actor"].as_str(), ph["decided_by"].as_str()), (Some("bailleur_social"), Some("forme_juridique")));
    let vdp = owners.as_array().unwrap().iter().find(|o| o["name"] == "VILLE DE PARIS").unwrap();
    assert_eq!((vdp["actor"].as_str(), vdp["decided_by"].as_str()), (Some("commune"), Some("groupe_personne")));

    let parcel = json(&store, &["parcel", "75118000AA0002"]);
    assert_eq!(parcel["contenance_m2"].as_i64(), Some(23120));
    assert!((parcel["area_m2"].as_f64().unwrap() - 23120.0).abs() < 5.0);
    assert_eq!(parcel["actor"].as_str(), Some("etablissement_public"));

    // Version 2: the same file with one parcel removed and one reshaped.
    let text = std::fs::read_to_string(&cad).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let removed = lines.remove(1); // first feature line
    assert!(removed.contains("75118000AA0002"));
    let reshaped = shift_first_coordinate(lines[1]);
    lines[1] = &reshaped;
    let v2 = dir.path().join("cadastre-v2.json");
    std::fs::write(&v2, lines.join("\n")).unwrap();
    let v = json(&store, &["import", "parcels", v2.to_str().unwrap()]);
    assert_eq!((v["version"].as_i64(), v["removed"].as_i64(), v["reshaped"].as_i64()), (Some(2), Some(1), Some(1)));

    let d = json(&store, &["diff", "parcels", "1", "2"]);
    assert_eq!(d["removed"], serde_json::json!(["75118000AA0002"]));
    assert_eq!(d["reshaped"].as_array().unwrap().len(), 1);
    assert_eq!(d["added"].as_array().unwrap().len(), 0);

    let h = json(&store, &["history", "parcels"]);
    assert_eq!(h.as_array().unwrap().len(), 2);
    assert_eq!(h[0]["source_sha256"].as_str().unwrap().len(), 64);

    let r = json(&store, &["rollback", "parcels", "1"]);
    assert_eq!((r["version"].as_i64(), r["added"].as_i64(), r["kind"].as_str()), (Some(3), Some(1), Some("rollback")));
    assert!(fails(&store, &["parcel", "75118000XX9999"]).contains("not in the store"));

    // What follows reads the GeoPackage file with GDAL: not in the PostGIS pass.
    if support::on_postgis() {
        return;
    }
    // GDAL opens the store as it is.
    let out = Command::new("ogrinfo")
        .args(["-ro", "-so", "-al"])
        .arg(&store)
        .output()
        .expect("ogrinfo not found: install GDAL's command-line tools (Debian gdal-bin; .ci/run does)");
    let info = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{info}");
    assert!(info.contains("Layer name: parcels") && info.contains("Feature Count: 6821"), "{info}");
    assert!(info.contains("Lambert-93"), "{info}");
    // GDAL's own GeoPackage validator (python3-gdal).
    let validator = "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py";
    assert!(Path::new(validator).exists(), "{validator} missing: install python3-gdal (.ci/run does)");
    let out = Command::new("/usr/bin/python3").arg(validator).arg(&store).output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // GDAL's spatial filter goes through our R-tree: a 100 m box holds a handful of parcels.
    let out = Command::new("ogrinfo")
        .args(["-ro", "-so", "-spat", "651000", "6866800", "651100", "6866900"])
        .arg(&store)
        .arg("parcels")
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&out.stdout);
    let count: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Feature Count: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no feature count in {info}"));
    assert!((1..100).contains(&count), "{count} parcels in a 100 m box");
}

/// Moves the first coordinate of a feature line by 1e-5 degree (about a metre).
fn shift_first_coordinate(line: &str) -> String {
    let start = line.find("[[[").unwrap() + 3;
    let end = start + line[start..].find(',').unwrap();
    let lon: f64 = line[start..end].parse().unwrap();
    // `replace` moves the closing coordinate too, so the ring stays closed.
    let old = &line[start..end];
    line.replace(old, &format!("{:.7}", lon + 1e-5))
}

#[test]
fn bad_inputs_give_clear_errors_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.gpkg");
    let cad = shared_data("cadastre-91216-parcelles.json");
    json(&store, &["import", "parcels", cad.to_str().unwrap()]);
    let before = ok(&store, &["dump"]);

    let cases: &[(&str, &str, &[&str])] = &[
        ("truncated.json", "parcels", &["truncated.json", "invalid JSON at line 1", "EOF"]),
        ("wrong-types.json", "parcels", &["feature 1", "78440000AB0009", "wrong_property_type", "contenance"]),
        ("nan.json", "parcels", &["invalid JSON", "feature 0"]),
        ("huge-coordinates.json", "parcels", &["feature 1", "coordinate_out_of_range"]),
        ("duplicate-idu.json", "parcels", &["feature 3", "duplicate_idu", "78440000AB0001"]),
        // With GDAL (`--features gdal`) PROJ knows EPSG:27572, so the file is read, and its
        // coordinates, which are degrees, make polygons with no area: refused all the same.
        (
            "unknown-crs.json",
            "parcels",
            if cfg!(feature = "gdal") {
                &["unknown-crs.json", "empty_geometry", "nothing was imported"]
            } else {
                &["unknown-crs.json", "EPSG::27572", "unsupported or unknown CRS"]
            },
        ),
        ("empty.json", "parcels", &["empty.json", "empty"]),
        ("ppm-missing-column.csv", "owners", &["line 3", "column_count", "expected 24 columns, found 23"]),
        ("ppm-wrong-encoding.csv", "owners", &["ppm-wrong-encoding.csv", "UTF-16"]),
        ("ppm-mixed-encoding.csv", "owners", &["mixed encodings", "line 3"]),
        ("repair-fails.json", "qpv", &["feature 0", "the repair failed", "nothing was imported"]),
    ];
    for (file, kind, needles) in cases {
        let path = bad_input(file);
        let err = fails(&store, &["import", kind, path.to_str().unwrap()]);
        for n in *needles {
            assert!(err.contains(n), "{file}: error should mention {n:?}:\n{err}");
        }
        assert!(!err.contains("panicked"), "{file}: {err}");
        assert_eq!(ok(&store, &["dump"]), before, "{file} changed the store");
    }
    // Nothing changed: still one version, 4,241 parcels.
    let layers = json(&store, &["layers"]);
    assert_eq!(layers[0]["features"].as_i64(), Some(4241));
    assert_eq!(layers[0]["version"].as_i64(), Some(1));
    assert_eq!(layers[1]["version"], serde_json::Value::Null);

    // Repair policy: self-intersecting and unclosed rings are repaired and reported by default…
    for file in ["self-intersecting.json", "unclosed-ring.json"] {
        let path = bad_input(file);
        let report: serde_json::Value =
            serde_json::from_str(&ok(&store, &["--json", "validate", "--kind", "parcels", path.to_str().unwrap()]))
                .unwrap();
        assert_eq!((report["accepted"].as_i64(), report["repaired"].as_i64()), (Some(2), Some(1)), "{file}: {report}");
        let code = if file.starts_with("self") { "invalid_geometry" } else { "unclosed_ring" };
        assert_eq!(report["issues"][0]["code"].as_str(), Some(code));
    }
    // …and a self-intersection is rejected under --invalid reject.
    let path = bad_input("self-intersecting.json");
    let err = fails(&store, &["import", "parcels", "--invalid", "reject", path.to_str().unwrap()]);
    assert!(err.contains("self-intersection") && err.contains("nothing was imported"), "{err}");
    // --skip-invalid imports the rest and records the rejection with the version.
    let path = bad_input("duplicate-idu.json");
    let v = json(&store, &["import", "parcels", "--skip-invalid", path.to_str().unwrap()]);
    assert_eq!((v["features"].as_i64(), v["rejected"].as_i64()), (Some(3), Some(1)));
}

#[test]
#[cfg_attr(domania_without_gdal, ignore = "needs GDAL's ogrinfo and validate_gpkg.py (gdal-bin, python3-gdal)")]
fn kill_9_during_import_leaves_the_previous_version_intact() {
    let dir = tempfile::tempdir().unwrap();
    let synth = dir.path().join("synth");
    let store = dir.path().join("s.gpkg");
    ok(&store, &["synth", "--parcels", "60000", "--seed", "3", "--out", synth.to_str().unwrap()]);
    let cad = synth.join("cadastre-synth-parcelles.json");
    let small = shared_data("cadastre-91216-parcelles.json");
    json(&store, &["import", "parcels", small.to_str().unwrap()]);

    // Time one full import to spread the kills over its whole length.
    let probe = dir.path().join("probe.gpkg");
    let t = Instant::now();
    json(&probe, &["import", "parcels", cad.to_str().unwrap()]);
    let full = t.elapsed();
    let mut killed_mid_way = 0;
    for i in 0..8u32 {
        let delay = full.mul_f64(f64::from(i) / 8.0 + 0.05);
        let mut child = support::command(&store)
            .args(["import", "parcels", cad.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            killed_mid_way += 1;
        }
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        let layers = json(&store, &["layers"]);
        let history = json(&store, &["history", "parcels"]);
        let n_versions = history.as_array().unwrap().len();
        let features = layers[0]["features"].as_i64();
        let committed = features == Some(60000 + 4241);
        if status.success() || committed {
            // The import committed before the kill (a kill can land between the commit and the
            // exit): version 2 is whole (the synthetic communes beside Épinay's, which the import
            // left alone). Start again from v1.
            assert_eq!(features, Some(60000 + 4241), "kill {i} after {delay:?}");
            // The version counts the rows of what it replaced: the file's communes.
            assert_eq!(history[n_versions - 1]["features"].as_i64(), Some(60000));
            json(&store, &["rollback", "parcels", "1"]);
        } else {
            // Killed before the commit: version 1, whole, and no trace of the import.
            let last = &history[n_versions - 1];
            assert_eq!(features, Some(4241), "kill {i} after {delay:?}: neither the old state nor the new one");
            assert_eq!(last["features"].as_i64(), Some(4241));
        }
        let p = json(&store, &["parcel", "91216000AB0037"]);
        assert!(p["area_m2"].as_f64().unwrap() > 0.0);
    }
    assert!(killed_mid_way >= 4, "only {killed_mid_way} of 8 kills landed during the import");
    // What follows reads the GeoPackage file with GDAL: not in the PostGIS pass.
    if support::on_postgis() {
        return;
    }
    // The file is sound for SQLite and GDAL.
    let out = Command::new("ogrinfo").args(["-ro", "-so"]).arg(&store).arg("parcels").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Feature Count: 4241"));
}

/// Away from the repository (no data/ in the working folder), `domania demo` writes the
/// territory built into it to domania-demo/ and runs on it; a second run finds it unchanged.
#[test]
fn demo_runs_anywhere_on_the_territory_built_in() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("demo.gpkg");
    let run = || command(&store).current_dir(dir.path()).args(["demo"]).output().unwrap();
    let first = run();
    let (out, err) = texts(&first);
    assert!(first.status.success(), "{err}");
    assert!(err.contains("built-in demo territory is in domania-demo/"), "{err}");
    assert!(out.contains("Land by actor"), "{out}");
    for file in ["territory.toml", "rules.toml", "cadastre-synth-parcelles.json", "ppm-synth.csv"] {
        let written = std::fs::read(dir.path().join("domania-demo").join(file)).unwrap();
        assert_eq!(written, std::fs::read(root().join("data").join(file)).unwrap(), "{file}");
    }
    let again = run();
    let (out, err) = texts(&again);
    assert!(again.status.success(), "{err}");
    assert_eq!(out.matches("unchanged").count(), 4, "{out}");
}

#[test]
fn demo_runs_on_the_embedded_territory() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("demo.gpkg");
    let data = root().join("data");
    let out = json(&store, &["demo", "--dir", data.to_str().unwrap()]);
    let by_actor = out["by_actor"].as_array().unwrap();
    let share: f64 = by_actor.iter().map(|a| a["share"].as_f64().unwrap()).sum();
    assert!((share - 1.0).abs() < 1e-9);
    let actors: Vec<&str> = by_actor.iter().map(|a| a["actor"].as_str().unwrap()).collect();
    for a in ["communaute_urbaine", "commune", "bailleur_social", "private"] {
        assert!(actors.contains(&a), "{a} missing from {actors:?}");
    }
    assert_eq!(out["imported"].as_array().unwrap().len(), 4);
    assert_eq!(out["management"]["subsectors"].as_u64(), Some(12));
    // Which sub-sectors need a convention, not only how many.
    let needed = out["management"]["conventions_needed"].as_array().unwrap();
    assert_eq!(needed.len() as u64, out["management"]["needing_convention"].as_u64().unwrap());
    assert!(needed.iter().any(|d| d.as_str().unwrap().starts_with("sub-sector QN078001-03:")), "{needed:?}");

    // The example scenario turns sub-sector QN078001-03 into a delegated one, on a copy.
    let rules = data.join("rules.toml");
    let judged = |command: &str, file: &str| {
        let file = data.join(file);
        let rules = rules.to_str().unwrap();
        json(&store, &[command, file.to_str().unwrap(), "--rules", rules, "--date", "2025-06-01", "--format", "json"])
    };
    let sc = judged("scenario", "scenario-example.toml");
    let changed = sc["subsectors_changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["subsector"], "QN078001-03");
    assert!(changed[0]["decision_after"].as_str().unwrap().contains("delegated to bailleur_social"));
    assert!(changed[0]["decision_before"].as_str().unwrap().contains("convention needed"));
    // The store still says the commune holds the square.
    let csv = ok(&store, &["shares"]);
    assert!(csv.lines().any(|l| l.starts_with("QN078001-03,commune,")), "{csv}");

    // Procedure perimeters: the merged one covers both, and waste is the CU's everywhere.
    let per = judged("perimeters", "perimeters-example.toml");
    let per = per.as_array().unwrap();
    assert_eq!(per.len(), 3);
    let waste_cu = |p: &serde_json::Value| p["managed_m2"]["waste"]["communaute_urbaine"].as_f64().unwrap();
    assert!(waste_cu(&per[2]) >= waste_cu(&per[0]).max(waste_cu(&per[1])));
    assert!((waste_cu(&per[2]) - per[2]["area_m2"].as_f64().unwrap()).abs() < 1.0);

    // Blocks of the QPV, imported back as the next version of the sub-sectors.
    let out = domania(&store, &["blocks", "QN078001"]);
    assert!(out.status.success());
    let blocks_file = dir.path().join("blocks.geojson");
    std::fs::write(&blocks_file, &out.stdout).unwrap();
    // They replace every sub-sector: refused unless forced.
    let err = fails(&store, &["import", "subsectors", blocks_file.to_str().unwrap()]);
    assert!(err.contains("would remove layer subsectors: 12 of its 12 rows (100.0 %)"), "{err}");
    let v = json(&store, &["import", "subsectors", "--force", blocks_file.to_str().unwrap()]);
    assert_eq!((v["version"].as_i64(), v["features"].as_i64()), (Some(2), Some(12)));
}

/// A 6 × 4 grid of sub-sectors over Paris 18e, as GeoJSON in Lambert-93.
fn paris_grid(path: &Path) {
    paris_grid_named(path, "S");
}

/// A store in `dir` (`paris.gpkg`) holding Paris 18e's parcels, one of its PPM files and the
/// grid of sub-sectors named `{prefix}{row}{column}`.
pub(crate) fn paris_store(dir: &Path, prefix: &str) -> std::path::PathBuf {
    let store = dir.join("paris.gpkg");
    let grid = dir.join("grid.geojson");
    paris_grid_named(&grid, prefix);
    for (kind, file) in [
        ("parcels", shared_data("cadastre-75118-parcelles.json")),
        ("owners", shared_data("dgfip_pm/PM_25_NB_750_part_003.csv")),
        ("subsectors", grid),
    ] {
        let out = domania(&store, &["import", kind, file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", texts(&out).1);
    }
    store
}

/// The grid with its cells named `{prefix}{row}{column}`.
pub(crate) fn paris_grid_named(path: &Path, prefix: &str) {
    let (x0, y0, x1, y1) = (650_557.0, 6_864_893.0, 653_937.0, 6_867_056.0);
    let (w, h) = ((x1 - x0) / 6.0, (y1 - y0) / 4.0);
    let mut features = Vec::new();
    for r in 0..4 {
        for c in 0..6 {
            let (ax, ay) = (x0 + f64::from(c) * w, y0 + f64::from(r) * h);
            features.push(serde_json::json!({
                "type": "Feature",
                "properties": {"id": format!("{prefix}{r}{c}"), "name": format!("Grid {r}-{c}")},
                "geometry": {"type": "Polygon", "coordinates": [[[ax, ay], [ax + w, ay], [ax + w, ay + h], [ax, ay + h], [ax, ay]]]},
            }));
        }
    }
    let fc = serde_json::json!({"type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}}, "features": features});
    std::fs::write(path, fc.to_string()).unwrap();
}

#[test]
fn paris_shares_csv_adds_up_per_sub_sector_and_assign_explains() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("paris.gpkg");
    let grid = dir.path().join("subsectors-grid.geojson");
    paris_grid(&grid);
    // The same grid without its `crs` member is read as WGS84 and rejected, unless --crs says.
    let bare = dir.path().join("subsectors-bare.geojson");
    let mut fc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&grid).unwrap()).unwrap();
    fc.as_object_mut().unwrap().remove("crs");
    std::fs::write(&bare, fc.to_string()).unwrap();
    let err = fails(&store, &["validate", "--kind", "subsectors", bare.to_str().unwrap()]);
    assert!(err.contains("24 feature(s) or line(s) rejected"), "{err}");
    ok(&store, &["validate", "--kind", "subsectors", "--crs", "EPSG:2154", bare.to_str().unwrap()]);
    ok(&store, &["import", "parcels", shared_data("cadastre-75118-parcelles.json").to_str().unwrap()]);
    ok(&store, &["import", "owners", shared_data("dgfip_pm/PM_25_NB_750_part_003.csv").to_str().unwrap()]);
    ok(&store, &["import", "subsectors", grid.to_str().unwrap()]);
    let csv = ok(&store, &["shares", "--format", "csv"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "subsector_id,actor,siren,owner_name,owner_actor,parcels,area_m2,share_of_cadastre,share_of_area,contenance_m2,gap_m2"
        )
    );
    let mut per_zone: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
    let mut non_cadastre_rows = 0;
    for l in lines {
        // From the right: gap, contenance, share of area, share of cadastre, area, parcels, …
        let cols: Vec<&str> = l.rsplitn(7, ',').collect();
        let zone = l.split(',').next().unwrap().to_owned();
        *per_zone.entry(zone).or_default() += cols[4].parse::<f64>().unwrap();
        non_cadastre_rows += usize::from(l.contains(",non_cadastre,"));
    }
    assert_eq!(per_zone.len(), 24);
    assert_eq!(non_cadastre_rows, 24);
    let cell = (653_937.0 - 650_557.0) / 6.0 * (6_867_056.0 - 6_864_893.0) / 4.0;
    for (zone, area) in &per_zone {
        // Rows are rounded to the centimetre square: 0.01 m² per row at most.
        assert!((area - cell).abs() < 1.0, "{zone}: {area} vs {cell}");
    }
    let shares = json(&store, &["shares", "--format", "json"]);
    for z in shares["zones"].as_array().unwrap() {
        let by_actor: f64 = z["by_actor"].as_object().unwrap().values().map(|a| a["area_m2"].as_f64().unwrap()).sum();
        let sum = by_actor + z["non_cadastre_m2"].as_f64().unwrap();
        assert!((sum - z["area_m2"].as_f64().unwrap()).abs() < 0.01, "{}", z["key"]);
        let gap = (z["cadastre_m2"].as_f64().unwrap() - z["contenance_m2"].as_f64().unwrap())
            / z["contenance_m2"].as_f64().unwrap();
        assert!(gap.abs() < 0.05, "{}: gap {gap}", z["key"]);
    }
    let gj: serde_json::Value = serde_json::from_str(&ok(&store, &["shares", "--format", "geojson"])).unwrap();
    assert_eq!(gj["features"].as_array().unwrap().len(), 24);
    assert!(gj["features"][0]["properties"]["shares"].as_object().is_some_and(|m| !m.is_empty()));
    // Over the whole grid, geometric areas run 0.13 % below contenances (TARGETS.md).
    let total = |k: &str| shares["zones"].as_array().unwrap().iter().map(|z| z[k].as_f64().unwrap()).sum::<f64>();
    let gap = (total("cadastre_m2") - total("contenance_m2")) / total("contenance_m2");
    assert!((-0.0016..-0.0010).contains(&gap), "gap {gap}");
    let rules = root().join("data/rules.toml");
    let assign =
        json(&store, &["assign", "--rules", rules.to_str().unwrap(), "--date", "2025-06-01", "--format", "json"]);
    assert_eq!(assign["decisions"].as_array().unwrap().len(), 24);
    let spaces = assign["spaces"].as_array().unwrap();
    assert!(spaces.len() > 6821);
    let waste = spaces[0]["assignments"].as_array().unwrap().iter().find(|a| a["intervention"] == "waste").unwrap();
    assert_eq!(waste["service"]["id"], "cu-dechets");
    assert!(
        spaces.iter().all(|s| s["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| !a["explanation"].as_str().unwrap().is_empty()))
    );
}

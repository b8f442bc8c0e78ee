//! A store a GIS officer can trust: a territory of many communes loaded piece by piece, nothing
//! wiped by accident, wrong files refused, and a store that is safe to share (read-only use,
//! foreign GeoPackages, locks, closed pipes).

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{bad_input, domania, domania_bin, root, shared_data, texts};
use crate::{fails, json, ok};

/// The logical dump of a store: what must not change when an import is refused.
fn dump(store: &Path) -> String {
    ok(store, &["dump"])
}

/// A copy of an Etalab cadastre file (a header line, then one feature per line, the last one
/// closing the collection) keeping the features whose index passes `keep`.
fn cadastre_subset(src: &Path, dst: &Path, keep: impl Fn(usize) -> bool) -> usize {
    let text = std::fs::read_to_string(src).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let kept: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.trim_end().trim_end_matches("]}").trim_end_matches(','))
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(_, l)| l)
        .collect();
    std::fs::write(dst, format!("{}\n{}\n]}}\n", lines[0], kept.join(",\n"))).unwrap();
    kept.len()
}

#[test]
fn two_communes_and_two_departements_load_in_either_order_and_imports_stay_in_their_scope() {
    let dir = tempfile::tempdir().unwrap();
    let paris = shared_data("cadastre-75118-parcelles.json");
    let epinay = shared_data("cadastre-91216-parcelles.json");
    let ppm75 = shared_data("dgfip_pm/PM_25_NB_750_part_003.csv");
    let ppm78 = shared_data("dgfip_pm/PM_25_NB_780_part_008.csv");
    let files = [("parcels", &paris), ("parcels", &epinay), ("owners", &ppm75), ("owners", &ppm78)];
    let mut owners_reports = Vec::new();
    for (n, order) in [[0, 1, 2, 3], [3, 1, 2, 0]].iter().enumerate() {
        let store = dir.path().join(format!("order{n}.gpkg"));
        for &i in order {
            let (kind, file) = files[i];
            let v = json(&store, &["import", kind, file.to_str().unwrap()]);
            assert_eq!(v["removed"].as_i64(), Some(0), "{kind} {}: {v}", file.display());
        }
        let layers = json(&store, &["layers"]);
        assert_eq!(layers[0]["features"].as_i64(), Some(6821 + 4241));
        let scopes = json(&store, &["scopes", "parcels"]);
        let codes: Vec<(&str, i64)> = scopes
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["scope"].as_str().unwrap(), s["features"].as_i64().unwrap()))
            .collect();
        assert_eq!(codes, [("75118", 6821), ("91216", 4241)]);
        // Owner files are imported commune by commune (a département comes in parts).
        let scopes = json(&store, &["scopes", "owners"]);
        let communes: Vec<&str> = scopes.as_array().unwrap().iter().map(|s| s["scope"].as_str().unwrap()).collect();
        assert!(communes.contains(&"75118") && communes.contains(&"78686"), "{communes:?}");
        assert!(communes.iter().all(|c| c.starts_with("75") || c.starts_with("78")), "{communes:?}");
        owners_reports.push(ok(&store, &["owners"]));
    }
    assert_eq!(owners_reports[0], owners_reports[1], "the order of imports changed the owners");
    assert!(owners_reports[0].starts_with("siren,name,groupe,forme,actor,decided_by,confidence,why,parcels\n"));

    let store = dir.path().join("order0.gpkg");
    let paris_rows = |d: &str| d.lines().filter(|l| l.starts_with("parcels|75118")).collect::<Vec<_>>().join("\n");
    let before = dump(&store);

    // The identical file again: no new version, nothing written.
    let v = json(&store, &["import", "parcels", epinay.to_str().unwrap()]);
    assert_eq!((v["unchanged"].as_bool(), v["version"].as_i64()), (Some(true), Some(2)), "{v}");
    assert_eq!(dump(&store), before);
    let text = ok(&store, &["import", "parcels", epinay.to_str().unwrap()]);
    assert!(text.contains("parcels: unchanged, still version 2"), "{text}");

    // A new vintage of Épinay, three parcels fewer: Paris untouched.
    let v2 = dir.path().join("cadastre-91216-v2.json");
    assert_eq!(cadastre_subset(&epinay, &v2, |i| i >= 3), 4238);
    let v = json(&store, &["import", "parcels", v2.to_str().unwrap()]);
    assert_eq!(
        (v["version"].as_i64(), v["removed"].as_i64(), v["scope"].as_str()),
        (Some(3), Some(3), Some("commune=91216"))
    );
    let after = dump(&store);
    assert_eq!(paris_rows(&after), paris_rows(&before));
    let d = json(&store, &["diff", "parcels", "2", "3"]);
    assert!(d["removed"].as_array().unwrap().iter().all(|k| k.as_str().unwrap().starts_with("91216")));

    // Refused, each with its reason, and the store unchanged.
    let half = dir.path().join("cadastre-91216-half.json");
    cadastre_subset(&epinay, &half, |i| i % 2 == 0);
    let cases: Vec<(&str, std::path::PathBuf, Vec<&str>)> = vec![
        ("parcels", half, vec!["refused", "commune 91216: 2119 of its 4238 rows (50.0 %)", "limit 20 %", "--force"]),
        ("parcels", bad_input("empty-collection.json"), vec!["nothing to import into parcels", "no row"]),
        ("owners", bad_input("ppm-header-only.csv"), vec!["nothing to import into owners"]),
        ("qpv", epinay.clone(), vec!["not a QPV perimeters file", "import it as `parcels`"]),
        (
            "parcels",
            shared_data("qpv2015-occitanie-hackaviz2021.geojson"),
            vec!["not a cadastre parcels file", "import it as `qpv`"],
        ),
        ("parcels", bad_input("qpv-as-parcels.json"), vec!["none of its 2 features has an IDU"]),
        ("qpv", bad_input("parcels-as-qpv.json"), vec!["none of its 2 features has a QPV code"]),
        ("subsectors", paris.clone(), vec!["not a sub-sectors file", "look like cadastre parcels"]),
        ("parcels", bad_input("owners-as-parcels.csv"), vec!["a PPM owner file (import it as `owners`)"]),
        ("owners", paris.clone(), vec!["not a DGFiP owner file", "JSON"]),
        ("parcels", bad_input("huge-field.json.gz"), vec!["feature 1", "field_too_large", "1048576 bytes"]),
    ];
    for (kind, file, needles) in &cases {
        let err = fails(&store, &["import", kind, file.to_str().unwrap()]);
        for n in needles {
            assert!(err.contains(n), "{kind} {}: error should mention {n:?}:\n{err}", file.display());
        }
        assert_eq!(dump(&store), after, "{kind} {} changed the store", file.display());
    }
    // The halved commune goes in when forced, and comes back by a rollback of that commune.
    let half = dir.path().join("cadastre-91216-half.json");
    let v = json(&store, &["import", "parcels", "--force", half.to_str().unwrap()]);
    assert_eq!(v["removed"].as_i64(), Some(2119));
    let v = json(&store, &["rollback", "parcels", "3", "--scope", "commune=91216"]);
    assert_eq!((v["added"].as_i64(), v["scope"].as_str()), (Some(2119), Some("commune=91216")));
    assert_eq!(paris_rows(&dump(&store)), paris_rows(&before));
    assert_eq!(json(&store, &["layers"])[0]["features"].as_i64(), Some(6821 + 4238));
}

#[test]
fn reproducible_geometry_same_hashes_in_any_store_and_reversed_rings_are_no_change() {
    let dir = tempfile::tempdir().unwrap();
    let qpv = shared_data("qpv2015-occitanie-hackaviz2021.geojson");
    let (a, b) = (dir.path().join("a.gpkg"), dir.path().join("b.gpkg"));
    json(&a, &["import", "qpv", qpv.to_str().unwrap()]);
    json(&b, &["import", "qpv", qpv.to_str().unwrap()]);
    let rows = |s: &Path| dump(s).lines().filter(|l| l.starts_with("qpv|")).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(rows(&a).len(), 105);
    assert_eq!(rows(&a), rows(&b), "29 repaired polygons must hash the same in two stores");
    let again = json(&a, &["import", "qpv", qpv.to_str().unwrap()]);
    assert_eq!(again["unchanged"].as_bool(), Some(true), "{again}");

    // Every ring reversed and started at another vertex: the same shapes, no change.
    let mut fc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&qpv).unwrap()).unwrap();
    for f in fc["features"].as_array_mut().unwrap() {
        for ring in f["geometry"]["coordinates"].as_array_mut().unwrap() {
            let pts = ring.as_array_mut().unwrap();
            pts.pop();
            pts.reverse();
            pts.rotate_left(1);
            let first = pts[0].clone();
            pts.push(first);
        }
    }
    let turned = dir.path().join("qpv-turned.geojson");
    std::fs::write(&turned, fc.to_string()).unwrap();
    let v = json(&a, &["import", "qpv", turned.to_str().unwrap()]);
    assert_eq!((v["unchanged"].as_bool(), v["version"].as_i64()), (Some(true), Some(1)), "{v}");
}

#[test]
#[cfg_attr(
    domania_e2e_postgis,
    ignore = "edits the GeoPackage file with GDAL (PostGIS refuses such edits: tests/postgis.rs)"
)]
#[cfg_attr(all(domania_without_gdal, not(domania_e2e_postgis)), ignore = "needs GDAL's ogrinfo (gdal-bin)")]
fn store_verify_finds_what_gdal_changed_in_the_geopackage_behind_domania() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.gpkg");
    let source = shared_data("cadastre-91216-parcelles.json");
    json(&store, &["import", "parcels", source.to_str().unwrap()]);
    // A GIS officer's edit in a desktop GIS, through GDAL.
    let gdal_sql = |sql: &str| {
        let out = Command::new("ogrinfo").arg(&store).args(["-sql", sql]).output().expect("ogrinfo (Debian gdal-bin)");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    let clean = json(&store, &["store", "verify"]);
    assert_eq!(clean["layers"]["parcels"], serde_json::json!([4241, 0]), "{clean}");
    assert_eq!((clean["engine"].as_str(), clean["altered"].as_array().map(Vec::len)), (Some("ok"), Some(0)));
    assert_eq!(clean["marked"], 0);

    // An edit of the cadastre is refused, saying where it comes from and how it changes.
    let out = Command::new("ogrinfo")
        .arg(&store)
        .args(["-sql", "UPDATE parcels SET section = 'ZZ' WHERE key = '91216000AB0037'"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("Domania refuse cette modification : la couche des parcelles vient du cadastre"), "{said}");
    assert!(said.contains("domania import"), "{said}");
    assert_eq!(json(&store, &["store", "verify"])["altered"], serde_json::json!([]));
    // An administrator drops the guard, and changes an attribute of one parcel.
    let unguard = || {
        for op in ["insert", "update", "delete"] {
            gdal_sql(&format!("DROP TRIGGER domania_parcels_guard_{op}"));
        }
    };
    unguard();
    gdal_sql("UPDATE parcels SET section = 'ZZ' WHERE key = '91216000AB0037'");
    let stderr = fails(&store, &["store", "verify"]);
    assert!(stderr.contains("1 row(s) are not as Domania wrote them"), "{stderr}");
    let out = domania(&store, &["store", "verify"]);
    let (stdout, _) = texts(&out);
    assert!(
        stdout.contains("changed outside Domania: parcels 91216000AB0037 (current, since v1): attributes"),
        "{stdout}"
    );
    // The same file imported again does not see it: hence the check.
    let again = json(&store, &["import", "parcels", source.to_str().unwrap()]);
    assert_eq!(again["unchanged"].as_bool(), Some(true), "{again}");
    // Marked, it does: the parcel is the file's again, as a new version whose history keeps
    // the edited state, and the store verifies clean.
    let marked = ok(&store, &["store", "verify", "--mark"]);
    assert!(marked.contains("marked 1 current row(s)"), "{marked}");
    let v = json(&store, &["import", "parcels", source.to_str().unwrap()]);
    assert_eq!((v["version"].as_i64(), v["changed"].as_i64(), v["added"].as_i64()), (Some(2), Some(1), Some(0)), "{v}");
    let diff = json(&store, &["diff", "parcels", "1", "2"]);
    assert!(diff.to_string().contains("91216000AB0037"), "{diff}");
    let clean = json(&store, &["store", "verify"]);
    assert_eq!(clean["altered"], serde_json::json!([]), "{clean}");
    let again = json(&store, &["import", "parcels", source.to_str().unwrap()]);
    assert_eq!(again["unchanged"].as_bool(), Some(true), "the file's state is current again: {again}");

    // A parcel deleted with GDAL shows in the count (which one, nothing tells).
    unguard();
    gdal_sql("DELETE FROM parcels WHERE key = '91216000AB0038'");
    let stderr = fails(&store, &["store", "verify"]);
    assert!(stderr.contains("parcels: rows were deleted or added outside Domania"), "{stderr}");
    assert!(stderr.contains("4240 current rows for 4241"), "{stderr}");
}

/// Runs `domania` as an unprivileged user when the tests run as root (CI does), so that file
/// permissions apply: root ignores them.
fn as_unprivileged(store: &Path, args: &[&str]) -> std::process::Output {
    let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"));
    let mut cmd = if is_root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]).arg(domania_bin());
        c
    } else {
        Command::new(domania_bin())
    };
    cmd.arg("--store").arg(store).args(args).env_remove("DOMANIA_STORE").output().expect("run domania")
}

#[test]
#[cfg_attr(
    domania_e2e_postgis,
    ignore = "files, folders, permissions and foreign GeoPackages (the PostGIS equivalents: crates/domania-store/tests/postgis.rs)"
)]
#[cfg_attr(all(domania_without_gdal, not(domania_e2e_postgis)), ignore = "needs GDAL's ogrinfo and ogr2ogr (gdal-bin)")]
fn reads_never_write_and_missing_empty_foreign_or_read_only_stores_are_clear_errors() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    // A mistyped store: an error, and nothing created.
    let typo = dir.path().join("typo.gpkg");
    for args in
        [&["layers"][..], &["owners"], &["parcel", "91216000AB0037"], &["shares"], &["rollback", "parcels", "1"]]
    {
        let err = fails(&typo, args);
        assert!(err.contains("typo.gpkg: no store here"), "{args:?}: {err}");
    }
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "a failed command left a file");
    // A failed first import leaves no store behind either.
    fails(&typo, &["import", "parcels", bad_input("qpv-as-parcels.json").to_str().unwrap()]);
    assert!(!typo.exists());
    // A zero-byte file is not a store, for reads and imports alike, and stays as it is.
    let empty = dir.path().join("empty.gpkg");
    std::fs::write(&empty, b"").unwrap();
    assert!(fails(&empty, &["layers"]).contains("the file is empty (0 bytes), not a store"));
    let cad = shared_data("cadastre-91216-parcelles.json");
    assert!(fails(&empty, &["import", "parcels", cad.to_str().unwrap()]).contains("(0 bytes)"));
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);
    // A text file: said in words, not an SQLite code.
    let text = dir.path().join("notes.gpkg");
    std::fs::write(&text, "not a database at all, just some notes that are long enough\n".repeat(20)).unwrap();
    assert!(fails(&text, &["layers"]).contains("not a SQLite database"));

    // A real store, used read-only by another user: every read works, nothing changes.
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    let store = shared.join("territory.gpkg");
    json(&store, &["import", "parcels", cad.to_str().unwrap()]);
    json(&store, &["import", "owners", shared_data("dgfip_pm/PM_25_NB_780_part_008.csv").to_str().unwrap()]);
    let bytes = std::fs::read(&store).unwrap();
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o555)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    for args in [
        &["layers"][..],
        &["history", "parcels"],
        &["scopes", "parcels"],
        &["owners"],
        &["dump"],
        &["parcel", "91216ab37"],
    ] {
        let out = as_unprivileged(&store, args);
        let (stdout, stderr) = texts(&out);
        assert!(out.status.success(), "{args:?} on a read-only store:\n{stdout}\n{stderr}");
    }
    let out = as_unprivileged(&store, &["import", "parcels", cad.to_str().unwrap()]);
    let (_, stderr) = texts(&out);
    assert!(!out.status.success() && stderr.contains("read-only"), "{stderr}");
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(std::fs::read(&store).unwrap(), bytes, "a read command changed the store");
    let names: Vec<String> =
        std::fs::read_dir(&shared).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(!names.iter().any(|n| n.ends_with("-journal") || n.ends_with("-wal")), "{names:?}");

    // A foreign GeoPackage written by GDAL: never changed without --adopt.
    let foreign = dir.path().join("foreign.gpkg");
    let qpv = shared_data("qpv2015-occitanie-hackaviz2021.geojson");
    let gdal = |nln: &str, path: &Path| {
        let out = Command::new("ogr2ogr")
            .args(["-f", "GPKG"])
            .arg(path)
            .arg(&qpv)
            .args(["-nln", nln])
            .output()
            .expect("ogr2ogr not found: install gdal-bin (.ci/run does)");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    gdal("quartiers", &foreign);
    let before = std::fs::read(&foreign).unwrap();
    let err = fails(&foreign, &["layers"]);
    assert!(err.contains("not a Domania store (its tables: quartiers)") && err.contains("init --adopt"), "{err}");
    let err = fails(&foreign, &["import", "parcels", cad.to_str().unwrap()]);
    assert!(err.contains("not a Domania store"), "{err}");
    assert_eq!(std::fs::read(&foreign).unwrap(), before, "the foreign GeoPackage was modified");
    let clash = dir.path().join("clash.gpkg");
    gdal("parcels", &clash);
    let err = fails(&clash, &["init", "--adopt"]);
    assert!(err.contains("already has a table \"parcels\""), "{err}");
    ok(&foreign, &["init", "--adopt"]);
    json(&foreign, &["import", "parcels", cad.to_str().unwrap()]);
    let out = Command::new("ogrinfo").args(["-ro", "-q"]).arg(&foreign).output().unwrap();
    let info = String::from_utf8_lossy(&out.stdout);
    assert!(info.contains("quartiers") && info.contains("parcels"), "{info}");
}

#[test]
#[cfg_attr(
    domania_e2e_postgis,
    ignore = "the lock file beside a GeoPackage (PostGIS's advisory lock: crates/domania-store/tests/postgis.rs)"
)]
fn a_busy_store_says_who_holds_it_and_gives_up_after_the_wait() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.gpkg");
    let synth = dir.path().join("synth");
    ok(&store, &["synth", "--parcels", "60000", "--seed", "5", "--out", synth.to_str().unwrap()]);
    let small = shared_data("cadastre-91216-parcelles.json");
    json(&store, &["import", "parcels", small.to_str().unwrap()]);
    let mut writer = Command::new(domania_bin())
        .arg("--store")
        .arg(&store)
        .args(["import", "parcels", synth.join("cadastre-synth-parcelles.json").to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The writer says who it is in the lock file once it holds the lock.
    let lock = dir.path().join("s.gpkg.lock");
    let start = std::time::Instant::now();
    while std::fs::read_to_string(&lock).unwrap_or_default().is_empty() {
        assert!(start.elapsed().as_secs() < 20, "the writer never took the lock");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let out = domania(&store, &["--wait", "1", "import", "parcels", small.to_str().unwrap()]);
    let (_, stderr) = texts(&out);
    let still_running = writer.try_wait().unwrap().is_none();
    writer.kill().unwrap();
    writer.wait().unwrap();
    if still_running {
        assert!(!out.status.success());
        let pid = format!("pid {}", writer.id());
        assert!(stderr.contains("waiting up to 1 s") && stderr.contains(&pid), "{stderr}");
        assert!(stderr.contains("the store is busy") && stderr.contains("gave up after 1 s"), "{stderr}");
    }
    // The killed writer left the store whole, and the lock free.
    assert_eq!(json(&store, &["layers"])[0]["features"].as_i64(), Some(4241));
    json(&store, &["rollback", "parcels", "1"]);
}

#[test]
fn closed_pipes_and_loose_arguments_are_handled() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.gpkg");
    json(&store, &["import", "parcels", shared_data("cadastre-75118-parcelles.json").to_str().unwrap()]);
    json(&store, &["import", "owners", shared_data("dgfip_pm/PM_25_NB_750_part_003.csv").to_str().unwrap()]);
    // `domania owners | head -1`, `domania dump | head -1`: the reader goes, no panic.
    for command in ["owners", "dump"] {
        let mut child =
            crate::support::command(&store).arg(command).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut first = [0u8; 64];
        child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && !stderr.contains("panicked"), "{command}: {stderr}");
    }
    // One CSV dialect, a comma unless asked.
    let semi = ok(&store, &["--delimiter", ";", "owners"]);
    assert!(semi.starts_with("siren;name;groupe;forme;actor;decided_by;confidence;why;parcels\n"), "{semi}");
    assert!(ok(&store, &["owners"]).starts_with("siren,name,groupe,"));
    // IDUs as people write them.
    for spelled in ["75118000aa0002", "75118 AA 2", "75118-000-AA-0002"] {
        let out = domania(&store, &["--json", "parcel", spelled]);
        let (stdout, stderr) = texts(&out);
        assert!(out.status.success(), "{spelled}: {stderr}");
        assert!(stderr.contains("as the IDU 75118000AA0002"), "{stderr}");
        assert!(stdout.contains("\"idu\": \"75118000AA0002\""));
    }
    assert!(fails(&store, &["parcel", "75118AAA2"]).contains("expected commune (5)"));
    // Sizes, dates and formats a command cannot take are refused by the command line.
    let out = dir.path().join("synth");
    for (args, needle) in [
        (&["synth", "--parcels", "18446744073709551615", "--out", out.to_str().unwrap()][..], "1..=20000000"),
        (&["synth", "--parcels", "0", "--out", out.to_str().unwrap()], "1..=20000000"),
        (&["assign", "--date", "2024-13-45"], "'month' is not in the required range"),
        (&["assign", "--date", "2024-1-5"], "YYYY-MM-DD"),
        (&["import", "spaces", "x.json"], "possible values: parcels, owners, qpv, subsectors, conventions"),
        (&["assign", "--date", "yesterday"], "YYYY-MM-DD"),
        (&["scenario", "x.toml", "--format", "geojson"], "invalid value 'geojson'"),
        (&["report", "tfpb", "--format", "geojson"], "invalid value 'geojson'"),
        (&["import", "qpv", "x.json", "--scope", "commune"], "qpv is not imported by commune"),
        (&["import", "parcels", "x.json", "--scope", "commune=9121"], "not a commune code"),
        (&["history", "parcelles"], "unknown layer"),
    ] {
        let err = fails(&store, args);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert!(!out.exists());
    // The rules are built in: `assign` works from any folder without --rules.
    let demo = dir.path().join("demo.gpkg");
    json(&demo, &["demo", "--dir", root().join("data").to_str().unwrap()]);
    let elsewhere = tempfile::tempdir().unwrap();
    let out = crate::support::command(&demo)
        .current_dir(elsewhere.path())
        .args(["assign", "--dry-run", "--date", "2025-06-01"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.starts_with("subsector_id,space,owner_actor,") && stdout.contains("cu-dechets"), "{stdout}");
}

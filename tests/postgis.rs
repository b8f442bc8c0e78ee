//! The PostGIS store end to end, through the `domania` binary: the real Paris 18e and Épinay
//! territories moved from a GeoPackage to PostGIS and back, with the same figures and history;
//! the same commands on a PostGIS store as on a GeoPackage. Needs `$DOMANIA_TEST_PG` (set by
//! `.ci/run`; see `tools/postgres/cluster`).

use std::path::Path;

use domania_store::pg::ScratchDatabase;

use crate::land_figures::{l93_collection, rect};
use crate::support::shared_data;
use crate::{json, ok};

/// What two stores holding the same territory must answer alike.
fn figures(store: &Path) -> Vec<String> {
    let mut out = vec![ok(store, &["dump"])];
    for layer in ["parcels", "owners", "subsectors", "spaces"] {
        out.push(ok(store, &["--json", "history", layer]));
        out.push(ok(store, &["--json", "scopes", layer]));
    }
    out.push(ok(store, &["--json", "diff", "parcels", "1", "4"]));
    out.push(ok(store, &["--json", "layers"]));
    out.push(ok(store, &["--json", "owners"]));
    out.push(ok(store, &["shares", "--format", "csv"]));
    out.push(ok(store, &["--json", "parcel", "75118000AA0002"]));
    out.push(ok(store, &["--json", "parcel", "91216000AB0037"]));
    out
}

/// The real territory with a history: two communes, a re-import with one parcel removed, the
/// Paris owners, sub-sectors, a rollback of Épinay and the spaces layer.
fn build(store: &Path, dir: &Path) {
    let paris = shared_data("cadastre-75118-parcelles.json");
    let epinay = shared_data("cadastre-91216-parcelles.json");
    json(store, &["import", "parcels", paris.to_str().unwrap()]);
    json(store, &["import", "parcels", epinay.to_str().unwrap()]);
    let text = std::fs::read_to_string(&epinay).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(1);
    let v3 = dir.join("epinay-v3.json");
    std::fs::write(&v3, lines.join("\n")).unwrap();
    let v = json(store, &["import", "parcels", v3.to_str().unwrap()]);
    assert_eq!(v["removed"].as_i64(), Some(1));
    json(store, &["rollback", "parcels", "2", "--scope", "commune=91216"]);
    json(store, &["import", "owners", shared_data("dgfip_pm/PM_25_NB_750_part_003.csv").to_str().unwrap()]);
    let sub = dir.join("subsectors.geojson");
    let (x, y) = (651_000.0, 6_865_300.0);
    l93_collection(
        &sub,
        vec![
            (serde_json::json!({"id": "P1"}), rect(x, y, x + 500.0, y + 500.0)),
            (serde_json::json!({"id": "E1"}), rect(649_500.0, 6_841_000.0, 650_100.0, 6_841_600.0)),
        ],
    );
    json(store, &["import", "subsectors", sub.to_str().unwrap()]);
    let rules = crate::support::root().join("data/rules.toml");
    ok(store, &["assign", "--rules", rules.to_str().unwrap()]);
}

#[test]
fn paris_and_epinay_move_to_postgis_and_back_with_the_same_figures_and_history() {
    let Some(db) = ScratchDatabase::from_env("e2e_move") else { return };
    let dir = tempfile::tempdir().unwrap();
    let gpkg = dir.path().join("territory.gpkg");
    build(&gpkg, dir.path());
    let expected = figures(&gpkg);
    assert!(expected[0].lines().count() > 13_000, "the dump holds both communes");

    let pg = Path::new(db.url());
    let report = json(&gpkg, &["store", "copy", gpkg.to_str().unwrap(), db.url()]);
    assert_eq!(report["layers"]["parcels"][0].as_u64(), Some(6821 + 4241), "{report}");
    assert_eq!(figures(pg), expected, "PostGIS answers differently from the GeoPackage it was copied from");

    let back = dir.path().join("back.gpkg");
    json(&gpkg, &["store", "copy", db.url(), back.to_str().unwrap()]);
    assert_eq!(figures(&back), expected, "the GeoPackage copied back from PostGIS differs");

    // A copy never overwrites a store.
    let out = crate::support::domania(&gpkg, &["store", "copy", back.to_str().unwrap(), db.url()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already holds versions"));
}

#[test]
fn a_territory_built_on_postgis_answers_as_one_built_on_a_geopackage() {
    let Some(db) = ScratchDatabase::from_env("e2e_same") else { return };
    let dir = tempfile::tempdir().unwrap();
    let gpkg = dir.path().join("territory.gpkg");
    build(&gpkg, dir.path());
    build(Path::new(db.url()), dir.path());
    let (a, b) = (figures(&gpkg), figures(Path::new(db.url())));
    // Dates of versions differ (built at different times); everything else must not.
    let strip = |v: &[String]| -> Vec<String> {
        v.iter().map(|s| s.lines().filter(|l| !l.contains("created_at")).collect::<Vec<_>>().join("\n")).collect()
    };
    assert_eq!(strip(&b), strip(&a));
}

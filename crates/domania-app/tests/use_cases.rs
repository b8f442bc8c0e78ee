//! The application's use cases on real data, through the API the CLI and the server share:
//! typed results, stable error codes, nothing written when a use case is refused.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use domania_app::files::{PerimetersFile, ScenarioFile};
use domania_app::import::{ImportRequest, Progress};
use domania_app::{App, ErrorCode, ErrorKind, Layer};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file of the shared real data (DOMANIA_DATA, default ../shared/data beside the checkout).
fn shared(file: &str) -> PathBuf {
    let dir = std::env::var_os("DOMANIA_DATA").map_or_else(|| root().join("../shared/data"), PathBuf::from);
    let path = dir.join(file);
    assert!(path.exists(), "real data file {} is missing (set DOMANIA_DATA)", path.display());
    path
}

fn import(app: &App, layer: Layer, file: &Path) -> domania_app::import::ImportOutcome {
    app.import(&ImportRequest::new(layer, file, "test"), &|_| {}).unwrap()
}

#[test]
fn errors_have_stable_codes_and_say_who_is_to_blame() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::new(dir.path().join("s.gpkg"), None).unwrap();
    let e = app.layers().unwrap_err();
    assert_eq!((e.code(), e.kind()), (ErrorCode::StoreMissing, ErrorKind::User));
    // A self-intersecting parcel refused: the error carries the report, and no store is left.
    let bad = root().join("tests/bad-inputs/self-intersecting.json");
    let mut req = ImportRequest::new(Layer::Parcels, &bad, "test");
    req.source.read.invalid = domania_io::geometry::InvalidPolicy::Reject;
    let e = app.import(&req, &|_| {}).unwrap_err();
    assert_eq!(e.code(), ErrorCode::FeaturesRejected);
    let report = e.report().expect("the refused file's report");
    assert_eq!(report.rejected, 1);
    assert!(report.issues.iter().any(|i| i.code == "invalid_geometry" && i.message.contains("self-intersection")));
    assert!(!dir.path().join("s.gpkg").exists());
    // A PPM file given as parcels is the wrong kind.
    let e = app.import(
        &ImportRequest::new(Layer::Parcels, root().join("tests/bad-inputs/owners-as-parcels.csv"), "t"),
        &|_| {},
    );
    assert_eq!(e.unwrap_err().code(), ErrorCode::WrongKind);
    // The computed layer is not imported.
    let e = app.validate(&domania_app::import::Source::new(Layer::Spaces, &bad)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
    // A bad territory file is a configuration error, named.
    let t = dir.path().join("territory.toml");
    std::fs::write(&t, "[owners]\nnope = 1\n").unwrap();
    let e = App::new(dir.path().join("s.gpkg"), Some(&t)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidConfig);
    assert!(e.message().contains("territory.toml"), "{}", e.message());
}

#[test]
fn paris_18e_through_the_application_layer() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::new(dir.path().join("p.gpkg"), None).unwrap();
    let seen = Mutex::new(Vec::new());
    let outcome = app
        .import(&ImportRequest::new(Layer::Parcels, shared("cadastre-75118-parcelles.json"), "test"), &|p| {
            seen.lock().unwrap().push(p);
        })
        .unwrap();
    assert_eq!(outcome.version.version, 1);
    assert_eq!(outcome.report.accepted as i64, outcome.version.features);
    let seen = seen.into_inner().unwrap();
    assert!(matches!(seen.last(), Some(Progress::Committing { rows }) if *rows as i64 == outcome.version.features));
    // Nothing is known of the owners yet: a parcel says so, and the shares need zones.
    let idu = domania_core::Idu::normalise("75118000AA0001").unwrap();
    let p = app.parcel(&idu).unwrap();
    assert!(!p.owner_file && p.owners.is_empty());
    assert_eq!(p.actor, domania_core::Actor::OwnerUnknown);
    assert_eq!(
        app.parcel(&domania_core::Idu::normalise("75118000ZZ9999").unwrap()).unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert_eq!(app.shares(Layer::Subsectors, None).unwrap_err().code(), ErrorCode::LayerMissing);
    assert_eq!(app.shares(Layer::Parcels, None).unwrap_err().code(), ErrorCode::InvalidArgument);
    // The owner file of the 18e: the owners report is typed and its CSV comes from the same rows.
    import(&app, Layer::Owners, &shared("dgfip_pm/PM_25_NB_750_part_003.csv"));
    let owners = app.owners().unwrap();
    assert!(owners.len() > 100, "{}", owners.len());
    let csv = domania_app::table::rows_csv(&owners, b';').unwrap();
    assert_eq!(
        domania_app::table::field_names(&owners[0]),
        <domania_app::owners::OwnerLine as domania_app::table::Row>::HEADER
    );
    assert!(csv.starts_with("siren;name;groupe;forme;actor;decided_by;confidence;why;parcels\n"), "{}", &csv[..200]);
    assert_eq!(csv.lines().count(), owners.len() + 1);
    // A perimeter made of a polygon: its figures add up (no sub-sectors: all outside them).
    let perims: PerimetersFile = toml::from_str(
        "[[perimeter]]\nid = \"P1\"\npolygon = [[651000.0, 6864000.0], [651400.0, 6864000.0], [651400.0, 6864400.0], [651000.0, 6864400.0]]\n",
    )
    .unwrap();
    let rules = domania_app::files::rules(None).unwrap();
    let figures = app.perimeters(&perims, &rules, jiff::civil::date(2025, 6, 1)).unwrap();
    let f = &figures.perimeters[0].figures;
    assert!((f.area_m2 - 160_000.0).abs() < 1.0, "{}", f.area_m2);
    assert!((f.outside_subsectors_m2 - f.area_m2).abs() < 1e-6);
    // A scenario on a parcel that is not there is the user's mistake, with its code.
    let sc: ScenarioFile = toml::from_str(
        "[[transfer]]\nidu = \"75118000ZZ9999\"\nto = { siren = \"1\", name = \"X\", actor = \"commune\" }\n",
    )
    .unwrap();
    let e = app.scenario(&sc, &rules, jiff::civil::date(2025, 6, 1), domania_app::i18n::Lang::En).unwrap_err();
    assert_eq!((e.code(), e.kind()), (ErrorCode::InvalidScenario, ErrorKind::User));
    // Scenarios are bounded before any work: a polygon of too many points, or too large.
    let to = "to = { siren = \"1\", name = \"X\", actor = \"commune\" }";
    let ring = |n: usize, r: f64| {
        let points: Vec<String> = (0..n)
            .map(|k| {
                let a = std::f64::consts::TAU * k as f64 / n as f64;
                format!("[{}, {}]", 652_000.0 + r * a.cos(), 6_865_500.0 + r * a.sin())
            })
            .collect();
        format!("[[transfer]]\npolygon = [{}]\n{to}\n", points.join(", "))
    };
    for (n, r, says) in [(2001, 50.0, "a polygon of 2001 points; at most 2000"), (8, 1000.0, "at most 2000000 m²")] {
        let sc: ScenarioFile = toml::from_str(&ring(n, r)).unwrap();
        let e = app.scenario(&sc, &rules, jiff::civil::date(2025, 6, 1), domania_app::i18n::Lang::En).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidScenario);
        assert!(e.message().contains(says), "{}", e.message());
    }
    // Work whose budget is spent (its deadline passed, or its asker left) stops: a timeout.
    let held = app.hold(rules.clone(), jiff::civil::date(2025, 6, 1)).unwrap();
    let sc: ScenarioFile = toml::from_str(&ring(40, 60.0)).unwrap();
    assert!(held.scenario(&sc, &domania_app::budget::Budget::unlimited(), domania_app::i18n::Lang::En).is_ok());
    let spent = domania_app::budget::Budget::within(std::time::Duration::ZERO);
    assert_eq!(held.scenario(&sc, &spent, domania_app::i18n::Lang::En).unwrap_err().code(), ErrorCode::Timeout);
    let left = domania_app::budget::Budget::unlimited();
    drop(left.cancel_on_drop());
    let e = held.scenario(&sc, &left, domania_app::i18n::Lang::En).unwrap_err();
    assert!(e.message().contains("abandoned"), "{}", e.message());
}

/// Sub-sectors covering a part of Paris 18e: three squares of 300 m, in Lambert-93.
fn partial_subsectors(dir: &Path) -> PathBuf {
    let square = |id: &str, x: f64, y: f64| {
        format!(
            r#"{{"type":"Feature","properties":{{"id":"{id}"}},"geometry":{{"type":"Polygon","coordinates":[[[{x},{y}],[{x2},{y}],[{x2},{y2}],[{x},{y2}],[{x},{y}]]]}}}}"#,
            x2 = x + 300.0,
            y2 = y + 300.0
        )
    };
    let text = format!(
        r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"urn:ogc:def:crs:EPSG::2154"}}}},"features":[{},{},{}]}}"#,
        square("S1", 651_234.0, 6_865_204.0),
        square("S2", 652_340.0, 6_865_973.0),
        square("S3", 653_078.0, 6_866_523.0)
    );
    let path = dir.join("subsectors.geojson");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_snapshot_for_the_zones_reads_less_and_computes_the_same_shares() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::new(dir.path().join("p.gpkg"), None).unwrap();
    import(&app, Layer::Parcels, &shared("cadastre-75118-parcelles.json"));
    import(&app, Layer::Owners, &shared("dgfip_pm/PM_25_NB_750_part_003.csv"));
    import(&app, Layer::Subsectors, &partial_subsectors(dir.path()));
    let full = app.snapshot().unwrap();
    let limited = app.snapshot_for(Layer::Subsectors).unwrap();
    assert_eq!(limited.parcels_limited_to(), Some(Layer::Subsectors));
    assert!(
        limited.parcels().len() * 5 < full.parcels().len(),
        "{} of {} parcels read",
        limited.parcels().len(),
        full.parcels().len()
    );
    let opts = domania_core::overlay::OverlayOptions::default();
    let (a, b) = (full.shares(Layer::Subsectors, false, opts), limited.shares(Layer::Subsectors, false, opts));
    assert_eq!(a.zones.len(), 3);
    assert!(a.zones.iter().all(|z| z.shares.cadastre_m2 > 10_000.0), "the squares hold parcels");
    assert_eq!(a, b);
    // And through the application: the same rows.
    let rows = domania_app::shares::share_rows(&app.shares(Layer::Subsectors, None).unwrap().report.zones);
    let csv = |r: &[domania_app::shares::ShareRow]| domania_app::table::rows_csv(r, b',').unwrap();
    assert_eq!(
        domania_app::table::field_names(&rows[0])[1..],
        <domania_app::shares::ShareRow as domania_app::table::Row>::HEADER[1..]
    );
    assert_eq!(csv(&rows), csv(&domania_app::shares::share_rows(&a.zones)));
}

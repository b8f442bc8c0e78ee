//! A server of one part of the territory (`serve --part departement=78`) is not rebuilt by a
//! version that changes nothing it holds, and what it keeps serving is what a rebuild gives:
//! random commune-by-commune imports on both sides of the border, each judged, then compared
//! with a snapshot built afresh.

use domania_testkit::{Rng, commune_scope, meta};
use std::collections::BTreeMap;

use domania_app::held::Currency;
use domania_app::kept::Kept;
use domania_app::{App, Date, Layer};
use domania_core::model::{Idu, Owner, Parcel, Right, Siren};
use domania_store::{ImportOptions, Location, Scope, Store, Wait, owner_rows, parcel_row, perimeter_row};
use geo_types::{MultiPolygon, polygon};

const DAY: Date = jiff::civil::date(2026, 12, 7);

fn square(x: f64, y: f64, side: f64) -> MultiPolygon<f64> {
    MultiPolygon::new(vec![polygon![
        (x: x, y: y), (x: x + side, y: y), (x: x + side, y: y + side), (x: x, y: y + side), (x: x, y: y)
    ]])
}

/// The parcels of the territory: IDU → the corner of its 10 m square (Lambert-93, around
/// 650 000, 6 860 000).
type Land = BTreeMap<String, (f64, f64)>;

const X: f64 = 650_000.0;
const Y: f64 = 6_860_000.0;

fn idu(commune: &str, n: u32) -> String {
    format!("{commune}000AB{n:04}")
}

fn parcel(key: &str, (x, y): (f64, f64)) -> Parcel {
    Parcel {
        idu: Idu::parse(key).unwrap(),
        commune: key[0..5].to_owned(),
        prefixe: "000".into(),
        section: "AB".into(),
        numero: key[10..14].to_owned(),
        contenance: Some(100),
        created: None,
        updated: None,
        geom_l93: square(x, y, 10.0),
    }
}

/// Imports the parcels of `commune` as they are in `land`, as one version.
fn import_commune(store: &mut Store, land: &Land, commune: &str) {
    let rows = land.iter().filter(|(k, _)| k.starts_with(commune)).map(|(k, &at)| parcel_row(&parcel(k, at))).collect();
    store.import(Layer::Parcels, rows, &meta(commune), &commune_scope(commune)).unwrap();
}

/// Imports the owners of `commune`'s parcels in `land`, all held by `name`.
fn import_owners(store: &mut Store, land: &Land, commune: &str, name: &str) {
    let owner = Owner {
        siren: Siren::new("123456789"),
        name: name.into(),
        groupe: Some(4),
        forme: None,
        forme_abregee: Some("OPH".into()),
    };
    let idus: Vec<Idu> = land.keys().filter(|k| k.starts_with(commune)).map(|k| Idu::parse(k).unwrap()).collect();
    let rows = owner_rows(idus.iter().map(|i| (i, Right::Proprietaire, &owner, None)));
    store.import(Layer::Owners, rows, &meta(commune), &commune_scope(commune)).unwrap();
}

const COMMUNES: [&str; 5] = ["78440", "78500", "95001", "95002", "91001"];

/// Part 78's communes, 95001 across the border (its parcel at 42 m meets the sub-sector S1 of
/// 78440), 95002 and 91001 away from it.
fn territory() -> Land {
    let mut land = Land::new();
    for (i, x) in [0.0, 10.0, 20.0, 30.0].into_iter().enumerate() {
        land.insert(idu("78440", i as u32 + 1), (X + x, Y));
    }
    land.insert(idu("78500", 1), (X + 3_000.0, Y));
    for (i, x) in [42.0, 200.0, 210.0].into_iter().enumerate() {
        land.insert(idu("95001", i as u32 + 1), (X + x, Y));
    }
    land.insert(idu("95002", 1), (X + 6_000.0, Y));
    land.insert(idu("95002", 2), (X + 6_010.0, Y));
    land.insert(idu("91001", 1), (X + 20_000.0, Y));
    land
}

#[test]
fn a_part_is_rebuilt_only_by_versions_that_reach_it_and_what_it_keeps_is_what_a_rebuild_gives() {
    let dir = tempfile::tempdir().unwrap();
    part_follows(Location::File(dir.path().join("t.gpkg")), dir.path());
}

#[test]
#[cfg_attr(domania_without_pg, ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)")]
fn a_part_of_a_database_is_rebuilt_only_by_versions_that_reach_it() {
    let db = domania_testkit::ScratchDatabase::new("reach");
    let dir = tempfile::tempdir().unwrap();
    part_follows(Location::from(db.url()), dir.path());
}

/// The territory written to `location`, a server of part 78 (its snapshot files in `files`),
/// then forty random imports, each judged and compared with a rebuild.
fn part_follows(location: Location, files: &std::path::Path) {
    let mut land = territory();
    {
        let mut store = Store::create_at(&location, false, &Wait::default()).unwrap();
        for c in COMMUNES {
            import_commune(&mut store, &land, c);
            import_owners(&mut store, &land, c, "OPH A");
        }
        let zone = |key: &str, x0: f64, x1: f64| {
            let g = MultiPolygon::new(vec![polygon![
                (x: X + x0, y: Y - 5.0), (x: X + x1, y: Y - 5.0), (x: X + x1, y: Y + 15.0), (x: X + x0, y: Y + 15.0),
                (x: X + x0, y: Y - 5.0)
            ]]);
            perimeter_row(key, Some(key), "{}", &g)
        };
        let (s1, s2) = (zone("S1", 0.0, 50.0), zone("S2", 5_990.0, 6_100.0));
        store.import(Layer::Subsectors, vec![s1, s2], &meta("subsectors"), &ImportOptions::default()).unwrap();
        store.import(Layer::Qpv, vec![zone("Q1", 0.0, 50.0)], &meta("qpv"), &ImportOptions::default()).unwrap();
    }
    let part: Scope = "departement=78".parse().unwrap();
    let app = App::new(location, None).unwrap().with_served_scope(Some(part)).with_snapshot_dir(Some(files.into()));
    let rules = domania_app::files::rules(None).unwrap();
    let hold = || app.hold(rules.clone(), DAY).unwrap();
    let mut held = hold();
    let idus = |h: &domania_app::held::Held| h.snapshot.parcels().iter().map(|p| p.idu.clone()).collect::<Vec<_>>();
    assert!(idus(&held).contains(&idu("95001", 1)), "the parcel across the border is held");
    assert!(!idus(&held).contains(&idu("95001", 2)), "the others of its commune are not");
    // The file, written once, is read while nothing reaches the part.
    let (first, kept) = app.hold_kept(rules.clone(), DAY).unwrap();
    assert!(matches!(kept, Kept::Built { .. }), "{kept:?}");
    app.write_snapshot_file(&first).unwrap();
    assert_eq!(first.etag, held.etag);

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut skipped, mut rebuilt) = (0, 0);
    for step in 0..40 {
        let commune = COMMUNES[rng.below(COMMUNES.len())];
        let mut store = Store::open_write_at(app.store_path(), &Wait::default()).unwrap();
        // What the import does, and whether it must reach part 78 (by its scope, a commune
        // whose parcels the part holds, or a shape that meets a zone the part holds).
        let held_communes: Vec<String> = idus(&held).iter().map(|i| i[0..5].to_owned()).collect();
        let mut must = commune.starts_with("78") || held_communes.iter().any(|c| c == commune);
        let what = match rng.below(4) {
            0 => {
                import_owners(&mut store, &land, commune, &format!("OPH {step}"));
                "owners"
            }
            op => {
                let mine: Vec<String> = land.keys().filter(|k| k.starts_with(commune)).cloned().collect();
                let near = rng.below(3) == 0;
                // A shape drawn near the sub-sector S1 (0–50 m), or away from every zone.
                let x = if near { 30.0 + rng.below(40) as f64 } else { 400.0 + rng.below(2_000) as f64 };
                let meets = |x: f64| x <= 50.0 && x + 10.0 >= 0.0;
                match (op, mine.first()) {
                    (1, _) | (_, None) => {
                        let n = (1..10_000).find(|n| !land.contains_key(&idu(commune, *n))).unwrap();
                        land.insert(idu(commune, n), (X + x, Y));
                        must |= meets(x);
                    }
                    (2, Some(k)) => {
                        let k = k.clone();
                        let was = land.insert(k, (X + x, Y)).unwrap();
                        must |= meets(x) || meets(was.0 - X);
                    }
                    (_, Some(k)) => {
                        let was = land.remove(k).unwrap();
                        must |= meets(was.0 - X);
                    }
                }
                import_commune(&mut store, &land, commune);
                "parcels"
            }
        };
        drop(store);
        let stored = app.versions().unwrap();
        let current = app.currency(&held, &stored).unwrap() != Currency::Stale;
        let fresh = hold();
        assert_eq!(!current, must, "step {step}: {what} of {commune}: judged current {current}");
        if current {
            skipped += 1;
            // What the server keeps serving is what a rebuild gives, to the tag.
            assert_eq!(fresh.etag, held.etag, "step {step}");
            assert_eq!(fresh.snapshot.parcels(), held.snapshot.parcels(), "step {step}");
            assert_eq!(fresh.snapshot.holdings(), held.snapshot.holdings(), "step {step}");
            for layer in [Layer::Subsectors, Layer::Qpv, Layer::Conventions] {
                assert_eq!(fresh.snapshot.zones(layer), held.snapshot.zones(layer), "step {step}");
            }
            assert_eq!(fresh.shares, held.shares, "step {step}");
            assert_eq!(fresh.versions(), held.versions(), "step {step}");
            // A start reads the file written before the version.
            let (read, kept) = app.hold_kept(rules.clone(), DAY).unwrap();
            assert!(matches!(kept, Kept::Read { .. }), "step {step}: {kept:?}");
            assert_eq!(read.etag, held.etag);
        } else {
            rebuilt += 1;
            assert_ne!(fresh.versions(), held.versions(), "step {step}");
            let (next, kept) = app.hold_kept(rules.clone(), DAY).unwrap();
            assert!(matches!(kept, Kept::Built { .. }), "step {step}: {kept:?}");
            app.write_snapshot_file(&next).unwrap();
            assert_eq!(next.etag, fresh.etag);
            held = fresh;
        }
    }
    eprintln!("{skipped} skipped, {rebuilt} rebuilt");
    assert!(skipped >= 10 && rebuilt >= 10, "both kinds of version were tried: {skipped} skipped, {rebuilt} rebuilt");
}

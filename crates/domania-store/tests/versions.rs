//! Versioning: import, re-import with changes, history, diff, rollback, on a real file.

use domania_core::{Idu, Owner, Parcel, Right, Siren};
use domania_store::{ImportMeta, Layer, Store, owner_rows, parcel_row};
use geo::Area;
use geo_types::{MultiPolygon, polygon};

fn parcel(n: u32, size: f64) -> Parcel {
    let x = 650_000.0 + f64::from(n) * 100.0;
    let y = 6_860_000.0;
    Parcel {
        idu: Idu::from_parts("78440", "", "AB", &n.to_string()).unwrap(),
        commune: "78440".into(),
        prefixe: "000".into(),
        section: "AB".into(),
        numero: n.to_string(),
        contenance: Some((size * size) as i64),
        created: None,
        updated: None,
        geom_l93: MultiPolygon::new(vec![polygon![
            (x: x, y: y), (x: x + size, y: y), (x: x + size, y: y + size), (x: x, y: y + size), (x: x, y: y)
        ]]),
    }
}

fn meta(src: &str) -> ImportMeta {
    ImportMeta { author: "test".into(), source: src.into(), ..ImportMeta::default() }
}

#[test]
fn versions_diff_and_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.gpkg")).unwrap();
    let v1: Vec<_> = (1..=10).map(|n| parcel_row(&parcel(n, 20.0))).collect();
    let info = store.import(Layer::Parcels, v1, &meta("a.json")).unwrap();
    assert_eq!((info.version, info.added, info.removed, info.changed), (1, 10, 0, 0));

    // v2: parcel 1 removed, parcel 2 reshaped, parcel 3 attribute change, parcel 11 added.
    let mut v2: Vec<_> = (2..=10).map(|n| parcel(n, 20.0)).collect();
    v2[0] = parcel(2, 25.0);
    v2[0].contenance = Some(400);
    v2[1].contenance = Some(1);
    v2.push(parcel(11, 20.0));
    let info = store.import(Layer::Parcels, v2.iter().map(parcel_row).collect(), &meta("b.json")).unwrap();
    assert_eq!((info.version, info.added, info.removed, info.changed, info.reshaped), (2, 1, 1, 2, 1));

    let d = store.diff(Layer::Parcels, 1, 2).unwrap();
    assert_eq!(d.added, vec![parcel(11, 1.0).idu.to_string()]);
    assert_eq!(d.removed, vec![parcel(1, 1.0).idu.to_string()]);
    assert_eq!(d.reshaped, vec![parcel(2, 1.0).idu.to_string()]);
    assert_eq!(d.attributes_changed, vec![parcel(3, 1.0).idu.to_string()]);

    // Current state is v2.
    let p2 = store.parcel(parcel(2, 1.0).idu.as_str()).unwrap().unwrap();
    assert!((p2.geom_l93.unsigned_area() - 625.0).abs() < 1e-9);
    assert!(store.parcel(parcel(1, 1.0).idu.as_str()).unwrap().is_none());

    // Rollback to v1 is version 3, equal in content to v1.
    let info = store.rollback(Layer::Parcels, 1, "test").unwrap();
    assert_eq!((info.version, info.kind.as_str()), (3, "rollback"));
    let d13 = store.diff(Layer::Parcels, 1, 3).unwrap();
    assert!(
        d13.added.is_empty() && d13.removed.is_empty() && d13.reshaped.is_empty() && d13.attributes_changed.is_empty()
    );
    let p2 = store.parcel(parcel(2, 1.0).idu.as_str()).unwrap().unwrap();
    assert!((p2.geom_l93.unsigned_area() - 400.0).abs() < 1e-9);
    // v2 is still reachable.
    assert_eq!(store.rows_at(Layer::Parcels, 2).unwrap().len(), 10);
    assert_eq!(store.history(Layer::Parcels).unwrap().len(), 3);
    assert!(store.diff(Layer::Parcels, 1, 4).is_err());
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn owner_rows_collapse_suf_duplicates_and_diff_by_parcel() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.gpkg")).unwrap();
    let idu = Idu::parse("75118000AA0002").unwrap();
    let other = Idu::parse("75118000AA0003").unwrap();
    let ph = Owner {
        siren: Siren::new("344810825"),
        name: "PARIS HABITAT-OPH".into(),
        groupe: Some(5),
        forme: Some("4140".into()),
        forme_abregee: Some("EPIC".into()),
    };
    let rows = owner_rows([
        (&idu, Right::Proprietaire, &ph),
        (&idu, Right::Proprietaire, &ph),
        (&other, Right::Other('S'), &ph),
    ]);
    assert_eq!(rows.len(), 2);
    store.import(Layer::Owners, rows, &meta("ppm1.csv")).unwrap();
    assert_eq!(store.rights_of(idu.as_str()).unwrap().len(), 1);
    let rows = owner_rows([(&idu, Right::Proprietaire, &ph)]);
    store.import(Layer::Owners, rows, &meta("ppm2.csv")).unwrap();
    let d = store.diff(Layer::Owners, 1, 2).unwrap();
    assert_eq!(d.parcels_with_owner_changes, vec![other.to_string()]);
    // The SUF row count of AA0002 went from 2 to 1: an attribute change, not an owner change.
    assert_eq!(d.attributes_changed.len(), 1);
}

#[test]
fn refuses_a_file_that_is_not_a_geopackage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.gpkg");
    std::fs::write(&path, b"this is not a database, just text that is long enough to look like a header").unwrap();
    let err = Store::open(&path).err().expect("a text file is not a store");
    assert!(err.to_string().contains("x.gpkg"), "{err}");
}

#[test]
fn rtree_matches_the_table_and_triggers_are_back_after_an_import() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.gpkg");
    let mut store = Store::open(&path).unwrap();
    store.import(Layer::Parcels, (1..=50).map(|n| parcel_row(&parcel(n, 20.0))).collect(), &meta("a")).unwrap();
    // v2: 10 removed, 5 reshaped.
    let v2: Vec<_> = (11..=50).map(|n| parcel_row(&parcel(n, if n <= 15 { 30.0 } else { 20.0 }))).collect();
    store.import(Layer::Parcels, v2, &meta("b")).unwrap();
    drop(store);
    // A plain SQLite client, as QGIS editing the layer would be (with the GPKG functions).
    let conn = rusqlite::Connection::open(&path).unwrap();
    domania_store::gpkg::register_functions(&conn).unwrap();
    let triggers: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'rtree_parcels_geom_%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(triggers, 6);
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM rtree_parcels_geom"), 40);
    assert_eq!(count("SELECT COUNT(*) FROM rtree_parcels_geom r JOIN parcels p ON p.fid = r.id"), 40);
    // A reshaped parcel's box is its new one (30 m square, R-tree boxes are float32).
    let idu = parcel(12, 1.0).idu.to_string();
    let width: f64 = conn
        .query_row(
            "SELECT r.maxx - r.minx FROM rtree_parcels_geom r JOIN parcels p ON p.fid = r.id WHERE p.key = ?1",
            [&idu],
            |r| r.get(0),
        )
        .unwrap();
    assert!((width - 30.0).abs() < 0.2, "{width}");
    conn.execute("DELETE FROM parcels WHERE key = ?1", [&idu]).unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM rtree_parcels_geom"), 39);
}

//! Versioning: import, re-import with changes, history, diff, rollback, on a real file.

use domania_core::{Idu, Owner, Parcel, Right, Siren};
use domania_store::{ImportOptions, Layer, Scope, ScopeKind, Store, StoreError, Wait, owner_rows, parcel_row};
use domania_testkit::meta;
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

/// A new store, open for imports.
fn create(path: &std::path::Path) -> Store {
    Store::create(path, false, &Wait::default()).unwrap()
}

/// The layer's default options: its default scope, the removal guard on.
fn opts(layer: Layer) -> ImportOptions {
    ImportOptions::for_layer(layer)
}

#[test]
fn versions_diff_and_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = create(&dir.path().join("s.gpkg"));
    let v1: Vec<_> = (1..=10).map(|n| parcel_row(&parcel(n, 20.0))).collect();
    let info = store.import(Layer::Parcels, v1, &meta("a.json"), &opts(Layer::Parcels)).unwrap();
    assert_eq!((info.version, info.added, info.removed, info.changed), (1, 10, 0, 0));

    // v2: parcel 1 removed, parcel 2 reshaped, parcel 3 attribute change, parcel 11 added.
    let mut v2: Vec<_> = (2..=10).map(|n| parcel(n, 20.0)).collect();
    v2[0] = parcel(2, 25.0);
    v2[0].contenance = Some(400);
    v2[1].contenance = Some(1);
    v2.push(parcel(11, 20.0));
    let info = store
        .import(Layer::Parcels, v2.iter().map(parcel_row).collect(), &meta("b.json"), &opts(Layer::Parcels))
        .unwrap();
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
    let info = store.rollback(Layer::Parcels, 1, None, "test").unwrap();
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

/// A bailleur of the PPM, as the file writes it.
fn paris_habitat() -> Owner {
    Owner {
        siren: Siren::new("344810825"),
        name: "PARIS HABITAT-OPH".into(),
        groupe: Some(5),
        forme: Some("4140".into()),
        forme_abregee: Some("EPIC".into()),
    }
}

#[test]
fn owner_rows_collapse_suf_duplicates_and_diff_by_parcel() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = create(&dir.path().join("s.gpkg"));
    let idu = Idu::parse("75118000AA0002").unwrap();
    let other = Idu::parse("75118000AA0003").unwrap();
    let ph = paris_habitat();
    let rows = owner_rows([
        (&idu, Right::Proprietaire, &ph, None),
        (&idu, Right::Proprietaire, &ph, Some("12 RUE ORDENER")),
        (&other, Right::Other('S'), &ph, None),
    ]);
    assert_eq!(rows.len(), 2);
    store.import(Layer::Owners, rows, &meta("ppm1.csv"), &opts(Layer::Owners)).unwrap();
    assert_eq!(store.rights_of(idu.as_str()).unwrap().len(), 1);
    // The one-commune look-up agrees with the list of covered communes.
    assert_eq!(store.owner_coverage().unwrap().into_iter().collect::<Vec<_>>(), ["75118"]);
    assert!(store.owner_file_covers("75118").unwrap());
    assert!(!store.owner_file_covers("75117").unwrap() && !store.owner_file_covers("91216").unwrap());
    let rows = owner_rows([(&idu, Right::Proprietaire, &ph, None)]);
    // One of the département's two rows goes: more than the guard allows without --force.
    let err = store.import(Layer::Owners, rows.clone(), &meta("ppm2.csv"), &opts(Layer::Owners)).unwrap_err();
    assert!(err.to_string().contains("commune 75118: 1 of its 2 rows (50.0 %)"), "{err}");
    let forced = ImportOptions { force: true, ..opts(Layer::Owners) };
    store.import(Layer::Owners, rows, &meta("ppm2.csv"), &forced).unwrap();
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
    assert!(err.to_string().contains("x.gpkg") && err.to_string().contains("not a SQLite database"), "{err}");
    assert!(matches!(Store::create(&path, true, &Wait::default()), Err(StoreError::NotSqlite { .. })));
}

#[test]
fn rtree_matches_the_table_and_triggers_are_back_after_an_import() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.gpkg");
    let mut store = create(&path);
    store
        .import(
            Layer::Parcels,
            (1..=50).map(|n| parcel_row(&parcel(n, 20.0))).collect(),
            &meta("a"),
            &opts(Layer::Parcels),
        )
        .unwrap();
    // v2: 10 removed, 5 reshaped.
    let v2: Vec<_> = (11..=50).map(|n| parcel_row(&parcel(n, if n <= 15 { 30.0 } else { 20.0 }))).collect();
    store.import(Layer::Parcels, v2, &meta("b"), &opts(Layer::Parcels)).unwrap();
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
    // The standard triggers keep the index for another program's delete too (the guard put
    // aside, as an administrator would).
    conn.execute_batch("DROP TRIGGER domania_parcels_guard_delete").unwrap();
    conn.execute("DELETE FROM parcels WHERE key = ?1", [&idu]).unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM rtree_parcels_geom"), 39);
}

/// Parcels of a commune other than 78440, for scope tests.
fn parcel_in(commune: &str, n: u32) -> domania_core::Parcel {
    let mut p = parcel(n, 20.0);
    p.idu = Idu::from_parts(commune, "", "AB", &n.to_string()).unwrap();
    p.commune = commune.into();
    p
}

#[test]
fn a_commune_import_replaces_that_commune_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = create(&dir.path().join("s.gpkg"));
    let epinay: Vec<_> = (1..=10).map(|n| parcel_row(&parcel_in("91216", n))).collect();
    let paris: Vec<_> = (1..=20).map(|n| parcel_row(&parcel_in("75118", n))).collect();
    store.import(Layer::Parcels, epinay.clone(), &meta("a"), &opts(Layer::Parcels)).unwrap();
    let v = store.import(Layer::Parcels, paris.clone(), &meta("b"), &opts(Layer::Parcels)).unwrap();
    assert_eq!((v.version, v.added, v.removed, v.scope.as_str()), (2, 20, 0, "commune=75118"));
    assert_eq!(store.layers().unwrap()[0].features, 30);

    // The same file again: no new version.
    let v = store.import(Layer::Parcels, paris.clone(), &meta("b"), &opts(Layer::Parcels)).unwrap();
    assert!(v.unchanged);
    assert_eq!(v.version, 2);
    assert_eq!(store.history(Layer::Parcels).unwrap().len(), 2);

    // 75118 loses one parcel (5 %): 91216 untouched.
    let v = store.import(Layer::Parcels, paris[1..].to_vec(), &meta("b2"), &opts(Layer::Parcels)).unwrap();
    assert_eq!((v.version, v.removed), (3, 1));
    let d = store.diff(Layer::Parcels, 2, 3).unwrap();
    assert_eq!(d.removed.len(), 1);
    assert!(d.removed[0].starts_with("75118"));
    assert_eq!(store.layers().unwrap()[0].features, 29);

    // 91216 would lose half its parcels: refused with the numbers, nothing written.
    let err = store.import(Layer::Parcels, epinay[5..].to_vec(), &meta("a-half"), &opts(Layer::Parcels)).unwrap_err();
    assert!(err.to_string().contains("commune 91216: 5 of its 10 rows (50.0 %)"), "{err}");
    assert_eq!(store.history(Layer::Parcels).unwrap().len(), 3);
    // An empty file is refused; with an explicit scope and --force it empties that commune.
    let err = store.import(Layer::Parcels, vec![], &meta("empty"), &opts(Layer::Parcels)).unwrap_err();
    assert!(matches!(err, StoreError::EmptyImport { .. }), "{err}");
    let explicit: Scope = "commune=91216".parse().unwrap();
    let o = ImportOptions { scope: explicit.clone(), force: true, ..ImportOptions::default() };
    let v = store.import(Layer::Parcels, vec![], &meta("empty"), &o).unwrap();
    assert_eq!((v.removed, store.layers().unwrap()[0].features), (10, 19));
    // A row outside an explicit scope is refused.
    let o = ImportOptions { scope: explicit, ..ImportOptions::default() };
    let err = store.import(Layer::Parcels, paris.clone(), &meta("b"), &o).unwrap_err();
    assert!(matches!(err, StoreError::OutOfScope { .. }), "{err}");

    // Each commune's provenance.
    let scopes = store.scopes(Layer::Parcels).unwrap();
    let by_code: Vec<(&str, i64, i64)> = scopes.iter().map(|s| (s.scope.as_str(), s.version, s.features)).collect();
    assert_eq!(by_code, [("75118", 3, 19), ("91216", 4, 0)]);

    // Rollback of one commune only.
    let v = store.rollback(Layer::Parcels, 1, Some("commune=91216".parse().unwrap()), "test").unwrap();
    assert_eq!((v.added, v.removed), (10, 0));
    assert_eq!(store.layers().unwrap()[0].features, 29);
    assert!(Scope::touched(ScopeKind::Section).check(Layer::Qpv).is_err());
}

#[test]
fn opening_refuses_what_is_not_a_store_and_reads_never_write() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo.gpkg");
    assert!(matches!(Store::open(&missing), Err(StoreError::Missing { .. })));
    assert!(matches!(Store::open_write(&missing, &Wait::default()), Err(StoreError::Missing { .. })));
    assert!(!missing.exists(), "a read must not create the store");
    let empty = dir.path().join("empty.gpkg");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(Store::open(&empty), Err(StoreError::EmptyFile { .. })));
    assert!(matches!(Store::create(&empty, false, &Wait::default()), Err(StoreError::EmptyFile { .. })));
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);

    // A foreign GeoPackage: never changed without `adopt`, and a name clash is an error.
    let foreign = dir.path().join("foreign.gpkg");
    {
        let conn = rusqlite::Connection::open(&foreign).unwrap();
        conn.execute_batch("PRAGMA application_id = 1196444487; CREATE TABLE roads (id INTEGER PRIMARY KEY);").unwrap();
    }
    let before = std::fs::read(&foreign).unwrap();
    let err = Store::open(&foreign).err().unwrap();
    assert!(err.to_string().contains("not a Domania store (its tables: roads)"), "{err}");
    assert!(matches!(Store::create(&foreign, false, &Wait::default()), Err(StoreError::Foreign { .. })));
    assert_eq!(std::fs::read(&foreign).unwrap(), before);
    let clash = dir.path().join("clash.gpkg");
    {
        let conn = rusqlite::Connection::open(&clash).unwrap();
        conn.execute_batch("PRAGMA application_id = 1196444487; CREATE TABLE parcels (id INTEGER PRIMARY KEY);")
            .unwrap();
    }
    let err = Store::create(&clash, true, &Wait::default()).err().unwrap();
    assert!(err.to_string().contains("already has a table \"parcels\""), "{err}");
    let adopted = Store::create(&foreign, true, &Wait::default()).unwrap();
    assert_eq!(adopted.layers().unwrap().len(), domania_store::Layer::ALL.len());
    drop(adopted);
    Store::open(&foreign).unwrap();

    // A read-only open cannot import.
    let path = dir.path().join("s.gpkg");
    drop(create(&path));
    let mut ro = Store::open(&path).unwrap();
    let err = ro.begin_import(Layer::Parcels, opts(Layer::Parcels)).err().unwrap();
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err}");
}

#[test]
fn a_second_writer_waits_then_gives_up_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.gpkg");
    let holder = create(&path);
    let told = std::cell::RefCell::new(String::new());
    let on_wait = |m: &str| told.borrow_mut().push_str(m);
    let wait = Wait { timeout: std::time::Duration::from_millis(300), on_wait: &on_wait };
    let err = Store::open_write(&path, &wait).err().unwrap();
    let text = err.to_string();
    assert!(text.contains("the store is busy: being written by pid"), "{text}");
    assert!(told.borrow().contains("waiting up to"), "{}", told.borrow());
    // Readers are not held back by the writer lock.
    Store::open(&path).unwrap();
    drop(holder);
    Store::open_write(&path, &wait).unwrap();
}

/// Regression (review): a failed first import removed the store by path, even one another
/// process had created meanwhile. Only the opening that created a file, and wrote no version
/// into it, removes it — under the writer lock.
#[test]
fn only_a_new_empty_store_is_discarded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.gpkg");
    Store::create(&path, false, &Wait::default()).unwrap().discard_if_new();
    assert!(!path.exists());
    let mut store = Store::create(&path, false, &Wait::default()).unwrap();
    store.import(Layer::Parcels, vec![parcel_row(&parcel(1, 10.0))], &meta("a"), &opts(Layer::Parcels)).unwrap();
    store.discard_if_new();
    assert!(path.exists(), "a store holding a version must stay");
    // Opened again, it was not created by this opening.
    Store::create(&path, false, &Wait::default()).unwrap().discard_if_new();
    assert!(path.exists());
}

/// A store made before the buildings and sections layers existed has no tables for them: a
/// read-only opening reads it with those layers empty, and the first writer adds them.
#[test]
fn a_store_older_than_a_layer_reads_it_as_empty_and_gets_it_when_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.gpkg");
    drop(create(&path));
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP TABLE buildings; DROP TABLE buildings_history; DROP TABLE sections; DROP TABLE sections_history;",
        )
        .unwrap();
    }
    let old = Store::open(&path).unwrap();
    let layers = old.layers().unwrap();
    let buildings = layers.iter().find(|l| l.layer == Layer::Buildings).unwrap();
    assert_eq!((buildings.version, buildings.features), (None, 0));
    assert!(old.perimeters(Layer::Sections).unwrap().is_empty());
    assert!(old.dump().is_ok());
    drop(old);
    drop(create(&path));
    let conn = rusqlite::Connection::open(&path).unwrap();
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('buildings', 'sections')", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2, "a writer adds the new layers' tables");
}

/// A store made before the owners' street address column: a read-only opening reads it empty
/// (rights, dump, verify: its hashes stay true), the first writer adds it, and an owner file
/// with addresses then changes the rows it gives one to.
#[test]
fn a_store_older_than_a_column_reads_it_as_empty_and_gets_it_when_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.gpkg");
    let idu = Idu::parse("75118000AB0001").unwrap();
    let ph = paris_habitat();
    let mut store = create(&path);
    let rows = owner_rows([(&idu, Right::Proprietaire, &ph, None)]);
    store.import(Layer::Owners, rows, &meta("old.csv"), &opts(Layer::Owners)).unwrap();
    drop(store);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("ALTER TABLE owners DROP COLUMN adresse; ALTER TABLE owners_history DROP COLUMN adresse;")
            .unwrap();
    }
    let old = Store::open(&path).unwrap();
    assert_eq!(old.rights_of(idu.as_str()).unwrap().len(), 1);
    assert!(old.read_all().unwrap().street_addresses.is_empty());
    assert!(old.dump().is_ok());
    assert!(old.verify().unwrap().altered.is_empty(), "an empty later column hashes as before");
    drop(old);
    let mut store = create(&path);
    assert!(store.verify().unwrap().altered.is_empty());
    let rows = owner_rows([(&idu, Right::Proprietaire, &ph, Some("12 RUE ORDENER"))]);
    let v = store.import(Layer::Owners, rows, &meta("new.csv"), &opts(Layer::Owners)).unwrap();
    assert_eq!(v.changed, 1, "{v:?}");
    assert_eq!(store.read_all().unwrap().street_addresses, [(idu.to_string(), "12 RUE ORDENER".to_owned())]);
    assert!(store.verify().unwrap().altered.is_empty());
}

/// An edit made on the rows of one version is written only if the layer is still at that
/// version when its writer holds the lock: never over a version it did not see.
#[test]
fn an_import_made_on_a_version_is_refused_once_another_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = create(&dir.path().join("s.gpkg"));
    let rows = |n: u32| (1..=n).map(|k| parcel_row(&parcel(k, 20.0))).collect::<Vec<_>>();
    let on = |v: i64| ImportOptions { expect_latest: Some(v), ..opts(Layer::Parcels) };
    assert_eq!(store.import(Layer::Parcels, rows(5), &meta("a"), &on(0)).unwrap().version, 1);
    // Two editors loaded version 1; the first writes version 2.
    assert_eq!(store.import(Layer::Parcels, rows(6), &meta("first"), &on(1)).unwrap().version, 2);
    let e = store.import(Layer::Parcels, rows(7), &meta("second"), &on(1)).unwrap_err();
    assert!(matches!(e, domania_store::StoreError::Moved { expected: 1, found: 2, .. }), "{e}");
    assert_eq!(store.history(Layer::Parcels).unwrap().len(), 2, "nothing written");
    assert_eq!(store.parcel_idus().unwrap().len(), 6);
}

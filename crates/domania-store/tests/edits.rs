//! Edits saved into a GeoPackage store by another program (QGIS through GDAL; here a SQLite
//! connection with the functions GDAL registers): journaled by the store's triggers, refused by
//! them when they break a rule, and made a version that keeps what they replaced.

use domania_store::blob::{decode_multipolygon, encode_multipolygon};
use domania_store::{ImportMeta, ImportOptions, Layer, Store, StoreError, StoredPerimeter, Wait, gpkg, perimeter_row};
use geo::Validation;
use geo_types::{MultiPolygon, polygon};
use rusqlite::functions::FunctionFlags;

fn square(x: f64, y: f64, side: f64) -> MultiPolygon<f64> {
    polygon![(x: x, y: y), (x: x + side, y: y), (x: x + side, y: y + side), (x: x, y: y + side), (x: x, y: y)].into()
}

fn meta(author: &str) -> ImportMeta {
    ImportMeta { author: author.into(), source: "edits".into(), ..ImportMeta::default() }
}

/// A connection as GDAL opens the file: the GeoPackage functions the triggers call, validity
/// by `geo` where GDAL asks GEOS.
fn editor(path: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    gpkg::register_functions(&conn).unwrap();
    conn.create_scalar_function("ST_IsValid", 1, FunctionFlags::SQLITE_UTF8, |ctx| {
        let blob = ctx.get_raw(0).as_blob()?;
        Ok(decode_multipolygon(blob).is_ok_and(|mp| mp.is_valid()))
    })
    .unwrap();
    conn
}

/// The layer as it is now, as rows to import.
fn rows_now(store: &Store) -> Vec<domania_store::Row> {
    let current: Vec<StoredPerimeter> = store.perimeters(Layer::Subsectors).unwrap();
    current.iter().map(|p| perimeter_row(&p.key, p.name.as_deref(), &p.properties_json, &p.geom_l93)).collect()
}

fn absorb(store: &mut Store, upto: i64) -> domania_store::Result<domania_store::VersionInfo> {
    let rows = rows_now(store);
    let opts = ImportOptions { absorb: Some(upto), ..ImportOptions::for_layer(Layer::Subsectors) };
    store.import(Layer::Subsectors, rows, &meta("QGIS"), &opts)
}

#[test]
fn saves_of_another_program_are_journaled_checked_and_made_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.gpkg");
    let mut store = Store::create(&path, false, &Wait::default()).unwrap();
    let first: Vec<_> = (0..10)
        .map(|i| perimeter_row(&format!("S{i:02}"), Some("îlot"), "{}", &square(f64::from(i) * 100.0, 0.0, 50.0)))
        .collect();
    store.import(Layer::Subsectors, first, &meta("test"), &ImportOptions::for_layer(Layer::Subsectors)).unwrap();
    assert_eq!(store.last_edit(Layer::Subsectors).unwrap(), None);

    // An editor moves one, renames another twice, deletes one and draws a new one (its own
    // columns left to their defaults).
    let qgis = editor(&path);
    let moved = encode_multipolygon(&square(0.0, 0.0, 60.0));
    qgis.execute("UPDATE subsectors SET geom = ?1 WHERE key = 'S00'", [&moved]).unwrap();
    qgis.execute("UPDATE subsectors SET name = 'a' WHERE key = 'S01'", []).unwrap();
    qgis.execute("UPDATE subsectors SET name = 'b' WHERE key = 'S01'", []).unwrap();
    qgis.execute("DELETE FROM subsectors WHERE key = 'S02'", []).unwrap();
    let drawn = encode_multipolygon(&square(2000.0, 0.0, 40.0));
    qgis.execute("INSERT INTO subsectors (geom, key, name) VALUES (?1, 'S10', 'neuf')", [&drawn]).unwrap();

    // What breaks a rule is refused at save, with words for the editor, and nothing kept.
    let refused = |sql: &str, blob: &[u8]| qgis.execute(sql, [blob]).unwrap_err().to_string();
    let bow_tie = encode_multipolygon(
        &polygon![(x: 0.0, y: 0.0), (x: 10.0, y: 10.0), (x: 10.0, y: 0.0), (x: 0.0, y: 10.0), (x: 0.0, y: 0.0)].into(),
    );
    let e = refused("UPDATE subsectors SET geom = ?1 WHERE key = 'S03'", &bow_tie);
    assert!(e.contains("Domania refuse cet enregistrement : la géométrie n'est pas valide"), "{e}");
    let e = refused("INSERT INTO subsectors (geom, key) VALUES (?1, ' ')", &drawn);
    assert!(e.contains("sans clé (champ key)"), "{e}");
    let e = refused("INSERT INTO subsectors (geom, key) VALUES (?1, 'S04')", &drawn);
    assert!(e.contains("déjà prise"), "{e}");
    let e = refused("UPDATE subsectors SET key = 'S05' WHERE key = 'S06' AND ?1 IS NOT NULL", &drawn);
    assert!(e.contains("déjà prise"), "{e}");
    // The guard: 2 of 10 removed is a fifth; the third is refused.
    qgis.execute("DELETE FROM subsectors WHERE key = 'S07'", []).unwrap();
    let e = refused("DELETE FROM subsectors WHERE key = 'S08' AND ?1 IS NOT NULL", &drawn);
    assert!(e.contains("supprimer autant"), "{e}");
    assert!(store.perimeters(Layer::Subsectors).unwrap().iter().any(|p| p.key == "S08"));

    // Saved while the rows were read: refused, nothing changed, read again.
    let upto = store.last_edit(Layer::Subsectors).unwrap().expect("journaled");
    let rows = rows_now(&store);
    qgis.execute("UPDATE subsectors SET name = 'c' WHERE key = 'S09'", []).unwrap();
    let opts = ImportOptions { absorb: Some(upto), ..ImportOptions::for_layer(Layer::Subsectors) };
    let late = store.import(Layer::Subsectors, rows, &meta("QGIS"), &opts);
    assert!(matches!(late, Err(StoreError::EditedMeanwhile { .. })), "{late:?}");

    // Made a version: what the saves replaced in its history, exactly.
    let upto = store.last_edit(Layer::Subsectors).unwrap().unwrap();
    let v = absorb(&mut store, upto).unwrap();
    assert_eq!((v.version, v.added, v.removed, v.changed, v.reshaped), (2, 1, 2, 3, 1), "{v:?}");
    assert_eq!(store.last_edit(Layer::Subsectors).unwrap(), None);
    let before = store.rows_at(Layer::Subsectors, 1).unwrap();
    assert_eq!(before.len(), 10);
    let s00 = before.iter().find(|r| r.key == "S00").unwrap();
    assert_eq!(decode_multipolygon(s00.geom.as_deref().unwrap()).unwrap(), square(0.0, 0.0, 50.0));
    let report = store.verify().unwrap();
    assert!(report.altered.is_empty() && report.miscounted.is_empty(), "{report:?}");

    // Refused edits are undone: the layer as the last version has it, the journal empty.
    let kept = store.perimeters(Layer::Subsectors).unwrap();
    qgis.execute("UPDATE subsectors SET geom = ?1 WHERE key = 'S03'", [&drawn]).unwrap();
    qgis.execute("DELETE FROM subsectors WHERE key = 'S04'", []).unwrap();
    let upto = store.last_edit(Layer::Subsectors).unwrap().unwrap();
    assert!(store.discard_edits(Layer::Subsectors, upto).unwrap());
    assert_eq!(store.perimeters(Layer::Subsectors).unwrap(), kept);
    assert_eq!(store.last_edit(Layer::Subsectors).unwrap(), None);

    // Domania's own writes are not journaled: a rollback is a version of its own.
    store.rollback(Layer::Subsectors, 1, None, "test").unwrap();
    assert_eq!(store.last_edit(Layer::Subsectors).unwrap(), None);
    assert_eq!(store.perimeters(Layer::Subsectors).unwrap().len(), 10);
}

#[test]
fn a_store_made_before_editors_saved_into_it_is_opened_to_them_with_its_rows_and_fids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.gpkg");
    let mut store = Store::create(&path, false, &Wait::default()).unwrap();
    let rows: Vec<_> =
        (0..3).map(|i| perimeter_row(&format!("S{i}"), None, "{}", &square(f64::from(i) * 100.0, 0.0, 50.0))).collect();
    store.import(Layer::Subsectors, rows, &meta("test"), &ImportOptions::for_layer(Layer::Subsectors)).unwrap();
    drop(store);
    // The table as stores made it before: its own columns without defaults, no edit triggers.
    let old = editor(&path);
    old.execute_batch(
        "DROP TRIGGER domania_subsectors_insert_check; DROP TRIGGER domania_subsectors_update_check;
         DROP TRIGGER domania_subsectors_delete_check; DROP TRIGGER domania_subsectors_insert_journal;
         DROP TRIGGER domania_subsectors_update_journal; DROP TRIGGER domania_subsectors_delete_journal;
         CREATE TABLE old (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom MULTIPOLYGON, key TEXT NOT NULL UNIQUE,
           name TEXT, properties TEXT, ghash INTEGER NOT NULL, ahash INTEGER NOT NULL, v_from INTEGER NOT NULL);
         INSERT INTO old SELECT fid, geom, key, name, properties, ghash, ahash, v_from FROM subsectors;
         DROP TABLE subsectors; ALTER TABLE old RENAME TO subsectors;
         UPDATE sqlite_sequence SET seq = 40 WHERE name = 'subsectors';",
    )
    .unwrap();
    let fids = |c: &rusqlite::Connection| -> Vec<(i64, String)> {
        let mut s = c.prepare("SELECT fid, key FROM subsectors ORDER BY fid").unwrap();
        s.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    let was = fids(&old);
    drop(old);

    let store = Store::open_write(&path, &Wait::default()).unwrap();
    drop(store);
    let qgis = editor(&path);
    assert_eq!(fids(&qgis), was);
    // A feature drawn with Domania's columns empty takes their defaults, past the old counter.
    let drawn = encode_multipolygon(&square(900.0, 0.0, 10.0));
    qgis.execute("INSERT INTO subsectors (geom, key, ghash) VALUES (?1, 'S9', NULL)", [&drawn]).unwrap();
    let (fid, ghash): (i64, i64) = qgis
        .query_row("SELECT fid, ghash FROM subsectors WHERE key = 'S9'", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!((fid, ghash), (41, 0));
    let boxes: i64 = qgis.query_row("SELECT count(*) FROM rtree_subsectors_geom", [], |r| r.get(0)).unwrap();
    assert_eq!(boxes, 4);
    let store = Store::open(&path).unwrap();
    assert!(store.last_edit(Layer::Subsectors).unwrap().is_some());
}

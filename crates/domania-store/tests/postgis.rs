//! The PostGIS engine keeps the same versions as the GeoPackage: the same imports, scoped
//! imports, refusals, rollbacks, tokens and rules on both give the same dump, history, diffs and
//! scopes; a copy moves a store both ways losing nothing; layers cut by commune are partitioned
//! by département; one writer at a time; connections are encrypted and checked as `sslmode`
//! asks. Needs `$DOMANIA_TEST_PG` (see
//! `domania_testkit::ScratchDatabase`).

use std::fmt::Write as _;
use std::time::Duration;

use domania_core::{Idu, Owner, Parcel, Right, Siren};
use domania_store::{
    ImportOptions, Layer, Location, Scope, Store, StoreError, Wait, owner_rows, parcel_row, perimeter_row,
};
use domania_testkit::{ScratchDatabase, meta};
use geo_types::{MultiPolygon, polygon};

fn parcel(commune: &str, n: u32, size: f64) -> Parcel {
    let x = 650_000.0 + f64::from(n) * 100.0;
    let y = 6_860_000.0;
    Parcel {
        idu: Idu::from_parts(commune, "", "AB", &n.to_string()).unwrap(),
        commune: commune.into(),
        prefixe: "000".into(),
        section: "AB".into(),
        numero: n.to_string(),
        contenance: Some((size * size) as i64),
        created: None,
        updated: Some("2024-01-01".into()),
        geom_l93: MultiPolygon::new(vec![polygon![
            (x: x, y: y), (x: x + size, y: y), (x: x + size, y: y + size), (x: x, y: y + size), (x: x, y: y)
        ]]),
    }
}

fn opts(layer: Layer) -> ImportOptions {
    ImportOptions::for_layer(layer)
}

/// The same story on any store: two communes of two départements, a re-import with changes, an
/// owners file, a refused import, an unchanged one, a scoped rollback, a perimeter layer, tokens
/// and rules.
fn story(store: &mut Store) {
    let rows = |commune: &str, range: std::ops::RangeInclusive<u32>, size: f64| -> Vec<_> {
        range.map(|n| parcel_row(&parcel(commune, n, size))).collect()
    };
    store.import(Layer::Parcels, rows("78440", 1..=10, 20.0), &meta("a.json"), &opts(Layer::Parcels)).unwrap();
    store.import(Layer::Parcels, rows("91216", 1..=5, 10.0), &meta("b.json"), &opts(Layer::Parcels)).unwrap();
    // 78440 again: parcel 1 gone, 2 reshaped, 11 new; 91216 untouched (scoped by commune).
    let mut v3 = rows("78440", 3..=11, 20.0);
    v3.push(parcel_row(&parcel("78440", 2, 25.0)));
    let info = store.import(Layer::Parcels, v3, &meta("c.json"), &opts(Layer::Parcels)).unwrap();
    assert_eq!((info.version, info.added, info.removed, info.changed, info.reshaped), (3, 1, 1, 1, 1));
    // Removing most of a commune is refused, and leaves nothing behind.
    let err = store.import(Layer::Parcels, rows("78440", 3..=4, 20.0), &meta("d.json"), &opts(Layer::Parcels));
    assert!(matches!(err, Err(StoreError::TooManyRemoved { .. })), "{err:?}");
    // The same file again: no version.
    let again = store.import(Layer::Parcels, rows("91216", 1..=5, 10.0), &meta("b.json"), &opts(Layer::Parcels));
    assert!(again.unwrap().unchanged);
    let owner = Owner {
        siren: Siren::new("123456789"),
        name: "OPH\tTEST \\ \"quoted\"\nline".into(),
        groupe: Some(4),
        forme: Some("OPHLM".into()),
        forme_abregee: None,
    };
    let idus: Vec<Idu> = (3..=6).map(|n| parcel("78440", n, 1.0).idu).collect();
    let rights = owner_rows(idus.iter().map(|i| (i, Right::Proprietaire, &owner, None)));
    store.import(Layer::Owners, rights, &meta("ppm.csv"), &opts(Layer::Owners)).unwrap();
    let qpv = perimeter_row("QN07801M", Some("Quartier"), r#"{"a":1.5}"#, &parcel("78440", 3, 300.0).geom_l93);
    store.import(Layer::Qpv, vec![qpv], &meta("qpv.geojson"), &opts(Layer::Qpv)).unwrap();
    let rolled = store.rollback(Layer::Parcels, 1, Some("commune=78440".parse::<Scope>().unwrap()), "test").unwrap();
    assert_eq!((rolled.version, rolled.kind.as_str()), (4, "rollback"));
    store.create_token("alice", "editor", &"a".repeat(64)).unwrap();
    store.create_token("bob", "reader", &"b".repeat(64)).unwrap();
    assert!(store.revoke_token("bob").unwrap());
    assert_eq!(store.save_rules("threshold = 0.6", "test").unwrap(), 1);
}

/// What two stores holding the same data must agree on.
fn figures(store: &Store) -> String {
    let mut out = store.dump().unwrap().join("\n");
    for layer in Layer::ALL {
        for v in store.history(layer).unwrap() {
            let _ = write!(
                out,
                "\n{} v{} {} {} {}+{}-{}~{}",
                layer.table(),
                v.version,
                v.kind,
                v.scope,
                v.features,
                v.added,
                v.removed,
                v.changed
            );
        }
        let _ = write!(
            out,
            "\n{:?}",
            store.scopes(layer).unwrap().iter().map(|s| (&s.scope, s.version, s.features)).collect::<Vec<_>>()
        );
    }
    let _ = write!(out, "\n{:?}", store.diff(Layer::Parcels, 1, 4).unwrap());
    let _ = write!(out, "\n{:?}", store.rows_at(Layer::Parcels, 3).unwrap().len());
    let c = store.read_all().unwrap();
    let area = |ps: &[domania_store::StoredParcel]| -> f64 {
        use geo::Area;
        ps.iter().map(|p| p.geom_l93.unsigned_area()).sum()
    };
    let _ = write!(
        out,
        "\nparcels {} area {} rights {:?} coverage {:?} qpv {:?}",
        c.parcels.len(),
        area(&c.parcels),
        c.owner_rights,
        c.owner_coverage,
        c.qpv.iter().map(|q| (&q.key, &q.name, &q.properties_json, &q.geom_l93)).collect::<Vec<_>>()
    );
    let _ = write!(out, "\n{:?}", store.parcel("78440000AB0002").unwrap());
    let _ = write!(out, "\n{:?}", store.rights_of("78440000AB0003").unwrap());
    let _ = write!(
        out,
        "\n{:?} {:?}",
        store.owner_file_covers("78440").unwrap(),
        store.owner_file_covers("91216").unwrap()
    );
    let tokens: Vec<_> =
        store.tokens().unwrap().into_iter().map(|t| (t.name, t.role, t.revoked_at.is_some())).collect();
    let _ = write!(out, "\n{tokens:?} {:?}", store.token_by_hash(&"a".repeat(64)).unwrap().map(|t| t.name));
    let _ = write!(out, "\n{:?}", store.rules().unwrap());
    out
}

#[test]
#[cfg_attr(domania_without_pg, ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)")]
fn postgis_keeps_the_same_versions_as_a_geopackage_and_a_copy_loses_nothing() {
    let db = ScratchDatabase::new("same");
    let dir = tempfile::tempdir().unwrap();
    let gpkg = dir.path().join("s.gpkg");
    let mut g = Store::create(&gpkg, false, &Wait::default()).unwrap();
    story(&mut g);
    let pg_loc = Location::from(db.url());
    let mut p = Store::create_at(&pg_loc, false, &Wait::default()).unwrap();
    assert!(p.is_postgres());
    story(&mut p);
    let expected = figures(&g);
    assert_eq!(figures(&p), expected, "the two engines disagree");
    assert_eq!(p.integrity_check().unwrap(), "ok");
    drop(p);

    // Copy PostGIS → GeoPackage and GeoPackage → PostGIS: the same figures again.
    let back = dir.path().join("back.gpkg");
    let from_pg = Store::open_read_at(&pg_loc, &Wait::default()).unwrap();
    let mut dest = Store::create(&back, false, &Wait::default()).unwrap();
    let report = from_pg.copy_into(&mut dest, &|_| {}).unwrap();
    assert_eq!(report.layers["parcels"].0, 15, "{report:?}");
    drop(dest);
    // With the box of what each version changed: a server of a part judges alike on the copy.
    let reaches = |s: &Store| Layer::ALL.map(|l| s.reaches(l).unwrap());
    let copied = reaches(&Store::open(&back).unwrap());
    assert_eq!(copied, reaches(&from_pg));
    assert!(copied[0].iter().filter(|v| v.envelope.is_some()).count() >= 3, "{:?}", copied[0]);
    assert_eq!(figures(&Store::open(&back).unwrap()), expected);
    assert_eq!(Store::open(&back).unwrap().integrity_check().unwrap(), "ok");
    // A copy into a store that holds versions is refused.
    let mut full = Store::open_write_at(&pg_loc, &Wait::default()).unwrap();
    let err = Store::open(&back).unwrap().copy_into(&mut full, &|_| {}).err().unwrap();
    assert!(matches!(err, StoreError::CopyTargetNotEmpty { .. }), "{err}");
    drop(full);
    let db2 = ScratchDatabase::new("copy");
    let mut dest = Store::create_at(&Location::from(db2.url()), false, &Wait::default()).unwrap();
    Store::open(&gpkg).unwrap().copy_into(&mut dest, &|_| {}).unwrap();
    assert_eq!(figures(&dest), expected);
    // After a copy, new rows get new fids: an import on both gives the same figures still.
    let mut g = Store::open_write(&back, &Wait::default()).unwrap();
    for s in [&mut g, &mut dest] {
        let rows = (20..=22).map(|n| parcel_row(&parcel("78440", n, 5.0))).collect::<Vec<_>>();
        let mut all: Vec<_> =
            s.rows_at(Layer::Parcels, 4).unwrap().into_iter().filter(|r| r.key.starts_with("78440")).collect();
        all.extend(rows);
        s.import(Layer::Parcels, all, &meta("e.json"), &opts(Layer::Parcels)).unwrap();
    }
    assert_eq!(figures(&dest), figures(&g));
}

#[test]
#[cfg_attr(domania_without_pg, ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)")]
fn a_copy_of_a_row_postgresql_cannot_store_copies_nothing_and_names_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let gpkg = dir.path().join("nul.gpkg");
    let mut g = Store::create(&gpkg, false, &Wait::default()).unwrap();
    let mut rows: Vec<_> = (1..=3).map(|n| parcel_row(&parcel("78440", n, 5.0))).collect();
    // A row written before imports refused NUL characters (SQLite keeps them).
    rows[1].values[6] = domania_store::layer::Value::Text("2020\0-01-01".into());
    g.import(Layer::Parcels, rows, &meta("old.json"), &opts(Layer::Parcels)).unwrap();
    drop(g);
    let db = ScratchDatabase::new("nul");
    let loc = Location::from(db.url());
    let mut dest = Store::create_at(&loc, false, &Wait::default()).unwrap();
    let err = Store::open(&gpkg).unwrap().copy_into(&mut dest, &|_| {}).err().unwrap();
    let text = err.to_string();
    assert!(matches!(err, StoreError::CopyUnstorable { .. }), "{text}");
    assert!(
        text.contains("78440000AB0002") && text.contains("created") && text.contains("nothing was copied"),
        "{text}"
    );
    // The target is as it was: no version, no row.
    drop(dest);
    let dest = Store::open_read_at(&loc, &Wait::default()).unwrap();
    for l in Layer::ALL {
        assert_eq!(dest.latest_version(l).unwrap(), None, "{l:?}");
    }
}

#[test]
#[cfg_attr(domania_without_pg, ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)")]
fn postgis_partitions_by_departement_and_keeps_one_writer() {
    let db = ScratchDatabase::new("parts");
    let loc = Location::from(db.url());
    // No store yet: reading is refused with the usual message, nothing is created.
    let err = Store::open_read_at(&loc, &Wait::default()).err().unwrap();
    assert!(matches!(err, StoreError::Missing { .. }), "{err}");
    let mut s = Store::create_at(&loc, false, &Wait::default()).unwrap();
    for commune in ["78440", "91216", "2A004", "97411"] {
        let rows = (1..=3).map(|n| parcel_row(&parcel(commune, n, 10.0))).collect();
        s.import(Layer::Parcels, rows, &meta(commune), &opts(Layer::Parcels)).unwrap();
    }
    let mut client = domania_store::pg::client(db.url()).unwrap();
    let parts: Vec<String> = client
        .query(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'parcels'::regclass ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(parts, ["parcels_d2a", "parcels_d78", "parcels_d91", "parcels_d974"]);
    let n: i64 = client.query_one("SELECT COUNT(*) FROM parcels_d974", &[]).unwrap().get(0);
    assert_eq!(n, 3);
    // A GiST index on the geometry, as QGIS expects.
    let gist: i64 = client
        .query_one("SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'parcels_d78' AND indexdef LIKE '%gist%'", &[])
        .unwrap()
        .get(0);
    assert_eq!(gist, 1);

    // A second writer waits, is told who holds the store, and gives up.
    let told = std::sync::Mutex::new(String::new());
    let on_wait = |m: &str| *told.lock().unwrap() = m.to_owned();
    let wait = Wait { timeout: Duration::from_millis(300), on_wait: &on_wait };
    let err = Store::open_write_at(&loc, &wait).err().unwrap();
    assert!(matches!(err, StoreError::Busy { .. }), "{err}");
    assert!(told.lock().unwrap().contains("domania pid"), "{}", told.lock().unwrap());
    // Readers are not kept out.
    assert_eq!(Store::open_read_at(&loc, &Wait::default()).unwrap().parcel_idus().unwrap().len(), 12);
    drop(s);
    assert!(Store::open_write_at(&loc, &wait).is_ok());
}

#[test]
#[cfg_attr(domania_without_pg, ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)")]
fn a_part_of_the_territory_reads_the_same_on_both_engines() {
    let db = ScratchDatabase::new("part");
    let dir = tempfile::tempdir().unwrap();
    let mut g = Store::create(&dir.path().join("s.gpkg"), false, &Wait::default()).unwrap();
    let mut p = Store::create_at(&Location::from(db.url()), false, &Wait::default()).unwrap();
    for s in [&mut g, &mut p] {
        story(s);
        // A sub-sector over parcels of 78440 and of 91216 (same x: they overlap in Lambert-93
        // here), and one over 91216 alone.
        let both = perimeter_row("S1", None, "{}", &parcel("78440", 3, 50.0).geom_l93);
        let far = perimeter_row("S2", None, "{}", &parcel("91216", 40, 10.0).geom_l93);
        s.import(Layer::Subsectors, vec![both, far], &meta("s.geojson"), &opts(Layer::Subsectors)).unwrap();
    }
    for part in ["departement=78", "departement=91", "commune=91216", "departement=2A"] {
        let scope: Scope = part.parse().unwrap();
        let (a, b) = (g.read_scoped(&scope).unwrap(), p.read_scoped(&scope).unwrap());
        let show = |c: &domania_store::StoreContents| {
            (
                c.parcels.iter().map(|x| x.idu.clone()).collect::<Vec<_>>(),
                c.subsectors.iter().map(|z| z.key.clone()).collect::<Vec<_>>(),
                c.qpv.len(),
                c.owner_rights.len(),
                c.owner_coverage.clone(),
            )
        };
        assert_eq!(show(&b), show(&a), "{part}");
        if part == "departement=78" {
            // S1 straddles 78 and 91: served whole, with the 91216 parcels it meets.
            assert_eq!(show(&a).1, ["S1"]);
            assert!(a.parcels.iter().any(|x| x.idu.starts_with("91216")), "{:?}", show(&a).0);
        }
        if part == "departement=2A" {
            assert!(a.parcels.is_empty() && a.subsectors.is_empty());
        }
    }
}

/// The server's `SELECT ssl` as this connection sees it.
fn encrypted(url: &str) -> Result<bool, StoreError> {
    let mut c = domania_store::pg::client(url)?;
    Ok(c.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])?.get(0))
}

#[test]
#[cfg_attr(domania_without_pg, ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)")]
fn connections_are_encrypted_and_checked_as_sslmode_asks() {
    let db = ScratchDatabase::new("tls");
    let mut admin = domania_store::pg::client(db.url()).unwrap();
    let ssl: String = admin.query_one("SHOW ssl", &[]).unwrap().get(0);
    if ssl != "on" {
        // tools/postgres/cluster turns TLS on; a server of one's own may not.
        assert!(std::env::var_os("CI").is_none(), "the CI's server must take TLS connections");
        eprintln!("skipped: the server of $DOMANIA_TEST_PG does not take TLS connections");
        return;
    }
    // The authority of tools/postgres/cluster, which signed a certificate for `localhost` only.
    let ca: String = admin.query_one("SELECT pg_read_file('root.crt')", &[]).unwrap().get(0);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root.crt");
    std::fs::write(&root, ca).unwrap();
    let url = db.url();
    assert!(url.contains("@localhost:") && !url.contains('?'), "{url}");
    let by_ip = url.replace("@localhost:", "@127.0.0.1:");
    let with = |u: &str, q: &str| format!("{u}?{q}");
    let rootcert = format!("sslrootcert={}", root.display());

    // The default (prefer) encrypts when the server offers it; disable never does.
    assert!(encrypted(url).unwrap());
    assert!(!encrypted(&with(url, "sslmode=disable")).unwrap());
    // verify-full: the authority and the name; verify-ca: the authority only.
    assert!(encrypted(&with(url, &format!("sslmode=verify-full&{rootcert}"))).unwrap());
    let err = encrypted(&with(&by_ip, &format!("sslmode=verify-full&{rootcert}"))).unwrap_err().to_string();
    assert!(err.contains("cannot connect") && err.contains("certificate"), "{err}");
    assert!(!err.contains("domania:domania"), "the password is masked: {err}");
    assert!(encrypted(&with(&by_ip, &format!("sslmode=verify-ca&{rootcert}"))).unwrap());
    // An authority that did not sign it (the machine's own) is refused, by require too.
    for mode in ["verify-ca", "require"] {
        let err = encrypted(&with(url, &format!("sslmode={mode}&sslrootcert=system"))).unwrap_err().to_string();
        assert!(err.contains("certificate"), "{mode}: {err}");
    }
    // Without an authority, verify-* is refused before connecting; require encrypts unchecked.
    let err = encrypted(&with(url, "sslmode=verify-full")).unwrap_err().to_string();
    assert!(err.contains("sslrootcert=FILE"), "{err}");
    assert!(encrypted(&with(url, "sslmode=require")).unwrap());
    // The key=value form says the same, and a store opens over it.
    let port = url.split("@localhost:").nth(1).unwrap().split('/').next().unwrap();
    let dbname = url.rsplit('/').next().unwrap();
    let kv = format!(
        "host=localhost port={port} user=domania password=domania dbname={dbname} sslmode=verify-full sslrootcert='{}'",
        root.display()
    );
    assert!(encrypted(&kv).unwrap());
    let loc = Location::from(kv.as_str());
    let mut s = Store::create_at(&loc, false, &Wait::default()).unwrap();
    s.import(Layer::Parcels, vec![parcel_row(&parcel("78440", 1, 10.0))], &meta("tls"), &opts(Layer::Parcels)).unwrap();
    assert_eq!(Store::open_read_at(&loc, &Wait::default()).unwrap().parcel_idus().unwrap().len(), 1);
}

/// An import into one département reads and writes its partition only: it goes through while
/// another département's partition is locked (being vacuumed in full, detached or moved).
#[test]
#[cfg_attr(domania_without_pg, ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)")]
fn an_import_leaves_the_other_departements_partitions_alone() {
    let db = ScratchDatabase::new("alone");
    let loc = Location::from(db.url());
    let mut s = Store::create_at(&loc, false, &Wait::default()).unwrap();
    for commune in ["78440", "91216"] {
        let rows = (1..=20).map(|n| parcel_row(&parcel(commune, n, 10.0))).collect();
        s.import(Layer::Parcels, rows, &meta(commune), &opts(Layer::Parcels)).unwrap();
    }
    // Another session holds the 91's partition as VACUUM FULL would.
    let mut other = domania_store::pg::client(db.url()).unwrap();
    let mut lock = other.transaction().unwrap();
    lock.batch_execute("LOCK TABLE parcels_d91 IN ACCESS EXCLUSIVE MODE").unwrap();
    // The 78's commune again: one parcel reshaped, one gone.
    let importer = std::thread::spawn(move || {
        let rows = (1..=19).map(|n| parcel_row(&parcel("78440", n, if n == 1 { 12.0 } else { 10.0 }))).collect();
        let info = s.import(Layer::Parcels, rows, &meta("78440 bis"), &opts(Layer::Parcels));
        (s, info)
    });
    // Until it ends, it never waits for the 91's partition.
    let waits = "SELECT COUNT(*) FROM pg_locks WHERE NOT granted AND relation = 'parcels_d91'::regclass";
    while !importer.is_finished() {
        let waiting: i64 = lock.query_one(waits, &[]).unwrap().get(0);
        if waiting > 0 {
            let what = "SELECT a.query FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted";
            let query: String = lock.query_one(what, &[]).unwrap().get(0);
            lock.rollback().unwrap();
            let _ = importer.join();
            panic!("the import of commune 78440 waited for the partition of département 91 in: {query}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    lock.rollback().unwrap();
    let (s, info) = importer.join().unwrap();
    let info = info.unwrap();
    assert_eq!((info.changed, info.reshaped, info.removed, info.scope.as_str()), (1, 1, 1, "commune=78440"));
    assert_eq!(s.parcel_idus().unwrap().len(), 39);
}

#[test]
#[cfg_attr(domania_without_pg, ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)")]
fn only_domania_writes_its_tables_so_no_edit_escapes_the_history() {
    let db = ScratchDatabase::new("guard");
    let loc = Location::from(db.url());
    let mut s = Store::create_at(&loc, false, &Wait::default()).unwrap();
    story(&mut s);
    let before = figures(&s);
    drop(s);
    // Another client (QGIS, psql, ogr2ogr): every kind of write is refused, on the layers, their
    // partitions and history, and the records of versions, whether a row is hit or not.
    let mut other = postgres::Client::connect(db.url(), postgres::NoTls).unwrap();
    for sql in [
        "UPDATE parcels SET commune = 'x'",
        "DELETE FROM parcels_d78 WHERE key LIKE '78440%'",
        "INSERT INTO parcels_d91 SELECT * FROM parcels_d91",
        "DELETE FROM parcels_history_d78",
        "TRUNCATE parcels_d91",
        "DELETE FROM qpv",
        "UPDATE domania_versions SET author = 'me'",
        "DELETE FROM domania_scopes",
        "DELETE FROM domania_reach",
        "DELETE FROM domania_tokens",
        "UPDATE domania_rules SET toml = ''",
        "UPDATE domania_schema SET version = 1",
    ] {
        let err = other.batch_execute(sql).unwrap_err();
        let db_err = err.as_db_error().unwrap_or_else(|| panic!("{sql}: {err}"));
        assert_eq!(db_err.code(), &postgres::error::SqlState::INSUFFICIENT_PRIVILEGE, "{sql}: {db_err}");
        assert!(db_err.message().contains("est tenue par Domania"), "{sql}: {}", db_err.message());
    }
    // Reading is free.
    let n: i64 = other.query_one("SELECT COUNT(*) FROM parcels", &[]).unwrap().get(0);
    assert_eq!(n, 15);
    // Domania itself goes on writing, and nothing was changed behind it.
    let mut s = Store::open_write_at(&loc, &Wait::default()).unwrap();
    assert_eq!(figures(&s), before);
    s.import(Layer::Parcels, vec![parcel_row(&parcel("2A004", 1, 10.0))], &meta("c.json"), &opts(Layer::Parcels))
        .unwrap();
    drop(s);
    let guarded = |c: &mut postgres::Client| -> i64 {
        c.query_one("SELECT COUNT(*) FROM pg_trigger WHERE tgname = 'domania_guard'", &[]).unwrap().get(0)
    };
    // 8 layers and their histories, 5 record tables, the schema's, and the partitions (the new
    // one too).
    let tables = 2 * Layer::ALL.len() as i64 + 6;
    let parts: i64 = other
        .query_one(
            "SELECT COUNT(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relkind = 'r'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(parts, 8, "parcels of 78, 91 and 2A, owners of 78, current and history");
    assert_eq!(guarded(&mut other), tables + parts);

    // A store made by a Domania without the guard (schema 1) gets it at its next write, on a
    // partition made by hand too, whatever its name.
    let mut admin = domania_store::pg::client(db.url()).unwrap();
    admin
        .batch_execute(
            "CREATE TABLE \"Parcels elsewhere\" PARTITION OF parcels DEFAULT;
             DO $$DECLARE t record; BEGIN
               FOR t IN SELECT tgrelid::regclass AS r FROM pg_trigger WHERE tgname = 'domania_guard' LOOP
                 EXECUTE format('DROP TRIGGER domania_guard ON %s', t.r);
               END LOOP; END$$;
             UPDATE domania_schema SET version = 1;
             DROP TABLE addresses, addresses_history;
             ALTER TABLE owners DROP COLUMN adresse; ALTER TABLE owners_history DROP COLUMN adresse;",
        )
        .unwrap();
    assert_eq!(guarded(&mut other), 0);
    {
        // Read as it is: the layer it lacks is empty, the column it lacks too.
        let old = Store::open_read_at(&loc, &Wait::default()).unwrap();
        let read = old.read_all().unwrap();
        assert!(read.addresses.is_empty() && read.street_addresses.is_empty());
        assert!(old.dump().is_ok());
        assert!(old.verify().unwrap().altered.is_empty(), "an empty later column hashes as before");
    }
    assert_eq!(guarded(&mut other), 0, "a reader changes nothing");
    drop(Store::open_write_at(&loc, &Wait::default()).unwrap());
    let added: i64 = other
        .query_one(
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_name IN ('owners', 'owners_history') AND column_name = 'adresse'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(added, 2, "the writer adds the column the schema lacked");
    assert_eq!(guarded(&mut other), tables + parts + 1);
    let err = other.batch_execute("DELETE FROM \"Parcels elsewhere\"").unwrap_err();
    assert!(err.as_db_error().is_some_and(|e| e.message().contains("est tenue par Domania")), "{err}");

    // An administrator who must can say so, deliberately.
    other
        .batch_execute("SET domania.writer = on; UPDATE domania_versions SET author = 'dba' WHERE version = 1")
        .unwrap();
}

/// The rows a verification reports: key, end of validity, geometry and attributes changed.
type Altered = Vec<(String, Option<i64>, bool, bool)>;

fn altered(r: &domania_store::VerifyReport) -> Altered {
    r.altered.iter().map(|a| (a.key.clone(), a.v_to, a.geometry, a.attributes)).collect()
}

/// Marks the rows changed outside Domania: the current row verifies, the row of the history
/// stays reported.
fn marked(loc: &Location) {
    let mut s = Store::open_write_at(loc, &Wait::default()).unwrap();
    let found = s.verify().unwrap();
    assert_eq!(s.mark_altered(&found.altered).unwrap(), 1);
    let after = s.verify().unwrap();
    assert_eq!(altered(&after), [("78440000AB0002".to_owned(), Some(3), true, false)], "{loc}");
}

#[test]
fn verify_finds_the_rows_changed_outside_domania_in_a_geopackage() {
    geopackage_verified();
}

#[test]
#[cfg_attr(domania_without_pg, ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)")]
fn verify_finds_the_same_rows_changed_outside_domania_on_postgis() {
    let (clean, seen) = geopackage_verified();
    let db = ScratchDatabase::new("verify");
    let loc = Location::from(db.url());
    let mut p = Store::create_at(&loc, false, &Wait::default()).unwrap();
    story(&mut p);
    assert!(p.verify().unwrap().is_sound(), "geometries read back from PostGIS hash as they were written");
    assert_eq!(p.verify().unwrap().layers, clean);
    drop(p);
    // The same edits by an administrator who set himself past the guard.
    let mut admin = postgres::Client::connect(db.url(), postgres::NoTls).unwrap();
    admin
        .batch_execute(
            "SET domania.writer = on;
             UPDATE parcels SET commune = '99999' WHERE key = '78440000AB0005';
             UPDATE parcels_history SET geom = ST_Translate(geom, 0.01, 0) WHERE key = '78440000AB0002' AND v_to = 3;",
        )
        .unwrap();
    let seen_pg = Store::open_read_at(&loc, &Wait::default()).unwrap().verify().unwrap();
    assert_eq!(altered(&seen_pg), seen);
    marked(&loc);
}

/// Drops the guard of a GeoPackage's parcels, as an administrator who must edit them by hand.
fn unguard(conn: &rusqlite::Connection) {
    conn.execute_batch(
        "DROP TRIGGER domania_parcels_guard_insert; DROP TRIGGER domania_parcels_guard_update;
         DROP TRIGGER domania_parcels_guard_delete;",
    )
    .unwrap();
}

/// The story verified in a GeoPackage edited by SQLite: the clean counts by layer, and what
/// its two edits are reported as.
fn geopackage_verified() -> (std::collections::BTreeMap<String, (usize, usize)>, Altered) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.gpkg");
    let mut g = Store::create(&path, false, &Wait::default()).unwrap();
    story(&mut g);
    let clean = g.verify().unwrap();
    assert!(clean.is_sound(), "{clean:?}");
    assert_eq!(clean.layers["parcels"], (15, 4), "{clean:?}");
    assert_eq!(clean.layers["owners"].0, 4);
    drop(g);
    // A plain SQLite client's edit of the cadastre is refused, saying how it changes.
    let conn = rusqlite::Connection::open(&path).unwrap();
    domania_store::gpkg::register_functions(&conn).unwrap();
    let refused = conn.execute("UPDATE parcels SET commune = '99999' WHERE key = '78440000AB0005'", []).unwrap_err();
    assert!(refused.to_string().contains("la couche des parcelles vient du cadastre"), "{refused}");
    // Two edits by an administrator who drops the guard: an attribute of a current parcel, and
    // the geometry of a row of the history (another parcel's).
    unguard(&conn);
    conn.execute("UPDATE parcels SET commune = '99999' WHERE key = '78440000AB0005'", []).unwrap();
    conn.execute(
        "UPDATE parcels_history SET geom = (SELECT geom FROM parcels WHERE key = '78440000AB0009')
         WHERE key = '78440000AB0002' AND v_to = 3",
        [],
    )
    .unwrap();
    drop(conn);
    let seen = Store::open(&path).unwrap().verify().unwrap();
    assert_eq!(seen.engine.to_string(), "ok");
    assert_eq!(
        altered(&seen),
        [("78440000AB0005".to_owned(), None, false, true), ("78440000AB0002".to_owned(), Some(3), true, false)]
    );
    assert!(!seen.is_sound());
    // Marked: the current row verifies, the row of the history stays reported.
    marked(&Location::from(path.to_str().unwrap()));
    // A row deleted and one added, each in its table: the counts tell, not which rows.
    let conn = rusqlite::Connection::open(&path).unwrap();
    domania_store::gpkg::register_functions(&conn).unwrap();
    unguard(&conn);
    conn.execute("DELETE FROM parcels WHERE key = '78440000AB0007'", []).unwrap();
    conn.execute(
        "INSERT INTO parcels_history (fid, geom, key, ghash, ahash, v_from, v_to, idu, commune, prefixe, section, numero, \
         contenance, created, updated)
         SELECT fid, geom, key, ghash, ahash, v_from, v_to, idu, commune, prefixe, section, numero, contenance, created, \
         updated FROM parcels_history LIMIT 1",
        [],
    )
    .unwrap();
    drop(conn);
    let counted = Store::open(&path).unwrap().verify().unwrap();
    assert_eq!(counted.miscounted.len(), 1, "{counted:?}");
    assert_eq!((counted.miscounted[0].current, counted.miscounted[0].history), ((14, 15), (5, 4)));

    (clean.layers, altered(&seen))
}

#[test]
#[cfg_attr(domania_without_pg, ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)")]
fn processes_opening_a_new_store_together_create_its_tables_once() {
    for round in 0..4 {
        let db = ScratchDatabase::new(&format!("together{round}"));
        drop(Store::create_at(&Location::from(db.url()), false, &Wait::default()).unwrap());
        let go = std::sync::Arc::new(std::sync::Barrier::new(8));
        let openers: Vec<_> = (0..8)
            .map(|_| {
                let (url, go) = (db.url().to_owned(), std::sync::Arc::clone(&go));
                std::thread::spawn(move || {
                    go.wait();
                    domania_store::RequestStore::open_postgres(&url).map(|_| ()).map_err(|e| e.to_string())
                })
            })
            .collect();
        for o in openers {
            let opened = o.join().unwrap();
            assert!(opened.is_ok(), "round {round}: {opened:?}");
        }
    }
}

#[test]
#[cfg_attr(domania_without_pg, ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)")]
fn a_revocation_is_announced_to_every_listener_at_commit() {
    let db = ScratchDatabase::new("revoke");
    let loc = Location::from(db.url());
    let mut s = Store::create_at(&loc, false, &Wait::default()).unwrap();
    s.create_token("sig", "editor", &"a".repeat(64)).unwrap();
    let mut listener = domania_store::pg::Listener::connect(db.url()).unwrap();
    assert!(s.revoke_token("sig").unwrap());
    let heard = listener.wait(Duration::from_secs(10)).unwrap();
    assert!(heard.contains(&domania_store::pg::Heard::TokenRevoked), "{heard:?}");
}

#[test]
#[cfg_attr(domania_without_pg, ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)")]
fn saves_into_the_editing_views_are_checked_journaled_by_transaction_and_made_versions() {
    let db = ScratchDatabase::new("views");
    let loc = Location::from(db.url());
    let mut store = Store::create_at(&loc, false, &Wait::default()).unwrap();
    let square = |i: u32, side: f64| -> MultiPolygon<f64> {
        let x = 650_000.0 + f64::from(i) * 100.0;
        polygon![(x: x, y: 6_860_000.0), (x: x + side, y: 6_860_000.0), (x: x + side, y: 6_860_000.0 + side), (x: x, y: 6_860_000.0 + side), (x: x, y: 6_860_000.0)].into()
    };
    let rows: Vec<_> = (0..10).map(|i| perimeter_row(&format!("S{i}"), None, "{}", &square(i, 50.0))).collect();
    store.import(Layer::Subsectors, rows, &meta("s.json"), &opts(Layer::Subsectors)).unwrap();
    let fid = |c: &mut postgres::Client, key: &str| -> i64 {
        c.query_one("SELECT fid FROM domania_edit.subsectors WHERE key = $1", &[&key]).unwrap().get(0)
    };
    let refused = |c: &mut postgres::Client, sql: &str| -> String {
        let e = c.batch_execute(sql).unwrap_err();
        e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_owned())
    };

    // An officer's client (QGIS, psql): two saving transactions.
    let mut qgis = postgres::Client::connect(db.url(), postgres::NoTls).unwrap();
    let loaded = fid(&mut qgis, "S1");
    qgis.batch_execute(
        "BEGIN;
         UPDATE domania_edit.subsectors SET geom = ST_Multi(ST_Buffer(geom, 5, 'join=mitre')) WHERE key = 'S1';
         UPDATE domania_edit.subsectors SET name = 'Îlot nord' WHERE key = 'S2';
         COMMIT;
         BEGIN;
         INSERT INTO domania_edit.subsectors (key, geom)
           SELECT 'S1b', ST_Multi(ST_Translate(geom, 0, 1000)) FROM domania_edit.subsectors WHERE key = 'S3';
         DELETE FROM domania_edit.subsectors WHERE key = 'S4';
         COMMIT;",
    )
    .unwrap();
    // Refused at save, with what to do, and nothing journaled.
    let e = refused(
        &mut qgis,
        "UPDATE domania_edit.subsectors SET geom = 'SRID=2154;MULTIPOLYGON(((0 0,10 10,10 0,0 10,0 0)))' WHERE key = 'S5'",
    );
    assert!(e.contains("la géométrie n'est pas valide (Self-intersection"), "{e}");
    let e = refused(&mut qgis, "UPDATE domania_edit.subsectors SET key = '' WHERE key = 'S5'");
    assert!(e.contains("sans clé (champ key)"), "{e}");
    let e = refused(&mut qgis, "UPDATE domania_edit.subsectors SET key = 'S6' WHERE key = 'S5'");
    assert!(e.contains("la clé « S6 » est déjà prise"), "{e}");
    let e = refused(&mut qgis, "BEGIN; DELETE FROM domania_edit.subsectors WHERE key IN ('S5', 'S6', 'S7'); COMMIT;");
    assert!(e.contains("supprimer autant"), "{e}");
    qgis.batch_execute("ROLLBACK").ok();
    // A feature saved by another transaction that waits to become a version.
    let e = refused(&mut qgis, "UPDATE domania_edit.subsectors SET name = 'x' WHERE key = 'S2'");
    assert!(e.contains("a été modifié par un autre enregistrement"), "{e}");
    // Domania's own tables keep their guard.
    let e = refused(&mut qgis, "UPDATE subsectors SET name = 'x'");
    assert!(e.contains("est tenue par Domania"), "{e}");

    // Each saving transaction, its role as author: one version each, in order.
    let saved = store.saved_edits(Layer::Subsectors).unwrap();
    assert_eq!(saved.len(), 2, "{saved:?}");
    assert_eq!(saved[0].author.as_deref(), Some("domania"));
    for s in saved {
        let base = store.latest_version(Layer::Subsectors).unwrap().unwrap();
        let mut now = store.perimeters(Layer::Subsectors).unwrap();
        for op in s.ops {
            match op {
                domania_store::SavedOp::Insert(p) => now.push(p),
                domania_store::SavedOp::Update { key, now: p } => *now.iter_mut().find(|q| q.key == key).unwrap() = p,
                domania_store::SavedOp::Delete { key } => now.retain(|q| q.key != key),
            }
        }
        let rows = now.iter().map(|p| perimeter_row(&p.key, p.name.as_deref(), &p.properties_json, &p.geom_l93));
        let o = ImportOptions { absorb: Some(s.token), expect_latest: Some(base), ..opts(Layer::Subsectors) };
        store.import(Layer::Subsectors, rows.collect(), &meta("QGIS"), &o).unwrap();
        // Taken with its version: a second Domania finds it gone.
        let again = ImportOptions { absorb: Some(s.token), ..opts(Layer::Subsectors) };
        let late = store.import(Layer::Subsectors, vec![], &meta("QGIS"), &again);
        assert!(matches!(late, Err(StoreError::EditedMeanwhile { .. })), "{late:?}");
    }
    assert!(store.saved_edits(Layer::Subsectors).unwrap().is_empty());
    let v = store.history(Layer::Subsectors).unwrap();
    let counts: Vec<_> = v.iter().map(|v| (v.version, v.added, v.removed, v.changed)).collect();
    assert_eq!(counts, [(1, 10, 0, 0), (2, 0, 0, 2), (3, 1, 1, 0)]);

    // The officer's copy of S1 is of the version before: his save changes no row, and is refused.
    assert_ne!(fid(&mut qgis, "S1"), loaded);
    let e = refused(&mut qgis, &format!("UPDATE domania_edit.subsectors SET name = 'y' WHERE fid = {loaded}"));
    assert!(e.contains("a changé ou a été supprimée depuis que vous l'avez chargée"), "{e}");
    assert!(store.saved_edits(Layer::Subsectors).unwrap().is_empty());
}

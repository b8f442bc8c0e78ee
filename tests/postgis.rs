//! The PostGIS store end to end, through the `domania` binary: the real Paris 18e and Épinay
//! territories moved from a GeoPackage to PostGIS and back, with the same figures and history;
//! the same commands on a PostGIS store as on a GeoPackage. Needs `$DOMANIA_TEST_PG` (set by
//! `.ci/run`; see `tools/postgres/cluster`).

use std::path::Path;
use std::process::Command;

use domania_testkit::ScratchDatabase;

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
    // Every row is as written, and every layer's rows what its versions add up to.
    let verified = json(store, &["store", "verify"]);
    assert_eq!(
        (verified["altered"].as_array().map(Vec::len), &verified["miscounted"]),
        (Some(0), &serde_json::json!([]))
    );
}

#[test]
#[cfg_attr(domania_e2e_postgis, ignore = "compares both engines: runs in the GeoPackage pass")]
#[cfg_attr(
    all(domania_without_pg, not(domania_e2e_postgis)),
    ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)"
)]
fn paris_and_epinay_move_to_postgis_and_back_with_the_same_figures_and_history() {
    let db = ScratchDatabase::new("e2e_move");
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
#[cfg_attr(domania_e2e_postgis, ignore = "compares both engines: runs in the GeoPackage pass")]
#[cfg_attr(
    all(domania_without_pg, not(domania_e2e_postgis)),
    ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)"
)]
fn a_territory_built_on_postgis_answers_as_one_built_on_a_geopackage() {
    let db = ScratchDatabase::new("e2e_same");
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

/// A streaming replica of the test cluster, removed when dropped.
struct Replica {
    name: String,
    /// The URL of the database, on the replica.
    url: String,
}

impl Replica {
    /// A replica of the cluster of the database at `primary_url` (`pg_basebackup`), on a free
    /// port.
    fn start(primary_url: &str) -> Self {
        let primary_port = primary_url
            .split('@')
            .nth(1)
            .and_then(|h| h.split('/').next())
            .and_then(|h| h.rsplit_once(':'))
            .map_or("5432", |(_, p)| p)
            .to_owned();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
        let name = format!("replica-{}", std::process::id());
        let out = Command::new(crate::support::root().join("tools/postgres/cluster"))
            .args(["replica", &name, &port, &primary_port])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let url = primary_url.replace(&format!(":{primary_port}/"), &format!(":{port}/"));
        Self { name, url }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = Command::new(crate::support::root().join("tools/postgres/cluster")).args(["stop", &self.name]).status();
    }
}

fn get_json(url: &str) -> (u16, serde_json::Value) {
    match ureq::get(url).timeout(std::time::Duration::from_secs(30)).call() {
        Ok(r) => (r.status(), serde_json::from_str(&r.into_string().unwrap()).unwrap()),
        Err(ureq::Error::Status(code, r)) => {
            (code, serde_json::from_str(&r.into_string().unwrap()).unwrap_or_default())
        }
        Err(e) => panic!("{url}: {e}"),
    }
}

/// Posts `file` to `/v1/layers/{layer}` (with its query, `subsectors?force=true`).
fn upload(base: &str, secret: &str, layer: &str, file: &Path) -> serde_json::Value {
    let r = ureq::post(&format!("{base}/v1/layers/{layer}"))
        .set("Authorization", &format!("Bearer {secret}"))
        .set("Content-Type", "application/geo+json")
        .timeout(std::time::Duration::from_mins(2))
        .send_bytes(&std::fs::read(file).unwrap());
    match r {
        Ok(r) => serde_json::from_str(&r.into_string().unwrap()).unwrap(),
        Err(ureq::Error::Status(code, r)) => panic!("upload: {code} {}", r.into_string().unwrap()),
        Err(e) => panic!("upload: {e}"),
    }
}

/// Waits until `base` serves sub-sector `id` at `who`, failing after 10 s; returns how long it
/// took.
fn served_within(base: &str, who: &str, id: &str) -> std::time::Duration {
    let t = std::time::Instant::now();
    loop {
        let (status, v) = get_json(&format!("{base}{who}"));
        assert_eq!(status, 200, "{v}");
        if v["subsector"]["id"] == id {
            return t.elapsed();
        }
        assert!(
            t.elapsed() < std::time::Duration::from_secs(10),
            "{base} still serves {} after 10 s",
            v["subsector"]["id"]
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
#[cfg_attr(domania_without_pg, ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)")]
fn two_servers_on_a_primary_and_its_replica_serve_an_upload_through_either_within_seconds() {
    let db = ScratchDatabase::new("e2e_replica");
    let dir = tempfile::tempdir().unwrap();
    let store = Path::new(db.url());
    let (grid_s, grid_t, grid_u) =
        (dir.path().join("s.geojson"), dir.path().join("t.geojson"), dir.path().join("u.geojson"));
    crate::paris_grid_named(&grid_s, "S");
    crate::paris_grid_named(&grid_t, "T");
    crate::paris_grid_named(&grid_u, "U");
    json(store, &["import", "parcels", shared_data("cadastre-75118-parcelles.json").to_str().unwrap()]);
    json(store, &["import", "subsectors", grid_s.to_str().unwrap()]);
    let secret = ok(store, &["token", "create", "--name", "sig", "--role", "editor"]).trim().to_owned();

    let replica = Replica::start(db.url());
    let reports_a = dir.path().join("reports-a.sqlite");
    let reports_b = dir.path().join("reports-b.sqlite");
    // A reads from the replica, B from the primary; both write to the primary.
    let on_replica = crate::serve::Server::start_with(
        store,
        &["--read-replica", &replica.url, "--reports", reports_a.to_str().unwrap()],
    );
    let on_primary = crate::serve::Server::start_with(store, &["--reports", reports_b.to_str().unwrap()]);
    let (x, y) = (650_557.0 + 3_380.0 / 12.0, 6_864_893.0 + 2_163.0 / 8.0);
    let who = format!("/v1/who?x={x}&y={y}");
    for s in [&on_replica, &on_primary] {
        assert_eq!(get_json(&format!("{}{who}", s.url)).1["subsector"]["id"], "S00");
    }

    // Readers on A while B takes an upload: A serves it within seconds, no read fails.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (stop, url) = (std::sync::Arc::clone(&stop), format!("{}{who}", on_replica.url));
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (status, v) = get_json(&url);
                seen.push((status, v["subsector"]["id"].as_str().unwrap_or("").to_owned()));
            }
            seen
        })
    };
    let answer = upload(&on_primary.url, &secret, "subsectors?force=true", &grid_t);
    assert_eq!(answer["version"]["version"], 2, "{answer}");
    // B answers its own upload with the new snapshot at once.
    assert_eq!(get_json(&format!("{}{who}", on_primary.url)).1["subsector"]["id"], "T00");
    let lag_a = served_within(&on_replica.url, &who, "T00");
    std::thread::sleep(std::time::Duration::from_millis(200));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let seen = reader.join().unwrap();
    assert!(seen.len() > 5 && seen.iter().all(|(s, _)| *s == 200), "a read failed: {seen:?}");
    let first_new = seen.iter().position(|(_, id)| id == "T00").expect("A serves the new version");
    assert!(seen[first_new..].iter().all(|(_, id)| id == "T00"), "A went back to the old version");

    // An upload through A (written to the primary, read back from the replica) reaches B.
    let answer = upload(&on_replica.url, &secret, "subsectors?force=true", &grid_u);
    assert_eq!(answer["version"]["version"], 3, "{answer}");
    assert_eq!(get_json(&format!("{}{who}", on_replica.url)).1["subsector"]["id"], "U00", "A serves its own upload");
    let lag_b = served_within(&on_primary.url, &who, "U00");
    eprintln!("served by the other server after {lag_a:?} (replica) and {lag_b:?} (primary)");
    // Tile URLs are versioned: both now name the same snapshot.
    let (_, va) = get_json(&format!("{}/v1/version", on_replica.url));
    let (_, vb) = get_json(&format!("{}/v1/version", on_primary.url));
    assert_eq!(va["snapshot"], vb["snapshot"]);
    drop((on_replica, on_primary));
}

#[test]
#[cfg_attr(
    any(domania_without_pg, domania_without_pmtiles),
    ignore = "needs a PostgreSQL/PostGIS server (DOMANIA_TEST_PG) and the pmtiles Python package (pip install pmtiles)"
)]
fn a_static_map_per_departement_from_postgis_read_back_by_the_pmtiles_package() {
    let db = ScratchDatabase::new("e2e_pmtiles");
    let dir = tempfile::tempdir().unwrap();
    let store = Path::new(db.url());
    json(store, &["import", "parcels", shared_data("cadastre-75118-parcelles.json").to_str().unwrap()]);
    json(store, &["import", "parcels", shared_data("cadastre-91216-parcelles.json").to_str().unwrap()]);
    let set = dir.path().join("carte");
    let out = json(store, &["export", "pmtiles-set", set.to_str().unwrap(), "--minzoom", "13", "--maxzoom", "14"]);
    let deps: Vec<&str> =
        out["archives"].as_array().unwrap().iter().map(|a| a["departement"].as_str().unwrap()).collect();
    assert_eq!(deps, ["75", "91"], "{out}");

    // Each archive read by the pmtiles package: its box is its own département's.
    for (file, (lon, lat)) in [("75.pmtiles", (2.35, 48.89)), ("91.pmtiles", (2.33, 48.67))] {
        let script = format!(
            "from pmtiles.reader import Reader, MmapSource\n\
             with open({a:?}, 'rb') as f:\n\
             \x20   h = Reader(MmapSource(f)).header()\n\
             \x20   print(h['min_lon_e7'] / 1e7, h['min_lat_e7'] / 1e7, h['max_lon_e7'] / 1e7, h['max_lat_e7'] / 1e7, h['addressed_tiles_count'])\n",
            a = set.join(file).to_str().unwrap()
        );
        let py = Command::new("python3").args(["-c", &script]).output().expect("python3");
        assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
        let v: Vec<f64> = String::from_utf8_lossy(&py.stdout).split_whitespace().map(|x| x.parse().unwrap()).collect();
        assert!(v[0] < lon && lon < v[2] && v[1] < lat && lat < v[3], "{file}: {v:?}");
        assert!(v[2] - v[0] < 0.1 && v[3] - v[1] < 0.1, "{file} covers one commune: {v:?}");
        assert!(v[4] > 0.0);
    }
    // The index lists both; every style draws both archives and passes the validator.
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(set.join("tiles.json")).unwrap()).unwrap();
    let urls: Vec<&str> = index["archives"].as_array().unwrap().iter().map(|a| a["url"].as_str().unwrap()).collect();
    assert_eq!(urls, ["75.pmtiles", "91.pmtiles"]);
    let style_path = set.join("styles/owners.json");
    let style: serde_json::Value = serde_json::from_slice(&std::fs::read(&style_path).unwrap()).unwrap();
    assert_eq!(style["sources"]["d75"]["url"], "pmtiles://75.pmtiles");
    assert_eq!(style["sources"]["d91"]["url"], "pmtiles://91.pmtiles");
    let on: Vec<&str> = style["layers"].as_array().unwrap().iter().filter_map(|l| l["source"].as_str()).collect();
    assert!(on.contains(&"d75") && on.contains(&"d91"));
    for entry in std::fs::read_dir(set.join("styles")).unwrap() {
        crate::styles::validate(&entry.unwrap().path());
    }
    // The sections and streets are named in glyphs written beside the archives: static hosting
    // asks no other host for them.
    assert_eq!(style["glyphs"], "fonts/{fontstack}/{range}.pbf");
    assert!(style["layers"].as_array().unwrap().iter().any(|l| l["id"] == "section-labels-d75"), "{style}");
    for font in ["Open Sans Regular", "Open Sans Semibold"] {
        let pbf = std::fs::read(set.join("fonts").join(font).join("0-255.pbf")).unwrap();
        assert!(pbf.len() > 10_000, "{font}: {} bytes", pbf.len());
    }
}

/// `domania` on the store `url` in an environment of libpq's variables `env` (and none of the
/// machine's, nor its `~/.pgpass`): whether it succeeded, and what it said on stderr.
fn with_libpq_env(url: &str, home: &Path, env: &[(&str, &str)], args: &[&str]) -> (bool, String) {
    let mut cmd = crate::support::command(Path::new(url));
    for var in ["PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGPASSFILE", "PGSSLMODE", "PGSSLROOTCERT"] {
        cmd.env_remove(var);
    }
    let out = cmd.env("HOME", home).envs(env.iter().copied()).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
#[cfg_attr(domania_e2e_postgis, ignore = "makes databases of its own: runs in the GeoPackage pass")]
#[cfg_attr(
    all(domania_without_pg, not(domania_e2e_postgis)),
    ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)"
)]
fn a_password_can_stay_off_the_command_line_in_the_password_file_or_the_environment() {
    let db = ScratchDatabase::new("e2e_pgpass");
    let mut admin = domania_store::pg::client(db.url()).unwrap();
    assert!(
        admin.query_opt("SELECT 1 FROM pg_roles WHERE rolname = 'domania_secret'", &[]).unwrap().is_some(),
        "the test server has no role `domania_secret`: start it with tools/postgres/cluster, which makes it"
    );
    // The role that must give its password (see tools/postgres/cluster).
    let Server { host, port, dbname, .. } = Server::of(db.url());
    let url = format!("postgresql://domania_secret@{host}:{port}/{dbname}");
    let home = tempfile::tempdir().unwrap();
    let sub = home.path().join("subsectors.geojson");
    l93_collection(&sub, vec![(serde_json::json!({"id": "S1"}), rect(651_000.0, 6_865_300.0, 651_100.0, 6_865_400.0))]);
    let import = ["import", "subsectors", sub.to_str().unwrap()];

    // Without a password, the server refuses, and nothing is written.
    let (ok, err) = with_libpq_env(&url, home.path(), &[], &import);
    assert!(!ok && err.contains("password missing") && err.contains("PGPASSWORD or write it in ~/.pgpass"), "{err}");
    let (ok, err) = with_libpq_env(&url, home.path(), &[("PGPASSWORD", "wrong")], &import);
    assert!(!ok && err.contains("password authentication failed for user \"domania_secret\""), "{err}");
    assert!(!err.contains("wrong"), "the password is not repeated: {err}");

    // From ~/.pgpass (libpq's default file), once it is the user's only.
    let pgpass = home.path().join(".pgpass");
    std::fs::write(
        &pgpass,
        format!("# host:port:database:user:password\n{host}:{port}:{dbname}:domania_secret:secret\n"),
    )
    .unwrap();
    let chmod = |mode: u32| {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    // Not read while others may read it, as libpq; the refusal says why.
    chmod(0o644);
    let (ok, err) = with_libpq_env(&url, home.path(), &[], &import);
    assert!(!ok && err.contains("was not read: others may read it (mode 644)") && err.contains("chmod 600"), "{err}");
    chmod(0o600);
    let (ok, err) = with_libpq_env(&url, home.path(), &[], &import);
    assert!(ok, "{err}");

    // Everything from the environment, as psql takes it: `postgresql://` names no server at all.
    let env = [("PGHOST", host), ("PGPORT", port), ("PGDATABASE", dbname), ("PGUSER", "domania_secret")];
    let (ok, err) = with_libpq_env("postgresql://", home.path(), &env, &["--json", "layers"]);
    assert!(ok, "{err}");
    let mut with_password = env.to_vec();
    with_password.push(("PGPASSWORD", "secret"));
    std::fs::remove_file(&pgpass).unwrap();
    let (ok, err) = with_libpq_env("postgresql://", home.path(), &with_password, &["--json", "history", "subsectors"]);
    assert!(ok, "{err}");
    // And the environment's `sslmode`: verify-full without an authority is refused before
    // connecting, as when the string says it.
    with_password.push(("PGSSLMODE", "verify-full"));
    let (ok, err) = with_libpq_env("postgresql://", home.path(), &with_password, &["--json", "layers"]);
    assert!(!ok && err.contains("sslmode=verify-full: give the authority"), "{err}");
}

/// The parts of a scratch database's URL (`postgresql://user:password@host:port/dbname`).
struct Server<'a> {
    user: &'a str,
    password: &'a str,
    host: &'a str,
    port: &'a str,
    dbname: &'a str,
}

impl<'a> Server<'a> {
    fn of(url: &'a str) -> Self {
        let (auth, rest) = url.trim_start_matches("postgresql://").split_once('@').unwrap();
        let (user, password) = auth.split_once(':').unwrap();
        let (host_port, dbname) = rest.split_once('/').unwrap();
        let (host, port) = host_port.split_once(':').unwrap();
        Self { user, password, host, port, dbname: dbname.split('?').next().unwrap() }
    }

    /// GDAL's name of the database.
    fn gdal(&self) -> String {
        let Server { user, password, host, port, dbname } = self;
        format!("PG:host={host} port={port} dbname={dbname} user={user} password={password}")
    }
}

#[test]
#[cfg_attr(domania_e2e_postgis, ignore = "makes databases of its own: runs in the GeoPackage pass")]
#[cfg_attr(
    all(any(domania_without_pg, domania_without_gdal, domania_without_qgis), not(domania_e2e_postgis)),
    ignore = "needs a PostgreSQL/PostGIS server (DOMANIA_TEST_PG), GDAL (gdal-bin) and QGIS's Python bindings (python3-qgis, qgis-providers)"
)]
fn gdal_and_qgis_read_the_postgis_tables_as_they_are_and_may_not_edit_them() {
    let db = ScratchDatabase::new("e2e_clients");
    let store = Path::new(db.url());
    for commune in ["75118", "91216"] {
        json(
            store,
            &["import", "parcels", shared_data(&format!("cadastre-{commune}-parcelles.json")).to_str().unwrap()],
        );
    }
    let server = Server::of(db.url());
    let ogrinfo = |args: &[&str]| {
        let out = Command::new("ogrinfo").arg(server.gdal()).args(args).output().expect("ogrinfo (Debian gdal-bin)");
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (stdout, stderr) = ogrinfo(&["-ro", "-so", "parcels"]);
    assert!(stdout.contains("Feature Count: 11062") && stdout.contains("Lambert-93"), "{stdout}\n{stderr}");
    let (_, stderr) = ogrinfo(&["-sql", "DELETE FROM parcels_d91"]);
    assert!(stderr.contains("la table parcels_d91 est tenue par Domania"), "{stderr}");
    assert!(ogrinfo(&["-ro", "-so", "parcels_d91"]).0.contains("Feature Count: 4241"));

    let Server { user, password, host, port, dbname } = server;
    let out = Command::new("/usr/bin/python3")
        .arg(crate::support::root().join("tools/qgis/check.py"))
        .args([host, port, dbname, user, password, "parcels"])
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let seen: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap();
    assert_eq!(seen["valid"], true, "{seen}");
    assert_eq!((seen["count"].as_u64(), seen["crs"].as_str()), (Some(11062), Some("EPSG:2154")), "{seen}");
    // QGIS takes the two-column key of a partitioned table, where GDAL cannot.
    assert_eq!(seen["key"], "fid,dep", "{seen}");
    assert_eq!(seen["refetched"], true, "{seen}");
    // Its box query finds what PostGIS finds.
    let b: Vec<f64> = seen["box"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let mut client = domania_store::pg::client(db.url()).unwrap();
    let in_box: i64 = client
        .query_one(
            "SELECT COUNT(*) FROM parcels WHERE geom && ST_MakeEnvelope($1, $2, $3, $4, 2154)",
            &[&b[0], &b[1], &b[2], &b[3]],
        )
        .unwrap()
        .get(0);
    assert!(in_box > 1000, "{in_box}");
    assert_eq!(seen["in_box"].as_i64(), Some(in_box), "{seen}");
    // An edit is refused with Domania's message, and nothing changed.
    assert_eq!(seen["committed"], false, "{seen}");
    assert!(seen["errors"].as_str().unwrap().contains("la table parcels est tenue par Domania"), "{seen}");
    assert_eq!(seen["key_after"], serde_json::json!([seen["key_value"]]), "{seen}");
    let verified = json(store, &["store", "verify"]);
    assert_eq!(verified["altered"], serde_json::json!([]), "{verified}");
}

#[test]
#[cfg_attr(domania_e2e_postgis, ignore = "about PostGIS itself: runs in the GeoPackage pass")]
#[cfg_attr(
    all(domania_without_pg, not(domania_e2e_postgis)),
    ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)"
)]
fn four_servers_started_together_on_a_new_postgis_store_all_serve() {
    let db = ScratchDatabase::new("e2e_four");
    let store = Path::new(db.url());
    // A new store: its layers, and no table of service requests yet.
    json(
        store,
        &["import", "parcels", crate::support::root().join("data/cadastre-synth-parcelles.json").to_str().unwrap()],
    );
    let mut client = domania_store::pg::client(db.url()).unwrap();
    let reports: bool = client.query_one("SELECT to_regclass('reports') IS NOT NULL", &[]).unwrap().get(0);
    assert!(!reports, "the test starts before the reports' tables exist");
    let go = std::sync::Arc::new(std::sync::Barrier::new(4));
    let servers: Vec<_> = (0..4)
        .map(|_| {
            let (url, go) = (db.url().to_owned(), std::sync::Arc::clone(&go));
            std::thread::spawn(move || {
                go.wait();
                crate::serve::Server::start_with(Path::new(&url), &[])
            })
        })
        .collect();
    let servers: Vec<_> = servers.into_iter().map(|s| s.join().expect("every server starts")).collect();
    for s in &servers {
        let (status, body) = get_json(&format!("{}/v1/version", s.url));
        assert_eq!(status, 200, "{body}");
    }
    let tables: i64 = client
        .query_one("SELECT count(*) FROM pg_class WHERE relname IN ('reports', 'report_events') AND relkind = 'r'", &[])
        .unwrap()
        .get(0);
    assert_eq!(tables, 2);
}

/// `file` (a cadastre of Etalab) without its first parcel, written to `out`.
fn one_parcel_fewer(file: &Path, out: &Path) -> String {
    let mut fc: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let gone = fc["features"].as_array_mut().unwrap().remove(0);
    std::fs::write(out, serde_json::to_vec(&fc).unwrap()).unwrap();
    gone["properties"]["id"].as_str().unwrap().to_owned()
}

#[test]
#[cfg_attr(domania_without_pg, ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)")]
fn a_version_of_one_departement_leaves_the_server_of_another_as_it_was() {
    let db = ScratchDatabase::new("e2e_parts");
    let dir = tempfile::tempdir().unwrap();
    let store = Path::new(db.url());
    let grid = dir.path().join("s.geojson");
    crate::paris_grid_named(&grid, "S");
    for c in ["75118", "91216"] {
        json(store, &["import", "parcels", shared_data(&format!("cadastre-{c}-parcelles.json")).to_str().unwrap()]);
    }
    json(store, &["import", "subsectors", grid.to_str().unwrap()]);
    let secret = ok(store, &["token", "create", "--name", "sig", "--role", "editor"]).trim().to_owned();
    let files = dir.path().join("snapshots");
    let part = |dep: &str, reports: &str| {
        let reports = dir.path().join(reports);
        crate::serve::Server::start_env(
            store,
            &["--part", &format!("departement={dep}"), "--reports", reports.to_str().unwrap()],
            &[("DOMANIA_SNAPSHOT_DIR", files.as_path())],
        )
    };
    let (paris, essonne) = (part("75", "r75.sqlite"), part("91", "r91.sqlite"));
    let version = |s: &crate::serve::Server| get_json(&format!("{}/v1/version", s.url)).1;
    let before = version(&essonne);
    assert_eq!(before["layers"]["parcels"], 2, "{before}");

    // Paris 18e, one parcel fewer, through the server of 75: the server of 91 does not rebuild,
    // and tags its answers as before.
    let fewer = dir.path().join("75118.json");
    let gone = one_parcel_fewer(&shared_data("cadastre-75118-parcelles.json"), &fewer);
    let answer = upload(&paris.url, &secret, "parcels", &fewer);
    assert_eq!((answer["version"]["version"].as_i64(), answer["version"]["removed"].as_i64()), (Some(3), Some(1)));
    assert_eq!(get_json(&format!("{}/v1/parcels/{gone}", paris.url)).0, 404, "75 serves its upload");
    std::thread::sleep(std::time::Duration::from_secs(3));
    let after = version(&essonne);
    assert_eq!((&after["snapshot"], &after["layers"]), (&before["snapshot"], &before["layers"]), "{after}");
    assert_eq!(after["build_ms"], before["build_ms"], "not rebuilt: {after}");

    // Épinay, one parcel fewer, through the same server: the server of 91 serves it within
    // seconds, and 75's is left as it was.
    let paris_before = version(&paris);
    let fewer = dir.path().join("91216.json");
    let gone = one_parcel_fewer(&shared_data("cadastre-91216-parcelles.json"), &fewer);
    assert_eq!(get_json(&format!("{}/v1/parcels/{gone}", essonne.url)).0, 200);
    let answer = upload(&paris.url, &secret, "parcels", &fewer);
    assert_eq!(answer["version"]["version"], 4, "{answer}");
    let t = std::time::Instant::now();
    while get_json(&format!("{}/v1/parcels/{gone}", essonne.url)).0 != 404 {
        assert!(t.elapsed() < std::time::Duration::from_secs(20), "91 does not serve the upload after 20 s");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(version(&essonne)["layers"]["parcels"], 4);
    let paris_after = version(&paris);
    assert_eq!(
        (&paris_after["snapshot"], &paris_after["build_ms"]),
        (&paris_before["snapshot"], &paris_before["build_ms"])
    );
    drop((paris, essonne));
}

/// The lines of Paris 18e in the DGFiP owner file of Paris, less the one right `P` of a parcel
/// of the cadastre that has no other, written to `out` with the header; that parcel's IDU and
/// its owner's name.
fn paris_owners_less_one(out: &Path) -> (String, String) {
    let cadastre: serde_json::Value =
        serde_json::from_slice(&std::fs::read(shared_data("cadastre-75118-parcelles.json")).unwrap()).unwrap();
    let parcels: std::collections::HashSet<&str> =
        cadastre["features"].as_array().unwrap().iter().filter_map(|f| f["id"].as_str()).collect();
    let text = std::fs::read(shared_data("dgfip_pm/PM_25_NB_750_part_003.csv")).unwrap();
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    let field = |l: &[u8], i: usize| String::from_utf8_lossy(l.split(|&b| b == b';').nth(i).unwrap()).into_owned();
    let mine: Vec<&[u8]> = lines[1..].iter().copied().filter(|l| field(l, 2) == "118").collect();
    let idu = |l: &[u8]| format!("75118{:0>3}{:0>2}{:0>4}", field(l, 4), field(l, 5), field(l, 6));
    let right_p = |l: &[u8]| field(l, 17).starts_with("P ");
    let gone = mine
        .iter()
        .position(|l| {
            right_p(l)
                && parcels.contains(idu(l).as_str())
                && mine.iter().filter(|m| right_p(m) && idu(m) == idu(l)).count() == 1
        })
        .unwrap();
    let (parcel, name) = (idu(mine[gone]), field(mine[gone], 23).trim().to_owned());
    let kept: Vec<&[u8]> =
        std::iter::once(lines[0]).chain(mine.iter().enumerate().filter(|(i, _)| *i != gone).map(|(_, l)| *l)).collect();
    std::fs::write(out, kept.join(&b'\n')).unwrap();
    (parcel, name)
}

#[test]
#[cfg_attr(domania_without_pg, ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)")]
fn an_owner_file_imported_elsewhere_is_served_by_a_database_server_as_a_fresh_start_serves_it() {
    let db = ScratchDatabase::new("e2e_owners");
    let dir = tempfile::tempdir().unwrap();
    let store = Path::new(db.url());
    let grid = dir.path().join("s.geojson");
    crate::paris_grid_named(&grid, "S");
    json(store, &["import", "parcels", shared_data("cadastre-75118-parcelles.json").to_str().unwrap()]);
    json(store, &["import", "owners", shared_data("dgfip_pm/PM_25_NB_750_part_003.csv").to_str().unwrap()]);
    json(store, &["import", "subsectors", grid.to_str().unwrap()]);
    let server = |files: &str| {
        let files = dir.path().join(files);
        let reports = files.with_extension("sqlite");
        crate::serve::Server::start_env(
            store,
            &["--part", "departement=75", "--reports", reports.to_str().unwrap()],
            &[("DOMANIA_SNAPSHOT_DIR", files.as_path())],
        )
    };
    let following = server("following");
    let fewer = dir.path().join("75118-owners.csv");
    let (parcel, name) = paris_owners_less_one(&fewer);
    let owners = |s: &crate::serve::Server| get_json(&format!("{}/v1/parcels/{parcel}", s.url)).1["owners"].to_string();
    assert!(owners(&following).contains(&name), "{parcel} is held by {name}: {}", owners(&following));

    // Another writer (the command line) imports Paris 18e's owners less that right: the server
    // hears of it (NOTIFY) and serves it within seconds.
    let v = json(store, &["import", "owners", fewer.to_str().unwrap(), "--scope", "commune=75118"]);
    assert_eq!(v["version"].as_i64(), Some(2), "{v}");
    let t = std::time::Instant::now();
    while owners(&following).contains(&name) {
        assert!(t.elapsed() < std::time::Duration::from_secs(20), "the new owners are not served after 20 s");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // What it serves is what a server started afresh serves, to the tag.
    let fresh = server("fresh");
    let answers = |s: &crate::serve::Server| {
        let version = get_json(&format!("{}/v1/version", s.url)).1;
        let subsectors: Vec<serde_json::Value> = ["S00", "S12", "S23", "S35"]
            .iter()
            .map(|id| get_json(&format!("{}/v1/subsectors/{id}", s.url)).1)
            .collect();
        (version["snapshot"].clone(), version["layers"].clone(), owners(s), subsectors)
    };
    assert_eq!(answers(&following), answers(&fresh));
    drop((following, fresh));
}

//! `domania serve` as a real process on the Paris 18e real data: the URL it prints, answers
//! over HTTP, an upload while reads run (every read sees the old or the new snapshot, never a
//! mix, and none fails), GDAL's OAPIF client, and a graceful stop on SIGTERM.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::support::{domania, shared_data, texts};

/// A running server, stopped (SIGTERM) when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) url: String,
}

impl Server {
    pub(crate) fn start(store: &std::path::Path) -> Self {
        Self::start_with(store, &[])
    }

    /// `domania --store STORE serve --bind 127.0.0.1:0 EXTRA…`.
    pub(crate) fn start_with(store: &std::path::Path, extra: &[&str]) -> Self {
        Self::start_env(store, extra, &[])
    }

    /// [`Server::start_with`] with environment variables.
    pub(crate) fn start_env(store: &std::path::Path, extra: &[&str], env: &[(&str, &std::path::Path)]) -> Self {
        let mut child = crate::support::command(store)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(extra)
            .envs(env.iter().map(|(k, v)| (*k, *v)))
            .env("DOMANIA_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start domania serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().rsplit(' ').next().unwrap().trim_end_matches('/').to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{line}");
        Self { child, url }
    }

    /// SIGTERM, then the exit status.
    pub(crate) fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        std::mem::forget(self);
        status
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn get(url: &str) -> (u16, String, String) {
    match ureq::get(url).timeout(Duration::from_secs(30)).call() {
        Ok(r) => (r.status(), r.header("etag").unwrap_or("").to_owned(), r.into_string().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, String::new(), r.into_string().unwrap()),
        Err(e) => panic!("{url}: {e}"),
    }
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn ogrinfo(args: &[&str]) -> String {
    let out = Command::new("ogrinfo").args(args).output().expect("ogrinfo (gdal-bin) is installed by .ci/run");
    let (o, e) = (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert!(out.status.success(), "ogrinfo {args:?}: {e}");
    o + &e
}

#[test]
#[cfg_attr(domania_without_gdal, ignore = "needs GDAL's OAPIF client, ogrinfo (gdal-bin)")]
fn serve_paris_answers_updates_without_mixing_versions_and_speaks_oapif() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("paris.gpkg");
    let (grid_s, grid_t) = (dir.path().join("grid-s.geojson"), dir.path().join("grid-t.geojson"));
    crate::paris_grid_named(&grid_s, "S");
    crate::paris_grid_named(&grid_t, "T");
    for (kind, file) in [
        ("parcels", shared_data("cadastre-75118-parcelles.json")),
        ("owners", shared_data("dgfip_pm/PM_25_NB_750_part_003.csv")),
        ("subsectors", grid_s.clone()),
    ] {
        let out = domania(&store, &["import", kind, file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", texts(&out).1);
    }
    let out = domania(&store, &["token", "create", "--name", "sig", "--role", "editor"]);
    let (secret, err) = texts(&out);
    assert!(out.status.success(), "{err}");
    let secret = secret.trim().to_owned();
    assert!(secret.starts_with("dmn_") && !secret.contains(' '), "the secret alone on standard output: {secret}");
    let listed = texts(&domania(&store, &["token", "list"])).0;
    assert!(listed.contains("sig") && !listed.contains(&secret));

    let server = Server::start(&store);
    let base = server.url.clone();
    // A point in the middle of the grid's first cell (S00, then T00).
    let (x, y) = (650_557.0 + 3_380.0 / 12.0, 6_864_893.0 + 2_163.0 / 8.0);
    let who = format!("{base}/v1/who?x={x}&y={y}");
    let (status, _, body) = get(&who);
    assert_eq!(status, 200, "{body}");
    let v = json(&body);
    assert_eq!(v["subsector"]["id"], "S00");
    assert!(!v["managers"].as_array().unwrap().is_empty());
    let (status, _, body) = get(&format!("{base}/v1/parcels/75118000AA0001"));
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = get(&format!("{base}/v1/who?lon=-20&lat=10"));
    assert_eq!((status, json(&body)["code"].as_str()), (400, Some("outside_france")));

    // Readers run while the sub-sectors are replaced.
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (stop, who) = (Arc::clone(&stop), who.clone());
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let (status, tag, body) = get(&who);
                    let id = json(&body)["subsector"]["id"].as_str().unwrap_or("").to_owned();
                    seen.push((status, tag, id));
                }
                seen
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // Without force, replacing every cell is refused by the store's safety check: 409, nothing
    // written.
    let refused = ureq::post(&format!("{base}/v1/layers/subsectors"))
        .set("Authorization", &format!("Bearer {secret}"))
        .send_bytes(&std::fs::read(&grid_t).unwrap());
    match refused {
        Err(ureq::Error::Status(409, r)) => assert_eq!(json(&r.into_string().unwrap())["code"], "import_refused"),
        other => panic!("expected 409: {other:?}"),
    }
    // Every cell renamed: the whole layer replaced, which the safety check wants said.
    let upload = ureq::post(&format!("{base}/v1/layers/subsectors?force=true"))
        .set("Authorization", &format!("Bearer {secret}"))
        .set("Content-Type", "application/geo+json")
        .timeout(Duration::from_mins(2))
        .send_bytes(&std::fs::read(&grid_t).unwrap());
    let answer = match upload {
        Ok(r) => r.into_string().unwrap(),
        Err(ureq::Error::Status(code, r)) => panic!("upload: {code} {}", r.into_string().unwrap()),
        Err(e) => panic!("upload: {e}"),
    };
    assert_eq!(json(&answer)["version"]["version"], 2, "{answer}");
    assert_eq!(json(&answer)["version"]["author"], "sig");
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let mut by_tag: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        std::collections::BTreeMap::default();
    for r in readers {
        let seen = r.join().unwrap();
        assert!(seen.len() > 5, "{} reads", seen.len());
        assert!(seen.iter().all(|(s, _, _)| *s == 200), "a read failed");
        // Each reader sees the old snapshot, then the new one, never back.
        let first_new = seen.iter().position(|(_, _, id)| id == "T00").expect("the new version is seen");
        assert!(seen[first_new..].iter().all(|(_, _, id)| id == "T00"), "a read went back to the old version");
        for (_, tag, id) in seen {
            by_tag.entry(tag).or_default().insert(id);
        }
    }
    assert_eq!(by_tag.len(), 2, "{by_tag:?}");
    assert!(by_tag.values().all(|ids| ids.len() == 1), "a snapshot answered with two versions: {by_tag:?}");

    // GDAL's OAPIF client: the collections, parcels in a box in CRS84.
    let oapif = format!("OAPIF:{base}");
    let layers = ogrinfo(&["-ro", "-so", &oapif]);
    for c in ["parcels", "qpv", "subsectors", "conventions", "spaces"] {
        assert!(layers.contains(c), "{layers}");
    }
    let in_box = ogrinfo(&["-ro", "-al", "-so", &oapif, "parcels", "-spat", "2.345", "48.890", "2.350", "48.893"]);
    let count: usize = in_box
        .lines()
        .find_map(|l| l.strip_prefix("Feature Count: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{in_box}"));
    assert!((10..5_000).contains(&count), "{count} parcels in the box");
    // In Lambert-93: GDAL 3.6's OAPIF driver cannot ask for a CRS, so its GeoJSON driver reads
    // the items URL with crs= and bbox-crs=, as QGIS does with a URL source.
    let items = format!(
        "{base}/collections/parcels/items?limit=1000&crs=EPSG:2154&bbox-crs=EPSG:2154&bbox=651800,6865400,652100,6865600"
    );
    let l93 = ogrinfo(&["-ro", "-al", &items]);
    assert!(l93.contains("Lambert-93") || l93.contains("2154"), "{}", &l93[..l93.len().min(2000)]);
    assert!(l93.contains("MULTIPOLYGON (((65"), "coordinates in metres: {}", &l93[..l93.len().min(2000)]);

    // A vector tile over the 18e, decoded by GDAL's MVT driver and by ours: the same parcels,
    // with the actor the store gives each.
    let tile = ureq::get(&format!("{base}/tiles/parcels/16/33195/22536.mvt")).call().unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut tile.into_reader(), &mut bytes).unwrap();
    let ours = domania_tiles::mvt::decode(&bytes).unwrap();
    let parcels = &ours.iter().find(|l| l.name == "parcels").expect("parcels in the tile").features;
    assert!(parcels.len() > 20, "{} parcels", parcels.len());
    let path = dir.path().join("tile.mvt");
    std::fs::write(&path, &bytes).unwrap();
    // CLIP=NO: GDAL would otherwise leave out the features lying in the buffer only.
    let gdal = ogrinfo(&["-ro", "-al", "-oo", "CLIP=NO", path.to_str().unwrap()]);
    let count: usize = gdal
        .lines()
        .find_map(|l| l.strip_prefix("Feature Count: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{}", &gdal[..gdal.len().min(2000)]));
    assert_eq!(count, parcels.len(), "GDAL and our decoder count the same features");
    for f in parcels.iter().step_by(parcels.len() / 5) {
        let prop = |k: &str| match f.properties.iter().find(|(n, _)| n == k) {
            Some((_, domania_tiles::mvt::Value::String(v))) => v.clone(),
            other => panic!("{k}: {other:?}"),
        };
        let idu = prop("idu");
        assert!(gdal.contains(&format!("idu (String) = {idu}")), "GDAL reads {idu}");
        let (status, _, body) = get(&format!("{base}/v1/parcels/{idu}"));
        assert_eq!(status, 200);
        assert_eq!(json(&body)["actor"].as_str(), Some(prop("actor").as_str()), "{idu}");
    }

    // The tile against what the store holds there: every parcel the store finds at a 12 × 12
    // grid of points over the tile is in it, and every parcel of the tile is one the store's
    // box query over the buffered tile returns.
    let idus: std::collections::HashSet<String> = parcels
        .iter()
        .filter_map(|f| f.properties.iter().find(|(k, _)| k == "idu"))
        .map(|(_, v)| match v {
            domania_tiles::mvt::Value::String(s) => s.clone(),
            other => panic!("idu {other:?}"),
        })
        .collect();
    assert_eq!(idus.len(), parcels.len(), "one feature per parcel");
    let (z, tx, ty) = (16.0f64, 33195.0f64, 22536.0f64);
    let lon = |x: f64| x / z.exp2() * 360.0 - 180.0;
    let lat = |y: f64| (std::f64::consts::PI * (1.0 - 2.0 * y / z.exp2())).sinh().atan().to_degrees();
    let mut found = 0;
    for i in 0..12 {
        for j in 0..12 {
            let (x, y) = (tx + (f64::from(i) + 0.5) / 12.0, ty + (f64::from(j) + 0.5) / 12.0);
            let (status, _, body) = get(&format!("{base}/v1/who?lon={:.7}&lat={:.7}", lon(x), lat(y)));
            assert_eq!(status, 200, "{body}");
            for p in json(&body)["parcels"].as_array().unwrap() {
                let idu = p["idu"].as_str().unwrap();
                assert!(idus.contains(idu), "the store has {idu} in the tile, the tile does not");
                found += 1;
            }
        }
    }
    assert!(found > 50, "{found} parcels found at the grid's points");
    let pad = 64.0 / 4096.0;
    let (status, _, body) = get(&format!(
        "{base}/collections/parcels/items?limit=10000&bbox={},{},{},{}",
        lon(tx - pad),
        lat(ty + 1.0 + pad),
        lon(tx + 1.0 + pad),
        lat(ty - pad)
    ));
    assert_eq!(status, 200, "{body}");
    let in_box: std::collections::HashSet<String> = json(&body)["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["idu"].as_str().or(f["id"].as_str()).unwrap().to_owned())
        .collect();
    assert!(idus.is_subset(&in_box), "tile parcels the store does not have there: {:?}", idus.difference(&in_box));

    let status = server.stop();
    assert!(status.success(), "a graceful stop exits 0: {status}");
}

/// `serve --basemap`: raster tiles (Plan IGN's WMTS template) or a MapLibre style, with its
/// attribution, told to the viewer through the territory; anything else refused before serving.
#[test]
fn a_basemap_is_raster_tiles_or_a_maplibre_style_with_its_attribution() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("demo.gpkg");
    let out =
        crate::support::domania(&store, &["demo", "--dir", crate::support::root().join("data").to_str().unwrap()]);
    assert!(out.status.success(), "{}", crate::support::texts(&out).1);
    let ign = "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&TILEMATRIXSET=PM&FORMAT=image/png&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}";
    for (url, kind) in [
        (ign, "raster"),
        ("https://tiles.example.org/styles/plan/style.json", "style"),
        ("https://cdn.example.org/ortho-78.pmtiles", "pmtiles"),
    ] {
        let server = Server::start_with(&store, &["--basemap", url, "--basemap-attribution", "© IGN"]);
        let (status, _, body) = get(&format!("{}/v1/territory", server.url));
        assert_eq!(status, 200, "{body}");
        let t = json(&body);
        assert_eq!(t["basemap"], serde_json::json!({"url": url, "kind": kind, "attribution": "© IGN"}), "{t}");
    }
    let out = crate::support::domania(
        &store,
        &["serve", "--bind", "127.0.0.1:0", "--basemap", "https://tile.example.org/{z}/{x}.png"],
    );
    assert!(!out.status.success());
    assert!(crate::support::texts(&out).1.contains("{y} is missing"), "{}", crate::support::texts(&out).1);
}

/// The snapshot files in `dir` (beside a GeoPackage store, or there for a database).
fn snapshot_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "snapshot"))
        .collect()
}

/// Waits for the snapshot file a server writes in the background after it starts serving.
fn written(dir: &std::path::Path) -> (std::path::PathBuf, std::time::SystemTime, u64) {
    for _ in 0..600 {
        if let [file] = snapshot_files(dir).as_slice() {
            let meta = std::fs::metadata(file).unwrap();
            return (file.clone(), meta.modified().unwrap(), meta.len());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "no snapshot file in {} after 30 s: {:?}",
        dir.display(),
        std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect::<Vec<_>>()
    );
}

#[test]
fn a_second_start_reads_the_snapshot_file_and_a_damaged_one_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::paris_store(dir.path(), "S");
    let (x, y) = (650_557.0 + 3_380.0 / 12.0, 6_864_893.0 + 2_163.0 / 8.0);
    let answers = |server: &Server| {
        let who = get(&format!("{}/v1/who?x={x}&y={y}", server.url));
        let tile = get(&format!("{}/tiles/parcels,spaces/16/33195/22536.mvt", server.url));
        let shares = get(&format!("{}/v1/subsectors/S00", server.url));
        assert_eq!((who.0, tile.0, shares.0), (200, 200, 200), "{}", who.2);
        (who, tile.2.len(), shares)
    };
    assert!(snapshot_files(dir.path()).is_empty());
    let shares = || ["csv", "json", "geojson"].map(|f| crate::ok(&store, &["shares", "--format", f]));
    let from_store = shares();
    let first = Server::start(&store);
    let built = answers(&first);
    let (file, at, len) = written(dir.path());
    assert!(len > 100_000, "{len} bytes");
    assert!(first.stop().success());
    // The shares command reads the sub-sectors' shares from the file's beginning: the same.
    assert_eq!(shares(), from_store);

    // Read, not written again; the same answers (the same ETag: the same snapshot).
    let second = Server::start(&store);
    assert_eq!(answers(&second), built);
    assert_eq!(written(dir.path()), (file.clone(), at, len), "the file is read, not written again");
    assert!(second.stop().success());

    // Cut short: never trusted, rebuilt, and written whole again.
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 3]).unwrap();
    let third = Server::start(&store);
    assert_eq!(answers(&third), built);
    for _ in 0..600 {
        if std::fs::metadata(&file).unwrap().len() == len {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(std::fs::read(&file).unwrap(), bytes, "the file written again is the one first written");
}

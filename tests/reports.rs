//! Reports of dysfunctions over HTTP exactly as a GeoReport v2 client makes them (form-encoded
//! POST with `api_key`, then `GET requests/{id}.json`), and `kill -9` of the server in the
//! middle of a burst of posts: every acknowledged report is there after a restart, whole.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::serve::Server;
use crate::support::{domania, root, texts};

fn parsed(r: ureq::Response) -> Result<serde_json::Value, String> {
    let text = r.into_string().map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))
}

fn get(url: &str) -> (u16, serde_json::Value) {
    match ureq::get(url).timeout(Duration::from_secs(30)).call() {
        Ok(r) => (r.status(), parsed(r).unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, parsed(r).unwrap()),
        Err(e) => panic!("{url}: {e}"),
    }
}

fn post(url: &str, fields: &[(&str, &str)]) -> Result<(u16, serde_json::Value), String> {
    match ureq::post(url).timeout(Duration::from_secs(30)).send_form(fields) {
        Ok(r) => Ok((r.status(), parsed(r)?)),
        Err(ureq::Error::Status(code, r)) => Ok((code, parsed(r)?)),
        Err(e) => Err(e.to_string()),
    }
}

/// A store of the demo territory (data/) in a temporary folder.
fn demo_store() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("demo.gpkg");
    for (kind, file) in [
        ("parcels", "cadastre-synth-parcelles.json"),
        ("owners", "ppm-synth.csv"),
        ("qpv", "qpv-synth.geojson"),
        ("subsectors", "subsectors-synth.geojson"),
    ] {
        let out = domania(&store, &["import", kind, root().join("data").join(file).to_str().unwrap()]);
        assert!(out.status.success(), "{}", texts(&out).1);
    }
    (dir, store)
}

#[test]
fn a_georeport_client_posts_and_follows_and_reports_survive_kill_9() {
    let (dir, store) = demo_store();
    let out = domania(&store, &["token", "create", "--name", "mairie-des-mureaux", "--role", "reporter"]);
    assert!(out.status.success(), "{}", texts(&out).1);
    let key = texts(&out).0.trim().to_owned();

    // A burst of 2,000 posts from one token: the rules lift the posting limit for it (the limit
    // itself is tested below).
    let unlimited = dir.path().join("rules-unlimited.toml");
    let rules = std::fs::read_to_string(root().join("data/rules.toml")).unwrap();
    std::fs::write(&unlimited, rules.replacen("posts_per_minute = 30", "posts_per_minute = 0", 1)).unwrap();
    let server = Server::start_with(&store, &["--rules", unlimited.to_str().unwrap()]);
    let api = format!("{}/open311/v2", server.url);
    let (status, services) = get(&format!("{api}/services.json"));
    assert_eq!(status, 200);
    assert!(services.as_array().unwrap().iter().any(|s| s["service_code"] == "dumping"));
    let (status, answer) = post(
        &format!("{api}/requests.json"),
        &[
            ("api_key", &key),
            ("service_code", "dumping"),
            ("lat", "48.927"),
            ("long", "1.806"),
            ("description", "Matelas et sacs devant le hall B"),
            ("media_url", "https://example.org/photo.jpg"),
            ("attribute[blocked_access]", "true"),
        ],
    )
    .unwrap();
    assert_eq!(status, 201, "{answer}");
    let id = answer[0]["service_request_id"].as_str().unwrap().to_owned();
    let (status, r) = get(&format!("{api}/requests/{id}.json"));
    assert_eq!(status, 200);
    let r = &r[0];
    assert_eq!(r["service_request_id"], id.as_str());
    assert_eq!(r["status"], "open");
    assert_eq!(r["description"], "Matelas et sacs devant le hall B");
    assert_eq!(r["urgency"], "urgent");
    for field in ["agency_responsible", "requested_datetime", "updated_datetime", "expected_datetime"] {
        assert!(r[field].as_str().is_some_and(|v| !v.is_empty()), "{field}: {r}");
    }
    // A bad api_key, in GeoReport's error format; nothing stored.
    let (status, err) = post(
        &format!("{api}/requests.json"),
        &[("api_key", "nope"), ("service_code", "dumping"), ("lat", "48.927"), ("long", "1.806"), ("description", "x")],
    )
    .unwrap();
    assert_eq!((status, err[0]["code"].as_u64()), (401, Some(401)));

    // A burst of posts, and kill -9 in the middle of it.
    let acknowledged = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let burst = {
        let (url, key, acknowledged) = (format!("{api}/requests.json"), key.clone(), Arc::clone(&acknowledged));
        std::thread::spawn(move || {
            for k in 0..2000 {
                let (lon, description) = (format!("{:.6}", 1.8055 + f64::from(k % 20) * 0.00005), format!("burst {k}"));
                let fields = [
                    ("api_key", key.as_str()),
                    ("service_code", "litter"),
                    ("lat", "48.9271"),
                    ("long", lon.as_str()),
                    ("description", description.as_str()),
                ];
                match post(&url, &fields) {
                    Ok((201, a)) => {
                        let id = a[0]["service_request_id"].as_str().unwrap().to_owned();
                        acknowledged.lock().unwrap().push((id, description));
                    }
                    Ok((code, a)) => panic!("{code}: {a}"),
                    Err(_) => break,
                }
            }
        })
    };
    while acknowledged.lock().unwrap().len() < 50 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut server = server;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    burst.join().unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 50 && acknowledged.len() < 2000, "{} posts acknowledged", acknowledged.len());

    let server = Server::start(&store);
    let api = format!("{}/open311/v2", server.url);
    for (id, description) in &acknowledged {
        let (status, r) = get(&format!("{api}/requests/{id}.json"));
        assert_eq!(status, 200, "acknowledged request {id} lost");
        assert_eq!(r[0]["description"], description.as_str());
        assert_eq!(r[0]["events"][0]["status"], r[0]["detailed_status"], "its first step is there with it");
    }
    // Nothing half-written: every stored request has its first step.
    let (_, all) = get(&format!("{api}/requests.json?service_code=litter"));
    let all = all.as_array().unwrap();
    assert!(all.len() >= acknowledged.len());
    for r in all {
        let id = r["service_request_id"].as_str().unwrap();
        let (_, one) = get(&format!("{api}/requests/{id}.json"));
        assert!(!one[0]["events"].as_array().unwrap().is_empty(), "request {id} without its first step");
    }
    assert!(server.stop().success());
}

#[test]
fn a_walking_diagnostic_gives_one_list_per_service_and_a_bad_observation_stores_none() {
    let (dir, store) = demo_store();
    // A semicolon CSV with decimal commas, as a spreadsheet writes it after the walk.
    let walk = dir.path().join("walk.csv");
    std::fs::write(
        &walk,
        "lon;lat;category;note;photo\n1,806;48,927;dumping;Encombrants devant le hall;IMG_1.jpg\n\
         1,8065;48,9272;litter;Papiers;IMG_2.jpg\n1,806;48,927;green;Haie non taillée;\n",
    )
    .unwrap();
    let lists = dir.path().join("lists");
    let out =
        domania(&store, &["reports", "walk", walk.to_str().unwrap(), "--by", "DVQ", "--out", lists.to_str().unwrap()]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("cu-dechets: 1 reports"), "{stdout}");
    let mut files: Vec<String> =
        std::fs::read_dir(&lists).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    files.sort();
    // Per service: the list (CSV), its points (GeoJSON) and its sheet to print (PDF).
    assert_eq!(files.len(), 9, "{files:?}");
    for f in ["cu-dechets.csv", "cu-dechets.geojson", "cu-dechets.pdf"] {
        assert!(files.contains(&f.to_owned()), "{f} in {files:?}");
    }
    assert!(std::fs::read(lists.join("cu-dechets.pdf")).unwrap().starts_with(b"%PDF-"));
    let waste = std::fs::read_to_string(lists.join("cu-dechets.csv")).unwrap();
    assert_eq!(waste.lines().count(), 2, "{waste}");
    assert!(waste.contains("Encombrants devant le hall") && waste.contains("walk:walk.csv"));
    let gj: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(lists.join("cu-dechets.geojson")).unwrap()).unwrap();
    assert_eq!(gj["features"][0]["geometry"]["type"], "Point");
    // One observation outside the territory: the error names it, and nothing is stored.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "lon,lat,category,note\n1.806,48.927,litter,ici\n1.44,43.6,litter,à Toulouse\n").unwrap();
    let out =
        domania(&store, &["reports", "walk", bad.to_str().unwrap(), "--by", "DVQ", "--out", lists.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(texts(&out).1.contains("bad.csv: line 3"), "{}", texts(&out).1);
    let listed = domania(&store, &["reports", "list", "--format", "json"]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 3);
}

/// GeoReport v2 in both of its formats, through real clients: the `georeport` package's four
/// calls in JSON and in XML, and a request posted as FixMyStreet's Open311 client posts it (to
/// `requests.xml`, with its own fields) with its answer and its errors read as FixMyStreet reads
/// them, and its later step read from `servicerequestupdates.xml` as FixMyStreet fetches
/// updates (tools/georeport/check.py).
#[test]
#[cfg_attr(
    domania_without_georeport,
    ignore = "needs the georeport, xmltodict and requests Python packages (pip install -r tools/georeport/requirements.txt)"
)]
fn georeport_and_fixmystreet_read_and_post_in_json_and_xml() {
    let (_dir, store) = demo_store();
    let out = domania(&store, &["token", "create", "--name", "fixmystreet", "--role", "reporter"]);
    assert!(out.status.success(), "{}", texts(&out).1);
    let key = texts(&out).0.trim().to_owned();
    let out = domania(&store, &["token", "create", "--name", "ctc", "--role", "editor"]);
    let editor = texts(&out).0.trim().to_owned();
    let server = Server::start(&store);
    let out = std::process::Command::new("python3")
        .arg(root().join("tools/georeport/check.py"))
        .args([server.url.as_str(), key.as_str(), editor.as_str()])
        .output()
        .expect("python3 runs the clients");
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "the Open311 clients failed:\n{stderr}\n{stdout}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    eprintln!("georeport: {summary}");
    for format in ["json", "xml"] {
        assert_eq!(summary[format]["agency"], "Direction de la gestion des déchets", "{summary}");
        assert!(summary[format]["services"].as_u64().unwrap() >= 5, "{summary}");
    }
    assert_eq!(summary["errors"].as_array().map(Vec::len), Some(4), "{summary}");
    assert_eq!(summary["update"]["status"], "ACTION_SCHEDULED", "{summary}");
    assert!(server.stop().success());
}

/// A reporter posting in a tight loop is slowed: past the rules' `posts_per_minute` (30 by
/// default) from one token or one address, GeoReport's error 429 with `Retry-After`, in the
/// format asked; nothing more is stored.
#[test]
fn a_reporter_posting_in_a_loop_is_slowed_with_429_and_retry_after() {
    let (_dir, store) = demo_store();
    let key =
        texts(&domania(&store, &["token", "create", "--name", "boucle", "--role", "reporter"])).0.trim().to_owned();
    let server = Server::start(&store);
    let fields = |k: usize| {
        vec![
            ("api_key".to_owned(), key.clone()),
            ("service_code".to_owned(), "litter".to_owned()),
            ("lat".to_owned(), "48.9271".to_owned()),
            ("long".to_owned(), format!("{:.6}", 1.8055 + (k % 20) as f64 * 0.00005)),
            ("description".to_owned(), format!("boucle {k}")),
        ]
    };
    let send = |path: &str, k: usize| {
        let f = fields(k);
        let pairs: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        ureq::post(&format!("{}/open311/v2/{path}", server.url))
            .set("Accept-Language", "en")
            .send_form(&pairs)
            .map_err(Box::new)
    };
    for k in 0..30 {
        assert_eq!(send("requests.json", k).map_or(0, |r| r.status()), 201, "post {k}");
    }
    let Err(e) = send("requests.json", 30) else { panic!("the 31st post was taken") };
    let ureq::Error::Status(429, r) = *e else { panic!("{e}") };
    assert_eq!(r.header("Retry-After"), Some("2"));
    let body: serde_json::Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
    assert_eq!(body[0]["code"], 429);
    assert!(body[0]["description"].as_str().unwrap().contains("at most 30 a minute"), "{body}");
    let Err(e) = send("requests.xml", 31) else { panic!("the 32nd post was taken") };
    let ureq::Error::Status(429, r) = *e else { panic!("{e}") };
    assert!(r.into_string().unwrap().contains("<errors><error><code>429</code>"));
    let (_, listed) = get(&format!("{}/open311/v2/requests.json", server.url));
    assert_eq!(listed.as_array().unwrap().len(), 30);
    assert!(server.stop().success());
}

/// Each service sees its own: an editor token bound to the waste department (`service:cu-dechets`)
/// moves the reports routed to it, is refused another service's (403, in the caller's
/// language), and the reports' map shows it its own only; an unbound token (the DVQ) moves and
/// sees all.
#[test]
fn a_token_bound_to_a_service_reads_and_moves_only_its_reports() {
    let (_dir, store) = demo_store();
    let token = |name: &str, role: &str, bound: Option<&str>| {
        let mut args = vec!["token", "create", "--name", name, "--role", role];
        args.extend(bound.map(|b| ["--bound", b]).into_iter().flatten());
        let out = domania(&store, &args);
        assert!(out.status.success(), "{}", texts(&out).1);
        texts(&out).0.trim().to_owned()
    };
    let reporter = token("mairie", "reporter", None);
    let waste = token("cu-dechets", "editor", Some("service:cu-dechets"));
    let dvq = token("dvq", "editor", None);
    let out = domania(&store, &["token", "create", "--name", "x", "--role", "editor", "--bound", "actor:nobody"]);
    assert!(!out.status.success() && texts(&out).1.contains("actor:nobody"), "{}", texts(&out).1);
    let server = Server::start(&store);
    let api = format!("{}/open311/v2", server.url);
    let report = |code: &str| {
        let (status, a) = post(
            &format!("{api}/requests.json"),
            &[
                ("api_key", &reporter),
                ("service_code", code),
                ("lat", "48.927"),
                ("long", "1.806"),
                ("description", "x"),
            ],
        )
        .unwrap();
        assert_eq!(status, 201, "{a}");
        a[0]["service_request_id"].as_str().unwrap().parse::<i64>().unwrap()
    };
    let (dumping, lighting) = (report("dumping"), report("lighting"));
    let (_, lit) = get(&format!("{api}/requests/{lighting}.json"));
    assert_ne!(lit[0]["agency_responsible"], "", "{lit}");
    let moved = |token: &str, id: i64| {
        let url = format!("{}/v1/reports/{id}/status", server.url);
        let r = ureq::post(&url)
            .set("Authorization", &format!("Bearer {token}"))
            .set("Accept-Language", "en")
            .send_string(r#"{"status": "acknowledged"}"#);
        match r {
            Ok(r) => (r.status(), r.into_string().unwrap()),
            Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap()),
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(moved(&waste, dumping).0, 200, "the waste department moves a dumping report");
    let (status, body) = moved(&waste, lighting);
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains(&format!("Request {lighting} is not routed")) && body.contains("service:cu-dechets"),
        "{body}"
    );
    assert_eq!(moved(&dvq, lighting).0, 200, "an unbound token moves any");
    // The map: the bound token sees its own, anonymous readers and the DVQ all.
    let ids = |token: Option<&str>| {
        let mut req = ureq::get(&format!("{}/v1/reports.geojson", server.url));
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        let v: serde_json::Value = serde_json::from_str(&req.call().unwrap().into_string().unwrap()).unwrap();
        let mut ids: Vec<i64> =
            v["features"].as_array().unwrap().iter().map(|f| f["properties"]["id"].as_i64().unwrap()).collect();
        ids.sort_unstable();
        ids
    };
    assert_eq!(ids(Some(&waste)), [dumping]);
    assert_eq!(ids(Some(&dvq)), [dumping, lighting]);
    assert_eq!(ids(None), [dumping, lighting]);
    assert_eq!(server.stop().code(), Some(0));
}

//! Every route, in process, on the project's demo territory (data/): answers, bad parameters,
//! roles, tags, and an update swapping the snapshot.

// Short names (a for an answer, f for the fixture) keep the many checks readable.
#![allow(clippy::many_single_char_names)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domania_app::import::ImportRequest;
use domania_app::tokens::Role;
use domania_app::{App, Layer};
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;

fn data(file: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data").join(file)
}

struct Fixture {
    _dir: tempfile::TempDir,
    app: App,
    router: Router,
    shared: Arc<domania_server::state::Shared>,
    viewer: String,
    editor: String,
}

fn fixture(private_reads: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let app = App::new(dir.path().join("s.gpkg"), Some(&data("territory.toml"))).unwrap();
    for (layer, file) in [
        (Layer::Parcels, "cadastre-synth-parcelles.json"),
        (Layer::Owners, "ppm-synth.csv"),
        (Layer::Qpv, "qpv-synth.geojson"),
        (Layer::Subsectors, "subsectors-synth.geojson"),
    ] {
        app.import(&ImportRequest::new(layer, data(file), "test"), &|_| {}).unwrap();
    }
    let viewer = app.create_token("reader", Role::Viewer).unwrap();
    let editor = app.create_token("sig", Role::Editor).unwrap();
    let rules = domania_app::files::rules(Some(&data("rules.toml"))).unwrap();
    // A small upload limit, to see an oversized upload refused.
    let limits = domania_server::Limits {
        timeout: Duration::from_secs(30),
        max_upload_bytes: 4 << 20,
        ..domania_server::Limits::default()
    };
    let shared = domania_server::shared(app.clone(), rules, private_reads, limits).unwrap();
    let router = domania_server::router(Arc::clone(&shared), limits);
    Fixture { _dir: dir, app, router, shared, viewer, editor }
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn call(router: &Router, req: Request<Body>) -> Answer {
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Answer { status, headers, body }
}

async fn get(router: &Router, uri: &str) -> Answer {
    call(router, Request::get(uri).body(Body::empty()).unwrap()).await
}

/// A point of the demo territory inside sub-sector QN078001-01, on parcel 78498000AB0072.
const LON: f64 = 1.806;
const LAT: f64 = 48.927;

#[tokio::test]
async fn who_is_responsible_here() {
    let f = fixture(false);
    let a = get(&f.router, &format!("/v1/who?lon={LON}&lat={LAT}")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let v = a.json();
    assert_eq!(v["space"]["idu"], "78498000AB0072");
    assert_eq!(v["subsector"]["id"], "QN078001-01");
    assert_eq!(v["qpv"][0]["code"], "QN078001");
    let kinds: Vec<&str> =
        v["managers"].as_array().unwrap().iter().map(|m| m["intervention"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"waste") && kinds.len() >= 5, "{kinds:?}");
    assert!(v["managers"][0]["explanation"].as_str().unwrap().contains("QN078001-01"));
    // The same point in Lambert-93, one kind kept.
    let (x, y) = (v["point"]["x"].as_f64().unwrap(), v["point"]["y"].as_f64().unwrap());
    let b = get(&f.router, &format!("/v1/who?x={x}&y={y}&kind=waste")).await.json();
    assert_eq!(b["space"], v["space"]);
    assert_eq!(b["managers"].as_array().unwrap().len(), 1);
    assert_eq!(b["managers"][0]["intervention"], "waste");
    // Outside every sub-sector but in France: known what is known, no manager, said so.
    let c = get(&f.router, "/v1/who?lon=2.35&lat=48.85").await;
    assert_eq!(c.status, StatusCode::OK);
    let c = c.json();
    assert!(c["subsector"].is_null() && c["managers"].as_array().unwrap().is_empty());
    assert!(c["note"].as_str().unwrap().contains("outside every sub-sector"));
    // Bad points.
    for (q, code) in [
        ("lon=200&lat=48", "outside_france"),
        ("lon=-3&lat=60", "outside_france"),
        ("lon=abc&lat=48", "bad_parameter"),
        ("lon=2", "bad_point"),
        ("lon=2&lat=48&x=1&y=2", "bad_point"),
        ("lon=2.35&lat=48.85&kind=gardening", "unknown_kind"),
    ] {
        let a = get(&f.router, &format!("/v1/who?{q}")).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{q}: {}", a.text());
        assert_eq!(a.json()["code"], code, "{q}");
    }
}

#[tokio::test]
async fn parcels_by_idu_and_by_search() {
    let f = fixture(false);
    let a = get(&f.router, "/v1/parcels/78498000AB0072").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["owners"][0]["name"], "HABITAT DES BOUCLES ESH");
    // Loosely written, unknown, malformed.
    assert_eq!(get(&f.router, "/v1/parcels/78498ab72").await.json()["idu"], "78498000AB0072");
    let a = get(&f.router, "/v1/parcels/78498000ZZ9999").await;
    assert_eq!((a.status, a.json()["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    assert_eq!(get(&f.router, "/v1/parcels/nope").await.json()["code"], "bad_idu");
    // Search forgiving of case and accents; pages; CSV.
    let s = get(&f.router, "/v1/parcels?owner=habitat%20des%20BOUCLES&limit=2").await.json();
    assert!(s["matched"].as_u64().unwrap() > 2);
    assert_eq!(s["parcels"].as_array().unwrap().len(), 2);
    let csv = call(
        &f.router,
        Request::get("/v1/parcels?actor=bailleur_social&limit=3")
            .header(header::ACCEPT, "text/csv")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(csv.text().lines().count(), 4, "{}", csv.text());
    assert!(csv.text().starts_with("idu,contenance_m2,area_m2,actor,owner_file,owners\n"));
    let bbox = get(&f.router, "/v1/parcels?bbox=1.805,48.926,1.807,48.928&limit=1000").await.json();
    let n = bbox["matched"].as_u64().unwrap();
    assert!(n > 0 && n < 2000, "{n}");
    for (q, code) in [
        ("limit=-1", "bad_limit"),
        ("limit=100000", "bad_limit"),
        ("offset=-5", "bad_offset"),
        ("bbox=1,2,3", "bad_bbox"),
        ("bbox=3,2,1,0", "bad_bbox"),
        ("actor=martians", "bad_parameter"),
        ("f=xml", "bad_format"),
    ] {
        let a = get(&f.router, &format!("/v1/parcels?{q}")).await;
        assert_eq!((a.status, a.json()["code"].as_str()), (StatusCode::BAD_REQUEST, Some(code)), "{q}");
    }
}

#[tokio::test]
async fn subsectors_qpv_owners_and_scenarios() {
    let f = fixture(false);
    let s = get(&f.router, "/v1/subsectors/QN078001-03").await;
    assert_eq!(s.status, StatusCode::OK);
    let s = s.json();
    assert!(!s["spaces"].as_array().unwrap().is_empty());
    assert!(s["shares"]["bailleur_social"].as_f64().unwrap() > 0.5);
    assert_eq!(get(&f.router, "/v1/subsectors/NOPE").await.status, StatusCode::NOT_FOUND);
    let q = get(&f.router, "/v1/qpv/QN078001/report").await;
    assert_eq!(q.status, StatusCode::OK);
    assert!(q.json()["tfpb_bailleurs"].as_array().is_some_and(|b| !b.is_empty()));
    assert_eq!(get(&f.router, "/v1/qpv/QN000000/report").await.status, StatusCode::NOT_FOUND);
    let o = get(&f.router, "/v1/owners/900000037").await;
    assert_eq!(o.status, StatusCode::OK);
    let o = o.json();
    assert_eq!(o["actor"], "bailleur_social");
    assert!(o["by_qpv"][0]["area_m2"].as_f64().unwrap() > 0.0);
    assert_eq!(get(&f.router, "/v1/owners/000000000").await.status, StatusCode::NOT_FOUND);
    // A scenario: the bailleur's parcel given to the CU changes managers; nothing is stored.
    let body = r#"{"name":"t","transfers":[{"idu":"78498000AB0072","to":{"siren":"200059889","name":"GPS&O","actor":"communaute_urbaine"}}]}"#;
    let post = |b: &'static str| {
        Request::post("/v1/scenarios").header(header::CONTENT_TYPE, "application/json").body(Body::from(b)).unwrap()
    };
    let r = call(&f.router, post(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(!r.json()["managers_changed"].as_array().unwrap().is_empty());
    assert_eq!(get(&f.router, "/v1/parcels/78498000AB0072").await.json()["actor"], "bailleur_social");
    let bad =
        call(&f.router, post(r#"{"transfers":[{"idu":"78498000ZZ0001","to":{"name":"x","actor":"commune"}}]}"#)).await;
    assert_eq!((bad.status, bad.json()["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_scenario")));
    let bad = call(&f.router, post(r#"{"transfers": 3}"#)).await;
    assert_eq!((bad.status, bad.json()["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_scenario")));
}

#[tokio::test]
async fn ogc_api_features() {
    let f = fixture(false);
    let l = get(&f.router, "/").await.json();
    assert!(l["links"].as_array().unwrap().iter().any(|x| x["rel"] == "conformance"));
    let html =
        call(&f.router, Request::get("/").header(header::ACCEPT, "text/html").body(Body::empty()).unwrap()).await;
    assert!(html.text().starts_with("<!doctype html>"));
    assert!(get(&f.router, "/conformance").await.json()["conformsTo"].as_array().unwrap().len() >= 4);
    let c = get(&f.router, "/collections").await.json();
    let ids: Vec<&str> = c["collections"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["parcels", "qpv", "subsectors", "conventions", "spaces"]);
    assert_eq!(get(&f.router, "/collections/roads").await.status, StatusCode::NOT_FOUND);
    // Pages with next links.
    let p = get(&f.router, "/collections/parcels/items?limit=10").await;
    assert_eq!(p.headers["content-crs"], "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>");
    let p = p.json();
    assert_eq!((p["numberReturned"].as_u64(), p["numberMatched"].as_u64()), (Some(10), Some(2000)));
    let next = p["links"].as_array().unwrap().iter().find(|x| x["rel"] == "next").unwrap()["href"].as_str().unwrap();
    let path = next.split_once("localhost").map_or(next, |x| x.1);
    let p2 = get(&f.router, path).await.json();
    assert_ne!(p2["features"][0]["id"], p["features"][0]["id"]);
    // A bbox in CRS84 and one in Lambert-93 find the same parcels; output in Lambert-93.
    let a = get(&f.router, "/collections/parcels/items?bbox=1.805,48.926,1.807,48.928&limit=1000").await.json();
    let lon = a["features"][0]["geometry"]["coordinates"][0][0][0][0].as_f64().unwrap();
    assert!((1.79..1.82).contains(&lon));
    let l93 = get(&f.router, "/collections/parcels/items?bbox=612300,6870200,612500,6870400&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/2154&crs=http://www.opengis.net/def/crs/EPSG/0/2154&limit=1000").await;
    assert_eq!(l93.headers["content-crs"], "<http://www.opengis.net/def/crs/EPSG/0/2154>");
    let x = l93.json()["features"][0]["geometry"]["coordinates"][0][0][0][0].as_f64().unwrap();
    assert!((612_000.0..613_000.0).contains(&x), "{x}");
    // Property filters, one item, bad parameters.
    let b = get(&f.router, "/collections/subsectors/items?decision=delegated").await.json();
    assert!(b["features"].as_array().unwrap().iter().all(|x| x["properties"]["decision"] == "delegated"));
    let one = get(&f.router, "/collections/parcels/items/78498000AB0072").await;
    assert_eq!(one.json()["properties"]["actor"], "bailleur_social");
    assert_eq!(get(&f.router, "/collections/parcels/items/nope").await.status, StatusCode::NOT_FOUND);
    let sp = get(&f.router, "/collections/spaces/items?limit=1").await.json();
    assert!(sp["features"][0]["properties"]["waste_service"].is_string());
    for q in ["crs=EPSG:4326", "limit=0", "bbox=a,b,c,d", "limit=x"] {
        assert_eq!(
            get(&f.router, &format!("/collections/parcels/items?{q}")).await.status,
            StatusCode::BAD_REQUEST,
            "{q}"
        );
    }
}

#[tokio::test]
async fn tags_openapi_and_unknown_routes() {
    let f = fixture(false);
    let a = get(&f.router, "/v1/parcels/78498000AB0072").await;
    let tag = a.headers[header::ETAG].to_str().unwrap().to_owned();
    let again = call(
        &f.router,
        Request::get("/v1/parcels/78498000AB0072").header(header::IF_NONE_MATCH, &tag).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    let weak = call(
        &f.router,
        Request::get("/v1/parcels/78498000AB0072")
            .header(header::IF_NONE_MATCH, format!("W/{tag}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(weak.status, StatusCode::NOT_MODIFIED);
    assert!(a.headers[header::VARY].to_str().unwrap().contains("Accept"));
    // A misspelt parameter is refused, not read as a filter matching nothing.
    let typo = get(&f.router, "/collections/parcels/items?limt=10").await;
    assert_eq!((typo.status, typo.json()["code"].as_str()), (StatusCode::BAD_REQUEST, Some("unknown_parameter")));
    let api = get(&f.router, "/api").await.json();
    assert_eq!(api["openapi"], "3.0.3");
    // Every documented route answers (with sample ids); no route is missing from the document.
    let key = f.app.create_token("relais", Role::Reporter).unwrap();
    let (lat, lon) = (LAT.to_string(), LON.to_string());
    let fields =
        [("api_key", key.as_str()), ("service_code", "litter"), ("lat", &lat), ("long", &lon), ("description", "x")];
    // With a photo, so that its routes answer.
    let photo = include_bytes!("../../domania-app/tests/fixtures/photo-with-exif.jpg");
    let posted = call(&f.router, multipart("/open311/v2/requests.json", &fields, photo)).await.json();
    let request = posted[0]["service_request_id"].as_str().unwrap().to_owned();
    let paths = api["paths"].as_object().unwrap();
    for (path, item) in paths {
        let Some(op) = item.get("get") else { continue };
        if !op["security"].as_array().is_none_or(Vec::is_empty) {
            continue;
        }
        let id = if path.contains("subsectors/") {
            "QN078001-01"
        } else if path.contains("/photo") {
            &request
        } else {
            "parcels"
        };
        let uri = path
            .replace("{id}", id)
            .replace("{collectionId}", "parcels")
            .replace("{featureId}", "78498000AB0072")
            .replace("{idu}", "78498000AB0072")
            .replace("{layer}", "parcels")
            .replace("{code}", "QN078001")
            .replace("{siren}", "900000037")
            .replace("{layers}", "parcels")
            .replace("{z}/{x}/{y}", "16/33096/22526")
            .replace("{service_code}", "dumping")
            .replace("{style}", "managers-cleaning")
            .replace("{file}", "app.js")
            .replace("{stack}/{range}", "Open%20Sans%20Regular/0-255.pbf")
            .replace("{service_request_id}", &request)
            .replace("{token}", &request);
        let uri = if uri.ends_with("/diff") { format!("{uri}?from=1&to=1") } else { uri };
        let uri = if uri == "/v1/who" { format!("{uri}?lon={LON}&lat={LAT}") } else { uri };
        let uri = if uri == "/v1/search" { format!("{uri}?q=QN078001") } else { uri };
        let a = get(&f.router, &uri).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.text());
    }
    // Every route of the router is documented, with its method (read from the router's source:
    // axum does not list its routes).
    let source = include_str!("../src/lib.rs");
    let mut routed = Vec::new();
    for (i, _) in source.match_indices(".route(\"") {
        let rest = &source[i + 8..];
        let path = &rest[..rest.find('"').unwrap()];
        let call = &rest[..rest.find(")\n").unwrap_or(rest.len())];
        for m in ["get", "post", "put", "delete"] {
            if call.contains(&format!("{m}(")) {
                routed.push((m, path.to_owned()));
            }
        }
    }
    assert!(routed.len() > 40, "{routed:?}");
    let documented: Vec<String> =
        paths.iter().flat_map(|(p, item)| item.as_object().unwrap().keys().map(move |m| format!("{m} {p}"))).collect();
    for (m, p) in routed {
        // The router's parameters are whole segments; the document writes their suffixes.
        let p = match p.as_str() {
            "/tiles/{layers}/{z}/{x}/{y}" => "/tiles/{layers}/{z}/{x}/{y}.mvt".to_owned(),
            "/tiles/{file}" => "/tiles/{layers}.json".to_owned(),
            "/styles/{file}" => "/styles/{style}.json".to_owned(),
            "/services/{file}" => "/open311/v2/services/{service_code}.json".to_owned(),
            "/requests/{file}" => "/open311/v2/requests/{service_request_id}.json".to_owned(),
            "/discovery.json"
            | "/services.json"
            | "/requests.json"
            | "/discovery.xml"
            | "/services.xml"
            | "/requests.xml"
            | "/servicerequestupdates.json"
            | "/servicerequestupdates.xml" => format!("/open311/v2{p}"),
            "/tokens/{file}" => "/open311/v2/tokens/{token}.json".to_owned(),
            "/collections/{id}" => "/collections/{collectionId}".to_owned(),
            "/collections/{id}/items" => "/collections/{collectionId}/items".to_owned(),
            "/collections/{id}/items/{fid}" => "/collections/{collectionId}/items/{featureId}".to_owned(),
            _ => p,
        };
        assert!(documented.contains(&format!("{m} {p}")), "{m} {p} is served but not documented");
    }
    let a = get(&f.router, "/v2/nothing").await;
    assert_eq!((a.status, a.json()["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
}

#[tokio::test]
async fn updates_need_an_editor_and_swap_the_snapshot() {
    let f = fixture(false);
    let before = get(&f.router, "/v1/version").await.json();
    // The rules file by its name: the server's folders are not the reader's business.
    assert_eq!(before["rules"], "rules.toml");
    let upload = |token: Option<&str>, body: Vec<u8>| {
        let mut r = Request::post("/v1/layers/subsectors").header(header::CONTENT_TYPE, "application/geo+json");
        if let Some(t) = token {
            r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        r.body(Body::from(body)).unwrap()
    };
    let text = std::fs::read_to_string(data("subsectors-synth.geojson")).unwrap();
    // Drop the last sub-sector: a real change.
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["features"].as_array_mut().unwrap().pop();
    let body = serde_json::to_vec(&v).unwrap();
    assert_eq!(call(&f.router, upload(None, body.clone())).await.status, StatusCode::UNAUTHORIZED);
    // The token is checked before the body is read: an oversized body without one is a 401.
    assert_eq!(call(&f.router, upload(None, vec![b' '; 5 << 20])).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(call(&f.router, upload(Some("dmn_wrong"), body.clone())).await.status, StatusCode::UNAUTHORIZED);
    let a = call(&f.router, upload(Some(&f.viewer), body.clone())).await;
    assert_eq!((a.status, a.json()["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    // A malformed file changes nothing and says why.
    let a =
        call(&f.router, upload(Some(&f.editor), b"{\"type\": \"FeatureCollection\", \"features\": [".to_vec())).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text());
    let a = call(&f.router, upload(Some(&f.editor), body)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let a = a.json();
    assert_eq!(a["version"]["author"], "sig");
    assert_eq!(a["version"]["source"], "HTTP upload by sig");
    assert_eq!(a["version"]["removed"], 1);
    let after = get(&f.router, "/v1/version").await.json();
    assert_ne!(after["snapshot"], before["snapshot"]);
    assert_eq!(after["layers"]["subsectors"], 2);
    let h = get(&f.router, "/v1/layers/subsectors/history").await.json();
    assert_eq!(h.as_array().unwrap().len(), 2);
    let d = get(&f.router, "/v1/layers/subsectors/diff?from=1&to=2").await.json();
    assert_eq!(d["removed"].as_array().unwrap().len(), 1);
    assert_eq!(get(&f.router, "/v1/layers/subsectors/diff?from=1").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(get(&f.router, "/v1/layers/roads/history").await.status, StatusCode::NOT_FOUND);
    // Roll back: a third version, the same sub-sectors as the first.
    let rb = Request::post("/v1/layers/subsectors/rollback")
        .header(header::AUTHORIZATION, format!("Bearer {}", f.editor))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"version": 1}"#))
        .unwrap();
    let r = call(&f.router, rb).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(get(&f.router, "/v1/version").await.json()["layers"]["subsectors"], 3);
    assert_eq!(f.shared.current().snapshot.subsectors().len(), v["features"].as_array().unwrap().len() + 1);
    // Owners as PPM CSV: the same file again changes nothing and writes no version.
    let ppm = Request::post("/v1/layers/owners")
        .header(header::AUTHORIZATION, format!("Bearer {}", f.editor))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(std::fs::read(data("ppm-synth.csv")).unwrap()))
        .unwrap();
    let r = call(&f.router, ppm).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        (r.json()["version"]["unchanged"].as_bool(), r.json()["version"]["version"].as_i64()),
        (Some(true), Some(1))
    );
    // One right fewer: a version of the owners alone, worked out from the held snapshot (its
    // parcels shared with the one before, not read again), and what a rebuild gives.
    let held = f.shared.current();
    let file = std::fs::read(data("ppm-synth.csv")).unwrap();
    let lines: Vec<&[u8]> = file.split(|&b| b == b'\n').collect();
    let gone = lines.iter().position(|l| l.windows(5).any(|w| w == b";P - ")).unwrap();
    let fewer = [&lines[..gone], &lines[gone + 1..]].concat().join(&b'\n');
    let ppm = Request::post("/v1/layers/owners")
        .header(header::AUTHORIZATION, format!("Bearer {}", f.editor))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(fewer))
        .unwrap();
    let r = call(&f.router, ppm).await;
    assert_eq!((r.status, r.json()["version"]["version"].as_i64()), (StatusCode::OK, Some(2)), "{}", r.text());
    let next = f.shared.current();
    assert!(std::ptr::eq(next.snapshot.parcels(), held.snapshot.parcels()), "worked out from the held snapshot");
    let fresh = f.app.hold(next.rules.clone(), next.date).unwrap();
    assert_ne!(next.etag, held.etag);
    assert_eq!((&next.etag, &next.shares, &next.assign), (&fresh.etag, &fresh.shares, &fresh.assign));
    // One commune's parcels, one re-measured and one fewer: that commune read and spliced into
    // the held snapshot (the others' holdings kept, not classified again), what a rebuild gives.
    let held = f.shared.current();
    let mut fc: Value = serde_json::from_slice(&std::fs::read(data("cadastre-synth-parcelles.json")).unwrap()).unwrap();
    let features = fc["features"].as_array_mut().unwrap();
    let commune = features[0]["properties"]["commune"].as_str().unwrap().to_owned();
    features.retain(|p| p["properties"]["commune"] == commune.as_str());
    features.pop();
    features[0]["properties"]["contenance"] = 1234.into();
    let first = features[0]["properties"]["id"].as_str().unwrap().to_owned();
    let cadastre = Request::post("/v1/layers/parcels")
        .header(header::AUTHORIZATION, format!("Bearer {}", f.editor))
        .header(header::CONTENT_TYPE, "application/geo+json")
        .body(Body::from(serde_json::to_vec(&fc).unwrap()))
        .unwrap();
    let r = call(&f.router, cadastre).await;
    assert_eq!((r.status, r.json()["version"]["version"].as_i64()), (StatusCode::OK, Some(2)), "{}", r.text());
    assert_eq!(r.json()["version"]["scope"], format!("commune={commune}"), "{}", r.text());
    let next = f.shared.current();
    assert_eq!(next.snapshot.parcel(&first).unwrap().0.contenance, Some(1234));
    let elsewhere = (0..held.snapshot.parcels().len())
        .find(|&i| {
            !held.snapshot.parcels()[i].idu.starts_with(&commune) && !held.snapshot.holdings()[i].owners.is_empty()
        })
        .unwrap();
    let (idu, before) = (&held.snapshot.parcels()[elsewhere].idu, &held.snapshot.holdings()[elsewhere]);
    let now = next.snapshot.parcel(idu).unwrap().1;
    assert!(Arc::ptr_eq(&now.owners, &before.owners), "{idu}: spliced, its holding kept");
    let fresh = f.app.hold(next.rules.clone(), next.date).unwrap();
    assert_eq!(next.snapshot.parcels().len(), held.snapshot.parcels().len() - 1);
    assert_eq!((&next.etag, &next.shares, &next.assign), (&fresh.etag, &fresh.shares, &fresh.assign));
    assert_eq!(next.snapshot.parcels(), fresh.snapshot.parcels());
    // A file whose features are rejected: 422 with the validation report; an oversized one: 413.
    let bad = std::fs::read(data("../tests/bad-inputs/repair-fails.json")).unwrap();
    let r = call(&f.router, upload(Some(&f.editor), bad)).await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("features_rejected")),
        "{}",
        r.text()
    );
    // Said in French by default, with the issue's stable code and no server path.
    let issue = &r.json()["details"]["issues"][0];
    assert_eq!(issue["code"], "invalid_geometry", "{}", r.text());
    assert!(issue["message"].as_str().is_some_and(|m| m.contains("géométrie n’est pas valide")), "{}", r.text());
    assert!(!r.text().contains("/tmp") && !r.text().contains("--skip-invalid"), "{}", r.text());
    let r = call(&f.router, upload(Some(&f.editor), vec![b' '; 5 << 20])).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("upload_too_large")));
    assert_eq!(get(&f.router, "/v1/version").await.json()["layers"]["subsectors"], 3);
    // A token revoked from the command line stops working once the server's cache of checked
    // tokens forgets it (at most TokenCache::TTL, cleared here); over HTTP it is at once.
    f.app.revoke_token("sig").unwrap();
    f.shared.tokens.clear();
    assert_eq!(call(&f.router, upload(Some(&f.editor), b"{}".to_vec())).await.status, StatusCode::UNAUTHORIZED);
}

/// The demo's sub-sectors, one fewer, as a zipped Shapefile written by GDAL's ogr2ogr.
fn zipped_shapefile(dir: &std::path::Path) -> Vec<u8> {
    let shp = dir.join("secteurs.shp");
    let out = std::process::Command::new("ogr2ogr")
        .args(["-f", "ESRI Shapefile", "-t_srs", "EPSG:2154", "-where", "id <> 'QN078001-02'"])
        .arg(&shp)
        .arg(data("subsectors-synth.geojson"))
        .output()
        .expect("ogr2ogr (gdal-bin, installed by .ci/run)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buf);
    for ext in ["shp", "shx", "dbf", "prj"] {
        let name = format!("couche/secteurs.{ext}");
        zip.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut zip, &std::fs::read(shp.with_extension(ext)).unwrap()).unwrap();
        // What macOS's Finder adds to a zip: resource forks, to be skipped.
        zip.start_file(format!("__MACOSX/couche/._secteurs.{ext}"), zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut zip, b"\x00\x05\x16\x07junk").unwrap();
    }
    zip.finish().unwrap();
    buf.into_inner()
}

#[tokio::test]
async fn a_zipped_shapefile_is_a_layer_update() {
    let f = fixture(false);
    let dir = tempfile::tempdir().unwrap();
    let body = zipped_shapefile(dir.path());
    let req = Request::post("/v1/layers/subsectors")
        .header(header::AUTHORIZATION, format!("Bearer {}", f.editor))
        .header(header::CONTENT_TYPE, "application/zip")
        .body(Body::from(body))
        .unwrap();
    let r = call(&f.router, req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!((v["version"]["version"].as_i64(), v["version"]["removed"].as_i64()), (Some(2), Some(1)));
    assert_eq!(get(&f.router, "/v1/subsectors/QN078001-02").await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&f.router, "/v1/subsectors/QN078001-01").await.status, StatusCode::OK);
    // Two Shapefiles in one zip are refused rather than one half of each read.
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buf);
    for name in ["a.shp", "a.dbf", "b.shp", "b.dbf"] {
        zip.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut zip, b"x").unwrap();
    }
    zip.finish().unwrap();
    let req = Request::post("/v1/layers/subsectors")
        .header(header::AUTHORIZATION, format!("Bearer {}", f.editor))
        .body(Body::from(buf.into_inner()))
        .unwrap();
    let r = call(&f.router, req).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_upload")), "{}", r.text());
    assert!(r.text().contains("more than one Shapefile"));
    // A zip without a Shapefile is a bad upload.
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buf);
    zip.start_file("readme.txt", zip::write::SimpleFileOptions::default()).unwrap();
    zip.finish().unwrap();
    let req = Request::post("/v1/layers/subsectors")
        .header(header::AUTHORIZATION, format!("Bearer {}", f.editor))
        .body(Body::from(buf.into_inner()))
        .unwrap();
    let r = call(&f.router, req).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_upload")));
}

#[tokio::test]
async fn administrators_manage_rules_and_tokens() {
    let f = fixture(false);
    let admin = f.app.create_token("admin", Role::Admin).unwrap();
    let auth = |t: &str| format!("Bearer {t}");
    let r = get(&f.router, "/v1/rules").await.json();
    assert!(r["toml"].as_str().unwrap().contains("[delegation]"));
    // A threshold of 99 %: no sub-sector is delegated any more.
    let text = r["toml"].as_str().unwrap().replace("threshold = 0.6", "threshold = 0.99");
    assert_ne!(text, r["toml"].as_str().unwrap(), "the rules have a 0.6 threshold");
    let put = |t: &str, body: String| {
        Request::put("/v1/rules").header(header::AUTHORIZATION, auth(t)).body(Body::from(body)).unwrap()
    };
    assert_eq!(call(&f.router, put(&f.editor, text.clone())).await.status, StatusCode::FORBIDDEN);
    let bad = call(&f.router, put(&admin, "[delegation]\nthreshold = \"x\"".into())).await;
    assert_eq!((bad.status, bad.json()["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_config")));
    let before = get(&f.router, "/collections/subsectors/items?decision=delegated").await.json();
    assert!(before["numberMatched"].as_u64().unwrap() > 0);
    let ok = call(&f.router, put(&admin, text)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.json()["name"], "store rules v1");
    let after = get(&f.router, "/collections/subsectors/items?decision=delegated").await.json();
    assert_eq!(after["numberMatched"], 0);
    assert_eq!(f.app.stored_rules().unwrap().unwrap().name, "store rules v1");
    // Tokens: listed without secrets, created (secret once), revoked.
    assert_eq!(
        call(&f.router, Request::get("/v1/tokens").body(Body::empty()).unwrap()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let list = call(
        &f.router,
        Request::get("/v1/tokens").header(header::AUTHORIZATION, auth(&admin)).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(list.json().as_array().unwrap().len(), 3);
    assert!(!list.text().contains(&f.editor));
    let create = Request::post("/v1/tokens")
        .header(header::AUTHORIZATION, auth(&admin))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"name": "equipe-nprnu", "role": "viewer"}"#))
        .unwrap();
    let c = call(&f.router, create).await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text());
    let secret = c.json()["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        f.app.authenticate(&secret).unwrap(),
        ("equipe-nprnu".to_owned(), domania_app::tokens::Grant { role: Role::Viewer, bound: None })
    );
    let del = Request::delete("/v1/tokens/equipe-nprnu")
        .header(header::AUTHORIZATION, auth(&admin))
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&f.router, del).await.status, StatusCode::NO_CONTENT);
    assert!(f.app.authenticate(&secret).is_err());
}

#[tokio::test]
async fn vector_tiles_and_tilejson() {
    use domania_tiles::mvt::{Geometry, Value};
    let f = fixture(false);
    let tj = get(&f.router, "/tiles/parcels,subsectors.json").await;
    assert_eq!(tj.status, StatusCode::OK);
    let tj = tj.json();
    assert_eq!(tj["tilejson"], "3.0.0");
    let url = tj["tiles"][0].as_str().unwrap().to_owned();
    assert!(url.contains("/tiles/parcels,subsectors/{z}/{x}/{y}.mvt?v="), "{url}");
    let ids: Vec<&str> = tj["vector_layers"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["parcels", "subsectors"]);
    let b = tj["bounds"].as_array().unwrap();
    assert!(b[0].as_f64().unwrap() < LON && LON < b[2].as_f64().unwrap());
    // The tile at the demo point, asked as the TileJSON says: immutable, and what we meant.
    let path = url.split_once("localhost").map_or(url.as_str(), |x| x.1).replace("{z}/{x}/{y}", "16/33096/22526");
    let t = get(&f.router, &path).await;
    assert_eq!(t.status, StatusCode::OK);
    assert_eq!(t.headers[header::CONTENT_TYPE], "application/vnd.mapbox-vector-tile");
    assert!(t.headers[header::CACHE_CONTROL].to_str().unwrap().contains("immutable"));
    let layers = domania_tiles::mvt::decode(&t.body).unwrap();
    let parcels = layers.iter().find(|l| l.name == "parcels").unwrap();
    let ours = parcels
        .features
        .iter()
        .find(|x| x.properties.iter().any(|(k, v)| k == "idu" && *v == Value::String("78498000AB0072".into())))
        .expect("the parcel at the point is in its tile");
    assert!(ours.properties.contains(&("actor".into(), Value::String("bailleur_social".into()))));
    let Geometry::Polygons(polys) = &ours.geometry else { panic!("a polygon") };
    assert!(polys.iter().all(|p| domania_tiles::mvt::ring_area2(&p[0]) > 0));
    assert!(layers.iter().any(|l| l.name == "subsectors" && !l.features.is_empty()));
    // The same tile again comes from the cache, byte for byte; without the tag it may change.
    assert_eq!(get(&f.router, &path).await.body, t.body);
    // Clients that take gzip get it, compressed once; the same tile either way.
    let gz =
        call(&f.router, Request::get(&path).header(header::ACCEPT_ENCODING, "gzip, br").body(Body::empty()).unwrap())
            .await;
    assert_eq!(gz.headers[header::CONTENT_ENCODING], "gzip");
    assert_eq!(gz.headers[header::ETAG], t.headers[header::ETAG]);
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz.body[..]), &mut unzipped).unwrap();
    assert_eq!(unzipped, t.body);
    assert!(gz.body.len() < t.body.len());
    assert!(!t.headers.contains_key(header::CONTENT_ENCODING));
    let refused =
        call(&f.router, Request::get(&path).header(header::ACCEPT_ENCODING, "gzip;q=0").body(Body::empty()).unwrap())
            .await;
    assert_eq!(refused.body, t.body);
    let untagged = get(&f.router, "/tiles/parcels/16/33096/22526.mvt").await;
    assert_eq!(untagged.headers[header::CACHE_CONTROL], "no-cache");
    // Below z15 the parcels of each actor are merged: one feature per actor, its actor only.
    let low = get(&f.router, "/tiles/parcels/10/517/351.mvt").await;
    assert_eq!(low.status, StatusCode::OK);
    let low = domania_tiles::mvt::decode(&low.body).unwrap();
    let actors: Vec<&Value> = low[0].features.iter().map(|x| &x.properties[0].1).collect();
    assert!(low[0].features.iter().all(|x| x.properties.len() == 1 && x.properties[0].0 == "actor"));
    assert!(actors.contains(&&Value::String("bailleur_social".into())), "{actors:?}");
    let mut distinct: Vec<String> = actors.iter().map(|v| format!("{v:?}")).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), actors.len(), "one feature per actor");
    // Parcels are not drawn below their minimum zoom; bad tiles and layers are refused.
    let lower = get(&f.router, "/tiles/parcels/9/258/175.mvt").await;
    assert!(domania_tiles::mvt::decode(&lower.body).unwrap().is_empty());
    assert_eq!(get(&f.router, "/tiles/parcels/3/9/1.mvt").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(get(&f.router, "/tiles/parcels/30/0/0.mvt").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(get(&f.router, "/tiles/roads/16/33096/22526.mvt").await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&f.router, "/tiles/roads.json").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn private_reads_need_a_viewer() {
    let f = fixture(true);
    assert_eq!(get(&f.router, "/v1/version").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(get(&f.router, "/healthz").await.status, StatusCode::OK);
    // The viewer page and its files open without a token; the page asks for one to read.
    let page =
        call(&f.router, Request::get("/").header(header::ACCEPT, "text/html").body(Body::empty()).unwrap()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(get(&f.router, "/viewer/app.js").await.status, StatusCode::OK);
    assert_eq!(get(&f.router, "/v1/territory").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(get(&f.router, "/subsectors/QN078001-01/cahier").await.status, StatusCode::UNAUTHORIZED);
    let a = call(
        &f.router,
        Request::get("/v1/version")
            .header(header::AUTHORIZATION, format!("Bearer {}", f.viewer))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
}

/// A point of the demo territory in WGS84: inside a parcel of `actor` in sub-sector `sub`, or,
/// with `actor` None, in the sub-sector outside every parcel (a street).
fn point_in(app: &App, sub: &str, actor: Option<domania_core::Actor>) -> (f64, f64) {
    use geo::{BoundingRect, Contains, InteriorPoint};
    let snap = app.snapshot().unwrap();
    let zone = snap.subsectors().iter().find(|z| z.key == sub).unwrap();
    let l93 = if let Some(a) = actor {
        (0..snap.parcels().len())
            .filter(|&i| snap.holdings()[i].actor() == a)
            .filter_map(|i| snap.parcels()[i].geom_l93.interior_point())
            .find(|p| zone.geom_l93.contains(p))
            .expect("a parcel of that actor in the sub-sector")
    } else {
        let b = zone.geom_l93.bounding_rect().unwrap();
        (0..400)
            .map(|k| {
                let (i, j) = (f64::from(k % 20), f64::from(k / 20));
                geo::Point::new(b.min().x + b.width() * i / 20.0, b.min().y + b.height() * j / 20.0)
            })
            .find(|p| zone.geom_l93.contains(p) && snap.parcels_at(*p).is_empty())
            .expect("a street in the sub-sector")
    };
    domania_core::crs::Crs::lambert93().transform_to(&domania_core::crs::Crs::wgs84(), l93.x(), l93.y())
}

fn form(router_uri: &str, fields: &[(&str, &str)]) -> Request<Body> {
    let body: String = fields
        .iter()
        .map(|(k, v)| format!("{}={}", domania_app::features::urlencode(k), domania_app::features::urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    Request::post(router_uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

/// A multipart form of `fields` with `photo` as its `media` part.
fn multipart(router_uri: &str, fields: &[(&str, &str)], photo: &[u8]) -> Request<Body> {
    let b = "router-test-boundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").bytes());
    }
    body.extend(format!("--{b}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"p.jpg\"\r\n\r\n").bytes());
    body.extend_from_slice(photo);
    body.extend(format!("\r\n--{b}--\r\n").bytes());
    Request::post(router_uri)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={b}"))
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn open311_routes_each_category_to_the_manager_of_the_point() {
    use domania_core::Actor;
    let f = fixture(false);
    let agency = |services: &Value, code: &str| {
        services.as_array().unwrap().iter().find(|s| s["service_code"] == code).unwrap()["agency_responsible"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let at = |(lon, lat): (f64, f64)| format!("/open311/v2/services.json?lat={lat:.7}&long={lon:.7}");
    // Bailleur land: the bailleur's agency; waste to the waste department anywhere; green
    // spaces to the commune by the convention of QN078001-01.
    let s = get(&f.router, &at((LON, LAT))).await.json();
    assert_eq!(agency(&s, "litter"), "Agence de proximité du bailleur");
    assert_eq!(agency(&s, "dumping"), "Direction de la gestion des déchets");
    assert_eq!(agency(&s, "green"), "Services techniques municipaux");
    // CU land in a sub-sector under domaniality: the CU's technical centre, lighting to its
    // lighting service.
    let s = get(&f.router, &at(point_in(&f.app, "QN078001-10", Some(Actor::CommunauteUrbaine)))).await.json();
    assert_eq!(agency(&s, "litter"), "CTC Seine Aval");
    assert_eq!(agency(&s, "lighting"), "Service éclairage public");
    assert_eq!(agency(&s, "dumping"), "Direction de la gestion des déchets");
    // The street (non cadastré) of that sub-sector: the CU.
    let s = get(&f.router, &at(point_in(&f.app, "QN078001-10", None))).await.json();
    assert_eq!(agency(&s, "pothole"), "CTC Seine Aval");
    // CU land in a sub-sector delegated to the bailleur (over 60 %): the bailleur.
    let s = get(&f.router, &at(point_in(&f.app, "QN078001-11", Some(Actor::CommunauteUrbaine)))).await.json();
    assert_eq!(agency(&s, "litter"), "Agence de proximité du bailleur");
    assert_eq!(agency(&s, "dumping"), "Direction de la gestion des déchets");
    // Far from the territory: a GeoReport error.
    let far = get(&f.router, "/open311/v2/services.json?lat=43.6&long=1.44").await;
    assert_eq!(far.status, StatusCode::BAD_REQUEST);
    assert_eq!(far.json()[0]["code"], 400);
    assert!(far.json()[0]["description"].as_str().unwrap().contains("hors du territoire"));
    // A category's attributes: the urgency claim and its objective criteria.
    let d = get(&f.router, "/open311/v2/services/dumping.json").await.json();
    let codes: Vec<&str> = d["attributes"].as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["urgent", "blocked_access", "hazard"]);
    assert_eq!(get(&f.router, "/open311/v2/services/nope.json").await.status, StatusCode::NOT_FOUND);
    let disc = get(&f.router, "/open311/v2/discovery.json").await.json();
    assert!(disc["endpoints"][0]["url"].as_str().unwrap().ends_with("/open311/v2"));
}

#[tokio::test]
async fn open311_posts_spots_duplicates_flags_urgency_and_refuses_bad_input() {
    let f = fixture(false);
    let reporter = f.app.create_token("mairie", Role::Reporter).unwrap();
    let (lon, lat) = (LON.to_string(), LAT.to_string());
    let post = |fields: Vec<(&'static str, String)>| {
        let router = f.router.clone();
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            call(&router, form("/open311/v2/requests.json", &fields)).await
        }
    };
    let count = || async { get(&f.router, "/open311/v2/requests.json").await.json().as_array().unwrap().len() };
    let base = |code: &str, lon: &str, lat: &str| {
        vec![
            ("api_key", reporter.clone()),
            ("service_code", code.to_owned()),
            ("lat", lat.to_owned()),
            ("long", lon.to_owned()),
            ("description", "Sacs d'ordures au pied de l'immeuble".to_owned()),
        ]
    };
    // Bounded fields, in GeoReport's error format; nothing stored.
    let before = count().await;
    for (field, value, status) in [
        ("media_url", "javascript:alert(1)".to_owned(), StatusCode::BAD_REQUEST),
        ("media_url", format!("https://photos.example.org/{}", "p".repeat(3000)), StatusCode::BAD_REQUEST),
        ("description", "sacs\u{0}".to_owned(), StatusCode::UNPROCESSABLE_ENTITY),
        ("attribute[danger]", "x".repeat(501), StatusCode::BAD_REQUEST),
    ] {
        let mut fields = base("dumping", &lon, &lat);
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value));
        let a = post(fields).await;
        assert_eq!(a.status, status, "{field}: {}", a.text());
        assert!(
            a.json()[0]["description"].as_str().unwrap().contains(field.split('[').next().unwrap()),
            "{}",
            a.text()
        );
        assert!(!a.text().contains("javascript:"), "never echoed: {}", a.text());
    }
    assert_eq!(count().await, before);
    let a = post(base("dumping", &lon, &lat)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    let id = a.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    let one = get(&f.router, &format!("/open311/v2/requests/{id}.json")).await.json();
    let r = &one[0];
    assert_eq!((r["status"].as_str(), r["detailed_status"].as_str()), (Some("open"), Some("received")));
    assert_eq!(r["agency_responsible"], "Direction de la gestion des déchets");
    assert_eq!(r["service_name"], "Dépôt sauvage, encombrants", "the category's name, as services.json gives it");
    assert!(r["expected_datetime"].as_str().unwrap() > r["requested_datetime"].as_str().unwrap());
    assert_eq!(r["events"][0]["by"], "mairie");
    // 10 m away, same kind: a duplicate of the first, said in the reply.
    let near_lon = (LON + 10.0 / 73_000.0).to_string();
    let b = post(base("dumping", &near_lon, &lat)).await;
    assert_eq!(b.json()[0]["duplicate_of"].as_str(), Some(id.as_str()), "{}", b.text());
    // Its notice in the reader's language: French by default.
    assert_eq!(b.json()[0]["service_notice"], format!("déjà signalé : le signalement {id} le couvre"), "{}", b.text());
    // 60 m away, or another kind at the same point: new requests.
    let far_lon = (LON + 60.0 / 73_000.0).to_string();
    assert!(post(base("dumping", &far_lon, &lat)).await.json()[0]["duplicate_of"].is_null());
    assert!(post(base("litter", &lon, &lat)).await.json()[0]["duplicate_of"].is_null());
    // Urgency: claimed without a criterion → review; a criterion met → urgent.
    let mut claimed = base("furniture", &far_lon, &lat);
    claimed.push(("attribute[urgent]", "true".into()));
    let c = post(claimed).await.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    let c = get(&f.router, &format!("/open311/v2/requests/{c}.json")).await.json();
    assert_eq!(c[0]["urgency"], "review");
    let mut real = base("pothole", &far_lon, &lat);
    real.push(("attribute[danger]", "true".into()));
    let d = post(real).await.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    assert_eq!(get(&f.router, &format!("/open311/v2/requests/{d}.json")).await.json()[0]["urgency"], "urgent");
    let stored = count().await;
    assert_eq!(stored, 6);

    // Bad input: a GeoReport error, nothing stored.
    let geo_error = |a: &Answer, status: StatusCode| {
        assert_eq!(a.status, status, "{}", a.text());
        assert_eq!(a.json()[0]["code"], status.as_u16());
        a.json()[0]["description"].as_str().unwrap().to_owned()
    };
    let outside = post(base("dumping", "1.44", "43.6")).await;
    assert!(geo_error(&outside, StatusCode::BAD_REQUEST).contains("hors du territoire"));
    let unknown = post(base("graffiti", &lon, &lat)).await;
    assert!(geo_error(&unknown, StatusCode::NOT_FOUND).contains("graffiti"));
    let mut missing = base("dumping", &lon, &lat);
    missing.retain(|(k, _)| *k != "lat");
    assert!(geo_error(&post(missing).await, StatusCode::BAD_REQUEST).contains("lat is required"));
    let mut huge = base("dumping", &lon, &lat);
    huge[4].1 = "x".repeat(1 << 20);
    geo_error(&post(huge).await, StatusCode::PAYLOAD_TOO_LARGE);
    let mut long = base("dumping", &lon, &lat);
    long[4].1 = "x".repeat(5000);
    assert!(geo_error(&post(long).await, StatusCode::BAD_REQUEST).contains("at most"));
    let mut key = base("dumping", &lon, &lat);
    key[0].1 = "not-a-token".into();
    geo_error(&post(key).await, StatusCode::UNAUTHORIZED);
    let mut viewer = base("dumping", &lon, &lat);
    viewer[0].1 = f.viewer.clone();
    geo_error(&post(viewer).await, StatusCode::FORBIDDEN);
    let mut anonymous = base("dumping", &lon, &lat);
    anonymous.remove(0);
    geo_error(&post(anonymous).await, StatusCode::UNAUTHORIZED);
    let date = get(&f.router, "/open311/v2/requests.json?start_date=yesterday").await;
    assert!(geo_error(&date, StatusCode::BAD_REQUEST).contains("start_date"));
    assert_eq!(count().await, stored, "nothing stored by bad input");

    // Filters.
    let open = get(&f.router, "/open311/v2/requests.json?status=open&service_code=dumping").await.json();
    assert_eq!(open.as_array().unwrap().len(), 2, "the duplicate is closed: covered by the first");
    let by_id = get(&f.router, &format!("/open311/v2/requests.json?service_request_id={id}")).await.json();
    assert_eq!(by_id.as_array().unwrap().len(), 1);
    let future = get(&f.router, "/open311/v2/requests.json?start_date=2999-01-01").await.json();
    assert!(future.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn services_move_requests_through_their_statuses() {
    let f = fixture(false);
    let reporter = f.app.create_token("mairie", Role::Reporter).unwrap();
    let fields = [
        ("api_key", reporter.as_str()),
        ("service_code", "litter"),
        ("lat", &LAT.to_string()),
        ("long", &LON.to_string()),
        ("description", "papiers"),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, *v)).collect();
    let a = call(&f.router, form("/open311/v2/requests.json", &fields)).await;
    let id = a.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    let move_to = |status: &str, note: Option<&str>, token: &str| {
        let body = serde_json::json!({"status": status, "note": note}).to_string();
        let req = Request::post(format!("/v1/reports/{id}/status"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        let router = f.router.clone();
        async move { call(&router, req).await }
    };
    // A reporter cannot move it; an editor can, forwards only.
    assert_eq!(move_to("acknowledged", None, &reporter).await.status, StatusCode::FORBIDDEN);
    assert_eq!(move_to("acknowledged", Some("vu"), &f.editor).await.status, StatusCode::OK);
    assert_eq!(move_to("received", None, &f.editor).await.status, StatusCode::CONFLICT);
    assert_eq!(move_to("planned", Some("jeudi"), &f.editor).await.status, StatusCode::OK);
    assert_eq!(move_to("rejected", None, &f.editor).await.status, StatusCode::BAD_REQUEST, "a reason is needed");
    assert_eq!(move_to("in_progress", None, &f.editor).await.status, StatusCode::OK);
    assert_eq!(move_to("done", Some("nettoyé"), &f.editor).await.status, StatusCode::OK);
    assert_eq!(move_to("in_progress", None, &f.editor).await.status, StatusCode::CONFLICT, "done is final");
    assert_eq!(move_to("whatever", None, &f.editor).await.status, StatusCode::BAD_REQUEST);
    let r = get(&f.router, &format!("/open311/v2/requests/{id}.json")).await.json();
    let steps: Vec<(&str, &str)> = r[0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["status"].as_str().unwrap(), e["by"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [("received", "mairie"), ("acknowledged", "sig"), ("planned", "sig"), ("in_progress", "sig"), ("done", "sig")]
    );
    assert_eq!((r[0]["status"].as_str(), r[0]["status_notes"].as_str()), (Some("closed"), Some("nettoyé")));
    let levels = get(&f.router, "/v1/reports/service-levels").await.json();
    let service = levels.as_array().unwrap().iter().find(|l| l["by"] == "service").unwrap();
    assert_eq!((service["requests"].as_u64(), service["done"].as_u64()), (Some(1), Some(1)));
    assert_eq!(service["within_level"].as_f64(), Some(1.0));
}

#[tokio::test]
async fn reports_are_posted_with_their_api_key_even_when_reads_are_private() {
    let f = fixture(true);
    let key = f.app.create_token("bailleur", Role::Reporter).unwrap();
    let (lat, lon) = (LAT.to_string(), LON.to_string());
    let fields =
        [("api_key", key.as_str()), ("service_code", "litter"), ("lat", &lat), ("long", &lon), ("description", "x")];
    let a = call(&f.router, form("/open311/v2/requests.json", &fields)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    // Reading them back needs a viewer token, as every read does here.
    assert_eq!(get(&f.router, "/open311/v2/requests.json").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_viewer_its_search_and_the_documents() {
    let f = fixture(false);
    // A browser at / gets the viewer, its files named by version; a JSON client the landing.
    let page =
        call(&f.router, Request::get("/").header(header::ACCEPT, "text/html").body(Body::empty()).unwrap()).await;
    let html = page.text();
    assert!(html.contains("id=\"map\"") && html.contains("/viewer/app.js?v=viewer-"), "{html}");
    assert!(!html.contains("http://") && !html.contains("https://"), "the page names no other host");
    let js = call(
        &f.router,
        Request::get("/viewer/maplibre-gl.mjs").header(header::ACCEPT_ENCODING, "gzip").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(js.status, StatusCode::OK, "MapLibre is built in (npm ci by the build script)");
    assert_eq!(js.headers[header::CONTENT_ENCODING], "gzip");
    let tag = js.headers[header::ETAG].to_str().unwrap().to_owned();
    let again = call(
        &f.router,
        Request::get("/viewer/maplibre-gl.mjs").header(header::IF_NONE_MATCH, &tag).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(get(&f.router, "/viewer/../Cargo.toml").await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&f.router, "/viewer/nothing.js").await.status, StatusCode::NOT_FOUND);

    // What the page starts from.
    let t = get(&f.router, "/v1/territory").await.json();
    assert_eq!(t["parcels"], 2000);
    assert_eq!(t["qpv"][0]["code"], "QN078001");
    let [lon, lat] = [t["qpv"][0]["label_at"][0].as_f64().unwrap(), t["qpv"][0]["label_at"][1].as_f64().unwrap()];
    let b: Vec<f64> = t["bounds"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert!(b[0] < lon && lon < b[2] && b[1] < lat && lat < b[3], "the QPV's label is in the territory");
    assert_eq!(t["subsectors"].as_array().unwrap().len(), 12);
    assert!(t["uploadable"].as_array().unwrap().iter().any(|l| l == "subsectors"));
    assert!(t["basemap"].is_null(), "no basemap unless `serve --basemap`: the page asks no other host");

    // The search box: an IDU, the end of one, a SIREN, a name, a QPV; each with a box.
    let hits = |q: &str| {
        let r = f.router.clone();
        let uri = format!("/v1/search?q={}", domania_app::features::urlencode(q));
        async move { get(&r, &uri).await.json()["hits"].as_array().unwrap().clone() }
    };
    let idu = hits("78498000AB0072").await;
    assert_eq!((idu[0]["kind"].as_str(), idu[0]["id"].as_str()), (Some("parcel"), Some("78498000AB0072")));
    let bb: Vec<f64> = idu[0]["bbox"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert!(bb[0] < bb[2] && bb[1] < bb[3] && (bb[2] - bb[0]) < 0.01, "a parcel's box: {bb:?}");
    // The end of an IDU: that parcel of every commune of the territory.
    let end = hits("AB0072").await;
    assert!(end.len() > 1 && end.iter().all(|h| h["id"].as_str().unwrap().ends_with("000AB0072")), "{end:?}");
    let siren = hits("900000037").await;
    assert_eq!((siren[0]["kind"].as_str(), siren[0]["id"].as_str()), (Some("owner"), Some("900000037")));
    assert!(siren[0]["parcels"].as_u64().unwrap() >= 1);
    let by_name = hits("habitat des boucles").await;
    assert!(by_name.iter().any(|h| h["id"] == "900000037"), "{by_name:?}");
    assert_eq!(hits("qn078001").await[0]["kind"], "qpv");
    assert!(hits("zzzzzz").await.is_empty());
    assert_eq!(get(&f.router, "/v1/search").await.status, StatusCode::BAD_REQUEST);

    // The cahier des charges: every intervention kind with its manager, the decision.
    let cahier = get(&f.router, "/subsectors/QN078001-01/cahier").await;
    assert_eq!(cahier.status, StatusCode::OK);
    let text = cahier.text();
    for kind in ["Nettoiement", "Collecte des déchets et encombrants", "Espaces verts", "Voirie", "Éclairage public"]
    {
        assert!(text.contains(&format!(">{kind}</th>")), "{kind} in the cahier");
    }
    assert!(text.contains("Gestion selon la domanialité") && text.contains("<svg"));
    // The convention keyed like the sub-sector is listed with its dates and document.
    assert!(text.contains("GED/conventions/2024-07.pdf") && text.contains("1er janvier 2024"), "the convention");
    assert_eq!(get(&f.router, "/subsectors/nothing/cahier").await.status, StatusCode::NOT_FOUND);
    let annuaire = get(&f.router, "/annuaire").await.text();
    assert!(annuaire.contains("Poissy (78498)") && annuaire.contains("Référent GUP Poissy (démo)"));

    // Downloads: a sub-sector and a QPV as CSV.
    let csv = get(&f.router, "/v1/subsectors/QN078001-01?f=csv").await;
    assert!(csv.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/csv"));
    let csv = csv.text();
    assert!(csv.starts_with("subsector,space,owner_actor,area_m2,intervention,service"));
    let kinds = 6;
    let spaces_n = get(&f.router, "/v1/subsectors/QN078001-01").await.json()["spaces"].as_array().unwrap().len();
    assert_eq!(csv.lines().count(), 1 + spaces_n * kinds);
    let qpv = get(&f.router, "/v1/qpv/QN078001/report?f=csv").await.text();
    assert!(qpv.starts_with("qpv,actor,owner_actor,siren,name,parcels,area_m2\n"), "{qpv}");
    assert!(qpv.lines().skip(1).any(|l| l.starts_with("QN078001,bailleur_social,")), "{qpv}");
    let gj = get(&f.router, "/v1/qpv/QN078001/report?f=geojson").await;
    assert_eq!(gj.headers[header::CONTENT_TYPE], "application/geo+json");
    let gj = gj.json();
    assert_eq!(gj["type"], "FeatureCollection");
    assert_eq!(gj["features"][0]["geometry"]["type"], "MultiPolygon");
    let spaces = get(&f.router, "/collections/spaces/items?subsector=QN078001-01&limit=10000&f=json").await.json();
    assert_eq!(spaces["numberMatched"].as_u64(), Some(spaces_n as u64), "the sub-sector's GeoJSON download");
}

#[tokio::test]
async fn answers_are_not_sniffed_and_browsers_of_other_sites_read_only_when_allowed() {
    let f = fixture(false);
    let ask = |origin: &str| Request::get("/v1/version").header(header::ORIGIN, origin).body(Body::empty()).unwrap();
    let a = call(&f.router, ask("https://ailleurs.example.org")).await;
    assert_eq!(a.headers.get(header::X_CONTENT_TYPE_OPTIONS).map(|v| v.to_str().unwrap()), Some("nosniff"));
    assert!(a.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none(), "no other site by default");
    // A tile and an error are not sniffed either.
    let tile = call(&f.router, Request::get("/tiles/parcels/14/8166/5634.mvt").body(Body::empty()).unwrap()).await;
    assert_eq!(tile.headers.get(header::X_CONTENT_TYPE_OPTIONS).map(|v| v.to_str().unwrap()), Some("nosniff"));
    let missing = call(&f.router, Request::get("/nulle-part").body(Body::empty()).unwrap()).await;
    assert_eq!(missing.headers.get(header::X_CONTENT_TYPE_OPTIONS).map(|v| v.to_str().unwrap()), Some("nosniff"));
    // A server told which sites may read it answers them, and only them.
    let options = domania_server::Options {
        bind: "127.0.0.1:0".parse().unwrap(),
        private_reads: false,
        limits: domania_server::Limits::default(),
        basemap: None,
        public_url: domania_server::public_url::PublicUrl::default(),
        cors_origins: vec!["https://carto.example.org".into()],
    };
    let rules = domania_app::files::rules(Some(&data("rules.toml"))).unwrap();
    let shared = domania_server::shared_with(f.app.clone(), rules, &options).unwrap();
    let router = domania_server::router(shared, options.limits);
    let allowed = call(&router, ask("https://carto.example.org")).await;
    assert_eq!(
        allowed.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).map(|v| v.to_str().unwrap()),
        Some("https://carto.example.org")
    );
    assert!(
        call(&router, ask("https://ailleurs.example.org"))
            .await
            .headers
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
    assert!(domania_server::check_origin("https://carto.example.org/chemin").is_err());
}

/// A served snapshot, once replaced, is let go when the requests under way are done: nothing
/// of a running server — its start, its follower, its deliverer, its daily rebuild — keeps the
/// one it started with (at a million parcels that was 730 MB kept for as long as it ran).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_snapshot_is_let_go() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let f = fixture(false);
    let first = Arc::downgrade(&f.shared.current());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let options = domania_server::Options {
        bind: ([127, 0, 0, 1], port).into(),
        private_reads: false,
        limits: domania_server::Limits::default(),
        basemap: None,
        public_url: domania_server::public_url::PublicUrl::default(),
        cors_origins: Vec::new(),
    };
    let shared = Arc::clone(&f.shared);
    let server = tokio::spawn(async move { domania_server::serve(shared, &options).await });
    // Serving: an answer over TCP (its tasks are started before it accepts).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut answer = String::new();
        if let Ok(mut tcp) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await
            && tcp.write_all(b"GET /v1/version HTTP/1.0\r\n\r\n").await.is_ok()
        {
            let _ = tcp.read_to_string(&mut answer).await;
        }
        if answer.split(' ').nth(1) == Some("200") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the server did not answer: {answer}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(first.upgrade().is_some());
    let mut fc: Value = serde_json::from_slice(&std::fs::read(data("subsectors-synth.geojson")).unwrap()).unwrap();
    fc["features"].as_array_mut().unwrap().pop();
    let upload = Request::post("/v1/layers/subsectors")
        .header(header::AUTHORIZATION, format!("Bearer {}", f.editor))
        .header(header::CONTENT_TYPE, "application/geo+json")
        .body(Body::from(serde_json::to_vec(&fc).unwrap()))
        .unwrap();
    let r = call(&f.router, upload).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // The work behind the new snapshot's first answers may hold the old one a moment.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while first.upgrade().is_some() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(first.upgrade().is_none(), "the first snapshot is still held after it was replaced");
    server.abort();
}

//! OGC API – Features – Part 4 on `domania serve`: a SIG officer's edits of the perimeter
//! layers, as the specification writes the requests (POST to the items, PUT, PATCH with a
//! JSON merge patch, DELETE on an item, `If-Match` with the item's `ETag`), each one version.

use std::time::Duration;

use serde_json::{Value, json};

use crate::serve::Server;
use crate::support::{domania, root, texts};

struct Answer {
    status: u16,
    etag: Option<String>,
    location: Option<String>,
    body: String,
}

fn call(method: &str, url: &str, token: Option<&str>, headers: &[(&str, &str)], body: Option<&Value>) -> Answer {
    let mut req = ureq::request(method, url).timeout(Duration::from_mins(1));
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let r = match body {
        Some(b) => req.send_string(&b.to_string()),
        None => req.call(),
    };
    let r = match r {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    Answer {
        status: r.status(),
        etag: r.header("etag").map(str::to_owned),
        location: r.header("location").map(str::to_owned),
        body: r.into_string().unwrap_or_default(),
    }
}

fn area(server: &Server, key: &str) -> f64 {
    let a = call("GET", &format!("{}/v1/subsectors/{key}", server.url), None, &[], None);
    assert_eq!(a.status, 200, "{}", a.body);
    serde_json::from_str::<Value>(&a.body).unwrap()["area_m2"].as_f64().unwrap()
}

#[test]
fn a_sig_officer_edits_sub_sectors_over_ogc_api_features_part_4_and_each_edit_is_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("demo.gpkg");
    let out = domania(&store, &["demo", "--dir", root().join("data").to_str().unwrap()]);
    assert!(out.status.success(), "{}", texts(&out).1);
    let out = domania(&store, &["token", "create", "--name", "sig-gpso", "--role", "editor"]);
    let token = texts(&out).0.trim().to_owned();
    let server = Server::start(&store);
    let items = format!("{}/collections/subsectors/items", server.url);
    let item = format!("{items}/QN078001-03");
    let geo = [("Content-Type", "application/geo+json")];

    // Loaded as a client loads it: the feature and its ETag.
    let loaded = call("GET", &item, None, &[], None);
    assert_eq!(loaded.status, 200);
    let first = loaded.etag.clone().expect("an item has an ETag");
    let mut feature: Value = serde_json::from_str(&loaded.body).unwrap();
    let before = area(&server, "QN078001-03");

    // A vertex moved along a new fence: replaced with If-Match, one version, served at once.
    let ring = feature["geometry"]["coordinates"][0][0].as_array_mut().unwrap();
    let (cx, cy) = (
        ring.iter().map(|c| c[0].as_f64().unwrap()).sum::<f64>() / ring.len() as f64,
        ring.iter().map(|c| c[1].as_f64().unwrap()).sum::<f64>() / ring.len() as f64,
    );
    let (x, y) = (ring[2][0].as_f64().unwrap(), ring[2][1].as_f64().unwrap());
    ring[2] = json!([x + (cx - x) * 0.4, y + (cy - y) * 0.4]);
    let put = call("PUT", &item, Some(&token), &[geo[0], ("If-Match", &first)], Some(&feature));
    assert_eq!(put.status, 204, "{}", put.body);
    let second = put.etag.expect("the new ETag");
    assert_ne!(second, first);
    let after = area(&server, "QN078001-03");
    assert!(after < before * 0.95, "the shares follow the new shape: {before} m² → {after} m²");
    assert_eq!(call("GET", &item, None, &[], None).etag.as_deref(), Some(second.as_str()));

    // A second officer saving the copy he loaded before: told it changed, nothing written.
    let stale = call("PUT", &item, Some(&token), &[geo[0], ("If-Match", &first)], Some(&feature));
    assert_eq!(stale.status, 412, "{}", stale.body);
    assert!(stale.body.contains("feature_changed") && stale.body.contains("a changé depuis que vous l’avez chargé"));

    // A new name by a JSON merge patch.
    let patch = json!({ "properties": { "name": "Îlot 6 3 — clôture" } });
    let patched = call(
        "PATCH",
        &item,
        Some(&token),
        &[("Content-Type", "application/merge-patch+json"), ("If-Match", &second)],
        Some(&patch),
    );
    assert_eq!(patched.status, 204, "{}", patched.body);
    let now: Value = serde_json::from_str(&call("GET", &item, None, &[], None).body).unwrap();
    assert_eq!(now["properties"]["name"], "Îlot 6 3 — clôture");
    assert!((area(&server, "QN078001-03") - after).abs() < 1e-6, "a name changes no shape");

    // A sub-sector split after a résidentialisation: a new one, at its Location.
    let (x0, y0) = (cx, cy);
    let square = |d: f64| json!([[[x0, y0], [x0 + d, y0], [x0 + d, y0 + d / 1.5], [x0, y0 + d / 1.5], [x0, y0]]]);
    let new = json!({ "type": "Feature", "id": "QN078001-99", "properties": { "name": "Îlot neuf" }, "geometry": { "type": "Polygon", "coordinates": square(0.0003) } });
    let created = call("POST", &items, Some(&token), &geo, Some(&new));
    assert_eq!(created.status, 201, "{}", created.body);
    let at = created.location.expect("a Location");
    assert!(at.ends_with("/collections/subsectors/items/QN078001-99"), "{at}");
    assert_eq!(call("GET", &at, None, &[], None).status, 200);
    assert_eq!(call("POST", &items, Some(&token), &geo, Some(&new)).status, 409, "a key taken");

    // A shape that is not a polygon's (a bow tie): refused with its reason, nothing kept.
    let bow = json!({ "type": "Feature", "id": "QN078001-98", "properties": {}, "geometry": { "type": "Polygon",
        "coordinates": [[[x0, y0], [x0 + 0.0003, y0 + 0.0002], [x0 + 0.0003, y0], [x0, y0 + 0.0002], [x0, y0]]] } });
    let refused = call("POST", &items, Some(&token), &geo, Some(&bow));
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("La modification de l’objet « QN078001-98 » est refusée"), "{}", refused.body);
    assert_eq!(call("GET", &format!("{items}/QN078001-98"), None, &[], None).status, 404);

    // Removed, with the ETag it was created with.
    let tag = call("GET", &at, None, &[], None).etag.unwrap();
    assert_eq!(call("DELETE", &at, Some(&token), &[("If-Match", &tag)], None).status, 204);
    assert_eq!(call("GET", &at, None, &[], None).status, 404);

    // The cadastre and the owners are imported, not edited; and an edit needs an editor.
    let parcels = call("DELETE", &format!("{}/collections/parcels/items/x", server.url), Some(&token), &[], None);
    assert_eq!(parcels.status, 405, "{}", parcels.body);
    assert!(parcels.body.contains("not_editable") && parcels.body.contains("s’importe en entier"), "{}", parcels.body);
    assert_eq!(call("DELETE", &item, None, &[], None).status, 401);

    // The history: one version per edit, by the token's name, each saying what it did.
    let history = texts(&domania(&store, &["history", "subsectors"])).0;
    let edits: Vec<&str> = history.lines().filter(|l| l.contains("OGC API – Features")).collect();
    assert_eq!(edits.len(), 4, "replace, update, create, delete:\n{history}");
    assert!(edits.iter().all(|l| l.contains("by sig-gpso")), "{history}");
    assert!(edits[0].contains("~1 (reshaped 1)") && edits[2].contains("+1 -0 ~0"), "{history}");

    // Rolled back to the import: the old shape and figures are served again.
    let back = call(
        "POST",
        &format!("{}/v1/layers/subsectors/rollback", server.url),
        Some(&token),
        &[("Content-Type", "application/json")],
        Some(&json!({ "version": 1 })),
    );
    assert_eq!(back.status, 200, "{}", back.body);
    assert!((area(&server, "QN078001-03") - before).abs() < 1e-6, "the rollback restores the shares");
}

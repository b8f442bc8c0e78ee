//! Every polygon that leaves Domania is valid by the OGC simple-features rules, after its own
//! rounding — checked with tools that share no code with it: the tiles of every zoom from 12
//! to 18 (their buffers included) decoded by Mapbox's `mapbox-vector-tile`, and every feature of
//! every OGC API collection (in CRS84 and in Lambert-93), all validated by Shapely (GEOS), on
//! Paris 18e and on the demo territory (`tools/validity/check.py`). And a `bbox` answer holds
//! the features whose shapes meet the box, not those whose boxes do.

use std::path::Path;
use std::process::Command;

use geo::Intersects;
use geo_types::{Coord, LineString, MultiPolygon, Polygon, Rect};

use crate::serve::Server;
use crate::support::{command, domania, root, texts};

/// `check.py MODE ARGS…`: its summary, asserting it read something and found nothing invalid.
fn check(mode: &str, args: &[&Path]) -> serde_json::Value {
    let out = Command::new("python3")
        .arg(root().join("tools/validity/check.py"))
        .arg(mode)
        .args(args)
        .output()
        .expect("python3");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("check.py {mode}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(out.status.success(), "check.py {mode} found invalid polygons: {summary:#}");
    summary
}

/// Every page of a collection's items (following the `next` links), written to files in `dir`.
fn all_items(url: &str, collection: &str, crs: &str, dir: &Path) -> (Vec<std::path::PathBuf>, Vec<serde_json::Value>) {
    let mut next = Some(format!("{url}/collections/{collection}/items?limit=10000&crs={crs}"));
    let (mut files, mut features) = (Vec::new(), Vec::new());
    while let Some(page_url) = next.take() {
        let text = ureq::get(&page_url).call().unwrap_or_else(|e| panic!("{page_url}: {e}")).into_string().unwrap();
        let page: serde_json::Value = serde_json::from_str(&text).unwrap();
        let file = dir.join(format!("{collection}-{}-{}.json", crs.replace([':', '/'], "_"), files.len()));
        std::fs::write(&file, &text).unwrap();
        files.push(file);
        features.extend(page["features"].as_array().unwrap().iter().cloned());
        next = page["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .and_then(|l| l["href"].as_str().map(str::to_owned));
    }
    (files, features)
}

/// Exports the tiles z12–z18 of every layer and checks them, then every collection's items.
fn every_shape_is_valid(store: &Path, dir: &Path) -> Vec<serde_json::Value> {
    let archive = dir.join("all.pmtiles");
    let out = domania(
        store,
        &["--json", "export", "pmtiles", archive.to_str().unwrap(), "--minzoom", "12", "--maxzoom", "18"],
    );
    assert!(out.status.success(), "{}", texts(&out).1);
    let tiles = check("pmtiles", &[&archive]);
    assert!(tiles["polygons"].as_u64().unwrap() > 100, "{tiles}");
    for z in 12..=18 {
        assert!(tiles["by_zoom"][z.to_string()]["polygons"].as_u64().unwrap_or(0) > 0, "zoom {z}: {tiles}");
    }

    let server = Server::start(store);
    let mut files = Vec::new();
    let mut parcels = Vec::new();
    for collection in ["parcels", "spaces", "subsectors", "qpv", "conventions"] {
        for crs in ["http://www.opengis.net/def/crs/OGC/1.3/CRS84", "http://www.opengis.net/def/crs/EPSG/0/2154"] {
            let (f, features) = all_items(&server.url, collection, crs, dir);
            files.extend(f);
            if collection == "parcels" && crs.ends_with("CRS84") {
                parcels = features;
            }
        }
    }
    let refs: Vec<&Path> = files.iter().map(std::path::PathBuf::as_path).collect();
    let items = check("geojson", &refs);
    assert!(items["polygons"].as_u64().unwrap() > 100, "{items}");
    parcels
}

/// A GeoJSON MultiPolygon as `geo` reads it.
fn multipolygon(geometry: &serde_json::Value) -> MultiPolygon<f64> {
    let ring = |r: &serde_json::Value| {
        LineString(
            r.as_array()
                .unwrap()
                .iter()
                .map(|c| Coord { x: c[0].as_f64().unwrap(), y: c[1].as_f64().unwrap() })
                .collect(),
        )
    };
    MultiPolygon(
        geometry["coordinates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let rings = p.as_array().unwrap();
                Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
            })
            .collect(),
    )
}

#[test]
#[cfg_attr(
    domania_without_shape_check,
    ignore = "needs mapbox-vector-tile, shapely and pmtiles (pip install -r tools/validity/requirements.txt pmtiles)"
)]
fn paris_tiles_and_features_are_valid_and_bbox_meets_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::paris_store(dir.path(), "SS");
    let parcels = every_shape_is_valid(&store, dir.path());
    assert!(parcels.len() > 1_000, "{}", parcels.len());

    // A box around the Mairie du 18e: the answer is every parcel whose shape meets it (within a
    // tenth of a metre, the seventh decimal's rounding), and none whose shape stays away.
    let (x0, y0, x1, y1) = (2.3428, 48.8915, 2.3468, 48.8935);
    let server = Server::start(&store);
    let url = format!("{}/collections/parcels/items?bbox={x0},{y0},{x1},{y1}&limit=10000", server.url);
    let page: serde_json::Value =
        serde_json::from_str(&ureq::get(&url).call().unwrap().into_string().unwrap()).unwrap();
    let returned: std::collections::BTreeSet<String> =
        page["features"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_owned()).collect();
    let e = 1e-6;
    let (wide, narrow) = (
        Rect::new((x0 - e, y0 - e), (x1 + e, y1 + e)).to_polygon(),
        Rect::new((x0 + e, y0 + e), (x1 - e, y1 - e)).to_polygon(),
    );
    let mut boxes_only = 0;
    for f in &parcels {
        let id = f["id"].as_str().unwrap();
        let shape = multipolygon(&f["geometry"]);
        if returned.contains(id) {
            assert!(shape.intersects(&wide), "{id} is returned but its shape stays out of the box");
        } else {
            assert!(!shape.intersects(&narrow), "{id} meets the box but is not returned");
            let b = geo::BoundingRect::bounding_rect(&shape).unwrap();
            if b.min().x <= x1 && b.max().x >= x0 && b.min().y <= y1 && b.max().y >= y0 {
                boxes_only += 1;
            }
        }
    }
    assert!(returned.len() > 50, "{}", returned.len());
    assert!(boxes_only > 0, "the box is chosen where some parcels' boxes meet it but their shapes do not");
}

#[test]
#[cfg_attr(
    domania_without_shape_check,
    ignore = "needs mapbox-vector-tile, shapely and pmtiles (pip install -r tools/validity/requirements.txt pmtiles)"
)]
fn demo_tiles_and_features_are_valid() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("demo.gpkg");
    let out = command(&store).current_dir(dir.path()).args(["demo"]).output().unwrap();
    assert!(out.status.success(), "{}", texts(&out).1);
    every_shape_is_valid(&store, dir.path());
}

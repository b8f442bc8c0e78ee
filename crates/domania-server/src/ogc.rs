//! OGC API – Features, Part 1 (Core, GeoJSON, OpenAPI 3.0) and Part 2 (CRS by reference): every
//! layer as a collection, output in CRS84 or, with `crs=`, in Lambert-93 (EPSG:2154), which is
//! what a French SIG officer's QGIS project is in.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use domania_core::Layer;
use domania_core::crs::Crs;
use geo::BoundingRect;
use geo_types::{MultiPolygon, Rect};
use serde_json::{Map, Value, json};

use crate::api::{bbox_l93, page};
use crate::error::{ApiError, ApiResult};
use crate::respond::{Format, tagged};
use crate::state::{Served, Shared};

pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
pub const EPSG_2154: &str = "http://www.opengis.net/def/crs/EPSG/0/2154";

/// The conformance classes implemented.
/// HTML is served for the landing page only, so the HTML class is not claimed.
pub const CONFORMANCE: [&str; 4] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
];

/// The collections: the store's spatial layers.
pub const COLLECTIONS: [(&str, &str, &str); 5] = [
    ("parcels", "Parcels", "Cadastral parcels with the actor their land counts under and their owners (legal persons)"),
    ("qpv", "QPV", "Quartiers prioritaires de la politique de la ville"),
    ("subsectors", "Sub-sectors", "Sub-sectors with each actor's share and the management decision"),
    ("conventions", "Conventions", "Perimeters of management conventions"),
    ("spaces", "Spaces and managers", "Every space of the sub-sectors with its manager per intervention kind"),
];

/// The server's own URL, as the client reached it.
pub(crate) fn base(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

fn wants_html(headers: &HeaderMap, f: Option<&str>) -> bool {
    match f {
        Some(f) => f == "html",
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html") && !a.contains("application/json")),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct FQuery {
    pub f: Option<String>,
}

#[allow(clippy::needless_pass_by_value)]
fn link(href: String, rel: &str, kind: &str, title: &str) -> Value {
    json!({"href": href, "rel": rel, "type": kind, "title": title})
}

pub async fn landing(headers: HeaderMap, Query(q): Query<FQuery>) -> Response {
    let b = base(&headers);
    // A browser gets the map viewer; clients asking for JSON, the landing page.
    if wants_html(&headers, q.f.as_deref()) {
        return crate::viewer::page();
    }
    axum::Json(json!({
        "title": "Domania",
        "description": "Who owns and who must maintain every piece of ground of an urban community",
        "links": [
            link(format!("{b}/?f=json"), "self", "application/json", "this document"),
            link(format!("{b}/?f=html"), "alternate", "text/html", "this document as HTML"),
            link(format!("{b}/api"), "service-desc", "application/vnd.oai.openapi+json;version=3.0", "the API definition"),
            link(format!("{b}/conformance"), "conformance", "application/json", "conformance classes"),
            link(format!("{b}/collections"), "data", "application/json", "the collections"),
        ]
    }))
    .into_response()
}

pub async fn conformance() -> axum::Json<Value> {
    axum::Json(json!({"conformsTo": CONFORMANCE}))
}

/// The box of a set of Lambert-93 shapes, in CRS84.
fn extent(shapes: impl Iterator<Item = Rect<f64>>) -> Option<[f64; 4]> {
    shapes.reduce(domania_core::crs::box_union).map(domania_core::crs::lambert93_box_to_crs84)
}

/// The CRS84 box of each collection, computed once per snapshot.
#[must_use]
pub fn extents(
    snap: &domania_engine::Snapshot,
    assign: &domania_engine::AssignReport,
) -> BTreeMap<&'static str, Option<[f64; 4]>> {
    let zones = |l: Layer| extent(snap.zones(l).iter().filter_map(|z| z.geom_l93.bounding_rect()));
    BTreeMap::from([
        ("parcels", extent(snap.parcels().iter().filter_map(|p| p.geom_l93.bounding_rect()))),
        ("qpv", zones(Layer::Qpv)),
        ("subsectors", zones(Layer::Subsectors)),
        ("conventions", zones(Layer::Conventions)),
        ("spaces", extent(assign.spaces.iter().filter_map(|s| s.geom_l93.as_ref()?.bounding_rect()))),
    ])
}

fn collection_json(b: &str, served: &Served, id: &str, title: &str, description: &str) -> Value {
    let bbox = served.extents.get(id).copied().flatten();
    json!({
        "id": id,
        "title": title,
        "description": description,
        "itemType": "feature",
        "crs": [CRS84, EPSG_2154],
        "storageCrs": EPSG_2154,
        "extent": {"spatial": {"bbox": bbox.map(|b| vec![b]).unwrap_or_default(), "crs": CRS84}},
        "links": [
            link(format!("{b}/collections/{id}"), "self", "application/json", title),
            link(format!("{b}/collections/{id}/items?f=json"), "items", "application/geo+json", "its features"),
        ]
    })
}

fn collection_meta(id: &str) -> ApiResult<(&'static str, &'static str, &'static str)> {
    COLLECTIONS.iter().find(|(c, _, _)| *c == id).copied().ok_or_else(|| {
        ApiError::not_found(format!(
            "no collection {id:?} (collections: parcels, qpv, subsectors, conventions, spaces)"
        ))
    })
}

pub async fn collections(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let served = shared.current();
    let b = base(&headers);
    let list: Vec<Value> = COLLECTIONS.iter().map(|(id, t, d)| collection_json(&b, &served, id, t, d)).collect();
    let body = json!({
        "links": [link(format!("{b}/collections"), "self", "application/json", "the collections")],
        "collections": list,
    });
    tagged(&headers, &served, Format::Json, body.to_string().into_bytes())
}

pub async fn collection(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (id, title, description) = collection_meta(&id)?;
    let served = shared.current();
    let body = collection_json(&base(&headers), &served, id, title, description);
    Ok(tagged(&headers, &served, Format::Json, body.to_string().into_bytes()))
}

/// A CRS parameter: CRS84 (the default) or EPSG:2154, by URI or short name.
fn crs_param(text: Option<&str>, what: &str) -> ApiResult<bool> {
    match text {
        None | Some(CRS84 | "CRS84" | "OGC:CRS84") => Ok(false),
        Some(EPSG_2154 | "EPSG:2154" | "[EPSG:2154]") => Ok(true),
        Some(other) => {
            Err(ApiError::bad_request("bad_crs", format!("{what}={other}: supported are {CRS84} and {EPSG_2154}")))
        }
    }
}

/// GeoJSON coordinates of a Lambert-93 shape: as they are, or in CRS84 with 7 decimals.
fn coordinates(mp: &MultiPolygon<f64>, lambert: bool) -> Value {
    if lambert {
        let ring = |r: &geo_types::LineString<f64>| -> Value {
            r.0.iter().map(|c| json!([(c.x * 100.0).round() / 100.0, (c.y * 100.0).round() / 100.0])).collect()
        };
        return mp
            .0
            .iter()
            .map(|p| std::iter::once(p.exterior()).chain(p.interiors()).map(ring).collect::<Value>())
            .collect();
    }
    serde_json::to_value(domania_app::geojson::Wgs84Geometry(mp)).map_or(Value::Null, |mut g| g["coordinates"].take())
}

/// One feature of a collection: id, properties, shape.
struct Item<'a> {
    id: String,
    properties: Map<String, Value>,
    shape: &'a MultiPolygon<f64>,
}

fn parcel_item(served: &Served, i: usize) -> Item<'_> {
    let p = &served.snapshot.parcels()[i];
    let h = &served.snapshot.holdings()[i];
    let mut m = Map::new();
    m.insert("idu".into(), json!(p.idu));
    m.insert("contenance".into(), json!(p.contenance));
    m.insert("actor".into(), json!(h.actor()));
    m.insert("owner_file".into(), json!(h.covered));
    m.insert(
        "owners".into(),
        json!(h.owners.iter().map(|o| format!("{} {}", o.siren, o.name)).collect::<Vec<_>>().join(" | ")),
    );
    Item { id: p.idu.clone(), properties: m, shape: &p.geom_l93 }
}

#[allow(clippy::many_single_char_names)]
fn zone_item(served: &Served, layer: Layer, i: usize) -> Item<'_> {
    let z = &served.snapshot.zones(layer)[i];
    let mut m = Map::new();
    m.insert("id".into(), json!(z.key));
    m.insert("name".into(), json!(z.name));
    if layer == Layer::Subsectors
        && let Some(pos) = served.subsector(&z.key)
    {
        let d = &served.assign.decisions[pos];
        let s = &served.shares.zones[pos].shares;
        let (decision, to) = d.decision.kind();
        m.insert("decision".into(), json!(decision));
        m.insert("delegated_to".into(), json!(to));
        m.insert("needs_convention".into(), json!(d.needs_convention));
        m.insert("non_cadastre_m2".into(), json!((s.non_cadastre_m2 * 100.0).round() / 100.0));
        for (a, share) in &s.by_actor {
            m.insert(format!("share_{a}"), json!((share.share * 1e6).round() / 1e6));
        }
        m.insert("explanation".into(), json!(d.explanation));
    }
    Item { id: z.key.clone(), properties: m, shape: &z.geom_l93 }
}

fn space_item(served: &Served, i: usize) -> Option<Item<'_>> {
    let s = &served.assign.spaces[i];
    let shape = s.geom_l93.as_ref()?;
    let (space, owner) = domania_app::compute::space_names(&s.space);
    let mut m = Map::new();
    m.insert("subsector".into(), json!(s.subsector));
    m.insert("space".into(), json!(space));
    m.insert("owner_actor".into(), json!(owner));
    m.insert("area_m2".into(), json!((s.area_m2 * 100.0).round() / 100.0));
    for a in &s.assignments {
        m.insert(format!("{}_service", a.intervention), json!(a.service.as_ref().map(|x| &x.name)));
        m.insert(format!("{}_actor", a.intervention), json!(a.actor));
        m.insert(format!("{}_phone", a.intervention), json!(a.service.as_ref().and_then(|x| x.phone.as_ref())));
    }
    Some(Item { id: format!("{}:{space}", s.subsector), properties: m, shape })
}

/// The positions of a collection's features meeting `bbox` (all without one), in order.
fn candidates(served: &Served, id: &str, bbox: Option<Rect<f64>>) -> Vec<usize> {
    let meets = |shape: &MultiPolygon<f64>| match (bbox, shape.bounding_rect()) {
        (None, _) => true,
        (Some(b), Some(r)) => {
            r.min().x <= b.max().x && b.min().x <= r.max().x && r.min().y <= b.max().y && b.min().y <= r.max().y
        }
        (Some(_), None) => false,
    };
    let snap = &served.snapshot;
    match id {
        "parcels" => match bbox {
            Some(b) => snap.parcels_in_box(b),
            None => (0..snap.parcels().len()).collect(),
        },
        "spaces" => (0..served.assign.spaces.len())
            .filter(|&i| served.assign.spaces[i].geom_l93.as_ref().is_some_and(meets))
            .collect(),
        _ => {
            let layer: Layer = id.parse().unwrap_or(Layer::Qpv);
            (0..snap.zones(layer).len()).filter(|&i| meets(&snap.zones(layer)[i].geom_l93)).collect()
        }
    }
}

fn item_at<'a>(served: &'a Served, id: &str, i: usize) -> Option<Item<'a>> {
    match id {
        "parcels" => Some(parcel_item(served, i)),
        "spaces" => space_item(served, i),
        other => Some(zone_item(served, other.parse().ok()?, i)),
    }
}

fn feature_json(item: &Item<'_>, lambert: bool) -> Value {
    json!({"type": "Feature", "id": item.id, "properties": item.properties,
        "geometry": {"type": "MultiPolygon", "coordinates": coordinates(item.shape, lambert)}})
}

/// Whether `name` is a property of the collection's features (what a filter may name).
fn is_property(collection: &str, name: &str) -> bool {
    match collection {
        "parcels" => ["idu", "contenance", "actor", "owner_file", "owners"].contains(&name),
        "subsectors" => {
            ["id", "name", "decision", "delegated_to", "needs_convention", "non_cadastre_m2", "explanation"]
                .contains(&name)
                || name.starts_with("share_")
        }
        "spaces" => {
            ["subsector", "space", "owner_actor", "area_m2"].contains(&name)
                || ["_service", "_actor", "_phone"].iter().any(|s| name.ends_with(s))
        }
        _ => ["id", "name"].contains(&name),
    }
}

/// The query parameters of `/items` that are not property filters.
const RESERVED: [&str; 7] = ["bbox", "bbox-crs", "crs", "limit", "offset", "f", "datetime"];

pub async fn items(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
) -> ApiResult<Response> {
    let (id, _, _) = collection_meta(&id)?;
    let lambert = crs_param(params.get("crs").map(String::as_str), "crs")?;
    let bbox_crs = if crs_param(params.get("bbox-crs").map(String::as_str), "bbox-crs")? {
        Crs::lambert93()
    } else {
        Crs::wgs84()
    };
    let limit = params
        .get("limit")
        .map(|l| l.parse::<i64>())
        .transpose()
        .map_err(|_| ApiError::bad_request("bad_limit", "limit must be a whole number"))?;
    let offset = params
        .get("offset")
        .map(|o| o.parse::<i64>())
        .transpose()
        .map_err(|_| ApiError::bad_request("bad_offset", "offset must be a whole number"))?;
    let (limit, offset) = page(limit, offset, 100)?;
    let bbox = params.get("bbox").map(|b| bbox_l93(b, &bbox_crs)).transpose()?;
    let filters: Vec<(&String, &String)> = params.iter().filter(|(k, _)| !RESERVED.contains(&k.as_str())).collect();
    // A parameter that is neither reserved nor a property is a mistake, not a filter that
    // matches nothing.
    if let Some((k, _)) = filters.iter().find(|(k, _)| !is_property(id, k)) {
        return Err(ApiError::bad_request(
            "unknown_parameter",
            format!("{k}: not a parameter of /items nor a property of {id} (parameters: {})", RESERVED.join(", ")),
        ));
    }
    let served = shared.current();
    let s2 = Arc::clone(&served);
    let id2 = id.to_owned();
    let filters2: Vec<(String, String)> = filters.iter().map(|(k, v)| ((*k).clone(), (*v).clone())).collect();
    let (matched, features) = tokio::task::spawn_blocking(move || {
        let served = &*s2;
        let mut matched = 0usize;
        let mut features = Vec::new();
        for i in candidates(served, &id2, bbox) {
            let Some(item) = item_at(served, &id2, i) else { continue };
            let keep = filters2.iter().all(|(k, v)| {
                item.properties.get(k).is_some_and(|p| match p {
                    Value::String(s) => s == v,
                    Value::Null => v.is_empty(),
                    Value::Bool(b) => v == if *b { "true" } else { "false" },
                    Value::Number(n) => v.parse::<f64>().ok() == n.as_f64(),
                    _ => false,
                })
            });
            if !keep {
                continue;
            }
            if matched >= offset && features.len() < limit {
                features.push(feature_json(&item, lambert));
            }
            matched += 1;
        }
        (matched, features)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?;
    let b = base(&headers);
    let query_without_offset: String = params
        .iter()
        .filter(|(k, _)| k.as_str() != "offset")
        .map(|(k, v)| format!("{}={}&", urlencode(k), urlencode(v)))
        .collect();
    let mut links = vec![link(
        format!("{b}/collections/{id}/items?{query_without_offset}offset={offset}"),
        "self",
        "application/geo+json",
        "this page",
    )];
    if offset + features.len() < matched {
        links.push(link(
            format!("{b}/collections/{id}/items?{query_without_offset}offset={}", offset + features.len()),
            "next",
            "application/geo+json",
            "the next page",
        ));
    }
    let returned = features.len();
    let mut body = json!({
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": returned,
        "timeStamp": jiff::Timestamp::now().to_string(),
        "links": links,
        "features": features,
    });
    if lambert {
        // The Content-Crs header says it for OGC clients; the GeoJSON 2008 `crs` member says it
        // for the others (GDAL's GeoJSON driver, QGIS opening the URL as a file).
        body["crs"] = json!({"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}});
    }
    let mut response = tagged(&headers, &served, Format::GeoJson, body.to_string().into_bytes());
    let crs = if lambert { EPSG_2154 } else { CRS84 };
    if let Ok(v) = HeaderValue::from_str(&format!("<{crs}>")) {
        response.headers_mut().insert("Content-Crs", v);
    }
    Ok(response)
}

pub async fn item(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((id, fid)): Path<(String, String)>,
    Query(params): Query<BTreeMap<String, String>>,
) -> ApiResult<Response> {
    let (id, _, _) = collection_meta(&id)?;
    let lambert = crs_param(params.get("crs").map(String::as_str), "crs")?;
    let served = shared.current();
    let snap = &served.snapshot;
    let pos = match id {
        "parcels" => snap.position(&fid),
        // A space id never holds `:`; a sub-sector key may.
        "spaces" => fid.rsplit_once(':').and_then(|(s, sp)| served.space(s, sp)),
        other => {
            let layer: Layer = other.parse().map_err(|_| ApiError::not_found(other.to_owned()))?;
            snap.zones(layer).iter().position(|z| z.key == fid)
        }
    };
    let item = pos
        .and_then(|p| item_at(&served, id, p))
        .ok_or_else(|| ApiError::not_found(format!("no feature {fid:?} in {id}")))?;
    let b = base(&headers);
    let mut f = feature_json(&item, lambert);
    f["links"] = json!([
        link(format!("{b}/collections/{id}/items/{}", urlencode(&fid)), "self", "application/geo+json", "this feature"),
        link(format!("{b}/collections/{id}"), "collection", "application/json", "its collection"),
    ]);
    let mut response = tagged(&headers, &served, Format::GeoJson, f.to_string().into_bytes());
    let crs = if lambert { EPSG_2154 } else { CRS84 };
    if let Ok(v) = HeaderValue::from_str(&format!("<{crs}>")) {
        response.headers_mut().insert("Content-Crs", v);
    }
    Ok(response)
}

/// Percent-encoding of a query value (RFC 3986 unreserved characters kept).
#[must_use]
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

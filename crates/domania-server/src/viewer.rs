//! The map viewer and the documents partners use:
//!
//! - `/` (for a browser) and `/viewer/…`: the viewer page, its script and style (from
//!   `viewer/`) and MapLibre GL JS (from npm, embedded by the build script); all from this
//!   server, nothing from another host;
//! - `/v1/territory`: what the page needs to start (bounds, intervention kinds, QPV, sub-sectors);
//! - `/v1/search?q=`: the search box (IDU, SIREN or owner name, QPV, sub-sector);
//! - `/subsectors/{id}/cahier`: the printable *cahier des charges localisé*;
//! - `/annuaire`: the services and their referents by commune and intervention kind.

use std::sync::{Arc, OnceLock};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use domania_core::Layer;
use domania_core::crs::Crs;
use geo::{InteriorPoint, Intersects};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::respond::{Format, snapshot_answer};
use crate::state::Shared;

/// The MapLibre GL JS version built in (empty when the build had no npm).
pub const MAPLIBRE_VERSION: &str = env!("DOMANIA_MAPLIBRE_VERSION");

/// A file the viewer loads, gzipped once on first demand.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    gzip: OnceLock<Vec<u8>>,
}

impl Asset {
    const fn new(name: &'static str, content_type: &'static str, body: &'static [u8]) -> Self {
        Self { name, content_type, body, gzip: OnceLock::new() }
    }
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

static ASSETS: [Asset; 5] = [
    Asset::new("app.js", JS, include_bytes!("../../../viewer/app.js")),
    Asset::new("app.css", CSS, include_bytes!("../../../viewer/app.css")),
    Asset::new("maplibre-gl.mjs", JS, include_bytes!(concat!(env!("OUT_DIR"), "/maplibre-gl.mjs"))),
    Asset::new("maplibre-gl-worker.mjs", JS, include_bytes!(concat!(env!("OUT_DIR"), "/maplibre-gl-worker.mjs"))),
    Asset::new("maplibre-gl.css", CSS, include_bytes!(concat!(env!("OUT_DIR"), "/maplibre-gl.css"))),
];

const INDEX: &str = include_str!("../../../viewer/index.html");

/// The tag of the viewer's files, from their content (an edited page is a new tag, whatever
/// the version numbers say).
fn assets_tag() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| {
        let mut all = INDEX.as_bytes().to_vec();
        for a in &ASSETS {
            all.extend_from_slice(a.body);
        }
        format!("\"viewer-{:016x}\"", domania_core::hash::fnv1a(&all))
    })
}

/// The viewer page, or, when the build had no npm, a page that says how to get the map.
#[must_use]
pub fn page() -> Response {
    if MAPLIBRE_VERSION.is_empty() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Html(
                "<!doctype html><html lang=\"fr\"><meta charset=\"utf-8\"><title>Domania</title>\
                 <h1>Domania</h1><p>La carte n'est pas incluse dans ce binaire : sa bibliothèque \
                 (MapLibre GL JS) s'installe avec npm pendant la compilation. Installez Node.js et npm, \
                 puis recompilez (<code>cargo build --release</code>). L'API reste disponible : \
                 <a href=\"/api\">/api</a>.</p></html>",
            ),
        )
            .into_response();
    }
    let html = INDEX.replace("{{V}}", assets_tag().trim_matches('"'));
    // `/` is the landing page in JSON too: caches must tell them apart by `Accept`.
    (
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::VARY, HeaderValue::from_static("Accept")),
        ],
        Html(html),
    )
        .into_response()
}

/// `GET /viewer/{file}`.
pub async fn asset(Path(file): Path<String>, headers: HeaderMap) -> ApiResult<Response> {
    let a = ASSETS
        .iter()
        .find(|a| a.name == file)
        .filter(|a| !a.body.is_empty())
        .ok_or_else(|| ApiError::not_found(format!("no viewer file {file:?}")))?;
    let tag = assets_tag();
    let etag = HeaderValue::from_static(tag);
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == tag.as_bytes()) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let gz = crate::tiles::accepts_gzip(&headers);
    let body: &[u8] =
        if gz { a.gzip.get_or_init(|| crate::tiles::gzip(a.body).unwrap_or_default()).as_slice() } else { a.body };
    let mut res = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(a.content_type)),
            (header::ETAG, etag),
            // The page names each file with the tag (`?v=`): a day of cache, then revalidation.
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400")),
            (header::VARY, HeaderValue::from_static("accept-encoding")),
        ],
        body,
    )
        .into_response();
    if gz {
        res.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(res)
}

/// A QPV as the page labels it.
#[derive(Debug, Serialize)]
pub struct QpvEntry<'a> {
    pub code: &'a str,
    pub name: Option<&'a str>,
    /// A point inside it (CRS84), where its label goes.
    pub label_at: Option<[f64; 2]>,
}

/// A sub-sector in the page's list.
#[derive(Debug, Serialize)]
pub struct SubsectorEntry<'a> {
    pub id: &'a str,
    pub name: Option<&'a str>,
    pub decision: &'static str,
    pub delegated_to: Option<domania_core::Actor>,
    pub decision_label: String,
    pub needs_convention: bool,
    /// The QPV it meets.
    pub qpv: Vec<&'a str>,
}

/// The answer of `/v1/territory`.
#[derive(Debug, Serialize)]
pub struct TerritoryView<'a> {
    pub snapshot: &'a str,
    pub judged_on: domania_app::Date,
    pub parcels: usize,
    pub bounds: [f64; 4],
    /// Where the map opens: the sub-sectors' box (the managed spaces), else `bounds`.
    pub focus: [f64; 4],
    pub interventions: &'a [domania_rules::Intervention],
    pub qpv: Vec<QpvEntry<'a>>,
    pub subsectors: Vec<SubsectorEntry<'a>>,
    /// A raster basemap drawn under the layers (`serve --basemap`); none by default.
    pub basemap: Option<&'a str>,
    /// The layers an editor can upload.
    pub uploadable: Vec<&'static str>,
    pub maplibre: &'static str,
}

fn lon_lat(x: f64, y: f64) -> [f64; 2] {
    let (lon, lat) = Crs::lambert93().transform_to(&Crs::wgs84(), x, y);
    [(lon * 1e6).round() / 1e6, (lat * 1e6).round() / 1e6]
}

pub async fn territory(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let served = shared.current();
    let qpv = served
        .snapshot
        .zones(Layer::Qpv)
        .iter()
        .map(|z| QpvEntry {
            code: &z.key,
            name: z.name.as_deref(),
            label_at: z.geom_l93.interior_point().map(|p| lon_lat(p.x(), p.y())),
        })
        .collect();
    let qpv_of = |key: &str| -> Vec<&str> {
        let Some(zone) = served.snapshot.subsectors().iter().find(|z| z.key == key) else { return Vec::new() };
        served
            .snapshot
            .zones(Layer::Qpv)
            .iter()
            .filter(|q| q.geom_l93.intersects(&zone.geom_l93))
            .map(|q| q.key.as_str())
            .collect()
    };
    let subsectors = served
        .shares
        .zones
        .iter()
        .zip(&served.assign.decisions)
        .map(|(z, d)| {
            let (decision, delegated_to) = d.decision.kind();
            SubsectorEntry {
                qpv: qpv_of(&z.key),
                id: &z.key,
                name: z.name.as_deref(),
                decision,
                delegated_to,
                decision_label: domania_app::documents::decision_label(decision, delegated_to),
                needs_convention: d.needs_convention,
            }
        })
        .collect();
    let body = TerritoryView {
        snapshot: served.etag.trim_matches('"'),
        judged_on: served.date,
        parcels: served.snapshot.parcels().len(),
        bounds: served.bounds(),
        focus: served.extents.get("subsectors").copied().flatten().unwrap_or_else(|| served.bounds()),
        interventions: &served.rules.rules.config().interventions,
        qpv,
        subsectors,
        basemap: shared.basemap.get().map(String::as_str),
        uploadable: Layer::ALL.iter().filter(|l| l.is_imported()).map(|l| l.as_str()).collect(),
        maplibre: MAPLIBRE_VERSION,
    };
    snapshot_answer(&headers, &served, Format::Json, &body)
}

/// Parameters of the search box.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    pub q: String,
    pub limit: Option<usize>,
}

/// A hit with its box in CRS84.
#[derive(Debug, Serialize)]
pub struct HitView<'a> {
    #[serde(flatten)]
    pub hit: &'a domania_app::search::Hit,
    /// `[west, south, east, north]`.
    pub bbox: [f64; 4],
}

/// The most hits a search returns.
pub const MAX_HITS: usize = 50;

pub async fn search(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    q: Result<Query<SearchQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q.map_err(crate::api::bad_query)?;
    let limit = q.limit.unwrap_or(10).clamp(1, MAX_HITS);
    let served = shared.current();
    tokio::task::spawn_blocking(move || {
        let hits = domania_app::search::find(&served.snapshot, &q.q, limit);
        let views: Vec<HitView<'_>> = hits
            .iter()
            .map(|h| {
                let bbox = domania_core::crs::lambert93_box_to_crs84(h.box_l93);
                HitView { hit: h, bbox }
            })
            .collect();
        let body = serde_json::json!({"query": q.q, "hits": views});
        snapshot_answer(&headers, &served, Format::Json, &body)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))
}

/// `GET /subsectors/{id}/cahier`: the printable *cahier des charges localisé*.
pub async fn cahier(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult<Response> {
    let served = shared.current();
    let page = domania_app::documents::cahier(served.documents(), &id)
        .ok_or_else(|| ApiError::not_found(format!("no sub-sector {id:?}")))?;
    Ok(Html(page).into_response())
}

/// `GET /annuaire`: every service and its referents by commune and intervention kind.
pub async fn annuaire(State(shared): State<Arc<Shared>>) -> ApiResult<Response> {
    let served = shared.current();
    // The communes come from every parcel: a scan, off the async workers.
    let page = tokio::task::spawn_blocking(move || {
        let rules = &served.rules.rules;
        let communes = domania_app::documents::communes(&served.snapshot, rules);
        domania_app::documents::annuaire(rules, &communes, served.date)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Html(page).into_response())
}

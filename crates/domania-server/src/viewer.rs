//! The map viewer and the documents partners use:
//!
//! - `/`: the OGC API landing page in JSON, and for a browser (`Accept: text/html`) the viewer
//!   page; `/viewer/…`: its script and style (from `viewer/`) and MapLibre GL JS (from npm,
//!   embedded by the build script); all from this server, nothing from another host;
//! - `/v1/territory`: what the page needs to start (bounds, intervention kinds, QPV, sub-sectors);
//! - `/v1/search?q=`: the search box (IDU, SIREN or owner name, QPV, sub-sector);
//! - `/subsectors/{id}/cahier`: the printable *cahier des charges localisé*;
//! - `/annuaire`: the services and their referents by commune and intervention kind.

use std::sync::{Arc, OnceLock};

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use domania_app::{AppError, ErrorCode};
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Base, Language, Path, Query};
use crate::respond::{Format, accepts_gzip, gzip, snapshot_answer};
use crate::state::{Shared, blocking};

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

static ASSETS: [Asset; 6] = [
    Asset::new("app.js", JS, include_bytes!("../../../viewer/app.js")),
    Asset::new("app.css", CSS, include_bytes!("../../../viewer/app.css")),
    Asset::new("maplibre-gl.mjs", JS, include_bytes!(concat!(env!("OUT_DIR"), "/maplibre-gl.mjs"))),
    Asset::new("maplibre-gl-worker.mjs", JS, include_bytes!(concat!(env!("OUT_DIR"), "/maplibre-gl-worker.mjs"))),
    Asset::new("maplibre-gl.css", CSS, include_bytes!(concat!(env!("OUT_DIR"), "/maplibre-gl.css"))),
    Asset::new("pmtiles.js", JS, include_bytes!(concat!(env!("OUT_DIR"), "/pmtiles.js"))),
];

const INDEX: &str = include_str!("../../../viewer/index.html");

/// The fonts the map's labels are drawn with, by the names styles give them (empty when the
/// build had no npm: the map then has no labels).
static FONTS: [(&str, &[u8]); 2] = [
    ("Open Sans Regular", include_bytes!(concat!(env!("OUT_DIR"), "/OpenSans-Regular.ttf"))),
    ("Open Sans Semibold", include_bytes!(concat!(env!("OUT_DIR"), "/OpenSans-Semibold.ttf"))),
];

/// The fonts of the labels built in (name, TrueType file); none when the build had no npm.
#[must_use]
pub fn fonts() -> &'static [(&'static str, &'static [u8])] {
    if FONTS.iter().all(|(_, f)| !f.is_empty()) { &FONTS } else { &[] }
}

/// The glyph URL template of the styles, relative to the server's root; `None` without fonts.
#[must_use]
pub fn glyphs_template() -> Option<&'static str> {
    (!fonts().is_empty()).then_some("viewer/fonts/{fontstack}/{range}.pbf")
}

/// The glyph ranges made so far, per font: 256 code points each, made on first demand (tens of
/// milliseconds) and kept, gzipped.
static GLYPHS: [[OnceLock<Vec<u8>>; 256]; 2] = [const { [const { OnceLock::new() }; 256] }; 2];

/// `GET /viewer/fonts/{fontstack}/{start}-{end}.pbf`: the glyphs of a range, for MapLibre. A
/// font stack (`Open Sans Semibold,Arial Unicode MS Regular`) is answered with its first font
/// this server has, else with Open Sans Regular.
pub async fn glyphs(Path((stack, range)): Path<(String, String)>) -> ApiResult<Response> {
    let bad = || -> ApiError {
        AppError::said(
            ErrorCode::NotFound,
            "error-no-glyphs",
            vec![("stack", stack.as_str().into()), ("range", range.as_str().into())],
        )
        .into()
    };
    let start: u32 = range
        .strip_suffix(".pbf")
        .and_then(|r| r.split_once('-'))
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
        .filter(|(a, b)| a % 256 == 0 && *b == a + 255 && *a < 65_536)
        .map(|(a, _)| a)
        .ok_or_else(bad)?;
    if glyphs_template().is_none() {
        return Err(AppError::said(ErrorCode::NotFound, "error-no-font", Vec::new()).into());
    }
    let font = stack.split(',').find_map(|name| FONTS.iter().position(|(n, _)| *n == name.trim())).unwrap_or(0);
    let cell = &GLYPHS[font][(start / 256) as usize];
    let body = if let Some(b) = cell.get() {
        b.clone()
    } else {
        let (name, bytes) = FONTS[font];
        let made = blocking(move || {
            let pbf = domania_app::tiles::glyph_range(bytes, name, start)
                .map_err(|e| ApiError::internal(format!("the font {name}: {e}")))?;
            gzip(&pbf).map_err(|e| ApiError::internal(format!("gzip: {e}")))
        })
        .await??;
        cell.get_or_init(|| made).clone()
    };
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/x-protobuf")),
            (header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400")),
        ],
        body,
    )
        .into_response())
}

/// The tag of the viewer's files, from their content (an edited page is a new tag, whatever
/// the version numbers say).
fn assets_tag() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| {
        let mut all = INDEX.as_bytes().to_vec();
        for a in &ASSETS {
            all.extend_from_slice(a.body);
        }
        format!("\"viewer-{:016x}\"", domania_app::fnv1a(&all))
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
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no viewer file {file:?}")))?;
    let tag = assets_tag();
    let etag = HeaderValue::from_static(tag);
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == tag.as_bytes()) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let gz = accepts_gzip(&headers);
    let body: &[u8] = if gz { a.gzip.get_or_init(|| gzip(a.body).unwrap_or_default()).as_slice() } else { a.body };
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

/// `?f=json|html` of the landing page.
#[derive(Debug, Deserialize)]
pub struct FQuery {
    pub f: Option<String>,
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

/// `GET /`: the OGC API landing page, or the map viewer for a browser.
pub async fn landing(Base(b): Base, headers: HeaderMap, Query(q): Query<FQuery>) -> ApiResult<Response> {
    if wants_html(&headers, q.f.as_deref()) {
        return Ok(page());
    }
    if let Some(f) = q.f.as_deref().filter(|f| *f != "json") {
        return Err(ApiError::new(ErrorCode::BadFormat, format!("f={f}: this answer is json or html")));
    }
    Ok(axum::Json(domania_app::features::landing(&b)).into_response())
}

/// `GET /v1/territory`: what the page needs to start.
pub async fn territory(State(shared): State<Arc<Shared>>, headers: HeaderMap, Language(lang): Language) -> Response {
    let held = shared.current();
    let body = held.territory(shared.basemap.as_ref(), MAPLIBRE_VERSION, lang);
    snapshot_answer(&headers, &held, Format::Json, &body)
}

/// Parameters of the search box.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    pub q: String,
    pub limit: Option<usize>,
}

pub async fn search(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Language(lang): Language,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Response> {
    let held = shared.current();
    blocking(move || {
        let hits = held.search(&q.q, q.limit.unwrap_or(10), lang);
        snapshot_answer(&headers, &held, Format::Json, &domania_app::search::answer(&q.q, &hits))
    })
    .await
}

/// `GET /subsectors/{id}/cahier`: the printable *cahier des charges localisé*.
pub async fn cahier(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult<Response> {
    let held = shared.current();
    Ok(Html(held.cahier(&id)?).into_response())
}

/// A PDF answered with the snapshot's tag as its `ETag` (it is made from that snapshot only),
/// to be saved under `file`.
pub(crate) fn pdf_answer(held: &domania_app::held::Held, pdf: Vec<u8>, file: &str) -> Response {
    let mut r = pdf.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    if let Ok(v) = HeaderValue::from_str(&held.etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// `GET /subsectors/{id}/cahier.pdf`: the *cahier des charges localisé* to sign, typeset by
/// this server.
pub async fn cahier_pdf(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult<Response> {
    let held = shared.current();
    let file: String = id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    let pdf = blocking(move || shared.app.cahier_pdf(&held, &id).map(|pdf| (pdf, held))).await??;
    Ok(pdf_answer(&pdf.1, pdf.0, &format!("cahier-{file}.pdf")))
}

/// `GET /annuaire.pdf`: the services and their referents, one table per service.
pub async fn annuaire_pdf(State(shared): State<Arc<Shared>>) -> ApiResult<Response> {
    let held = shared.current();
    let pdf = blocking(move || held.annuaire_pdf().map(|pdf| pdf_answer(&held, pdf, "annuaire.pdf"))).await??;
    Ok(pdf)
}

/// `GET /annuaire`: every service and its referents by commune and intervention kind.
pub async fn annuaire(State(shared): State<Arc<Shared>>) -> ApiResult<Response> {
    let held = shared.current();
    Ok(Html(blocking(move || held.annuaire()).await?).into_response())
}

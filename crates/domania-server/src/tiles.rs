//! Vector tiles over HTTP: `/tiles/{layers}/{z}/{x}/{y}.mvt` (one layer or several, comma
//! separated) and TileJSON 3.0 at `/tiles/{layer}.json`. The TileJSON's tile URLs carry the
//! snapshot's tag (`?v=`): after an update the URLs change, so no client or cache keeps stale
//! ownership, and a tile asked for with the current tag is immutable. Tiles are encoded (and
//! gzipped, once) on a blocking thread and kept in a cache bounded in bytes, keyed by the
//! snapshot's tag; a tile over its size bound says what that cost (a coarser outline, features
//! left out) in a `Domania-Tile-Bound` header.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use domania_tiles::layers::{Source, TileLayer, TileOptions};
use domania_tiles::tile::TileId;
use rustc_hash::FxHashMap;
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::state::Shared;

/// The default size bound of the tile cache.
pub const CACHE_BYTES: usize = 256 << 20;

/// The snapshot's tag (hashed), the layers in their order, and the tile.
type Key = (u64, u32, u8, u32, u32);

/// An encoded tile, ready to answer with.
#[derive(Debug, Clone)]
struct Cached {
    body: Bytes,
    /// The body gzipped, once, when a client first took gzip (never for an empty tile).
    gzip: Option<Bytes>,
    etag: HeaderValue,
    /// What its size bound cost (`simplified_by=8,parcels=12,spaces=3`), if anything.
    dropped: Option<HeaderValue>,
}

/// Encoded tiles, evicted oldest first past a size bound.
#[derive(Debug)]
pub struct TileCache {
    inner: Mutex<(FxHashMap<Key, Cached>, VecDeque<Key>, usize)>,
    cap: usize,
}

impl TileCache {
    #[must_use]
    pub fn new(cap: usize) -> Self {
        Self { inner: Mutex::new((FxHashMap::default(), VecDeque::new(), 0)), cap }
    }

    fn get(&self, k: &Key) -> Option<Cached> {
        self.inner.lock().ok()?.0.get(k).cloned()
    }

    /// Adds the gzipped body to a tile still cached.
    fn set_gzip(&self, k: &Key, gz: Bytes) {
        let Ok(mut g) = self.inner.lock() else { return };
        let (map, order, size) = &mut *g;
        if let Some(c) = map.get_mut(k)
            && c.gzip.is_none()
        {
            *size += gz.len();
            c.gzip = Some(gz);
        }
        while *size > self.cap {
            let Some(old) = order.pop_front() else { break };
            if let Some(b) = map.remove(&old) {
                *size -= b.body.len() + b.gzip.as_ref().map_or(0, Bytes::len);
            }
        }
    }

    fn put(&self, k: Key, v: Cached) {
        let Ok(mut g) = self.inner.lock() else { return };
        let (map, order, size) = &mut *g;
        let bytes = v.body.len() + v.gzip.as_ref().map_or(0, Bytes::len);
        if bytes > self.cap || map.contains_key(&k) {
            return;
        }
        *size += bytes;
        order.push_back(k);
        map.insert(k, v);
        while *size > self.cap {
            let Some(old) = order.pop_front() else { break };
            if let Some(b) = map.remove(&old) {
                *size -= b.body.len() + b.gzip.as_ref().map_or(0, Bytes::len);
            }
        }
    }
}

/// Gzip, at the fastest level (tiles are small and many; most of the gain is in the first level).
pub(crate) fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut z = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 2), flate2::Compression::fast());
    z.write_all(bytes)?;
    z.finish()
}

/// Whether the client takes gzip (`Accept-Encoding: gzip`, not refused with `q=0`).
pub(crate) fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |c| {
            let mut parts = c.split(';').map(str::trim);
            parts.next().is_some_and(|n| n.eq_ignore_ascii_case("gzip") || n == "*")
                && !parts.any(|p| p.replace(' ', "").eq_ignore_ascii_case("q=0"))
        },
    )
}

fn layers_of(text: &str) -> ApiResult<Vec<TileLayer>> {
    let mut out = Vec::new();
    for name in text.split(',') {
        let l = TileLayer::parse(name).ok_or_else(|| {
            ApiError::not_found(format!(
                "no tile layer {name:?} (layers: parcels, spaces, subsectors, qpv, conventions)"
            ))
        })?;
        if !out.contains(&l) {
            out.push(l);
        }
    }
    Ok(out)
}

#[derive(Debug, serde::Deserialize)]
pub struct TileQuery {
    /// The snapshot tag the TileJSON gave.
    pub v: Option<String>,
}

#[allow(clippy::many_single_char_names)]
pub async fn tile(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((names, z, x, y)): Path<(String, u8, u32, String)>,
    Query(q): Query<TileQuery>,
) -> ApiResult<Response> {
    let layers = layers_of(&names)?;
    let y: u32 = y
        .strip_suffix(".mvt")
        .or_else(|| y.strip_suffix(".pbf"))
        .unwrap_or(&y)
        .parse()
        .map_err(|_| ApiError::bad_request("bad_tile", format!("y {y:?} is not a tile row")))?;
    let id = TileId::new(z, x, y).ok_or_else(|| {
        ApiError::bad_request("bad_tile", format!("no tile {z}/{x}/{y} (zoom 0 to 22, x and y below 2^z)"))
    })?;
    let served = shared.current();
    let tag = served.etag.trim_matches('"');
    let current = q.v.as_deref().is_some_and(|v| v == tag);
    let code =
        layers.iter().fold(0u32, |c, l| c * 8 + 1 + TileLayer::ALL.iter().position(|x| x == l).unwrap_or(0) as u32);
    let key: Key = (served.tag_hash, code, z, x, y);
    let want_gzip = accepts_gzip(&headers);
    let mut cached = if let Some(hit) = shared.tiles.get(&key) {
        hit
    } else {
        let s2 = Arc::clone(&served);
        let layers2 = layers.clone();
        let (encoded, gz) = tokio::task::spawn_blocking(move || {
            let src = Source { snapshot: &s2.snapshot, shares: &s2.shares, assign: &s2.assign, topo: &s2.topo };
            let encoded = domania_tiles::layers::tile(src, &layers2, id, TileOptions::default());
            let gz = (want_gzip && !encoded.bytes.is_empty()).then(|| gzip(&encoded.bytes));
            (encoded, gz)
        })
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
        let mut what: Vec<String> = encoded.dropped.iter().map(|(l, n)| format!("{}={n}", l.as_str())).collect();
        if encoded.simplified_by > 1.0 {
            what.insert(0, format!("simplified_by={}", encoded.simplified_by));
        }
        let dropped = (!what.is_empty()).then(|| {
            tracing::warn!(tile = %format!("{names}/{z}/{x}/{y}"), cost = %what.join(","), "tile over its size bound");
            what.join(",")
        });
        let c = Cached {
            body: Bytes::from(encoded.bytes),
            gzip: gz.transpose().map_err(|e| ApiError::internal(format!("gzip: {e}")))?.map(Bytes::from),
            etag: HeaderValue::from_str(&format!("\"{tag}-{names}-{z}-{x}-{y}\""))
                .map_err(|e| ApiError::internal(e.to_string()))?,
            dropped: dropped.and_then(|d| HeaderValue::from_str(&d).ok()),
        };
        shared.tiles.put(key, c.clone());
        c
    };
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v == cached.etag) {
        return Ok((axum::http::StatusCode::NOT_MODIFIED, [(header::ETAG, cached.etag)]).into_response());
    }
    if want_gzip && cached.gzip.is_none() && !cached.body.is_empty() {
        // Encoded for a client that did not take gzip: compressed now, once.
        let body = cached.body.clone();
        let gz = tokio::task::spawn_blocking(move || gzip(&body))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?
            .map_err(|e| ApiError::internal(format!("gzip: {e}")))?;
        let gz = Bytes::from(gz);
        shared.tiles.set_gzip(&key, gz.clone());
        cached.gzip = Some(gz);
    }
    // A tile of the current snapshot asked by its tag never changes; any other may.
    let cache = if current { "public, max-age=31536000, immutable" } else { "no-cache" };
    let gz = cached.gzip.filter(|_| want_gzip);
    let gzipped = gz.is_some();
    let mut response = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/vnd.mapbox-vector-tile")),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            (header::ETAG, cached.etag),
            (header::VARY, HeaderValue::from_static("accept-encoding")),
        ],
        gz.unwrap_or(cached.body),
    )
        .into_response();
    if gzipped {
        response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    // What the size bound cost, never silently.
    if let Some(v) = cached.dropped {
        response.headers_mut().insert("domania-tile-bound", v);
    }
    Ok(response)
}

/// TileJSON 3.0 of one layer (`/tiles/parcels.json`).
pub async fn tilejson(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> ApiResult<Response> {
    let name = file
        .strip_suffix(".json")
        .ok_or_else(|| ApiError::not_found(format!("/tiles/{file}: TileJSON is at /tiles/LAYER.json")))?;
    let layers = layers_of(name)?;
    let served = shared.current();
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let tag = served.etag.trim_matches('"');
    let kinds: Vec<String> = served.rules.rules.config().interventions.iter().map(|i| i.id.clone()).collect();
    let bounds = served.bounds();
    let minzoom = layers.iter().map(|l| l.min_zoom()).min().unwrap_or(0);
    let vector_layers: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| {
            let fields: serde_json::Map<String, serde_json::Value> =
                l.fields(&kinds).into_iter().map(|(k, t)| (k, json!(t))).collect();
            json!({"id": l.as_str(), "fields": fields, "minzoom": l.min_zoom(), "maxzoom": 22})
        })
        .collect();
    let body = json!({
        "tilejson": "3.0.0",
        "name": format!("Domania {name}"),
        "version": "1.0.0",
        "scheme": "xyz",
        "tiles": [format!("http://{host}/tiles/{name}/{{z}}/{{x}}/{{y}}.mvt?v={tag}")],
        "minzoom": minzoom,
        "maxzoom": 22,
        "bounds": bounds,
        "center": [f64::midpoint(bounds[0], bounds[2]), f64::midpoint(bounds[1], bounds[3]), 15],
        "vector_layers": vector_layers,
    });
    Ok(crate::respond::tagged(&headers, &served, crate::respond::Format::Json, body.to_string().into_bytes()))
}

/// The layers every style reads, in one TileJSON.
pub const STYLE_LAYERS: &str = "parcels,spaces,subsectors,qpv";

/// `GET /styles`: the names of the territory's MapLibre styles.
pub async fn styles(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> ApiResult<Response> {
    let served = shared.current();
    let base = crate::ogc::base(&headers);
    let list: Vec<serde_json::Value> = domania_app::styles::names(&served.rules.rules)
        .into_iter()
        .map(|n| json!({"name": n, "url": format!("{base}/styles/{n}.json")}))
        .collect();
    Ok(axum::Json(list).into_response())
}

/// `GET /styles/{name}.json`: a MapLibre style reading this server's TileJSON, its legend in
/// `metadata["domania:legend"]`.
pub async fn style(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> ApiResult<Response> {
    let name = file.strip_suffix(".json").unwrap_or(&file);
    let served = shared.current();
    let source = format!("{}/tiles/{STYLE_LAYERS}.json", crate::ogc::base(&headers));
    let style = domania_app::styles::style(&served.rules.rules, name, &source).ok_or_else(|| {
        let names = domania_app::styles::names(&served.rules.rules).join(", ");
        ApiError::not_found(format!("no style {name:?} (styles: {names})"))
    })?;
    Ok(axum::Json(style).into_response())
}

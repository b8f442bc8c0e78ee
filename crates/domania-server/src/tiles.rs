//! Vector tiles over HTTP: `/tiles/{layers}/{z}/{x}/{y}.mvt` (one layer or several, comma
//! separated), TileJSON 3.0 at `/tiles/{layers}.json`, and the MapLibre styles. The TileJSON's
//! tile URLs carry the snapshot's tag (`?v=`): after an update the URLs change, so no client or
//! cache keeps stale ownership, and a tile asked for with the current tag is immutable. Tiles
//! are encoded (and gzipped, once) on a blocking thread and kept in a cache bounded in bytes,
//! keyed by the snapshot's tag; a tile over its size bound says what that cost in a
//! `Domania-Tile-Bound` header.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use domania_app::tiles::{STYLE_LAYERS, layers_of, tile_id};
use domania_app::{AppError, ErrorCode};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::extract::{Base, Language, Path, Query};
use crate::respond::{Format, accepts_gzip, gzip, snapshot_answer};
use crate::state::{Shared, blocking};
use crate::tile_cache::{Cached, Key};

#[derive(Debug, Deserialize)]
pub struct TileQuery {
    /// The snapshot tag the TileJSON gave.
    pub v: Option<String>,
}

/// A tile row with its extension (`12.mvt`, `12.pbf`, or `12`).
fn tile_row(y: &str) -> ApiResult<u32> {
    y.strip_suffix(".mvt")
        .or_else(|| y.strip_suffix(".pbf"))
        .unwrap_or(y)
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::BadTile, format!("y {y:?} is not a tile row")))
}

#[allow(clippy::many_single_char_names)]
pub async fn tile(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((names, z, x, y)): Path<(String, u8, u32, String)>,
    Query(q): Query<TileQuery>,
) -> ApiResult<Response> {
    let layers = layers_of(&names)?;
    let y = tile_row(&y)?;
    let id = tile_id(z, x, y)?;
    let held = shared.current();
    let tag = held.tag().to_owned();
    let current = q.v.as_deref().is_some_and(|v| v == tag);
    let code = layers.iter().fold(0u32, |c, l| {
        c * 8 + 1 + domania_app::tiles::TileLayer::ALL.iter().position(|x| x == l).unwrap_or(0) as u32
    });
    let key: Key = (held.tag_hash, code, z, x, y);
    let want_gzip = accepts_gzip(&headers);
    let mut cached = if let Some(hit) = shared.tiles.get(&key) {
        hit
    } else {
        let (encoded, gz) = blocking(move || {
            let encoded = held.tile(&layers, id);
            let gz = (want_gzip && !encoded.bytes.is_empty()).then(|| gzip(&encoded.bytes));
            (encoded, gz)
        })
        .await?;
        if let Some(cost) = &encoded.bound_cost {
            tracing::warn!(tile = %format!("{names}/{z}/{x}/{y}"), cost = %cost, "tile over its size bound");
        }
        let c = Cached {
            body: Bytes::from(encoded.bytes),
            gzip: gz.transpose().map_err(|e| ApiError::internal(format!("gzip: {e}")))?.map(Bytes::from),
            etag: HeaderValue::from_str(&format!("\"{tag}-{names}-{z}-{x}-{y}\""))
                .map_err(|e| ApiError::internal(e.to_string()))?,
            dropped: encoded.bound_cost.and_then(|d| HeaderValue::from_str(&d).ok()),
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
        let gz = blocking(move || gzip(&body)).await?.map_err(|e| ApiError::internal(format!("gzip: {e}")))?;
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

/// TileJSON 3.0 of one layer or several (`/tiles/parcels.json`, `/tiles/parcels,spaces.json`).
pub async fn tilejson(
    State(shared): State<Arc<Shared>>,
    Base(b): Base,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> ApiResult<Response> {
    let name = file.strip_suffix(".json").ok_or_else(|| {
        ApiError::new(ErrorCode::NotFound, format!("/tiles/{file}: TileJSON is at /tiles/LAYER.json"))
    })?;
    let layers = layers_of(name)?;
    let held = shared.current();
    let tj = held.tilejson(name, &layers, &format!("{b}/tiles/{name}"));
    Ok(snapshot_answer(&headers, &held, Format::Json, &tj))
}

/// A style in the list.
#[derive(Debug, Serialize)]
pub struct StyleRef {
    pub name: String,
    pub url: String,
}

/// `GET /styles`: the names of the territory's MapLibre styles.
pub async fn styles(State(shared): State<Arc<Shared>>, Base(b): Base) -> axum::Json<Vec<StyleRef>> {
    let held = shared.current();
    axum::Json(
        domania_app::styles::names(&held.rules.rules)
            .into_iter()
            .map(|n| StyleRef { url: format!("{b}/styles/{n}.json"), name: n })
            .collect(),
    )
}

/// `GET /styles/{name}.json`: a MapLibre style reading this server's TileJSON, its legend in
/// `metadata["domania:legend"]`.
pub async fn style(
    State(shared): State<Arc<Shared>>,
    Base(b): Base,
    Language(lang): Language,
    Path(file): Path<String>,
) -> ApiResult<Response> {
    let name = file.strip_suffix(".json").unwrap_or(&file);
    let held = shared.current();
    let source = format!("{b}/tiles/{STYLE_LAYERS}.json");
    let mut style = domania_app::styles::style(&held.rules.rules, name, &source, lang).ok_or_else(|| {
        let names = domania_app::styles::names(&held.rules.rules).join(", ");
        AppError::new(ErrorCode::NotFound, format!("no style {name:?} (styles: {names})"))
    })?;
    // The sections' and streets' names, in glyphs this server makes from its own font.
    if let Some(glyphs) = crate::viewer::glyphs_template() {
        style = domania_app::styles::with_labels(style, &format!("{b}/{glyphs}"));
    }
    let mut response = axum::Json(style).into_response();
    response.headers_mut().insert(axum::http::header::VARY, axum::http::HeaderValue::from_static("Accept-Language"));
    Ok(response)
}

//! OGC API – Features (Part 1: core, GeoJSON, OpenAPI 3.0; Part 2: CRS by reference) over the
//! held snapshot's collections (the landing page, which a browser gets as the map viewer, is in
//! [`crate::viewer`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use domania_app::features::{self, crs_uri};
use serde::Deserialize;

use crate::error::ApiResult;
use crate::extract::{Base, Language, Path, Query};
use crate::respond::{Format, snapshot_answer};
use crate::state::{Shared, blocking};

pub async fn conformance() -> axum::Json<features::Conformance> {
    axum::Json(features::conformance())
}

pub async fn collections(State(shared): State<Arc<Shared>>, Base(b): Base, headers: HeaderMap) -> Response {
    let held = shared.current();
    snapshot_answer(&headers, &held, Format::Json, &held.collections(&b))
}

pub async fn collection(
    State(shared): State<Arc<Shared>>,
    Base(b): Base,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let held = shared.current();
    let c = held.collection(&b, &id)?;
    Ok(snapshot_answer(&headers, &held, Format::Json, &c))
}

/// An answer in GeoJSON, with the CRS its coordinates are in (`Content-Crs`).
fn with_crs(mut response: Response, lambert: bool) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("<{}>", crs_uri(lambert))) {
        response.headers_mut().insert("Content-Crs", v);
    }
    response
}

pub async fn items(
    State(shared): State<Arc<Shared>>,
    Base(b): Base,
    headers: HeaderMap,
    Language(lang): Language,
    Path(id): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
) -> ApiResult<Response> {
    let held = shared.current();
    blocking(move || {
        let page = held.items(&b, &id, &params, lang)?;
        let lambert = page.crs.is_some();
        Ok(with_crs(snapshot_answer(&headers, &held, Format::GeoJson, &page), lambert))
    })
    .await?
}

/// The output CRS of one feature.
#[derive(Debug, Deserialize)]
pub struct CrsQuery {
    pub crs: Option<String>,
}

pub async fn item(
    State(shared): State<Arc<Shared>>,
    Base(b): Base,
    headers: HeaderMap,
    Language(lang): Language,
    Path((id, fid)): Path<(String, String)>,
    Query(q): Query<CrsQuery>,
) -> ApiResult<Response> {
    let held = shared.current();
    let lambert = features::crs_param(q.crs.as_deref(), "crs")?;
    let f = held.item(&b, &id, &fid, q.crs.as_deref(), lang)?;
    // A feature that can be edited is tagged as itself (Part 4's optimistic locking).
    let own = id.parse::<domania_app::Layer>().ok().and_then(|l| crate::edit::item_etag(&held, l, &fid));
    let answer = match own {
        Some(etag) => match serde_json::to_vec(&f) {
            Ok(body) => crate::respond::tagged_as(&headers, &etag, Format::GeoJson, body),
            Err(e) => return Err(crate::error::ApiError::internal(format!("writing JSON: {e}"))),
        },
        None => snapshot_answer(&headers, &held, Format::GeoJson, &f),
    };
    Ok(with_crs(answer, lambert))
}

//! OGC API – Features – Part 4 (create, replace, update, delete) on the perimeter layers
//! SIG officers draw: `subsectors`, `conventions`, `qpv`. Each request is one version of the
//! layer, made as an import is (see `domania_app::edits`), by an editor's token, and served
//! as soon as it is written. A feature's `ETag` is `"FEATURE.SNAPSHOT"`: the first part names
//! the feature as stored, and is what `If-Match` is checked against (a change elsewhere in the
//! territory does not make an editor's copy stale); the second makes the answer's cache
//! follow the snapshot.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domania_app::edits::{Edit, feature_tag};
use domania_app::held::Held;
use domania_app::{AppError, ErrorCode, Layer};
use serde_json::Value;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Base, Body, Path};
use crate::state::{Shared, blocking};

/// The `ETag` of feature `fid` of `layer` in `held`, quoted; `None` when it is not there.
#[must_use]
pub fn item_etag(held: &Held, layer: Layer, fid: &str) -> Option<String> {
    let z = held.snapshot.zones(layer).iter().find(|z| z.key == fid)?;
    let tag = feature_tag(&z.key, z.name.as_deref(), &z.geom_l93);
    Some(format!("\"{tag}.{}\"", held.tag().get(..16).unwrap_or(held.tag())))
}

/// The layer of a collection, if it is edited feature by feature.
fn edited_layer(collection: &str) -> ApiResult<Layer> {
    domania_app::features::collection_meta(collection)?;
    let layer: Layer = match collection {
        // Spaces are computed: said as such.
        "spaces" => Layer::Spaces,
        other => other.parse().map_err(|_| ApiError::from(AppError::new(ErrorCode::NotFound, other.to_owned())))?,
    };
    domania_app::edits::editable(layer)?;
    Ok(layer)
}

/// The body as JSON, if its media type is one the route takes.
fn json_body(headers: &HeaderMap, body: &[u8], types: &[&str]) -> ApiResult<Value> {
    let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = ctype.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !types.contains(&essence.as_str()) {
        return Err(AppError::said(
            ErrorCode::UnsupportedMediaType,
            "error-media-type",
            vec![("got", ctype.into()), ("expected", types.join(", ").into())],
        )
        .into());
    }
    serde_json::from_slice(body)
        .map_err(|_| AppError::said(ErrorCode::BadFeature, "error-feature-json", Vec::new()).into())
}

const FEATURE_TYPES: [&str; 2] = ["application/geo+json", "application/json"];
const PATCH_TYPES: [&str; 3] = ["application/merge-patch+json", "application/geo+json", "application/json"];

/// Applies `edit`, waits for the snapshot serving it, and answers `status` with the feature's
/// new `ETag` (and its `Location` when created).
async fn apply(
    shared: Arc<Shared>,
    who: String,
    base: &str,
    collection: &str,
    layer: Layer,
    edit: Edit,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let if_match = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let created = matches!(edit, Edit::Create(_));
    let deleted = matches!(edit, Edit::Delete(_));
    // Edits go one at a time through the uploads' budget (they are imports).
    let permit = crate::layers::upload_permit(&shared).await?;
    let task = Arc::clone(&shared);
    let (edited, held) = tokio::spawn(async move {
        let me = Arc::clone(&task);
        let edited = blocking(move || me.app.edit(layer, &edit, if_match.as_deref(), &who)).await??;
        let v = &edited.outcome.version;
        let held = if v.unchanged { task.current() } else { task.rebuild_with(v.layer, v.version).await? };
        drop(permit);
        Ok::<_, ApiError>((edited, held))
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    let status = if created { StatusCode::CREATED } else { StatusCode::NO_CONTENT };
    let mut r = status.into_response();
    let h = r.headers_mut();
    if !deleted && let Some(tag) = item_etag(&held, layer, &edited.key).and_then(|t| HeaderValue::from_str(&t).ok()) {
        h.insert(header::ETAG, tag);
    }
    if created {
        let url = format!("{base}/collections/{collection}/items/{}", domania_app::features::urlencode(&edited.key));
        if let Ok(v) = HeaderValue::from_str(&url) {
            h.insert(header::LOCATION, v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&edited.outcome.version.version.to_string()) {
        h.insert("Domania-Version", v);
    }
    Ok(r)
}

/// `POST /collections/{id}/items`: a new feature.
pub async fn create(
    State(shared): State<Arc<Shared>>,
    Extension(Caller(who)): Extension<Caller>,
    Base(b): Base,
    Path(id): Path<String>,
    headers: HeaderMap,
    Body(body): Body,
) -> ApiResult<Response> {
    let layer = edited_layer(&id)?;
    let f = json_body(&headers, &body, &FEATURE_TYPES)?;
    apply(shared, who, &b, &id, layer, Edit::Create(f), &headers).await
}

/// `PUT /collections/{id}/items/{fid}`: the feature replaced.
pub async fn replace(
    State(shared): State<Arc<Shared>>,
    Extension(Caller(who)): Extension<Caller>,
    Base(b): Base,
    Path((id, fid)): Path<(String, String)>,
    headers: HeaderMap,
    Body(body): Body,
) -> ApiResult<Response> {
    let layer = edited_layer(&id)?;
    let f = json_body(&headers, &body, &FEATURE_TYPES)?;
    apply(shared, who, &b, &id, layer, Edit::Replace(fid, f), &headers).await
}

/// `PATCH /collections/{id}/items/{fid}`: the feature updated by a JSON merge patch.
pub async fn update(
    State(shared): State<Arc<Shared>>,
    Extension(Caller(who)): Extension<Caller>,
    Base(b): Base,
    Path((id, fid)): Path<(String, String)>,
    headers: HeaderMap,
    Body(body): Body,
) -> ApiResult<Response> {
    let layer = edited_layer(&id)?;
    let patch = json_body(&headers, &body, &PATCH_TYPES)?;
    if !patch.is_object() {
        return Err(AppError::said(ErrorCode::BadFeature, "error-feature-json", Vec::new()).into());
    }
    apply(shared, who, &b, &id, layer, Edit::Update(fid, patch), &headers).await
}

/// `DELETE /collections/{id}/items/{fid}`: the feature removed.
pub async fn remove(
    State(shared): State<Arc<Shared>>,
    Extension(Caller(who)): Extension<Caller>,
    Base(b): Base,
    Path((id, fid)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let layer = edited_layer(&id)?;
    apply(shared, who, &b, &id, layer, Edit::Delete(fid), &headers).await
}

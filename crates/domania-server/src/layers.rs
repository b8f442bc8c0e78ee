//! The store's layers over HTTP: list, history, diff, and updates by SIG officers (an upload
//! is one new version in one transaction, recorded with the token's name; the snapshot is then
//! rebuilt and swapped).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::{Extension, Json};
use domania_app::import::ImportOutcome;
use domania_app::upload::Upload;
use domania_app::{Diff, ErrorCode, Layer, LayerSummary, VersionInfo};
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Language, Path, Query, parse_json};
use crate::state::{Shared, blocking};

fn layer_of(name: &str) -> ApiResult<Layer> {
    name.parse::<Layer>().map_err(|e| ApiError::new(ErrorCode::NotFound, e.to_string()))
}

pub async fn list(State(shared): State<Arc<Shared>>) -> ApiResult<Json<Vec<LayerSummary>>> {
    let app = shared.app.clone();
    Ok(Json(blocking(move || app.layers()).await??))
}

pub async fn history(
    State(shared): State<Arc<Shared>>,
    Path(layer): Path<String>,
) -> ApiResult<Json<Vec<VersionInfo>>> {
    let layer = layer_of(&layer)?;
    let app = shared.app.clone();
    Ok(Json(blocking(move || app.history(layer)).await??))
}

/// The two versions of a diff.
#[derive(Debug, Deserialize)]
pub struct DiffQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

fn version_param(name: &str, v: Option<&str>) -> ApiResult<i64> {
    let v = v.ok_or_else(|| ApiError::new(ErrorCode::BadVersions, format!("{name} is required: a version number")))?;
    v.parse().map_err(|_| ApiError::new(ErrorCode::BadVersions, format!("{name}={v}: a version number")))
}

pub async fn diff(
    State(shared): State<Arc<Shared>>,
    Path(layer): Path<String>,
    Query(q): Query<DiffQuery>,
) -> ApiResult<Json<Diff>> {
    let layer = layer_of(&layer)?;
    let (from, to) = (version_param("from", q.from.as_deref())?, version_param("to", q.to.as_deref())?);
    let app = shared.app.clone();
    Ok(Json(blocking(move || app.diff(layer, from, to)).await??))
}

/// Options of an upload, in the query string.
#[derive(Debug, Default, Deserialize)]
pub struct UploadQuery {
    /// What the file replaces (`commune`, `departement=75`, …), as `domania import --scope`.
    pub scope: Option<String>,
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub skip_invalid: bool,
    /// Source CRS overriding the file's.
    pub crs: Option<String>,
}

/// An accepted update: the version written and the snapshot now served.
#[derive(Debug, Serialize)]
pub struct Updated {
    #[serde(flatten)]
    pub outcome: ImportOutcome,
    pub snapshot: String,
}

/// How long an upload waits for another to finish before it is told to try again.
const UPLOAD_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A permit of the uploads' budget (an upload or an edit: each an import), waited for a
/// moment; past it, the client is told to try again.
pub(crate) async fn upload_permit(shared: &Shared) -> ApiResult<tokio::sync::OwnedSemaphorePermit> {
    tokio::time::timeout(UPLOAD_WAIT, Arc::clone(&shared.uploads).acquire_owned())
        .await
        .map_err(|_| ApiError::said(ErrorCode::Busy, "error-upload-busy", vec![]))?
        .map_err(|e| ApiError::internal(e.to_string()))
}

pub async fn upload(
    State(shared): State<Arc<Shared>>,
    Extension(Caller(who)): Extension<Caller>,
    Path(layer): Path<String>,
    headers: HeaderMap,
    Language(lang): Language,
    Query(q): Query<UploadQuery>,
    request: axum::extract::Request,
) -> ApiResult<Json<Updated>> {
    let layer = layer_of(&layer)?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    // What is received counts towards the upload's disk budget.
    let limit = (shared.max_upload_bytes as u64).min(shared.upload_disk_bytes);
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::said(
            ErrorCode::UploadTooLarge,
            "error-upload-too-large",
            vec![("mb", (limit >> 20).to_string().into())],
        ));
    }
    // Uploads share one budget of disk, memory and time: a permit from the first byte to the
    // version.
    let permit = upload_permit(&shared).await?;
    // Received piece by piece onto the disk, never whole in memory.
    let mut file = domania_app::upload::Received::new(limit)?;
    let mut body = request.into_body();
    while let Some(frame) = http_body_util::BodyExt::frame(&mut body).await {
        let frame = frame.map_err(|e| crate::extract::body_read_error(&e))?;
        if let Some(piece) = frame.data_ref() {
            file.write(piece)?;
        }
    }
    let unpack_budget = shared.upload_disk_bytes.saturating_sub(file.len());
    // Imported and swapped in a task of its own: a client that goes away cannot leave a
    // committed version unserved.
    let task = Arc::clone(&shared);
    let (mut outcome, held) = tokio::spawn(async move {
        let me = Arc::clone(&task);
        let outcome = blocking(move || {
            me.app.import_upload(Upload {
                layer,
                file,
                content_type: content_type.as_deref(),
                scope: q.scope.as_deref(),
                force: q.force,
                skip_invalid: q.skip_invalid,
                crs: q.crs.as_deref(),
                author: &who,
                unpack_budget,
            })
        })
        .await??;
        let v = &outcome.version;
        tracing::info!(layer = %v.layer, version = v.version, "version committed: the snapshot follows it");
        let held = if outcome.version.unchanged {
            task.current()
        } else {
            task.rebuild_with(outcome.version.layer, outcome.version.version).await?
        };
        drop(permit);
        Ok::<_, ApiError>((outcome, held))
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    outcome.report = domania_app::said::report_in(&outcome.report, lang);
    Ok(Json(Updated { outcome, snapshot: held.etag.clone() }))
}

/// A rollback request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    pub version: i64,
    /// Only these parts (`commune=91216`); default: the whole layer.
    pub scope: Option<String>,
}

/// A rollback done: the version written and the snapshot now served.
#[derive(Debug, Serialize)]
pub struct RolledBack {
    pub version: VersionInfo,
    pub snapshot: String,
}

pub async fn rollback(
    State(shared): State<Arc<Shared>>,
    Extension(Caller(who)): Extension<Caller>,
    Path(layer): Path<String>,
    Body(body): Body,
) -> ApiResult<Json<RolledBack>> {
    let layer = layer_of(&layer)?;
    let req: RollbackRequest = parse_json(&body, ErrorCode::BadRollback)?;
    let scope =
        req.scope.as_deref().map(str::parse).transpose().map_err(|e: String| ApiError::new(ErrorCode::BadScope, e))?;
    let task = Arc::clone(&shared);
    let (info, held) = tokio::spawn(async move {
        let app = task.app.clone();
        let info = blocking(move || app.rollback(layer, req.version, scope, &who)).await??;
        let held = task.rebuild_with(info.layer, info.version).await?;
        Ok::<_, ApiError>((info, held))
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(Json(RolledBack { version: info, snapshot: held.etag.clone() }))
}

//! The store's layers over HTTP: list, history, diff, and updates by SIG officers (an upload
//! is one new version in one transaction, recorded with the token's name; the snapshot is then
//! rebuilt and swapped).

use std::io::Read as _;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::{Extension, Json};
use domania_app::Layer;
use domania_app::import::{ImportOutcome, ImportRequest};
use domania_io::geometry::InvalidPolicy;
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::Shared;

fn layer_of(name: &str) -> ApiResult<Layer> {
    name.parse::<Layer>().map_err(|e| ApiError::not_found(e.to_string()))
}

/// Runs a use case of the application on a blocking thread (it opens the store).
async fn blocking<T: Send + 'static>(
    shared: &Arc<Shared>,
    f: impl FnOnce(&domania_app::App) -> domania_app::Result<T> + Send + 'static,
) -> ApiResult<T> {
    let app = shared.app.clone();
    tokio::task::spawn_blocking(move || f(&app))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(Into::into)
}

pub async fn list(State(shared): State<Arc<Shared>>) -> ApiResult<Json<Vec<domania_store::LayerSummary>>> {
    Ok(Json(blocking(&shared, domania_app::App::layers).await?))
}

pub async fn history(
    State(shared): State<Arc<Shared>>,
    Path(layer): Path<String>,
) -> ApiResult<Json<Vec<domania_store::VersionInfo>>> {
    let layer = layer_of(&layer)?;
    Ok(Json(blocking(&shared, move |app| app.history(layer)).await?))
}

#[derive(Debug, Deserialize)]
pub struct DiffQuery {
    pub from: i64,
    pub to: i64,
}

pub async fn diff(
    State(shared): State<Arc<Shared>>,
    Path(layer): Path<String>,
    q: Result<Query<DiffQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<domania_store::Diff>> {
    let layer = layer_of(&layer)?;
    let Query(q) =
        q.map_err(|e| ApiError::bad_request("bad_versions", format!("from and to versions: {}", e.body_text())))?;
    Ok(Json(blocking(&shared, move |app| app.diff(layer, q.from, q.to)).await?))
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

/// The file of an upload, written where the readers can read it: GeoJSON, PPM CSV, or a zipped
/// Shapefile (its `.shp`, `.dbf`, `.prj`, `.cpg`).
fn write_upload(
    dir: &std::path::Path,
    layer: Layer,
    headers: &HeaderMap,
    body: &[u8],
    budget: u64,
) -> ApiResult<std::path::PathBuf> {
    let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let zip = body.starts_with(b"PK\x03\x04") || ctype.contains("zip");
    if zip {
        // Unpacked, at most four times the upload limit: a Shapefile compresses, a zip bomb
        // does not get through.
        return unzip_shapefile(dir, body, 4 * budget);
    }
    let name = if layer == Layer::Owners || ctype.contains("csv") { "upload.csv" } else { "upload.geojson" };
    let path = dir.join(name);
    std::fs::write(&path, body).map_err(|e| ApiError::internal(format!("writing the upload: {e}")))?;
    Ok(path)
}

/// The parts of the one Shapefile in a zip (`.shp`, `.shx`, `.dbf`, `.prj`, `.cpg`), written
/// under one stem so the reader finds its siblings. macOS resource forks (`__MACOSX/`, `._*`)
/// are skipped; a zip holding two Shapefiles is refused rather than one half of each read;
/// what is unpacked is bounded by `budget` bytes in all.
fn unzip_shapefile(dir: &std::path::Path, body: &[u8], budget: u64) -> ApiResult<std::path::PathBuf> {
    let bad = |m: String| ApiError::bad_request("bad_upload", m);
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(body)).map_err(|e| bad(format!("not a zip file: {e}")))?;
    let mut stem: Option<String> = None;
    let mut shp = None;
    let mut left = budget;
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).map_err(|e| bad(format!("zip entry {i}: {e}")))?;
        let Some(path) = f.enclosed_name() else { continue };
        if path.components().any(|c| c.as_os_str() == "__MACOSX") {
            continue;
        }
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else { continue };
        if name.starts_with("._") {
            continue;
        }
        let lower = name.to_lowercase();
        let Some((this_stem, ext)) = lower.rsplit_once('.') else { continue };
        if !matches!(ext, "shp" | "dbf" | "prj" | "cpg" | "shx") {
            continue;
        }
        match &stem {
            Some(s) if s != this_stem => {
                return Err(bad(format!(
                    "the zip holds more than one Shapefile ({s} and {this_stem}): send one per upload"
                )));
            }
            _ => stem = Some(this_stem.to_owned()),
        }
        let path = dir.join(format!("upload.{ext}"));
        let mut out = std::fs::File::create(&path).map_err(|e| ApiError::internal(format!("writing {name}: {e}")))?;
        let copied =
            std::io::copy(&mut f.by_ref().take(left + 1), &mut out).map_err(|e| bad(format!("{name}: {e}")))?;
        if copied > left {
            return Err(ApiError {
                status: axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                code: "upload_too_large",
                message: format!("the zip unpacks to more than {} MB: refused, nothing was changed", budget >> 20),
                details: None,
            });
        }
        left -= copied;
        if ext == "shp" {
            shp = Some(path);
        }
    }
    shp.ok_or_else(|| bad("the zip file holds no .shp".to_owned()))
}

pub async fn upload(
    State(shared): State<Arc<Shared>>,
    Extension(Caller(who)): Extension<Caller>,
    Path(layer): Path<String>,
    headers: HeaderMap,
    q: Result<Query<UploadQuery>, axum::extract::rejection::QueryRejection>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<Updated>> {
    let body = body.map_err(|e| ApiError {
        status: e.status(),
        code: if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE { "upload_too_large" } else { "bad_upload" },
        message: format!("{}: the upload is refused, nothing was changed", e.body_text()),
        details: None,
    })?;
    let layer = layer_of(&layer)?;
    if !layer.is_imported() {
        return Err(ApiError::bad_request("not_importable", format!("the {layer} layer is computed, not uploaded")));
    }
    let Query(q) = q.map_err(|e| ApiError::bad_request("bad_parameter", e.body_text()))?;
    if body.is_empty() {
        return Err(ApiError::bad_request("empty_upload", "the request has no body: send the file as the body"));
    }
    // Imported and swapped in a task of its own: a client that goes away, or the request's
    // time limit, cannot leave a committed version unserved.
    let task = Arc::clone(&shared);
    let (outcome, served) = tokio::spawn(async move {
        let shared = Arc::clone(&task);
        let outcome = tokio::task::spawn_blocking(move || -> ApiResult<ImportOutcome> {
            let dir = tempfile_dir()?;
            let file = write_upload(dir.path(), layer, &headers, &body, shared.max_upload_bytes as u64)?;
            let mut req = ImportRequest::new(layer, &file, &who);
            req.source_name = Some(format!("HTTP upload by {who}"));
            if let Some(s) = &q.scope {
                let scope = s.parse().map_err(|e: String| ApiError::bad_request("bad_scope", e))?;
                req = req.scope(scope)?;
            }
            req.options.force = q.force;
            req.skip_invalid = q.skip_invalid;
            req.source.read = domania_app::import::read_options(q.crs.as_deref(), InvalidPolicy::Repair)?;
            Ok(shared.app.import(&req, &|_| {})?)
        })
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
        let served = if outcome.version.unchanged {
            task.current()
        } else {
            task.rebuild_with(outcome.version.layer, outcome.version.version).await?
        };
        Ok::<_, ApiError>((outcome, served))
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(Json(Updated { outcome, snapshot: served.etag.clone() }))
}

fn tempfile_dir() -> ApiResult<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("domania-upload-")
        .tempdir()
        .map_err(|e| ApiError::internal(format!("a folder for the upload: {e}")))
}

/// A rollback request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    pub version: i64,
    /// Only these parts (`commune=91216`); default: the whole layer.
    pub scope: Option<String>,
}

pub async fn rollback(
    State(shared): State<Arc<Shared>>,
    Extension(Caller(who)): Extension<Caller>,
    Path(layer): Path<String>,
    body: Result<Json<RollbackRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let layer = layer_of(&layer)?;
    let Json(req) = body.map_err(|e| ApiError::bad_request("bad_rollback", e.body_text()))?;
    let scope =
        req.scope.as_deref().map(str::parse).transpose().map_err(|e: String| ApiError::bad_request("bad_scope", e))?;
    let task = Arc::clone(&shared);
    let (info, served) = tokio::spawn(async move {
        let info = blocking(&task, move |app| app.rollback(layer, req.version, scope, &who)).await?;
        let served = task.rebuild_with(info.layer, info.version).await?;
        Ok::<_, ApiError>((info, served))
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(Json(serde_json::json!({"version": info, "snapshot": served.etag})))
}

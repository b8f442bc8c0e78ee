//! What administrators manage over HTTP: the management rules (each change a new version in
//! the store, the snapshot rebuilt with them) and the API tokens.

use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domania_app::tokens::{Role, TokenInfo};
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::Shared;

/// The rules in force.
#[derive(Debug, Serialize)]
pub struct RulesView {
    /// `built-in`, the file the server was started with, or `store rules vN`.
    pub name: String,
    pub toml: String,
    pub snapshot: String,
}

pub async fn rules(State(shared): State<Arc<Shared>>) -> Json<RulesView> {
    let served = shared.current();
    Json(RulesView { name: served.rules.name.clone(), toml: served.rules.text.clone(), snapshot: served.etag.clone() })
}

/// Replaces the rules (TOML body): checked, saved in the store as a new version, then the
/// snapshot is rebuilt with them. Invalid rules change nothing.
pub async fn put_rules(
    State(shared): State<Arc<Shared>>,
    Extension(Caller(who)): Extension<Caller>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<RulesView>> {
    let body =
        body.map_err(|e| ApiError { status: e.status(), code: "bad_rules", message: e.body_text(), details: None })?;
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad_request("bad_rules", "the rules are TOML text in UTF-8"))?;
    // Saved and swapped in a task of its own: a client that goes away cannot leave the store
    // and the snapshot apart. Under the rebuild lock: two administrators cannot swap in the
    // older of their rules.
    let task = Arc::clone(&shared);
    let served = tokio::spawn(async move {
        let one = task.rebuild.lock().await;
        let app = task.app.clone();
        let rules = tokio::task::spawn_blocking(move || app.save_rules(&text, &who))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))??;
        let served = task.rebuild_locked(Some(rules)).await;
        drop(one);
        Ok::<_, ApiError>(served?)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(Json(RulesView {
        name: served.rules.name.clone(),
        toml: served.rules.text.clone(),
        snapshot: served.etag.clone(),
    }))
}

pub async fn tokens(State(shared): State<Arc<Shared>>) -> ApiResult<Json<Vec<TokenInfo>>> {
    let app = shared.app.clone();
    Ok(Json(tokio::task::spawn_blocking(move || app.tokens()).await.map_err(|e| ApiError::internal(e.to_string()))??))
}

/// A token to create.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    pub role: Role,
}

/// A token just created: its secret is given this once.
#[derive(Debug, Serialize)]
pub struct Created {
    pub name: String,
    pub role: Role,
    pub secret: String,
}

pub async fn create_token(
    State(shared): State<Arc<Shared>>,
    body: Result<Json<NewToken>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let Json(req) = body.map_err(|e| ApiError::bad_request("bad_token", e.body_text()))?;
    let app = shared.app.clone();
    let (name, role) = (req.name.clone(), req.role);
    let secret = tokio::task::spawn_blocking(move || app.create_token(&name, role))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok((StatusCode::CREATED, Json(Created { name: req.name, role: req.role, secret })))
}

pub async fn revoke_token(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> ApiResult<StatusCode> {
    let app = shared.app.clone();
    tokio::task::spawn_blocking(move || app.revoke_token(&name))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(StatusCode::NO_CONTENT)
}

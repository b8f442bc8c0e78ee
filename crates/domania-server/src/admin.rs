//! What administrators manage over HTTP: the management rules (each change a new version in
//! the store, the snapshot rebuilt with them) and the API tokens.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use domania_app::tokens::{Role, TokenInfo};
use serde::{Deserialize, Serialize};

use crate::auth::require;
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
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<RulesView>> {
    let who = require(&shared, &headers, Role::Admin).await?;
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad_request("bad_rules", "the rules are TOML text in UTF-8"))?;
    let app = shared.app.clone();
    let rules = tokio::task::spawn_blocking(move || app.save_rules(&text, &who))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    let served = shared.rebuild(Some(rules)).await?;
    Ok(Json(RulesView {
        name: served.rules.name.clone(),
        toml: served.rules.text.clone(),
        snapshot: served.etag.clone(),
    }))
}

pub async fn tokens(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> ApiResult<Json<Vec<TokenInfo>>> {
    require(&shared, &headers, Role::Admin).await?;
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
    headers: HeaderMap,
    body: Result<Json<NewToken>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    require(&shared, &headers, Role::Admin).await?;
    let Json(req) = body.map_err(|e| ApiError::bad_request("bad_token", e.body_text()))?;
    let app = shared.app.clone();
    let (name, role) = (req.name.clone(), req.role);
    let secret = tokio::task::spawn_blocking(move || app.create_token(&name, role))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok((StatusCode::CREATED, Json(Created { name: req.name, role: req.role, secret })))
}

pub async fn revoke_token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    require(&shared, &headers, Role::Admin).await?;
    let app = shared.app.clone();
    tokio::task::spawn_blocking(move || app.revoke_token(&name))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(StatusCode::NO_CONTENT)
}

//! What administrators manage over HTTP: the management rules (each change a new version in
//! the store, the snapshot rebuilt with them) and the API tokens.

use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domania_app::ErrorCode;
use domania_app::tokens::{Role, TokenInfo};
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Path, parse_json};
use crate::state::{Shared, blocking};

/// The rules in force.
#[derive(Debug, Serialize)]
pub struct RulesView {
    /// `built-in`, the file the server was started with, or `store rules vN`.
    pub name: String,
    pub toml: String,
    pub snapshot: String,
}

pub async fn rules(State(shared): State<Arc<Shared>>) -> Json<RulesView> {
    let held = shared.current();
    Json(RulesView { name: held.rules.name.clone(), toml: held.rules.text.clone(), snapshot: held.etag.clone() })
}

/// Replaces the rules (TOML body): checked, saved in the store as a new version, then the
/// snapshot is rebuilt with them. Invalid rules change nothing.
pub async fn put_rules(
    State(shared): State<Arc<Shared>>,
    Extension(Caller(who)): Extension<Caller>,
    Body(body): Body,
) -> ApiResult<Json<RulesView>> {
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::new(ErrorCode::BadRules, "the rules are TOML text in UTF-8"))?;
    // Saved and swapped in a task of its own: a client that goes away cannot leave the store
    // and the snapshot apart. Under the rebuild lock: two administrators cannot swap in the
    // older of their rules.
    let task = Arc::clone(&shared);
    let held = tokio::spawn(async move {
        let one = task.rebuild.lock().await;
        let app = task.app.clone();
        let rules = blocking(move || app.save_rules(&text, &who)).await??;
        let held = task.rebuild_locked(Some(rules)).await;
        drop(one);
        Ok::<_, ApiError>(held?)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(Json(RulesView { name: held.rules.name.clone(), toml: held.rules.text.clone(), snapshot: held.etag.clone() }))
}

pub async fn tokens(State(shared): State<Arc<Shared>>) -> ApiResult<Json<Vec<TokenInfo>>> {
    let app = shared.app.clone();
    Ok(Json(blocking(move || app.tokens()).await??))
}

/// A token to create.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    pub role: Role,
    /// `service:ID` or `actor:ACTOR`: the token reads and moves only the reports routed there.
    #[serde(default)]
    pub bound: Option<String>,
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
    Body(body): Body,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let req: NewToken = parse_json(&body, ErrorCode::BadToken)?;
    let app = shared.app.clone();
    let bound = req.bound.as_deref().map(domania_app::tokens::Bound::parse).transpose()?;
    let grant = domania_app::tokens::Grant { role: req.role, bound };
    let name = req.name.clone();
    let secret = blocking(move || app.create_bound_token(&name, &grant)).await??;
    Ok((StatusCode::CREATED, Json(Created { name: req.name, role: req.role, secret })))
}

/// Revokes a token: it stops working at once on this server (the tokens checked are
/// forgotten).
pub async fn revoke_token(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> ApiResult<StatusCode> {
    let app = shared.app.clone();
    blocking(move || app.revoke_token(&name)).await??;
    shared.tokens.clear();
    Ok(StatusCode::NO_CONTENT)
}

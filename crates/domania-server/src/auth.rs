//! Who is asking: `Authorization: Bearer <token>`, checked against the store's tokens (hashed),
//! and whether its role allows what is asked (401 without a valid token, 403 with too low a
//! role). Route layers check before a handler reads the body.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domania_app::ErrorCode;
use domania_app::tokens::Role;

use crate::error::{ApiError, ApiResult};
use crate::state::{Shared, blocking};

/// The token's name when it may act as `role`.
pub async fn require(shared: &Arc<Shared>, headers: &HeaderMap, role: Role) -> ApiResult<String> {
    let Some(secret) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|s| s.trim().to_owned())
    else {
        return Err(ApiError::said(ErrorCode::Unauthorized, "error-needs-token", vec![("role", role.as_str().into())]));
    };
    require_secret(shared, secret, role).await
}

/// The name of the token whose secret is `secret`, if it has `role` or above.
pub async fn require_secret(shared: &Arc<Shared>, secret: String, role: Role) -> ApiResult<String> {
    let hash = domania_app::tokens::hash_secret(&secret);
    let (name, has) = if let Some(known) = shared.tokens.get(&hash) {
        known
    } else {
        let app = shared.app.clone();
        let known = blocking(move || app.authenticate(&secret)).await??;
        shared.tokens.put(hash, known.clone());
        known
    };
    if has < role {
        return Err(ApiError::said(
            ErrorCode::Forbidden,
            "error-wrong-role",
            vec![("name", name.as_str().into()), ("has", has.as_str().into()), ("role", role.as_str().into())],
        ));
    }
    Ok(name)
}

/// Reads are open unless the server was started with private reads: then a `viewer` token.
pub async fn reads(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    if shared.private_reads
        && let Err(e) = require(&shared, request.headers(), Role::Viewer).await
    {
        return e.into_response();
    }
    next.run(request).await
}

/// The name of the token a write was authorised with (put in the request by [`editors`] and
/// [`admins`]).
#[derive(Debug, Clone)]
pub struct Caller(pub String);

async fn gate(shared: &Arc<Shared>, role: Role, mut request: Request, next: Next) -> Response {
    match require(shared, request.headers(), role).await {
        Ok(name) => {
            request.extensions_mut().insert(Caller(name));
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

/// Writes of layers and moves of requests need an `editor`: checked before the body is read,
/// so an unauthorised client cannot make the server hold an upload.
pub async fn editors(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    gate(&shared, Role::Editor, request, next).await
}

/// Rules and tokens need an `admin`, checked before the body is read.
pub async fn admins(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    gate(&shared, Role::Admin, request, next).await
}

//! Who is asking: `Authorization: Bearer <token>`, checked against the store's tokens (hashed),
//! and whether its role allows what is asked (401 without a valid token, 403 with too low a role).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domania_app::tokens::Role;

use crate::error::{ApiError, ApiResult};
use crate::state::Shared;

/// The token's name when it may act as `role`.
pub async fn require(shared: &Arc<Shared>, headers: &HeaderMap, role: Role) -> ApiResult<String> {
    let Some(secret) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|s| s.trim().to_owned())
    else {
        return Err(ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: format!("this needs a token with the {} role: Authorization: Bearer <token>", role.as_str()),
            details: None,
        });
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
        let known = tokio::task::spawn_blocking(move || app.authenticate(&secret))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))??;
        shared.tokens.put(hash, known.clone());
        known
    };
    if has < role {
        return Err(ApiError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message: format!("token {name:?} is a {}; this needs the {} role", has.as_str(), role.as_str()),
            details: None,
        });
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

/// Writes of layers need an `editor`: checked before the body is read, so an unauthorised
/// client cannot make the server hold an upload.
pub async fn editors(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    gate(&shared, Role::Editor, request, next).await
}

/// Rules and tokens need an `admin`, checked before the body is read.
pub async fn admins(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    gate(&shared, Role::Admin, request, next).await
}

/// Tokens recently checked against the store, so that reads under `--private-reads` do not open
/// the store on every request. An entry lives [`TokenCache::TTL`]: a token revoked from the CLI
/// stops working within that time (at once when revoked over HTTP, which clears the cache).
#[derive(Debug, Default)]
pub struct TokenCache {
    inner: std::sync::Mutex<std::collections::HashMap<String, Checked>>,
}

/// A token's name and role, and when they were read from the store.
type Checked = ((String, Role), std::time::Instant);

impl TokenCache {
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(30);

    fn get(&self, hash: &str) -> Option<(String, Role)> {
        let g = self.inner.lock().ok()?;
        g.get(hash).filter(|(_, at)| at.elapsed() < Self::TTL).map(|(k, _)| k.clone())
    }

    fn put(&self, hash: String, known: (String, Role)) {
        if let Ok(mut g) = self.inner.lock() {
            if g.len() > 10_000 {
                g.clear();
            }
            g.insert(hash, (known, std::time::Instant::now()));
        }
    }

    /// Forgets every token (after a revocation).
    pub fn clear(&self) {
        if let Ok(mut g) = self.inner.lock() {
            g.clear();
        }
    }
}

//! Who is asking: `Authorization: Bearer <token>`, checked against the store's tokens (hashed),
//! and whether its role allows what is asked (401 without a valid token, 403 with too low a
//! role). Route layers check before a handler reads the body.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domania_app::ErrorCode;
use domania_app::tokens::{Bound, Role};

use crate::error::{ApiError, ApiResult};
use crate::state::{Shared, blocking};

/// The token's name, and what it is bound to, when it may act as `role`.
pub async fn require(shared: &Arc<Shared>, headers: &HeaderMap, role: Role) -> ApiResult<(String, Option<Bound>)> {
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

/// The name of the token whose secret is `secret`, and what it is bound to, if it has `role` or
/// above.
pub async fn require_secret(shared: &Arc<Shared>, secret: String, role: Role) -> ApiResult<(String, Option<Bound>)> {
    let hash = domania_app::tokens::hash_secret(&secret);
    let (name, grant) = if let Some(known) = shared.tokens.get(&hash) {
        known
    } else {
        let app = shared.app.clone();
        let known = blocking(move || app.authenticate(&secret)).await??;
        shared.tokens.put(hash, known.clone());
        known
    };
    if grant.role < role {
        return Err(ApiError::said(
            ErrorCode::Forbidden,
            "error-wrong-role",
            vec![("name", name.as_str().into()), ("has", grant.role.as_str().into()), ("role", role.as_str().into())],
        ));
    }
    Ok((name, grant.bound))
}

/// Reads are open unless the server was started with private reads: then a `viewer` token. A
/// token given to a read says what it is bound to (the reports' map shows a bound token its
/// own).
pub async fn reads(State(shared): State<Arc<Shared>>, mut request: Request, next: Next) -> Response {
    if shared.private_reads || request.headers().contains_key(header::AUTHORIZATION) {
        match require(&shared, request.headers(), Role::Viewer).await {
            Ok((_, bound)) => {
                request.extensions_mut().insert(BoundTo(bound));
            }
            Err(e) => return e.into_response(),
        }
    }
    next.run(request).await
}

/// The name of the token a write was authorised with (put in the request by [`editors`] and
/// [`admins`]).
#[derive(Debug, Clone)]
pub struct Caller(pub String);

/// What the token a write was authorised with is bound to (`None`: the whole territory).
#[derive(Debug, Clone)]
pub struct BoundTo(pub Option<Bound>);

impl BoundTo {
    /// Refuses a report routed elsewhere than this binding (`service_id`, `actor`).
    ///
    /// # Errors
    /// `forbidden`, naming the report and the binding.
    pub fn check(&self, id: i64, service_id: Option<&str>, actor: domania_app::Actor) -> ApiResult<()> {
        match &self.0 {
            Some(b) if !b.holds(service_id, actor) => Err(ApiError::said(
                ErrorCode::Forbidden,
                "error-not-your-report",
                vec![("id", id.to_string().into()), ("bound", b.as_text().into())],
            )),
            _ => Ok(()),
        }
    }
}

async fn gate(shared: &Arc<Shared>, role: Role, mut request: Request, next: Next) -> Response {
    match require(shared, request.headers(), role).await {
        Ok((name, bound)) => {
            request.extensions_mut().insert(Caller(name));
            request.extensions_mut().insert(BoundTo(bound));
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

//! The server's one vocabulary of errors: every error is an [`ErrorCode`] of the application's
//! table (its HTTP status comes with it) and a message, answered as JSON `{code, message,
//! details}` on the `/v1`, OGC and document routes ([`ApiError`]), and as GeoReport v2's list
//! `[{code, description}]` on the Open311 routes ([`GeoError`]). A fault of the server is
//! logged in full and answered without its details (no path, no database message).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domania_app::{AppError, ErrorCode, ErrorKind};
use serde::Serialize;

/// The seconds a client told `busy` waits before trying again.
pub const RETRY_AFTER_S: &str = "2";

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// The validation report of a refused file.
    pub details: Option<Box<domania_app::import::ValidationReport>>,
}

/// The JSON body of an error.
#[derive(Serialize)]
pub struct Body<'a> {
    pub code: &'a str,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<&'a domania_app::import::ValidationReport>,
}

impl ApiError {
    /// An error of `code`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), details: None }
    }

    /// A fault of the server (a task that died).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    /// The HTTP status of the answer.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The message a client is given: a fault of the server is logged, not told.
    fn shown(&self) -> String {
        if self.code.kind() == ErrorKind::Internal {
            tracing::error!(code = self.code.as_str(), "{}", self.message);
            "an internal error; the server's log has the details".to_owned()
        } else {
            self.message.clone()
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        Self { code: e.code(), message: e.message().to_owned(), details: e.report().cloned().map(Box::new) }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = self.shown();
        let body = Body { code: self.code.as_str(), message: &message, details: self.details.as_deref() };
        let mut response = (self.status(), Json(body)).into_response();
        if self.code == ErrorCode::Busy {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static(RETRY_AFTER_S));
        }
        response
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// An error as GeoReport v2 gives it: `[{"code": 400, "description": "…"}]`, with the HTTP
/// status as its code.
#[derive(Debug)]
pub struct GeoError(pub ApiError);

/// One error of GeoReport's list.
#[derive(Serialize)]
pub struct GeoBody<'a> {
    pub code: u16,
    pub description: &'a str,
}

impl From<ApiError> for GeoError {
    fn from(e: ApiError) -> Self {
        GeoError(e)
    }
}

impl From<AppError> for GeoError {
    fn from(e: AppError) -> Self {
        GeoError(e.into())
    }
}

impl IntoResponse for GeoError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let description = self.0.shown();
        let mut response =
            (status, Json([GeoBody { code: status.as_u16(), description: &description }])).into_response();
        if self.0.code == ErrorCode::Busy {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static(RETRY_AFTER_S));
        }
        response
    }
}

/// Result of an Open311 handler.
pub type GeoResult<T> = Result<T, GeoError>;

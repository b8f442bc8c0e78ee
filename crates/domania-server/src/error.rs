//! JSON errors: `{code, message, details}` with the application's stable codes, and the HTTP
//! status their kind calls for.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domania_app::{AppError, ErrorCode, ErrorKind};
use serde::Serialize;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a serde_json::Value>,
}

impl ApiError {
    /// A request the server cannot take (a bad parameter): 400 with the server's own code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, code, message: message.into(), details: None }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self { status: StatusCode::NOT_FOUND, code: "not_found", message: message.into(), details: None }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self { status: StatusCode::INTERNAL_SERVER_ERROR, code: "internal", message: message.into(), details: None }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let status = match (e.kind(), e.code()) {
            (ErrorKind::Internal, _) => StatusCode::INTERNAL_SERVER_ERROR,
            (_, ErrorCode::NotFound | ErrorCode::LayerMissing | ErrorCode::NoSuchVersion) => StatusCode::NOT_FOUND,
            (_, ErrorCode::Unauthorized) => StatusCode::UNAUTHORIZED,
            (_, ErrorCode::Forbidden) => StatusCode::FORBIDDEN,
            (
                _,
                ErrorCode::StoreChanged | ErrorCode::ImportRefused | ErrorCode::ScopeRefused | ErrorCode::NameTaken,
            ) => StatusCode::CONFLICT,
            (
                _,
                ErrorCode::FeaturesRejected | ErrorCode::WrongKind | ErrorCode::InvalidFile | ErrorCode::DuplicateKey,
            ) => StatusCode::UNPROCESSABLE_ENTITY,
            (_, ErrorCode::StoreBusy | ErrorCode::StoreMissing | ErrorCode::NotAStore | ErrorCode::StoreReadOnly) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::BAD_REQUEST,
        };
        let details = e.report().and_then(|r| serde_json::to_value(r).ok());
        Self { status, code: e.code().as_str(), message: e.message().to_owned(), details }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // A fault of the server is logged in full; the client is not told paths or database
        // messages.
        let message = if self.status.is_server_error() && self.status != StatusCode::SERVICE_UNAVAILABLE {
            tracing::error!(code = self.code, "{}", self.message);
            "an internal error; the server's log has the details".to_owned()
        } else {
            self.message
        };
        let body = Body { code: self.code, message: &message, details: self.details.as_ref() };
        (self.status, Json(body)).into_response()
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

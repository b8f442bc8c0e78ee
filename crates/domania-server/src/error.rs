//! The server's one vocabulary of errors: every error is an [`ErrorCode`] of the application's
//! table (its HTTP status comes with it) and a message, answered as JSON `{code, message,
//! details}` on the `/v1`, OGC and document routes ([`ApiError`]), and as GeoReport v2's list
//! `[{code, description}]` (`<errors><error>…` on a route asked in XML) on the Open311 routes
//! ([`GeoError`]). A fault of the server is
//! logged in full and answered without its details (no path, no database message).

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domania_app::i18n::{Arg, Lang};
use domania_app::{AppError, Audience, ErrorCode, ErrorKind};
use serde::Serialize;

/// The seconds a client told `busy` waits before trying again.
pub const RETRY_AFTER_S: &str = "2";

/// An error answer: an error of the application, said in the language of the request.
#[derive(Debug, Clone)]
pub struct ApiError(pub AppError);

/// The JSON body of an error.
#[derive(Serialize)]
pub struct Body<'a> {
    pub code: &'a str,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<domania_app::import::ValidationReport>,
}

impl ApiError {
    /// An error of `code`, its message in English (French readers are told the code's sentence
    /// with it).
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(AppError::new(code, message))
    }

    /// An error of `code` said by the catalogues' message `id`.
    #[must_use]
    pub fn said(code: ErrorCode, id: &'static str, args: Vec<(&'static str, Arg)>) -> Self {
        Self(AppError::said(code, id, args))
    }

    /// A fault of the server (a task that died).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    /// Its code.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        self.0.code()
    }

    /// The HTTP status of the answer.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code().http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The message a client is told in `lang`: a fault of the server is logged, not told.
    fn shown(&self, lang: Lang) -> String {
        if self.code().kind() == ErrorKind::Internal {
            lang.t("error-internal", &[])
        } else {
            self.0.text(lang, Audience::Web)
        }
    }

    /// The JSON answer in `lang`.
    fn json(&self, lang: Lang) -> Response {
        let message = self.shown(lang);
        let details = self.0.report().map(|r| domania_app::said::report_in(r, lang));
        let body = Body { code: self.code().as_str(), message: &message, details };
        (self.status(), Json(body)).into_response()
    }

    /// GeoReport's list in `lang`, in JSON or in XML (`<errors><error>…`).
    fn geo(&self, lang: Lang, xml: bool) -> Response {
        let status = self.status();
        let description = self.shown(lang);
        let list = [GeoBody { code: status.as_u16(), description: &description }];
        if xml && let Ok(doc) = domania_app::requests::xml::to_xml("errors", &list) {
            return (status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], doc).into_response();
        }
        (status, Json(list)).into_response()
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

/// An error answered, kept on its answer until [`speak`] says it in the request's language.
#[derive(Clone)]
struct Unsaid {
    error: ApiError,
    /// GeoReport's list rather than `{code, message}`.
    geo: bool,
}

/// Says the errors in the language of the request (`Accept-Language`, French by default); an
/// error's `code` never changes with the language.
pub async fn speak(request: Request, next: Next) -> Response {
    let lang = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or_else(Lang::default, Lang::from_accept_language);
    // An Open311 route asked in XML answers its errors in XML.
    let xml = request.uri().path().ends_with(".xml");
    let mut response = next.run(request).await;
    if let Some(Unsaid { error, geo }) = response.extensions_mut().remove::<Unsaid>() {
        // Answered in French JSON already (and perhaps compressed): said again only in another
        // language or format.
        if lang == Lang::Fr && !(geo && xml) {
            response.headers_mut().append(header::VARY, HeaderValue::from_static("Accept-Language"));
            return response;
        }
        let said = if geo { error.geo(lang, xml) } else { error.json(lang) };
        let (parts, body) = said.into_parts();
        *response.body_mut() = body;
        // Said anew, uncompressed: the compression's headers no longer apply.
        let headers = response.headers_mut();
        headers.remove(header::CONTENT_ENCODING);
        headers.remove(header::CONTENT_LENGTH);
        headers.extend(parts.headers);
        response.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    }
    response
}

/// The answer of an error, in French until [`speak`] says it in the request's language.
fn answer(error: ApiError, geo: bool) -> Response {
    if error.code().kind() == ErrorKind::Internal {
        tracing::error!(code = error.code().as_str(), "{}", error.0.message());
    }
    let mut response = if geo { error.geo(Lang::Fr, false) } else { error.json(Lang::Fr) };
    if let Some(s) = error.0.retry_after_s() {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
    } else if error.code() == ErrorCode::Busy {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_S));
    }
    if error.code() == ErrorCode::NotEditable {
        // A layer read, never edited feature by feature: what it does answer.
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    response.extensions_mut().insert(Unsaid { error, geo });
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        answer(self, false)
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
        answer(self.0, true)
    }
}

/// Result of an Open311 handler.
pub type GeoResult<T> = Result<T, GeoError>;

//! The server's extractors: axum's own (query string, path, JSON, form, body) whose every
//! rejection becomes the one JSON error ([`ApiError`]) on the `/v1`, OGC and document routes,
//! and GeoReport's error list ([`GeoError`]) on the Open311 routes; and the public base URL of
//! the server as the client reached it ([`Base`]), behind a trusted reverse proxy or not.

use std::net::SocketAddr;

use axum::extract::rejection::{BytesRejection, FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use domania_app::ErrorCode;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, GeoError};
use crate::state::Shared;

fn query_error(e: &QueryRejection) -> ApiError {
    ApiError::new(ErrorCode::BadParameter, e.body_text())
}

fn path_error(e: &PathRejection) -> ApiError {
    ApiError::new(ErrorCode::BadParameter, format!("the path: {}", e.body_text()))
}

/// The error of a body axum could not take: too large, of another media type, or not what the
/// route reads.
fn body_error(status: StatusCode, text: String) -> ApiError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            ErrorCode::UploadTooLarge,
            format!("{text}: the request is larger than this route takes, nothing was changed"),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(ErrorCode::UnsupportedMediaType, text),
        _ => ApiError::new(ErrorCode::BadBody, text),
    }
}

fn json_error(e: &JsonRejection) -> ApiError {
    if stalled(e) {
        return stalled_error();
    }
    body_error(e.status(), e.body_text())
}

fn form_error(e: &FormRejection) -> ApiError {
    if stalled(e) {
        return stalled_error();
    }
    if e.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        return ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "a form-encoded body (Content-Type: application/x-www-form-urlencoded) is expected",
        );
    }
    body_error(e.status(), e.body_text())
}

fn bytes_error(e: &BytesRejection) -> ApiError {
    if stalled(e) {
        return stalled_error();
    }
    body_error(e.status(), e.body_text())
}

/// Whether reading a body failed because it paused longer than the server waits.
fn stalled(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(s) = source {
        if s.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        source = s.source();
    }
    false
}

fn stalled_error() -> ApiError {
    ApiError::said(ErrorCode::Timeout, "error-body-paused", vec![])
}

/// The error of a body that could not be read to its end (a pause past the body timeout, a
/// client that went away).
#[must_use]
pub fn body_read_error(e: &axum::Error) -> ApiError {
    if stalled(e) {
        return stalled_error();
    }
    ApiError::new(ErrorCode::BadBody, format!("the request's body could not be read to its end: {e}"))
}

/// Generates an extractor wrapping axum's `$inner`, answering its rejections as `$err`.
macro_rules! from_parts {
    ($name:ident, $inner:path, $err:ty, $map:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug)]
        pub struct $name<T>(pub T);

        impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for $name<T> {
            type Rejection = $err;
            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
                match <$inner>::from_request_parts(parts, state).await {
                    Ok(v) => Ok($name(v.0)),
                    Err(e) => Err(<$err>::from($map(&e))),
                }
            }
        }
    };
}

macro_rules! from_body {
    ($name:ident, $inner:path, $err:ty, $map:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug)]
        pub struct $name<T>(pub T);

        impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequest<S> for $name<T> {
            type Rejection = $err;
            async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
                match <$inner>::from_request(req, state).await {
                    Ok(v) => Ok($name(v.0)),
                    Err(e) => Err(<$err>::from($map(&e))),
                }
            }
        }
    };
}

from_parts!(Query, axum::extract::Query<T>, ApiError, query_error, "The query string, or a `bad_parameter` error.");
from_parts!(Path, axum::extract::Path<T>, ApiError, path_error, "The path's parameters, or a `bad_parameter` error.");
from_body!(Json, axum::Json<T>, ApiError, json_error, "A JSON body, or a `bad_body`/415/413 error.");
from_parts!(
    GeoQuery,
    axum::extract::Query<T>,
    GeoError,
    query_error,
    "The query string of an Open311 route, or GeoReport's error list."
);
from_parts!(
    GeoPath,
    axum::extract::Path<T>,
    GeoError,
    path_error,
    "The path's parameters of an Open311 route, or GeoReport's error list."
);
from_body!(
    GeoForm,
    axum::Form<T>,
    GeoError,
    form_error,
    "A form-encoded body of an Open311 route, or GeoReport's error list."
);

/// The raw body, or a 413 `upload_too_large` error.
#[derive(Debug)]
pub struct Body(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::body::Bytes::from_request(req, state).await.map(Body).map_err(|e| bytes_error(&e))
    }
}

/// A JSON body read as `T`, or an error of `code` (a route's own: `bad_scenario`,
/// `bad_token`…) saying what is wrong with it.
pub fn parse_json<T: DeserializeOwned>(body: &[u8], code: ErrorCode) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::new(code, format!("the JSON body: {e}")))
}

/// The server's base URL as the client reached it (see [`crate::public_url::PublicUrl`]).
#[derive(Debug, Clone)]
pub struct Base(pub String);

impl FromRequestParts<std::sync::Arc<Shared>> for Base {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &std::sync::Arc<Shared>) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(Base(state.public_url.base(&parts.headers, peer)))
    }
}

/// The client's address as the server believes it (a trusted proxy's `Forwarded: for=`).
#[derive(Debug, Clone, Copy)]
pub struct Client(pub Option<std::net::IpAddr>);

impl FromRequestParts<std::sync::Arc<Shared>> for Client {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &std::sync::Arc<Shared>) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(Client(state.public_url.client(&parts.headers, peer)))
    }
}

/// The language of the answer: the request's `Accept-Language`, French when it names neither
/// French nor English (the stable `code` of an error never changes with it).
#[derive(Debug, Clone, Copy)]
pub struct Language(pub domania_app::i18n::Lang);

impl<S: Send + Sync> FromRequestParts<S> for Language {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        Ok(Language(domania_app::i18n::Lang::from_accept_language(header)))
    }
}

/// The form of an Open311 post: form-encoded, or `multipart/form-data` with the photo in its
/// `media` part (GeoReport's `media`, as phones' apps send it); or GeoReport's error list.
#[derive(Debug)]
pub struct GeoPost(pub domania_app::requests::open311::PostForm);

fn multipart_error(e: &axum::extract::multipart::MultipartError) -> ApiError {
    if stalled(e) {
        return stalled_error();
    }
    body_error(e.status(), e.body_text())
}

impl<S: Send + Sync> FromRequest<S> for GeoPost {
    type Rejection = GeoError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let multipart = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
        if !multipart {
            // Only a multipart form carries a photo: a form-encoded one keeps the bound of
            // every other body.
            let (parts, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, crate::MAX_BODY_BYTES).await.map_err(|e| {
                GeoError::from(if stalled(&e) {
                    stalled_error()
                } else {
                    body_error(StatusCode::PAYLOAD_TOO_LARGE, "application/x-www-form-urlencoded".to_owned())
                })
            })?;
            let req = Request::from_parts(parts, axum::body::Body::from(bytes));
            let GeoForm(pairs) = GeoForm::<Vec<(String, String)>>::from_request(req, state).await?;
            return Ok(GeoPost(domania_app::requests::open311::PostForm::of(pairs)));
        }
        let mut parts = axum::extract::Multipart::from_request(req, state)
            .await
            .map_err(|e| GeoError::from(body_error(e.status(), e.body_text())))?;
        let (mut pairs, mut media) = (Vec::new(), None);
        while let Some(field) = parts.next_field().await.map_err(|e| GeoError::from(multipart_error(&e)))? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "media" {
                let file = field.file_name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(|e| GeoError::from(multipart_error(&e)))?;
                if media.replace((file, bytes.to_vec())).is_some() {
                    return Err(ApiError::said(ErrorCode::BadBody, "error-photo-one", vec![]).into());
                }
            } else {
                pairs.push((name, field.text().await.map_err(|e| GeoError::from(multipart_error(&e)))?));
            }
        }
        let mut form = domania_app::requests::open311::PostForm::of(pairs);
        form.media = media;
        Ok(GeoPost(form))
    }
}

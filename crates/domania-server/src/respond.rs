//! Answers derived from a snapshot: JSON, GeoJSON or CSV, tagged with the snapshot's `ETag` so
//! that a client asking again with `If-None-Match` gets `304 Not Modified` until an update.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::state::Served;

/// What a client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    GeoJson,
    Csv,
    Html,
}

impl Format {
    /// `?f=` first (`json`, `csv`, `geojson`, `html`), then the `Accept` header. `csv` only
    /// where a table is the natural answer.
    pub fn negotiate(headers: &HeaderMap, f: Option<&str>, csv_ok: bool) -> ApiResult<Self> {
        let chosen = match f {
            Some("json") => Format::Json,
            Some("csv") if csv_ok => Format::Csv,
            Some(other) => {
                return Err(ApiError::bad_request(
                    "bad_format",
                    format!("f={other}: this answer is json{}", if csv_ok { " or csv" } else { "" }),
                ));
            }
            None => {
                let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
                if csv_ok && accept.contains("text/csv") { Format::Csv } else { Format::Json }
            }
        };
        Ok(chosen)
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::GeoJson => "application/geo+json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
        }
    }
}

/// Whether the client already holds this snapshot's answer (`If-None-Match` compares weakly:
/// `W/"…"` matches `"…"`).
fn fresh(headers: &HeaderMap, served: &Served) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == served.etag))
}

/// A body already written, with the snapshot's tag.
#[must_use]
pub fn tagged(headers: &HeaderMap, served: &Served, format: Format, body: Vec<u8>) -> Response {
    let etag = HeaderValue::from_str(&served.etag).unwrap_or_else(|_| HeaderValue::from_static("\"\""));
    if fresh(headers, served) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    // One tag for the JSON and the CSV of an answer: caches must tell them apart by `Accept`.
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(format.content_type())),
            (header::ETAG, etag),
            (header::VARY, HeaderValue::from_static("Accept, Accept-Encoding")),
        ],
        body,
    )
        .into_response()
}

/// A value serialised as JSON (or GeoJSON), with the snapshot's tag.
pub fn snapshot_answer<T: Serialize>(headers: &HeaderMap, served: &Served, format: Format, value: &T) -> Response {
    if fresh(headers, served) {
        return tagged(headers, served, format, Vec::new());
    }
    match serde_json::to_vec(value) {
        Ok(body) => tagged(headers, served, format, body),
        Err(e) => ApiError::internal(format!("writing JSON: {e}")).into_response(),
    }
}

/// Rows as CSV, with the snapshot's tag.
pub fn csv_answer<T: domania_app::table::Row>(headers: &HeaderMap, served: &Served, rows: &[T]) -> ApiResult<Response> {
    let text = domania_app::table::rows_csv(rows, b',')?;
    Ok(tagged(headers, served, Format::Csv, text.into_bytes()))
}

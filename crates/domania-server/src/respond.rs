//! Answers derived from a snapshot: JSON, GeoJSON, CSV or HTML, tagged with the snapshot's
//! `ETag` so that a client asking again with `If-None-Match` gets `304 Not Modified` until an
//! update; and gzip for the bodies encoded once (tiles, the viewer's files).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domania_app::ErrorCode;
use domania_app::held::Held;
use serde::Serialize;

use crate::error::{ApiError, ApiResult};

/// What a client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    GeoJson,
    Csv,
    Html,
}

impl Format {
    /// `?f=` first (`json`, `csv`, and `geojson` where `geojson_ok`), then the `Accept` header.
    /// `csv` only where a table is the natural answer.
    pub fn negotiate(headers: &HeaderMap, f: Option<&str>, csv_ok: bool, geojson_ok: bool) -> ApiResult<Self> {
        let chosen = match f {
            Some("json") => Format::Json,
            Some("csv") if csv_ok => Format::Csv,
            Some("geojson") if geojson_ok => Format::GeoJson,
            Some(other) => {
                let mut offered = vec!["json"];
                if csv_ok {
                    offered.push("csv");
                }
                if geojson_ok {
                    offered.push("geojson");
                }
                return Err(ApiError::new(
                    ErrorCode::BadFormat,
                    format!("f={other}: this answer is {}", offered.join(" or ")),
                ));
            }
            None => {
                let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
                if csv_ok && accept.contains("text/csv") { Format::Csv } else { Format::Json }
            }
        };
        Ok(chosen)
    }

    #[must_use]
    pub fn content_type(self) -> &'static str {
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
fn fresh(headers: &HeaderMap, held: &Held) -> bool {
    fresh_as(headers, &held.etag)
}

/// Whether the client's copy (`If-None-Match`) is the one tagged `etag`.
fn fresh_as(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == etag))
}

/// A body already written, with the snapshot's tag.
#[must_use]
pub fn tagged(headers: &HeaderMap, held: &Held, format: Format, body: Vec<u8>) -> Response {
    tagged_as(headers, &held.etag, format, body)
}

/// A body already written, with the tag `etag` (quoted).
#[must_use]
pub fn tagged_as(headers: &HeaderMap, etag: &str, format: Format, body: Vec<u8>) -> Response {
    let fresh = fresh_as(headers, etag);
    let etag = HeaderValue::from_str(etag).unwrap_or_else(|_| HeaderValue::from_static("\"\""));
    if fresh {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    // One tag for the JSON and the CSV of an answer, in French and in English: caches must
    // tell them apart by `Accept` and `Accept-Language`.
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(format.content_type())),
            (header::ETAG, etag),
            (header::VARY, HeaderValue::from_static("Accept, Accept-Encoding, Accept-Language")),
        ],
        body,
    )
        .into_response()
}

/// A value serialised as JSON (or GeoJSON), with the snapshot's tag.
pub fn snapshot_answer<T: Serialize>(headers: &HeaderMap, held: &Held, format: Format, value: &T) -> Response {
    if fresh(headers, held) {
        return tagged(headers, held, format, Vec::new());
    }
    match serde_json::to_vec(value) {
        Ok(body) => tagged(headers, held, format, body),
        Err(e) => ApiError::internal(format!("writing JSON: {e}")).into_response(),
    }
}

/// Rows as CSV, with the snapshot's tag.
pub fn csv_answer<T: domania_app::table::Row>(headers: &HeaderMap, held: &Held, rows: &[T]) -> ApiResult<Response> {
    let text = domania_app::table::rows_csv(rows, b',')?;
    Ok(tagged(headers, held, Format::Csv, text.into_bytes()))
}

/// A value as JSON, untagged (answers that do not come from the snapshot).
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    (status, axum::Json(value)).into_response()
}

/// Gzip, at the fastest level (tiles are small and many; most of the gain is in the first level).
pub fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut z = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 2), flate2::Compression::fast());
    z.write_all(bytes)?;
    z.finish()
}

/// Whether the client takes gzip (`Accept-Encoding: gzip`, not refused with `q=0`).
#[must_use]
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |c| {
            let mut parts = c.split(';').map(str::trim);
            parts.next().is_some_and(|n| n.eq_ignore_ascii_case("gzip") || n == "*")
                && !parts.any(|p| p.replace(' ', "").eq_ignore_ascii_case("q=0"))
        },
    )
}

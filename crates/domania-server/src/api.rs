//! The `/v1` answers: who is responsible at a point, parcels, sub-sectors, QPV, owners,
//! scenarios and the version served. Each handler extracts, calls the application on the held
//! snapshot, and presents.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use domania_app::budget::Budget;
use domania_app::files::ScenarioFile;
use domania_app::parcels::{ParcelFilter, ParcelSearch};
use domania_app::point::{Page, bbox_l93, locate};
use domania_app::{Actor, Crs, Date, ErrorCode, Layer};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Language, Path, Query, parse_json};
use crate::respond::{Format, csv_answer, json, snapshot_answer};
use crate::state::{Shared, blocking};

/// A point given as `lon`/`lat` (WGS84) or `x`/`y` (Lambert-93), and one intervention kind.
#[derive(Debug, Deserialize)]
pub struct PointQuery {
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub x: Option<f64>,
    pub y: Option<f64>,
    /// Keep one intervention kind.
    pub kind: Option<String>,
}

pub async fn who(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Language(lang): Language,
    Query(q): Query<PointQuery>,
) -> ApiResult<Response> {
    let at = locate(q.lon, q.lat, q.x, q.y)?;
    let held = shared.current();
    let answer = held.who(at, q.kind.as_deref(), lang)?;
    Ok(snapshot_answer(&headers, &held, Format::Json, &answer))
}

pub async fn parcel(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(idu): Path<String>,
) -> ApiResult<Response> {
    let held = shared.current();
    let view = held.parcel(&idu)?;
    Ok(snapshot_answer(&headers, &held, Format::Json, &view))
}

/// Parameters of the parcel search.
#[derive(Debug, Deserialize)]
pub struct ParcelQuery {
    /// Part of an owner's name, ignoring case and accents.
    pub owner: Option<String>,
    pub siren: Option<String>,
    pub actor: Option<Actor>,
    /// Section code (`AB`), or commune + section (`75118AB`).
    pub section: Option<String>,
    /// `minlon,minlat,maxlon,maxlat` (WGS84).
    pub bbox: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    pub f: Option<String>,
}

pub async fn parcels(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<ParcelQuery>,
) -> ApiResult<Response> {
    let format = Format::negotiate(&headers, q.f.as_deref(), true, false)?;
    let search = ParcelSearch {
        filter: ParcelFilter {
            owner: q.owner,
            siren: q.siren,
            actor: q.actor,
            section: q.section,
            bbox_l93: q.bbox.as_deref().map(|b| bbox_l93(b, &Crs::wgs84())).transpose()?,
        },
        page: Page::checked(q.limit, q.offset, 100)?,
    };
    let held = shared.current();
    blocking(move || {
        let page = held.parcels(&search)?;
        if format == Format::Csv {
            return csv_answer(&headers, &held, &page.rows());
        }
        Ok(snapshot_answer(&headers, &held, format, &page))
    })
    .await?
}

/// `?f=json|csv` (and `geojson` for a QPV report).
#[derive(Debug, Deserialize)]
pub struct FormatQuery {
    pub f: Option<String>,
}

pub async fn subsector(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Language(lang): Language,
    Path(id): Path<String>,
    Query(q): Query<FormatQuery>,
) -> ApiResult<Response> {
    let format = Format::negotiate(&headers, q.f.as_deref(), true, false)?;
    let held = shared.current();
    if format == Format::Csv {
        return csv_answer(&headers, &held, &held.subsector_rows(&id, lang)?);
    }
    Ok(snapshot_answer(&headers, &held, Format::Json, &held.subsector_detail(&id, lang)?))
}

pub async fn qpv_report(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<FormatQuery>,
) -> ApiResult<Response> {
    let format = Format::negotiate(&headers, q.f.as_deref(), true, true)?;
    let held = shared.current();
    blocking(move || {
        let report = held.qpv_report(&code)?;
        match format {
            Format::GeoJson => Ok(snapshot_answer(&headers, &held, Format::GeoJson, &report.geojson())),
            Format::Csv => csv_answer(&headers, &held, &report.rows()),
            Format::Json | Format::Html => Ok(snapshot_answer(&headers, &held, Format::Json, &report.summary())),
        }
    })
    .await?
}

pub async fn owner(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(siren): Path<String>,
) -> ApiResult<Response> {
    let held = shared.current();
    blocking(move || {
        let land = held.owner(&siren)?;
        Ok(snapshot_answer(&headers, &held, Format::Json, &land))
    })
    .await?
}

/// `POST /v1/scenarios`: a scenario as JSON (`{"name", "transfers": [...]}`, the content of a
/// `domania scenario` file), simulated on the snapshot served.
/// How long a heavy request waits for a free core before it is told to try again.
const HEAVY_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

pub async fn scenario(
    State(shared): State<Arc<Shared>>,
    Language(lang): Language,
    Body(body): Body,
) -> ApiResult<Response> {
    let req: ScenarioFile = parse_json(&body, ErrorCode::BadScenario)?;
    // One per core at once; the work stops at the time limit, or as soon as this request is
    // dropped (the client went away): the guard cancels it.
    let _permit = tokio::time::timeout(HEAVY_WAIT, Arc::clone(&shared.heavy).acquire_owned())
        .await
        .map_err(|_| ApiError::said(ErrorCode::Busy, "error-scenarios-busy", vec![]))?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let budget = Budget::within(shared.work_limit);
    let _cancel = budget.cancel_on_drop();
    let held = shared.current();
    let outcome = blocking(move || held.scenario(&req, &budget, lang)).await??;
    Ok(json(axum::http::StatusCode::OK, &outcome))
}

/// The store's layer versions behind the current snapshot.
#[derive(Debug, Serialize)]
pub struct VersionView<'a> {
    pub domania: &'static str,
    pub snapshot: &'a str,
    pub layers: &'a BTreeMap<Layer, Option<i64>>,
    pub parcels: usize,
    pub judged_on: Date,
    pub rules: &'a str,
    pub build_ms: f64,
}

pub async fn version(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let held = shared.current();
    let body = VersionView {
        domania: env!("CARGO_PKG_VERSION"),
        snapshot: &held.etag,
        layers: held.versions(),
        parcels: held.snapshot.parcels().len(),
        judged_on: held.date,
        rules: held.rules.public_name(),
        build_ms: held.build_ms,
    };
    snapshot_answer(&headers, &held, Format::Json, &body)
}

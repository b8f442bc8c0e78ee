//! The `/v1` answers: who is responsible at a point, parcels, sub-sectors, QPV, owners,
//! scenarios, the store's layers and versions.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use domania_core::crs::Crs;
use domania_core::shares::Holding;
use domania_core::{Actor, Layer};
use domania_rules::{Assignment, SpaceKind};
use geo::Area;
use geo_types::Point;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::respond::{Format, snapshot_answer};
use crate::state::{Served, Shared};

/// Where Lambert-93 is defined (EPSG:2154's area of use, WGS84 degrees): metropolitan France
/// and Corsica. A point outside it is not one the store can hold.
pub const FRANCE_LON_LAT: (f64, f64, f64, f64) = (-9.86, 41.15, 10.38, 51.56);

/// A query string that does not parse (a number that is not one, an unknown actor): 400.
#[allow(clippy::needless_pass_by_value)]
#[must_use]
pub fn bad_query(e: QueryRejection) -> ApiError {
    ApiError::bad_request("bad_parameter", e.body_text())
}

/// A point given as `lon`/`lat` (WGS84) or `x`/`y` (Lambert-93).
#[derive(Debug, Deserialize)]
pub struct PointQuery {
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub x: Option<f64>,
    pub y: Option<f64>,
    /// Keep one intervention kind.
    pub kind: Option<String>,
}

/// The point in both systems, checked to be in metropolitan France.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Located {
    pub lon: f64,
    pub lat: f64,
    pub x: f64,
    pub y: f64,
}

#[allow(clippy::many_single_char_names)]
pub fn locate(q: &PointQuery) -> ApiResult<Located> {
    let (l93, wgs) = (Crs::lambert93(), Crs::wgs84());
    let (lon, lat, x, y) = match (q.lon, q.lat, q.x, q.y) {
        (Some(lon), Some(lat), None, None) => {
            if !(lon.is_finite() && lat.is_finite()) {
                return Err(ApiError::bad_request("bad_point", "lon and lat must be numbers"));
            }
            let (x, y) = wgs.transform_to(&l93, lon, lat);
            (lon, lat, x, y)
        }
        (None, None, Some(x), Some(y)) => {
            if !(x.is_finite() && y.is_finite()) {
                return Err(ApiError::bad_request("bad_point", "x and y must be numbers"));
            }
            let (lon, lat) = l93.transform_to(&wgs, x, y);
            (lon, lat, x, y)
        }
        _ => {
            return Err(ApiError::bad_request(
                "bad_point",
                "give either lon and lat (WGS84 degrees) or x and y (Lambert-93 metres), not both",
            ));
        }
    };
    let (w, s, e, n) = FRANCE_LON_LAT;
    if !(w..=e).contains(&lon) || !(s..=n).contains(&lat) {
        return Err(ApiError::bad_request(
            "outside_france",
            format!("the point ({lon:.6}, {lat:.6}) is outside metropolitan France, where Lambert-93 is defined"),
        ));
    }
    Ok(Located { lon, lat, x, y })
}

/// An owner as the answers show it.
#[derive(Debug, Serialize)]
pub struct OwnerView<'a> {
    pub siren: &'a str,
    pub name: &'a str,
    pub actor: Actor,
}

/// A parcel as the answers show it.
#[derive(Debug, Serialize)]
pub struct ParcelView<'a> {
    pub idu: &'a str,
    pub contenance_m2: Option<i64>,
    pub area_m2: f64,
    /// The actor its land counts under.
    pub actor: Actor,
    /// Whether an owner file covers its commune (without one, the owner is unknown).
    pub owner_file: bool,
    /// Owners that are legal persons (right P); none with an owner file means natural persons.
    pub owners: Vec<OwnerView<'a>>,
}

fn parcel_view(served: &Served, i: usize) -> ParcelView<'_> {
    let p = &served.snapshot.parcels()[i];
    let h: &Holding = &served.snapshot.holdings()[i];
    ParcelView {
        idu: &p.idu,
        contenance_m2: p.contenance,
        area_m2: (p.geom_l93.unsigned_area() * 100.0).round() / 100.0,
        actor: h.actor(),
        owner_file: h.covered,
        owners: h.owners.iter().map(|o| OwnerView { siren: &o.siren, name: &o.name, actor: o.actor }).collect(),
    }
}

/// A sub-sector's shares and decision.
#[derive(Debug, Serialize)]
pub struct SubsectorView<'a> {
    pub id: &'a str,
    pub name: Option<&'a str>,
    pub area_m2: f64,
    pub cadastre_m2: f64,
    pub non_cadastre_m2: f64,
    pub shares: std::collections::BTreeMap<Actor, f64>,
    /// Each actor's land, m² (the shares' numerators).
    pub areas_m2: std::collections::BTreeMap<Actor, f64>,
    /// `delegated`, `domanialite` or `undecided`.
    pub decision: &'static str,
    /// The actor managing the whole sub-sector when the management is delegated.
    pub delegated_to: Option<Actor>,
    pub needs_convention: bool,
    pub explanation: &'a str,
}

fn subsector_view(served: &Served, pos: usize) -> SubsectorView<'_> {
    let z = &served.shares.zones[pos];
    let d = &served.assign.decisions[pos];
    let (decision, delegated_to) = d.decision.kind();
    SubsectorView {
        id: &z.key,
        name: z.name.as_deref(),
        area_m2: z.shares.area_m2,
        cadastre_m2: z.shares.cadastre_m2,
        non_cadastre_m2: z.shares.non_cadastre_m2,
        shares: z.shares.by_actor.iter().map(|(a, s)| (*a, s.share)).collect(),
        areas_m2: z.shares.by_actor.iter().map(|(a, s)| (*a, (s.area_m2 * 100.0).round() / 100.0)).collect(),
        decision,
        delegated_to,
        needs_convention: d.needs_convention,
        explanation: &d.explanation,
    }
}

/// A manager of one intervention kind, with the rule that decided and why.
#[derive(Debug, Serialize)]
pub struct ManagerView<'a> {
    pub intervention: &'a str,
    pub service: Option<&'a domania_rules::Service>,
    pub actor: Actor,
    pub rule: domania_rules::RuleKind,
    pub explanation: &'a str,
}

fn managers<'a>(assignments: &'a [Assignment], kind: Option<&str>) -> Vec<ManagerView<'a>> {
    assignments
        .iter()
        .filter(|a| kind.is_none_or(|k| a.intervention == k))
        .map(|a| ManagerView {
            intervention: &a.intervention,
            service: a.service.as_ref(),
            actor: a.actor,
            rule: a.rule,
            explanation: &a.explanation,
        })
        .collect()
}

/// A QPV at a point.
#[derive(Debug, Serialize)]
pub struct ZoneRef<'a> {
    pub code: &'a str,
    pub name: Option<&'a str>,
}

/// The answer of `/v1/who`.
#[derive(Debug, Serialize)]
pub struct Who<'a> {
    pub point: Located,
    /// The space at the point: a parcel (`kind: parcel`, its IDU) or the non-cadastré space
    /// of its sub-sector (`kind: non_cadastre`); none outside every parcel and sub-sector.
    pub space: Option<&'a SpaceKind>,
    /// The parcels at the point (several only where parcels overlap).
    pub parcels: Vec<ParcelView<'a>>,
    pub subsector: Option<SubsectorView<'a>>,
    /// Other sub-sectors holding the point where sub-sectors overlap (an import warns of it):
    /// the answer is the first by key, as the land figures count the overlap.
    pub overlapping_subsectors: Vec<&'a str>,
    pub qpv: Vec<ZoneRef<'a>>,
    /// Per intervention kind: the service, its contact, the rule and the explanation. Empty
    /// outside every sub-sector: no rule assigns a manager there (said in `note`).
    pub managers: Vec<ManagerView<'a>>,
    pub note: Option<&'static str>,
    pub judged_on: domania_app::Date,
}

pub async fn who(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    q: Result<Query<PointQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q.map_err(bad_query)?;
    let at = locate(&q)?;
    let served = shared.current();
    if let Some(k) = &q.kind
        && !served.rules.rules.config().interventions.iter().any(|i| &i.id == k)
    {
        let kinds: Vec<&str> = served.rules.rules.config().interventions.iter().map(|i| i.id.as_str()).collect();
        return Err(ApiError::bad_request(
            "unknown_kind",
            format!("unknown intervention kind {k:?} (kinds: {})", kinds.join(", ")),
        ));
    }
    let point = Point::new(at.x, at.y);
    let snap = &served.snapshot;
    let parcels = snap.parcels_at(point);
    let mut here = snap.zones_at(Layer::Subsectors, point);
    here.sort_by(|a, b| a.key.cmp(&b.key));
    let subsector = here.first().copied();
    let overlapping_subsectors: Vec<&str> = here.iter().skip(1).map(|z| z.key.as_str()).collect();
    let qpv = snap.zones_at(Layer::Qpv, point).into_iter().map(|z| ZoneRef { code: &z.key, name: z.name.as_deref() });
    let (space, managers_here, note) = match subsector {
        Some(z) => {
            let id = parcels.first().map_or("non_cadastre", |&i| snap.parcels()[i].idu.as_str());
            match served.space(&z.key, id) {
                Some(s) => {
                    let s = &served.assign.spaces[s];
                    (Some(&s.space), managers(&s.assignments, q.kind.as_deref()), None)
                }
                None => (
                    None,
                    Vec::new(),
                    Some("no space here: a sliver below the tolerance, or a sub-sector whose parcels cover it all"),
                ),
            }
        }
        None => (None, Vec::new(), Some("outside every sub-sector: no management rule applies here")),
    };
    let body = Who {
        point: at,
        space,
        parcels: parcels.iter().map(|&i| parcel_view(&served, i)).collect(),
        subsector: subsector.and_then(|z| served.subsector(&z.key)).map(|p| subsector_view(&served, p)),
        overlapping_subsectors,
        qpv: qpv.collect(),
        managers: managers_here,
        note,
        judged_on: served.date,
    };
    Ok(snapshot_answer(&headers, &served, Format::Json, &body))
}

pub async fn parcel(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(idu): Path<String>,
) -> ApiResult<Response> {
    let served = shared.current();
    let idu = domania_core::Idu::normalise(&idu)
        .map_err(|e| ApiError::bad_request("bad_idu", format!("{idu:?} is not an IDU: {e}")))?;
    let pos = served
        .snapshot
        .position(idu.as_str())
        .ok_or_else(|| ApiError::not_found(format!("no parcel {idu} in the store")))?;
    Ok(snapshot_answer(&headers, &served, Format::Json, &parcel_view(&served, pos)))
}

/// Parameters of the parcel search.
#[derive(Debug, Deserialize)]
pub struct ParcelSearch {
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

/// The largest page of a search.
pub const MAX_LIMIT: i64 = 10_000;

/// `limit` and `offset`, checked.
pub fn page(limit: Option<i64>, offset: Option<i64>, default: i64) -> ApiResult<(usize, usize)> {
    let limit = limit.unwrap_or(default);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request("bad_limit", format!("limit must be between 1 and {MAX_LIMIT}")));
    }
    let offset = offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::bad_request("bad_offset", "offset must be 0 or more"));
    }
    Ok((limit as usize, offset as usize))
}

/// A `bbox` parameter in `crs` (4 numbers), as a Lambert-93 rectangle.
pub fn bbox_l93(text: &str, crs: &Crs) -> ApiResult<geo_types::Rect<f64>> {
    let nums: Vec<f64> = text.split(',').map(|s| s.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| {
        ApiError::bad_request("bad_bbox", format!("bbox {text:?}: expected four numbers minx,miny,maxx,maxy"))
    })?;
    let [x0, y0, x1, y1] = nums[..] else {
        return Err(ApiError::bad_request("bad_bbox", format!("bbox {text:?}: expected four numbers")));
    };
    if !(x0 <= x1 && y0 <= y1) || nums.iter().any(|v| !v.is_finite()) {
        return Err(ApiError::bad_request("bad_bbox", format!("bbox {text:?}: min must not exceed max")));
    }
    let l93 = Crs::lambert93();
    if crs.is_geographic() && (x0 < -180.0 || x1 > 180.0 || y0 < -90.0 || y1 > 90.0) {
        return Err(ApiError::bad_request("bad_bbox", format!("bbox {text:?}: not longitudes and latitudes")));
    }
    // The box's corners and edge midpoints, projected: a projected box is not a box.
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for (x, y) in [(x0, y0), (x1, y0), (x0, y1), (x1, y1), (f64::midpoint(x0, x1), y0), (f64::midpoint(x0, x1), y1)] {
        let (px, py) = crs.transform_to(&l93, x, y);
        xs.push(px);
        ys.push(py);
    }
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Ok(geo_types::Rect::new((min(&xs), min(&ys)), (max(&xs), max(&ys))))
}

/// A page of the parcel search.
#[derive(Debug, Serialize)]
pub struct ParcelPage<'a> {
    pub matched: usize,
    pub offset: usize,
    pub limit: usize,
    pub parcels: Vec<ParcelView<'a>>,
}

/// One row of the parcel search as CSV.
#[derive(Debug, Serialize)]
struct ParcelRow<'a> {
    idu: &'a str,
    contenance_m2: Option<i64>,
    area_m2: f64,
    actor: Actor,
    owner_file: bool,
    owners: String,
}

impl domania_app::table::Row for ParcelRow<'_> {
    const HEADER: &'static [&'static str] = &["idu", "contenance_m2", "area_m2", "actor", "owner_file", "owners"];
}

/// Runs a scan of the snapshot on a blocking thread: the async workers keep answering.
async fn scan(
    served: Arc<Served>,
    f: impl FnOnce(&Served) -> ApiResult<Response> + Send + 'static,
) -> ApiResult<Response> {
    tokio::task::spawn_blocking(move || f(&served)).await.map_err(|e| ApiError::internal(e.to_string()))?
}

pub async fn parcels(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    q: Result<Query<ParcelSearch>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q.map_err(bad_query)?;
    scan(shared.current(), move |served| parcel_search(served, &headers, &q)).await
}

fn parcel_search(served: &Served, headers: &HeaderMap, q: &ParcelSearch) -> ApiResult<Response> {
    let (limit, offset) = page(q.limit, q.offset, 100)?;
    let format = Format::negotiate(headers, q.f.as_deref(), true)?;
    if let Some(s) = q.section.as_deref()
        && !domania_app::search::section_is_valid(s)
    {
        return Err(ApiError::bad_request(
            "bad_section",
            format!("section {s:?}: AB, or commune and section (75118AB)"),
        ));
    }
    let filter = domania_app::search::ParcelFilter {
        owner: q.owner.clone(),
        siren: q.siren.clone(),
        actor: q.actor,
        section: q.section.clone(),
        bbox_l93: q.bbox.as_deref().map(|b| bbox_l93(b, &Crs::wgs84())).transpose()?,
    };
    let hits = domania_app::search::search_parcels(&served.snapshot, &filter);
    let matched = hits.len();
    let views: Vec<ParcelView<'_>> =
        hits.into_iter().skip(offset).take(limit).map(|i| parcel_view(served, i)).collect();
    if format == Format::Csv {
        let rows: Vec<ParcelRow<'_>> = views
            .iter()
            .map(|v| ParcelRow {
                idu: v.idu,
                contenance_m2: v.contenance_m2,
                area_m2: v.area_m2,
                actor: v.actor,
                owner_file: v.owner_file,
                owners: v.owners.iter().map(|o| format!("{} {}", o.siren, o.name)).collect::<Vec<_>>().join(" | "),
            })
            .collect();
        return crate::respond::csv_answer(headers, served, &rows);
    }
    Ok(snapshot_answer(headers, served, format, &ParcelPage { matched, offset, limit, parcels: views }))
}

/// A sub-sector with its spaces and their managers.
#[derive(Debug, Serialize)]
pub struct SubsectorDetail<'a> {
    #[serde(flatten)]
    pub subsector: SubsectorView<'a>,
    pub by_owner: &'a [domania_core::shares::OwnerShare],
    pub spaces: Vec<SpaceView<'a>>,
}

#[derive(Debug, Serialize)]
pub struct SpaceView<'a> {
    pub space: &'a SpaceKind,
    pub area_m2: f64,
    pub managers: Vec<ManagerView<'a>>,
}

/// `?f=json|csv` (and `geojson` for a QPV report).
#[derive(Debug, Deserialize)]
pub struct FormatQuery {
    pub f: Option<String>,
}

/// One row of a sub-sector as CSV: a space and one intervention kind.
#[derive(Debug, Serialize)]
struct SpaceRow<'a> {
    subsector: &'a str,
    space: &'a str,
    owner_actor: Option<Actor>,
    area_m2: f64,
    intervention: &'a str,
    service: Option<&'a str>,
    phone: Option<&'a str>,
    email: Option<&'a str>,
    actor: Actor,
    rule: domania_rules::RuleKind,
    explanation: &'a str,
}

impl domania_app::table::Row for SpaceRow<'_> {
    const HEADER: &'static [&'static str] = &[
        "subsector",
        "space",
        "owner_actor",
        "area_m2",
        "intervention",
        "service",
        "phone",
        "email",
        "actor",
        "rule",
        "explanation",
    ];
}

pub async fn subsector(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    q: Result<Query<FormatQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q.map_err(bad_query)?;
    let format = Format::negotiate(&headers, q.f.as_deref(), true)?;
    let served = shared.current();
    let pos = served.subsector(&id).ok_or_else(|| ApiError::not_found(format!("no sub-sector {id:?}")))?;
    if format == Format::Csv {
        let mut rows = Vec::new();
        for s in served.assign.spaces.iter().filter(|s| s.subsector == id) {
            let owner_actor = match &s.space {
                SpaceKind::Parcel { actor, .. } => Some(*actor),
                SpaceKind::NonCadastre => None,
            };
            for a in &s.assignments {
                let service = a.service.as_ref();
                rows.push(SpaceRow {
                    subsector: &s.subsector,
                    space: domania_engine::space_id(&s.space),
                    owner_actor,
                    area_m2: (s.area_m2 * 100.0).round() / 100.0,
                    intervention: &a.intervention,
                    service: service.map(|s| s.name.as_str()),
                    phone: service.and_then(|s| s.phone.as_deref()),
                    email: service.and_then(|s| s.email.as_deref()),
                    actor: a.actor,
                    rule: a.rule,
                    explanation: &a.explanation,
                });
            }
        }
        return crate::respond::csv_answer(&headers, &served, &rows);
    }
    let spaces = served
        .assign
        .spaces
        .iter()
        .filter(|s| s.subsector == id)
        .map(|s| SpaceView { space: &s.space, area_m2: s.area_m2, managers: managers(&s.assignments, None) })
        .collect();
    let body = SubsectorDetail {
        subsector: subsector_view(&served, pos),
        by_owner: &served.shares.zones[pos].shares.by_owner,
        spaces,
    };
    Ok(snapshot_answer(&headers, &served, Format::Json, &body))
}

/// One row of a QPV report as CSV: an owner's land (natural persons and unknown owners
/// included, as the shares count them).
#[derive(Debug, Serialize)]
struct QpvOwnerRow<'a> {
    qpv: &'a str,
    actor: Actor,
    owner_actor: Actor,
    siren: &'a str,
    name: &'a str,
    parcels: usize,
    area_m2: f64,
}

impl domania_app::table::Row for QpvOwnerRow<'_> {
    const HEADER: &'static [&'static str] = &["qpv", "actor", "owner_actor", "siren", "name", "parcels", "area_m2"];
}

pub async fn qpv_report(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(code): Path<String>,
    q: Result<Query<FormatQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q.map_err(bad_query)?;
    let format = if q.f.as_deref() == Some("geojson") {
        Format::GeoJson
    } else {
        Format::negotiate(&headers, q.f.as_deref(), true)?
    };
    let served = shared.current();
    let s2 = Arc::clone(&served);
    let code2 = code.clone();
    let report = tokio::task::spawn_blocking(move || {
        s2.snapshot.shares_of_zone(Layer::Qpv, &code2, false, domania_core::overlay::OverlayOptions::default())
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
    .ok_or_else(|| ApiError::not_found(format!("no QPV {code:?}")))?;
    if format == Format::GeoJson {
        // The QPV's perimeter with its land by actor (as `domania report qpv --format geojson`).
        let fc = domania_app::compute::zones_geojson(&report.zones, served.snapshot.qpv());
        return Ok(snapshot_answer(&headers, &served, Format::GeoJson, &fc));
    }
    let summary = domania_app::compute::qpv_summary(&report);
    if format == Format::Csv {
        let rows: Vec<QpvOwnerRow<'_>> = summary
            .owners
            .iter()
            .map(|o| QpvOwnerRow {
                qpv: summary.qpv,
                actor: o.actor,
                owner_actor: o.owner_actor,
                siren: &o.siren,
                name: &o.name,
                parcels: o.parcels,
                area_m2: (o.area_m2 * 100.0).round() / 100.0,
            })
            .collect();
        return crate::respond::csv_answer(&headers, &served, &rows);
    }
    Ok(snapshot_answer(&headers, &served, Format::Json, &summary))
}

pub async fn owner(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(siren): Path<String>,
) -> ApiResult<Response> {
    scan(shared.current(), move |served| owner_detail(served, &headers, &siren)).await
}

fn owner_detail(served: &Served, headers: &HeaderMap, siren: &str) -> ApiResult<Response> {
    let land = domania_app::search::owner_land(&served.snapshot, siren)
        .ok_or_else(|| ApiError::not_found(format!("no parcel of SIREN {siren} in the store")))?;
    Ok(snapshot_answer(headers, served, Format::Json, &land))
}

/// A scenario posted as JSON: the `domania scenario` file's content.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioRequest {
    #[serde(default)]
    pub name: String,
    pub transfers: Vec<domania_engine::Transfer>,
}

pub async fn scenario(
    State(shared): State<Arc<Shared>>,
    body: Result<Json<ScenarioRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<domania_app::compute::ScenarioOutcome>> {
    let Json(req) = body.map_err(|e| ApiError::bad_request("bad_scenario", e.body_text()))?;
    let served = shared.current();
    let out = tokio::task::spawn_blocking(move || {
        served
            .snapshot
            .scenario(
                &req.transfers,
                &served.rules.rules,
                served.date,
                domania_core::overlay::OverlayOptions::default(),
            )
            .map(|report| domania_app::compute::ScenarioOutcome {
                scenario: req.name.clone(),
                transfers_requested: req.transfers.clone(),
                report,
            })
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
    .map_err(|e| ApiError::from(domania_app::AppError::from(e)))?;
    Ok(Json(out))
}

/// The store's layer versions behind the current snapshot.
#[derive(Debug, Serialize)]
pub struct VersionView<'a> {
    pub domania: &'static str,
    pub snapshot: &'a str,
    pub layers: &'a std::collections::BTreeMap<Layer, Option<i64>>,
    pub parcels: usize,
    pub judged_on: domania_app::Date,
    pub rules: &'a str,
    pub build_ms: f64,
}

pub async fn version(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let served = shared.current();
    let body = VersionView {
        domania: env!("CARGO_PKG_VERSION"),
        snapshot: &served.etag,
        layers: served.versions(),
        parcels: served.snapshot.parcels().len(),
        judged_on: served.date,
        rules: &served.rules.name,
        build_ms: served.build_ms,
    };
    snapshot_answer(&headers, &served, Format::Json, &body)
}

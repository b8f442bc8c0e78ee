//! Open311 GeoReport v2 under `/open311/v2/` (JSON), so existing reporting apps and
//! FixMyStreet-style clients post and follow reports of dysfunctions; and the services' side
//! under `/v1/reports/…` (moving a request through its statuses, the service-level figures).
//! Errors are in GeoReport's format: `[{"code": 400, "description": "…"}]`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domania_app::reports::{NewReport, Status, Territory};
use domania_app::tokens::Role;
use domania_store::{RequestFilter, RequestRow};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::Shared;

/// An error as GeoReport v2 gives it.
pub struct GeoError(StatusCode, String);

impl IntoResponse for GeoError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!([{"code": self.0.as_u16(), "description": self.1}]))).into_response()
    }
}

impl From<ApiError> for GeoError {
    fn from(e: ApiError) -> Self {
        if e.status.is_server_error() {
            tracing::error!(code = e.code, "{}", e.message);
            return GeoError(e.status, "internal error (logged on the server)".into());
        }
        GeoError(e.status, e.message)
    }
}

impl From<domania_app::AppError> for GeoError {
    fn from(e: domania_app::AppError) -> Self {
        ApiError::from(e).into()
    }
}

type GeoResult<T> = Result<T, GeoError>;

fn bad(m: impl Into<String>) -> GeoError {
    GeoError(StatusCode::BAD_REQUEST, m.into())
}

/// `GET /open311/v2/discovery.json`.
pub async fn discovery(headers: HeaderMap) -> Response {
    let url = format!("{}/open311/v2", crate::ogc::base(&headers));
    axum::Json(json!({
        "changeset": "2026-11-26T00:00:00Z",
        "contact": "the territory's GIS team",
        "key_service": "a token with the reporter role: `domania token create --name NAME --role reporter`",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": url,
            "changeset": "2026-11-26T00:00:00Z",
            "type": "production",
            "formats": ["application/json"],
        }],
    }))
    .into_response()
}

#[derive(Debug, serde::Deserialize)]
pub struct PointQuery {
    pub lat: Option<f64>,
    pub long: Option<f64>,
}

/// `GET /open311/v2/services.json[?lat=&long=]`: the categories; at a point, each with the
/// service it would go to there (`agency_responsible`, an extension).
pub async fn services(State(shared): State<Arc<Shared>>, Query(q): Query<PointQuery>) -> GeoResult<Response> {
    let served = shared.current();
    let rules = &served.rules.rules;
    let at = match (q.lat, q.long) {
        (Some(lat), Some(lon)) => {
            Some(domania_core::crs::Crs::wgs84().transform_to(&domania_core::crs::Crs::lambert93(), lon, lat))
        }
        (None, None) => None,
        _ => return Err(bad("lat and long go together")),
    };
    let label =
        |k: &str| rules.config().interventions.iter().find(|i| i.id == k).map_or(k, |i| i.label.as_str()).to_owned();
    served.with_territory(|t| services_at(t, at, &label))
}

fn services_at(t: &Territory<'_>, at: Option<(f64, f64)>, label: &dyn Fn(&str) -> String) -> GeoResult<Response> {
    let mut out = Vec::new();
    for c in &t.rules.config().categories {
        let mut s = json!({
            "service_code": c.code,
            "service_name": c.name,
            "description": if c.description.is_empty() { label(&c.intervention) } else { c.description.clone() },
            "metadata": true,
            "type": "realtime",
            "keywords": c.keywords.join(","),
            "group": label(&c.intervention),
        });
        if let Some((x, y)) = at {
            let r = t.route(x, y, &c.intervention)?;
            s["agency_responsible"] = json!(r.service_name);
        }
        out.push(s);
    }
    Ok(axum::Json(out).into_response())
}

/// `GET /open311/v2/services/{code}.json`: the attributes a report of the category takes.
pub async fn service(State(shared): State<Arc<Shared>>, Path(file): Path<String>) -> GeoResult<Response> {
    let code = file.strip_suffix(".json").unwrap_or(&file);
    let served = shared.current();
    let c = served
        .rules
        .rules
        .category(code)
        .ok_or_else(|| GeoError(StatusCode::NOT_FOUND, format!("no service_code {code:?}")))?;
    let yes_no = json!([{"key": "true", "name": "oui"}, {"key": "false", "name": "non"}]);
    let mut attributes = vec![json!({
        "variable": true, "code": "urgent", "datatype": "singlevaluelist", "required": false, "order": 1,
        "datatype_description": "true or false",
        "description": "Urgent, selon vous (vérifié contre les critères objectifs ci-dessous)",
        "values": yes_no,
    })];
    for (i, u) in c.urgency.iter().enumerate() {
        attributes.push(json!({
            "variable": true, "code": u.code, "datatype": "singlevaluelist", "required": false, "order": i + 2,
            "datatype_description": "true or false", "description": u.description, "values": yes_no,
        }));
    }
    Ok(axum::Json(json!({"service_code": c.code, "attributes": attributes})).into_response())
}

fn open311_status(s: &str) -> &'static str {
    if Status::parse(s).is_some_and(Status::is_open) { "open" } else { "closed" }
}

/// A request as GeoReport v2 shows it, with Domania's extensions (`detailed_status`,
/// `duplicate_of`, `urgency`, `explanation`).
fn request_json(rules: &domania_rules::Rules, r: &RequestRow) -> Value {
    // The category's name, as `services.json` gives it; the service handling it is the agency.
    let service_name = rules.category(&r.service_code).map_or(r.service_code.as_str(), |c| c.name.as_str());
    let notice = match (&r.duplicate_of, r.urgency.as_str()) {
        (Some(d), _) => format!("already reported: request {d} covers it"),
        (None, "review") => "claimed urgent without an objective criterion: reviewed before it is prioritised".into(),
        (None, "urgent") => "urgent".into(),
        _ => String::new(),
    };
    json!({
        "service_request_id": r.id.to_string(),
        "status": open311_status(&r.status),
        "status_notes": r.status_notes,
        "service_name": service_name,
        "service_code": r.service_code,
        "description": r.description,
        "agency_responsible": r.service_name,
        "service_notice": notice,
        "requested_datetime": r.requested_at,
        "updated_datetime": r.updated_at,
        "expected_datetime": r.expected_at,
        "address": Value::Null,
        "lat": r.lat,
        "long": r.lon,
        "media_url": r.media_url,
        "detailed_status": r.status,
        "duplicate_of": r.duplicate_of.map(|d| d.to_string()),
        "urgency": r.urgency,
        "explanation": r.explanation,
        "subsector": r.subsector,
        "qpv": r.qpv,
    })
}

/// `POST /open311/v2/requests.json`, form-encoded.
pub async fn post_request(
    State(shared): State<Arc<Shared>>,
    form: Result<Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> GeoResult<Response> {
    let Form(form) = form.map_err(|e| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            GeoError(status, format!("the request is larger than {} kB", crate::MAX_BODY_BYTES / 1024))
        } else {
            GeoError(status, format!("a form-encoded body (application/x-www-form-urlencoded) is expected: {e}"))
        }
    })?;
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    let mut attributes = BTreeMap::new();
    for (k, v) in form {
        if let Some(a) = k.strip_prefix("attribute[").and_then(|a| a.strip_suffix(']')) {
            attributes.insert(a.to_owned(), v);
        } else {
            fields.insert(k, v);
        }
    }
    let served = shared.current();
    let reporter = match fields.get("api_key").filter(|k| !k.is_empty()) {
        Some(key) => crate::auth::require_secret(&shared, key.clone(), Role::Reporter).await?,
        None if served.rules.rules.config().reports.anonymous => "anonymous".to_owned(),
        None => {
            return Err(GeoError(
                StatusCode::UNAUTHORIZED,
                "api_key is required: a token with the reporter role".into(),
            ));
        }
    };
    let need = |k: &str| fields.get(k).filter(|v| !v.trim().is_empty()).ok_or_else(|| bad(format!("{k} is required")));
    let service_code = need("service_code")?.clone();
    let number =
        |k: &str| -> GeoResult<f64> { need(k)?.trim().parse::<f64>().map_err(|_| bad(format!("{k} is not a number"))) };
    let (lat, lon) = (number("lat")?, number("long")?);
    let report = NewReport {
        service_code,
        lon,
        lat,
        description: fields.get("description").cloned().unwrap_or_default(),
        media_url: fields.get("media_url").cloned(),
        attributes,
        reporter,
        source: "open311".into(),
        at: jiff::Timestamp::now(),
    };
    let s2 = Arc::clone(&shared);
    let row = tokio::task::spawn_blocking(move || -> domania_app::Result<RequestRow> {
        served.with_territory(|t| domania_app::reports::post(&mut s2.reports(), t, report))
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    let mut answer = json!({"service_request_id": row.id.to_string(), "service_notice": request_json(&shared.current().rules.rules, &row)["service_notice"], "account_id": Value::Null});
    answer["agency_responsible"] = json!(row.service_name);
    answer["duplicate_of"] = json!(row.duplicate_of.map(|d| d.to_string()));
    Ok((StatusCode::CREATED, axum::Json(json!([answer]))).into_response())
}

#[derive(Debug, serde::Deserialize)]
pub struct RequestsQuery {
    pub service_request_id: Option<String>,
    pub service_code: Option<String>,
    pub status: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
}

/// A `start_date` or `end_date`: a time, or a day (its start; for `end_date`, its end).
fn date_filter(name: &str, v: Option<&String>) -> GeoResult<Option<String>> {
    let time = if name == "end_date" { "T23:59:59Z" } else { "T00:00:00Z" };
    v.map(|d| {
        d.parse::<jiff::Timestamp>()
            .map(domania_app::reports::stamp)
            .or_else(|_| d.parse::<jiff::civil::Date>().map(|d| format!("{d}{time}")))
            .map_err(|_| bad(format!("{name} {d:?} is not a date (ISO 8601: 2026-11-26T10:00:00Z or 2026-11-26)")))
    })
    .transpose()
}

/// The most request ids one `GET requests.json` takes.
const MAX_IDS: usize = 500;

/// `GET /open311/v2/requests.json`.
pub async fn requests(State(shared): State<Arc<Shared>>, Query(q): Query<RequestsQuery>) -> GeoResult<Response> {
    let split = |v: &Option<String>| -> Vec<String> {
        v.as_deref()
            .map(|s| s.split(',').map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).collect())
            .unwrap_or_default()
    };
    let ids: Vec<i64> = split(&q.service_request_id)
        .iter()
        .map(|i| i.parse().map_err(|_| bad(format!("service_request_id {i:?} is not a request id"))))
        .collect::<GeoResult<_>>()?;
    if ids.len() > MAX_IDS {
        return Err(bad(format!("at most {MAX_IDS} service_request_id at once")));
    }
    let statuses: Vec<String> = match q.status.as_deref() {
        None | Some("") => Vec::new(),
        Some("open") => Status::ALL.iter().filter(|s| s.is_open()).map(|s| s.as_str().to_owned()).collect(),
        Some("closed") => Status::ALL.iter().filter(|s| !s.is_open()).map(|s| s.as_str().to_owned()).collect(),
        Some(s) if Status::parse(s).is_some() => vec![s.to_owned()],
        Some(s) => return Err(bad(format!("status {s:?}: open, closed, or a detailed status"))),
    };
    let ids_empty = ids.is_empty();
    let filter = RequestFilter {
        ids,
        service_codes: split(&q.service_code),
        statuses,
        start: date_filter("start_date", q.start_date.as_ref())?,
        end: date_filter("end_date", q.end_date.as_ref())?,
        // The specification's default bound when no id is asked for.
        limit: ids_empty.then_some(1000),
    };
    let rows = read(&shared, move |s| Ok(s.list(&filter)?)).await?;
    let served = shared.current();
    Ok(axum::Json(rows.iter().map(|r| request_json(&served.rules.rules, r)).collect::<Vec<_>>()).into_response())
}

async fn read<T: Send + 'static>(
    shared: &Arc<Shared>,
    f: impl FnOnce(&domania_store::RequestStore) -> domania_app::Result<T> + Send + 'static,
) -> GeoResult<T> {
    let s2 = Arc::clone(shared);
    Ok(tokio::task::spawn_blocking(move || f(&s2.reports())).await.map_err(|e| ApiError::internal(e.to_string()))??)
}

fn request_id(file: &str) -> GeoResult<i64> {
    let id = file.strip_suffix(".json").unwrap_or(file);
    id.parse().map_err(|_| GeoError(StatusCode::NOT_FOUND, format!("no request {id:?}")))
}

/// `GET /open311/v2/requests/{id}.json`, with its steps (an extension: `events`).
pub async fn request(State(shared): State<Arc<Shared>>, Path(file): Path<String>) -> GeoResult<Response> {
    let id = request_id(&file)?;
    let (row, events) = read(&shared, move |s| Ok((s.get(id)?, s.events(id)?))).await?;
    let row = row.ok_or_else(|| GeoError(StatusCode::NOT_FOUND, format!("no request {id}")))?;
    let mut j = request_json(&shared.current().rules.rules, &row);
    j["events"] = events
        .iter()
        .map(|e| json!({"at": e.at, "kind": e.kind, "status": e.status, "note": e.note, "by": e.by}))
        .collect();
    Ok(axum::Json(json!([j])).into_response())
}

#[derive(Debug, serde::Deserialize)]
pub struct StatusChange {
    pub status: String,
    pub note: Option<String>,
}

/// `POST /v1/reports/{id}/status` (`{"status": "acknowledged", "note": "…"}`), by an editor.
pub async fn change_status(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    Path(id): Path<i64>,
    axum::Json(change): axum::Json<StatusChange>,
) -> GeoResult<Response> {
    let to = Status::parse(&change.status).ok_or_else(|| {
        let all: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        bad(format!("unknown status {:?} ({})", change.status, all.join(", ")))
    })?;
    let s2 = Arc::clone(&shared);
    let row = tokio::task::spawn_blocking(move || {
        domania_app::reports::transition(
            &mut s2.reports(),
            id,
            to,
            change.note.as_deref(),
            &caller.0,
            jiff::Timestamp::now(),
        )
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?;
    let row = row.map_err(|e| {
        let refused = e.code() == domania_app::ErrorCode::Refused;
        let g = GeoError::from(e);
        if refused { GeoError(StatusCode::CONFLICT, g.1) } else { g }
    })?;
    Ok(axum::Json(json!([request_json(&shared.current().rules.rules, &row)])).into_response())
}

/// `POST /v1/reports/{id}/reroute`, by an editor: routes the request again on the current
/// snapshot (logged as a step with the old and new service).
pub async fn reroute(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    Path(id): Path<i64>,
) -> GeoResult<Response> {
    let s2 = Arc::clone(&shared);
    let row = tokio::task::spawn_blocking(move || {
        s2.current().with_territory(|t| {
            domania_app::reports::reroute(&mut s2.reports(), t, id, &caller.0, jiff::Timestamp::now())
        })
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(axum::Json(json!([request_json(&shared.current().rules.rules, &row)])).into_response())
}

/// `GET /v1/reports/service-levels`: the figures per QPV, commune, service and month.
pub async fn service_levels(State(shared): State<Arc<Shared>>) -> GeoResult<Response> {
    let rows = read(&shared, domania_app::reports::service_levels).await?;
    Ok(axum::Json(rows).into_response())
}

//! Open311 GeoReport v2 under `/open311/v2/`, in JSON and in XML (the specification's required
//! format, which FixMyStreet's client reads), so existing reporting apps and FixMyStreet-style
//! clients post and follow service requests; and the services' side under `/v1/reports/…`
//! (moving a request through its statuses, re-routing it, the service-level figures). Every
//! error of the Open311 routes is in GeoReport's format, `[{"code": 400, "description": "…"}]`
//! or `<errors><error>…`, in the format the route was asked in.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domania_app::i18n::Lang;
use domania_app::requests::open311::{ListQuery, PostForm, posted, request_id};
use domania_app::requests::{EventLine, Status};
use domania_app::tokens::Role;
use domania_app::{AppError, Crs, ErrorCode};
use serde::Deserialize;

use crate::auth::{BoundTo, Caller};
use crate::error::{ApiError, ApiResult, GeoResult};
use crate::extract::{Base, Body, Client, GeoPath, GeoPost, GeoQuery, Language, Path, Query, parse_json};
use crate::respond::json;
use crate::state::{Shared, blocking};

/// The two formats of GeoReport v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// The answer `value` in this format, its XML document under `root`.
    fn answer<T: serde::Serialize + ?Sized>(self, status: StatusCode, root: &str, value: &T) -> GeoResult<Response> {
        match self {
            Format::Json => Ok(json(status, &value)),
            Format::Xml => {
                let xml = domania_app::requests::xml::to_xml(root, value)?;
                Ok((status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], xml).into_response())
            }
        }
    }
}

/// A file name of the Open311 routes: `{name}.json` or `{name}.xml`.
fn file_format(file: &str) -> Result<(&str, Format), ApiError> {
    if let Some(name) = file.strip_suffix(".json") {
        Ok((name, Format::Json))
    } else if let Some(name) = file.strip_suffix(".xml") {
        Ok((name, Format::Xml))
    } else {
        Err(ApiError::said(ErrorCode::NotFound, "error-open311-format", vec![("file", file.into())]))
    }
}

/// `GET /open311/v2/discovery.json`.
pub async fn discovery_json(Base(b): Base) -> GeoResult<Response> {
    discovery(Format::Json, &b)
}

/// `GET /open311/v2/discovery.xml`.
pub async fn discovery_xml(Base(b): Base) -> GeoResult<Response> {
    discovery(Format::Xml, &b)
}

/// `GET /open311/v2/services.json`.
pub async fn services_json(State(s): State<Arc<Shared>>, GeoQuery(q): GeoQuery<PointQuery>) -> GeoResult<Response> {
    services(&s, Format::Json, &q)
}

/// `GET /open311/v2/services.xml`.
pub async fn services_xml(State(s): State<Arc<Shared>>, GeoQuery(q): GeoQuery<PointQuery>) -> GeoResult<Response> {
    services(&s, Format::Xml, &q)
}

/// `GET /open311/v2/requests.json`.
pub async fn requests_json(
    State(s): State<Arc<Shared>>,
    Language(lang): Language,
    Base(b): Base,
    GeoQuery(q): GeoQuery<ListQueryParams>,
) -> GeoResult<Response> {
    requests(s, Format::Json, q, lang, &b).await
}

/// `GET /open311/v2/requests.xml`.
pub async fn requests_xml(
    State(s): State<Arc<Shared>>,
    Language(lang): Language,
    Base(b): Base,
    GeoQuery(q): GeoQuery<ListQueryParams>,
) -> GeoResult<Response> {
    requests(s, Format::Xml, q, lang, &b).await
}

/// `POST /open311/v2/requests.json`.
pub async fn post_json(
    State(s): State<Arc<Shared>>,
    Client(c): Client,
    Language(lang): Language,
    Base(b): Base,
    GeoPost(f): GeoPost,
) -> GeoResult<Response> {
    post_request(s, Format::Json, f, c, lang, &b).await
}

/// `POST /open311/v2/requests.xml`.
pub async fn post_xml(
    State(s): State<Arc<Shared>>,
    Client(c): Client,
    Language(lang): Language,
    Base(b): Base,
    GeoPost(f): GeoPost,
) -> GeoResult<Response> {
    post_request(s, Format::Xml, f, c, lang, &b).await
}

/// The discovery document in `format`.
fn discovery(format: Format, b: &str) -> GeoResult<Response> {
    format.answer(StatusCode::OK, "discovery", &domania_app::requests::open311::discovery(format!("{b}/open311/v2")))
}

#[derive(Debug, Deserialize)]
pub struct PointQuery {
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub jurisdiction_id: Option<String>,
}

/// `GET /open311/v2/services.json[?lat=&long=]`: the categories; at a point, each with the
/// service it would go to there (`agency_responsible`, an extension).
fn services(shared: &Arc<Shared>, format: Format, q: &PointQuery) -> GeoResult<Response> {
    let at = match (q.lat, q.long) {
        (Some(lat), Some(lon)) => Some(Crs::wgs84().transform_to(&Crs::lambert93(), lon, lat)),
        (None, None) => None,
        _ => return Err(ApiError::new(ErrorCode::BadParameter, "lat and long go together").into()),
    };
    let held = shared.current();
    format.answer(StatusCode::OK, "services", &held.services(at)?)
}

/// `GET /open311/v2/services/{code}.{json,xml}`: the attributes a request of the category takes.
pub async fn service(State(shared): State<Arc<Shared>>, GeoPath(file): GeoPath<String>) -> GeoResult<Response> {
    let (code, format) = file_format(&file)?;
    let held = shared.current();
    format.answer(StatusCode::OK, "service_definition", &held.service_definition(code)?)
}

/// `POST /open311/v2/requests.{json,xml}`, form-encoded, or multipart with a photo.
async fn post_request(
    shared: Arc<Shared>,
    format: Format,
    form: PostForm,
    client: Option<std::net::IpAddr>,
    lang: Lang,
    base: &str,
) -> GeoResult<Response> {
    let held = shared.current();
    let reporter = match form.api_key() {
        Some(key) => crate::auth::require_secret(&shared, key.to_owned(), Role::Reporter).await?.0,
        None if held.rules.rules.config().reports.anonymous => "anonymous".to_owned(),
        None => {
            return Err(
                ApiError::new(ErrorCode::Unauthorized, "api_key is required: a token with the reporter role").into()
            );
        }
    };
    // A token, and an address, post at most so many a minute.
    let per_minute = held.rules.rules.config().reports.posts_per_minute;
    let mut keys: Vec<String> = client.map(|ip| format!("address:{ip}")).into_iter().collect();
    if form.api_key().is_some() {
        keys.push(format!("token:{reporter}"));
    }
    if let Err(seconds) = shared.posts.take(&keys, per_minute, std::time::Instant::now()) {
        let said = vec![
            ("who", keys.join(", ").into()),
            ("rate", per_minute.to_string().into()),
            ("seconds", seconds.to_string().into()),
        ];
        let limited = AppError::said(ErrorCode::RateLimited, "error-rate-limited", said).retry_after(seconds);
        return Err(ApiError(limited).into());
    }
    let request = form.request(reporter, &held)?;
    let s2 = Arc::clone(&shared);
    let row = blocking(move || s2.desk.post(&held, request)).await??;
    format.answer(StatusCode::CREATED, "service_requests", &[posted(&row, lang, base)])
}

/// `GET /open311/v2/requests.{json,xml}`.
async fn requests(
    shared: Arc<Shared>,
    format: Format,
    q: ListQueryParams,
    lang: Lang,
    base: &str,
) -> GeoResult<Response> {
    let filter = q.into_query().filter()?;
    let s2 = Arc::clone(&shared);
    let rows = blocking(move || s2.desk.list(&filter)).await??;
    let held = shared.current();
    let views: Vec<_> = rows.iter().map(|r| held.request_view(r, lang, base)).collect();
    format.answer(StatusCode::OK, "service_requests", &views)
}

/// The window of `servicerequestupdates` (FixMyStreet also sends `api_key` and
/// `jurisdiction_id`).
#[derive(Debug, Deserialize)]
pub struct UpdatesQuery {
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub jurisdiction_id: Option<String>,
    pub api_key: Option<String>,
}

/// `GET /open311/v2/servicerequestupdates.xml`: the steps of the requests between two
/// dates, as FixMyStreet's Open311 client asks for them (mySociety's extension of GeoReport),
/// so a FixMyStreet site shows its reporters what the services did.
pub async fn updates_xml(State(s): State<Arc<Shared>>, GeoQuery(q): GeoQuery<UpdatesQuery>) -> GeoResult<Response> {
    updates(s, Format::Xml, q).await
}

/// `GET /open311/v2/servicerequestupdates.json`: the same in JSON.
pub async fn updates_json(State(s): State<Arc<Shared>>, GeoQuery(q): GeoQuery<UpdatesQuery>) -> GeoResult<Response> {
    updates(s, Format::Json, q).await
}

async fn updates(shared: Arc<Shared>, format: Format, q: UpdatesQuery) -> GeoResult<Response> {
    let s2 = Arc::clone(&shared);
    let steps = blocking(move || s2.desk.updates(q.start_date.as_deref(), q.end_date.as_deref())).await??;
    format.answer(StatusCode::OK, "service_requests_updates", &steps)
}

/// The parameters of a list, as the specification names them.
#[derive(Debug, Deserialize)]
pub struct ListQueryParams {
    pub service_request_id: Option<String>,
    pub service_code: Option<String>,
    pub status: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub jurisdiction_id: Option<String>,
}

impl ListQueryParams {
    fn into_query(self) -> ListQuery {
        ListQuery {
            service_request_id: self.service_request_id,
            service_code: self.service_code,
            status: self.status,
            start_date: self.start_date,
            end_date: self.end_date,
        }
    }
}

/// `GET /open311/v2/requests/{id}.{json,xml}`, with its steps (an extension: `events`).
pub async fn request(
    State(shared): State<Arc<Shared>>,
    Language(lang): Language,
    Base(b): Base,
    GeoPath(file): GeoPath<String>,
) -> GeoResult<Response> {
    let (id, format) = file_format(&file)?;
    let id = request_id(id)?;
    let s2 = Arc::clone(&shared);
    let (row, events) = blocking(move || s2.desk.detail(id)).await??;
    let held = shared.current();
    let mut view = held.request_view(&row, lang, &b);
    view.events = Some(events.iter().map(EventLine::from).collect());
    format.answer(StatusCode::OK, "service_requests", &[view])
}

/// `GET /open311/v2/tokens/{token}.{json,xml}`: the request a token stands for. Domania gives
/// the request's id at once when it is posted; its token is that id, so a client that follows
/// tokens (as the specification allows) finds its request.
pub async fn token(State(shared): State<Arc<Shared>>, GeoPath(file): GeoPath<String>) -> GeoResult<Response> {
    let (token, format) = file_format(&file)?;
    let id = request_id(token)?;
    let s2 = Arc::clone(&shared);
    let (row, _) = blocking(move || s2.desk.detail(id)).await??;
    let answer =
        [domania_app::requests::open311::Token { service_request_id: row.id.to_string(), token: token.to_owned() }];
    format.answer(StatusCode::OK, "service_requests", &answer)
}

/// The DVQ's droit d'alerte on a request: why.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    pub note: String,
}

/// `POST /v1/reports/{id}/alert` (`{"note": "…"}`), by an admin (the DVQ): the request made
/// urgent, its service and the commune's referents told at once.
pub async fn alert(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Language(lang): Language,
    Base(b): Base,
    Path(id): Path<i64>,
    Body(body): Body,
) -> ApiResult<Response> {
    let Alert { note } = parse_json(&body, ErrorCode::BadBody)?;
    let s2 = Arc::clone(&shared);
    let held = shared.current();
    let h2 = Arc::clone(&held);
    let row = blocking(move || s2.desk.alert(&h2, id, &note, &caller.0, jiff::Timestamp::now())).await??;
    Ok(json(StatusCode::OK, &[held.request_view(&row, lang, &b)]))
}

/// A move of a request to another status.
#[derive(Debug, Deserialize)]
pub struct StatusChange {
    pub status: String,
    pub note: Option<String>,
}

/// `POST /v1/reports/{id}/status` (`{"status": "acknowledged", "note": "…"}`), by an editor.
pub async fn change_status(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    axum::Extension(bound): axum::Extension<BoundTo>,
    Language(lang): Language,
    Base(b): Base,
    Path(id): Path<i64>,
    Body(body): Body,
) -> ApiResult<Response> {
    let change: StatusChange = parse_json(&body, ErrorCode::BadBody)?;
    let to = Status::parse(&change.status).ok_or_else(|| {
        let all: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        ApiError::new(ErrorCode::BadParameter, format!("unknown status {:?} ({})", change.status, all.join(", ")))
    })?;
    mine(&shared, &bound, id).await?;
    let s2 = Arc::clone(&shared);
    let held = shared.current();
    let h2 = Arc::clone(&held);
    let row =
        blocking(move || s2.desk.transition(&h2, id, to, change.note.as_deref(), &caller.0, jiff::Timestamp::now()))
            .await??;
    Ok(json(StatusCode::OK, &[held.request_view(&row, lang, &b)]))
}

/// Refuses a move of a report that is not routed to what the token is bound to.
async fn mine(shared: &Arc<Shared>, bound: &BoundTo, id: i64) -> ApiResult<()> {
    if bound.0.is_none() {
        return Ok(());
    }
    let s2 = Arc::clone(shared);
    let (row, _) = blocking(move || s2.desk.detail(id)).await??;
    bound.check(id, row.service_id.as_deref(), row.actor)
}

/// `POST /v1/reports/{id}/reroute`, by an editor: routes the request again on the current
/// snapshot (logged as a step with the old and new service).
pub async fn reroute(
    State(shared): State<Arc<Shared>>,
    axum::Extension(caller): axum::Extension<Caller>,
    axum::Extension(bound): axum::Extension<BoundTo>,
    Language(lang): Language,
    Base(b): Base,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    mine(&shared, &bound, id).await?;
    let held = shared.current();
    let s2 = Arc::clone(&shared);
    let h2 = Arc::clone(&held);
    let row = blocking(move || s2.desk.reroute(&h2, id, &caller.0, jiff::Timestamp::now())).await??;
    Ok(json(StatusCode::OK, &[held.request_view(&row, lang, &b)]))
}

/// The filter of the map's reports: GeoReport's `status` (open, closed or detailed statuses,
/// comma separated) and `service_code`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapQuery {
    pub status: Option<String>,
    pub service_code: Option<String>,
}

/// `GET /v1/reports.geojson`: the requests as points for the map (the same as the Open311
/// list, newest first, at most 1,000), each with its status, service and dates.
pub async fn map(
    State(shared): State<Arc<Shared>>,
    bound: Option<axum::Extension<BoundTo>>,
    Query(q): Query<MapQuery>,
) -> ApiResult<Response> {
    let query = ListQuery { status: q.status, service_code: q.service_code, ..ListQuery::default() };
    let filter = query.filter()?;
    let s2 = Arc::clone(&shared);
    let mut rows = blocking(move || s2.desk.list(&filter)).await??;
    // A token bound to a service or an actor sees the reports routed there.
    if let Some(axum::Extension(BoundTo(Some(b)))) = bound {
        rows.retain(|r| b.holds(r.service_id.as_deref(), r.actor));
    }
    let lines: Vec<domania_app::requests::RequestLine> =
        rows.iter().map(domania_app::requests::RequestLine::from).collect();
    let mut response = json(StatusCode::OK, &domania_app::requests::points(&lines));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/geo+json"));
    Ok(response)
}

/// `GET /v1/reports/{id}/photo`: the photo sent with a report, its metadata taken out (a token
/// bound to a service or an actor sees those of the reports routed there).
pub async fn photo(
    State(shared): State<Arc<Shared>>,
    bound: Option<axum::Extension<BoundTo>>,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    photo_of(&shared, bound, id, false).await
}

/// `GET /v1/reports/{id}/photo/thumbnail`: its thumbnail, a JPEG at most 320 pixels wide or high.
pub async fn thumbnail(
    State(shared): State<Arc<Shared>>,
    bound: Option<axum::Extension<BoundTo>>,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    photo_of(&shared, bound, id, true).await
}

async fn photo_of(
    shared: &Arc<Shared>,
    bound: Option<axum::Extension<BoundTo>>,
    id: i64,
    thumbnail: bool,
) -> ApiResult<Response> {
    let s2 = Arc::clone(shared);
    let (row, mime, bytes) = blocking(move || s2.desk.photo(id, thumbnail)).await??;
    if let Some(axum::Extension(b)) = bound {
        b.check(id, row.service_id.as_deref(), row.actor)?;
    }
    let mut response = (StatusCode::OK, bytes).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_str(&mime).unwrap_or(HeaderValue::from_static("image/jpeg")));
    // A photo never changes once sent; it is private when reads are.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400, immutable"));
    h.insert("content-security-policy", HeaderValue::from_static("default-src 'none'; sandbox"));
    Ok(response)
}

/// `GET /v1/reports/service-levels`: the figures per QPV, commune, service and month.
/// `GET /v1/reports/service-levels.pdf`: the same, as a document to present.
pub async fn service_levels_pdf(State(shared): State<Arc<Shared>>) -> ApiResult<Response> {
    let held = shared.current();
    let s2 = Arc::clone(&shared);
    let pdf = blocking(move || s2.desk.service_levels_pdf(&held).map(|pdf| (pdf, held))).await??;
    Ok(crate::viewer::pdf_answer(&pdf.1, pdf.0, "niveaux-de-service.pdf"))
}

pub async fn service_levels(State(shared): State<Arc<Shared>>) -> ApiResult<Response> {
    let s2 = Arc::clone(&shared);
    let rows = blocking(move || s2.desk.service_levels()).await??;
    Ok(json(StatusCode::OK, &rows))
}

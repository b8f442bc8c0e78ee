//! Reports of dysfunctions: routed to the manager of the space at their point for their
//! category's intervention kind, linked to an open report of the same kind nearby as
//! duplicates, flagged when claimed urgent without an objective criterion, moved through their
//! statuses by named tokens, and measured against the expected service levels.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use domania_core::Layer;
use domania_core::crs::Crs;
use domania_engine::{AssignReport, Snapshot};
use domania_rules::{Rules, SpaceKind};
use domania_store::{RequestFilter, RequestRow, RequestStore};
use geo_types::{Point, Rect};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

use crate::App;
use crate::error::{AppError, ErrorCode, Result};

/// The longest description taken, in characters.
pub const MAX_DESCRIPTION: usize = 4000;

/// Where a report is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Received,
    Acknowledged,
    Planned,
    InProgress,
    Done,
    /// Refused by the service, with a reason.
    Rejected,
    /// Handed to another organisation, with a reason.
    Transferred,
    /// Linked to an open report of the same kind nearby, which covers it.
    Duplicate,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Received,
        Status::Acknowledged,
        Status::Planned,
        Status::InProgress,
        Status::Done,
        Status::Rejected,
        Status::Transferred,
        Status::Duplicate,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Acknowledged => "acknowledged",
            Status::Planned => "planned",
            Status::InProgress => "in_progress",
            Status::Done => "done",
            Status::Rejected => "rejected",
            Status::Transferred => "transferred",
            Status::Duplicate => "duplicate",
        }
    }

    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether work is still expected.
    #[must_use]
    pub fn is_open(self) -> bool {
        matches!(self, Status::Received | Status::Acknowledged | Status::Planned | Status::InProgress)
    }

    /// Whether a report may go from `self` to `to`: forwards along received → acknowledged →
    /// planned → in progress → done (steps may be skipped), or to rejected or transferred from
    /// any open status; nothing leaves done, rejected, transferred or duplicate.
    #[must_use]
    pub fn may_become(self, to: Status) -> bool {
        self.is_open()
            && match to {
                Status::Acknowledged | Status::Planned | Status::InProgress | Status::Done => to > self,
                Status::Rejected | Status::Transferred => true,
                Status::Received | Status::Duplicate => false,
            }
    }

    /// Whether the move needs a reason.
    #[must_use]
    pub fn needs_reason(self) -> bool {
        matches!(self, Status::Rejected | Status::Transferred)
    }
}

/// What the territory says at a point.
pub struct Territory<'a> {
    pub snapshot: &'a Snapshot,
    pub assign: &'a AssignReport,
    pub rules: &'a Rules,
    /// The day conventions are judged on.
    pub date: Date,
    /// The snapshot's tag, stored with every routing.
    pub tag: &'a str,
    /// The position in `assign.spaces` of (sub-sector, space id).
    pub space: &'a dyn Fn(&str, &str) -> Option<usize>,
}

/// Where a report goes, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    pub service_id: Option<String>,
    pub service_name: String,
    pub actor: String,
    pub rule: String,
    pub explanation: String,
    pub subsector: Option<String>,
    pub qpv: Option<String>,
    pub commune: Option<String>,
    /// The parcel's IDU, or `non_cadastre`.
    pub space: String,
}

impl Route {
    /// The routing as a report stores it, routed on the snapshot `tag`, due at `expected_at`.
    fn stored(self, tag: &str, expected_at: Option<String>) -> domania_store::Rerouted {
        domania_store::Rerouted {
            service_id: self.service_id,
            service_name: self.service_name,
            actor: self.actor,
            rule: self.rule,
            explanation: self.explanation,
            snapshot: tag.to_owned(),
            subsector: self.subsector,
            qpv: self.qpv,
            commune: self.commune,
            space: Some(self.space),
            expected_at,
        }
    }
}

/// How far from any parcel a point may be and still be in the territory, in metres.
const NEAR_M: f64 = 100.0;

impl Territory<'_> {
    /// The manager at a Lambert-93 point for an intervention kind.
    pub fn route(&self, x: f64, y: f64, intervention: &str) -> Result<Route> {
        let snap = self.snapshot;
        let point = Point::new(x, y);
        let parcels = snap.parcels_at(point);
        let mut subsectors = snap.zones_at(Layer::Subsectors, point);
        subsectors.sort_by(|a, b| a.key.cmp(&b.key));
        let subsector = subsectors.first().map(|z| z.key.clone());
        let near = snap.parcels_in_box(Rect::new((x - NEAR_M, y - NEAR_M), (x + NEAR_M, y + NEAR_M)));
        if parcels.is_empty() && subsector.is_none() && near.is_empty() {
            return Err(AppError::new(
                ErrorCode::OutsideTerritory,
                format!("no parcel nor sub-sector within {NEAR_M} m of the point: it is outside the territory"),
            ));
        }
        let mut qpv: Vec<&str> = snap.zones_at(Layer::Qpv, point).into_iter().map(|z| z.key.as_str()).collect();
        qpv.sort_unstable();
        // The commune of the parcel here, else of the nearest parcel around.
        let nearest = parcels.first().copied().or_else(|| {
            near.iter().copied().min_by(|&a, &b| {
                let d = |i: usize| {
                    use geo::{Distance, Euclidean};
                    Euclidean.distance(&snap.parcels()[i].geom_l93, &point)
                };
                d(a).total_cmp(&d(b))
            })
        });
        let commune = nearest.map(|i| snap.parcels()[i].idu.chars().take(5).collect::<String>());
        let space_id = parcels.first().map_or("non_cadastre", |&i| snap.parcels()[i].idu.as_str()).to_owned();
        let kind = match parcels.first() {
            Some(&i) => SpaceKind::Parcel { idu: space_id.clone(), actor: snap.holdings()[i].actor() },
            None => SpaceKind::NonCadastre,
        };
        // Inside a sub-sector, the same answer as the map's and `/v1/who`'s.
        let assignments = if let Some(pos) = subsector.as_deref().and_then(|s| (self.space)(s, &space_id)) {
            self.assign.spaces[pos].assignments.clone()
        } else {
            let mut here: Vec<&str> =
                snap.zones_at(Layer::Conventions, point).into_iter().map(|z| z.key.as_str()).collect();
            here.extend(subsector.as_deref());
            self.rules.assign_outside(&kind, &here, self.date)
        };
        let a = assignments.into_iter().find(|a| a.intervention == intervention).ok_or_else(|| {
            AppError::new(ErrorCode::InvalidConfig, format!("no intervention kind {intervention:?} in the rules"))
        })?;
        Ok(Route {
            service_id: a.service.as_ref().map(|s| s.id.clone()),
            service_name: a.service.as_ref().map_or_else(|| format!("no service ({})", a.actor), |s| s.name.clone()),
            actor: a.actor.as_str().to_owned(),
            rule: a.rule.as_str().to_owned(),
            explanation: a.explanation,
            subsector,
            qpv: qpv.first().map(|q| (*q).to_owned()),
            commune,
            space: space_id,
        })
    }
}

/// A report as made.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub service_code: String,
    pub lon: f64,
    pub lat: f64,
    pub description: String,
    pub media_url: Option<String>,
    /// Open311 attributes (`attribute[danger]=true`); `urgent` claims urgency.
    pub attributes: BTreeMap<String, String>,
    /// The token's name (or `anonymous`).
    pub reporter: String,
    /// `open311`, `walk:<file>`…
    pub source: String,
    pub at: Timestamp,
}

fn truthy(v: &str) -> bool {
    matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "oui" | "on")
}

/// RFC 3339 in UTC, to the second (sorts as text).
#[must_use]
pub fn stamp(t: Timestamp) -> String {
    t.round(jiff::Unit::Second).map_or_else(|_| t.to_string(), |r| r.to_string())
}

/// Checks and routes a report, links it to an open duplicate, and stores it.
#[allow(clippy::many_single_char_names)]
pub fn post(reports: &mut RequestStore, t: &Territory<'_>, r: NewReport) -> Result<RequestRow> {
    let (category, x, y, route) = check(t, &r)?;
    // Urgency: claimed, and the objective criteria met.
    let met: Vec<&str> = category
        .urgency
        .iter()
        .filter(|c| r.attributes.get(&c.code).is_some_and(|v| truthy(v)))
        .map(|c| c.code.as_str())
        .collect();
    let claimed = r.attributes.get("urgent").is_some_and(|v| truthy(v));
    let urgency = match (claimed, met.is_empty()) {
        (_, false) => "urgent",
        (true, true) => "review",
        (false, true) => "normal",
    };
    let expected = expected_at(t.rules, &category.intervention, r.at, route.qpv.is_some());
    let at = stamp(r.at);
    let cfg = &t.rules.config().reports;
    let since = stamp(
        r.at.checked_sub(jiff::SignedDuration::from_secs_f64(cfg.duplicate_window_hours * 3600.0)).unwrap_or(r.at),
    );
    let row = RequestRow {
        service_code: category.code.clone(),
        intervention: category.intervention.clone(),
        lon: r.lon,
        lat: r.lat,
        x,
        y,
        description: r.description,
        media_url: r.media_url.filter(|m| !m.trim().is_empty()),
        attributes: serde_json::to_string(&r.attributes).unwrap_or_else(|_| "{}".into()),
        urgency: urgency.into(),
        urgency_reasons: serde_json::to_string(&met).unwrap_or_else(|_| "[]".into()),
        requested_at: at.clone(),
        updated_at: at,
        status: Status::Received.as_str().into(),
        status_notes: (urgency == "review")
            .then(|| "claimed urgent without any of the category's criteria: to be reviewed".to_owned()),
        reporter: r.reporter,
        source: r.source,
        ..RequestRow::default()
    }
    .with_routing(route.stored(t.tag, expected.map(stamp)));
    let open: Vec<&str> = Status::ALL.iter().filter(|s| s.is_open()).map(|s| s.as_str()).collect();
    let distance = cfg.duplicate_distance_m;
    // An urgent report (a criterion met) is never closed as a duplicate: it may say what the
    // open one did not.
    let merge = urgency != "urgent";
    Ok(reports.insert(row, &open, distance, &since, |near, row| {
        if !merge {
            return;
        }
        let d = |n: &domania_store::Nearby| (n.x - row.x).hypot(n.y - row.y);
        if let Some(first) = near.iter().filter(|n| d(n) <= distance).min_by(|a, b| d(a).total_cmp(&d(b))) {
            row.duplicate_of = Some(first.id);
            row.status = Status::Duplicate.as_str().into();
            row.status_notes = Some(format!(
                "duplicate of request {} ({:.0} m away, made {}), which covers it",
                first.id,
                d(first),
                first.requested_at
            ));
        }
    })?)
}

/// Moves a report to another status, by a named token, with a note (required to reject or
/// transfer).
pub fn transition(
    reports: &mut RequestStore,
    id: i64,
    to: Status,
    note: Option<&str>,
    by: &str,
    at: Timestamp,
) -> Result<RequestRow> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if to.needs_reason() && note.is_none() {
        return Err(AppError::new(
            ErrorCode::InvalidArgument,
            format!("a report is {} with a reason (a note)", to.as_str()),
        ));
    }
    Ok(reports.transition(id, to.as_str(), note, by, &stamp(at), |current| {
        let from = Status::parse(&current.status).ok_or_else(|| format!("unknown status {:?}", current.status))?;
        if from.may_become(to) {
            Ok(())
        } else {
            Err(format!("request {id} is {}: it cannot become {}", from.as_str(), to.as_str()))
        }
    })?)
}

/// Routes a stored report again on today's territory (an explicit, logged action: a routing
/// once given never changes by itself when the layers or rules do). The step records the old
/// and the new service and the snapshot routed on.
pub fn reroute(reports: &mut RequestStore, t: &Territory<'_>, id: i64, by: &str, at: Timestamp) -> Result<RequestRow> {
    let current = reports.get(id)?.ok_or_else(|| AppError::new(ErrorCode::NotFound, format!("no report {id}")))?;
    let route = t.route(current.x, current.y, &current.intervention)?;
    let requested: Timestamp = current
        .requested_at
        .parse()
        .map_err(|e| AppError::new(ErrorCode::StoreCorrupt, format!("report {id}: requested_at: {e}")))?;
    let expected = expected_at(t.rules, &current.intervention, requested, route.qpv.is_some()).map(stamp);
    let new = route.stored(t.tag, expected);
    Ok(reports.reroute(id, &new, by, &stamp(at))?)
}

/// Service-level figures of one group of reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelRow {
    /// `qpv`, `commune` or `service`.
    pub by: &'static str,
    /// The QPV code, the commune's INSEE code or the service's name (`none` when none).
    pub group: String,
    /// `YYYY-MM` of the requests.
    pub month: String,
    pub requests: usize,
    pub done: usize,
    /// Median and 90th percentile (nearest rank) of the delay to done, in hours.
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
    /// Of the done requests with an expected level, the share done within it.
    pub within_level: Option<f64>,
    /// Still open.
    pub backlog: usize,
    /// Linked to an open request that covered them: work avoided.
    pub duplicates: usize,
}

impl crate::table::Row for LevelRow {
    const HEADER: &'static [&'static str] = &[
        "by",
        "group",
        "month",
        "requests",
        "done",
        "median_hours",
        "p90_hours",
        "within_level",
        "backlog",
        "duplicates",
    ];
}

/// The median of sorted values (the mean of the two middle ones for an even count).
#[must_use]
pub fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some(f64::midpoint(sorted[n / 2 - 1], sorted[n / 2])),
    }
}

/// The nearest-rank percentile `p` (0–100) of sorted values.
#[must_use]
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = ((p / 100.0) * n as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(n) - 1])
}

/// Figures per QPV, commune and service, and month of request.
pub fn service_levels(reports: &RequestStore) -> Result<Vec<LevelRow>> {
    let all = reports.list(&RequestFilter::default())?;
    let done: BTreeMap<i64, String> = reports.first_reached(Status::Done.as_str())?.into_iter().collect();
    let hours = hours_between;
    let mut groups: BTreeMap<(&'static str, String, String), Vec<&RequestRow>> = BTreeMap::new();
    for r in &all {
        let month: String = r.requested_at.chars().take(7).collect();
        let none = || "none".to_owned();
        for (by, g) in [
            ("qpv", r.qpv.clone().unwrap_or_else(none)),
            ("commune", r.commune.clone().unwrap_or_else(none)),
            ("service", r.service_name.clone()),
        ] {
            groups.entry((by, g, month.clone())).or_default().push(r);
        }
    }
    Ok(groups
        .into_iter()
        .map(|((by, group, month), rs)| {
            let mut delays = Vec::new();
            let (mut within, mut judged) = (0usize, 0usize);
            for r in &rs {
                if let Some(d) = done.get(&r.id).and_then(|at| hours(&r.requested_at, at)) {
                    delays.push(d);
                    if let Some(e) = r.expected_at.as_deref().and_then(|e| hours(&r.requested_at, e)) {
                        judged += 1;
                        within += usize::from(d <= e);
                    }
                }
            }
            delays.sort_by(f64::total_cmp);
            let status = |r: &&&RequestRow| Status::parse(&r.status);
            LevelRow {
                by,
                group,
                month,
                requests: rs.len(),
                done: delays.len(),
                median_hours: median(&delays),
                p90_hours: percentile(&delays, 90.0),
                within_level: (judged > 0).then(|| within as f64 / judged as f64),
                backlog: rs.iter().filter(|r| status(r).is_some_and(Status::is_open)).count(),
                duplicates: rs.iter().filter(|r| status(r) == Some(Status::Duplicate)).count(),
            }
        })
        .collect())
}

impl App {
    /// The reports database: the file given by [`App::with_reports`], else beside a GeoPackage
    /// store (created on first use), else the PostGIS store's own database.
    pub fn reports(&self) -> Result<RequestStore> {
        if let Some(path) = &self.reports {
            return Ok(RequestStore::open(path)?);
        }
        Ok(match self.store_path() {
            domania_store::Location::File(store) => RequestStore::open(&RequestStore::path_for(store))?,
            domania_store::Location::Postgres(url) => RequestStore::open_postgres(url)?,
        })
    }

    /// What routing needs, from the store and `rules`, conventions judged on `date`.
    pub fn routing(&self, rules: crate::files::LoadedRules, date: Date) -> Result<Routing> {
        let snapshot = self.snapshot()?;
        let (_, assign) = snapshot.assign(&rules.rules, date, domania_core::overlay::OverlayOptions::default());
        let index = assign
            .spaces
            .iter()
            .enumerate()
            .map(|(i, s)| ((s.subsector.clone(), domania_engine::space_id(&s.space).to_owned()), i))
            .collect();
        let tag: String = snapshot.versions().iter().map(|(l, v)| format!("{l}:{};", v.unwrap_or(0))).collect();
        let tag = format!("{:016x}", domania_core::hash::fnv1a(format!("{tag}rules:{}", rules.text).as_bytes()));
        Ok(Routing { snapshot, assign, rules, index, tag, date })
    }
}

/// A snapshot, its managers and an index of its spaces: routing outside the server.
pub struct Routing {
    pub snapshot: Snapshot,
    pub assign: AssignReport,
    pub rules: crate::files::LoadedRules,
    index: std::collections::HashMap<(String, String), usize>,
    /// The layers' versions and the rules, hashed: stored with each routing.
    pub tag: String,
    pub date: Date,
}

impl Routing {
    /// Runs `f` on the territory.
    pub fn with<T>(&self, f: impl FnOnce(&Territory<'_>) -> T) -> T {
        let space = |s: &str, id: &str| self.index.get(&(s.to_owned(), id.to_owned())).copied();
        let t = Territory {
            snapshot: &self.snapshot,
            assign: &self.assign,
            rules: &self.rules.rules,
            date: self.date,
            tag: &self.tag,
            space: &space,
        };
        f(&t)
    }
}

/// A report as a line of CSV or JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportLine {
    pub id: i64,
    pub requested_at: String,
    pub service_code: String,
    pub intervention: String,
    pub status: String,
    pub urgency: String,
    pub service_id: Option<String>,
    pub service_name: String,
    pub actor: String,
    pub subsector: Option<String>,
    pub qpv: Option<String>,
    pub commune: Option<String>,
    pub space: Option<String>,
    pub lat: f64,
    pub long: f64,
    pub description: String,
    pub media_url: Option<String>,
    pub duplicate_of: Option<i64>,
    pub expected_at: Option<String>,
    pub updated_at: String,
    pub status_notes: Option<String>,
    pub rule: String,
    pub explanation: String,
    pub reporter: String,
    pub source: String,
}

impl crate::table::Row for ReportLine {
    const HEADER: &'static [&'static str] = &[
        "id",
        "requested_at",
        "service_code",
        "intervention",
        "status",
        "urgency",
        "service_id",
        "service_name",
        "actor",
        "subsector",
        "qpv",
        "commune",
        "space",
        "lat",
        "long",
        "description",
        "media_url",
        "duplicate_of",
        "expected_at",
        "updated_at",
        "status_notes",
        "rule",
        "explanation",
        "reporter",
        "source",
    ];
}

impl From<&RequestRow> for ReportLine {
    fn from(r: &RequestRow) -> Self {
        Self {
            id: r.id,
            requested_at: r.requested_at.clone(),
            service_code: r.service_code.clone(),
            intervention: r.intervention.clone(),
            status: r.status.clone(),
            urgency: r.urgency.clone(),
            service_id: r.service_id.clone(),
            service_name: r.service_name.clone(),
            actor: r.actor.clone(),
            subsector: r.subsector.clone(),
            qpv: r.qpv.clone(),
            commune: r.commune.clone(),
            space: r.space.clone(),
            lat: r.lat,
            long: r.lon,
            description: r.description.clone(),
            media_url: r.media_url.clone(),
            duplicate_of: r.duplicate_of,
            expected_at: r.expected_at.clone(),
            updated_at: r.updated_at.clone(),
            status_notes: r.status_notes.clone(),
            rule: r.rule.clone(),
            explanation: r.explanation.clone(),
            reporter: r.reporter.clone(),
            source: r.source.clone(),
        }
    }
}

/// One observation of a walking diagnostic (*diagnostic en marchant*).
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Where it is in its file (`line 4`, `feature 2`).
    pub at: String,
    pub lon: f64,
    pub lat: f64,
    pub category: String,
    pub note: String,
    pub photo: Option<String>,
}

/// Reads the observations of a walk: CSV (`lon`/`long`, `lat`, `category`, `note`, `photo`;
/// comma or semicolon) or GeoJSON points (properties `category`, `note`, `photo`).
pub fn read_observations(path: &std::path::Path) -> Result<Vec<Observation>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AppError::new(ErrorCode::FileUnreadable, format!("{}: {e}", path.display())))?;
    let bad = |at: &str, m: &str| AppError::new(ErrorCode::InvalidFile, format!("{}: {at}: {m}", path.display()));
    if text.trim_start().starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad("JSON", &e.to_string()))?;
        let features = v["features"].as_array().ok_or_else(|| bad("JSON", "a FeatureCollection is expected"))?;
        return features
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let at = format!("feature {}", i + 1);
                let c = f["geometry"]["coordinates"].as_array().filter(|_| f["geometry"]["type"] == "Point");
                let c = c.ok_or_else(|| bad(&at, "a Point geometry is expected"))?;
                let n = |k: usize| c.get(k).and_then(serde_json::Value::as_f64).ok_or_else(|| bad(&at, "coordinates"));
                let p = &f["properties"];
                let text = |k: &str| p[k].as_str().map(str::to_owned);
                Ok(Observation {
                    lon: n(0)?,
                    lat: n(1)?,
                    category: text("category").ok_or_else(|| bad(&at, "no category"))?,
                    note: text("note").unwrap_or_default(),
                    photo: text("photo"),
                    at,
                })
            })
            .collect();
    }
    let delimiter = if text.lines().next().is_some_and(|h| h.contains(';')) { b';' } else { b',' };
    let mut rd = csv::ReaderBuilder::new().delimiter(delimiter).from_reader(text.as_bytes());
    let header: Vec<String> =
        rd.headers().map_err(|e| bad("header", &e.to_string()))?.iter().map(|h| h.trim().to_lowercase()).collect();
    let col = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
    let (lon, lat, cat) = (
        col(&["lon", "long", "longitude"]),
        col(&["lat", "latitude"]),
        col(&["category", "categorie", "service_code"]),
    );
    let (Some(lon), Some(lat), Some(cat)) = (lon, lat, cat) else {
        return Err(bad("header", "columns lon (or long), lat and category are required"));
    };
    let (note, photo) = (col(&["note", "description"]), col(&["photo", "media_url"]));
    rd.records()
        .enumerate()
        .map(|(i, rec)| {
            let at = format!("line {}", i + 2);
            let rec = rec.map_err(|e| bad(&at, &e.to_string()))?;
            let get = |k: Option<usize>| k.and_then(|k| rec.get(k)).map(str::trim).filter(|v| !v.is_empty());
            let num = |k: usize, what: &str| {
                get(Some(k))
                    .and_then(|v| v.replace(',', ".").parse::<f64>().ok())
                    .ok_or_else(|| bad(&at, &format!("{what} is not a number")))
            };
            Ok(Observation {
                lon: num(lon, "lon")?,
                lat: num(lat, "lat")?,
                category: get(Some(cat)).ok_or_else(|| bad(&at, "no category"))?.to_owned(),
                note: get(note).unwrap_or("").to_owned(),
                photo: get(photo).map(str::to_owned),
                at,
            })
        })
        .collect()
}

/// Posts the observations of a walk as reports (source `walk:<name>`), each routed. Every
/// observation is checked and routed before any is stored: one bad observation stores none,
/// and the error names it.
pub fn import_walk(
    reports: &mut RequestStore,
    t: &Territory<'_>,
    observations: Vec<Observation>,
    name: &str,
    by: &str,
    at: Timestamp,
) -> Result<Vec<RequestRow>> {
    let made: Vec<NewReport> = observations
        .into_iter()
        .map(|o| {
            let r = NewReport {
                service_code: o.category,
                lon: o.lon,
                lat: o.lat,
                description: o.note,
                media_url: o.photo,
                attributes: BTreeMap::new(),
                reporter: by.to_owned(),
                source: format!("walk:{name}"),
                at,
            };
            check(t, &r).map_err(|e| e.context(format!("{name}: {}", o.at)))?;
            Ok(r)
        })
        .collect::<Result<_>>()?;
    made.into_iter().map(|r| post(reports, t, r)).collect()
}

/// The time a report made at `at` is expected to be done by, from the level of its kind
/// (inside a QPV or not, by season); `None` without a level.
fn expected_at(rules: &Rules, intervention: &str, at: Timestamp, in_qpv: bool) -> Option<Timestamp> {
    let l = rules.service_level(intervention)?;
    let month = u8::try_from(at.to_zoned(jiff::tz::TimeZone::UTC).month()).unwrap_or(1);
    at.checked_add(jiff::SignedDuration::from_secs_f64(l.hours(month, in_qpv) * 3600.0)).ok()
}

/// Hours from one stored time to another.
fn hours_between(a: &str, b: &str) -> Option<f64> {
    let (a, b) = (a.parse::<Timestamp>().ok()?, b.parse::<Timestamp>().ok()?);
    Some((b - a).total(jiff::Unit::Second).ok()? / 3600.0)
}

/// Checks a report (category, note or photo, length, a point on Earth in the territory) and
/// routes it: what [`post`] stores, and what a walk checks of every observation before storing
/// any.
fn check<'r>(t: &Territory<'r>, r: &NewReport) -> Result<(&'r domania_rules::Category, f64, f64, Route)> {
    let bad = |m: String| AppError::new(ErrorCode::InvalidArgument, m);
    let category = t.rules.category(&r.service_code).ok_or_else(|| {
        let codes: Vec<&str> = t.rules.config().categories.iter().map(|c| c.code.as_str()).collect();
        AppError::new(
            ErrorCode::NotFound,
            format!("unknown service_code {:?} (services: {})", r.service_code, codes.join(", ")),
        )
    })?;
    if r.description.trim().is_empty() && r.media_url.as_deref().is_none_or(|m| m.trim().is_empty()) {
        return Err(bad("a description or a media_url is required".into()));
    }
    let chars = r.description.chars().count();
    if chars > MAX_DESCRIPTION {
        return Err(bad(format!("the description has {chars} characters; at most {MAX_DESCRIPTION}")));
    }
    if !(r.lon.is_finite() && r.lat.is_finite() && (-180.0..=180.0).contains(&r.lon) && (-90.0..=90.0).contains(&r.lat))
    {
        return Err(bad(format!("lat {} / long {} is not a point on Earth", r.lat, r.lon)));
    }
    let (x, y) = Crs::wgs84().transform_to(&Crs::lambert93(), r.lon, r.lat);
    let route = t.route(x, y, &category.intervention)?;
    Ok((category, x, y, route))
}

/// The annual report of the reports, for a commune or the whole territory: one Markdown
/// document a coordinator can hand out (tables and a chart), and the same figures as CSV.
#[derive(Debug, Clone)]
pub struct Annual {
    /// `territoire` or the commune's INSEE code.
    pub scope: String,
    pub year: i16,
    pub markdown: String,
    /// A bar chart of the requests per kind (done and not), referenced by the Markdown.
    pub svg: String,
    pub csv: String,
}

/// One line of the annual figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnnualRow {
    /// `requests`, `delays` or `land`.
    pub table: &'static str,
    pub kind: String,
    /// The service (requests), or the actor managing the land.
    pub who: String,
    pub requests: Option<usize>,
    pub done: Option<usize>,
    pub open: Option<usize>,
    pub duplicates: Option<usize>,
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
    pub within_level: Option<f64>,
    pub area_m2: Option<f64>,
}

impl crate::table::Row for AnnualRow {
    const HEADER: &'static [&'static str] = &[
        "table",
        "kind",
        "who",
        "requests",
        "done",
        "open",
        "duplicates",
        "median_hours",
        "p90_hours",
        "within_level",
        "area_m2",
    ];
}

fn fmt_opt(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(|| "–".to_owned(), |x| format!("{x:.1}{unit}"))
}

/// The annual report of `year`, for `commune` (INSEE code) or the whole territory.
pub fn annual(reports: &RequestStore, routing: &Routing, year: i16, commune: Option<&str>) -> Result<Annual> {
    let rules = &routing.rules.rules;
    let label =
        |k: &str| rules.config().interventions.iter().find(|i| i.id == k).map_or(k, |i| i.label.as_str()).to_owned();
    let prefix = format!("{year:04}-");
    let rows: Vec<RequestRow> = reports
        .list(&RequestFilter::default())?
        .into_iter()
        .filter(|r| r.requested_at.starts_with(&prefix))
        .filter(|r| commune.is_none_or(|c| r.commune.as_deref() == Some(c)))
        .collect();
    let done: BTreeMap<i64, String> = reports.first_reached(Status::Done.as_str())?.into_iter().collect();
    let delay = |r: &RequestRow| hours_between(&r.requested_at, done.get(&r.id)?);
    let expected = |r: &RequestRow| hours_between(&r.requested_at, r.expected_at.as_deref()?);
    let status = |r: &RequestRow| Status::parse(&r.status);
    let mut out = Vec::new();
    // Requests by kind and service.
    let mut by_service: BTreeMap<(String, String), Vec<&RequestRow>> = BTreeMap::new();
    for r in &rows {
        by_service.entry((r.intervention.clone(), r.service_name.clone())).or_default().push(r);
    }
    for ((kind, service), rs) in &by_service {
        out.push(AnnualRow {
            table: "requests",
            kind: label(kind),
            who: service.clone(),
            requests: Some(rs.len()),
            done: Some(rs.iter().filter(|r| status(r) == Some(Status::Done)).count()),
            open: Some(rs.iter().filter(|r| status(r).is_some_and(Status::is_open)).count()),
            duplicates: Some(rs.iter().filter(|r| status(r) == Some(Status::Duplicate)).count()),
            median_hours: None,
            p90_hours: None,
            within_level: None,
            area_m2: None,
        });
    }
    // Delays against the levels, by kind.
    let mut by_kind: BTreeMap<String, Vec<&RequestRow>> = BTreeMap::new();
    for r in &rows {
        by_kind.entry(r.intervention.clone()).or_default().push(r);
    }
    for (kind, rs) in &by_kind {
        let mut d: Vec<f64> = rs.iter().filter_map(|r| delay(r)).collect();
        d.sort_by(f64::total_cmp);
        let judged: Vec<bool> = rs.iter().filter_map(|r| Some(delay(r)? <= expected(r)?)).collect();
        out.push(AnnualRow {
            table: "delays",
            kind: label(kind),
            who: rules.service_level(kind).map_or_else(
                || "no level set".to_owned(),
                |l| {
                    let seasons = if l.seasons.is_empty() { "" } else { ", variantes saisonnières" };
                    format!("{} h ({} h en QPV{seasons})", l.hours, l.qpv_hours.unwrap_or(l.hours))
                },
            ),
            requests: Some(rs.len()),
            done: Some(d.len()),
            open: None,
            duplicates: Some(rs.iter().filter(|r| status(r) == Some(Status::Duplicate)).count()),
            median_hours: median(&d),
            p90_hours: percentile(&d, 90.0),
            within_level: (!judged.is_empty())
                .then(|| judged.iter().filter(|x| **x).count() as f64 / judged.len() as f64),
            area_m2: None,
        });
    }
    // Land each actor manages, per kind (from the assignments of the sub-sectors' spaces).
    let mut land: BTreeMap<(String, String), f64> = BTreeMap::new();
    for s in &routing.assign.spaces {
        let in_scope = match (&s.space, commune) {
            (_, None) => true,
            (SpaceKind::Parcel { idu, .. }, Some(c)) => idu.starts_with(c),
            (SpaceKind::NonCadastre, Some(_)) => false,
        };
        if in_scope {
            for a in &s.assignments {
                *land.entry((a.intervention.clone(), a.actor.label_fr().to_owned())).or_default() += s.area_m2;
            }
        }
    }
    for ((kind, actor), area) in &land {
        out.push(AnnualRow {
            table: "land",
            kind: label(kind),
            who: actor.clone(),
            requests: None,
            done: None,
            open: None,
            duplicates: None,
            median_hours: None,
            p90_hours: None,
            within_level: None,
            area_m2: Some((area * 100.0).round() / 100.0),
        });
    }

    let scope = commune.map_or_else(|| "territoire".to_owned(), str::to_owned);
    let title = commune.map_or_else(|| "l'ensemble du territoire".to_owned(), |c| format!("la commune {c}"));
    let total = rows.len();
    let dups = rows.iter().filter(|r| status(r) == Some(Status::Duplicate)).count();
    let chart = format!("annual-{year}-{scope}.svg");
    let (plural, dup_plural) = (if total > 1 { "s" } else { "" }, if dups > 1 { "s" } else { "" });
    let mut md = format!(
        "# Signalements {year} — {title}\n\n{total} signalement{plural} reçu{plural}, dont {dups} doublon{dup_plural} rattaché{dup_plural} à un \
         signalement déjà ouvert (travail évité). Chaque signalement est adressé au gestionnaire de l'espace au point signalé \
         pour son type d'intervention (domanialité, délégation de gestion, conventions).\n\n![Signalements par type]({chart})\n\n\
         ## Signalements par type et par service\n\n| type | service | reçus | faits | ouverts | doublons |\n|---|---|---:|---:|---:|---:|\n"
    );
    let n = |v: Option<usize>| v.map_or_else(|| "–".to_owned(), |x| x.to_string());
    for r in out.iter().filter(|r| r.table == "requests") {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            r.kind,
            r.who,
            n(r.requests),
            n(r.done),
            n(r.open),
            n(r.duplicates)
        );
    }
    md.push_str(
        "\n## Délais au regard des niveaux de service\n\nDélai : du signalement à l'intervention faite. Médiane et 90e centile \
         (rang le plus proche), en heures.\n\n| type | niveau attendu | reçus | faits | médiane | 90e centile | dans le niveau |\n|---|---|---:|---:|---:|---:|---:|\n",
    );
    for r in out.iter().filter(|r| r.table == "delays") {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.kind,
            r.who,
            n(r.requests),
            n(r.done),
            fmt_opt(r.median_hours, " h"),
            fmt_opt(r.p90_hours, " h"),
            fmt_opt(r.within_level.map(|x| x * 100.0), " %")
        );
    }
    md.push_str("\n## Surfaces gérées par acteur\n\nPar type d'intervention, la surface des espaces des sous-secteurs que chaque acteur gère.");
    if commune.is_some() {
        md.push_str(" Le non cadastré (voirie) n'appartient à aucune commune dans le cadastre : il n'est compté que dans le rapport du territoire.");
    }
    md.push_str("\n\n| type | acteur | surface (ha) |\n|---|---|---:|\n");
    for r in out.iter().filter(|r| r.table == "land") {
        let _ = writeln!(md, "| {} | {} | {:.2} |", r.kind, r.who, r.area_m2.unwrap_or(0.0) / 1e4);
    }
    // The chart: one bar per kind, done in green, the rest in grey.
    let kinds: Vec<(String, usize, usize)> = by_kind
        .iter()
        .map(|(k, rs)| (label(k), rs.len(), rs.iter().filter(|r| status(r) == Some(Status::Done)).count()))
        .collect();
    let max = kinds.iter().map(|k| k.1).max().unwrap_or(1).max(1) as f64;
    let (w, bar) = (360.0, 26.0);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"{}\" font-family=\"sans-serif\" font-size=\"13\">\n",
        kinds.len() as f64 * (bar + 8.0) + 30.0
    );
    for (i, (k, all, d)) in kinds.iter().enumerate() {
        let y = i as f64 * (bar + 8.0) + 10.0;
        let (wa, wd) = (w * *all as f64 / max, w * *d as f64 / max);
        let k = crate::documents::esc(k);
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{:.0}\">{k}</text>\n<rect x=\"240\" y=\"{y:.0}\" width=\"{wa:.1}\" height=\"{bar}\" fill=\"#bbb\"/>\n\
             <rect x=\"240\" y=\"{y:.0}\" width=\"{wd:.1}\" height=\"{bar}\" fill=\"#2a9d4b\"/>\n<text x=\"{:.0}\" y=\"{:.0}\">{d} / {all}</text>\n",
            y + 18.0,
            245.0 + wa,
            y + 18.0
        );
    }
    svg.push_str("</svg>\n");
    let csv = crate::table::rows_csv(&out, b',')?;
    Ok(Annual { scope, year, markdown: md, svg, csv })
}

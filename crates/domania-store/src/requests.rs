//! Reports of dysfunctions: beside a GeoPackage store, a SQLite database of their own
//! (`<store>.reports`), in WAL mode with full synchronous commits; with a PostGIS store, the
//! tables `reports` and `report_events` of its database, which every server of the store shares. Reports are an operational log written many times
//! a minute, also while a layer import holds the store's writer lock for minutes; they carry
//! residents' descriptions that do not belong in a GeoPackage handed around to open in QGIS.
//! Every write is one transaction: a report and its first event, a status change and its event,
//! never one without the other.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use domania_core::Actor;

use crate::error::{Result, StoreError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS reports (
  id INTEGER PRIMARY KEY,
  service_code TEXT NOT NULL,
  intervention TEXT NOT NULL,
  lon REAL NOT NULL, lat REAL NOT NULL, x REAL NOT NULL, y REAL NOT NULL,
  description TEXT NOT NULL,
  media_url TEXT,
  attributes TEXT NOT NULL,
  urgency TEXT NOT NULL,
  urgency_reasons TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  expected_at TEXT,
  status TEXT NOT NULL,
  status_notes TEXT,
  service_id TEXT,
  service_name TEXT NOT NULL,
  actor TEXT NOT NULL,
  rule TEXT NOT NULL,
  explanation TEXT NOT NULL,
  snapshot TEXT NOT NULL,
  subsector TEXT,
  qpv TEXT,
  commune TEXT,
  space TEXT,
  duplicate_of INTEGER REFERENCES reports(id),
  reporter TEXT NOT NULL,
  source TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reports_near ON reports (intervention, x, y);
CREATE INDEX IF NOT EXISTS reports_requested ON reports (requested_at);
CREATE TABLE IF NOT EXISTS report_events (
  report_id INTEGER NOT NULL REFERENCES reports(id),
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  note TEXT,
  by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS report_events_report ON report_events (report_id);
CREATE TABLE IF NOT EXISTS report_contacts (
  report_id INTEGER PRIMARY KEY REFERENCES reports(id),
  email TEXT,
  name TEXT,
  phone TEXT
);
CREATE TABLE IF NOT EXISTS report_deliveries (
  id INTEGER PRIMARY KEY,
  report_id INTEGER NOT NULL REFERENCES reports(id),
  role TEXT NOT NULL,
  recipient TEXT NOT NULL,
  status TEXT NOT NULL,
  at TEXT NOT NULL,
  note TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at TEXT,
  sent_at TEXT,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS report_deliveries_due ON report_deliveries (sent_at, next_at);
CREATE TABLE IF NOT EXISTS report_photos (
  report_id INTEGER PRIMARY KEY REFERENCES reports(id),
  mime TEXT NOT NULL,
  photo BLOB NOT NULL,
  thumbnail BLOB
);
";

/// A report's photo as stored: the picture (its metadata already taken out), its type, and a
/// thumbnail (JPEG; none of a photo Domania does not decode, a HEIC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoRow {
    pub mime: String,
    pub photo: Vec<u8>,
    pub thumbnail: Option<Vec<u8>>,
}

/// Where the photo stored with report `id` is served, relative to the server's base URL: a
/// report's `media_url` is this path when its photo was sent with it (the answers make it
/// absolute), the address the reporter gave otherwise.
#[must_use]
pub fn photo_path(id: i64) -> String {
    format!("v1/reports/{id}/photo")
}

/// How a reporter can be reached (GeoReport's `email`, `first_name`/`last_name`, `phone`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
}

/// Someone a report's step is to be told to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// `service` (the routed service), `reporter`, `referent` (the commune's).
    pub role: String,
    /// An email address.
    pub address: String,
}

const INSERT_DELIVERY: &str = "INSERT INTO report_deliveries (report_id, role, recipient, status, at, note, next_at) \
                      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5)";
/// The statements that store `contact` and `photo` and queue the messages to `to` for a new
/// report.
fn queued(
    report: &RequestRow,
    contact: Option<&Contact>,
    photo: Option<&PhotoRow>,
    to: Vec<Recipient>,
) -> Vec<(&'static str, Vec<P>)> {
    let mut out = Vec::new();
    if let Some(p) = photo {
        out.push(("UPDATE reports SET media_url = ?2 WHERE id = ?1", vec![P::I(report.id), t(&photo_path(report.id))]));
        out.push((
            "INSERT INTO report_photos (report_id, mime, photo, thumbnail) VALUES (?1, ?2, ?3, ?4)",
            vec![P::I(report.id), t(&p.mime), P::B(p.photo.clone()), P::OB(p.thumbnail.clone())],
        ));
    }
    if let Some(c) = contact.filter(|c| c.email.is_some() || c.name.is_some() || c.phone.is_some()) {
        out.push((
            "INSERT INTO report_contacts (report_id, email, name, phone) VALUES (?1, ?2, ?3, ?4)",
            vec![P::I(report.id), ot(c.email.as_deref()), ot(c.name.as_deref()), ot(c.phone.as_deref())],
        ));
    }
    out.extend(queued_change(report, &report.requested_at, report.status_notes.as_deref(), to));
    out
}

/// The statements that queue the messages to `to` for the step of `report` made at `at`.
fn queued_change(report: &RequestRow, at: &str, note: Option<&str>, to: Vec<Recipient>) -> Vec<(&'static str, Vec<P>)> {
    to.into_iter()
        .map(|r| {
            (
                INSERT_DELIVERY,
                vec![P::I(report.id), t(&r.role), t(&r.address), t(report.status.as_str()), t(at), ot(note)],
            )
        })
        .collect()
}

/// Where a service request is in its life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Received,
    Acknowledged,
    Planned,
    InProgress,
    Done,
    /// Refused by the service, with a reason.
    Rejected,
    /// Handed to another organisation, with a reason.
    Transferred,
    /// Linked to an open request of the same kind nearby, which covers it.
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

    /// Whether a request may go from `self` to `to`: forwards along received → acknowledged →
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

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Self::parse(s).ok_or_else(|| format!("unknown status {s:?}"))
    }
}

/// How urgent a request is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    #[default]
    Normal,
    /// Claimed urgent without any of the category's objective criteria: to be reviewed.
    Review,
    /// One of the category's objective criteria is met.
    Urgent,
}

impl Urgency {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Normal => "normal",
            Urgency::Review => "review",
            Urgency::Urgent => "urgent",
        }
    }
}

impl std::str::FromStr for Urgency {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        [Urgency::Normal, Urgency::Review, Urgency::Urgent]
            .into_iter()
            .find(|u| u.as_str() == s)
            .ok_or_else(|| format!("unknown urgency {s:?}"))
    }
}

/// A column holding the text of a closed set (a status, an urgency, an actor), read by either
/// engine into its enum; a text outside the set is a damaged row, said so.
pub(crate) struct Parsed<T>(pub(crate) T);

impl<T: std::str::FromStr> rusqlite::types::FromSql for Parsed<T>
where
    T::Err: std::fmt::Display,
{
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let text = v.as_str()?;
        text.parse().map(Parsed).map_err(|e: T::Err| rusqlite::types::FromSqlError::Other(e.to_string().into()))
    }
}

impl<'a, T: std::str::FromStr> postgres::types::FromSql<'a> for Parsed<T>
where
    T::Err: std::fmt::Display,
{
    fn from_sql(
        ty: &postgres::types::Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let text = <&str as postgres::types::FromSql>::from_sql(ty, raw)?;
        text.parse().map(Parsed).map_err(|e: T::Err| e.to_string().into())
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        <&str as postgres::types::FromSql>::accepts(ty)
    }
}

/// One request as stored. Times are RFC 3339 in UTC (they sort as text).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestRow {
    pub id: i64,
    pub service_code: String,
    pub intervention: String,
    pub lon: f64,
    pub lat: f64,
    /// Lambert-93.
    pub x: f64,
    pub y: f64,
    pub description: String,
    pub media_url: Option<String>,
    /// The Open311 attributes given, as a JSON object.
    pub attributes: String,
    pub urgency: Urgency,
    /// The criteria met, as a JSON array.
    pub urgency_reasons: String,
    pub requested_at: String,
    pub updated_at: String,
    pub expected_at: Option<String>,
    pub status: Status,
    pub status_notes: Option<String>,
    pub service_id: Option<String>,
    pub service_name: String,
    pub actor: Actor,
    pub rule: String,
    pub explanation: String,
    /// The tag of the snapshot the report was routed on.
    pub snapshot: String,
    pub subsector: Option<String>,
    pub qpv: Option<String>,
    pub commune: Option<String>,
    pub space: Option<String>,
    pub duplicate_of: Option<i64>,
    /// The token that posted it (`anonymous` when public reports are on).
    pub reporter: String,
    /// How it came: `open311`, `walk:<file>`…
    pub source: String,
}

/// One dated step of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub at: String,
    /// `status`, `reroute` or `alert`.
    pub kind: String,
    pub status: Status,
    pub note: Option<String>,
    pub by: String,
}

/// A report's new routing.
#[derive(Debug, Clone, PartialEq)]
pub struct Rerouted {
    pub service_id: Option<String>,
    pub service_name: String,
    pub actor: Actor,
    pub rule: String,
    pub explanation: String,
    pub snapshot: String,
    pub subsector: Option<String>,
    pub qpv: Option<String>,
    pub commune: Option<String>,
    pub space: Option<String>,
    pub expected_at: Option<String>,
}

impl RequestRow {
    /// The report's routing (service, rule, place, due time).
    #[must_use]
    pub fn routing(&self) -> Rerouted {
        Rerouted {
            service_id: self.service_id.clone(),
            service_name: self.service_name.clone(),
            actor: self.actor,
            rule: self.rule.clone(),
            explanation: self.explanation.clone(),
            snapshot: self.snapshot.clone(),
            subsector: self.subsector.clone(),
            qpv: self.qpv.clone(),
            commune: self.commune.clone(),
            space: self.space.clone(),
            expected_at: self.expected_at.clone(),
        }
    }

    /// The report with this routing (service, rule, place, due time).
    #[must_use]
    pub fn with_routing(self, r: Rerouted) -> Self {
        Self {
            service_id: r.service_id,
            service_name: r.service_name,
            actor: r.actor,
            rule: r.rule,
            explanation: r.explanation,
            snapshot: r.snapshot,
            subsector: r.subsector,
            qpv: r.qpv,
            commune: r.commune,
            space: r.space,
            expected_at: r.expected_at,
            ..self
        }
    }
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub ids: Vec<i64>,
    pub service_codes: Vec<String>,
    pub statuses: Vec<Status>,
    /// Requested at or after (RFC 3339, UTC).
    pub start: Option<String>,
    /// Requested at or before.
    pub end: Option<String>,
    pub limit: Option<usize>,
}

/// An open report near a point, a duplicate candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct Nearby {
    pub id: i64,
    pub x: f64,
    pub y: f64,
    pub requested_at: String,
}

/// The reports database: a SQLite file, or the tables `reports` and `report_events` of a
/// PostGIS store's database (shared by every server of the store).
pub struct RequestStore {
    pub(crate) db: Db,
    /// The file, or the database's masked URL.
    path: PathBuf,
}

pub(crate) enum Db {
    Sqlite(Connection),
    Pg(Box<PgReports>),
}

/// The reports in a PostGIS store's database.
pub(crate) struct PgReports {
    /// The connection, made again when the server closed it (a restart, a failover).
    client: std::cell::RefCell<postgres::Client>,
    url: String,
}

/// A connection to the reports of a Domania store's database.
fn pg_connect(url: &str, shown: &str) -> Result<postgres::Client> {
    let mut client = crate::pg::client(url)?;
    let store: bool = client.query_one("SELECT to_regclass('domania_schema') IS NOT NULL", &[])?.get(0);
    if !store {
        return Err(StoreError::Missing { path: shown.into() });
    }
    let present = |c: &mut postgres::Client| -> Result<bool> {
        Ok(c.query_one(
            "SELECT to_regclass('reports') IS NOT NULL AND to_regclass('report_events') IS NOT NULL \
             AND to_regclass('report_deliveries') IS NOT NULL AND to_regclass('report_contacts') IS NOT NULL",
            &[],
        )?
        .get(0))
    };
    if !present(&mut client)? {
        // Servers started together on a new store: the tables are created once, under the
        // schema lock, by whichever takes it first; the others find them once it is theirs.
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&crate::pg::SCHEMA_LOCK])?;
        tx.batch_execute(PG_SCHEMA)?;
        tx.commit()?;
    }
    Ok(client)
}

impl PgReports {
    /// The connection, made again if it was closed.
    pub(crate) fn client(&self) -> Result<std::cell::RefMut<'_, postgres::Client>> {
        let mut c = self.client.borrow_mut();
        if c.is_closed() {
            *c = pg_connect(&self.url, &crate::location::Location::Postgres(self.url.clone()).to_string())?;
        }
        Ok(c)
    }
}

impl std::fmt::Debug for RequestStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestStore").field("path", &self.path).finish_non_exhaustive()
    }
}

const COLUMNS: &str = "id, service_code, intervention, lon, lat, x, y, description, media_url, attributes, urgency, \
     urgency_reasons, requested_at, updated_at, expected_at, status, status_notes, service_id, service_name, actor, rule, \
     explanation, snapshot, subsector, qpv, commune, space, duplicate_of, reporter, source";

/// A report from a row of either engine (`get` for rusqlite, `try_get` for postgres).
macro_rules! report_row {
    ($r:ident . $get:ident) => {
        RequestRow {
            id: $r.$get(0)?,
            service_code: $r.$get(1)?,
            intervention: $r.$get(2)?,
            lon: $r.$get(3)?,
            lat: $r.$get(4)?,
            x: $r.$get(5)?,
            y: $r.$get(6)?,
            description: $r.$get(7)?,
            media_url: $r.$get(8)?,
            attributes: $r.$get(9)?,
            urgency: $r.$get::<_, Parsed<Urgency>>(10)?.0,
            urgency_reasons: $r.$get(11)?,
            requested_at: $r.$get(12)?,
            updated_at: $r.$get(13)?,
            expected_at: $r.$get(14)?,
            status: $r.$get::<_, Parsed<Status>>(15)?.0,
            status_notes: $r.$get(16)?,
            service_id: $r.$get(17)?,
            service_name: $r.$get(18)?,
            actor: $r.$get::<_, Parsed<Actor>>(19)?.0,
            rule: $r.$get(20)?,
            explanation: $r.$get(21)?,
            snapshot: $r.$get(22)?,
            subsector: $r.$get(23)?,
            qpv: $r.$get(24)?,
            commune: $r.$get(25)?,
            space: $r.$get(26)?,
            duplicate_of: $r.$get(27)?,
            reporter: $r.$get(28)?,
            source: $r.$get(29)?,
        }
    };
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RequestRow> {
    Ok(report_row!(r.get))
}

fn pg_row(r: &postgres::Row) -> std::result::Result<RequestRow, postgres::Error> {
    Ok(report_row!(r.try_get))
}

/// A parameter of either engine.
#[derive(Debug, Clone)]
pub(crate) enum P {
    I(i64),
    OI(Option<i64>),
    F(f64),
    T(String),
    OT(Option<String>),
    B(Vec<u8>),
    OB(Option<Vec<u8>>),
}

impl P {
    pub(crate) fn sqlite(&self) -> rusqlite::types::Value {
        use rusqlite::types::Value as V;
        match self {
            P::I(i) => V::Integer(*i),
            P::OI(i) => i.map_or(V::Null, V::Integer),
            P::F(f) => V::Real(*f),
            P::T(t) => V::Text(t.clone()),
            P::OT(t) => t.clone().map_or(V::Null, V::Text),
            P::B(b) => V::Blob(b.clone()),
            P::OB(b) => b.clone().map_or(V::Null, V::Blob),
        }
    }
    pub(crate) fn pg(&self) -> &(dyn postgres::types::ToSql + Sync) {
        match self {
            P::I(i) => i,
            P::OI(i) => i,
            P::F(f) => f,
            P::T(t) => t,
            P::OT(t) => t,
            P::B(b) => b,
            P::OB(b) => b,
        }
    }
}

pub(crate) fn t(s: &str) -> P {
    P::T(s.to_owned())
}

pub(crate) fn ot(s: Option<&str>) -> P {
    P::OT(s.map(str::to_owned))
}

/// SQL written for SQLite (`?1`, or bare `?` numbered in order) for PostgreSQL (`$1`).
pub(crate) fn pg_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '?' {
            out.push(c);
            continue;
        }
        out.push('$');
        if chars.peek().is_some_and(char::is_ascii_digit) {
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                out.push(d);
            }
        } else {
            n += 1;
            let _ = write!(out, "{n}");
        }
    }
    out
}

pub(crate) fn pg_params(ps: &[P]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    ps.iter().map(P::pg).collect()
}

const INSERT_EVENT: &str =
    "INSERT INTO report_events (report_id, at, kind, status, note, by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// The open reports near a point (see [`RequestStore::insert`]).
fn near_sql(n_statuses: usize) -> String {
    let marks = vec!["?"; n_statuses].join(",");
    format!(
        "SELECT id, x, y, requested_at FROM reports WHERE intervention = ? AND x BETWEEN ? AND ? AND y BETWEEN ? AND ? \
         AND requested_at >= ? AND duplicate_of IS NULL AND status IN ({marks}) ORDER BY requested_at, id"
    )
}

/// The columns of a report's routing, in the order of [`routing_params`]: written by an
/// insert and by a re-route alike.
const ROUTING: [&str; 11] = [
    "service_id",
    "service_name",
    "actor",
    "rule",
    "explanation",
    "snapshot",
    "subsector",
    "qpv",
    "commune",
    "space",
    "expected_at",
];

fn routing_params(r: &Rerouted) -> Vec<P> {
    vec![
        ot(r.service_id.as_deref()),
        t(&r.service_name),
        t(r.actor.as_str()),
        t(&r.rule),
        t(&r.explanation),
        t(&r.snapshot),
        ot(r.subsector.as_deref()),
        ot(r.qpv.as_deref()),
        ot(r.commune.as_deref()),
        ot(r.space.as_deref()),
        ot(r.expected_at.as_deref()),
    ]
}

/// The insert of a report: the columns of [`insert_params`], in its order.
static INSERT_REPORT: LazyLock<String> = LazyLock::new(|| {
    let head = [
        "service_code",
        "intervention",
        "lon",
        "lat",
        "x",
        "y",
        "description",
        "media_url",
        "attributes",
        "urgency",
        "urgency_reasons",
        "requested_at",
        "updated_at",
        "status",
        "status_notes",
    ];
    let cols: Vec<&str> = head.into_iter().chain(ROUTING).chain(["duplicate_of", "reporter", "source"]).collect();
    let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
    format!("INSERT INTO reports ({}) VALUES ({})", cols.join(", "), marks.join(", "))
});

fn insert_params(r: &RequestRow) -> Vec<P> {
    let mut params = vec![
        t(&r.service_code),
        t(&r.intervention),
        P::F(r.lon),
        P::F(r.lat),
        P::F(r.x),
        P::F(r.y),
        t(&r.description),
        ot(r.media_url.as_deref()),
        t(&r.attributes),
        t(r.urgency.as_str()),
        t(&r.urgency_reasons),
        t(&r.requested_at),
        t(&r.updated_at),
        t(r.status.as_str()),
        ot(r.status_notes.as_deref()),
    ];
    params.extend(routing_params(&r.routing()));
    params.extend([P::OI(r.duplicate_of), t(&r.reporter), t(&r.source)]);
    params
}

/// A re-route: the routing columns (`?2`…), `updated_at`, of the report `?1`.
static REROUTE: LazyLock<String> = LazyLock::new(|| {
    let set: Vec<String> = ROUTING.iter().enumerate().map(|(i, c)| format!("{c} = ?{}", i + 2)).collect();
    format!("UPDATE reports SET {}, updated_at = ?{} WHERE id = ?1", set.join(", "), ROUTING.len() + 2)
});

fn reroute_params(id: i64, new: &Rerouted, at: &str) -> Vec<P> {
    let mut params = vec![P::I(id)];
    params.extend(routing_params(new));
    params.push(t(at));
    params
}

fn get_in(tx: &Connection, id: i64) -> Result<Option<RequestRow>> {
    Ok(tx.query_row(&format!("SELECT {COLUMNS} FROM reports WHERE id = ?1"), [id], row).optional()?)
}

fn pg_get_in(tx: &mut impl postgres::GenericClient, id: i64) -> Result<Option<RequestRow>> {
    Ok(tx
        .query_opt(&format!("SELECT {COLUMNS} FROM reports WHERE id = $1"), &[&id])?
        .map(|r| pg_row(&r))
        .transpose()?)
}

/// The schema of the reports in PostgreSQL (the SQLite one with its types).
const PG_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS reports (
  id bigserial PRIMARY KEY, service_code text NOT NULL, intervention text NOT NULL,
  lon double precision NOT NULL, lat double precision NOT NULL, x double precision NOT NULL,
  y double precision NOT NULL, description text NOT NULL, media_url text, attributes text NOT NULL,
  urgency text NOT NULL, urgency_reasons text NOT NULL, requested_at text NOT NULL, updated_at text NOT NULL,
  expected_at text, status text NOT NULL, status_notes text, service_id text, service_name text NOT NULL,
  actor text NOT NULL, rule text NOT NULL, explanation text NOT NULL, snapshot text NOT NULL, subsector text,
  qpv text, commune text, space text, duplicate_of bigint REFERENCES reports(id), reporter text NOT NULL,
  source text NOT NULL);
CREATE INDEX IF NOT EXISTS reports_near ON reports (intervention, x, y);
CREATE INDEX IF NOT EXISTS reports_requested ON reports (requested_at);
CREATE TABLE IF NOT EXISTS report_events (
  seq bigserial PRIMARY KEY, report_id bigint NOT NULL REFERENCES reports(id), at text NOT NULL,
  kind text NOT NULL, status text NOT NULL, note text, by text NOT NULL);
CREATE INDEX IF NOT EXISTS report_events_report ON report_events (report_id);
CREATE TABLE IF NOT EXISTS report_contacts (
  report_id bigint PRIMARY KEY REFERENCES reports(id), email text, name text, phone text);
CREATE TABLE IF NOT EXISTS report_deliveries (
  id bigserial PRIMARY KEY, report_id bigint NOT NULL REFERENCES reports(id), role text NOT NULL,
  recipient text NOT NULL, status text NOT NULL, at text NOT NULL, note text,
  attempts integer NOT NULL DEFAULT 0, next_at text, sent_at text, last_error text);
CREATE INDEX IF NOT EXISTS report_deliveries_due ON report_deliveries (sent_at, next_at);
CREATE TABLE IF NOT EXISTS report_photos (
  report_id bigint PRIMARY KEY REFERENCES reports(id), mime text NOT NULL, photo bytea NOT NULL,
  thumbnail bytea);
";

impl RequestStore {
    /// The reports database of a store: `<store>.reports` beside it.
    #[must_use]
    pub fn path_for(store: &Path) -> PathBuf {
        let mut p = store.as_os_str().to_owned();
        p.push(".reports");
        PathBuf::from(p)
    }

    /// Opens (creating it when missing) the reports database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let conn =
            Connection::open(path).map_err(|e| StoreError::Open { path: path.to_owned(), reason: e.to_string() })?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self { db: Db::Sqlite(conn), path: path.to_owned() })
    }

    /// Opens the reports of the PostGIS store at `url` (their tables created when missing). A
    /// database without a Domania store is refused: nothing is created in it.
    pub fn open_postgres(url: &str) -> Result<Self> {
        let shown = crate::location::Location::Postgres(url.to_owned()).to_string();
        let client = pg_connect(url, &shown)?;
        let pg = PgReports { client: std::cell::RefCell::new(client), url: url.to_owned() };
        Ok(Self { db: Db::Pg(Box::new(pg)), path: PathBuf::from(shown) })
    }

    /// Where it is.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stores a report and its first event in one transaction. Before it is stored, `decide` is
    /// given the open reports of the same intervention kind within `distance` metres of it made
    /// at or after `since`, and may make it a duplicate of one (setting its `duplicate_of`,
    /// status and notes): the search and the insert are one transaction (on PostgreSQL, under a
    /// lock that keeps other inserts out), so two reports of the same thing posted together
    /// cannot both be first. Returns the new report.
    ///
    /// The reporter's `contact` and the `photo` are stored with it (its `media_url` then the
    /// photo's [`photo_path`]), and the messages `mail` names for the new report (given it once
    /// decided) are queued in the same transaction: a report stored is a report whose messages
    /// will be sent.
    #[allow(clippy::too_many_arguments)]
    pub fn insert(
        &mut self,
        mut report: RequestRow,
        open_statuses: &[Status],
        distance: f64,
        since: &str,
        decide: impl FnOnce(&[Nearby], &mut RequestRow),
        contact: Option<&Contact>,
        photo: Option<&PhotoRow>,
        mail: impl FnOnce(&RequestRow) -> Vec<Recipient>,
    ) -> Result<RequestRow> {
        let mut near_args = vec![
            t(&report.intervention),
            P::F(report.x - distance),
            P::F(report.x + distance),
            P::F(report.y - distance),
            P::F(report.y + distance),
            t(since),
        ];
        near_args.extend(open_statuses.iter().map(|s| t(s.as_str())));
        let near_sql = near_sql(open_statuses.len());
        match &mut self.db {
            Db::Sqlite(conn) => {
                let tx = Transaction::new(conn, TransactionBehavior::Immediate)?;
                let near = {
                    let mut st = tx.prepare(&near_sql)?;
                    st.query_map(rusqlite::params_from_iter(near_args.iter().map(P::sqlite)), |r| {
                        Ok(Nearby { id: r.get(0)?, x: r.get(1)?, y: r.get(2)?, requested_at: r.get(3)? })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?
                };
                decide(&near, &mut report);
                tx.execute(&INSERT_REPORT, rusqlite::params_from_iter(insert_params(&report).iter().map(P::sqlite)))?;
                let id = tx.last_insert_rowid();
                let r = &report;
                tx.execute(
                    INSERT_EVENT,
                    params![id, r.requested_at, "status", r.status.as_str(), r.status_notes, r.reporter],
                )?;
                report.id = id;
                if photo.is_some() {
                    report.media_url = Some(photo_path(id));
                }
                let queued = queued(&report, contact, photo, mail(&report));
                for (sql, ps) in &queued {
                    tx.execute(sql, rusqlite::params_from_iter(ps.iter().map(P::sqlite)))?;
                }
                tx.commit()?;
            }
            Db::Pg(pg) => {
                let mut client = pg.client()?;
                let mut tx = client.transaction()?;
                tx.batch_execute("LOCK TABLE reports IN SHARE ROW EXCLUSIVE MODE")?;
                let near: Vec<Nearby> = tx
                    .query(&pg_sql(&near_sql), &pg_params(&near_args))?
                    .iter()
                    .map(|r| Nearby { id: r.get(0), x: r.get(1), y: r.get(2), requested_at: r.get(3) })
                    .collect();
                decide(&near, &mut report);
                let id: i64 = tx
                    .query_one(
                        &format!("{} RETURNING id", pg_sql(&INSERT_REPORT)),
                        &pg_params(&insert_params(&report)),
                    )?
                    .get(0);
                let r = &report;
                let event = [
                    P::I(id),
                    t(&r.requested_at),
                    t("status"),
                    t(r.status.as_str()),
                    ot(r.status_notes.as_deref()),
                    t(&r.reporter),
                ];
                tx.execute(&pg_sql(INSERT_EVENT), &pg_params(&event))?;
                report.id = id;
                if photo.is_some() {
                    report.media_url = Some(photo_path(id));
                }
                let queued = queued(&report, contact, photo, mail(&report));
                for (sql, ps) in &queued {
                    tx.execute(&pg_sql(sql), &pg_params(ps))?;
                }
                tx.commit()?;
            }
        }
        Ok(report)
    }

    /// One report.
    pub fn get(&self, id: i64) -> Result<Option<RequestRow>> {
        match &self.db {
            Db::Sqlite(conn) => get_in(conn, id),
            Db::Pg(pg) => pg_get_in(&mut *pg.client()?, id),
        }
    }

    /// The photo stored with report `id` (its type and bytes), or its thumbnail (a JPEG; none
    /// when the photo has none).
    pub fn photo(&self, id: i64, thumbnail: bool) -> Result<Option<(String, Vec<u8>)>> {
        let (column, has) = if thumbnail { ("'image/jpeg', thumbnail", "thumbnail") } else { ("mime, photo", "photo") };
        let sql = format!("SELECT {column} FROM report_photos WHERE report_id = ?1 AND {has} IS NOT NULL");
        Ok(match &self.db {
            Db::Sqlite(conn) => conn.query_row(&sql, [id], |r| Ok((r.get(0)?, r.get(1)?))).optional()?,
            Db::Pg(pg) => {
                let sql = pg_sql(&sql).replace("'image/jpeg'", "'image/jpeg'::text");
                pg.client()?.query_opt(&sql, &[&id])?.map(|r| (r.get(0), r.get(1)))
            }
        })
    }

    /// The steps of every report made from `start` to `end` (RFC 3339, UTC, inclusive), oldest
    /// first, at most `limit`, each with its report and its rank among the report's steps (1:
    /// the report made), which no later step changes.
    pub fn steps_between(&self, start: &str, end: &str, limit: usize) -> Result<Vec<(i64, i64, EventRow)>> {
        let sql = |order: &str| {
            format!(
                "SELECT report_id, n, at, kind, status, note, by FROM (SELECT report_id, at, kind, status, note, by, {order} AS o, \
                 row_number() OVER (PARTITION BY report_id ORDER BY {order}) AS n FROM report_events) e \
                 WHERE at >= ?1 AND at <= ?2 ORDER BY at, o LIMIT ?3"
            )
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let event = |at: String, kind: String, status: String, note: Option<String>, by: String| EventRow {
            at,
            kind,
            status: status.parse().unwrap_or_default(),
            note,
            by,
        };
        Ok(match &self.db {
            Db::Sqlite(conn) => {
                let mut st = conn.prepare(&sql("rowid"))?;
                st.query_map(params![start, end, limit], |r| {
                    Ok((r.get(0)?, r.get(1)?, event(r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?
            }
            Db::Pg(pg) => pg
                .client()?
                .query(&pg_sql(&sql("seq")), &[&start, &end, &limit])?
                .iter()
                .map(|r| (r.get(0), r.get(1), event(r.get(2), r.get(3), r.get(4), r.get(5), r.get(6))))
                .collect(),
        })
    }

    /// Its steps, oldest first.
    pub fn events(&self, id: i64) -> Result<Vec<EventRow>> {
        match &self.db {
            Db::Sqlite(conn) => {
                let mut st = conn.prepare(
                    "SELECT at, kind, status, note, by FROM report_events WHERE report_id = ?1 ORDER BY rowid",
                )?;
                let rows = st.query_map([id], |r| {
                    Ok(EventRow {
                        at: r.get(0)?,
                        kind: r.get(1)?,
                        status: r.get::<_, Parsed<Status>>(2)?.0,
                        note: r.get(3)?,
                        by: r.get(4)?,
                    })
                })?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            }
            Db::Pg(pg) => Ok(pg
                .client()?
                .query(
                    "SELECT at, kind, status, note, by FROM report_events WHERE report_id = $1 ORDER BY seq",
                    &[&id],
                )?
                .iter()
                .map(|r| {
                    Ok(EventRow {
                        at: r.try_get(0)?,
                        kind: r.try_get(1)?,
                        status: r.try_get::<_, Parsed<Status>>(2)?.0,
                        note: r.try_get(3)?,
                        by: r.try_get(4)?,
                    })
                })
                .collect::<std::result::Result<_, postgres::Error>>()?),
        }
    }

    /// Reports matching a filter, newest first.
    pub fn list(&self, f: &RequestFilter) -> Result<Vec<RequestRow>> {
        let mut sql = format!("SELECT {COLUMNS} FROM reports WHERE 1 = 1");
        let mut args: Vec<P> = Vec::new();
        let mut any_of = |sql: &mut String, column: &str, values: Vec<P>| {
            if !values.is_empty() {
                let _ = write!(sql, " AND {column} IN ({})", vec!["?"; values.len()].join(","));
                args.extend(values);
            }
        };
        any_of(&mut sql, "id", f.ids.iter().map(|i| P::I(*i)).collect());
        any_of(&mut sql, "service_code", f.service_codes.iter().map(|s| t(s)).collect());
        any_of(&mut sql, "status", f.statuses.iter().map(|s| t(s.as_str())).collect());
        if let Some(s) = &f.start {
            sql.push_str(" AND requested_at >= ?");
            args.push(t(s));
        }
        if let Some(e) = &f.end {
            sql.push_str(" AND requested_at <= ?");
            args.push(t(e));
        }
        sql.push_str(" ORDER BY requested_at DESC, id DESC");
        if let Some(l) = f.limit {
            let _ = write!(sql, " LIMIT {l}");
        }
        match &self.db {
            Db::Sqlite(conn) => {
                let mut st = conn.prepare(&sql)?;
                let rows = st.query_map(rusqlite::params_from_iter(args.iter().map(P::sqlite)), row)?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            }
            Db::Pg(pg) => {
                let rows = pg.client()?.query(&pg_sql(&sql), &pg_params(&args))?;
                Ok(rows.iter().map(pg_row).collect::<std::result::Result<_, _>>()?)
            }
        }
    }

    /// Moves a report to `status`, in one transaction with its event and the messages `mail`
    /// names for it (given the report moved). `check` is given the current status and refuses
    /// the move with a reason.
    #[allow(clippy::too_many_arguments)]
    pub fn transition(
        &mut self,
        id: i64,
        status: Status,
        note: Option<&str>,
        by: &str,
        at: &str,
        check: impl FnOnce(&RequestRow) -> std::result::Result<(), String>,
        mail: impl FnOnce(&RequestRow) -> Vec<Recipient>,
    ) -> Result<RequestRow> {
        const UPDATE: &str = "UPDATE reports SET status = ?2, status_notes = ?3, updated_at = ?4 WHERE id = ?1";
        let update = |_: &RequestRow| vec![P::I(id), t(status.as_str()), ot(note), t(at)];
        let event = |_: &RequestRow| vec![P::I(id), t(at), t("status"), t(status.as_str()), ot(note), t(by)];
        self.step(id, (at, note), (UPDATE, update), event, check, mail)
    }

    /// Raises a report to urgent by the DVQ's droit d'alerte: its urgency and its reasons
    /// (`alert` added), an `alert` event with `note`, and the messages `mail` names, in one
    /// transaction; `check` may refuse it given the report as it is.
    pub fn alert(
        &mut self,
        id: i64,
        note: &str,
        by: &str,
        at: &str,
        check: impl FnOnce(&RequestRow) -> std::result::Result<(), String>,
        mail: impl FnOnce(&RequestRow) -> Vec<Recipient>,
    ) -> Result<RequestRow> {
        const UPDATE: &str = "UPDATE reports SET urgency = ?2, urgency_reasons = ?3, updated_at = ?4 WHERE id = ?1";
        let update = |current: &RequestRow| {
            let mut reasons: Vec<String> = serde_json::from_str(&current.urgency_reasons).unwrap_or_default();
            reasons.push("alert".into());
            let reasons = serde_json::to_string(&reasons).unwrap_or_else(|_| "[\"alert\"]".into());
            vec![P::I(id), t(Urgency::Urgent.as_str()), P::T(reasons), t(at)]
        };
        let event =
            |current: &RequestRow| vec![P::I(id), t(at), t("alert"), t(current.status.as_str()), t(note), t(by)];
        self.step(id, (at, Some(note)), (UPDATE, update), event, check, mail)
    }

    /// Gives a report another routing (an explicit re-route), in one transaction with its
    /// event.
    pub fn reroute(&mut self, id: i64, new: &Rerouted, by: &str, at: &str) -> Result<RequestRow> {
        let event = |current: &RequestRow| {
            let note = format!("re-routed from {} to {}: {}", current.service_name, new.service_name, new.explanation);
            vec![P::I(id), t(at), t("reroute"), t(current.status.as_str()), P::OT(Some(note)), t(by)]
        };
        let update = |_: &RequestRow| reroute_params(id, new, at);
        self.step(id, (at, None), (REROUTE.as_str(), update), event, |_| Ok(()), |_| Vec::new())
    }

    /// One step of report `id` in one transaction, on either engine: the report as it is (locked
    /// on PostgreSQL) given to `check`, which may refuse it; the `update` statement run with the
    /// parameters it makes of the report; the step's `event` stored; the messages `mail` names
    /// for the report as it became queued (with the step's time and note).
    fn step(
        &mut self,
        id: i64,
        (at, note): (&str, Option<&str>),
        (update_sql, update): (&str, impl FnOnce(&RequestRow) -> Vec<P>),
        event: impl FnOnce(&RequestRow) -> Vec<P>,
        check: impl FnOnce(&RequestRow) -> std::result::Result<(), String>,
        mail: impl FnOnce(&RequestRow) -> Vec<Recipient>,
    ) -> Result<RequestRow> {
        match &mut self.db {
            Db::Sqlite(conn) => {
                let tx = Transaction::new(conn, TransactionBehavior::Immediate)?;
                let current = get_in(&tx, id)?.ok_or(StoreError::NoSuchReport(id))?;
                check(&current).map_err(StoreError::Refused)?;
                let (update, event) = (update(&current), event(&current));
                tx.execute(update_sql, rusqlite::params_from_iter(update.iter().map(P::sqlite)))?;
                tx.execute(INSERT_EVENT, rusqlite::params_from_iter(event.iter().map(P::sqlite)))?;
                let updated = get_in(&tx, id)?.ok_or(StoreError::NoSuchReport(id))?;
                for (sql, ps) in &queued_change(&updated, at, note, mail(&updated)) {
                    tx.execute(sql, rusqlite::params_from_iter(ps.iter().map(P::sqlite)))?;
                }
                tx.commit()?;
                Ok(updated)
            }
            Db::Pg(pg) => {
                let mut client = pg.client()?;
                let mut tx = client.transaction()?;
                tx.execute("SELECT 1 FROM reports WHERE id = $1 FOR UPDATE", &[&id])?;
                let current = pg_get_in(&mut tx, id)?.ok_or(StoreError::NoSuchReport(id))?;
                check(&current).map_err(StoreError::Refused)?;
                let (update, event) = (update(&current), event(&current));
                tx.execute(&pg_sql(update_sql), &pg_params(&update))?;
                tx.execute(&pg_sql(INSERT_EVENT), &pg_params(&event))?;
                let updated = pg_get_in(&mut tx, id)?.ok_or(StoreError::NoSuchReport(id))?;
                for (sql, ps) in &queued_change(&updated, at, note, mail(&updated)) {
                    tx.execute(&pg_sql(sql), &pg_params(ps))?;
                }
                tx.commit()?;
                Ok(updated)
            }
        }
    }

    /// When each report reached `status` first (report id, time), for the delays.
    pub fn first_reached(&self, status: Status) -> Result<Vec<(i64, String)>> {
        const SQL: &str =
            "SELECT report_id, min(at) FROM report_events WHERE kind = 'status' AND status = ?1 GROUP BY report_id";
        match &self.db {
            Db::Sqlite(conn) => {
                let mut st = conn.prepare(SQL)?;
                let rows = st.query_map([status.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            }
            Db::Pg(pg) => Ok(pg
                .client()?
                .query(&pg_sql(SQL), &[&status.as_str()])?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(x: f64, at: &str) -> RequestRow {
        RequestRow {
            id: 0,
            service_code: "litter".into(),
            intervention: "cleaning".into(),
            lon: 1.8,
            lat: 48.9,
            x,
            y: 6_870_000.0,
            description: "papiers".into(),
            media_url: None,
            attributes: "{}".into(),
            urgency: Urgency::Normal,
            urgency_reasons: "[]".into(),
            requested_at: at.into(),
            updated_at: at.into(),
            expected_at: None,
            status: Status::Received,
            status_notes: None,
            service_id: Some("cu".into()),
            service_name: "CU".into(),
            actor: Actor::CommunauteUrbaine,
            rule: "default".into(),
            explanation: "because".into(),
            snapshot: "abc".into(),
            subsector: None,
            qpv: None,
            commune: None,
            space: None,
            duplicate_of: None,
            reporter: "t".into(),
            source: "open311".into(),
        }
    }

    #[test]
    fn a_request_its_events_and_a_refused_move_leave_it_as_it_was_in_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        story(RequestStore::open(&dir.path().join("r")).unwrap());
    }

    #[test]
    #[cfg_attr(domania_without_pg, ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)")]
    fn a_request_its_events_and_a_refused_move_leave_it_as_it_was_in_postgis() {
        let db = domania_testkit::ScratchDatabase::new("reports");
        // Refused in a database without a Domania store; kept in one.
        assert!(matches!(RequestStore::open_postgres(db.url()), Err(StoreError::Missing { .. })));
        let loc = crate::Location::from(db.url());
        drop(crate::Store::create_at(&loc, false, &crate::Wait::default()).unwrap());
        story(RequestStore::open_postgres(db.url()).unwrap());
    }

    #[test]
    fn placeholders_for_postgresql() {
        assert_eq!(pg_sql("a = ?1 AND b IN (?2, ?10)"), "a = $1 AND b IN ($2, $10)");
        assert_eq!(pg_sql("a IN (?,?) AND b >= ?"), "a IN ($1,$2) AND b >= $3");
    }

    fn story(mut s: RequestStore) {
        let a = s.insert(
            report(600_000.0, "2026-01-01T10:00:00Z"),
            &[Status::Received],
            30.0,
            "2025-12-29T10:00:00Z",
            |n, _| {
                assert!(n.is_empty());
            },
            Some(&Contact { email: Some("habitant@example.org".into()), name: Some("Camille".into()), phone: None }),
            Some(&PhotoRow {
                mime: "image/png".into(),
                photo: vec![0x89, b'P', b'N', b'G', 0],
                thumbnail: Some(vec![0xFF, 0xD8]),
            }),
            |r| {
                vec![Recipient {
                    role: "service".into(),
                    address: format!("service-{}@example.org", r.status.as_str()),
                }]
            },
        );
        let a = a.unwrap();
        assert_eq!(s.contact(a.id).unwrap().and_then(|c| c.email).as_deref(), Some("habitant@example.org"));
        let b = s
            .insert(
                report(600_010.0, "2026-01-01T11:00:00Z"),
                &[Status::Received],
                30.0,
                "2025-12-29T11:00:00Z",
                |n, r| {
                    assert_eq!(n.len(), 1);
                    r.duplicate_of = Some(n[0].id);
                },
                None,
                None,
                |_| Vec::new(),
            )
            .unwrap();
        assert_eq!(s.contact(b.id).unwrap(), None);
        // The photo is the report's, its media_url where it is served; none with the second.
        assert_eq!(a.media_url, Some(photo_path(a.id)));
        assert_eq!(s.get(a.id).unwrap().unwrap().media_url, Some(photo_path(a.id)));
        assert_eq!(s.photo(a.id, false).unwrap(), Some(("image/png".into(), vec![0x89, b'P', b'N', b'G', 0])));
        assert_eq!(s.photo(a.id, true).unwrap(), Some(("image/jpeg".into(), vec![0xFF, 0xD8])));
        assert_eq!(s.photo(b.id, false).unwrap(), None);
        assert_eq!(b.duplicate_of, Some(a.id));
        let told = |_: &RequestRow| vec![Recipient { role: "reporter".into(), address: "habitant@example.org".into() }];
        let refused = s.transition(a.id, Status::Done, None, "x", "2026-01-02T00:00:00Z", |_| Err("no".into()), told);
        assert!(matches!(refused, Err(StoreError::Refused(_))));
        assert_eq!(s.get(a.id).unwrap().unwrap().status, Status::Received);
        assert_eq!(s.events(a.id).unwrap().len(), 1);
        // A refused move queued nothing; the report's own message is queued, due at once.
        assert_eq!(s.deliveries(true).unwrap().len(), 1);
        let done = s.transition(a.id, Status::Done, Some("ok"), "x", "2026-01-02T00:00:00Z", |_| Ok(()), told).unwrap();
        // The outbox: claimed for a lease, not claimed again within it; sent, failed, given up,
        // replayed.
        let due = s.claim_due("2026-01-02T00:00:00Z", "2026-01-02T00:05:00Z", 10, false).unwrap();
        assert_eq!(due.len(), 2, "{due:?}");
        assert_eq!(
            (due[0].recipient.as_str(), due[0].status, due[0].attempts),
            ("service-received@example.org", Status::Received, 1)
        );
        assert_eq!(
            (due[1].recipient.as_str(), due[1].status, due[1].note.as_deref()),
            ("habitant@example.org", Status::Done, Some("ok"))
        );
        assert!(s.claim_due("2026-01-02T00:01:00Z", "2026-01-02T00:06:00Z", 10, false).unwrap().is_empty());
        s.delivered(due[0].id, "2026-01-02T00:00:01Z").unwrap();
        s.failed(due[1].id, "421 try later", Some("2026-01-02T00:00:30Z")).unwrap();
        let again = s.claim_due("2026-01-02T00:00:31Z", "2026-01-02T00:05:31Z", 10, false).unwrap();
        assert_eq!((again.len(), again[0].attempts), (1, 2));
        s.failed(again[0].id, "550 no such user", None).unwrap();
        assert!(s.claim_due("2026-01-03T00:00:00Z", "2026-01-03T00:05:00Z", 10, false).unwrap().is_empty());
        assert_eq!(s.deliveries(true).unwrap()[0].last_error.as_deref(), Some("550 no such user"));
        assert_eq!(s.replay("2026-01-03T00:00:00Z").unwrap(), 1);
        assert_eq!(s.claim_due("2026-01-03T00:00:00Z", "2026-01-03T00:05:00Z", 10, false).unwrap().len(), 1);
        assert_eq!(s.deliveries(false).unwrap().len(), 2);
        assert_eq!((done.status.as_str(), done.updated_at.as_str()), ("done", "2026-01-02T00:00:00Z"));
        assert_eq!(s.events(a.id).unwrap().len(), 2);
        assert_eq!(s.first_reached(Status::Done).unwrap(), vec![(a.id, "2026-01-02T00:00:00Z".to_owned())]);
        let f = RequestFilter { statuses: vec![Status::Done], ..RequestFilter::default() };
        assert_eq!(s.list(&f).unwrap().len(), 1);
        let new = Rerouted {
            service_id: Some("commune".into()),
            service_name: "Commune".into(),
            actor: Actor::Commune,
            rule: "r".into(),
            explanation: "moved".into(),
            snapshot: "def".into(),
            subsector: None,
            qpv: None,
            commune: Some("78440".into()),
            space: None,
            expected_at: None,
        };
        let moved = s.reroute(b.id, &new, "y", "2026-01-03T00:00:00Z").unwrap();
        assert_eq!((moved.service_name.as_str(), moved.commune.as_deref()), ("Commune", Some("78440")));
        let ev = s.events(b.id).unwrap();
        assert_eq!((ev.len(), ev[1].kind.as_str()), (2, "reroute"));
        assert!(ev[1].note.as_deref().unwrap().contains("re-routed from CU to Commune"));
        assert_eq!(
            s.list(&RequestFilter { ids: vec![a.id, b.id], limit: Some(1), ..RequestFilter::default() }).unwrap()[0].id,
            b.id
        );
    }
}

//! Reports of dysfunctions: a SQLite database of their own beside the store (`<store>.reports`),
//! in WAL mode with full synchronous commits. Reports are an operational log written many times
//! a minute, also while a layer import holds the store's writer lock for minutes; they carry
//! residents' descriptions that do not belong in a GeoPackage handed around to open in QGIS.
//! Every write is one transaction: a report and its first event, a status change and its event,
//! never one without the other.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

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
";

/// One report as stored. Times are RFC 3339 in UTC (they sort as text).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportRow {
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
    /// `urgent`, `review` (claimed urgent, no criterion met) or `normal`.
    pub urgency: String,
    /// The criteria met, as a JSON array.
    pub urgency_reasons: String,
    pub requested_at: String,
    pub updated_at: String,
    pub expected_at: Option<String>,
    pub status: String,
    pub status_notes: Option<String>,
    pub service_id: Option<String>,
    pub service_name: String,
    pub actor: String,
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
    /// `status` or `reroute`.
    pub kind: String,
    pub status: String,
    pub note: Option<String>,
    pub by: String,
}

/// A report's new routing.
#[derive(Debug, Clone, PartialEq)]
pub struct Rerouted {
    pub service_id: Option<String>,
    pub service_name: String,
    pub actor: String,
    pub rule: String,
    pub explanation: String,
    pub snapshot: String,
    pub subsector: Option<String>,
    pub qpv: Option<String>,
    pub commune: Option<String>,
    pub space: Option<String>,
    pub expected_at: Option<String>,
}

impl ReportRow {
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
pub struct ReportFilter {
    pub ids: Vec<i64>,
    pub service_codes: Vec<String>,
    pub statuses: Vec<String>,
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

/// The reports database.
#[derive(Debug)]
pub struct ReportStore {
    conn: Connection,
    path: PathBuf,
}

const COLUMNS: &str = "id, service_code, intervention, lon, lat, x, y, description, media_url, attributes, urgency, \
     urgency_reasons, requested_at, updated_at, expected_at, status, status_notes, service_id, service_name, actor, rule, \
     explanation, snapshot, subsector, qpv, commune, space, duplicate_of, reporter, source";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReportRow> {
    Ok(ReportRow {
        id: r.get(0)?,
        service_code: r.get(1)?,
        intervention: r.get(2)?,
        lon: r.get(3)?,
        lat: r.get(4)?,
        x: r.get(5)?,
        y: r.get(6)?,
        description: r.get(7)?,
        media_url: r.get(8)?,
        attributes: r.get(9)?,
        urgency: r.get(10)?,
        urgency_reasons: r.get(11)?,
        requested_at: r.get(12)?,
        updated_at: r.get(13)?,
        expected_at: r.get(14)?,
        status: r.get(15)?,
        status_notes: r.get(16)?,
        service_id: r.get(17)?,
        service_name: r.get(18)?,
        actor: r.get(19)?,
        rule: r.get(20)?,
        explanation: r.get(21)?,
        snapshot: r.get(22)?,
        subsector: r.get(23)?,
        qpv: r.get(24)?,
        commune: r.get(25)?,
        space: r.get(26)?,
        duplicate_of: r.get(27)?,
        reporter: r.get(28)?,
        source: r.get(29)?,
    })
}

fn get_in(tx: &Connection, id: i64) -> Result<Option<ReportRow>> {
    Ok(tx.query_row(&format!("SELECT {COLUMNS} FROM reports WHERE id = ?1"), [id], row).optional()?)
}

impl ReportStore {
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
        Ok(Self { conn, path: path.to_owned() })
    }

    /// Where it is.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stores a report and its first event in one transaction. Before it is stored, `decide` is
    /// given the open reports of the same intervention kind within `distance` metres of it made
    /// at or after `since`, and may make it a duplicate of one (setting its `duplicate_of`,
    /// status and notes): the search and the insert are one transaction, so two reports of the
    /// same thing posted together cannot both be first. Returns the new report.
    pub fn insert(
        &mut self,
        mut report: ReportRow,
        open_statuses: &[&str],
        distance: f64,
        since: &str,
        decide: impl FnOnce(&[Nearby], &mut ReportRow),
    ) -> Result<ReportRow> {
        let tx = Transaction::new(&mut self.conn, TransactionBehavior::Immediate)?;
        let near = {
            let marks = vec!["?"; open_statuses.len()].join(",");
            let sql = format!(
                "SELECT id, x, y, requested_at FROM reports WHERE intervention = ? AND x BETWEEN ? AND ? AND y BETWEEN ? AND ? \
                 AND requested_at >= ? AND duplicate_of IS NULL AND status IN ({marks}) ORDER BY requested_at, id"
            );
            let mut st = tx.prepare(&sql)?;
            let mut args: Vec<rusqlite::types::Value> = vec![
                report.intervention.clone().into(),
                (report.x - distance).into(),
                (report.x + distance).into(),
                (report.y - distance).into(),
                (report.y + distance).into(),
                since.to_owned().into(),
            ];
            args.extend(open_statuses.iter().map(|s| rusqlite::types::Value::from((*s).to_owned())));
            st.query_map(rusqlite::params_from_iter(args), |r| {
                Ok(Nearby { id: r.get(0)?, x: r.get(1)?, y: r.get(2)?, requested_at: r.get(3)? })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?
        };
        decide(&near, &mut report);
        let r = &report;
        tx.execute(
            "INSERT INTO reports (service_code, intervention, lon, lat, x, y, description, media_url, attributes, urgency, \
             urgency_reasons, requested_at, updated_at, expected_at, status, status_notes, service_id, service_name, actor, \
             rule, explanation, snapshot, subsector, qpv, commune, space, duplicate_of, reporter, source) VALUES \
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, \
             ?25, ?26, ?27, ?28, ?29)",
            params![
                r.service_code,
                r.intervention,
                r.lon,
                r.lat,
                r.x,
                r.y,
                r.description,
                r.media_url,
                r.attributes,
                r.urgency,
                r.urgency_reasons,
                r.requested_at,
                r.updated_at,
                r.expected_at,
                r.status,
                r.status_notes,
                r.service_id,
                r.service_name,
                r.actor,
                r.rule,
                r.explanation,
                r.snapshot,
                r.subsector,
                r.qpv,
                r.commune,
                r.space,
                r.duplicate_of,
                r.reporter,
                r.source
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO report_events (report_id, at, kind, status, note, by) VALUES (?1, ?2, 'status', ?3, ?4, ?5)",
            params![id, r.requested_at, r.status, r.status_notes, r.reporter],
        )?;
        tx.commit()?;
        report.id = id;
        Ok(report)
    }

    /// One report.
    pub fn get(&self, id: i64) -> Result<Option<ReportRow>> {
        get_in(&self.conn, id)
    }

    /// Its steps, oldest first.
    pub fn events(&self, id: i64) -> Result<Vec<EventRow>> {
        let mut st = self
            .conn
            .prepare("SELECT at, kind, status, note, by FROM report_events WHERE report_id = ?1 ORDER BY rowid")?;
        let rows = st.query_map([id], |r| {
            Ok(EventRow { at: r.get(0)?, kind: r.get(1)?, status: r.get(2)?, note: r.get(3)?, by: r.get(4)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Reports matching a filter, newest first.
    pub fn list(&self, f: &ReportFilter) -> Result<Vec<ReportRow>> {
        let mut sql = format!("SELECT {COLUMNS} FROM reports WHERE 1 = 1");
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        let mut any_of = |sql: &mut String, column: &str, values: Vec<rusqlite::types::Value>| {
            if !values.is_empty() {
                let _ = write!(sql, " AND {column} IN ({})", vec!["?"; values.len()].join(","));
                args.extend(values);
            }
        };
        any_of(&mut sql, "id", f.ids.iter().map(|i| (*i).into()).collect());
        any_of(&mut sql, "service_code", f.service_codes.iter().map(|s| s.clone().into()).collect());
        any_of(&mut sql, "status", f.statuses.iter().map(|s| s.clone().into()).collect());
        if let Some(s) = &f.start {
            sql.push_str(" AND requested_at >= ?");
            args.push(s.clone().into());
        }
        if let Some(e) = &f.end {
            sql.push_str(" AND requested_at <= ?");
            args.push(e.clone().into());
        }
        sql.push_str(" ORDER BY requested_at DESC, id DESC");
        if let Some(l) = f.limit {
            let _ = write!(sql, " LIMIT {l}");
        }
        let mut st = self.conn.prepare(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(args), row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Moves a report to `status`, in one transaction with its event. `check` is given the
    /// current status and refuses the move with a reason.
    pub fn transition(
        &mut self,
        id: i64,
        status: &str,
        note: Option<&str>,
        by: &str,
        at: &str,
        check: impl FnOnce(&ReportRow) -> std::result::Result<(), String>,
    ) -> Result<ReportRow> {
        let tx = Transaction::new(&mut self.conn, TransactionBehavior::Immediate)?;
        let current = get_in(&tx, id)?.ok_or(StoreError::NoSuchReport(id))?;
        check(&current).map_err(StoreError::Refused)?;
        tx.execute(
            "UPDATE reports SET status = ?2, status_notes = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, status, note, at],
        )?;
        tx.execute(
            "INSERT INTO report_events (report_id, at, kind, status, note, by) VALUES (?1, ?2, 'status', ?3, ?4, ?5)",
            params![id, at, status, note, by],
        )?;
        let updated = get_in(&tx, id)?.ok_or(StoreError::NoSuchReport(id))?;
        tx.commit()?;
        Ok(updated)
    }

    /// Gives a report another routing (an explicit re-route), in one transaction with its
    /// event.
    pub fn reroute(&mut self, id: i64, new: &Rerouted, by: &str, at: &str) -> Result<ReportRow> {
        let tx = Transaction::new(&mut self.conn, TransactionBehavior::Immediate)?;
        let current = get_in(&tx, id)?.ok_or(StoreError::NoSuchReport(id))?;
        tx.execute(
            "UPDATE reports SET service_id = ?2, service_name = ?3, actor = ?4, rule = ?5, explanation = ?6, snapshot = ?7, \
             subsector = ?8, qpv = ?9, commune = ?10, space = ?11, expected_at = ?12, updated_at = ?13 WHERE id = ?1",
            params![
                id,
                new.service_id,
                new.service_name,
                new.actor,
                new.rule,
                new.explanation,
                new.snapshot,
                new.subsector,
                new.qpv,
                new.commune,
                new.space,
                new.expected_at,
                at
            ],
        )?;
        let note = format!("re-routed from {} to {}: {}", current.service_name, new.service_name, new.explanation);
        tx.execute(
            "INSERT INTO report_events (report_id, at, kind, status, note, by) VALUES (?1, ?2, 'reroute', ?3, ?4, ?5)",
            params![id, at, current.status, note, by],
        )?;
        let updated = get_in(&tx, id)?.ok_or(StoreError::NoSuchReport(id))?;
        tx.commit()?;
        Ok(updated)
    }

    /// When each report reached `status` first (report id, time), for the delays.
    pub fn first_reached(&self, status: &str) -> Result<Vec<(i64, String)>> {
        let mut st = self.conn.prepare(
            "SELECT report_id, min(at) FROM report_events WHERE kind = 'status' AND status = ?1 GROUP BY report_id",
        )?;
        let rows = st.query_map([status], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(x: f64, at: &str) -> ReportRow {
        ReportRow {
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
            urgency: "normal".into(),
            urgency_reasons: "[]".into(),
            requested_at: at.into(),
            updated_at: at.into(),
            expected_at: None,
            status: "received".into(),
            status_notes: None,
            service_id: Some("cu".into()),
            service_name: "CU".into(),
            actor: "communaute_urbaine".into(),
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
    fn a_report_its_events_and_a_refused_move_leave_it_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = ReportStore::open(&dir.path().join("r")).unwrap();
        let a =
            s.insert(report(600_000.0, "2026-01-01T10:00:00Z"), &["received"], 30.0, "2025-12-29T10:00:00Z", |n, _| {
                assert!(n.is_empty());
            });
        let a = a.unwrap();
        let b = s
            .insert(report(600_010.0, "2026-01-01T11:00:00Z"), &["received"], 30.0, "2025-12-29T11:00:00Z", |n, r| {
                assert_eq!(n.len(), 1);
                r.duplicate_of = Some(n[0].id);
            })
            .unwrap();
        assert_eq!(b.duplicate_of, Some(a.id));
        let refused = s.transition(a.id, "done", None, "x", "2026-01-02T00:00:00Z", |_| Err("no".into()));
        assert!(matches!(refused, Err(StoreError::Refused(_))));
        assert_eq!(s.get(a.id).unwrap().unwrap().status, "received");
        assert_eq!(s.events(a.id).unwrap().len(), 1);
        let done = s.transition(a.id, "done", Some("ok"), "x", "2026-01-02T00:00:00Z", |_| Ok(())).unwrap();
        assert_eq!((done.status.as_str(), done.updated_at.as_str()), ("done", "2026-01-02T00:00:00Z"));
        assert_eq!(s.events(a.id).unwrap().len(), 2);
        assert_eq!(s.first_reached("done").unwrap(), vec![(a.id, "2026-01-02T00:00:00Z".to_owned())]);
        let f = ReportFilter { statuses: vec!["done".into()], ..ReportFilter::default() };
        assert_eq!(s.list(&f).unwrap().len(), 1);
    }
}

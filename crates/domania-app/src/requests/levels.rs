//! Service levels: delays from a request to its intervention done, against the level its kind
//! is expected within, per QPV, commune, service and month.

use std::collections::BTreeMap;

use domania_store::{RequestFilter, RequestRow, RequestStore};
use jiff::Timestamp;
use serde::Serialize;

use super::Status;
use crate::error::Result;

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
    #[serde(serialize_with = "crate::table::rounded::<2, _>")]
    pub median_hours: Option<f64>,
    #[serde(serialize_with = "crate::table::rounded::<2, _>")]
    pub p90_hours: Option<f64>,
    /// Of the done requests with an expected level, the share done within it.
    #[serde(serialize_with = "crate::table::rounded::<4, _>")]
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
pub(crate) fn service_levels(reports: &RequestStore) -> Result<Vec<LevelRow>> {
    let all = reports.list(&RequestFilter::default())?;
    let done: BTreeMap<i64, String> = reports.first_reached(Status::Done)?.into_iter().collect();
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
            let status = |r: &&&RequestRow| Some(r.status);
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

/// Hours from one stored time to another.
pub(crate) fn hours_between(a: &str, b: &str) -> Option<f64> {
    let (a, b) = (a.parse::<Timestamp>().ok()?, b.parse::<Timestamp>().ok()?);
    Some((b - a).total(jiff::Unit::Second).ok()? / 3600.0)
}

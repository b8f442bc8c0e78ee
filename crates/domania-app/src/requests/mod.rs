//! Service requests (reports of dysfunctions, as Open311 calls them): routed to the manager of
//! the space at their point for their category's intervention kind ([`routing`]), linked to an
//! open request of the same kind nearby as duplicates, flagged when claimed urgent without an
//! objective criterion, moved through their statuses by named tokens ([`lifecycle`]), measured
//! against the expected service levels ([`levels`]), made from walking diagnostics
//! ([`walks`]), summed up in an annual report ([`annual`]), and shown to Open311 clients as
//! GeoReport v2 writes them ([`open311`]).
//!
//! A [`Desk`] is the requests database of a store, shared by the requests of a server.

pub mod annual;
mod charts;
mod heif;
pub mod levels;
pub mod lifecycle;
pub mod notify;
pub mod open311;
pub mod photo;
pub mod routing;
pub mod sheets;
pub mod walks;
pub mod xml;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use domania_core::Actor;
pub use domania_store::RequestFilter as Filter;
pub use domania_store::{Contact, Delivery, Status, Urgency};
use domania_store::{EventRow, RequestFilter, RequestRow, RequestStore};
use jiff::Timestamp;
use serde::Serialize;

use crate::App;
use crate::error::{AppError, ErrorCode, Result};
use crate::held::Held;

/// The longest description taken, in characters.
pub const MAX_DESCRIPTION: usize = 4000;
/// The longest `media_url`, in characters (browsers' practical limit).
pub const MAX_MEDIA_URL: usize = 2048;
/// The most attributes a request carries (a category defines a handful).
pub const MAX_ATTRIBUTES: usize = 20;
/// The longest attribute code, in characters.
pub const MAX_ATTRIBUTE_CODE: usize = 64;
/// The longest attribute value, in characters.
pub const MAX_ATTRIBUTE_VALUE: usize = 500;
/// The longest note of a status change, in characters.
pub const MAX_NOTE: usize = 2000;
/// The longest name (a reporter's, a token's), in characters.
pub const MAX_NAME: usize = 100;

/// A service request as made.
#[derive(Debug, Clone)]
pub struct NewRequest {
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
    /// How to reach whoever reported it (told of each step when an email is given).
    pub contact: Contact,
    /// The photo sent with it (GeoReport's `media`): its file name and bytes, as sent; checked
    /// and stripped of its metadata ([`photo::accept`]) before it is stored.
    pub media: Option<(String, Vec<u8>)>,
}

/// Where the photo of `r` is seen: the server's address of the photo sent with it (`base` the
/// server's public URL), or the address the reporter gave.
#[must_use]
pub fn media_url(r: &RequestRow, base: &str) -> Option<String> {
    let m = r.media_url.as_deref()?;
    Some(if m == domania_store::photo_path(r.id) { format!("{base}/{m}") } else { m.to_owned() })
}

pub(crate) fn truthy(v: &str) -> bool {
    matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "oui" | "on")
}

/// RFC 3339 in UTC, to the second (sorts as text).
#[must_use]
pub fn stamp(t: Timestamp) -> String {
    t.round(jiff::Unit::Second).map_or_else(|_| t.to_string(), |r| r.to_string())
}

/// A request as a GeoJSON point (its line as properties).
#[derive(Debug, Serialize)]
pub struct PointFeature<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    pub properties: &'a RequestLine,
    geometry: PointGeometry,
}

#[derive(Debug, Serialize)]
struct PointGeometry {
    #[serde(rename = "type")]
    kind: &'static str,
    coordinates: [f64; 2],
}

/// Requests as a GeoJSON FeatureCollection of points (WGS84), for a map or a file.
#[derive(Debug, Serialize)]
pub struct PointCollection<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    pub features: Vec<PointFeature<'a>>,
}

/// The requests `lines` as GeoJSON points.
#[must_use]
pub fn points(lines: &[RequestLine]) -> PointCollection<'_> {
    let features = lines
        .iter()
        .map(|l| PointFeature {
            kind: "Feature",
            properties: l,
            geometry: PointGeometry { kind: "Point", coordinates: [l.long, l.lat] },
        })
        .collect();
    PointCollection { kind: "FeatureCollection", features }
}

/// A service request as a line of CSV or JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestLine {
    pub id: i64,
    pub requested_at: String,
    pub service_code: String,
    pub intervention: String,
    pub status: Status,
    pub urgency: Urgency,
    pub service_id: Option<String>,
    pub service_name: String,
    pub actor: Actor,
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

impl crate::table::Row for RequestLine {
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

impl From<&RequestRow> for RequestLine {
    fn from(r: &RequestRow) -> Self {
        Self {
            id: r.id,
            requested_at: r.requested_at.clone(),
            service_code: r.service_code.clone(),
            intervention: r.intervention.clone(),
            status: r.status,
            urgency: r.urgency,
            service_id: r.service_id.clone(),
            service_name: r.service_name.clone(),
            actor: r.actor,
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

/// A request with its steps.
#[derive(Debug, Clone, Serialize)]
pub struct RequestDetail {
    pub request: RequestLine,
    pub events: Vec<EventLine>,
}

/// One dated step of a request.
#[derive(Debug, Clone, Serialize)]
pub struct EventLine {
    pub at: String,
    /// `status`, `reroute` or `alert` (the DVQ's droit d'alerte).
    pub kind: String,
    pub status: Status,
    pub note: Option<String>,
    pub by: String,
}

impl From<&EventRow> for EventLine {
    fn from(e: &EventRow) -> Self {
        Self { at: e.at.clone(), kind: e.kind.clone(), status: e.status, note: e.note.clone(), by: e.by.clone() }
    }
}

/// The requests database of a store, held by a server for all its requests (one writer at a
/// time in the process; the database serialises the processes).
pub struct Desk {
    store: Mutex<RequestStore>,
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk").finish_non_exhaustive()
    }
}

impl App {
    /// The requests database: the file given by [`App::with_reports`], else beside a
    /// GeoPackage store (created on first use), else the PostGIS store's own database.
    pub fn desk(&self) -> Result<Desk> {
        let store = if let Some(path) = &self.reports {
            RequestStore::open(path)?
        } else {
            match self.store_path() {
                domania_store::Location::File(store) => RequestStore::open(&RequestStore::path_for(store))?,
                domania_store::Location::Postgres(url) => RequestStore::open_postgres(url)?,
            }
        };
        Ok(Desk { store: Mutex::new(store) })
    }
}

impl Desk {
    /// The database. A panic while it was held leaves the database whole (each write is one
    /// transaction), so a poisoned lock is taken over rather than failing every request.
    fn store(&self) -> MutexGuard<'_, RequestStore> {
        self.store.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Checks and routes a request on `held`, links it to an open duplicate, and stores it.
    pub fn post(&self, held: &Held, r: NewRequest) -> Result<RequestRow> {
        lifecycle::post(&mut self.store(), held, r)
    }

    /// Moves a request to another status, by a named token, with a note (required to reject
    /// or transfer).
    pub fn transition(
        &self,
        held: &Held,
        id: i64,
        to: Status,
        note: Option<&str>,
        by: &str,
        at: Timestamp,
    ) -> Result<RequestRow> {
        lifecycle::transition(&mut self.store(), held, id, to, note, by, at)
    }

    /// The steps made from `start_date` to `end_date`, as FixMyStreet reads them
    /// ([`open311::updates`]).
    pub fn updates(&self, start_date: Option<&str>, end_date: Option<&str>) -> Result<Vec<open311::RequestUpdate>> {
        open311::updates(&self.store(), start_date, end_date)
    }

    /// The DVQ's droit d'alerte on request `id`: made urgent, with why (`note`), the routed
    /// service and the commune's referents told at once.
    pub fn alert(&self, held: &Held, id: i64, note: &str, by: &str, at: Timestamp) -> Result<RequestRow> {
        lifecycle::alert(&mut self.store(), held, id, note, by, at)
    }

    /// Routes a stored request again on `held` (an explicit, logged step).
    pub fn reroute(&self, held: &Held, id: i64, by: &str, at: Timestamp) -> Result<RequestRow> {
        lifecycle::reroute(&mut self.store(), held, id, by, at)
    }

    /// The requests a filter keeps, newest first.
    pub fn list(&self, filter: &RequestFilter) -> Result<Vec<RequestRow>> {
        Ok(self.store().list(filter)?)
    }

    /// One request with its steps.
    pub fn detail(&self, id: i64) -> Result<(RequestRow, Vec<EventRow>)> {
        let store = self.store();
        let row = store.get(id)?.ok_or_else(|| no_request(id))?;
        Ok((row, store.events(id)?))
    }

    /// The photo sent with request `id` (its type and bytes), or its thumbnail (JPEG), with
    /// the request it belongs to.
    ///
    /// # Errors
    /// No such request, or no photo sent with it (`not_found`, said).
    pub fn photo(&self, id: i64, thumbnail: bool) -> Result<(RequestRow, String, Vec<u8>)> {
        let store = self.store();
        let row = store.get(id)?.ok_or_else(|| no_request(id))?;
        if let Some((mime, bytes)) = store.photo(id, thumbnail)? {
            return Ok((row, mime, bytes));
        }
        // A thumbnail missing where a photo is (a HEIC) is said apart from no photo at all.
        let args = vec![("id", id.to_string().into())];
        if thumbnail && store.photo(id, false)?.is_some() {
            return Err(AppError::said(ErrorCode::NotFound, "error-photo-no-thumbnail", args));
        }
        Err(AppError::said(ErrorCode::NotFound, "error-no-photo", args))
    }

    /// Figures per QPV, commune and service, and month of request.
    pub fn service_levels(&self) -> Result<Vec<levels::LevelRow>> {
        levels::service_levels(&self.store())
    }

    /// The service levels as a document to present (PDF): the delays expected, then those
    /// seen per service and month, as a table and a chart.
    pub fn service_levels_pdf(&self, held: &Held) -> Result<Vec<u8>> {
        charts::service_levels_pdf(held, &self.service_levels()?)
    }

    /// Posts the observations of a walk as requests, each routed on `held`; none is stored
    /// unless every one can be.
    pub fn walk(
        &self,
        held: &Held,
        observations: Vec<walks::Observation>,
        name: &str,
        by: &str,
        at: Timestamp,
    ) -> Result<Vec<RequestRow>> {
        walks::import_walk(&mut self.store(), held, observations, name, by, at)
    }

    /// The annual report of `year`, for `commune` (INSEE code) or the whole territory.
    pub fn annual(&self, held: &Held, year: i16, commune: Option<&str>) -> Result<annual::Annual> {
        let mut a = annual::annual(&self.store(), held, year, commune)?;
        a.pdf = charts::pdf(held, &a)?;
        Ok(a)
    }
}

/// The error of a request that is not in the database.
pub(crate) fn no_request(id: i64) -> AppError {
    AppError::said(ErrorCode::NotFound, "error-no-request", vec![("id", id.to_string().into())])
}

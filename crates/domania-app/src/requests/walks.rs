//! Walking diagnostics (*diagnostics en marchant*): observations read from a CSV or GeoJSON
//! file, each routed as a request; and the lists each service receives.

use std::collections::BTreeMap;
use std::path::Path;

use domania_store::{RequestRow, RequestStore};
use jiff::Timestamp;

use super::lifecycle::{check, post};
use super::sheets::Stop;
use super::{NewRequest, RequestLine};
use crate::error::{AppError, ErrorCode, Result};
use crate::held::Held;

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
    /// Said urgent by the walkers (the `urgence` column of the paper grid: `oui`).
    pub urgent: bool,
}

/// The names a walk's columns (or GeoJSON properties) may have, in English or in French.
const LON: &[&str] = &["lon", "long", "longitude", "lng"];
const LAT: &[&str] = &["lat", "latitude"];
const CATEGORY: &[&str] = &["category", "categorie", "catégorie", "service_code", "type", "type de signalement"];
const NOTE: &[&str] = &["note", "description", "remarque", "commentaire", "observation", "constat"];
const PHOTO: &[&str] = &["photo", "media_url", "image", "photo (réf.)", "réf. photo"];
/// The paper grid's columns: the route's point, the place in words, the urgency.
const POINT: &[&str] = &["point", "n° point", "point du plan", "n° du point"];
const PLACE: &[&str] = &["lieu", "place", "adresse", "repère"];
const URGENT: &[&str] = &["urgence", "urgent", "urgency"];

/// Whether a cell says yes (`oui`, `x`, `yes`, `1`, `urgent`).
fn says_yes(v: &str) -> bool {
    matches!(v.trim().to_lowercase().as_str(), "oui" | "o" | "x" | "yes" | "y" | "1" | "true" | "urgent" | "urgente")
}

/// Reads the observations of a walk: CSV (`lon`/`long`, `lat`, `category`, `note`, `photo`;
/// comma or semicolon) or GeoJSON points (properties `category`, `note`, `photo`).
pub fn read_observations(path: &std::path::Path) -> Result<Vec<Observation>> {
    read_observations_on(path, None)
}

/// Reads the observations of a walk, as [`read_observations`]; with the `stops` of its route,
/// also the paper grid of a walk sheet typed in (`point`, `lieu`, `catégorie`, `description`,
/// `urgence`, `photo`): each observation at the point of its number.
pub fn read_observations_on(path: &std::path::Path, route: Option<&[Stop]>) -> Result<Vec<Observation>> {
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
                let text = |names: &[&str]| names.iter().find_map(|k| p[*k].as_str().map(str::to_owned));
                Ok(Observation {
                    lon: n(0)?,
                    lat: n(1)?,
                    category: text(CATEGORY).ok_or_else(|| bad(&at, "no category"))?,
                    note: text(NOTE).unwrap_or_default(),
                    photo: text(PHOTO),
                    urgent: text(URGENT).is_some_and(|v| says_yes(&v)) || p["urgent"].as_bool() == Some(true),
                    at,
                })
            })
            .collect();
    }
    let delimiter = if text.lines().next().is_some_and(|h| h.contains(';')) { b';' } else { b',' };
    let mut rd = csv::ReaderBuilder::new().delimiter(delimiter).from_reader(text.as_bytes());
    let header: Vec<String> = rd
        .headers()
        .map_err(|e| bad("header", &e.to_string()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_lowercase())
        .collect();
    let col = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
    // English and French column names; a spreadsheet's byte-order mark is not part of a name.
    let (lon, lat, cat) = (col(LON), col(LAT), col(CATEGORY));
    let point = col(POINT).filter(|_| lon.is_none() || lat.is_none());
    if let (Some(point), Some(cat)) = (point, cat) {
        return read_grid(path, &mut rd, &header, point, cat, route);
    }
    let (Some(lon), Some(lat), Some(cat)) = (lon, lat, cat) else {
        return Err(AppError::new(
            ErrorCode::InvalidFile,
            format!("{}: header: columns lon (or long), lat and category are required", path.display()),
        )
        .said_but_in_english("error-walk-header", vec![("file", path.display().to_string().into())]));
    };
    let (note, photo) = (col(NOTE), col(PHOTO));
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
                urgent: get(col(URGENT)).is_some_and(says_yes),
                at,
            })
        })
        .collect()
}

/// The paper grid typed in: each line at the route's point of its number, its place in words
/// kept before its description; a line with nothing but its number (a grid's empty line) is
/// skipped.
fn read_grid(
    path: &Path,
    rd: &mut csv::Reader<&[u8]>,
    header: &[String],
    point: usize,
    cat: usize,
    route: Option<&[Stop]>,
) -> Result<Vec<Observation>> {
    let bad = |at: &str, m: String| AppError::new(ErrorCode::InvalidFile, format!("{}: {at}: {m}", path.display()));
    let Some(route) = route else {
        return Err(bad(
            "header",
            "a walk sheet's grid names its places by the numbers of its route: give the QPV it was walked in".into(),
        ));
    };
    let col = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
    let (note, photo, place, urgent) = (col(NOTE), col(PHOTO), col(PLACE), col(URGENT));
    let mut out = Vec::new();
    for (i, rec) in rd.records().enumerate() {
        let at = format!("line {}", i + 2);
        let rec = rec.map_err(|e| bad(&at, e.to_string()))?;
        let get = |k: Option<usize>| k.and_then(|k| rec.get(k)).map(str::trim).filter(|v| !v.is_empty());
        let filled = rec
            .iter()
            .enumerate()
            .any(|(k, v)| k != point && !v.trim().is_empty() && Some(k) != col(&["n°", "no", "numéro"]));
        if !filled {
            continue;
        }
        let n = get(Some(point)).ok_or_else(|| bad(&at, "no point of the route".into()))?;
        let stop = n
            .trim_start_matches(['P', 'p'])
            .parse::<usize>()
            .ok()
            .and_then(|n| route.iter().find(|s| s.n == n))
            .ok_or_else(|| bad(&at, format!("point {n} is not on the route (1 to {})", route.len())))?;
        let described = get(note).unwrap_or("");
        let note = match get(place) {
            Some(p) if described.is_empty() => format!("{p} (point {})", stop.n),
            Some(p) => format!("{p} (point {}) : {described}", stop.n),
            None => format!("point {} : {described}", stop.n),
        };
        out.push(Observation {
            lon: stop.lon,
            lat: stop.lat,
            category: get(Some(cat)).ok_or_else(|| bad(&at, "no category".into()))?.to_owned(),
            note,
            photo: get(photo).map(str::to_owned),
            urgent: get(urgent).is_some_and(says_yes),
            at,
        });
    }
    Ok(out)
}

/// Posts the observations of a walk as reports (source `walk:<name>`), each routed. Every
/// observation is checked and routed before any is stored: one bad observation stores none,
/// and the error names it.
pub(crate) fn import_walk(
    reports: &mut RequestStore,
    t: &Held,
    observations: Vec<Observation>,
    name: &str,
    by: &str,
    at: Timestamp,
) -> Result<Vec<RequestRow>> {
    // A category given by its code, or by its name as the rules say it («Dépôt sauvage,
    // encombrants»), or by the beginning of one name only («Dépôt sauvage»).
    let rules = &t.rules.rules;
    let code_of = |given: String| {
        if rules.category(&given).is_some() {
            return given;
        }
        let wanted = given.trim().to_lowercase();
        let names = || rules.config().categories.iter().map(|c| (c, c.name.trim().to_lowercase()));
        let exact = names().find(|(_, n)| *n == wanted).map(|(c, _)| c);
        let begun: Vec<_> = names().filter(|(_, n)| wanted.chars().count() >= 4 && n.starts_with(&wanted)).collect();
        match (exact, begun.as_slice()) {
            (Some(c), _) => c.code.clone(),
            (None, [(c, _)]) => c.code.clone(),
            _ => given,
        }
    };
    let made: Vec<NewRequest> = observations
        .into_iter()
        .map(|o| {
            let mut attributes = BTreeMap::new();
            if o.urgent {
                attributes.insert("urgent".to_owned(), "true".to_owned());
            }
            let r = NewRequest {
                service_code: code_of(o.category),
                lon: o.lon,
                lat: o.lat,
                description: o.note,
                media_url: o.photo,
                attributes,
                reporter: by.to_owned(),
                source: format!("walk:{name}"),
                at,
                contact: super::Contact::default(),
                media: None,
            };
            check(t, &r).map_err(|e| e.context(format!("{name}: {}", o.at)))?;
            Ok(r)
        })
        .collect::<Result<_>>()?;
    made.into_iter().map(|r| post(reports, t, r)).collect()
}

/// The list of one service after a walk: its requests, as a table and as GeoJSON points.
#[derive(Debug, Clone)]
pub struct ServiceList {
    /// The service's id (`none-ACTOR` when no service is named).
    pub service: String,
    pub service_name: String,
    pub requests: usize,
}

/// Writes, in `dir`, one list per service of the requests `made` by the walk `walk`:
/// `SERVICE.csv`, `SERVICE.geojson` and the sheet to print, `SERVICE.pdf`; returns the lists
/// written, by service.
pub fn write_lists(held: &Held, walk: &str, made: &[RequestRow], dir: &Path) -> Result<Vec<ServiceList>> {
    let fail = |what: &Path, e: &dyn std::fmt::Display| {
        AppError::new(ErrorCode::FileUnreadable, format!("writing {}: {e}", what.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, &e))?;
    let mut by_service: BTreeMap<String, Vec<&RequestRow>> = BTreeMap::new();
    for m in made {
        by_service.entry(m.service_id.clone().unwrap_or_else(|| format!("none-{}", m.actor))).or_default().push(m);
    }
    let mut out = Vec::new();
    for (service, rows) in &by_service {
        let lines: Vec<RequestLine> = rows.iter().map(|r| RequestLine::from(*r)).collect();
        let csv_path = dir.join(format!("{service}.csv"));
        std::fs::write(&csv_path, crate::table::rows_csv(&lines, b',')?).map_err(|e| fail(&csv_path, &e))?;
        let fc = super::points(&lines);
        let gj_path = dir.join(format!("{service}.geojson"));
        let text = serde_json::to_string_pretty(&fc)
            .map_err(|e| AppError::new(ErrorCode::Internal, format!("writing GeoJSON: {e}")))?;
        std::fs::write(&gj_path, text).map_err(|e| fail(&gj_path, &e))?;
        let pdf_path = dir.join(format!("{service}.pdf"));
        let pdf = super::sheets::service_sheet(held, walk, rows)?;
        std::fs::write(&pdf_path, pdf).map_err(|e| fail(&pdf_path, &e))?;
        out.push(ServiceList {
            service: service.clone(),
            service_name: rows[0].service_name.clone(),
            requests: rows.len(),
        });
    }
    Ok(out)
}

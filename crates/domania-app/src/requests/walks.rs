//! Walking diagnostics (*diagnostics en marchant*): observations read from a CSV or GeoJSON
//! file, each routed as a request; and the lists each service receives.

use std::collections::BTreeMap;
use std::path::Path;

use domania_store::{RequestRow, RequestStore};
use jiff::Timestamp;

use super::lifecycle::{check, post};
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
}

/// The names a walk's columns (or GeoJSON properties) may have, in English or in French.
const LON: &[&str] = &["lon", "long", "longitude", "lng"];
const LAT: &[&str] = &["lat", "latitude"];
const CATEGORY: &[&str] = &["category", "categorie", "catégorie", "service_code", "type", "type de signalement"];
const NOTE: &[&str] = &["note", "description", "remarque", "commentaire", "observation", "constat"];
const PHOTO: &[&str] = &["photo", "media_url", "image"];

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
                let text = |names: &[&str]| names.iter().find_map(|k| p[*k].as_str().map(str::to_owned));
                Ok(Observation {
                    lon: n(0)?,
                    lat: n(1)?,
                    category: text(CATEGORY).ok_or_else(|| bad(&at, "no category"))?,
                    note: text(NOTE).unwrap_or_default(),
                    photo: text(PHOTO),
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
                at,
            })
        })
        .collect()
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
            let r = NewRequest {
                service_code: code_of(o.category),
                lon: o.lon,
                lat: o.lat,
                description: o.note,
                media_url: o.photo,
                attributes: BTreeMap::new(),
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

/// Writes, in `dir`, one list per service of the requests `made`: `SERVICE.csv` and
/// `SERVICE.geojson`; returns the lists written, by service.
pub fn write_lists(made: &[RequestRow], dir: &Path) -> Result<Vec<ServiceList>> {
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
        out.push(ServiceList {
            service: service.clone(),
            service_name: rows[0].service_name.clone(),
            requests: rows.len(),
        });
    }
    Ok(out)
}

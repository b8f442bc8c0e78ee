//! The sheets of a walking diagnostic (*diagnostic en marchant*), typeset: before the walk,
//! the route and the observation grid to fill in by hand; after it, each service's sheet of
//! what concerns it. The route's numbered points are how the grid, typed in, finds its places
//! again.

use domania_store::RequestRow;
use geo_types::{MultiPolygon, Rect};
use serde_json::{Value, json};

use crate::documents::{date_fr, kind_label};
use crate::error::{AppError, ErrorCode, Result};
use crate::held::Held;
use crate::printed::{points_map, typeset};

const WALK: &str = include_str!("../../templates/walk.typ");
const SERVICE_WALK: &str = include_str!("../../templates/service-walk.typ");

/// A numbered point of a walk's route: a sub-sector of the QPV, where the walkers stop. The
/// paper grid names a place by its number; its import finds the point again.
#[derive(Debug, Clone, PartialEq)]
pub struct Stop {
    pub n: usize,
    pub subsector: String,
    pub name: Option<String>,
    /// Lambert-93.
    pub x: f64,
    pub y: f64,
    pub lon: f64,
    pub lat: f64,
}

/// The route of a walk in QPV `code`: a point inside each of its sub-sectors, numbered from
/// the westmost, each next the nearest not yet walked; the QPV's own inner point when it has no
/// sub-sector.
///
/// # Errors
/// No QPV of that code (`not_found`).
pub fn stops(held: &Held, code: &str) -> Result<Vec<Stop>> {
    use geo::{InteriorPoint, Intersects};
    let qpv =
        held.snapshot.qpv().iter().find(|q| q.key == code).ok_or_else(|| crate::qpv::no_qpv(&held.snapshot, code))?;
    let mut points: Vec<(String, Option<String>, (f64, f64))> = held
        .snapshot
        .subsectors()
        .iter()
        .filter(|z| z.geom_l93.intersects(&qpv.geom_l93))
        .filter_map(|z| {
            let p = z.geom_l93.interior_point()?;
            Some((z.key.clone(), z.name.clone(), (p.x(), p.y())))
        })
        .collect();
    if points.is_empty() {
        let p = qpv.geom_l93.interior_point().ok_or_else(|| crate::qpv::no_qpv(&held.snapshot, code))?;
        points.push((String::new(), qpv.name.clone(), (p.x(), p.y())));
    }
    let mut route = Vec::with_capacity(points.len());
    points.sort_by(|a, b| a.2.0.total_cmp(&b.2.0).then_with(|| a.0.cmp(&b.0)));
    let mut here = points[0].2;
    while !points.is_empty() {
        let d = |p: &(f64, f64)| (p.0 - here.0).powi(2) + (p.1 - here.1).powi(2);
        let next = (0..points.len()).min_by(|a, b| d(&points[*a].2).total_cmp(&d(&points[*b].2))).unwrap_or(0);
        let (subsector, name, at) = points.remove(next);
        here = at;
        let (lon, lat) = domania_core::crs::Crs::lambert93().transform_to(&domania_core::crs::Crs::wgs84(), at.0, at.1);
        route.push(Stop { n: route.len() + 1, subsector, name, x: at.0, y: at.1, lon, lat });
    }
    Ok(route)
}

/// The sheet of a walking diagnostic (*diagnostic en marchant*) in QPV `code`, to take into
/// the field: the route's numbered points on a map, and the GUP method's observation grid
/// (point, place, category, description, urgency, photo) to fill in by hand, then type in and
/// import (`requests walk --qpv`).
///
/// # Errors
/// No such QPV (`not_found`), or the template failed (a bug, said).
pub fn walk_sheet(held: &Held, code: &str) -> Result<Vec<u8>> {
    let qpv =
        held.snapshot.qpv().iter().find(|q| q.key == code).ok_or_else(|| crate::qpv::no_qpv(&held.snapshot, code))?;
    let route = stops(held, code)?;
    let points: Vec<(f64, f64)> = route.iter().map(|s| (s.x, s.y)).collect();
    let (map, svg) = points_map(held, &qpv.geom_l93, &points, "Le parcours de la marche");
    let config = held.rules.rules.config();
    let categories: Vec<Value> = config
        .categories
        .iter()
        .map(|c| json!({ "name": c.name, "kind": kind_label(&held.rules.rules, &c.intervention) }))
        .collect();
    let name = qpv.name.as_deref().map_or_else(|| code.to_owned(), |n| format!("{n} ({code})"));
    let date = held.date;
    let figures = json!({
        "title": format!("Diagnostic en marchant — {name}"),
        "qpv": name,
        "code": code,
        "reference": format!("Diagnostic en marchant · {name} · feuille du {}", date_fr(date)),
        "map": map,
        "stops": route.iter().map(|s| json!({
            "n": s.n,
            "subsector": s.subsector,
            "name": s.name.clone().unwrap_or_default(),
        })).collect::<Vec<_>>(),
        "categories": categories,
        "lines": 22,
    });
    let key = format!("walk:{code}:{}", held.tag());
    typeset("walk.typ", WALK, figures, vec![("carte.svg".to_owned(), svg)], &key, (&held.rules.rules, date))
}

/// After a walk, the sheet of one service: its observations numbered on a map, each with its
/// place, category, description, urgency, photo and the manager named with the rule that
/// named it.
///
/// # Errors
/// The template failed (a bug, said).
pub fn service_sheet(held: &Held, walk: &str, rows: &[&RequestRow]) -> Result<Vec<u8>> {
    let rules = &held.rules.rules;
    let first = rows.first().ok_or_else(|| AppError::new(ErrorCode::Internal, "a service sheet of no request"))?;
    let pad = 60.0;
    let (mut x0, mut y0, mut x1, mut y1) = (first.x, first.y, first.x, first.y);
    for r in rows {
        (x0, y0, x1, y1) = (x0.min(r.x), y0.min(r.y), x1.max(r.x), y1.max(r.y));
    }
    // Wider than tall, as the page is below its title.
    let (w, h) = (x1 - x0 + 2.0 * pad, y1 - y0 + 2.0 * pad);
    let widen = ((h * 1.5 - w) / 2.0).max(0.0);
    let frame: MultiPolygon<f64> =
        Rect::new((x0 - pad - widen, y0 - pad), (x1 + pad + widen, y1 + pad)).to_polygon().into();
    let points: Vec<(f64, f64)> = rows.iter().map(|r| (r.x, r.y)).collect();
    let (map, svg) = points_map(held, &frame, &points, "Les observations du service");
    let lines: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let category = rules.category(&r.service_code).map_or(r.service_code.as_str(), |c| c.name.as_str());
            let place = match (&r.subsector, &r.qpv) {
                (Some(s), _) => format!("sous-secteur {s}"),
                (None, Some(q)) => format!("QPV {q}"),
                (None, None) => "hors sous-secteur".to_owned(),
            };
            json!({
                "n": i + 1,
                "id": r.id,
                "category": category,
                "description": r.description,
                "place": place,
                "manager": format!("{} ({})", r.service_name, r.actor.label_fr()),
                "why": r.explanation,
                "urgency": match r.urgency {
                    domania_store::Urgency::Urgent => "urgent",
                    domania_store::Urgency::Review => "dit urgent, à vérifier",
                    domania_store::Urgency::Normal => "",
                },
                "photo": r.media_url.clone().unwrap_or_default(),
            })
        })
        .collect();
    let service = first.service_id.as_deref().and_then(|id| rules.service(id));
    let contact: Vec<&str> = service.iter().flat_map(|s| [s.phone.as_deref(), s.email.as_deref()]).flatten().collect();
    let date = held.date;
    let figures = json!({
        "title": format!("Diagnostic en marchant — {}", first.service_name),
        "service": first.service_name,
        "contact": contact.join(" · "),
        "walk": walk,
        "reference": format!("{} · {walk} · {}", first.service_name, date_fr(date)),
        "map": map,
        "lines": lines,
    });
    let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
    let key = format!("walk-service:{walk}:{}", ids.join(","));
    typeset("service-walk.typ", SERVICE_WALK, figures, vec![("carte.svg".to_owned(), svg)], &key, (rules, date))
}

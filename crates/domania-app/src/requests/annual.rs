//! The annual report of the requests, for a commune or the whole territory.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use domania_core::Actor;
use domania_i18n::{Lang, format};
use domania_rules::SpaceKind;
use domania_store::{RequestFilter, RequestRow, RequestStore};
use serde::Serialize;

use super::Status;
use super::levels::{hours_between, median, percentile};
use crate::error::Result;
use crate::held::Held;

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
    /// The map of the requests (a point each, by status, over the sub-sectors and QPV), an SVG
    /// referenced by the Markdown; `None` when there is no request to draw.
    pub map: Option<String>,
    pub csv: String,
    /// The report to present, typeset: every table of the CSV as a chart with its title
    /// (made by the desk from the figures below).
    pub pdf: Vec<u8>,
    /// The figures, the CSV's rows.
    pub rows: Vec<AnnualRow>,
    /// What the report covers, in words (`l'ensemble du territoire`, `Poissy (78498)`).
    pub title: String,
    /// Its first paragraph: the requests received, the duplicates, the urgencies to check.
    pub lead: String,
    /// The land of each QPV's sub-sectors by owner (`None`: non cadastré), in m².
    pub qpv_land: Vec<(String, Option<Actor>, f64)>,
    /// The map of each QPV's requests (its code, the SVG).
    pub qpv_maps: Vec<(String, String)>,
}

/// One line of the annual figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnnualRow {
    /// `requests` (by kind and service), `delays` (by kind), `service`, `month`, `qpv` (delays
    /// by QPV), `land` (by kind and managing actor) or `qpv_land` (by QPV and owner).
    pub table: &'static str,
    pub kind: String,
    /// The service (requests), or the actor managing the land.
    pub who: String,
    pub requests: Option<usize>,
    pub done: Option<usize>,
    pub open: Option<usize>,
    pub duplicates: Option<usize>,
    #[serde(serialize_with = "crate::table::rounded::<2, _>")]
    pub median_hours: Option<f64>,
    #[serde(serialize_with = "crate::table::rounded::<2, _>")]
    pub p90_hours: Option<f64>,
    #[serde(serialize_with = "crate::table::rounded::<4, _>")]
    pub within_level: Option<f64>,
    pub area_m2: Option<f64>,
    /// Claimed urgent without any of the category's criteria (to review).
    pub urgent_to_review: Option<usize>,
}

impl AnnualRow {
    /// A row of land: an area (m², to the square centimetre) and what it is of.
    fn area(table: &'static str, kind: String, who: String, m2: f64) -> Self {
        Self {
            table,
            kind,
            who,
            requests: None,
            done: None,
            open: None,
            duplicates: None,
            median_hours: None,
            p90_hours: None,
            within_level: None,
            area_m2: Some((m2 * 100.0).round() / 100.0),
            urgent_to_review: None,
        }
    }
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
        "urgent_to_review",
    ];
}

/// A figure of the report as France writes it, or a dash when there is none.
fn fmt_opt(v: Option<f64>, write: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "–".to_owned(), write)
}

/// The annual report of `year`, for `commune` (INSEE code) or the whole territory.
pub(crate) fn annual(reports: &RequestStore, held: &Held, year: i16, commune: Option<&str>) -> Result<Annual> {
    let rules = &held.rules.rules;
    let label =
        |k: &str| rules.config().interventions.iter().find(|i| i.id == k).map_or(k, |i| i.label.as_str()).to_owned();
    let prefix = format!("{year:04}-");
    let rows: Vec<RequestRow> = reports
        .list(&RequestFilter::default())?
        .into_iter()
        .filter(|r| r.requested_at.starts_with(&prefix))
        .filter(|r| commune.is_none_or(|c| r.commune.as_deref() == Some(c)))
        .collect();
    let done: BTreeMap<i64, String> = reports.first_reached(Status::Done)?.into_iter().collect();
    let delay = |r: &RequestRow| hours_between(&r.requested_at, done.get(&r.id)?);
    let expected = |r: &RequestRow| hours_between(&r.requested_at, r.expected_at.as_deref()?);
    let status = |r: &RequestRow| Some(r.status);
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
            urgent_to_review: None,
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
            urgent_to_review: None,
        });
    }
    // The same figures by service, by QPV and by month: what the report's charts draw.
    let figures = |table: &'static str, kind: String, who: String, rs: &[&RequestRow]| {
        let mut d: Vec<f64> = rs.iter().filter_map(|r| delay(r)).collect();
        d.sort_by(f64::total_cmp);
        let judged: Vec<bool> = rs.iter().filter_map(|r| Some(delay(r)? <= expected(r)?)).collect();
        AnnualRow {
            table,
            kind,
            who,
            requests: Some(rs.len()),
            done: Some(rs.iter().filter(|r| r.status == Status::Done).count()),
            open: Some(rs.iter().filter(|r| r.status.is_open()).count()),
            duplicates: Some(rs.iter().filter(|r| r.status == Status::Duplicate).count()),
            median_hours: median(&d),
            p90_hours: percentile(&d, 90.0),
            within_level: (!judged.is_empty())
                .then(|| judged.iter().filter(|x| **x).count() as f64 / judged.len() as f64),
            area_m2: None,
            urgent_to_review: Some(rs.iter().filter(|r| r.urgency == domania_store::Urgency::Review).count()),
        }
    };
    let mut grouped: [BTreeMap<String, Vec<&RequestRow>>; 3] = Default::default();
    for r in &rows {
        grouped[0].entry(r.service_name.clone()).or_default().push(r);
        grouped[1].entry(r.qpv.clone().unwrap_or_default()).or_default().push(r);
        grouped[2].entry(r.requested_at.get(..7).unwrap_or_default().to_owned()).or_default().push(r);
    }
    let [services, qpvs, months] = grouped;
    out.extend(services.iter().map(|(service, rs)| figures("service", String::new(), service.clone(), rs)));
    out.extend(qpvs.iter().map(|(q, rs)| figures("qpv", q.clone(), String::new(), rs)));
    for m in 1..=12 {
        let month = format!("{year:04}-{m:02}");
        out.push(figures("month", month.clone(), String::new(), months.get(&month).map_or(&[][..], Vec::as_slice)));
    }
    // The land of each QPV's sub-sectors by owner (non-cadastré apart).
    let qpv_land = land_by_qpv(held, commune);
    for (q, actor, area) in &qpv_land {
        out.push(AnnualRow::area(
            "qpv_land",
            q.clone(),
            actor.map_or("Non cadastré", Actor::label_fr).to_owned(),
            *area,
        ));
    }
    // Land each actor manages, per kind (from the assignments of the sub-sectors' spaces).
    let mut land: BTreeMap<(String, String), f64> = BTreeMap::new();
    for s in &held.assign.spaces {
        let in_scope = match (&s.space, commune) {
            (_, None) => true,
            (SpaceKind::Parcel { idu, .. }, Some(c)) => idu.starts_with(c),
            (SpaceKind::NonCadastre, Some(_)) => false,
        };
        if in_scope {
            for a in s.assignments.iter() {
                *land.entry((a.intervention.clone(), a.actor.label_fr().to_owned())).or_default() += s.area_m2;
            }
        }
    }
    for ((kind, actor), area) in &land {
        out.push(AnnualRow::area("land", label(kind), actor.clone(), *area));
    }

    let scope = commune.map_or_else(|| "territoire".to_owned(), str::to_owned);
    let title = commune.map_or_else(
        || "l'ensemble du territoire".to_owned(),
        |c| {
            crate::communes::communes()
                .get(c)
                .map_or_else(|| format!("la commune {c}"), |n| format!("{} ({c})", n.name))
        },
    );
    let total = rows.len();
    let dups = rows.iter().filter(|r| status(r) == Some(Status::Duplicate)).count();
    let chart = format!("annual-{year}-{scope}.svg");
    let (plural, dup_plural) = (if total > 1 { "s" } else { "" }, if dups > 1 { "s" } else { "" });
    let map = reports_map(held, &rows);
    let mut in_qpv: BTreeMap<&str, Vec<RequestRow>> = BTreeMap::new();
    for r in &rows {
        if let Some(q) = r.qpv.as_deref() {
            in_qpv.entry(q).or_default().push(r.clone());
        }
    }
    let qpv_maps: Vec<(String, String)> =
        in_qpv.iter().filter_map(|(q, rs)| Some(((*q).to_owned(), reports_map(held, rs)?))).collect();
    let map_md = if map.is_some() {
        format!("![Carte des signalements](annual-{year}-{scope}-carte.svg)\n\n")
    } else {
        String::new()
    };
    let mut md = format!(
        "# Signalements {year} — {title}\n\n{total} signalement{plural} reçu{plural}, dont {dups} doublon{dup_plural} rattaché{dup_plural} à un \
         signalement déjà ouvert (travail évité). Chaque signalement est adressé au gestionnaire de l'espace au point signalé \
         pour son type d'intervention (domanialité, délégation de gestion, conventions).\n\n![Signalements par type]({chart})\n\n{map_md}\
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
            fmt_opt(r.median_hours, |h| format::duration_hours(h, Lang::Fr)),
            fmt_opt(r.p90_hours, |h| format::duration_hours(h, Lang::Fr)),
            fmt_opt(r.within_level, |x| format::percent(x, 1, Lang::Fr))
        );
    }
    md.push_str("\n## Surfaces gérées par acteur\n\nPar type d'intervention, la surface des espaces des sous-secteurs que chaque acteur gère.");
    if commune.is_some() {
        md.push_str(" Le non cadastré (voirie) n'appartient à aucune commune dans le cadastre : il n'est compté que dans le rapport du territoire.");
    }
    md.push_str("\n\n| type | acteur | surface |\n|---|---|---:|\n");
    for r in out.iter().filter(|r| r.table == "land") {
        let _ = writeln!(md, "| {} | {} | {} |", r.kind, r.who, format::hectares(r.area_m2.unwrap_or(0.0), Lang::Fr));
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
    let review = rows.iter().filter(|r| r.urgency == domania_store::Urgency::Review).count();
    let review_plural = if review > 1 { "s" } else { "" };
    let lead = format!(
        "{total} signalement{plural} reçu{plural}, dont {dups} doublon{dup_plural} rattaché{dup_plural} à un signalement déjà \
         ouvert (travail évité) ; {review} signalé{review_plural} urgent{review_plural} sans critère d'urgence (à vérifier)."
    );
    Ok(Annual { scope, year, markdown: md, svg, map, csv, pdf: Vec::new(), rows: out, title, lead, qpv_land, qpv_maps })
}

/// The land of the sub-sectors of each QPV (code) by owner (`Non cadastré` for the rest), for
/// `commune` or the whole territory; a sub-sector counts in the QPV that holds most of it.
fn land_by_qpv(held: &Held, commune: Option<&str>) -> Vec<(String, Option<Actor>, f64)> {
    use geo::{Area, BooleanOps, BoundingRect, Intersects};
    let qpv = held.snapshot.qpv();
    let mut of_subsector: BTreeMap<&str, &str> = BTreeMap::new();
    for z in held.snapshot.subsectors() {
        let Some(b) = z.geom_l93.bounding_rect() else { continue };
        let best = qpv
            .iter()
            .filter(|q| q.geom_l93.bounding_rect().is_some_and(|qb| qb.intersects(&b)))
            .map(|q| (q.key.as_str(), q.geom_l93.intersection(&z.geom_l93).unsigned_area()))
            .filter(|(_, a)| *a > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((k, _)) = best {
            of_subsector.insert(z.key.as_str(), k);
        }
    }
    let mut land: BTreeMap<(String, Option<Actor>), f64> = BTreeMap::new();
    for s in &held.assign.spaces {
        let Some(q) = of_subsector.get(s.subsector.as_str()) else { continue };
        let who = match (&s.space, commune) {
            (SpaceKind::Parcel { idu, .. }, Some(c)) if !idu.starts_with(c) => continue,
            (SpaceKind::NonCadastre, Some(_)) => continue,
            (SpaceKind::Parcel { actor, .. }, _) => Some(*actor),
            (SpaceKind::NonCadastre, None) => None,
        };
        *land.entry(((*q).to_owned(), who)).or_default() += s.area_m2;
    }
    land.into_iter().map(|((q, a), m2)| (q, a, m2)).collect()
}

/// The map of `rows`: each request a point in its status's colour (`styles/colours.json`, as on
/// the viewer's map), over the outlines of the sub-sectors and QPV around them, with a legend
/// of the statuses drawn and a scale bar. Framed on the requests, 300 m around them.
fn reports_map(held: &Held, rows: &[RequestRow]) -> Option<String> {
    const W: f64 = 640.0;
    const H: f64 = 480.0;
    const PAD: f64 = 20.0;
    let first = rows.first()?;
    let (mut x0, mut y0, mut x1, mut y1) = (first.x, first.y, first.x, first.y);
    for r in rows {
        (x0, y0, x1, y1) = (x0.min(r.x), y0.min(r.y), x1.max(r.x), y1.max(r.y));
    }
    let (x0, y0, x1, y1) = (x0 - 300.0, y0 - 300.0, x1 + 300.0, y1 + 300.0);
    let k = ((W - 2.0 * PAD) / (x1 - x0)).min((H - 2.0 * PAD - 40.0) / (y1 - y0));
    let at = |x: f64, y: f64| (PAD + (x - x0) * k, PAD + (y1 - y) * k);
    let colours = &crate::colour::colours().report_status;
    let colour = |s: Status| colours.get(s.as_str()).map_or(crate::colour::colours().other.as_str(), String::as_str);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"{W}\" height=\"{H}\" fill=\"#FFFFFF\"/>\n"
    );
    // The outlines that meet the frame: sub-sectors filled light, QPV dashed.
    let snap = &held.snapshot;
    for (zones, style) in [
        (snap.subsectors(), "fill=\"#F1F3F5\" stroke=\"#868E96\" stroke-width=\"0.8\""),
        (snap.qpv(), "fill=\"none\" stroke=\"#212529\" stroke-width=\"1.2\" stroke-dasharray=\"5 3\""),
    ] {
        for z in zones {
            let Some(bbox) = geo::BoundingRect::bounding_rect(&z.geom_l93) else { continue };
            if bbox.max().x < x0 || bbox.min().x > x1 || bbox.max().y < y0 || bbox.min().y > y1 {
                continue;
            }
            let mut path = String::new();
            for ring in z.geom_l93.0.iter().flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors())) {
                for (i, c) in ring.0.iter().enumerate() {
                    let (px, py) = at(c.x, c.y);
                    let _ = write!(path, "{}{px:.1},{py:.1}", if i == 0 { "M" } else { "L" });
                }
                path.push('Z');
            }
            let _ = writeln!(svg, "<path d=\"{path}\" fill-rule=\"evenodd\" {style}/>");
        }
    }
    // Open requests last, on top.
    let mut order: Vec<&RequestRow> = rows.iter().collect();
    order.sort_by_key(|r| r.status.is_open());
    for r in order {
        let (x, y) = at(r.x, r.y);
        let _ = writeln!(
            svg,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{}\" stroke=\"#FFFFFF\" stroke-width=\"1\"/>",
            colour(r.status)
        );
    }
    // The legend (the statuses drawn) and the scale bar, along the bottom.
    let mut seen: Vec<Status> = rows.iter().map(|r| r.status).collect();
    seen.sort();
    seen.dedup();
    let mut lx = PAD;
    for s in seen {
        let label = Lang::Fr.t(&format!("value-status-{}", s.as_str()), &[]);
        let _ = writeln!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            lx + 5.0,
            H - 26.0,
            colour(s),
            lx + 14.0,
            H - 22.0,
            crate::documents::esc(&label)
        );
        lx += 24.0 + 7.0 * label.chars().count() as f64;
    }
    let metres = [50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10_000.0]
        .into_iter()
        .rfind(|m| m * k <= 150.0)
        .unwrap_or(50.0);
    let (sx, sy) = (W - PAD - metres * k, H - 10.0);
    let label = if metres >= 1000.0 { format!("{} km", metres / 1000.0) } else { format!("{metres} m") };
    let _ = writeln!(
        svg,
        "<path d=\"M{sx:.1},{:.1}V{sy:.1}H{:.1}V{:.1}\" fill=\"none\" stroke=\"#212529\" stroke-width=\"1.5\"/>\n\
         <text x=\"{sx:.1}\" y=\"{:.1}\">{label}</text>",
        sy - 5.0,
        sx + metres * k,
        sy - 5.0,
        sy - 8.0
    );
    svg.push_str("</svg>\n");
    Some(svg)
}

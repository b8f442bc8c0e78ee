//! The annual report to present: each table of its CSV drawn as a chart with a title, units
//! and a legend, typeset into a PDF (`templates/annual.typ`). The figures are the CSV's rows,
//! written the French way here; the template only draws them.

use std::collections::BTreeMap;

use domania_core::Actor;
use domania_i18n::{Lang, format};
use serde_json::{Value, json};

use super::annual::{Annual, AnnualRow};
use crate::error::Result;
use crate::held::Held;
use crate::styles::{actor_color, non_cadastre};

const TEMPLATE: &str = include_str!("../../templates/annual.typ");
const LEVELS: &str = include_str!("../../templates/levels.typ");

const DONE: &str = "#2b8a3e";
const NOT_DONE: &str = "#ced4da";
const WITHIN: &str = "#1971c2";
const DUPLICATE: &str = "#e8590c";
const REVIEW: &str = "#c92a2a";

/// The least round number (1, 2 or 5 times a power of ten) at or above `v`.
fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * p).find(|c| *c >= v - 1e-9).unwrap_or(10.0 * p)
}

/// The axis of a chart of values up to `max`: its full length and its ticks (a round step, a
/// whole one for counts, about four of them), labelled.
fn axis(max: f64, label: impl Fn(f64) -> String) -> (f64, Value) {
    let step = nice_ceiling(max / 4.0).max(1.0);
    let steps = (max / step).ceil().max(1.0);
    let top = step * steps;
    let ticks: Vec<Value> =
        (0..=steps as u32).map(|i| f64::from(i) * step).map(|v| json!({ "at": v / top, "label": label(v) })).collect();
    (top, Value::Array(ticks))
}

fn count(v: f64) -> String {
    format::number(v, usize::from(v.fract().abs() > 1e-9), Lang::Fr)
}

/// A bar of a stacked chart: its label, its segments (value, colour) and the text beside it.
type Bar = (String, Vec<(f64, String)>, String);

/// A horizontal stacked bar chart: one bar per row, each of segments (value, colour).
fn stacked(title: &str, unit: &str, legend: &[(&str, &str)], rows: Vec<Bar>, nothing: &str) -> Value {
    let max = rows.iter().map(|(_, s, _)| s.iter().map(|(v, _)| v).sum::<f64>()).fold(0.0, f64::max);
    let (top, ticks) = axis(max, count);
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|(label, segments, text)| {
            let segments: Vec<Value> =
                segments.into_iter().map(|(v, colour)| json!({ "share": v / top, "colour": colour })).collect();
            json!({ "label": label, "segments": segments, "text": text })
        })
        .collect();
    let legend: Vec<Value> = legend.iter().map(|(l, c)| json!({ "label": l, "colour": c })).collect();
    json!({ "title": title, "unit": unit, "legend": legend, "rows": rows, "ticks": ticks, "empty": (max <= 0.0).then_some(nothing) })
}

/// A chart of shares (0–1) on a fixed 0–100 % axis.
fn shares(title: &str, unit: &str, legend: &[(&str, &str)], rows: Vec<(String, f64, String)>, nothing: &str) -> Value {
    let ticks: Vec<Value> = (0..=4)
        .map(|i| f64::from(i) / 4.0)
        .map(|at| json!({ "at": at, "label": format::percent(at, 0, Lang::Fr) }))
        .collect();
    let empty = rows.is_empty();
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|(label, share, text)| json!({ "label": label, "segments": [{ "share": share, "colour": WITHIN }], "text": text }))
        .collect();
    let legend: Vec<Value> = legend.iter().map(|(l, c)| json!({ "label": l, "colour": c })).collect();
    json!({ "title": title, "unit": unit, "legend": legend, "rows": rows, "ticks": ticks, "empty": empty.then_some(nothing) })
}

const MONTHS: [&str; 12] =
    ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."];

/// The season of a month (1–12), as the service levels name them.
fn season(month: usize) -> &'static str {
    match month {
        3..=5 => "printemps",
        6..=8 => "été",
        9..=11 => "automne",
        _ => "hiver",
    }
}

fn hours(h: Option<f64>) -> String {
    h.map_or_else(|| "–".to_owned(), |h| format::duration_hours(h, Lang::Fr))
}

/// The delay line of a row: within the level, the median and the slowest decile.
fn delay_text(r: &AnnualRow) -> String {
    match r.within_level {
        Some(w) => format!(
            "{} dans le niveau · médiane {} · 9e décile {}",
            format::percent(w, 1, Lang::Fr),
            hours(r.median_hours),
            hours(r.p90_hours)
        ),
        None => format!("aucun traité sur {}", r.requests.unwrap_or(0)),
    }
}

/// The annual report's PDF, from the rows of its CSV.
#[allow(clippy::too_many_lines)]
pub(crate) fn pdf(held: &Held, a: &Annual) -> Result<Vec<u8>> {
    let (year, title, lead, out, qpv_land, map) = (a.year, &a.title, &a.lead, &a.rows, &a.qpv_land, a.map.as_deref());
    let table = |t: &'static str| out.iter().filter(move |r| r.table == t);
    let n = |v: Option<usize>| v.unwrap_or(0) as f64;
    let done_bar = |r: &AnnualRow| vec![(n(r.done), DONE.to_owned()), (n(r.requests) - n(r.done), NOT_DONE.to_owned())];
    let done_text = |r: &AnnualRow| format!("{} traités sur {}", n(r.done), n(r.requests));
    let done_legend = [("traités", DONE), ("reçus, pas encore traités", NOT_DONE)];
    let by_kind = stacked(
        "Signalements par type d'intervention",
        "nombre de signalements",
        &done_legend,
        table("delays").map(|r| (r.kind.clone(), done_bar(r), done_text(r))).collect(),
        "Aucun signalement.",
    );
    let by_service = stacked(
        "Signalements par service",
        "nombre de signalements",
        &done_legend,
        table("service").map(|r| (r.who.clone(), done_bar(r), done_text(r))).collect(),
        "Aucun signalement.",
    );
    let months: Vec<&AnnualRow> = table("month").collect();
    let max = months.iter().map(|r| n(r.requests)).fold(0.0, f64::max);
    let (top, ticks) = axis(max, count);
    let columns: Vec<Value> = months
        .iter()
        .enumerate()
        .map(|(i, r)| {
            json!({
                "label": MONTHS[i],
                "season": season(i + 1),
                "share": n(r.requests) / top,
                "done": n(r.done) / top,
                "text": count(n(r.requests)),
            })
        })
        .collect();
    let by_month = json!({
        "title": format!("Signalements par mois en {year}"),
        "unit": "nombre de signalements reçus dans le mois",
        "legend": [{ "label": "traités", "colour": DONE }, { "label": "reçus, pas encore traités", "colour": NOT_DONE }],
        "columns": columns,
        "ticks": ticks,
    });
    let within_legend = [("part traitée dans le délai attendu", WITHIN)];
    let delays_service = shares(
        "Délais par service, au regard du niveau de service attendu",
        "part des signalements traités dans le délai attendu ; médiane et 9e décile des délais",
        &within_legend,
        table("service").map(|r| (r.who.clone(), r.within_level.unwrap_or(0.0), delay_text(r))).collect(),
        "Aucun signalement.",
    );
    let qpv_name = |code: &str| {
        if code.is_empty() {
            return "hors QPV".to_owned();
        }
        held.snapshot
            .qpv()
            .iter()
            .find(|q| q.key == code)
            .and_then(|q| q.name.clone())
            .map_or_else(|| code.to_owned(), |name| format!("{name} ({code})"))
    };
    let delays_qpv = shares(
        "Délais par quartier prioritaire",
        "part des signalements traités dans le délai attendu ; médiane et 9e décile des délais",
        &within_legend,
        table("qpv").map(|r| (qpv_name(&r.kind), r.within_level.unwrap_or(0.0), delay_text(r))).collect(),
        "Aucun signalement.",
    );
    let quality = stacked(
        "Doublons et urgences à vérifier, par service",
        "nombre de signalements",
        &[("doublons d'un signalement ouvert", DUPLICATE), ("signalés urgents sans critère", REVIEW)],
        table("service")
            .map(|r| {
                let (d, u) = (n(r.duplicates), n(r.urgent_to_review));
                let text = format!("{} doublon(s), {} urgence(s) à vérifier", count(d), count(u));
                (r.who.clone(), vec![(d, DUPLICATE.to_owned()), (u, REVIEW.to_owned())], text)
            })
            .collect(),
        "Aucun doublon ni urgence à vérifier.",
    );
    // Land by owner per QPV, in hectares, stacked.
    let mut per_qpv: BTreeMap<&str, Vec<(f64, String)>> = BTreeMap::new();
    let mut owners: Vec<Option<Actor>> = Vec::new();
    for (q, a, m2) in qpv_land {
        per_qpv.entry(q.as_str()).or_default().push((m2 / 10_000.0, a.map_or(non_cadastre(), actor_color).to_owned()));
        if !owners.contains(a) {
            owners.push(*a);
        }
    }
    let owner_legend: Vec<(&str, &str)> = owners
        .iter()
        .map(|a| (a.map_or("Non cadastré", Actor::label_fr), a.map_or(non_cadastre(), actor_color)))
        .collect();
    let land = stacked(
        "Sol des sous-secteurs par propriétaire, par quartier prioritaire",
        "surface en hectares",
        &owner_legend,
        per_qpv
            .into_iter()
            .map(|(q, segs)| {
                let total: f64 = segs.iter().map(|s| s.0).sum();
                (qpv_name(q), segs, format::hectares(total * 10_000.0, Lang::Fr))
            })
            .collect(),
        "Aucun sous-secteur dans un quartier prioritaire.",
    );

    let date = held.date;
    let figures = json!({
        "title": format!("Signalements {year} — {title}"),
        "scope": title,
        "year": year,
        "lead": lead,
        "reference": format!("Bilan annuel {year} · {title} · établi le {}", format::date(date, Lang::Fr)),
        "charts": [by_kind, by_service],
        "months": by_month,
        "delays": [delays_service, delays_qpv],
        "quality": quality,
        "land": land,
        "map": map.is_some(),
        "qpv_maps": a.qpv_maps.iter().enumerate().map(|(i, (q, _))| json!({ "file": format!("carte-qpv-{i}.svg"), "name": qpv_name(q) })).collect::<Vec<_>>(),
    });
    let mut files = map.map(|m| vec![("carte.svg".to_owned(), m.as_bytes().to_vec())]).unwrap_or_default();
    for (i, (_, svg)) in a.qpv_maps.iter().enumerate() {
        files.push((format!("carte-qpv-{i}.svg"), svg.as_bytes().to_vec()));
    }
    let key = format!("annual:{year}:{title}:{}", held.tag());
    crate::printed::typeset("annual.typ", TEMPLATE, figures, files, &key, (&held.rules.rules, date))
}

/// `2026-03` as France writes it: `mars 2026`.
fn month_fr(month: &str) -> String {
    let m = month.get(5..7).and_then(|m| m.parse::<u8>().ok()).and_then(|m| format::month_name(m, Lang::Fr));
    match (m, month.get(..4)) {
        (Some(m), Some(y)) => format!("{m} {y}"),
        _ => month.to_owned(),
    }
}

/// The service levels as a document: the delays the rules expect, per intervention kind (in
/// QPV, by season), then the delays seen per service and month, as a table and a chart.
///
/// # Errors
/// The template failed (a bug, said).
pub(crate) fn service_levels_pdf(held: &Held, rows: &[super::levels::LevelRow]) -> Result<Vec<u8>> {
    let rules = &held.rules.rules;
    let config = rules.config();
    let h = |v: f64| format::duration_hours(v, Lang::Fr);
    let expected: Vec<Value> = config
        .service_levels
        .iter()
        .map(|l| {
            let seasons: Vec<String> = l
                .seasons
                .iter()
                .map(|s| {
                    let months: Vec<&str> = s.months.iter().filter_map(|m| format::month_name(*m, Lang::Fr)).collect();
                    format!("{} : {} ({} en QPV)", months.join(", "), h(s.hours), h(s.qpv_hours.unwrap_or(s.hours)))
                })
                .collect();
            json!({
                "kind": crate::documents::kind_label(rules, &l.intervention),
                "hours": h(l.hours),
                "qpv_hours": h(l.qpv_hours.unwrap_or(l.hours)),
                "seasons": if seasons.is_empty() { "toute l'année".to_owned() } else { seasons.join(" ; ") },
            })
        })
        .collect();
    let by_service: Vec<&super::levels::LevelRow> = rows.iter().filter(|r| r.by == "service").collect();
    let seen: Vec<Value> = by_service
        .iter()
        .map(|r| {
            json!({
                "service": r.group,
                "month": month_fr(&r.month),
                "requests": r.requests,
                "done": r.done,
                "median": hours(r.median_hours),
                "p90": hours(r.p90_hours),
                "within": r.within_level.map_or_else(|| "–".to_owned(), |w| format::percent(w, 1, Lang::Fr)),
                "backlog": r.backlog,
                "duplicates": r.duplicates,
            })
        })
        .collect();
    let chart = shares(
        "Part des signalements traités dans le délai attendu, par service et par mois",
        "part des signalements traités qui avaient un niveau attendu",
        &[("part traitée dans le délai attendu", WITHIN)],
        by_service
            .iter()
            .filter(|r| r.within_level.is_some())
            .map(|r| {
                let text = format!(
                    "{} · médiane {}",
                    format::percent(r.within_level.unwrap_or(0.0), 1, Lang::Fr),
                    hours(r.median_hours)
                );
                (format!("{} — {}", r.group, month_fr(&r.month)), r.within_level.unwrap_or(0.0), text)
            })
            .collect(),
        "Aucun signalement traité qui avait un niveau attendu.",
    );
    let date = held.date;
    let figures = json!({
        "title": "Niveaux de service",
        "reference": format!("Niveaux de service · établi le {}", format::date(date, Lang::Fr)),
        "date": format::date(date, Lang::Fr),
        "expected": expected,
        "seen": seen,
        "chart": chart,
    });
    let key = format!("levels:{:016x}", domania_core::hash::fnv1a(figures.to_string().as_bytes()));
    crate::printed::typeset("levels.typ", LEVELS, figures, Vec::new(), &key, (rules, date))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        let ceilings: Vec<String> =
            [6.0, 4.0, 1.5, 200.0, 0.0].into_iter().map(|v| nice_ceiling(v).to_string()).collect();
        assert_eq!(ceilings, ["10", "5", "2", "200", "1"]);
        // Whole steps for counts, about four of them.
        let labels = |max: f64| {
            let (top, ticks) = axis(max, count);
            let t: Vec<String> =
                ticks.as_array().unwrap().iter().map(|t| t["label"].as_str().unwrap().to_owned()).collect();
            format!("{top}: {}", t.join(" "))
        };
        assert_eq!(labels(3.0), "3: 0 1 2 3");
        assert_eq!(labels(6.0), "6: 0 2 4 6");
        assert_eq!(labels(13.99), "15: 0 5 10 15");
        assert_eq!(labels(0.0), "1: 0 1");
        assert_eq!(
            (season(1), season(4), season(7), season(10), season(12)),
            ("hiver", "printemps", "été", "automne", "hiver")
        );
    }
}

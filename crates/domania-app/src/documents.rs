//! The documents partners use, as HTML pages that print cleanly on A4 from a browser:
//!
//! - the *cahier des charges localisé* of a sub-sector: its map, who owns its land, the
//!   management decision, who does what for every intervention kind and every space, and the
//!   conventions that touch it, with their dates and documents;
//! - the *annuaire*: every service of the rules' directory and its referents, by commune and
//!   intervention kind.
//!
//! Both are made from one snapshot and its rules, never written by hand; the map is an SVG
//! drawn here (it prints without WebGL).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use domania_core::{Actor, Layer};
use domania_engine::{AssignReport, SharesReport, Snapshot, SpaceAssignment};
use domania_rules::{Convention, RuleKind, Rules, Service, SpaceKind};
use geo::{BoundingRect, Centroid, Intersects};
use geo_types::{MultiPolygon, Rect};

use crate::Date;
use crate::i18n::{Lang, format};
use crate::styles::{actor_color, non_cadastre};

/// Text made safe for HTML (element content and quoted attributes).
#[must_use]
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Square metres the French way, to the metre: `12 345 m²`.
pub(crate) fn m2(v: f64) -> String {
    format::area_m2(v, 0, Lang::Fr)
}

/// A date the French way: `26 novembre 2026`.
pub(crate) fn date_fr(d: Date) -> String {
    format::date(d, Lang::Fr)
}

/// A share the French way: `61,5 %`.
pub(crate) fn pct(v: f64) -> String {
    format::percent(v, 1, Lang::Fr)
}

const PRINT_CSS: &str = "\
@page{size:A4;margin:12mm}\
*{box-sizing:border-box}\
body{font:10pt/1.35 system-ui,'DejaVu Sans',sans-serif;color:#111;margin:0 auto;max-width:190mm;padding:6mm}\
h1{font-size:16pt;margin:0 0 2mm}h2{font-size:12pt;margin:5mm 0 2mm;border-bottom:1px solid #999}\
table{border-collapse:collapse;width:100%;font-size:8.5pt;page-break-inside:auto}\
th,td{border:1px solid #bbb;padding:1mm 1.5mm;text-align:left;vertical-align:top}\
th{background:#eee}td.n{text-align:right;white-space:nowrap}tr{page-break-inside:avoid}\
.meta{color:#444;font-size:9pt}.swatch{display:inline-block;width:3mm;height:3mm;border:1px solid #555;margin-right:1mm}\
.legend span{margin-right:4mm;white-space:nowrap;font-size:8.5pt}.warn{color:#9a3b00;font-weight:600}\
svg{width:100%;height:auto;border:1px solid #ccc}\
@media print{body{padding:0}a{color:inherit;text-decoration:none}.noprint{display:none}}\
@media screen and (max-width:600px){body{padding:2mm}table{font-size:7.5pt}td,th{overflow-wrap:anywhere}}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{PRINT_CSS}</style></head><body>{body}</body></html>",
        esc(title)
    )
}

pub(crate) fn kind_label<'a>(rules: &'a Rules, kind: &'a str) -> &'a str {
    rules.config().interventions.iter().find(|i| i.id == kind).map_or(kind, |i| i.label.as_str())
}

pub(crate) fn rule_label(r: RuleKind) -> &'static str {
    match r {
        RuleKind::Convention => "convention",
        RuleKind::Fixed => "règle fixe",
        RuleKind::Default => "service de l'acteur gestionnaire",
        RuleKind::Unassigned => "aucun service désigné",
    }
}

fn contact(s: &Service) -> String {
    links(s.phone.as_deref(), s.email.as_deref())
}

/// A phone number to call and an address to write to, as links (a phone dials), `·`-separated.
fn links(phone: Option<&str>, email: Option<&str>) -> String {
    let mut parts = Vec::new();
    if let Some(p) = phone {
        let dial: String = p.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
        parts.push(format!("<a href=\"tel:{dial}\">☎\u{a0}{}</a>", esc(p)));
    }
    if let Some(e) = email {
        parts.push(format!("<a href=\"mailto:{0}\">{0}</a>", esc(e)));
    }
    parts.join(" · ")
}

/// A map drawn: its SVG, the ground it shows (Lambert-93) and its size in SVG units.
pub(crate) struct Drawn {
    pub svg: String,
    pub frame: Rect<f64>,
    pub width: f64,
    pub height: f64,
}

/// An SVG map of `shapes` (Lambert-93), each filled with its colour and numbered, inside the
/// outline `frame`; `title` names it for screen readers.
#[allow(clippy::many_single_char_names)]
pub(crate) fn svg_map(
    frame: &MultiPolygon<f64>,
    shapes: &[(String, &'static str, &MultiPolygon<f64>)],
    title: &str,
) -> Drawn {
    const W: f64 = 1000.0;
    let Some(b) = frame.bounding_rect() else {
        return Drawn { svg: String::new(), frame: Rect::new((0.0, 0.0), (1.0, 1.0)), width: W, height: W };
    };
    let pad = (b.width().max(b.height()) * 0.03).max(1.0);
    let b = Rect::new((b.min().x - pad, b.min().y - pad), (b.max().x + pad, b.max().y + pad));
    let scale = W / b.width();
    let h = (b.height() * scale).clamp(100.0, 850.0);
    let scale = scale.min(h / b.height());
    let path = |mp: &MultiPolygon<f64>| {
        let mut d = String::new();
        for poly in mp {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for (i, c) in ring.coords().enumerate() {
                    let (x, y) = ((c.x - b.min().x) * scale, (b.max().y - c.y) * scale);
                    let _ = write!(d, "{}{x:.1} {y:.1}", if i == 0 { "M" } else { "L" });
                }
                d.push('Z');
            }
        }
        d
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {h:.0}\" role=\"img\" \
         aria-label=\"{}\"><rect width=\"100%\" height=\"100%\" fill=\"#fafaf7\"/>",
        esc(title)
    );
    for (_, colour, mp) in shapes {
        let dash = if *colour == non_cadastre() { " stroke-dasharray=\"4 3\"" } else { "" };
        let _ = write!(
            svg,
            "<path d=\"{}\" fill=\"{colour}\" fill-rule=\"evenodd\" stroke=\"#444\" stroke-width=\"1\"{dash}/>",
            path(mp)
        );
    }
    let _ = write!(svg, "<path d=\"{}\" fill=\"none\" stroke=\"#000\" stroke-width=\"3\"/>", path(frame));
    for (label, _, mp) in shapes {
        if label.is_empty() {
            continue;
        }
        if let Some(c) = mp.centroid() {
            let (x, y) = ((c.x() - b.min().x) * scale, (b.max().y - c.y()) * scale);
            let _ = write!(
                svg,
                "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"18\" text-anchor=\"middle\" dominant-baseline=\"middle\" \
                 font-family=\"sans-serif\" paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"4\">{}</text>",
                esc(label)
            );
        }
    }
    svg.push_str("</svg>");
    // The ground shown: the frame's box, grown to the drawing's proportions.
    let shown = Rect::new((b.min().x, b.max().y - h / scale), (b.min().x + W / scale, b.max().y));
    Drawn { svg, frame: shown, width: W, height: h }
}

/// Where a convention stands on `date`.
pub(crate) fn convention_state(c: &Convention, date: Date) -> &'static str {
    if date < c.valid_from {
        "pas encore en vigueur"
    } else if c.valid_to.is_some_and(|to| to < date) {
        "échue"
    } else {
        "en vigueur"
    }
}

/// A service doing one kind in a sub-sector: its contact, the spaces (numbers) and their area.
type Managed<'a> = (Option<&'a Service>, Vec<usize>, f64);

/// What a cahier des charges is made from: a snapshot, what was computed from it once, and
/// the rules.
#[derive(Clone, Copy)]
pub struct Territory<'a> {
    pub snapshot: &'a Snapshot,
    pub shares: &'a SharesReport,
    pub assign: &'a AssignReport,
    pub rules: &'a Rules,
    pub date: Date,
    /// The snapshot's tag (printed, so that a printed page says which data it shows).
    pub tag: &'a str,
}

/// The space's line label: `n° 3 — parcelle 78498000AB0012 (Commune)`.
pub(crate) fn space_label(s: &SpaceAssignment) -> String {
    match &s.space {
        SpaceKind::Parcel { idu, actor } => format!("Parcelle {idu} ({})", actor.label_fr()),
        SpaceKind::NonCadastre => "Espace non cadastré (domaine public, voirie)".into(),
    }
}

/// The *cahier des charges localisé* of sub-sector `key`, as one printable HTML page; `None`
/// when there is no such sub-sector.
#[must_use]
#[allow(clippy::too_many_lines, clippy::many_single_char_names)]
pub fn cahier(t: Territory<'_>, key: &str) -> Option<String> {
    let pos = t.shares.zones.iter().position(|z| z.key == key)?;
    let (zs, decision) = (t.shares.zones.get(pos)?, t.assign.decisions.get(pos)?);
    let zone = t.snapshot.subsectors().iter().find(|z| z.key == key)?;
    let spaces: Vec<&SpaceAssignment> = t.assign.spaces.iter().filter(|s| s.subsector == key).collect();
    let kinds: Vec<&str> = t.rules.config().interventions.iter().map(|i| i.id.as_str()).collect();
    let qpv: Vec<String> = t
        .snapshot
        .zones(Layer::Qpv)
        .iter()
        .filter(|q| q.geom_l93.intersects(&zone.geom_l93))
        .map(|q| format!("{}{}", q.key, q.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()))
        .collect();
    let (d, to) = decision.decision.kind();
    let mut b = String::new();
    let title = format!("Cahier des charges localisé — sous-secteur {key}");
    let _ = write!(
        b,
        "<header><h1>Cahier des charges localisé</h1><p><strong>Sous-secteur {}</strong>{} · QPV : {} · \
         situation au {} · données {}</p></header>",
        esc(key),
        zs.name.as_deref().map(|n| format!(" — {}", esc(n))).unwrap_or_default(),
        if qpv.is_empty() { "aucun".to_owned() } else { esc(&qpv.join(", ")) },
        date_fr(t.date),
        esc(t.tag.get(..16).unwrap_or(t.tag)),
    );

    // The map: every space numbered, coloured by its owner's actor.
    let mut shapes = Vec::new();
    let mut actors_drawn: Vec<Actor> = Vec::new();
    for (n, s) in spaces.iter().enumerate() {
        let Some(g) = &s.geom_l93 else { continue };
        let colour = match &s.space {
            SpaceKind::Parcel { actor, .. } => {
                if !actors_drawn.contains(actor) {
                    actors_drawn.push(*actor);
                }
                actor_color(*actor)
            }
            SpaceKind::NonCadastre => non_cadastre(),
        };
        shapes.push(((n + 1).to_string(), colour, g));
    }
    let _ = write!(
        b,
        "<section class=\"map\">{}<p class=\"legend\">",
        svg_map(&zone.geom_l93, &shapes, "Carte du sous-secteur").svg
    );
    for a in actors_drawn {
        let _ =
            write!(b, "<span><i class=\"swatch\" style=\"background:{}\"></i>{}</span>", actor_color(a), a.label_fr());
    }
    let _ = write!(
        b,
        "<span><i class=\"swatch\" style=\"background:{}\"></i>Non cadastré</span></p></section>",
        non_cadastre()
    );

    // Who owns the land.
    let s = &zs.shares;
    // The shares as the 60 % rule counts them: of the whole area, or of the cadastré land only
    // (then the non-cadastré space is outside the count, not 0 %).
    let counted = s.non_cadastre_share > 0.0 || s.non_cadastre_m2 <= 0.0;
    let _ = write!(
        b,
        "<h2>Propriété du sol</h2><table><tr><th>Acteur</th><th>Surface</th><th>Part {}</th><th>Parcelles</th></tr>",
        if counted { "de la surface" } else { "du sol cadastré" }
    );
    for (a, share) in &s.by_actor {
        let warn = if a.is_undetermined() { " class=\"warn\"" } else { "" };
        let _ = write!(
            b,
            "<tr{warn}><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            a.label_fr(),
            m2(share.area_m2),
            pct(share.share),
            share.parcels
        );
    }
    let _ = write!(
        b,
        "<tr><td>Non cadastré</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td></td></tr>\
         <tr><th>Total</th><th class=\"n\">{}</th><th></th><th class=\"n\">{}</th></tr></table>",
        m2(s.non_cadastre_m2),
        if counted { pct(s.non_cadastre_share) } else { "hors calcul".to_owned() },
        m2(s.area_m2),
        s.parcels
    );

    // The decision.
    let _ = write!(
        b,
        "<h2>Décision</h2><p><strong>{}</strong>{}</p><p class=\"meta\">{}</p>",
        esc(&crate::said::decision_label(d, to, Lang::Fr)),
        if decision.needs_convention { " — <span class=\"warn\">une convention est à établir</span>" } else { "" },
        esc(&decision.reason.said(Lang::Fr))
    );

    // Who does what, per intervention kind.
    b.push_str(
        "<h2>Qui fait quoi</h2><table><tr><th>Intervention</th><th>Gestionnaire</th><th>Contact</th>\
         <th>Espaces (n°)</th><th>Surface</th><th>Règle</th></tr>",
    );
    for kind in &kinds {
        // The services doing this kind here, each with its spaces.
        // Keyed by the service's id (two services may share a name); a space no rule gave
        // this kind to is listed as such, so the areas add up to the sub-sector's.
        let mut by: BTreeMap<(String, RuleKind), Managed<'_>> = BTreeMap::new();
        for (n, s) in spaces.iter().enumerate() {
            let a = s.assignments.iter().find(|a| a.intervention == *kind);
            let key = match a {
                Some(a) => (a.service.as_ref().map_or_else(String::new, |sv| sv.id.clone()), a.rule),
                None => (String::new(), RuleKind::Unassigned),
            };
            let e = by.entry(key).or_insert((a.and_then(|a| a.service.as_deref()), Vec::new(), 0.0));
            e.1.push(n + 1);
            e.2 += s.area_m2;
        }
        let rows = by.len().max(1);
        let _ = write!(b, "<tr><th rowspan=\"{rows}\">{}</th>", esc(kind_label(t.rules, kind)));
        if by.is_empty() {
            b.push_str("<td colspan=\"5\">aucun espace</td></tr>");
        }
        for (i, ((_, rule), (service, nums, area))) in by.iter().enumerate() {
            let name = service.map_or("aucun service désigné", |s| s.name.as_str());
            if i > 0 {
                b.push_str("<tr>");
            }
            let nums: Vec<String> = nums.iter().map(ToString::to_string).collect();
            let _ = write!(
                b,
                "<td><strong>{}</strong></td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                esc(name),
                service.map(contact).unwrap_or_default(),
                nums.join(", "),
                m2(*area),
                rule_label(*rule)
            );
        }
    }
    b.push_str("</table>");

    // Every space: its manager per kind; the reason where it is not the plain rule of the
    // sub-sector (a convention, no service).
    b.push_str("<h2>Les espaces</h2><table><tr><th>N°</th><th>Espace</th><th>Surface</th><th>Gestionnaires</th></tr>");
    for (n, s) in spaces.iter().enumerate() {
        let mut cell = Vec::new();
        let mut why = String::new();
        for a in s.assignments.iter() {
            cell.push(format!(
                "{} : {}",
                esc(kind_label(t.rules, &a.intervention)),
                esc(a.service.as_ref().map_or("aucun service", |sv| sv.name.as_str()))
            ));
            if matches!(a.rule, RuleKind::Convention | RuleKind::Unassigned) {
                let _ =
                    write!(why, "<div class=\"meta\">{}</div>", esc(&t.rules.explain_assignment(&a.reason, Lang::Fr)));
            }
        }
        let _ = write!(
            b,
            "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td>{}{why}</td></tr>",
            n + 1,
            esc(&space_label(s)),
            m2(s.area_m2),
            cell.join(" · ")
        );
    }
    b.push_str("</table>");

    // The conventions whose perimeter touches the sub-sector, or keyed like it when the
    // conventions layer has no perimeter of that key (as the rules read them).
    let perimeters = t.snapshot.zones(Layer::Conventions);
    let conventions: Vec<&Convention> = t
        .rules
        .config()
        .conventions
        .iter()
        .filter(|c| match perimeters.iter().find(|z| z.key == c.id) {
            Some(z) => z.geom_l93.intersects(&zone.geom_l93),
            None => c.id == key,
        })
        .collect();
    b.push_str("<h2>Conventions</h2>");
    if conventions.is_empty() {
        b.push_str("<p>Aucune convention de gestion ne porte sur ce sous-secteur.</p>");
    } else {
        b.push_str(
            "<table><tr><th>Référence</th><th>Parties</th><th>Interventions</th><th>Service</th><th>Du</th>\
             <th>Au</th><th>État</th><th>Document</th></tr>",
        );
        for c in conventions {
            let kinds: Vec<&str> = c.interventions.iter().map(|k| kind_label(t.rules, k)).collect();
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.id),
                esc(&c.parties.join(" / ")),
                esc(&kinds.join(", ")),
                esc(t.rules.service(&c.service).map_or(c.service.as_str(), |s| s.name.as_str())),
                date_fr(c.valid_from),
                c.valid_to.map_or_else(|| "…".to_owned(), date_fr),
                convention_state(c, t.date),
                esc(&c.document)
            );
        }
        b.push_str("</table>");
    }
    let _ = write!(
        b,
        "<p class=\"meta\">Établi par Domania le {} à partir du cadastre, des fichiers des propriétaires, des \
         périmètres et des règles de gestion ; surfaces calculées en Lambert-93 (EPSG:2154).</p>",
        date_fr(t.date)
    );
    Some(page(&title, &b))
}

/// The communes of the territory: the INSEE codes of its parcels, and of the referents.
#[must_use]
pub fn communes(snap: &Snapshot, rules: &Rules) -> Vec<String> {
    let mut v: std::collections::BTreeSet<&str> = snap.parcels().iter().filter_map(|p| p.idu.get(..5)).collect();
    for s in &rules.config().services {
        v.extend(s.referents.iter().filter_map(|r| r.commune.as_deref()));
    }
    v.into_iter().map(str::to_owned).collect()
}

/// The *annuaire*: for each commune and intervention kind, the services some rule can give
/// that kind to, with their contacts and the referents for that commune and kind.
#[must_use]
pub fn annuaire(rules: &Rules, communes: &[String], date: Date) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<header><h1>Annuaire des services et des référents</h1><p class=\"meta\">Tiré de l'annuaire des \
         règles de gestion, le {}. Par commune (nom et code INSEE) et par type d'intervention : les services \
         qu'une règle peut désigner, avec leurs référents quand ils en ont.</p></header>",
        date_fr(date)
    );
    for commune in communes {
        let _ = write!(
            b,
            "<h2 id=\"c{0}\">{1}</h2><table><tr><th>Intervention</th><th>Services et référents</th>\
             <th>Autres services que les règles peuvent désigner</th></tr>",
            esc(commune),
            esc(&crate::communes::communes()
                .get(commune)
                .map_or_else(|| format!("Commune {commune}"), |c| format!("{} ({commune})", c.name)))
        );
        for kind in &rules.config().interventions {
            // One row per kind: the services with a referent here, each with them; the others
            // (mostly the owners' own services) named on one line.
            let (mut with, mut others) = (Vec::new(), Vec::new());
            for (_, s) in rules.services_for(&kind.id) {
                let referents: Vec<String> = s
                    .referents
                    .iter()
                    .filter(|r| r.commune.as_ref().is_none_or(|c| c == commune))
                    .filter(|r| r.interventions.is_empty() || r.interventions.iter().any(|k| k == &kind.id))
                    .map(|r| {
                        let mut line = format!("<strong>{}</strong>", esc(&r.name));
                        if !r.role.is_empty() {
                            let _ = write!(line, ", {}", esc(&r.role));
                        }
                        let reach = links(r.phone.as_deref(), r.email.as_deref());
                        if !reach.is_empty() {
                            let _ = write!(line, " · {reach}");
                        }
                        line
                    })
                    .collect();
                let contact = contact(s);
                let who = if contact.is_empty() {
                    format!("<strong>{}</strong>", esc(&s.name))
                } else {
                    format!("<strong>{}</strong> — {contact}", esc(&s.name))
                };
                if referents.is_empty() {
                    others.push(who);
                } else {
                    with.push(format!("<div>{who}<br>{}</div>", referents.join("<br>")));
                }
            }
            let dash = || "—".to_owned();
            let _ = write!(
                b,
                "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
                esc(&kind.label),
                if with.is_empty() { dash() } else { with.concat() },
                if others.is_empty() { dash() } else { others.join(" · ") }
            );
        }
        b.push_str("</table>");
    }
    page("Annuaire des services et des référents", &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_areas_are_french() {
        assert_eq!(esc("<a href=\"x\">L'été & co</a>"), "&lt;a href=&quot;x&quot;&gt;L&#39;été &amp; co&lt;/a&gt;");
        assert_eq!(m2(1_234_567.4), "1\u{202f}234\u{202f}567\u{a0}m²");
        assert_eq!(m2(999.0), "999\u{a0}m²");
        assert_eq!(pct(0.615), "61,5\u{202f}%");
        assert_eq!(date_fr(jiff::civil::date(2026, 11, 26)), "26 novembre 2026");
    }

    #[test]
    fn the_annuaire_lists_referents_by_commune_and_kind() {
        let rules = crate::files::rules(None).expect("built-in rules").rules;
        let date = jiff::civil::date(2026, 1, 1);
        let page = annuaire(&rules, &["78498".into(), "78551".into()], date);
        // Each commune by its name beside its code.
        let poissy = &page[page.find("Poissy (78498)").unwrap()..page.find("Saint-Germain-en-Laye (78551)").unwrap()];
        let other = &page[page.find("Saint-Germain-en-Laye (78551)").unwrap()..];
        // The Poissy referent for cleaning is listed in Poissy only, and not for waste.
        assert!(poissy.contains("Référent GUP Poissy (démo)"));
        assert!(!other.contains("Référent GUP Poissy (démo)"));
        // Referents' numbers dial from a phone.
        assert!(poissy.contains("<a href=\"tel:0139000021\">☎\u{a0}01 39 00 00 21</a>"), "{poissy}");
        // A referent of every commune (roads only) shows in both, on the roads line.
        assert!(poissy.contains("Astreinte voirie (démo)") && other.contains("Astreinte voirie (démo)"));
        assert_eq!(page.matches("Astreinte voirie (démo)").count(), 2, "only on the roads line of each commune");
        // Each commune has one row per kind.
        assert_eq!(
            poissy.matches("<tr><th>").count(),
            1 + rules.config().interventions.len(),
            "the header and a row per kind"
        );
    }
}

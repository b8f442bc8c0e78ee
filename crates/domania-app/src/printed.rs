//! The documents a committee signs and looks at, as PDF typeset by Domania itself
//! ([`domania_typeset`], Typst as a library): the *cahier des charges localisé* of a
//! sub-sector, signable, and the *annuaire* of the services.
//!
//! Each is a template (`templates/*.typ`, which only lays out) and its figures, computed and
//! written the French way here. A cahier is keyed by its sub-sector and the versions it draws
//! on, and dated by the day its conventions are judged on: made twice from the same versions,
//! it is the same bytes, so a signed copy can be checked against the data.

use std::collections::{BTreeMap, BTreeSet};

use domania_core::shares::ZoneShares;
use domania_core::{Actor, Layer};
use domania_engine::SpaceAssignment;
use domania_rules::{Convention, RuleKind, SpaceKind};
use domania_store::VersionInfo;
use geo::Intersects;
use geo_types::{MultiPolygon, Rect};
use serde_json::{Value, json};

use crate::documents::{Territory, convention_state, date_fr, kind_label, m2, pct, rule_label, space_label, svg_map};
use crate::error::{AppError, ErrorCode};
use crate::files::file_name;
use crate::held::Held;
use crate::i18n::Lang;
use crate::styles::{actor_color, non_cadastre};
use crate::{App, Date, Result};

const COMMON: (&str, &str) = ("common.typ", include_str!("../templates/common.typ"));
const CAHIER: &str = include_str!("../templates/cahier.typ");
const ANNUAIRE: &str = include_str!("../templates/annuaire.typ");

/// The width of the cahier's map on the page, in millimetres (A4 less its margins).
const MAP_MM: f64 = 170.0;

/// Where one layer a document draws on comes from: its version in the store and the vintage
/// of its source, as a reader checks them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The layer, as the reader says it (`Parcelles (plan cadastral)`).
    pub layer: String,
    /// `version 3 du 6 décembre 2026`.
    pub version: String,
    /// The source and its vintage: `cadastre-75118-parcelles.json ; parcelles à jour au …`.
    pub source: String,
}

fn layer_name(layer: Layer) -> &'static str {
    match layer {
        Layer::Parcels => "Parcelles (plan cadastral)",
        Layer::Owners => "Propriétaires (personnes morales)",
        Layer::Qpv => "Quartiers prioritaires (QPV)",
        Layer::Subsectors => "Sous-secteurs",
        Layer::Conventions => "Périmètres des conventions",
        Layer::Spaces => "Espaces",
        Layer::Buildings => "Bâtiments",
        Layer::Sections => "Sections cadastrales",
        Layer::Addresses => "Adresses (BAN)",
    }
}

/// The vintage of a layer's source, as the data itself says it: the cadastre by its parcels'
/// latest update, the owner file by its millésime (`PM_25_…`: 2025), the QPV by their codes'
/// generation (`QP…`: 2015, `QN…`: 2024).
fn vintage(held: &Held, layer: Layer, source: &str, cadastre_updated: Option<&str>) -> Option<String> {
    match layer {
        Layer::Parcels => {
            let date: Date = cadastre_updated?.get(..10)?.parse().ok()?;
            Some(format!("parcelles mises à jour jusqu'au {}", date_fr(date)))
        }
        Layer::Owners => {
            let name = file_name(source);
            let at = name.find("PM_")? + 3;
            let yy: u16 = name.get(at..at + 2)?.parse().ok()?;
            (name.as_bytes().get(at + 2) == Some(&b'_')).then(|| format!("millésime {}", 2000 + yy))
        }
        Layer::Qpv => {
            let zones = held.snapshot.zones(Layer::Qpv);
            let gen_of = |k: &str| {
                if k.starts_with("QN") {
                    Some(2024)
                } else if k.starts_with("QP") {
                    Some(2015)
                } else {
                    None
                }
            };
            let gens: BTreeSet<u16> = zones.iter().filter_map(|z| gen_of(&z.key)).collect();
            (!gens.is_empty()).then(|| {
                let g: Vec<String> = gens.iter().map(ToString::to_string).collect();
                format!("géographie prioritaire {}", g.join(" et "))
            })
        }
        _ => None,
    }
}

impl App {
    /// Where each layer of `held` comes from: its version in the store, when and from which
    /// file it was imported, and the vintage of that file; then the rules.
    pub fn provenance(&self, held: &Held) -> Result<Vec<Provenance>> {
        let mut out = Vec::new();
        let updated = self.open_read()?.cadastre_updated()?;
        for layer in
            [Layer::Parcels, Layer::Owners, Layer::Qpv, Layer::Subsectors, Layer::Conventions, Layer::Addresses]
        {
            let Some(Some(v)) = held.versions().get(&layer).copied() else { continue };
            let info: Option<VersionInfo> = self.history(layer)?.into_iter().find(|i| i.version == v);
            let (version, source) = match info {
                Some(i) => {
                    let day = i.created_at.get(..10).and_then(|d| d.parse::<Date>().ok());
                    let version = match day {
                        Some(d) => format!("version {v} du {}", date_fr(d)),
                        None => format!("version {v}"),
                    };
                    let mut source = file_name(&i.source).to_owned();
                    if let Some(vint) = vintage(held, layer, &i.source, updated.as_deref()) {
                        source = format!("{source} ; {vint}");
                    }
                    (version, source)
                }
                None => (format!("version {v}"), vintage(held, layer, "", updated.as_deref()).unwrap_or_default()),
            };
            out.push(Provenance { layer: layer_name(layer).to_owned(), version, source });
        }
        let rules = &held.rules;
        out.push(Provenance {
            layer: "Règles de gestion".to_owned(),
            version: format!("empreinte {:08x}", domania_core::hash::fnv1a(rules.text.as_bytes()) as u32),
            source: if rules.name == "built-in" {
                "règles intégrées".to_owned()
            } else {
                rules.public_name().to_owned()
            },
        });
        Ok(out)
    }

    /// The cahier des charges localisé of sub-sector `id` as a PDF.
    pub fn cahier_pdf(&self, held: &Held, id: &str) -> Result<Vec<u8>> {
        let sources = self.provenance(held)?;
        cahier(held, id, &sources)
    }
}

/// The PDF of template `name` with its `figures` (an object), dated `date` and headed with the
/// territory the rules name: the page of every document (`common.typ`) reads `territory`, `ymd`,
/// `title` and `reference`.
pub(crate) fn typeset(
    name: &str,
    template: &str,
    mut figures: Value,
    files: Vec<(String, Vec<u8>)>,
    key: &str,
    (rules, date): (&domania_rules::Rules, Date),
) -> Result<Vec<u8>> {
    figures["territory"] = json!(rules.config().territory.as_deref().unwrap_or("Territoire"));
    figures["ymd"] = json!([date.year(), date.month(), date.day()]);
    let day = (i32::from(date.year()), date.month() as u8, date.day() as u8);
    let doc =
        domania_typeset::Document { name, template, modules: &[COMMON], figures: &figures, files, key, date: day };
    domania_typeset::pdf(&doc).map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))
}

/// A length of ground that reads well on a scale bar (1, 2 or 5 times a power of ten), near a
/// fifth of `width` metres.
fn nice_length(width: f64) -> f64 {
    let target = (width / 5.0).max(1.0);
    let p = 10f64.powf(target.log10().floor());
    [5.0, 2.0, 1.0].into_iter().map(|m| m * p).find(|l| *l <= target).unwrap_or(p)
}

/// `250 m`, `1 km`.
fn length_label(metres: f64) -> String {
    if metres >= 1000.0 {
        format!("{} km", crate::i18n::format::number(metres / 1000.0, 0, Lang::Fr))
    } else {
        format!("{} m", crate::i18n::format::number(metres, 0, Lang::Fr))
    }
}

/// The street names of the addresses layer whose line crosses `frame`, placed in millimetres
/// on a map of `frame` drawn `MAP_MM` wide.
fn street_names(held: &Held, frame: Rect<f64>, mm_per_m: f64) -> Vec<Value> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (name, _, points) in held.search_index().addresses().streets(&held.snapshot) {
        let Some((a, b)) = domania_tiles::labels::street_line(&points) else { continue };
        let mid = (f64::midpoint(a.0, b.0), f64::midpoint(a.1, b.1));
        if !frame.intersects(&geo_types::Point::new(mid.0, mid.1)) || !seen.insert(name.to_owned()) {
            continue;
        }
        let angle = -(b.1 - a.1).atan2(b.0 - a.0).to_degrees();
        let angle = if angle > 90.0 {
            angle - 180.0
        } else if angle < -90.0 {
            angle + 180.0
        } else {
            angle
        };
        out.push(json!({
            "name": name,
            "x": (mid.0 - frame.min().x) * mm_per_m,
            "y": (frame.max().y - mid.1) * mm_per_m,
            "angle": angle,
        }));
    }
    out
}

/// The parties who sign: the actors of the delegation rule holding land here, the one the
/// decision delegates to, and the manager of the public roads when there are some; each named
/// by its owners (a bailleur), the territory (the CU) or its communes.
fn signatories(held: &Held, zs: &ZoneShares, delegated: Option<Actor>, communes: &[String]) -> Vec<Value> {
    let config = held.rules.rules.config();
    let mut actors: Vec<Actor> = config
        .delegation
        .actors
        .iter()
        .copied()
        .filter(|a| zs.by_actor.get(a).is_some_and(|s| s.area_m2 > 0.0))
        .collect();
    for a in delegated.into_iter().chain((zs.non_cadastre_m2 > 0.0).then_some(config.non_cadastre_actor)) {
        if !actors.contains(&a) {
            actors.push(a);
        }
    }
    actors
        .into_iter()
        .map(|a| {
            let names: Vec<&str> = if a == Actor::Commune {
                communes.iter().map(String::as_str).collect()
            } else {
                let mut n: Vec<&str> =
                    zs.by_owner.iter().filter(|o| o.owner_actor == a).map(|o| o.name.as_str()).collect();
                n.sort_unstable();
                n.dedup();
                n
            };
            json!({ "party": a.label_fr(), "names": names.join(", ") })
        })
        .collect()
}

/// A service doing one kind in a sub-sector: the service, its spaces' numbers and their area.
type Managed<'a> = (Option<&'a domania_rules::Service>, Vec<String>, f64);

/// The cahier des charges localisé of sub-sector `key`, signable.
///
/// # Errors
/// No such sub-sector (`not_found`), or the template failed (a bug, said).
#[allow(clippy::too_many_lines, clippy::many_single_char_names)]
pub fn cahier(held: &Held, key: &str, sources: &[Provenance]) -> Result<Vec<u8>> {
    let t: Territory<'_> = held.documents();
    let missing = || crate::subsectors::no_subsector(key);
    let pos = t.shares.zones.iter().position(|z| z.key == key).ok_or_else(missing)?;
    let (zs, decision) = (&t.shares.zones[pos], &t.assign.decisions[pos]);
    let zone = t.snapshot.subsectors().iter().find(|z| z.key == key).ok_or_else(missing)?;
    let spaces: Vec<&SpaceAssignment> = t.assign.spaces.iter().filter(|s| s.subsector == key).collect();
    let rules = t.rules;
    let config = rules.config();

    // Where it is: its communes by name, its QPV.
    let codes: BTreeSet<&str> = spaces
        .iter()
        .filter_map(|s| match &s.space {
            SpaceKind::Parcel { idu, .. } => idu.get(..5),
            SpaceKind::NonCadastre => None,
        })
        .collect();
    let communes: Vec<String> = codes
        .iter()
        .map(|c| crate::communes::communes().get(c).map_or_else(|| format!("commune {c}"), |n| n.name.clone()))
        .collect();
    let qpv: Vec<&domania_engine::Zone> =
        t.snapshot.zones(Layer::Qpv).iter().filter(|q| q.geom_l93.intersects(&zone.geom_l93)).collect();

    // The map, and its inset: the sub-sector in its QPV.
    let mut shapes = Vec::new();
    let mut legend: Vec<Value> = Vec::new();
    let mut numbered = Vec::new();
    for (n, s) in spaces.iter().enumerate() {
        let Some(g) = &s.geom_l93 else { continue };
        let (label, colour) = match &s.space {
            SpaceKind::Parcel { actor, .. } => (actor.label_fr(), actor_color(*actor)),
            SpaceKind::NonCadastre => ("Non cadastré (voirie, domaine public)", non_cadastre()),
        };
        if !legend.iter().any(|l| l["label"] == label) {
            legend.push(json!({ "label": label, "colour": colour }));
        }
        shapes.push((String::new(), colour, g));
        numbered.push((n + 1, g));
    }
    let map = svg_map(&zone.geom_l93, &shapes, "Carte du sous-secteur");
    let mm_per_m = MAP_MM / map.frame.width();
    let bar = nice_length(map.frame.width());
    let streets = street_names(held, map.frame, mm_per_m);
    let on_page = |x: f64, y: f64| ((x - map.frame.min().x) * mm_per_m, (map.frame.max().y - y) * mm_per_m);
    let numbers: Vec<Value> = numbered
        .iter()
        .filter_map(|(n, g)| {
            let p = geo::InteriorPoint::interior_point(*g)?;
            let (x, y) = on_page(p.x(), p.y());
            Some(json!({ "n": n.to_string(), "x": x, "y": y }))
        })
        .collect();
    let inset_frame: MultiPolygon<f64> = if qpv.is_empty() {
        zone.geom_l93.clone()
    } else {
        qpv.iter().flat_map(|q| q.geom_l93.0.iter().cloned()).collect()
    };
    let inset = svg_map(&inset_frame, &[(String::new(), "#d62728", &zone.geom_l93)], "Situation dans le quartier");

    // The shares as the decision counts them.
    let s = &zs.shares;
    let whole = config.delegation.include_non_cadastre;
    let mut bars: Vec<Value> = s
        .by_actor
        .iter()
        .map(|(a, share)| {
            json!({
                "label": a.label_fr(),
                "colour": actor_color(*a),
                "share": share.share,
                "text": format!("{} — {}", pct(share.share), m2(share.area_m2)),
                "unknown": a.is_undetermined(),
            })
        })
        .collect();
    if whole {
        bars.push(json!({
            "label": "Non cadastré",
            "colour": non_cadastre(),
            "share": s.non_cadastre_share,
            "text": format!("{} — {}", pct(s.non_cadastre_share), m2(s.non_cadastre_m2)),
            "unknown": false,
        }));
    }
    let threshold = config.delegation.threshold;
    let (d, to) = decision.decision.kind();

    // Who does what, per intervention kind.
    let interventions: Vec<Value> = config
        .interventions
        .iter()
        .map(|kind| {
            let mut by: BTreeMap<(String, RuleKind), Managed<'_>> = BTreeMap::new();
            for (n, s) in spaces.iter().enumerate() {
                let a = s.assignments.iter().find(|a| a.intervention == kind.id);
                let k = match a {
                    Some(a) => (a.service.as_ref().map_or_else(String::new, |sv| sv.id.clone()), a.rule),
                    None => (String::new(), RuleKind::Unassigned),
                };
                let e = by.entry(k).or_insert((a.and_then(|a| a.service.as_deref()), Vec::new(), 0.0));
                e.1.push((n + 1).to_string());
                e.2 += s.area_m2;
            }
            let rows: Vec<Value> = by
                .iter()
                .map(|((_, rule), (service, nums, area))| {
                    let contact: Vec<&str> =
                        service.iter().flat_map(|s| [s.phone.as_deref(), s.email.as_deref()]).flatten().collect();
                    json!({
                        "service": service.map_or("aucun service désigné", |s| s.name.as_str()),
                        "contact": contact.join(" · "),
                        "spaces": nums.join(", "),
                        "area": m2(*area),
                        "rule": rule_label(*rule),
                    })
                })
                .collect();
            json!({ "kind": kind.label, "rows": rows })
        })
        .collect();

    let perimeters = t.snapshot.zones(Layer::Conventions);
    let conventions: Vec<Value> = config
        .conventions
        .iter()
        .filter(|c| match perimeters.iter().find(|z| z.key == c.id) {
            Some(z) => z.geom_l93.intersects(&zone.geom_l93),
            None => c.id == key,
        })
        .map(|c: &Convention| {
            let kinds: Vec<&str> = c.interventions.iter().map(|k| kind_label(rules, k)).collect();
            json!({
                "id": c.id,
                "parties": c.parties.join(" / "),
                "kinds": kinds.join(", "),
                "service": rules.service(&c.service).map_or(c.service.as_str(), |s| s.name.as_str()),
                "from": date_fr(c.valid_from),
                "to": c.valid_to.map_or_else(|| "sans terme".to_owned(), date_fr),
                "state": convention_state(c, t.date),
                "document": c.document,
            })
        })
        .collect();

    let space_rows: Vec<Value> = spaces
        .iter()
        .enumerate()
        .map(|(n, s)| {
            let managers: Vec<String> = s
                .assignments
                .iter()
                .map(|a| {
                    format!(
                        "{} : {}",
                        kind_label(rules, &a.intervention),
                        a.service.as_ref().map_or("aucun service", |sv| sv.name.as_str())
                    )
                })
                .collect();
            json!({ "n": n + 1, "space": space_label(s), "area": m2(s.area_m2), "managers": managers.join(" · ") })
        })
        .collect();

    let versions: String = t.snapshot.versions().iter().map(|(l, v)| format!("{l}:{};", v.unwrap_or(0))).collect();
    let doc_key = format!("cahier:{key}:{versions}:{}", t.tag);
    let figures = json!({
        "title": format!("Cahier des charges localisé — sous-secteur {key}"),
        "key": key,
        "name": zs.name,
        "communes": communes.join(", "),
        "qpv": qpv.iter().map(|q| match &q.name { Some(n) => format!("{n} ({})", q.key), None => q.key.clone() }).collect::<Vec<_>>(),
        "date": date_fr(t.date),
        "reference": format!("{key} · données {}", &t.tag.get(..12).unwrap_or(t.tag)),
        "sources": sources.iter().map(|p| json!({"layer": p.layer, "version": p.version, "source": p.source})).collect::<Vec<_>>(),
        "map": {
            "height_mm": MAP_MM * map.height / map.width,
            "bar_mm": bar * mm_per_m,
            "bar_label": length_label(bar),
            "scale": format!("1/{}", crate::i18n::format::number((1000.0 / mm_per_m / 100.0).round() * 100.0, 0, Lang::Fr)),
            "legend": legend,
            "streets": streets,
            "numbers": numbers,
        },
        "shares": {
            "basis": if whole { "de la surface du sous-secteur, voirie comprise" } else { "du sol cadastré (la voirie non cadastrée est hors calcul)" },
            "bars": bars,
            "threshold": threshold,
            "threshold_label": format!("seuil de {}", pct(threshold)),
            "area": m2(s.area_m2),
            "cadastre": m2(s.cadastre_m2),
            "non_cadastre": format!("{}{}", m2(s.non_cadastre_m2), if whole { String::new() } else { format!(" ({} de la surface, hors calcul)", pct(s.non_cadastre_share_of_area)) }),
            "parcels": s.parcels,
        },
        "decision": {
            "label": crate::said::decision_label(d, to, Lang::Fr),
            "reason": decision.reason.said(Lang::Fr),
            "needs_convention": decision.needs_convention,
        },
        "interventions": interventions,
        "conventions": conventions,
        "spaces": space_rows,
        "signatories": signatories(held, s, to, &communes),
    });
    let files =
        vec![("carte.svg".to_owned(), map.svg.into_bytes()), ("situation.svg".to_owned(), inset.svg.into_bytes())];
    typeset("cahier.typ", CAHIER, figures, files, &doc_key, (rules, t.date))
}

/// A commune by its name (`Poissy (78498)`), or its code when the list of communes does not
/// know it.
fn commune_name(code: &str) -> String {
    crate::communes::communes().get(code).map_or_else(|| format!("commune {code}"), |c| format!("{} ({code})", c.name))
}

/// The *annuaire* as a PDF: one table per service (the kinds it covers, its communes by name,
/// its referents and their contacts); the owners' own services, which have no contact of
/// their own, explained once.
///
/// # Errors
/// The template failed (a bug, said).
pub fn annuaire(rules: &domania_rules::Rules, territory_communes: &[String], date: Date) -> Result<Vec<u8>> {
    let config = rules.config();
    let mut services = Vec::new();
    let mut generic = Vec::new();
    for s in &config.services {
        let kinds: Vec<&str> = config
            .interventions
            .iter()
            .filter(|k| rules.services_for(&k.id).iter().any(|(_, x)| x.id == s.id))
            .map(|k| k.label.as_str())
            .collect();
        if kinds.is_empty() {
            continue;
        }
        if s.phone.is_none() && s.email.is_none() && s.referents.is_empty() {
            generic.push(s.name.clone());
            continue;
        }
        // A service a fixed or default rule designates works everywhere; one only a
        // convention designates, where that convention says.
        let everywhere =
            config.fixed.iter().any(|f| f.service == s.id) || config.defaults.iter().any(|d| d.service == s.id);
        let mut communes: Vec<String> =
            s.referents.iter().filter_map(|r| r.commune.as_deref()).map(commune_name).collect();
        communes.sort();
        communes.dedup();
        let mut communes_said =
            if everywhere { "toutes les communes du territoire" } else { "là où une convention le désigne" }.to_owned();
        if !communes.is_empty() {
            communes_said = format!("{communes_said} ; référents propres à {}", communes.join(", "));
        }
        let referents: Vec<Value> = s
            .referents
            .iter()
            .map(|r| {
                let kinds: Vec<&str> = r.interventions.iter().map(|k| kind_label(rules, k)).collect();
                let contact: Vec<&str> = [r.phone.as_deref(), r.email.as_deref()].into_iter().flatten().collect();
                json!({
                    "name": r.name,
                    "role": r.role,
                    "commune": r.commune.as_deref().map_or_else(|| "toutes".to_owned(), commune_name),
                    "kinds": if kinds.is_empty() { "toutes celles du service".to_owned() } else { kinds.join(", ") },
                    "contact": contact.join(" · "),
                })
            })
            .collect();
        let contact: Vec<&str> = [s.phone.as_deref(), s.email.as_deref()].into_iter().flatten().collect();
        services.push(json!({
            "name": s.name,
            "direction": s.direction,
            "actor": s.actor.label_fr(),
            "contact": contact.join(" · "),
            "kinds": kinds.join(", "),
            "communes": communes_said,
            "referents": referents,
        }));
    }
    let names: Vec<String> = territory_communes.iter().map(|c| commune_name(c)).collect();
    let figures = json!({
        "title": "Annuaire des services et des référents",
        "communes": names.join(", "),
        "date": date_fr(date),
        "reference": format!("Annuaire · {}", date_fr(date)),
        "services": services,
        "generic": generic,
    });
    let key = format!("annuaire:{:016x}", domania_core::hash::fnv1a(figures.to_string().as_bytes()));
    typeset("annuaire.typ", ANNUAIRE, figures, Vec::new(), &key, (rules, date))
}

/// A map of `frame` with the sub-sectors drawn light and `points` (Lambert-93) placed on the
/// page: the drawing, each point's place in millimetres from the map's top left, and the
/// scale bar (length on the page in mm, its label).
pub(crate) fn points_map(
    held: &Held,
    frame: &MultiPolygon<f64>,
    points: &[(f64, f64)],
    title: &str,
) -> (Value, Vec<u8>) {
    use geo::BoundingRect;
    let b = frame.bounding_rect();
    let zones: Vec<(String, &'static str, &MultiPolygon<f64>)> = held
        .snapshot
        .subsectors()
        .iter()
        .filter(|z| b.is_some_and(|b| z.geom_l93.bounding_rect().is_some_and(|zb| zb.intersects(&b))))
        .map(|z| (String::new(), "#e9ecef", &z.geom_l93))
        .collect();
    let map = svg_map(frame, &zones, title);
    let mm_per_m = MAP_MM / map.frame.width();
    let bar = nice_length(map.frame.width());
    let numbers: Vec<Value> = points
        .iter()
        .enumerate()
        .map(|(i, (x, y))| {
            json!({
                "n": (i + 1).to_string(),
                "x": (x - map.frame.min().x) * mm_per_m,
                "y": (map.frame.max().y - y) * mm_per_m,
            })
        })
        .collect();
    let figures = json!({
        "height_mm": MAP_MM * map.height / map.width,
        "bar_mm": bar * mm_per_m,
        "bar_label": length_label(bar),
        "numbers": numbers,
        "streets": street_names(held, map.frame, mm_per_m),
    });
    (figures, map.svg.into_bytes())
}

//! MapLibre style documents (style specification v8) of Domania's tile layers: who manages each
//! space for one intervention kind (one colour per service of the rules' directory, the
//! non-cadastré space apart), who owns each parcel (one colour per actor), and how each
//! sub-sector is managed (delegated to whom, by domaniality, a convention needed). The styles
//! are sources of the repository's `styles/` folder (one per view, valid styles checked by
//! MapLibre's validator; the colours in `styles/colours.json`, each once), built in: here the
//! tile source, the titles and the legend are filled in, the legend made from the rules, never
//! written by hand, and carried in `metadata["domania:legend"]`. The tile source is a
//! parameter: a server's TileJSON URL, or a `pmtiles://` URL of an export for static hosting,
//! so one document serves both.

use domania_core::Actor;
use domania_i18n::Lang;
use domania_rules::Rules;
use serde::Serialize;
use serde_json::{Value, json};

use crate::said::{actor_label, decision_label};

/// The style sources, by view (`styles/`).
const OWNERS: &str = include_str!("../../../styles/owners.json");
const MANAGERS: &str = include_str!("../../../styles/managers.json");
const DECISIONS: &str = include_str!("../../../styles/decisions.json");
const LABELS: &str = include_str!("../../../styles/labels.json");

/// A style source, parsed.
fn source_style(text: &str) -> Value {
    serde_json::from_str(text).expect("the styles/ sources are valid JSON (checked by the tests)")
}

/// The colour of what no rule or table names (a service left unassigned, an unknown value).
#[must_use]
pub fn other() -> &'static str {
    &crate::colour::colours().other
}

/// The non-cadastré space where no manager colours it (the documents' maps, who owns): pale,
/// with a dashed outline.
#[must_use]
pub fn non_cadastre() -> &'static str {
    &crate::colour::colours().non_cadastre
}

/// One entry of a legend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegendEntry {
    pub label: String,
    pub color: String,
    /// The value the style matches (a service's name, an actor, a decision).
    pub value: String,
}

/// The styles a territory has: `managers-<kind>` for each intervention kind, `owners`,
/// `decisions`.
#[must_use]
pub fn names(rules: &Rules) -> Vec<String> {
    let mut v: Vec<String> = rules.config().interventions.iter().map(|i| format!("managers-{}", i.id)).collect();
    v.push("owners".into());
    v.push("decisions".into());
    v
}

/// The colour of an actor's land in every view (see [`crate::colour`]).
#[must_use]
pub fn actor_color(a: Actor) -> &'static str {
    crate::colour::actor_colour(a)
}

/// The colour of the service at `index` of the rules' directory: a shade of its actor's colour,
/// the first service of an actor in the colour itself, the next ones lighter or darker.
#[must_use]
pub fn service_color(rules: &Rules, index: usize) -> String {
    let services = &rules.config().services;
    let Some(s) = services.get(index) else { return other().to_owned() };
    let rank = services[..index].iter().filter(|o| o.actor == s.actor).count();
    crate::colour::shade(actor_color(s.actor), rank)
}

/// The style of a view from its source (`styles/NAME.json`): its name, title, legend and
/// metadata, its tiles read from `source`, and `colour` in the paint properties its
/// `domania:coloured` names.
fn build(
    text: &str,
    name: &str,
    title: &str,
    source: &str,
    legend: &[LegendEntry],
    extra: Value,
    colour: &Value,
) -> Value {
    let mut style = source_style(text);
    style["name"] = json!(title);
    let coloured: Vec<(String, String)> = style["metadata"]["domania:coloured"]
        .as_object()
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default();
    let mut metadata = json!({
        "domania:style": name,
        "domania:legend": legend,
        "domania:non_cadastre": non_cadastre(),
        "domania:report_status": crate::colour::colours().report_status.iter().filter(|(k, _)| *k != "//").collect::<std::collections::BTreeMap<_, _>>(),
    });
    if let (Some(m), Value::Object(e)) = (metadata.as_object_mut(), extra) {
        m.extend(e);
    }
    style["metadata"] = metadata;
    // A TileJSON URL, or `pmtiles://…` (read by the pmtiles protocol of MapLibre).
    style["sources"]["domania"]["url"] = json!(source);
    if let Some(layers) = style["layers"].as_array_mut() {
        for l in layers {
            let id = l["id"].as_str().unwrap_or_default().to_owned();
            if let Some((_, property)) = coloured.iter().find(|(layer, _)| *layer == id) {
                l["paint"][property] = colour.clone();
            }
        }
    }
    style
}

fn matching(property: &str, legend: &[LegendEntry]) -> Value {
    if legend.is_empty() {
        return json!(other());
    }
    let mut m = vec![json!("match"), json!(["get", property])];
    for e in legend {
        m.push(json!(e.value));
        m.push(json!(e.color));
    }
    m.push(json!(other()));
    Value::Array(m)
}

/// The fonts the labels are written in (a server makes their glyphs, see `glyphs`).
pub const LABEL_FONTS: [&str; 2] = ["Open Sans Regular", "Open Sans Semibold"];

/// `style` with the map's bearings written on it: the name of each cadastral section (from
/// z14) and of each street along it (from z15), from the `labels` tile layer, in glyphs read
/// from `glyphs` (a URL template with `{fontstack}` and `{range}`: a server's own, never
/// another host's).
#[must_use]
pub fn with_labels(mut style: Value, glyphs: &str) -> Value {
    style["glyphs"] = json!(glyphs);
    let labels = source_style(LABELS);
    push(&mut style, labels["layers"].as_array().cloned().unwrap_or_default());
    style
}

fn push(style: &mut Value, layers: impl IntoIterator<Item = Value>) {
    if let Some(l) = style["layers"].as_array_mut() {
        l.extend(layers);
    }
}

/// Who manages each space for intervention kind `kind`: one colour per service of the rules'
/// directory (in its order), the non-cadastré space apart. `None` for an unknown kind.
#[must_use]
pub fn managers(rules: &Rules, kind: &str, source: &str, lang: Lang) -> Option<Value> {
    let label = rules.config().interventions.iter().find(|i| i.id == kind)?.label.clone();
    // The services some rule can give this kind to, each keeping the colour of its place in the
    // directory (the same service, the same colour, in every style).
    let legend: Vec<LegendEntry> = rules
        .services_for(kind)
        .into_iter()
        .map(|(i, s)| LegendEntry { label: s.name.clone(), color: service_color(rules, i), value: s.name.clone() })
        .collect();
    let name = format!("managers-{kind}");
    let title = lang.t("style-managers", &[("kind", label.into())]);
    // Spaces and the non-cadastré space (lighter, dashed: styles/managers.json) in their
    // manager's colour.
    let colour = matching(kind, &legend);
    Some(build(MANAGERS, &name, &title, source, &legend, json!({"domania:kind": kind}), &colour))
}

/// Who owns each parcel: one colour per actor (merged per actor below z15).
#[must_use]
pub fn owners(source: &str, lang: Lang) -> Value {
    let legend: Vec<LegendEntry> = Actor::ALL
        .iter()
        .map(|&a| LegendEntry {
            label: actor_label(a, lang),
            color: actor_color(a).to_owned(),
            value: a.as_str().to_owned(),
        })
        .collect();
    let colour = matching("actor", &legend);
    build(OWNERS, "owners", &lang.t("style-owners", &[]), source, &legend, json!({}), &colour)
}

/// How each sub-sector is managed: delegated (one colour per actor it goes to), by
/// domaniality, undecided; a convention needed drawn with a thick outline.
#[must_use]
pub fn decisions(rules: &Rules, source: &str, lang: Lang) -> Value {
    let d = &rules.config().delegation;
    // Delegated to an actor: that actor's colour, as everywhere.
    let mut legend: Vec<LegendEntry> = d
        .actors
        .iter()
        .map(|a| LegendEntry {
            label: decision_label("delegated", Some(*a), lang),
            color: actor_color(*a).to_owned(),
            value: format!("delegated:{}", a.as_str()),
        })
        .collect();
    legend.push(LegendEntry {
        label: decision_label("domanialite", None, lang),
        color: crate::colour::colours().domanialite.clone(),
        value: "domanialite".into(),
    });
    legend.push(LegendEntry {
        label: decision_label("undecided", None, lang),
        color: crate::colour::colours().undecided.clone(),
        value: "undecided".into(),
    });
    // The decision and the actor in one value: `delegated:bailleur_social`, `domanialite`…
    let key = json!([
        "case",
        ["==", ["get", "decision"], "delegated"],
        ["concat", "delegated:", ["coalesce", ["get", "delegated_to"], ""]],
        ["coalesce", ["get", "decision"], ""]
    ]);
    let mut m = vec![json!("match"), key];
    for e in &legend {
        m.push(json!(e.value));
        m.push(json!(e.color));
    }
    m.push(json!(other()));
    let extra = json!({"domania:convention_needed": lang.t("style-convention-needed", &[])});
    build(DECISIONS, "decisions", &lang.t("style-decisions", &[]), source, &legend, extra, &Value::Array(m))
}

/// `style` drawing several tile sources alike (one archive per département): its source
/// `domania` replaced by `sources` (id, URL), each of its layers on it repeated for each source
/// (ids suffixed with the source's), the background once.
#[must_use]
pub fn over_sources(mut style: Value, sources: &[(String, String)]) -> Value {
    let template = style["sources"]["domania"].clone();
    let mut map = serde_json::Map::new();
    for (id, url) in sources {
        let mut s = template.clone();
        s["url"] = json!(url);
        map.insert(id.clone(), s);
    }
    style["sources"] = Value::Object(map);
    let layers = style["layers"].as_array().cloned().unwrap_or_default();
    let mut out = Vec::new();
    for layer in layers {
        if layer.get("source").and_then(Value::as_str) == Some("domania") {
            for (id, _) in sources {
                let mut l = layer.clone();
                l["id"] = json!(format!("{}-{id}", layer["id"].as_str().unwrap_or("layer")));
                l["source"] = json!(id);
                out.push(l);
            }
        } else {
            out.push(layer);
        }
    }
    style["layers"] = Value::Array(out);
    style
}

/// A style by name (see [`names`]), `None` when there is none of that name.
#[must_use]
pub fn style(rules: &Rules, name: &str, source: &str, lang: Lang) -> Option<Value> {
    match name {
        "owners" => Some(owners(source, lang)),
        "decisions" => Some(decisions(rules, source, lang)),
        _ => managers(rules, name.strip_prefix("managers-")?, source, lang),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        crate::files::rules(None).expect("built-in rules").rules
    }

    /// Every legend of the built-in territory keeps its colours apart (CIEDE2000 ≥ 15), and an
    /// actor has one colour in every view: its land, its delegated sub-sectors, its first service.
    #[test]
    fn colours_keep_their_distance_and_their_meaning() {
        let r = rules();
        for name in names(&r) {
            let s = style(&r, &name, "x", Lang::Fr).unwrap();
            let legend = s["metadata"]["domania:legend"].as_array().unwrap();
            let colours: Vec<&str> = legend.iter().map(|e| e["color"].as_str().unwrap()).collect();
            if let Some((d, a, b)) = crate::colour::closest(&colours) {
                assert!(d >= crate::colour::MIN_DISTANCE, "{name}: {a} and {b} are {d:.1} apart");
            }
        }
        let cu = actor_color(Actor::CommunauteUrbaine);
        let owners_cu = owners("x", Lang::Fr)["metadata"]["domania:legend"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["value"] == "communaute_urbaine")
            .map(|e| e["color"].clone());
        assert_eq!(owners_cu, Some(json!(cu)));
        let decisions = decisions(&r, "x", Lang::Fr);
        let delegated = decisions["metadata"]["domania:legend"].as_array().unwrap();
        assert!(delegated.iter().any(|e| e["value"] == "delegated:communaute_urbaine" && e["color"] == cu));
        let first_cu = r.config().services.iter().position(|s| s.actor == Actor::CommunauteUrbaine).unwrap();
        assert_eq!(service_color(&r, first_cu), cu);
        let second_cu = r
            .config()
            .services
            .iter()
            .enumerate()
            .filter(|(_, s)| s.actor == Actor::CommunauteUrbaine)
            .nth(1)
            .unwrap()
            .0;
        assert_ne!(service_color(&r, second_cu), cu, "a second service of the CU is a shade of its colour");
    }

    #[test]
    fn every_service_has_its_own_colour_and_legend_line() {
        let r = rules();
        let s = managers(&r, "cleaning", "http://x/tiles/parcels,spaces,subsectors,qpv.json", Lang::Fr).unwrap();
        let legend = s["metadata"]["domania:legend"].as_array().unwrap();
        let labels: Vec<&str> = legend.iter().map(|e| e["label"].as_str().unwrap()).collect();
        // Cleaning: the CU's centre, the commune, the bailleur, owners…; never the waste or
        // lighting departments.
        assert!(labels.contains(&"CTC Seine Aval") && labels.contains(&"Agence de proximité du bailleur"));
        assert!(
            !labels.contains(&"Direction de la gestion des déchets") && !labels.contains(&"Service éclairage public")
        );
        let waste = managers(&r, "waste", "x", Lang::Fr).unwrap();
        let waste_legend: Vec<&str> = waste["metadata"]["domania:legend"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["label"].as_str().unwrap())
            .collect();
        assert!(waste_legend.contains(&"Direction de la gestion des déchets"));
        let mut colours: Vec<&str> = legend.iter().map(|e| e["color"].as_str().unwrap()).collect();
        colours.sort_unstable();
        colours.dedup();
        assert_eq!(colours.len(), legend.len(), "one colour per service");
        let fill =
            &s["layers"].as_array().unwrap().iter().find(|l| l["id"] == "spaces").unwrap()["paint"]["fill-color"];
        assert_eq!(fill[1], json!(["get", "cleaning"]));
        for name in &labels {
            assert!(fill.as_array().unwrap().contains(&json!(name)), "{name} in the match");
        }
        assert!(managers(&r, "nope", "x", Lang::Fr).is_none());
        assert_eq!(names(&r).len(), r.config().interventions.len() + 2);
        for n in names(&r) {
            assert!(style(&r, &n, "pmtiles://gpso.pmtiles", Lang::Fr).is_some(), "{n}");
        }
    }

    #[test]
    fn styles_read_only_layers_and_properties_the_tiles_have() {
        let r = rules();
        let kinds: Vec<String> = r.config().interventions.iter().map(|i| i.id.clone()).collect();
        for n in names(&r) {
            let s = style(&r, &n, "http://x/t.json", Lang::Fr).unwrap();
            assert_eq!(s["version"], 8);
            for l in s["layers"].as_array().unwrap().iter().filter(|l| l["type"] != "background") {
                let layer = domania_tiles::layers::TileLayer::parse(l["source-layer"].as_str().unwrap())
                    .unwrap_or_else(|| panic!("{n}: {l}"));
                let fields: Vec<String> = layer.fields(&kinds).into_iter().map(|f| f.0).collect();
                // Every ["get", p] reads a property of that layer.
                let text = l.to_string();
                for part in text.split("[\"get\",\"").skip(1) {
                    let p = part.split('"').next().unwrap();
                    assert!(
                        fields.iter().any(|f| f == p),
                        "{n}/{}: {p} is not a property of {}",
                        l["id"],
                        layer.as_str()
                    );
                }
            }
        }
    }
}

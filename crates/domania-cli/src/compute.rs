//! `shares`, `assign` and `report`: the engine's computations, formatted.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use domania_core::Actor;
use domania_core::overlay::OverlayOptions;
use domania_engine::{KeyedShares, Snapshot, ZoneLayer};
use domania_rules::{Rules, RulesConfig, SpaceKind};

use crate::commands::{classifier, open, open_write};
use crate::output::Table;
use crate::{Cli, Judging, MapFormat, TableFormat, ZonesArg};

/// The rules built into the binary: a copy of data/rules.toml, so that the commands that apply
/// rules work from any folder. A `--rules` file replaces them.
pub(crate) const DEFAULT_RULES: &str = include_str!("../../../data/rules.toml");

/// The rules of `path`, or the built-in ones.
pub(crate) fn load_rules(path: Option<&Path>) -> Result<Rules> {
    let (text, name) = match path {
        Some(p) => (
            std::fs::read_to_string(p).with_context(|| format!("reading the rules {}", p.display()))?,
            p.display().to_string(),
        ),
        None => (DEFAULT_RULES.to_owned(), "the built-in rules".to_owned()),
    };
    let cfg: RulesConfig = toml::from_str(&text).with_context(|| format!("{name}: invalid rules file"))?;
    Rules::new(cfg).with_context(|| format!("{name}: rules do not hold together"))
}

/// How the rules are named in outputs.
fn rules_name(path: Option<&Path>) -> String {
    path.map_or_else(|| "built-in".to_owned(), |p| p.display().to_string())
}

fn snapshot(cli: &Cli) -> Result<Snapshot> {
    let store = open(cli)?;
    Snapshot::load(&store, &classifier(cli)?).with_context(|| format!("loading {}", cli.store.display()))
}

/// Writes to standard output (a closed pipe ends the command quietly, see `output`).
fn out(text: &str) -> Result<()> {
    crate::output::emit(text)
}

/// One line for the overlaps (the JSON output lists them all).
fn warn_overlaps(overlaps: &[(String, String, f64)]) {
    if overlaps.is_empty() {
        return;
    }
    let total: f64 = overlaps.iter().map(|o| o.2).sum();
    let (a, b, m2) = overlaps.iter().max_by(|x, y| x.2.total_cmp(&y.2)).expect("not empty");
    eprintln!(
        "warning: {} pairs of parcels overlap ({total:.2} m² in all, largest {a}/{b} {m2:.2} m²); each overlap is counted once",
        overlaps.len()
    );
}

fn shares_csv(cli: &Cli, zones: &[KeyedShares], id_col: &str) -> Result<String> {
    let mut t = Table::new(
        cli.delimiter,
        &[
            id_col,
            "actor",
            "siren",
            "owner_name",
            "owner_actor",
            "parcels",
            "area_m2",
            "share_of_cadastre",
            "share_of_area",
            "contenance_m2",
            "gap_m2",
        ],
    );
    for z in zones {
        for o in &z.shares.by_owner {
            let name = match o.owner_actor {
                Actor::Private => "personnes physiques",
                Actor::OwnerUnknown => "propriétaire inconnu (aucun fichier des propriétaires)",
                _ => o.name.as_str(),
            };
            t.row([
                z.key.clone(),
                o.actor.to_string(),
                o.siren.clone(),
                name.to_owned(),
                o.owner_actor.to_string(),
                o.parcels.to_string(),
                format!("{:.2}", o.area_m2),
                format!("{:.6}", o.share_of_cadastre),
                format!("{:.6}", o.share_of_area),
                format!("{:.2}", o.contenance_m2),
                format!("{:.2}", o.area_m2 - o.contenance_m2),
            ])?;
        }
        // The non-cadastré space is no part of the cadastré land: its first share is empty.
        t.row([
            z.key.clone(),
            "non_cadastre".to_owned(),
            String::new(),
            String::new(),
            String::new(),
            "0".to_owned(),
            format!("{:.2}", z.shares.non_cadastre_m2),
            String::new(),
            format!("{:.6}", z.shares.non_cadastre_share_of_area),
            String::new(),
            String::new(),
        ])?;
    }
    t.finish()
}

pub fn shares(cli: &Cli, zones: ZonesArg, format: MapFormat, rules: Option<&Path>) -> Result<()> {
    let include_nc = match rules {
        Some(p) => load_rules(Some(p))?.config().delegation.include_non_cadastre,
        None => false,
    };
    let snap = snapshot(cli)?;
    let layer = match zones {
        ZonesArg::Subsectors => ZoneLayer::Subsectors,
        ZonesArg::Qpv => ZoneLayer::Qpv,
    };
    let report = snap.shares(layer, include_nc, OverlayOptions::default());
    if report.zones.is_empty() {
        bail!(
            "the store {} has no {} layer yet: import one first",
            cli.store.display(),
            if layer == ZoneLayer::Qpv { "qpv" } else { "subsectors" }
        );
    }
    warn_overlaps(&report.overlaps);
    match format {
        MapFormat::Csv => {
            out(&shares_csv(cli, &report.zones, if layer == ZoneLayer::Qpv { "qpv_id" } else { "subsector_id" })?)?;
        }
        MapFormat::Json => out(&(serde_json::to_string_pretty(&report)? + "\n"))?,
        MapFormat::Geojson => out(&zones_geojson(
            &report.zones,
            match layer {
                ZoneLayer::Subsectors => snap.subsectors(),
                ZoneLayer::Qpv => snap.qpv(),
            },
        ))?,
    }
    Ok(())
}

/// Zones with their shares as a GeoJSON FeatureCollection (WGS84): what a map colours by
/// majority owner.
fn zones_geojson(zones: &[KeyedShares], shapes: &[domania_engine::Zone]) -> String {
    feature_collection(zones.iter().filter_map(|z| {
        let shape = shapes.iter().find(|s| s.key == z.key)?;
        let major = z.shares.by_actor.iter().max_by(|a, b| a.1.area_m2.total_cmp(&b.1.area_m2)).map(|(a, _)| *a);
        let shares: serde_json::Map<_, _> = z
            .shares
            .by_actor
            .iter()
            .map(|(a, s)| (a.as_str().to_owned(), serde_json::json!((s.share * 1e6).round() / 1e6)))
            .collect();
        let props = serde_json::json!({"id": z.key, "name": z.name, "area_m2": z.shares.area_m2,
            "cadastre_m2": z.shares.cadastre_m2, "contenance_m2": z.shares.contenance_m2,
            "non_cadastre_m2": z.shares.non_cadastre_m2, "non_cadastre_share": z.shares.non_cadastre_share,
            "major_actor": major, "shares": shares});
        Some((props, &shape.geom_l93))
    }))
}

/// A GeoJSON FeatureCollection in WGS84 (RFC 7946), one feature per line, from properties and
/// Lambert-93 shapes.
fn feature_collection<'a>(
    features: impl IntoIterator<Item = (serde_json::Value, &'a geo_types::MultiPolygon<f64>)>,
) -> String {
    let lines: Vec<String> = features
        .into_iter()
        .map(|(properties, geom)| {
            serde_json::json!({"type": "Feature", "properties": properties,
                "geometry": {"type": "MultiPolygon", "coordinates": wgs84_coordinates(geom)}})
            .to_string()
        })
        .collect();
    format!("{{\"type\":\"FeatureCollection\",\"features\":[\n{}\n]}}\n", lines.join(",\n"))
}

/// Today's date (UTC) as `YYYY-MM-DD`, from the system clock (civil-from-days, H. Hinnant).
pub(crate) fn today() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

pub fn assign(cli: &Cli, judging: &Judging, format: MapFormat, dry_run: bool) -> Result<()> {
    let rules_path = judging.rules.as_deref();
    let rules = load_rules(rules_path)?;
    let date = judging.date.clone().unwrap_or_else(today);
    let snap = snapshot(cli)?;
    if snap.subsectors().is_empty() {
        bail!("the store {} has no subsectors layer yet: import one first", cli.store.display());
    }
    let geometry = !dry_run || format == MapFormat::Geojson;
    let (_, report) = if geometry {
        snap.assign_with_geometry(&rules, &date, OverlayOptions::default())
    } else {
        snap.assign(&rules, &date, OverlayOptions::default())
    };
    let decisions: std::collections::HashMap<&str, &domania_rules::SubsectorDecision> =
        report.decisions.iter().map(|d| (d.subsector.as_str(), d)).collect();
    match format {
        MapFormat::Json => out(&(serde_json::to_string_pretty(&report)? + "\n"))?,
        MapFormat::Geojson => out(&spaces_geojson(&report, &decisions))?,
        MapFormat::Csv => {
            let mut t = Table::new(
                cli.delimiter,
                &[
                    "subsector_id",
                    "space",
                    "owner_actor",
                    "area_m2",
                    "intervention",
                    "service_id",
                    "service_name",
                    "phone",
                    "email",
                    "actor",
                    "rule",
                    "explanation",
                ],
            );
            for s in &report.spaces {
                let (space, owner) = space_names(&s.space);
                for a in &s.assignments {
                    let svc = a.service.as_ref();
                    t.row([
                        s.subsector.clone(),
                        space.clone(),
                        owner.to_owned(),
                        format!("{:.2}", s.area_m2),
                        a.intervention.clone(),
                        svc.map_or_else(String::new, |x| x.id.clone()),
                        svc.map_or_else(String::new, |x| x.name.clone()),
                        svc.and_then(|x| x.phone.clone()).unwrap_or_default(),
                        svc.and_then(|x| x.email.clone()).unwrap_or_default(),
                        a.actor.to_string(),
                        a.rule.to_string(),
                        a.explanation.clone(),
                    ])?;
                }
            }
            out(&t.finish()?)?;
        }
    }
    if !dry_run {
        let rows: Vec<domania_store::Row> = report
            .spaces
            .iter()
            .map(|s| {
                let (space, owner) = space_names(&s.space);
                let d = decisions[s.subsector.as_str()];
                domania_store::space_row(
                    &s.subsector,
                    &space,
                    owner,
                    s.area_m2,
                    &decision_label(d),
                    &report.date,
                    &managers_json(&s.assignments).to_string(),
                    &serde_json::Value::Object(
                        s.assignments.iter().map(|a| (a.intervention.clone(), a.explanation.clone().into())).collect(),
                    )
                    .to_string(),
                    s.geom_l93.as_ref().expect("geometry was computed"),
                )
            })
            .collect();
        let mut store = open_write(cli)?;
        // The layers must still be those the spaces were computed from: an import in between
        // would make the spaces layer describe a state the store no longer holds.
        let mut now = store.versions()?;
        // The spaces layer itself is what is being written.
        now.remove(&domania_store::Layer::Spaces);
        let mut then = snap.versions().clone();
        then.remove(&domania_store::Layer::Spaces);
        if now != then {
            bail!("the store changed while the spaces were computed (another import); run `domania assign` again");
        }
        let meta = domania_store::ImportMeta {
            author: std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
            source: format!("domania assign --rules {} --date {}", rules_name(rules_path), report.date),
            ..domania_store::ImportMeta::default()
        };
        // The spaces layer is computed from the other layers: each run replaces it whole.
        let opts = domania_store::ImportOptions { force: true, ..domania_store::ImportOptions::default() };
        let v = store.import(domania_store::Layer::Spaces, rows, &meta, &opts).context("writing the spaces layer")?;
        if v.unchanged {
            eprintln!("spaces layer: unchanged, still version {} ({} spaces)", v.version, v.features);
        } else {
            eprintln!(
                "spaces layer: version {} ({} spaces, {} changed since the previous version)",
                v.version,
                v.features,
                v.added + v.changed + v.removed
            );
        }
    }
    let delegated =
        report.decisions.iter().filter(|d| matches!(d.decision, domania_rules::Decision::Delegated { .. })).count();
    let conv = report.decisions.iter().filter(|d| d.needs_convention).count();
    let unassigned = report.spaces.iter().flat_map(|s| &s.assignments).filter(|a| a.service.is_none()).count();
    eprintln!(
        "{} sub-sectors ({delegated} delegated, {conv} needing a convention), {} spaces, {unassigned} unassigned (space, intervention) pairs, judged on {date}",
        report.decisions.len(),
        report.spaces.len()
    );
    Ok(())
}

/// (space id, owner actor) of a space, as the CSV and the layer name them.
fn space_names(space: &SpaceKind) -> (String, &'static str) {
    match space {
        SpaceKind::Parcel { idu, actor } => (idu.clone(), actor.as_str()),
        SpaceKind::NonCadastre => ("non_cadastre".to_owned(), "public_domain"),
    }
}

fn decision_label(d: &domania_rules::SubsectorDecision) -> String {
    let base = match &d.decision {
        domania_rules::Decision::Delegated { actor, .. } => format!("delegated:{actor}"),
        domania_rules::Decision::Domanialite => "domanialite".to_owned(),
        domania_rules::Decision::Undecided { .. } => "undecided:owner_unknown".to_owned(),
    };
    if d.needs_convention { format!("{base};convention_needed") } else { base }
}

/// `{intervention: {service, service_name, phone, actor, rule}}`.
fn managers_json(assignments: &[domania_rules::Assignment]) -> serde_json::Value {
    serde_json::Value::Object(
        assignments
            .iter()
            .map(|a| {
                let svc = a.service.as_ref();
                (
                    a.intervention.clone(),
                    serde_json::json!({"service": svc.map(|s| &s.id), "service_name": svc.map(|s| &s.name),
                        "phone": svc.and_then(|s| s.phone.as_ref()), "actor": a.actor, "rule": a.rule}),
                )
            })
            .collect(),
    )
}

/// GeoJSON coordinates (WGS84, 7 decimals like Etalab) of a Lambert-93 multipolygon.
fn wgs84_coordinates(geom: &geo_types::MultiPolygon<f64>) -> serde_json::Value {
    use domania_io::crs::Crs;
    let (l93, wgs) = (Crs::lambert93(), Crs::wgs84());
    let ring = |r: &geo_types::LineString<f64>| -> serde_json::Value {
        r.0.iter()
            .map(|c| {
                let (x, y) = l93.transform_to(&wgs, c.x, c.y);
                serde_json::json!([(x * 1e7).round() / 1e7, (y * 1e7).round() / 1e7])
            })
            .collect::<Vec<_>>()
            .into()
    };
    geom.0
        .iter()
        .map(|p| serde_json::Value::Array(std::iter::once(p.exterior()).chain(p.interiors()).map(ring).collect()))
        .collect()
}

/// The spaces as a GeoJSON FeatureCollection in WGS84 (RFC 7946), 7 decimals like Etalab.
fn spaces_geojson(
    report: &domania_engine::AssignReport,
    decisions: &std::collections::HashMap<&str, &domania_rules::SubsectorDecision>,
) -> String {
    feature_collection(report.spaces.iter().filter_map(|s| {
        let geom = s.geom_l93.as_ref()?;
        let (space, owner) = space_names(&s.space);
        let d = decisions[s.subsector.as_str()];
        let props = serde_json::json!({"subsector": s.subsector, "space": space, "owner_actor": owner,
            "area_m2": (s.area_m2 * 100.0).round() / 100.0, "decision": decision_label(d), "judged_on": report.date,
            "managers": managers_json(&s.assignments)});
        Some((props, geom))
    }))
}

pub fn report_qpv(cli: &Cli, code: &str, format: MapFormat) -> Result<()> {
    let snap = snapshot(cli)?;
    let Some(report) = snap.shares_of_zone(ZoneLayer::Qpv, code, false, OverlayOptions::default()) else {
        let known: Vec<&str> = snap.qpv().iter().take(10).map(|z| z.key.as_str()).collect();
        return Err(anyhow!("no QPV {code} in {} (some codes: {})", cli.store.display(), known.join(", ")));
    };
    let z = &report.zones[0];
    match format {
        MapFormat::Json => {
            let bailleurs: Vec<_> = z.shares.by_owner.iter().filter(|o| o.actor == Actor::BailleurSocial).collect();
            out(&format!(
                "{}\n",
                serde_json::to_string_pretty(&serde_json::json!({
                    "qpv": z.key, "name": z.name, "area_m2": z.shares.area_m2, "cadastre_m2": z.shares.cadastre_m2,
                    "non_cadastre_m2": z.shares.non_cadastre_m2, "by_actor": z.shares.by_actor,
                    "tfpb_bailleurs": bailleurs, "owners": z.shares.by_owner, "slivers": z.slivers,
                }))?
            ))?;
        }
        MapFormat::Csv => out(&shares_csv(cli, &report.zones, "qpv_id")?)?,
        MapFormat::Geojson => out(&zones_geojson(&report.zones, snap.qpv()))?,
    }
    Ok(())
}

pub fn report_tfpb(cli: &Cli, format: TableFormat) -> Result<()> {
    let snap = snapshot(cli)?;
    if snap.qpv().is_empty() {
        bail!("the store {} has no qpv layer yet: import one first", cli.store.display());
    }
    let report = snap.shares(ZoneLayer::Qpv, false, OverlayOptions::default());
    let rows: Vec<serde_json::Value> = report
        .zones
        .iter()
        .flat_map(|z| {
            z.shares.by_owner.iter().filter(|o| o.actor == Actor::BailleurSocial).map(move |o| {
                serde_json::json!({"qpv": z.key, "qpv_name": z.name, "siren": o.siren, "bailleur": o.name,
                    "parcels": o.parcels, "area_m2": (o.area_m2 * 100.0).round() / 100.0})
            })
        })
        .collect();
    match format {
        TableFormat::Json => out(&(serde_json::to_string_pretty(&rows)? + "\n")),
        TableFormat::Csv => {
            let mut t = Table::new(cli.delimiter, &["qpv_id", "qpv_name", "siren", "bailleur", "parcels", "area_m2"]);
            for r in &rows {
                let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
                t.row([
                    s("qpv"),
                    s("qpv_name"),
                    s("siren"),
                    s("bailleur"),
                    r["parcels"].to_string(),
                    format!("{:.2}", r["area_m2"].as_f64().unwrap_or_default()),
                ])?;
            }
            out(&t.finish()?)
        }
    }
}

/// A scenario file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    #[serde(default)]
    name: String,
    #[serde(rename = "transfer")]
    transfers: Vec<domania_engine::Transfer>,
}

pub fn scenario(cli: &Cli, file: &Path, judging: &Judging, format: TableFormat) -> Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading the scenario {}", file.display()))?;
    let sc: ScenarioFile = toml::from_str(&text).with_context(|| format!("{}: invalid scenario", file.display()))?;
    let rules = load_rules(judging.rules.as_deref())?;
    let date = judging.date.clone().unwrap_or_else(today);
    let snap = snapshot(cli)?;
    let report = snap
        .scenario(&sc.transfers, &rules, &date, OverlayOptions::default())
        .with_context(|| format!("{}", file.display()))?;
    match format {
        TableFormat::Json => {
            let mut v = serde_json::to_value(&report)?;
            v["scenario"] = sc.name.clone().into();
            v["transfers_requested"] = serde_json::to_value(&sc.transfers)?;
            out(&(serde_json::to_string_pretty(&v)? + "\n"))
        }
        TableFormat::Csv => {
            let mut t = Table::new(
                cli.delimiter,
                &["subsector_id", "space", "intervention", "before", "after", "area_m2", "why"],
            );
            for c in &report.managers_changed {
                t.row([
                    c.subsector.clone(),
                    c.space.clone(),
                    c.intervention.clone(),
                    c.before.clone().unwrap_or_default(),
                    c.after.clone().unwrap_or_default(),
                    format!("{:.2}", c.area_m2),
                    c.why.clone(),
                ])?;
            }
            let text = t.finish()?;
            eprintln!(
                "scenario {:?}: {} sub-sectors change, {} (space, intervention) managers change",
                sc.name,
                report.subsectors_changed.len(),
                report.managers_changed.len()
            );
            for tr in &report.transfers {
                eprintln!("  transfer {}: {}", tr.transfer, tr.note);
            }
            for z in &report.subsectors_changed {
                eprintln!("  before: {}\n  after:  {}", z.decision_before, z.decision_after);
            }
            out(&text)
        }
    }
}

/// The perimeters file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PerimetersFile {
    #[serde(rename = "perimeter")]
    perimeters: Vec<domania_engine::PerimeterDef>,
}

pub fn perimeters(cli: &Cli, file: &Path, judging: &Judging, format: TableFormat) -> Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading the perimeters {}", file.display()))?;
    let defs: PerimetersFile =
        toml::from_str(&text).with_context(|| format!("{}: invalid perimeters file", file.display()))?;
    let rules = load_rules(judging.rules.as_deref())?;
    let date = judging.date.clone().unwrap_or_else(today);
    let snap = snapshot(cli)?;
    let built = snap.perimeters(&defs.perimeters).with_context(|| file.display().to_string())?;
    let (_, report) = snap.assign_with_geometry(&rules, &date, OverlayOptions::default());
    let results: Vec<(&str, domania_engine::PerimeterFigures)> =
        built.iter().map(|(id, g)| (id.as_str(), snap.perimeter_figures(&report, g))).collect();
    for (id, f) in &results {
        if f.outside_subsectors_m2 > 0.5 {
            eprintln!(
                "perimeter {id}: {:.0} m² of its {:.0} m² lie outside every sub-sector: no rule assigns them, they are \
                 counted apart (outside_subsectors)",
                f.outside_subsectors_m2, f.area_m2
            );
        }
    }
    match format {
        TableFormat::Json => {
            let v: Vec<_> = results
                .iter()
                .zip(&built)
                .map(|((id, f), (_, g))| {
                    let mut v = serde_json::to_value(f).unwrap_or_default();
                    v["id"] = (*id).into();
                    v["geometry"] = serde_json::json!({"type": "MultiPolygon", "coordinates": wgs84_coordinates(g)});
                    v
                })
                .collect();
            out(&(serde_json::to_string_pretty(&v)? + "\n"))
        }
        TableFormat::Csv => {
            let mut t = Table::new(
                cli.delimiter,
                &["perimeter_id", "perimeter_area_m2", "intervention", "actor", "managed_m2"],
            );
            let kinds: Vec<&str> = rules.config().interventions.iter().map(|i| i.id.as_str()).collect();
            for (id, f) in &results {
                let area = format!("{:.2}", f.area_m2);
                for kind in &kinds {
                    for (actor, m2) in f.managed_m2.get(*kind).into_iter().flatten() {
                        t.row([
                            (*id).to_owned(),
                            area.clone(),
                            (*kind).to_owned(),
                            actor.to_string(),
                            format!("{m2:.2}"),
                        ])?;
                    }
                    // Each kind's rows add up to the perimeter's area.
                    t.row([
                        (*id).to_owned(),
                        area.clone(),
                        (*kind).to_owned(),
                        "outside_subsectors".to_owned(),
                        format!("{:.2}", f.outside_subsectors_m2),
                    ])?;
                }
            }
            out(&t.finish()?)
        }
    }
}

pub fn blocks(cli: &Cli, code: &str) -> Result<()> {
    let snap = snapshot(cli)?;
    let qpv =
        snap.qpv().iter().find(|z| z.key == code).ok_or_else(|| anyhow!("no QPV {code} in {}", cli.store.display()))?;
    let blocks = snap.blocks(&qpv.geom_l93);
    let text = feature_collection(blocks.iter().enumerate().map(|(i, b)| {
        let props = serde_json::json!({"id": format!("{code}-B{:02}", i + 1), "name": format!("Îlot {} de {code}", i + 1),
            "qpv": code, "parcels": b.parcels.len(), "area_m2": (b.area_m2 * 100.0).round() / 100.0});
        (props, &b.geom_l93)
    }));
    eprintln!("{} blocks in {code} (edit them, then `domania import subsectors FILE`)", blocks.len());
    out(&text)
}

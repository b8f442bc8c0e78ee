//! The computations on a snapshot of the store: land shares, the management rules and the
//! spaces layer, the QPV and TFPB reports, scenarios, perimeters, blocks, and the demo.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use domania_core::overlay::OverlayOptions;
use domania_core::shares::OwnerShare;
use domania_core::{Actor, Layer};
use domania_engine::{
    AssignReport, KeyedShares, PerimeterFigures, ScenarioReport, SharesReport, Snapshot, Transfer, Zone,
};
use domania_rules::{Assignment, Decision, SpaceKind, SubsectorDecision};
use domania_store::{ImportMeta, ImportOptions, VersionInfo};
use geo::Area;
use jiff::civil::Date;
use serde::Serialize;

use crate::App;
use crate::error::{AppError, Context as _, ErrorCode, Result};
use crate::files::{LoadedRules, PerimetersFile, ScenarioFile};
use crate::geojson::{Feature, FeatureCollection, Wgs84Geometry};
use crate::import::{ImportOutcome, ImportRequest, Progress};
use crate::table::{Fixed, Row};

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn layer_missing(app: &App, layer: Layer) -> AppError {
    AppError::new(
        ErrorCode::LayerMissing,
        format!("the store {} has no {layer} layer yet: import one first", app.store_path().display()),
    )
}

// ---------------------------------------------------------------- shares

/// Land by actor and owner in every zone of a layer, with the snapshot the zones' shapes are in.
#[derive(Debug, Clone)]
pub struct Shares {
    pub layer: Layer,
    pub report: SharesReport,
    pub snapshot: Snapshot,
}

/// One row of the shares table: a (zone, actor, owner), or a zone's non-cadastré remainder.
#[derive(Debug, Clone, Serialize)]
pub struct ShareRow {
    pub zone_id: String,
    pub actor: String,
    pub siren: String,
    pub owner_name: String,
    pub owner_actor: String,
    pub parcels: usize,
    pub area_m2: Fixed<2>,
    /// Empty for the non-cadastré row: that space is no part of the cadastré land.
    pub share_of_cadastre: Option<Fixed<6>>,
    pub share_of_area: Fixed<6>,
    pub contenance_m2: Option<Fixed<2>>,
    pub gap_m2: Option<Fixed<2>>,
}

impl Row for ShareRow {
    /// With `subsector_id` first; see [`share_header`] for the other layers.
    const HEADER: &'static [&'static str] = &[
        "subsector_id",
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
    ];
}

/// The shares table's header: its first column is named after the layer (`subsector_id`,
/// `qpv_id`).
#[must_use]
pub fn share_header(layer: Layer) -> Vec<&'static str> {
    let id = match layer {
        Layer::Qpv => "qpv_id",
        Layer::Conventions => "convention_id",
        _ => "subsector_id",
    };
    std::iter::once(id).chain(ShareRow::HEADER[1..].iter().copied()).collect()
}

/// The rows of the shares table: each zone's owners, then its non-cadastré remainder.
#[must_use]
pub fn share_rows(zones: &[KeyedShares]) -> Vec<ShareRow> {
    let mut rows = Vec::new();
    for z in zones {
        for o in &z.shares.by_owner {
            let name = match o.owner_actor {
                Actor::Private => "personnes physiques",
                Actor::OwnerUnknown => "propriétaire inconnu (aucun fichier des propriétaires)",
                _ => o.name.as_str(),
            };
            rows.push(ShareRow {
                zone_id: z.key.clone(),
                actor: o.actor.to_string(),
                siren: o.siren.clone(),
                owner_name: name.to_owned(),
                owner_actor: o.owner_actor.to_string(),
                parcels: o.parcels,
                area_m2: Fixed(o.area_m2),
                share_of_cadastre: Some(Fixed(o.share_of_cadastre)),
                share_of_area: Fixed(o.share_of_area),
                contenance_m2: Some(Fixed(o.contenance_m2)),
                gap_m2: Some(Fixed(o.area_m2 - o.contenance_m2)),
            });
        }
        rows.push(ShareRow {
            zone_id: z.key.clone(),
            actor: "non_cadastre".to_owned(),
            siren: String::new(),
            owner_name: String::new(),
            owner_actor: String::new(),
            parcels: 0,
            area_m2: Fixed(z.shares.non_cadastre_m2),
            share_of_cadastre: None,
            share_of_area: Fixed(z.shares.non_cadastre_share_of_area),
            contenance_m2: None,
            gap_m2: None,
        });
    }
    rows
}

/// What a map colours a zone by.
#[derive(Debug, Clone, Serialize)]
pub struct ZoneProperties<'a> {
    pub id: &'a str,
    pub name: Option<&'a str>,
    pub area_m2: f64,
    pub cadastre_m2: f64,
    pub contenance_m2: f64,
    pub non_cadastre_m2: f64,
    pub non_cadastre_share: f64,
    /// The actor holding the most land.
    pub major_actor: Option<Actor>,
    /// Share per actor (six decimals).
    pub shares: BTreeMap<Actor, f64>,
}

/// Zones with their shares, as GeoJSON features.
#[must_use]
pub fn zones_geojson<'a>(zones: &'a [KeyedShares], shapes: &'a [Zone]) -> FeatureCollection<'a, ZoneProperties<'a>> {
    let by_key: HashMap<&str, &Zone> = shapes.iter().map(|z| (z.key.as_str(), z)).collect();
    FeatureCollection::new(
        zones
            .iter()
            .filter_map(|z| {
                let shape = by_key.get(z.key.as_str())?;
                let major =
                    z.shares.by_actor.iter().max_by(|a, b| a.1.area_m2.total_cmp(&b.1.area_m2)).map(|(a, _)| *a);
                let props = ZoneProperties {
                    id: &z.key,
                    name: z.name.as_deref(),
                    area_m2: z.shares.area_m2,
                    cadastre_m2: z.shares.cadastre_m2,
                    contenance_m2: z.shares.contenance_m2,
                    non_cadastre_m2: z.shares.non_cadastre_m2,
                    non_cadastre_share: z.shares.non_cadastre_share,
                    major_actor: major,
                    shares: z.shares.by_actor.iter().map(|(a, s)| (*a, (s.share * 1e6).round() / 1e6)).collect(),
                };
                Some(Feature::new(props, &shape.geom_l93))
            })
            .collect(),
    )
}

impl Shares {
    /// The zones with their shares as GeoJSON features.
    #[must_use]
    pub fn geojson(&self) -> FeatureCollection<'_, ZoneProperties<'_>> {
        zones_geojson(&self.report.zones, self.snapshot.zones(self.layer))
    }
}

impl App {
    /// Land by actor and owner in every zone of `layer` (sub-sectors, QPV, conventions).
    /// `rules` decide the denominator of shares (`delegation.include_non_cadastre`); none: the
    /// cadastré land.
    pub fn shares(&self, layer: Layer, rules: Option<&LoadedRules>) -> Result<Shares> {
        if !layer.is_zone() {
            return Err(AppError::new(
                ErrorCode::InvalidArgument,
                format!("shares are computed in zones (qpv, subsectors, conventions), not in {layer}"),
            ));
        }
        let include_nc = rules.is_some_and(|r| r.rules.config().delegation.include_non_cadastre);
        let snapshot = self.snapshot_for(layer)?;
        let report = snapshot.shares(layer, include_nc, OverlayOptions::default());
        if report.zones.is_empty() {
            return Err(layer_missing(self, layer));
        }
        Ok(Shares { layer, report, snapshot })
    }
}

// ---------------------------------------------------------------- assign

/// What `assign` found, in numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AssignSummary {
    pub subsectors: usize,
    pub delegated: usize,
    pub needing_convention: usize,
    pub spaces: usize,
    /// (space, intervention) pairs no rule gives a service.
    pub unassigned: usize,
}

/// The managers of every space, and the version of the spaces layer they were recorded as.
#[derive(Debug, Clone)]
pub struct Assigned {
    pub report: AssignReport,
    pub rules: String,
    pub summary: AssignSummary,
    /// The spaces layer version written (none for a dry run).
    pub recorded: Option<VersionInfo>,
}

/// One row of the assignments table: a (space, intervention).
#[derive(Debug, Clone, Serialize)]
pub struct AssignRow {
    pub subsector_id: String,
    pub space: String,
    pub owner_actor: &'static str,
    pub area_m2: Fixed<2>,
    pub intervention: String,
    pub service_id: String,
    pub service_name: String,
    pub phone: String,
    pub email: String,
    pub actor: String,
    pub rule: domania_rules::RuleKind,
    pub explanation: String,
}

impl Row for AssignRow {
    const HEADER: &'static [&'static str] = &[
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
    ];
}

/// (space id, owner actor) of a space, as the tables and the layer name them.
#[must_use]
pub fn space_names(space: &SpaceKind) -> (String, &'static str) {
    match space {
        SpaceKind::Parcel { idu, actor } => (idu.clone(), actor.as_str()),
        SpaceKind::NonCadastre => ("non_cadastre".to_owned(), "public_domain"),
    }
}

/// A sub-sector's decision in one word (`delegated:bailleur_social;convention_needed`…).
#[must_use]
pub fn decision_label(d: &SubsectorDecision) -> String {
    let base = match d.decision.kind() {
        (kind, Some(actor)) => format!("{kind}:{actor}"),
        ("undecided", None) => "undecided:owner_unknown".to_owned(),
        (kind, None) => kind.to_owned(),
    };
    if d.needs_convention { format!("{base};convention_needed") } else { base }
}

/// One intervention's manager, as the spaces layer and the map keep it.
#[derive(Debug, Clone, Serialize)]
pub struct Manager<'a> {
    pub service: Option<&'a str>,
    pub service_name: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub actor: Actor,
    pub rule: domania_rules::RuleKind,
}

/// `{intervention: manager}` of a space.
#[must_use]
pub fn managers(assignments: &[Assignment]) -> BTreeMap<&str, Manager<'_>> {
    assignments
        .iter()
        .map(|a| {
            let svc = a.service.as_ref();
            (
                a.intervention.as_str(),
                Manager {
                    service: svc.map(|s| s.id.as_str()),
                    service_name: svc.map(|s| s.name.as_str()),
                    phone: svc.and_then(|s| s.phone.as_deref()),
                    actor: a.actor,
                    rule: a.rule,
                },
            )
        })
        .collect()
}

/// A space on the map: who manages it for each intervention kind.
#[derive(Debug, Clone, Serialize)]
pub struct SpaceProperties<'a> {
    pub subsector: &'a str,
    pub space: String,
    pub owner_actor: &'static str,
    pub area_m2: f64,
    pub decision: String,
    pub judged_on: Date,
    pub managers: BTreeMap<&'a str, Manager<'a>>,
}

impl Assigned {
    /// The rows of the assignments table.
    #[must_use]
    pub fn rows(&self) -> Vec<AssignRow> {
        let mut rows = Vec::new();
        for s in &self.report.spaces {
            let (space, owner) = space_names(&s.space);
            for a in &s.assignments {
                let svc = a.service.as_ref();
                rows.push(AssignRow {
                    subsector_id: s.subsector.clone(),
                    space: space.clone(),
                    owner_actor: owner,
                    area_m2: Fixed(s.area_m2),
                    intervention: a.intervention.clone(),
                    service_id: svc.map_or_else(String::new, |x| x.id.clone()),
                    service_name: svc.map_or_else(String::new, |x| x.name.clone()),
                    phone: svc.and_then(|x| x.phone.clone()).unwrap_or_default(),
                    email: svc.and_then(|x| x.email.clone()).unwrap_or_default(),
                    actor: a.actor.to_string(),
                    rule: a.rule,
                    explanation: a.explanation.clone(),
                });
            }
        }
        rows
    }

    /// The spaces with their managers as GeoJSON features (spaces computed with geometry).
    #[must_use]
    pub fn geojson(&self) -> FeatureCollection<'_, SpaceProperties<'_>> {
        let decisions: HashMap<&str, &SubsectorDecision> =
            self.report.decisions.iter().map(|d| (d.subsector.as_str(), d)).collect();
        FeatureCollection::new(
            self.report
                .spaces
                .iter()
                .filter_map(|s| {
                    let geom = s.geom_l93.as_ref()?;
                    let (space, owner) = space_names(&s.space);
                    let props = SpaceProperties {
                        subsector: &s.subsector,
                        space,
                        owner_actor: owner,
                        area_m2: round2(s.area_m2),
                        decision: decision_label(decisions[s.subsector.as_str()]),
                        judged_on: self.report.date,
                        managers: managers(&s.assignments),
                    };
                    Some(Feature::new(props, geom))
                })
                .collect(),
        )
    }
}

fn summary(report: &AssignReport) -> AssignSummary {
    AssignSummary {
        subsectors: report.decisions.len(),
        delegated: report.decisions.iter().filter(|d| matches!(d.decision, Decision::Delegated { .. })).count(),
        needing_convention: report.decisions.iter().filter(|d| d.needs_convention).count(),
        spaces: report.spaces.len(),
        unassigned: report.spaces.iter().flat_map(|s| &s.assignments).filter(|a| a.service.is_none()).count(),
    }
}

impl App {
    /// A manager for every space and intervention kind on `date`, with its explanation. With
    /// `record`, written to the store as a new version of the `spaces` layer (refused when the
    /// store changed since it was read); `geometry` computes the spaces' shapes for a map.
    pub fn assign(&self, rules: &LoadedRules, date: Date, record: bool, geometry: bool) -> Result<Assigned> {
        let snap = self.snapshot_for(Layer::Subsectors)?;
        if snap.subsectors().is_empty() {
            return Err(layer_missing(self, Layer::Subsectors));
        }
        let (_, report) = if geometry || record {
            snap.assign_with_geometry(&rules.rules, date, OverlayOptions::default())
        } else {
            snap.assign(&rules.rules, date, OverlayOptions::default())
        };
        let recorded = if record { Some(self.record_spaces(&snap, &report, &rules.name)?) } else { None };
        Ok(Assigned { summary: summary(&report), report, rules: rules.name.clone(), recorded })
    }

    fn record_spaces(&self, snap: &Snapshot, report: &AssignReport, rules_name: &str) -> Result<VersionInfo> {
        let decisions: HashMap<&str, &SubsectorDecision> =
            report.decisions.iter().map(|d| (d.subsector.as_str(), d)).collect();
        let json = |v: &dyn erased::Json| v.text();
        let rows: Vec<domania_store::Row> = report
            .spaces
            .iter()
            .filter_map(|s| {
                let geom = s.geom_l93.as_ref()?;
                let (space, owner) = space_names(&s.space);
                let explanations: BTreeMap<&str, &str> =
                    s.assignments.iter().map(|a| (a.intervention.as_str(), a.explanation.as_str())).collect();
                Some(domania_store::space_row(
                    &s.subsector,
                    &space,
                    owner,
                    s.area_m2,
                    &decision_label(decisions[s.subsector.as_str()]),
                    &report.date.to_string(),
                    &json(&managers(&s.assignments)),
                    &json(&explanations),
                    geom,
                ))
            })
            .collect();
        let mut store = self.open_write()?;
        // The layers must still be those the spaces were computed from: an import in between
        // would make the spaces layer describe a state the store no longer holds.
        let mut now = store.versions()?;
        // The spaces layer itself is what is being written.
        now.remove(&Layer::Spaces);
        let mut then = snap.versions().clone();
        then.remove(&Layer::Spaces);
        if now != then {
            return Err(AppError::new(
                ErrorCode::StoreChanged,
                "the store changed while the spaces were computed (another import); run `domania assign` again",
            ));
        }
        let meta = ImportMeta {
            author: std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
            source: format!("domania assign --rules {rules_name} --date {}", report.date),
            ..ImportMeta::default()
        };
        // The spaces layer is computed from the other layers: each run replaces it whole.
        let opts = ImportOptions { force: true, ..ImportOptions::default() };
        store.import(Layer::Spaces, rows, &meta, &opts).context(|| "writing the spaces layer")
    }
}

/// JSON text of a serialisable value (maps of strings cannot fail to serialise).
mod erased {
    pub trait Json {
        fn text(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn text(&self) -> String {
            serde_json::to_string(self).expect("maps of strings and numbers serialise")
        }
    }
}

// ---------------------------------------------------------------- reports

/// One QPV: land by actor and owner, bailleurs' holdings.
#[derive(Debug, Clone)]
pub struct QpvReport {
    pub shares: SharesReport,
    pub snapshot: Snapshot,
}

/// The JSON of a QPV report.
#[derive(Debug, Clone, Serialize)]
pub struct QpvSummary<'a> {
    pub qpv: &'a str,
    pub name: Option<&'a str>,
    pub area_m2: f64,
    pub cadastre_m2: f64,
    pub non_cadastre_m2: f64,
    pub by_actor: &'a BTreeMap<Actor, domania_core::shares::ActorShare>,
    /// The bailleurs' land (the TFPB follow-up).
    pub tfpb_bailleurs: Vec<&'a OwnerShare>,
    pub owners: &'a [OwnerShare],
    pub slivers: &'a [(String, f64)],
}

/// The summary of the first zone of a QPV shares report (see [`Snapshot::shares_of_zone`]).
#[must_use]
pub fn qpv_summary(shares: &SharesReport) -> QpvSummary<'_> {
    let z = &shares.zones[0];
    QpvSummary {
        qpv: &z.key,
        name: z.name.as_deref(),
        area_m2: z.shares.area_m2,
        cadastre_m2: z.shares.cadastre_m2,
        non_cadastre_m2: z.shares.non_cadastre_m2,
        by_actor: &z.shares.by_actor,
        tfpb_bailleurs: z.shares.by_owner.iter().filter(|o| o.actor == Actor::BailleurSocial).collect(),
        owners: &z.shares.by_owner,
        slivers: &z.slivers,
    }
}

impl QpvReport {
    #[must_use]
    pub fn summary(&self) -> QpvSummary<'_> {
        qpv_summary(&self.shares)
    }

    #[must_use]
    pub fn geojson(&self) -> FeatureCollection<'_, ZoneProperties<'_>> {
        zones_geojson(&self.shares.zones, self.snapshot.qpv())
    }
}

/// A bailleur's land in a QPV (TFPB follow-up).
#[derive(Debug, Clone, Serialize)]
pub struct TfpbRow {
    pub qpv: String,
    pub qpv_name: Option<String>,
    pub siren: String,
    pub bailleur: String,
    pub parcels: usize,
    pub area_m2: f64,
}

/// The TFPB table's header.
pub const TFPB_HEADER: [&str; 6] = ["qpv_id", "qpv_name", "siren", "bailleur", "parcels", "area_m2"];

/// A row of the TFPB table (areas with two decimals).
#[derive(Debug, Clone, Serialize)]
pub struct TfpbCsvRow<'a> {
    pub qpv: &'a str,
    pub qpv_name: &'a str,
    pub siren: &'a str,
    pub bailleur: &'a str,
    pub parcels: usize,
    pub area_m2: Fixed<2>,
}

impl Row for TfpbCsvRow<'_> {
    const HEADER: &'static [&'static str] = &TFPB_HEADER;
}

impl TfpbRow {
    #[must_use]
    pub fn csv(&self) -> TfpbCsvRow<'_> {
        TfpbCsvRow {
            qpv: &self.qpv,
            qpv_name: self.qpv_name.as_deref().unwrap_or_default(),
            siren: &self.siren,
            bailleur: &self.bailleur,
            parcels: self.parcels,
            area_m2: Fixed(self.area_m2),
        }
    }
}

impl App {
    /// One QPV's land by actor and owner.
    pub fn report_qpv(&self, code: &str) -> Result<QpvReport> {
        let snapshot = self.snapshot_for(Layer::Qpv)?;
        let Some(shares) = snapshot.shares_of_zone(Layer::Qpv, code, false, OverlayOptions::default()) else {
            let known: Vec<&str> = snapshot.qpv().iter().take(10).map(|z| z.key.as_str()).collect();
            return Err(AppError::new(
                ErrorCode::NotFound,
                format!("no QPV {code} in {} (some codes: {})", self.store_path().display(), known.join(", ")),
            ));
        };
        Ok(QpvReport { shares, snapshot })
    }

    /// Per QPV and per bailleur, the parcels and area it holds inside the QPV.
    pub fn report_tfpb(&self) -> Result<Vec<TfpbRow>> {
        let snap = self.snapshot_for(Layer::Qpv)?;
        if snap.qpv().is_empty() {
            return Err(layer_missing(self, Layer::Qpv));
        }
        let report = snap.shares(Layer::Qpv, false, OverlayOptions::default());
        Ok(report
            .zones
            .iter()
            .flat_map(|z| {
                z.shares.by_owner.iter().filter(|o| o.actor == Actor::BailleurSocial).map(move |o| TfpbRow {
                    qpv: z.key.clone(),
                    qpv_name: z.name.clone(),
                    siren: o.siren.clone(),
                    bailleur: o.name.clone(),
                    parcels: o.parcels,
                    area_m2: round2(o.area_m2),
                })
            })
            .collect())
    }
}

// ---------------------------------------------------------------- scenarios

/// A scenario simulated: what it asked for and what it changes.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioOutcome {
    pub scenario: String,
    pub transfers_requested: Vec<Transfer>,
    #[serde(flatten)]
    pub report: ScenarioReport,
}

/// One row of the scenario table: a (space, intervention) whose manager changes.
#[derive(Debug, Clone, Serialize)]
pub struct ManagerChangeRow<'a> {
    pub subsector_id: &'a str,
    pub space: &'a str,
    pub intervention: &'a str,
    pub before: &'a str,
    pub after: &'a str,
    pub area_m2: Fixed<2>,
    pub why: &'a str,
}

impl Row for ManagerChangeRow<'_> {
    const HEADER: &'static [&'static str] =
        &["subsector_id", "space", "intervention", "before", "after", "area_m2", "why"];
}

impl ScenarioOutcome {
    #[must_use]
    pub fn rows(&self) -> Vec<ManagerChangeRow<'_>> {
        self.report
            .managers_changed
            .iter()
            .map(|c| ManagerChangeRow {
                subsector_id: &c.subsector,
                space: &c.space,
                intervention: &c.intervention,
                before: c.before.as_deref().unwrap_or_default(),
                after: c.after.as_deref().unwrap_or_default(),
                area_m2: Fixed(c.area_m2),
                why: &c.why,
            })
            .collect()
    }
}

impl App {
    /// Simulates land transfers on top of the current data, without changing it: shares,
    /// decisions and managers before and after on `date`, and what changed.
    pub fn scenario(&self, scenario: &ScenarioFile, rules: &LoadedRules, date: Date) -> Result<ScenarioOutcome> {
        let snap = self.snapshot()?;
        let report = snap.scenario(&scenario.transfers, &rules.rules, date, OverlayOptions::default())?;
        Ok(ScenarioOutcome { scenario: scenario.name.clone(), transfers_requested: scenario.transfers.clone(), report })
    }
}

// ---------------------------------------------------------------- perimeters

/// A procedure perimeter: its shape and the area each actor manages there.
#[derive(Debug, Clone, Serialize)]
pub struct PerimeterResult {
    pub id: String,
    #[serde(flatten)]
    pub figures: PerimeterFigures,
    #[serde(serialize_with = "wgs84")]
    pub geometry: geo_types::MultiPolygon<f64>,
}

fn wgs84<S: serde::Serializer>(g: &geo_types::MultiPolygon<f64>, s: S) -> std::result::Result<S::Ok, S::Error> {
    Wgs84Geometry(g).serialize(s)
}

/// One row of the perimeters table: a (perimeter, intervention, actor).
#[derive(Debug, Clone, Serialize)]
pub struct PerimeterRow<'a> {
    pub perimeter_id: &'a str,
    pub perimeter_area_m2: Fixed<2>,
    pub intervention: &'a str,
    /// An actor, or `outside_subsectors` (the part of the perimeter no rule assigns).
    pub actor: String,
    pub managed_m2: Fixed<2>,
}

impl Row for PerimeterRow<'_> {
    const HEADER: &'static [&'static str] =
        &["perimeter_id", "perimeter_area_m2", "intervention", "actor", "managed_m2"];
}

/// The perimeters of a file with their figures, and the intervention kinds of the rules.
#[derive(Debug, Clone)]
pub struct Perimeters {
    pub perimeters: Vec<PerimeterResult>,
    pub interventions: Vec<String>,
}

impl Perimeters {
    /// Per perimeter and intervention kind, each actor's area then the area outside every
    /// sub-sector: each kind's rows add up to the perimeter's area.
    #[must_use]
    pub fn rows(&self) -> Vec<PerimeterRow<'_>> {
        let mut rows = Vec::new();
        for p in &self.perimeters {
            let area = Fixed(p.figures.area_m2);
            for kind in &self.interventions {
                for (actor, m2) in p.figures.managed_m2.get(kind).into_iter().flatten() {
                    rows.push(PerimeterRow {
                        perimeter_id: &p.id,
                        perimeter_area_m2: area,
                        intervention: kind,
                        actor: actor.to_string(),
                        managed_m2: Fixed(*m2),
                    });
                }
                rows.push(PerimeterRow {
                    perimeter_id: &p.id,
                    perimeter_area_m2: area,
                    intervention: kind,
                    actor: "outside_subsectors".to_owned(),
                    managed_m2: Fixed(p.figures.outside_subsectors_m2),
                });
            }
        }
        rows
    }
}

impl App {
    /// Builds the perimeters of a file and the area each actor manages in each, per
    /// intervention kind, on `date` (the figures the CLECT evaluates).
    pub fn perimeters(&self, file: &PerimetersFile, rules: &LoadedRules, date: Date) -> Result<Perimeters> {
        let snap = self.snapshot()?;
        let built = snap.perimeters(&file.perimeters)?;
        let (_, report) = snap.assign_with_geometry(&rules.rules, date, OverlayOptions::default());
        let perimeters = built
            .into_iter()
            .map(|(id, geometry)| PerimeterResult { figures: snap.perimeter_figures(&report, &geometry), id, geometry })
            .collect();
        Ok(Perimeters {
            perimeters,
            interventions: rules.rules.config().interventions.iter().map(|i| i.id.clone()).collect(),
        })
    }
}

// ---------------------------------------------------------------- blocks

/// A candidate sub-sector on the map.
#[derive(Debug, Clone, Serialize)]
pub struct BlockProperties {
    pub id: String,
    pub name: String,
    pub qpv: String,
    pub parcels: usize,
    pub area_m2: f64,
}

/// The blocks of a QPV.
#[derive(Debug, Clone)]
pub struct Blocks {
    pub qpv: String,
    pub blocks: Vec<domania_engine::Block>,
}

impl Blocks {
    #[must_use]
    pub fn geojson(&self) -> FeatureCollection<'_, BlockProperties> {
        let code = &self.qpv;
        FeatureCollection::new(
            self.blocks
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let props = BlockProperties {
                        id: format!("{code}-B{:02}", i + 1),
                        name: format!("Îlot {} de {code}", i + 1),
                        qpv: code.clone(),
                        parcels: b.parcels.len(),
                        area_m2: round2(b.area_m2),
                    };
                    Feature::new(props, &b.geom_l93)
                })
                .collect(),
        )
    }
}

impl App {
    /// The blocks (îlots) of parcels bounded by non-cadastré space inside a QPV: candidate
    /// sub-sectors.
    pub fn blocks(&self, qpv: &str) -> Result<Blocks> {
        let snap = self.snapshot_for(Layer::Qpv)?;
        let zone = snap.qpv().iter().find(|z| z.key == qpv).ok_or_else(|| {
            AppError::new(ErrorCode::NotFound, format!("no QPV {qpv} in {}", self.store_path().display()))
        })?;
        Ok(Blocks { qpv: qpv.to_owned(), blocks: snap.blocks(&zone.geom_l93) })
    }
}

// ---------------------------------------------------------------- demo

/// Land of one actor in the demo's summary.
#[derive(Debug, Clone, Serialize)]
pub struct ActorLand {
    pub actor: Actor,
    pub parcels: usize,
    pub area_m2: f64,
    pub share: f64,
}

/// Who manages what in the demo's territory.
#[derive(Debug, Clone, Serialize)]
pub struct DemoManagement {
    /// The rules file applied.
    pub rules: PathBuf,
    pub subsectors: usize,
    /// The explanation of every delegated sub-sector.
    pub delegated: Vec<String>,
    pub needing_convention: usize,
    /// The explanation of every sub-sector needing a convention.
    pub conventions_needed: Vec<String>,
    pub spaces: usize,
}

/// The main job on a territory folder.
#[derive(Debug, Clone, Serialize)]
pub struct DemoOutcome {
    pub store: String,
    pub imported: Vec<VersionInfo>,
    pub by_actor: Vec<ActorLand>,
    pub management: Option<DemoManagement>,
    pub seconds: f64,
}

fn find_one(dir: &Path, pred: impl Fn(&str) -> bool) -> Result<Option<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| AppError::new(ErrorCode::FileUnreadable, format!("reading the folder {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| pred(&n.to_string_lossy())))
        .collect();
    found.sort();
    Ok(found.into_iter().next())
}

impl App {
    /// The main job on a territory folder: import every layer found in it (`cadastre-*.json`,
    /// `ppm*.csv`, `qpv*`, `subsectors*`, `conventions*`) and summarise land by actor; with a
    /// `rules.toml`, who manages what. A `territory.toml` in the folder classifies owners unless
    /// the application has a territory file already. `on_import` is told each version.
    pub fn demo(
        &self,
        dir: &Path,
        progress: &dyn Fn(Progress),
        on_import: &dyn Fn(&ImportOutcome),
    ) -> Result<DemoOutcome> {
        let t = Instant::now();
        let parcels =
            find_one(dir, |n| n.starts_with("cadastre-") && (n.ends_with(".json") || n.ends_with(".json.gz")))?
                .ok_or_else(|| {
                    AppError::new(ErrorCode::FileUnreadable, format!("{}: no cadastre-*.json file", dir.display()))
                })?;
        let mut steps = vec![(Layer::Parcels, parcels)];
        for (layer, pred) in [
            (Layer::Owners, (|n: &str| n.starts_with("ppm") && n.ends_with(".csv")) as fn(&str) -> bool),
            (Layer::Qpv, |n: &str| n.starts_with("qpv") && n.ends_with("json")),
            (Layer::Subsectors, |n: &str| n.starts_with("subsectors") && n.ends_with("json")),
            (Layer::Conventions, |n: &str| n.starts_with("conventions") && n.ends_with("json")),
        ] {
            if let Some(p) = find_one(dir, pred)? {
                steps.push((layer, p));
            }
        }
        let mut imported = Vec::new();
        for (layer, file) in steps {
            let outcome = self.import(&ImportRequest::new(layer, file, "demo"), progress)?;
            on_import(&outcome);
            imported.push(outcome.version);
        }
        let local = dir.join("territory.toml");
        let app = if self.territory.is_none() && local.exists() {
            self.clone().with_territory(Some(&local))?
        } else {
            self.clone()
        };
        let snap = app.snapshot()?;
        let mut by_actor: BTreeMap<Actor, (usize, f64)> = BTreeMap::new();
        let mut total = 0.0;
        for (p, h) in snap.parcels().iter().zip(snap.holdings()) {
            let area = p.geom_l93.unsigned_area();
            total += area;
            let e = by_actor.entry(h.actor()).or_default();
            e.0 += 1;
            e.1 += area;
        }
        let rules_path = dir.join("rules.toml");
        let management = if rules_path.exists() {
            let rules = crate::files::rules(Some(&rules_path))?;
            let (_, report) = snap.assign(&rules.rules, crate::files::today(), OverlayOptions::default());
            let s = summary(&report);
            Some(DemoManagement {
                rules: rules_path,
                subsectors: s.subsectors,
                delegated: report
                    .decisions
                    .iter()
                    .filter(|d| matches!(d.decision, Decision::Delegated { .. }))
                    .map(|d| d.explanation.clone())
                    .collect(),
                needing_convention: s.needing_convention,
                conventions_needed: report
                    .decisions
                    .iter()
                    .filter(|d| d.needs_convention)
                    .map(|d| d.explanation.clone())
                    .collect(),
                spaces: s.spaces,
            })
        } else {
            None
        };
        Ok(DemoOutcome {
            store: self.store_path().to_string(),
            imported,
            by_actor: by_actor
                .into_iter()
                .map(|(actor, (parcels, area))| ActorLand {
                    actor,
                    parcels,
                    area_m2: area.round(),
                    share: if total > 0.0 { area / total } else { 0.0 },
                })
                .collect(),
            management,
            seconds: t.elapsed().as_secs_f64(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{field_names, rows_csv};

    #[test]
    fn every_table_says_its_own_columns_even_when_empty() {
        let assign = AssignRow {
            subsector_id: "S".into(),
            space: "X".into(),
            owner_actor: "commune",
            area_m2: Fixed(1.0),
            intervention: "waste".into(),
            service_id: String::new(),
            service_name: String::new(),
            phone: String::new(),
            email: String::new(),
            actor: "commune".into(),
            rule: domania_rules::RuleKind::Default,
            explanation: String::new(),
        };
        assert_eq!(field_names(&assign), AssignRow::HEADER);
        let change = ManagerChangeRow {
            subsector_id: "S",
            space: "X",
            intervention: "waste",
            before: "",
            after: "",
            area_m2: Fixed(1.0),
            why: "",
        };
        assert_eq!(field_names(&change), ManagerChangeRow::HEADER);
        let perimeter = PerimeterRow {
            perimeter_id: "P",
            perimeter_area_m2: Fixed(1.0),
            intervention: "waste",
            actor: "commune".into(),
            managed_m2: Fixed(1.0),
        };
        assert_eq!(field_names(&perimeter), PerimeterRow::HEADER);
        let tfpb = TfpbCsvRow { qpv: "Q", qpv_name: "", siren: "", bailleur: "", parcels: 1, area_m2: Fixed(1.0) };
        // The TFPB table names its first column after the layer.
        assert_eq!(field_names(&tfpb)[1..], TfpbCsvRow::HEADER[1..]);
        assert_eq!(rows_csv::<ManagerChangeRow<'_>>(&[], b',').unwrap().lines().count(), 1);
    }
}

//! The management rules applied to the store: a service for every space and intervention kind,
//! with the chain of rules that produced it, recorded as a new version of the `spaces` layer.

use std::collections::{BTreeMap, HashMap};

use domania_core::overlay::OverlayOptions;
use domania_core::{Actor, Layer};
use domania_engine::{AssignReport, Snapshot};
use domania_rules::{Assignment, Decision, SpaceKind, SubsectorDecision};
use domania_store::{ImportMeta, ImportOptions, VersionInfo};
use jiff::civil::Date;
use serde::Serialize;

use crate::App;
use crate::error::{AppError, Context as _, ErrorCode, Result};
use crate::files::LoadedRules;
use crate::geojson::{Feature, FeatureCollection};
use crate::i18n::Lang;
use crate::shares::layer_missing;
use crate::table::{Fixed, Rounded, Row};

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
    /// The rules applied, which say the reasons in a language.
    pub applied: domania_rules::Rules,
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
    /// The part of the area no earlier sub-sector holds: a total over it counts overlapped
    /// ground once.
    pub counted_m2: Fixed<2>,
    /// The other sub-sectors the space lies partly in, `;`-separated.
    pub overlaps: String,
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
        "counted_m2",
        "overlaps",
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
    pub area_m2: Rounded<2>,
    /// See [`domania_engine::SpaceAssignment::counted_m2`].
    pub counted_m2: Rounded<2>,
    pub overlaps: &'a [String],
    pub decision: String,
    pub judged_on: Date,
    pub managers: BTreeMap<&'a str, Manager<'a>>,
}

/// A decision or an assignment with its reason said in a language (the typed `reason` is kept
/// beside it for programs).
#[derive(Debug, Serialize)]
pub struct Explained<'a, T> {
    #[serde(flatten)]
    pub item: &'a T,
    pub explanation: String,
}

/// A space with its managers explained.
#[derive(Debug, Serialize)]
pub struct SpaceExplained<'a> {
    pub subsector: &'a str,
    pub space: &'a SpaceKind,
    pub area_m2: f64,
    /// See [`domania_engine::SpaceAssignment::counted_m2`].
    pub counted_m2: f64,
    pub overlaps: &'a [String],
    pub assignments: Vec<Explained<'a, Assignment>>,
}

/// The assignments as JSON: every decision and every space's managers, explained.
#[derive(Debug, Serialize)]
pub struct AssignView<'a> {
    pub date: Date,
    pub decisions: Vec<Explained<'a, SubsectorDecision>>,
    pub spaces: Vec<SpaceExplained<'a>>,
}

impl Assigned {
    /// The assignments as JSON, explained in `lang`.
    #[must_use]
    pub fn view(&self, lang: Lang) -> AssignView<'_> {
        let rules = &self.applied;
        AssignView {
            date: self.report.date,
            decisions: self
                .report
                .decisions
                .iter()
                .map(|d| Explained { item: d, explanation: d.reason.said(lang) })
                .collect(),
            spaces: self
                .report
                .spaces
                .iter()
                .map(|s| SpaceExplained {
                    subsector: &s.subsector,
                    space: &s.space,
                    area_m2: s.area_m2,
                    counted_m2: s.counted_m2,
                    overlaps: &s.overlaps,
                    assignments: s
                        .assignments
                        .iter()
                        .map(|a| Explained { item: a, explanation: rules.explain_assignment(&a.reason, lang) })
                        .collect(),
                })
                .collect(),
        }
    }

    /// The rows of the assignments table, explanations in `lang`.
    #[must_use]
    pub fn rows(&self, lang: Lang) -> Vec<AssignRow> {
        let mut rows = Vec::new();
        for s in &self.report.spaces {
            let (space, owner) = space_names(&s.space);
            for a in s.assignments.iter() {
                let svc = a.service.as_ref();
                rows.push(AssignRow {
                    subsector_id: s.subsector.clone(),
                    space: space.clone(),
                    owner_actor: owner,
                    area_m2: Fixed(s.area_m2),
                    counted_m2: Fixed(s.counted_m2),
                    overlaps: s.overlaps.join(";"),
                    intervention: a.intervention.clone(),
                    service_id: svc.map_or_else(String::new, |x| x.id.clone()),
                    service_name: svc.map_or_else(String::new, |x| x.name.clone()),
                    phone: svc.and_then(|x| x.phone.clone()).unwrap_or_default(),
                    email: svc.and_then(|x| x.email.clone()).unwrap_or_default(),
                    actor: a.actor.to_string(),
                    rule: a.rule,
                    explanation: self.applied.explain_assignment(&a.reason, lang),
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
                        area_m2: Rounded(s.area_m2),
                        counted_m2: Rounded(s.counted_m2),
                        overlaps: &s.overlaps,
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

pub(crate) fn summary(report: &AssignReport) -> AssignSummary {
    AssignSummary {
        subsectors: report.decisions.len(),
        delegated: report.decisions.iter().filter(|d| matches!(d.decision, Decision::Delegated { .. })).count(),
        needing_convention: report.decisions.iter().filter(|d| d.needs_convention).count(),
        spaces: report.spaces.len(),
        unassigned: report.spaces.iter().flat_map(|s| s.assignments.iter()).filter(|a| a.service.is_none()).count(),
    }
}

impl App {
    /// A manager for every space and intervention kind on `date`, with its explanation. With
    /// `record`, written to the store as a new version of the `spaces` layer, explanations in
    /// `lang` (refused when the store changed since it was read); `geometry` computes the
    /// spaces' shapes for a map.
    pub fn assign(
        &self,
        rules: &LoadedRules,
        date: Date,
        record: bool,
        geometry: bool,
        lang: Lang,
    ) -> Result<Assigned> {
        let snap = self.snapshot_for(Layer::Subsectors)?;
        if snap.subsectors().is_empty() {
            return Err(layer_missing(Layer::Subsectors));
        }
        let (_, report) = if geometry || record {
            snap.assign_with_geometry(&rules.rules, date, OverlayOptions::default())
        } else {
            snap.assign(&rules.rules, date, OverlayOptions::default())
        };
        let recorded = if record { Some(self.record_spaces(&snap, &report, rules, lang)?) } else { None };
        Ok(Assigned {
            summary: summary(&report),
            report,
            rules: rules.name.clone(),
            applied: rules.rules.clone(),
            recorded,
        })
    }

    fn record_spaces(
        &self,
        snap: &Snapshot,
        report: &AssignReport,
        rules: &LoadedRules,
        lang: Lang,
    ) -> Result<VersionInfo> {
        let rules_name = rules.name.as_str();
        let decisions: HashMap<&str, &SubsectorDecision> =
            report.decisions.iter().map(|d| (d.subsector.as_str(), d)).collect();
        let json = |v: &dyn erased::Json| v.text();
        let rows: Vec<domania_store::Row> = report
            .spaces
            .iter()
            .filter_map(|s| {
                let geom = s.geom_l93.as_ref()?;
                let (space, owner) = space_names(&s.space);
                let explanations: BTreeMap<&str, String> = s
                    .assignments
                    .iter()
                    .map(|a| (a.intervention.as_str(), rules.rules.explain_assignment(&a.reason, lang)))
                    .collect();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perimeters::PerimeterRow;
    use crate::qpv::TfpbCsvRow;
    use crate::scenario::ManagerChangeRow;
    use crate::table::{field_names, rows_csv};

    #[test]
    fn every_table_says_its_own_columns_even_when_empty() {
        let assign = AssignRow {
            subsector_id: "S".into(),
            space: "X".into(),
            owner_actor: "commune",
            area_m2: Fixed(1.0),
            counted_m2: Fixed(1.0),
            overlaps: String::new(),
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

//! Scenarios of land transfers: shares, decisions and managers before and after, on a copy of
//! the part of the territory the transfers can change; the store is not touched.

use domania_core::overlay::OverlayOptions;
use std::collections::BTreeMap;

use domania_core::Actor;
use domania_engine::{ScenarioReport, Snapshot, Transfer, TransferSummary};
use domania_rules::Rules;
use jiff::civil::Date;
use serde::Serialize;

use crate::App;
use crate::budget::Budget;
use crate::error::Result;
use crate::files::{LoadedRules, ScenarioFile};
use crate::held::Held;
use crate::i18n::Lang;
use crate::table::{Fixed, Row};

/// A scenario simulated: what it asked for and what it changes, its reasons said in the
/// language asked for.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioOutcome {
    pub scenario: String,
    pub transfers_requested: Vec<Transfer>,
    pub date: Date,
    pub transfers: Vec<TransferSummary>,
    pub subsectors_changed: Vec<SubsectorChangeView>,
    /// Only real changes: a part `IDU/n` cut off a parcel is compared with the parcel it came
    /// from, so a cut that leaves a manager as it was is no change.
    pub managers_changed: Vec<ManagerChangeView>,
}

/// A sub-sector whose shares or decision the scenario changes.
#[derive(Debug, Clone, Serialize)]
pub struct SubsectorChangeView {
    pub subsector: String,
    /// Share of each actor, rounded to 1e-4.
    pub shares_before: BTreeMap<Actor, f64>,
    pub shares_after: BTreeMap<Actor, f64>,
    pub decision_before: String,
    pub decision_after: String,
}

/// A (space, intervention) whose manager the scenario changes.
#[derive(Debug, Clone, Serialize)]
pub struct ManagerChangeView {
    pub subsector: String,
    /// The space after the scenario (`IDU`, `IDU/n` for a transferred part, `non_cadastre`).
    pub space: String,
    pub intervention: String,
    /// Service ids, `None` where no rule names one.
    pub before: Option<String>,
    pub after: Option<String>,
    pub area_m2: f64,
    pub why: String,
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
    /// The report said in `lang`.
    fn said(scenario: &ScenarioFile, report: ScenarioReport, rules: &Rules, lang: Lang) -> Self {
        let ScenarioReport { date, transfers, subsectors_changed, managers_changed } = report;
        Self {
            scenario: scenario.name.clone(),
            transfers_requested: scenario.transfers.clone(),
            date,
            transfers,
            subsectors_changed: subsectors_changed
                .into_iter()
                .map(|z| SubsectorChangeView {
                    decision_before: z.decision_before.said(lang),
                    decision_after: z.decision_after.said(lang),
                    subsector: z.subsector,
                    shares_before: z.shares_before,
                    shares_after: z.shares_after,
                })
                .collect(),
            managers_changed: managers_changed
                .into_iter()
                .map(|c| ManagerChangeView {
                    why: rules.explain_assignment(&c.why, lang),
                    subsector: c.subsector,
                    space: c.space,
                    intervention: c.intervention,
                    before: c.before,
                    after: c.after,
                    area_m2: c.area_m2,
                })
                .collect(),
        }
    }

    #[must_use]
    pub fn rows(&self) -> Vec<ManagerChangeRow<'_>> {
        self.managers_changed
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

/// The scenario `scenario` on `snapshot` with `rules` on `date`, within its limits and
/// `budget`.
fn simulate(
    snapshot: &Snapshot,
    scenario: &ScenarioFile,
    rules: &LoadedRules,
    date: Date,
    budget: &Budget,
    lang: Lang,
) -> Result<ScenarioOutcome> {
    domania_engine::ScenarioLimits::default().check(&scenario.transfers)?;
    let report = snapshot
        .scenario_while(&scenario.transfers, &rules.rules, date, OverlayOptions::default(), &|| budget.go_on())
        .map_err(|e| if budget.go_on() { e.into() } else { budget.stopped() })?;
    Ok(ScenarioOutcome::said(scenario, report, &rules.rules, lang))
}

impl App {
    /// Simulates land transfers on top of the current data, without changing it: shares,
    /// decisions and managers before and after on `date`, and what changed, said in `lang`.
    pub fn scenario(
        &self,
        scenario: &ScenarioFile,
        rules: &LoadedRules,
        date: Date,
        lang: Lang,
    ) -> Result<ScenarioOutcome> {
        simulate(&self.snapshot()?, scenario, rules, date, &Budget::unlimited(), lang)
    }
}

impl Held {
    /// [`App::scenario`] on this snapshot, its rules and its date, stopped when `budget` is
    /// spent (CPU-heavy: off the async workers).
    pub fn scenario(&self, scenario: &ScenarioFile, budget: &Budget, lang: Lang) -> Result<ScenarioOutcome> {
        simulate(&self.snapshot, scenario, &self.rules, self.date, budget, lang)
    }
}

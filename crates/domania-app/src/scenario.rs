//! Scenarios of land transfers: shares, decisions and managers before and after, on a copy of
//! the part of the territory the transfers can change; the store is not touched.

use domania_core::overlay::OverlayOptions;
use domania_engine::{ScenarioReport, Snapshot, Transfer};
use jiff::civil::Date;
use serde::Serialize;

use crate::App;
use crate::budget::Budget;
use crate::error::Result;
use crate::files::{LoadedRules, ScenarioFile};
use crate::held::Held;
use crate::table::{Fixed, Row};

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

/// The scenario `scenario` on `snapshot` with `rules` on `date`, within its limits and
/// `budget`.
fn simulate(
    snapshot: &Snapshot,
    scenario: &ScenarioFile,
    rules: &LoadedRules,
    date: Date,
    budget: &Budget,
) -> Result<ScenarioOutcome> {
    domania_engine::ScenarioLimits::default().check(&scenario.transfers)?;
    let report = snapshot
        .scenario_while(&scenario.transfers, &rules.rules, date, OverlayOptions::default(), &|| budget.go_on())
        .map_err(|e| if budget.go_on() { e.into() } else { budget.stopped() })?;
    Ok(ScenarioOutcome { scenario: scenario.name.clone(), transfers_requested: scenario.transfers.clone(), report })
}

impl App {
    /// Simulates land transfers on top of the current data, without changing it: shares,
    /// decisions and managers before and after on `date`, and what changed.
    pub fn scenario(&self, scenario: &ScenarioFile, rules: &LoadedRules, date: Date) -> Result<ScenarioOutcome> {
        simulate(&self.snapshot()?, scenario, rules, date, &Budget::unlimited())
    }
}

impl Held {
    /// [`App::scenario`] on this snapshot, its rules and its date, stopped when `budget` is
    /// spent (CPU-heavy: off the async workers).
    pub fn scenario(&self, scenario: &ScenarioFile, budget: &Budget) -> Result<ScenarioOutcome> {
        simulate(&self.snapshot, scenario, &self.rules, self.date, budget)
    }
}

//! A sub-sector as its readers see it: its land by actor, the management decision, and each
//! of its spaces with its manager per intervention kind (JSON), or one line per space and kind
//! (CSV).

use std::collections::BTreeMap;

use domania_core::Actor;
use domania_core::shares::OwnerShare;
use domania_rules::{Assignment, RuleKind, Rules, Service, SpaceKind};
use serde::Serialize;

use crate::error::{AppError, ErrorCode, Result};
use crate::held::Held;
use crate::i18n::Lang;
use crate::table::{Fixed, Rounded, Row};

/// How a sub-sector is managed, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// One actor holds more than the threshold and manages all of it.
    Delegated,
    /// Each manages its own land (*gestion selon la domanialité*).
    Domanialite,
    /// Unknown land could change the answer.
    Undecided,
}

impl DecisionKind {
    /// The engine's word for it.
    #[must_use]
    pub fn of(word: &str) -> Self {
        match word {
            "delegated" => DecisionKind::Delegated,
            "undecided" => DecisionKind::Undecided,
            _ => DecisionKind::Domanialite,
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Delegated => "delegated",
            DecisionKind::Domanialite => "domanialite",
            DecisionKind::Undecided => "undecided",
        }
    }
}

/// A sub-sector's shares and decision.
#[derive(Debug, Serialize)]
pub struct SubsectorView<'a> {
    pub id: &'a str,
    pub name: Option<&'a str>,
    pub area_m2: f64,
    pub cadastre_m2: f64,
    pub non_cadastre_m2: f64,
    pub shares: BTreeMap<Actor, f64>,
    /// Each actor's land, m² (the shares' numerators).
    pub areas_m2: BTreeMap<Actor, Rounded<2>>,
    pub decision: DecisionKind,
    /// The actor managing the whole sub-sector when the management is delegated.
    pub delegated_to: Option<Actor>,
    pub needs_convention: bool,
    pub explanation: String,
}

/// A manager of one intervention kind, with the rule that decided and why.
#[derive(Debug, Serialize)]
pub struct ManagerView<'a> {
    pub intervention: &'a str,
    pub service: Option<&'a Service>,
    pub actor: Actor,
    pub rule: RuleKind,
    pub explanation: String,
}

/// The managers of `assignments`, of every kind or of `kind` only, explained by `rules` in
/// `lang`.
#[must_use]
pub fn manager_views<'a>(
    rules: &Rules,
    assignments: &'a [Assignment],
    kind: Option<&str>,
    lang: Lang,
) -> Vec<ManagerView<'a>> {
    assignments
        .iter()
        .filter(|a| kind.is_none_or(|k| a.intervention == k))
        .map(|a| ManagerView {
            intervention: &a.intervention,
            service: a.service.as_deref(),
            actor: a.actor,
            rule: a.rule,
            explanation: rules.explain_assignment(&a.reason, lang),
        })
        .collect()
}

/// A space of a sub-sector with its managers.
#[derive(Debug, Serialize)]
pub struct SpaceView<'a> {
    pub space: &'a SpaceKind,
    pub area_m2: f64,
    pub managers: Vec<ManagerView<'a>>,
}

/// A sub-sector with its owners, its spaces and their managers.
#[derive(Debug, Serialize)]
pub struct SubsectorDetail<'a> {
    #[serde(flatten)]
    pub subsector: SubsectorView<'a>,
    pub by_owner: &'a [OwnerShare],
    pub spaces: Vec<SpaceView<'a>>,
}

/// One line of a sub-sector as a table: a space and one intervention kind.
#[derive(Debug, Serialize)]
pub struct SpaceRow<'a> {
    pub subsector: &'a str,
    pub space: &'a str,
    pub owner_actor: Option<Actor>,
    pub area_m2: Fixed<2>,
    pub intervention: &'a str,
    pub service: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub actor: Actor,
    pub rule: RuleKind,
    pub explanation: String,
}

impl Row for SpaceRow<'_> {
    const HEADER: &'static [&'static str] = &[
        "subsector",
        "space",
        "owner_actor",
        "area_m2",
        "intervention",
        "service",
        "phone",
        "email",
        "actor",
        "rule",
        "explanation",
    ];
}

/// The error of a sub-sector that is not in the store.
pub(crate) fn no_subsector(id: &str) -> AppError {
    AppError::said(ErrorCode::NotFound, "error-no-subsector", vec![("id", id.into())])
}

impl Held {
    /// The shares and decision of the sub-sector at position `pos`, explained in `lang`.
    #[must_use]
    pub fn subsector_view(&self, pos: usize, lang: Lang) -> SubsectorView<'_> {
        let z = &self.shares.zones[pos];
        let d = &self.assign.decisions[pos];
        let (decision, delegated_to) = d.decision.kind();
        SubsectorView {
            id: &z.key,
            name: z.name.as_deref(),
            area_m2: z.shares.area_m2,
            cadastre_m2: z.shares.cadastre_m2,
            non_cadastre_m2: z.shares.non_cadastre_m2,
            shares: z.shares.by_actor.iter().map(|(a, s)| (*a, s.share)).collect(),
            areas_m2: z.shares.by_actor.iter().map(|(a, s)| (*a, Rounded(s.area_m2))).collect(),
            decision: DecisionKind::of(decision),
            delegated_to,
            needs_convention: d.needs_convention,
            explanation: d.reason.said(lang),
        }
    }

    /// A sub-sector with its owners, spaces and managers, explained in `lang`.
    pub fn subsector_detail(&self, id: &str, lang: Lang) -> Result<SubsectorDetail<'_>> {
        let pos = self.subsector(id).ok_or_else(|| no_subsector(id))?;
        let spaces = self
            .assign
            .spaces
            .iter()
            .filter(|s| s.subsector == id)
            .map(|s| SpaceView {
                space: &s.space,
                area_m2: s.area_m2,
                managers: manager_views(&self.rules.rules, &s.assignments, None, lang),
            })
            .collect();
        Ok(SubsectorDetail {
            subsector: self.subsector_view(pos, lang),
            by_owner: &self.shares.zones[pos].shares.by_owner,
            spaces,
        })
    }

    /// A sub-sector as a table: one line per space and intervention kind, explained in `lang`.
    pub fn subsector_rows(&self, id: &str, lang: Lang) -> Result<Vec<SpaceRow<'_>>> {
        self.subsector(id).ok_or_else(|| no_subsector(id))?;
        let mut rows = Vec::new();
        for s in self.assign.spaces.iter().filter(|s| s.subsector == id) {
            let owner_actor = match &s.space {
                SpaceKind::Parcel { actor, .. } => Some(*actor),
                SpaceKind::NonCadastre => None,
            };
            for a in s.assignments.iter() {
                let service = a.service.as_ref();
                rows.push(SpaceRow {
                    subsector: &s.subsector,
                    space: domania_engine::space_id(&s.space),
                    owner_actor,
                    area_m2: Fixed(s.area_m2),
                    intervention: &a.intervention,
                    service: service.map(|s| s.name.as_str()),
                    phone: service.and_then(|s| s.phone.as_deref()),
                    email: service.and_then(|s| s.email.as_deref()),
                    actor: a.actor,
                    rule: a.rule,
                    explanation: self.rules.rules.explain_assignment(&a.reason, lang),
                });
            }
        }
        Ok(rows)
    }
}

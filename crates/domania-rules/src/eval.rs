//! Evaluation of the rules: sub-sector decisions and space assignments, with explanations.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use domania_core::Actor;
use domania_core::shares::ZoneShares;
use jiff::civil::Date;
use serde::Serialize;

use crate::error::{Result, RulesError};
use crate::model::{Convention, RulesConfig, Service};
use crate::reason::{
    AssignmentReason, ConventionReason, DecisionReason, Denominator, Flip, ManagerReason, Outcome, RuleReason,
};

/// How a sub-sector is managed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Decision {
    /// One actor holds more than the threshold: it manages every space of the sub-sector.
    Delegated { actor: Actor, share: f64 },
    /// Each space is managed by its owner (*gestion selon la domanialité*).
    Domanialite,
    /// Part of the land has an owner nobody knows (no owner file covers it, or no rule
    /// classifies the owner) and, depending on who holds it, the rule would decide otherwise:
    /// the rule refuses to decide. Spaces are managed by their owners in the meantime, and
    /// land of an unknown owner gets no manager.
    Undecided {
        /// Share of the land whose owner is undetermined (same denominator as the rule's).
        undetermined_share: f64,
    },
}

impl Decision {
    /// The decision in one word (`delegated`, `domanialite`, `undecided`) and the actor a
    /// delegated sub-sector is managed by: how the maps, tiles and answers name it.
    #[must_use]
    pub fn kind(&self) -> (&'static str, Option<Actor>) {
        match self {
            Decision::Delegated { actor, .. } => ("delegated", Some(*actor)),
            Decision::Domanialite => ("domanialite", None),
            Decision::Undecided { .. } => ("undecided", None),
        }
    }
}

/// The decision for one sub-sector, with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubsectorDecision {
    pub subsector: String,
    pub decision: Decision,
    /// Land is shared between listed actors and none holds more than the threshold: a convention
    /// should settle who does what.
    pub needs_convention: bool,
    /// Why (said in a language by [`DecisionReason::said`]).
    pub reason: DecisionReason,
}

/// A space of a sub-sector, as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SpaceKind {
    /// A parcel piece and its owner's actor.
    Parcel { idu: String, actor: Actor },
    /// The sub-sector's area outside every parcel.
    NonCadastre,
}

/// Who handles one intervention kind on one space.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assignment {
    pub intervention: String,
    /// `None`: no rule gives a service (see the explanation).
    pub service: Option<Arc<Service>>,
    /// The actor responsible (the service's actor, or the manager actor when unassigned).
    pub actor: Actor,
    /// Which rule decided.
    pub rule: RuleKind,
    /// Why (said in a language by [`Rules::explain_assignment`]).
    pub reason: AssignmentReason,
}

/// Which rule gave an intervention its manager, in the order they are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// A convention in force on the date whose perimeter holds the space.
    Convention,
    /// A fixed service for the intervention kind, whoever manages the space.
    Fixed,
    /// The manager actor's default service for the kind.
    Default,
    /// No rule gives a service: the explanation says why.
    Unassigned,
}

impl RuleKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Convention => "convention",
            RuleKind::Fixed => "fixed",
            RuleKind::Default => "default",
            RuleKind::Unassigned => "unassigned",
        }
    }
}

impl std::fmt::Display for RuleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest delay or window the rules take, in hours (ten years).
pub const MAX_HOURS: f64 = 87_600.0;

/// Rules ready to evaluate (every reference checked).
#[derive(Debug, Clone)]
pub struct Rules {
    config: RulesConfig,
    services: HashMap<String, Arc<Service>>,
}

impl Rules {
    /// Checks the configuration: threshold range, unique ids, every service and intervention
    /// reference, convention dates.
    pub fn new(config: RulesConfig) -> Result<Self> {
        let t = config.delegation.threshold;
        if !(0.0..1.0).contains(&t) || t.is_nan() {
            return Err(RulesError::BadThreshold(t));
        }
        let mut services = HashMap::new();
        for s in &config.services {
            if services.insert(s.id.clone(), Arc::new(s.clone())).is_some() {
                return Err(RulesError::DuplicateId { what: "services", id: s.id.clone() });
            }
        }
        let mut kinds = HashSet::new();
        for i in &config.interventions {
            if !kinds.insert(i.id.as_str()) {
                return Err(RulesError::DuplicateId { what: "interventions", id: i.id.clone() });
            }
        }
        let check_service = |rule: String, id: &str| {
            if services.contains_key(id) {
                Ok(())
            } else {
                Err(RulesError::UnknownService { rule, service: id.to_owned() })
            }
        };
        let check_kind = |rule: String, id: &str| {
            if id == "*" || kinds.contains(id) {
                Ok(())
            } else {
                Err(RulesError::UnknownIntervention { rule, intervention: id.to_owned() })
            }
        };
        for s in &config.services {
            for r in &s.referents {
                let rule = format!("referent {} of service {}", r.name, s.id);
                for k in &r.interventions {
                    check_kind(rule.clone(), k)?;
                }
                if let Some(c) = &r.commune
                    && !(c.len() == 5 && c.is_ascii() && c.chars().all(|ch| ch.is_ascii_alphanumeric()))
                {
                    return Err(RulesError::BadReferent {
                        rule,
                        reason: format!("commune {c:?} is not an INSEE code"),
                    });
                }
            }
        }
        for f in &config.fixed {
            check_service(format!("fixed rule for {}", f.intervention), &f.service)?;
            check_kind(format!("fixed rule for {}", f.intervention), &f.intervention)?;
        }
        for d in &config.defaults {
            let rule = format!("default rule of {} for {}", d.actor, d.intervention);
            check_service(rule.clone(), &d.service)?;
            check_kind(rule, &d.intervention)?;
        }
        let mut conv_ids = HashSet::new();
        for c in &config.conventions {
            if !conv_ids.insert(c.id.as_str()) {
                return Err(RulesError::DuplicateId { what: "conventions", id: c.id.clone() });
            }
            check_service(format!("convention {}", c.id), &c.service)?;
            for k in &c.interventions {
                check_kind(format!("convention {}", c.id), k)?;
            }
            let bad = |reason: String| RulesError::BadConvention { id: c.id.clone(), reason };
            if let Some(to) = c.valid_to
                && to < c.valid_from
            {
                return Err(bad(format!("ends ({to}) before it starts ({})", c.valid_from)));
            }
        }
        let mut codes = HashSet::new();
        for c in &config.categories {
            if !codes.insert(c.code.as_str()) {
                return Err(RulesError::DuplicateId { what: "categories", id: c.code.clone() });
            }
            if c.intervention == "*" {
                return Err(RulesError::UnknownIntervention {
                    rule: format!("category {}", c.code),
                    intervention: c.intervention.clone(),
                });
            }
            check_kind(format!("category {}", c.code), &c.intervention)?;
            if let Some(s) = &c.service {
                check_service(format!("category {}", c.code), s)?;
            }
        }
        let r = &config.reports;
        // Bounded, so that times computed from them stay times.
        if !((0.0..=10_000.0).contains(&r.duplicate_distance_m)
            && (0.0..=MAX_HOURS).contains(&r.duplicate_window_hours))
        {
            return Err(RulesError::BadReports(format!(
                "duplicate_distance_m must be 0 to 10,000 and duplicate_window_hours 0 to {MAX_HOURS}"
            )));
        }
        let mut names = std::collections::HashSet::new();
        for w in &r.webhooks {
            let name_ok = !w.name.is_empty() && w.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !name_ok || !names.insert(w.name.to_ascii_uppercase()) {
                return Err(RulesError::BadReports(format!(
                    "webhook {:?}: a name of its own, of letters, digits and _ (it names its secret's variable)",
                    w.name
                )));
            }
            if !(w.url.starts_with("http://") || w.url.starts_with("https://")) {
                return Err(RulesError::BadReports(format!("webhook {}: the url is http:// or https://", w.name)));
            }
        }
        for l in &config.service_levels {
            let rule = format!("service level of {}", l.intervention);
            check_kind(rule.clone(), &l.intervention)?;
            let hours = std::iter::once(l.hours)
                .chain(l.qpv_hours)
                .chain(l.seasons.iter().flat_map(|s| std::iter::once(s.hours).chain(s.qpv_hours)));
            if hours.into_iter().any(|h| !(h > 0.0 && h <= MAX_HOURS)) {
                return Err(RulesError::BadReports(format!(
                    "{rule}: hours must be more than 0 and at most {MAX_HOURS}"
                )));
            }
            if l.seasons.iter().flat_map(|s| &s.months).any(|m| !(1..=12).contains(m)) {
                return Err(RulesError::BadReports(format!("{rule}: months are 1 to 12")));
            }
        }
        Ok(Self { config, services })
    }

    /// A category of report by its code.
    #[must_use]
    pub fn category(&self, code: &str) -> Option<&crate::Category> {
        self.config.categories.iter().find(|c| c.code == code)
    }

    /// The service level of an intervention kind.
    #[must_use]
    pub fn service_level(&self, intervention: &str) -> Option<&crate::ServiceLevel> {
        self.config.service_levels.iter().find(|l| l.intervention == intervention)
    }

    /// A service by its id.
    #[must_use]
    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.get(id).map(|s| &**s)
    }

    /// The services some rule can give intervention kind `kind` to (a fixed or default rule, a
    /// convention), in the directory's order, each with its place in the directory.
    #[must_use]
    pub fn services_for(&self, kind: &str) -> Vec<(usize, &Service)> {
        let cfg = &self.config;
        let can = |id: &str| {
            cfg.fixed.iter().any(|f| f.intervention == kind && f.service == id)
                || cfg.defaults.iter().any(|d| (d.intervention == kind || d.intervention == "*") && d.service == id)
                || cfg.conventions.iter().any(|c| c.service == id && c.interventions.iter().any(|k| k == kind))
        };
        cfg.services.iter().enumerate().filter(|(_, s)| can(&s.id)).collect()
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &RulesConfig {
        &self.config
    }

    /// The delegated-management rule on one sub-sector's shares (computed with the
    /// denominator the configuration asks for: `delegation.include_non_cadastre`).
    ///
    /// Land whose owner is undetermined ([`Actor::is_undetermined`]) could belong to any of the
    /// listed actors: the rule is also run as if all of it belonged to each of them in turn, and
    /// when one of those answers differs, the sub-sector is [`Decision::Undecided`].
    #[must_use]
    pub fn decide_subsector(&self, subsector: &str, shares: &ZoneShares) -> SubsectorDecision {
        let held: Vec<(Actor, f64)> =
            shares.by_actor.iter().filter(|(_, s)| s.area_m2 > 0.0).map(|(a, s)| (*a, s.share)).collect();
        let decided = self.decide_with(subsector, &held);
        let undetermined: f64 = held.iter().filter(|(a, _)| a.is_undetermined()).map(|(_, s)| s).sum();
        let undetermined_m2: f64 =
            shares.by_actor.iter().filter(|(a, _)| a.is_undetermined()).map(|(_, s)| s.area_m2).sum();
        if undetermined_m2 <= 0.0 {
            return decided;
        }
        // The same rule with the undetermined land given to the listed actors: all of it to each
        // in turn, and shared between each pair (half each, and all but a sliver to one: the
        // sliver is enough to make two actors hold land, which changes the rule).
        let actors = &self.config.delegation.actors;
        let mut splits: Vec<Vec<(Actor, f64)>> = actors.iter().map(|a| vec![(*a, 1.0)]).collect();
        for a in actors {
            for b in actors.iter().filter(|b| *b != a) {
                splits.push(vec![(*a, 0.5), (*b, 0.5)]);
                splits.push(vec![(*a, 1.0 - 1e-9), (*b, 1e-9)]);
            }
        }
        let mut flips: Vec<Flip> = Vec::new();
        for split in &splits {
            let mut alt: Vec<(Actor, f64)> = held.iter().filter(|(x, _)| !x.is_undetermined()).copied().collect();
            for (a, part) in split {
                match alt.iter_mut().find(|(x, _)| x == a) {
                    Some(e) => e.1 += undetermined * part,
                    None => alt.push((*a, undetermined * part)),
                }
            }
            let other = outcome(&self.decide_with(subsector, &alt));
            if other != outcome(&decided) && !flips.iter().any(|f| f.outcome == other) {
                flips.push(Flip { held_by: split.clone(), outcome: other });
            }
        }
        if flips.is_empty() {
            return SubsectorDecision {
                reason: DecisionReason::Unchanged {
                    decision: Box::new(decided.reason.clone()),
                    share: undetermined,
                    area_m2: undetermined_m2,
                },
                ..decided
            };
        }
        SubsectorDecision {
            subsector: subsector.to_owned(),
            decision: Decision::Undecided { undetermined_share: undetermined },
            needs_convention: false,
            reason: DecisionReason::Undecided {
                subsector: subsector.to_owned(),
                share: undetermined,
                area_m2: undetermined_m2,
                as_it_stands: outcome(&decided),
                flips,
            },
        }
    }

    /// The rule on `(actor, share)` pairs of the land held.
    fn decide_with(&self, subsector: &str, held: &[(Actor, f64)]) -> SubsectorDecision {
        let d = &self.config.delegation;
        let listed: Vec<(Actor, f64)> =
            d.actors.iter().filter_map(|a| held.iter().find(|(x, s)| x == a && *s > 0.0).copied()).collect();
        let denominator = if d.include_non_cadastre { Denominator::Subsector } else { Denominator::Cadastre };
        let decision = |decision, needs_convention, reason| SubsectorDecision {
            subsector: subsector.to_owned(),
            decision,
            needs_convention,
            reason,
        };
        if listed.len() < 2 {
            let reason = match listed.first() {
                None => DecisionReason::NoneHolds { subsector: subsector.to_owned(), actors: d.actors.clone() },
                Some((a, s)) => DecisionReason::OnlyOne {
                    subsector: subsector.to_owned(),
                    actor: *a,
                    share: *s,
                    denominator,
                    actors: d.actors.clone(),
                },
            };
            return decision(Decision::Domanialite, false, reason);
        }
        let (best, share) = listed.iter().copied().fold((listed[0].0, f64::MIN), |b, x| if x.1 > b.1 { x } else { b });
        if share > d.threshold {
            let reason = DecisionReason::Delegated {
                subsector: subsector.to_owned(),
                actor: best,
                share,
                threshold: d.threshold,
                denominator,
                figures: listed,
            };
            decision(Decision::Delegated { actor: best, share }, false, reason)
        } else {
            let reason = DecisionReason::Shared {
                subsector: subsector.to_owned(),
                threshold: d.threshold,
                denominator,
                figures: listed,
            };
            decision(Decision::Domanialite, true, reason)
        }
    }

    /// The manager of `space` for every intervention kind. `conventions_here` are the ids of the
    /// conventions whose perimeter holds the space; `date` is the day the conventions are judged on.
    #[must_use]
    pub fn assign(
        &self,
        decision: &SubsectorDecision,
        space: &SpaceKind,
        conventions_here: &[&str],
        date: Date,
    ) -> Vec<Assignment> {
        let why = Arc::new(decision.reason.clone());
        let (manager, manager_why) = match (&decision.decision, space) {
            (Decision::Delegated { actor, .. }, _) => (*actor, ManagerReason::Delegated { decision: why }),
            (Decision::Domanialite | Decision::Undecided { .. }, SpaceKind::Parcel { idu, actor }) => {
                (*actor, ManagerReason::Parcel { decision: why, idu: idu.clone(), actor: *actor })
            }
            (Decision::Domanialite | Decision::Undecided { .. }, SpaceKind::NonCadastre) => (
                self.config.non_cadastre_actor,
                ManagerReason::NonCadastre { decision: why, actor: self.config.non_cadastre_actor },
            ),
        };
        self.config
            .interventions
            .iter()
            .map(|kind| self.assign_one(&kind.id, manager, &manager_why, conventions_here, date))
            .collect()
    }

    /// The manager of a space outside every sub-sector for every intervention kind: no
    /// delegation applies, so the space goes by its owner (the non-cadastré actor where no
    /// parcel is), then the conventions, fixed and default rules as inside.
    #[must_use]
    pub fn assign_outside(&self, space: &SpaceKind, conventions_here: &[&str], date: Date) -> Vec<Assignment> {
        let decision = SubsectorDecision {
            subsector: String::new(),
            decision: Decision::Domanialite,
            needs_convention: false,
            reason: DecisionReason::Outside,
        };
        self.assign(&decision, space, conventions_here, date)
    }

    fn assign_one(
        &self,
        kind: &str,
        manager: Actor,
        manager_why: &ManagerReason,
        here: &[&str],
        date: Date,
    ) -> Assignment {
        let reason =
            |rule| AssignmentReason { kind: kind.to_owned(), manager: manager_why.clone(), actor: manager, rule };
        let mut valid: Vec<&Convention> = self
            .config
            .conventions
            .iter()
            .filter(|c| here.contains(&c.id.as_str()) && c.interventions.iter().any(|k| k == kind))
            .filter(|c| c.valid_from <= date && c.valid_to.is_none_or(|to| date <= to))
            .collect();
        valid.sort_by(|a, b| b.valid_from.cmp(&a.valid_from).then_with(|| a.id.cmp(&b.id)));
        if let Some(c) = valid.first() {
            let service = self.services[&c.service].clone();
            let expired: Vec<String> = self
                .config
                .conventions
                .iter()
                .filter(|o| {
                    here.contains(&o.id.as_str())
                        && o.interventions.iter().any(|k| k == kind)
                        && !valid.iter().any(|v| v.id == o.id)
                })
                .map(|o| o.id.clone())
                .collect();
            return Assignment {
                intervention: kind.to_owned(),
                actor: service.actor,
                reason: reason(RuleReason::Convention(Box::new(ConventionReason {
                    id: c.id.clone(),
                    parties: c.parties.clone(),
                    from: c.valid_from,
                    to: c.valid_to,
                    service: service.id.clone(),
                    prevails_over: valid[1..].iter().map(|c| c.id.clone()).collect(),
                    expired,
                    date,
                }))),
                service: Some(service),
                rule: RuleKind::Convention,
            };
        }
        if let Some(f) = self.config.fixed.iter().find(|f| f.intervention == kind) {
            let service = self.services[&f.service].clone();
            return Assignment {
                intervention: kind.to_owned(),
                actor: service.actor,
                reason: reason(RuleReason::Fixed { service: service.id.clone(), reason: f.reason.clone() }),
                service: Some(service),
                rule: RuleKind::Fixed,
            };
        }
        let default = self
            .config
            .defaults
            .iter()
            .find(|d| d.actor == manager && d.intervention == kind)
            .or_else(|| self.config.defaults.iter().find(|d| d.actor == manager && d.intervention == "*"));
        match default {
            Some(d) => {
                let service = self.services[&d.service].clone();
                Assignment {
                    intervention: kind.to_owned(),
                    actor: service.actor,
                    reason: reason(RuleReason::Default { service: service.id.clone() }),
                    service: Some(service),
                    rule: RuleKind::Default,
                }
            }
            None => Assignment {
                intervention: kind.to_owned(),
                service: None,
                actor: manager,
                rule: RuleKind::Unassigned,
                reason: reason(if manager.is_undetermined() {
                    RuleReason::UnknownOwner
                } else if manager == Actor::Indivision {
                    RuleReason::IndivisionNeedsConvention
                } else {
                    RuleReason::NoService
                }),
            },
        }
    }
}

/// What a decision amounts to, in a few words.
fn outcome(d: &SubsectorDecision) -> Outcome {
    match (&d.decision, d.needs_convention) {
        (Decision::Delegated { actor, .. }, _) => Outcome::Delegated { actor: *actor },
        (Decision::Domanialite, true) => Outcome::Convention,
        (Decision::Domanialite, false) => Outcome::Domanialite,
        (Decision::Undecided { .. }, _) => Outcome::Undecided,
    }
}

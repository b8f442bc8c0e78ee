//! Why a sub-sector is decided as it is and why a space goes to its manager, as data: which
//! rule, which actors with which shares, the threshold, the convention, the service. A reason
//! is said in a language only where it is shown (`explain`).

use std::sync::Arc;

use domania_core::Actor;
use jiff::civil::Date;
use serde::Serialize;

/// What a sub-sector's shares are a share of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Denominator {
    /// The whole sub-sector (non-cadastré space included).
    Subsector,
    /// Its cadastré land only.
    Cadastre,
}

/// A decision in a few words.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Delegated { actor: Actor },
    Convention,
    Domanialite,
    Undecided,
}

/// One way the undetermined land could be held that changes the decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flip {
    /// Who would hold the undetermined land, and which part of it.
    pub held_by: Vec<(Actor, f64)>,
    pub outcome: Outcome,
}

/// Why a sub-sector is decided as it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum DecisionReason {
    /// A space outside every sub-sector: managed by its owner.
    Outside,
    /// None of the delegation's actors holds land.
    NoneHolds { subsector: String, actors: Vec<Actor> },
    /// Only one of them does; the rule needs two.
    OnlyOne { subsector: String, actor: Actor, share: f64, denominator: Denominator, actors: Vec<Actor> },
    /// One holds more than the threshold.
    Delegated {
        subsector: String,
        actor: Actor,
        share: f64,
        threshold: f64,
        denominator: Denominator,
        figures: Vec<(Actor, f64)>,
    },
    /// Shared, nobody above the threshold: a convention is needed.
    Shared { subsector: String, threshold: f64, denominator: Denominator, figures: Vec<(Actor, f64)> },
    /// A decision that land of an undetermined owner cannot change.
    Unchanged { decision: Box<DecisionReason>, share: f64, area_m2: f64 },
    /// Land of an undetermined owner could change the decision: undecided.
    Undecided { subsector: String, share: f64, area_m2: f64, as_it_stands: Outcome, flips: Vec<Flip> },
}

/// Who manages a space before the intervention kind is looked at.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "manager", rename_all = "snake_case")]
pub enum ManagerReason {
    /// The sub-sector is delegated.
    Delegated { decision: Arc<DecisionReason> },
    /// The parcel's owner (gestion selon la domanialité).
    Parcel { decision: Arc<DecisionReason>, idu: String, actor: Actor },
    /// The non-cadastré space: the public domain's actor.
    NonCadastre { decision: Arc<DecisionReason>, actor: Actor },
}

/// Which rule gives the intervention kind its service.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum RuleReason {
    /// A convention in force whose perimeter holds the space (boxed: the other reasons are a
    /// third of its size, and a territory holds hundreds of thousands of them).
    Convention(Box<ConventionReason>),
    /// The kind always goes to one service (its reason from the rules file).
    Fixed { service: String, reason: String },
    /// The manager's default service.
    Default { service: String },
    /// The owner is not known: nobody can be named.
    UnknownOwner,
    /// No service is configured for the manager and the kind.
    NoService,
    /// The parcel is held in indivision by owners of different kinds and no rule names who acts
    /// for them: a convention between the co-owners must.
    IndivisionNeedsConvention,
}

/// The convention in force whose perimeter holds a space, for one intervention kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConventionReason {
    pub id: String,
    pub parties: Vec<String>,
    pub from: Date,
    pub to: Option<Date>,
    pub service: String,
    /// Other conventions in force here for the kind, which started earlier.
    pub prevails_over: Vec<String>,
    /// Conventions here for the kind, not in force on `date`.
    pub expired: Vec<String>,
    pub date: Date,
}

/// Why a space goes to its manager for one intervention kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssignmentReason {
    pub kind: String,
    pub manager: ManagerReason,
    /// The manager actor.
    pub actor: Actor,
    pub rule: RuleReason,
}

impl ManagerReason {
    /// The sub-sector's decision it starts from.
    #[must_use]
    pub fn decision(&self) -> &DecisionReason {
        match self {
            ManagerReason::Delegated { decision }
            | ManagerReason::Parcel { decision, .. }
            | ManagerReason::NonCadastre { decision, .. } => decision,
        }
    }
}

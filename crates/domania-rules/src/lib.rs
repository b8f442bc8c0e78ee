//! Management rules of Domania: who must clean, collect, mow, light or repair each space.
//!
//! Pure: the caller parses the TOML (see `data/rules.toml` for a commented example) into a
//! [`RulesConfig`], builds [`Rules`] (which checks every reference), then asks for the decision
//! of a sub-sector ([`Rules::decide_subsector`]) and the manager of each space for each kind of
//! intervention ([`Rules::assign`]). Every answer carries its explanation.
//!
//! Precedence, for one space and one intervention kind:
//! 1. a **convention** valid on the date, covering the intervention, whose perimeter holds the
//!    space (several: the one that started last wins, then the smallest id; the others are named
//!    in the explanation);
//! 2. a **fixed** service for the intervention, wherever the space is (e.g. waste → the CU's
//!    waste department);
//! 3. the **manager actor**: the delegated actor when the sub-sector is delegated, else the
//!    space's owner (*gestion selon la domanialité*), the configured public-domain actor for the
//!    non-cadastré remainder; then that actor's default service for the intervention, or its
//!    default for every intervention (`intervention = "*"`).
//!
//! Nothing found: the space is reported unassigned for that intervention, with the reason.

mod error;
mod eval;
mod explain;
mod model;
mod reason;

pub use error::{Result, RulesError};
pub use eval::{Assignment, Decision, RuleKind, Rules, SpaceKind, SubsectorDecision};
pub use model::{
    Category, Convention, DefaultRule, Delegation, FixedRule, Intervention, Referent, ReportsConfig, RulesConfig,
    Season, Service, ServiceLevel, UrgencyCriterion, Webhook,
};
pub use reason::{
    AssignmentReason, ConventionReason, DecisionReason, Denominator, Flip, ManagerReason, Outcome, RuleReason,
};

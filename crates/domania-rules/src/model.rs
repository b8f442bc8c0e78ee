//! The rules file, as typed data. Field docs are the schema's documentation.

use domania_core::Actor;
use serde::{Deserialize, Serialize};

/// The whole rules file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    pub delegation: Delegation,
    /// Actor that manages the non-cadastré remainder (public roads): the CU by default.
    #[serde(default = "default_public_actor")]
    pub non_cadastre_actor: Actor,
    /// Kinds of intervention.
    #[serde(rename = "intervention")]
    pub interventions: Vec<Intervention>,
    /// Directory of services.
    #[serde(rename = "service")]
    pub services: Vec<Service>,
    /// Services fixed for an intervention kind, wherever the space is.
    #[serde(default, rename = "fixed")]
    pub fixed: Vec<FixedRule>,
    /// Default service of an actor for an intervention kind (`"*"`: every kind).
    #[serde(default, rename = "default")]
    pub defaults: Vec<DefaultRule>,
    /// Management conventions.
    #[serde(default, rename = "convention")]
    pub conventions: Vec<Convention>,
}

fn default_public_actor() -> Actor {
    Actor::CommunauteUrbaine
}

/// The delegated-management rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delegation {
    /// Share (0–1) an actor must hold **strictly above** to manage the whole sub-sector.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// Actors between which the rule applies (it applies when at least two of them hold land in
    /// the sub-sector).
    #[serde(default = "default_actors")]
    pub actors: Vec<Actor>,
    /// Whether the non-cadastré remainder counts in the denominator of the shares. `false`
    /// (default): shares are fractions of the cadastré land, so a street does not dilute the
    /// owners; `true`: fractions of the whole sub-sector.
    #[serde(default)]
    pub include_non_cadastre: bool,
}

fn default_threshold() -> f64 {
    0.6
}
fn default_actors() -> Vec<Actor> {
    vec![Actor::BailleurSocial, Actor::CommunauteUrbaine]
}

/// A kind of intervention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intervention {
    pub id: String,
    pub label: String,
}

/// A service that can be called.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub direction: String,
    pub actor: Actor,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// A service fixed for an intervention kind wherever the space is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedRule {
    pub intervention: String,
    pub service: String,
    pub reason: String,
}

/// The default service of an actor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultRule {
    pub actor: Actor,
    /// An intervention id, or `"*"` for every kind.
    pub intervention: String,
    pub service: String,
}

/// A management convention: inside its perimeter and while valid, it gives intervention kinds
/// to a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Convention {
    /// Its reference; also the key of its perimeter in the `conventions` layer.
    pub id: String,
    pub parties: Vec<String>,
    pub interventions: Vec<String>,
    pub service: String,
    /// First day of validity (`"YYYY-MM-DD"` in the file; a day that does not exist, such as
    /// 2024-13-45, is refused when the file is read).
    pub valid_from: jiff::civil::Date,
    /// Last day of validity (none: open-ended).
    #[serde(default)]
    pub valid_to: Option<jiff::civil::Date>,
    /// Where the signed document is.
    #[serde(default)]
    pub document: String,
}

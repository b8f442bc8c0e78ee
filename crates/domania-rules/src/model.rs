//! The rules file, as typed data. Field docs are the schema's documentation.

use domania_core::Actor;
use serde::{Deserialize, Serialize};

/// The whole rules file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// The territory the rules are for, as its documents name it (`Communauté urbaine Grand
    /// Paris Seine & Oise`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub territory: Option<String>,
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
    /// How reports of dysfunctions are taken (duplicates, anonymous reports).
    #[serde(default)]
    pub reports: ReportsConfig,
    /// The categories a report can be made in (Open311 services), each of one intervention kind.
    #[serde(default, rename = "category")]
    pub categories: Vec<Category>,
    /// The delay expected for each intervention kind (stricter inside QPV, by season).
    #[serde(default, rename = "service_level")]
    pub service_levels: Vec<ServiceLevel>,
}

/// How reports of dysfunctions are taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportsConfig {
    /// A new report of the same intervention kind within this distance (metres) of an open one…
    #[serde(default = "default_duplicate_m")]
    pub duplicate_distance_m: f64,
    /// …and made within this many hours after it is linked to it as a duplicate.
    #[serde(default = "default_duplicate_h")]
    pub duplicate_window_hours: f64,
    /// Whether reports may be posted without a token (public reporting).
    #[serde(default)]
    pub anonymous: bool,
    /// The most reports one token, and one client address, may post in a minute (a client
    /// posting in a tight loop is answered 429 with Retry-After).
    #[serde(default = "default_posts_per_minute")]
    pub posts_per_minute: u32,
    /// The software of communes (or of anyone) told of every request and step, signed.
    #[serde(default, rename = "webhook", skip_serializing_if = "Vec::is_empty")]
    pub webhooks: Vec<Webhook>,
}

/// A receiver of the events of service requests: each is POSTed to `url` as JSON, signed with
/// HMAC-SHA256 by a secret the server reads from `DOMANIA_WEBHOOK_SECRET_<NAME>` (or the file
/// `DOMANIA_WEBHOOK_SECRET_<NAME>_FILE`), never from the rules (which are served).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// Its name (letters, digits, `_`): names its secret's variable.
    pub name: String,
    /// An `http://` or `https://` address.
    pub url: String,
    /// The communes (INSEE codes) whose requests it is told of; none: every request.
    #[serde(default)]
    pub communes: Vec<String>,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        Self {
            duplicate_distance_m: default_duplicate_m(),
            duplicate_window_hours: default_duplicate_h(),
            anonymous: false,
            posts_per_minute: default_posts_per_minute(),
            webhooks: Vec::new(),
        }
    }
}

fn default_duplicate_m() -> f64 {
    30.0
}
fn default_posts_per_minute() -> u32 {
    30
}
fn default_duplicate_h() -> f64 {
    72.0
}

/// A category of report (an Open311 service).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// The Open311 `service_code`.
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The intervention kind it calls for: the report goes to that kind's manager at the point.
    pub intervention: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Objective criteria that make a report of this category urgent (Open311 attributes).
    #[serde(default)]
    pub urgency: Vec<UrgencyCriterion>,
    /// A service that receives every report of this category directly, wherever it is (the
    /// waste department acting on waste reports), instead of the manager of the space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// An objective criterion of urgency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrgencyCriterion {
    /// The attribute code (`attribute[danger]=true`).
    pub code: String,
    pub description: String,
}

/// The delay expected for an intervention kind, in hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceLevel {
    pub intervention: String,
    pub hours: f64,
    /// Inside a QPV (default: `hours`).
    #[serde(default)]
    pub qpv_hours: Option<f64>,
    /// Variants for some months (the first that holds the month of the report wins).
    #[serde(default, rename = "season")]
    pub seasons: Vec<Season>,
}

/// A seasonal variant of a service level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Season {
    /// Months 1–12.
    pub months: Vec<u8>,
    pub hours: f64,
    #[serde(default)]
    pub qpv_hours: Option<f64>,
}

impl ServiceLevel {
    /// The hours expected for a report made in `month` (1–12), inside a QPV or not.
    #[must_use]
    pub fn hours(&self, month: u8, in_qpv: bool) -> f64 {
        let (h, q) = self
            .seasons
            .iter()
            .find(|s| s.months.contains(&month))
            .map_or((self.hours, self.qpv_hours), |s| (s.hours, s.qpv_hours));
        if in_qpv { q.unwrap_or(h) } else { h }
    }
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
    /// The people to call, by commune and intervention kind (the *annuaire*).
    #[serde(default, rename = "referent", skip_serializing_if = "Vec::is_empty")]
    pub referents: Vec<Referent>,
}

/// A person to call in a service: for one commune (INSEE code) or all of them, for some
/// intervention kinds or every kind the service does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Referent {
    pub name: String,
    #[serde(default)]
    pub role: String,
    /// INSEE code of the commune (none: every commune).
    #[serde(default)]
    pub commune: Option<String>,
    /// The kinds this person answers for (empty: every kind the service does).
    #[serde(default)]
    pub interventions: Vec<String>,
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

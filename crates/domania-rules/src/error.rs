//! Errors of the rules: a rules file that does not hold together.

/// Result type of `domania-rules`.
pub type Result<T, E = RulesError> = std::result::Result<T, E>;

/// A rules file that does not hold together; each names the rule at fault. Always the user's.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RulesError {
    #[error("delegation.threshold must be between 0 and 1 (a share), found {0}")]
    BadThreshold(f64),
    #[error("{rule}: unknown service {service:?}")]
    UnknownService { rule: String, service: String },
    #[error("{rule}: unknown intervention kind {intervention:?}")]
    UnknownIntervention { rule: String, intervention: String },
    #[error("two {what} have the id {id:?}")]
    DuplicateId { what: &'static str, id: String },
    #[error("convention {id}: {reason}")]
    BadConvention { id: String, reason: String },
    #[error("{rule}: {reason}")]
    BadReferent { rule: String, reason: String },
    #[error("reports: {0}")]
    BadReports(String),
}

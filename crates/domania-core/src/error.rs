//! Errors of the domain model.

/// Result type of `domania-core`.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;

/// A value that does not fit the domain model. Always the user's (or the input file's) fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// An IDU that is not 14 characters of the expected shape.
    #[error("invalid IDU {value:?}: {reason}")]
    InvalidIdu { value: String, reason: &'static str },
    /// An actor name that is not one of [`crate::Actor`]'s.
    #[error("unknown actor {0:?} (expected one of: {list})", list = crate::Actor::ALL.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", "))]
    UnknownActor(String),
    /// An override without a reason: every manual decision must say why.
    #[error("owner override for SIREN {siren} has an empty reason")]
    OverrideWithoutReason { siren: String },
}

//! Why a snapshot could not be built, and why a scenario or a perimeter cannot be applied.

use domania_store::StoreError;

/// Why a snapshot could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `holdings` and `parcels` differ in length (a bug of the caller).
    #[error("{parcels} parcels but {holdings} holdings")]
    Mismatch { parcels: usize, holdings: usize },
}

/// A transfer that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError(pub String);

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ScenarioError {}

//! Domania's engine: an immutable [`Snapshot`] of one consistent set of layers, and the
//! computations every use case asks of it, one concept per module: [`snapshot`] (loading and
//! indexing), [`shares`], [`assign`], [`scenario`], [`blocks`], [`perimeters`], [`error`].
//!
//! Steps of a build:
//! 1. [`Snapshot::load`] reads the current parcels, rights `P`, sub-sectors, QPV and convention
//!    perimeters from the store and classifies every owner;
//! 2. [`Snapshot::shares`] overlays parcels with a zone layer and sums land by actor and owner;
//! 3. [`Snapshot::assign`] applies the rules: a decision per sub-sector, then a manager per
//!    space and intervention kind, each with its explanation.
//!
//! Knows nothing of HTTP or of file formats.

pub mod assign;
pub mod blocks;
pub mod error;
mod geometry;
pub mod perimeters;
pub mod scenario;
pub mod shares;
pub mod snapshot;

pub use assign::{AssignReport, Cut, CutSpace, SpaceAssignment};
pub use blocks::{BLOCK_TOUCH_M, Block};
pub use error::{EngineError, ScenarioError};
pub use perimeters::{ManagedAreas, PerimeterDef, PerimeterFigures};
pub use scenario::{
    ManagerChange, NewOwner, ScenarioLimits, ScenarioReport, SubsectorChange, Transfer, TransferSummary, space_id,
};
pub use shares::{KeyedShares, SHARES_METHOD, SharesReport};
pub use snapshot::{Addresses, Ledger, ParcelRec, Snapshot, Splice, Zone};

//! Domain model of Domania: who owns a piece of ground and what kind of actor that is.
//!
//! This crate is pure: no file, network or database access, no environment variables.
//! Readers (`domania-io`), the store (`domania-store`) and everything above depend on it;
//! it depends on none of them. Geometry crosses its boundary as `geo-types`.

pub mod canonical;
pub mod classify;
pub mod crs;
pub mod error;
pub mod flat;
pub mod hash;
pub mod layer;
pub mod model;
pub mod overlay;
pub mod parts;
pub mod shares;
pub mod valid;

pub use classify::{
    Classification, ClassificationConfig, Classifier, Confidence, DecidedBy, OwnerPolicy, parcel_actor,
};
pub use error::{ModelError, Result};
pub use layer::{Layer, UnknownLayer};
pub use model::{Actor, Address, Idu, Owner, Parcel, Right, Siren, is_insee_code};

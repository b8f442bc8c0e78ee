//! The versioned store of Domania, with a history of every layer, on one of two engines: one
//! GeoPackage file that `ogrinfo` and QGIS open as they are (standard `gpkg_*` tables, SRS
//! 2154, GeoPackageBinary geometries, the R-tree spatial index extension), or a PostgreSQL/PostGIS
//! database partitioned by département, for territories past one machine.
//!
//! Depends on `domania-core` only; knows nothing of file formats or HTTP.
//!
//! Layout (each module imports only those above it in this list, never the reverse):
//! - [`error`], [`layer`], [`scope`], [`blob`]: the vocabulary (errors, layers and their rows,
//!   the parts of a layer an import replaces, the geometry bytes);
//! - [`model`]: what the store's users read (versions, scopes, diffs, stored rows, reports);
//! - [`location`]: where a store is and how long an opening waits for it;
//! - `records`, `contract`: the bookkeeping rows and the [`contract::Engine`] trait both
//!   engines implement (crate-private);
//! - [`sqlite`] and [`pg`]: the two engines, a folder each;
//! - `import`: one import as a transaction, the same for both engines;
//! - [`store`]: the [`Store`] façade, composing an engine's primitives into versions, history,
//!   diffs, rollbacks (`versions`), verification (`audit`) and copies (`copy`);
//! - [`served`]: the part of a territory one server holds; [`requests`]: the service requests
//!   (reports of dysfunctions), in a database of their own.

/// A query of the owner table's rights, with the columns both engines' `stored_right` read, in
/// their order: `rights_query!("WHERE …")`.
macro_rules! rights_query {
    ($rest:literal) => {
        concat!("SELECT idu, droit, siren, denomination, groupe, forme, forme_abregee FROM owners ", $rest)
    };
}

pub mod blob;
mod contract;
mod copy;
pub mod error;
mod import;
pub mod layer;
pub mod location;
pub mod model;
pub mod outbox;
pub mod pg;
mod records;
mod refusals;
pub mod requests;
pub mod scope;
pub mod served;
pub mod sqlite;
pub mod store;
mod verify;
mod versions;

pub use error::{Overflow, Result, StoreError};
pub use import::ImportTx;
pub use layer::{Layer, Row, Value, address_row, owner_rows, parcel_row, perimeter_row, space_row};
pub use location::{Location, Wait};
pub use model::{
    AlteredRow, CopyReport, Diff, EngineCheck, ImportMeta, ImportOptions, LayerSummary, MAX_REMOVED_DEFAULT, Miscount,
    OwnerContents, SavedEdit, SavedOp, ScopeInfo, StoreContents, StoredParcel, StoredPerimeter, StoredRight, TokenInfo,
    VerifyReport, VersionInfo, VersionReach,
};
pub use outbox::Delivery;
pub use requests::{
    Contact, EventRow, Nearby, PhotoRow, Recipient, RequestFilter, RequestRow, RequestStore, Rerouted, Status, Urgency,
    photo_path,
};
pub use scope::{Scope, ScopeKind};
pub use sqlite::gpkg;
pub use sqlite::lock::lock_holder;
pub use store::Store;

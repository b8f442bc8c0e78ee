//! The embedded versioned store of Domania: one GeoPackage file that `ogrinfo` and QGIS open
//! as they are (standard `gpkg_*` tables, SRS 2154, GeoPackageBinary geometries, the R-tree
//! spatial index extension), with a history of every layer.
//!
//! Depends on `domania-core` only; knows nothing of file formats or HTTP.

pub mod error;
pub mod gpkg;
pub mod layer;
pub mod reports;
pub mod scope;
pub mod store;

pub use error::{Result, StoreError};
pub use layer::{Layer, Row, Value, owner_rows, parcel_row, perimeter_row, space_row};
pub use reports::{EventRow, Nearby, ReportFilter, ReportRow, ReportStore, Rerouted};
pub use scope::{Scope, ScopeKind};
pub use store::{
    Diff, ImportMeta, ImportOptions, ImportTx, LayerSummary, MAX_REMOVED_DEFAULT, ScopeInfo, Store, StoreContents,
    StoredParcel, StoredPerimeter, StoredRight, TokenInfo, VersionInfo, Wait, lock_holder,
};

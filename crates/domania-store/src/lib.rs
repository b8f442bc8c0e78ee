//! The versioned store of Domania, with a history of every layer, on one of two engines: one
//! GeoPackage file that `ogrinfo` and QGIS open as they are (standard `gpkg_*` tables, SRS
//! 2154, GeoPackageBinary geometries, the R-tree spatial index extension), or a PostgreSQL/PostGIS
//! database partitioned by département, for territories past one machine.
//!
//! Depends on `domania-core` only; knows nothing of file formats or HTTP.

pub mod error;
pub mod gpkg;
pub mod layer;
pub mod pg;
mod pg_env;
mod pg_tls;
pub mod reports;
pub mod scope;
pub mod served;
mod sqlite;
pub mod store;

pub use error::{Result, StoreError};
pub use layer::{Layer, Row, Value, owner_rows, parcel_row, perimeter_row, space_row};
pub use reports::{EventRow, Nearby, ReportFilter, ReportRow, ReportStore, Rerouted};
pub use scope::{Scope, ScopeKind};
pub use sqlite::lock_holder;
pub use store::{
    AlteredRow, CopyReport, Diff, ImportMeta, ImportOptions, ImportTx, LayerSummary, Location, MAX_REMOVED_DEFAULT,
    Miscount, ScopeInfo, Store, StoreContents, StoredParcel, StoredPerimeter, StoredRight, TokenInfo, VerifyReport,
    VersionInfo, Wait,
};

//! The application layer of Domania: every use case, once, for every front end.
//!
//! The command line (`domania-cli`) and the HTTP server parse their input, call an [`App`]
//! method and present the typed result it returns; none of them computes anything. Each result
//! is a `Serialize` struct (JSON and CSV come from the same fields), each failure an
//! [`AppError`] with a stable [`ErrorCode`].
//!
//! - [`import`]: reading a file into a new version of a layer (a reader thread, the writer,
//!   the file's hash), with a progress callback; validating a file without importing it.
//! - [`store`]: the store's layers, versions, scopes, diffs, rollbacks and dump.
//! - [`query`]: one parcel, every owner.
//! - [`compute`]: shares, the management rules and the spaces layer, the QPV and TFPB
//!   reports, scenarios, perimeters, blocks, the demo.
//! - [`geojson`]: typed GeoJSON FeatureCollections in WGS84 (RFC 7946).
//! - [`files`]: the TOML files a territory is described by (rules, territory, scenarios,
//!   perimeters) and dates.

pub mod addresses;
pub mod assign;
pub mod blocks;
pub mod budget;
pub mod colour;
pub mod communes;
pub mod demo;
pub mod documents;
pub mod edits;
pub mod error;
pub mod export;
pub mod features;
pub mod files;
pub mod follow;
pub mod geojson;
pub mod held;
pub mod import;
pub mod kept;
pub mod labels;
pub mod said;
/// Languages and figures (French by default): the `domania-i18n` crate.
pub use domania_i18n as i18n;
pub mod owners;
pub mod parcels;
pub mod perimeters;
pub mod point;
pub mod printed;
pub mod qpv;
pub mod reach;
pub mod requests;
pub mod scenario;
pub mod search;
pub mod shares;
pub mod styles;
pub mod subsectors;
pub mod synth;
pub mod table;
pub mod temporary;
pub mod territory;
pub mod text;
pub mod tiles;
pub mod tokens;
pub mod upload;
pub mod versions;
pub mod who;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use domania_core::Classifier;
use domania_engine::Snapshot;
use domania_store::{Store, Wait};

pub use domania_core::crs::Crs;
pub use domania_core::hash::fnv1a;
pub use domania_core::{Actor, Idu, Layer};
pub use domania_io::geometry::InvalidPolicy;
pub use domania_store::{
    Diff, EngineCheck, LayerSummary, Location, Scope, ScopeInfo, ScopeKind, TokenInfo, VersionInfo,
};
pub use error::{AppError, Audience, Context, ErrorCode, ErrorKind, Result, Said};
pub use jiff::civil::Date;

/// What a use case is told when the store is busy and it waits (the CLI prints it).
pub type OnWait = Arc<dyn Fn(&str) + Send + Sync>;

/// The application on one store: where the store is, how long to wait for it, and the
/// territory's owner classification.
#[derive(Clone)]
pub struct App {
    store: Location,
    /// Where reports of dysfunctions are kept, when not beside a GeoPackage store.
    pub(crate) reports: Option<PathBuf>,
    /// A read replica of a PostGIS store: reads go there, writes to `store`.
    replica: Option<Location>,
    /// The part of the territory a server serves (départements or communes); all by default.
    served: Option<Scope>,
    wait: Duration,
    on_wait: OnWait,
    territory: Option<PathBuf>,
    classifier: Arc<Classifier>,
    /// Where snapshot files are kept, when not in the default place (see [`kept`]).
    snapshot_dir: Option<PathBuf>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("store", &self.store).field("territory", &self.territory).finish_non_exhaustive()
    }
}

impl App {
    /// The application on the store at `store` (a GeoPackage path or a `postgresql://` URL),
    /// classifying owners with the territory file `territory` (none: the PPM layers alone).
    pub fn new(store: impl Into<Location>, territory: Option<&Path>) -> Result<Self> {
        Ok(Self {
            store: store.into(),
            reports: None,
            replica: None,
            served: None,
            wait: Duration::from_secs(30),
            on_wait: Arc::new(|_| {}),
            territory: territory.map(Path::to_path_buf),
            classifier: Arc::new(files::classifier(territory)?),
            snapshot_dir: None,
        })
    }

    /// Waits up to `timeout` for a store another process is writing, telling `on_wait` once.
    #[must_use]
    pub fn with_wait(mut self, timeout: Duration, on_wait: OnWait) -> Self {
        self.wait = timeout;
        self.on_wait = on_wait;
        self
    }

    /// The same application with another territory file.
    pub fn with_territory(mut self, territory: Option<&Path>) -> Result<Self> {
        self.classifier = Arc::new(files::classifier(territory)?);
        self.territory = territory.map(Path::to_path_buf);
        Ok(self)
    }

    /// Keeps the reports of dysfunctions in the SQLite file `path` (by default, beside a
    /// GeoPackage store, and in a PostGIS store's own database).
    #[must_use]
    pub fn with_reports(mut self, path: Option<PathBuf>) -> Self {
        self.reports = path;
        self
    }

    /// Reads from `replica` (a PostGIS streaming replica of the store), writes to the store.
    #[must_use]
    pub fn with_replica(mut self, replica: Option<Location>) -> Self {
        self.replica = replica;
        self
    }

    /// Snapshots hold the part `scope` of the territory (départements or communes, with every
    /// zone meeting it whole: see `domania_store::served`).
    #[must_use]
    pub fn with_served_scope(mut self, scope: Option<Scope>) -> Self {
        self.served = scope;
        self
    }

    /// The part of the territory snapshots hold (`None`: all of it).
    #[must_use]
    pub fn served_scope(&self) -> Option<&Scope> {
        self.served.as_ref()
    }

    /// Where reads go: the replica when one is configured, else the store.
    #[must_use]
    pub fn read_location(&self) -> &Location {
        self.replica.as_ref().unwrap_or(&self.store)
    }

    /// Where the store is.
    #[must_use]
    pub fn store_path(&self) -> &Location {
        &self.store
    }

    #[must_use]
    pub fn classifier(&self) -> &Classifier {
        &self.classifier
    }

    pub(crate) fn with_store_wait<T>(&self, f: impl FnOnce(&Wait<'_>) -> T) -> T {
        let on_wait = Arc::clone(&self.on_wait);
        let tell = move |m: &str| on_wait(m);
        f(&Wait { timeout: self.wait, on_wait: &tell })
    }

    /// Opens the store for a use case that only reads: read-only, never created or changed.
    pub fn open_read(&self) -> Result<Store> {
        Ok(self.with_store_wait(|w| Store::open_read_at(self.read_location(), w))?)
    }

    /// Opens an existing store for writing.
    pub fn open_write(&self) -> Result<Store> {
        Ok(self.with_store_wait(|w| Store::open_write_at(&self.store, w))?)
    }

    /// Opens the store for an import, creating it when nothing is at the path (with `adopt`,
    /// adding Domania's layers to a GeoPackage of the user's).
    pub fn open_create(&self, adopt: bool) -> Result<Store> {
        Ok(self.with_store_wait(|w| Store::create_at(&self.store, adopt, w))?)
    }

    /// One consistent, immutable snapshot of the store (one read transaction), owners
    /// classified. A server holds it behind an `Arc` and swaps it after an update.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let store = self.open_read()?;
        let loaded = match &self.served {
            None => Snapshot::load(&store, &self.classifier),
            Some(scope) => Snapshot::load_scoped(&store, &self.classifier, scope),
        };
        loaded.context(|| format!("loading {}", self.read_location()))
    }

    /// The current version of every layer, where reads go.
    pub fn versions(&self) -> Result<std::collections::BTreeMap<Layer, Option<i64>>> {
        Ok(self.open_read()?.versions()?)
    }

    /// A snapshot with only the parcels that meet the zones of `zones` (work inside those
    /// zones: shares, assignments, reports, blocks), read through the store's R-trees.
    pub fn snapshot_for(&self, zones: Layer) -> Result<Snapshot> {
        let store = self.open_read()?;
        Snapshot::load_for_zones(&store, &self.classifier, zones)
            .context(|| format!("loading {}", self.store.display()))
    }
}

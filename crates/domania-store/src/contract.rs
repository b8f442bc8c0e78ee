//! The contract both engines implement: [`Engine`], what the [`crate::Store`] façade asks of a
//! GeoPackage file ([`crate::sqlite`]) or a PostGIS database ([`crate::pg`]); [`Writer`], the
//! writing half of one import; [`RawSink`], the writing half of a copy.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::Result;
use crate::layer::{Layer, Row};
use crate::model::{SavedEdit, StoreContents, StoredParcel, StoredPerimeter, StoredRight, TokenInfo};
use crate::records::{HashRow, RawRow, ReachRecord, RulesRecord, ScopeRecord, TokenRecord, VersionRecord};

/// The rights `P` of a commune's parcels and their street addresses
/// ([`Engine::owners_of_commune`]).
pub(crate) type CommuneOwners = (Vec<StoredRight>, Vec<(String, String)>);

/// What a store's engine does: the primitive reads and writes of the model (see
/// [`crate::store`]); the façade composes them into versions, histories, diffs, rollbacks,
/// verifications and copies, the same for both engines. Every method reads or writes the
/// engine's own tables and nothing else; none decides anything the other engine would decide
/// differently.
pub(crate) trait Engine: Send {
    /// Opened for writing (holding the writers' lock).
    fn is_writer(&self) -> bool;
    /// Whether the engine is a PostgreSQL database.
    fn is_postgres(&self) -> bool;
    /// Latest version number of a layer (`None` before its first import).
    fn latest_version(&self, layer: Layer) -> Result<Option<i64>>;
    /// The version records of a layer (all layers for `None`), by layer and version.
    fn version_records(&self, layer: Option<Layer>) -> Result<Vec<VersionRecord>>;
    /// The scope records of a layer (all layers for `None`).
    fn scope_records(&self, layer: Option<Layer>) -> Result<Vec<ScopeRecord>>;
    /// The reach records of a layer (all layers for `None`), by layer and version (none for a
    /// store older than them).
    fn reach_records(&self, layer: Option<Layer>) -> Result<Vec<ReachRecord>>;
    /// The keys of the current rows of a layer.
    fn keys(&self, layer: Layer) -> Result<Vec<String>>;
    /// The hashes of every row of a layer, current and history.
    fn hash_rows(&self, layer: Layer) -> Result<Vec<HashRow>>;
    /// (current rows, history rows) of a layer.
    fn counts(&self, layer: Layer) -> Result<(i64, i64)>;
    /// The full rows valid at `version`.
    fn rows_at(&self, layer: Layer, version: i64) -> Result<Vec<Row>>;
    fn parcel(&self, idu: &str) -> Result<Option<StoredParcel>>;
    fn rights_of(&self, idu: &str) -> Result<Vec<StoredRight>>;
    fn rights_with_code(&self, right: domania_core::Right) -> Result<Vec<StoredRight>>;
    /// The street addresses of the owners layer, `(IDU, address)`, each pair once.
    fn street_addresses(&self) -> Result<Vec<(String, String)>>;
    /// Every current parcel, or those whose boxes meet a zone of `zones`.
    fn parcels_meeting(&self, zones: Option<Layer>) -> Result<Vec<StoredParcel>>;
    fn perimeters(&self, layer: Layer) -> Result<Vec<StoredPerimeter>>;
    fn departements(&self) -> Result<Vec<String>>;
    fn owner_coverage(&self) -> Result<BTreeSet<String>>;
    /// The latest `updated` date of the current parcels (the cadastre's own dates), if any has.
    fn cadastre_updated(&self) -> Result<Option<String>>;
    fn owner_file_covers(&self, commune: &str) -> Result<bool>;
    /// What a server of some départements reads, when the engine can read only those (the
    /// partitions of a database); `None`: read everything and restrict.
    fn read_departements(&self, _deps: &BTreeSet<String>) -> Result<Option<StoreContents>> {
        Ok(None)
    }
    /// The rights `P` of the parcels of `commune` and their street addresses (`(IDU, address)`,
    /// each pair once, in the order of [`Engine::street_addresses`]): one range of the owners'
    /// IDU index.
    fn owners_of_commune(&self, commune: &str) -> Result<CommuneOwners>;
    /// The current parcels of `commune`, in the order of a full read (their fids): one range of
    /// the parcels' key index.
    fn parcels_of_commune(&self, commune: &str) -> Result<Vec<StoredParcel>>;
    /// The owners' rights `P` of some départements and the communes they cover, when the
    /// engine can read only those (the partitions of a database); `None`: read them all.
    fn owners_of_departements(&self, _deps: &[&str]) -> Result<Option<(Vec<StoredRight>, BTreeSet<String>)>> {
        Ok(None)
    }
    fn begin_read(&self) -> Result<()>;
    fn end_read(&self) -> Result<()>;
    fn create_token(&mut self, name: &str, role: &str, secret_sha256: &str) -> Result<()>;
    fn token_records(&self) -> Result<Vec<TokenRecord>>;
    fn token_by_hash(&self, secret_sha256: &str) -> Result<Option<TokenInfo>>;
    fn set_hashes(&mut self, rows: &BTreeMap<Layer, Vec<(&str, i64, i64)>>) -> Result<usize>;
    fn revoke_token(&mut self, name: &str) -> Result<bool>;
    fn save_rules(&mut self, toml: &str, author: &str) -> Result<i64>;
    fn rules_records(&self) -> Result<Vec<RulesRecord>>;
    /// The engine's own check: `ok`, or what is wrong.
    fn integrity_check(&self) -> Result<String>;
    /// Opens the writer of a new version of `layer`. With `absorb` (the journal's last entry
    /// read with the edited rows), the layer is first put back as it was before the edits an
    /// editor saved into the file, so that the version archives what they replaced.
    fn writer(&mut self, layer: Layer, absorb: Option<i64>) -> Result<Begun<'_>>;
    /// Whether editors' saves are journaled (a store made by an older Domania gets its
    /// triggers or views at its next opening for writing).
    fn edits_journaled(&self) -> Result<bool> {
        Ok(true)
    }
    /// The journal's last entry when an editor's saves into `layer` wait to become a version
    /// (a GeoPackage edited in QGIS); never on a database.
    fn last_edit(&self, _layer: Layer) -> Result<Option<i64>> {
        Ok(None)
    }
    /// The saving transactions of `layer` waiting in a database's journal (QGIS on the views
    /// of `domania_edit`), oldest first; never in a file.
    fn saved_edits(&self, _layer: Layer) -> Result<Vec<SavedEdit>> {
        Ok(Vec::new())
    }
    /// Refuses the saves journaled up to `upto`: `layer` is put back as it was before them.
    /// Returns false when more was saved since (nothing is done).
    fn discard_edits(&mut self, _layer: Layer, _upto: i64) -> Result<bool> {
        Ok(true)
    }
    /// Every stored row of a layer (current, or history), in chunks.
    fn raw_rows(&self, layer: Layer, history: bool, each: &mut dyn FnMut(Vec<RawRow>) -> Result<()>) -> Result<()>;
    /// The writer of a copy into this (empty) store.
    fn raw_sink(&mut self) -> Result<Box<dyn RawSink + '_>>;
    /// Removes what this opening created if it holds no version (a file; never a database).
    fn discard_if_new(self: Box<Self>) {}
}

/// The writing half of an engine for one import: [`ImportTx`] decides, the writer writes.
pub(crate) trait Writer {
    /// The current rows (key, fid, geometry hash, attribute hash) of the département `dep`, or
    /// of the whole layer for `None`. An engine may give more than asked, never a row twice.
    fn current(&mut self, dep: Option<&str>) -> Result<Vec<(String, i64, i64, i64)>>;
    /// Writes a row of the new version: a new row, or (with the fid of the row it replaces) a
    /// changed one, whose old state goes to the history first.
    fn put(&mut self, row: Row, replaces: Option<i64>, ghash: i64, ahash: i64) -> Result<()>;
    /// Moves the rows of `fids` (with their keys) to the history: they are not in the new
    /// version.
    fn retire(&mut self, fids: &[(i64, String)]) -> Result<()>;
    /// The envelope (`[minx, maxx, miny, maxy]`) of the shapes this import moved to the
    /// history so far, as they were (`None`: none with a shape).
    fn archived_envelope(&self) -> Option<[f64; 4]>;
    /// Records the version, its scopes and its reach (spatial layers), and returns its
    /// `created_at`.
    fn finish(&mut self, version: &VersionRecord, scopes: &[ScopeRecord], reach: Option<ReachRecord>)
    -> Result<String>;
    /// The `created_at` of a version already written.
    fn created_at(&mut self, version: i64) -> Result<Option<String>>;
    fn commit(self: Box<Self>) -> Result<()>;
}

/// The writing half of an engine for a copy into an empty store.
pub(crate) trait RawSink {
    fn rows(&mut self, layer: Layer, rows: Vec<RawRow>) -> Result<()>;
    fn records(
        &mut self,
        versions: &[VersionRecord],
        scopes: &[ScopeRecord],
        reach: &[ReachRecord],
        tokens: &[TokenRecord],
        rules: &[RulesRecord],
    ) -> Result<()>;
    fn commit(self: Box<Self>) -> Result<()>;
}

/// What an engine opens an import with: its writer, and the number of the new version.
pub(crate) type Begun<'a> = (Box<dyn Writer + 'a>, i64);

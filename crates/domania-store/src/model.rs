//! The store's data as its users see it: versions, scopes, layers, diffs, stored rows, tokens,
//! import options, and what a copy or a verification found. Plain data, no engine.

use std::collections::{BTreeMap, BTreeSet};

use geo_types::MultiPolygon;
use serde::Serialize;

use crate::layer::Layer;
use crate::scope::{Scope, ScopeKind};

/// Who imports what: recorded with the version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportMeta {
    pub author: String,
    /// Source file path (or a description for rollbacks).
    pub source: String,
    pub source_sha256: Option<String>,
    pub rejected: usize,
    pub repaired: usize,
    /// The validation report, as JSON.
    pub report_json: Option<String>,
}

/// One version of one layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionInfo {
    pub layer: Layer,
    pub version: i64,
    /// `import` or `rollback`.
    pub kind: String,
    /// True when the import changed nothing: no version was written, `version` is the current
    /// one.
    pub unchanged: bool,
    /// What the version replaced: `commune=91216`, `departement=75,78`, `layer`…
    pub scope: String,
    pub author: String,
    pub created_at: String,
    pub source: String,
    pub source_sha256: Option<String>,
    pub features: i64,
    pub added: i64,
    pub removed: i64,
    pub changed: i64,
    pub reshaped: i64,
    pub rejected: i64,
    pub repaired: i64,
}

/// One part of a layer (a commune, a département…) and the version that last replaced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeInfo {
    pub scope_kind: ScopeKind,
    /// The code (`91216`, `75`), empty for a whole-layer import.
    pub scope: String,
    pub version: i64,
    /// `import` or `rollback`.
    pub kind: String,
    pub created_at: String,
    pub author: String,
    pub source: String,
    pub source_sha256: Option<String>,
    /// Rows of the layer in this part now.
    pub features: i64,
}

/// Current state of a layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerSummary {
    pub layer: Layer,
    pub version: Option<i64>,
    pub features: i64,
    pub history_rows: i64,
}

/// What changed between two versions of a layer, by key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub from: i64,
    pub to: i64,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Geometry changed.
    pub reshaped: Vec<String>,
    /// Attributes changed, geometry unchanged.
    pub attributes_changed: Vec<String>,
    /// Owners layer only: parcels (IDU) whose set of rights changed, i.e. a (right, SIREN, name)
    /// appeared or disappeared. A change of groupe, forme or SUF row count is in
    /// `attributes_changed` only.
    pub parcels_with_owner_changes: Vec<String>,
}

/// What a version of a layer reached ([`crate::Store::reaches`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionReach {
    pub version: i64,
    /// What it replaced.
    pub scope: crate::scope::Scope,
    /// The box (Lambert-93 `[xmin, ymin, xmax, ymax]`, whole metres rounded outwards) of the
    /// shapes it changed, as they were and as they are; `None` when unknown.
    pub envelope: Option<[i64; 4]>,
}

/// A stored parcel with its version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredParcel {
    pub idu: String,
    pub contenance: Option<i64>,
    pub geom_l93: MultiPolygon<f64>,
    pub v_from: i64,
    /// Its row's number in the store: the order of a full read (an import keeps a replaced
    /// parcel's, and numbers its new parcels after every current one).
    pub fid: i64,
}

/// A stored perimeter.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPerimeter {
    pub key: String,
    pub name: Option<String>,
    pub properties_json: String,
    pub geom_l93: MultiPolygon<f64>,
}

/// A stored right of a legal person on a parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredRight {
    pub idu: String,
    /// The *code droit*: only [`domania_core::Right::Proprietaire`] makes an owner.
    pub droit: domania_core::Right,
    pub siren: String,
    pub denomination: String,
    pub groupe: Option<u8>,
    pub forme: Option<String>,
    pub forme_abregee: Option<String>,
}

/// The current state of a store, read at once (see [`Store::read_all`]).
#[derive(Debug, Clone, Default)]
pub struct StoreContents {
    pub parcels: Vec<StoredParcel>,
    /// Rights `P` (owners).
    pub owner_rights: Vec<StoredRight>,
    /// See [`Store::owner_coverage`].
    pub owner_coverage: BTreeSet<String>,
    pub subsectors: Vec<StoredPerimeter>,
    pub qpv: Vec<StoredPerimeter>,
    pub conventions: Vec<StoredPerimeter>,
    /// The addresses of the BAN (read with the whole territory, not for work in zones).
    pub addresses: Vec<domania_core::Address>,
    /// The street addresses the owner file gives its parcels, `(IDU, address)`, each pair once
    /// (read with the addresses).
    pub street_addresses: Vec<(String, String)>,
    /// The current version of each layer (`None` before its first import).
    pub versions: BTreeMap<Layer, Option<i64>>,
}

/// The owners' side of a store, read at once without the shapes (see [`Store::read_owners`]):
/// what a snapshot needs after a version of the owners alone.
#[derive(Debug, Clone, Default)]
pub struct OwnerContents {
    /// Rights `P`, sorted as [`StoreContents::owner_rights`].
    pub owner_rights: Vec<StoredRight>,
    /// See [`Store::owner_coverage`].
    pub owner_coverage: BTreeSet<String>,
    /// See [`StoreContents::street_addresses`].
    pub street_addresses: Vec<(String, String)>,
    /// The current version of each layer.
    pub versions: BTreeMap<Layer, Option<i64>>,
}

/// An API token as the store keeps it (its secret's hash is never given out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub name: String,
    pub role: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

impl StoredRight {
    /// The owner as the classifier takes it.
    #[must_use]
    pub fn owner(&self) -> domania_core::Owner {
        domania_core::Owner {
            siren: domania_core::Siren::new(&self.siren),
            name: self.denomination.clone(),
            groupe: self.groupe,
            forme: self.forme.clone(),
            forme_abregee: self.forme_abregee.clone(),
        }
    }
}

/// One saving transaction of an editor (QGIS on a database store's views), waiting to become
/// a version: its token (the transaction), its author (the database role) and what it did.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedEdit {
    pub token: i64,
    pub author: Option<String>,
    pub ops: Vec<SavedOp>,
}

/// One row an editor saved: a feature drawn, a feature (by its key before the save) changed,
/// or removed.
#[derive(Debug, Clone, PartialEq)]
pub enum SavedOp {
    Insert(StoredPerimeter),
    Update { key: String, now: StoredPerimeter },
    Delete { key: String },
}

/// What an import replaces and what it may remove.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportOptions {
    pub scope: Scope,
    /// The largest share (0–1) of a scope's current rows an import may remove without `force`.
    pub max_removed: f64,
    /// Accept an import the guard would refuse (a scope losing more than `max_removed` of its
    /// rows; with an explicit scope, an empty file that empties it).
    pub force: bool,
    /// The layer's version this import was made from (0: none yet), for an edit made on the
    /// rows of that version: checked under the writers' lock, so an edit is never written over
    /// another it did not see. `None`: not checked.
    pub expect_latest: Option<i64>,
    /// The edits an editor saved into the store's file, up to this entry of their journal,
    /// become this version (see [`crate::Store::last_edit`]); checked under the writers' lock.
    pub absorb: Option<i64>,
}

/// Default of [`ImportOptions::max_removed`]: a yearly cadastre of a commune removes a few
/// per cent of its parcels (divisions, mergers); losing a fifth is a wrong or partial file far
/// more often than a real change.
pub const MAX_REMOVED_DEFAULT: f64 = 0.2;

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            scope: Scope::layer(),
            max_removed: MAX_REMOVED_DEFAULT,
            force: false,
            expect_latest: None,
            absorb: None,
        }
    }
}

impl ImportOptions {
    /// The default options of a layer: its default scope, derived from the imported rows.
    #[must_use]
    pub fn for_layer(layer: Layer) -> Self {
        let kind = ScopeKind::default_for(layer);
        Self { scope: if kind == ScopeKind::Layer { Scope::layer() } else { Scope::touched(kind) }, ..Self::default() }
    }
}

/// What `store copy` moved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CopyReport {
    pub from: String,
    pub to: String,
    pub versions: usize,
    pub tokens: usize,
    pub rules_versions: usize,
    /// Per layer: (current rows, history rows).
    pub layers: BTreeMap<String, (usize, usize)>,
}

/// What [`Store::verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub store: String,
    /// The engine's own check (`PRAGMA integrity_check`, the partitions of a database).
    pub engine: EngineCheck,
    /// Per layer: rows read (current, history).
    pub layers: BTreeMap<String, (usize, usize)>,
    /// The rows that are not what Domania wrote: their content no longer matches the hashes
    /// written with them (an edit in QGIS, sqlite3 or psql, outside any version).
    pub altered: Vec<AlteredRow>,
    /// The layers whose row counts are not what their versions add up to: rows deleted or
    /// added outside Domania.
    pub miscounted: Vec<Miscount>,
}

impl VerifyReport {
    /// Whether the engine is sound and every row is as Domania wrote it.
    #[must_use]
    pub fn is_sound(&self) -> bool {
        self.engine == EngineCheck::Sound && self.altered.is_empty() && self.miscounted.is_empty()
    }
}

/// What the engine's own check found: nothing (`ok` in JSON), or what is wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum EngineCheck {
    #[default]
    Sound,
    Faults(String),
}

impl EngineCheck {
    /// `ok` (the word SQLite's `PRAGMA integrity_check` gives) is sound; any other answer
    /// says what is wrong.
    #[must_use]
    pub fn of(answer: String) -> Self {
        if answer == "ok" { EngineCheck::Sound } else { EngineCheck::Faults(answer) }
    }
}

impl std::fmt::Display for EngineCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineCheck::Sound => f.write_str("ok"),
            EngineCheck::Faults(what) => f.write_str(what),
        }
    }
}

impl Serialize for EngineCheck {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A layer whose rows are not as many as its versions say. Every version records how many rows
/// it added, removed and changed; a removed or changed row goes to the history. So the current
/// rows are the sum of `added − removed`, and the history rows the sum of `removed + changed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Miscount {
    pub layer: Layer,
    /// Current rows: found, and what the versions add up to.
    pub current: (usize, i64),
    /// History rows: found, and what the versions add up to.
    pub history: (usize, i64),
}

/// A row changed outside Domania.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlteredRow {
    pub layer: Layer,
    pub key: String,
    /// The version that wrote the row.
    pub v_from: i64,
    /// For a row of the history, the version that replaced it.
    pub v_to: Option<i64>,
    /// Whether its geometry, and its attributes, differ from what was written.
    pub geometry: bool,
    pub attributes: bool,
    /// The hashes of what it holds now (geometry, attributes).
    #[serde(skip)]
    pub now: (i64, i64),
}

/// Rights by parcel, then SIREN and name.
pub(crate) fn sort_rights(rights: &mut [StoredRight]) {
    rights.sort_unstable_by(|a, b| {
        (&a.idu, &a.siren, &a.denomination, a.droit.code()).cmp(&(&b.idu, &b.siren, &b.denomination, b.droit.code()))
    });
}

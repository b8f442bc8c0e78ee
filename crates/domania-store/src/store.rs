//! The versioned store, on one of two engines: a GeoPackage file ([`crate::sqlite`]) for a
//! communauté urbaine, or a PostgreSQL/PostGIS database ([`crate::pg`]) shared by many servers.
//!
//! Both keep the same model. Each layer is two tables: `<layer>` holds the current version (what
//! QGIS and `ogrinfo` show, spatially indexed), `<layer>_history` holds every row a later
//! version replaced or removed, with the version range it was valid in (`v_from` ≤ v < `v_to`).
//! A row of the current table is valid from `v_from` on. The rows of version V are therefore
//! `current WHERE v_from <= V` plus `history WHERE v_from <= V AND v_to > V`.
//!
//! An import is one transaction: [`ImportTx`] compares the new rows with the current ones by
//! key and content hash (the same code for both engines), the engine's writer moves replaced
//! and removed rows to the history, writes the new ones and records the version in
//! `domania_versions`. Killed at any moment, the store holds the previous version, whole.
//!
//! [`Store`] only composes: it holds an engine behind the [`Engine`] contract and turns its
//! primitives into the operations of the model (here the openings, imports, reads, tokens and
//! rules; the history in `versions`, verification in `verify`, copies in `copy`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::contract::Engine;
use crate::error::{Result, StoreError};
use crate::import::ImportTx;
use crate::layer::{Layer, Row};
use crate::location::{Location, Wait};
use crate::model::{
    ImportMeta, ImportOptions, OwnerContents, StoreContents, StoredParcel, StoredPerimeter, StoredRight, TokenInfo,
    VersionInfo, sort_rights,
};
use crate::pg::PgDb;
use crate::records::RawRow;
use crate::scope::Scope;
use crate::sqlite::GpkgDb;

/// A Domania store: a GeoPackage file or a PostGIS database.
pub struct Store {
    pub(crate) db: Box<dyn Engine>,
    pub(crate) location: Location,
}

impl Store {
    fn gpkg(db: GpkgDb) -> Self {
        let location = Location::File(db.path().to_path_buf());
        Self { db: Box::new(db), location }
    }

    /// Opens an existing GeoPackage store for reading only: nothing in the file can change, it
    /// may be read-only, and a missing path, an empty file or a foreign GeoPackage is an error.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_read(path, &Wait::default())
    }

    /// [`Store::open`], waiting at most `wait` for a writer that is committing.
    pub fn open_read(path: &Path, wait: &Wait<'_>) -> Result<Self> {
        GpkgDb::open_read(path, wait).map(Self::gpkg)
    }

    /// Opens an existing GeoPackage store for writing (rollback, the spaces layer): the writer
    /// lock is taken first, waiting at most `wait.timeout` for another writer.
    pub fn open_write(path: &Path, wait: &Wait<'_>) -> Result<Self> {
        GpkgDb::open_write(path, wait).map(Self::gpkg)
    }

    /// Opens a GeoPackage store for an import, creating a new one when nothing is at `path`. A
    /// foreign GeoPackage gets Domania's tables only with `adopt` (and never when one of its
    /// tables has a Domania layer's name); an empty file is refused.
    pub fn create(path: &Path, adopt: bool, wait: &Wait<'_>) -> Result<Self> {
        GpkgDb::create(path, adopt, wait).map(Self::gpkg)
    }

    /// Opens the store at `location` for reading only.
    pub fn open_read_at(location: &Location, wait: &Wait<'_>) -> Result<Self> {
        match location {
            Location::File(p) => Self::open_read(p, wait),
            Location::Postgres(url) => {
                Ok(Self { db: Box::new(PgDb::open(url, false, wait)?), location: location.clone() })
            }
        }
    }

    /// Opens the existing store at `location` for writing (see [`Store::open_write`]).
    pub fn open_write_at(location: &Location, wait: &Wait<'_>) -> Result<Self> {
        match location {
            Location::File(p) => Self::open_write(p, wait),
            Location::Postgres(url) => {
                Ok(Self { db: Box::new(PgDb::open(url, true, wait)?), location: location.clone() })
            }
        }
    }

    /// Opens the store at `location` for an import, creating it when there is none (a file
    /// created, or Domania's schema created in the database).
    pub fn create_at(location: &Location, adopt: bool, wait: &Wait<'_>) -> Result<Self> {
        match location {
            Location::File(p) => Self::create(p, adopt, wait),
            Location::Postgres(url) => Ok(Self { db: Box::new(PgDb::create(url, wait)?), location: location.clone() }),
        }
    }

    /// Where the store is.
    #[must_use]
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The file path of a GeoPackage store, the masked URL of a database.
    #[must_use]
    pub fn path(&self) -> PathBuf {
        self.location.as_error_path()
    }

    /// Whether the store is a PostGIS database.
    #[must_use]
    pub fn is_postgres(&self) -> bool {
        self.db.is_postgres()
    }

    /// Removes the file this opening created, if no version was written into it: a failed first
    /// import leaves nothing behind. A database is never removed.
    pub fn discard_if_new(self) {
        self.db.discard_if_new();
    }

    fn is_writer(&self) -> bool {
        self.db.is_writer()
    }

    pub(crate) fn need_writer(&self, what: &'static str) -> Result<()> {
        if self.is_writer() { Ok(()) } else { Err(StoreError::ReadOnly { path: self.path(), what }) }
    }

    /// Latest version number of a layer (`None` before its first import).
    pub fn latest_version(&self, layer: Layer) -> Result<Option<i64>> {
        self.db.latest_version(layer)
    }

    /// Imports rows as a new version of a layer, replacing what `opts.scope` covers.
    pub fn import(
        &mut self,
        layer: Layer,
        rows: Vec<Row>,
        meta: &ImportMeta,
        opts: &ImportOptions,
    ) -> Result<VersionInfo> {
        let mut tx = self.begin_import(layer, opts.clone())?;
        for row in rows {
            tx.push(row)?;
        }
        tx.commit(meta)
    }

    /// Starts writing a new version of `layer` in one transaction. Rows are pushed one by one
    /// (so a reader thread can feed them while the file is still being parsed); nothing is
    /// visible until [`ImportTx::commit`], and dropping the `ImportTx` rolls everything back.
    pub fn begin_import(&mut self, layer: Layer, opts: ImportOptions) -> Result<ImportTx<'_>> {
        opts.scope.check(layer)?;
        self.need_writer("an import")?;
        self.begin(layer, "import", opts)
    }

    pub(crate) fn begin(&mut self, layer: Layer, kind: &str, opts: ImportOptions) -> Result<ImportTx<'_>> {
        let (writer, version) = self.db.writer(layer, opts.absorb)?;
        ImportTx::new(writer, layer, kind, version, opts)
    }

    /// Whether editors' saves into the drawn layers are journaled: false in a store made by an
    /// older Domania until it is opened for writing (which adds the triggers or the views).
    pub fn edits_journaled(&self) -> Result<bool> {
        self.db.edits_journaled()
    }

    /// The journal's last entry when an editor's saves into `layer` (QGIS on a GeoPackage
    /// store) wait to become a version; `None` when there are none.
    pub fn last_edit(&self, layer: Layer) -> Result<Option<i64>> {
        self.db.last_edit(layer)
    }

    /// The saving transactions of `layer` waiting in a database store's journal (QGIS on
    /// the views of `domania_edit`), oldest first; none on a GeoPackage (see [`Store::last_edit`]).
    pub fn saved_edits(&self, layer: Layer) -> Result<Vec<crate::model::SavedEdit>> {
        self.db.saved_edits(layer)
    }

    /// Refuses the editor's saves journaled up to `upto`: `layer` is put back as it was.
    /// Returns false when more was saved since (nothing done; read them again).
    pub fn discard_edits(&mut self, layer: Layer, upto: i64) -> Result<bool> {
        self.need_writer("refusing an edit")?;
        self.db.discard_edits(layer, upto)
    }

    /// The current parcel with this IDU.
    pub fn parcel(&self, idu: &str) -> Result<Option<StoredParcel>> {
        self.db.parcel(idu)
    }

    /// Current rights (all codes) on a parcel.
    pub fn rights_of(&self, idu: &str) -> Result<Vec<StoredRight>> {
        self.db.rights_of(idu)
    }

    /// Every current right of kind `right` (e.g. [`domania_core::Right::Proprietaire`]), by
    /// parcel, then SIREN and name: the same order on both engines.
    pub fn rights_with_code(&self, right: domania_core::Right) -> Result<Vec<StoredRight>> {
        let mut rights = self.db.rights_with_code(right)?;
        sort_rights(&mut rights);
        Ok(rights)
    }

    /// Every current parcel, geometry decoded.
    pub fn parcels(&self) -> Result<Vec<StoredParcel>> {
        self.db.parcels_meeting(None)
    }

    /// Every current row of a layer of keyed shapes: QPV, sub-sectors, conventions, and the
    /// cadastre's buildings and sections.
    pub fn perimeters(&self, layer: Layer) -> Result<Vec<StoredPerimeter>> {
        if !matches!(layer, Layer::Qpv | Layer::Subsectors | Layer::Conventions | Layer::Buildings | Layer::Sections) {
            return Err(StoreError::NotPerimeterLayer(layer));
        }
        self.db.perimeters(layer)
    }

    /// The communes an owner file covers: those with at least one right (any code) in the
    /// current owners layer. A PPM file lists every parcel of a legal person in its communes, so
    /// a parcel of a covered commune without a right `P` is held by natural persons; a parcel of
    /// a commune no file covers has an unknown owner. Counted by commune, not département:
    /// owner files circulate split in parts (the EF_PPM parts of the Yvelines file hold five
    /// communes of 259).
    /// A commune loaded only in part ([`Store::owner_partly_covered`]) is not covered.
    pub fn owner_coverage(&self) -> Result<BTreeSet<String>> {
        self.fully_covered(self.db.owner_coverage()?)
    }

    /// `covered` (communes some owner file covers) less those loaded only in part.
    fn fully_covered(&self, mut covered: BTreeSet<String>) -> Result<BTreeSet<String>> {
        for c in self.owner_partly_covered()? {
            covered.remove(&c);
        }
        Ok(covered)
    }

    /// Whether an owner file covers `commune` (see [`Store::owner_coverage`]): one range look-up
    /// in the owners' IDU index, not the list of every covered commune.
    pub fn owner_file_covers(&self, commune: &str) -> Result<bool> {
        Ok(self.db.owner_file_covers(commune)? && !self.owner_partly_covered()?.contains(commune))
    }

    /// The communes of the owners layer loaded only in part: at the edge of a part of a split
    /// owner file whose neighbouring part is not loaded (see [`domania_core::parts`]). Read from
    /// the versions' records (each commune's last import and its source), not from the rows.
    pub fn owner_partly_covered(&self) -> Result<BTreeSet<String>> {
        let sources = self.commune_sources(Layer::Owners)?;
        Ok(domania_core::parts::partly_covered(sources.iter().map(|(c, s)| (c.as_str(), s.as_str()))))
    }

    /// The départements with current parcels, sorted (on PostGIS, the non-empty partitions).
    pub fn departements(&self) -> Result<Vec<String>> {
        self.db.departements()
    }

    /// The latest `updated` date the cadastre gives a current parcel (`2021-10-14`): how recent
    /// the plan is, as the data itself says.
    pub fn cadastre_updated(&self) -> Result<Option<String>> {
        self.db.cadastre_updated()
    }

    /// Every current parcel IDU.
    pub fn parcel_idus(&self) -> Result<Vec<String>> {
        let mut keys = self.db.keys(Layer::Parcels)?;
        keys.sort();
        Ok(keys)
    }

    /// Everything a snapshot of the store is built from, read inside one read transaction: one
    /// consistent state, even while a writer commits a new version meanwhile.
    pub fn read_all(&self) -> Result<StoreContents> {
        self.read_contents(None)
    }

    /// Like [`Store::read_all`], but only the parcels whose boxes meet a zone of `zones` (a
    /// perimeter layer), found through the spatial index: what shares and assignments in those
    /// zones need, without decoding the rest of the territory.
    pub fn read_for_zones(&self, zones: Layer) -> Result<StoreContents> {
        if !zones.is_zone() {
            return Err(StoreError::NotPerimeterLayer(zones));
        }
        self.read_contents(Some(zones))
    }

    /// What a server of one part of the territory serves (see [`crate::served`]): the parcels
    /// of `scope` (départements or communes), every zone meeting them, and every parcel meeting
    /// a kept zone, so that the zones' figures are whole. On PostGIS only the partitions of the
    /// départements concerned are read.
    pub fn read_scoped(&self, scope: &Scope) -> Result<StoreContents> {
        let part = match crate::served::departements(scope) {
            Some(deps) => self.in_read(|| {
                let Some(mut c) = self.db.read_departements(&deps)? else { return Ok(None) };
                c.owner_coverage = self.fully_covered(std::mem::take(&mut c.owner_coverage))?;
                sort_rights(&mut c.owner_rights);
                c.addresses = self.addresses_now()?;
                c.street_addresses = self.db.street_addresses()?;
                c.versions = self.versions()?;
                Ok(Some(c))
            })?,
            None => None,
        };
        let contents = match part {
            Some(c) => c,
            None => self.read_all()?,
        };
        Ok(crate::served::restrict(contents, scope))
    }

    /// The owners' rights, the communes they cover, their street addresses and the layers'
    /// versions, in one read transaction, without a shape: what a snapshot needs again after a
    /// version of the owners alone. With `deps`, the rights of those départements (on PostGIS,
    /// their partitions; a GeoPackage gives them all): enough for a snapshot of parcels of those
    /// départements only.
    pub fn read_owners(&self, deps: Option<&BTreeSet<String>>) -> Result<OwnerContents> {
        self.in_read(|| {
            let deps: Option<Vec<&str>> = deps.map(|d| d.iter().map(String::as_str).collect());
            let some = match &deps {
                Some(deps) => self.db.owners_of_departements(deps)?,
                None => None,
            };
            let (mut owner_rights, owner_coverage) = match some {
                Some((rights, covered)) => (rights, self.fully_covered(covered)?),
                None => (self.db.rights_with_code(domania_core::Right::Proprietaire)?, self.owner_coverage()?),
            };
            sort_rights(&mut owner_rights);
            Ok(OwnerContents {
                owner_rights,
                owner_coverage,
                street_addresses: self.db.street_addresses()?,
                versions: self.versions()?,
            })
        })
    }

    /// [`Store::read_owners`] for the parcels of `communes` alone (one range of the owners'
    /// index each): their rights, which of them an owner file covers, their street addresses
    /// (by IDU and address) and the layers' versions, in one read transaction. What a snapshot
    /// needs again after a version of those communes' owners.
    pub fn read_owners_of(&self, communes: &BTreeSet<String>) -> Result<OwnerContents> {
        self.in_read(|| self.owners_of(communes))
    }

    /// [`Store::read_owners_of`], in the caller's read transaction.
    fn owners_of(&self, communes: &BTreeSet<String>) -> Result<OwnerContents> {
        let partly = self.owner_partly_covered()?;
        let mut out = OwnerContents { versions: self.versions()?, ..OwnerContents::default() };
        for c in communes {
            let (rights, addresses) = self.db.owners_of_commune(c)?;
            out.owner_rights.extend(rights);
            out.street_addresses.extend(addresses);
            if self.db.owner_file_covers(c)? && !partly.contains(c) {
                out.owner_coverage.insert(c.clone());
            }
        }
        sort_rights(&mut out.owner_rights);
        Ok(out)
    }

    /// The current parcels of `communes` (one range of the parcels' key index each), sorted
    /// by fid as a full read gives them, with what [`Store::read_owners_of`] gives of the same
    /// communes, in one read transaction. What a snapshot needs again after a version of those
    /// communes' parcels.
    pub fn read_parcels_of(&self, communes: &BTreeSet<String>) -> Result<(Vec<StoredParcel>, OwnerContents)> {
        self.in_read(|| {
            let mut parcels = Vec::new();
            for c in communes {
                parcels.extend(self.db.parcels_of_commune(c)?);
            }
            parcels.sort_by_key(|p| p.fid);
            Ok((parcels, self.owners_of(communes)?))
        })
    }

    fn read_contents(&self, zones: Option<Layer>) -> Result<StoreContents> {
        self.in_read(|| {
            let (addresses, street_addresses) = match zones {
                None => (self.addresses_now()?, self.db.street_addresses()?),
                Some(_) => (Vec::new(), Vec::new()),
            };
            Ok(StoreContents {
                versions: self.versions()?,
                parcels: self.db.parcels_meeting(zones)?,
                owner_rights: self.rights_with_code(domania_core::Right::Proprietaire)?,
                owner_coverage: self.owner_coverage()?,
                subsectors: self.perimeters(Layer::Subsectors)?,
                qpv: self.perimeters(Layer::Qpv)?,
                conventions: self.perimeters(Layer::Conventions)?,
                addresses,
                street_addresses,
            })
        })
    }

    /// The current addresses of the BAN layer.
    fn addresses_now(&self) -> Result<Vec<domania_core::Address>> {
        let mut out = Vec::new();
        self.db.raw_rows(Layer::Addresses, false, &mut |chunk: Vec<RawRow>| {
            out.extend(chunk.into_iter().filter_map(|r| crate::layer::address_of(r.row)));
            Ok(())
        })?;
        Ok(out)
    }

    /// `read` in one read transaction: on a live PostGIS store, one consistent state.
    pub(crate) fn in_read<T>(&self, read: impl FnOnce() -> Result<T>) -> Result<T> {
        self.db.begin_read()?;
        let out = read();
        self.db.end_read()?;
        out
    }

    /// Every stored row of `layer`, current then history, in chunks to `each`; how many of each
    /// there were.
    pub(crate) fn raw_layer(
        &self,
        layer: Layer,
        each: &mut dyn FnMut(Vec<RawRow>) -> Result<()>,
    ) -> Result<(usize, usize)> {
        let mut counts = (0, 0);
        for history in [false, true] {
            self.db.raw_rows(layer, history, &mut |chunk: Vec<RawRow>| {
                if history {
                    counts.1 += chunk.len();
                } else {
                    counts.0 += chunk.len();
                }
                each(chunk)
            })?;
        }
        Ok(counts)
    }

    /// Records an API token: its name, role and the SHA-256 of its secret (the secret itself is
    /// never stored). A name already in use is refused.
    pub fn create_token(&mut self, name: &str, role: &str, secret_sha256: &str) -> Result<TokenInfo> {
        self.need_writer("creating a token")?;
        self.db.create_token(name, role, secret_sha256)?;
        self.tokens()?
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| StoreError::Corrupt("a token just created is not there".into()))
    }

    /// Every token, revoked ones included (never their secrets).
    pub fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let mut list: Vec<TokenInfo> = self
            .db
            .token_records()?
            .into_iter()
            .map(|t| TokenInfo { name: t.name, role: t.role, created_at: t.created_at, revoked_at: t.revoked_at })
            .collect();
        list.sort_by(|a, b| (&a.created_at, &a.name).cmp(&(&b.created_at, &b.name)));
        Ok(list)
    }

    /// The token whose secret hashes to `secret_sha256`, unless revoked.
    pub fn token_by_hash(&self, secret_sha256: &str) -> Result<Option<TokenInfo>> {
        self.db.token_by_hash(secret_sha256)
    }

    /// Revokes a token by name; `false` when no live token has that name.
    pub fn revoke_token(&mut self, name: &str) -> Result<bool> {
        self.need_writer("revoking a token")?;
        self.db.revoke_token(name)
    }

    /// Records a new version of the management rules (their TOML text, checked by the caller)
    /// and returns its number.
    pub fn save_rules(&mut self, toml: &str, author: &str) -> Result<i64> {
        self.need_writer("saving the rules")?;
        self.db.save_rules(toml, author)
    }

    /// The latest rules saved in the store: (version, TOML text), if any.
    pub fn rules(&self) -> Result<Option<(i64, String)>> {
        Ok(self.db.rules_records()?.into_iter().max_by_key(|r| r.version).map(|r| (r.version, r.toml)))
    }
}

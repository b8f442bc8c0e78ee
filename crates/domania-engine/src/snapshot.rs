//! The [`Snapshot`]: one consistent, immutable view of the store, read in one read
//! transaction, owners classified, indexed once (parcels by IDU, their boxes in an R-tree).

use std::collections::BTreeMap;
use std::sync::Arc;

use domania_core::Classifier;
use domania_core::overlay::{Overlay, OverlayOptions, ParcelIndex, overlay_indexed};
use domania_core::shares::{Holding, OwnerRef};
use domania_store::{Layer, Store};
use geo::Contains;
use geo_types::{MultiPolygon, Point};
use rustc_hash::FxHashMap;

use crate::error::EngineError;

/// A parcel of the snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct ParcelRec {
    pub idu: String,
    pub contenance: Option<i64>,
    pub geom_l93: MultiPolygon<f64>,
}

/// A perimeter of the snapshot (sub-sector, QPV, convention).
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    pub key: String,
    pub name: Option<String>,
    pub geom_l93: MultiPolygon<f64>,
}

/// One consistent, immutable view of the store: read in one read transaction, indexed once
/// (parcels by IDU, their boxes in an R-tree), then only read. `Send + Sync`, so a server can
/// hold it behind an `Arc` and swap it for the next one.
///
/// What no owner changes — the parcels, their indexes and the BAN's addresses — is shared
/// between a snapshot and the next one made of it by a version of the owners
/// ([`Snapshot::with_owners`]); a scenario's copy takes its own when it cuts parcels.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub(crate) parcels: Arc<Vec<ParcelRec>>,
    /// `fids[i]`: the store's row number of `parcels[i]`, by which a full read orders them
    /// (empty when not known: a snapshot made from parts, or cut by a scenario).
    pub(crate) fids: Arc<Vec<i64>>,
    /// `holdings[i]`: owners of `parcels[i]`.
    pub(crate) holdings: Vec<Holding>,
    pub(crate) subsectors: Vec<Zone>,
    pub(crate) qpv: Vec<Zone>,
    pub(crate) conventions: Vec<Zone>,
    /// IDU → position in `parcels`.
    pub(crate) by_idu: Arc<IduIndex>,
    /// The parcels' boxes, built once for every overlay.
    pub(crate) index: Arc<ParcelIndex>,
    /// The store version of each layer the snapshot was read at.
    pub(crate) versions: BTreeMap<Layer, Option<i64>>,
    /// Only the parcels meeting this layer's zones were read ([`Snapshot::load_for_zones`]).
    pub(crate) limited_to: Option<Layer>,
    /// The BAN's addresses and the owner file's street addresses, for the search box (empty
    /// in a snapshot for work in zones).
    pub(crate) addresses: Addresses,
}

/// The addresses a snapshot holds: the BAN's, and the street addresses the owner file gives
/// its parcels (`(IDU, address)`), which stand in where the BAN is not loaded.
#[derive(Debug, Clone, Default)]
pub struct Addresses {
    pub ban: Arc<Vec<domania_core::Address>>,
    pub ppm: Vec<(String, String)>,
}

/// IDU → position, without a heap allocation per parcel: IDUs are 14 ASCII bytes, kept inline;
/// anything else (the `IDU/n` parts a scenario cuts) in a map of its own.
#[derive(Debug, Clone, Default)]
pub(crate) struct IduIndex {
    idus: FxHashMap<[u8; 14], usize>,
    others: FxHashMap<String, usize>,
}

impl IduIndex {
    /// The index of `parcels` (their positions).
    pub(crate) fn of(parcels: &[ParcelRec]) -> Self {
        let mut index = Self {
            idus: FxHashMap::with_capacity_and_hasher(parcels.len(), rustc_hash::FxBuildHasher),
            others: FxHashMap::default(),
        };
        for (i, p) in parcels.iter().enumerate() {
            index.insert(&p.idu, i);
        }
        index
    }
    pub(crate) fn insert(&mut self, idu: &str, i: usize) {
        match <[u8; 14]>::try_from(idu.as_bytes()) {
            Ok(k) => self.idus.insert(k, i),
            Err(_) => self.others.insert(idu.to_owned(), i),
        };
    }
    pub(crate) fn get(&self, idu: &str) -> Option<usize> {
        match <[u8; 14]>::try_from(idu.as_bytes()) {
            Ok(k) => self.idus.get(&k).copied(),
            Err(_) => self.others.get(idu).copied(),
        }
    }
}

/// How a snapshot [`Snapshot::with_parcels_of`] spliced is made of the one before.
#[derive(Debug, Clone, Default)]
pub struct Splice {
    /// For each parcel before, its position now when it did not change (`None`: removed, or
    /// changed: its shape, contenance or holding).
    pub moved: Vec<Option<usize>>,
    /// For each parcel now, whether it is new or changed.
    pub fresh: Vec<bool>,
    /// The boxes of the parcels removed or changed, as they were.
    pub gone: Vec<geo_types::Rect<f64>>,
}

/// An owner as the PPM spells it (SIREN, name, groupe, forme, abbreviated forme): everything
/// its classification depends on, so that each right's owner is classified as written, whatever
/// the order the rights are read in.
type OwnerKey<'a> = (&'a str, &'a str, Option<u8>, Option<&'a str>, Option<&'a str>);

/// The parcels whose holdings are kept (by IDU) and the holdings they are kept from.
type Kept<'a> = (&'a dyn Fn(&str) -> bool, &'a [Holding]);

/// Who holds each parcel. Each owner is classified once, not once per right: a bailleur holds
/// thousands of parcels (356,440 rights but a few hundred owners in the 1M synthetic territory),
/// and its holdings share one `OwnerRef`. Each right goes straight to its parcel's position.
///
/// With `kept`, only the parcels it does not keep are worked out (`rights` and `coverage` are
/// then those of their communes): the others keep their holding in `kept.1`, shared.
fn holdings_of(
    parcels: &[ParcelRec],
    by_idu: &IduIndex,
    rights: &[domania_store::StoredRight],
    coverage: &std::collections::BTreeSet<String>,
    classifier: &Classifier,
    kept: Option<Kept<'_>>,
) -> Vec<Holding> {
    let mut classified: FxHashMap<OwnerKey<'_>, OwnerRef> = FxHashMap::default();
    // (parcel, owner) of each right, then in parcel order: each parcel's owners one run.
    let mut owned: Vec<(usize, OwnerRef)> = Vec::with_capacity(rights.len());
    for r in rights {
        let Some(i) = by_idu.get(&r.idu) else { continue };
        let key = (r.siren.as_str(), r.denomination.as_str(), r.groupe, r.forme.as_deref(), r.forme_abregee.as_deref());
        let owner = classified.entry(key).or_insert_with(|| OwnerRef::classified(&r.owner(), classifier));
        owned.push((i, owner.clone()));
    }
    owned.sort_by_key(|(i, _)| *i);
    let mut runs = owned.chunk_by(|a, b| a.0 == b.0).peekable();
    parcels
        .iter()
        .enumerate()
        .map(|(i, p)| {
            // (A right of a parcel kept is not looked at.)
            while runs.next_if(|run| run[0].0 < i).is_some() {}
            if let Some((keeps, held)) = kept
                && keeps(&p.idu)
            {
                return held[i].clone();
            }
            match runs.next_if(|run| run[0].0 == i) {
                None => Holding::none(p.idu.get(0..5).is_some_and(|code| coverage.contains(code))),
                Some(run) => {
                    let mut list: Vec<OwnerRef> = run.iter().map(|(_, o)| o.clone()).collect();
                    list.sort();
                    list.dedup();
                    Holding::of(list)
                }
            }
        })
        .collect()
}

/// The store's parcels as a snapshot holds them, and their fids.
fn records(stored: Vec<domania_store::StoredParcel>) -> (Vec<i64>, Vec<ParcelRec>) {
    stored
        .into_iter()
        .map(|p| (p.fid, ParcelRec { idu: p.idu, contenance: p.contenance, geom_l93: p.geom_l93 }))
        .unzip()
}

/// Two lists of street addresses sorted by IDU and address, merged in that order.
fn merged(a: Vec<(String, String)>, b: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x <= y => a.next(),
            (Some(_) | None, Some(_)) => b.next(),
            (Some(_), None) => a.next(),
            (None, None) => return out,
        };
        out.extend(next);
    }
}

impl Default for Snapshot {
    fn default() -> Self {
        Self::from_parts(Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new())
            .expect("no parcels and no holdings agree")
    }
}

impl Snapshot {
    /// Reads the current layers of the store in one read transaction (one consistent version
    /// of every layer) and classifies every owner.
    pub fn load(store: &Store, classifier: &Classifier) -> Result<Self, EngineError> {
        Ok(Self::of_contents(store.read_all()?, classifier, None))
    }

    /// A snapshot for work inside the zones of `zones` (shares, assignments, reports of one
    /// perimeter layer): every zone layer, but only the parcels whose boxes meet a zone of
    /// `zones` (see [`Snapshot::parcels_limited_to`]). On a territory whose zones cover a part of
    /// it, the rest is never read.
    pub fn load_for_zones(store: &Store, classifier: &Classifier, zones: Layer) -> Result<Self, EngineError> {
        Ok(Self::of_contents(store.read_for_zones(zones)?, classifier, Some(zones)))
    }

    /// A snapshot of one part of the territory (départements or communes): its parcels, every
    /// zone meeting them and every parcel meeting those zones, so that the zones' figures are
    /// whole (see `domania_store::served`).
    pub fn load_scoped(
        store: &Store,
        classifier: &Classifier,
        scope: &domania_store::Scope,
    ) -> Result<Self, EngineError> {
        Ok(Self::of_contents(store.read_scoped(scope)?, classifier, None))
    }

    fn of_contents(c: domania_store::StoreContents, classifier: &Classifier, limited_to: Option<Layer>) -> Self {
        let (fids, parcels) = records(c.parcels);
        // The R-tree is built on one core while the owners are classified on the other.
        let ((by_idu, holdings), index) = rayon::join(
            || {
                let by_idu = IduIndex::of(&parcels);
                let holdings = holdings_of(&parcels, &by_idu, &c.owner_rights, &c.owner_coverage, classifier, None);
                (by_idu, holdings)
            },
            || ParcelIndex::new(&parcels.iter().map(|p| &p.geom_l93).collect::<Vec<_>>()),
        );
        let zones = |list: Vec<domania_store::StoredPerimeter>| -> Vec<Zone> {
            list.into_iter().map(|p| Zone { key: p.key, name: p.name, geom_l93: p.geom_l93 }).collect()
        };
        Self {
            parcels: Arc::new(parcels),
            fids: Arc::new(fids),
            holdings,
            subsectors: zones(c.subsectors),
            qpv: zones(c.qpv),
            conventions: zones(c.conventions),
            by_idu: Arc::new(by_idu),
            index: Arc::new(index),
            versions: c.versions,
            limited_to,
            addresses: Addresses { ban: Arc::new(c.addresses), ppm: c.street_addresses },
        }
    }

    /// This snapshot with the owners of `c` (a version of the owners alone): the parcels, their
    /// indexes, the zones and the BAN's addresses shared, not copied; the holdings classified
    /// again and the owners' street addresses taken anew — those of the parcels held only when
    /// `held_only` (a snapshot of one part of the territory, as `domania_store::served` reads
    /// it). With `communes`, `c` holds the owners of those communes alone
    /// (`Store::read_owners_of`): only their parcels' holdings and addresses are worked out
    /// again, the others' kept (shared). What [`Snapshot::load`] or [`Snapshot::load_scoped`]
    /// would give at `c.versions`.
    #[must_use]
    pub fn with_owners(
        &self,
        c: domania_store::OwnerContents,
        communes: Option<&std::collections::BTreeSet<String>>,
        classifier: &Classifier,
        held_only: bool,
    ) -> Self {
        let outside = |idu: &str| communes.is_some_and(|set| !idu.get(0..5).is_some_and(|k| set.contains(k)));
        let kept: Option<Kept<'_>> = communes.map(|_| (&outside as &dyn Fn(&str) -> bool, &self.holdings[..]));
        let holdings = holdings_of(&self.parcels, &self.by_idu, &c.owner_rights, &c.owner_coverage, classifier, kept);
        let mut ppm = c.street_addresses;
        if held_only {
            ppm.retain(|(idu, _)| self.by_idu.get(idu).is_some());
        }
        if communes.is_some() {
            let others = self.addresses.ppm.iter().filter(|(idu, _)| outside(idu)).cloned().collect();
            ppm = merged(others, ppm);
        }
        Self {
            parcels: Arc::clone(&self.parcels),
            fids: Arc::clone(&self.fids),
            holdings,
            subsectors: self.subsectors.clone(),
            qpv: self.qpv.clone(),
            conventions: self.conventions.clone(),
            by_idu: Arc::clone(&self.by_idu),
            index: Arc::clone(&self.index),
            versions: c.versions,
            limited_to: self.limited_to,
            addresses: Addresses { ban: Arc::clone(&self.addresses.ban), ppm },
        }
    }

    /// This snapshot after a version of the parcels of `communes` alone, without reading the
    /// others again: `parcels` are those communes' parcels now and `owners` their owners, as
    /// [`Store::read_parcels_of`](domania_store::Store::read_parcels_of) gives them in one read
    /// transaction. The other parcels keep their shapes and holdings (the owners being the
    /// same); theirs are classified; both are merged by fid, the order of a full read (an
    /// import keeps a replaced parcel's fid and numbers new ones after every current one). The
    /// zones and the addresses are kept; the indexes made again. What [`Snapshot::load`] gives
    /// at `owners.versions` when the owners did not change.
    ///
    /// `None` when this snapshot cannot be spliced: it does not know its parcels' fids, holds
    /// only some zones' parcels, or was cut by a scenario.
    #[must_use]
    pub fn with_parcels_of(
        &self,
        communes: &std::collections::BTreeSet<String>,
        parcels: Vec<domania_store::StoredParcel>,
        owners: domania_store::OwnerContents,
        classifier: &Classifier,
    ) -> Option<(Self, Splice)> {
        if self.fids.len() != self.parcels.len() || self.limited_to.is_some() || !self.by_idu.others.is_empty() {
            return None;
        }
        let (fids, parcels) = records(parcels);
        let index = IduIndex::of(&parcels);
        let holdings = holdings_of(&parcels, &index, &owners.owner_rights, &owners.owner_coverage, classifier, None);
        let inside = |idu: &str| idu.get(0..5).is_some_and(|k| communes.contains(k));
        // Where each parcel now comes from (`Ok`: a parcel before; `Err`: a parcel read), in the
        // order of their fids.
        let n = self.parcels.len();
        let mut plan: Vec<Result<usize, usize>> = Vec::with_capacity(n);
        let mut splice = Splice { moved: vec![None; n], fresh: Vec::with_capacity(n), gone: Vec::new() };
        let mut gone = |p: &ParcelRec| splice.gone.extend(geo::BoundingRect::bounding_rect(&p.geom_l93));
        let mut read = fids.iter().enumerate().peekable();
        for (i, (&fid, p)) in self.fids.iter().zip(self.parcels.iter()).enumerate() {
            while let Some((j, _)) = read.next_if(|(_, f)| **f < fid) {
                plan.push(Err(j));
                splice.fresh.push(true);
            }
            if !inside(&p.idu) {
                splice.moved[i] = Some(plan.len());
                plan.push(Ok(i));
                splice.fresh.push(false);
            } else if let Some((j, _)) = read.next_if(|(_, f)| **f == fid) {
                // The same row: unchanged when its parcel and holding are the same.
                let same = parcels[j] == *p && holdings[j] == self.holdings[i];
                if same {
                    splice.moved[i] = Some(plan.len());
                } else {
                    gone(p);
                }
                plan.push(Err(j));
                splice.fresh.push(!same);
            } else {
                gone(p);
            }
        }
        for (j, _) in read {
            plan.push(Err(j));
            splice.fresh.push(true);
        }
        // The parcels, their holdings and IDU index on one core, their boxes and R-tree on the
        // other (the boxes of the parcels kept are the index's).
        let read_boxes: Vec<Option<geo_types::Rect<f64>>> =
            parcels.iter().map(|p| geo::BoundingRect::bounding_rect(&p.geom_l93)).collect();
        let ((parcels, holdings, by_idu), index) = rayon::join(
            || {
                let mut read = parcels.into_iter().zip(holdings);
                let mut out = (Vec::with_capacity(n), Vec::with_capacity(n));
                for from in &plan {
                    // The parcels read come in the order they were read, each once.
                    let next = match *from {
                        Ok(i) => Some((self.parcels[i].clone(), self.holdings[i].clone())),
                        Err(_) => read.next(),
                    };
                    if let Some((p, h)) = next {
                        out.0.push(p);
                        out.1.push(h);
                    }
                }
                let by_idu = IduIndex::of(&out.0);
                (out.0, out.1, by_idu)
            },
            || {
                let boxes = plan.iter().map(|from| match *from {
                    Ok(i) => self.index.rect(i),
                    Err(j) => read_boxes[j],
                });
                ParcelIndex::of_boxes(boxes.collect())
            },
        );
        let fids = plan.iter().map(|from| from.map_or_else(|j| fids[j], |i| self.fids[i])).collect();
        let next = Self {
            parcels: Arc::new(parcels),
            fids: Arc::new(fids),
            holdings,
            subsectors: self.subsectors.clone(),
            qpv: self.qpv.clone(),
            conventions: self.conventions.clone(),
            by_idu: Arc::new(by_idu),
            index: Arc::new(index),
            versions: owners.versions,
            limited_to: None,
            addresses: self.addresses.clone(),
        };
        Some((next, splice))
    }

    /// `Some(layer)` when the snapshot holds only the parcels meeting the zones of `layer`
    /// ([`Snapshot::load_for_zones`]): figures in those zones are whole, figures elsewhere are
    /// not.
    #[must_use]
    pub fn parcels_limited_to(&self) -> Option<Layer> {
        self.limited_to
    }

    /// A snapshot of these layers (`holdings[i]` holds `parcels[i]`), indexed.
    pub fn from_parts(
        parcels: Vec<ParcelRec>,
        holdings: Vec<Holding>,
        subsectors: Vec<Zone>,
        qpv: Vec<Zone>,
        conventions: Vec<Zone>,
    ) -> Result<Self, EngineError> {
        if parcels.len() != holdings.len() {
            return Err(EngineError::Mismatch { parcels: parcels.len(), holdings: holdings.len() });
        }
        let by_idu = IduIndex::of(&parcels);
        Ok(Self::indexed(parcels, holdings, subsectors, qpv, conventions, by_idu))
    }

    /// The snapshot of parts whose IDU index is built (`holdings` as long as `parcels`).
    fn indexed(
        parcels: Vec<ParcelRec>,
        holdings: Vec<Holding>,
        subsectors: Vec<Zone>,
        qpv: Vec<Zone>,
        conventions: Vec<Zone>,
        by_idu: IduIndex,
    ) -> Self {
        let index = ParcelIndex::new(&parcels.iter().map(|p| &p.geom_l93).collect::<Vec<_>>());
        Self {
            parcels: Arc::new(parcels),
            fids: Arc::default(),
            holdings,
            subsectors,
            qpv,
            conventions,
            by_idu: Arc::new(by_idu),
            index: Arc::new(index),
            versions: BTreeMap::new(),
            limited_to: None,
            addresses: Addresses::default(),
        }
    }

    /// The addresses (the BAN's and the owner file's).
    #[must_use]
    pub fn addresses(&self) -> &Addresses {
        &self.addresses
    }

    /// This snapshot with these addresses (a snapshot made from parts has none).
    #[must_use]
    pub fn with_addresses(mut self, addresses: Addresses) -> Self {
        self.addresses = addresses;
        self
    }

    /// The parcels, in store order.
    #[must_use]
    pub fn parcels(&self) -> &[ParcelRec] {
        &self.parcels
    }

    /// Who holds each parcel (`holdings()[i]` holds `parcels()[i]`).
    #[must_use]
    pub fn holdings(&self) -> &[Holding] {
        &self.holdings
    }

    /// The parcel with this IDU and its holding.
    #[must_use]
    pub fn parcel(&self, idu: &str) -> Option<(&ParcelRec, &Holding)> {
        self.by_idu.get(idu).map(|i| (&self.parcels[i], &self.holdings[i]))
    }

    /// The position of the parcel with this IDU in [`Snapshot::parcels`].
    #[must_use]
    pub fn position(&self, idu: &str) -> Option<usize> {
        self.by_idu.get(idu)
    }

    /// The positions of the parcels holding `point` (Lambert-93), through the R-tree: one, or
    /// several where parcels overlap, or none on the non-cadastré space.
    #[must_use]
    pub fn parcels_at(&self, point: Point<f64>) -> Vec<usize> {
        let r = geo_types::Rect::new(point.0, point.0);
        self.index.meeting(r).filter(|&i| self.parcels[i].geom_l93.contains(&point)).collect()
    }

    /// The positions of the parcels whose boxes meet `rect` (Lambert-93), in store order.
    #[must_use]
    pub fn parcels_in_box(&self, rect: geo_types::Rect<f64>) -> Vec<usize> {
        let mut found: Vec<usize> = self.index.meeting(rect).collect();
        found.sort_unstable();
        found
    }

    /// The zones of `layer` holding `point` (Lambert-93).
    #[must_use]
    pub fn zones_at(&self, layer: Layer, point: Point<f64>) -> Vec<&Zone> {
        self.zones(layer).iter().filter(|z| z.geom_l93.contains(&point)).collect()
    }

    #[must_use]
    pub fn subsectors(&self) -> &[Zone] {
        &self.subsectors
    }

    #[must_use]
    pub fn qpv(&self) -> &[Zone] {
        &self.qpv
    }

    #[must_use]
    pub fn conventions(&self) -> &[Zone] {
        &self.conventions
    }

    /// The store version of each layer this snapshot was read at (empty when built from parts).
    #[must_use]
    pub fn versions(&self) -> &BTreeMap<Layer, Option<i64>> {
        &self.versions
    }

    /// The same snapshot said to be of `versions` (a server of one part of the territory: the
    /// versions that reach it, of which the later ones change nothing it holds).
    #[must_use]
    pub fn with_versions(mut self, versions: BTreeMap<Layer, Option<i64>>) -> Self {
        self.versions = versions;
        self
    }

    /// The zones of a perimeter layer (QPV, sub-sectors, conventions); none for the others.
    #[must_use]
    pub fn zones(&self, layer: Layer) -> &[Zone] {
        zones_of(layer, [&self.subsectors, &self.qpv, &self.conventions])
    }

    pub(crate) fn overlay(&self, zones: &[Zone], opts: OverlayOptions) -> Overlay {
        let parcels: Vec<&MultiPolygon<f64>> = self.parcels.iter().map(|p| &p.geom_l93).collect();
        let geoms: Vec<&MultiPolygon<f64>> = zones.iter().map(|z| &z.geom_l93).collect();
        overlay_indexed(&parcels, &self.index, &geoms, opts)
    }
}

/// The zones of `layer` among a snapshot's sub-sectors, QPV and conventions; none for the
/// other layers.
fn zones_of(layer: Layer, [subsectors, qpv, conventions]: [&[Zone]; 3]) -> &[Zone] {
    match layer {
        Layer::Subsectors => subsectors,
        Layer::Qpv => qpv,
        Layer::Conventions => conventions,
        Layer::Parcels | Layer::Owners | Layer::Spaces | Layer::Buildings | Layer::Sections | Layer::Addresses => &[],
    }
}

/// The snapshot in a snapshot file (`domania_core::flat`), in two parts: the ledger (parcels'
/// IDUs and contenances, owners as classified, zones, versions), then the parcels' shapes,
/// the addresses and the parcels' R-tree; the IDUs are hashed again when it is read.
mod file {
    use std::sync::Arc;

    use std::borrow::Cow;

    use domania_core::flat::{FlatError, FlatReader, FlatWriter, StrTable};
    use domania_core::overlay::ParcelIndex;
    use domania_core::shares::{Holding, OwnerRef};
    use domania_core::{Actor, Address, Layer};
    use rustc_hash::FxHashMap;

    use super::{Addresses, IduIndex, ParcelRec, Snapshot, Zone};

    /// An absent number.
    const NONE: i64 = i64::MIN;

    fn actor_code(a: Actor) -> u8 {
        Actor::ALL.iter().position(|&x| x == a).map_or(u8::MAX, |i| i as u8)
    }

    fn write_zones<W: std::io::Write>(w: &mut FlatWriter<W>, zones: &[Zone]) -> std::io::Result<()> {
        w.strings(zones.iter().map(|z| z.key.as_str()))?;
        w.opt_strings(zones.iter().map(|z| z.name.as_deref()))?;
        w.shapes(zones.iter().map(|z| &z.geom_l93))
    }

    fn read_zones(r: &mut FlatReader<'_>) -> Result<Vec<Zone>, FlatError> {
        let (keys, names, shapes) = (r.strings()?, r.opt_strings()?, r.shapes()?);
        if keys.len() != names.len() || keys.len() != shapes.len() {
            return Err(FlatError::Inconsistent("a zone layer's arrays disagree"));
        }
        Ok(keys
            .into_iter()
            .zip(names)
            .zip(shapes)
            .map(|((key, name), geom_l93)| Zone { key, name, geom_l93 })
            .collect())
    }

    /// What land figures need of a snapshot, as its file begins: the parcels' IDUs and
    /// contenances, the owners as classified and who holds what, the zones and the versions;
    /// not the parcels' shapes, the addresses nor the indexes, which come after it
    /// ([`Snapshot::write_with_cut`]). A shares command reads this much of a file, and the
    /// sub-sectors' overlay after it ([`Ledger::read_with_overlay`]), and stops.
    #[derive(Debug, Clone)]
    pub struct Ledger<'a> {
        versions: std::collections::BTreeMap<Layer, Option<i64>>,
        idus: StrTable<'a>,
        contenance: Cow<'a, [i64]>,
        /// Each owner once, then each parcel's owners as numbers into it.
        owners: Vec<OwnerRef>,
        holding_starts: Cow<'a, [u64]>,
        holding_lists: Cow<'a, [u32]>,
        covered: Cow<'a, [u8]>,
        subsectors: Vec<Zone>,
        qpv: Vec<Zone>,
        conventions: Vec<Zone>,
    }

    impl<'a> Ledger<'a> {
        /// Reads the ledger [`Snapshot::write_ledger`] wrote, every offset and number checked;
        /// the parcels' arrays stay as they are in the file's bytes.
        pub(crate) fn read_from(r: &mut FlatReader<'a>) -> Result<Self, FlatError> {
            let bad = FlatError::Inconsistent;
            let versions = r
                .section::<[i64; 2]>()?
                .into_iter()
                .map(|[l, v]| {
                    let layer = usize::try_from(l).ok().and_then(|l| Layer::ALL.get(l)).ok_or(bad("a layer"))?;
                    Ok((*layer, (v != NONE).then_some(v)))
                })
                .collect::<Result<_, FlatError>>()?;
            let (idus, contenance) = (r.str_table()?, r.slice::<i64>()?);
            if idus.len() != contenance.len() {
                return Err(bad("the parcels' arrays disagree"));
            }
            let (sirens, names, actors) = (r.strings()?, r.strings()?, r.section::<u8>()?);
            if sirens.len() != names.len() || sirens.len() != actors.len() {
                return Err(bad("the owners' arrays disagree"));
            }
            let owners: Vec<OwnerRef> = sirens
                .into_iter()
                .zip(names)
                .zip(actors)
                .map(|((siren, name), a)| {
                    let actor = *Actor::ALL.get(usize::from(a)).ok_or(bad("an actor"))?;
                    Ok(OwnerRef { siren: siren.into(), name: name.into(), actor })
                })
                .collect::<Result<_, FlatError>>()?;
            let (holding_starts, holding_lists, covered) = (r.slice::<u64>()?, r.slice::<u32>()?, r.slice::<u8>()?);
            domania_core::flat::check_offsets(&holding_starts, holding_lists.len())?;
            if holding_starts.len() != idus.len() + 1 || covered.len() != idus.len() {
                return Err(bad("the holdings and the parcels disagree"));
            }
            if holding_lists.iter().any(|&o| o as usize >= owners.len()) {
                return Err(bad("a holding names an owner that is not there"));
            }
            let (subsectors, qpv, conventions) = (read_zones(r)?, read_zones(r)?, read_zones(r)?);
            Ok(Self {
                versions,
                idus,
                contenance,
                owners,
                holding_starts,
                holding_lists,
                covered,
                subsectors,
                qpv,
                conventions,
            })
        }

        /// How many parcels the snapshot holds.
        #[must_use]
        pub fn parcels(&self) -> usize {
            self.idus.len()
        }

        /// The IDU of parcel `i` (`i < parcels()`).
        pub(crate) fn idu(&self, i: usize) -> &str {
            self.idus.get(i)
        }

        /// The contenance of parcel `i`.
        pub(crate) fn contenance(&self, i: usize) -> Option<i64> {
            let c = self.contenance[i];
            (c != NONE).then_some(c)
        }

        /// The owners of parcel `i`, as classified.
        pub(crate) fn holding(&self, i: usize) -> Holding {
            let (from, to) = (self.holding_starts[i] as usize, self.holding_starts[i + 1] as usize);
            if from == to {
                return Holding::none(self.covered[i] != 0);
            }
            Holding {
                owners: self.holding_lists[from..to].iter().map(|&o| self.owners[o as usize].clone()).collect(),
                covered: self.covered[i] != 0,
            }
        }

        /// The zones of `layer` (as [`Snapshot::zones`]).
        #[must_use]
        pub fn zones(&self, layer: Layer) -> &[Zone] {
            super::zones_of(layer, [&self.subsectors, &self.qpv, &self.conventions])
        }
    }

    impl Snapshot {
        /// Whether the snapshot can go to a file: a whole one (not limited to some zones'
        /// parcels, nor cut by a scenario).
        #[must_use]
        pub fn can_be_kept(&self) -> bool {
            self.limited_to.is_none() && self.by_idu.others.is_empty()
        }

        /// Appends the first part of the snapshot to a snapshot file: its [`Ledger`].
        pub(crate) fn write_ledger<W: std::io::Write>(&self, w: &mut FlatWriter<W>) -> std::io::Result<()> {
            let versions: Vec<[i64; 2]> = self
                .versions
                .iter()
                .map(|(l, v)| [Layer::ALL.iter().position(|x| x == l).map_or(-1, |i| i as i64), v.unwrap_or(NONE)])
                .collect();
            w.section(&versions)?;
            w.strings(self.parcels.iter().map(|p| p.idu.as_str()))?;
            w.section(&self.parcels.iter().map(|p| p.contenance.unwrap_or(NONE)).collect::<Vec<i64>>())?;
            // Owners once each (a bailleur holds thousands of parcels), then each parcel's list;
            // by value, not by their `Arc`s: a snapshot made of another by a version of some
            // communes' owners holds the others' owners as classified before, the same owners.
            let mut owners: FxHashMap<&OwnerRef, u32> = FxHashMap::default();
            let mut table: Vec<&OwnerRef> = Vec::new();
            let (mut starts, mut lists, mut covered) = (vec![0u64], Vec::new(), Vec::new());
            for h in &self.holdings {
                for o in h.owners.iter() {
                    let id = *owners.entry(o).or_insert_with(|| {
                        table.push(o);
                        table.len() as u32 - 1
                    });
                    lists.push(id);
                }
                starts.push(lists.len() as u64);
                covered.push(u8::from(h.covered));
            }
            w.strings(table.iter().map(|o| &*o.siren))?;
            w.strings(table.iter().map(|o| &*o.name))?;
            w.section(&table.iter().map(|o| actor_code(o.actor)).collect::<Vec<u8>>())?;
            w.section(&starts)?;
            w.section(&lists)?;
            w.section(&covered)?;
            for zones in [&self.subsectors, &self.qpv, &self.conventions] {
                write_zones(w, zones)?;
            }
            Ok(())
        }

        /// Appends the second part of the snapshot to a snapshot file (after its ledger, and
        /// whatever else the file puts between them): the parcels' shapes, the addresses and
        /// the parcels' R-tree.
        pub(crate) fn write_shapes<W: std::io::Write>(&self, w: &mut FlatWriter<W>) -> std::io::Result<()> {
            w.shapes(self.parcels.iter().map(|p| &p.geom_l93))?;
            let ban = &self.addresses.ban;
            w.strings(ban.iter().map(|a| a.id.as_str()))?;
            w.strings(ban.iter().map(|a| a.commune.as_str()))?;
            w.section(&ban.iter().map(|a| a.numero.map_or(NONE, i64::from)).collect::<Vec<i64>>())?;
            w.opt_strings(ban.iter().map(|a| a.rep.as_deref()))?;
            w.strings(ban.iter().map(|a| a.voie.as_str()))?;
            w.opt_strings(ban.iter().map(|a| a.lieu_dit.as_deref()))?;
            w.opt_strings(ban.iter().map(|a| a.code_postal.as_deref()))?;
            w.opt_strings(ban.iter().map(|a| a.parcelles.as_deref()))?;
            w.section(&ban.iter().map(|a| [a.x, a.y]).collect::<Vec<[f64; 2]>>())?;
            let lonlat = |v: Option<f64>| v.map_or([0.0, 0.0], |v| [1.0, v]);
            w.section(&ban.iter().map(|a| [lonlat(a.lon), lonlat(a.lat)]).collect::<Vec<[[f64; 2]; 2]>>())?;
            w.strings(self.addresses.ppm.iter().map(|(idu, _)| idu.as_str()))?;
            w.strings(self.addresses.ppm.iter().map(|(_, a)| a.as_str()))?;
            w.section(&self.fids[..])?;
            self.index.write_to(w)
        }

        /// Reads the rest of a snapshot after its `ledger` ([`Snapshot::write_shapes`]), and
        /// indexes it.
        pub(crate) fn read_from(ledger: Ledger<'_>, r: &mut FlatReader<'_>) -> Result<Self, FlatError> {
            let bad = FlatError::Inconsistent;
            let shapes = r.shapes()?;
            if ledger.parcels() != shapes.len() {
                return Err(bad("the parcels' shapes and the ledger disagree"));
            }
            let holdings: Vec<Holding> = (0..ledger.parcels()).map(|i| ledger.holding(i)).collect();
            let parcels: Vec<ParcelRec> = shapes
                .into_iter()
                .enumerate()
                .map(|(i, geom_l93)| ParcelRec {
                    idu: ledger.idu(i).to_owned(),
                    contenance: ledger.contenance(i),
                    geom_l93,
                })
                .collect();
            let Ledger { versions, subsectors, qpv, conventions, .. } = ledger;
            let (id, commune, numero, rep, voie) =
                (r.strings()?, r.strings()?, r.section::<i64>()?, r.opt_strings()?, r.strings()?);
            let (lieu_dit, code_postal, parcelles) = (r.opt_strings()?, r.opt_strings()?, r.opt_strings()?);
            let (xy, lonlat) = (r.section::<[f64; 2]>()?, r.section::<[[f64; 2]; 2]>()?);
            let n = id.len();
            if [commune.len(), numero.len(), rep.len(), voie.len(), lieu_dit.len(), code_postal.len()]
                .iter()
                .chain(&[parcelles.len(), xy.len(), lonlat.len()])
                .any(|&l| l != n)
            {
                return Err(bad("the addresses' arrays disagree"));
            }
            let opt = |v: [f64; 2]| (v[0] != 0.0).then_some(v[1]);
            let mut ban = Vec::with_capacity(n);
            let columns = id.into_iter().zip(commune).zip(numero).zip(rep).zip(voie).zip(lieu_dit);
            for ((((((id, commune), numero), rep), voie), lieu_dit), ((code_postal, parcelles), (xy, ll))) in
                columns.zip(code_postal.into_iter().zip(parcelles).zip(xy.into_iter().zip(lonlat)))
            {
                let numero =
                    (numero != NONE).then(|| u32::try_from(numero)).transpose().map_err(|_| bad("a number"))?;
                ban.push(Address {
                    id,
                    commune,
                    numero,
                    rep,
                    voie,
                    lieu_dit,
                    code_postal,
                    x: xy[0],
                    y: xy[1],
                    lon: opt(ll[0]),
                    lat: opt(ll[1]),
                    parcelles,
                });
            }
            let (ppm_idus, ppm_addresses) = (r.strings()?, r.strings()?);
            if ppm_idus.len() != ppm_addresses.len() {
                return Err(bad("the owners' addresses disagree"));
            }
            let fids = r.section::<i64>()?;
            if !fids.is_empty() && fids.len() != parcels.len() {
                return Err(bad("the parcels' fids and the ledger disagree"));
            }
            // The two indexes on the two cores: the IDUs hashed, the R-tree read as it was.
            let (by_idu, index) = rayon::join(|| IduIndex::of(&parcels), || ParcelIndex::read_from(r, parcels.len()));
            Ok(Snapshot {
                by_idu: Arc::new(by_idu),
                parcels: Arc::new(parcels),
                fids: Arc::new(fids),
                holdings,
                subsectors,
                qpv,
                conventions,
                index: Arc::new(index?),
                versions,
                limited_to: None,
                addresses: Addresses { ban: Arc::new(ban), ppm: ppm_idus.into_iter().zip(ppm_addresses).collect() },
            })
        }
    }
}

pub use file::Ledger;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use domania_core::flat::{FlatReader, FlatWriter};
    use domania_core::shares::{Holding, OwnerRef};
    use domania_core::{Actor, Address};
    use geo_types::{LineString, MultiPolygon, Polygon};

    use super::{Addresses, Ledger, ParcelRec, Snapshot, Zone};

    fn square(x: f64, side: f64) -> LineString<f64> {
        LineString::from(vec![(x, 0.0), (x + side, 0.0), (x + side, side), (x, side), (x, 0.0)])
    }

    #[test]
    fn a_snapshot_read_from_its_file_is_the_one_written() {
        let parcel = |idu: &str, x: f64, holes: Vec<LineString<f64>>, contenance| ParcelRec {
            idu: idu.to_owned(),
            contenance,
            geom_l93: MultiPolygon(vec![Polygon::new(square(x, 10.0), holes)]),
        };
        let parcels = vec![
            parcel("91216000AB0001", 0.0, vec![square(2.0, 2.0)], Some(100)),
            parcel("91216000AB0002", 10.0, vec![], None),
            parcel("91216000AB0003", 20.0, vec![], Some(0)),
        ];
        let cu = OwnerRef { siren: Arc::from("244400404"), name: Arc::from("GPS&O"), actor: Actor::CommunauteUrbaine };
        let oph =
            OwnerRef {
                siren: Arc::from("272800014"), name: Arc::from("Les Résidences"), actor: Actor::BailleurSocial
            };
        let holdings = vec![Holding::of(vec![cu.clone(), oph.clone()]), Holding::none(false), Holding::of(vec![cu])];
        let zone = Zone {
            key: "SS1".into(),
            name: None,
            geom_l93: MultiPolygon(vec![Polygon::new(square(0.0, 30.0), vec![])]),
        };
        let named = Zone { name: Some("Quartier".into()), ..zone.clone() };
        let address = Address {
            id: "91216_0420_00012".into(),
            commune: "91216".into(),
            numero: Some(12),
            rep: Some("bis".into()),
            voie: "Rue de la Paix".into(),
            lieu_dit: None,
            code_postal: Some("91360".into()),
            x: 5.0,
            y: 5.0,
            lon: Some(2.3),
            lat: None,
            parcelles: Some("91216000AB0001".into()),
        };
        let snapshot = Snapshot::from_parts(parcels, holdings, vec![zone], vec![named], vec![])
            .unwrap()
            .with_addresses(Addresses {
                ban: Arc::new(vec![address.clone(), Address { numero: None, rep: None, ..address }]),
                ppm: vec![("91216000AB0002".into(), "3 RUE DES LILAS".into())],
            });
        let mut w = FlatWriter::new(b"SNAPSHOT", 1, 9);
        snapshot.write_ledger(&mut w).unwrap();
        snapshot.write_shapes(&mut w).unwrap();
        let bytes = w.finish().unwrap();
        let mut r = FlatReader::open(&bytes, b"SNAPSHOT", 1, 9).unwrap();
        let ledger = Ledger::read_from(&mut r).unwrap();
        assert_eq!((ledger.parcels(), ledger.zones(domania_core::Layer::Qpv)), (3, snapshot.qpv()));
        let back = Snapshot::read_from(ledger, &mut r).unwrap();
        r.end().unwrap();
        assert_eq!(back.parcels(), snapshot.parcels());
        assert_eq!(back.holdings(), snapshot.holdings());
        assert_eq!(back.subsectors(), snapshot.subsectors());
        assert_eq!(back.qpv(), snapshot.qpv());
        assert_eq!(back.addresses().ban, snapshot.addresses().ban);
        assert_eq!(back.addresses().ppm, snapshot.addresses().ppm);
        assert_eq!(back.versions(), snapshot.versions());
        assert_eq!(back.position("91216000AB0003"), Some(2));
        assert_eq!(back.parcels_at(geo_types::Point::new(15.0, 5.0)), vec![1]);
        // Owners are written once each: the two holdings of the CU share its owner again.
        assert!(Arc::ptr_eq(&back.holdings()[0].owners[0].siren, &back.holdings()[2].owners[0].siren));
    }
}

//! The [`Snapshot`]: one consistent, immutable view of the store, read in one read
//! transaction, owners classified, indexed once (parcels by IDU, their boxes in an R-tree).

use std::collections::BTreeMap;

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
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub(crate) parcels: Vec<ParcelRec>,
    /// `holdings[i]`: owners of `parcels[i]`.
    pub(crate) holdings: Vec<Holding>,
    pub(crate) subsectors: Vec<Zone>,
    pub(crate) qpv: Vec<Zone>,
    pub(crate) conventions: Vec<Zone>,
    /// IDU → position in `parcels`.
    pub(crate) by_idu: IduIndex,
    /// The parcels' boxes, built once for every overlay.
    pub(crate) index: ParcelIndex,
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
    pub ban: Vec<domania_core::Address>,
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

/// An owner as the PPM spells it (SIREN, name, groupe, forme): what its classification depends on.
type OwnerKey<'a> = (&'a str, &'a str, Option<u8>, Option<&'a str>);

/// Who holds each parcel. Each owner is classified once, not once per right: a bailleur holds
/// thousands of parcels (356,440 rights but a few hundred owners in the 1M synthetic territory),
/// and its holdings share one `OwnerRef`. Each right goes straight to its parcel's position.
fn holdings_of(
    parcels: &[ParcelRec],
    by_idu: &IduIndex,
    rights: &[domania_store::StoredRight],
    coverage: &std::collections::BTreeSet<String>,
    classifier: &Classifier,
) -> Vec<Holding> {
    let mut classified: FxHashMap<OwnerKey<'_>, OwnerRef> = FxHashMap::default();
    let mut owners: Vec<Vec<OwnerRef>> = vec![Vec::new(); parcels.len()];
    for r in rights {
        let Some(i) = by_idu.get(&r.idu) else { continue };
        let key = (r.siren.as_str(), r.denomination.as_str(), r.groupe, r.forme.as_deref());
        owners[i].push(classified.entry(key).or_insert_with(|| OwnerRef::classified(&r.owner(), classifier)).clone());
    }
    owners
        .into_iter()
        .zip(parcels)
        .map(|(mut list, p)| {
            if list.is_empty() {
                let covered = p.idu.get(0..5).is_some_and(|code| coverage.contains(code));
                return Holding { owners: list, covered };
            }
            list.sort();
            list.dedup();
            Holding::of(list)
        })
        .collect()
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
        let parcels: Vec<ParcelRec> = c
            .parcels
            .into_iter()
            .map(|p| ParcelRec { idu: p.idu, contenance: p.contenance, geom_l93: p.geom_l93 })
            .collect();
        // The R-tree is built on one core while the owners are classified on the other.
        let ((by_idu, holdings), index) = rayon::join(
            || {
                let by_idu = IduIndex::of(&parcels);
                let holdings = holdings_of(&parcels, &by_idu, &c.owner_rights, &c.owner_coverage, classifier);
                (by_idu, holdings)
            },
            || ParcelIndex::new(&parcels.iter().map(|p| &p.geom_l93).collect::<Vec<_>>()),
        );
        let zones = |list: Vec<domania_store::StoredPerimeter>| -> Vec<Zone> {
            list.into_iter().map(|p| Zone { key: p.key, name: p.name, geom_l93: p.geom_l93 }).collect()
        };
        Self {
            parcels,
            holdings,
            subsectors: zones(c.subsectors),
            qpv: zones(c.qpv),
            conventions: zones(c.conventions),
            by_idu,
            index,
            versions: c.versions,
            limited_to,
            addresses: Addresses { ban: c.addresses, ppm: c.street_addresses },
        }
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
            parcels,
            holdings,
            subsectors,
            qpv,
            conventions,
            by_idu,
            index,
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

    /// The zones of a perimeter layer (QPV, sub-sectors, conventions); none for the others.
    #[must_use]
    pub fn zones(&self, layer: Layer) -> &[Zone] {
        match layer {
            Layer::Subsectors => &self.subsectors,
            Layer::Qpv => &self.qpv,
            Layer::Conventions => &self.conventions,
            Layer::Parcels | Layer::Owners | Layer::Spaces | Layer::Buildings | Layer::Sections | Layer::Addresses => {
                &[]
            }
        }
    }

    pub(crate) fn overlay(&self, zones: &[Zone], opts: OverlayOptions) -> Overlay {
        let parcels: Vec<&MultiPolygon<f64>> = self.parcels.iter().map(|p| &p.geom_l93).collect();
        let geoms: Vec<&MultiPolygon<f64>> = zones.iter().map(|z| &z.geom_l93).collect();
        overlay_indexed(&parcels, &self.index, &geoms, opts)
    }
}

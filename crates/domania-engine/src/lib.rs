//! Domania's engine: an immutable [`Snapshot`] of one consistent set of layers, and the
//! computations the CLI (and later the server) ask of it.
//!
//! Steps of a build:
//! 1. [`Snapshot::load`] reads the current parcels, rights `P`, sub-sectors, QPV and convention
//!    perimeters from the store and classifies every owner;
//! 2. [`Snapshot::shares`] overlays parcels with a zone layer and sums land by actor and owner;
//! 3. [`Snapshot::assign`] applies the rules: a decision per sub-sector, then a manager per
//!    space and intervention kind, each with its explanation.
//!
//! Knows nothing of HTTP or of file formats.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use domania_core::overlay::{Overlay, OverlayOptions, ParcelIndex, ZoneOverlay, overlay_indexed};
use domania_core::shares::{Holding, OwnerRef, ZoneShares, zone_shares_with_contenance};
use domania_core::{Actor, Classifier};
use domania_rules::{Assignment, Decision, Rules, SpaceKind, SubsectorDecision};
use domania_store::{Layer, Store, StoreError};
use geo::{BooleanOps, Contains, InteriorPoint};
use geo_types::{MultiPolygon, Point};
use jiff::civil::Date;
use serde::Serialize;

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
    parcels: Vec<ParcelRec>,
    /// `holdings[i]`: owners of `parcels[i]`.
    holdings: Vec<Holding>,
    subsectors: Vec<Zone>,
    qpv: Vec<Zone>,
    conventions: Vec<Zone>,
    /// IDU → position in `parcels`.
    by_idu: IduIndex,
    /// The parcels' boxes, built once for every overlay.
    index: ParcelIndex,
    /// The store version of each layer the snapshot was read at.
    versions: BTreeMap<Layer, Option<i64>>,
    /// Only the parcels meeting this layer's zones were read ([`Snapshot::load_for_zones`]).
    limited_to: Option<Layer>,
}

/// IDU → position, without a heap allocation per parcel: IDUs are 14 ASCII bytes, kept inline;
/// anything else (the `IDU/n` parts a scenario cuts) in a map of its own.
#[derive(Debug, Clone, Default)]
struct IduIndex {
    idus: FxHashMap<[u8; 14], usize>,
    others: FxHashMap<String, usize>,
}

impl IduIndex {
    /// The index of `parcels` (their positions).
    fn of(parcels: &[ParcelRec]) -> Self {
        let mut index = Self {
            idus: FxHashMap::with_capacity_and_hasher(parcels.len(), rustc_hash::FxBuildHasher),
            others: FxHashMap::default(),
        };
        for (i, p) in parcels.iter().enumerate() {
            index.insert(&p.idu, i);
        }
        index
    }
    fn insert(&mut self, idu: &str, i: usize) {
        match <[u8; 14]>::try_from(idu.as_bytes()) {
            Ok(k) => self.idus.insert(k, i),
            Err(_) => self.others.insert(idu.to_owned(), i),
        };
    }
    fn get(&self, idu: &str) -> Option<usize> {
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

/// Why a snapshot could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `holdings` and `parcels` differ in length (a bug of the caller).
    #[error("{parcels} parcels but {holdings} holdings")]
    Mismatch { parcels: usize, holdings: usize },
}

impl EngineError {
    /// Whether the user is to blame (a store that cannot be read as asked).
    #[must_use]
    pub fn is_user_error(&self) -> bool {
        match self {
            EngineError::Store(e) => e.is_user_error(),
            EngineError::Mismatch { .. } => false,
        }
    }
}

/// Shares of one zone, with its key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyedShares {
    pub key: String,
    pub name: Option<String>,
    #[serde(flatten)]
    pub shares: ZoneShares,
    /// Pieces below the sliver tolerance: (IDU, m²).
    pub slivers: Vec<(String, f64)>,
}

/// How the figures of a [`SharesReport`] are made, said in every report.
pub const SHARES_METHOD: &str = "Areas in m², computed in Lambert-93. Each square metre counts once, under the \
    actor of its parcel: a parcel whose owners are of different actors counts under `indivision` (by_owner lists \
    each co-owner's equal part, with its own actor in owner_actor); a parcel no owner file covers counts under \
    `owner_unknown`, never as natural persons. `share` is the fraction of the rule's denominator \
    (denominator_m2: the cadastré land, or the whole zone when the rules say so); share_of_cadastre and \
    share_of_area give both fractions side by side. The non-cadastré space (streets…) is reported apart.";

/// Result of [`Snapshot::shares`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SharesReport {
    /// [`SHARES_METHOD`].
    pub method: &'static str,
    pub zones: Vec<KeyedShares>,
    /// Overlapping parcel pairs: (IDU, IDU, m²).
    pub overlaps: Vec<(String, String, f64)>,
}

/// One space of a sub-sector with its manager for every intervention kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpaceAssignment {
    pub subsector: String,
    pub space: SpaceKind,
    pub area_m2: f64,
    pub assignments: Vec<Assignment>,
    /// The space's shape, Lambert-93 (only from [`Snapshot::assign_with_geometry`]).
    #[serde(skip)]
    pub geom_l93: Option<MultiPolygon<f64>>,
}

/// Result of [`Snapshot::assign`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssignReport {
    pub date: Date,
    pub decisions: Vec<SubsectorDecision>,
    pub spaces: Vec<SpaceAssignment>,
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
        }
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
            Layer::Parcels | Layer::Owners | Layer::Spaces | Layer::Buildings | Layer::Sections => &[],
        }
    }

    fn overlay(&self, zones: &[Zone], opts: OverlayOptions) -> Overlay {
        let parcels: Vec<&MultiPolygon<f64>> = self.parcels.iter().map(|p| &p.geom_l93).collect();
        let geoms: Vec<&MultiPolygon<f64>> = zones.iter().map(|z| &z.geom_l93).collect();
        overlay_indexed(&parcels, &self.index, &geoms, opts)
    }

    /// Shares of the one zone `key` of `layer` (`None` when there is no such zone).
    #[must_use]
    pub fn shares_of_zone(
        &self,
        layer: Layer,
        key: &str,
        include_non_cadastre: bool,
        opts: OverlayOptions,
    ) -> Option<SharesReport> {
        let zone = self.zones(layer).iter().find(|z| z.key == key)?;
        let zones = std::slice::from_ref(zone);
        let o = self.overlay(zones, opts);
        Some(self.shares_of(zones, &o, include_non_cadastre))
    }

    /// Shares of every zone of `layer`.
    #[must_use]
    pub fn shares(&self, layer: Layer, include_non_cadastre: bool, opts: OverlayOptions) -> SharesReport {
        let zones = self.zones(layer);
        let o = self.overlay(zones, opts);
        self.shares_of(zones, &o, include_non_cadastre)
    }

    fn shares_of(&self, zones: &[Zone], o: &Overlay, include_non_cadastre: bool) -> SharesReport {
        let contenances: Vec<Option<f64>> = self.parcels.iter().map(|p| p.contenance.map(|c| c as f64)).collect();
        let keyed = o
            .zones
            .iter()
            .map(|z| KeyedShares {
                key: zones[z.zone].key.clone(),
                name: zones[z.zone].name.clone(),
                shares: zone_shares_with_contenance(z, &self.holdings, &contenances, include_non_cadastre),
                slivers: z
                    .slivers
                    .iter()
                    .map(|&k| (self.parcels[z.pieces[k].parcel].idu.clone(), z.pieces[k].area_m2))
                    .collect(),
            })
            .collect();
        let overlaps = o
            .overlaps
            .iter()
            .map(|x| (self.parcels[x.a].idu.clone(), self.parcels[x.b].idu.clone(), x.area_m2))
            .collect();
        SharesReport { method: SHARES_METHOD, zones: keyed, overlaps }
    }

    /// Decisions and assignments for every sub-sector on `date`.
    #[must_use]
    pub fn assign(&self, rules: &Rules, date: Date, opts: OverlayOptions) -> (SharesReport, AssignReport) {
        self.assign_inner(rules, date, opts, false)
    }

    /// [`Snapshot::assign`], with the shape of every space: the parcel, its part inside the
    /// sub-sector, or the sub-sector minus the union of its parcels (the non-cadastré space).
    #[must_use]
    pub fn assign_with_geometry(
        &self,
        rules: &Rules,
        date: Date,
        opts: OverlayOptions,
    ) -> (SharesReport, AssignReport) {
        self.assign_inner(rules, date, opts, true)
    }

    fn assign_inner(
        &self,
        rules: &Rules,
        date: Date,
        opts: OverlayOptions,
        geometry: bool,
    ) -> (SharesReport, AssignReport) {
        let include_nc = rules.config().delegation.include_non_cadastre;
        let o = self.overlay(&self.subsectors, opts);
        let shares = self.shares_of(&self.subsectors, &o, include_nc);
        let mut decisions = Vec::with_capacity(o.zones.len());
        let mut spaces = Vec::new();
        for (z, ks) in o.zones.iter().zip(&shares.zones) {
            let decision = rules.decide_subsector(&ks.key, &ks.shares);
            self.assign_zone(rules, date, z, &decision, geometry, &mut spaces);
            decisions.push(decision);
        }
        (shares, AssignReport { date, decisions, spaces })
    }

    /// The conventions whose perimeter holds `point`, plus a convention keyed like the
    /// sub-sector itself when the conventions layer has no perimeter of that key.
    fn conventions_at(&self, rules: &Rules, subsector: &str, point: Option<Point<f64>>) -> Vec<String> {
        rules
            .config()
            .conventions
            .iter()
            .filter(|c| match self.conventions.iter().find(|z| z.key == c.id) {
                Some(z) => point.is_some_and(|p| z.geom_l93.contains(&p)),
                None => c.id == subsector,
            })
            .map(|c| c.id.clone())
            .collect()
    }

    fn assign_zone(
        &self,
        rules: &Rules,
        date: Date,
        z: &ZoneOverlay,
        decision: &SubsectorDecision,
        geometry: bool,
        out: &mut Vec<SpaceAssignment>,
    ) {
        let zone = &self.subsectors[z.zone];
        let needs_points = !rules.config().conventions.is_empty();
        for piece in &z.pieces {
            let parcel = &self.parcels[piece.parcel];
            let actor = self.holdings[piece.parcel].actor();
            let point = if !needs_points {
                None
            } else if piece.whole {
                parcel.geom_l93.interior_point()
            } else {
                zone.geom_l93.intersection(&parcel.geom_l93).interior_point()
            };
            let here = self.conventions_at(rules, &zone.key, point);
            let here: Vec<&str> = here.iter().map(String::as_str).collect();
            let space = SpaceKind::Parcel { idu: parcel.idu.clone(), actor };
            let geom_l93 = geometry.then(|| {
                if piece.whole { parcel.geom_l93.clone() } else { zone.geom_l93.intersection(&parcel.geom_l93) }
            });
            out.push(SpaceAssignment {
                subsector: zone.key.clone(),
                assignments: rules.assign(decision, &space, &here, date),
                space,
                area_m2: piece.area_m2,
                geom_l93,
            });
        }
        if z.non_cadastre_m2 > 0.0 {
            let point = if needs_points { zone.geom_l93.interior_point() } else { None };
            let here = self.conventions_at(rules, &zone.key, point);
            let here: Vec<&str> = here.iter().map(String::as_str).collect();
            let geom_l93 = geometry.then(|| {
                let union = geo::unary_union(z.pieces.iter().map(|p| &self.parcels[p.parcel].geom_l93));
                zone.geom_l93.difference(&union)
            });
            out.push(SpaceAssignment {
                subsector: zone.key.clone(),
                assignments: rules.assign(decision, &SpaceKind::NonCadastre, &here, date),
                space: SpaceKind::NonCadastre,
                area_m2: z.non_cadastre_m2,
                geom_l93,
            });
        }
    }
}

/// A land transfer of a scenario: a whole parcel, or the part of the parcels inside a polygon,
/// goes to a new owner.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// A whole parcel…
    #[serde(default)]
    pub idu: Option<String>,
    /// …or a polygon (Lambert-93 ring of `[x, y]`, closed or not): every parcel part inside it.
    #[serde(default)]
    pub polygon: Option<Vec<[f64; 2]>>,
    /// The new owner.
    pub to: NewOwner,
    #[serde(default)]
    pub note: String,
}

/// The owner a transfer gives land to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewOwner {
    #[serde(default)]
    pub siren: String,
    pub name: String,
    pub actor: Actor,
}

/// A transfer that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError(pub String);

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ScenarioError {}

/// What one transfer moved, and what it could not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransferSummary {
    /// 1-based, in file order.
    pub transfer: usize,
    /// Parcels given whole, or cut (their part inside the polygon given).
    pub parcels: Vec<String>,
    /// Land that changed hands.
    pub land_m2: f64,
    /// A polygon's area outside every parcel: non-cadastré space (streets…), which has no
    /// owner to give it away and is not transferred.
    pub non_cadastre_left_m2: f64,
    pub note: String,
}

/// A sub-sector whose shares or decision a scenario changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubsectorChange {
    pub subsector: String,
    /// Share of each actor, rounded to 1e-4.
    pub shares_before: BTreeMap<Actor, f64>,
    pub shares_after: BTreeMap<Actor, f64>,
    pub decision_before: String,
    pub decision_after: String,
}

/// A space whose manager a scenario changes for one intervention kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ManagerChange {
    pub subsector: String,
    /// The space after the scenario (`IDU`, `IDU/n` for a transferred part, `non_cadastre`).
    pub space: String,
    pub intervention: String,
    /// Service ids, `None` where no rule names one.
    pub before: Option<String>,
    pub after: Option<String>,
    pub area_m2: f64,
    pub why: String,
}

/// Result of [`Snapshot::scenario`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioReport {
    pub date: Date,
    pub transfers: Vec<TransferSummary>,
    pub subsectors_changed: Vec<SubsectorChange>,
    /// Only real changes: a part `IDU/n` cut off a parcel is compared with the parcel it came
    /// from, so a cut that leaves a manager as it was is no change.
    pub managers_changed: Vec<ManagerChange>,
}

/// The id of a space in reports: the IDU (or `IDU/n`), or `non_cadastre`.
#[must_use]
pub fn space_id(space: &SpaceKind) -> &str {
    match space {
        SpaceKind::Parcel { idu, .. } => idu,
        SpaceKind::NonCadastre => "non_cadastre",
    }
}

impl Snapshot {
    /// Applies `transfers` to a copy and compares shares, decisions and managers before and
    /// after, on `date`. The snapshot itself is not changed.
    pub fn scenario(
        &self,
        transfers: &[Transfer],
        rules: &Rules,
        date: Date,
        opts: OverlayOptions,
    ) -> Result<ScenarioReport, ScenarioError> {
        // Only what the transfers can change is copied and recomputed: the sub-sectors whose
        // boxes meet a transferred parcel or polygon, with their parcels. Every other
        // sub-sector's figures depend on none of the transferred land.
        let local = self.around_transfers(transfers)?;
        let (after, summaries) = local.with_transfers_summarised(transfers)?;
        let (sb, ab) = local.assign(rules, date, opts);
        let (sa, aa) = after.assign(rules, date, opts);
        let rounded = |z: &KeyedShares| -> BTreeMap<Actor, f64> {
            z.shares.by_actor.iter().map(|(a, s)| (*a, (s.share * 1e4).round() / 1e4)).collect()
        };
        let mut subsectors_changed = Vec::new();
        for ((zb, za), (db, da)) in sb.zones.iter().zip(&sa.zones).zip(ab.decisions.iter().zip(&aa.decisions)) {
            let (b, a) = (rounded(zb), rounded(za));
            let same_outcome = match (&db.decision, &da.decision) {
                (Decision::Delegated { actor: x, .. }, Decision::Delegated { actor: y, .. }) => x == y,
                (x, y) => std::mem::discriminant(x) == std::mem::discriminant(y),
            };
            if b != a || !same_outcome || db.needs_convention != da.needs_convention {
                subsectors_changed.push(SubsectorChange {
                    subsector: zb.key.clone(),
                    shares_before: b,
                    shares_after: a,
                    decision_before: db.explanation.clone(),
                    decision_after: da.explanation.clone(),
                });
            }
        }
        let before: std::collections::HashMap<(&str, &str), &SpaceAssignment> =
            ab.spaces.iter().map(|s| ((s.subsector.as_str(), space_id(&s.space)), s)).collect();
        let mut managers_changed = Vec::new();
        for s in &aa.spaces {
            let id = space_id(&s.space);
            // A transferred part `IDU/n` is compared with the parcel it was cut from.
            let origin = id.split('/').next().unwrap_or(id);
            let old = before.get(&(s.subsector.as_str(), origin));
            for a in &s.assignments {
                let old_a = old.and_then(|b| b.assignments.iter().find(|x| x.intervention == a.intervention));
                let (was, is) = (
                    old_a.and_then(|o| o.service.as_ref()).map(|x| x.id.clone()),
                    a.service.as_ref().map(|x| x.id.clone()),
                );
                // The service, or (where none is named) the responsible actor.
                if old_a.is_none_or(|o| was != is || o.actor != a.actor) {
                    managers_changed.push(ManagerChange {
                        subsector: s.subsector.clone(),
                        space: id.to_owned(),
                        intervention: a.intervention.clone(),
                        before: was,
                        after: is,
                        area_m2: s.area_m2,
                        why: a.explanation.clone(),
                    });
                }
            }
        }
        Ok(ScenarioReport { date, transfers: summaries, subsectors_changed, managers_changed })
    }

    /// The part of the snapshot `transfers` can change: the parcels they touch (checked against
    /// the whole snapshot, so an unknown IDU is still an error), the sub-sectors whose boxes meet
    /// them, every parcel meeting those sub-sectors, and the conventions. Found through the
    /// R-tree; copied, never the whole territory.
    fn around_transfers(&self, transfers: &[Transfer]) -> Result<Snapshot, ScenarioError> {
        use geo::BoundingRect;
        let mut keep = std::collections::BTreeSet::new();
        let mut boxes: Vec<geo_types::Rect<f64>> = Vec::new();
        for (k, t) in transfers.iter().enumerate() {
            match (&t.idu, &t.polygon) {
                (Some(idu), None) => {
                    let i = self.by_idu.get(idu).ok_or_else(|| {
                        ScenarioError(format!("transfer {}: parcel {idu} is not in the store", k + 1))
                    })?;
                    keep.insert(i);
                    boxes.extend(self.parcels[i].geom_l93.bounding_rect());
                }
                (None, Some(ring)) => {
                    let rect = ring_shape(ring).and_then(|s| s.bounding_rect()).ok_or_else(|| {
                        ScenarioError(format!("transfer {}: a polygon needs at least 3 points", k + 1))
                    })?;
                    keep.extend(self.index.meeting(rect));
                    boxes.push(rect);
                }
                _ => return Err(ScenarioError(format!("transfer {}: give either `idu` or `polygon`", k + 1))),
            }
        }
        let meets = |a: &geo_types::Rect<f64>, b: &geo_types::Rect<f64>| {
            a.min().x <= b.max().x && b.min().x <= a.max().x && a.min().y <= b.max().y && b.min().y <= a.max().y
        };
        let zones: Vec<Zone> = self
            .subsectors
            .iter()
            .filter(|z| z.geom_l93.bounding_rect().is_some_and(|r| boxes.iter().any(|b| meets(&r, b))))
            .cloned()
            .collect();
        for z in &zones {
            if let Some(r) = z.geom_l93.bounding_rect() {
                keep.extend(self.index.meeting(r));
            }
        }
        let parcels = keep.iter().map(|&i| self.parcels[i].clone()).collect();
        let holdings = keep.iter().map(|&i| self.holdings[i].clone()).collect();
        let mut local = Snapshot::from_parts(parcels, holdings, zones, Vec::new(), self.conventions.clone())
            .map_err(|e| ScenarioError(e.to_string()))?;
        local.versions.clone_from(&self.versions);
        Ok(local)
    }

    /// A copy of the snapshot with the transfers applied, in order; the store is not touched.
    /// A polygon transfer splits each parcel it cuts: the part inside becomes a new space
    /// `IDU/n` held by the new owner, the rest keeps its owners.
    pub fn with_transfers(&self, transfers: &[Transfer]) -> Result<Snapshot, ScenarioError> {
        Ok(self.with_transfers_summarised(transfers)?.0)
    }

    fn with_transfers_summarised(
        &self,
        transfers: &[Transfer],
    ) -> Result<(Snapshot, Vec<TransferSummary>), ScenarioError> {
        let mut snap = self.clone();
        let mut summaries = Vec::with_capacity(transfers.len());
        for (k, t) in transfers.iter().enumerate() {
            let owner = Holding::of(vec![OwnerRef {
                siren: t.to.siren.as_str().into(),
                name: t.to.name.as_str().into(),
                actor: t.to.actor,
            }]);
            match (&t.idu, &t.polygon) {
                (Some(idu), None) => {
                    let i = snap.by_idu.get(idu).ok_or_else(|| {
                        ScenarioError(format!("transfer {}: parcel {idu} is not in the store", k + 1))
                    })?;
                    snap.holdings[i] = owner;
                    summaries.push(TransferSummary {
                        transfer: k + 1,
                        parcels: vec![idu.clone()],
                        land_m2: geo::Area::unsigned_area(&snap.parcels[i].geom_l93),
                        non_cadastre_left_m2: 0.0,
                        note: format!("parcel {idu} given whole to {}", t.to.name),
                    });
                }
                (None, Some(ring)) => {
                    let shape = ring_shape(ring).ok_or_else(|| {
                        ScenarioError(format!("transfer {}: a polygon needs at least 3 points", k + 1))
                    })?;
                    let mut touched = Vec::new();
                    let mut land_m2 = 0.0;
                    let mut candidates: Vec<usize> = match geo::BoundingRect::bounding_rect(&shape) {
                        Some(r) => snap.index.meeting(r).collect(),
                        None => Vec::new(),
                    };
                    // Parts cut by an earlier transfer of the same scenario are not in the index.
                    candidates.extend(self.parcels.len()..snap.parcels.len());
                    candidates.sort_unstable();
                    candidates.dedup();
                    for i in candidates {
                        if !boxes_meet(&shape, &snap.parcels[i].geom_l93) {
                            continue;
                        }
                        let inside = snap.parcels[i].geom_l93.intersection(&shape);
                        let inside_m2 = geo::Area::unsigned_area(&inside);
                        if inside_m2 < domania_core::overlay::SLIVER_M2 {
                            continue;
                        }
                        touched.push(snap.parcels[i].idu.clone());
                        land_m2 += inside_m2;
                        let rest = snap.parcels[i].geom_l93.difference(&shape);
                        let idu = format!("{}/{}", snap.parcels[i].idu, k + 1);
                        snap.parcels[i].geom_l93 = rest;
                        snap.by_idu.insert(&idu, snap.parcels.len());
                        snap.parcels.push(ParcelRec { idu, contenance: None, geom_l93: inside });
                        snap.holdings.push(owner.clone());
                    }
                    if touched.is_empty() {
                        return Err(ScenarioError(format!("transfer {}: the polygon holds no parcel land", k + 1)));
                    }
                    let left = (geo::Area::unsigned_area(&shape) - land_m2).max(0.0);
                    summaries.push(TransferSummary {
                        transfer: k + 1,
                        note: format!(
                            "{} parcel(s) cut, {land_m2:.0} m² given to {}; {left:.0} m² of the polygon is \
                             non-cadastré space, which no owner can give: not transferred",
                            touched.len(),
                            t.to.name
                        ),
                        parcels: touched,
                        land_m2,
                        non_cadastre_left_m2: left,
                    });
                }
                _ => return Err(ScenarioError(format!("transfer {}: give either `idu` or `polygon`", k + 1))),
            }
        }
        let Snapshot { parcels, holdings, subsectors, qpv, conventions, versions, .. } = snap;
        let mut snap = Snapshot::from_parts(parcels, holdings, subsectors, qpv, conventions)
            .map_err(|e| ScenarioError(e.to_string()))?;
        snap.versions = versions;
        Ok((snap, summaries))
    }
}

/// Whether the bounding boxes of two shapes meet (edges included): the cheap test before an
/// exact boolean operation.
fn boxes_meet(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> bool {
    use geo::{BoundingRect, Intersects};
    match (a.bounding_rect(), b.bounding_rect()) {
        (Some(ra), Some(rb)) => ra.intersects(&rb),
        _ => false,
    }
}

/// A polygon from a Lambert-93 ring of `[x, y]` (closed or not); `None` under 3 points.
fn ring_shape(ring: &[[f64; 2]]) -> Option<MultiPolygon<f64>> {
    (ring.len() >= 3).then(|| {
        let ls = geo_types::LineString::from(ring.iter().map(|&[x, y]| (x, y)).collect::<Vec<_>>());
        MultiPolygon::new(vec![geo_types::Polygon::new(ls, vec![])])
    })
}

/// Parcels closer than this (m) are neighbours in a block: Etalab coordinates are rounded to
/// 1e-7 degree (about a centimetre), which opens hairline gaps between parcels that touch.
pub const BLOCK_TOUCH_M: f64 = 0.1;

/// Root of `x` in a union-find forest, halving paths on the way.
fn find(p: &mut [usize], mut x: usize) -> usize {
    while p[x] != x {
        p[x] = p[p[x]];
        x = p[x];
    }
    x
}

/// A candidate sub-sector: a connected group of parcels bounded by non-cadastré space.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Block {
    pub parcels: Vec<String>,
    /// Union of the parcels, clipped to the zone it was derived in (Lambert-93).
    #[serde(skip)]
    pub geom_l93: MultiPolygon<f64>,
    pub area_m2: f64,
}

impl Snapshot {
    /// The blocks (*îlots*) inside `zone`: the parts of parcels inside the zone, grouped into
    /// connected components (sharing a boundary, or within [`BLOCK_TOUCH_M`]) *inside the zone*
    /// — two parcels that touch only outside it are not joined; each block is the union of its
    /// parts. Largest first.
    #[must_use]
    pub fn blocks(&self, zone: &MultiPolygon<f64>) -> Vec<Block> {
        use geo::{Area, BoundingRect, Distance, Euclidean, Intersects};
        use rstar::{AABB, RTree, RTreeObject, primitives::GeomWithData, primitives::Rectangle};
        // (parcel index, its part inside the zone).
        let members: Vec<(usize, MultiPolygon<f64>)> = (0..self.parcels.len())
            .filter(|&i| boxes_meet(zone, &self.parcels[i].geom_l93))
            .map(|i| (i, zone.intersection(&self.parcels[i].geom_l93)))
            .filter(|(_, part)| part.unsigned_area() >= domania_core::overlay::SLIVER_M2)
            .collect();
        let boxes: Vec<_> = members
            .iter()
            .enumerate()
            .filter_map(|(k, (_, part))| {
                part.bounding_rect().map(|r| {
                    let e = AABB::from_corners(
                        [r.min().x - BLOCK_TOUCH_M, r.min().y - BLOCK_TOUCH_M],
                        [r.max().x + BLOCK_TOUCH_M, r.max().y + BLOCK_TOUCH_M],
                    );
                    GeomWithData::new(Rectangle::from_aabb(e), k)
                })
            })
            .collect();
        let tree = RTree::bulk_load(boxes.clone());
        // Union-find over the members.
        let mut parent: Vec<usize> = (0..members.len()).collect();
        for b in &boxes {
            let k = b.data;
            let a = &members[k].1;
            for other in tree.locate_in_envelope_intersecting(b.geom().envelope()) {
                let j = other.data;
                if j <= k || find(&mut parent, k) == find(&mut parent, j) {
                    continue;
                }
                let bgeom = &members[j].1;
                let near = a.intersects(bgeom)
                    || a.0.iter().any(|p| bgeom.0.iter().any(|q| Euclidean.distance(p, q) < BLOCK_TOUCH_M));
                if near {
                    let (rk, rj) = (find(&mut parent, k), find(&mut parent, j));
                    parent[rk] = rj;
                }
            }
        }
        let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for k in 0..members.len() {
            let r = find(&mut parent, k);
            groups.entry(r).or_default().push(k);
        }
        let mut blocks: Vec<Block> = groups
            .into_values()
            .map(|ks| {
                let geom_l93 = geo::unary_union(ks.iter().map(|&k| &members[k].1));
                Block {
                    parcels: ks.iter().map(|&k| self.parcels[members[k].0].idu.clone()).collect(),
                    area_m2: geom_l93.unsigned_area(),
                    geom_l93,
                }
            })
            .collect();
        blocks.sort_by(|a, b| b.area_m2.total_cmp(&a.area_m2));
        blocks
    }
}

/// A procedure perimeter, defined from any mix of a polygon, parcels, owners' residences,
/// sub-sectors and earlier perimeters (merged): the union of them all.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PerimeterDef {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// A Lambert-93 ring of `[x, y]`.
    #[serde(default)]
    pub polygon: Option<Vec<[f64; 2]>>,
    /// IDUs.
    #[serde(default)]
    pub parcels: Vec<String>,
    /// SIRENs: every parcel these owners hold (a bailleur's residences).
    #[serde(default)]
    pub owners: Vec<String>,
    /// Sub-sector keys.
    #[serde(default)]
    pub subsectors: Vec<String>,
    /// Ids of perimeters defined earlier in the same file.
    #[serde(default)]
    pub merge: Vec<String>,
}

/// Area managed, per intervention kind and per responsible actor, inside a perimeter.
pub type ManagedAreas = BTreeMap<String, BTreeMap<Actor, f64>>;

/// The figures of one procedure perimeter (see [`Snapshot::perimeter_figures`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerimeterFigures {
    pub area_m2: f64,
    /// The part of the perimeter inside at least one sub-sector, counted once.
    pub in_subsectors_m2: f64,
    /// The part outside every sub-sector: no rule assigns it a manager, so it is in no figure
    /// of `managed_m2`.
    pub outside_subsectors_m2: f64,
    /// Per intervention kind and responsible actor; for each kind the figures add up to
    /// `in_subsectors_m2`.
    pub managed_m2: ManagedAreas,
}

impl Snapshot {
    /// Builds the perimeters of `defs` in order (a `merge` may name only earlier ones).
    pub fn perimeters(&self, defs: &[PerimeterDef]) -> Result<Vec<(String, MultiPolygon<f64>)>, ScenarioError> {
        let mut built: Vec<(String, MultiPolygon<f64>)> = Vec::new();
        for d in defs {
            let err = |what: String| ScenarioError(format!("perimeter {}: {what}", d.id));
            let mut parts: Vec<MultiPolygon<f64>> = Vec::new();
            if let Some(ring) = &d.polygon {
                parts.push(ring_shape(ring).ok_or_else(|| err("a polygon needs at least 3 points".into()))?);
            }
            for idu in &d.parcels {
                let (p, _) = self.parcel(idu).ok_or_else(|| err(format!("parcel {idu} is not in the store")))?;
                parts.push(p.geom_l93.clone());
            }
            for siren in &d.owners {
                let before = parts.len();
                for (p, h) in self.parcels.iter().zip(&self.holdings) {
                    if h.owners.iter().any(|o| *o.siren == **siren) {
                        parts.push(p.geom_l93.clone());
                    }
                }
                if parts.len() == before {
                    return Err(err(format!("owner {siren} holds no parcel")));
                }
            }
            for key in &d.subsectors {
                let z = self
                    .subsectors
                    .iter()
                    .find(|z| &z.key == key)
                    .ok_or_else(|| err(format!("no sub-sector {key}")))?;
                parts.push(z.geom_l93.clone());
            }
            for id in &d.merge {
                let (_, g) = built
                    .iter()
                    .find(|(k, _)| k == id)
                    .ok_or_else(|| err(format!("no earlier perimeter {id} to merge")))?;
                parts.push(g.clone());
            }
            if parts.is_empty() {
                return Err(err("empty: give a polygon, parcels, owners, subsectors or merge".into()));
            }
            built.push((d.id.clone(), geo::unary_union(parts.iter())));
        }
        Ok(built)
    }

    /// The figures of a procedure perimeter from an assignment computed with geometry
    /// ([`Snapshot::assign_with_geometry`]): the area each responsible actor manages there per
    /// intervention kind, each square metre once — where sub-sectors overlap, the land counts
    /// for the first of them by key only —, and the land outside every sub-sector, which no
    /// rule assigns, stated apart rather than left out.
    #[must_use]
    pub fn perimeter_figures(&self, report: &AssignReport, perimeter: &MultiPolygon<f64>) -> PerimeterFigures {
        use geo::Area;
        // The sub-sectors this perimeter meets, in key order, and the part of each that no
        // earlier one covers (None: it overlaps none of them).
        let near: Vec<&Zone> = self.subsectors.iter().filter(|z| boxes_meet(perimeter, &z.geom_l93)).collect();
        let mut own: std::collections::HashMap<&str, Option<MultiPolygon<f64>>> = std::collections::HashMap::new();
        for (i, z) in near.iter().enumerate() {
            let earlier: Vec<&MultiPolygon<f64>> = near[..i]
                .iter()
                .filter(|e| {
                    boxes_meet(&e.geom_l93, &z.geom_l93)
                        && e.geom_l93.intersection(&z.geom_l93).unsigned_area() > domania_core::overlay::OVERLAP_EPS_M2
                })
                .map(|e| &e.geom_l93)
                .collect();
            let exclusive = (!earlier.is_empty()).then(|| z.geom_l93.difference(&geo::unary_union(earlier)));
            own.insert(z.key.as_str(), exclusive);
        }
        let mut managed: ManagedAreas = BTreeMap::new();
        for s in &report.spaces {
            let Some(g) = &s.geom_l93 else { continue };
            let Some(exclusive) = own.get(s.subsector.as_str()) else { continue };
            if !boxes_meet(perimeter, g) {
                continue;
            }
            let clipped = perimeter.intersection(g);
            let inside = match exclusive {
                Some(ex) => clipped.intersection(ex).unsigned_area(),
                None => clipped.unsigned_area(),
            }
            .min(s.area_m2);
            if inside <= 0.0 {
                continue;
            }
            for a in &s.assignments {
                *managed.entry(a.intervention.clone()).or_default().entry(a.actor).or_default() += inside;
            }
        }
        let area_m2 = perimeter.unsigned_area();
        let in_subsectors_m2 = if near.is_empty() {
            0.0
        } else {
            perimeter.intersection(&geo::unary_union(near.iter().map(|z| &z.geom_l93))).unsigned_area().min(area_m2)
        };
        PerimeterFigures {
            area_m2,
            in_subsectors_m2,
            outside_subsectors_m2: (area_m2 - in_subsectors_m2).max(0.0),
            managed_m2: managed,
        }
    }
}

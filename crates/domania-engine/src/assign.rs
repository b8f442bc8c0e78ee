//! The rules applied to a snapshot: a decision per sub-sector, then a manager per space and
//! intervention kind, each with its explanation.

use domania_core::overlay::{Overlay, OverlayOptions, Piece, ZoneOverlay};
use domania_rules::{Assignment, Rules, SpaceKind, SubsectorDecision};
use geo::{Area, BooleanOps, Contains, InteriorPoint};
use geo_types::{MultiPolygon, Point};
use jiff::civil::Date;
use serde::Serialize;

use crate::shares::{Land, SharesReport};
use crate::snapshot::Snapshot;

/// One space of a sub-sector with its manager for every intervention kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpaceAssignment {
    pub subsector: String,
    pub space: SpaceKind,
    pub area_m2: f64,
    /// The part of `area_m2` no earlier sub-sector (in store order) already holds: where
    /// sub-sectors overlap, the overlapped ground is a space of each, and a total over
    /// `counted_m2` counts it once (the spaces' `counted_m2` add up to the union of the
    /// sub-sectors). Equal to `area_m2` where the sub-sector overlaps no other.
    pub counted_m2: f64,
    /// The other sub-sectors this space lies partly in (sorted; empty for most).
    pub overlaps: Vec<String>,
    /// Shared: a space no change reaches keeps its managers in the next snapshot
    /// ([`Snapshot::assign_again`]) without a copy.
    pub assignments: std::sync::Arc<[Assignment]>,
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

/// Overlaps smaller than this (m²) are two boundaries drawn along the same line, not ground
/// held by two sub-sectors.
const OVERLAP_M2: f64 = 0.01;

/// The spaces of one sub-sector, in the order of a [`Cut`] and an [`AssignReport`]: each of its
/// pieces of parcels, then `None` for its non-cadastré space when it has one.
fn spaces_of(z: &ZoneOverlay) -> impl Iterator<Item = Option<&Piece>> {
    z.pieces.iter().map(Some).chain((z.non_cadastre_m2 > 0.0).then_some(None))
}

/// For each sub-sector, the others whose shapes share ground with it (more than
/// [`OVERLAP_M2`]), found through their boxes.
fn overlapping_zones(zones: &[crate::snapshot::Zone]) -> Vec<Vec<usize>> {
    use geo::BoundingRect;
    use rstar::primitives::{GeomWithData, Rectangle};
    let boxes: Vec<GeomWithData<Rectangle<[f64; 2]>, usize>> = zones
        .iter()
        .enumerate()
        .filter_map(|(i, z)| {
            let b = z.geom_l93.bounding_rect()?;
            Some(GeomWithData::new(Rectangle::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]), i))
        })
        .collect();
    let tree = rstar::RTree::bulk_load(boxes.clone());
    let mut out = vec![Vec::new(); zones.len()];
    for b in &boxes {
        for other in tree.locate_in_envelope_intersecting(rstar::RTreeObject::envelope(b.geom())) {
            let (i, j) = (b.data, other.data);
            if i < j && zones[i].geom_l93.intersection(&zones[j].geom_l93).unsigned_area() > OVERLAP_M2 {
                out[i].push(j);
                out[j].push(i);
            }
        }
    }
    out
}

/// The shape work of an assign, which no rule changes: the overlay of the sub-sectors and, for
/// every space (each sub-sector's pieces of parcels, then its non-cadastré space when it has
/// one), the point where the conventions' perimeters are tested, its shape and how it overlaps
/// other sub-sectors. What a snapshot file keeps, so that a start does not cut shapes again.
#[derive(Debug, Clone, PartialEq)]
pub struct Cut {
    pub overlay: Overlay,
    /// In the order of [`AssignReport::spaces`].
    pub spaces: Vec<CutSpace>,
}

/// One space of a [`Cut`].
#[derive(Debug, Clone, PartialEq)]
pub struct CutSpace {
    /// A point inside the space (only when the cut was asked for points: rules with conventions).
    pub point: Option<Point<f64>>,
    /// See [`SpaceAssignment::counted_m2`].
    pub counted_m2: f64,
    /// See [`SpaceAssignment::overlaps`].
    pub overlaps: Vec<String>,
    /// The space's shape (only when the cut was asked for shapes); [`Snapshot::assign_cut`]
    /// moves it into the report.
    pub geom_l93: Option<MultiPolygon<f64>>,
}

impl Snapshot {
    /// Decisions and assignments for every sub-sector on `date`.
    #[must_use]
    pub fn assign(&self, rules: &Rules, date: Date, opts: OverlayOptions) -> (SharesReport, AssignReport) {
        let mut cut = self.cut(!rules.config().conventions.is_empty(), false, opts);
        self.assign_cut(rules, date, &mut cut)
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
        let mut cut = self.cut(!rules.config().conventions.is_empty(), true, opts);
        self.assign_cut(rules, date, &mut cut)
    }

    /// The shape work of an assign ([`Cut`]): with a point inside every space when `points`
    /// (what rules with conventions need), with every space's shape when `geometry`.
    #[must_use]
    pub fn cut(&self, points: bool, geometry: bool, opts: OverlayOptions) -> Cut {
        let overlay = self.overlay(&self.subsectors, opts);
        let overlapping = overlapping_zones(&self.subsectors);
        let mut spaces = Vec::new();
        for z in &overlay.zones {
            self.cut_zone_flagged(z, &overlapping[z.zone], points, geometry, &mut spaces);
        }
        Cut { overlay, spaces }
    }

    /// Shares, decisions and every space's managers with `rules` on `date`, from the shapes
    /// cut already (by [`Snapshot::cut`], with points if the rules have conventions): the
    /// spaces' shapes move into the report, the rest of `cut` stays as it was.
    #[must_use]
    pub fn assign_cut(&self, rules: &Rules, date: Date, cut: &mut Cut) -> (SharesReport, AssignReport) {
        let include_nc = rules.config().delegation.include_non_cadastre;
        let shares = self.shares_of(&self.subsectors, &cut.overlay, include_nc);
        let mut decisions = Vec::with_capacity(cut.overlay.zones.len());
        let mut spaces = Vec::with_capacity(cut.spaces.len());
        let mut cut_spaces = cut.spaces.iter_mut();
        for (z, ks) in cut.overlay.zones.iter().zip(&shares.zones) {
            let decision = rules.decide_subsector(&ks.key, &ks.shares);
            for (piece, c) in spaces_of(z).zip(&mut cut_spaces) {
                let geom_l93 = c.geom_l93.take();
                spaces.push(self.space_assigned(rules, date, z, &decision, piece, c, geom_l93));
            }
            decisions.push(decision);
        }
        (shares, AssignReport { date, decisions, spaces })
    }

    /// [`Snapshot::assign_cut`] again after a change of some parcels' holdings alone
    /// (`changed[i]` for parcel `i`), from what it gave before (`before`, with the same rules on
    /// the same date, from the same `cut` — whose spaces' shapes are in `before`'s report): a
    /// sub-sector none of whose parcels changed keeps its shares, decision and managers (shared,
    /// not worked out again: they depend on nothing else); the others are worked out as
    /// `assign_cut` does.
    #[must_use]
    pub fn assign_again(
        &self,
        rules: &Rules,
        date: Date,
        cut: &Cut,
        before: (&SharesReport, &AssignReport),
        changed: &[bool],
    ) -> (SharesReport, AssignReport) {
        let include_nc = rules.config().delegation.include_non_cadastre;
        let (shares_before, assign_before) = before;
        let contenance: Vec<Option<f64>> = self.parcels.iter().map(|p| p.contenance.map(|c| c as f64)).collect();
        let land = Land { idu: &|i| &self.parcels[i].idu, contenance: &contenance, holdings: &self.holdings };
        let mut zones = Vec::with_capacity(cut.overlay.zones.len());
        let mut decisions = Vec::with_capacity(cut.overlay.zones.len());
        let mut spaces = Vec::with_capacity(cut.spaces.len());
        let mut from = 0;
        for (i, z) in cut.overlay.zones.iter().enumerate() {
            let n = spaces_of(z).count();
            let range = from..from + n;
            from += n;
            if !z.pieces.iter().any(|p| changed[p.parcel]) {
                zones.push(shares_before.zones[i].clone());
                decisions.push(assign_before.decisions[i].clone());
                spaces.extend_from_slice(&assign_before.spaces[range]);
                continue;
            }
            let ks = land.keyed(&self.subsectors, z, include_nc);
            let decision = rules.decide_subsector(&ks.key, &ks.shares);
            for ((piece, c), was) in spaces_of(z).zip(&cut.spaces[range.clone()]).zip(&assign_before.spaces[range]) {
                spaces.push(self.space_assigned(rules, date, z, &decision, piece, c, was.geom_l93.clone()));
            }
            zones.push(ks);
            decisions.push(decision);
        }
        let shares = SharesReport { method: shares_before.method, zones, overlaps: shares_before.overlaps.clone() };
        (shares, AssignReport { date, decisions, spaces })
    }

    /// The [`Cut`] of this snapshot, spliced by [`Snapshot::with_parcels_of`] (`splice`) from
    /// one whose cut was `cut` (with points when `points`, with shapes), worked out again only
    /// where the change reaches: the sub-sectors whose boxes meet a parcel removed or changed
    /// (as it was) or new or changed (as it is) are cut again; the others keep their pieces,
    /// renumbered, and their spaces (whose shapes are in the report made from `cut`); the
    /// overlaps of the parcels are those of `cut` between parcels kept, and those of the fresh
    /// parcels looked for anew. With which sub-sectors were cut again. What [`Snapshot::cut`]
    /// gives; `None` when `cut` is not of the snapshot `splice` was made from.
    #[must_use]
    pub fn cut_spliced(
        &self,
        cut: &Cut,
        splice: &crate::Splice,
        points: bool,
        opts: OverlayOptions,
    ) -> Option<(Cut, Vec<bool>)> {
        use geo::BoundingRect;
        use rstar::primitives::{GeomWithData, Rectangle};
        if cut.overlay.zones.len() != self.subsectors.len() || splice.fresh.len() != self.parcels.len() {
            return None;
        }
        let corners = |r: geo_types::Rect<f64>| Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
        let boxes: Vec<GeomWithData<Rectangle<[f64; 2]>, usize>> = (self.subsectors.iter().enumerate())
            .filter_map(|(i, z)| Some(GeomWithData::new(corners(z.geom_l93.bounding_rect()?), i)))
            .collect();
        let tree = rstar::RTree::bulk_load(boxes);
        let mut dirty = vec![false; self.subsectors.len()];
        let fresh =
            (self.parcels.iter().zip(&splice.fresh)).filter(|(_, f)| **f).map(|(p, _)| p.geom_l93.bounding_rect());
        for r in splice.gone.iter().copied().chain(fresh.flatten()) {
            for z in tree.locate_in_envelope_intersecting(rstar::RTreeObject::envelope(&corners(r))) {
                dirty[z.data] = true;
            }
        }
        let parcels: Vec<&MultiPolygon<f64>> = self.parcels.iter().map(|p| &p.geom_l93).collect();
        let again: Vec<&MultiPolygon<f64>> =
            (self.subsectors.iter().zip(&dirty)).filter(|(_, d)| **d).map(|(z, _)| &z.geom_l93).collect();
        let mut cut_again =
            domania_core::overlay::overlay_indexed(&parcels, &self.index, &again, opts).zones.into_iter();
        let kept = cut.overlay.overlaps.iter().filter_map(|o| {
            Some(domania_core::overlay::Overlap { a: splice.moved[o.a]?, b: splice.moved[o.b]?, area_m2: o.area_m2 })
        });
        let zones: Vec<&MultiPolygon<f64>> = self.subsectors.iter().map(|z| &z.geom_l93).collect();
        let overlaps =
            domania_core::overlay::overlaps_again(&parcels, &self.index, &zones, kept.collect(), &splice.fresh, opts);
        let overlapping = overlapping_zones(&self.subsectors);
        let (mut zones, mut spaces) = (Vec::with_capacity(dirty.len()), Vec::with_capacity(cut.spaces.len()));
        let mut from = 0;
        for (old, &again) in cut.overlay.zones.iter().zip(&dirty) {
            let range = from..from + spaces_of(old).count();
            from = range.end;
            let z = if again {
                let z = ZoneOverlay { zone: old.zone, ..cut_again.next()? };
                self.cut_zone_flagged(&z, &overlapping[z.zone], points, true, &mut spaces);
                z
            } else {
                spaces.extend_from_slice(cut.spaces.get(range)?);
                let mut z = old.clone();
                for p in &mut z.pieces {
                    p.parcel = (*splice.moved.get(p.parcel)?)?;
                }
                z
            };
            zones.push(z);
        }
        Some((Cut { overlay: Overlay { zones, overlaps }, spaces }, dirty))
    }

    /// [`Snapshot::assign_cut`] of a cut made by [`Snapshot::cut_spliced`] from `before_cut`
    /// (`again[z]`: whether sub-sector `z` was cut again), from what `before_cut` gave with the
    /// same rules on the same date (`before`): the sub-sectors not cut again keep their shares,
    /// decision and managers (shared: their parcels and holdings are the same); the others are
    /// worked out, their spaces' shapes moved from `cut` into the report.
    #[must_use]
    pub fn assign_spliced(
        &self,
        rules: &Rules,
        date: Date,
        cut: &mut Cut,
        before_cut: &Cut,
        before: (&SharesReport, &AssignReport),
        again: &[bool],
    ) -> (SharesReport, AssignReport) {
        let include_nc = rules.config().delegation.include_non_cadastre;
        let (shares_before, assign_before) = before;
        let contenance: Vec<Option<f64>> = self.parcels.iter().map(|p| p.contenance.map(|c| c as f64)).collect();
        let land = Land { idu: &|i| &self.parcels[i].idu, contenance: &contenance, holdings: &self.holdings };
        let n = cut.overlay.zones.len();
        let (mut zones, mut decisions) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut spaces = Vec::with_capacity(cut.spaces.len());
        let (mut old_from, mut new_from) = (0, 0);
        let Cut { overlay, spaces: cut_spaces } = cut;
        for (i, (z, old)) in overlay.zones.iter().zip(&before_cut.overlay.zones).enumerate() {
            let old_range = old_from..old_from + spaces_of(old).count();
            let new_range = new_from..new_from + spaces_of(z).count();
            (old_from, new_from) = (old_range.end, new_range.end);
            if !again[i] {
                zones.push(shares_before.zones[i].clone());
                decisions.push(assign_before.decisions[i].clone());
                spaces.extend_from_slice(&assign_before.spaces[old_range]);
                continue;
            }
            let ks = land.keyed(&self.subsectors, z, include_nc);
            let decision = rules.decide_subsector(&ks.key, &ks.shares);
            for (piece, c) in spaces_of(z).zip(&mut cut_spaces[new_range]) {
                let geom_l93 = c.geom_l93.take();
                spaces.push(self.space_assigned(rules, date, z, &decision, piece, c, geom_l93));
            }
            zones.push(ks);
            decisions.push(decision);
        }
        let shares = SharesReport { method: shares_before.method, zones, overlaps: land.overlaps(overlay) };
        (shares, AssignReport { date, decisions, spaces })
    }

    /// The managers of one space of the sub-sector `z` (its `piece`, or its non-cadastré space
    /// for `None`) under its `decision`, with its cut `c` and its shape.
    #[allow(clippy::too_many_arguments)]
    fn space_assigned(
        &self,
        rules: &Rules,
        date: Date,
        z: &ZoneOverlay,
        decision: &SubsectorDecision,
        piece: Option<&Piece>,
        c: &CutSpace,
        geom_l93: Option<MultiPolygon<f64>>,
    ) -> SpaceAssignment {
        let zone = &self.subsectors[z.zone];
        let (space, area_m2) = match piece {
            Some(p) => {
                let actor = self.holdings[p.parcel].actor();
                (SpaceKind::Parcel { idu: self.parcels[p.parcel].idu.clone(), actor }, p.area_m2)
            }
            None => (SpaceKind::NonCadastre, z.non_cadastre_m2),
        };
        let here = self.conventions_at(rules, &zone.key, c.point);
        let here: Vec<&str> = here.iter().map(String::as_str).collect();
        SpaceAssignment {
            subsector: zone.key.clone(),
            assignments: rules.assign(decision, &space, &here, date).into(),
            space,
            area_m2,
            counted_m2: c.counted_m2,
            overlaps: c.overlaps.clone(),
            geom_l93,
        }
    }

    /// Flags the spaces of a sub-sector that overlaps others: each names the other
    /// sub-sectors it lies in, and its `counted_m2` leaves out what earlier ones hold.
    fn flag_overlaps(&self, z: &ZoneOverlay, others: &[usize], spaces: &mut [CutSpace]) {
        let zone = &self.subsectors[z.zone];
        let earlier: Vec<MultiPolygon<f64>> = others
            .iter()
            .filter(|&&o| o < z.zone)
            .map(|&o| zone.geom_l93.intersection(&self.subsectors[o].geom_l93))
            .collect();
        let earlier = geo::unary_union(earlier.iter());
        let parcels = || geo::unary_union(z.pieces.iter().map(|p| &self.parcels[p.parcel].geom_l93));
        for (s, piece) in spaces.iter_mut().zip(spaces_of(z)) {
            let shape = match (&s.geom_l93, piece) {
                (Some(g), _) => g.clone(),
                (None, Some(p)) if p.whole => self.parcels[p.parcel].geom_l93.clone(),
                (None, Some(p)) => zone.geom_l93.intersection(&self.parcels[p.parcel].geom_l93),
                (None, None) => zone.geom_l93.difference(&parcels()),
            };
            let area_m2 = piece.map_or(z.non_cadastre_m2, |p| p.area_m2);
            let held_before = shape.intersection(&earlier).unsigned_area();
            s.counted_m2 = (area_m2 - held_before).clamp(0.0, area_m2) + 0.0;
            s.overlaps = others
                .iter()
                .filter(|&&o| shape.intersection(&self.subsectors[o].geom_l93).unsigned_area() > OVERLAP_M2)
                .map(|&o| self.subsectors[o].key.clone())
                .collect();
            s.overlaps.sort();
        }
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

    /// The spaces of one sub-sector ([`cut_zone`](Self::cut_zone)), flagged where it overlaps
    /// the sub-sectors `others` ([`flag_overlaps`](Self::flag_overlaps)).
    fn cut_zone_flagged(
        &self,
        z: &ZoneOverlay,
        others: &[usize],
        points: bool,
        geometry: bool,
        out: &mut Vec<CutSpace>,
    ) {
        let from = out.len();
        self.cut_zone(z, points, geometry, out);
        if !others.is_empty() {
            self.flag_overlaps(z, others, &mut out[from..]);
        }
    }

    /// The spaces of one sub-sector ([`spaces_of`]).
    fn cut_zone(&self, z: &ZoneOverlay, points: bool, geometry: bool, out: &mut Vec<CutSpace>) {
        let zone = &self.subsectors[z.zone];
        for piece in spaces_of(z) {
            let (point, geom_l93) = if let Some(p) = piece {
                let parcel = &self.parcels[p.parcel].geom_l93;
                // The part inside, cut once for the point and the shape alike.
                let cut = (!p.whole && (points || geometry)).then(|| zone.geom_l93.intersection(parcel));
                let point = if points { cut.as_ref().unwrap_or(parcel).interior_point() } else { None };
                (point, geometry.then(|| cut.unwrap_or_else(|| parcel.clone())))
            } else {
                let point = if points { zone.geom_l93.interior_point() } else { None };
                let geom_l93 = geometry.then(|| {
                    let union = geo::unary_union(z.pieces.iter().map(|p| &self.parcels[p.parcel].geom_l93));
                    zone.geom_l93.difference(&union)
                });
                (point, geom_l93)
            };
            let counted_m2 = piece.map_or(z.non_cadastre_m2, |p| p.area_m2);
            out.push(CutSpace { point, counted_m2, overlaps: Vec::new(), geom_l93 });
        }
    }
}

/// A [`Cut`] in a snapshot file (`domania_core::flat`).
mod file {
    use domania_core::flat::{FlatError, FlatReader, FlatWriter, check_offsets};
    use domania_core::overlay::{Overlap, Overlay, Piece, ZoneOverlay};
    use geo_types::{MultiPolygon, Point};

    use domania_store::Layer;

    use super::{Cut, CutSpace, SpaceAssignment, spaces_of};
    use crate::snapshot::{Ledger, Snapshot};

    /// No shape, the whole parcel's, its own (in the shapes section).
    const NO_SHAPE: u8 = 0;
    const PARCEL_SHAPE: u8 = 1;
    const OWN_SHAPE: u8 = 2;

    /// The offsets of lists of `counts` items each, one after the other: 0, then each end.
    fn starts(counts: impl Iterator<Item = usize>) -> Vec<u64> {
        let mut end = 0u64;
        std::iter::once(0)
            .chain(counts.map(|n| {
                end += n as u64;
                end
            }))
            .collect()
    }

    impl Snapshot {
        /// Appends the snapshot and its `cut` to a snapshot file (`spaces`: the report
        /// [`Snapshot::assign_cut`] moved the cut's shapes into), what land figures need first:
        /// the snapshot's ledger and the sub-sectors' overlay, a checkpoint (they can be read
        /// and trusted without the rest: `domania_core::flat::read_head`), then the parcels'
        /// shapes, the addresses, the R-tree and the spaces.
        pub fn write_with_cut<W: std::io::Write>(
            &self,
            cut: &Cut,
            spaces: &[SpaceAssignment],
            w: &mut FlatWriter<W>,
        ) -> std::io::Result<()> {
            self.write_ledger(w)?;
            cut.write_overlay(w)?;
            w.checkpoint()?;
            self.write_shapes(w)?;
            cut.write_spaces(spaces, w)
        }

        /// Reads a snapshot and its cut ([`Snapshot::write_with_cut`]), every index checked.
        pub fn read_with_cut(r: &mut FlatReader<'_>) -> Result<(Self, Cut), FlatError> {
            let (ledger, overlay) = Ledger::read_with_overlay(r)?;
            r.checkpoint()?;
            let snapshot = Snapshot::read_from(ledger, r)?;
            let cut = Cut::read_spaces(overlay, r, &snapshot)?;
            Ok((snapshot, cut))
        }
    }

    impl<'a> Ledger<'a> {
        /// Reads the beginning of what [`Snapshot::write_with_cut`] wrote: the ledger and the
        /// sub-sectors' overlay (their shares: [`Ledger::subsector_shares`]), up to the
        /// checkpoint.
        pub fn read_with_overlay(r: &mut FlatReader<'a>) -> Result<(Self, Overlay), FlatError> {
            let ledger = Ledger::read_from(r)?;
            let overlay = Cut::read_overlay(r, &ledger)?;
            Ok((ledger, overlay))
        }
    }

    impl Cut {
        /// Appends the first part of the cut to a snapshot file: the sub-sectors' overlay
        /// with the parcels (what their shares are summed from), right after the snapshot's
        /// [`Ledger`](crate::snapshot::Ledger).
        pub(crate) fn write_overlay<W: std::io::Write>(&self, w: &mut FlatWriter<W>) -> std::io::Result<()> {
            let zones = &self.overlay.zones;
            w.section(&zones.iter().map(|z| z.zone as u64).collect::<Vec<_>>())?;
            w.section(&zones.iter().map(|z| [z.area_m2, z.non_cadastre_m2]).collect::<Vec<_>>())?;
            w.section(&starts(zones.iter().map(|z| z.pieces.len())))?;
            w.section(&starts(zones.iter().map(|z| z.slivers.len())))?;
            w.section(&zones.iter().flat_map(|z| z.slivers.iter().map(|&s| s as u64)).collect::<Vec<_>>())?;
            let pieces = || zones.iter().flat_map(|z| &z.pieces);
            w.section(&pieces().map(|p| p.parcel as u64).collect::<Vec<_>>())?;
            w.section(&pieces().map(|p| [p.area_m2, p.overlap_m2, p.parcel_area_m2]).collect::<Vec<_>>())?;
            w.section(&pieces().map(|p| u8::from(p.whole)).collect::<Vec<_>>())?;
            let overlaps = &self.overlay.overlaps;
            w.section(&overlaps.iter().map(|o| [o.a as u64, o.b as u64]).collect::<Vec<_>>())?;
            w.section(&overlaps.iter().map(|o| o.area_m2).collect::<Vec<_>>())
        }

        /// Appends the second part of the cut (anywhere after the first): every space's point,
        /// counted area, overlaps and shape; the shapes [`Snapshot::assign_cut`] moved into the
        /// report are taken from its `spaces`.
        pub(crate) fn write_spaces<W: std::io::Write>(
            &self,
            spaces: &[SpaceAssignment],
            w: &mut FlatWriter<W>,
        ) -> std::io::Result<()> {
            if spaces.len() != self.spaces.len() {
                return Err(std::io::Error::other("the cut and its report disagree"));
            }
            let zones = &self.overlay.zones;
            let point = |s: &CutSpace| s.point.map_or([0.0; 3], |p| [1.0, p.x(), p.y()]);
            w.section(&self.spaces.iter().map(point).collect::<Vec<_>>())?;
            w.section(&self.spaces.iter().map(|s| s.counted_m2).collect::<Vec<_>>())?;
            w.section(&starts(self.spaces.iter().map(|s| s.overlaps.len())))?;
            w.strings(self.spaces.iter().flat_map(|s| s.overlaps.iter().map(String::as_str)))?;
            // Which space has which shape: a whole parcel's is the parcel's, not written twice.
            let whole = zones.iter().flat_map(spaces_of).map(|p| p.is_some_and(|p| p.whole));
            let mut kinds = Vec::with_capacity(spaces.len());
            let mut own = Vec::new();
            for ((c, s), whole) in self.spaces.iter().zip(spaces).zip(whole) {
                match (c.geom_l93.as_ref().or(s.geom_l93.as_ref()), whole) {
                    (None, _) => kinds.push(NO_SHAPE),
                    (Some(_), true) => kinds.push(PARCEL_SHAPE),
                    (Some(g), false) => {
                        kinds.push(OWN_SHAPE);
                        own.push(g);
                    }
                }
            }
            if kinds.len() != spaces.len() {
                return Err(std::io::Error::other("the cut's spaces and its overlay disagree"));
            }
            w.section(&kinds)?;
            w.shapes(own)
        }

        /// Reads the overlay [`Cut::write_overlay`] wrote, after the `ledger` whose parcels
        /// and sub-sectors it names, every index checked.
        pub(crate) fn read_overlay(r: &mut FlatReader<'_>, ledger: &Ledger<'_>) -> Result<Overlay, FlatError> {
            let bad = FlatError::Inconsistent;
            let (zone_ids, zone_areas, piece_starts, sliver_starts, slivers) = (
                r.section::<u64>()?,
                r.section::<[f64; 2]>()?,
                r.section::<u64>()?,
                r.section::<u64>()?,
                r.section::<u64>()?,
            );
            let (parcel_ids, piece_areas, wholes) = (r.section::<u64>()?, r.section::<[f64; 3]>()?, r.section::<u8>()?);
            let (overlap_ids, overlap_areas) = (r.section::<[u64; 2]>()?, r.section::<f64>()?);
            let n_zones = zone_ids.len();
            check_offsets(&piece_starts, parcel_ids.len())?;
            check_offsets(&sliver_starts, slivers.len())?;
            if zone_areas.len() != n_zones || piece_starts.len() != n_zones + 1 || sliver_starts.len() != n_zones + 1 {
                return Err(bad("the cut's zones disagree"));
            }
            if piece_areas.len() != parcel_ids.len() || wholes.len() != parcel_ids.len() {
                return Err(bad("the cut's pieces disagree"));
            }
            let (parcels, subsectors) = (ledger.parcels(), ledger.zones(Layer::Subsectors).len());
            let index = |i: u64, len: usize| usize::try_from(i).ok().filter(|&i| i < len);
            let mut zones = Vec::with_capacity(n_zones);
            for (k, (&zone, &[area_m2, non_cadastre_m2])) in zone_ids.iter().zip(&zone_areas).enumerate() {
                let (from, to) = (piece_starts[k] as usize, piece_starts[k + 1] as usize);
                let pieces = (from..to)
                    .map(|i| {
                        let parcel = index(parcel_ids[i], parcels).ok_or(bad("a piece of no parcel"))?;
                        let [area_m2, overlap_m2, parcel_area_m2] = piece_areas[i];
                        Ok(Piece { parcel, area_m2, whole: wholes[i] != 0, overlap_m2, parcel_area_m2 })
                    })
                    .collect::<Result<Vec<_>, FlatError>>()?;
                let slivers = slivers[sliver_starts[k] as usize..sliver_starts[k + 1] as usize]
                    .iter()
                    .map(|&s| index(s, pieces.len()).ok_or(bad("a sliver of no piece")))
                    .collect::<Result<Vec<_>, FlatError>>()?;
                let zone = index(zone, subsectors).ok_or(bad("a cut of no sub-sector"))?;
                zones.push(ZoneOverlay { zone, area_m2, pieces, non_cadastre_m2, slivers });
            }
            if overlap_ids.len() != overlap_areas.len() {
                return Err(bad("the cut's overlaps disagree"));
            }
            let overlaps = overlap_ids
                .iter()
                .zip(&overlap_areas)
                .map(|(&[a, b], &area_m2)| match (index(a, parcels), index(b, parcels)) {
                    (Some(a), Some(b)) => Ok(Overlap { a, b, area_m2 }),
                    _ => Err(bad("an overlap of no parcel")),
                })
                .collect::<Result<Vec<_>, FlatError>>()?;
            Ok(Overlay { zones, overlaps })
        }

        /// Reads the rest of a cut ([`Cut::write_spaces`]) whose `overlay` was read first, once
        /// its `snapshot` is read (a space that is a whole parcel has the parcel's shape).
        pub(crate) fn read_spaces(
            overlay: Overlay,
            r: &mut FlatReader<'_>,
            snapshot: &Snapshot,
        ) -> Result<Self, FlatError> {
            let bad = FlatError::Inconsistent;
            let (points, counted, overlap_starts, overlap_keys) =
                (r.section::<[f64; 3]>()?, r.section::<f64>()?, r.section::<u64>()?, r.strings()?);
            let (kinds, mut own) = (r.section::<u8>()?, r.shapes()?.into_iter());
            check_offsets(&overlap_starts, overlap_keys.len())?;
            let parcels = snapshot.parcels();
            let zones = &overlay.zones;
            // The spaces: each zone's pieces, then its non-cadastré space when it has one.
            let space_parcels: Vec<Option<usize>> =
                zones.iter().flat_map(spaces_of).map(|p| p.map(|p| p.parcel)).collect();
            let n = space_parcels.len();
            if [points.len(), counted.len(), kinds.len(), overlap_starts.len() - 1].iter().any(|&l| l != n) {
                return Err(bad("the cut's spaces disagree"));
            }
            let mut spaces = Vec::with_capacity(n);
            for (k, parcel) in space_parcels.into_iter().enumerate() {
                let geom_l93: Option<MultiPolygon<f64>> = match (kinds[k], parcel) {
                    (NO_SHAPE, _) => None,
                    (PARCEL_SHAPE, Some(p)) => {
                        Some(parcels.get(p).ok_or(bad("a space of no parcel"))?.geom_l93.clone())
                    }
                    (OWN_SHAPE, _) => Some(own.next().ok_or(bad("a space's shape is missing"))?),
                    _ => return Err(bad("a space's shape")),
                };
                let [has, x, y] = points[k];
                spaces.push(CutSpace {
                    point: (has != 0.0).then(|| Point::new(x, y)),
                    counted_m2: counted[k],
                    overlaps: overlap_keys[overlap_starts[k] as usize..overlap_starts[k + 1] as usize].to_vec(),
                    geom_l93,
                });
            }
            if own.next().is_some() {
                return Err(bad("shapes of no space"));
            }
            Ok(Cut { overlay, spaces })
        }
    }
}

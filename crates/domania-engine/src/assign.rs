//! The rules applied to a snapshot: a decision per sub-sector, then a manager per space and
//! intervention kind, each with its explanation.

use domania_core::overlay::{OverlayOptions, ZoneOverlay};
use domania_rules::{Assignment, Rules, SpaceKind, SubsectorDecision};
use geo::{Area, BooleanOps, Contains, InteriorPoint};
use geo_types::{MultiPolygon, Point};
use jiff::civil::Date;
use serde::Serialize;

use crate::shares::SharesReport;
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

/// Overlaps smaller than this (m²) are two boundaries drawn along the same line, not ground
/// held by two sub-sectors.
const OVERLAP_M2: f64 = 0.01;

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

impl Snapshot {
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
        let overlapping = overlapping_zones(&self.subsectors);
        for (z, ks) in o.zones.iter().zip(&shares.zones) {
            let decision = rules.decide_subsector(&ks.key, &ks.shares);
            let from = spaces.len();
            self.assign_zone(rules, date, z, &decision, geometry, &mut spaces);
            if !overlapping[z.zone].is_empty() {
                self.flag_overlaps(z, &overlapping[z.zone], &mut spaces[from..]);
            }
            decisions.push(decision);
        }
        (shares, AssignReport { date, decisions, spaces })
    }

    /// Flags the spaces of a sub-sector that overlaps others: each names the other
    /// sub-sectors it lies in, and its `counted_m2` leaves out what earlier ones hold.
    fn flag_overlaps(&self, z: &ZoneOverlay, others: &[usize], spaces: &mut [SpaceAssignment]) {
        let zone = &self.subsectors[z.zone];
        let earlier: Vec<MultiPolygon<f64>> = others
            .iter()
            .filter(|&&o| o < z.zone)
            .map(|&o| zone.geom_l93.intersection(&self.subsectors[o].geom_l93))
            .collect();
        let earlier = geo::unary_union(earlier.iter());
        let parcels = || geo::unary_union(z.pieces.iter().map(|p| &self.parcels[p.parcel].geom_l93));
        for (k, s) in spaces.iter_mut().enumerate() {
            let shape = match (&s.geom_l93, z.pieces.get(k)) {
                (Some(g), _) => g.clone(),
                (None, Some(p)) if p.whole => self.parcels[p.parcel].geom_l93.clone(),
                (None, Some(p)) => zone.geom_l93.intersection(&self.parcels[p.parcel].geom_l93),
                (None, None) => zone.geom_l93.difference(&parcels()),
            };
            let held_before = shape.intersection(&earlier).unsigned_area();
            s.counted_m2 = (s.area_m2 - held_before).clamp(0.0, s.area_m2) + 0.0;
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
                counted_m2: piece.area_m2,
                overlaps: Vec::new(),
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
                counted_m2: z.non_cadastre_m2,
                overlaps: Vec::new(),
                geom_l93,
            });
        }
    }
}

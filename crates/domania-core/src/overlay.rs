//! Overlay of parcels with zones (sub-sectors, QPV): the exact area of each parcel inside each
//! zone, and the *non cadastré* remainder of the zone.
//!
//! Steps:
//! 1. an R-tree over the parcels' boxes (`rstar::RTree::bulk_load`);
//! 2. overlapping parcels are detected once, among the parcels that meet any zone: a cheap exact
//!    test (a vertex or interior point of one strictly inside the other, or a proper edge
//!    crossing) and, when it fires, the exact intersection area;
//! 3. per zone, each candidate parcel is either wholly inside (every vertex strictly inside the
//!    zone and no zone vertex within the parcel's box: then no zone edge can cut it) or clipped
//!    exactly (`geo::BooleanOps::intersection`);
//! 4. an overlap inside a zone is counted once: it is taken off the piece of the pair's second
//!    parcel (in input order);
//! 5. the remainder is the zone's area minus the pieces: the non-cadastré space.
//!
//! Zones are processed on all cores (`std::thread::scope`).

use geo::coordinate_position::CoordPos;
use geo::{Area, BooleanOps, BoundingRect, CoordinatePosition, InteriorPoint};
use std::borrow::Borrow;

use geo_types::{Coord, MultiPolygon, Rect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree, RTreeObject};
use serde::Serialize;

/// Pieces smaller than this (m²) are reported as slivers: a boundary drawn a few centimetres
/// off a parcel edge leaves such crumbs, which are almost always digitising noise.
pub const SLIVER_M2: f64 = 1.0;
/// Overlaps smaller than this (m²) are floating-point noise, not overlaps.
pub const OVERLAP_EPS_M2: f64 = 1e-6;

/// Options of the overlay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OverlayOptions {
    /// See [`SLIVER_M2`].
    pub sliver_m2: f64,
    /// 1: compute on the calling thread; anything else: on rayon's global pool (its size is
    /// the number of cores, or `RAYON_NUM_THREADS`).
    pub threads: usize,
}

impl Default for OverlayOptions {
    fn default() -> Self {
        Self { sliver_m2: SLIVER_M2, threads: 0 }
    }
}

/// The part of one parcel inside one zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Piece {
    /// Index of the parcel in the input slice.
    pub parcel: usize,
    /// Area inside the zone (m²), overlaps with earlier parcels already taken off.
    pub area_m2: f64,
    /// The whole parcel is inside the zone.
    pub whole: bool,
    /// Area taken off this piece because an earlier parcel already covers it.
    pub overlap_m2: f64,
    /// Area of the whole parcel, to prorate its fiscal contenance.
    pub parcel_area_m2: f64,
}

/// One zone's overlay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZoneOverlay {
    /// Index of the zone in the input slice.
    pub zone: usize,
    pub area_m2: f64,
    pub pieces: Vec<Piece>,
    /// Zone area not covered by any parcel.
    pub non_cadastre_m2: f64,
    /// Indexes in `pieces` of the pieces below the sliver tolerance (kept, and reported).
    pub slivers: Vec<usize>,
}

impl ZoneOverlay {
    /// Area covered by parcels (each square metre once).
    #[must_use]
    pub fn cadastre_m2(&self) -> f64 {
        // `+ 0.0`: an empty sum of floats is −0.0, which would be written `-0.0`.
        self.pieces.iter().map(|p| p.area_m2).sum::<f64>() + 0.0
    }
}

/// Two parcels that overlap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overlap {
    pub a: usize,
    pub b: usize,
    pub area_m2: f64,
}

/// The overlay of every zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overlay {
    pub zones: Vec<ZoneOverlay>,
    /// Overlapping parcel pairs among those that meet a zone.
    pub overlaps: Vec<Overlap>,
}

type Entry = GeomWithData<Rectangle<[f64; 2]>, usize>;

fn rect_of(mp: &MultiPolygon<f64>) -> Option<Rect<f64>> {
    mp.bounding_rect()
}

fn aabb(r: Rect<f64>) -> AABB<[f64; 2]> {
    AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y])
}

fn vertices(mp: &MultiPolygon<f64>) -> impl Iterator<Item = Coord<f64>> + '_ {
    mp.0.iter().flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors())).flat_map(|r| r.0.iter().copied())
}

fn segments(mp: &MultiPolygon<f64>) -> impl Iterator<Item = (Coord<f64>, Coord<f64>)> + '_ {
    mp.0.iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|r| r.0.windows(2).map(|w| (w[0], w[1])))
}

/// Exact orientation of `c` relative to the line `a`→`b` (`robust`'s adaptive predicate):
/// > 0 left, < 0 right, 0 collinear. The one copy the readers' ring checks use too.
#[must_use]
pub fn orient(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> f64 {
    robust::orient2d(
        robust::Coord { x: a.x, y: a.y },
        robust::Coord { x: b.x, y: b.y },
        robust::Coord { x: c.x, y: c.y },
    )
}

fn within_rect(c: Coord<f64>, r: Rect<f64>) -> bool {
    c.x >= r.min().x && c.x <= r.max().x && c.y >= r.min().y && c.y <= r.max().y
}

/// Whether part of `a`'s boundary runs through the interior of `b`: every edge of `a` is cut at
/// the vertices of `b` lying on it, and the middle of each sub-edge is tested against `b`. A
/// proper crossing of two edges answers at once.
fn boundary_enters(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>, window: Rect<f64>) -> bool {
    // Only what lies in `window` (the intersection of the two boxes) can bound a shared area.
    let meets = |p: Coord<f64>, q: Coord<f64>| {
        p.x.max(q.x) >= window.min().x
            && p.x.min(q.x) <= window.max().x
            && p.y.max(q.y) >= window.min().y
            && p.y.min(q.y) <= window.max().y
    };
    let bv: Vec<Coord<f64>> = vertices(b).filter(|v| within_rect(*v, window)).collect();
    let be: Vec<(Coord<f64>, Coord<f64>)> = segments(b).filter(|(p, q)| meets(*p, *q)).collect();
    for (p, q) in segments(a) {
        let (lo_x, hi_x, lo_y, hi_y) = (p.x.min(q.x), p.x.max(q.x), p.y.min(q.y), p.y.max(q.y));
        if !meets(p, q) {
            continue;
        }
        let mut cuts = vec![0.0, 1.0];
        for &(r, s) in &be {
            let (o1, o2, o3, o4) = (orient(p, q, r), orient(p, q, s), orient(r, s, p), orient(r, s, q));
            if o1 * o2 < 0.0 && o3 * o4 < 0.0 {
                return true;
            }
        }
        let len2 = (q.x - p.x).powi(2) + (q.y - p.y).powi(2);
        if len2 == 0.0 {
            continue;
        }
        for &v in &bv {
            if orient(p, q, v) == 0.0 && v.x >= lo_x && v.x <= hi_x && v.y >= lo_y && v.y <= hi_y {
                cuts.push(((v.x - p.x) * (q.x - p.x) + (v.y - p.y) * (q.y - p.y)) / len2);
            }
        }
        cuts.sort_unstable_by(f64::total_cmp);
        for w in cuts.windows(2) {
            if w[1] - w[0] <= f64::EPSILON {
                continue;
            }
            let t = f64::midpoint(w[0], w[1]);
            let mid = Coord { x: p.x + t * (q.x - p.x), y: p.y + t * (q.y - p.y) };
            if b.coordinate_position(&mid) == CoordPos::Inside {
                return true;
            }
        }
    }
    false
}

/// Exact test that two parcels share interior area (beyond common edges and corners): the
/// boundary of one enters the other, or they coincide (an interior point of one inside the
/// other).
fn may_overlap(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>, ra: Rect<f64>, rb: Rect<f64>) -> bool {
    // Boxes that only touch (a common edge or corner line) leave no room for a shared area.
    let (w, h) = (
        ra.max().x.min(rb.max().x) - ra.min().x.max(rb.min().x),
        ra.max().y.min(rb.max().y) - ra.min().y.max(rb.min().y),
    );
    if w <= 0.0 || h <= 0.0 {
        return false;
    }
    let window = Rect::new(
        Coord { x: ra.min().x.max(rb.min().x), y: ra.min().y.max(rb.min().y) },
        Coord { x: ra.max().x.min(rb.max().x), y: ra.max().y.min(rb.max().y) },
    );
    if boundary_enters(a, b, window) || boundary_enters(b, a, window) {
        return true;
    }
    // No boundary enters the other: they overlap only if one lies within the other, which
    // needs its box within the other's box.
    let inside = |pt: Coord<f64>, mp: &MultiPolygon<f64>| mp.coordinate_position(&pt) == CoordPos::Inside;
    let contains_rect = |outer: Rect<f64>, inner: Rect<f64>| {
        inner.min().x >= outer.min().x
            && inner.min().y >= outer.min().y
            && inner.max().x <= outer.max().x
            && inner.max().y <= outer.max().y
    };
    (contains_rect(rb, ra) && a.interior_point().is_some_and(|p| inside(p.0, b)))
        || (contains_rect(ra, rb) && b.interior_point().is_some_and(|p| inside(p.0, a)))
}

/// The exterior ring of `zone` as a counter-clockwise convex polygon (without the closing
/// point), when the zone is a single convex polygon without holes.
fn convex_ring(zone: &MultiPolygon<f64>) -> Option<Vec<Coord<f64>>> {
    let [poly] = zone.0.as_slice() else { return None };
    if !poly.interiors().is_empty() {
        return None;
    }
    let mut pts: Vec<Coord<f64>> = poly.exterior().0.clone();
    pts.pop(); // closing point
    pts.dedup();
    if pts.len() < 3 {
        return None;
    }
    let n = pts.len();
    let turns: Vec<f64> = (0..n).map(|i| orient(pts[i], pts[(i + 1) % n], pts[(i + 2) % n])).collect();
    let ccw = turns.iter().all(|&t| t >= 0.0);
    let cw = turns.iter().all(|&t| t <= 0.0);
    match (ccw, cw) {
        (true, false) => Some(pts),
        (false, true) => {
            pts.reverse();
            Some(pts)
        }
        _ => None,
    }
}

/// Shoelace area of a ring (signed; positive counter-clockwise), computed relative to its first
/// point: with Lambert-93 coordinates near 7e6 the plain formula cancels catastrophically and
/// quantises areas to about 5e-4 m².
fn signed_area(ring: &[Coord<f64>]) -> f64 {
    let n = ring.len();
    let Some(&o) = ring.first() else { return 0.0 };
    let at = |i: usize| Coord { x: ring[i % n].x - o.x, y: ring[i % n].y - o.y };
    (0..n).map(|i| at(i).x * at(i + 1).y - at(i + 1).x * at(i).y).sum::<f64>() / 2.0
}

/// Area of `parcel` ∩ `clip` for a convex counter-clockwise `clip`: Sutherland–Hodgman on each
/// ring. The clipped ring of a concave subject may carry zero-width bridges, which add no area,
/// so the area is exact; holes are subtracted ring by ring.
fn convex_clip_area(parcel: &MultiPolygon<f64>, clip: &[Coord<f64>]) -> f64 {
    let clip_ring = |ring: &[Coord<f64>]| -> f64 {
        let mut out: Vec<Coord<f64>> = ring[..ring.len().saturating_sub(1)].to_vec();
        for i in 0..clip.len() {
            let (a, b) = (clip[i], clip[(i + 1) % clip.len()]);
            let input = std::mem::take(&mut out);
            let inside = |p: Coord<f64>| orient(a, b, p) >= 0.0;
            let cross = |p: Coord<f64>, q: Coord<f64>| {
                let (d1, d2) = (
                    (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x),
                    (b.x - a.x) * (q.y - a.y) - (b.y - a.y) * (q.x - a.x),
                );
                let t = d1 / (d1 - d2);
                Coord { x: p.x + t * (q.x - p.x), y: p.y + t * (q.y - p.y) }
            };
            for j in 0..input.len() {
                let (p, q) = (input[j], input[(j + 1) % input.len()]);
                match (inside(p), inside(q)) {
                    (true, true) => out.push(q),
                    (true, false) => out.push(cross(p, q)),
                    (false, true) => {
                        out.push(cross(p, q));
                        out.push(q);
                    }
                    (false, false) => {}
                }
            }
            if out.is_empty() {
                return 0.0;
            }
        }
        signed_area(&out).abs()
    };
    parcel
        .0
        .iter()
        .map(|p| clip_ring(&p.exterior().0) - p.interiors().iter().map(|r| clip_ring(&r.0)).sum::<f64>())
        .sum::<f64>()
        .max(0.0)
}

/// Whether `parcel` lies wholly inside `zone`, by the exact argument of the module doc.
fn wholly_inside(
    parcel: &MultiPolygon<f64>,
    prect: Rect<f64>,
    zone: &MultiPolygon<f64>,
    zone_vertices: &[Coord<f64>],
) -> bool {
    !zone_vertices.iter().any(|c| within_rect(*c, prect))
        && vertices(parcel).all(|c| zone.coordinate_position(&c) == CoordPos::Inside)
}

/// The bounding boxes of a set of parcels in an R-tree (step 1), built once — by a snapshot at
/// load — and reused by every overlay of those parcels.
#[derive(Debug, Clone)]
pub struct ParcelIndex {
    rects: Vec<Option<Rect<f64>>>,
    tree: RTree<Entry>,
}

impl ParcelIndex {
    /// Indexes `parcels` (their positions are the ids the index returns).
    #[must_use]
    pub fn new<P: Borrow<MultiPolygon<f64>>>(parcels: &[P]) -> Self {
        Self::of_boxes(parcels.iter().map(|p| rect_of(p.borrow())).collect())
    }

    /// Indexes parcels by their boxes (`None`: an empty shape), as [`ParcelIndex::new`] does.
    #[must_use]
    pub fn of_boxes(rects: Vec<Option<Rect<f64>>>) -> Self {
        let tree = RTree::bulk_load(
            rects
                .iter()
                .enumerate()
                .filter_map(|(i, r)| r.map(|r| GeomWithData::new(Rectangle::from_aabb(aabb(r)), i)))
                .collect(),
        );
        Self { rects, tree }
    }

    /// Appends the index to a snapshot file: the boxes, then the tree as it is
    /// ([`crate::flat::FlatWriter::tree`]).
    pub fn write_to<W: std::io::Write>(&self, w: &mut crate::flat::FlatWriter<W>) -> std::io::Result<()> {
        let rect = |r: &Option<Rect<f64>>| r.map_or([f64::NAN; 4], |r| [r.min().x, r.min().y, r.max().x, r.max().y]);
        w.section(&self.rects.iter().map(rect).collect::<Vec<[f64; 4]>>())?;
        w.tree(&self.tree)
    }

    /// Reads an index [`ParcelIndex::write_to`] wrote, of `len` parcels; every entry checked.
    pub fn read_from(r: &mut crate::flat::FlatReader<'_>, len: usize) -> Result<Self, crate::flat::FlatError> {
        let bad = crate::flat::FlatError::Inconsistent;
        let rects: Vec<Option<Rect<f64>>> = r
            .section::<[f64; 4]>()?
            .into_iter()
            .map(|[x0, y0, x1, y1]| (!x0.is_nan()).then(|| Rect::new((x0, y0), (x1, y1))))
            .collect();
        let tree: RTree<Entry> = r.tree()?;
        let (boxed, mut leaves) = (rects.iter().filter(|r| r.is_some()).count(), 0);
        let unknown = tree.iter().inspect(|_| leaves += 1).any(|e| rects.get(e.data).is_none_or(Option::is_none));
        if rects.len() != len || unknown || leaves != boxed || tree.size() != boxed {
            return Err(bad("the parcels' R-tree and their boxes disagree"));
        }
        Ok(Self { rects, tree })
    }

    /// The box of parcel `i` (`None`: an empty shape, or no such parcel).
    #[must_use]
    pub fn rect(&self, i: usize) -> Option<Rect<f64>> {
        self.rects.get(i).copied().flatten()
    }

    /// How many parcels were indexed.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rects.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rects.is_empty()
    }

    /// The parcels whose box meets `rect`.
    pub fn meeting(&self, rect: Rect<f64>) -> impl Iterator<Item = usize> + '_ {
        self.tree.locate_in_envelope_intersecting(aabb(rect)).map(|e| e.data)
    }
}

/// Computes the overlay of `parcels` with `zones` (all in Lambert-93 metres).
///
/// # Panics
/// Only if a worker thread panics (a bug): the panic is carried to the caller.
#[must_use]
pub fn overlay<P, Z>(parcels: &[P], zones: &[Z], opts: OverlayOptions) -> Overlay
where
    P: Borrow<MultiPolygon<f64>> + Sync,
    Z: Borrow<MultiPolygon<f64>> + Sync,
{
    overlay_indexed(parcels, &ParcelIndex::new(parcels), zones, opts)
}

/// [`overlay`] with the parcels' index already built (`index` must index `parcels`).
///
/// # Panics
/// If `index` was built on another number of parcels, or a worker thread panics.
#[must_use]
pub fn overlay_indexed<P, Z>(parcels: &[P], index: &ParcelIndex, zones: &[Z], opts: OverlayOptions) -> Overlay
where
    P: Borrow<MultiPolygon<f64>> + Sync,
    Z: Borrow<MultiPolygon<f64>> + Sync,
{
    assert_eq!(index.len(), parcels.len(), "the index was built on other parcels");
    // Owned geometries or references alike: callers need not copy their shapes.
    let parcels: Vec<&MultiPolygon<f64>> = parcels.iter().map(Borrow::borrow).collect();
    let zones: Vec<&MultiPolygon<f64>> = zones.iter().map(Borrow::borrow).collect();
    let (rects, tree) = (&index.rects, &index.tree);
    let threads = opts.threads;

    // 2. Overlaps among the parcels that meet a zone.
    let mut touched = vec![false; parcels.len()];
    for z in &zones {
        if let Some(r) = rect_of(z) {
            for e in tree.locate_in_envelope_intersecting(aabb(r)) {
                touched[e.data] = true;
            }
        }
    }
    let candidates: Vec<usize> = (0..parcels.len()).filter(|&i| touched[i]).collect();
    let mut overlaps: Vec<Overlap> = parallel_map(&candidates, threads, |&i| {
        let Some(ri) = rects[i] else { return Vec::new() };
        let mut found = Vec::new();
        for e in tree.locate_in_envelope_intersecting(aabb(ri)) {
            let j = e.data;
            let Some(rj) = rects[j] else { continue };
            if j <= i || !may_overlap(parcels[i], parcels[j], ri, rj) {
                continue;
            }
            let area = parcels[i].intersection(parcels[j]).unsigned_area();
            if area > OVERLAP_EPS_M2 {
                found.push(Overlap { a: i, b: j, area_m2: area });
            }
        }
        found
    })
    .into_iter()
    .flatten()
    .collect();
    // In the parcels' order, whatever the R-tree's: what an overlay worked out again after a
    // change of some parcels gives too (`overlaps_again`).
    overlaps.sort_unstable_by_key(|o| (o.a, o.b));
    let mut overlaps_of: std::collections::HashMap<usize, Vec<usize>> = std::collections::HashMap::new();
    for (k, o) in overlaps.iter().enumerate() {
        overlaps_of.entry(o.b).or_default().push(k);
    }

    // 3-5. Zones.
    let zone_ids: Vec<usize> = (0..zones.len()).collect();
    let zones_out = parallel_map(&zone_ids, threads, |&zi| {
        let zone = &zones[zi];
        let area_m2 = zone.unsigned_area();
        let mut out =
            ZoneOverlay { zone: zi, area_m2, pieces: Vec::new(), non_cadastre_m2: area_m2, slivers: Vec::new() };
        let Some(zr) = rect_of(zone) else { return out };
        let zone_vertices: Vec<Coord<f64>> = vertices(zone).collect();
        let convex = convex_ring(zone);
        let mut cand: Vec<usize> = tree.locate_in_envelope_intersecting(aabb(zr)).map(|e| e.data).collect();
        cand.sort_unstable();
        let mut pieces: Vec<Piece> = Vec::with_capacity(cand.len());
        for &i in &cand {
            let pr = rects[i].expect("indexed parcels have a box");
            let parcel_area = parcels[i].unsigned_area();
            let (area, whole) = if wholly_inside(parcels[i], pr, zone, &zone_vertices) {
                (parcel_area, true)
            } else {
                // Clipping snaps to i_overlay's integer grid, which can add a few cm² (2e-5 m²
                // seen on Paris 18e); an intersection never exceeds its parent.
                let clipped = match &convex {
                    Some(ring) => convex_clip_area(parcels[i], ring),
                    None => zone.intersection(parcels[i]).unsigned_area(),
                };
                (clipped.min(parcel_area), false)
            };
            if area > 0.0 {
                pieces.push(Piece { parcel: i, area_m2: area, whole, overlap_m2: 0.0, parcel_area_m2: parcel_area });
            }
        }
        // 4. Overlaps counted once, on the later parcel.
        for k in 0..pieces.len() {
            let Some(list) = overlaps_of.get(&pieces[k].parcel) else { continue };
            let mut taken = 0.0;
            for &oi in list {
                let o = &overlaps[oi];
                let Some(first) = pieces.iter().find(|p| p.parcel == o.a) else { continue };
                taken += if first.whole && pieces[k].whole {
                    o.area_m2
                } else {
                    parcels[o.a].intersection(parcels[o.b]).intersection(*zone).unsigned_area()
                };
            }
            let piece = &mut pieces[k];
            piece.overlap_m2 = taken.min(piece.area_m2);
            piece.area_m2 -= piece.overlap_m2;
        }
        out.non_cadastre_m2 = area_m2 - pieces.iter().map(|p| p.area_m2).sum::<f64>();
        out.slivers = pieces.iter().enumerate().filter(|(_, p)| p.area_m2 < opts.sliver_m2).map(|(k, _)| k).collect();
        out.pieces = pieces;
        out
    });
    Overlay { zones: zones_out, overlaps }
}

/// The overlaps [`overlay_indexed`] finds among `parcels` (indexed by `index`) that meet a zone
/// of `zones`, worked out again after a change of some of them: `kept` are the earlier overlaps
/// of two parcels that did not change (numbered as now), `fresh[i]` whether parcel `i` is new
/// or changed; only the fresh parcels' overlaps are looked for.
///
/// # Panics
/// If `index` or `fresh` is of another number of parcels, or a worker thread panics.
#[must_use]
pub fn overlaps_again<P, Z>(
    parcels: &[P],
    index: &ParcelIndex,
    zones: &[Z],
    mut kept: Vec<Overlap>,
    fresh: &[bool],
    opts: OverlayOptions,
) -> Vec<Overlap>
where
    P: Borrow<MultiPolygon<f64>> + Sync,
    Z: Borrow<MultiPolygon<f64>> + Sync,
{
    assert!(index.len() == parcels.len() && fresh.len() == parcels.len(), "the index was built on other parcels");
    let (rects, tree) = (&index.rects, &index.tree);
    let zone_boxes: Vec<Entry> = zones
        .iter()
        .enumerate()
        .filter_map(|(i, z)| rect_of(z.borrow()).map(|r| GeomWithData::new(Rectangle::from_aabb(aabb(r)), i)))
        .collect();
    let zone_tree = RTree::bulk_load(zone_boxes);
    // Whether parcel `i` is one the overlay looks at: its box meets a zone's.
    let touched =
        |i: usize| rects[i].is_some_and(|r| zone_tree.locate_in_envelope_intersecting(aabb(r)).next().is_some());
    let changed: Vec<usize> = (0..parcels.len()).filter(|&i| fresh[i]).collect();
    let found = parallel_map(&changed, opts.threads, |&d| {
        let Some(rd) = rects[d] else { return Vec::new() };
        let mut found = Vec::new();
        for e in tree.locate_in_envelope_intersecting(aabb(rd)) {
            let j = e.data;
            // Two fresh parcels: the pair is found from the first.
            if j == d || (fresh[j] && j < d) {
                continue;
            }
            let (a, b) = (d.min(j), d.max(j));
            let (Some(ra), Some(rb)) = (rects[a], rects[b]) else { continue };
            let (pa, pb) = (parcels[a].borrow(), parcels[b].borrow());
            if !touched(a) || !may_overlap(pa, pb, ra, rb) {
                continue;
            }
            let area = pa.intersection(pb).unsigned_area();
            if area > OVERLAP_EPS_M2 {
                found.push(Overlap { a, b, area_m2: area });
            }
        }
        found
    });
    kept.extend(found.into_iter().flatten());
    kept.sort_unstable_by_key(|o| (o.a, o.b));
    kept
}

/// The pairs of zones (of one layer: sub-sectors, conventions) that overlap, with the area they
/// share, `(i, j, m²)` with `i < j`, in index order. Zones that only touch share no area and are
/// not listed; nor are pairs sharing [`OVERLAP_EPS_M2`] or less.
#[must_use]
pub fn zone_overlaps<Z: Borrow<MultiPolygon<f64>>>(zones: &[Z]) -> Vec<(usize, usize, f64)> {
    let entries: Vec<Entry> = zones
        .iter()
        .enumerate()
        .filter_map(|(i, z)| rect_of(z.borrow()).map(|r| GeomWithData::new(Rectangle::from_aabb(aabb(r)), i)))
        .collect();
    let tree = RTree::bulk_load(entries.clone());
    let mut out = Vec::new();
    for e in &entries {
        let i = e.data;
        for other in tree.locate_in_envelope_intersecting(e.geom().envelope()) {
            let j = other.data;
            if j <= i {
                continue;
            }
            let shared = zones[i].borrow().intersection(zones[j].borrow()).unsigned_area();
            if shared > OVERLAP_EPS_M2 {
                out.push((i, j, shared));
            }
        }
    }
    out.sort_by_key(|x| (x.0, x.1));
    out
}

/// Maps `f` over `items`, keeping the order: on rayon's global pool (shared by every caller of
/// the process, the CLI or the server), or on the calling thread when `threads` is 1.
fn parallel_map<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    use rayon::prelude::*;
    if threads == 1 || items.len() < 64 {
        return items.iter().map(&f).collect();
    }
    items.par_iter().map(f).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    fn square(x: f64, y: f64, s: f64) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![
            polygon![(x: x, y: y), (x: x + s, y: y), (x: x + s, y: y + s), (x: x, y: y + s), (x: x, y: y)],
        ])
    }

    #[test]
    fn pieces_and_remainder_sum_to_the_zone() {
        // Two 10 m parcels side by side, a street, then one cut by the zone edge.
        let parcels = vec![square(0.0, 0.0, 10.0), square(10.0, 0.0, 10.0), square(25.0, 0.0, 10.0)];
        let zone = square(-5.0, -5.0, 35.0); // x in [-5, 30]: the third parcel is half inside
        let o = overlay(&parcels, &[zone], OverlayOptions::default());
        let z = &o.zones[0];
        assert_eq!(z.pieces.len(), 3);
        assert!(z.pieces[0].whole && z.pieces[1].whole && !z.pieces[2].whole);
        assert!((z.pieces[2].area_m2 - 50.0).abs() < 1e-9);
        assert!((z.cadastre_m2() + z.non_cadastre_m2 - 35.0 * 35.0).abs() < 1e-9);
        assert!((z.non_cadastre_m2 - (1225.0 - 250.0)).abs() < 1e-9);
        assert!(o.overlaps.is_empty());
    }

    #[test]
    fn overlapping_parcels_are_counted_once_and_reported() {
        let parcels = vec![square(0.0, 0.0, 10.0), square(8.0, 0.0, 10.0), square(0.0, 0.0, 10.0)];
        let zone = square(-1.0, -1.0, 30.0);
        let o = overlay(&parcels, &[zone], OverlayOptions { threads: 1, ..OverlayOptions::default() });
        // 0-1 overlap by 20 m², 0-2 are the same square (100 m²), 1-2 by 20 m².
        assert_eq!(o.overlaps.len(), 3);
        let z = &o.zones[0];
        // Union of the three: 180 m². Parcel 2 lies inside 0 ∪ 1: its piece falls to 0 (the
        // pairwise deduction of 120 m² is capped at its 100 m²).
        let covered = z.cadastre_m2();
        assert!((covered - 180.0).abs() < 1e-6, "{covered}");
        assert!(z.pieces[2].area_m2.abs() < 1e-9);
        assert!(z.pieces.iter().all(|p| p.area_m2 >= 0.0));
    }

    #[test]
    fn slivers_are_reported_not_dropped() {
        let parcels = vec![square(0.0, 0.0, 10.0)];
        let zone = square(9.95, -1.0, 20.0); // takes a 5 cm strip of the parcel
        let o = overlay(&parcels, &[zone], OverlayOptions::default());
        let z = &o.zones[0];
        assert_eq!(z.pieces.len(), 1);
        assert_eq!(z.slivers, vec![0]);
        assert!((z.pieces[0].area_m2 - 0.5).abs() < 1e-6, "{}", z.pieces[0].area_m2);
    }

    #[test]
    fn convex_clipping_agrees_with_boolean_ops() {
        use geo::BooleanOps;
        // A concave parcel with a hole, against a convex (diamond) and a concave zone.
        let l = MultiPolygon::new(vec![geo_types::Polygon::new(
            geo_types::LineString::from(vec![
                (0.0, 0.0),
                (30.0, 0.0),
                (30.0, 10.0),
                (10.0, 10.0),
                (10.0, 30.0),
                (0.0, 30.0),
                (0.0, 0.0),
            ]),
            vec![geo_types::LineString::from(vec![(2.0, 2.0), (2.0, 6.0), (6.0, 6.0), (6.0, 2.0), (2.0, 2.0)])],
        )]);
        let diamond = MultiPolygon::new(vec![
            polygon![(x: 12.0, y: -8.0), (x: 32.0, y: 12.0), (x: 12.0, y: 32.0), (x: -8.0, y: 12.0), (x: 12.0, y: -8.0)],
        ]);
        let ring = convex_ring(&diamond).unwrap();
        let exact = diamond.intersection(&l).unsigned_area();
        assert!((convex_clip_area(&l, &ring) - exact).abs() < 1e-6, "{} vs {exact}", convex_clip_area(&l, &ring));
        assert!(convex_ring(&l).is_none());
        // Clockwise input is accepted too.
        let cw = MultiPolygon::new(vec![
            polygon![(x: 5.0, y: 5.0), (x: 5.0, y: 25.0), (x: 25.0, y: 25.0), (x: 25.0, y: 5.0), (x: 5.0, y: 5.0)],
        ]);
        let exact = cw.intersection(&l).unsigned_area();
        assert!((convex_clip_area(&l, &convex_ring(&cw).unwrap()) - exact).abs() < 1e-6);
    }

    /// Regression: clipped pieces of convex zones had areas quantised to 5e-4 m² because the
    /// shoelace formula ran on raw Lambert-93 coordinates.
    #[test]
    fn shoelace_keeps_its_precision_far_from_the_origin() {
        let (x, y) = (651_234.567, 6_865_432.109);
        let ring =
            [Coord { x, y }, Coord { x: x + 0.01, y }, Coord { x: x + 0.01, y: y + 0.01 }, Coord { x, y: y + 0.01 }];
        assert!((signed_area(&ring) - 1e-4).abs() < 1e-9, "{}", signed_area(&ring));
    }

    #[test]
    fn a_zone_with_no_parcel_is_all_non_cadastre() {
        let o = overlay(&[square(0.0, 0.0, 10.0)], &[square(100.0, 100.0, 10.0)], OverlayOptions::default());
        assert!(o.zones[0].pieces.is_empty());
        assert!((o.zones[0].non_cadastre_m2 - 100.0).abs() < 1e-9);
    }
}

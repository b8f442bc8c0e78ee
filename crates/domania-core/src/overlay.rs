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
use geo_types::{Coord, MultiPolygon, Rect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
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
    /// Worker threads (0: all available cores).
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
        self.pieces.iter().map(|p| p.area_m2).sum()
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

fn orient(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> f64 {
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
fn boundary_enters(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>, rb: Rect<f64>) -> bool {
    let bv: Vec<Coord<f64>> = vertices(b).collect();
    let be: Vec<(Coord<f64>, Coord<f64>)> = segments(b).collect();
    for (p, q) in segments(a) {
        let (lo_x, hi_x, lo_y, hi_y) = (p.x.min(q.x), p.x.max(q.x), p.y.min(q.y), p.y.max(q.y));
        if hi_x < rb.min().x || lo_x > rb.max().x || hi_y < rb.min().y || lo_y > rb.max().y {
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
    let inside = |pt: Coord<f64>, mp: &MultiPolygon<f64>| mp.coordinate_position(&pt) == CoordPos::Inside;
    boundary_enters(a, b, rb)
        || boundary_enters(b, a, ra)
        || a.interior_point().is_some_and(|p| inside(p.0, b))
        || b.interior_point().is_some_and(|p| inside(p.0, a))
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

/// Computes the overlay of `parcels` with `zones` (all in Lambert-93 metres).
///
/// # Panics
/// Only if a worker thread panics (a bug): the panic is carried to the caller.
#[must_use]
pub fn overlay(parcels: &[MultiPolygon<f64>], zones: &[MultiPolygon<f64>], opts: OverlayOptions) -> Overlay {
    let rects: Vec<Option<Rect<f64>>> = parcels.iter().map(rect_of).collect();
    let tree: RTree<Entry> = RTree::bulk_load(
        rects
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.map(|r| GeomWithData::new(Rectangle::from_aabb(aabb(r)), i)))
            .collect(),
    );
    let threads =
        if opts.threads == 0 { std::thread::available_parallelism().map_or(1, usize::from) } else { opts.threads };

    // 2. Overlaps among the parcels that meet a zone.
    let mut touched = vec![false; parcels.len()];
    for z in zones {
        if let Some(r) = rect_of(z) {
            for e in tree.locate_in_envelope_intersecting(aabb(r)) {
                touched[e.data] = true;
            }
        }
    }
    let candidates: Vec<usize> = (0..parcels.len()).filter(|&i| touched[i]).collect();
    let overlaps: Vec<Overlap> = parallel_map(&candidates, threads, |&i| {
        let Some(ri) = rects[i] else { return Vec::new() };
        let mut found = Vec::new();
        for e in tree.locate_in_envelope_intersecting(aabb(ri)) {
            let j = e.data;
            let Some(rj) = rects[j] else { continue };
            if j <= i || !may_overlap(&parcels[i], &parcels[j], ri, rj) {
                continue;
            }
            let area = parcels[i].intersection(&parcels[j]).unsigned_area();
            if area > OVERLAP_EPS_M2 {
                found.push(Overlap { a: i, b: j, area_m2: area });
            }
        }
        found
    })
    .into_iter()
    .flatten()
    .collect();
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
        let mut cand: Vec<usize> = tree.locate_in_envelope_intersecting(aabb(zr)).map(|e| e.data).collect();
        cand.sort_unstable();
        let mut pieces: Vec<Piece> = Vec::with_capacity(cand.len());
        for &i in &cand {
            let pr = rects[i].expect("indexed parcels have a box");
            let parcel_area = parcels[i].unsigned_area();
            let (area, whole) = if wholly_inside(&parcels[i], pr, zone, &zone_vertices) {
                (parcel_area, true)
            } else {
                // Clipping snaps to i_overlay's integer grid, which can add a few cm² (2e-5 m²
                // seen on Paris 18e); an intersection never exceeds its parent.
                (zone.intersection(&parcels[i]).unsigned_area().min(parcel_area), false)
            };
            if area > 0.0 {
                pieces.push(Piece { parcel: i, area_m2: area, whole, overlap_m2: 0.0 });
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
                    parcels[o.a].intersection(&parcels[o.b]).intersection(zone).unsigned_area()
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

/// Maps `f` over `items` on `threads` scoped threads, keeping the order.
fn parallel_map<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if threads <= 1 || items.len() < 64 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads * 8);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut parts: Vec<(usize, Vec<R>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let start = next.fetch_add(chunk, std::sync::atomic::Ordering::Relaxed);
                        if start >= items.len() {
                            break;
                        }
                        let end = (start + chunk).min(items.len());
                        done.push((start, items[start..end].iter().map(&f).collect()));
                    }
                    done
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("overlay worker panicked")).collect()
    });
    parts.sort_unstable_by_key(|(start, _)| *start);
    parts.into_iter().flat_map(|(_, v)| v).collect()
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
    fn a_zone_with_no_parcel_is_all_non_cadastre() {
        let o = overlay(&[square(0.0, 0.0, 10.0)], &[square(100.0, 100.0, 10.0)], OverlayOptions::default());
        assert!(o.zones[0].pieces.is_empty());
        assert!((o.zones[0].non_cadastre_m2 - 100.0).abs() < 1e-9);
    }
}

//! Canonical form of polygon geometry, so that the same shape always has the same bytes.
//!
//! A stored geometry is hashed to tell a reshaped feature from an unchanged one. Files spell one
//! shape in many ways: a ring may run clockwise or counter-clockwise, start at any vertex,
//! repeat a vertex, and list polygons or holes in any order. [`canonicalize`] writes every shape
//! one way, in place:
//! 1. consecutive repeated vertices are dropped (the closing vertex too, for now);
//! 2. exterior rings run counter-clockwise and holes clockwise (the right-hand rule of RFC 7946
//!    and OGC Simple Features);
//! 3. each ring starts at its smallest vertex (by x, then y) and is closed again;
//! 4. holes are sorted by their first vertex, then polygons by their exterior's first vertex.
//!
//! Only the representation changes: the same point set, the same area, no coordinate rounded.
//!
//! ```
//! use domania_core::canonical::canonicalize;
//! use geo_types::{MultiPolygon, polygon};
//! // One square, clockwise and starting at its top-right corner…
//! let mut a = MultiPolygon::new(vec![polygon![(x: 1.0, y: 1.0), (x: 1.0, y: 0.0), (x: 0.0, y: 0.0), (x: 0.0, y: 1.0), (x: 1.0, y: 1.0)]]);
//! // …and counter-clockwise from the origin.
//! let mut b = MultiPolygon::new(vec![polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0), (x: 0.0, y: 0.0)]]);
//! canonicalize(&mut a);
//! canonicalize(&mut b);
//! assert_eq!(a, b);
//! ```

use std::cmp::Ordering;

use geo_types::{Coord, LineString, MultiPolygon, Polygon};

/// Twice the signed area of a closed or open ring (positive when counter-clockwise), computed
/// relative to the first vertex so large Lambert-93 coordinates keep their precision.
fn signed_area2(pts: &[Coord<f64>]) -> f64 {
    let Some(&o) = pts.first() else { return 0.0 };
    let mut s = 0.0;
    for w in pts.windows(2) {
        let (a, b) = (w[0] - o, w[1] - o);
        s += a.x * b.y - b.x * a.y;
    }
    s
}

fn cmp_coord(a: &Coord<f64>, b: &Coord<f64>) -> Ordering {
    a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y))
}

/// Steps 1–3 on one ring; `ccw` says which way it must run.
fn canonical_ring(ring: &mut LineString<f64>, ccw: bool) {
    let pts = &mut ring.0;
    pts.dedup();
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    if pts.is_empty() {
        return;
    }
    // Orientation of the open ring (closing it adds a zero term).
    let area = signed_area2(pts);
    if (area < 0.0 && ccw) || (area > 0.0 && !ccw) {
        pts.reverse();
    }
    let start = pts.iter().enumerate().min_by(|(_, a), (_, b)| cmp_coord(a, b)).map_or(0, |(i, _)| i);
    pts.rotate_left(start);
    pts.push(pts[0]);
}

fn first(ring: &LineString<f64>) -> Option<&Coord<f64>> {
    ring.0.first()
}

fn cmp_rings(a: &LineString<f64>, b: &LineString<f64>) -> Ordering {
    match (first(a), first(b)) {
        (Some(x), Some(y)) => cmp_coord(x, y).then_with(|| a.0.len().cmp(&b.0.len())),
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
    }
}

/// Writes `mp` in its canonical form (see the module doc).
pub fn canonicalize(mp: &mut MultiPolygon<f64>) {
    for poly in &mut mp.0 {
        poly.exterior_mut(|e| canonical_ring(e, true));
        poly.interiors_mut(|holes| {
            for h in holes.iter_mut() {
                canonical_ring(h, false);
            }
            holes.sort_by(cmp_rings);
        });
    }
    mp.0.sort_by(|a: &Polygon<f64>, b: &Polygon<f64>| cmp_rings(a.exterior(), b.exterior()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Area;
    use geo_types::polygon;

    fn square_with_hole(x0: f64, reverse: bool, rotate: usize) -> Polygon<f64> {
        let mut ext = vec![(x0, 0.0), (x0 + 10.0, 0.0), (x0 + 10.0, 10.0), (x0, 10.0)];
        let mut hole = vec![(x0 + 2.0, 2.0), (x0 + 2.0, 4.0), (x0 + 4.0, 4.0), (x0 + 4.0, 2.0)];
        if reverse {
            ext.reverse();
            hole.reverse();
        }
        ext.rotate_left(rotate % 4);
        hole.rotate_left((rotate + 1) % 4);
        let close = |mut v: Vec<(f64, f64)>| {
            v.push(v[0]);
            LineString::from(v)
        };
        Polygon::new(close(ext), vec![close(hole)])
    }

    #[test]
    fn reversed_rotated_and_reordered_shapes_agree() {
        let mut reference = MultiPolygon::new(vec![square_with_hole(0.0, false, 0), square_with_hole(100.0, false, 0)]);
        canonicalize(&mut reference);
        for reverse in [false, true] {
            for rotate in 0..4 {
                let mut mp = MultiPolygon::new(vec![
                    square_with_hole(100.0, reverse, rotate),
                    square_with_hole(0.0, !reverse, 3),
                ]);
                let before = mp.unsigned_area();
                canonicalize(&mut mp);
                assert_eq!(mp, reference, "reverse {reverse} rotate {rotate}");
                assert!((mp.unsigned_area() - before).abs() < 1e-12);
            }
        }
        // Exterior counter-clockwise, hole clockwise, closed, starting at the smallest vertex.
        let p = &reference.0[0];
        assert!(signed_area2(&p.exterior().0) > 0.0 && signed_area2(&p.interiors()[0].0) < 0.0);
        assert_eq!(p.exterior().0.first(), p.exterior().0.last());
        assert_eq!(p.exterior().0[0], Coord { x: 0.0, y: 0.0 });
    }

    #[test]
    fn repeated_vertices_are_dropped_and_idempotent() {
        let mut a = MultiPolygon::new(vec![polygon![
            (x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)
        ]]);
        canonicalize(&mut a);
        assert_eq!(a.0[0].exterior().0.len(), 4);
        let once = a.clone();
        canonicalize(&mut a);
        assert_eq!(a, once);
    }
}

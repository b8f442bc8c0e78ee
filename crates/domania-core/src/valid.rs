//! Polygons made valid on the grid they are written on.
//!
//! Every shape that leaves Domania is rounded: to the 4096 units of a vector tile, to the
//! centimetre in Lambert-93, to the seventh decimal of a degree in WGS84. Rounding moves
//! vertices, and a thin sliver or two edges a few millimetres apart can then cross or touch
//! themselves, which the OGC simple-features rules (and the MVT specification, which borrows
//! them) forbid. So the rounding is done first, onto an integer grid, and the rounded rings are
//! rebuilt there by `i_overlay` (the engine of `geo::BooleanOps`), whose arithmetic on integers
//! is exact and whose OGC extraction splits what touches itself:
//! 1. each ring is put on the grid, repeated points dropped, exteriors given a positive area by
//!    the surveyor's formula and holes a negative one (a ring with no area left vanishes);
//! 2. the rings are filled under the positive winding rule: what an exterior covers and no hole
//!    takes away, however the rounding made them cross — two parts that came to overlap are
//!    one, a hole that came out of its exterior takes nothing outside it, an edge running there
//!    and back is no area;
//! 3. the filled area is written back as polygons, OGC-valid: exteriors positive, holes
//!    negative, rings not closed (the first point is not repeated), collinear points kept (a
//!    border shared with a neighbour keeps the neighbour's vertices).
//!
//! What rounds to no area is gone: the caller says what an empty answer means (a tile leaves
//! the feature out, a GeoJSON feature keeps its figures with an empty geometry).

use geo_types::MultiPolygon;
use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay::{ContourDirection, IntOverlayOptions};
use i_overlay::core::simplify::Simplify;
use i_overlay::i_float::int::point::IntPoint;

/// A ring on an integer grid, not closed.
pub type GridRing = Vec<[i64; 2]>;
/// A polygon on an integer grid: its exterior, then its holes.
pub type GridPolygon = Vec<GridRing>;

/// The widest shape, in grid units, rebuilt: `i_overlay` computes on 32-bit coordinates and
/// their 64-bit products, so coordinates are taken from the shape's corner and kept under 2³⁰.
pub const MAX_SPAN: i64 = 1 << 30;

/// Twice the signed area of a ring by the surveyor's formula, exact.
#[must_use]
pub fn area2(ring: &[[i64; 2]]) -> i128 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i128::from(a[0]) * i128::from(b[1]) - i128::from(b[0]) * i128::from(a[1])
        })
        .sum()
}

/// Polygons on an integer grid (exteriors positive, holes negative: that is how a ring says
/// what it is) rebuilt OGC-valid (see the module's steps). `None` when they cannot be: a shape
/// wider than [`MAX_SPAN`], or `i_overlay` failing (version 4.5 tripped an internal assertion on
/// some degenerate rings; a panic is still caught).
#[must_use]
pub fn valid_on_grid(polys: &[GridPolygon]) -> Option<Vec<GridPolygon>> {
    let mut lo = [i64::MAX; 2];
    let mut hi = [i64::MIN; 2];
    for p in polys.iter().flatten().flatten() {
        lo = [lo[0].min(p[0]), lo[1].min(p[1])];
        hi = [hi[0].max(p[0]), hi[1].max(p[1])];
    }
    if lo[0] > hi[0] {
        return Some(Vec::new());
    }
    if hi[0] - lo[0] >= MAX_SPAN || hi[1] - lo[1] >= MAX_SPAN {
        return None;
    }
    let to_int = |p: [i64; 2]| IntPoint::new((p[0] - lo[0]) as i32, (p[1] - lo[1]) as i32);
    let contours: Vec<Vec<IntPoint>> = polys
        .iter()
        .flatten()
        .filter(|r| r.len() >= 3)
        .map(|r| {
            let mut c: Vec<IntPoint> = Vec::with_capacity(r.len());
            for &p in r {
                let q = to_int(p);
                if c.last() != Some(&q) {
                    c.push(q);
                }
            }
            while c.len() > 1 && c.first() == c.last() {
                c.pop();
            }
            c
        })
        .filter(|c| c.len() >= 3)
        .collect();
    if contours.is_empty() {
        return Some(Vec::new());
    }
    let options = IntOverlayOptions {
        preserve_input_collinear: true,
        output_direction: ContourDirection::CounterClockwise,
        preserve_output_collinear: true,
        min_output_area: 0,
        ogc: true,
    };
    let shapes = std::panic::catch_unwind(|| contours.simplify(FillRule::Positive, options)).ok()?;
    let back = |q: &IntPoint| [i64::from(q.x) + lo[0], i64::from(q.y) + lo[1]];
    // Each shape is its exterior, then its holes. With `ogc`, version 4.5 may give a hole the
    // exterior's turn (a hole of a Paris sub-sector's non-cadastré space, split where it touched
    // the exterior, came out counterclockwise, which a tile decoder reads as a new polygon):
    // the place of a ring says what it is, and its turn is set from that.
    let polys: Vec<GridPolygon> = shapes
        .iter()
        .map(|shape| {
            shape
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    let mut r: GridRing = c.iter().map(back).collect();
                    if (k == 0) != (area2(&r) > 0) {
                        r.reverse();
                    }
                    r
                })
                .collect::<GridPolygon>()
        })
        .filter(|p: &GridPolygon| p.first().is_some_and(|e| e.len() >= 3 && area2(e) != 0))
        .collect();
    Some(polys)
}

/// A multipolygon put on an integer grid by `to_grid` and rebuilt valid there
/// ([`valid_on_grid`]). The orientation of its rings does not matter: each exterior is given a
/// positive area on the grid and each hole a negative one (`to_grid` must keep the axes'
/// handedness: x east, y north, as Lambert-93 and WGS84 longitude–latitude have). `None` as
/// [`valid_on_grid`].
#[must_use]
pub fn rounded_valid(mp: &MultiPolygon<f64>, to_grid: impl Fn(f64, f64) -> [i64; 2]) -> Option<Vec<GridPolygon>> {
    let polys: Vec<GridPolygon> =
        mp.0.iter()
            .map(|p| {
                std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .enumerate()
                    .filter_map(|(k, ring)| {
                        let mut g: GridRing = Vec::with_capacity(ring.0.len());
                        for c in &ring.0 {
                            let q = to_grid(c.x, c.y);
                            if g.last() != Some(&q) {
                                g.push(q);
                            }
                        }
                        while g.len() > 1 && g.first() == g.last() {
                            g.pop();
                        }
                        let a = if g.len() >= 3 { area2(&g) } else { 0 };
                        if a == 0 {
                            return None;
                        }
                        if (k == 0) != (a > 0) {
                            g.reverse();
                        }
                        Some(g)
                    })
                    .collect()
            })
            .collect();
    valid_on_grid(&polys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Validation;
    use geo_types::{Coord, LineString, Polygon};

    fn to_geo(polys: &[GridPolygon]) -> MultiPolygon<f64> {
        let ring = |r: &GridRing| {
            let mut c: Vec<Coord<f64>> = r.iter().map(|p| Coord { x: p[0] as f64, y: p[1] as f64 }).collect();
            c.push(c[0]);
            LineString(c)
        };
        MultiPolygon(polys.iter().map(|p| Polygon::new(ring(&p[0]), p[1..].iter().map(ring).collect())).collect())
    }

    fn area(polys: &[GridPolygon]) -> i128 {
        polys.iter().flatten().map(|r| area2(r)).sum()
    }

    #[test]
    fn a_valid_square_is_kept_as_it_is() {
        let sq = vec![vec![vec![[0, 0], [10, 0], [10, 10], [0, 10]]]];
        assert_eq!(valid_on_grid(&sq), Some(sq));
    }

    #[test]
    fn a_bow_tie_keeps_its_lobe_that_turns_the_exterior_s_way() {
        // Crosses itself at (5, 5): the kind of ring rounding makes of a thin sliver. Its left
        // lobe turns as an exterior does; the right one, turned inside out, covers nothing.
        let tie = vec![vec![vec![[0, 0], [10, 10], [10, 0], [0, 10]]]];
        let out = valid_on_grid(&tie).unwrap();
        assert!(to_geo(&out).is_valid(), "{out:?}");
        assert_eq!((out.len(), area(&out)), (1, 50));
    }

    #[test]
    fn an_edge_running_there_and_back_along_a_clip_line_is_no_area() {
        // What clipping a U-shaped parcel to a tile's edge leaves: the two arms joined by an
        // edge that runs along the clip line and back.
        let u = vec![vec![vec![[0, 0], [3, 0], [3, 8], [6, 8], [6, 0], [9, 0], [9, 10], [6, 10], [3, 10], [0, 10]]]];
        let clipped = vec![vec![vec![[0, 0], [3, 0], [3, 8], [6, 8], [6, 0], [9, 0], [9, 8], [6, 8], [3, 8], [0, 8]]]];
        for shape in [u, clipped] {
            let out = valid_on_grid(&shape).unwrap();
            assert!(to_geo(&out).is_valid(), "{out:?}");
            assert!(out.iter().all(|p| area2(&p[0]) > 0 && p[1..].iter().all(|h| area2(h) < 0)));
        }
    }

    #[test]
    fn a_hole_touching_its_exterior_stays_a_hole_and_parts_that_overlap_are_one() {
        let shell = vec![[0, 0], [10, 0], [10, 10], [0, 10]];
        let hole = vec![[0, 5], [5, 8], [5, 2]];
        let out = valid_on_grid(&[vec![shell.clone(), hole]]).unwrap();
        assert!(to_geo(&out).is_valid(), "{out:?}");
        assert_eq!(area(&out), 200 - 30);
        let overlapping = vec![vec![shell], vec![vec![[5, 0], [15, 0], [15, 10], [5, 10]]]];
        let out = valid_on_grid(&overlapping).unwrap();
        assert_eq!((out.len(), area(&out)), (1, 300));
    }

    /// Regression: the non-cadastré space of Paris's sub-sector S03 in tile 16/33196/22537 (its
    /// rings on the tile's grid, clipped): `i_overlay`'s OGC extraction split it where a hole
    /// touched the exterior and gave one hole an exterior's turn; the tile decoder read that
    /// hole as a polygon of its own and GEOS said "hole lies outside shell".
    #[test]
    fn every_hole_turns_as_a_hole_whatever_i_overlay_gives() {
        let input: Vec<GridPolygon> =
            serde_json::from_str(include_str!("../tests/fixtures/tile-16-33196-22537-spaces-S03.json")).unwrap();
        let out = valid_on_grid(&input).unwrap();
        assert!(to_geo(&out).is_valid(), "{out:?}");
        for p in &out {
            assert!(
                area2(&p[0]) > 0 && p[1..].iter().all(|h| area2(h) < 0),
                "{:?}",
                p.iter().map(|r| area2(r)).collect::<Vec<_>>()
            );
        }
        // The area is what the rings enclose: the exterior less its holes.
        assert_eq!(area(&out), area(&input));
    }

    /// Regression: the parcels of tile 12/2071/1405 of the synthetic million-parcel territory
    /// (`synth --parcels 1000000 --seed 7`), 8,316 of them rounded to the tile's grid, where many
    /// touch or overlap. `i_overlay` 4.5's OGC extraction walked them for ever (a tile that never
    /// came, and a server thread lost with it); version 9 rebuilds them in some 40 ms.
    #[test]
    fn thousands_of_small_parcels_rounded_onto_a_tile_are_rebuilt() {
        let gz = include_bytes!("../tests/fixtures/tile-12-2071-1405-parcels-synth-1m.json.gz");
        let input: Vec<GridPolygon> = serde_json::from_reader(flate2::read::GzDecoder::new(&gz[..])).unwrap();
        assert_eq!(input.len(), 8316);
        let out = valid_on_grid(&input).unwrap();
        assert!(!out.is_empty());
        for p in &out {
            assert!(area2(&p[0]) > 0 && p[1..].iter().all(|h| area2(h) < 0));
        }
        // Parts that touch are one: fewer polygons, and no more area than the input covered.
        assert!(out.len() < input.len());
        assert!(area(&out) <= input.iter().map(|p| area2(&p[0])).sum::<i128>());
    }

    #[test]
    fn a_sliver_thinner_than_the_grid_vanishes() {
        let mp = MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(0.0, 0.0), (100.0, 0.001), (100.0, 0.002), (0.0, 0.0)]),
            vec![],
        )]);
        assert_eq!(rounded_valid(&mp, |x, y| [(x * 100.0).round() as i64, (y * 100.0).round() as i64]), Some(vec![]));
    }

    #[test]
    fn rounding_a_ring_whatever_its_orientation_gives_a_positive_exterior() {
        let cw = MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0), (0.0, 0.0)]),
            vec![],
        )]);
        let out = rounded_valid(&cw, |x, y| [(x * 100.0).round() as i64, (y * 100.0).round() as i64]).unwrap();
        assert_eq!(area(&out), 2 * 100 * 100);
    }
}

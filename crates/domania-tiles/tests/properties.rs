//! Properties of the tiles, on random shapes: what a tile holds covers the shape clipped to the
//! buffered tile within the simplification tolerance and half a unit of rounding, neighbouring
//! parcels keep one shared border (the same vertices on both sides) at every zoom, specks stay
//! visible, and dissolving keeps each group's land.

use domania_tiles::layers::{TileOptions, shape_in_tile};
use domania_tiles::mvt::{self, Feature, Geometry, Layer};
use domania_tiles::tile::{Projector, TileId};
use domania_tiles::topo::{GridTile, Q, Topology};
use geo::{Area, BooleanOps, Euclidean, Length};
use geo_types::{LineString, MultiPolygon, Polygon, Rect, coord};
use proptest::prelude::*;

/// The z16 tile over the middle of Paris 18e, and its Lambert-93 corner.
const TILE: (u8, u32, u32) = (16, 33195, 22536);

fn tile() -> TileId {
    TileId::new(TILE.0, TILE.1, TILE.2).unwrap()
}

/// A polygon (in tile units) of a decoded geometry.
fn polygons(g: &Geometry) -> MultiPolygon<f64> {
    let Geometry::Polygons(ps) = g else { panic!("polygons expected") };
    MultiPolygon(
        ps.iter()
            .map(|rings| {
                let ring = |r: &Vec<[i32; 2]>| {
                    LineString::from(r.iter().map(|p| (f64::from(p[0]), f64::from(p[1]))).collect::<Vec<_>>())
                };
                Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
            })
            .collect(),
    )
}

/// A shape as the tile layers draw it: simplified by `simplify` tile units, clipped, on the grid.
fn drawn(shape: &MultiPolygon<f64>, simplify: f32) -> Option<Vec<Vec<Vec<[i32; 2]>>>> {
    let topo = Topology::build(&[shape]);
    shape_in_tile(&topo, 0, tile(), TileOptions { simplify, ..TileOptions::default() })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// What a tile holds covers the shape clipped to the buffered tile: each drawn vertex is
    /// within the simplification tolerance plus half a unit of rounding of the true outline,
    /// so the areas differ by at most the outline times that distance (plus the corners).
    #[test]
    fn encoded_polygons_cover_the_clipped_shape(
        cx in 0.0f64..1.0, cy in 0.0f64..1.0, w in 2.0f64..400.0, h in 2.0f64..400.0, skew in -0.5f64..0.5,
        simplify in prop_oneof![Just(0.0f32), Just(1.0f32)],
    ) {
        let t = tile();
        let area = t.lambert93_box(4096, 64);
        // A quadrilateral somewhere around the tile (some fully in, some cut, some out).
        let (x0, y0) = (area.min().x + cx * area.width(), area.min().y + cy * area.height());
        let shape = MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(x0, y0), (x0 + w, y0 + skew * h), (x0 + w, y0 + h), (x0 + skew * w, y0 + h), (x0, y0)]),
            vec![],
        )]);
        let proj = Projector::new(t, 4096);
        // The exact shape in tile units, clipped to the buffered tile.
        let in_units = MultiPolygon(shape.0.iter().map(|p| Polygon::new(
            LineString::from(p.exterior().0.iter().map(|c| { let q = proj.to_tile(c.x, c.y); (q[0], q[1]) }).collect::<Vec<_>>()),
            vec![],
        )).collect());
        let buffered = Rect::new(coord! { x: -64.0, y: -64.0 }, coord! { x: 4160.0, y: 4160.0 }).to_polygon();
        let exact = in_units.intersection(&MultiPolygon(vec![buffered]));
        let exact_area = exact.unsigned_area();
        let outline: f64 = exact.0.iter().map(|p| Euclidean.length(p.exterior())).sum();
        let reach = f64::from(simplify) + 0.5;
        match drawn(&shape, simplify) {
            None => prop_assert!(exact_area <= outline * reach + 1.0, "dropped a shape of {exact_area} units²"),
            Some(polys) => {
                let layer = Layer { name: "p".into(), extent: 4096, features: vec![Feature { id: Some(1), properties: vec![], geometry: Geometry::Polygons(polys) }] };
                let back = mvt::decode(&mvt::encode(&[layer])).unwrap();
                let got = polygons(&back[0].features[0].geometry).unsigned_area();
                prop_assert!((got - exact_area).abs() <= outline * reach + 4.0, "{got} vs {exact_area} (outline {outline})");
            }
        }
    }

    /// Two rectangles side by side, drawn in the tile: the ends of their common side are the
    /// same integer points in both.
    #[test]
    fn neighbours_share_their_border_exactly(cx in 0.2f64..0.8, cy in 0.2f64..0.8, w in 5.0f64..60.0, h in 5.0f64..60.0) {
        let t = tile();
        let area = t.lambert93_box(4096, 64);
        let (x0, y0) = (area.min().x + cx * area.width(), area.min().y + cy * area.height());
        let rect = |a: f64, b: f64| MultiPolygon(vec![Rect::new(coord! { x: a, y: y0 }, coord! { x: b, y: y0 + h }).to_polygon()]);
        let (left, right) = (rect(x0, x0 + w), rect(x0 + w, x0 + 2.0 * w));
        let topo = Topology::build(&[&left, &right]);
        let opts = TileOptions::default();
        let (l, r) = (shape_in_tile(&topo, 0, t, opts).unwrap(), shape_in_tile(&topo, 1, t, opts).unwrap());
        let proj = Projector::new(t, 4096);
        // Each end of the common side, as the left rectangle draws it (within a unit of where it
        // truly is), is a point of the right one too.
        for end in [proj.to_tile(x0 + w, y0), proj.to_tile(x0 + w, y0 + h)] {
            let near = l[0][0].iter().find(|p| (f64::from(p[0]) - end[0]).abs() <= 1.0 && (f64::from(p[1]) - end[1]).abs() <= 1.0);
            prop_assert!(near.is_some_and(|p| r[0][0].contains(p)), "{end:?}: {l:?} and {r:?}");
        }
    }

    /// A parcel smaller than a tile unit is drawn as one unit, not lost.
    #[test]
    fn specks_stay_visible(cx in 0.05f64..0.95, cy in 0.05f64..0.95, side in 0.05f64..0.5) {
        let t = tile();
        let area = t.lambert93_box(4096, 64);
        let (x0, y0) = (area.min().x + cx * area.width(), area.min().y + cy * area.height());
        let speck = MultiPolygon(vec![Rect::new(coord! { x: x0, y: y0 }, coord! { x: x0 + side, y: y0 + side }).to_polygon()]);
        let polys = drawn(&speck, 1.0);
        prop_assert!(polys.is_some(), "a {side} m square at z16 vanished");
        let polys = polys.unwrap();
        prop_assert!(mvt::ring_area2(&polys[0][0]) > 0);
    }
}

/// Twice the signed area of a ring on the world grid, exact (from its first point, in 128 bits).
#[allow(clippy::many_single_char_names)]
fn grid_area2(ring: &[Q]) -> f64 {
    let o = ring[0];
    let d = |q: Q| (i128::from(q[0]) - i128::from(o[0]), i128::from(q[1]) - i128::from(o[1]));
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (d(ring[i]), d(ring[(i + 1) % n]));
            a.0 * b.1 - b.0 * a.1
        })
        .sum::<i128>() as f64
}

/// Grid units per tile unit at zoom `z` (extent 4096).
fn unit(z: u8) -> f32 {
    GridTile::new(TileId::new(z, 0, 0).unwrap(), 4096).unit as f32
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Two parcels on either side of a winding border, a third beside them: at every zoom's
    /// tolerance, the border points one keeps are the ones the other keeps, in reverse order.
    #[test]
    fn simplified_neighbours_keep_one_border(
        wiggles in proptest::collection::vec((-8.0f64..8.0, 0.2f64..5.0), 2..40),
        w in 10.0f64..80.0,
        z in 10u8..=18,
    ) {
        let (x0, y0) = (652_300.0, 6_865_400.0);
        let mut border = vec![(x0, y0)];
        let mut y = y0;
        for (dx, dy) in &wiggles {
            y += dy;
            border.push((x0 + dx, y));
        }
        y += 1.0;
        border.push((x0, y));
        let top = y;
        let mut left = vec![(x0 - w, y0)];
        left.extend(border.iter().copied());
        left.extend([(x0 - w, top), (x0 - w, y0)]);
        let mut right: Vec<(f64, f64)> = border.iter().rev().copied().collect();
        right.extend([(x0 + w, y0), (x0 + w, top), (x0, top)]);
        let third = Rect::new(coord! { x: x0 + w, y: y0 }, coord! { x: x0 + 2.0 * w, y: top }).to_polygon();
        let shapes = [
            MultiPolygon(vec![Polygon::new(LineString::from(left), vec![])]),
            MultiPolygon(vec![Polygon::new(LineString::from(right), vec![])]),
            MultiPolygon(vec![third]),
        ];
        let topo = Topology::build(&shapes.iter().collect::<Vec<_>>());
        // The border's points on the grid, as the topology snapped them.
        let whole = |s: usize, tol: f32| {
            let mut pts = Vec::new();
            topo.ring_points(topo.polygons(s).next().unwrap().start, tol, &mut pts);
            pts
        };
        let (l0, r0) = (whole(0, 0.0), whole(1, 0.0));
        let on_border: std::collections::HashSet<Q> = l0.iter().filter(|q| r0.contains(q)).copied().collect();
        let tol = unit(z);
        let (l, r) = (whole(0, tol), whole(1, tol));
        let kept = |ring: &[Q]| ring.iter().filter(|q| on_border.contains(*q)).copied().collect::<Vec<_>>();
        let (kl, mut kr) = (kept(&l), kept(&r));
        prop_assert!(kl.len() >= 2, "the border's ends stay: {kl:?}");
        kr.reverse();
        // The same points, read the other way (up to where each ring starts).
        let rotated = (0..kr.len()).any(|k| kr[k..].iter().chain(&kr[..k]).eq(kl.iter()));
        prop_assert!(rotated, "left keeps {kl:?}, right keeps {kr:?}");
    }

    /// Random groups of a grid of squares, dissolved: the land of each group is kept whole
    /// (exteriors minus holes, on the grid), nothing is counted twice and nothing lost.
    #[test]
    fn dissolving_keeps_every_groups_land(groups in proptest::collection::vec(0u32..3, 16)) {
        let squares: Vec<MultiPolygon<f64>> = (0..16)
            .map(|i| {
                let (x, y) = (652_000.0 + f64::from(i % 4) * 25.0, 6_865_000.0 + f64::from(i / 4) * 25.0);
                MultiPolygon(vec![Rect::new(coord! { x: x, y: y }, coord! { x: x + 25.0, y: y + 25.0 }).to_polygon()])
            })
            .collect();
        let topo = Topology::build(&squares.iter().collect::<Vec<_>>());
        let members: Vec<(usize, u32)> = groups.iter().enumerate().map(|(i, g)| (i, *g)).collect();
        let areas: Vec<f64> = (0..16)
            .map(|i| {
                let mut pts = Vec::new();
                topo.ring_points(topo.polygons(i).next().unwrap().start, 0.0, &mut pts);
                grid_area2(&pts)
            })
            .collect();
        for (g, polys) in topo.dissolve(&members, 0.0) {
            let want: f64 = members.iter().filter(|m| m.1 == g).map(|m| areas[m.0]).sum();
            let got: f64 = polys.iter().flatten().map(|r| grid_area2(r)).sum();
            prop_assert!((got - want).abs() <= want * 1e-9, "group {g}: {got} vs {want}");
            prop_assert!(polys.iter().all(|p| grid_area2(&p[0]) > 0.0 && p[1..].iter().all(|h| grid_area2(h) < 0.0)));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Every polygon drawn is valid by the OGC rules the MVT specification borrows, after the
    /// rounding to the tile's grid and the clipping to its buffer: star-shaped parcels (concave,
    /// their spikes cut by the buffer's edge and back) and slivers thinner than a tile unit
    /// (which rounding folds onto themselves), anywhere around the tile.
    #[test]
    fn drawn_polygons_are_valid(
        cx in -0.05f64..1.05, cy in -0.05f64..1.05, radius in 0.5f64..300.0,
        spikes in proptest::collection::vec((0.05f64..1.0, -0.4f64..0.4), 5..40),
        sliver in prop_oneof![Just(None), (0.001f64..1.5, -1.0f64..1.0).prop_map(Some)],
        simplify in prop_oneof![Just(0.0f32), Just(1.0f32)],
    ) {
        use geo::Validation;
        let area = tile().lambert93_box(4096, 64);
        let (x0, y0) = (area.min().x + cx * area.width(), area.min().y + cy * area.height());
        let n = spikes.len() as f64;
        let ring: Vec<(f64, f64)> = match sliver {
            // A needle a few metres long and `width` metres wide, crossing the tile's edge.
            Some((width, slope)) => vec![(x0, y0), (x0 + radius, y0 + slope * radius), (x0 + radius, y0 + slope * radius + width), (x0, y0 + width * 0.5)],
            None => spikes
                .iter()
                .enumerate()
                .map(|(i, (r, jitter))| {
                    let a = (i as f64 + jitter) / n * std::f64::consts::TAU;
                    (x0 + radius * r * a.cos(), y0 + radius * r * a.sin())
                })
                .collect(),
        };
        let mut closed = ring.clone();
        closed.push(ring[0]);
        let shape = MultiPolygon(vec![Polygon::new(LineString::from(closed), vec![])]);
        prop_assume!(shape.is_valid());
        if let Some(polys) = drawn(&shape, simplify) {
            let drawn = polygons(&Geometry::Polygons(polys.clone()));
            prop_assert!(drawn.is_valid(), "{:?}: {polys:?}", drawn.validation_errors());
            for p in &polys {
                prop_assert!(mvt::ring_area2(&p[0]) > 0 && p[1..].iter().all(|h| mvt::ring_area2(h) < 0));
            }
        }
    }
}

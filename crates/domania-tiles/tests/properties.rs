//! Properties of the tiles, on random shapes: what a tile holds covers the shape clipped to the
//! buffered tile within one tile unit of its outline, and neighbouring parcels keep one shared
//! border (the same vertices on both sides).

use domania_tiles::mvt::{self, Feature, Geometry, Layer};
use domania_tiles::tile::{Projector, TileId};
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn encoded_polygons_cover_the_clipped_shape_within_a_unit(
        cx in 0.0f64..1.0, cy in 0.0f64..1.0, w in 2.0f64..400.0, h in 2.0f64..400.0, skew in -0.5f64..0.5,
    ) {
        let t = tile();
        let area = t.lambert93_box(4096, 64);
        // A quadrilateral somewhere around the tile (some fully in, some cut, some out).
        let (x0, y0) = (area.min().x + cx * area.width(), area.min().y + cy * area.height());
        let shape = MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(x0, y0), (x0 + w, y0 + skew * h), (x0 + w, y0 + h), (x0 + skew * w, y0 + h), (x0, y0)]),
            vec![],
        )]);
        let proj = Projector::new(t, 4096, 64);
        // The exact shape in tile units, clipped to the buffered tile.
        let in_units = MultiPolygon(shape.0.iter().map(|p| Polygon::new(
            LineString::from(p.exterior().0.iter().map(|c| { let q = proj.to_tile(c.x, c.y); (q[0], q[1]) }).collect::<Vec<_>>()),
            vec![],
        )).collect());
        let buffered = Rect::new(coord! { x: -64.0, y: -64.0 }, coord! { x: 4160.0, y: 4160.0 }).to_polygon();
        let exact = in_units.intersection(&MultiPolygon(vec![buffered]));
        let exact_area = exact.unsigned_area();
        let outline: f64 = exact.0.iter().map(|p| Euclidean.length(p.exterior())).sum();
        match proj.polygons(&shape) {
            None => prop_assert!(exact_area <= outline + 1.0, "dropped a shape of {exact_area} units²"),
            Some(polys) => {
                let layer = Layer { name: "p".into(), extent: 4096, features: vec![Feature { id: Some(1), properties: vec![], geometry: Geometry::Polygons(polys) }] };
                let back = mvt::decode(&mvt::encode(&[layer])).unwrap();
                let got = polygons(&back[0].features[0].geometry).unsigned_area();
                // Rounding moves each vertex by at most half a unit diagonally.
                prop_assert!((got - exact_area).abs() <= outline + 4.0, "{got} vs {exact_area} (outline {outline})");
            }
        }
    }

    #[test]
    fn neighbours_share_their_border_exactly(cx in 0.2f64..0.8, cy in 0.2f64..0.8, w in 5.0f64..60.0, h in 5.0f64..60.0) {
        let t = tile();
        let area = t.lambert93_box(4096, 64);
        let (x0, y0) = (area.min().x + cx * area.width(), area.min().y + cy * area.height());
        let rect = |a: f64, b: f64| MultiPolygon(vec![Rect::new(coord! { x: a, y: y0 }, coord! { x: b, y: y0 + h }).to_polygon()]);
        let (left, right) = (rect(x0, x0 + w), rect(x0 + w, x0 + 2.0 * w));
        let proj = Projector::new(t, 4096, 64);
        let (l, r) = (proj.polygons(&left).unwrap(), proj.polygons(&right).unwrap());
        // The shared border's ends in each: the same integer points.
        let edge = |x: f64| [proj.to_tile(x, y0), proj.to_tile(x, y0 + h)].map(|p| [p[0].round() as i32, p[1].round() as i32]);
        for p in edge(x0 + w) {
            prop_assert!(l[0][0].contains(&p) && r[0][0].contains(&p), "{p:?} in {l:?} and {r:?}");
        }
    }
}

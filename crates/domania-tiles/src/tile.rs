//! Web Mercator tiles: which part of the territory a tile covers, polygons put on a tile's
//! integer grid (clipped to the buffered tile, with the ring winding the MVT specification
//! requires), and a point-by-point Lambert-93 projector the tests check the layers against.

use domania_core::crs::Crs;
use geo_types::Rect;

/// EPSG:3857, built into `domania_core::crs`.
fn web_mercator() -> Crs {
    Crs::from_epsg(3857).unwrap_or_else(Crs::wgs84)
}

/// Half the width of the Web Mercator world, in metres.
pub const WORLD_HALF: f64 = 20_037_508.342_789_244;

/// A tile address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

/// The deepest zoom served.
pub const MAX_ZOOM: u8 = 22;

impl TileId {
    /// A tile address, checked: zoom up to [`MAX_ZOOM`], x and y inside the zoom's grid.
    #[must_use]
    pub fn new(z: u8, x: u32, y: u32) -> Option<Self> {
        let n = 1u64 << z.min(MAX_ZOOM);
        (z <= MAX_ZOOM && u64::from(x) < n && u64::from(y) < n).then_some(Self { z, x, y })
    }

    /// The tile's box in Web Mercator metres (min x, min y, max x, max y).
    #[must_use]
    pub fn mercator_bounds(self) -> [f64; 4] {
        let size = 2.0 * WORLD_HALF / f64::from(1u32 << self.z);
        let minx = -WORLD_HALF + f64::from(self.x) * size;
        let maxy = WORLD_HALF - f64::from(self.y) * size;
        [minx, maxy - size, minx + size, maxy]
    }

    /// The Lambert-93 box holding the tile and its buffer (`buffer` in tile units of `extent`):
    /// where to look for features.
    #[must_use]
    pub fn lambert93_box(self, extent: u32, buffer: u32) -> Rect<f64> {
        let [x0, y0, x1, y1] = self.mercator_bounds();
        let pad = (x1 - x0) * f64::from(buffer) / f64::from(extent);
        let (x0, y0, x1, y1) = (x0 - pad, y0 - pad, x1 + pad, y1 + pad);
        let (merc, l93) = (web_mercator(), Crs::lambert93());
        let mut xs = Vec::with_capacity(8);
        let mut ys = Vec::with_capacity(8);
        for (x, y) in [
            (x0, y0),
            (x1, y0),
            (x0, y1),
            (x1, y1),
            (f64::midpoint(x0, x1), y0),
            (f64::midpoint(x0, x1), y1),
            (x0, f64::midpoint(y0, y1)),
            (x1, f64::midpoint(y0, y1)),
        ] {
            let (a, b) = merc.transform_to(&l93, x, y);
            xs.push(a);
            ys.push(b);
        }
        let fold = |v: &[f64], f: fn(f64, f64) -> f64, init: f64| v.iter().copied().fold(init, f);
        Rect::new(
            (fold(&xs, f64::min, f64::INFINITY), fold(&ys, f64::min, f64::INFINITY)),
            (fold(&xs, f64::max, f64::NEG_INFINITY), fold(&ys, f64::max, f64::NEG_INFINITY)),
        )
    }
}

/// Projects Lambert-93 points into one tile's units, each on its own (the tile layers read
/// [`crate::topo`]'s grid, projected once; this is the reference they are checked against).
#[derive(Debug, Clone)]
pub struct Projector {
    l93: Crs,
    merc: Crs,
    bounds: [f64; 4],
    extent: f64,
}

impl Projector {
    #[must_use]
    pub fn new(tile: TileId, extent: u32) -> Self {
        Self { l93: Crs::lambert93(), merc: web_mercator(), bounds: tile.mercator_bounds(), extent: f64::from(extent) }
    }

    /// A Lambert-93 point in tile units (x right, y down), not rounded.
    #[must_use]
    pub fn to_tile(&self, x: f64, y: f64) -> [f64; 2] {
        let (mx, my) = self.l93.transform_to(&self.merc, x, y);
        let [x0, y0, x1, y1] = self.bounds;
        [(mx - x0) / (x1 - x0) * self.extent, (y1 - my) / (y1 - y0) * self.extent]
    }
}

/// A polygon in tile units (its exterior, then its holes) on the tile's integer grid: each ring
/// clipped to the square `[lo, hi]²`, rounded to whole units without repeated points, the
/// exterior with a positive area and holes with a negative one. `None` when the exterior
/// vanishes (outside, or thinner than a unit); holes that vanish are left out.
pub(crate) fn grid_polygon(rings: impl Iterator<Item = Vec<[f64; 2]>>, lo: f64, hi: f64) -> Option<Vec<Vec<[i32; 2]>>> {
    let mut out = Vec::new();
    for (k, pts) in rings.enumerate() {
        let inside = pts.iter().all(|p| p[0] >= lo && p[0] <= hi && p[1] >= lo && p[1] <= hi);
        let clipped = if inside { pts } else { clip(&pts, lo, hi) };
        let mut grid: Vec<[i32; 2]> = Vec::with_capacity(clipped.len());
        for p in clipped {
            let q = [p[0].round() as i32, p[1].round() as i32];
            if grid.last() != Some(&q) {
                grid.push(q);
            }
        }
        while grid.len() > 1 && grid.first() == grid.last() {
            grid.pop();
        }
        let area = if grid.len() >= 3 { crate::mvt::ring_area2(&grid) } else { 0 };
        if area == 0 {
            if k == 0 {
                return None;
            }
            continue;
        }
        // Exterior positive, holes negative.
        if (k == 0) != (area > 0) {
            grid.reverse();
        }
        out.push(grid);
    }
    (!out.is_empty()).then_some(out)
}

/// Polygons on a tile's grid made valid by the OGC rules the MVT specification borrows
/// (`domania_core::valid`): clipping leaves edges running along the buffer's edge and back,
/// rounding can make a thin ring cross or touch itself. `None` when nothing with an area is
/// left (or the rebuild failed: a feature is left out rather than drawn invalid).
pub(crate) fn valid_polygons(polys: &[Vec<Vec<[i32; 2]>>]) -> Option<Vec<Vec<Vec<[i32; 2]>>>> {
    let wide: Vec<domania_core::valid::GridPolygon> = polys
        .iter()
        .map(|p| p.iter().map(|r| r.iter().map(|q| [i64::from(q[0]), i64::from(q[1])]).collect()).collect())
        .collect();
    let out: Vec<Vec<Vec<[i32; 2]>>> = domania_core::valid::valid_on_grid(&wide)?
        .into_iter()
        .map(|p| p.into_iter().map(|r| r.into_iter().map(|q| [q[0] as i32, q[1] as i32]).collect()).collect())
        .collect();
    (!out.is_empty()).then_some(out)
}

/// Sutherland–Hodgman clipping of a ring (closed or not) to the square `[lo, hi]²`.
fn clip(ring: &[[f64; 2]], lo: f64, hi: f64) -> Vec<[f64; 2]> {
    let mut pts: Vec<[f64; 2]> = ring.to_vec();
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    // Each edge: axis, bound, keep-if-greater.
    for (axis, bound, keep_greater) in [(0, lo, true), (0, hi, false), (1, lo, true), (1, hi, false)] {
        if pts.is_empty() {
            break;
        }
        let inside = |p: &[f64; 2]| if keep_greater { p[axis] >= bound } else { p[axis] <= bound };
        let mut next = Vec::with_capacity(pts.len() + 4);
        for i in 0..pts.len() {
            let (a, b) = (pts[i], pts[(i + 1) % pts.len()]);
            let (ia, ib) = (inside(&a), inside(&b));
            if ia {
                next.push(a);
            }
            if ia != ib {
                let t = (bound - a[axis]) / (b[axis] - a[axis]);
                let mut p = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
                p[axis] = bound;
                next.push(p);
            }
        }
        pts = next;
    }
    pts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_are_checked_and_cover_the_world() {
        assert!(TileId::new(0, 0, 0).is_some());
        assert!(TileId::new(2, 4, 0).is_none());
        assert!(TileId::new(23, 0, 0).is_none());
        let [x0, y0, x1, y1] = TileId::new(1, 1, 0).unwrap().mercator_bounds();
        assert!(x0.abs() < 1e-6 && y0.abs() < 1e-6 && (x1 - WORLD_HALF).abs() < 1e-6 && (y1 - WORLD_HALF).abs() < 1e-6);
    }

    #[test]
    fn a_square_larger_than_the_tile_is_clipped_to_the_buffer_clockwise() {
        let ring = [[-100.0, -100.0], [5000.0, -100.0], [5000.0, 5000.0], [-100.0, 5000.0]];
        let c = clip(&ring, -64.0, 4160.0);
        assert_eq!(c.len(), 4);
        assert!(c.iter().all(|p| (-64.0..=4160.0).contains(&p[0]) && (-64.0..=4160.0).contains(&p[1])));
    }
}

//! What gives the map its bearings without a basemap: the name of each cadastral section at a
//! point inside it, and the name of each street along the line its addresses make. Kept on the
//! world grid with an R-tree, and cut into tiles as points and lines of the `labels` layer.

use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use crate::mvt::{Feature, Geometry, Value};
use crate::tile::TileId;
use crate::topo::{GridTile, Q, to_world_grid};

/// What a label names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelKind {
    Section,
    Street,
}

impl LabelKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            LabelKind::Section => "section",
            LabelKind::Street => "street",
        }
    }
}

/// One label: a point (a section), or a segment (a street), on the world grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub kind: LabelKind,
    pub name: String,
    /// INSEE code of its commune.
    pub commune: String,
    pub at: Q,
    pub to: Option<Q>,
}

/// A label placed in Lambert-93, before projection.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedLabel {
    pub kind: LabelKind,
    pub name: String,
    pub commune: String,
    pub at: (f64, f64),
    pub to: Option<(f64, f64)>,
}

/// Every label of a snapshot, indexed.
#[derive(Debug, Default)]
pub struct Labels {
    labels: Vec<Label>,
    index: RTree<GeomWithData<Rectangle<[i64; 2]>, u32>>,
}

impl Labels {
    /// The labels, projected onto the grid and indexed.
    #[must_use]
    pub fn new(placed: Vec<PlacedLabel>) -> Self {
        let points: Vec<(f64, f64)> = placed.iter().flat_map(|p| [p.at, p.to.unwrap_or(p.at)]).collect();
        let grid = to_world_grid(&points);
        let labels: Vec<Label> = placed
            .into_iter()
            .zip(grid.chunks(2))
            .map(|(p, q)| Label { kind: p.kind, name: p.name, commune: p.commune, at: q[0], to: p.to.map(|_| q[1]) })
            .collect();
        let entries = labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let b = l.to.unwrap_or(l.at);
                let lo = [i64::from(l.at[0].min(b[0])), i64::from(l.at[1].min(b[1]))];
                let hi = [i64::from(l.at[0].max(b[0])), i64::from(l.at[1].max(b[1]))];
                GeomWithData::new(Rectangle::from_corners(lo, hi), i as u32)
            })
            .collect();
        Self { labels, index: RTree::bulk_load(entries) }
    }

    /// How many there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The labels of a tile of `extent` units with a `buffer`: sections as points inside it,
    /// streets as their segments clipped to it.
    #[must_use]
    pub fn in_tile(&self, tile: TileId, extent: u32, buffer: u32) -> Vec<Feature> {
        let grid = GridTile::new(tile, extent);
        let bx = grid.grid_box(extent, buffer);
        let (lo, hi) = (-f64::from(buffer), f64::from(extent + buffer));
        let mut ids: Vec<u32> = self
            .index
            .locate_in_envelope_intersecting(AABB::from_corners([bx[0], bx[1]], [bx[2], bx[3]]))
            .map(|e| e.data)
            .collect();
        ids.sort_unstable();
        let mut out = Vec::new();
        for i in ids {
            let l = &self.labels[i as usize];
            let a = grid.to_tile(l.at);
            let geometry = match l.to {
                None => {
                    if !(lo..=hi).contains(&a[0]) || !(lo..=hi).contains(&a[1]) {
                        continue;
                    }
                    Geometry::Points(vec![[a[0].round() as i32, a[1].round() as i32]])
                }
                Some(to) => {
                    let Some((p, q)) = clip(a, grid.to_tile(to), lo, hi) else { continue };
                    let (p, q) =
                        ([p[0].round() as i32, p[1].round() as i32], [q[0].round() as i32, q[1].round() as i32]);
                    if p == q {
                        continue;
                    }
                    Geometry::Lines(vec![vec![p, q]])
                }
            };
            out.push(Feature {
                id: Some(u64::from(i) + 1),
                properties: vec![
                    ("kind".into(), Value::String(l.kind.as_str().into())),
                    ("name".into(), Value::String(l.name.clone())),
                    ("commune".into(), Value::String(l.commune.clone())),
                ],
                geometry,
            });
        }
        out
    }
}

/// The segment `a`–`b` clipped to the square `lo..hi` (Liang–Barsky); `None` when outside.
fn clip(a: [f64; 2], b: [f64; 2], lo: f64, hi: f64) -> Option<([f64; 2], [f64; 2])> {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [(-dx, a[0] - lo), (dx, hi - a[0]), (-dy, a[1] - lo), (dy, hi - a[1])] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
            continue;
        }
        let r = q / p;
        if p < 0.0 {
            t0 = t0.max(r);
        } else {
            t1 = t1.min(r);
        }
        if t0 > t1 {
            return None;
        }
    }
    Some(([a[0] + t0 * dx, a[1] + t0 * dy], [a[0] + t1 * dx, a[1] + t1 * dy]))
}

/// The line a street's addresses make: through their mean, along the direction they spread the
/// most (the principal axis), from the first to the last of them on it; `None` for fewer than
/// two distinct points.
#[must_use]
pub fn street_line(points: &[(f64, f64)]) -> Option<((f64, f64), (f64, f64))> {
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let (mx, my) = points.iter().fold((0.0, 0.0), |(x, y), p| (x + p.0 / n, y + p.1 / n));
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for p in points {
        let (dx, dy) = (p.0 - mx, p.1 - my);
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    if sxx + syy <= 0.0 {
        return None;
    }
    let angle = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    let (ux, uy) = (angle.cos(), angle.sin());
    let along = |p: &(f64, f64)| (p.0 - mx) * ux + (p.1 - my) * uy;
    let (lo, hi) = points.iter().map(along).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), t| (a.min(t), b.max(t)));
    // West to east, so that a label along it reads from left to right.
    let (a, b) = ((mx + lo * ux, my + lo * uy), (mx + hi * ux, my + hi * uy));
    Some(if a.0 <= b.0 { (a, b) } else { (b, a) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_street_runs_along_its_addresses() {
        // Numbers on both sides of an east–west street, 10 m apart.
        let pts: Vec<(f64, f64)> =
            (0..10).map(|i| (650_000.0 + f64::from(i) * 20.0, 6_860_000.0 + f64::from(i % 2) * 10.0)).collect();
        let (a, b) = street_line(&pts).unwrap();
        assert!((a.0 - 650_000.0).abs() < 1.0 && (b.0 - 650_180.0).abs() < 1.0, "{a:?} {b:?}");
        assert!((a.1 - b.1).abs() < 3.0);
        assert!(street_line(&pts[..1]).is_none());
        assert!(street_line(&[(1.0, 1.0), (1.0, 1.0)]).is_none());
    }

    #[test]
    fn segments_are_clipped_to_the_tile() {
        assert_eq!(clip([-10.0, 5.0], [20.0, 5.0], 0.0, 10.0), Some(([0.0, 5.0], [10.0, 5.0])));
        assert_eq!(clip([-10.0, -5.0], [-1.0, -1.0], 0.0, 10.0), None);
        assert_eq!(clip([2.0, 2.0], [3.0, 3.0], 0.0, 10.0), Some(([2.0, 2.0], [3.0, 3.0])));
    }
}

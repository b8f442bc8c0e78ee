//! Blocks (*îlots*): connected parcels bounded by non-cadastré space, candidate sub-sectors.

use geo::BooleanOps;
use std::collections::BTreeMap;

use geo_types::MultiPolygon;
use serde::Serialize;

use crate::geometry::boxes_meet;
use crate::snapshot::Snapshot;

/// Parcels closer than this (m) are neighbours in a block: Etalab coordinates are rounded to
/// 1e-7 degree (about a centimetre), which opens hairline gaps between parcels that touch.
pub const BLOCK_TOUCH_M: f64 = 0.1;

/// Root of `x` in a union-find forest, halving paths on the way.
fn find(p: &mut [usize], mut x: usize) -> usize {
    while p[x] != x {
        p[x] = p[p[x]];
        x = p[x];
    }
    x
}

/// A candidate sub-sector: a connected group of parcels bounded by non-cadastré space.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Block {
    pub parcels: Vec<String>,
    /// Union of the parcels, clipped to the zone it was derived in (Lambert-93).
    #[serde(skip)]
    pub geom_l93: MultiPolygon<f64>,
    pub area_m2: f64,
}

impl Snapshot {
    /// The blocks (*îlots*) inside `zone`: the parts of parcels inside the zone, grouped into
    /// connected components (sharing a boundary, or within [`BLOCK_TOUCH_M`]) *inside the zone*
    /// — two parcels that touch only outside it are not joined; each block is the union of its
    /// parts. Largest first.
    #[must_use]
    pub fn blocks(&self, zone: &MultiPolygon<f64>) -> Vec<Block> {
        use geo::{Area, BoundingRect, Distance, Euclidean, Intersects};
        use rstar::{AABB, RTree, RTreeObject, primitives::GeomWithData, primitives::Rectangle};
        // (parcel index, its part inside the zone).
        let members: Vec<(usize, MultiPolygon<f64>)> = (0..self.parcels.len())
            .filter(|&i| boxes_meet(zone, &self.parcels[i].geom_l93))
            .map(|i| (i, zone.intersection(&self.parcels[i].geom_l93)))
            .filter(|(_, part)| part.unsigned_area() >= domania_core::overlay::SLIVER_M2)
            .collect();
        let boxes: Vec<_> = members
            .iter()
            .enumerate()
            .filter_map(|(k, (_, part))| {
                part.bounding_rect().map(|r| {
                    let e = AABB::from_corners(
                        [r.min().x - BLOCK_TOUCH_M, r.min().y - BLOCK_TOUCH_M],
                        [r.max().x + BLOCK_TOUCH_M, r.max().y + BLOCK_TOUCH_M],
                    );
                    GeomWithData::new(Rectangle::from_aabb(e), k)
                })
            })
            .collect();
        let tree = RTree::bulk_load(boxes.clone());
        // Union-find over the members.
        let mut parent: Vec<usize> = (0..members.len()).collect();
        for b in &boxes {
            let k = b.data;
            let a = &members[k].1;
            for other in tree.locate_in_envelope_intersecting(b.geom().envelope()) {
                let j = other.data;
                if j <= k || find(&mut parent, k) == find(&mut parent, j) {
                    continue;
                }
                let bgeom = &members[j].1;
                let near = a.intersects(bgeom)
                    || a.0.iter().any(|p| bgeom.0.iter().any(|q| Euclidean.distance(p, q) < BLOCK_TOUCH_M));
                if near {
                    let (rk, rj) = (find(&mut parent, k), find(&mut parent, j));
                    parent[rk] = rj;
                }
            }
        }
        let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for k in 0..members.len() {
            let r = find(&mut parent, k);
            groups.entry(r).or_default().push(k);
        }
        let mut blocks: Vec<Block> = groups
            .into_values()
            .map(|ks| {
                let geom_l93 = geo::unary_union(ks.iter().map(|&k| &members[k].1));
                Block {
                    parcels: ks.iter().map(|&k| self.parcels[members[k].0].idu.clone()).collect(),
                    area_m2: geom_l93.unsigned_area(),
                    geom_l93,
                }
            })
            .collect();
        blocks.sort_by(|a, b| b.area_m2.total_cmp(&a.area_m2));
        blocks
    }
}

//! Shared borders, once. The shapes of a layer are projected once to Web Mercator and snapped
//! to a world grid of 2³² × 2³² units (about 9 mm at the equator, 6 mm at Paris's latitude);
//! their rings are cut at the points where neighbours part ways (junctions) into arcs, and each
//! arc is stored once however many rings use it (a border between two parcels is one arc, read
//! forwards by one and backwards by the other). Each point of an arc gets the Douglas–Peucker
//! tolerance below which it is kept, computed once; a tile of zoom `z` keeps the points whose
//! tolerance passes one tile unit of that zoom. Both sides of a border therefore read the same
//! points at every zoom: no gap and no sliver between neighbours, by construction rather than by
//! luck. (Two exceptions, within a tile unit: a shape that simplification would make vanish is
//! drawn unsimplified, and a T-junction — a vertex of one parcel on the side of another — makes
//! arcs that do not match point for point.)
//!
//! The same arcs dissolve parcels of one actor at low zooms: a border whose two sides belong to
//! the same actor is left out, and what is left is stitched back into rings.

use domania_core::crs::Crs;
use domania_core::flat::{FlatError, FlatReader, FlatWriter, check_offsets};
use geo_types::MultiPolygon;
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use rustc_hash::FxHashMap;
use std::sync::OnceLock;

use crate::tile::{TileId, WORLD_HALF};

/// A point on the world grid: x from the antimeridian eastwards, y from the north pole
/// southwards (the orientation of tiles), in units of 2⁻³² of the world's width.
pub type Q = [u32; 2];

/// The world's width in grid units.
const WORLD: f64 = 4_294_967_296.0;

/// The flag of an arc read backwards in a ring.
const BACKWARDS: u32 = 1 << 31;

type Entry = GeomWithData<Rectangle<[i64; 2]>, u32>;

/// The shapes of one layer as rings of shared arcs.
pub struct Topology {
    /// The points of every arc, arc after arc (an arc holds both its ends).
    pts: Vec<Q>,
    /// The tolerance, in grid units, below which each point is kept (infinite at arc ends).
    weight: Vec<f32>,
    /// Arc `a` is `pts[arc_start[a]..arc_start[a + 1]]`.
    arc_start: Vec<u32>,
    /// The arcs of every ring, each an arc index, with [`BACKWARDS`] when read backwards.
    ring_arcs: Vec<u32>,
    /// Ring `r` is `ring_arcs[ring_start[r]..ring_start[r + 1]]`.
    ring_start: Vec<u32>,
    /// Polygon `p` is rings `poly_start[p]..poly_start[p + 1]`, its exterior first.
    poly_start: Vec<u32>,
    /// Shape `s` is polygons `shape_start[s]..shape_start[s + 1]`.
    shape_start: Vec<u32>,
    /// Each shape's box on the grid: min x, min y, max x, max y.
    bbox: Vec<[u32; 4]>,
    /// The boxes' R-tree, built from them on first use ([`Topology::prepare`]): not kept in the
    /// snapshot file, whose read it would lengthen, and not on the way of a build.
    index: OnceLock<RTree<Entry>>,
}

impl std::fmt::Debug for Topology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Topology")
            .field("shapes", &self.shapes())
            .field("arcs", &self.arcs())
            .field("points", &self.pts.len())
            .finish_non_exhaustive()
    }
}

/// Lambert-93 points on the world grid.
#[must_use]
pub fn to_world_grid(points: &[(f64, f64)]) -> Vec<Q> {
    let (l93, merc) = (Crs::lambert93(), Crs::from_epsg(3857).unwrap_or_else(Crs::wgs84));
    points.iter().map(|&(x, y)| to_grid(&l93, &merc, x, y)).collect()
}

/// A Lambert-93 coordinate on the world grid.
fn to_grid(l93: &Crs, merc: &Crs, x: f64, y: f64) -> Q {
    let (mx, my) = l93.transform_to(merc, x, y);
    let gx = ((mx + WORLD_HALF) / (2.0 * WORLD_HALF) * WORLD).round().clamp(0.0, WORLD - 1.0);
    let gy = ((WORLD_HALF - my) / (2.0 * WORLD_HALF) * WORLD).round().clamp(0.0, WORLD - 1.0);
    [gx as u32, gy as u32]
}

/// Twice the signed area of a ring on the grid (positive: clockwise on screen, as MVT wants
/// exteriors), exact: coordinates are taken from the first point, products summed in 128 bits.
#[allow(clippy::many_single_char_names)]
fn area2(ring: &[Q]) -> f64 {
    let Some(o) = ring.first() else { return 0.0 };
    let d = |q: Q| (i64::from(q[0]) - i64::from(o[0]), i64::from(q[1]) - i64::from(o[1]));
    let n = ring.len();
    let mut s: i128 = 0;
    for i in 0..n {
        let (a, b) = (d(ring[i]), d(ring[(i + 1) % n]));
        s += i128::from(a.0) * i128::from(b.1) - i128::from(b.0) * i128::from(a.1);
    }
    s as f64
}

/// The box of points on the grid (min x, min y, max x, max y); `[MAX, MAX, 0, 0]` for none.
#[must_use]
pub fn grid_box<'a>(pts: impl IntoIterator<Item = &'a Q>) -> [u32; 4] {
    pts.into_iter()
        .fold([u32::MAX, u32::MAX, 0, 0], |b, q| [b[0].min(q[0]), b[1].min(q[1]), b[2].max(q[0]), b[3].max(q[1])])
}

/// One shape projected: its points, ring after ring, and each ring's length; polygon
/// boundaries are marked by a ring length of 0 before each exterior.
struct Projected {
    pts: Vec<Q>,
    rings: Vec<u32>,
}

fn project(shape: &MultiPolygon<f64>, l93: &Crs, merc: &Crs) -> Projected {
    let mut out = Projected { pts: Vec::new(), rings: Vec::new() };
    for poly in &shape.0 {
        let start = out.rings.len();
        for (k, ring) in std::iter::once(poly.exterior()).chain(poly.interiors()).enumerate() {
            let from = out.pts.len();
            for c in &ring.0 {
                let q = to_grid(l93, merc, c.x, c.y);
                if out.pts.len() == from || out.pts.last() != Some(&q) {
                    out.pts.push(q);
                }
            }
            while out.pts.len() > from + 1 && out.pts[from] == out.pts[out.pts.len() - 1] {
                out.pts.pop();
            }
            let area = if out.pts.len() - from >= 3 { area2(&out.pts[from..]) } else { 0.0 };
            if area == 0.0 {
                // Less than a grid unit: nothing to draw (an exterior takes its holes with it).
                out.pts.truncate(from);
                if k == 0 {
                    break;
                }
                continue;
            }
            if (k == 0) != (area > 0.0) {
                out.pts[from..].reverse();
            }
            if k == 0 {
                out.rings.push(0);
            }
            out.rings.push((out.pts.len() - from) as u32);
        }
        debug_assert!(out.rings.len() == start || out.rings[start] == 0);
    }
    out
}

impl Projected {
    /// Its rings' points, polygon after polygon.
    fn ring_slices(&self) -> impl Iterator<Item = &[Q]> + '_ {
        let mut from = 0usize;
        self.rings.iter().filter(|&&len| len > 0).map(move |&len| {
            let ring = &self.pts[from..from + len as usize];
            from += len as usize;
            ring
        })
    }
}

/// How many shapes a task of [`Topology::build`] cuts into arcs.
const CHUNK: usize = 4096;

/// The rings of a chunk of shapes cut into arcs at the junctions, each arc in its canonical
/// direction (the lesser of its points read forwards and backwards): what only the interning
/// in the shapes' order is left to number.
struct Chunk {
    /// The points of every arc, arc after arc.
    pts: Vec<Q>,
    /// Each arc's number of points, with [`BACKWARDS`] when its ring reads it reversed.
    arcs: Vec<u32>,
    /// Each ring's number of arcs, with a 0 before each polygon's exterior (as in
    /// [`Projected::rings`]).
    rings: Vec<u32>,
    /// Shape `s`'s rings end at `rings[shape_end[s]]`.
    shape_end: Vec<u32>,
    /// Each shape's box on the grid.
    bbox: Vec<[u32; 4]>,
}

impl Chunk {
    fn of(shapes: &[Projected], seen: &FxHashMap<Q, Seen>) -> Self {
        let mut c =
            Chunk { pts: Vec::new(), arcs: Vec::new(), rings: Vec::new(), shape_end: Vec::new(), bbox: Vec::new() };
        let mut junctions: Vec<usize> = Vec::new();
        for p in shapes {
            let mut bb = [u32::MAX, u32::MAX, 0, 0];
            let mut from = 0usize;
            for &len in &p.rings {
                if len == 0 {
                    c.rings.push(0);
                    continue;
                }
                let ring = &p.pts[from..from + len as usize];
                from += len as usize;
                let rb = grid_box(ring);
                bb = [bb[0].min(rb[0]), bb[1].min(rb[1]), bb[2].max(rb[2]), bb[3].max(rb[3])];
                let n = ring.len();
                junctions.clear();
                junctions.extend((0..n).filter(|&i| seen.get(&ring[i]) == Some(&Seen::Junction)));
                if junctions.is_empty() {
                    // A ring no other ring parts from: one closed arc from its least point, so
                    // that a ring and the hole it fills make the same arc.
                    let m = (0..n).min_by_key(|&i| ring[i]).unwrap_or(0);
                    c.push_arc(ring[m..].iter().chain(&ring[..=m]));
                    c.rings.push(1);
                } else {
                    for k in 0..junctions.len() {
                        let (a, b) = (junctions[k], junctions[(k + 1) % junctions.len()]);
                        if b > a {
                            c.push_arc(ring[a..=b].iter());
                        } else {
                            c.push_arc(ring[a..].iter().chain(&ring[..=b]));
                        }
                    }
                    c.rings.push(junctions.len() as u32);
                }
            }
            c.shape_end.push(c.rings.len() as u32);
            c.bbox.push(bb);
        }
        c
    }

    /// Appends an arc, turned to its canonical direction.
    fn push_arc<'a>(&mut self, seq: impl Iterator<Item = &'a Q>) {
        let from = self.pts.len();
        self.pts.extend(seq);
        let arc = &mut self.pts[from..];
        let n = arc.len();
        let backwards =
            (0..n).map(|i| arc[n - 1 - i].cmp(&arc[i])).find(|o| o.is_ne()) == Some(std::cmp::Ordering::Less);
        if backwards {
            arc.reverse();
        }
        self.arcs.push(n as u32 | if backwards { BACKWARDS } else { 0 });
    }
}

/// What a point's neighbours along the rings through it are, as far as seen.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    Pair(Q, Q),
    Junction,
}

/// The Douglas–Peucker tolerances of an arc's points, each capped by the one of the point
/// that split its span, so that keeping the points above a tolerance gives the simplification
/// at that tolerance.
fn weigh(p: &[Q], w: &mut [f32]) {
    let n = p.len();
    w[0] = f32::INFINITY;
    w[n - 1] = f32::INFINITY;
    let mut stack = vec![(0usize, n - 1, f32::INFINITY)];
    while let Some((a, b, cap)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (ax, ay) = (f64::from(p[a][0]), f64::from(p[a][1]));
        let (dx, dy) = (f64::from(p[b][0]) - ax, f64::from(p[b][1]) - ay);
        let len2 = dx * dx + dy * dy;
        let (mut best, mut at) = (-1.0f64, a + 1);
        for (i, q) in p.iter().enumerate().take(b).skip(a + 1) {
            let (px, py) = (f64::from(q[0]) - ax, f64::from(q[1]) - ay);
            let d2 = if len2 == 0.0 {
                px * px + py * py
            } else {
                let t = ((px * dx + py * dy) / len2).clamp(0.0, 1.0);
                let (ex, ey) = (px - t * dx, py - t * dy);
                ex * ex + ey * ey
            };
            if d2 > best {
                best = d2;
                at = i;
            }
        }
        let d = (best.sqrt() as f32).min(cap);
        w[at] = d;
        stack.push((a, at, d));
        stack.push((at, b, d));
    }
}

impl Topology {
    /// The topology of Lambert-93 shapes (an empty shape stays an empty shape).
    ///
    /// Projected on every core; each point's neighbours seen on one; the rings cut into arcs at
    /// the junctions on every core, a chunk of shapes each; the arcs interned in the shapes'
    /// order on one (the order gives the arcs their numbers); their tolerances on every core.
    /// The shapes' R-tree is left to its first use ([`Topology::prepare`]).
    #[must_use]
    pub fn build(shapes: &[&MultiPolygon<f64>]) -> Self {
        Self::build_in_chunks(shapes, CHUNK)
    }

    /// [`Topology::build`], the rings cut into arcs `chunk` shapes a task.
    fn build_in_chunks(shapes: &[&MultiPolygon<f64>], chunk: usize) -> Self {
        let (l93, merc) = (Crs::lambert93(), Crs::from_epsg(3857).unwrap_or_else(Crs::wgs84));
        let projected: Vec<Projected> = shapes.par_iter().map(|s| project(s, &l93, &merc)).collect();

        // Every ring's neighbours of every point: a point is a junction when two rings pass
        // through it between different neighbours.
        let mut seen: FxHashMap<Q, Seen> = FxHashMap::default();
        seen.reserve(projected.iter().map(|p| p.pts.len()).sum::<usize>() / 2);
        for p in &projected {
            for ring in p.ring_slices() {
                let n = ring.len();
                for i in 0..n {
                    let (a, b) = (ring[(i + n - 1) % n], ring[(i + 1) % n]);
                    let pair = Seen::Pair(a.min(b), a.max(b));
                    seen.entry(ring[i])
                        .and_modify(|s| {
                            if *s != pair {
                                *s = Seen::Junction;
                            }
                        })
                        .or_insert(pair);
                }
            }
        }
        let cut: Vec<Chunk> = projected.par_chunks(chunk).map(|shapes| Chunk::of(shapes, &seen)).collect();
        drop(projected);
        drop(seen);

        let mut t = Topology {
            pts: Vec::new(),
            weight: Vec::new(),
            arc_start: vec![0],
            ring_arcs: Vec::new(),
            ring_start: vec![0],
            poly_start: vec![0],
            shape_start: vec![0],
            bbox: Vec::with_capacity(shapes.len()),
            index: OnceLock::new(),
        };
        // Arcs by (first, second, last point, length), then a chain of arcs sharing that key.
        let mut by_key: FxHashMap<(Q, Q, Q, u32), u32> = FxHashMap::default();
        let mut chain: Vec<u32> = Vec::new();
        for c in &cut {
            let (mut arc, mut from, mut ring) = (0usize, 0usize, 0usize);
            for (shape, &end) in c.shape_end.iter().enumerate() {
                let mut open = false;
                for &arcs in &c.rings[ring..end as usize] {
                    if arcs == 0 {
                        // A new polygon: close the one before.
                        if open {
                            t.poly_start.push(t.ring_start.len() as u32 - 1);
                        }
                        open = true;
                        continue;
                    }
                    for &len in &c.arcs[arc..arc + arcs as usize] {
                        let n = (len & !BACKWARDS) as usize;
                        let r = t.intern(&c.pts[from..from + n], len & BACKWARDS, &mut by_key, &mut chain);
                        t.ring_arcs.push(r);
                        from += n;
                    }
                    arc += arcs as usize;
                    t.ring_start.push(t.ring_arcs.len() as u32);
                }
                ring = end as usize;
                if open {
                    t.poly_start.push(t.ring_start.len() as u32 - 1);
                }
                t.shape_start.push(t.poly_start.len() as u32 - 1);
                t.bbox.push(c.bbox[shape]);
            }
        }
        drop(cut);
        t.weight = vec![0.0; t.pts.len()];
        {
            let mut rest: &mut [f32] = &mut t.weight;
            let mut slices = Vec::with_capacity(t.arc_start.len() - 1);
            for a in 0..t.arc_start.len() - 1 {
                let len = (t.arc_start[a + 1] - t.arc_start[a]) as usize;
                let (head, tail) = rest.split_at_mut(len);
                slices.push((a, head));
                rest = tail;
            }
            let (pts, starts) = (&t.pts, &t.arc_start);
            slices.into_par_iter().for_each(|(a, w)| weigh(&pts[starts[a] as usize..starts[a + 1] as usize], w));
        }
        t
    }

    /// Appends the topology to a snapshot file, array by array.
    pub fn write_to<W: std::io::Write>(&self, w: &mut FlatWriter<W>) -> std::io::Result<()> {
        w.section(&self.pts)?;
        w.section(&self.weight)?;
        w.section(&self.arc_start)?;
        w.section(&self.ring_arcs)?;
        w.section(&self.ring_start)?;
        w.section(&self.poly_start)?;
        w.section(&self.shape_start)?;
        w.section(&self.bbox)
    }

    /// Reads a topology [`Topology::write_to`] wrote, checking that every offset stays within
    /// its arrays.
    pub fn read_from(r: &mut FlatReader<'_>) -> Result<Self, FlatError> {
        let t = Self {
            pts: r.section()?,
            weight: r.section()?,
            arc_start: r.section()?,
            ring_arcs: r.section()?,
            ring_start: r.section()?,
            poly_start: r.section()?,
            shape_start: r.section()?,
            bbox: r.section()?,
            index: OnceLock::new(),
        };
        if t.weight.len() != t.pts.len() || t.shape_start.len() != t.bbox.len() + 1 {
            return Err(FlatError::Inconsistent("a topology's arrays disagree"));
        }
        check_offsets(&t.arc_start, t.pts.len())?;
        check_offsets(&t.ring_start, t.ring_arcs.len())?;
        check_offsets(&t.poly_start, t.ring_start.len() - 1)?;
        check_offsets(&t.shape_start, t.poly_start.len() - 1)?;
        let arcs = t.arc_start.len() - 1;
        if t.ring_arcs.iter().any(|&a| arc_id(a) as usize >= arcs) {
            return Err(FlatError::Inconsistent("a ring names an arc that is not there"));
        }
        Ok(t)
    }
}

/// The R-tree of shape boxes on the grid (empty shapes left out).
fn index_of(bbox: &[[u32; 4]]) -> RTree<Entry> {
    let entries: Vec<Entry> = bbox
        .iter()
        .enumerate()
        .filter(|(_, b)| b[0] <= b[2])
        .map(|(i, b)| {
            let r = Rectangle::from_corners([i64::from(b[0]), i64::from(b[1])], [i64::from(b[2]), i64::from(b[3])]);
            GeomWithData::new(r, i as u32)
        })
        .collect();
    RTree::bulk_load(entries)
}

impl Topology {
    /// Stores an arc given in its canonical direction (or finds it) and returns its reference,
    /// `backwards` ([`BACKWARDS`] or 0) when the ring reads it the other way.
    fn intern(
        &mut self,
        seq: &[Q],
        backwards: u32,
        by_key: &mut FxHashMap<(Q, Q, Q, u32), u32>,
        chain: &mut Vec<u32>,
    ) -> u32 {
        let n = seq.len();
        let key = (seq[0], seq[1], seq[n - 1], n as u32);
        let mut cur = by_key.get(&key).copied().unwrap_or(u32::MAX);
        while cur != u32::MAX {
            if self.pts[self.arc_start[cur as usize] as usize..self.arc_start[cur as usize + 1] as usize] == *seq {
                return cur | backwards;
            }
            cur = chain[cur as usize];
        }
        let id = (self.arc_start.len() - 1) as u32;
        self.pts.extend_from_slice(seq);
        self.arc_start.push(self.pts.len() as u32);
        chain.push(by_key.insert(key, id).unwrap_or(u32::MAX));
        id | backwards
    }

    /// The number of shapes.
    #[must_use]
    pub fn shapes(&self) -> usize {
        self.bbox.len()
    }

    /// The number of distinct arcs.
    #[must_use]
    pub fn arcs(&self) -> usize {
        self.arc_start.len() - 1
    }

    /// The shapes whose box meets a box of the grid (min x, min y, max x, max y), in no order.
    pub fn shapes_in(&self, b: [i64; 4]) -> impl Iterator<Item = usize> + '_ {
        self.index()
            .locate_in_envelope_intersecting(AABB::from_corners([b[0], b[1]], [b[2], b[3]]))
            .map(|e| e.data as usize)
    }

    /// Builds the shapes' R-tree now rather than on first use (a server builds it behind its
    /// first answers).
    pub fn prepare(&self) {
        let _ = self.index();
    }

    fn index(&self) -> &RTree<Entry> {
        self.index.get_or_init(|| index_of(&self.bbox))
    }

    /// A shape's box on the grid, `None` when empty.
    #[must_use]
    pub fn bbox(&self, shape: usize) -> Option<[u32; 4]> {
        self.bbox.get(shape).copied().filter(|b| b[0] <= b[2])
    }

    /// The polygons of a shape, each its rings (exterior first), as ring indices.
    pub fn polygons(&self, shape: usize) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        let (p0, p1) = (self.shape_start[shape] as usize, self.shape_start[shape + 1] as usize);
        (p0..p1).map(|p| self.poly_start[p] as usize..self.poly_start[p + 1] as usize)
    }

    /// The arc references of a ring.
    #[must_use]
    pub fn ring(&self, r: usize) -> &[u32] {
        &self.ring_arcs[self.ring_start[r] as usize..self.ring_start[r + 1] as usize]
    }

    /// Appends the points of an arc reference (read in its direction) whose tolerance is at
    /// least `tol`, all but its first point (the end of the arc before it in a ring).
    pub fn push_arc(&self, arc: u32, tol: f32, out: &mut Vec<Q>) {
        let a = (arc & !BACKWARDS) as usize;
        let (s, e) = (self.arc_start[a] as usize, self.arc_start[a + 1] as usize);
        let (pts, w) = (&self.pts[s..e], &self.weight[s..e]);
        if arc & BACKWARDS == 0 {
            out.extend((1..pts.len()).filter(|&i| w[i] >= tol).map(|i| pts[i]));
        } else {
            out.extend((0..pts.len() - 1).rev().filter(|&i| w[i] >= tol).map(|i| pts[i]));
        }
    }

    /// The first and last points of an arc reference, in its direction.
    #[must_use]
    pub fn ends(&self, arc: u32) -> (Q, Q) {
        let a = (arc & !BACKWARDS) as usize;
        let (f, l) = (self.pts[self.arc_start[a] as usize], self.pts[self.arc_start[a + 1] as usize - 1]);
        if arc & BACKWARDS == 0 { (f, l) } else { (l, f) }
    }

    /// A ring's points at tolerance `tol` (not closed).
    pub fn ring_points(&self, r: usize, tol: f32, out: &mut Vec<Q>) {
        out.clear();
        for &arc in self.ring(r) {
            self.push_arc(arc, tol, out);
        }
    }
}

/// A polygon on the grid: its exterior, then its holes (rings not closed).
pub type GridPolygon = Vec<Vec<Q>>;

impl Topology {
    /// Shapes merged by group (`members` pairs a shape with its group): within a group, a
    /// border read once each way (between two of its shapes) disappears, and what is left is
    /// stitched into polygons, with their holes, at tolerance `tol`. Groups come out in
    /// increasing order, each with its polygons (empty when all collapsed below `tol`).
    #[must_use]
    pub fn dissolve(&self, members: &[(usize, u32)], tol: f32) -> Vec<(u32, Vec<GridPolygon>)> {
        let mut refs: Vec<(u32, u32, bool)> = Vec::new();
        for &(s, g) in members {
            for poly in self.polygons(s) {
                for r in poly {
                    refs.extend(self.ring(r).iter().map(|&a| (g, arc_id(a), a & BACKWARDS != 0)));
                }
            }
        }
        refs.sort_unstable();
        let mut out = Vec::new();
        let mut kept: Vec<u32> = Vec::new();
        let mut i = 0;
        while i < refs.len() {
            let g = refs[i].0;
            kept.clear();
            while i < refs.len() && refs[i].0 == g {
                let a = refs[i].1;
                let mut net = 0i64;
                while i < refs.len() && refs[i].0 == g && refs[i].1 == a {
                    net += if refs[i].2 { -1 } else { 1 };
                    i += 1;
                }
                // What is read as often each way is inside the group; the rest stays, as many
                // times as it is read more one way (which keeps every node balanced, so the
                // walks below always close).
                let r = if net > 0 { a } else { a | BACKWARDS };
                kept.extend(std::iter::repeat_n(r, net.unsigned_abs() as usize));
            }
            out.push((g, self.stitch(&kept, tol)));
        }
        out
    }

    /// Directed arcs, every node entered as often as left, walked into rings; rings with a
    /// positive area are exteriors, the others holes, each put in the smallest exterior that
    /// holds it.
    fn stitch(&self, arcs: &[u32], tol: f32) -> Vec<GridPolygon> {
        let mut by_start: Vec<(Q, usize)> = arcs.iter().enumerate().map(|(i, &a)| (self.ends(a).0, i)).collect();
        by_start.sort_unstable();
        let mut used = vec![false; arcs.len()];
        let mut exteriors: Vec<(f64, [u32; 4], GridPolygon)> = Vec::new();
        let mut holes: Vec<([u32; 4], Vec<Q>)> = Vec::new();
        for first in 0..arcs.len() {
            if used[first] {
                continue;
            }
            used[first] = true;
            let mut pts = Vec::new();
            let (start, mut end) = self.ends(arcs[first]);
            self.push_arc(arcs[first], tol, &mut pts);
            while end != start {
                let at = by_start.partition_point(|e| e.0 < end);
                let Some(j) = by_start[at..].iter().take_while(|e| e.0 == end).map(|e| e.1).find(|&j| !used[j]) else {
                    break;
                };
                used[j] = true;
                self.push_arc(arcs[j], tol, &mut pts);
                end = self.ends(arcs[j]).1;
            }
            if end != start || pts.len() < 3 {
                continue;
            }
            let a = area2(&pts);
            let bb = grid_box(&pts);
            if a > 0.0 {
                exteriors.push((a, bb, vec![pts]));
            } else if a < 0.0 {
                holes.push((bb, pts));
            }
        }
        exteriors.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (bb, hole) in holes {
            let inside = |e: &(f64, [u32; 4], GridPolygon)| {
                e.1[0] <= bb[0] && e.1[1] <= bb[1] && e.1[2] >= bb[2] && e.1[3] >= bb[3]
            };
            let holder = exteriors
                .iter()
                .position(|e| inside(e) && contains(&e.2[0], hole[0]))
                .or_else(|| exteriors.iter().position(inside));
            if let Some(k) = holder {
                exteriors[k].2.push(hole);
            }
        }
        exteriors.into_iter().map(|e| e.2).collect()
    }
}

/// Whether a point is inside a ring (even–odd rule; a point on the ring may go either way).
fn contains(ring: &[Q], p: Q) -> bool {
    let (px, py) = (f64::from(p[0]), f64::from(p[1]));
    let n = ring.len();
    let mut inside = false;
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + 1) % n]);
        let (ax, ay, bx, by) = (f64::from(a[0]), f64::from(a[1]), f64::from(b[0]), f64::from(b[1]));
        if (ay > py) != (by > py) && px < ax + (py - ay) * (bx - ax) / (by - ay) {
            inside = !inside;
        }
    }
    inside
}

/// The arc id of a reference, without its direction.
#[must_use]
pub fn arc_id(arc: u32) -> u32 {
    arc & !BACKWARDS
}

/// The reference read the other way.
#[must_use]
pub fn reversed(arc: u32) -> u32 {
    arc ^ BACKWARDS
}

/// How a tile sits on the world grid.
#[derive(Debug, Clone, Copy)]
pub struct GridTile {
    /// The tile's top-left corner on the grid.
    pub origin: [f64; 2],
    /// Grid units per tile unit.
    pub unit: f64,
}

impl GridTile {
    #[must_use]
    pub fn new(tile: TileId, extent: u32) -> Self {
        let size = WORLD / f64::from(1u32 << tile.z);
        Self { origin: [f64::from(tile.x) * size, f64::from(tile.y) * size], unit: size / f64::from(extent) }
    }

    /// The grid box of the tile and a buffer of `buffer` tile units, for [`Topology::shapes_in`].
    #[must_use]
    pub fn grid_box(&self, extent: u32, buffer: u32) -> [i64; 4] {
        let pad = f64::from(buffer) * self.unit;
        let size = f64::from(extent) * self.unit;
        [
            (self.origin[0] - pad).floor() as i64,
            (self.origin[1] - pad).floor() as i64,
            (self.origin[0] + size + pad).ceil() as i64,
            (self.origin[1] + size + pad).ceil() as i64,
        ]
    }

    /// A grid point in tile units, not rounded.
    #[must_use]
    pub fn to_tile(&self, q: Q) -> [f64; 2] {
        [(f64::from(q[0]) - self.origin[0]) / self.unit, (f64::from(q[1]) - self.origin[1]) / self.unit]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{LineString, Polygon};

    fn square(x: f64, y: f64, side: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(x, y), (x + side, y), (x + side, y + side), (x, y + side), (x, y)]),
            vec![],
        )])
    }

    #[test]
    fn a_topology_read_from_its_file_is_the_one_written() {
        let shapes = [square(652_000.0, 6_865_000.0, 20.0), square(652_020.0, 6_865_000.0, 20.0), MultiPolygon(vec![])];
        let t = Topology::build(&shapes.iter().collect::<Vec<_>>());
        let file = |t: &Topology| {
            let mut w = FlatWriter::new(b"TESTTOPO", 1, 7);
            t.write_to(&mut w).unwrap();
            w.finish().unwrap()
        };
        let bytes = file(&t);
        let mut r = FlatReader::open(&bytes, b"TESTTOPO", 1, 7).unwrap();
        let back = Topology::read_from(&mut r).unwrap();
        r.end().unwrap();
        assert_eq!(file(&back), bytes);
        let everywhere = [i64::MIN, i64::MIN, i64::MAX, i64::MAX];
        assert_eq!(back.shapes_in(everywhere).count(), t.shapes_in(everywhere).count());
        // Offsets past their arrays are refused, not followed (the checksum passes: the file
        // is well formed, its content is not).
        let mut w = FlatWriter::new(b"TESTTOPO", 1, 7);
        let mut bad = Topology::read_from(&mut FlatReader::open(&bytes, b"TESTTOPO", 1, 7).unwrap()).unwrap();
        bad.ring_arcs[0] = 1000;
        bad.write_to(&mut w).unwrap();
        let bytes = w.finish().unwrap();
        assert!(Topology::read_from(&mut FlatReader::open(&bytes, b"TESTTOPO", 1, 7).unwrap()).is_err());
    }

    #[test]
    fn the_chunks_the_rings_are_cut_in_do_not_change_the_topology() {
        // A grid of squares with holes filled by squares, some empty shapes and a multipolygon:
        // arcs shared within a chunk and across chunks, closed arcs, holes.
        let mut shapes: Vec<MultiPolygon<f64>> = Vec::new();
        for i in 0..7 {
            for j in 0..6 {
                let (x, y) = (652_000.0 + 20.0 * f64::from(i), 6_865_000.0 + 20.0 * f64::from(j));
                if (i + j) % 5 == 0 {
                    shapes.push(MultiPolygon(vec![]));
                }
                let outer = LineString::from(vec![(x, y), (x + 20.0, y), (x + 20.0, y + 20.0), (x, y + 20.0), (x, y)]);
                let hole = LineString::from(vec![
                    (x + 5.0, y + 5.0),
                    (x + 5.0, y + 10.0),
                    (x + 10.0, y + 10.0),
                    (x + 10.0, y + 5.0),
                    (x + 5.0, y + 5.0),
                ]);
                if (i * j) % 4 == 1 {
                    shapes.push(MultiPolygon(vec![Polygon::new(outer, vec![hole])]));
                    shapes.push(square(x + 5.0, y + 5.0, 5.0));
                } else if i == 3 {
                    let far = square(x + 10_000.0, y, 20.0).0.remove(0);
                    shapes.push(MultiPolygon(vec![Polygon::new(outer, vec![]), far]));
                } else {
                    shapes.push(MultiPolygon(vec![Polygon::new(outer, vec![])]));
                }
            }
        }
        let refs: Vec<&MultiPolygon<f64>> = shapes.iter().collect();
        let file = |chunk: usize| {
            let mut w = FlatWriter::new(b"TESTTOPO", 1, 7);
            Topology::build_in_chunks(&refs, chunk).write_to(&mut w).unwrap();
            w.finish().unwrap()
        };
        let whole = file(refs.len());
        assert!(Topology::build(&refs).arcs() > refs.len(), "shared and closed arcs");
        for chunk in [1, 2, 3, 7, 16] {
            assert!(file(chunk) == whole, "cut {chunk} shapes a task");
        }
    }

    #[test]
    fn a_border_between_two_parcels_is_one_arc_read_both_ways() {
        let (a, b) = (square(652_000.0, 6_865_000.0, 20.0), square(652_020.0, 6_865_000.0, 20.0));
        let t = Topology::build(&[&a, &b]);
        assert_eq!(t.shapes(), 2);
        // Each square: the shared side and the rest of its outline.
        assert_eq!(t.arcs(), 3);
        let rings = |s: usize| {
            let polys: Vec<_> = t.polygons(s).collect();
            assert_eq!(polys.len(), 1);
            t.ring(polys[0].start).to_vec()
        };
        let (ra, rb) = (rings(0), rings(1));
        let shared: Vec<u32> = ra.iter().filter(|x| rb.iter().any(|y| arc_id(*y) == arc_id(**x))).copied().collect();
        assert_eq!(shared.len(), 1);
        assert!(rb.contains(&reversed(shared[0])));
        // Exteriors clockwise on screen (positive by the surveyor's formula, y down).
        let mut pts = Vec::new();
        t.ring_points(t.polygons(0).next().unwrap().start, 0.0, &mut pts);
        assert!(area2(&pts) > 0.0);
    }

    #[test]
    fn a_hole_and_the_parcel_filling_it_share_one_closed_arc() {
        let outer = LineString::from(vec![
            (652_000.0, 6_865_000.0),
            (652_100.0, 6_865_000.0),
            (652_100.0, 6_865_100.0),
            (652_000.0, 6_865_100.0),
            (652_000.0, 6_865_000.0),
        ]);
        let hole = square(652_040.0, 6_865_040.0, 20.0);
        let ring = hole.0[0].exterior().clone();
        let donut = MultiPolygon(vec![Polygon::new(outer, vec![ring])]);
        let t = Topology::build(&[&donut, &hole]);
        assert_eq!(t.arcs(), 2);
        let donut_rings: Vec<_> = t.polygons(0).next().unwrap().collect();
        let filler = t.polygons(1).next().unwrap().start;
        assert_eq!(t.ring(donut_rings[1]), &[reversed(t.ring(filler)[0])]);
    }

    #[test]
    fn a_three_by_three_block_dissolves_into_a_ring_around_the_odd_one() {
        // Nine 20 m squares; the middle one is of group 1, the others of group 0.
        let squares: Vec<_> = (0..9)
            .map(|i| square(652_000.0 + f64::from(i % 3) * 20.0, 6_865_000.0 + f64::from(i / 3) * 20.0, 20.0))
            .collect();
        let t = Topology::build(&squares.iter().collect::<Vec<_>>());
        let members: Vec<(usize, u32)> = (0..9).map(|i| (i, u32::from(i == 4))).collect();
        let d = t.dissolve(&members, 0.0);
        assert_eq!(d.len(), 2);
        let (g0, g1) = (&d[0], &d[1]);
        assert_eq!((g0.0, g1.0), (0, 1));
        assert_eq!(g0.1.len(), 1, "one polygon");
        assert_eq!(g0.1[0].len(), 2, "with one hole");
        assert_eq!(g1.1.len(), 1);
        // The hole is the odd square's outline read the other way: the same points.
        let mut hole = g0.1[0][1].clone();
        let mut odd = g1.1[0][0].clone();
        hole.sort_unstable();
        odd.sort_unstable();
        assert_eq!(hole, odd);
        let (outer, inner) = (area2(&g0.1[0][0]), area2(&g0.1[0][1]));
        assert!(outer > 0.0 && inner < 0.0);
        let ratio = (outer + inner) / -inner;
        assert!((ratio - 8.0).abs() < 0.01, "eight squares of land, not {ratio}");
    }

    #[test]
    fn tolerances_nest() {
        let p: Vec<Q> = vec![[0, 0], [10, 3], [20, 0], [30, 8], [40, 0], [50, 1], [60, 0]];
        let mut w = vec![0.0; p.len()];
        weigh(&p, &mut w);
        assert!(w[0].is_infinite() && w[6].is_infinite());
        // The split of the whole span is the farthest point; points inside spans never weigh more.
        assert!((w.iter().copied().filter(|x| x.is_finite()).fold(0.0f32, f32::max) - 8.0).abs() < 1e-6);
        assert!(w[1] <= w[3] && w[2] <= w[3]);
    }
}

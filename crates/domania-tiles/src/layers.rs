//! The tile layers of Domania: parcels (IDU, actor, owner), spaces (manager per intervention
//! kind), sub-sectors (decision, delegated actor, share, convention needed), QPV and
//! conventions, from a snapshot and what was computed on it.

use domania_core::Layer as StoreLayer;
use domania_core::model::Actor;
use domania_engine::{AssignReport, SharesReport, Snapshot};
use geo_types::MultiPolygon;

use crate::mvt::{Feature, Geometry, Layer, Value};
use crate::tile::{TileId, grid_polygon, valid_polygons};
use crate::topo::{GridPolygon, GridTile, Topology};

/// Below this zoom the parcels layer holds the parcels of each actor merged (one feature per
/// actor and piece of land, with its `actor` only): thousands of parcels a few pixels wide say
/// less than the shape of each actor's land.
pub const PARCELS_DISSOLVED_BELOW: u8 = 15;

/// A layer of the tiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TileLayer {
    Parcels,
    Spaces,
    Subsectors,
    Qpv,
    Conventions,
    /// The cadastral sections: the parcels of each, merged.
    Sections,
    /// The map's bearings: section names (points) and street names (lines), see
    /// [`crate::labels`].
    Labels,
}

impl TileLayer {
    pub const ALL: [TileLayer; 7] = [
        TileLayer::Parcels,
        TileLayer::Spaces,
        TileLayer::Subsectors,
        TileLayer::Qpv,
        TileLayer::Conventions,
        TileLayer::Sections,
        TileLayer::Labels,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TileLayer::Parcels => "parcels",
            TileLayer::Spaces => "spaces",
            TileLayer::Subsectors => "subsectors",
            TileLayer::Qpv => "qpv",
            TileLayer::Conventions => "conventions",
            TileLayer::Sections => "sections",
            TileLayer::Labels => "labels",
        }
    }

    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == name)
    }

    /// The lowest zoom the layer is drawn at: below it, its tiles are empty. Parcels start
    /// merged by actor (see [`PARCELS_DISSOLVED_BELOW`]); spaces, one feature per space and
    /// intervention managers, where a tile holds a few thousand.
    #[must_use]
    pub fn min_zoom(self) -> u8 {
        match self {
            TileLayer::Parcels | TileLayer::Subsectors | TileLayer::Conventions => 10,
            TileLayer::Spaces => 14,
            TileLayer::Qpv => 6,
            TileLayer::Sections | TileLayer::Labels => 13,
        }
    }

    /// The attributes of its features, with their types, for TileJSON's `vector_layers`.
    #[must_use]
    pub fn fields(self, interventions: &[String]) -> Vec<(String, &'static str)> {
        let f = |names: &[&str]| names.iter().map(|n| ((*n).to_owned(), "String")).collect::<Vec<_>>();
        match self {
            TileLayer::Parcels => f(&["idu", "actor", "owner"]),
            TileLayer::Spaces => {
                let mut v = f(&["subsector", "space", "owner_actor"]);
                for k in interventions {
                    v.push((k.clone(), "String"));
                    v.push((format!("{k}_actor"), "String"));
                }
                v
            }
            TileLayer::Subsectors => {
                let mut v = f(&["id", "name", "decision", "delegated_to", "major_actor"]);
                v.push(("share".into(), "Number"));
                v.push(("needs_convention".into(), "Boolean"));
                v
            }
            TileLayer::Qpv => f(&["code", "name"]),
            TileLayer::Conventions => f(&["id", "name"]),
            TileLayer::Sections => f(&["id", "section", "commune"]),
            TileLayer::Labels => f(&["kind", "name", "commune"]),
        }
    }
}

/// Tile options.
#[derive(Debug, Clone, Copy)]
pub struct TileOptions {
    pub extent: u32,
    pub buffer: u32,
    /// The simplification tolerance, in tile units (0: none beyond rounding to the grid).
    pub simplify: f32,
    /// The size bound of an encoded tile, in bytes: past it the tile is drawn with a coarser
    /// outline (up to [`COARSEST`] times), then the smallest features of its heaviest layer are
    /// left out, and the tile says what that cost.
    pub max_bytes: usize,
    /// The most parcels a tile merges by actor. Past it the merged land cannot fit `max_bytes`
    /// even at [`COARSEST`] (a z10 tile of a million-parcel département holds 900,000 parcels:
    /// 8 s of merging, four times over, for a tile left empty); the fill is left out at once, and
    /// the tile says so ([`Encoded::dense`]): the viewer shows it from a closer zoom. A z12 tile
    /// of the same territory, about 57,000 parcels merged into 10,000 pieces, weighs 310 kB.
    pub max_dissolved: usize,
}

impl Default for TileOptions {
    fn default() -> Self {
        Self { extent: 4096, buffer: 64, simplify: 1.0, max_bytes: 500_000, max_dissolved: 100_000 }
    }
}

/// The shapes of every layer as shared arcs, built once per snapshot (see [`crate::topo`]).
#[derive(Debug)]
pub struct Topologies {
    pub parcels: Topology,
    /// `assign.spaces`, in that order (a space without a shape is an empty shape).
    pub spaces: Topology,
    pub subsectors: Topology,
    pub qpv: Topology,
    pub conventions: Topology,
}

impl Topologies {
    /// Builds them (CPU-heavy: about a second per million parcels on two cores).
    #[must_use]
    pub fn build(snapshot: &Snapshot, assign: &AssignReport) -> Self {
        let empty = MultiPolygon(vec![]);
        let of =
            |zones: &[domania_engine::Zone]| Topology::build(&zones.iter().map(|z| &z.geom_l93).collect::<Vec<_>>());
        let (parcels, (spaces, (subsectors, qpv, conventions))) = rayon::join(
            || Topology::build(&snapshot.parcels().iter().map(|p| &p.geom_l93).collect::<Vec<_>>()),
            || {
                let spaces: Vec<&MultiPolygon<f64>> =
                    assign.spaces.iter().map(|s| s.geom_l93.as_ref().unwrap_or(&empty)).collect();
                (
                    Topology::build(&spaces),
                    (
                        of(snapshot.subsectors()),
                        of(snapshot.zones(StoreLayer::Qpv)),
                        of(snapshot.zones(StoreLayer::Conventions)),
                    ),
                )
            },
        );
        Self { parcels, spaces, subsectors, qpv, conventions }
    }

    /// Builds their shapes' R-trees now rather than on the first tile (on both cores; a server
    /// does it behind its first answers).
    pub fn prepare(&self) {
        rayon::join(
            || self.parcels.prepare(),
            || [&self.spaces, &self.subsectors, &self.qpv, &self.conventions].iter().for_each(|t| t.prepare()),
        );
    }

    /// Appends the five topologies to a snapshot file.
    pub fn write_to<W: std::io::Write>(&self, w: &mut domania_core::flat::FlatWriter<W>) -> std::io::Result<()> {
        for t in [&self.parcels, &self.spaces, &self.subsectors, &self.qpv, &self.conventions] {
            t.write_to(w)?;
        }
        Ok(())
    }

    /// Reads what [`Topologies::write_to`] wrote.
    pub fn read_from(r: &mut domania_core::flat::FlatReader<'_>) -> Result<Self, domania_core::flat::FlatError> {
        Ok(Self {
            parcels: Topology::read_from(r)?,
            spaces: Topology::read_from(r)?,
            subsectors: Topology::read_from(r)?,
            qpv: Topology::read_from(r)?,
            conventions: Topology::read_from(r)?,
        })
    }

    fn of(&self, l: TileLayer) -> &Topology {
        match l {
            TileLayer::Parcels | TileLayer::Sections | TileLayer::Labels => &self.parcels,
            TileLayer::Spaces => &self.spaces,
            TileLayer::Subsectors => &self.subsectors,
            TileLayer::Qpv => &self.qpv,
            TileLayer::Conventions => &self.conventions,
        }
    }
}

/// What tiles are drawn from.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub snapshot: &'a Snapshot,
    pub shares: &'a SharesReport,
    pub assign: &'a AssignReport,
    pub topo: &'a Topologies,
    pub labels: &'a crate::labels::Labels,
}

fn s(v: impl Into<String>) -> Value {
    Value::String(v.into())
}

/// How one tile reads the world grid.
struct Frame {
    grid: GridTile,
    /// The simplification tolerance in grid units.
    tol: f32,
    lo: f64,
    hi: f64,
    extent: f64,
}

impl Frame {
    fn in_units(&self, ring: &[crate::topo::Q]) -> Vec<[f64; 2]> {
        ring.iter().map(|&q| self.grid.to_tile(q)).collect()
    }

    /// A shape in the tile: simplified; if simplification made it vanish, as it is; if rounding
    /// to the integer grid still flattened it (its box is under two tile units) and its middle is
    /// in the tile, a one-unit square there, so that small land stays visible at every zoom.
    fn shape(&self, topo: &Topology, shape: usize, buf: &mut Vec<crate::topo::Q>) -> Option<Vec<Vec<Vec<[i32; 2]>>>> {
        let mut at = |tol: f32| {
            let polys: Vec<_> = topo
                .polygons(shape)
                .filter_map(|rings| {
                    let rings = rings.map(|r| {
                        topo.ring_points(r, tol, buf);
                        self.in_units(buf)
                    });
                    grid_polygon(rings, self.lo, self.hi)
                })
                .collect();
            valid_polygons(&polys)
        };
        at(self.tol).or_else(|| if self.tol > 0.0 { at(0.0) } else { None }).or_else(|| self.speck(topo.bbox(shape)?))
    }

    /// A one-unit square at the middle of a grid box under two tile units wide and high, when
    /// that middle is in the tile. A box under one unit is not enough: a shape of 0.9 unit a
    /// side, turned a little or set across a unit line, rounds to a line or two points. A
    /// larger shape that drew nothing here is not in this tile.
    fn speck(&self, b: [u32; 4]) -> Option<Vec<Vec<Vec<[i32; 2]>>>> {
        let reach = 2.0 * self.grid.unit;
        if b[0] > b[2] || f64::from(b[2] - b[0]) >= reach || f64::from(b[3] - b[1]) >= reach {
            return None;
        }
        let mid = u32::midpoint;
        let c = self.grid.to_tile([mid(b[0], b[2]), mid(b[1], b[3])]);
        if !(0.0..self.extent).contains(&c[0]) || !(0.0..self.extent).contains(&c[1]) {
            return None;
        }
        let (x, y) = (c[0].floor() as i32, c[1].floor() as i32);
        Some(vec![vec![vec![[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1]]]])
    }

    fn dissolved(&self, polys: Vec<GridPolygon>) -> Option<Vec<Vec<Vec<[i32; 2]>>>> {
        let out: Vec<_> = polys
            .into_iter()
            .filter_map(|rings| {
                let bb = crate::topo::grid_box(rings.first().into_iter().flatten());
                grid_polygon(rings.iter().map(|r| self.in_units(r)), self.lo, self.hi).or_else(|| self.speck(bb)?.pop())
            })
            .collect();
        // One rebuild for the whole group: rounding can make two of its pieces overlap.
        valid_polygons(&out)
    }
}

impl Frame {
    fn new(tile: TileId, opts: TileOptions) -> Self {
        let grid = GridTile::new(tile, opts.extent);
        Frame {
            grid,
            tol: (f64::from(opts.simplify) * grid.unit) as f32,
            lo: -f64::from(opts.buffer),
            hi: f64::from(opts.extent + opts.buffer),
            extent: f64::from(opts.extent),
        }
    }
}

/// One shape of a topology in a tile, as the layers draw it: simplified at the tile's zoom,
/// clipped to the buffered tile, on its integer grid (see [`Geometry::Polygons`]); a shape
/// that rounding flattens (under two units) whose middle is in the tile becomes a one-unit
/// square. `None` when
/// nothing of it is in the tile.
#[must_use]
pub fn shape_in_tile(
    topo: &Topology,
    shape: usize,
    tile: TileId,
    opts: TileOptions,
) -> Option<Vec<Vec<Vec<[i32; 2]>>>> {
    Frame::new(tile, opts).shape(topo, shape, &mut Vec::new())
}

/// One layer of one tile.
#[must_use]
pub fn layer(src: Source<'_>, which: TileLayer, tile: TileId, opts: TileOptions) -> Layer {
    let mut features = Vec::new();
    if which == TileLayer::Labels {
        if tile.z >= which.min_zoom() {
            features = src.labels.in_tile(tile, opts.extent, opts.buffer);
        }
    } else if tile.z >= which.min_zoom() {
        let frame = Frame::new(tile, opts);
        let grid = frame.grid;
        let topo = src.topo.of(which);
        let mut ids: Vec<usize> = topo.shapes_in(grid.grid_box(opts.extent, opts.buffer)).collect();
        ids.sort_unstable();
        let mut buf = Vec::new();
        let mut push = |id: usize, properties: Vec<(String, Value)>| {
            if let Some(polys) = frame.shape(topo, id, &mut buf) {
                features.push(Feature { id: Some(id as u64 + 1), properties, geometry: Geometry::Polygons(polys) });
            }
        };
        let snap = src.snapshot;
        match which {
            TileLayer::Parcels if tile.z < PARCELS_DISSOLVED_BELOW && ids.len() > opts.max_dissolved => {}
            TileLayer::Parcels if tile.z < PARCELS_DISSOLVED_BELOW => {
                let members: Vec<(usize, u32)> = ids.iter().map(|&i| (i, snap.holdings()[i].actor() as u32)).collect();
                for (g, polys) in topo.dissolve(&members, frame.tol) {
                    let Some(actor) = Actor::ALL.iter().find(|a| **a as u32 == g) else { continue };
                    if let Some(polys) = frame.dissolved(polys) {
                        features.push(Feature {
                            id: Some(u64::from(g) + 1),
                            properties: vec![("actor".into(), s(actor.as_str()))],
                            geometry: Geometry::Polygons(polys),
                        });
                    }
                }
            }
            TileLayer::Parcels => {
                for i in ids {
                    let h = &snap.holdings()[i];
                    let owner = domania_core::shares::owner_name(h);
                    push(
                        i,
                        vec![
                            ("idu".into(), s(&snap.parcels()[i].idu)),
                            ("actor".into(), s(h.actor().as_str())),
                            ("owner".into(), s(owner)),
                        ],
                    );
                }
            }
            TileLayer::Spaces => {
                for i in ids {
                    let sp = &src.assign.spaces[i];
                    let (space, owner) = match &sp.space {
                        domania_rules::SpaceKind::Parcel { idu, actor } => (idu.as_str(), actor.as_str()),
                        domania_rules::SpaceKind::NonCadastre => ("non_cadastre", "public_domain"),
                    };
                    let mut props = vec![
                        ("subsector".into(), s(&sp.subsector)),
                        ("space".into(), s(space)),
                        ("owner_actor".into(), s(owner)),
                    ];
                    for a in sp.assignments.iter() {
                        props.push((a.intervention.clone(), s(a.service.as_ref().map_or("", |x| x.name.as_str()))));
                        props.push((format!("{}_actor", a.intervention), s(a.actor.as_str())));
                    }
                    push(i, props);
                }
            }
            TileLayer::Subsectors => {
                for i in ids {
                    let z = &snap.subsectors()[i];
                    let mut props = vec![("id".into(), s(&z.key))];
                    if let Some(n) = &z.name {
                        props.push(("name".into(), s(n)));
                    }
                    if let (Some(sh), Some(d)) = (src.shares.zones.get(i), src.assign.decisions.get(i)) {
                        let major = sh.shares.by_actor.iter().max_by(|a, b| a.1.area_m2.total_cmp(&b.1.area_m2));
                        let (decision, to) = d.decision.kind();
                        props.push(("decision".into(), s(decision)));
                        if let Some(a) = to {
                            props.push(("delegated_to".into(), s(a.as_str())));
                        }
                        if let Some((a, share)) = major {
                            props.push(("major_actor".into(), s(a.as_str())));
                            props.push(("share".into(), Value::Double((share.share * 1e4).round() / 1e4)));
                        }
                        props.push(("needs_convention".into(), Value::Bool(d.needs_convention)));
                    }
                    push(i, props);
                }
            }
            TileLayer::Sections => {
                // Parcels merged by section (`75118000CK`): the groups are numbered in the tile.
                let mut keys: Vec<&str> = Vec::new();
                let members: Vec<(usize, u32)> = ids
                    .iter()
                    .filter_map(|&i| {
                        let key = snap.parcels()[i].idu.get(0..10)?;
                        let g = keys.iter().position(|k| *k == key).unwrap_or_else(|| {
                            keys.push(key);
                            keys.len() - 1
                        });
                        Some((i, g as u32))
                    })
                    .collect();
                for (g, polys) in topo.dissolve(&members, frame.tol) {
                    let key = keys[g as usize];
                    if let Some(polys) = frame.dissolved(polys) {
                        features.push(Feature {
                            id: None,
                            properties: vec![
                                ("id".into(), s(key)),
                                ("section".into(), s(key[8..10].trim_start_matches('0'))),
                                ("commune".into(), s(&key[0..5])),
                            ],
                            geometry: Geometry::Polygons(polys),
                        });
                    }
                }
            }
            TileLayer::Labels => {}
            TileLayer::Qpv | TileLayer::Conventions => {
                let (l, key) =
                    if which == TileLayer::Qpv { (StoreLayer::Qpv, "code") } else { (StoreLayer::Conventions, "id") };
                for i in ids {
                    let z = &snap.zones(l)[i];
                    let mut props = vec![(key.into(), s(&z.key))];
                    if let Some(n) = &z.name {
                        props.push(("name".into(), s(n)));
                    }
                    push(i, props);
                }
            }
        }
    }
    Layer { name: which.as_str().to_owned(), extent: opts.extent, features }
}

/// How much coarser than [`TileOptions::simplify`] a tile over its size bound may be drawn
/// before features are left out.
pub const COARSEST: f32 = 8.0;

/// An encoded tile, and what its size bound cost.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    /// Features left out to keep the tile under `max_bytes`, per layer (none in most tiles).
    pub dropped: Vec<(TileLayer, usize)>,
    /// The factor its simplification tolerance was multiplied by to keep it under `max_bytes`
    /// (1 in most tiles; up to [`COARSEST`]).
    pub simplified_by: f32,
    /// Layers left empty because the tile holds too much of them ([`TileOptions::max_dissolved`]).
    pub dense: Vec<TileLayer>,
}

/// Whether `which` is left empty in `tile` for holding too many shapes to merge.
#[must_use]
pub fn too_dense(src: Source<'_>, which: TileLayer, tile: TileId, opts: TileOptions) -> bool {
    which == TileLayer::Parcels
        && (which.min_zoom()..PARCELS_DISSOLVED_BELOW).contains(&tile.z)
        && src
            .topo
            .of(which)
            .shapes_in(GridTile::new(tile, opts.extent).grid_box(opts.extent, opts.buffer))
            .nth(opts.max_dissolved)
            .is_some()
}

/// Twice the area of a feature's polygons in tile units.
fn area2(f: &Feature) -> i64 {
    match &f.geometry {
        Geometry::Polygons(ps) => ps.iter().flatten().map(|r| crate::mvt::ring_area2(r)).sum(),
        _ => 0,
    }
}

/// A tile of several layers, encoded. Past `opts.max_bytes`, it is drawn again with twice, four
/// and eight times the simplification tolerance ([`Encoded::simplified_by`]); if it is still
/// over, the fewest features that bring it under the bound are left out, the smallest of the
/// heaviest layer first, and [`Encoded::dropped`] says how many of each layer.
#[must_use]
pub fn tile(src: Source<'_>, layers: &[TileLayer], tile: TileId, opts: TileOptions) -> Encoded {
    let dense: Vec<TileLayer> = layers.iter().copied().filter(|&l| too_dense(src, l, tile, opts)).collect();
    let mut simplified_by = 1.0f32;
    let (mut built, mut bytes);
    loop {
        let o = TileOptions { simplify: opts.simplify * simplified_by, ..opts };
        built = layers.iter().map(|&l| layer(src, l, tile, o)).collect::<Vec<Layer>>();
        bytes = crate::mvt::encode(&built);
        if bytes.len() <= opts.max_bytes {
            return Encoded { bytes, dropped: Vec::new(), simplified_by, dense };
        }
        // Over the bound: first a coarser outline (the same for every feature of the tile, so
        // borders inside it stay shared), up to COARSEST times the tolerance.
        if opts.simplify <= 0.0 || simplified_by >= COARSEST {
            break;
        }
        simplified_by *= 2.0;
    }
    let (bytes, dropped) = leave_out(&built, layers, opts.max_bytes);
    Encoded { bytes, dropped, simplified_by, dense }
}

/// Layers over `max_bytes` once encoded, brought under it by leaving out the fewest features:
/// the encoded tile, and how many features of each layer were left out.
fn leave_out(built: &[Layer], layers: &[TileLayer], max_bytes: usize) -> (Vec<u8>, Vec<(TileLayer, usize)>) {
    // Features of the heaviest layer first (the frame of sub-sectors and QPV outlasts the fill
    // of parcels), from the smallest up; find the fewest to leave out.
    let weight: Vec<usize> = built.iter().map(|l| crate::mvt::encode(std::slice::from_ref(l)).len()).collect();
    let mut order: Vec<(std::cmp::Reverse<usize>, i64, usize, usize)> = built
        .iter()
        .enumerate()
        .flat_map(|(l, layer)| {
            let w = std::cmp::Reverse(weight[l]);
            layer.features.iter().enumerate().map(move |(f, feat)| (w, area2(feat), l, f))
        })
        .collect();
    order.sort_unstable();
    let without = |k: usize| {
        let mut out = built.to_vec();
        let mut gone: Vec<Vec<bool>> = built.iter().map(|l| vec![false; l.features.len()]).collect();
        for &(_, _, l, f) in &order[..k] {
            gone[l][f] = true;
        }
        for (layer, gone) in out.iter_mut().zip(&gone) {
            let mut it = gone.iter();
            layer.features.retain(|_| !it.next().copied().unwrap_or(false));
        }
        (crate::mvt::encode(&out), gone)
    };
    let (mut lo, mut hi) = (0usize, order.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if without(mid).0.len() <= max_bytes {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let (bytes, gone) = without(lo);
    let dropped =
        layers.iter().zip(&gone).map(|(&l, g)| (l, g.iter().filter(|x| **x).count())).filter(|(_, n)| *n > 0).collect();
    (bytes, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(id: u64, x: i32, side: i32) -> Feature {
        Feature {
            id: Some(id),
            properties: vec![("id".into(), Value::Uint(id))],
            geometry: Geometry::Polygons(vec![vec![vec![[x, 0], [x + side, 0], [x + side, side], [x, side]]]]),
        }
    }

    #[test]
    fn a_tile_over_its_bound_leaves_out_the_smallest_features_of_its_heaviest_layer() {
        // A light frame of two big squares, a heavy fill of 400 squares of growing size.
        let frame = Layer {
            name: "subsectors".into(),
            extent: 4096,
            features: vec![square(1, 0, 2000), square(2, 2000, 2000)],
        };
        let fill = Layer {
            name: "parcels".into(),
            extent: 4096,
            features: (0..400).map(|i| square(i + 1, (i as i32) * 10, 1 + i as i32 % 9)).collect(),
        };
        let built = [fill, frame];
        let layers = [TileLayer::Parcels, TileLayer::Subsectors];
        let whole = crate::mvt::encode(&built).len();
        let (bytes, dropped) = leave_out(&built, &layers, whole / 2);
        assert!(bytes.len() <= whole / 2);
        let back = crate::mvt::decode(&bytes).unwrap();
        let kept = back.iter().find(|l| l.name == "parcels").map_or(0, |l| l.features.len());
        assert_eq!(dropped, vec![(TileLayer::Parcels, 400 - kept)]);
        assert_eq!(back.iter().find(|l| l.name == "subsectors").unwrap().features.len(), 2, "the frame stays");
        // The fewest: keeping one more of the dropped parcels (the largest dropped) would not fit.
        let dropped_n = 400 - kept;
        let mut one_more = built.clone();
        let mut order: Vec<usize> = (0..400).collect();
        order.sort_by_key(|&i| (1 + i % 9, i));
        let keep_back = order[dropped_n - 1];
        let gone: Vec<usize> = order[..dropped_n - 1].to_vec();
        assert!(!gone.contains(&keep_back));
        let mut k = 0;
        one_more[0].features.retain(|_| {
            k += 1;
            !gone.contains(&(k - 1))
        });
        assert!(crate::mvt::encode(&one_more).len() > whole / 2, "one feature fewer left out would still fit");
        // The smallest went first: the kept parcels are the largest ones.
        let mut sides: Vec<i32> = back[0]
            .features
            .iter()
            .map(|f| match &f.geometry {
                Geometry::Polygons(p) => p[0][0][1][0] - p[0][0][0][0],
                _ => 0,
            })
            .collect();
        sides.sort_unstable();
        let mut all: Vec<i32> = (0..400).map(|i| 1 + i % 9).collect();
        all.sort_unstable();
        assert_eq!(sides, all[400 - kept..]);
    }
}

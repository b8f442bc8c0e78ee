//! The tile layers of Domania: parcels (IDU, actor, owner), spaces (manager per intervention
//! kind), sub-sectors (decision, delegated actor, share, convention needed), QPV and
//! conventions, from a snapshot and what was computed on it.

use domania_core::Layer as StoreLayer;
use domania_engine::{AssignReport, SharesReport, Snapshot};
use geo_types::{MultiPolygon, Rect};

use crate::mvt::{Feature, Geometry, Layer, Value};
use crate::tile::{Projector, TileId};

/// A layer of the tiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TileLayer {
    Parcels,
    Spaces,
    Subsectors,
    Qpv,
    Conventions,
}

impl TileLayer {
    pub const ALL: [TileLayer; 5] =
        [TileLayer::Parcels, TileLayer::Spaces, TileLayer::Subsectors, TileLayer::Qpv, TileLayer::Conventions];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TileLayer::Parcels => "parcels",
            TileLayer::Spaces => "spaces",
            TileLayer::Subsectors => "subsectors",
            TileLayer::Qpv => "qpv",
            TileLayer::Conventions => "conventions",
        }
    }

    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == name)
    }

    /// The lowest zoom the layer is drawn at: below it, its tiles are empty. Parcels and
    /// spaces are not generalised yet, so they start where a tile holds a few thousand.
    #[must_use]
    pub fn min_zoom(self) -> u8 {
        match self {
            TileLayer::Parcels | TileLayer::Spaces => 14,
            TileLayer::Subsectors | TileLayer::Conventions => 10,
            TileLayer::Qpv => 6,
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
        }
    }
}

/// Tile options.
#[derive(Debug, Clone, Copy)]
pub struct TileOptions {
    pub extent: u32,
    pub buffer: u32,
}

impl Default for TileOptions {
    fn default() -> Self {
        Self { extent: 4096, buffer: 64 }
    }
}

/// What tiles are drawn from.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub snapshot: &'a Snapshot,
    pub shares: &'a SharesReport,
    pub assign: &'a AssignReport,
}

fn meets(shape: &MultiPolygon<f64>, b: Rect<f64>) -> bool {
    use geo::BoundingRect;
    shape.bounding_rect().is_some_and(|r| {
        r.min().x <= b.max().x && b.min().x <= r.max().x && r.min().y <= b.max().y && b.min().y <= r.max().y
    })
}

fn s(v: impl Into<String>) -> Value {
    Value::String(v.into())
}

/// One layer of one tile.
#[must_use]
pub fn layer(src: Source<'_>, which: TileLayer, tile: TileId, opts: TileOptions) -> Layer {
    let mut features = Vec::new();
    if tile.z >= which.min_zoom() {
        let area = tile.lambert93_box(opts.extent, opts.buffer);
        let proj = Projector::new(tile, opts.extent, opts.buffer);
        let mut push = |id: usize, shape: &MultiPolygon<f64>, properties: Vec<(String, Value)>| {
            if let Some(polys) = proj.polygons(shape) {
                features.push(Feature { id: Some(id as u64 + 1), properties, geometry: Geometry::Polygons(polys) });
            }
        };
        let snap = src.snapshot;
        match which {
            TileLayer::Parcels => {
                for i in snap.parcels_in_box(area) {
                    let (p, h) = (&snap.parcels()[i], &snap.holdings()[i]);
                    let owner = h.owners.first().map_or("", |o| &*o.name);
                    push(
                        i,
                        &p.geom_l93,
                        vec![
                            ("idu".into(), s(&p.idu)),
                            ("actor".into(), s(h.actor().as_str())),
                            ("owner".into(), s(owner)),
                        ],
                    );
                }
            }
            TileLayer::Spaces => {
                for (i, sp) in src.assign.spaces.iter().enumerate() {
                    let Some(shape) = sp.geom_l93.as_ref().filter(|g| meets(g, area)) else { continue };
                    let (space, owner) = match &sp.space {
                        domania_rules::SpaceKind::Parcel { idu, actor } => (idu.as_str(), actor.as_str()),
                        domania_rules::SpaceKind::NonCadastre => ("non_cadastre", "public_domain"),
                    };
                    let mut props = vec![
                        ("subsector".into(), s(&sp.subsector)),
                        ("space".into(), s(space)),
                        ("owner_actor".into(), s(owner)),
                    ];
                    for a in &sp.assignments {
                        props.push((a.intervention.clone(), s(a.service.as_ref().map_or("", |x| x.name.as_str()))));
                        props.push((format!("{}_actor", a.intervention), s(a.actor.as_str())));
                    }
                    push(i, shape, props);
                }
            }
            TileLayer::Subsectors => {
                for (i, z) in snap.subsectors().iter().enumerate() {
                    if !meets(&z.geom_l93, area) {
                        continue;
                    }
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
                    push(i, &z.geom_l93, props);
                }
            }
            TileLayer::Qpv | TileLayer::Conventions => {
                let (l, key) =
                    if which == TileLayer::Qpv { (StoreLayer::Qpv, "code") } else { (StoreLayer::Conventions, "id") };
                for (i, z) in snap.zones(l).iter().enumerate() {
                    if meets(&z.geom_l93, area) {
                        let mut props = vec![(key.into(), s(&z.key))];
                        if let Some(n) = &z.name {
                            props.push(("name".into(), s(n)));
                        }
                        push(i, &z.geom_l93, props);
                    }
                }
            }
        }
    }
    Layer { name: which.as_str().to_owned(), extent: opts.extent, features }
}

/// A tile of several layers, encoded.
#[must_use]
pub fn tile(src: Source<'_>, layers: &[TileLayer], tile: TileId, opts: TileOptions) -> Vec<u8> {
    let built: Vec<Layer> = layers.iter().map(|&l| layer(src, l, tile, opts)).collect();
    crate::mvt::encode(&built)
}

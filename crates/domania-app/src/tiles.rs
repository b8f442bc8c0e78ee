//! Vector tiles of a held snapshot: the layers a tile path names, the tile address checked,
//! the tile encoded from the snapshot's shared-border topologies (with what its size bound
//! cost, never silently), and TileJSON 3.0 describing them.

use std::collections::BTreeMap;

pub use domania_tiles::glyphs::range_pbf as glyph_range;
pub use domania_tiles::layers::TileLayer;
use domania_tiles::layers::{Source, TileOptions};
use domania_tiles::tile::TileId;
use serde::Serialize;

use crate::error::{AppError, ErrorCode, Result};
use crate::held::Held;

/// The layers every style reads, in one TileJSON.
pub const STYLE_LAYERS: &str = "parcels,spaces,subsectors,qpv,sections,labels";

/// The highest zoom tiles are made for.
pub const MAX_ZOOM: u8 = 22;

/// The layers of a tile path (`parcels,spaces`), each once, in order.
pub fn layers_of(text: &str) -> Result<Vec<TileLayer>> {
    let mut out = Vec::new();
    for name in text.split(',') {
        let l = TileLayer::parse(name).ok_or_else(|| {
            AppError::said(
                ErrorCode::NotFound,
                "error-no-tile-layer",
                vec![
                    ("name", name.into()),
                    ("known", "parcels, spaces, subsectors, qpv, conventions, sections, labels".into()),
                ],
            )
        })?;
        if !out.contains(&l) {
            out.push(l);
        }
    }
    Ok(out)
}

/// A tile address: zoom 0 to [`MAX_ZOOM`], x and y below 2^z.
pub fn tile_id(z: u8, x: u32, y: u32) -> Result<TileId> {
    TileId::new(z, x, y).filter(|_| z <= MAX_ZOOM).ok_or_else(|| {
        AppError::said(
            ErrorCode::BadTile,
            "error-no-tile",
            vec![
                ("z", z.to_string().into()),
                ("x", x.to_string().into()),
                ("y", y.to_string().into()),
                ("max", MAX_ZOOM.to_string().into()),
            ],
        )
    })
}

/// An encoded tile, and what its size bound cost (`simplified_by=8,parcels=12`, or `parcels=dense`
/// for a fill left out as too dense to merge), if anything.
#[derive(Debug, Clone)]
pub struct EncodedTile {
    pub bytes: Vec<u8>,
    pub bound_cost: Option<String>,
}

/// A vector layer of a TileJSON.
#[derive(Debug, Serialize)]
pub struct VectorLayer {
    pub id: &'static str,
    pub fields: BTreeMap<String, &'static str>,
    pub minzoom: u8,
    pub maxzoom: u8,
}

/// TileJSON 3.0.
#[derive(Debug, Serialize)]
pub struct TileJson {
    pub tilejson: &'static str,
    pub name: String,
    pub version: &'static str,
    pub scheme: &'static str,
    pub tiles: Vec<String>,
    pub minzoom: u8,
    pub maxzoom: u8,
    pub bounds: [f64; 4],
    pub center: [f64; 3],
    pub vector_layers: Vec<VectorLayer>,
}

impl Held {
    /// The tile `id` of `layers` (CPU-heavy: off the async workers).
    #[must_use]
    pub fn tile(&self, layers: &[TileLayer], id: TileId) -> EncodedTile {
        let src = Source {
            snapshot: &self.snapshot,
            shares: &self.shares,
            assign: &self.assign,
            topo: self.topologies(),
            labels: self.labels(),
        };
        let encoded = domania_tiles::layers::tile(src, layers, id, TileOptions::default());
        let mut what: Vec<String> = encoded.dropped.iter().map(|(l, n)| format!("{}={n}", l.as_str())).collect();
        what.extend(encoded.dense.iter().map(|l| format!("{}=dense", l.as_str())));
        if encoded.simplified_by > 1.0 {
            what.insert(0, format!("simplified_by={}", encoded.simplified_by));
        }
        EncodedTile { bytes: encoded.bytes, bound_cost: (!what.is_empty()).then(|| what.join(",")) }
    }

    /// The TileJSON of the tiles of `layers` (named `name`, as in their path), whose URLs are
    /// `{tiles_base}/{z}/{x}/{y}.mvt?v=TAG`: the tag changes with the snapshot, so no client
    /// keeps stale tiles.
    #[must_use]
    pub fn tilejson(&self, name: &str, layers: &[TileLayer], tiles_base: &str) -> TileJson {
        let kinds: Vec<String> = self.rules.rules.config().interventions.iter().map(|i| i.id.clone()).collect();
        let bounds = self.bounds();
        TileJson {
            tilejson: "3.0.0",
            name: format!("Domania {name}"),
            version: "1.0.0",
            scheme: "xyz",
            tiles: vec![format!("{tiles_base}/{{z}}/{{x}}/{{y}}.mvt?v={}", self.tag())],
            minzoom: layers.iter().map(|l| l.min_zoom()).min().unwrap_or(0),
            maxzoom: MAX_ZOOM,
            bounds,
            center: [f64::midpoint(bounds[0], bounds[2]), f64::midpoint(bounds[1], bounds[3]), 15.0],
            vector_layers: layers
                .iter()
                .map(|l| VectorLayer {
                    id: l.as_str(),
                    fields: l.fields(&kinds).into_iter().collect(),
                    minzoom: l.min_zoom(),
                    maxzoom: MAX_ZOOM,
                })
                .collect(),
        }
    }
}

//! Exports: the layers as a PMTiles archive of vector tiles, for a map hosted on static storage
//! or a CDN without a server.

use std::path::PathBuf;
use std::time::Instant;

use domania_core::overlay::OverlayOptions;
use domania_tiles::layers::Encoded;
use domania_tiles::layers::{Source, TileLayer, TileOptions, Topologies};
use domania_tiles::pmtiles::{Meta, Writer, tile_id};
use domania_tiles::tile::{MAX_ZOOM, TileId};
use geo::BoundingRect;
use rayon::prelude::*;
use serde::Serialize;

use crate::App;
use crate::error::{AppError, Context as _, ErrorCode, Result};
use crate::files::LoadedRules;

/// How many times coarser than its tolerance a tile over its size bound may be drawn.
pub const COARSEST: f32 = domania_tiles::layers::COARSEST;

/// The size bound of a tile, in bytes.
#[must_use]
pub fn max_tile_bytes() -> usize {
    TileOptions::default().max_bytes
}

/// A PMTiles export.
#[derive(Debug, Clone)]
pub struct PmtilesRequest {
    pub layers: Vec<TileLayer>,
    pub min_zoom: u8,
    pub max_zoom: u8,
    pub out: PathBuf,
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct PmtilesOutcome {
    pub out: PathBuf,
    /// The archive's box, WGS84 (west, south, east, north).
    pub bounds: [f64; 4],
    /// Tiles in the archive (empty tiles are left out: a reader treats a missing tile as empty).
    pub tiles: u64,
    /// Tiles of the territory's box that held nothing.
    pub empty: u64,
    /// Distinct tile contents stored (identical tiles are stored once).
    pub contents: u64,
    pub bytes: u64,
    /// Sizes of the encoded tiles before compression, in bytes.
    pub median_tile_bytes: usize,
    pub max_tile_bytes: usize,
    /// Tiles drawn with a coarser outline to stay under the size bound
    /// ([`TileOptions::max_bytes`]).
    pub tiles_coarsened: u64,
    /// Tiles still over the bound with the coarsest outline, and the features left out of
    /// them, per layer.
    pub tiles_over_budget: u64,
    pub dropped_features: std::collections::BTreeMap<String, u64>,
    /// The time spent encoding and storing tiles, after the snapshot, the assignments and the
    /// shared-border topologies were ready.
    pub encode_seconds: f64,
    pub seconds: f64,
}

/// The tile column and row holding a WGS84 point at zoom `z`.
fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let lat = lat.clamp(-85.051_128, 85.051_128).to_radians();
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    let max = n - 1.0;
    (x.clamp(0.0, max) as u32, y.clamp(0.0, max) as u32)
}

impl App {
    /// Writes the layers' tiles of every zoom from `min_zoom` to `max_zoom` over the territory
    /// into a PMTiles archive (written beside `out`, then renamed: a failed export leaves no
    /// half file). `progress` is told (tiles done, tiles in all) as it goes.
    pub fn export_pmtiles(
        &self,
        req: &PmtilesRequest,
        rules: &LoadedRules,
        progress: &dyn Fn(u64, u64),
    ) -> Result<PmtilesOutcome> {
        let t = Instant::now();
        if req.layers.is_empty() || req.min_zoom > req.max_zoom || req.max_zoom > MAX_ZOOM {
            return Err(AppError::new(
                ErrorCode::InvalidArgument,
                format!("a PMTiles export needs layers and zooms with 0 <= min <= max <= {MAX_ZOOM}"),
            ));
        }
        let snap = self.snapshot()?;
        let (shares, assign) =
            snap.assign_with_geometry(&rules.rules, crate::files::today(), OverlayOptions::default());
        let topo = Topologies::build(&snap, &assign);
        let labels = if req.layers.contains(&crate::tiles::TileLayer::Labels) {
            crate::labels::of(&snap, &crate::addresses::AddressIndex::build(&snap))
        } else {
            domania_tiles::labels::Labels::default()
        };
        let src = Source { snapshot: &snap, shares: &shares, assign: &assign, topo: &topo, labels: &labels };
        // The territory's box, in WGS84.
        let boxes = snap
            .parcels()
            .iter()
            .map(|p| &p.geom_l93)
            .chain(snap.subsectors().iter().map(|z| &z.geom_l93))
            .chain(snap.qpv().iter().map(|z| &z.geom_l93))
            .filter_map(BoundingRect::bounding_rect);
        let Some(all) = boxes.reduce(domania_core::crs::box_union) else {
            return Err(AppError::new(ErrorCode::LayerMissing, "the store holds no parcels nor zones to tile"));
        };
        let [west, south, east, north] = domania_core::crs::lambert93_box_to_crs84(all);
        let mut all: Vec<TileId> = Vec::new();
        for z in req.min_zoom..=req.max_zoom {
            let (xa, ya) = tile_of(west, north, z);
            let (xb, yb) = tile_of(east, south, z);
            for x in xa..=xb {
                for y in ya..=yb {
                    all.extend(TileId::new(z, x, y));
                }
            }
        }
        all.sort_by_key(|t| tile_id(t.z, t.x, t.y));
        let total = all.len() as u64;
        let io = |what: &str, e: std::io::Error| AppError::new(ErrorCode::Internal, format!("{what}: {e}"));
        let scratch = tempfile::tempfile().map_err(|e| io("a scratch file for the tiles", e))?;
        let mut writer = Writer::new(scratch);
        let (mut done, mut empty) = (0u64, 0u64);
        let mut sizes = Vec::new();
        let encoding = Instant::now();
        let mut coarsened = 0u64;
        let (mut over_budget, mut dropped) = (0u64, std::collections::BTreeMap::<String, u64>::new());
        for chunk in all.chunks(1024) {
            let encoded: Vec<(TileId, Encoded)> = chunk
                .par_iter()
                .map(|&id| (id, domania_tiles::layers::tile(src, &req.layers, id, TileOptions::default())))
                .collect();
            for (id, tile) in encoded {
                if tile.simplified_by > 1.0 {
                    coarsened += 1;
                }
                if !tile.dropped.is_empty() {
                    over_budget += 1;
                    for (l, n) in tile.dropped {
                        *dropped.entry(l.as_str().to_owned()).or_default() += n as u64;
                    }
                }
                if tile.bytes.is_empty() {
                    empty += 1;
                } else {
                    sizes.push(tile.bytes.len());
                    writer.add(id, &tile.bytes).map_err(|e| io("writing a tile", e))?;
                }
            }
            done += chunk.len() as u64;
            progress(done, total);
        }
        let encode_seconds = encoding.elapsed().as_secs_f64();
        let kinds: Vec<String> = rules.rules.config().interventions.iter().map(|i| i.id.clone()).collect();
        let vector_layers: Vec<serde_json::Value> = req
            .layers
            .iter()
            .map(|l| {
                let fields: serde_json::Map<String, serde_json::Value> =
                    l.fields(&kinds).into_iter().map(|(k, t)| (k, t.into())).collect();
                serde_json::json!({"id": l.as_str(), "fields": fields,
                    "minzoom": l.min_zoom().max(req.min_zoom), "maxzoom": req.max_zoom})
            })
            .collect();
        let json = serde_json::json!({
            "name": "Domania",
            "format": "pbf",
            "type": "overlay",
            "description": "Who owns and who must maintain every piece of ground",
            "generator": format!("domania {}", env!("CARGO_PKG_VERSION")),
            "vector_layers": vector_layers,
        })
        .to_string();
        let meta = Meta { min_zoom: req.min_zoom, max_zoom: req.max_zoom, bounds: [west, south, east, north], json };
        let dir = req.out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        let mut tmp =
            tempfile::NamedTempFile::new_in(dir).map_err(|e| io(&format!("writing in {}", dir.display()), e))?;
        let stats = {
            let mut out = std::io::BufWriter::new(tmp.as_file_mut());
            let stats = writer.finish(&mut out, &meta).map_err(|e| io("writing the archive", e))?;
            std::io::Write::flush(&mut out).map_err(|e| io("writing the archive", e))?;
            stats
        };
        // Readable by all, as a file meant to be served is (a temporary file is private).
        {
            use std::os::unix::fs::PermissionsExt as _;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))
                .map_err(|e| io("setting the archive's permissions", e))?;
        }
        tmp.persist(&req.out).map_err(|e| io(&format!("writing {}", req.out.display()), e.error))?;
        sizes.sort_unstable();
        Ok(PmtilesOutcome {
            out: req.out.clone(),
            bounds: [west, south, east, north],
            tiles: stats.tiles,
            empty,
            contents: stats.contents,
            bytes: stats.bytes,
            median_tile_bytes: sizes.get(sizes.len() / 2).copied().unwrap_or(0),
            max_tile_bytes: sizes.last().copied().unwrap_or(0),
            tiles_coarsened: coarsened,
            tiles_over_budget: over_budget,
            dropped_features: dropped,
            encode_seconds,
            seconds: t.elapsed().as_secs_f64(),
        })
    }
}

/// One PMTiles archive per département, published together (see
/// [`App::export_pmtiles_set`]).
#[derive(Debug, Clone)]
pub struct PmtilesSetRequest {
    pub layers: Vec<TileLayer>,
    pub min_zoom: u8,
    pub max_zoom: u8,
    /// The folder the archives, `tiles.json` and `styles/` are written into.
    pub out_dir: PathBuf,
    /// The départements (default: every one with parcels in the store).
    pub departements: Option<Vec<String>>,
    /// The fonts of the labels (name, TrueType file): their glyphs are written into `fonts/`
    /// beside the archives, and the styles name the sections and streets; none, no names.
    pub fonts: &'static [(&'static str, &'static [u8])],
}

/// The glyph ranges a set writes: Basic Latin and Latin-1, Latin Extended-A (œ, Œ), and the
/// general punctuation (’, –, …): French street names.
const GLYPH_RANGES: [u32; 3] = [0, 256, 8192];

/// One archive of a set.
#[derive(Debug, Clone, Serialize)]
pub struct SetArchive {
    pub departement: String,
    /// The archive's file name, relative to the set's folder.
    pub file: String,
    pub outcome: PmtilesOutcome,
}

/// What a set export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct PmtilesSetOutcome {
    pub out_dir: PathBuf,
    pub archives: Vec<SetArchive>,
    /// The index of the set (`tiles.json`): every archive with its département and box.
    pub index: PathBuf,
    /// One MapLibre style per map (managers per kind, owners, decisions), each drawing every
    /// archive of the set.
    pub styles: Vec<PathBuf>,
    pub seconds: f64,
}

impl App {
    /// The départements with parcels in the store (on PostGIS, its partitions).
    pub fn departements(&self) -> Result<Vec<String>> {
        Ok(self.open_read()?.departements()?)
    }

    /// A static map at national scale: one PMTiles archive per département (`75.pmtiles`…, each
    /// built from that département's part of the store, with every sub-sector and QPV meeting
    /// it whole), an index `tiles.json` listing them with their boxes, and `styles/NAME.json`
    /// that draw every archive at once (MapLibre's `pmtiles://` protocol, URLs relative to the
    /// folder). The folder can be copied as it is to object storage behind a CDN.
    pub fn export_pmtiles_set(
        &self,
        req: &PmtilesSetRequest,
        rules: &LoadedRules,
        progress: &dyn Fn(&str, u64, u64),
    ) -> Result<PmtilesSetOutcome> {
        let t = Instant::now();
        let deps = match &req.departements {
            Some(d) => d.clone(),
            None => self.departements()?,
        };
        if deps.is_empty() {
            return Err(AppError::new(ErrorCode::LayerMissing, "the store holds no parcels: no département to export"));
        }
        let io = |what: &str, e: std::io::Error| AppError::new(ErrorCode::Internal, format!("{what}: {e}"));
        std::fs::create_dir_all(req.out_dir.join("styles"))
            .map_err(|e| io(&format!("making {}", req.out_dir.display()), e))?;
        let mut archives = Vec::new();
        for dep in &deps {
            let scope: domania_store::Scope = format!("departement={dep}")
                .parse()
                .map_err(|e: String| AppError::new(ErrorCode::InvalidArgument, e))?;
            let file = format!("{}.pmtiles", dep.to_ascii_lowercase());
            let part = self.clone().with_served_scope(Some(scope));
            let one = PmtilesRequest {
                layers: req.layers.clone(),
                min_zoom: req.min_zoom,
                max_zoom: req.max_zoom,
                out: req.out_dir.join(&file),
            };
            let outcome = part
                .export_pmtiles(&one, rules, &|done, total| progress(dep, done, total))
                .context(|| format!("département {dep}"))?;
            archives.push(SetArchive { departement: dep.clone(), file, outcome });
        }
        let bounds = archives
            .iter()
            .map(|a| a.outcome.bounds)
            .reduce(|a, b| [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])])
            .unwrap_or_default();
        let index = serde_json::json!({
            "name": "Domania",
            "description": "Who owns and who must maintain every piece of ground: one PMTiles archive per département",
            "generator": format!("domania {}", env!("CARGO_PKG_VERSION")),
            "minzoom": req.min_zoom,
            "maxzoom": req.max_zoom,
            "bounds": bounds,
            "archives": archives.iter().map(|a| serde_json::json!({
                "departement": a.departement, "url": a.file, "bounds": a.outcome.bounds,
                "tiles": a.outcome.tiles, "bytes": a.outcome.bytes,
            })).collect::<Vec<_>>(),
        });
        let index_path = req.out_dir.join("tiles.json");
        std::fs::write(&index_path, serde_json::to_vec_pretty(&index).unwrap_or_default())
            .map_err(|e| io(&format!("writing {}", index_path.display()), e))?;
        let sources: Vec<(String, String)> = archives
            .iter()
            .map(|a| (format!("d{}", a.departement.to_ascii_lowercase()), format!("pmtiles://{}", a.file)))
            .collect();
        for (font, bytes) in req.fonts {
            let dir = req.out_dir.join("fonts").join(font);
            std::fs::create_dir_all(&dir).map_err(|e| io(&format!("creating {}", dir.display()), e))?;
            for start in GLYPH_RANGES {
                let pbf = crate::tiles::glyph_range(bytes, font, start)
                    .map_err(|e| AppError::new(ErrorCode::Internal, format!("the font {font}: {e}")))?;
                let path = dir.join(format!("{start}-{}.pbf", start + 255));
                std::fs::write(&path, pbf).map_err(|e| io(&format!("writing {}", path.display()), e))?;
            }
        }
        let mut styles = Vec::new();
        for name in crate::styles::names(&rules.rules) {
            let Some(style) = crate::styles::style(&rules.rules, &name, "pmtiles://", crate::i18n::Lang::Fr) else {
                continue;
            };
            let path = req.out_dir.join("styles").join(format!("{name}.json"));
            // The glyphs beside the archives, relative to the page that shows the set.
            let style = if req.fonts.is_empty() || !req.layers.contains(&TileLayer::Labels) {
                style
            } else {
                crate::styles::with_labels(style, "fonts/{fontstack}/{range}.pbf")
            };
            let style = crate::styles::over_sources(style, &sources);
            std::fs::write(&path, serde_json::to_vec_pretty(&style).unwrap_or_default())
                .map_err(|e| io(&format!("writing {}", path.display()), e))?;
            styles.push(path);
        }
        Ok(PmtilesSetOutcome {
            out_dir: req.out_dir.clone(),
            archives,
            index: index_path,
            styles,
            seconds: t.elapsed().as_secs_f64(),
        })
    }
}

/// An export of one layer to a file of any vector format GDAL writes (feature `gdal`).
#[derive(Debug, Clone)]
pub struct OgrRequest {
    pub layer: crate::Layer,
    pub out: PathBuf,
    /// GDAL's driver name (`GPKG`, `MapInfo File`, `FlatGeobuf`…); default: from the extension.
    pub driver: Option<String>,
}

/// What an OGR export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct OgrOutcome {
    pub layer: crate::Layer,
    pub out: PathBuf,
    pub driver: String,
    pub features: usize,
}

impl App {
    /// Writes one layer with GDAL, in Lambert-93: parcels (IDU, contenance, actor, owners),
    /// QPV, sub-sectors (with their decision) and conventions (key, name), and the spaces with
    /// their manager per intervention kind.
    ///
    /// # Errors
    /// The owners layer (a table: `domania owners --format csv`), an unknown format, a build
    /// without the `gdal` feature, or what GDAL refuses.
    pub fn export_ogr(&self, req: &OgrRequest, rules: &LoadedRules, date: crate::Date) -> Result<OgrOutcome> {
        use crate::Layer;
        if req.layer == Layer::Owners {
            return Err(AppError::new(
                ErrorCode::InvalidArgument,
                "the owners layer is a table, not shapes: export it with `domania owners --format csv`",
            ));
        }
        if req.layer == Layer::Addresses {
            return Err(AppError::new(
                ErrorCode::InvalidArgument,
                "the addresses layer is points of the Base Adresse Nationale, not shapes: the BAN's own file is the export",
            ));
        }
        #[cfg(not(feature = "gdal"))]
        {
            let _ = (rules, date);
            Err(domania_io::IoError::NeedsGdal { path: req.out.clone(), what: "export to GDAL's formats" }.into())
        }
        #[cfg(feature = "gdal")]
        {
            use crate::error::Context as _;
            use domania_rules::SpaceKind;
            use serde_json::{Map, Value, json};
            let driver = match &req.driver {
                Some(d) => d.clone(),
                None => domania_io::ogr::driver_for(&req.out).map(str::to_owned).ok_or_else(|| {
                    AppError::new(
                        ErrorCode::InvalidArgument,
                        format!(
                            "{}: which format? name it with --driver (GDAL's name: GPKG, \"MapInfo File\", FlatGeobuf, KML, DXF…) or use a known extension",
                            req.out.display()
                        ),
                    )
                })?,
            };
            let snap = self.snapshot()?;
            let props = |pairs: Vec<(&str, Value)>| -> Map<String, Value> {
                pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            };
            let mut features: Vec<(&geo_types::MultiPolygon<f64>, Map<String, Value>)> = Vec::new();
            let assigned;
            let stored;
            match req.layer {
                Layer::Parcels => {
                    for (p, h) in snap.parcels().iter().zip(snap.holdings()) {
                        let owners: Vec<String> = h.owners.iter().map(|o| format!("{} {}", o.siren, o.name)).collect();
                        features.push((
                            &p.geom_l93,
                            props(vec![
                                ("idu", json!(p.idu.as_str())),
                                ("contenance", json!(p.contenance)),
                                ("actor", json!(h.actor().as_str())),
                                ("owner_file", json!(h.covered)),
                                ("owners", json!(owners.join(" | "))),
                            ]),
                        ));
                    }
                }
                Layer::Spaces | Layer::Subsectors => {
                    assigned = snap.assign_with_geometry(&rules.rules, date, OverlayOptions::default());
                    let (shares, assign) = &assigned;
                    if req.layer == Layer::Subsectors {
                        for z in snap.subsectors() {
                            let pos = shares.zones.iter().position(|s| s.key == z.key);
                            let d = pos.and_then(|i| assign.decisions.get(i));
                            let (decision, to) = d.map_or(("", None), |d| d.decision.kind());
                            features.push((
                                &z.geom_l93,
                                props(vec![
                                    ("id", json!(z.key)),
                                    ("name", json!(z.name)),
                                    ("decision", json!(decision)),
                                    ("delegated_to", json!(to.map(domania_core::Actor::as_str))),
                                    ("needs_convention", json!(d.is_some_and(|d| d.needs_convention))),
                                ]),
                            ));
                        }
                    } else {
                        for s in &assign.spaces {
                            let Some(g) = &s.geom_l93 else { continue };
                            let owner = match &s.space {
                                SpaceKind::Parcel { actor, .. } => json!(actor.as_str()),
                                SpaceKind::NonCadastre => Value::Null,
                            };
                            let mut p = props(vec![
                                ("subsector", json!(s.subsector)),
                                ("space", json!(domania_engine::space_id(&s.space))),
                                ("owner_actor", owner),
                                ("area_m2", json!((s.area_m2 * 100.0).round() / 100.0)),
                            ]);
                            for a in s.assignments.iter() {
                                p.insert(a.intervention.clone(), json!(a.service.as_ref().map(|sv| sv.name.clone())));
                            }
                            features.push((g, p));
                        }
                    }
                }
                Layer::Buildings | Layer::Sections => {
                    stored = self.open_read()?.perimeters(req.layer).context(|| format!("reading {}", req.layer))?;
                    for p in &stored {
                        let mut m = props(vec![("key", json!(p.key)), ("name", json!(p.name))]);
                        if let Ok(Value::Object(extra)) = serde_json::from_str::<Value>(&p.properties_json) {
                            m.extend(extra);
                        }
                        features.push((&p.geom_l93, m));
                    }
                }
                layer => {
                    for z in snap.zones(layer) {
                        features.push((&z.geom_l93, props(vec![("id", json!(z.key)), ("name", json!(z.name))])));
                    }
                }
            }
            let n = domania_io::ogr::write_layer(&req.out, &driver, req.layer.as_str(), features)?;
            Ok(OgrOutcome { layer: req.layer, out: req.out.clone(), driver, features: n })
        }
    }
}

//! A tile holding more parcels than it may merge by actor leaves their fill out at once and
//! says so, and the same parcels closer in are drawn.

use domania_core::overlay::OverlayOptions;
use domania_tiles::layers::{Source, TileLayer, TileOptions, Topologies};
use domania_tiles::tile::TileId;

/// The tile at zoom `z` over the first parcel's first vertex.
#[allow(clippy::many_single_char_names)]
fn tile_over(snap: &domania_engine::Snapshot, z: u8) -> TileId {
    let p = snap.parcels()[0].geom_l93.0[0].exterior().0[0];
    let (l93, wgs) = (domania_core::crs::Crs::lambert93(), domania_core::crs::Crs::wgs84());
    let (lon, lat) = l93.transform_to(&wgs, p.x, p.y);
    let n = f64::from(1u32 << z);
    let r = lat.to_radians();
    let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32;
    TileId::new(z, ((lon + 180.0) / 360.0 * n) as u32, y).expect("a tile")
}

#[test]
fn a_fill_too_dense_to_merge_is_left_out_and_said() {
    let snap = domania_testkit::territory::snapshot(2_000);
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/rules.toml")).expect("rules");
    let rules = domania_rules::Rules::new(toml::from_str(&text).expect("rules toml")).expect("rules");
    let (shares, assign) = snap.assign_with_geometry(&rules, jiff::civil::date(2025, 6, 1), OverlayOptions::default());
    let topo = Topologies::build(&snap, &assign);
    let labels = domania_tiles::labels::Labels::default();
    let src = Source { snapshot: &snap, shares: &shares, assign: &assign, topo: &topo, labels: &labels };
    let parcels = |bytes: &[u8]| {
        let layers = domania_tiles::mvt::decode(bytes).expect("a valid tile");
        layers.iter().find(|l| l.name == "parcels").map_or(0, |l| l.features.len())
    };
    let layers = [TileLayer::Parcels, TileLayer::Subsectors];
    let far = tile_over(&snap, 10);
    // The whole territory is in one z10 tile: 2,000 parcels merged by actor fit the default bound.
    let merged = domania_tiles::layers::tile(src, &layers, far, TileOptions::default());
    assert!(merged.dense.is_empty());
    assert!(parcels(&merged.bytes) > 0);
    // Allowed to merge fewer than it holds, the tile leaves the fill out, keeps the rest.
    let opts = TileOptions { max_dissolved: 500, ..TileOptions::default() };
    let dense = domania_tiles::layers::tile(src, &layers, far, opts);
    assert_eq!(dense.dense, vec![TileLayer::Parcels]);
    assert_eq!(parcels(&dense.bytes), 0);
    assert!(!dense.bytes.is_empty(), "the sub-sectors are still drawn");
    // Closer in, where parcels are drawn one by one, the bound does not apply.
    let near = domania_tiles::layers::tile(src, &layers, tile_over(&snap, 16), opts);
    assert!(near.dense.is_empty());
    assert!(parcels(&near.bytes) > 0);
}

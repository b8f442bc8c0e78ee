//! Tile encoding on a synthetic territory made by `domania synth` (seeded, 100k parcels): the
//! shared-border topologies of every layer (built once per snapshot), then one tile of every
//! layer at zooms 12 (parcels merged by actor), 14, 16 and 18 over the territory's middle. The
//! snapshot is built in memory, so this measures the tiles alone (selection through the layer's
//! R-tree, simplified points, clipping, protobuf).
//!
//! `cargo bench -p domania-tiles --bench encode`

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use domania_core::overlay::OverlayOptions;
use domania_engine::Snapshot;
use domania_tiles::layers::{Source, TileLayer, TileOptions, Topologies};
use domania_tiles::tile::TileId;

/// The tile at zoom `z` over the middle of the first sub-sector.
#[allow(clippy::many_single_char_names)]
fn tile_over(snap: &Snapshot, z: u8) -> TileId {
    use geo::Centroid;
    let c = snap.subsectors()[0].geom_l93.centroid().expect("a sub-sector with a centre");
    let (l93, wgs) = (domania_core::crs::Crs::lambert93(), domania_core::crs::Crs::wgs84());
    let (lon, lat) = l93.transform_to(&wgs, c.x(), c.y());
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n) as u32;
    let r = lat.to_radians();
    let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32;
    TileId::new(z, x, y).expect("a tile")
}

fn bench(c: &mut Criterion) {
    let snap = domania_testkit::territory::snapshot(100_000);
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/rules.toml")).expect("rules");
    let rules = domania_rules::Rules::new(toml::from_str(&text).expect("rules toml")).expect("rules");
    let (shares, assign) = snap.assign_with_geometry(&rules, jiff::civil::date(2025, 6, 1), OverlayOptions::default());
    let mut g = c.benchmark_group("tiles");
    g.sample_size(10);
    g.bench_function("topologies_100k", |b| b.iter(|| Topologies::build(&snap, &assign)));
    let topo = Topologies::build(&snap, &assign);
    let labels = domania_tiles::labels::Labels::default();
    let src = Source { snapshot: &snap, shares: &shares, assign: &assign, topo: &topo, labels: &labels };
    g.measurement_time(Duration::from_secs(5));
    for z in [12u8, 14, 16, 18] {
        let id = tile_over(&snap, z);
        let bytes = domania_tiles::layers::tile(src, &TileLayer::ALL, id, TileOptions::default()).bytes.len();
        g.bench_with_input(BenchmarkId::new(format!("all_layers_100k_{bytes}B"), z), &id, |b, &id| {
            b.iter(|| domania_tiles::layers::tile(src, &TileLayer::ALL, id, TileOptions::default()));
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Write throughput of the versioned store: a first import of N synthetic parcels into a new
//! GeoPackage, and a re-import of the same N rows with 1 % of them reshaped (the everyday case
//! of a new cadastre vintage).
//!
//! `cargo bench -p domania-store --bench import` (set `DOMANIA_BENCH_1M=1` for the million).

use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use domania_io::cadastre::read_cadastre;
use domania_io::features::ReadOptions;
use domania_store::{ImportMeta, ImportOptions, Layer, Row, Store, Wait, parcel_row};
use geo::Translate;

fn sizes() -> Vec<usize> {
    let mut s = vec![100_000];
    if std::env::var_os("DOMANIA_BENCH_1M").is_some() {
        s.push(1_000_000);
    }
    s
}

fn meta() -> ImportMeta {
    ImportMeta { author: "bench".into(), source: "synthetic".into(), ..ImportMeta::default() }
}

fn import(c: &mut Criterion) {
    let mut group = c.benchmark_group("store_import");
    group.sample_size(10).measurement_time(Duration::from_secs(30));
    for n in sizes() {
        let dir = tempfile::tempdir().expect("temp dir");
        domania_io::synth::generate(n, 1, dir.path()).expect("synthetic territory");
        let mut parcels = read_cadastre(&dir.path().join("cadastre-synth-parcelles.json"), ReadOptions::default())
            .expect("readable")
            .parcels;
        let rows: Vec<Row> = parcels.iter().map(parcel_row).collect();
        for p in parcels.iter_mut().step_by(100) {
            p.geom_l93.translate_mut(0.5, 0.0);
        }
        let rows_v2: Vec<Row> = parcels.iter().map(parcel_row).collect();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("first_import_{n}"), |b| {
            b.iter_batched(
                || (tempfile::tempdir().expect("temp dir"), rows.clone()),
                |(d, rows)| {
                    let mut store = Store::create(&d.path().join("b.gpkg"), false, &Wait::default()).expect("store");
                    let info = store
                        .import(Layer::Parcels, rows, &meta(), &ImportOptions::for_layer(Layer::Parcels))
                        .expect("import");
                    assert_eq!(info.added as usize, n);
                    d
                },
                BatchSize::PerIteration,
            );
        });
        group.bench_function(format!("reimport_1pct_reshaped_{n}"), |b| {
            b.iter_batched(
                || {
                    let d = tempfile::tempdir().expect("temp dir");
                    let mut store = Store::create(&d.path().join("b.gpkg"), false, &Wait::default()).expect("store");
                    store
                        .import(Layer::Parcels, rows.clone(), &meta(), &ImportOptions::for_layer(Layer::Parcels))
                        .expect("import");
                    (d, store, rows_v2.clone())
                },
                |(d, mut store, rows)| {
                    let info = store
                        .import(Layer::Parcels, rows, &meta(), &ImportOptions::for_layer(Layer::Parcels))
                        .expect("import");
                    assert_eq!(info.reshaped as usize, n.div_ceil(100));
                    d
                },
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, import);
criterion_main!(benches);

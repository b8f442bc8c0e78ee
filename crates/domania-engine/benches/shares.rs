//! Shares and assignments on synthetic territories made by `domania synth` (seeded): 100k
//! parcels by default, a million with `DOMANIA_BENCH_1M=1`. The snapshot is built in memory
//! from the generated files, so this measures the computation alone; BENCHMARKS.md gives the
//! whole commands too.
//!
//! `cargo bench -p domania-engine --bench shares`

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use domania_core::overlay::OverlayOptions;
use domania_core::{Classifier, Layer};
use domania_engine::Snapshot;
use domania_rules::{Rules, RulesConfig};
use domania_testkit::territory;

fn rules() -> Rules {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/rules.toml"))
        .expect("data/rules.toml");
    Rules::new(toml::from_str::<RulesConfig>(&text).expect("valid TOML")).expect("valid rules")
}

fn bench(c: &mut Criterion) {
    let mut sizes = vec![100_000];
    if std::env::var_os("DOMANIA_BENCH_1M").is_some() {
        sizes.push(1_000_000);
    }
    let rules = rules();
    let mut group = c.benchmark_group("engine");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    for n in sizes {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = territory::store(n, dir.path());
        let classifier = Classifier::default();
        group.bench_function(format!("snapshot_load_{n}_parcels"), |b| {
            b.iter(|| {
                let store = domania_store::Store::open(&path).expect("store");
                let snap = Snapshot::load(&store, &classifier).expect("load");
                assert_eq!(snap.parcels().len(), n);
            });
        });
        let snap = territory::snapshot(n);
        let zones = snap.subsectors().len();
        assert!(zones > 100, "{zones} sub-sectors");
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("shares_{n}_parcels_{zones}_subsectors"), |b| {
            b.iter(|| {
                let r = snap.shares(Layer::Subsectors, false, OverlayOptions::default());
                assert_eq!(r.zones.len(), zones);
            });
        });
        group.bench_function(format!("assign_{n}_parcels_{zones}_subsectors"), |b| {
            b.iter(|| {
                let (_, r) = snap.assign(&rules, jiff::civil::date(2025, 6, 1), OverlayOptions::default());
                assert_eq!(r.decisions.len(), zones);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

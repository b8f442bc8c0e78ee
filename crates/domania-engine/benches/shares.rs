//! Shares and assignments on synthetic territories made by `domania synth` (seeded): 100k
//! parcels by default, a million with `DOMANIA_BENCH_1M=1`. The snapshot is built in memory
//! from the generated files, so this measures the computation alone; BENCHMARKS.md gives the
//! whole commands too.
//!
//! `cargo bench -p domania-engine --bench shares`

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use domania_core::Layer;
use domania_core::overlay::OverlayOptions;
use domania_core::shares::{OwnerRef, holdings_from_rights};
use domania_core::{Classifier, Right};
use domania_engine::{ParcelRec, Snapshot, Zone};
use domania_io::cadastre::read_cadastre;
use domania_io::features::ReadOptions;
use domania_io::perimeter::read_perimeters;
use domania_io::ppm::read_ppm;
use domania_rules::{Rules, RulesConfig};

fn snapshot(n: usize) -> Snapshot {
    let dir = tempfile::tempdir().expect("temp dir");
    domania_io::synth::generate(n, 1, dir.path()).expect("synthetic territory");
    let parcels = read_cadastre(&dir.path().join("cadastre-synth-parcelles.json"), ReadOptions::default())
        .expect("cadastre")
        .parcels;
    let ppm = read_ppm(&dir.path().join("ppm-synth.csv"), None).expect("ppm");
    let classifier = Classifier::default();
    let rights = ppm
        .rows
        .iter()
        .filter(|r| r.right == Right::Proprietaire)
        .map(|r| (r.idu.to_string(), OwnerRef::classified(&r.owner, &classifier)));
    let holdings = holdings_from_rights(parcels.iter().map(|p| p.idu.as_str()), rights, |_| true);
    let zones = |file: &str, kind| {
        read_perimeters(&dir.path().join(file), kind, ReadOptions::default())
            .expect("perimeters")
            .perimeters
            .into_iter()
            .map(|p| Zone { key: p.key, name: p.name, geom_l93: p.geom_l93 })
            .collect::<Vec<_>>()
    };
    Snapshot::from_parts(
        parcels
            .into_iter()
            .map(|p| ParcelRec { idu: p.idu.to_string(), contenance: p.contenance, geom_l93: p.geom_l93 })
            .collect(),
        holdings,
        zones("subsectors-synth.geojson", Layer::Subsectors),
        zones("qpv-synth.geojson", Layer::Qpv),
        Vec::new(),
    )
    .expect("as many holdings as parcels")
}

/// A GeoPackage store holding the synthetic territory of `n` parcels (parcels, owners,
/// sub-sectors, QPV), for the load bench.
fn store(n: usize, dir: &std::path::Path) -> std::path::PathBuf {
    use domania_store::{ImportMeta, ImportOptions, Layer, Store, Wait, owner_rows, parcel_row, perimeter_row};
    let synth = dir.join("synth");
    domania_io::synth::generate(n, 1, &synth).expect("synth");
    let path = dir.join("s.gpkg");
    let mut store = Store::create(&path, false, &Wait::default()).expect("store");
    let meta = ImportMeta { author: "bench".into(), source: "synth".into(), ..ImportMeta::default() };
    let parcels =
        read_cadastre(&synth.join("cadastre-synth-parcelles.json"), ReadOptions::default()).expect("cadastre");
    let rows = parcels.parcels.iter().map(parcel_row).collect();
    store.import(Layer::Parcels, rows, &meta, &ImportOptions::for_layer(Layer::Parcels)).expect("parcels");
    let ppm = read_ppm(&synth.join("ppm-synth.csv"), None).expect("ppm");
    let rows = owner_rows(ppm.rows.iter().map(|r| (&r.idu, r.right, &r.owner)));
    store.import(Layer::Owners, rows, &meta, &ImportOptions::for_layer(Layer::Owners)).expect("owners");
    for (file, kind, layer) in [
        ("subsectors-synth.geojson", Layer::Subsectors, Layer::Subsectors),
        ("qpv-synth.geojson", Layer::Qpv, Layer::Qpv),
    ] {
        let read = read_perimeters(&synth.join(file), kind, ReadOptions::default()).expect("perimeters");
        let rows =
            read.perimeters.iter().map(|p| perimeter_row(&p.key, p.name.as_deref(), "{}", &p.geom_l93)).collect();
        store.import(layer, rows, &meta, &ImportOptions::for_layer(layer)).expect("perimeters");
    }
    path
}

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
        let path = store(n, dir.path());
        let classifier = Classifier::default();
        group.bench_function(format!("snapshot_load_{n}_parcels"), |b| {
            b.iter(|| {
                let store = domania_store::Store::open(&path).expect("store");
                let snap = Snapshot::load(&store, &classifier).expect("load");
                assert_eq!(snap.parcels().len(), n);
            });
        });
        let snap = snapshot(n);
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

//! Shares and assignments on synthetic territories made by `domania synth` (seeded): 100k
//! parcels by default, a million with `DOMANIA_BENCH_1M=1`. The snapshot is built in memory
//! from the generated files, so this measures the computation alone; BENCHMARKS.md gives the
//! whole commands too.
//!
//! `cargo bench -p domania-engine --bench shares`

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use domania_core::overlay::OverlayOptions;
use domania_core::shares::{OwnerRef, holdings_from_rights};
use domania_core::{Classifier, Right};
use domania_engine::{ParcelRec, Snapshot, Zone, ZoneLayer};
use domania_io::cadastre::read_cadastre;
use domania_io::features::ReadOptions;
use domania_io::perimeter::{PerimeterKind, read_perimeters};
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
    Snapshot {
        parcels: parcels
            .into_iter()
            .map(|p| ParcelRec { idu: p.idu.to_string(), contenance: p.contenance, geom_l93: p.geom_l93 })
            .collect(),
        holdings,
        subsectors: zones("subsectors-synth.geojson", PerimeterKind::Subsector),
        qpv: zones("qpv-synth.geojson", PerimeterKind::Qpv),
        conventions: Vec::new(),
    }
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
        let snap = snapshot(n);
        let zones = snap.subsectors.len();
        assert!(zones > 100, "{zones} sub-sectors");
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("shares_{n}_parcels_{zones}_subsectors"), |b| {
            b.iter(|| {
                let r = snap.shares(ZoneLayer::Subsectors, false, OverlayOptions::default());
                assert_eq!(r.zones.len(), zones);
            });
        });
        group.bench_function(format!("assign_{n}_parcels_{zones}_subsectors"), |b| {
            b.iter(|| {
                let (_, r) = snap.assign(&rules, "2025-06-01", OverlayOptions::default());
                assert_eq!(r.decisions.len(), zones);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

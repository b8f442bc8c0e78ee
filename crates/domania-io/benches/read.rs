//! Reading throughput of the Etalab cadastre reader on synthetic territories made by the
//! project's own seeded generator (`domania synth`), 100k and 1M parcels.
//!
//! `cargo bench -p domania-io --bench read` (set `DOMANIA_BENCH_1M=1` for the million).

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use domania_io::cadastre::read_cadastre_with;
use domania_io::features::ReadOptions;

fn sizes() -> Vec<usize> {
    let mut s = vec![100_000];
    if std::env::var_os("DOMANIA_BENCH_1M").is_some() {
        s.push(1_000_000);
    }
    s
}

fn read(c: &mut Criterion) {
    let mut group = c.benchmark_group("read_cadastre");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    for n in sizes() {
        let dir = tempfile::tempdir().expect("temp dir");
        domania_io::synth::generate(n, 1, dir.path()).expect("synthetic territory");
        let file = dir.path().join("cadastre-synth-parcelles.json");
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("{n}_parcels"), |b| {
            b.iter(|| {
                let mut count = 0usize;
                let report = read_cadastre_with(&file, ReadOptions::default(), |_| count += 1).expect("readable");
                assert_eq!((count, report.rejected), (n, 0));
            });
        });
    }
    group.finish();
}

criterion_group!(benches, read);
criterion_main!(benches);

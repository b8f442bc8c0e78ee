//! The search box on a synthetic territory made by `domania synth` (seeded): 100k parcels by
//! default, a million with `DOMANIA_BENCH_1M=1`. The index is built once per snapshot (measured
//! on its own); each query asserts what it finds.
//!
//! `cargo bench -p domania-app --bench search`

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use domania_app::search::{SearchIndex, find};
use domania_i18n::Lang;
use domania_testkit::territory;

fn bench(c: &mut Criterion) {
    let mut sizes = vec![100_000];
    if std::env::var_os("DOMANIA_BENCH_1M").is_some() {
        sizes.push(1_000_000);
    }
    let mut group = c.benchmark_group("search");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    for n in sizes {
        let snap = territory::snapshot(n);
        group.bench_function(format!("index_{n}_parcels"), |b| b.iter(|| SearchIndex::build(&snap)));
        let index = SearchIndex::build(&snap);
        // A commune of the territory by its code, a section of it, an owner's name, an IDU.
        let idu = snap.parcels()[n / 2].idu.clone();
        let (commune, section) = (idu[0..5].to_owned(), format!("{} {}", &idu[0..5], &idu[8..10]));
        let owner =
            snap.holdings().iter().flat_map(|h| &h.owners).next().map(|o| o.name.to_string()).unwrap_or_default();
        for (what, q) in [("commune", commune), ("section", section), ("owner", owner), ("idu", idu)] {
            group.bench_function(format!("{what}_{n}_parcels"), |b| {
                b.iter(|| {
                    let hits = find(&snap, &index, &q, 20, Lang::Fr);
                    assert!(!hits.is_empty(), "{what} {q}");
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! A server's start on a synthetic territory (`domania synth`, seeded): 100k parcels by
//! default, a million with `DOMANIA_BENCH_1M=1`. Two ways to the same held snapshot, ready to
//! serve (shares, managers, tile topologies, search index, map names): built from the store, and
//! read from the snapshot file (with and without the search index and map names a server
//! builds behind its first answers); the file's writing on its own; and the sub-sectors' shares
//! a `shares` command takes from the file's head, against the same worked out from the store;
//! and, after a version of one commune's owners, the held snapshot worked out again from what it
//! holds (`App::hold_owners`), and after a version of one commune's parcels, that commune
//! spliced into it (`App::hold_parcels`), to set against `built_from_the_store`.
//!
//! `cargo bench -p domania-app --bench kept`

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use domania_app::App;
use domania_app::kept::Kept;

fn bench(c: &mut Criterion) {
    let n = if std::env::var_os("DOMANIA_BENCH_1M").is_some() { 1_000_000 } else { 100_000 };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = domania_testkit::territory::store(n, dir.path());
    let app = App::new(store.as_path(), None).expect("the application");
    let rules = domania_app::files::rules(None).expect("the built-in rules");
    let day = jiff::civil::date(2025, 6, 1);
    let (held, kept) = app.hold_kept(rules.clone(), day).expect("held");
    assert!(matches!(kept, Kept::Built { .. }), "{kept:?}");
    app.write_snapshot_file(&held).expect("the file written");
    drop(held);

    let mut group = c.benchmark_group(format!("start_{n}"));
    group.sample_size(10).measurement_time(Duration::from_secs(if n > 100_000 { 40 } else { 10 }));
    group.bench_function("built_from_the_store", |b| {
        b.iter(|| {
            let held = app.hold(rules.clone(), day).expect("held");
            let _ = held.topologies();
            let _ = held.labels();
            held
        });
    });
    // What a server waits for before it answers (the search index and the map's names are
    // built behind its first answers), then the same with them.
    group.bench_function("read_from_the_snapshot_file", |b| {
        b.iter(|| {
            let (held, kept) = app.hold_kept(rules.clone(), day).expect("held");
            assert!(matches!(kept, Kept::Read { .. }), "{kept:?}");
            held
        });
    });
    group.bench_function("read_from_the_snapshot_file_with_search_and_labels", |b| {
        b.iter(|| {
            let (held, kept) = app.hold_kept(rules.clone(), day).expect("held");
            assert!(matches!(kept, Kept::Read { .. }), "{kept:?}");
            let _ = held.labels();
            held
        });
    });
    group.bench_function("shares_from_the_store", |b| {
        b.iter(|| {
            app.snapshot_for(domania_app::Layer::Subsectors).expect("loaded").shares(
                domania_app::Layer::Subsectors,
                false,
                domania_core::overlay::OverlayOptions::default(),
            )
        });
    });
    group.bench_function("shares_from_the_snapshot_file_head", |b| {
        b.iter(|| app.kept_subsector_shares(false).expect("the file is current"));
    });
    let held = app.hold(rules.clone(), day).expect("held");
    let _ = held.topologies();
    group.bench_function("snapshot_file_written", |b| b.iter(|| app.write_snapshot_file(&held).expect("written")));
    // A version of one commune's owners (one right fewer): the held snapshot worked out again
    // from what it holds, against the rebuild it replaces (`built_from_the_store` above).
    owners_of_first_commune_less_one(&dir.path().join("synth"), &store);
    group.bench_function("owners_version_worked_out_from_the_held_snapshot", |b| {
        b.iter(|| app.hold_owners(&held, day).expect("read").expect("a version of the owners alone"));
    });
    // A version of one commune's parcels (one parcel fewer): the held snapshot (of the owners
    // as they are now) with that commune read again and spliced in, its shares and managers
    // worked out where the change reaches (the tiles' topologies left behind, as a server
    // does), against the rebuild it replaces.
    let held = app.hold(rules.clone(), day).expect("held");
    parcels_of_first_commune_less_one(&dir.path().join("synth"), &store);
    group.bench_function("parcels_version_spliced_into_the_held_snapshot", |b| {
        b.iter(|| app.hold_parcels(&held, day).expect("read").expect("a version of some communes' parcels"));
    });
    group.finish();
}

/// Imports the first commune's parcels of the synthetic territory less one, as one version
/// scoped to the commune.
fn parcels_of_first_commune_less_one(synth: &std::path::Path, store: &std::path::Path) {
    let file = synth.join("cadastre-synth-parcelles.json");
    let read = domania_io::cadastre::read_cadastre(&file, domania_io::features::ReadOptions::default());
    let mut parcels = read.expect("the cadastre").parcels;
    let commune = parcels[0].commune.clone();
    parcels.retain(|p| p.commune == commune);
    parcels.pop();
    let rows = parcels.iter().map(domania_store::parcel_row).collect();
    let meta = domania_store::ImportMeta { author: "bench".into(), source: "parcels".into(), ..Default::default() };
    let options = domania_store::ImportOptions {
        scope: format!("commune={commune}").parse().expect("a scope"),
        force: true,
        ..Default::default()
    };
    let mut store = domania_store::Store::open_write(store, &domania_store::Wait::default()).expect("the store");
    store.import(domania_app::Layer::Parcels, rows, &meta, &options).expect("the parcels imported");
}

/// Imports the first commune's owners of the synthetic territory less one right `P`, as one
/// version scoped to the commune.
fn owners_of_first_commune_less_one(synth: &std::path::Path, store: &std::path::Path) {
    let rows = domania_io::ppm::read_ppm(&synth.join("ppm-synth.csv"), None).expect("the owner file").rows;
    let commune = rows[0].idu.as_str()[0..5].to_owned();
    let mut mine: Vec<_> = rows.iter().filter(|r| r.idu.as_str().starts_with(&commune)).collect();
    let gone = mine.iter().position(|r| r.right == domania_core::Right::Proprietaire).expect("a right P");
    mine.remove(gone);
    let rows = domania_store::owner_rows(mine.iter().map(|r| (&r.idu, r.right, &r.owner, r.address.as_deref())));
    let meta = domania_store::ImportMeta { author: "bench".into(), source: "owners".into(), ..Default::default() };
    let options = domania_store::ImportOptions {
        scope: format!("commune={commune}").parse().expect("a scope"),
        ..Default::default()
    };
    let mut store = domania_store::Store::open_write(store, &domania_store::Wait::default()).expect("the store");
    store.import(domania_app::Layer::Owners, rows, &meta, &options).expect("the owners imported");
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! The search box on a synthetic territory made by `domania synth` (seeded): 100k parcels by
//! default, a million with `DOMANIA_BENCH_1M=1`. The index is built once per snapshot (measured
//! on its own); each query asserts what it finds.
//!
//! Addresses: one per parcel, as a département's BAN has about one per parcel (the Yvelines:
//! 0.6 M addresses, 1.1 M parcels), on streets of about fifteen numbers, their names drawn
//! (seeded) from common French street names, so that, as in the BAN, one name is a street of
//! many communes.
//!
//! `cargo bench -p domania-app --bench search`

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use domania_app::search::{HitKind, SearchIndex, find};
use domania_core::Address;
use domania_engine::{Addresses, Snapshot};
use domania_i18n::Lang;
use domania_testkit::territory;

const KINDS: [&str; 8] = ["Rue", "Avenue", "Boulevard", "Place", "Impasse", "Allée", "Chemin", "Rue"];
const FIRST: [&str; 24] = [
    "Victor",
    "Jean",
    "Louis",
    "Émile",
    "Pierre",
    "Jules",
    "Paul",
    "Henri",
    "Anatole",
    "Gabriel",
    "Georges",
    "Maurice",
    "Marcel",
    "Albert",
    "André",
    "Charles",
    "Édouard",
    "François",
    "Gustave",
    "Léon",
    "Lucien",
    "Marie",
    "Robert",
    "Camille",
];
const LAST: [&str; 30] = [
    "Hugo",
    "Jaurès",
    "Pasteur",
    "Zola",
    "Curie",
    "Ferry",
    "Moulin",
    "Blum",
    "Gambetta",
    "France",
    "Clemenceau",
    "Verlaine",
    "Rimbaud",
    "Péguy",
    "Debussy",
    "Ravel",
    "Monet",
    "Renoir",
    "Cézanne",
    "Rousseau",
    "Voltaire",
    "Diderot",
    "Corneille",
    "Racine",
    "Molière",
    "Lamartine",
    "Musset",
    "Vigny",
    "Daudet",
    "Flaubert",
];

/// The street of the `k`-th block of fifteen parcels, and its words.
fn street(k: usize) -> (String, &'static str, &'static str, &'static str) {
    let h = (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20;
    let (kind, first, last) =
        (KINDS[(h % 8) as usize], FIRST[((h / 8) % 24) as usize], LAST[((h / 192) % 30) as usize]);
    (format!("{kind} {first} {last}"), kind, first, last)
}

/// The DGFiP's abbreviation of a kind of way.
fn abbreviation(kind: &str) -> &'static str {
    match kind {
        "Rue" => "R",
        "Avenue" => "AV",
        "Boulevard" => "BD",
        "Place" => "PL",
        "Impasse" => "IMP",
        "Allée" => "ALL",
        _ => "CHE",
    }
}

/// One BAN address per parcel, at its box's centre.
fn addresses(snap: &Snapshot) -> Addresses {
    use geo::BoundingRect;
    let communes = domania_app::communes::communes();
    let ban = snap
        .parcels()
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let b = p.geom_l93.bounding_rect()?;
            let commune = p.idu[0..5].to_owned();
            let numero = (i % 15) as u32 * 2 + 1;
            Some(Address {
                id: format!("{commune}_{:05x}_{numero:05}", i / 15),
                code_postal: communes.get(&commune).and_then(|c| c.postcodes.first().cloned()),
                commune,
                numero: Some(numero),
                rep: None,
                voie: street(i / 15).0,
                lieu_dit: None,
                x: b.center().x,
                y: b.center().y,
                lon: None,
                lat: None,
                parcelles: Some(p.idu.clone()),
            })
        })
        .collect::<Vec<_>>();
    Addresses { ban: ban.into(), ppm: Vec::new() }
}

fn bench(c: &mut Criterion) {
    let mut sizes = vec![100_000];
    if std::env::var_os("DOMANIA_BENCH_1M").is_some() {
        sizes.push(1_000_000);
    }
    let mut group = c.benchmark_group("search");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    for n in sizes {
        let snap = territory::snapshot(n);
        let snap = {
            let a = addresses(&snap);
            snap.with_addresses(a)
        };
        group.bench_function(format!("index_{n}_parcels"), |b| b.iter(|| SearchIndex::build(&snap)));
        let index = SearchIndex::build(&snap);
        // A commune of the territory by its code, a section of it, an owner's name, an IDU.
        let idu = snap.parcels()[n / 2].idu.clone();
        let (commune, section) = (idu[0..5].to_owned(), format!("{} {}", &idu[0..5], &idu[8..10]));
        let owner =
            snap.holdings().iter().flat_map(|h| h.owners.iter()).next().map(|o| o.name.to_string()).unwrap_or_default();
        for (what, q) in [("commune", commune), ("section", section), ("owner", owner), ("idu", idu)] {
            group.bench_function(format!("{what}_{n}_parcels"), |b| {
                b.iter(|| {
                    let hits = find(&snap, &index, &q, 20, Lang::Fr);
                    assert!(!hits.is_empty(), "{what} {q}");
                });
            });
        }
        // The address of the parcel in the middle: as typed, abbreviated with its postcode, with
        // a typo, and its street alone (a name many communes share).
        let a = &snap.addresses().ban[n / 2];
        let (name, kind, first, last) = street(n / 2 / 15);
        let number = a.numero.unwrap_or_default();
        let postcode = a.code_postal.clone().unwrap_or_default();
        let typo: String = last.chars().enumerate().filter(|(k, _)| *k != 2).map(|(_, c)| c).collect();
        let queries = [
            ("address", format!("{number} {name}")),
            (
                "address_abbreviated",
                format!("{number} {} {} {} {postcode}", abbreviation(kind), first.to_uppercase(), last.to_uppercase()),
            ),
            ("address_typo", format!("{number} {kind} {first} {typo}")),
        ];
        for (what, q) in queries {
            group.bench_function(format!("{what}_{n}_addresses"), |b| {
                b.iter(|| {
                    // A street name many communes share: the address is among the first hits
                    // (the first of all with its postcode, or one of the communes sharing it).
                    let hits = find(&snap, &index, &q, 20, Lang::Fr);
                    assert!(hits[0].kind == HitKind::Address, "{what} {q}: {:?}", hits.first());
                    assert!(hits.iter().any(|h| h.id == a.id), "{what} {q}: {hits:?}");
                });
            });
        }
        let q = name.clone();
        group.bench_function(format!("street_{n}_addresses"), |b| {
            b.iter(|| {
                let hits = find(&snap, &index, &q, 20, Lang::Fr);
                assert!(hits[0].kind == HitKind::Street, "{q}: {:?}", hits.first());
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

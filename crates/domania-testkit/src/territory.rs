//! The synthetic territory of `domania synth` (seeded, deterministic), as the benchmarks and
//! tests take it: a snapshot built in memory from the generated files (what a computation alone
//! is measured on), or a GeoPackage store holding it (what a load from the store is measured on).

use std::path::{Path, PathBuf};

use domania_core::shares::{OwnerRef, holdings_from_rights};
use domania_core::{Classifier, Layer, Right};
use domania_engine::{ParcelRec, Snapshot, Zone};
use domania_io::cadastre::read_cadastre;
use domania_io::features::ReadOptions;
use domania_io::perimeter::read_perimeters;
use domania_io::ppm::read_ppm;
use domania_store::{ImportMeta, ImportOptions, Location, Store, Wait, owner_rows, parcel_row, perimeter_row};

/// The files of a synthetic territory of `n` parcels made with `seed`, in `dir`.
///
/// # Panics
/// When the generator cannot write `dir`.
pub fn generate(n: usize, seed: u64, dir: &Path) {
    domania_io::synth::generate(n, seed, dir).expect("synthetic territory");
}

fn zones(dir: &Path, file: &str, kind: Layer) -> Vec<Zone> {
    read_perimeters(&dir.join(file), kind, ReadOptions::default())
        .expect("perimeters")
        .perimeters
        .into_iter()
        .map(|p| Zone { key: p.key, name: p.name, geom_l93: p.geom_l93 })
        .collect()
}

/// The synthetic territory of `n` parcels (seed 1) as a snapshot built in memory: parcels,
/// owners classified by the default classifier, sub-sectors and QPV.
///
/// # Panics
/// When the generated files cannot be read back (a bug of the generator or a reader).
#[must_use]
pub fn snapshot(n: usize) -> Snapshot {
    let dir = tempfile::tempdir().expect("temp dir");
    generate(n, 1, dir.path());
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
    Snapshot::from_parts(
        parcels
            .into_iter()
            .map(|p| ParcelRec { idu: p.idu.to_string(), contenance: p.contenance, geom_l93: p.geom_l93 })
            .collect(),
        holdings,
        zones(dir.path(), "subsectors-synth.geojson", Layer::Subsectors),
        zones(dir.path(), "qpv-synth.geojson", Layer::Qpv),
        Vec::new(),
    )
    .expect("as many holdings as parcels")
}

/// A GeoPackage store in `dir` holding the synthetic territory of `n` parcels (seed 1):
/// parcels, owners, sub-sectors and QPV, one version each.
///
/// # Panics
/// When the files cannot be generated, read or imported.
#[must_use]
pub fn store(n: usize, dir: &Path) -> PathBuf {
    let path = dir.join("s.gpkg");
    store_at(n, dir, &Location::File(path.clone()));
    path
}

/// [`store`] at `location` (a GeoPackage or a database), the generated files in `dir`.
///
/// # Panics
/// When the files cannot be generated, read or imported.
pub fn store_at(n: usize, dir: &Path, location: &Location) {
    let synth = dir.join("synth");
    generate(n, 1, &synth);
    let mut store = Store::create_at(location, false, &Wait::default()).expect("store");
    let meta = ImportMeta { author: "bench".into(), source: "synth".into(), ..ImportMeta::default() };
    let parcels =
        read_cadastre(&synth.join("cadastre-synth-parcelles.json"), ReadOptions::default()).expect("cadastre");
    let rows = parcels.parcels.iter().map(parcel_row).collect();
    store.import(Layer::Parcels, rows, &meta, &ImportOptions::for_layer(Layer::Parcels)).expect("parcels");
    let ppm = read_ppm(&synth.join("ppm-synth.csv"), None).expect("ppm");
    let rows = owner_rows(ppm.rows.iter().map(|r| (&r.idu, r.right, &r.owner, r.address.as_deref())));
    store.import(Layer::Owners, rows, &meta, &ImportOptions::for_layer(Layer::Owners)).expect("owners");
    for (file, layer) in [("subsectors-synth.geojson", Layer::Subsectors), ("qpv-synth.geojson", Layer::Qpv)] {
        let read = read_perimeters(&synth.join(file), layer, ReadOptions::default()).expect("perimeters");
        let rows =
            read.perimeters.iter().map(|p| perimeter_row(&p.key, p.name.as_deref(), "{}", &p.geom_l93)).collect();
        store.import(layer, rows, &meta, &ImportOptions::for_layer(layer)).expect("perimeters");
    }
}

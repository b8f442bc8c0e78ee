//! A version of some communes' parcels is spliced into the held snapshot (`App::hold_parcels`:
//! only those communes' parcels and owners read, merged with the others by fid) and gives
//! exactly what a rebuild gives: random commune-by-commune (and section-by-section) cadastre
//! versions on the synthetic territory — parcels moved, resized, given another contenance,
//! removed, added — each compared with a snapshot built afresh, down to the bytes of the
//! snapshot file written from each; a whole file imported as the command line does (its version
//! scoped to the communes it changed) is spliced too; a version of the whole layer, or of the
//! owners beside the parcels, is left to a rebuild.

use domania_app::held::Held;
use domania_app::{App, Date, Layer};
use domania_core::{Idu, Parcel};
use domania_store::{ImportOptions, Location, Scope, Store, Wait, owner_rows, parcel_row};
use domania_testkit::{Rng, commune_scope, meta};

const DAY: Date = jiff::civil::date(2026, 12, 7);

#[test]
fn a_version_of_some_communes_parcels_gives_what_a_rebuild_gives() {
    let dir = tempfile::tempdir().unwrap();
    follow(&Location::File(dir.path().join("s.gpkg")), dir.path());
}

#[test]
#[cfg_attr(domania_without_pg, ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)")]
fn a_version_of_some_communes_parcels_gives_what_a_rebuild_gives_on_a_database() {
    let db = domania_testkit::ScratchDatabase::new("parcels");
    let dir = tempfile::tempdir().unwrap();
    follow(&Location::from(db.url()), dir.path());
}

/// The snapshot file `app` writes for `held`, in a folder of its own.
fn file_of(app: &App, held: &Held, dir: &std::path::Path) -> Vec<u8> {
    let file = app.clone().with_snapshot_dir(Some(dir.into())).write_snapshot_file(held).unwrap();
    std::fs::read(file).unwrap()
}

/// One random change of the parcel `i` of `parcels` (moved, resized, its contenance changed,
/// removed, or a new parcel drawn beside it, or over one of `spots` anywhere), at `step`.
fn edit(parcels: &mut Vec<Parcel>, i: usize, rng: &mut Rng, step: usize, spots: &[geo_types::MultiPolygon<f64>]) {
    let d = 0.25 * (1 + rng.below(8)) as f64;
    match rng.below(6) {
        // Moved: it now overlaps a neighbour, or leaves a gap (ground no parcel holds).
        0 => parcels[i].geom_l93 = geo::Translate::translate(&parcels[i].geom_l93, d, -d),
        // Redrawn larger or smaller, about its first corner.
        1 => {
            let first = parcels[i].geom_l93.0[0].exterior().0[0];
            let f = if rng.below(2) == 0 { 1.0 + d / 10.0 } else { 1.0 - d / 10.0 };
            parcels[i].geom_l93 = geo::Scale::scale_around_point(&parcels[i].geom_l93, f, f, first);
        }
        2 => parcels[i].contenance = Some(parcels[i].contenance.unwrap_or(0) + 1 + rng.below(50) as i64),
        3 if parcels.len() > 1 => {
            parcels.remove(i);
        }
        _ => {
            let mut new = parcels[i].clone();
            new.numero = format!("9{:03}", (step * 7 + rng.below(7)) % 1000);
            let idu = format!("{}{}{}{}", new.commune, new.prefixe, new.section, new.numero);
            if parcels.iter().any(|p| p.idu.as_str() == idu) {
                return;
            }
            new.idu = Idu::parse(&idu).unwrap();
            new.geom_l93 = match spots.get(rng.below(spots.len().max(1))) {
                // Drawn over a parcel of another commune (a sub-sector's, likely far away).
                Some(spot) if rng.below(3) == 0 => geo::Translate::translate(spot, d, d),
                _ => geo::Translate::translate(&new.geom_l93, 3.0 * d, 2.0 * d),
            };
            parcels.push(new);
        }
    }
}

/// The synthetic territory at `location`, then random cadastre versions of one or two communes
/// (or a section), each spliced into the held snapshot and compared with a rebuild; now and
/// then a version of the whole layer, or of a commune's owners too, which a rebuild takes.
fn follow(location: &Location, dir: &std::path::Path) {
    domania_testkit::territory::store_at(3_000, dir, location);
    let synth = dir.join("synth");
    let read = domania_io::cadastre::read_cadastre(
        &synth.join("cadastre-synth-parcelles.json"),
        domania_io::features::ReadOptions::default(),
    );
    let mut parcels: Vec<Parcel> = read.unwrap().parcels;
    let mut communes: Vec<String> = parcels.iter().map(|p| p.commune.clone()).collect();
    communes.sort();
    communes.dedup();
    assert!(communes.len() >= 3, "{communes:?}");
    let app = App::new(location.clone(), None).unwrap().with_snapshot_dir(Some(dir.join("files")));
    let rules = domania_app::files::rules(None).unwrap();
    // Held as a server started from its file holds it: the parcels' fids are in the file.
    app.write_snapshot_file(&app.hold(rules.clone(), DAY).unwrap()).unwrap();
    let (mut held, kept) = app.hold_kept(rules.clone(), DAY).unwrap();
    assert!(matches!(kept, domania_app::kept::Kept::Read { .. }), "{kept:?}");

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut spliced, mut rebuilt, mut spaces_kept, mut spaces_again) = (0, 0, 0, 0);
    for step in 0..16 {
        let mut store = Store::open_write_at(app.store_path(), &Wait::default()).unwrap();
        let whole_layer = step % 7 == 6;
        let with_owners = step % 5 == 4;
        // Every other version in the commune of a sub-sector's parcel.
        let in_a_subsector = held.assign.spaces.iter().find_map(|s| match &s.space {
            domania_rules::SpaceKind::Parcel { idu, .. } if rng.below(2) == 0 => Some(idu[0..5].to_owned()),
            _ => None,
        });
        let mut touched = vec![in_a_subsector.unwrap_or_else(|| communes[rng.below(communes.len())].clone())];
        if step % 3 == 2 {
            touched.push(communes[rng.below(communes.len())].clone());
        }
        touched.dedup();
        for commune in &touched {
            // Every fourth version of a section alone (its parcels, the others of the commune kept).
            let section = (step % 4 == 1)
                .then(|| parcels.iter().find(|p| &p.commune == commune).unwrap().idu.as_str()[0..10].to_owned());
            let area = section.as_deref().unwrap_or(commune).to_owned();
            // Half of the edits in a sub-sector, where they change shares and managers.
            let in_subsectors: std::collections::HashSet<String> = (held.assign.spaces.iter())
                .filter_map(|s| match &s.space {
                    domania_rules::SpaceKind::Parcel { idu, .. } => Some(idu.clone()),
                    domania_rules::SpaceKind::NonCadastre => None,
                })
                .collect();
            let spots: Vec<geo_types::MultiPolygon<f64>> = (parcels.iter())
                .filter(|p| &p.commune != commune && in_subsectors.contains(p.idu.as_str()))
                .map(|p| p.geom_l93.clone())
                .collect();
            for _ in 0..=rng.below(5) {
                let inside = rng.below(2) == 0;
                let mine: Vec<usize> = (0..parcels.len())
                    .filter(|&i| parcels[i].idu.as_str().starts_with(&area))
                    .filter(|&i| !inside || in_subsectors.contains(parcels[i].idu.as_str()))
                    .collect();
                if mine.len() > 1 {
                    edit(&mut parcels, mine[rng.below(mine.len())], &mut rng, step, &spots);
                }
            }
            if whole_layer {
                continue;
            }
            let (file, options) = if let Some(section) = section {
                let rows = parcels.iter().filter(|p| p.idu.as_str().starts_with(&section)).map(parcel_row).collect();
                let scope = format!("section={section}").parse::<Scope>().unwrap();
                (rows, ImportOptions { scope, force: true, ..ImportOptions::default() })
            } else {
                let rows = parcels.iter().filter(|p| &p.commune == commune).map(parcel_row).collect();
                (rows, commune_scope(commune))
            };
            store.import(Layer::Parcels, file, &meta(commune), &options).unwrap();
        }
        // The whole file: the first time, as the command line imports it (its version scoped to
        // the communes it changed, which a splice reads); the second, as a version of the whole
        // layer (which a rebuild takes).
        let whole_scope = step == 13;
        if whole_layer {
            let file = parcels.iter().map(parcel_row).collect();
            let options = if whole_scope {
                ImportOptions { scope: Scope::layer(), force: true, ..ImportOptions::default() }
            } else {
                ImportOptions::for_layer(Layer::Parcels)
            };
            store.import(Layer::Parcels, file, &meta("all"), &options).unwrap();
        }
        if with_owners {
            // The same owner file again, less its first right: a version of the owners too.
            let rows = domania_io::ppm::read_ppm(&synth.join("ppm-synth.csv"), None).unwrap().rows;
            let file =
                owner_rows(rows.iter().skip(1 + step).map(|r| (&r.idu, r.right, &r.owner, r.address.as_deref())));
            store.import(Layer::Owners, file, &meta("all"), &ImportOptions::for_layer(Layer::Owners)).unwrap();
        }
        drop(store);
        let day = if step % 4 == 3 { DAY.tomorrow().unwrap() } else { DAY };
        let fresh = app.hold(rules.clone(), day).unwrap();
        if fresh.versions() == held.versions() {
            // No change (an edit undone by the next, or a contenance the same): nothing to splice.
            assert!(app.hold_parcels(&held, day).unwrap().is_none(), "step {step}");
            held = fresh;
            continue;
        }
        let Some(next) = app.hold_parcels(&held, day).unwrap() else {
            assert!(
                whole_scope || with_owners,
                "step {step}: a version of {touched:?}'s parcels was left to a rebuild"
            );
            rebuilt += 1;
            held = fresh;
            continue;
        };
        assert!(!whole_scope && !with_owners, "step {step}: spliced when a rebuild was due");
        spliced += 1;
        // On the same day, the sub-sectors no change reaches keep their spaces' managers
        // (shared); the others are cut and worked out again.
        if day == held.date {
            let ptr = |s: &domania_engine::SpaceAssignment| std::sync::Arc::as_ptr(&s.assignments);
            let before: std::collections::HashSet<_> = held.assign.spaces.iter().map(ptr).collect();
            let kept = next.assign.spaces.iter().filter(|s| before.contains(&ptr(s))).count();
            spaces_kept += kept;
            spaces_again += next.assign.spaces.len() - kept;
        }
        // What a rebuild gives, to the tag, the file's key and the file's bytes.
        assert_ne!(next.etag, held.etag, "step {step}");
        assert_eq!(next.etag, fresh.etag, "step {step}");
        assert_eq!(next.file_key, fresh.file_key, "step {step}");
        assert_eq!(next.versions(), fresh.versions(), "step {step}");
        assert_eq!(next.snapshot.parcels(), fresh.snapshot.parcels(), "step {step}");
        assert_eq!(next.snapshot.holdings(), fresh.snapshot.holdings(), "step {step}");
        assert_eq!(next.shares, fresh.shares, "step {step}");
        assert_eq!(next.assign, fresh.assign, "step {step}");
        for p in parcels.iter().filter(|p| touched.contains(&p.commune)).take(20) {
            let (a, b) = (next.snapshot.parcel(p.idu.as_str()), fresh.snapshot.parcel(p.idu.as_str()));
            assert_eq!(a, b, "step {step}: {}", p.idu);
            assert!(a.is_some(), "step {step}: {} not found", p.idu);
        }
        let hits = |h: &Held| h.search(&touched[0], 50, domania_i18n::Lang::Fr);
        assert_eq!(format!("{:?}", hits(&next)), format!("{:?}", hits(&fresh)), "step {step}");
        assert!(
            file_of(&app, &next, &dir.join("next")) == file_of(&app, &fresh, &dir.join("fresh")),
            "step {step}: the snapshot files differ"
        );
        held = next;
    }
    eprintln!(
        "{spliced} spliced into the held snapshot, {rebuilt} rebuilt; {spaces_kept} spaces' managers kept, \
         {spaces_again} worked out again"
    );
    assert!(spliced >= 8 && rebuilt >= 3, "{spliced} spliced, {rebuilt} rebuilt");
    assert!(spaces_kept > 0 && spaces_again > 0, "{spaces_kept} spaces kept, {spaces_again} worked out again");
}

//! A version of the owners alone is worked out from the held snapshot (`App::hold_owners`:
//! the owners read again without a shape, the shares and managers from the held cut, the
//! parcels and the tiles' topologies shared) and gives exactly what a rebuild gives: random
//! commune-by-commune owner files on the synthetic territory — owners swapped for others of
//! other actors, rights removed, co-owners added, street addresses changed — each compared with
//! a snapshot built afresh, down to the bytes of the snapshot file written from each.

use domania_app::held::Held;
use domania_app::{App, Date, Layer};
use domania_io::ppm::OwnerRow;
use domania_store::{ImportOptions, Location, Scope, Store, Wait, owner_rows, parcel_row};
use domania_testkit::{Rng, commune_scope, meta};

const DAY: Date = jiff::civil::date(2026, 12, 7);

#[test]
fn a_version_of_the_owners_alone_gives_what_a_rebuild_gives() {
    let dir = tempfile::tempdir().unwrap();
    follow(&Location::File(dir.path().join("s.gpkg")), dir.path(), None);
}

#[test]
fn a_version_of_the_owners_alone_gives_what_a_rebuild_gives_to_a_server_of_one_part() {
    let dir = tempfile::tempdir().unwrap();
    follow(&Location::File(dir.path().join("s.gpkg")), dir.path(), Some("commune"));
}

#[test]
#[cfg_attr(domania_without_pg, ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)")]
fn a_version_of_the_owners_alone_gives_what_a_rebuild_gives_on_a_database() {
    let db = domania_testkit::ScratchDatabase::new("owners");
    let dir = tempfile::tempdir().unwrap();
    follow(&Location::from(db.url()), dir.path(), Some("departement=78"));
}

/// The snapshot file `app` writes for `held`, in a folder of its own.
fn file_of(app: &App, held: &Held, dir: &std::path::Path) -> Vec<u8> {
    let file = app.clone().with_snapshot_dir(Some(dir.into())).write_snapshot_file(held).unwrap();
    std::fs::read(file).unwrap()
}

/// The synthetic territory at `location`, then random owner files of one commune each (and a
/// few parcel versions, which the owners' path leaves to a rebuild), each worked out from the
/// held snapshot and compared with a rebuild. With `part`, a server of that part (`commune`:
/// of the territory's first commune, the parcels of others meeting its zones with it).
fn follow(location: &Location, dir: &std::path::Path, part: Option<&str>) {
    domania_testkit::territory::store_at(3_000, dir, location);
    let synth = dir.join("synth");
    let mut rows: Vec<OwnerRow> = domania_io::ppm::read_ppm(&synth.join("ppm-synth.csv"), None).unwrap().rows;
    let mut communes: Vec<String> = rows.iter().map(|r| r.idu.as_str()[0..5].to_owned()).collect();
    communes.sort();
    communes.dedup();
    assert!(communes.len() >= 3, "{communes:?}");
    let part: Option<Scope> = part.map(|p| match p {
        "commune" => format!("commune={}", communes[0]).parse().unwrap(),
        p => p.parse().unwrap(),
    });
    let app =
        App::new(location.clone(), None).unwrap().with_served_scope(part).with_snapshot_dir(Some(dir.join("files")));
    let rules = domania_app::files::rules(None).unwrap();
    let mut held = app.hold(rules.clone(), DAY).unwrap();
    held.topologies();
    let _ = held.labels();

    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let (mut worked_out, mut rebuilt, mut unreached, mut shared_elsewhere) = (0, 0, 0, 0);
    let (mut spaces_kept, mut spaces_again) = (0, 0);
    for step in 0..20 {
        // Every other version in the first commune (the part's, for a server of one commune).
        let commune = communes[if rng.below(2) == 0 { 0 } else { rng.below(communes.len()) }].clone();
        let mut store = Store::open_write_at(app.store_path(), &Wait::default()).unwrap();
        let owners_only = step % 5 != 4;
        if owners_only {
            let mine: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].idu.as_str().starts_with(&commune)).collect();
            for _ in 0..=rng.below(6) {
                let i = mine[rng.below(mine.len())];
                match rng.below(4) {
                    // Another owner, likely of another actor (bailleur, CU, commune, private).
                    0 => rows[i].owner = rows[rng.below(rows.len())].owner.clone(),
                    // A co-owner: the parcel held in indivision.
                    1 => {
                        let mut other = rows[rng.below(rows.len())].clone();
                        other.idu = rows[i].idu.clone();
                        rows.push(other);
                    }
                    // The street address the file gives the parcel.
                    2 => rows[i].address = Some(format!("{} RUE DU PAS {step}", 1 + rng.below(90))),
                    // A right removed: the parcel's owners unknown, its commune still covered.
                    _ if mine.len() > 1 => {
                        rows.swap_remove(i);
                    }
                    _ => {}
                }
            }
            if step % 7 == 6 {
                // The whole owner file again: every owner read again.
                let file = owner_rows(rows.iter().map(|r| (&r.idu, r.right, &r.owner, r.address.as_deref())));
                store.import(Layer::Owners, file, &meta("all"), &ImportOptions::for_layer(Layer::Owners)).unwrap();
            } else {
                let mine = rows.iter().filter(|r| r.idu.as_str().starts_with(&commune));
                let file = owner_rows(mine.map(|r| (&r.idu, r.right, &r.owner, r.address.as_deref())));
                store.import(Layer::Owners, file, &meta(&commune), &commune_scope(&commune)).unwrap();
            }
        } else {
            // A parcel of the commune a metre further east: a version of the shapes.
            let mut parcels = domania_io::cadastre::read_cadastre(
                &synth.join("cadastre-synth-parcelles.json"),
                domania_io::features::ReadOptions::default(),
            )
            .unwrap()
            .parcels;
            parcels.retain(|p| p.commune == commune);
            let moved = f64::from(step);
            parcels[0].geom_l93 = geo::Translate::translate(&parcels[0].geom_l93, moved, 0.0);
            let file = parcels.iter().map(parcel_row).collect();
            store.import(Layer::Parcels, file, &meta(&commune), &commune_scope(&commune)).unwrap();
        }
        drop(store);
        // Now and then the next day: conventions judged anew, every space worked out again.
        let day = if step % 4 == 3 { DAY.tomorrow().unwrap() } else { DAY };
        let fresh = app.hold(rules.clone(), day).unwrap();
        if app.currency(&held, &app.versions().unwrap()).unwrap() != domania_app::held::Currency::Stale {
            // A version of another commune that does not reach the part: nothing to work out.
            assert_eq!(app.hold(rules.clone(), held.date).unwrap().etag, held.etag, "step {step}");
            unreached += 1;
            continue;
        }
        let Some(next) = app.hold_owners(&held, day).unwrap() else {
            assert!(!owners_only, "step {step}: a version of the owners of {commune} was left to a rebuild");
            rebuilt += 1;
            fresh.topologies();
            held = fresh;
            continue;
        };
        assert!(owners_only, "step {step}: a version of the parcels was worked out as one of the owners");
        worked_out += 1;
        // The shapes are shared with the held snapshot, not copied; after a version of one
        // commune's owners, so are the holdings of the others' parcels.
        assert!(std::ptr::eq(next.snapshot.parcels(), held.snapshot.parcels()), "step {step}");
        assert!(std::ptr::eq(next.topologies(), held.topologies()), "step {step}");
        let held_elsewhere = (0..held.snapshot.parcels().len()).find(|&i| {
            !held.snapshot.parcels()[i].idu.starts_with(&commune) && !held.snapshot.holdings()[i].owners.is_empty()
        });
        if let Some(i) = held_elsewhere
            && step % 7 != 6
        {
            let (a, b) = (&next.snapshot.holdings()[i].owners, &held.snapshot.holdings()[i].owners);
            assert!(std::sync::Arc::ptr_eq(a, b), "step {step}: the holdings of other communes kept");
            shared_elsewhere += 1;
        }
        // On the same day, the spaces of the sub-sectors none of whose parcels changed hands keep
        // their managers (shared); the others' are worked out again.
        if day == held.date {
            let kept = next.assign.spaces.iter().zip(&held.assign.spaces);
            let kept = kept.filter(|(a, b)| std::sync::Arc::ptr_eq(&a.assignments, &b.assignments)).count();
            spaces_kept += kept;
            spaces_again += next.assign.spaces.len() - kept;
        }
        // What a rebuild gives, to the tag and the file's key.
        assert_ne!(next.etag, held.etag, "step {step}");
        assert_eq!(next.etag, fresh.etag, "step {step}");
        assert_eq!(next.file_key, fresh.file_key, "step {step}");
        assert_eq!(next.versions(), fresh.versions(), "step {step}");
        assert_eq!(next.snapshot.holdings(), fresh.snapshot.holdings(), "step {step}");
        assert_eq!(next.snapshot.addresses().ppm, fresh.snapshot.addresses().ppm, "step {step}");
        assert_eq!(next.shares, fresh.shares, "step {step}");
        assert_eq!(next.assign, fresh.assign, "step {step}");
        assert_eq!(next.on_the_map().actors, fresh.on_the_map().actors, "step {step}");
        let hits = |h: &Held| h.search("OPH", 50, domania_i18n::Lang::Fr);
        assert_eq!(format!("{:?}", hits(&next)), format!("{:?}", hits(&fresh)), "step {step}");
        // The file written from each, byte for byte (the ledger, the cut, the topologies).
        assert!(
            file_of(&app, &next, &dir.join("next")) == file_of(&app, &fresh, &dir.join("fresh")),
            "step {step}: the snapshot files differ"
        );
        held = next;
    }
    eprintln!(
        "{worked_out} worked out from the held snapshot ({shared_elsewhere} keeping other communes' holdings), \
         {rebuilt} rebuilt, {unreached} not reaching the part; {spaces_kept} spaces' managers kept, \
         {spaces_again} worked out again"
    );
    assert!(spaces_kept > 0 && spaces_again > 0, "{spaces_kept} spaces kept, {spaces_again} worked out again");
    assert!(worked_out >= 6 && rebuilt >= 1 && shared_elsewhere >= 3, "{worked_out} worked out, {rebuilt} rebuilt");
}

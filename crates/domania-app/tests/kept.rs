//! The snapshot file: read when current, rebuilt when missing, stale, damaged or cut short, and
//! what is read draws the same tiles as what is built.

use std::path::Path;

use domania_app::kept::Kept;
use domania_app::tiles::tile_id;
use domania_app::{App, Date, Layer};
use domania_tiles::layers::TileLayer;

const DAY: Date = jiff::civil::date(2025, 6, 1);

/// Tiles around the territory's middle at zooms 13 to 16, every layer.
fn tiles(held: &domania_app::held::Held) -> Vec<Vec<u8>> {
    let b = held.bounds();
    let (lon, lat) = (f64::midpoint(b[0], b[2]), f64::midpoint(b[1], b[3]));
    (13..=16)
        .map(|z: u8| {
            let n = f64::from(1u32 << z);
            let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
            let y = ((1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n).floor() as u32;
            held.tile(&TileLayer::ALL, tile_id(z, x, y).unwrap()).bytes
        })
        .collect()
}

/// Holds the store on `day` and keeps its snapshot file; says what became of the file.
fn keep(app: &App, day: Date) -> (String, Vec<Vec<u8>>) {
    let (held, kept) = app.hold_kept(domania_app::files::rules(None).unwrap(), day).unwrap();
    let what = match &kept {
        Kept::Read { .. } => "read".to_owned(),
        Kept::Built { why, .. } => format!("built: {why}"),
        other @ Kept::NoFile { .. } => panic!("{other:?}"),
    };
    if matches!(kept, Kept::Built { .. }) {
        assert_eq!(app.write_snapshot_file(&held).unwrap(), app.snapshot_file().unwrap());
    }
    (what, tiles(&held))
}

fn damage(file: &Path, f: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = std::fs::read(file).unwrap();
    f(&mut bytes);
    std::fs::write(file, bytes).unwrap();
}

#[test]
fn a_snapshot_file_is_read_when_current_and_rebuilt_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let store = domania_testkit::territory::store(3_000, dir.path());
    let app = App::new(store.as_path(), None).unwrap();
    let file = app.snapshot_file().unwrap();
    assert_eq!(file, dir.path().join("s.gpkg.snapshot"));

    let fresh = app.shares(Layer::Subsectors, None).unwrap();
    assert!(app.kept_subsector_shares(false).is_none(), "no file yet");
    let (first, built) = keep(&app, DAY);
    assert_eq!(first, "built: none yet");
    // The shares command reads the sub-sectors' shares from the beginning of the file: the
    // figures worked out from the store.
    assert_eq!(app.kept_subsector_shares(false).expect("a current file").0, fresh.report);
    let kept = app.shares(Layer::Subsectors, None).unwrap();
    assert_eq!((kept.report, kept.zones), (fresh.report.clone(), fresh.zones.clone()));
    assert!(built.iter().any(|t| t.len() > 1000), "the tiles draw the territory");
    let (second, read) = keep(&app, DAY);
    assert_eq!(second, "read");
    assert_eq!(read, built, "the tiles of the snapshot read are those of the snapshot built");
    // Every answer of the snapshot read is the one of the snapshot built: the parcels, their
    // owners as classified, the zones, the addresses, the shares and every space's managers.
    let rules = domania_app::files::rules(None).unwrap();
    let (a, b) = (app.hold(rules.clone(), DAY).unwrap(), app.hold_kept(rules, DAY).unwrap().0);
    assert_eq!(a.etag, b.etag);
    assert_eq!(a.snapshot.parcels(), b.snapshot.parcels());
    assert_eq!(a.snapshot.holdings(), b.snapshot.holdings());
    for layer in [Layer::Subsectors, Layer::Qpv, Layer::Conventions] {
        assert_eq!(a.snapshot.zones(layer), b.snapshot.zones(layer));
    }
    assert_eq!(a.snapshot.addresses().ban, b.snapshot.addresses().ban);
    assert_eq!(a.snapshot.addresses().ppm, b.snapshot.addresses().ppm);
    assert_eq!(a.snapshot.versions(), b.snapshot.versions());
    assert_eq!(a.shares, b.shares);
    assert_eq!(a.assign, b.assign);
    let p = &a.snapshot.parcels()[17];
    assert_eq!(b.snapshot.position(&p.idu), Some(17));
    let inside = geo::InteriorPoint::interior_point(&p.geom_l93).unwrap();
    assert_eq!(a.snapshot.parcels_at(inside), b.snapshot.parcels_at(inside));

    // Cut short, then damaged in its middle: rebuilt each time, the tiles unchanged.
    damage(&file, |b| b.truncate(b.len() * 2 / 3));
    assert_eq!(keep(&app, DAY).0, "built: damaged (checksum)");
    damage(&file, |b| {
        let mid = b.len() / 2;
        b[mid] ^= 0x40;
    });
    let (what, tiles) = keep(&app, DAY);
    assert_eq!(what, "built: damaged (checksum)");
    assert_eq!(tiles, built);
    damage(&file, |b| b.truncate(10));
    assert_eq!(keep(&app, DAY).0, "built: truncated");
    std::fs::write(&file, b"not a snapshot at all, but long enough to have a header").unwrap();
    assert_eq!(keep(&app, DAY).0, "built: not a Domania file of this kind");
    assert_eq!(keep(&app, DAY).0, "read");

    // A part a killed writer left is removed by the next writing; a live writer's is not.
    let (dead, alive) = (
        dir.path().join("s.gpkg.snapshot.999999999-0.part"),
        dir.path().join(format!("s.gpkg.snapshot.{}-77.part", std::process::id())),
    );
    std::fs::write(&dead, b"half").unwrap();
    std::fs::write(&alive, b"half").unwrap();
    std::fs::remove_file(&file).unwrap();
    assert_eq!(keep(&app, DAY).0, "built: none yet");
    assert!(!dead.exists() && alive.exists());
    std::fs::remove_file(&alive).unwrap();

    // Another day judges conventions anew, other rules decide otherwise: the file is read and
    // its shares, decisions and managers worked out again with them — as a build would.
    let rules = domania_app::files::rules(None).unwrap();
    let t = domania_app::files::DEFAULT_RULES;
    let at = t.find("\n[[convention]]\n").unwrap();
    let to = at + t[at..].find("\n\n").unwrap();
    let fewer = domania_app::files::rules_from_text(&format!("{}{}", &t[..at], &t[to..]), "no conventions").unwrap();
    assert!(fewer.rules.config().conventions.is_empty());
    for (rules, day) in [(&rules, DAY.tomorrow().unwrap()), (&fewer, DAY)] {
        let (held, kept) = app.hold_kept(rules.clone(), day).unwrap();
        assert!(matches!(kept, Kept::Read { .. }), "{kept:?}");
        let built = app.hold(rules.clone(), day).unwrap();
        assert_eq!((&held.shares, &held.assign, &held.etag), (&built.shares, &built.assign, &built.etag));
        assert_ne!(held.etag, a.etag, "another day or other rules: other answers");
    }
    // A file made for rules without conventions has no points to find their perimeters with:
    // rebuilt for rules that have some.
    std::fs::remove_file(&file).unwrap();
    let (held, kept) = app.hold_kept(fewer.clone(), DAY).unwrap();
    assert!(matches!(kept, Kept::Built { .. }), "{kept:?}");
    app.write_snapshot_file(&held).unwrap();
    assert_eq!(keep(&app, DAY).0, "built: its cut has no points for the conventions of these rules");
    assert_eq!(keep(&app, DAY).0, "read");
    // A store remade from nothing has the same version numbers, not the same versions.
    let (_, on_day) = keep(&app, DAY);
    std::fs::remove_file(&store).unwrap();
    let _ = domania_testkit::territory::store(2_000, dir.path());
    assert!(app.kept_subsector_shares(false).is_none(), "the file of the store before is not read");
    assert_ne!(app.shares(Layer::Subsectors, None).unwrap().report, fresh.report);
    let (what, remade) = keep(&app, DAY);
    assert!(what.starts_with("built: computed from another state"), "{what}");
    assert_ne!(remade, on_day);
    assert_eq!(keep(&app, DAY).0, "read");
}

#[test]
fn a_territory_with_siren_lists_reads_its_file_at_the_next_start_and_tags_alike() {
    // A territory configuration lists owners by SIREN (here forty bailleurs): what the key is
    // made of must be written the same way by every start, whatever the order of its maps.
    let dir = tempfile::tempdir().unwrap();
    let store = domania_testkit::territory::store(2_000, dir.path());
    let sirens: Vec<String> = (0..40).map(|i| format!("\"9000{i:05}\"")).collect();
    let config = dir.path().join("territory.toml");
    std::fs::write(
        &config,
        format!("[owners.siren]\nbailleur_social = [{}]\ncommunaute_urbaine = [\"200059889\"]\n", sirens.join(", ")),
    )
    .unwrap();
    let start = || App::new(store.as_path(), Some(config.as_path())).unwrap();
    let rules = || domania_app::files::rules(None).unwrap();
    let (first, kept) = start().hold_kept(rules(), DAY).unwrap();
    assert!(matches!(kept, Kept::Built { .. }), "{kept:?}");
    start().write_snapshot_file(&first).unwrap();
    for _ in 0..3 {
        let (next, kept) = start().hold_kept(rules(), DAY).unwrap();
        assert!(matches!(kept, Kept::Read { .. }), "{kept:?}");
        assert_eq!(next.etag, first.etag, "two servers of one store and territory tag their answers alike");
    }
}

//! The shape work of an assign kept in a snapshot file: read back, the managers are the ones a
//! full assign gives, and a file that names what is not there is refused.

use domania_core::flat::{FlatError, FlatReader, FlatWriter};
use domania_core::overlay::OverlayOptions;
use domania_engine::{Cut, Ledger, Snapshot, Zone};
use domania_rules::{Rules, RulesConfig};
use geo::BoundingRect;
use geo_types::{MultiPolygon, Rect};

fn rules() -> Rules {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/rules.toml"))
        .expect("data/rules.toml");
    Rules::new(toml::from_str::<RulesConfig>(&text).expect("valid TOML")).expect("valid rules")
}

fn boxed(b: Rect<f64>, grow: f64) -> MultiPolygon<f64> {
    let (min, max) = (b.min(), b.max());
    MultiPolygon::new(vec![Rect::new((min.x - grow, min.y - grow), (max.x + grow, max.y + grow)).to_polygon()])
}

/// The synthetic territory (seed 1), with a sub-sector half over the first one and a
/// convention's perimeter (the rules' `QN078001-01`) over the first: every path of a cut.
fn territory() -> Snapshot {
    let t = domania_testkit::territory::snapshot(3_000);
    let mut subsectors = t.subsectors().to_vec();
    let a = subsectors[0].geom_l93.bounding_rect().expect("a sub-sector");
    // Half over the first sub-sector, across its parcels: cut parcels and an overlap.
    let (min, max) = (a.min(), a.max());
    let over = Rect::new((f64::midpoint(min.x, max.x), min.y), (max.x + a.width() / 2.0, max.y));
    subsectors.push(Zone { key: "OVER".into(), name: None, geom_l93: boxed(over, 0.0) });
    let convention = Zone { key: "QN078001-01".into(), name: None, geom_l93: boxed(a, -10.0) };
    Snapshot::from_parts(t.parcels().to_vec(), t.holdings().to_vec(), subsectors, t.qpv().to_vec(), vec![convention])
        .expect("as many holdings as parcels")
}

/// `snap` and `cut` written as a snapshot file holds them.
fn written(snap: &Snapshot, cut: &Cut, spaces: &[domania_engine::SpaceAssignment]) -> Vec<u8> {
    let mut w = FlatWriter::new(b"SNAPSHOT", 1, 7);
    snap.write_with_cut(cut, spaces, &mut w).expect("written");
    w.finish().expect("sealed")
}

#[test]
fn an_assign_from_a_cut_read_back_is_the_full_assign() {
    let (snap, rules, date) = (territory(), rules(), jiff::civil::date(2025, 6, 1));
    let full = snap.assign_with_geometry(&rules, date, OverlayOptions::default());
    let mut cut = snap.cut(true, true, OverlayOptions::default());
    assert_eq!(snap.assign_cut(&rules, date, &mut cut), full, "an assign from a fresh cut");
    assert!(cut.spaces.iter().all(|s| s.geom_l93.is_none()), "the shapes moved into the report");
    // Every path is taken: overlapping sub-sectors, points, whole and cut parcels, streets.
    let spaces = &full.1.spaces;
    assert!(spaces.iter().any(|s| !s.overlaps.is_empty() && s.counted_m2 < s.area_m2));
    assert!(cut.spaces.iter().all(|s| s.point.is_some()));
    assert!(cut.overlay.zones.iter().flat_map(|z| &z.pieces).any(|p| p.whole));
    assert!(cut.overlay.zones.iter().flat_map(|z| &z.pieces).any(|p| !p.whole));
    assert!(cut.overlay.zones.iter().any(|z| z.non_cadastre_m2 > 0.0));
    assert!(spaces.iter().flat_map(|s| s.assignments.iter()).any(|a| a.rule == domania_rules::RuleKind::Convention));

    let bytes = written(&snap, &cut, spaces);
    let mut r = FlatReader::open(&bytes, b"SNAPSHOT", 1, 7).expect("opened");
    let (snap_back, mut back) = Snapshot::read_with_cut(&mut r).expect("read");
    r.end().expect("every section read");
    assert_eq!(back.overlay, cut.overlay);
    assert_eq!(snap_back.parcels(), snap.parcels());
    assert_eq!(snap_back.assign_cut(&rules, date, &mut back), full, "an assign from the cut read back");
    // The beginning of the file alone gives the sub-sectors' shares, as a fresh overlay does.
    let head = domania_core::flat::read_head(&bytes[..], bytes.len() as u64).expect("a checkpoint");
    assert!(head.len() * 4 < bytes.len(), "{} of {} bytes", head.len(), bytes.len());
    let mut r = FlatReader::open_head(&head, b"SNAPSHOT", 1, 7).expect("opened");
    let (ledger, overlay) = Ledger::read_with_overlay(&mut r).expect("read");
    r.end().expect("nothing else before the checkpoint");
    assert_eq!(ledger.subsector_shares(&overlay, false), full.0, "the rules leave the non-cadastré land out");
    let with_nc = snap.shares(domania_core::Layer::Subsectors, true, OverlayOptions::default());
    assert_eq!(ledger.subsector_shares(&overlay, true), with_nc);
    assert_ne!(with_nc, full.0, "the non-cadastré land counted: another denominator");
}

#[test]
fn a_cut_that_names_what_is_not_there_is_refused() {
    let (snap, rules, date) = (territory(), rules(), jiff::civil::date(2025, 6, 1));
    let mut cut = snap.cut(true, true, OverlayOptions::default());
    let (_, assign) = snap.assign_cut(&rules, date, &mut cut);
    // Read against a snapshot with fewer parcels or sub-sectors than the cut names.
    let fewer = Snapshot::from_parts(
        snap.parcels()[..10].to_vec(),
        snap.holdings()[..10].to_vec(),
        snap.subsectors().to_vec(),
        Vec::new(),
        Vec::new(),
    )
    .expect("parts");
    let none =
        Snapshot::from_parts(snap.parcels().to_vec(), snap.holdings().to_vec(), vec![], vec![], vec![]).expect("parts");
    for other in [&fewer, &none] {
        let bytes = written(other, &cut, &assign.spaces);
        let mut r = FlatReader::open(&bytes, b"SNAPSHOT", 1, 7).expect("opened");
        assert!(matches!(Snapshot::read_with_cut(&mut r), Err(FlatError::Inconsistent(_))));
        let head = domania_core::flat::read_head(&bytes[..], bytes.len() as u64).expect("a checkpoint");
        let mut r = FlatReader::open_head(&head, b"SNAPSHOT", 1, 7).expect("opened");
        assert!(matches!(Ledger::read_with_overlay(&mut r), Err(FlatError::Inconsistent(_))));
    }
    // A report of other spaces is not written as this cut's.
    let mut w = FlatWriter::new(b"SNAPSHOT", 1, 7);
    assert!(snap.write_with_cut(&cut, &assign.spaces[1..], &mut w).is_err());
}

//! Scenarios: transfers change shares and decisions on a copy, never the original.

use domania_core::Actor;
use domania_core::Layer;
use domania_core::overlay::OverlayOptions;
use domania_core::shares::{Holding, OwnerRef};
use domania_engine::{NewOwner, ParcelRec, Snapshot, Transfer, Zone};
use geo_types::{MultiPolygon, Rect};

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    MultiPolygon::new(vec![Rect::new((x0, y0), (x1, y1)).to_polygon()])
}

fn holding(actor: Actor) -> Holding {
    Holding::of(vec![OwnerRef { siren: actor.as_str().into(), name: actor.as_str().into(), actor }])
}

/// The layers of a 100 x 10 m block: bailleur 0-50, CU 50-80, commune 80-100, one sub-sector.
struct Parts {
    parcels: Vec<ParcelRec>,
    holdings: Vec<Holding>,
    subsectors: Vec<Zone>,
}

fn parts() -> Parts {
    let parcels = [(0.0, 50.0), (50.0, 80.0), (80.0, 100.0)]
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| ParcelRec {
            idu: format!("78440000AB000{}", i + 1),
            contenance: None,
            geom_l93: rect(a, 0.0, b, 10.0),
        })
        .collect();
    Parts {
        parcels,
        holdings: vec![holding(Actor::BailleurSocial), holding(Actor::CommunauteUrbaine), holding(Actor::Commune)],
        subsectors: vec![Zone { key: "S".into(), name: None, geom_l93: rect(0.0, 0.0, 100.0, 10.0) }],
    }
}

impl Parts {
    fn build(self) -> Snapshot {
        Snapshot::from_parts(self.parcels, self.holdings, self.subsectors, vec![], vec![]).unwrap()
    }
}

fn snap() -> Snapshot {
    parts().build()
}

fn to(actor: Actor) -> NewOwner {
    NewOwner { siren: String::new(), name: "new".into(), actor }
}

#[test]
fn whole_parcel_and_polygon_transfers() {
    let base = snap();
    let share = |s: &Snapshot, a: Actor| {
        s.shares(Layer::Subsectors, false, OverlayOptions::default()).zones[0]
            .shares
            .by_actor
            .get(&a)
            .map_or(0.0, |x| x.share)
    };
    assert!((share(&base, Actor::BailleurSocial) - 0.5).abs() < 1e-9);
    let t = vec![
        Transfer {
            idu: Some("78440000AB0003".into()),
            polygon: None,
            to: to(Actor::BailleurSocial),
            note: String::new(),
        },
        // 5 m of the CU parcel (50-55) go to the bailleur too.
        Transfer {
            idu: None,
            polygon: Some(vec![[50.0, -1.0], [55.0, -1.0], [55.0, 11.0], [50.0, 11.0]]),
            to: to(Actor::BailleurSocial),
            note: String::new(),
        },
    ];
    let after = base.with_transfers(&t).unwrap();
    assert!((share(&after, Actor::BailleurSocial) - 0.75).abs() < 1e-6, "{}", share(&after, Actor::BailleurSocial));
    assert!((share(&after, Actor::CommunauteUrbaine) - 0.25).abs() < 1e-6);
    assert_eq!(after.parcels().len(), 4);
    assert_eq!(after.parcels()[3].idu, "78440000AB0002/2");
    assert!(after.parcel("78440000AB0002/2").is_some() && base.parcel("78440000AB0002/2").is_none());
    // The original is unchanged.
    assert!((share(&base, Actor::BailleurSocial) - 0.5).abs() < 1e-9);
    // Errors name the transfer.
    let bad = vec![Transfer {
        idu: Some("78440000AB0099".into()),
        polygon: None,
        to: to(Actor::Commune),
        note: String::new(),
    }];
    assert!(base.with_transfers(&bad).unwrap_err().to_string().contains("transfer 1: parcel 78440000AB0099"));
    let empty = vec![Transfer {
        idu: None,
        polygon: Some(vec![[500.0, 0.0], [510.0, 0.0], [510.0, 10.0]]),
        to: to(Actor::Commune),
        note: String::new(),
    }];
    assert!(base.with_transfers(&empty).unwrap_err().to_string().contains("holds no parcel land"));
}

#[test]
fn blocks_are_parcels_connected_across_hairline_gaps() {
    let mut p = parts();
    // A hairline gap (3 cm) between parcels 1 and 2, and a parcel across a 12 m street.
    p.parcels[1].geom_l93 = rect(50.03, 0.0, 80.0, 10.0);
    p.parcels.push(ParcelRec {
        idu: "78440000AB0004".into(),
        contenance: None,
        geom_l93: rect(0.0, 22.0, 100.0, 30.0),
    });
    p.holdings.push(holding(Actor::Commune));
    let s = p.build();
    let zone = rect(-5.0, -5.0, 105.0, 35.0);
    let blocks = s.blocks(&zone);
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0].parcels.len(), 3);
    assert!((blocks[0].area_m2 - 999.7).abs() < 1e-6, "{}", blocks[0].area_m2);
    assert_eq!(blocks[1].parcels, vec!["78440000AB0004".to_string()]);
}

#[test]
fn perimeters_merge_and_count_managed_areas() {
    use domania_engine::PerimeterDef;
    let s = snap();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/rules.toml")).unwrap();
    let rules = domania_rules::Rules::new(toml::from_str(&text).unwrap()).unwrap();
    let defs = vec![
        PerimeterDef { id: "bailleur".into(), owners: vec!["bailleur_social".into()], ..PerimeterDef::default() },
        PerimeterDef { id: "commune".into(), parcels: vec!["78440000AB0003".into()], ..PerimeterDef::default() },
        PerimeterDef { id: "both".into(), merge: vec!["bailleur".into(), "commune".into()], ..PerimeterDef::default() },
    ];
    let built = s.perimeters(&defs).unwrap();
    assert!((geo::Area::unsigned_area(&built[2].1) - 700.0).abs() < 1e-6);
    let (_, report) = s.assign_with_geometry(&rules, jiff::civil::date(2025, 6, 1), OverlayOptions::default());
    let f = s.perimeter_figures(&report, &built[2].1);
    assert!((f.in_subsectors_m2 - 700.0).abs() < 1e-6 && f.outside_subsectors_m2 < 1e-6, "{f:?}");
    let m = f.managed_m2;
    // Bailleur 50 %, CU 30 %, commune 20 %: shared, no delegation: each manages its own land.
    assert!((m["cleaning"][&Actor::BailleurSocial] - 500.0).abs() < 1e-6);
    assert!((m["cleaning"][&Actor::Commune] - 200.0).abs() < 1e-6);
    assert!(!m["cleaning"].contains_key(&Actor::CommunauteUrbaine));
    assert!((m["waste"][&Actor::CommunauteUrbaine] - 700.0).abs() < 1e-6);
    let bad = vec![PerimeterDef { id: "x".into(), merge: vec!["later".into()], ..PerimeterDef::default() }];
    assert!(s.perimeters(&bad).unwrap_err().to_string().contains("no earlier perimeter later"));
}

fn rules() -> domania_rules::Rules {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/rules.toml")).unwrap();
    domania_rules::Rules::new(toml::from_str(&text).unwrap()).unwrap()
}

#[test]
fn a_cut_parcel_counts_only_real_manager_changes_and_the_street_is_not_transferred() {
    let s = snap();
    // A polygon over the bailleur's 40-50 m, the CU's 50-60 m and 5 m of street below the block.
    let t = vec![Transfer {
        idu: None,
        polygon: Some(vec![[40.0, -5.0], [60.0, -5.0], [60.0, 10.0], [40.0, 10.0]]),
        to: to(Actor::Commune),
        note: String::new(),
    }];
    let r = s.scenario(&t, &rules(), jiff::civil::date(2025, 6, 1), OverlayOptions::default()).unwrap();
    let tr = &r.transfers[0];
    assert_eq!(tr.parcels, ["78440000AB0001", "78440000AB0002"]);
    assert!((tr.land_m2 - 200.0).abs() < 1e-6 && (tr.non_cadastre_left_m2 - 100.0).abs() < 1e-6, "{tr:?}");
    assert!(tr.note.contains("not transferred"), "{}", tr.note);
    // Only the two parts given to the commune change managers, and only where the service
    // really differs: never the remainders, never waste (the CU's everywhere).
    assert!(!r.managers_changed.is_empty());
    for c in &r.managers_changed {
        assert!(c.space.ends_with("/1"), "{c:?}");
        assert_ne!(c.before, c.after, "{c:?}");
        assert_ne!(c.intervention, "waste");
        assert!((c.area_m2 - 100.0).abs() < 1e-6);
    }
    let kinds = rules().config().interventions.len();
    assert!(r.managers_changed.len() < 2 * kinds, "{} changes", r.managers_changed.len());
    // The shares moved: bailleur 50 → 40 %, commune 20 → 40 %.
    let z = &r.subsectors_changed[0];
    assert!(
        (z.shares_after[&Actor::Commune] - 0.4).abs() < 1e-9 && (z.shares_before[&Actor::Commune] - 0.2).abs() < 1e-9
    );
}

#[test]
fn blocks_are_connected_inside_the_zone_not_through_land_outside_it() {
    let mut p = parts();
    // Two parcels inside the zone, 20 m apart, joined by a third that lies outside it.
    p.parcels = vec![
        ParcelRec { idu: "78440000AB0001".into(), contenance: None, geom_l93: rect(0.0, 0.0, 40.0, 20.0) },
        ParcelRec { idu: "78440000AB0002".into(), contenance: None, geom_l93: rect(60.0, 0.0, 100.0, 20.0) },
        ParcelRec { idu: "78440000AB0003".into(), contenance: None, geom_l93: rect(40.0, 12.0, 60.0, 20.0) },
    ];
    p.holdings = vec![holding(Actor::Commune), holding(Actor::Commune), holding(Actor::Commune)];
    let s = p.build();
    let blocks = s.blocks(&rect(0.0, 0.0, 100.0, 10.0));
    assert_eq!(blocks.len(), 2, "{blocks:?}");
    for b in &blocks {
        assert_eq!(b.geom_l93.0.len(), 1, "a block is one piece inside the zone");
        assert!((b.area_m2 - 400.0).abs() < 1e-6);
    }
}

#[test]
fn perimeters_count_overlapping_sub_sectors_once_and_state_the_land_outside_them() {
    use domania_engine::PerimeterDef;
    let mut p = parts();
    // Two sub-sectors overlapping on 40-60 m, and a perimeter running 20 m past the block.
    p.subsectors = vec![
        Zone { key: "A".into(), name: None, geom_l93: rect(0.0, 0.0, 60.0, 10.0) },
        Zone { key: "B".into(), name: None, geom_l93: rect(40.0, 0.0, 100.0, 10.0) },
    ];
    let s = p.build();
    let (_, report) = s.assign_with_geometry(&rules(), jiff::civil::date(2025, 6, 1), OverlayOptions::default());
    let defs = vec![PerimeterDef {
        id: "p".into(),
        polygon: Some(vec![[0.0, 0.0], [100.0, 0.0], [100.0, 30.0], [0.0, 30.0]]),
        ..PerimeterDef::default()
    }];
    let built = s.perimeters(&defs).unwrap();
    let f = s.perimeter_figures(&report, &built[0].1);
    assert!((f.area_m2 - 3000.0).abs() < 1e-6);
    assert!((f.in_subsectors_m2 - 1000.0).abs() < 1e-6, "{f:?}");
    assert!((f.outside_subsectors_m2 - 2000.0).abs() < 1e-6, "{f:?}");
    for (kind, actors) in &f.managed_m2 {
        let total: f64 = actors.values().sum();
        // Never above the land it covers: the 200 m² overlap once, not twice.
        assert!((total - f.in_subsectors_m2).abs() < 1e-6, "{kind}: {total} m² managed in {} m²", f.in_subsectors_m2);
    }
}

#[test]
fn a_snapshot_can_be_shared_between_threads() {
    fn shared<T: Send + Sync + 'static>() {}
    shared::<Snapshot>();
    shared::<std::sync::Arc<Snapshot>>();
}

/// A row of ten 100 x 10 m blocks like `parts()`, one sub-sector each, side by side.
fn town() -> Snapshot {
    let (mut parcels, mut holdings, mut subsectors) = (Vec::new(), Vec::new(), Vec::new());
    for b in 0..10 {
        let x = f64::from(b) * 120.0;
        for (i, &(a, e, actor)) in
            [(0.0, 50.0, Actor::BailleurSocial), (50.0, 80.0, Actor::CommunauteUrbaine), (80.0, 100.0, Actor::Commune)]
                .iter()
                .enumerate()
        {
            parcels.push(ParcelRec {
                idu: format!("78440000B{b}000{}", i + 1),
                contenance: None,
                geom_l93: rect(x + a, 0.0, x + e, 10.0),
            });
            holdings.push(holding(actor));
        }
        subsectors.push(Zone { key: format!("S{b}"), name: None, geom_l93: rect(x, -5.0, x + 110.0, 15.0) });
    }
    Snapshot::from_parts(parcels, holdings, subsectors, vec![], vec![]).unwrap()
}

#[test]
fn a_scenario_recomputes_only_what_it_touches_and_finds_what_the_whole_copy_finds() {
    let base = town();
    let rules = rules();
    let date = jiff::civil::date(2025, 6, 1);
    let opts = OverlayOptions::default();
    let t = vec![
        Transfer {
            idu: Some("78440000B30002".into()),
            polygon: None,
            to: to(Actor::BailleurSocial),
            note: String::new(),
        },
        Transfer {
            idu: None,
            polygon: Some(vec![[7.0 * 120.0 + 60.0, -2.0], [7.0 * 120.0 + 100.0, -2.0], [7.0 * 120.0 + 100.0, 12.0]]),
            to: to(Actor::CommunauteUrbaine),
            note: String::new(),
        },
    ];
    let report = base.scenario(&t, &rules, date, opts).unwrap();
    // The same comparison on whole copies of the territory.
    let (_, before) = base.assign(&rules, date, opts);
    let (_, after) = base.with_transfers(&t).unwrap().assign(&rules, date, opts);
    let changed: Vec<&str> = before
        .decisions
        .iter()
        .zip(&after.decisions)
        .filter(|(b, a)| b.reason != a.reason)
        .map(|(b, _)| b.subsector.as_str())
        .collect();
    assert_eq!(changed, ["S3", "S7"]);
    let found: Vec<&str> = report.subsectors_changed.iter().map(|c| c.subsector.as_str()).collect();
    assert_eq!(found, changed);
    for c in &report.subsectors_changed {
        let i = before.decisions.iter().position(|d| d.subsector == c.subsector).unwrap();
        assert_eq!(c.decision_before, before.decisions[i].reason);
        assert_eq!(c.decision_after, after.decisions[i].reason);
    }
    // The manager changes are those of the whole copies: every (space, intervention) whose
    // service or responsible actor differs, a cut part `IDU/n` compared with its parcel.
    let service = |a: &domania_rules::Assignment| (a.service.as_ref().map(|s| s.id.clone()), a.actor);
    let mut whole: Vec<(String, String, String)> = Vec::new();
    for s in &after.spaces {
        let id = domania_engine::space_id(&s.space);
        let origin = id.split('/').next().unwrap_or(id);
        let old =
            before.spaces.iter().find(|b| b.subsector == s.subsector && domania_engine::space_id(&b.space) == origin);
        for a in s.assignments.iter() {
            let was = old.and_then(|b| b.assignments.iter().find(|x| x.intervention == a.intervention)).map(service);
            if was != Some(service(a)) {
                whole.push((s.subsector.clone(), id.to_owned(), a.intervention.clone()));
            }
        }
    }
    let mut found: Vec<(String, String, String)> = report
        .managers_changed
        .iter()
        .map(|m| (m.subsector.clone(), m.space.clone(), m.intervention.clone()))
        .collect();
    whole.sort();
    found.sort();
    assert!(!found.is_empty());
    assert_eq!(found, whole);
    // An unknown parcel is still refused.
    let bad = vec![Transfer {
        idu: Some("78440000ZZ9999".into()),
        polygon: None,
        to: to(Actor::Commune),
        note: String::new(),
    }];
    assert!(base.scenario(&bad, &rules, date, opts).unwrap_err().to_string().contains("not in the store"));
}

//! The rule's edges, on overlays computed for real (squares in Lambert-93 metres).

use domania_core::Actor;
use domania_core::overlay::{OverlayOptions, overlay};
use domania_core::shares::{Holding, OwnerRef, ZoneShares, zone_shares};
use domania_i18n::Lang::En;
use domania_rules::{Decision, RuleKind, Rules, RulesConfig, SpaceKind};
use geo_types::{MultiPolygon, Rect};

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    MultiPolygon::new(vec![Rect::new((x0, y0), (x1, y1)).to_polygon()])
}

fn example() -> Rules {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/rules.toml")).unwrap();
    let cfg: RulesConfig = toml::from_str(&text).unwrap();
    Rules::new(cfg).unwrap()
}

fn holding(actor: Option<Actor>) -> Holding {
    Holding::of(
        actor
            .map(|a| vec![OwnerRef { siren: a.as_str().into(), name: a.as_str().into(), actor: a }])
            .unwrap_or_default(),
    )
}

/// A 100 × 10 m sub-sector with a 10 m street on its east; parcels are 10 m slices of the
/// first 90 m, owned as `owners` says (one entry per slice).
fn shares(owners: &[Option<Actor>], include_nc: bool) -> ZoneShares {
    let parcels: Vec<_> = (0..owners.len()).map(|i| rect(i as f64 * 10.0, 0.0, i as f64 * 10.0 + 10.0, 10.0)).collect();
    let holdings: Vec<_> = owners.iter().map(|a| holding(*a)).collect();
    let o = overlay(&parcels, &[rect(0.0, 0.0, 100.0, 10.0)], OverlayOptions::default());
    zone_shares(&o.zones[0], &holdings, include_nc)
}

use Actor::{BailleurSocial as B, CommunauteUrbaine as U, Commune as C};

#[test]
fn exactly_sixty_percent_is_not_enough() {
    let r = example();
    // 10 slices: 6 bailleur, 4 CU -> 60.0 % exactly.
    let s = shares(&[Some(B), Some(B), Some(B), Some(B), Some(B), Some(B), Some(U), Some(U), Some(U), Some(U)], false);
    let d = r.decide_subsector("S1", &s);
    assert_eq!(d.decision, Decision::Domanialite);
    assert!(d.needs_convention);
    assert!(d.reason.said(En).contains("60.0%"), "{}", d.reason.said(En));
    // 7 of 10: delegated.
    let s = shares(&[Some(B), Some(B), Some(B), Some(B), Some(B), Some(B), Some(B), Some(U), Some(U), Some(U)], false);
    let d = r.decide_subsector("S1", &s);
    assert!(matches!(d.decision, Decision::Delegated { actor: B, .. }), "{d:?}");
    assert!(d.reason.said(En).contains("70.0% of its cadastré land > 60.0%"), "{}", d.reason.said(En));
}

#[test]
fn non_cadastre_in_the_denominator_is_a_setting() {
    // 7 bailleur + 2 CU slices out of 9 parcels (90 m) + 10 m street: 77.8 % of the land,
    // 70 % of the sub-sector.
    let owners = [Some(B), Some(B), Some(B), Some(B), Some(B), Some(B), Some(B), Some(U), Some(U)];
    let mut cfg = example().config().clone();
    cfg.delegation.threshold = 0.75;
    let land = Rules::new(cfg.clone()).unwrap();
    assert!(matches!(land.decide_subsector("S", &shares(&owners, false)).decision, Decision::Delegated { .. }));
    cfg.delegation.include_non_cadastre = true;
    let whole = Rules::new(cfg).unwrap();
    assert_eq!(whole.decide_subsector("S", &shares(&owners, true)).decision, Decision::Domanialite);
}

#[test]
fn no_eligible_actor_and_a_single_one() {
    let r = example();
    let d = r.decide_subsector("S2", &shares(&[Some(C), None, None], false));
    assert_eq!((d.decision.clone(), d.needs_convention), (Decision::Domanialite, false));
    assert!(d.reason.said(En).contains("none of bailleur_social / communaute_urbaine"), "{}", d.reason.said(En));
    let d = r.decide_subsector("S2", &shares(&[Some(B), Some(B), None], false));
    assert_eq!((d.decision.clone(), d.needs_convention), (Decision::Domanialite, false));
}

#[test]
fn three_actors_none_above_the_threshold() {
    let r = example();
    let s = shares(&[Some(B), Some(B), Some(B), Some(B), Some(B), Some(U), Some(U), Some(U), Some(C), Some(C)], false);
    let d = r.decide_subsector("S3", &s);
    assert_eq!(d.decision, Decision::Domanialite);
    assert!(d.needs_convention);
    // Each space then goes to its owner's service; waste stays with the CU.
    let a = r.assign(&d, &SpaceKind::Parcel { idu: "x".into(), actor: C }, &[], jiff::civil::date(2025, 6, 1));
    let get = |k: &str| a.iter().find(|x| x.intervention == k).unwrap();
    assert_eq!(get("cleaning").service.as_ref().unwrap().id, "commune-st");
    assert_eq!(get("waste").service.as_ref().unwrap().id, "cu-dechets");
    assert_eq!(get("waste").rule, RuleKind::Fixed);
}

#[test]
fn a_sub_sector_entirely_non_cadastre() {
    let r = example();
    let s = shares(&[], false);
    assert!((s.non_cadastre_m2 - 1000.0).abs() < 1e-9);
    let d = r.decide_subsector("S4", &s);
    assert_eq!(d.decision, Decision::Domanialite);
    let a = r.assign(&d, &SpaceKind::NonCadastre, &[], jiff::civil::date(2025, 6, 1));
    assert!(a.iter().all(|x| x.actor == U), "{a:?}");
    let light = a.iter().find(|x| x.intervention == "lighting").unwrap();
    assert_eq!(light.service.as_ref().unwrap().id, "cu-eclairage");
    assert!(
        r.explain_assignment(&light.reason, En).contains("non-cadastré"),
        "{}",
        r.explain_assignment(&light.reason, En)
    );
}

#[test]
fn delegated_sub_sector_and_conventions_in_and_out_of_force() {
    let r = example();
    let s = shares(&[Some(B), Some(B), Some(B), Some(B), Some(B), Some(B), Some(B), Some(B), Some(U)], false);
    let d = r.decide_subsector("QN078001-01", &s);
    let space = SpaceKind::Parcel { idu: "78440000AB0009".into(), actor: U };
    // In force: green spaces to the commune, cleaning to the delegated bailleur.
    let a = r.assign(&d, &space, &["QN078001-01"], jiff::civil::date(2025, 6, 1));
    let gs = a.iter().find(|x| x.intervention == "green_spaces").unwrap();
    assert_eq!((gs.rule, gs.service.as_ref().unwrap().id.as_str()), (RuleKind::Convention, "commune-st"));
    assert!(
        r.explain_assignment(&gs.reason, En).contains("delegated to bailleur_social")
            && r.explain_assignment(&gs.reason, En).contains("convention QN078001-01"),
        "{}",
        r.explain_assignment(&gs.reason, En)
    );
    assert_eq!(
        a.iter().find(|x| x.intervention == "cleaning").unwrap().service.as_ref().unwrap().id,
        "bailleur-agence"
    );
    // Expired: back to the delegated bailleur, and the explanation says why.
    let a = r.assign(&d, &space, &["QN078001-01"], jiff::civil::date(2028, 1, 1));
    let gs = a.iter().find(|x| x.intervention == "green_spaces").unwrap();
    assert_eq!((gs.rule, gs.service.as_ref().unwrap().id.as_str()), (RuleKind::Default, "bailleur-agence"));
}

#[test]
fn overlapping_conventions_follow_the_documented_precedence() {
    let mut cfg = example().config().clone();
    let mut later = cfg.conventions[0].clone();
    later.id = "C-2025-02".into();
    later.valid_from = jiff::civil::date(2025, 2, 1);
    later.service = "cu-ctc-seine-aval".into();
    cfg.conventions.push(later);
    let r = Rules::new(cfg).unwrap();
    let d = r.decide_subsector("S", &shares(&[Some(C)], false));
    let here = ["QN078001-01", "C-2025-02"];
    let space = SpaceKind::Parcel { idu: "x".into(), actor: C };
    let gs = |date: jiff::civil::Date| {
        r.assign(&d, &space, &here, date).into_iter().find(|x| x.intervention == "green_spaces").unwrap()
    };
    let now = gs(jiff::civil::date(2025, 6, 1));
    assert_eq!(now.service.as_ref().unwrap().id, "cu-ctc-seine-aval");
    assert!(
        r.explain_assignment(&now.reason, En).contains("prevails over QN078001-01"),
        "{}",
        r.explain_assignment(&now.reason, En)
    );
    // Before the later one starts, the older applies.
    assert_eq!(gs(jiff::civil::date(2024, 6, 1)).service.as_ref().unwrap().id, "commune-st");
}

#[test]
fn overlapping_parcels_do_not_inflate_a_share() {
    let r = example();
    // Two bailleur parcels and one CU parcel drawn over one of them: the overlap counts once.
    let parcels = vec![rect(0.0, 0.0, 40.0, 10.0), rect(40.0, 0.0, 70.0, 10.0), rect(30.0, 0.0, 100.0, 10.0)];
    let holdings = vec![holding(Some(B)), holding(Some(B)), holding(Some(U))];
    let o = overlay(&parcels, &[rect(0.0, 0.0, 100.0, 10.0)], OverlayOptions::default());
    assert_eq!(o.overlaps.len(), 2);
    let s = zone_shares(&o.zones[0], &holdings, false);
    assert!((s.cadastre_m2 - 1000.0).abs() < 1e-6);
    assert!((s.by_actor[&B].share - 0.7).abs() < 1e-9);
    assert!(matches!(r.decide_subsector("S", &s).decision, Decision::Delegated { actor: B, .. }));
}

#[test]
fn bad_rules_are_refused_with_the_rule_named() {
    let mut cfg = example().config().clone();
    cfg.defaults[0].service = "nowhere".into();
    let err = Rules::new(cfg).unwrap_err().to_string();
    assert!(err.contains("default rule of communaute_urbaine") && err.contains("nowhere"), "{err}");
    let mut cfg = example().config().clone();
    cfg.delegation.threshold = 60.0;
    assert!(Rules::new(cfg).unwrap_err().to_string().contains("between 0 and 1"));
    let mut cfg = example().config().clone();
    cfg.conventions[0].valid_to = Some(jiff::civil::date(2020, 1, 1));
    assert!(Rules::new(cfg).unwrap_err().to_string().contains("ends"));
}

/// A parcel whose commune no owner file covers.
const UNKNOWN_OWNER: Option<Actor> = Some(Actor::OwnerUnknown);

#[test]
fn unknown_owners_that_could_change_the_decision_leave_it_undecided() {
    let r = example();
    // 5 bailleur, 2 CU, 2 unknown of 9: shared (55.6 %), but 77.8 % if the unknown land is the
    // bailleur's: the rule refuses to decide.
    let s =
        shares(&[Some(B), Some(B), Some(B), Some(B), Some(B), Some(U), Some(U), UNKNOWN_OWNER, UNKNOWN_OWNER], false);
    let d = r.decide_subsector("S", &s);
    assert!(matches!(d.decision, Decision::Undecided { .. }), "{d:?}");
    assert!(!d.needs_convention);
    assert!(
        d.reason.said(En).contains("22.2% of the land (200\u{a0}m²) has an undetermined owner"),
        "{}",
        d.reason.said(En)
    );
    assert!(
        d.reason.said(En).contains("held by bailleur_social 100%, delegated to bailleur_social"),
        "{}",
        d.reason.said(En)
    );
    // Its unknown parcel gets no manager, and says why; the bailleur's keeps its own.
    let a = r.assign(
        &d,
        &SpaceKind::Parcel { idu: "X".into(), actor: Actor::OwnerUnknown },
        &[],
        jiff::civil::date(2025, 1, 1),
    );
    let cleaning = a.iter().find(|x| x.intervention == "cleaning").unwrap();
    assert!(
        cleaning.service.is_none() && r.explain_assignment(&cleaning.reason, En).contains("no manager can be named"),
        "{cleaning:?}"
    );
    let a = r.assign(&d, &SpaceKind::Parcel { idu: "Y".into(), actor: B }, &[], jiff::civil::date(2025, 1, 1));
    assert_eq!(a.iter().find(|x| x.intervention == "cleaning").unwrap().actor, B);

    // 7 bailleur, 1 CU, 1 unknown: delegated whoever holds the unknown slice.
    let s = shares(&[Some(B), Some(B), Some(B), Some(B), Some(B), Some(B), Some(B), Some(U), UNKNOWN_OWNER], false);
    let d = r.decide_subsector("S", &s);
    assert!(matches!(d.decision, Decision::Delegated { actor: B, .. }), "{d:?}");
    assert!(d.reason.said(En).contains("which cannot change this"), "{}", d.reason.said(En));

    // A sub-sector whose land is all of unknown owners: split 70/30 between the bailleur and
    // the CU it would be delegated, so the rule does not decide.
    let s = shares(&[UNKNOWN_OWNER, UNKNOWN_OWNER, UNKNOWN_OWNER], false);
    let d = r.decide_subsector("S", &s);
    assert!(matches!(d.decision, Decision::Undecided { .. }), "{d:?}");
}

#[test]
fn convention_dates_are_real_days() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/rules.toml")).unwrap();
    assert!(text.contains("valid_from = \"2024-01-01\""));
    for bad in ["2024-13-45", "2023-02-29", "yesterday"] {
        let e = toml::from_str::<RulesConfig>(&text.replace("2024-01-01", bad)).unwrap_err();
        assert!(e.to_string().contains("valid_from"), "{bad}: {e}");
    }
    let ok: RulesConfig = toml::from_str(&text).unwrap();
    assert_eq!(ok.conventions[0].valid_from, jiff::civil::date(2024, 1, 1));
}

/// Words a French reader must never meet in an explanation: raw identifiers and English.
const NOT_FRENCH: [&str; 14] = [
    "bailleur_social",
    "communaute_urbaine",
    "green_spaces",
    "street_furniture",
    "sub-sector",
    "delegated",
    "held by",
    "holds",
    "needed",
    "always goes",
    "default service",
    "undetermined",
    "prevails",
    "not in force",
];

#[test]
fn every_reason_is_said_in_french_without_an_identifier_and_in_english_as_before() {
    let r = example();
    let fr = domania_i18n::Lang::Fr;
    let mut said = Vec::new();
    // Delegated, shared, only one, none, undecided, unchanged.
    let cases: [&[Option<Actor>]; 6] = [
        &[Some(B), Some(B), Some(B), Some(B), Some(B), Some(B), Some(B), Some(B), Some(U)],
        &[Some(B), Some(B), Some(B), Some(B), Some(B), Some(U), Some(U), Some(U), Some(U)],
        &[Some(B), Some(C), Some(C)],
        &[Some(C), Some(C)],
        &[Some(B), Some(B), Some(B), Some(B), Some(B), Some(U), Some(U), UNKNOWN_OWNER, UNKNOWN_OWNER],
        &[Some(B), Some(B), Some(B), Some(B), Some(B), Some(B), Some(B), Some(U), UNKNOWN_OWNER],
    ];
    for owners in cases {
        let d = r.decide_subsector("QN078001-01", &shares(owners, false));
        said.push((d.reason.said(fr), d.reason.said(En)));
        // Every rule of assignment on a parcel and on the non-cadastré space, with the
        // conventions of the example in and out of force.
        for space in [SpaceKind::Parcel { idu: "78440000AB0009".into(), actor: U }, SpaceKind::NonCadastre] {
            for date in [jiff::civil::date(2025, 6, 1), jiff::civil::date(2031, 1, 1)] {
                for a in r.assign(&d, &space, &["QN078001-01", "QN078001-03"], date) {
                    said.push((r.explain_assignment(&a.reason, fr), r.explain_assignment(&a.reason, En)));
                }
            }
        }
    }
    let unknown = r.assign_outside(
        &SpaceKind::Parcel { idu: "X".into(), actor: Actor::OwnerUnknown },
        &[],
        jiff::civil::date(2025, 6, 1),
    );
    for a in &unknown {
        said.push((r.explain_assignment(&a.reason, fr), r.explain_assignment(&a.reason, En)));
    }
    for (french, english) in &said {
        let lower = french.to_lowercase();
        for w in NOT_FRENCH {
            assert!(!lower.contains(w), "{w:?} in a French explanation: {french}");
        }
        assert!(
            !french.contains('⟨') && !english.contains('⟨'),
            "a message missing from a catalogue: {french} / {english}"
        );
        assert_ne!(french, english);
    }
    let all = said.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>().join("\n");
    for expected in [
        "gestion déléguée à « Bailleur social »",
        "88,9\u{202f}%",
        "une convention est à établir",
        "décision suspendue",
    ] {
        assert!(all.contains(expected), "{expected:?} missing from:\n{all}");
    }
}

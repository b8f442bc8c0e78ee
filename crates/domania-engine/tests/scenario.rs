//! Scenarios: transfers change shares and decisions on a copy, never the original.

use domania_core::Actor;
use domania_core::overlay::OverlayOptions;
use domania_core::shares::{Holding, OwnerRef};
use domania_engine::{NewOwner, ParcelRec, Snapshot, Transfer, Zone, ZoneLayer};
use geo_types::{MultiPolygon, Rect};

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    MultiPolygon::new(vec![Rect::new((x0, y0), (x1, y1)).to_polygon()])
}

fn holding(actor: Actor) -> Holding {
    Holding { owners: vec![OwnerRef { siren: actor.as_str().into(), name: actor.as_str().into(), actor }] }
}

fn snap() -> Snapshot {
    // 100 x 10 m block: bailleur 0-50, CU 50-80, commune 80-100.
    let parcels = [(0.0, 50.0), (50.0, 80.0), (80.0, 100.0)]
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| ParcelRec {
            idu: format!("78440000AB000{}", i + 1),
            contenance: None,
            geom_l93: rect(a, 0.0, b, 10.0),
        })
        .collect();
    Snapshot {
        parcels,
        holdings: vec![holding(Actor::BailleurSocial), holding(Actor::CommunauteUrbaine), holding(Actor::Commune)],
        subsectors: vec![Zone { key: "S".into(), name: None, geom_l93: rect(0.0, 0.0, 100.0, 10.0) }],
        qpv: vec![],
        conventions: vec![],
    }
}

fn to(actor: Actor) -> NewOwner {
    NewOwner { siren: String::new(), name: "new".into(), actor }
}

#[test]
fn whole_parcel_and_polygon_transfers() {
    let base = snap();
    let share = |s: &Snapshot, a: Actor| {
        s.shares(ZoneLayer::Subsectors, false, OverlayOptions::default()).zones[0]
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
    assert_eq!(after.parcels.len(), 4);
    assert_eq!(after.parcels[3].idu, "78440000AB0002/2");
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

//! What a server holding one part of a territory reads: the parcels of its départements or
//! communes, every zone (sub-sector, QPV, convention) that meets them, and — so that the figures
//! of those zones are whole — every parcel that meets a kept zone, even across the border of
//! the part. Owners come with the parcels they hold.

use std::collections::{BTreeSet, HashSet};

use geo_types::MultiPolygon;
use rstar::primitives::Rectangle;
use rstar::{AABB, RTree};

use crate::model::{StoreContents, StoredPerimeter};
use crate::scope::{Scope, ScopeKind};

/// The box of a shape, `None` when it is empty.
fn bbox(mp: &MultiPolygon<f64>) -> Option<AABB<[f64; 2]>> {
    let mut it = mp.0.iter().flat_map(|p| p.exterior().0.iter());
    let first = it.next()?;
    let (mut x0, mut y0, mut x1, mut y1) = (first.x, first.y, first.x, first.y);
    for c in it {
        (x0, y0, x1, y1) = (x0.min(c.x), y0.min(c.y), x1.max(c.x), y1.max(c.y));
    }
    Some(AABB::from_corners([x0, y0], [x1, y1]))
}

/// Whether a row key is in `scope` (a layer-wide scope holds every key).
#[must_use]
pub fn holds(scope: &Scope, key: &str) -> bool {
    match &scope.codes {
        None => true,
        Some(codes) => scope.kind.code_of(key).is_some_and(|c| codes.contains(c)),
    }
}

/// The départements a scope lies in (`None`: every one).
#[must_use]
pub fn departements(scope: &Scope) -> Option<BTreeSet<String>> {
    let codes = scope.codes.as_ref()?;
    match scope.kind {
        ScopeKind::Layer => None,
        _ => Some(codes.iter().filter_map(|c| ScopeKind::Departement.code_of(c).map(str::to_owned)).collect()),
    }
}

/// Keeps of `c` what a server of `scope` serves (see the module's documentation).
#[must_use]
pub fn restrict(mut c: StoreContents, scope: &Scope) -> StoreContents {
    if scope.codes.is_none() {
        return c;
    }
    let inside: RTree<Rectangle<[f64; 2]>> = RTree::bulk_load(
        c.parcels
            .iter()
            .filter(|p| holds(scope, &p.idu))
            .filter_map(|p| bbox(&p.geom_l93))
            .map(Rectangle::from_aabb)
            .collect(),
    );
    let meets = |z: &StoredPerimeter| {
        bbox(&z.geom_l93).is_some_and(|b| inside.locate_in_envelope_intersecting(b).next().is_some())
    };
    c.subsectors.retain(|z| meets(z));
    c.qpv.retain(|z| meets(z));
    let zones: RTree<Rectangle<[f64; 2]>> = RTree::bulk_load(
        c.subsectors.iter().chain(&c.qpv).filter_map(|z| bbox(&z.geom_l93)).map(Rectangle::from_aabb).collect(),
    );
    c.parcels.retain(|p| {
        holds(scope, &p.idu)
            || bbox(&p.geom_l93).is_some_and(|b| zones.locate_in_envelope_intersecting(b).next().is_some())
    });
    let kept: RTree<Rectangle<[f64; 2]>> =
        RTree::bulk_load(c.parcels.iter().filter_map(|p| bbox(&p.geom_l93)).map(Rectangle::from_aabb).collect());
    c.conventions
        .retain(|z| bbox(&z.geom_l93).is_some_and(|b| kept.locate_in_envelope_intersecting(b).next().is_some()));
    let idus: HashSet<&str> = c.parcels.iter().map(|p| p.idu.as_str()).collect();
    c.owner_rights.retain(|r| idus.contains(r.idu.as_str()));
    c.street_addresses.retain(|(idu, _)| idus.contains(idu.as_str()));
    let communes: HashSet<&str> = c.parcels.iter().filter_map(|p| p.idu.get(0..5)).collect();
    c.owner_coverage.retain(|k| communes.contains(k.as_str()));
    c.addresses.retain(|a| communes.contains(a.commune.as_str()));
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StoredParcel;
    use geo_types::polygon;

    fn square(x: f64) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![polygon![(x: x, y: 0.0), (x: x + 10.0, y: 0.0), (x: x + 10.0, y: 10.0), (x: x, y: 0.0)]])
    }

    fn parcel(idu: &str, x: f64) -> StoredParcel {
        StoredParcel { idu: idu.into(), contenance: None, geom_l93: square(x), v_from: 1, fid: (x * 10.0) as i64 }
    }

    fn zone(key: &str, x0: f64, x1: f64) -> StoredPerimeter {
        let g = MultiPolygon::new(vec![polygon![(x: x0, y: 0.0), (x: x1, y: 0.0), (x: x1, y: 10.0), (x: x0, y: 0.0)]]);
        StoredPerimeter { key: key.into(), name: None, properties_json: String::new(), geom_l93: g }
    }

    #[test]
    fn a_zone_across_the_border_comes_whole_and_the_rest_stays_out() {
        let c = StoreContents {
            parcels: vec![
                parcel("78440000AB0001", 0.0),
                parcel("95001000AB0001", 20.0),
                parcel("95001000AB0002", 100.0),
            ],
            subsectors: vec![zone("S1", 0.0, 25.0), zone("S2", 95.0, 120.0)],
            owner_coverage: ["78440", "95001"].into_iter().map(str::to_owned).collect(),
            ..StoreContents::default()
        };
        let scope: Scope = "departement=78".parse().unwrap();
        assert_eq!(departements(&scope).unwrap().into_iter().collect::<Vec<_>>(), ["78"]);
        let r = restrict(c, &scope);
        // S1 straddles 78 and 95: it is served, with its parcel of 95; S2 (95 only) is not.
        assert_eq!(r.subsectors.iter().map(|z| z.key.as_str()).collect::<Vec<_>>(), ["S1"]);
        assert_eq!(r.parcels.iter().map(|p| p.idu.as_str()).collect::<Vec<_>>(), ["78440000AB0001", "95001000AB0001"]);
        assert_eq!(r.owner_coverage.len(), 2);
        let communes: Scope = "commune=95001".parse().unwrap();
        assert!(holds(&communes, "95001000AB0001") && !holds(&communes, "78440000AB0001"));
    }
}

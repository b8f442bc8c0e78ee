//! Shares of land by actor and by owner in each zone, from an [`Overlay`](crate::overlay).
//!
//! A parcel held by several owners (right `P`) counts for each of them in equal parts: the PPM
//! file gives no quote-parts. A parcel with no legal-person owner is held by natural persons
//! ([`Actor::Private`]). The non-cadastré remainder is reported apart.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Actor;
use crate::overlay::ZoneOverlay;

/// One owner of a parcel, already classified.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct OwnerRef {
    pub siren: String,
    pub name: String,
    pub actor: Actor,
}

impl OwnerRef {
    /// The owner with the actor `classifier` gives it.
    #[must_use]
    pub fn classified(owner: &crate::Owner, classifier: &crate::Classifier) -> Self {
        Self { siren: owner.siren.0.clone(), name: owner.name.clone(), actor: classifier.classify(owner).actor }
    }
}

/// Who holds a parcel: its distinct owners (empty: natural persons).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Holding {
    pub owners: Vec<OwnerRef>,
}

/// The holdings of the parcels `idus` (in that order) from rights `(IDU, owner)`: each parcel's
/// distinct owners, sorted; a parcel with none is held by natural persons.
#[must_use]
pub fn holdings_from_rights<S: AsRef<str>>(
    idus: impl IntoIterator<Item = S>,
    rights: impl IntoIterator<Item = (String, OwnerRef)>,
) -> Vec<Holding> {
    let mut by_idu: BTreeMap<String, std::collections::BTreeSet<OwnerRef>> = BTreeMap::new();
    for (idu, owner) in rights {
        by_idu.entry(idu).or_default().insert(owner);
    }
    idus.into_iter()
        .map(|idu| Holding { owners: by_idu.remove(idu.as_ref()).map(|s| s.into_iter().collect()).unwrap_or_default() })
        .collect()
}

/// Land of one actor in a zone.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ActorShare {
    pub area_m2: f64,
    /// Fiscal contenance of the same land, prorated by area for cut parcels (0 for parcels
    /// without contenance).
    pub contenance_m2: f64,
    /// Parcels with at least a part held by this actor.
    pub parcels: usize,
    /// Share of the zone (see [`ZoneShares::denominator_m2`]).
    pub share: f64,
}

/// Land of one owner in a zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OwnerShare {
    pub actor: Actor,
    /// Empty for natural persons.
    pub siren: String,
    pub name: String,
    pub parcels: usize,
    pub area_m2: f64,
    /// See [`ActorShare::contenance_m2`].
    pub contenance_m2: f64,
    pub share: f64,
}

/// Shares of one zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZoneShares {
    pub zone: usize,
    pub area_m2: f64,
    pub cadastre_m2: f64,
    /// Fiscal contenance of the cadastré land (see [`ActorShare::contenance_m2`]).
    pub contenance_m2: f64,
    /// Pieces of parcels that have no contenance.
    pub parcels_without_contenance: usize,
    pub non_cadastre_m2: f64,
    /// Area the shares are fractions of: the zone's area, or its cadastré part only.
    pub denominator_m2: f64,
    pub non_cadastre_share: f64,
    pub by_actor: BTreeMap<Actor, ActorShare>,
    pub by_owner: Vec<OwnerShare>,
    pub parcels: usize,
}

/// Computes the shares of a zone. `holdings[i]` is the holding of parcel `i` of the overlay's
/// input; `include_non_cadastre` decides the denominator.
#[must_use]
pub fn zone_shares(zone: &ZoneOverlay, holdings: &[Holding], include_non_cadastre: bool) -> ZoneShares {
    zone_shares_with_contenance(zone, holdings, &[], include_non_cadastre)
}

/// [`zone_shares`], with the fiscal contenance of each parcel (`contenances[i]`, m²) prorated
/// next to the geometric areas.
#[must_use]
pub fn zone_shares_with_contenance(
    zone: &ZoneOverlay,
    holdings: &[Holding],
    contenances: &[Option<f64>],
    include_non_cadastre: bool,
) -> ZoneShares {
    let mut without = 0;
    let mut by_actor: BTreeMap<Actor, ActorShare> = BTreeMap::new();
    let mut by_owner: BTreeMap<(Actor, String, String), OwnerShare> = BTreeMap::new();
    let private = [OwnerRef { siren: String::new(), name: String::new(), actor: Actor::Private }];
    for piece in &zone.pieces {
        let owners: &[OwnerRef] = match holdings.get(piece.parcel) {
            Some(h) if !h.owners.is_empty() => &h.owners,
            _ => &private,
        };
        let part = piece.area_m2 / owners.len() as f64;
        let fiscal = match contenances.get(piece.parcel).copied().flatten() {
            Some(c) if piece.parcel_area_m2 > 0.0 => c * piece.area_m2 / piece.parcel_area_m2 / owners.len() as f64,
            _ => {
                without += 1;
                0.0
            }
        };
        let mut seen_actor: Vec<Actor> = Vec::with_capacity(owners.len());
        for o in owners {
            let a = by_actor.entry(o.actor).or_default();
            a.area_m2 += part;
            a.contenance_m2 += fiscal;
            if !seen_actor.contains(&o.actor) {
                a.parcels += 1;
                seen_actor.push(o.actor);
            }
            let e = by_owner.entry((o.actor, o.siren.clone(), o.name.clone())).or_insert_with(|| OwnerShare {
                actor: o.actor,
                siren: o.siren.clone(),
                name: o.name.clone(),
                parcels: 0,
                area_m2: 0.0,
                contenance_m2: 0.0,
                share: 0.0,
            });
            e.parcels += 1;
            e.area_m2 += part;
            e.contenance_m2 += fiscal;
        }
    }
    let cadastre_m2 = zone.cadastre_m2();
    let denominator_m2 = if include_non_cadastre { zone.area_m2 } else { cadastre_m2 };
    let frac = |a: f64| if denominator_m2 > 0.0 { a / denominator_m2 } else { 0.0 };
    for a in by_actor.values_mut() {
        a.share = frac(a.area_m2);
    }
    let mut by_owner: Vec<OwnerShare> = by_owner.into_values().collect();
    for o in &mut by_owner {
        o.share = frac(o.area_m2);
    }
    by_owner.sort_by(|x, y| y.area_m2.total_cmp(&x.area_m2));
    ZoneShares {
        zone: zone.zone,
        area_m2: zone.area_m2,
        cadastre_m2,
        contenance_m2: by_actor.values().map(|a| a.contenance_m2).sum(),
        parcels_without_contenance: without,
        non_cadastre_m2: zone.non_cadastre_m2,
        denominator_m2,
        non_cadastre_share: if include_non_cadastre { frac(zone.non_cadastre_m2) } else { 0.0 },
        by_actor,
        by_owner,
        parcels: zone.pieces.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::overlay::Piece;

    fn owner(actor: Actor, siren: &str) -> OwnerRef {
        OwnerRef { siren: siren.into(), name: siren.into(), actor }
    }

    #[test]
    fn shares_split_indivision_and_sum_to_one() {
        let zone = ZoneOverlay {
            zone: 0,
            area_m2: 1000.0,
            pieces: vec![
                Piece { parcel: 0, area_m2: 400.0, whole: true, overlap_m2: 0.0, parcel_area_m2: 400.0 },
                Piece { parcel: 1, area_m2: 200.0, whole: true, overlap_m2: 0.0, parcel_area_m2: 200.0 },
                Piece { parcel: 2, area_m2: 100.0, whole: true, overlap_m2: 0.0, parcel_area_m2: 100.0 },
            ],
            non_cadastre_m2: 300.0,
            slivers: vec![],
        };
        let holdings = vec![
            Holding { owners: vec![owner(Actor::BailleurSocial, "1")] },
            Holding { owners: vec![owner(Actor::BailleurSocial, "1"), owner(Actor::CommunauteUrbaine, "2")] },
            Holding::default(),
        ];
        let s = zone_shares(&zone, &holdings, true);
        assert!((s.by_actor[&Actor::BailleurSocial].area_m2 - 500.0).abs() < 1e-9);
        assert!((s.by_actor[&Actor::CommunauteUrbaine].area_m2 - 100.0).abs() < 1e-9);
        assert!((s.by_actor[&Actor::Private].area_m2 - 100.0).abs() < 1e-9);
        let total: f64 = s.by_actor.values().map(|a| a.share).sum::<f64>() + s.non_cadastre_share;
        assert!((total - 1.0).abs() < 1e-12);
        let s2 = zone_shares(&zone, &holdings, false);
        assert!((s2.by_actor.values().map(|a| a.share).sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((s2.by_actor[&Actor::BailleurSocial].share - 500.0 / 700.0).abs() < 1e-12);
        assert_eq!(s.by_owner[0].siren, "1");
        assert_eq!(s.by_owner[0].parcels, 2);
    }
}

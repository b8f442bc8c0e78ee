//! Shares of land by actor and by owner in each zone, from an [`Overlay`](crate::overlay).
//!
//! Every square metre counts once, under one actor: the parcel's actor ([`Holding::actor`]).
//! A parcel held by owners of different actors counts under [`Actor::Indivision`] — as `parcel`,
//! `assign` and the delegated-management rule see it — and, in the per-owner list, for each
//! co-owner in equal parts (the PPM file gives no quote-parts). A parcel with no legal-person
//! owner is held by natural persons ([`Actor::Private`]) when an owner file covers its commune,
//! and has an unknown owner ([`Actor::OwnerUnknown`]) otherwise. The non-cadastré remainder is
//! reported apart.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::model::Actor;
use crate::overlay::ZoneOverlay;

/// One owner of a parcel, already classified. Its texts are shared: a bailleur holding
/// thousands of parcels is one allocation, and a clone is a reference count.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct OwnerRef {
    pub siren: Arc<str>,
    pub name: Arc<str>,
    pub actor: Actor,
}

impl OwnerRef {
    /// The owner with the actor `classifier` gives it.
    #[must_use]
    pub fn classified(owner: &crate::Owner, classifier: &crate::Classifier) -> Self {
        Self {
            siren: owner.siren.0.as_str().into(),
            name: owner.name.as_str().into(),
            actor: classifier.classify(owner).actor,
        }
    }
}

/// Who holds a parcel: its distinct owners (right `P`), and whether an owner file covers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holding {
    /// Shared: a snapshot made of another by a version of the owners of some communes keeps
    /// the holdings of the others without a copy.
    pub owners: std::sync::Arc<[OwnerRef]>,
    /// An owner file covers the parcel's commune: no owner means natural persons. Without one,
    /// nothing is known of the owner.
    pub covered: bool,
}

impl Default for Holding {
    /// Natural persons, known as such.
    fn default() -> Self {
        Self::none(true)
    }
}

impl Holding {
    /// Held by `owners` (known from an owner file).
    #[must_use]
    pub fn of(owners: Vec<OwnerRef>) -> Self {
        Self { owners: owners.into(), covered: true }
    }

    /// No owner: natural persons when an owner file covers the parcel (`covered`), else
    /// unknown.
    #[must_use]
    pub fn none(covered: bool) -> Self {
        Self { owners: std::sync::Arc::default(), covered }
    }

    /// The parcel's actor: its owners' when they agree, [`Actor::Indivision`] when they do not,
    /// [`Actor::Private`] with no owner in a covered commune, [`Actor::OwnerUnknown`] with no
    /// owner file. The one answer every command gives.
    #[must_use]
    pub fn actor(&self) -> Actor {
        crate::classify::actor_of(self.owners.iter().map(|o| o.actor), self.covered)
    }
}

/// The holdings of the parcels `idus` (in that order) from rights `(IDU, owner)`: each parcel's
/// distinct owners, sorted. `covered(idu)` says whether an owner file covers the parcel: a
/// parcel without owners is then held by natural persons, else its owner is unknown.
#[must_use]
pub fn holdings_from_rights<S: AsRef<str>>(
    idus: impl IntoIterator<Item = S>,
    rights: impl IntoIterator<Item = (String, OwnerRef)>,
    covered: impl Fn(&str) -> bool,
) -> Vec<Holding> {
    let mut by_idu: BTreeMap<String, std::collections::BTreeSet<OwnerRef>> = BTreeMap::new();
    for (idu, owner) in rights {
        by_idu.entry(idu).or_default().insert(owner);
    }
    idus.into_iter()
        .map(|idu| {
            let idu = idu.as_ref();
            match by_idu.remove(idu) {
                Some(s) => Holding::of(s.into_iter().collect()),
                None => Holding::none(covered(idu)),
            }
        })
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
    /// Fraction of the zone's cadastré land.
    pub share_of_cadastre: f64,
    /// Fraction of the zone's whole area, non-cadastré space included.
    pub share_of_area: f64,
}

/// Land of one owner in a zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OwnerShare {
    /// The actor the land counts under: the parcel's ([`Holding::actor`]), so
    /// [`Actor::Indivision`] for an owner's part of a parcel held with owners of other actors.
    pub actor: Actor,
    /// The owner's own actor (its classification).
    pub owner_actor: Actor,
    /// Empty for natural persons.
    pub siren: String,
    pub name: String,
    pub parcels: usize,
    pub area_m2: f64,
    /// See [`ActorShare::contenance_m2`].
    pub contenance_m2: f64,
    pub share: f64,
    pub share_of_cadastre: f64,
    pub share_of_area: f64,
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
    /// The non-cadastré space as a fraction of the denominator (0 when it is the cadastré land).
    pub non_cadastre_share: f64,
    /// The non-cadastré space as a fraction of the zone's whole area.
    pub non_cadastre_share_of_area: f64,
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

/// The name of the owners of a parcel no legal person holds where an owner file covers it: the
/// DGFiP's own words for natural persons. One spelling in every answer (JSON, tables, tiles).
pub const PRIVATE_OWNERS: &str = "personnes physiques";
/// The name of the owner of a parcel no owner file covers.
pub const UNKNOWN_OWNER: &str = "propriétaire inconnu (aucun fichier des propriétaires)";

/// The name of a parcel's owners for a map or a table: its first legal person, else
/// [`PRIVATE_OWNERS`] or [`UNKNOWN_OWNER`].
#[must_use]
pub fn owner_name(holding: &Holding) -> &str {
    match (holding.owners.first(), holding.covered) {
        (Some(o), _) => &o.name,
        (None, true) => PRIVATE_OWNERS,
        (None, false) => UNKNOWN_OWNER,
    }
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
    let mut by_owner: BTreeMap<(Actor, Actor, Arc<str>, Arc<str>), OwnerShare> = BTreeMap::new();
    let private = [OwnerRef { siren: "".into(), name: PRIVATE_OWNERS.into(), actor: Actor::Private }];
    let unknown = [OwnerRef { siren: "".into(), name: UNKNOWN_OWNER.into(), actor: Actor::OwnerUnknown }];
    let natural = Holding::default();
    for piece in &zone.pieces {
        let holding = holdings.get(piece.parcel).unwrap_or(&natural);
        let owners: &[OwnerRef] = match (holding.owners.is_empty(), holding.covered) {
            (false, _) => &holding.owners,
            (true, true) => &private,
            (true, false) => &unknown,
        };
        let fiscal_whole = match contenances.get(piece.parcel).copied().flatten() {
            Some(c) if piece.parcel_area_m2 > 0.0 => c * piece.area_m2 / piece.parcel_area_m2,
            _ => {
                without += 1;
                0.0
            }
        };
        // The whole piece under the parcel's one actor…
        let a = by_actor.entry(holding.actor()).or_default();
        a.area_m2 += piece.area_m2;
        a.contenance_m2 += fiscal_whole;
        a.parcels += 1;
        // …and each co-owner's equal part in the per-owner list.
        let part = piece.area_m2 / owners.len() as f64;
        let fiscal = fiscal_whole / owners.len() as f64;
        let parcel_actor = holding.actor();
        for o in owners {
            let key = (parcel_actor, o.actor, o.siren.clone(), o.name.clone());
            let e = by_owner.entry(key).or_insert_with(|| OwnerShare {
                actor: parcel_actor,
                owner_actor: o.actor,
                siren: o.siren.to_string(),
                name: o.name.to_string(),
                parcels: 0,
                area_m2: 0.0,
                contenance_m2: 0.0,
                share: 0.0,
                share_of_cadastre: 0.0,
                share_of_area: 0.0,
            });
            e.parcels += 1;
            e.area_m2 += part;
            e.contenance_m2 += fiscal;
        }
    }
    let cadastre_m2 = zone.cadastre_m2();
    let denominator_m2 = if include_non_cadastre { zone.area_m2 } else { cadastre_m2 };
    let of = |d: f64, a: f64| if d > 0.0 { a / d } else { 0.0 };
    let frac = |a: f64| of(denominator_m2, a);
    for a in by_actor.values_mut() {
        a.share = frac(a.area_m2);
        a.share_of_cadastre = of(cadastre_m2, a.area_m2);
        a.share_of_area = of(zone.area_m2, a.area_m2);
    }
    let mut by_owner: Vec<OwnerShare> = by_owner.into_values().collect();
    for o in &mut by_owner {
        o.share = frac(o.area_m2);
        o.share_of_cadastre = of(cadastre_m2, o.area_m2);
        o.share_of_area = of(zone.area_m2, o.area_m2);
    }
    by_owner.sort_by(|x, y| y.area_m2.total_cmp(&x.area_m2));
    ZoneShares {
        zone: zone.zone,
        area_m2: zone.area_m2,
        cadastre_m2,
        contenance_m2: by_actor.values().map(|a| a.contenance_m2).sum::<f64>() + 0.0,
        parcels_without_contenance: without,
        non_cadastre_m2: zone.non_cadastre_m2,
        denominator_m2,
        non_cadastre_share: if include_non_cadastre { frac(zone.non_cadastre_m2) } else { 0.0 },
        non_cadastre_share_of_area: of(zone.area_m2, zone.non_cadastre_m2),
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

    /// A 1,000 m² zone: parcels of 400, 200 and 100 m², and 300 m² of street.
    fn three_parcels() -> ZoneOverlay {
        ZoneOverlay {
            zone: 0,
            area_m2: 1000.0,
            pieces: vec![
                Piece { parcel: 0, area_m2: 400.0, whole: true, overlap_m2: 0.0, parcel_area_m2: 400.0 },
                Piece { parcel: 1, area_m2: 200.0, whole: true, overlap_m2: 0.0, parcel_area_m2: 200.0 },
                Piece { parcel: 2, area_m2: 100.0, whole: true, overlap_m2: 0.0, parcel_area_m2: 100.0 },
            ],
            non_cadastre_m2: 300.0,
            slivers: vec![],
        }
    }

    #[test]
    fn indivision_counts_once_under_its_own_actor_and_unknown_owners_stay_unknown() {
        let zone = three_parcels();
        let holdings = vec![
            Holding::of(vec![owner(Actor::BailleurSocial, "1")]),
            Holding::of(vec![owner(Actor::BailleurSocial, "1"), owner(Actor::CommunauteUrbaine, "2")]),
            Holding::none(false),
        ];
        assert_eq!(holdings[1].actor(), Actor::Indivision);
        assert_eq!(holdings[2].actor(), Actor::OwnerUnknown);
        let s = zone_shares(&zone, &holdings, false);
        assert!((s.by_actor[&Actor::BailleurSocial].area_m2 - 400.0).abs() < 1e-9);
        assert!((s.by_actor[&Actor::Indivision].area_m2 - 200.0).abs() < 1e-9);
        assert!((s.by_actor[&Actor::OwnerUnknown].area_m2 - 100.0).abs() < 1e-9);
        assert!(!s.by_actor.contains_key(&Actor::CommunauteUrbaine) && !s.by_actor.contains_key(&Actor::Private));
        // Each square metre once in each list.
        let by_actor: f64 = s.by_actor.values().map(|a| a.area_m2).sum();
        let by_owner: f64 = s.by_owner.iter().map(|o| o.area_m2).sum();
        assert!((by_actor - 700.0).abs() < 1e-9 && (by_owner - 700.0).abs() < 1e-9);
        assert!((s.by_owner.iter().find(|o| o.siren == "2").unwrap().area_m2 - 100.0).abs() < 1e-9);
    }

    #[test]
    fn shares_split_indivision_and_sum_to_one() {
        let zone = three_parcels();
        let holdings = vec![
            Holding::of(vec![owner(Actor::BailleurSocial, "1")]),
            Holding::of(vec![owner(Actor::BailleurSocial, "1"), owner(Actor::BailleurSocial, "2")]),
            Holding::default(),
        ];
        let s = zone_shares(&zone, &holdings, true);
        assert!((s.by_actor[&Actor::BailleurSocial].area_m2 - 600.0).abs() < 1e-9);
        assert!((s.by_actor[&Actor::Private].area_m2 - 100.0).abs() < 1e-9);
        let total: f64 = s.by_actor.values().map(|a| a.share).sum::<f64>() + s.non_cadastre_share;
        assert!((total - 1.0).abs() < 1e-12);
        let s2 = zone_shares(&zone, &holdings, false);
        assert!((s2.by_actor.values().map(|a| a.share).sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((s2.by_actor[&Actor::BailleurSocial].share - 600.0 / 700.0).abs() < 1e-12);
        assert_eq!(s.by_owner[0].siren, "1");
        assert_eq!(s.by_owner[0].parcels, 2);
    }
}

//! Parcels as their readers see them: one parcel with its owners (from the store, with how each
//! owner was classified; or from a held snapshot, as the map and the API show it), and the
//! search of parcels by owner, SIREN, actor, section or box.

use std::collections::BTreeSet;

use domania_core::shares::{Holding, OwnerRef};
use domania_core::{Actor, Confidence, DecidedBy, Idu, Right};
use domania_engine::Snapshot;
use geo::Area;
use serde::Serialize;

use crate::App;
use crate::error::{AppError, ErrorCode, Result};
use crate::held::Held;
use crate::point::Page;
use crate::search::fold;
use crate::table::{Rounded, Row};

/// One parcel: geometric area next to contenance, owners and actor.
#[derive(Debug, Clone, Serialize)]
pub struct ParcelReport {
    pub idu: String,
    /// The version the parcel's current state comes from.
    pub version: i64,
    /// Lambert-93 area, m² (two decimals).
    pub area_m2: f64,
    pub contenance_m2: Option<i64>,
    /// Area minus contenance, m² (two decimals).
    pub gap_m2: Option<f64>,
    pub actor: Actor,
    /// Whether an owner file covers the parcel's commune (without one, its owner is unknown).
    pub owner_file: bool,
    pub owners: Vec<ParcelOwner>,
    pub other_rights: Vec<OtherRight>,
}

/// An owner (right P) of a parcel and how it was classified.
#[derive(Debug, Clone, Serialize)]
pub struct ParcelOwner {
    pub siren: String,
    pub name: String,
    pub actor: Actor,
    pub decided_by: DecidedBy,
    pub confidence: Confidence,
    pub why: String,
}

/// A right other than ownership (usufruct, lease…).
#[derive(Debug, Clone, Serialize)]
pub struct OtherRight {
    pub droit: String,
    pub siren: String,
    pub name: String,
}

/// The error of a parcel that is not in the store: the same words from every front end.
/// An IDU as a person typed it (`91216ab37`, `91216 000 AB 0037`), normalised; the same message
/// for every front end when it is not one.
///
/// # Errors
/// `bad_idu`, saying what an IDU is made of.
pub fn parse_idu(spelled: &str) -> Result<Idu> {
    Idu::normalise(spelled).map_err(|e| {
        AppError::new(ErrorCode::BadIdu, e.to_string())
            .said_but_in_english("error-bad-idu", vec![("text", spelled.into())])
    })
}

pub(crate) fn no_parcel(idu: &str) -> AppError {
    AppError::said(ErrorCode::NotFound, "error-no-parcel", vec![("idu", idu.into())])
}

impl App {
    /// One parcel, by its IDU (already normalised, see [`Idu::normalise`]).
    pub fn parcel(&self, idu: &Idu) -> Result<ParcelReport> {
        let idu = idu.as_str();
        let store = self.open_read()?;
        let p = store.parcel(idu)?.ok_or_else(|| no_parcel(idu))?;
        let rights = store.rights_of(idu)?;
        let area = p.geom_l93.unsigned_area();
        let mut owners = Vec::new();
        let mut refs = BTreeSet::new();
        for r in rights.iter().filter(|r| r.droit == Right::Proprietaire) {
            let c = self.classifier().classify(&r.owner());
            refs.insert(OwnerRef::classified(&r.owner(), self.classifier()));
            owners.push(ParcelOwner {
                siren: r.siren.clone(),
                name: r.denomination.clone(),
                actor: c.actor,
                decided_by: c.decided_by,
                confidence: c.confidence,
                why: c.why,
            });
        }
        let covered = store.owner_file_covers(&p.idu[0..5])?;
        let holding = Holding { owners: refs.into_iter().collect::<Vec<_>>().into(), covered };
        let other_rights = rights
            .iter()
            .filter(|r| r.droit != Right::Proprietaire)
            .map(|r| OtherRight {
                droit: r.droit.code().to_string(),
                siren: r.siren.clone(),
                name: r.denomination.clone(),
            })
            .collect();
        Ok(ParcelReport {
            idu: p.idu.clone(),
            version: p.v_from,
            area_m2: Rounded::<2>(area).value(),
            contenance_m2: p.contenance,
            gap_m2: p.contenance.map(|c| Rounded::<2>(area - c as f64).value()),
            actor: holding.actor(),
            owner_file: covered,
            owners,
            other_rights,
        })
    }
}

/// What a parcel search asks; every criterion given must hold.
#[derive(Debug, Clone, Default)]
pub struct ParcelFilter {
    /// Part of an owner's name, ignoring case and accents.
    pub owner: Option<String>,
    pub siren: Option<String>,
    /// The actor the parcel's land counts under.
    pub actor: Option<Actor>,
    /// `AB` (any commune; `0A` and `A` alike) or `75118AB` (commune and section).
    pub section: Option<String>,
    /// Parcels whose shape meets this box.
    pub bbox_l93: Option<crate::point::Bbox>,
}

/// Whether a section criterion is well formed: 1–2 characters, or a commune and 1–2 characters.
#[must_use]
pub fn section_is_valid(s: &str) -> bool {
    matches!(s.len(), 1 | 2 | 6 | 7) && s.is_ascii()
}

fn section_matches(idu: &str, s: &str) -> bool {
    let (Some(commune), Some(section)) = (idu.get(0..5), idu.get(8..10)) else { return false };
    let same = |a: &str, b: &str| a.trim_start_matches('0') == b.trim_start_matches('0');
    match s.len() {
        1 | 2 => same(section, s),
        6 | 7 => s.get(0..5) == Some(commune) && s.get(5..).is_some_and(|x| same(section, x)),
        _ => false,
    }
}

/// The positions of the parcels meeting `f`, in store order.
#[must_use]
pub fn search_parcels(snap: &Snapshot, f: &ParcelFilter) -> Vec<usize> {
    let owner = f.owner.as_deref().map(fold);
    let section = f.section.as_deref().map(str::to_uppercase);
    let candidates: Vec<usize> = match &f.bbox_l93 {
        Some(b) => snap.parcels_in_box(b.rect).into_iter().filter(|&i| b.meets(&snap.parcels()[i].geom_l93)).collect(),
        None => (0..snap.parcels().len()).collect(),
    };
    candidates
        .into_iter()
        .filter(|&i| {
            let (p, h) = (&snap.parcels()[i], &snap.holdings()[i]);
            section.as_deref().is_none_or(|s| section_matches(&p.idu, s))
                && f.actor.is_none_or(|a| h.actor() == a)
                && f.siren.as_deref().is_none_or(|s| h.owners.iter().any(|o| &*o.siren == s))
                && owner.as_deref().is_none_or(|n| h.owners.iter().any(|o| fold(&o.name).contains(n)))
        })
        .collect()
}

/// An owner as the answers show it.
#[derive(Debug, Serialize)]
pub struct OwnerView<'a> {
    pub siren: &'a str,
    pub name: &'a str,
    pub actor: Actor,
}

/// A parcel as the map and the API show it.
#[derive(Debug, Serialize)]
pub struct ParcelView<'a> {
    pub idu: &'a str,
    pub contenance_m2: Option<i64>,
    pub area_m2: Rounded<2>,
    /// The actor its land counts under.
    pub actor: Actor,
    /// Whether an owner file covers its commune (without one, the owner is unknown).
    pub owner_file: bool,
    /// Owners that are legal persons (right P); none with an owner file means natural persons.
    pub owners: Vec<OwnerView<'a>>,
}

/// What a parcel search asks, as a front end receives it.
#[derive(Debug, Clone, Default)]
pub struct ParcelSearch {
    pub filter: ParcelFilter,
    pub page: Page,
}

/// A page of the parcel search.
#[derive(Debug, Serialize)]
pub struct ParcelPage<'a> {
    pub matched: usize,
    pub offset: usize,
    pub limit: usize,
    pub parcels: Vec<ParcelView<'a>>,
}

/// One row of the parcel search as a table.
#[derive(Debug, Serialize)]
pub struct ParcelRow<'a> {
    pub idu: &'a str,
    pub contenance_m2: Option<i64>,
    pub area_m2: Rounded<2>,
    pub actor: Actor,
    pub owner_file: bool,
    pub owners: String,
}

impl Row for ParcelRow<'_> {
    const HEADER: &'static [&'static str] = &["idu", "contenance_m2", "area_m2", "actor", "owner_file", "owners"];
}

impl ParcelPage<'_> {
    /// The page as a table.
    #[must_use]
    pub fn rows(&self) -> Vec<ParcelRow<'_>> {
        self.parcels
            .iter()
            .map(|v| ParcelRow {
                idu: v.idu,
                contenance_m2: v.contenance_m2,
                area_m2: v.area_m2,
                actor: v.actor,
                owner_file: v.owner_file,
                owners: v.owners.iter().map(|o| format!("{} {}", o.siren, o.name)).collect::<Vec<_>>().join(" | "),
            })
            .collect()
    }
}

impl Held {
    /// The parcel at position `i` of the snapshot, as the answers show it.
    #[must_use]
    pub fn parcel_view(&self, i: usize) -> ParcelView<'_> {
        let p = &self.snapshot.parcels()[i];
        let h: &Holding = &self.snapshot.holdings()[i];
        ParcelView {
            idu: &p.idu,
            contenance_m2: p.contenance,
            area_m2: Rounded(p.geom_l93.unsigned_area()),
            actor: h.actor(),
            owner_file: h.covered,
            owners: h.owners.iter().map(|o| OwnerView { siren: &o.siren, name: &o.name, actor: o.actor }).collect(),
        }
    }

    /// One parcel by its IDU (as typed: it is normalised first).
    pub fn parcel(&self, idu: &str) -> Result<ParcelView<'_>> {
        let idu = parse_idu(idu)?;
        let pos = self.snapshot.position(idu.as_str()).ok_or_else(|| no_parcel(idu.as_str()))?;
        Ok(self.parcel_view(pos))
    }

    /// A page of the parcels meeting a search.
    pub fn parcels(&self, search: &ParcelSearch) -> Result<ParcelPage<'_>> {
        if let Some(s) = search.filter.section.as_deref()
            && !section_is_valid(s)
        {
            return Err(AppError::new(
                ErrorCode::BadSection,
                format!("section {s:?}: AB, or commune and section (75118AB)"),
            ));
        }
        let hits = search_parcels(&self.snapshot, &search.filter);
        let Page { limit, offset } = search.page;
        Ok(ParcelPage {
            matched: hits.len(),
            offset,
            limit,
            parcels: hits.into_iter().skip(offset).take(limit).map(|i| self.parcel_view(i)).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_match_loosely() {
        assert!(section_matches("75118000AB0001", "AB"));
        assert!(section_matches("75118000AB0001", "75118AB"));
        assert!(section_matches("751180000A0001", "A") && section_matches("751180000A0001", "0A"));
        assert!(!section_matches("75118000AB0001", "75117AB"));
        assert!(section_is_valid("AB") && section_is_valid("75118AB") && !section_is_valid("118AB"));
    }
}

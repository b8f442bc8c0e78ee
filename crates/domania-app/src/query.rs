//! Questions about the store's content: one parcel, every owner.

use std::collections::{BTreeMap, BTreeSet};

use domania_core::shares::{Holding, OwnerRef};
use domania_core::{Actor, Confidence, DecidedBy, Idu, Right};
use geo::Area;
use serde::Serialize;

use crate::App;
use crate::error::{AppError, ErrorCode, Result};

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

/// One owner in the `owners` report.
#[derive(Debug, Clone, Serialize)]
pub struct OwnerLine {
    pub siren: String,
    pub name: String,
    pub groupe: Option<u8>,
    pub forme: Option<String>,
    pub actor: Actor,
    pub decided_by: DecidedBy,
    pub confidence: Confidence,
    pub why: String,
    pub parcels: usize,
}

impl crate::table::Row for OwnerLine {
    const HEADER: &'static [&'static str] =
        &["siren", "name", "groupe", "forme", "actor", "decided_by", "confidence", "why", "parcels"];
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl App {
    /// One parcel, by its IDU (already normalised, see [`Idu::normalise`]).
    pub fn parcel(&self, idu: &Idu) -> Result<ParcelReport> {
        let idu = idu.as_str();
        let store = self.open_read()?;
        let p = store.parcel(idu)?.ok_or_else(|| {
            AppError::new(
                ErrorCode::NotFound,
                format!("parcel {idu} is not in the store {}", self.store_path().display()),
            )
        })?;
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
        let holding = Holding { owners: refs.into_iter().collect(), covered };
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
            area_m2: round2(area),
            contenance_m2: p.contenance,
            gap_m2: p.contenance.map(|c| round2(area - c as f64)),
            actor: holding.actor(),
            owner_file: covered,
            owners,
            other_rights,
        })
    }

    /// Every owner (right P) of the store, its actor and which classification layer decided it.
    pub fn owners(&self) -> Result<Vec<OwnerLine>> {
        let store = self.open_read()?;
        let mut by_owner: BTreeMap<(String, String), (domania_store::StoredRight, BTreeSet<String>)> = BTreeMap::new();
        for r in store.rights_with_code(Right::Proprietaire)? {
            let entry = by_owner
                .entry((r.siren.clone(), r.denomination.clone()))
                .or_insert_with(|| (r.clone(), BTreeSet::new()));
            entry.1.insert(r.idu.clone());
        }
        Ok(by_owner
            .into_iter()
            .map(|((siren, name), (r, idus))| {
                let c = self.classifier().classify(&r.owner());
                OwnerLine {
                    siren,
                    name,
                    groupe: r.groupe,
                    forme: r.forme,
                    actor: c.actor,
                    decided_by: c.decided_by,
                    confidence: c.confidence,
                    why: c.why,
                    parcels: idus.len(),
                }
            })
            .collect())
    }
}

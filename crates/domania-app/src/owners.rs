//! Owners: every owner of the store with how it was classified, and one owner's land (its
//! parcels, its area, the same inside each QPV).

use std::collections::{BTreeMap, BTreeSet};

use domania_core::{Actor, Confidence, DecidedBy, Layer, Right};
use domania_engine::Snapshot;
use geo::{Area, BooleanOps, Intersects};
use serde::Serialize;

use crate::App;
use crate::error::{AppError, ErrorCode, Result};
use crate::held::Held;

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

impl App {
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

/// An owner's land: its parcels, its area (its equal part of parcels held with others), and
/// the same inside each QPV.
#[derive(Debug, Clone, Serialize)]
pub struct OwnerLand {
    pub siren: String,
    pub names: Vec<String>,
    pub actor: Actor,
    pub parcels: Vec<String>,
    pub area_m2: f64,
    pub by_qpv: Vec<QpvLand>,
}

/// An owner's land inside one QPV.
#[derive(Debug, Clone, Serialize)]
pub struct QpvLand {
    pub qpv: String,
    pub name: Option<String>,
    pub parcels: usize,
    pub area_m2: f64,
}

/// The land of the owner with this SIREN; `None` when it holds no parcel.
#[must_use]
pub fn owner_land(snap: &Snapshot, siren: &str) -> Option<OwnerLand> {
    let mut land = OwnerLand {
        siren: siren.to_owned(),
        names: Vec::new(),
        actor: Actor::Unknown,
        parcels: Vec::new(),
        area_m2: 0.0,
        by_qpv: Vec::new(),
    };
    let mut positions = Vec::new();
    for (i, (p, h)) in snap.parcels().iter().zip(snap.holdings()).enumerate() {
        if let Some(o) = h.owners.iter().find(|o| &*o.siren == siren) {
            land.parcels.push(p.idu.clone());
            if !land.names.iter().any(|n| n == &*o.name) {
                land.names.push(o.name.to_string());
            }
            land.actor = o.actor;
            land.area_m2 += p.geom_l93.unsigned_area() / h.owners.len() as f64;
            positions.push(i);
        }
    }
    if positions.is_empty() {
        return None;
    }
    for z in snap.zones(Layer::Qpv) {
        let (mut n, mut m2) = (0, 0.0);
        for &i in &positions {
            let p = &snap.parcels()[i];
            if !p.geom_l93.intersects(&z.geom_l93) {
                continue;
            }
            let inside = p.geom_l93.intersection(&z.geom_l93).unsigned_area();
            if inside > domania_core::overlay::SLIVER_M2 {
                n += 1;
                m2 += inside / snap.holdings()[i].owners.len() as f64;
            }
        }
        if n > 0 {
            land.by_qpv.push(QpvLand { qpv: z.key.clone(), name: z.name.clone(), parcels: n, area_m2: m2 });
        }
    }
    Some(land)
}

impl Held {
    /// The land of the owner with this SIREN.
    pub fn owner(&self, siren: &str) -> Result<OwnerLand> {
        owner_land(&self.snapshot, siren)
            .ok_or_else(|| AppError::new(ErrorCode::NotFound, format!("no parcel of SIREN {siren} in the store")))
    }
}

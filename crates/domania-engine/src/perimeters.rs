//! Procedure perimeters: built from polygons, parcels, owners, sub-sectors and earlier
//! perimeters, and the area each actor manages there per intervention kind (the CLECT figures).

use std::collections::BTreeMap;

use domania_core::Actor;
use geo::BooleanOps;
use geo_types::MultiPolygon;
use serde::Serialize;

use crate::assign::AssignReport;
use crate::error::ScenarioError;
use crate::geometry::{boxes_meet, ring_shape};
use crate::snapshot::{Snapshot, Zone};

/// A procedure perimeter, defined from any mix of a polygon, parcels, owners' residences,
/// sub-sectors and earlier perimeters (merged): the union of them all.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PerimeterDef {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// A Lambert-93 ring of `[x, y]`.
    #[serde(default)]
    pub polygon: Option<Vec<[f64; 2]>>,
    /// IDUs.
    #[serde(default)]
    pub parcels: Vec<String>,
    /// SIRENs: every parcel these owners hold (a bailleur's residences).
    #[serde(default)]
    pub owners: Vec<String>,
    /// Sub-sector keys.
    #[serde(default)]
    pub subsectors: Vec<String>,
    /// Ids of perimeters defined earlier in the same file.
    #[serde(default)]
    pub merge: Vec<String>,
}

/// Area managed, per intervention kind and per responsible actor, inside a perimeter.
pub type ManagedAreas = BTreeMap<String, BTreeMap<Actor, f64>>;

/// The figures of one procedure perimeter (see [`Snapshot::perimeter_figures`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerimeterFigures {
    pub area_m2: f64,
    /// The part of the perimeter inside at least one sub-sector, counted once.
    pub in_subsectors_m2: f64,
    /// The part outside every sub-sector: no rule assigns it a manager, so it is in no figure
    /// of `managed_m2`.
    pub outside_subsectors_m2: f64,
    /// Per intervention kind and responsible actor; for each kind the figures add up to
    /// `in_subsectors_m2`.
    pub managed_m2: ManagedAreas,
}

impl Snapshot {
    /// Builds the perimeters of `defs` in order (a `merge` may name only earlier ones).
    pub fn perimeters(&self, defs: &[PerimeterDef]) -> Result<Vec<(String, MultiPolygon<f64>)>, ScenarioError> {
        let mut built: Vec<(String, MultiPolygon<f64>)> = Vec::new();
        for d in defs {
            let err = |what: String| ScenarioError(format!("perimeter {}: {what}", d.id));
            let mut parts: Vec<MultiPolygon<f64>> = Vec::new();
            if let Some(ring) = &d.polygon {
                parts.push(ring_shape(ring).ok_or_else(|| err("a polygon needs at least 3 points".into()))?);
            }
            for idu in &d.parcels {
                let (p, _) = self.parcel(idu).ok_or_else(|| err(format!("parcel {idu} is not in the store")))?;
                parts.push(p.geom_l93.clone());
            }
            for siren in &d.owners {
                let before = parts.len();
                for (p, h) in self.parcels.iter().zip(&self.holdings) {
                    if h.owners.iter().any(|o| *o.siren == **siren) {
                        parts.push(p.geom_l93.clone());
                    }
                }
                if parts.len() == before {
                    return Err(err(format!("owner {siren} holds no parcel")));
                }
            }
            for key in &d.subsectors {
                let z = self
                    .subsectors
                    .iter()
                    .find(|z| &z.key == key)
                    .ok_or_else(|| err(format!("no sub-sector {key}")))?;
                parts.push(z.geom_l93.clone());
            }
            for id in &d.merge {
                let (_, g) = built
                    .iter()
                    .find(|(k, _)| k == id)
                    .ok_or_else(|| err(format!("no earlier perimeter {id} to merge")))?;
                parts.push(g.clone());
            }
            if parts.is_empty() {
                return Err(err("empty: give a polygon, parcels, owners, subsectors or merge".into()));
            }
            built.push((d.id.clone(), geo::unary_union(parts.iter())));
        }
        Ok(built)
    }

    /// The figures of a procedure perimeter from an assignment computed with geometry
    /// ([`Snapshot::assign_with_geometry`]): the area each responsible actor manages there per
    /// intervention kind, each square metre once — where sub-sectors overlap, the land counts
    /// for the first of them by key only —, and the land outside every sub-sector, which no
    /// rule assigns, stated apart rather than left out.
    #[must_use]
    pub fn perimeter_figures(&self, report: &AssignReport, perimeter: &MultiPolygon<f64>) -> PerimeterFigures {
        use geo::Area;
        // The sub-sectors this perimeter meets, in key order, and the part of each that no
        // earlier one covers (None: it overlaps none of them).
        let near: Vec<&Zone> = self.subsectors.iter().filter(|z| boxes_meet(perimeter, &z.geom_l93)).collect();
        let mut own: std::collections::HashMap<&str, Option<MultiPolygon<f64>>> = std::collections::HashMap::new();
        for (i, z) in near.iter().enumerate() {
            let earlier: Vec<&MultiPolygon<f64>> = near[..i]
                .iter()
                .filter(|e| {
                    boxes_meet(&e.geom_l93, &z.geom_l93)
                        && e.geom_l93.intersection(&z.geom_l93).unsigned_area() > domania_core::overlay::OVERLAP_EPS_M2
                })
                .map(|e| &e.geom_l93)
                .collect();
            let exclusive = (!earlier.is_empty()).then(|| z.geom_l93.difference(&geo::unary_union(earlier)));
            own.insert(z.key.as_str(), exclusive);
        }
        let mut managed: ManagedAreas = BTreeMap::new();
        for s in &report.spaces {
            let Some(g) = &s.geom_l93 else { continue };
            let Some(exclusive) = own.get(s.subsector.as_str()) else { continue };
            if !boxes_meet(perimeter, g) {
                continue;
            }
            let clipped = perimeter.intersection(g);
            let inside = match exclusive {
                Some(ex) => clipped.intersection(ex).unsigned_area(),
                None => clipped.unsigned_area(),
            }
            .min(s.area_m2);
            if inside <= 0.0 {
                continue;
            }
            for a in s.assignments.iter() {
                *managed.entry(a.intervention.clone()).or_default().entry(a.actor).or_default() += inside;
            }
        }
        let area_m2 = perimeter.unsigned_area();
        let in_subsectors_m2 = if near.is_empty() {
            0.0
        } else {
            perimeter.intersection(&geo::unary_union(near.iter().map(|z| &z.geom_l93))).unsigned_area().min(area_m2)
        };
        PerimeterFigures {
            area_m2,
            in_subsectors_m2,
            outside_subsectors_m2: (area_m2 - in_subsectors_m2).max(0.0),
            managed_m2: managed,
        }
    }
}

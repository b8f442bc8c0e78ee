//! Scenarios of land transfers (*remembrement*): applied to a copy of the part of a snapshot
//! they can change, with shares, decisions and managers before and after.

use domania_core::Actor;
use domania_core::overlay::OverlayOptions;
use domania_core::shares::{Holding, OwnerRef};
use domania_rules::{AssignmentReason, Decision, DecisionReason, Rules, SpaceKind};
use geo::BooleanOps;
use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::civil::Date;
use serde::Serialize;

use crate::assign::SpaceAssignment;
use crate::error::ScenarioError;
use crate::geometry::{boxes_meet, ring_shape};
use crate::shares::KeyedShares;
use crate::snapshot::{ParcelRec, Snapshot, Zone};

/// A land transfer of a scenario: a whole parcel, or the part of the parcels inside a polygon,
/// goes to a new owner.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// A whole parcel…
    #[serde(default)]
    pub idu: Option<String>,
    /// …or a polygon (Lambert-93 ring of `[x, y]`, closed or not): every parcel part inside it.
    #[serde(default)]
    pub polygon: Option<Vec<[f64; 2]>>,
    /// The new owner.
    pub to: NewOwner,
    #[serde(default)]
    pub note: String,
}

/// The owner a transfer gives land to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewOwner {
    #[serde(default)]
    pub siren: String,
    pub name: String,
    pub actor: Actor,
}

/// What one transfer moved, and what it could not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransferSummary {
    /// 1-based, in file order.
    pub transfer: usize,
    /// Parcels given whole, or cut (their part inside the polygon given).
    pub parcels: Vec<String>,
    /// Land that changed hands.
    pub land_m2: f64,
    /// A polygon's area outside every parcel: non-cadastré space (streets…), which has no
    /// owner to give it away and is not transferred.
    pub non_cadastre_left_m2: f64,
    pub note: String,
}

/// A sub-sector whose shares or decision a scenario changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubsectorChange {
    pub subsector: String,
    /// Share of each actor, rounded to 1e-4.
    pub shares_before: BTreeMap<Actor, f64>,
    pub shares_after: BTreeMap<Actor, f64>,
    pub decision_before: DecisionReason,
    pub decision_after: DecisionReason,
}

/// A space whose manager a scenario changes for one intervention kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ManagerChange {
    pub subsector: String,
    /// The space after the scenario (`IDU`, `IDU/n` for a transferred part, `non_cadastre`).
    pub space: String,
    pub intervention: String,
    /// Service ids, `None` where no rule names one.
    pub before: Option<String>,
    pub after: Option<String>,
    pub area_m2: f64,
    pub why: AssignmentReason,
}

/// Result of [`Snapshot::scenario`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioReport {
    pub date: Date,
    pub transfers: Vec<TransferSummary>,
    pub subsectors_changed: Vec<SubsectorChange>,
    /// Only real changes: a part `IDU/n` cut off a parcel is compared with the parcel it came
    /// from, so a cut that leaves a manager as it was is no change.
    pub managers_changed: Vec<ManagerChange>,
}

/// The id of a space in reports: the IDU (or `IDU/n`), or `non_cadastre`.
#[must_use]
pub fn space_id(space: &SpaceKind) -> &str {
    match space {
        SpaceKind::Parcel { idu, .. } => idu,
        SpaceKind::NonCadastre => "non_cadastre",
    }
}

/// How large a scenario may be: its work grows with the land its polygons cover and the
/// vertices they have, so both are bounded (a remembrement moves a block, not a commune).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScenarioLimits {
    /// Transfers in one scenario.
    pub transfers: usize,
    /// Vertices of one transfer's polygon.
    pub vertices: usize,
    /// Area of one transfer's polygon, in m².
    pub area_m2: f64,
}

impl Default for ScenarioLimits {
    fn default() -> Self {
        Self { transfers: 200, vertices: 2_000, area_m2: 2_000_000.0 }
    }
}

impl ScenarioLimits {
    /// Checks `transfers` against the limits before any work.
    ///
    /// # Errors
    /// Names the transfer and the limit.
    pub fn check(&self, transfers: &[Transfer]) -> Result<(), ScenarioError> {
        if transfers.len() > self.transfers {
            return Err(ScenarioError(format!(
                "{} transfers; at most {} in one scenario (split it)",
                transfers.len(),
                self.transfers
            )));
        }
        for (k, t) in transfers.iter().enumerate() {
            let Some(ring) = &t.polygon else { continue };
            if ring.len() > self.vertices {
                return Err(ScenarioError(format!(
                    "transfer {}: a polygon of {} points; at most {} (simplify it)",
                    k + 1,
                    ring.len(),
                    self.vertices
                )));
            }
            if ring.iter().flatten().any(|c| !c.is_finite()) {
                return Err(ScenarioError(format!("transfer {}: a coordinate is not a number", k + 1)));
            }
            let area = ring_shape(ring).map_or(0.0, |s| geo::Area::unsigned_area(&s));
            if area > self.area_m2 {
                return Err(ScenarioError(format!(
                    "transfer {}: a polygon of {:.0} m²; at most {:.0} m² (a scenario moves blocks, not a commune)",
                    k + 1,
                    area,
                    self.area_m2
                )));
            }
        }
        Ok(())
    }
}

/// What a stopped scenario says (the caller knows why: its deadline, or its client gone).
const STOPPED: &str = "the scenario was stopped before its end";

impl Snapshot {
    /// Applies `transfers` to a copy and compares shares, decisions and managers before and
    /// after, on `date`. The snapshot itself is not changed.
    pub fn scenario(
        &self,
        transfers: &[Transfer],
        rules: &Rules,
        date: Date,
        opts: OverlayOptions,
    ) -> Result<ScenarioReport, ScenarioError> {
        self.scenario_while(transfers, rules, date, opts, &|| true)
    }

    /// [`Snapshot::scenario`], stopped as soon as `go_on` answers false (looked at between
    /// parcels cut and between steps).
    pub fn scenario_while(
        &self,
        transfers: &[Transfer],
        rules: &Rules,
        date: Date,
        opts: OverlayOptions,
        go_on: &(dyn Fn() -> bool + Sync),
    ) -> Result<ScenarioReport, ScenarioError> {
        let step = || if go_on() { Ok(()) } else { Err(ScenarioError(STOPPED.to_owned())) };
        // Only what the transfers can change is copied and recomputed: the sub-sectors whose
        // boxes meet a transferred parcel or polygon, with their parcels. Every other
        // sub-sector's figures depend on none of the transferred land.
        let local = self.around_transfers(transfers)?;
        step()?;
        let (after, summaries) = local.with_transfers_summarised(transfers, go_on)?;
        step()?;
        let (sb, ab) = local.assign(rules, date, opts);
        step()?;
        let (sa, aa) = after.assign(rules, date, opts);
        step()?;
        let rounded = |z: &KeyedShares| -> BTreeMap<Actor, f64> {
            z.shares.by_actor.iter().map(|(a, s)| (*a, (s.share * 1e4).round() / 1e4)).collect()
        };
        let mut subsectors_changed = Vec::new();
        for ((zb, za), (db, da)) in sb.zones.iter().zip(&sa.zones).zip(ab.decisions.iter().zip(&aa.decisions)) {
            let (b, a) = (rounded(zb), rounded(za));
            let same_outcome = match (&db.decision, &da.decision) {
                (Decision::Delegated { actor: x, .. }, Decision::Delegated { actor: y, .. }) => x == y,
                (x, y) => std::mem::discriminant(x) == std::mem::discriminant(y),
            };
            if b != a || !same_outcome || db.needs_convention != da.needs_convention {
                subsectors_changed.push(SubsectorChange {
                    subsector: zb.key.clone(),
                    shares_before: b,
                    shares_after: a,
                    decision_before: db.reason.clone(),
                    decision_after: da.reason.clone(),
                });
            }
        }
        let before: std::collections::HashMap<(&str, &str), &SpaceAssignment> =
            ab.spaces.iter().map(|s| ((s.subsector.as_str(), space_id(&s.space)), s)).collect();
        let mut managers_changed = Vec::new();
        for s in &aa.spaces {
            let id = space_id(&s.space);
            // A transferred part `IDU/n` is compared with the parcel it was cut from.
            let origin = id.split('/').next().unwrap_or(id);
            let old = before.get(&(s.subsector.as_str(), origin));
            for a in s.assignments.iter() {
                let old_a = old.and_then(|b| b.assignments.iter().find(|x| x.intervention == a.intervention));
                let (was, is) = (
                    old_a.and_then(|o| o.service.as_ref()).map(|x| x.id.clone()),
                    a.service.as_ref().map(|x| x.id.clone()),
                );
                // The service, or (where none is named) the responsible actor.
                if old_a.is_none_or(|o| was != is || o.actor != a.actor) {
                    managers_changed.push(ManagerChange {
                        subsector: s.subsector.clone(),
                        space: id.to_owned(),
                        intervention: a.intervention.clone(),
                        before: was,
                        after: is,
                        area_m2: s.area_m2,
                        why: a.reason.clone(),
                    });
                }
            }
        }
        Ok(ScenarioReport { date, transfers: summaries, subsectors_changed, managers_changed })
    }

    /// The part of the snapshot `transfers` can change: the parcels they touch (checked against
    /// the whole snapshot, so an unknown IDU is still an error), the sub-sectors whose boxes meet
    /// them, every parcel meeting those sub-sectors, and the conventions. Found through the
    /// R-tree; copied, never the whole territory.
    fn around_transfers(&self, transfers: &[Transfer]) -> Result<Snapshot, ScenarioError> {
        use geo::BoundingRect;
        let mut keep = std::collections::BTreeSet::new();
        let mut boxes: Vec<geo_types::Rect<f64>> = Vec::new();
        for (k, t) in transfers.iter().enumerate() {
            match (&t.idu, &t.polygon) {
                (Some(idu), None) => {
                    let i = self.by_idu.get(idu).ok_or_else(|| {
                        ScenarioError(format!("transfer {}: parcel {idu} is not in the store", k + 1))
                    })?;
                    keep.insert(i);
                    boxes.extend(self.parcels[i].geom_l93.bounding_rect());
                }
                (None, Some(ring)) => {
                    let rect = ring_shape(ring).and_then(|s| s.bounding_rect()).ok_or_else(|| {
                        ScenarioError(format!("transfer {}: a polygon needs at least 3 points", k + 1))
                    })?;
                    keep.extend(self.index.meeting(rect));
                    boxes.push(rect);
                }
                _ => return Err(ScenarioError(format!("transfer {}: give either `idu` or `polygon`", k + 1))),
            }
        }
        let meets = |a: &geo_types::Rect<f64>, b: &geo_types::Rect<f64>| {
            a.min().x <= b.max().x && b.min().x <= a.max().x && a.min().y <= b.max().y && b.min().y <= a.max().y
        };
        let zones: Vec<Zone> = self
            .subsectors
            .iter()
            .filter(|z| z.geom_l93.bounding_rect().is_some_and(|r| boxes.iter().any(|b| meets(&r, b))))
            .cloned()
            .collect();
        for z in &zones {
            if let Some(r) = z.geom_l93.bounding_rect() {
                keep.extend(self.index.meeting(r));
            }
        }
        let parcels = keep.iter().map(|&i| self.parcels[i].clone()).collect();
        let holdings = keep.iter().map(|&i| self.holdings[i].clone()).collect();
        let mut local = Snapshot::from_parts(parcels, holdings, zones, Vec::new(), self.conventions.clone())
            .map_err(|e| ScenarioError(e.to_string()))?;
        local.versions.clone_from(&self.versions);
        Ok(local)
    }

    /// A copy of the snapshot with the transfers applied, in order; the store is not touched.
    /// A polygon transfer splits each parcel it cuts: the part inside becomes a new space
    /// `IDU/n` held by the new owner, the rest keeps its owners.
    pub fn with_transfers(&self, transfers: &[Transfer]) -> Result<Snapshot, ScenarioError> {
        Ok(self.with_transfers_summarised(transfers, &|| true)?.0)
    }

    fn with_transfers_summarised(
        &self,
        transfers: &[Transfer],
        go_on: &(dyn Fn() -> bool + Sync),
    ) -> Result<(Snapshot, Vec<TransferSummary>), ScenarioError> {
        let mut snap = self.clone();
        let mut summaries = Vec::with_capacity(transfers.len());
        for (k, t) in transfers.iter().enumerate() {
            let owner = Holding::of(vec![OwnerRef {
                siren: t.to.siren.as_str().into(),
                name: t.to.name.as_str().into(),
                actor: t.to.actor,
            }]);
            match (&t.idu, &t.polygon) {
                (Some(idu), None) => {
                    let i = snap.by_idu.get(idu).ok_or_else(|| {
                        ScenarioError(format!("transfer {}: parcel {idu} is not in the store", k + 1))
                    })?;
                    snap.holdings[i] = owner;
                    summaries.push(TransferSummary {
                        transfer: k + 1,
                        parcels: vec![idu.clone()],
                        land_m2: geo::Area::unsigned_area(&snap.parcels[i].geom_l93),
                        non_cadastre_left_m2: 0.0,
                        note: format!("parcel {idu} given whole to {}", t.to.name),
                    });
                }
                (None, Some(ring)) => {
                    let shape = ring_shape(ring).ok_or_else(|| {
                        ScenarioError(format!("transfer {}: a polygon needs at least 3 points", k + 1))
                    })?;
                    let mut touched = Vec::new();
                    let mut land_m2 = 0.0;
                    let mut candidates: Vec<usize> = match geo::BoundingRect::bounding_rect(&shape) {
                        Some(r) => snap.index.meeting(r).collect(),
                        None => Vec::new(),
                    };
                    // Parts cut by an earlier transfer of the same scenario are not in the index.
                    candidates.extend(self.parcels.len()..snap.parcels.len());
                    candidates.sort_unstable();
                    candidates.dedup();
                    for i in candidates {
                        if !boxes_meet(&shape, &snap.parcels[i].geom_l93) {
                            continue;
                        }
                        if !go_on() {
                            return Err(ScenarioError(STOPPED.to_owned()));
                        }
                        let inside = snap.parcels[i].geom_l93.intersection(&shape);
                        let inside_m2 = geo::Area::unsigned_area(&inside);
                        if inside_m2 < domania_core::overlay::SLIVER_M2 {
                            continue;
                        }
                        touched.push(snap.parcels[i].idu.clone());
                        land_m2 += inside_m2;
                        let rest = snap.parcels[i].geom_l93.difference(&shape);
                        let idu = format!("{}/{}", snap.parcels[i].idu, k + 1);
                        let n = snap.parcels.len();
                        let parcels = Arc::make_mut(&mut snap.parcels);
                        parcels[i].geom_l93 = rest;
                        parcels.push(ParcelRec { idu: idu.clone(), contenance: None, geom_l93: inside });
                        Arc::make_mut(&mut snap.by_idu).insert(&idu, n);
                        snap.holdings.push(owner.clone());
                    }
                    if touched.is_empty() {
                        return Err(ScenarioError(format!("transfer {}: the polygon holds no parcel land", k + 1)));
                    }
                    let left = (geo::Area::unsigned_area(&shape) - land_m2).max(0.0);
                    summaries.push(TransferSummary {
                        transfer: k + 1,
                        note: format!(
                            "{} parcel(s) cut, {land_m2:.0} m² given to {}; {left:.0} m² of the polygon is \
                             non-cadastré space, which no owner can give: not transferred",
                            touched.len(),
                            t.to.name
                        ),
                        parcels: touched,
                        land_m2,
                        non_cadastre_left_m2: left,
                    });
                }
                _ => return Err(ScenarioError(format!("transfer {}: give either `idu` or `polygon`", k + 1))),
            }
        }
        let Snapshot { parcels, holdings, subsectors, qpv, conventions, versions, .. } = snap;
        let mut snap = Snapshot::from_parts(Arc::unwrap_or_clone(parcels), holdings, subsectors, qpv, conventions)
            .map_err(|e| ScenarioError(e.to_string()))?;
        snap.versions = versions;
        Ok((snap, summaries))
    }
}

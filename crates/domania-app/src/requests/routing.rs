//! Where a service request goes: the manager of the space at its point for its category's
//! intervention kind, and why.

use domania_core::{Actor, Layer};
use domania_rules::SpaceKind;
use geo_types::{Point, Rect};
use serde::Serialize;

use crate::error::{AppError, ErrorCode, Result};
use crate::held::Held;
use crate::i18n::Lang;

/// Where a report goes, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    pub service_id: Option<String>,
    pub service_name: String,
    pub actor: Actor,
    pub rule: String,
    pub explanation: String,
    pub subsector: Option<String>,
    pub qpv: Option<String>,
    pub commune: Option<String>,
    /// The parcel's IDU, or `non_cadastre`.
    pub space: String,
}

impl Route {
    /// The routing as a report stores it, routed on the snapshot `tag`, due at `expected_at`.
    pub(crate) fn stored(self, tag: &str, expected_at: Option<String>) -> domania_store::Rerouted {
        domania_store::Rerouted {
            service_id: self.service_id,
            service_name: self.service_name,
            actor: self.actor,
            rule: self.rule,
            explanation: self.explanation,
            snapshot: tag.to_owned(),
            subsector: self.subsector,
            qpv: self.qpv,
            commune: self.commune,
            space: Some(self.space),
            expected_at,
        }
    }
}

/// How far from any parcel a point may be and still be in the territory, in metres.
const NEAR_M: f64 = 100.0;

impl Held {
    /// Where a report of `category` at a Lambert-93 point goes: the service the rules give the
    /// category directly (the waste department for waste reports), else the manager of the
    /// space for the category's intervention kind ([`Held::route`]).
    pub fn route_category(&self, x: f64, y: f64, category: &domania_rules::Category) -> Result<Route> {
        let route = self.route(x, y, &category.intervention)?;
        let Some(service) = category.service.as_deref().and_then(|id| self.rules.rules.service(id)) else {
            return Ok(route);
        };
        let explanation = Lang::Fr.t(
            "rule-category-direct",
            &[("category", category.name.as_str().into()), ("service", service.name.as_str().into())],
        );
        Ok(Route {
            service_id: Some(service.id.clone()),
            service_name: service.name.clone(),
            actor: service.actor,
            rule: "category".to_owned(),
            explanation,
            ..route
        })
    }

    /// The manager at a Lambert-93 point for an intervention kind: inside a sub-sector the same
    /// answer as the map's and "who is responsible here", outside every sub-sector the rules
    /// by domaniality.
    pub fn route(&self, x: f64, y: f64, intervention: &str) -> Result<Route> {
        let snap = &self.snapshot;
        let point = Point::new(x, y);
        let parcels = snap.parcels_at(point);
        let mut subsectors = snap.zones_at(Layer::Subsectors, point);
        subsectors.sort_by(|a, b| a.key.cmp(&b.key));
        let subsector = subsectors.first().map(|z| z.key.clone());
        let near = snap.parcels_in_box(Rect::new((x - NEAR_M, y - NEAR_M), (x + NEAR_M, y + NEAR_M)));
        if parcels.is_empty() && subsector.is_none() && near.is_empty() {
            return Err(AppError::said(
                ErrorCode::OutsideTerritory,
                "error-outside-territory",
                vec![("metres", NEAR_M.to_string().into())],
            ));
        }
        let mut qpv: Vec<&str> = snap.zones_at(Layer::Qpv, point).into_iter().map(|z| z.key.as_str()).collect();
        qpv.sort_unstable();
        // The commune of the parcel here, else of the nearest parcel around.
        let nearest = parcels.first().copied().or_else(|| {
            near.iter().copied().min_by(|&a, &b| {
                let d = |i: usize| {
                    use geo::{Distance, Euclidean};
                    Euclidean.distance(&snap.parcels()[i].geom_l93, &point)
                };
                d(a).total_cmp(&d(b))
            })
        });
        let commune = nearest.map(|i| snap.parcels()[i].idu.chars().take(5).collect::<String>());
        let space_id = parcels.first().map_or("non_cadastre", |&i| snap.parcels()[i].idu.as_str()).to_owned();
        let kind = match parcels.first() {
            Some(&i) => SpaceKind::Parcel { idu: space_id.clone(), actor: snap.holdings()[i].actor() },
            None => SpaceKind::NonCadastre,
        };
        // Inside a sub-sector, the same answer as the map's and `/v1/who`'s.
        let assignments = if let Some(pos) = subsector.as_deref().and_then(|s| self.space(s, &space_id)) {
            self.assign.spaces[pos].assignments.to_vec()
        } else {
            let mut here: Vec<&str> =
                snap.zones_at(Layer::Conventions, point).into_iter().map(|z| z.key.as_str()).collect();
            here.extend(subsector.as_deref());
            self.rules.rules.assign_outside(&kind, &here, self.date)
        };
        let a = assignments.into_iter().find(|a| a.intervention == intervention).ok_or_else(|| {
            AppError::new(ErrorCode::InvalidConfig, format!("no intervention kind {intervention:?} in the rules"))
        })?;
        Ok(Route {
            service_id: a.service.as_ref().map(|s| s.id.clone()),
            service_name: a.service.as_ref().map_or_else(|| format!("no service ({})", a.actor), |s| s.name.clone()),
            actor: a.actor,
            rule: a.rule.as_str().to_owned(),
            // Stored with the request, read by the services: in French.
            explanation: self.rules.rules.explain_assignment(&a.reason, Lang::Fr),
            subsector,
            qpv: qpv.first().map(|q| (*q).to_owned()),
            commune,
            space: space_id,
        })
    }
}

//! Land by actor and owner in every zone of a layer (sub-sectors, QPV, conventions), as a
//! table or as GeoJSON.

use std::collections::{BTreeMap, HashMap};

use domania_core::overlay::OverlayOptions;
use domania_core::{Actor, Layer};
use domania_engine::{KeyedShares, SharesReport, Zone};
use serde::Serialize;

use crate::App;
use crate::error::{AppError, ErrorCode, Result};
use crate::files::LoadedRules;
use crate::geojson::{Feature, FeatureCollection};
use crate::table::{Fixed, Row};

/// The error of a use case that needs a layer the store does not hold yet.
pub(crate) fn layer_missing(layer: Layer) -> AppError {
    AppError::said(ErrorCode::LayerMissing, "error-layer-missing", vec![("layer", crate::error::layer_arg(layer))])
}

/// Land by actor and owner in every zone of a layer, with the zones.
#[derive(Debug, Clone)]
pub struct Shares {
    pub layer: Layer,
    pub report: SharesReport,
    pub zones: Vec<Zone>,
}

/// One row of the shares table: a (zone, actor, owner), or a zone's non-cadastré remainder.
#[derive(Debug, Clone, Serialize)]
pub struct ShareRow {
    pub zone_id: String,
    pub actor: String,
    pub siren: String,
    pub owner_name: String,
    pub owner_actor: String,
    pub parcels: usize,
    pub area_m2: Fixed<2>,
    /// Empty for the non-cadastré row: that space is no part of the cadastré land.
    pub share_of_cadastre: Option<Fixed<6>>,
    pub share_of_area: Fixed<6>,
    pub contenance_m2: Option<Fixed<2>>,
    pub gap_m2: Option<Fixed<2>>,
}

impl Row for ShareRow {
    /// With `subsector_id` first; see [`share_header`] for the other layers.
    const HEADER: &'static [&'static str] = &[
        "subsector_id",
        "actor",
        "siren",
        "owner_name",
        "owner_actor",
        "parcels",
        "area_m2",
        "share_of_cadastre",
        "share_of_area",
        "contenance_m2",
        "gap_m2",
    ];
}

/// The shares table's header: its first column is named after the layer (`subsector_id`,
/// `qpv_id`).
#[must_use]
pub fn share_header(layer: Layer) -> Vec<&'static str> {
    let id = match layer {
        Layer::Qpv => "qpv_id",
        Layer::Conventions => "convention_id",
        _ => "subsector_id",
    };
    std::iter::once(id).chain(ShareRow::HEADER[1..].iter().copied()).collect()
}

/// The rows of the shares table: each zone's owners, then its non-cadastré remainder.
#[must_use]
pub fn share_rows(zones: &[KeyedShares]) -> Vec<ShareRow> {
    let mut rows = Vec::new();
    for z in zones {
        for o in &z.shares.by_owner {
            rows.push(ShareRow {
                zone_id: z.key.clone(),
                actor: o.actor.to_string(),
                siren: o.siren.clone(),
                owner_name: o.name.clone(),
                owner_actor: o.owner_actor.to_string(),
                parcels: o.parcels,
                area_m2: Fixed(o.area_m2),
                share_of_cadastre: Some(Fixed(o.share_of_cadastre)),
                share_of_area: Fixed(o.share_of_area),
                contenance_m2: Some(Fixed(o.contenance_m2)),
                gap_m2: Some(Fixed(o.area_m2 - o.contenance_m2)),
            });
        }
        rows.push(ShareRow {
            zone_id: z.key.clone(),
            actor: "non_cadastre".to_owned(),
            siren: String::new(),
            owner_name: String::new(),
            owner_actor: String::new(),
            parcels: 0,
            area_m2: Fixed(z.shares.non_cadastre_m2),
            share_of_cadastre: None,
            share_of_area: Fixed(z.shares.non_cadastre_share_of_area),
            contenance_m2: None,
            gap_m2: None,
        });
    }
    rows
}

/// What a map colours a zone by.
#[derive(Debug, Clone, Serialize)]
pub struct ZoneProperties<'a> {
    pub id: &'a str,
    pub name: Option<&'a str>,
    pub area_m2: f64,
    pub cadastre_m2: f64,
    pub contenance_m2: f64,
    pub non_cadastre_m2: f64,
    pub non_cadastre_share: f64,
    /// The actor holding the most land.
    pub major_actor: Option<Actor>,
    /// Share per actor (six decimals).
    pub shares: BTreeMap<Actor, f64>,
}

/// Zones with their shares, as GeoJSON features.
#[must_use]
pub fn zones_geojson<'a>(zones: &'a [KeyedShares], shapes: &'a [Zone]) -> FeatureCollection<'a, ZoneProperties<'a>> {
    let by_key: HashMap<&str, &Zone> = shapes.iter().map(|z| (z.key.as_str(), z)).collect();
    FeatureCollection::new(
        zones
            .iter()
            .filter_map(|z| {
                let shape = by_key.get(z.key.as_str())?;
                let major =
                    z.shares.by_actor.iter().max_by(|a, b| a.1.area_m2.total_cmp(&b.1.area_m2)).map(|(a, _)| *a);
                let props = ZoneProperties {
                    id: &z.key,
                    name: z.name.as_deref(),
                    area_m2: z.shares.area_m2,
                    cadastre_m2: z.shares.cadastre_m2,
                    contenance_m2: z.shares.contenance_m2,
                    non_cadastre_m2: z.shares.non_cadastre_m2,
                    non_cadastre_share: z.shares.non_cadastre_share,
                    major_actor: major,
                    shares: z.shares.by_actor.iter().map(|(a, s)| (*a, (s.share * 1e6).round() / 1e6)).collect(),
                };
                Some(Feature::new(props, &shape.geom_l93))
            })
            .collect(),
    )
}

impl Shares {
    /// The zones with their shares as GeoJSON features.
    #[must_use]
    pub fn geojson(&self) -> FeatureCollection<'_, ZoneProperties<'_>> {
        zones_geojson(&self.report.zones, &self.zones)
    }
}

impl App {
    /// Land by actor and owner in every zone of `layer` (sub-sectors, QPV, conventions).
    /// `rules` decide the denominator of shares (`delegation.include_non_cadastre`); none: the
    /// cadastré land. The sub-sectors' are read from the snapshot file a server wrote when it
    /// is current ([`App::kept_subsector_shares`]), else worked out from the store.
    pub fn shares(&self, layer: Layer, rules: Option<&LoadedRules>) -> Result<Shares> {
        if !layer.is_zone() {
            return Err(AppError::new(
                ErrorCode::InvalidArgument,
                format!("shares are computed in zones (qpv, subsectors, conventions), not in {layer}"),
            ));
        }
        let include_nc = rules.is_some_and(|r| r.rules.config().delegation.include_non_cadastre);
        let kept = if layer == Layer::Subsectors { self.kept_subsector_shares(include_nc) } else { None };
        let (report, zones) = if let Some(kept) = kept {
            kept
        } else {
            let snapshot = self.snapshot_for(layer)?;
            (snapshot.shares(layer, include_nc, OverlayOptions::default()), snapshot.zones(layer).to_vec())
        };
        if report.zones.is_empty() {
            return Err(layer_missing(layer));
        }
        Ok(Shares { layer, report, zones })
    }
}

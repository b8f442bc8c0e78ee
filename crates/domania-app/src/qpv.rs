//! One QPV: land by actor and owner and the bailleurs' holdings; and the TFPB follow-up of every
//! QPV (per bailleur, the parcels and area it holds there).

use std::collections::BTreeMap;

use domania_core::overlay::OverlayOptions;
use domania_core::shares::OwnerShare;
use domania_core::{Actor, Layer};
use domania_engine::{SharesReport, Snapshot, Zone};
use serde::Serialize;

use crate::App;
use crate::error::{AppError, ErrorCode, Result};
use crate::geojson::FeatureCollection;
use crate::held::Held;
use crate::shares::{ZoneProperties, layer_missing, zones_geojson};
use crate::table::{Fixed, Rounded, Row};

/// One QPV: land by actor and owner, bailleurs' holdings, and its perimeter.
#[derive(Debug, Clone)]
pub struct QpvReport {
    pub shares: SharesReport,
    /// The QPV's perimeter (the report's map).
    pub zone: Zone,
}

/// One row of a QPV report as a table: an owner's land (natural persons and unknown owners
/// included, as the shares count them).
#[derive(Debug, Serialize)]
pub struct QpvOwnerRow<'a> {
    pub qpv: &'a str,
    pub actor: Actor,
    pub owner_actor: Actor,
    pub siren: &'a str,
    pub name: &'a str,
    pub parcels: usize,
    pub area_m2: Fixed<2>,
}

impl Row for QpvOwnerRow<'_> {
    const HEADER: &'static [&'static str] = &["qpv", "actor", "owner_actor", "siren", "name", "parcels", "area_m2"];
}

/// The report of QPV `code` in `snapshot`; not found names some of the codes there are.
fn qpv_report(snapshot: &Snapshot, code: &str) -> Result<QpvReport> {
    let zone = snapshot.qpv().iter().find(|z| z.key == code);
    let shares = snapshot.shares_of_zone(Layer::Qpv, code, false, OverlayOptions::default());
    let (Some(zone), Some(shares)) = (zone, shares) else { return Err(no_qpv(snapshot, code)) };
    Ok(QpvReport { shares, zone: zone.clone() })
}

/// The error of a QPV that is not in `snapshot`, naming some of those there are.
pub(crate) fn no_qpv(snapshot: &Snapshot, code: &str) -> AppError {
    let known: Vec<&str> = snapshot.qpv().iter().take(10).map(|z| z.key.as_str()).collect();
    AppError::said(ErrorCode::NotFound, "error-no-qpv", vec![("code", code.into()), ("known", known.join(", ").into())])
}

/// The JSON of a QPV report.
#[derive(Debug, Clone, Serialize)]
pub struct QpvSummary<'a> {
    pub qpv: &'a str,
    pub name: Option<&'a str>,
    pub area_m2: f64,
    pub cadastre_m2: f64,
    pub non_cadastre_m2: f64,
    pub by_actor: &'a BTreeMap<Actor, domania_core::shares::ActorShare>,
    /// The bailleurs' land (the TFPB follow-up).
    pub tfpb_bailleurs: Vec<&'a OwnerShare>,
    pub owners: &'a [OwnerShare],
    pub slivers: &'a [(String, f64)],
}

/// The summary of the first zone of a QPV shares report (see [`Snapshot::shares_of_zone`]).
#[must_use]
pub fn qpv_summary(shares: &SharesReport) -> QpvSummary<'_> {
    let z = &shares.zones[0];
    QpvSummary {
        qpv: &z.key,
        name: z.name.as_deref(),
        area_m2: z.shares.area_m2,
        cadastre_m2: z.shares.cadastre_m2,
        non_cadastre_m2: z.shares.non_cadastre_m2,
        by_actor: &z.shares.by_actor,
        tfpb_bailleurs: z.shares.by_owner.iter().filter(|o| o.actor == Actor::BailleurSocial).collect(),
        owners: &z.shares.by_owner,
        slivers: &z.slivers,
    }
}

impl QpvReport {
    #[must_use]
    pub fn summary(&self) -> QpvSummary<'_> {
        qpv_summary(&self.shares)
    }

    #[must_use]
    pub fn geojson(&self) -> FeatureCollection<'_, ZoneProperties<'_>> {
        zones_geojson(&self.shares.zones, std::slice::from_ref(&self.zone))
    }

    /// The owners' land as a table.
    #[must_use]
    pub fn rows(&self) -> Vec<QpvOwnerRow<'_>> {
        let summary = self.summary();
        summary
            .owners
            .iter()
            .map(|o| QpvOwnerRow {
                qpv: summary.qpv,
                actor: o.actor,
                owner_actor: o.owner_actor,
                siren: &o.siren,
                name: &o.name,
                parcels: o.parcels,
                area_m2: Fixed(o.area_m2),
            })
            .collect()
    }
}

impl Held {
    /// One QPV's land by actor and owner (an overlay of the QPV: run it off the async
    /// workers).
    pub fn qpv_report(&self, code: &str) -> Result<QpvReport> {
        qpv_report(&self.snapshot, code)
    }
}

/// A bailleur's land in a QPV (TFPB follow-up).
#[derive(Debug, Clone, Serialize)]
pub struct TfpbRow {
    pub qpv: String,
    pub qpv_name: Option<String>,
    pub siren: String,
    pub bailleur: String,
    pub parcels: usize,
    pub area_m2: Rounded<2>,
}

/// The TFPB table's header.
pub const TFPB_HEADER: [&str; 6] = ["qpv_id", "qpv_name", "siren", "bailleur", "parcels", "area_m2"];

/// A row of the TFPB table (areas with two decimals).
#[derive(Debug, Clone, Serialize)]
pub struct TfpbCsvRow<'a> {
    pub qpv: &'a str,
    pub qpv_name: &'a str,
    pub siren: &'a str,
    pub bailleur: &'a str,
    pub parcels: usize,
    pub area_m2: Fixed<2>,
}

impl Row for TfpbCsvRow<'_> {
    const HEADER: &'static [&'static str] = &TFPB_HEADER;
}

impl TfpbRow {
    #[must_use]
    pub fn csv(&self) -> TfpbCsvRow<'_> {
        TfpbCsvRow {
            qpv: &self.qpv,
            qpv_name: self.qpv_name.as_deref().unwrap_or_default(),
            siren: &self.siren,
            bailleur: &self.bailleur,
            parcels: self.parcels,
            area_m2: Fixed(self.area_m2.value()),
        }
    }
}

impl App {
    /// One QPV's land by actor and owner.
    pub fn report_qpv(&self, code: &str) -> Result<QpvReport> {
        qpv_report(&self.snapshot_for(Layer::Qpv)?, code)
    }

    /// Per QPV and per bailleur, the parcels and area it holds inside the QPV.
    pub fn report_tfpb(&self) -> Result<Vec<TfpbRow>> {
        let snap = self.snapshot_for(Layer::Qpv)?;
        if snap.qpv().is_empty() {
            return Err(layer_missing(Layer::Qpv));
        }
        let report = snap.shares(Layer::Qpv, false, OverlayOptions::default());
        Ok(report
            .zones
            .iter()
            .flat_map(|z| {
                z.shares.by_owner.iter().filter(|o| o.actor == Actor::BailleurSocial).map(move |o| TfpbRow {
                    qpv: z.key.clone(),
                    qpv_name: z.name.clone(),
                    siren: o.siren.clone(),
                    bailleur: o.name.clone(),
                    parcels: o.parcels,
                    area_m2: Rounded(o.area_m2),
                })
            })
            .collect())
    }
}

//! The blocks (*îlots*) of a QPV: candidate sub-sectors, as GeoJSON to edit and import.

use domania_core::Layer;
use serde::Serialize;

use crate::App;
use crate::error::{AppError, ErrorCode, Result};
use crate::geojson::{Feature, FeatureCollection};
use crate::table::Rounded;

/// A candidate sub-sector on the map.
#[derive(Debug, Clone, Serialize)]
pub struct BlockProperties {
    pub id: String,
    pub name: String,
    pub qpv: String,
    pub parcels: usize,
    pub area_m2: Rounded<2>,
}

/// The blocks of a QPV.
#[derive(Debug, Clone)]
pub struct Blocks {
    pub qpv: String,
    pub blocks: Vec<domania_engine::Block>,
}

impl Blocks {
    #[must_use]
    pub fn geojson(&self) -> FeatureCollection<'_, BlockProperties> {
        let code = &self.qpv;
        FeatureCollection::new(
            self.blocks
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let props = BlockProperties {
                        id: format!("{code}-B{:02}", i + 1),
                        name: format!("Îlot {} de {code}", i + 1),
                        qpv: code.clone(),
                        parcels: b.parcels.len(),
                        area_m2: Rounded(b.area_m2),
                    };
                    Feature::new(props, &b.geom_l93)
                })
                .collect(),
        )
    }
}

impl App {
    /// The blocks (îlots) of parcels bounded by non-cadastré space inside a QPV: candidate
    /// sub-sectors.
    pub fn blocks(&self, qpv: &str) -> Result<Blocks> {
        let snap = self.snapshot_for(Layer::Qpv)?;
        let zone = snap.qpv().iter().find(|z| z.key == qpv).ok_or_else(|| {
            AppError::new(ErrorCode::NotFound, format!("no QPV {qpv} in {}", self.store_path().display()))
        })?;
        Ok(Blocks { qpv: qpv.to_owned(), blocks: snap.blocks(&zone.geom_l93) })
    }
}

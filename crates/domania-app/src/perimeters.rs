//! Procedure perimeters and the area each actor manages in each, per intervention kind (the
//! figures the CLECT evaluates).

use domania_core::overlay::OverlayOptions;
use domania_engine::PerimeterFigures;
use jiff::civil::Date;
use serde::Serialize;

use crate::App;
use crate::error::Result;
use crate::files::{LoadedRules, PerimetersFile};
use crate::geojson::Wgs84Geometry;
use crate::table::{Fixed, Row};

/// A procedure perimeter: its shape and the area each actor manages there.
#[derive(Debug, Clone, Serialize)]
pub struct PerimeterResult {
    pub id: String,
    #[serde(flatten)]
    pub figures: PerimeterFigures,
    #[serde(serialize_with = "wgs84")]
    pub geometry: geo_types::MultiPolygon<f64>,
}

fn wgs84<S: serde::Serializer>(g: &geo_types::MultiPolygon<f64>, s: S) -> std::result::Result<S::Ok, S::Error> {
    Wgs84Geometry(g).serialize(s)
}

/// One row of the perimeters table: a (perimeter, intervention, actor).
#[derive(Debug, Clone, Serialize)]
pub struct PerimeterRow<'a> {
    pub perimeter_id: &'a str,
    pub perimeter_area_m2: Fixed<2>,
    pub intervention: &'a str,
    /// An actor, or `outside_subsectors` (the part of the perimeter no rule assigns).
    pub actor: String,
    pub managed_m2: Fixed<2>,
}

impl Row for PerimeterRow<'_> {
    const HEADER: &'static [&'static str] =
        &["perimeter_id", "perimeter_area_m2", "intervention", "actor", "managed_m2"];
}

/// The perimeters of a file with their figures, and the intervention kinds of the rules.
#[derive(Debug, Clone)]
pub struct Perimeters {
    pub perimeters: Vec<PerimeterResult>,
    pub interventions: Vec<String>,
}

impl Perimeters {
    /// Per perimeter and intervention kind, each actor's area then the area outside every
    /// sub-sector: each kind's rows add up to the perimeter's area.
    #[must_use]
    pub fn rows(&self) -> Vec<PerimeterRow<'_>> {
        let mut rows = Vec::new();
        for p in &self.perimeters {
            let area = Fixed(p.figures.area_m2);
            for kind in &self.interventions {
                for (actor, m2) in p.figures.managed_m2.get(kind).into_iter().flatten() {
                    rows.push(PerimeterRow {
                        perimeter_id: &p.id,
                        perimeter_area_m2: area,
                        intervention: kind,
                        actor: actor.to_string(),
                        managed_m2: Fixed(*m2),
                    });
                }
                rows.push(PerimeterRow {
                    perimeter_id: &p.id,
                    perimeter_area_m2: area,
                    intervention: kind,
                    actor: "outside_subsectors".to_owned(),
                    managed_m2: Fixed(p.figures.outside_subsectors_m2),
                });
            }
        }
        rows
    }
}

impl App {
    /// Builds the perimeters of a file and the area each actor manages in each, per
    /// intervention kind, on `date` (the figures the CLECT evaluates).
    pub fn perimeters(&self, file: &PerimetersFile, rules: &LoadedRules, date: Date) -> Result<Perimeters> {
        let snap = self.snapshot()?;
        let built = snap.perimeters(&file.perimeters)?;
        let (_, report) = snap.assign_with_geometry(&rules.rules, date, OverlayOptions::default());
        let perimeters = built
            .into_iter()
            .map(|(id, geometry)| PerimeterResult { figures: snap.perimeter_figures(&report, &geometry), id, geometry })
            .collect();
        Ok(Perimeters {
            perimeters,
            interventions: rules.rules.config().interventions.iter().map(|i| i.id.clone()).collect(),
        })
    }
}

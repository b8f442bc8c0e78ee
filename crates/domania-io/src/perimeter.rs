//! Perimeter layers: QPV (ANCT schema), sub-sectors, convention perimeters.

use std::collections::HashSet;
use std::path::Path;

use geo_types::MultiPolygon;

use serde_json::{Map, Value};

use crate::error::Result;
use crate::features::{ReadOptions, first_str};
use crate::geometry::Problem;
use crate::polygons::read_polygons;
use crate::report::{Location, Severity, ValidationReport};
use crate::sniff::{Evidence, Layer, is_qpv_code};

/// Properties tried, in order, for the key of a perimeter of `layer`.
#[must_use]
pub fn key_fields(layer: Layer) -> &'static [&'static str] {
    match layer {
        // ANCT 2015 (`code_qp` QP…) and 2024 (`code_qp` QN…) files; older exports capitalised.
        Layer::Qpv => &["code_qp", "CODE_QP", "code_quartier", "id"],
        // English and French attribute names, as SIG officers name them.
        Layer::Conventions => {
            &["id", "reference", "code", "ID", "identifiant", "référence", "numero", "numéro", "num_convention"]
        }
        _ => &[
            "id",
            "code",
            "subsector_id",
            "ID",
            "CODE",
            "identifiant",
            "code_sous_secteur",
            "sous_secteur",
            "id_sous_secteur",
        ],
    }
}

/// Properties tried, in order, for the display name of a perimeter of `layer`.
#[must_use]
pub fn name_fields(layer: Layer) -> &'static [&'static str] {
    match layer {
        Layer::Qpv => &["nom_qp", "lib_qp", "NOM_QP", "nom"],
        _ => &["name", "nom", "libelle", "NOM", "libellé", "intitule", "intitulé", "LIBELLE"],
    }
}

/// One perimeter: a key, a name, all source properties, a Lambert-93 geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct Perimeter {
    pub key: String,
    pub name: Option<String>,
    pub properties: Map<String, Value>,
    pub geom_l93: MultiPolygon<f64>,
}

/// Perimeters read from one file, with the report.
#[derive(Debug, Clone)]
pub struct PerimeterRead {
    pub perimeters: Vec<Perimeter>,
    pub report: ValidationReport,
}

/// Reads a perimeter layer from GeoJSON or Shapefile.
pub fn read_perimeters(path: &Path, kind: Layer, opts: ReadOptions) -> Result<PerimeterRead> {
    let mut perimeters = Vec::new();
    let report = read_perimeters_with(path, kind, opts, |p| perimeters.push(p))?;
    Ok(PerimeterRead { perimeters, report })
}

/// Streaming form of [`read_perimeters`].
pub fn read_perimeters_with(
    path: &Path,
    kind: Layer,
    opts: ReadOptions,
    mut on_perimeter: impl FnMut(Perimeter),
) -> Result<ValidationReport> {
    let mut report = ValidationReport::new(path, &format!("{}-perimeters", kind.as_str()));
    let mut seen = HashSet::new();
    let mut evidence = Evidence::default();
    // Sub-sectors, to check they do not overlap: (feature index, key, shape).
    let mut shapes: Vec<(usize, String, MultiPolygon<f64>)> = Vec::new();
    read_polygons(path, opts, &mut report, |f| {
        evidence.see(f.id.as_deref(), &f.properties);
        let fields = key_fields(kind);
        let key = first_str(&f.properties, fields)
            .map_err(|p| (f.id.clone(), p))?
            .or_else(|| f.id.clone())
            .ok_or_else(|| {
                let message = format!("no key: none of the properties {} is set", fields.join(", "));
                (None, Problem { code: "missing_key", message })
            })?;
        let key = key.trim().to_owned();
        if kind == Layer::Qpv && !is_qpv_code(&key) {
            let message = format!("{key:?} is not a QPV code (QP or QN and six characters, e.g. QP066007)");
            return Err((Some(key), Problem { code: "invalid_qpv_code", message }));
        }
        if !seen.insert(key.clone()) {
            let message = format!("key {key} already appears earlier in the file");
            return Err((Some(key), Problem { code: "duplicate_key", message }));
        }
        let name = first_str(&f.properties, name_fields(kind)).map_err(|p| (Some(key.clone()), p))?;
        if kind == Layer::Subsectors {
            shapes.push((f.index, key.clone(), f.geom_l93.clone()));
        }
        on_perimeter(Perimeter { key, name, properties: f.properties, geom_l93: f.geom_l93 });
        Ok(())
    })?;
    evidence.check(path, kind)?;
    let geoms: Vec<&MultiPolygon<f64>> = shapes.iter().map(|s| &s.2).collect();
    let overlaps = domania_core::overlay::zone_overlaps(&geoms);
    let severity = if opts.reject_overlaps { Severity::Rejected } else { Severity::Warning };
    for (i, j, m2) in overlaps {
        let (a, b) = (&shapes[i], &shapes[j]);
        let message = format!(
            "sub-sector {} overlaps sub-sector {} (feature {}) by {m2:.2} m²; figures that unite sub-sectors count \
             it once, for the first by key{}",
            b.1,
            a.1,
            a.0,
            if opts.reject_overlaps { "; refused by --no-overlaps" } else { "" }
        );
        report.push(Location::Feature(b.0), Some(&b.1), severity, "overlapping_subsectors", message);
    }
    Ok(report)
}

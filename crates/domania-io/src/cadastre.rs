//! Etalab cadastre GeoJSON parcels (`cadastre-<insee>-parcelles.json[.gz]`).

use std::collections::HashSet;
use std::path::Path;

use domania_core::{Idu, Parcel};

use crate::error::Result;
use crate::features::{PolygonFeature, ReadOptions, prop_int, prop_str};
use crate::geometry::Problem;
use crate::polygons::read_polygons;
use crate::report::ValidationReport;
use crate::sniff::{Evidence, Layer};

/// Parcels read from one file, with the report of what was repaired or rejected.
#[derive(Debug, Clone)]
pub struct CadastreRead {
    pub parcels: Vec<Parcel>,
    pub report: ValidationReport,
}

/// Reads an Etalab cadastre parcels file. Features whose IDU is missing or malformed, whose
/// properties have the wrong type, or whose IDU was already seen in the file are rejected and
/// reported; the rest is returned in file order.
pub fn read_cadastre(path: &Path, opts: ReadOptions) -> Result<CadastreRead> {
    let mut parcels = Vec::new();
    let report = read_cadastre_with(path, opts, |p| parcels.push(p))?;
    Ok(CadastreRead { parcels, report })
}

/// Streaming form of [`read_cadastre`]: each accepted parcel is handed to `on_parcel` as soon
/// as it is read.
pub fn read_cadastre_with(
    path: &Path,
    opts: ReadOptions,
    mut on_parcel: impl FnMut(Parcel),
) -> Result<ValidationReport> {
    let mut report = ValidationReport::new(path, "etalab-cadastre-geojson");
    let mut seen = HashSet::new();
    let mut evidence = Evidence::default();
    read_polygons(path, opts, &mut report, |f| {
        evidence.see(f.id.as_deref(), &f.properties);
        let parcel = to_parcel(f)?;
        if !seen.insert(parcel.idu.clone()) {
            let idu = parcel.idu.to_string();
            return Err((
                Some(idu.clone()),
                Problem { code: "duplicate_idu", message: format!("IDU {idu} already appears earlier in the file") },
            ));
        }
        on_parcel(parcel);
        Ok(())
    })?;
    evidence.check(path, Layer::Parcels)?;
    Ok(report)
}

fn to_parcel(f: PolygonFeature) -> std::result::Result<Parcel, (Option<String>, Problem)> {
    let id = f.id.clone();
    let fail = |p: Problem| (id.clone(), p);
    let p = &f.properties;
    let raw_id = prop_str(p, "id")
        .map_err(fail)?
        .or_else(|| f.id.clone())
        .ok_or_else(|| fail(Problem { code: "missing_idu", message: "no `id` (IDU) in the feature".into() }))?;
    let idu = Idu::parse(raw_id.trim()).map_err(|e| fail(Problem { code: "invalid_idu", message: e.to_string() }))?;
    let commune = prop_str(p, "commune").map_err(fail)?.unwrap_or_else(|| idu.commune().to_owned());
    let prefixe = prop_str(p, "prefixe").map_err(fail)?.unwrap_or_else(|| idu.prefixe().to_owned());
    let section =
        prop_str(p, "section").map_err(fail)?.unwrap_or_else(|| idu.section().trim_start_matches('0').to_owned());
    let numero = prop_str(p, "numero").map_err(fail)?.unwrap_or_else(|| idu.numero().to_owned());
    let contenance = prop_int(p, "contenance").map_err(fail)?;
    if contenance.is_some_and(|c| c < 0) {
        return Err(fail(Problem { code: "negative_contenance", message: "contenance is negative".into() }));
    }
    let created = prop_str(p, "created").map_err(fail)?;
    let updated = prop_str(p, "updated").map_err(fail)?;
    Ok(Parcel { idu, commune, prefixe, section, numero, contenance, created, updated, geom_l93: f.geom_l93 })
}

//! What the map viewer needs to start: the territory's bounds and where the map opens, the
//! intervention kinds, the QPV with where their labels go, and the sub-sectors with their
//! decisions.

use domania_core::crs::Crs;
use domania_core::{Actor, Layer};
use geo::{InteriorPoint, Intersects};
use serde::Serialize;

use crate::held::Held;
use crate::subsectors::DecisionKind;

/// A QPV as the page labels it.
#[derive(Debug, Serialize)]
pub struct QpvEntry<'a> {
    pub code: &'a str,
    pub name: Option<&'a str>,
    /// A point inside it (CRS84), where its label goes.
    pub label_at: Option<[f64; 2]>,
}

/// A sub-sector in the page's list.
#[derive(Debug, Serialize)]
pub struct SubsectorEntry<'a> {
    pub id: &'a str,
    pub name: Option<&'a str>,
    pub decision: DecisionKind,
    pub delegated_to: Option<Actor>,
    pub decision_label: String,
    pub needs_convention: bool,
    /// The QPV it meets.
    pub qpv: Vec<&'a str>,
}

/// The territory as the viewer opens it.
#[derive(Debug, Serialize)]
pub struct TerritoryView<'a> {
    pub snapshot: &'a str,
    pub judged_on: crate::Date,
    pub parcels: usize,
    pub bounds: [f64; 4],
    /// Where the map opens: the sub-sectors' box (the managed spaces), else `bounds`.
    pub focus: [f64; 4],
    pub interventions: &'a [domania_rules::Intervention],
    pub qpv: Vec<QpvEntry<'a>>,
    pub subsectors: Vec<SubsectorEntry<'a>>,
    /// A basemap drawn under the layers; none by default.
    pub basemap: Option<&'a Basemap>,
    /// The layers an editor can upload.
    pub uploadable: Vec<&'static str>,
    /// Whether any owner file is loaded (else every owner is unknown, and the map says so).
    pub owners_known: bool,
    /// The actors that hold land in the store: the owners' legend lists these, not every actor.
    pub actors: &'a [domania_core::Actor],
    /// For each intervention kind, the services that manage some space: its legend lists these.
    pub services: &'a std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
    /// The map library's version built in (empty without it).
    pub maplibre: &'a str,
    /// The zoom from which the parcels' fill is drawn everywhere: below it, a tile holding too
    /// many parcels to merge leaves them out (a département seen whole).
    pub parcels_from_zoom: u8,
}

/// A basemap under the viewer's layers (`serve --basemap`): raster tiles (a URL template with
/// `{z}`, `{x}`, `{y}`, such as Plan IGN's WMTS), a raster PMTiles archive on static storage
/// (`….pmtiles`), or a MapLibre style (its URL: vector tiles, archives of vector tiles through
/// `pmtiles://` sources), with the attribution its licence asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Basemap {
    pub url: String,
    /// `raster`, `pmtiles` or `style`.
    pub kind: &'static str,
    pub attribution: Option<String>,
}

impl Basemap {
    /// A basemap from the URL given to `serve --basemap`.
    ///
    /// # Errors
    /// Says what the URL lacks: http(s), and either a tile template or a style document.
    pub fn new(url: &str, attribution: Option<String>) -> crate::Result<Self> {
        let err = |id: &'static str, missing: &str| {
            crate::AppError::said(
                crate::ErrorCode::InvalidArgument,
                id,
                vec![("url", url.to_owned().into()), ("missing", missing.to_owned().into())],
            )
        };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(err("error-basemap-url", ""));
        }
        let missing: Vec<&str> = ["{z}", "{x}", "{y}"].into_iter().filter(|p| !url.contains(p)).collect();
        let archive = url.split(['?', '#']).next().is_some_and(|u| u.ends_with(".pmtiles"));
        let kind = match missing.len() {
            0 => "raster",
            3 if archive => "pmtiles",
            3 => "style",
            _ => return Err(err("error-basemap-missing", &missing.join(", "))),
        };
        Ok(Self { url: url.to_owned(), kind, attribution })
    }
}

fn lon_lat(x: f64, y: f64) -> [f64; 2] {
    let (lon, lat) = Crs::lambert93().transform_to(&Crs::wgs84(), x, y);
    [(lon * 1e6).round() / 1e6, (lat * 1e6).round() / 1e6]
}

impl Held {
    /// The territory as the viewer opens it, with the server's basemap and map library.
    #[must_use]
    pub fn territory<'a>(
        &'a self,
        basemap: Option<&'a Basemap>,
        maplibre: &'a str,
        lang: crate::i18n::Lang,
    ) -> TerritoryView<'a> {
        let qpv = self
            .snapshot
            .zones(Layer::Qpv)
            .iter()
            .map(|z| QpvEntry {
                code: &z.key,
                name: z.name.as_deref(),
                label_at: z.geom_l93.interior_point().map(|p| lon_lat(p.x(), p.y())),
            })
            .collect();
        let qpv_of = |key: &str| -> Vec<&str> {
            let Some(zone) = self.snapshot.subsectors().iter().find(|z| z.key == key) else { return Vec::new() };
            self.snapshot
                .zones(Layer::Qpv)
                .iter()
                .filter(|q| q.geom_l93.intersects(&zone.geom_l93))
                .map(|q| q.key.as_str())
                .collect()
        };
        let subsectors = self
            .shares
            .zones
            .iter()
            .zip(&self.assign.decisions)
            .map(|(z, d)| {
                let (decision, delegated_to) = d.decision.kind();
                SubsectorEntry {
                    qpv: qpv_of(&z.key),
                    id: &z.key,
                    name: z.name.as_deref(),
                    decision: DecisionKind::of(decision),
                    delegated_to,
                    decision_label: crate::said::decision_label(decision, delegated_to, lang),
                    needs_convention: d.needs_convention,
                }
            })
            .collect();
        let on_map = self.on_the_map();
        TerritoryView {
            snapshot: self.tag(),
            judged_on: self.date,
            parcels: self.snapshot.parcels().len(),
            bounds: self.bounds(),
            focus: self.extents.get("subsectors").copied().flatten().unwrap_or_else(|| self.bounds()),
            interventions: &self.rules.rules.config().interventions,
            qpv,
            subsectors,
            basemap,
            uploadable: Layer::ALL.iter().filter(|l| l.is_imported()).map(|l| l.as_str()).collect(),
            // Some owner is known (an owner file covers a commune) unless every parcel's owner is
            // unknown.
            owners_known: on_map.actors.iter().any(|a| *a != domania_core::Actor::OwnerUnknown),
            actors: &on_map.actors,
            services: &on_map.services,
            maplibre,
            parcels_from_zoom: on_map.parcels_from_zoom,
        }
    }

    /// The *cahier des charges localisé* of sub-sector `id`, as a printable HTML page.
    pub fn cahier(&self, id: &str) -> crate::Result<String> {
        crate::documents::cahier(self.documents(), id).ok_or_else(|| crate::subsectors::no_subsector(id))
    }

    /// The *annuaire* of the services and their referents (a scan of the parcels for the
    /// communes: off the async workers).
    #[must_use]
    pub fn annuaire(&self) -> String {
        let rules = &self.rules.rules;
        let communes = crate::documents::communes(&self.snapshot, rules);
        crate::documents::annuaire(rules, &communes, self.date)
    }

    /// The communes of the territory (INSEE codes): those of its parcels and of the referents.
    #[must_use]
    pub fn communes(&self) -> Vec<String> {
        crate::documents::communes(&self.snapshot, &self.rules.rules)
    }

    /// The *annuaire* as a PDF, one table per service.
    pub fn annuaire_pdf(&self) -> crate::Result<Vec<u8>> {
        let rules = &self.rules.rules;
        let communes = crate::documents::communes(&self.snapshot, rules);
        crate::printed::annuaire(rules, &communes, self.date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_basemap_is_raster_tiles_or_a_style() {
        assert_eq!(Basemap::new("https://tile.example.org/{z}/{x}/{y}.png", None).unwrap().kind, "raster");
        let ign = "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&TILEMATRIXSET=PM&FORMAT=image/png&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}";
        assert_eq!(Basemap::new(ign, Some("© IGN".into())).unwrap().kind, "raster");
        assert_eq!(Basemap::new("https://tiles.example.org/styles/plan/style.json", None).unwrap().kind, "style");
        assert_eq!(Basemap::new("https://cdn.example.org/ortho-78.pmtiles", None).unwrap().kind, "pmtiles");
        assert!(Basemap::new("tile.example.org/{z}/{x}/{y}.png", None).unwrap_err().to_string().contains("http(s)"));
        let err = Basemap::new("https://tile.example.org/{z}/{x}.png", None).unwrap_err().to_string();
        assert!(err.contains("{y} is missing"), "{err}");
    }
}

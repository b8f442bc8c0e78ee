//! The main job on a territory folder: import every layer found there, summarise land by
//! actor, and with a rules file, who manages what.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use domania_core::overlay::OverlayOptions;
use domania_core::{Actor, Layer};
use domania_rules::Decision;
use domania_store::VersionInfo;
use geo::Area;
use serde::Serialize;

use crate::App;
use crate::assign::summary;
use crate::error::{AppError, ErrorCode, Result};
use crate::i18n::Lang;
use crate::import::{ImportOutcome, ImportRequest, Progress};

/// Land of one actor in the demo's summary.
#[derive(Debug, Clone, Serialize)]
pub struct ActorLand {
    pub actor: Actor,
    pub parcels: usize,
    pub area_m2: f64,
    pub share: f64,
}

/// Who manages what in the demo's territory.
#[derive(Debug, Clone, Serialize)]
pub struct DemoManagement {
    /// The rules file applied.
    pub rules: PathBuf,
    pub subsectors: usize,
    /// The explanation of every delegated sub-sector.
    pub delegated: Vec<String>,
    pub needing_convention: usize,
    /// The explanation of every sub-sector needing a convention.
    pub conventions_needed: Vec<String>,
    pub spaces: usize,
}

/// The main job on a territory folder.
#[derive(Debug, Clone, Serialize)]
pub struct DemoOutcome {
    pub store: String,
    pub imported: Vec<VersionInfo>,
    pub by_actor: Vec<ActorLand>,
    pub management: Option<DemoManagement>,
    pub seconds: f64,
}

fn find_one(dir: &Path, pred: impl Fn(&str) -> bool) -> Result<Option<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| AppError::new(ErrorCode::FileUnreadable, format!("reading the folder {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| pred(&n.to_string_lossy())))
        .collect();
    found.sort();
    Ok(found.into_iter().next())
}

impl App {
    /// The main job on a territory folder: import every layer found in it (`cadastre-*.json`,
    /// `ppm*.csv`, `qpv*`, `subsectors*`, `conventions*`) and summarise land by actor; with a
    /// `rules.toml`, who manages what. A `territory.toml` in the folder classifies owners unless
    /// the application has a territory file already. `on_import` is told each version.
    pub fn demo(
        &self,
        dir: &Path,
        lang: Lang,
        progress: &dyn Fn(Progress),
        on_import: &dyn Fn(&ImportOutcome),
    ) -> Result<DemoOutcome> {
        let t = Instant::now();
        let parcels =
            find_one(dir, |n| n.starts_with("cadastre-") && (n.ends_with(".json") || n.ends_with(".json.gz")))?
                .ok_or_else(|| {
                    AppError::new(ErrorCode::FileUnreadable, format!("{}: no cadastre-*.json file", dir.display()))
                })?;
        let mut steps = vec![(Layer::Parcels, parcels)];
        for (layer, pred) in [
            (Layer::Owners, (|n: &str| n.starts_with("ppm") && n.ends_with(".csv")) as fn(&str) -> bool),
            (Layer::Qpv, |n: &str| n.starts_with("qpv") && n.ends_with("json")),
            (Layer::Subsectors, |n: &str| n.starts_with("subsectors") && n.ends_with("json")),
            (Layer::Conventions, |n: &str| n.starts_with("conventions") && n.ends_with("json")),
        ] {
            if let Some(p) = find_one(dir, pred)? {
                steps.push((layer, p));
            }
        }
        let mut imported = Vec::new();
        for (layer, file) in steps {
            let outcome = self.import(&ImportRequest::new(layer, file, "demo"), progress)?;
            on_import(&outcome);
            imported.push(outcome.version);
        }
        let local = dir.join("territory.toml");
        let app = if self.territory.is_none() && local.exists() {
            self.clone().with_territory(Some(&local))?
        } else {
            self.clone()
        };
        let snap = app.snapshot()?;
        let mut by_actor: BTreeMap<Actor, (usize, f64)> = BTreeMap::new();
        let mut total = 0.0;
        for (p, h) in snap.parcels().iter().zip(snap.holdings()) {
            let area = p.geom_l93.unsigned_area();
            total += area;
            let e = by_actor.entry(h.actor()).or_default();
            e.0 += 1;
            e.1 += area;
        }
        let rules_path = dir.join("rules.toml");
        let management = if rules_path.exists() {
            let rules = crate::files::rules(Some(&rules_path))?;
            let (_, report) = snap.assign(&rules.rules, crate::files::today(), OverlayOptions::default());
            let s = summary(&report);
            Some(DemoManagement {
                rules: rules_path,
                subsectors: s.subsectors,
                delegated: report
                    .decisions
                    .iter()
                    .filter(|d| matches!(d.decision, Decision::Delegated { .. }))
                    .map(|d| d.reason.said(lang))
                    .collect(),
                needing_convention: s.needing_convention,
                conventions_needed: report
                    .decisions
                    .iter()
                    .filter(|d| d.needs_convention)
                    .map(|d| d.reason.said(lang))
                    .collect(),
                spaces: s.spaces,
            })
        } else {
            None
        };
        Ok(DemoOutcome {
            store: self.store_path().to_string(),
            imported,
            by_actor: by_actor
                .into_iter()
                .map(|(actor, (parcels, area))| ActorLand {
                    actor,
                    parcels,
                    area_m2: area.round(),
                    share: if total > 0.0 { area / total } else { 0.0 },
                })
                .collect(),
            management,
            seconds: t.elapsed().as_secs_f64(),
        })
    }
}

//! Who is responsible at a point: the space there (a parcel, or the non-cadastré space of its
//! sub-sector), its parcels and owners, its sub-sector's decision, its QPV, and per
//! intervention kind the service with its contact, the rule that decided and why.

use domania_core::Layer;
use domania_rules::SpaceKind;
use geo_types::Point;
use serde::Serialize;

use crate::error::{AppError, ErrorCode, Result};
use crate::held::Held;
use crate::i18n::Lang;
use crate::parcels::ParcelView;
use crate::point::Located;
use crate::subsectors::{ManagerView, SubsectorView, manager_views};

/// A QPV at a point.
#[derive(Debug, Serialize)]
pub struct ZoneRef<'a> {
    pub code: &'a str,
    pub name: Option<&'a str>,
}

/// Why no manager is named at a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoManager {
    /// A sliver below the tolerance, or a sub-sector whose parcels cover it all.
    NoSpace,
    /// Outside every sub-sector: no management rule applies.
    OutsideSubsectors,
}

impl NoManager {
    /// What it means, in words.
    #[must_use]
    pub fn text(self) -> &'static str {
        match self {
            NoManager::NoSpace => {
                "no space here: a sliver below the tolerance, or a sub-sector whose parcels cover it all"
            }
            NoManager::OutsideSubsectors => "outside every sub-sector: no management rule applies here",
        }
    }
}

impl Serialize for Note {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.0.text())
    }
}

/// The note of an answer without a manager, as its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Note(pub NoManager);

/// The answer of "who is responsible here".
#[derive(Debug, Serialize)]
pub struct Who<'a> {
    pub point: Located,
    /// The space at the point: a parcel (`kind: parcel`, its IDU) or the non-cadastré space
    /// of its sub-sector (`kind: non_cadastre`); none outside every parcel and sub-sector.
    pub space: Option<&'a SpaceKind>,
    /// The parcels at the point (several only where parcels overlap).
    pub parcels: Vec<ParcelView<'a>>,
    pub subsector: Option<SubsectorView<'a>>,
    /// Other sub-sectors holding the point where sub-sectors overlap (an import warns of it):
    /// the answer is the first by key, as the land figures count the overlap.
    pub overlapping_subsectors: Vec<&'a str>,
    pub qpv: Vec<ZoneRef<'a>>,
    /// Per intervention kind: the service, its contact, the rule and the explanation. Empty
    /// outside every sub-sector: no rule assigns a manager there (said in `note`).
    pub managers: Vec<ManagerView<'a>>,
    /// Why no manager is named, when none is.
    pub note: Option<Note>,
    pub judged_on: crate::Date,
}

impl Held {
    /// Checks that `kind` is an intervention kind of the rules.
    pub fn check_kind(&self, kind: &str) -> Result<()> {
        let kinds = &self.rules.rules.config().interventions;
        if kinds.iter().any(|i| i.id == kind) {
            return Ok(());
        }
        let names: Vec<&str> = kinds.iter().map(|i| i.id.as_str()).collect();
        Err(AppError::said(
            ErrorCode::UnknownKind,
            "error-unknown-kind",
            vec![("kind", kind.into()), ("known", names.join(", ").into())],
        ))
    }

    /// Who is responsible at `at`, for every intervention kind or for `kind` only, explained
    /// in `lang`.
    pub fn who(&self, at: Located, kind: Option<&str>, lang: Lang) -> Result<Who<'_>> {
        if let Some(k) = kind {
            self.check_kind(k)?;
        }
        let point = Point::new(at.x, at.y);
        let snap = &self.snapshot;
        let parcels = snap.parcels_at(point);
        let mut here = snap.zones_at(Layer::Subsectors, point);
        here.sort_by(|a, b| a.key.cmp(&b.key));
        let subsector = here.first().copied();
        let overlapping_subsectors: Vec<&str> = here.iter().skip(1).map(|z| z.key.as_str()).collect();
        let qpv =
            snap.zones_at(Layer::Qpv, point).into_iter().map(|z| ZoneRef { code: &z.key, name: z.name.as_deref() });
        let (space, managers, note) = match subsector {
            Some(z) => {
                let id = parcels.first().map_or("non_cadastre", |&i| snap.parcels()[i].idu.as_str());
                match self.space(&z.key, id) {
                    Some(s) => {
                        let s = &self.assign.spaces[s];
                        (Some(&s.space), manager_views(&self.rules.rules, &s.assignments, kind, lang), None)
                    }
                    None => (None, Vec::new(), Some(Note(NoManager::NoSpace))),
                }
            }
            None => (None, Vec::new(), Some(Note(NoManager::OutsideSubsectors))),
        };
        Ok(Who {
            point: at,
            space,
            parcels: parcels.iter().map(|&i| self.parcel_view(i)).collect(),
            subsector: subsector.and_then(|z| self.subsector(&z.key)).map(|p| self.subsector_view(p, lang)),
            overlapping_subsectors,
            qpv: qpv.collect(),
            managers,
            note,
            judged_on: self.date,
        })
    }
}

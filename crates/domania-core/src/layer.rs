//! The one enum of the layers Domania keeps: the readers say which layer a file is for, the
//! store versions them, the engine's zones are the perimeter layers, and the front ends name
//! them in commands and URLs by [`Layer::as_str`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A versioned layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    Parcels,
    Owners,
    Qpv,
    Subsectors,
    Conventions,
    /// The management layer written by `assign`: every space with its manager per
    /// intervention kind (what the map shows). Computed, never imported.
    Spaces,
    /// Buildings of the cadastre (EDIGÉO `BATIMENT_id`).
    Buildings,
    /// Cadastral sections (EDIGÉO `SECTION_id`).
    Sections,
    /// Addresses of the Base Adresse Nationale (its departmental CSV), Lambert-93 points kept
    /// as coordinates: keyed by the BAN's `id` (`78440_0420_00012`), commune first.
    Addresses,
}

/// A name that is not one of the layers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown layer {0:?} (layers: parcels, owners, qpv, subsectors, conventions, spaces, buildings, sections, addresses)"
)]
pub struct UnknownLayer(pub String);

impl Layer {
    pub const ALL: [Layer; 9] = [
        Layer::Parcels,
        Layer::Owners,
        Layer::Qpv,
        Layer::Subsectors,
        Layer::Conventions,
        Layer::Spaces,
        Layer::Buildings,
        Layer::Sections,
        Layer::Addresses,
    ];

    /// The layers imported from files (all but `spaces`).
    pub const IMPORTED: [Layer; 8] = [
        Layer::Parcels,
        Layer::Owners,
        Layer::Qpv,
        Layer::Subsectors,
        Layer::Conventions,
        Layer::Buildings,
        Layer::Sections,
        Layer::Addresses,
    ];

    /// The name of the layer in commands, URLs and the store's tables.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Parcels => "parcels",
            Layer::Owners => "owners",
            Layer::Qpv => "qpv",
            Layer::Subsectors => "subsectors",
            Layer::Conventions => "conventions",
            Layer::Spaces => "spaces",
            Layer::Buildings => "buildings",
            Layer::Sections => "sections",
            Layer::Addresses => "addresses",
        }
    }

    /// Table name (the current version); history lives in `<table>_history`.
    #[must_use]
    pub fn table(self) -> &'static str {
        self.as_str()
    }

    /// Whether the layer has polygon geometries (all but the owners, and the addresses, whose
    /// points are columns).
    #[must_use]
    pub fn is_spatial(self) -> bool {
        !matches!(self, Layer::Owners | Layer::Addresses)
    }

    /// Whether the layer's features are zones (perimeters shares are computed in).
    #[must_use]
    pub fn is_zone(self) -> bool {
        matches!(self, Layer::Qpv | Layer::Subsectors | Layer::Conventions)
    }

    /// Whether SIG officers edit it feature by feature (the perimeters they draw), in QGIS or
    /// over OGC API – Features – Part 4; the cadastre, the owners and the addresses come whole
    /// from their sources.
    #[must_use]
    pub fn is_edited(self) -> bool {
        matches!(self, Layer::Subsectors | Layer::Conventions | Layer::Qpv)
    }

    /// Whether files are imported into it (the spaces layer is computed by `assign`).
    #[must_use]
    pub fn is_imported(self) -> bool {
        self != Layer::Spaces
    }

    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Layer::Parcels => "Cadastral parcels (current version), Lambert-93",
            Layer::Owners => "Rights of legal persons on parcels (DGFiP PPM), current version",
            Layer::Qpv => "Quartiers prioritaires (QPV), current version",
            Layer::Subsectors => "Sub-sectors of management, current version",
            Layer::Conventions => "Management convention perimeters, current version",
            Layer::Spaces => "Spaces of the sub-sectors with their manager per intervention kind (domania assign)",
            Layer::Buildings => "Buildings of the cadastre (EDIGÉO BATIMENT_id), current version",
            Layer::Sections => "Cadastral sections (EDIGÉO SECTION_id), current version",
            Layer::Addresses => "Addresses of the Base Adresse Nationale (x, y in Lambert-93), current version",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Layer {
    type Err = UnknownLayer;
    fn from_str(s: &str) -> Result<Self, UnknownLayer> {
        Layer::ALL.into_iter().find(|l| l.as_str() == s).ok_or_else(|| UnknownLayer(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for l in Layer::ALL {
            assert_eq!(l.as_str().parse::<Layer>().unwrap(), l);
            assert_eq!(serde_json::to_string(&l).unwrap(), format!("\"{l}\""));
        }
        assert!("parcelles".parse::<Layer>().unwrap_err().to_string().contains("parcelles"));
        assert!(Layer::IMPORTED.iter().all(|l| l.is_imported()) && !Layer::Spaces.is_imported());
    }
}

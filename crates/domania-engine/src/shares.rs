//! Land by actor and owner in the zones of a layer: the overlay of parcels with zones, summed.

use domania_core::overlay::{Overlay, OverlayOptions, ZoneOverlay};
use domania_core::shares::{Holding, ZoneShares, zone_shares_with_contenance};
use domania_store::Layer;
use serde::Serialize;

use crate::snapshot::{Ledger, Snapshot, Zone};

/// Shares of one zone, with its key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyedShares {
    pub key: String,
    pub name: Option<String>,
    #[serde(flatten)]
    pub shares: ZoneShares,
    /// Pieces below the sliver tolerance: (IDU, m²).
    pub slivers: Vec<(String, f64)>,
}

/// How the figures of a [`SharesReport`] are made, said in every report.
pub const SHARES_METHOD: &str = "Areas in m², computed in Lambert-93. Each square metre counts once, under the \
    actor of its parcel: a parcel whose owners are of different actors counts under `indivision` (by_owner lists \
    each co-owner's equal part, with its own actor in owner_actor); a parcel no owner file covers counts under \
    `owner_unknown`, never as natural persons. `share` is the fraction of the rule's denominator \
    (denominator_m2: the cadastré land, or the whole zone when the rules say so); share_of_cadastre and \
    share_of_area give both fractions side by side. The non-cadastré space (streets…) is reported apart.";

/// Result of [`Snapshot::shares`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SharesReport {
    /// [`SHARES_METHOD`].
    pub method: &'static str,
    pub zones: Vec<KeyedShares>,
    /// Overlapping parcel pairs: (IDU, IDU, m²).
    pub overlaps: Vec<(String, String, f64)>,
}

impl Snapshot {
    /// Shares of the one zone `key` of `layer` (`None` when there is no such zone).
    #[must_use]
    pub fn shares_of_zone(
        &self,
        layer: Layer,
        key: &str,
        include_non_cadastre: bool,
        opts: OverlayOptions,
    ) -> Option<SharesReport> {
        let zone = self.zones(layer).iter().find(|z| z.key == key)?;
        let zones = std::slice::from_ref(zone);
        let o = self.overlay(zones, opts);
        Some(self.shares_of(zones, &o, include_non_cadastre))
    }

    /// Shares of every zone of `layer`.
    #[must_use]
    pub fn shares(&self, layer: Layer, include_non_cadastre: bool, opts: OverlayOptions) -> SharesReport {
        let zones = self.zones(layer);
        let o = self.overlay(zones, opts);
        self.shares_of(zones, &o, include_non_cadastre)
    }

    pub(crate) fn shares_of(&self, zones: &[Zone], o: &Overlay, include_non_cadastre: bool) -> SharesReport {
        let contenance: Vec<Option<f64>> = self.parcels.iter().map(|p| p.contenance.map(|c| c as f64)).collect();
        let land = Land { idu: &|i| &self.parcels[i].idu, contenance: &contenance, holdings: &self.holdings };
        land.shares(zones, o, include_non_cadastre)
    }
}

impl Ledger<'_> {
    /// The shares of every sub-sector from their overlay with the parcels (read from the file
    /// after the ledger): what [`Snapshot::shares`] gives for the sub-sectors. Only the
    /// parcels the overlay names are taken out of the ledger.
    #[must_use]
    pub fn subsector_shares(&self, overlay: &Overlay, include_non_cadastre: bool) -> SharesReport {
        // The parcels the overlay names, numbered afresh in the order they are met.
        let mut dense = vec![usize::MAX; self.parcels()];
        let mut named: Vec<usize> = Vec::new();
        let mut renumber = |p: &mut usize| {
            if dense[*p] == usize::MAX {
                dense[*p] = named.len();
                named.push(*p);
            }
            *p = dense[*p];
        };
        let mut o = overlay.clone();
        o.zones.iter_mut().flat_map(|z| &mut z.pieces).for_each(|piece| renumber(&mut piece.parcel));
        for x in &mut o.overlaps {
            renumber(&mut x.a);
            renumber(&mut x.b);
        }
        let holdings: Vec<Holding> = named.iter().map(|&p| self.holding(p)).collect();
        let contenance: Vec<Option<f64>> = named.iter().map(|&p| self.contenance(p).map(|c| c as f64)).collect();
        let land = Land { idu: &|d| self.idu(named[d]), contenance: &contenance, holdings: &holdings };
        land.shares(self.zones(Layer::Subsectors), &o, include_non_cadastre)
    }
}

/// What shares are counted from besides the overlay: each parcel's IDU, contenance and
/// holding, by position (a [`Snapshot`]'s or a file's ledger).
pub(crate) struct Land<'a> {
    pub(crate) idu: &'a dyn Fn(usize) -> &'a str,
    pub(crate) contenance: &'a [Option<f64>],
    pub(crate) holdings: &'a [Holding],
}

impl Land<'_> {
    /// The shares of one zone of `zones` from its overlay `z`.
    pub(crate) fn keyed(&self, zones: &[Zone], z: &ZoneOverlay, include_non_cadastre: bool) -> KeyedShares {
        KeyedShares {
            key: zones[z.zone].key.clone(),
            name: zones[z.zone].name.clone(),
            shares: zone_shares_with_contenance(z, self.holdings, self.contenance, include_non_cadastre),
            slivers: z
                .slivers
                .iter()
                .map(|&k| ((self.idu)(z.pieces[k].parcel).to_owned(), z.pieces[k].area_m2))
                .collect(),
        }
    }

    /// The shares of `zones` from their overlay `o` with the parcels.
    pub(crate) fn shares(&self, zones: &[Zone], o: &Overlay, include_non_cadastre: bool) -> SharesReport {
        let keyed = o.zones.iter().map(|z| self.keyed(zones, z, include_non_cadastre)).collect();
        SharesReport { method: SHARES_METHOD, zones: keyed, overlaps: self.overlaps(o) }
    }

    /// The overlapping parcels of `o`, by IDU, in the order of their IDUs (whichever parcels were
    /// read: all or those meeting the zones).
    pub(crate) fn overlaps(&self, o: &Overlay) -> Vec<(String, String, f64)> {
        let mut overlaps: Vec<(String, String, f64)> =
            o.overlaps.iter().map(|x| ((self.idu)(x.a).to_owned(), (self.idu)(x.b).to_owned(), x.area_m2)).collect();
        overlaps.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
        overlaps
    }
}

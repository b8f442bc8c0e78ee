//! Which versions of the store reach a server of one part of the territory (`serve --part`).
//!
//! A part holds its parcels, every sub-sector and QPV meeting them, every parcel (of any
//! commune) whose box meets one of those zones' boxes, and the owners and addresses of the
//! communes of the parcels it holds (`domania_store::served`). A version of a layer cut by
//! commune or département changes nothing of that when
//! - what it replaced (its scope) lies outside the part's communes or départements and
//!   outside every commune of a parcel the part holds, and
//! - for a layer of shapes, the box of every shape it changed, as it was and as it is
//!   (`domania_reach`, written by the import), meets no box of a zone the part holds.
//!
//! A zone layer is one dataset: each of its versions reaches every part. So does a version
//! whose box is unknown (written before boxes were kept, or copied from another store).
//!
//! A part's *effective* version of a layer is the latest version that reaches it: its
//! snapshot, the file it keeps and the `ETag` of its answers are those of its effective
//! versions, so that a commune's correction in one département neither rebuilds the servers
//! of the others nor changes their answers' tags. Judging the versions after the effective
//! one with what the part holds now is sound: what it holds changes only through a version
//! that reaches it.

use std::collections::{BTreeMap, BTreeSet};

use domania_engine::Snapshot;
use domania_store::{Scope, ScopeKind, Store, VersionReach};
use geo::BoundingRect;

use crate::Layer;

/// What a version must meet to reach a part: the part, the communes of the parcels it holds
/// and the boxes of the zones it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct PartReach {
    part: Scope,
    communes: BTreeSet<String>,
    /// `[xmin, ymin, xmax, ymax]` of each sub-sector and QPV held.
    zones: Vec<[f64; 4]>,
}

/// Whether two scope codes name places one inside the other (a département and its communes,
/// a commune and its sections: their codes begin alike).
fn nested(a: &str, b: &str) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

impl PartReach {
    /// What `snapshot`, held for `part`, is reached by.
    #[must_use]
    pub fn of(part: &Scope, snapshot: &Snapshot) -> Self {
        let communes = snapshot.parcels().iter().filter_map(|p| p.idu.get(0..5)).map(str::to_owned).collect();
        let zones = [Layer::Subsectors, Layer::Qpv]
            .into_iter()
            .flat_map(|l| snapshot.zones(l))
            .filter_map(|z| z.geom_l93.bounding_rect())
            .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
            .collect();
        Self { part: part.clone(), communes, zones }
    }

    /// Whether version `v` of `layer` may change what the part holds.
    #[must_use]
    pub fn reaches(&self, layer: Layer, v: &VersionReach) -> bool {
        let Some(codes) = v.scope.codes.as_ref().filter(|_| v.scope.kind != ScopeKind::Layer) else {
            return true;
        };
        if matches!(layer, Layer::Qpv | Layer::Subsectors | Layer::Conventions | Layer::Spaces) {
            return true;
        }
        let part = self.part.codes.as_ref();
        if codes
            .iter()
            .any(|c| part.is_none_or(|p| p.iter().any(|p| nested(c, p))) || self.communes.iter().any(|h| nested(c, h)))
        {
            return true;
        }
        if !layer.is_spatial() {
            return false;
        }
        let Some([x0, y0, x1, y1]) = v.envelope else { return true };
        #[allow(clippy::cast_precision_loss)]
        let (x0, y0, x1, y1) = (x0 as f64, y0 as f64, x1 as f64, y1 as f64);
        self.zones.iter().any(|z| z[0] <= x1 && x0 <= z[2] && z[1] <= y1 && y0 <= z[3])
    }

    /// The part's effective versions of the store at `versions`: for each layer, the latest
    /// version up to the current one that reaches the part (`None`: none does).
    ///
    /// # Errors
    /// When the store's records cannot be read.
    pub fn effective(
        &self,
        store: &Store,
        versions: &BTreeMap<Layer, Option<i64>>,
    ) -> domania_store::Result<BTreeMap<Layer, Option<i64>>> {
        versions
            .iter()
            .map(|(&layer, &current)| {
                let Some(current) = current else { return Ok((layer, None)) };
                let reaches = store.reaches(layer)?;
                let effective = reaches
                    .iter()
                    .rev()
                    .filter(|v| v.version <= current)
                    .find(|v| self.reaches(layer, v))
                    .map(|v| v.version);
                Ok((layer, effective))
            })
            .collect()
    }

    /// As kept at the head of the snapshot file: the part, the communes, then one zone box per
    /// line (each number as Rust writes an `f64`: read back exactly).
    #[must_use]
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = format!("{}\n{}\n", self.part, self.communes.iter().cloned().collect::<Vec<_>>().join(","));
        for z in &self.zones {
            let _ = writeln!(s, "{} {} {} {}", z[0], z[1], z[2], z[3]);
        }
        s
    }

    /// Read back from [`PartReach::to_text`] (`None` when it is not such a text).
    #[must_use]
    pub fn from_text(text: &str) -> Option<Self> {
        let mut lines = text.lines();
        let part: Scope = lines.next()?.parse().ok()?;
        let communes = lines.next()?.split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect();
        let zones = lines
            .map(|l| {
                let n: Vec<f64> = l.split(' ').map(str::parse).collect::<Result<_, _>>().ok()?;
                <[f64; 4]>::try_from(n).ok()
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self { part, communes, zones })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach(version: i64, scope: &str, envelope: Option<[i64; 4]>) -> VersionReach {
        VersionReach { version, scope: scope.parse().unwrap(), envelope }
    }

    /// Part 78, holding a parcel of 95001 across the border (it meets a zone of 78's).
    fn part() -> PartReach {
        PartReach {
            part: "departement=78".parse().unwrap(),
            communes: ["78440", "95001"].into_iter().map(str::to_owned).collect(),
            zones: vec![[0.0, 0.0, 25.0, 10.0]],
        }
    }

    #[test]
    fn a_version_reaches_a_part_through_its_scope_its_held_communes_or_its_shapes() {
        let p = part();
        // In the part, or in a commune it holds a parcel of: reached, whatever the shapes.
        assert!(p.reaches(Layer::Parcels, &reach(2, "commune=78440", Some([1000, 1000, 1001, 1001]))));
        assert!(p.reaches(Layer::Owners, &reach(2, "commune=95001", None)));
        assert!(p.reaches(Layer::Owners, &reach(2, "departement=95", None)));
        assert!(p.reaches(Layer::Parcels, &reach(2, "section=78440000AB", Some([1000, 1000, 1001, 1001]))));
        // Elsewhere: owners never; parcels when their box meets a zone held (a parcel of 95002
        // drawn into the zone), or when the box is unknown.
        assert!(!p.reaches(Layer::Owners, &reach(2, "commune=95002", None)));
        assert!(!p.reaches(Layer::Parcels, &reach(2, "commune=95002", Some([30, 0, 40, 10]))));
        assert!(p.reaches(Layer::Parcels, &reach(2, "commune=95002", Some([25, 10, 40, 20]))));
        assert!(p.reaches(Layer::Parcels, &reach(2, "commune=95002", None)));
        // The whole layer, or a zone layer: always.
        assert!(p.reaches(Layer::Parcels, &reach(2, "layer", Some([1000, 1000, 1001, 1001]))));
        assert!(p.reaches(Layer::Subsectors, &reach(2, "layer", None)));
        // A server of the whole territory is reached by everything.
        let whole = PartReach { part: Scope::layer(), ..part() };
        assert!(whole.reaches(Layer::Owners, &reach(2, "commune=13055", None)));
    }

    #[test]
    fn what_reaches_a_part_is_kept_as_text_and_read_back_exactly() {
        let mut p = part();
        p.zones.push([652_123.456_789_012_3, 6_862_000.1, 0.1 + 0.2, f64::MAX]);
        assert_eq!(PartReach::from_text(&p.to_text()), Some(p));
        assert_eq!(PartReach::from_text("departement=78\n\n1 2 3\n"), None);
        assert_eq!(PartReach::from_text(""), None);
    }
}

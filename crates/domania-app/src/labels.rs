//! The map's bearings without a basemap: each cadastral section's name at a point inside it,
//! each street's name along its addresses (see `domania_tiles::labels`), built once per
//! snapshot.

use std::collections::BTreeMap;

use domania_tiles::labels::{LabelKind, Labels, PlacedLabel, street_line};

/// The labels of a snapshot: each section's name at the inner point of its most central parcel,
/// each street's name along its addresses.
#[must_use]
pub fn of(snap: &domania_engine::Snapshot, addresses: &crate::addresses::AddressIndex) -> Labels {
    use geo::{BoundingRect, InteriorPoint};
    // Each section's parcels, each with its box's centre.
    type Centred = Vec<(usize, (f64, f64))>;
    let mut sections: BTreeMap<&str, Centred> = BTreeMap::new();
    for (i, p) in snap.parcels().iter().enumerate() {
        if let (Some(key), Some(b)) = (p.idu.get(0..10), p.geom_l93.bounding_rect()) {
            sections.entry(key).or_default().push((i, (b.center().x, b.center().y)));
        }
    }
    let mut placed = Vec::with_capacity(sections.len());
    for (key, parcels) in sections {
        let n = parcels.len() as f64;
        let (mx, my) = parcels.iter().fold((0.0, 0.0), |(x, y), (_, c)| (x + c.0 / n, y + c.1 / n));
        let d = |c: &(f64, f64)| (c.0 - mx).powi(2) + (c.1 - my).powi(2);
        let Some(&(i, _)) = parcels.iter().min_by(|a, b| d(&a.1).total_cmp(&d(&b.1))) else { continue };
        let Some(pt) = snap.parcels()[i].geom_l93.interior_point() else { continue };
        placed.push(PlacedLabel {
            kind: LabelKind::Section,
            name: key[8..10].trim_start_matches('0').to_owned(),
            commune: key[0..5].to_owned(),
            at: (pt.x(), pt.y()),
            to: None,
        });
    }
    for (name, commune, points) in addresses.streets(snap) {
        if let Some((a, b)) = street_line(&points) {
            placed.push(PlacedLabel {
                kind: LabelKind::Street,
                name: name.to_owned(),
                commune: commune.to_owned(),
                at: a,
                to: Some(b),
            });
        }
    }
    Labels::new(placed)
}

//! Questions asked of a snapshot (the server's, which holds one in memory): parcels by owner,
//! SIREN, actor, section or box, and an owner's land per QPV.

use domania_core::Actor;
use domania_core::Layer;
use domania_engine::Snapshot;
use geo::{Area, BooleanOps, Intersects};
use geo_types::Rect;
use serde::Serialize;

/// What a parcel search asks; every criterion given must hold.
#[derive(Debug, Clone, Default)]
pub struct ParcelFilter {
    /// Part of an owner's name, ignoring case and accents.
    pub owner: Option<String>,
    pub siren: Option<String>,
    /// The actor the parcel's land counts under.
    pub actor: Option<Actor>,
    /// `AB` (any commune; `0A` and `A` alike) or `75118AB` (commune and section).
    pub section: Option<String>,
    /// Parcels whose box meets this Lambert-93 box.
    pub bbox_l93: Option<Rect<f64>>,
}

/// Lowercase without accents, for forgiving name searches.
#[must_use]
pub fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' | 'æ' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' | 'õ' | 'œ' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ç' => 'c',
            'ÿ' => 'y',
            '’' => '\'',
            c => c,
        })
        .collect()
}

/// Whether a section criterion is well formed: 1–2 characters, or a commune and 1–2 characters.
#[must_use]
pub fn section_is_valid(s: &str) -> bool {
    matches!(s.len(), 1 | 2 | 6 | 7) && s.is_ascii()
}

fn section_matches(idu: &str, s: &str) -> bool {
    let (Some(commune), Some(section)) = (idu.get(0..5), idu.get(8..10)) else { return false };
    let same = |a: &str, b: &str| a.trim_start_matches('0') == b.trim_start_matches('0');
    match s.len() {
        1 | 2 => same(section, s),
        6 | 7 => s.get(0..5) == Some(commune) && s.get(5..).is_some_and(|x| same(section, x)),
        _ => false,
    }
}

/// The positions of the parcels meeting `f`, in store order.
#[must_use]
pub fn search_parcels(snap: &Snapshot, f: &ParcelFilter) -> Vec<usize> {
    let owner = f.owner.as_deref().map(fold);
    let section = f.section.as_deref().map(str::to_uppercase);
    let candidates: Vec<usize> = match f.bbox_l93 {
        Some(b) => snap.parcels_in_box(b),
        None => (0..snap.parcels().len()).collect(),
    };
    candidates
        .into_iter()
        .filter(|&i| {
            let (p, h) = (&snap.parcels()[i], &snap.holdings()[i]);
            section.as_deref().is_none_or(|s| section_matches(&p.idu, s))
                && f.actor.is_none_or(|a| h.actor() == a)
                && f.siren.as_deref().is_none_or(|s| h.owners.iter().any(|o| &*o.siren == s))
                && owner.as_deref().is_none_or(|n| h.owners.iter().any(|o| fold(&o.name).contains(n)))
        })
        .collect()
}

/// An owner's land: its parcels, its area (its equal part of parcels held with others), and
/// the same inside each QPV.
#[derive(Debug, Clone, Serialize)]
pub struct OwnerLand {
    pub siren: String,
    pub names: Vec<String>,
    pub actor: Actor,
    pub parcels: Vec<String>,
    pub area_m2: f64,
    pub by_qpv: Vec<QpvLand>,
}

/// An owner's land inside one QPV.
#[derive(Debug, Clone, Serialize)]
pub struct QpvLand {
    pub qpv: String,
    pub name: Option<String>,
    pub parcels: usize,
    pub area_m2: f64,
}

/// The land of the owner with this SIREN; `None` when it holds no parcel.
#[must_use]
pub fn owner_land(snap: &Snapshot, siren: &str) -> Option<OwnerLand> {
    let mut land = OwnerLand {
        siren: siren.to_owned(),
        names: Vec::new(),
        actor: Actor::Unknown,
        parcels: Vec::new(),
        area_m2: 0.0,
        by_qpv: Vec::new(),
    };
    let mut positions = Vec::new();
    for (i, (p, h)) in snap.parcels().iter().zip(snap.holdings()).enumerate() {
        if let Some(o) = h.owners.iter().find(|o| &*o.siren == siren) {
            land.parcels.push(p.idu.clone());
            if !land.names.iter().any(|n| n == &*o.name) {
                land.names.push(o.name.to_string());
            }
            land.actor = o.actor;
            land.area_m2 += p.geom_l93.unsigned_area() / h.owners.len() as f64;
            positions.push(i);
        }
    }
    if positions.is_empty() {
        return None;
    }
    for z in snap.zones(Layer::Qpv) {
        let (mut n, mut m2) = (0, 0.0);
        for &i in &positions {
            let p = &snap.parcels()[i];
            if !p.geom_l93.intersects(&z.geom_l93) {
                continue;
            }
            let inside = p.geom_l93.intersection(&z.geom_l93).unsigned_area();
            if inside > domania_core::overlay::SLIVER_M2 {
                n += 1;
                m2 += inside / snap.holdings()[i].owners.len() as f64;
            }
        }
        if n > 0 {
            land.by_qpv.push(QpvLand { qpv: z.key.clone(), name: z.name.clone(), parcels: n, area_m2: m2 });
        }
    }
    Some(land)
}

/// What a hit of [`find`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HitKind {
    Parcel,
    Owner,
    Qpv,
    Subsector,
}

/// One answer of the search box: what it is, its key (IDU, SIREN, QPV code, sub-sector id), a
/// label, and the Lambert-93 box to zoom to.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub kind: HitKind,
    pub id: String,
    pub label: String,
    /// Parcels it covers (an owner's), 1 for a parcel, 0 for a zone.
    pub parcels: usize,
    #[serde(skip)]
    pub box_l93: Rect<f64>,
}

/// The search box: an IDU (14 characters, or the end of one: `000AB0012`), a SIREN (9 digits),
/// part of an owner's name, a QPV code or name, a sub-sector id or name; ignoring case and
/// accents. Exact keys come first, then zones, then owners; at most `limit` hits.
#[must_use]
pub fn find(snap: &Snapshot, query: &str, limit: usize) -> Vec<Hit> {
    use geo::BoundingRect;
    let q = query.trim();
    if q.is_empty() || limit == 0 {
        return Vec::new();
    }
    let folded = fold(q);
    let upper = q.to_uppercase().replace(' ', "");
    let mut hits = Vec::new();
    // Parcels: the IDU itself, or IDUs ending with what was typed (a section and number).
    if upper.len() >= 6 && upper.chars().all(|c| c.is_ascii_alphanumeric()) {
        let exact = domania_core::Idu::normalise(&upper).ok().and_then(|i| snap.position(i.as_str()));
        let positions: Vec<usize> = match exact {
            Some(i) => vec![i],
            None => {
                (0..snap.parcels().len()).filter(|&i| snap.parcels()[i].idu.ends_with(&upper)).take(limit).collect()
            }
        };
        for i in positions {
            let p = &snap.parcels()[i];
            if let Some(b) = p.geom_l93.bounding_rect() {
                let label = format!("Parcelle {} ({})", p.idu, snap.holdings()[i].actor().label_fr());
                hits.push(Hit { kind: HitKind::Parcel, id: p.idu.clone(), label, parcels: 1, box_l93: b });
            }
        }
    }
    let zone_hits = |layer: Layer, kind: HitKind, what: &str, hits: &mut Vec<Hit>| {
        for z in snap.zones(layer) {
            let name = z.name.as_deref().unwrap_or("");
            if (fold(&z.key).contains(&folded) || fold(name).contains(&folded))
                && let Some(b) = z.geom_l93.bounding_rect()
            {
                let label =
                    if name.is_empty() { format!("{what} {}", z.key) } else { format!("{what} {} — {name}", z.key) };
                hits.push(Hit { kind, id: z.key.clone(), label, parcels: 0, box_l93: b });
            }
        }
    };
    zone_hits(Layer::Qpv, HitKind::Qpv, "QPV", &mut hits);
    zone_hits(Layer::Subsectors, HitKind::Subsector, "Sous-secteur", &mut hits);
    // Owners: by SIREN, or by a part of their name (three characters at least).
    let by_siren = q.len() == 9 && q.chars().all(|c| c.is_ascii_digit());
    if by_siren || folded.chars().count() >= 3 {
        let mut owners: Vec<(String, String, usize, Option<Rect<f64>>)> = Vec::new();
        let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for (p, h) in snap.parcels().iter().zip(snap.holdings()) {
            for o in &h.owners {
                let hit = if by_siren { &*o.siren == q } else { fold(&o.name).contains(&folded) };
                if !hit {
                    continue;
                }
                let key = if o.siren.is_empty() { o.name.to_string() } else { o.siren.to_string() };
                let n = *at.entry(key.clone()).or_insert_with(|| {
                    owners.push((key, o.name.to_string(), 0, None));
                    owners.len() - 1
                });
                owners[n].2 += 1;
                owners[n].3 = match (owners[n].3, p.geom_l93.bounding_rect()) {
                    (Some(a), Some(b)) => Some(domania_core::crs::box_union(a, b)),
                    (a, b) => a.or(b),
                };
            }
        }
        owners.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        for (id, name, parcels, b) in owners {
            if let Some(b) = b {
                let plural = if parcels > 1 { "s" } else { "" };
                let label = if id == name {
                    format!("{name} — {parcels} parcelle{plural}")
                } else {
                    format!("{name} (SIREN {id}) — {parcels} parcelle{plural}")
                };
                hits.push(Hit { kind: HitKind::Owner, id, label, parcels, box_l93: b });
            }
        }
    }
    hits.truncate(limit);
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_case_and_accents_and_sections_match_loosely() {
        assert_eq!(fold("Société d’HLM Élan"), "societe d'hlm elan");
        assert!(section_matches("75118000AB0001", "AB"));
        assert!(section_matches("75118000AB0001", "75118AB"));
        assert!(section_matches("751180000A0001", "A") && section_matches("751180000A0001", "0A"));
        assert!(!section_matches("75118000AB0001", "75117AB"));
        assert!(section_is_valid("AB") && section_is_valid("75118AB") && !section_is_valid("118AB"));
    }
}

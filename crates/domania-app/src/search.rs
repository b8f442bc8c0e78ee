//! The search box: an IDU or its end, a SIREN or part of an owner's name, a QPV or a
//! sub-sector, ignoring case and accents; each hit with the box to zoom to.

use domania_core::Layer;
use domania_engine::Snapshot;
use domania_i18n::{Arg, Lang};
use geo_types::Rect;
use serde::Serialize;

use crate::held::Held;

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
pub fn find(snap: &Snapshot, query: &str, limit: usize, lang: Lang) -> Vec<Hit> {
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
                let actor = crate::said::actor_label(snap.holdings()[i].actor(), lang);
                let label = lang.t("search-parcel", &[("idu", p.idu.as_str().into()), ("actor", actor.into())]);
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
    zone_hits(Layer::Subsectors, HitKind::Subsector, &lang.t("search-subsector", &[]), &mut hits);
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
                let args =
                    [("name", Arg::from(name.as_str())), ("siren", id.as_str().into()), ("count", parcels.into())];
                let label = lang.t(if id == name { "search-owner" } else { "search-owner-siren" }, &args);
                hits.push(Hit { kind: HitKind::Owner, id, label, parcels, box_l93: b });
            }
        }
    }
    hits.truncate(limit);
    hits
}

/// A hit with its box in CRS84.
#[derive(Debug, Serialize)]
pub struct HitView<'a> {
    #[serde(flatten)]
    pub hit: &'a Hit,
    /// `[west, south, east, north]`.
    pub bbox: [f64; 4],
}

/// The answer of the search box.
#[derive(Debug, Serialize)]
pub struct SearchAnswer<'a> {
    pub query: &'a str,
    pub hits: Vec<HitView<'a>>,
}

/// The most hits a search returns.
pub const MAX_HITS: usize = 50;

impl Held {
    /// The hits of `query` (at most `limit`, brought into 1 to [`MAX_HITS`]).
    #[must_use]
    pub fn search(&self, query: &str, limit: usize, lang: Lang) -> Vec<Hit> {
        find(&self.snapshot, query, limit.clamp(1, MAX_HITS), lang)
    }
}

/// The hits of a search with their boxes in CRS84.
#[must_use]
pub fn answer<'a>(query: &'a str, hits: &'a [Hit]) -> SearchAnswer<'a> {
    SearchAnswer {
        query,
        hits: hits
            .iter()
            .map(|h| HitView { hit: h, bbox: domania_core::crs::lambert93_box_to_crs84(h.box_l93) })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_case_and_accents() {
        assert_eq!(fold("Société d’HLM Élan"), "societe d'hlm elan");
    }
}

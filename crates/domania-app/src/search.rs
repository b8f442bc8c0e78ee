//! The search box: an IDU or its end, a section, a commune, an address or a street (see
//! [`crate::addresses`]), a SIREN or part of an owner's name, a QPV or a sub-sector, ignoring
//! case and accents; each hit with the box to zoom to.

use domania_core::Layer;
use domania_engine::Snapshot;
use domania_i18n::{Arg, Lang};
use geo_types::Rect;
use std::collections::HashMap;

use serde::Serialize;

pub use crate::communes::fold;

/// What a hit of [`find`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HitKind {
    Parcel,
    Owner,
    Qpv,
    Subsector,
    Commune,
    Section,
    /// An address (of the BAN, or of the owner file).
    Address,
    /// A street: all its addresses.
    Street,
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
    /// A point inside a parcel hit (Lambert-93), where its "who maintains this" answer is asked.
    #[serde(skip)]
    pub point_l93: Option<(f64, f64)>,
    /// The SIRENs of an owner hit that groups several owners of one name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sirens: Vec<String>,
    /// Where an address or street hit comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<crate::addresses::AddressSource>,
}

/// A section a query names: `78440 AB`, `78440AB`, `78440000AB`, `75118 0A` (a commune's
/// INSEE code, its prefix or not, one or two characters of section with a letter among them).
fn section_query(upper: &str) -> Option<(String, Option<String>, String)> {
    let (commune, rest) = (upper.get(0..5)?, upper.get(5..)?);
    if !commune.chars().all(|c| c.is_ascii_alphanumeric()) || !commune[..2].chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let (prefix, section) = match rest.len() {
        1 | 2 => (None, rest),
        4 | 5 if rest[..3].chars().all(|c| c.is_ascii_digit()) => (Some(rest[..3].to_owned()), &rest[3..]),
        _ => return None,
    };
    if !section.chars().all(|c| c.is_ascii_alphanumeric()) || !section.chars().any(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    Some((commune.to_owned(), prefix, format!("{section:0>2}")))
}

/// What the search box looks things up in, built once per snapshot (on the first search: about
/// a second per million parcels): each owner with its parcels, each commune's and each
/// section's parcels, counted and boxed. A search then reads tens of thousands of entries, not a
/// million parcels.
#[derive(Debug, Default)]
pub struct SearchIndex {
    owners: Vec<IndexedOwner>,
    /// The owners by name, and their folded names one after the other with a line break
    /// between, with where each starts: a part of a name is found by one SIMD substring search
    /// over the whole text (`memchr::memmem`) rather than one comparison per owner.
    groups: Vec<OwnerGroup>,
    owner_text: String,
    owner_starts: Vec<usize>,
    /// Parcels and box per commune code.
    communes: HashMap<String, (usize, Rect<f64>)>,
    /// Parcels and box per (commune, prefix, section).
    sections: HashMap<(String, String, String), (usize, Rect<f64>)>,
    /// The addresses and their streets.
    addresses: crate::addresses::AddressIndex,
    /// Each QPV's and sub-sector's key and name, folded once.
    zones: Vec<(Layer, usize, String, String)>,
}

/// One owner (a SIREN and a name) of the snapshot.
#[derive(Debug)]
struct IndexedOwner {
    folded: String,
    name: String,
    siren: String,
    parcels: usize,
    bbox: Rect<f64>,
}

/// The owners of one name, folded (twenty "SCI DU QUARTIER", each its own SIREN, are one).
#[derive(Debug)]
struct OwnerGroup {
    name: String,
    /// Their SIRENs, sorted, each once.
    sirens: Vec<String>,
    parcels: usize,
    bbox: Rect<f64>,
}

fn grow(entry: &mut (usize, Rect<f64>), b: Rect<f64>) {
    entry.0 += 1;
    entry.1 = domania_core::crs::box_union(entry.1, b);
}

impl SearchIndex {
    /// The addresses and their streets.
    #[must_use]
    pub fn addresses(&self) -> &crate::addresses::AddressIndex {
        &self.addresses
    }

    /// The index of a snapshot.
    #[must_use]
    pub fn build(snap: &Snapshot) -> Self {
        use geo::BoundingRect;
        let mut index = SearchIndex::default();
        let mut owner_at: HashMap<(&str, &str), usize> = HashMap::new();
        for (p, h) in snap.parcels().iter().zip(snap.holdings()) {
            let Some(b) = p.geom_l93.bounding_rect() else { continue };
            if let (Some(commune), Some(prefix), Some(section)) = (p.idu.get(0..5), p.idu.get(5..8), p.idu.get(8..10)) {
                grow(index.communes.entry(commune.to_owned()).or_insert((0, b)), b);
                let key = (commune.to_owned(), prefix.to_owned(), section.to_owned());
                grow(index.sections.entry(key).or_insert((0, b)), b);
            }
            for o in h.owners.iter() {
                let n = *owner_at.entry((&o.siren, &o.name)).or_insert_with(|| {
                    index.owners.push(IndexedOwner {
                        folded: fold(&o.name),
                        name: o.name.to_string(),
                        siren: o.siren.to_string(),
                        parcels: 0,
                        bbox: b,
                    });
                    index.owners.len() - 1
                });
                let e = &mut index.owners[n];
                e.parcels += 1;
                e.bbox = domania_core::crs::box_union(e.bbox, b);
            }
        }
        let mut group_of: HashMap<&str, usize> = HashMap::new();
        for o in &index.owners {
            let g = *group_of.entry(o.folded.as_str()).or_insert_with(|| {
                index.groups.push(OwnerGroup { name: o.name.clone(), sirens: Vec::new(), parcels: 0, bbox: o.bbox });
                index.owner_starts.push(index.owner_text.len());
                index.owner_text.push_str(&o.folded);
                index.owner_text.push('\n');
                index.groups.len() - 1
            });
            let group = &mut index.groups[g];
            if !o.siren.is_empty() {
                group.sirens.push(o.siren.clone());
            }
            group.parcels += o.parcels;
            group.bbox = domania_core::crs::box_union(group.bbox, o.bbox);
        }
        for g in &mut index.groups {
            g.sirens.sort_unstable();
            g.sirens.dedup();
        }
        index.addresses = crate::addresses::AddressIndex::build(snap);
        for layer in [Layer::Qpv, Layer::Subsectors] {
            for (i, z) in snap.zones(layer).iter().enumerate() {
                index.zones.push((layer, i, fold(&z.key), fold(z.name.as_deref().unwrap_or(""))));
            }
        }
        index
    }
}

/// The search box: a section (`78440 AB`), an IDU (14 characters, or the end of one:
/// `000AB0012`), a commune (name, INSEE code or postcode), a SIREN (9 characters), part of an
/// owner's name, a QPV code or name, a sub-sector id or name; ignoring case, accents and
/// hyphens. Exact keys come first, then communes, zones, then owners; at most `limit` hits.
#[must_use]
pub fn find(snap: &Snapshot, index: &SearchIndex, query: &str, limit: usize, lang: Lang) -> Vec<Hit> {
    use geo::BoundingRect;
    let q = query.trim();
    if q.is_empty() || limit == 0 {
        return Vec::new();
    }
    let folded = fold(q);
    let upper = q.to_uppercase().replace(' ', "");
    let mut hits = Vec::new();
    let communes = crate::communes::communes();
    // A section of a commune: every parcel of it (under any prefix unless one is given).
    if let Some((commune, prefix, section)) = section_query(&upper) {
        let (count, b) = index
            .sections
            .iter()
            .filter(|((c, p, sec), _)| *c == commune && *sec == section && prefix.as_ref().is_none_or(|x| x == p))
            .fold((0, None), |(n, acc): (usize, Option<Rect<f64>>), (_, (k, b))| {
                (n + k, Some(acc.map_or(*b, |a| domania_core::crs::box_union(a, *b))))
            });
        if let Some(b) = b {
            let id = format!("{commune}{}{section}", prefix.as_deref().unwrap_or("000"));
            let args = [
                ("section", Arg::from(section.trim_start_matches('0'))),
                ("commune", communes.label(&commune).into()),
                ("count", count.into()),
            ];
            let label = lang.t("search-section", &args);
            hits.push(Hit {
                kind: HitKind::Section,
                id,
                label,
                parcels: count,
                box_l93: b,
                point_l93: None,
                sirens: Vec::new(),
                source: None,
            });
        }
    }
    // Parcels: the IDU itself, or IDUs ending with what was typed (a section and a number: it
    // ends with a digit; a name or a section does not start a scan of every parcel).
    if upper.len() >= 6
        && upper.chars().all(|c| c.is_ascii_alphanumeric())
        && upper.ends_with(|c: char| c.is_ascii_digit())
    {
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
                use geo::InteriorPoint;
                let actor = crate::said::actor_label(snap.holdings()[i].actor(), lang);
                let commune = communes.label(p.idu.get(0..5).unwrap_or(""));
                let args = [("idu", p.idu.as_str().into()), ("actor", actor.into()), ("commune", commune.into())];
                let label = lang.t("search-parcel", &args);
                let point_l93 = p.geom_l93.interior_point().map(|pt| (pt.x(), pt.y()));
                hits.push(Hit {
                    kind: HitKind::Parcel,
                    id: p.idu.clone(),
                    label,
                    parcels: 1,
                    box_l93: b,
                    point_l93,
                    sirens: Vec::new(),
                    source: None,
                });
            }
        }
    }
    // Communes by name, code or postcode, those the store holds parcels of.
    let named: Vec<&crate::communes::Commune> = communes.find(q).into_iter().take(MAX_HITS).collect();
    if !named.is_empty() {
        let found = &index.communes;
        for c in named {
            if let Some(&(count, b)) = found.get(c.code.as_str()) {
                let args = [("commune", Arg::from(communes.label(&c.code))), ("count", count.into())];
                let label = lang.t("search-commune", &args);
                hits.push(Hit {
                    kind: HitKind::Commune,
                    id: c.code.clone(),
                    label,
                    parcels: count,
                    box_l93: b,
                    point_l93: None,
                    sirens: Vec::new(),
                    source: None,
                });
            }
        }
    }
    // Addresses: the exact number first, then the streets.
    for f in index.addresses.find(snap, q, limit) {
        let source = lang.t(
            match f.source {
                crate::addresses::AddressSource::Ban => "address-source-ban",
                crate::addresses::AddressSource::Ppm => "address-source-ppm",
            },
            &[],
        );
        // An address line: its postcode and its commune's name (`75018 Paris 18e
        // Arrondissement`); without a postcode, the commune's code and name.
        let commune = match (&f.postcode, communes.get(&f.commune)) {
            (Some(pc), Some(c)) => format!("{pc} {}", c.name),
            _ => communes.label(&f.commune),
        };
        let label = if f.street {
            let args = [
                ("street", Arg::from(f.text.as_str())),
                ("commune", commune.into()),
                ("count", f.count.into()),
                ("source", source.into()),
            ];
            lang.t("search-street", &args)
        } else {
            let args =
                [("address", Arg::from(f.text.as_str())), ("commune", commune.into()), ("source", source.into())];
            lang.t("search-address", &args)
        };
        hits.push(Hit {
            kind: if f.street { HitKind::Street } else { HitKind::Address },
            id: f.id,
            label,
            parcels: 0,
            box_l93: f.box_l93,
            point_l93: f.point_l93,
            sirens: Vec::new(),
            source: Some(f.source),
        });
    }
    let zone_hits = |layer: Layer, kind: HitKind, what: &str, hits: &mut Vec<Hit>| {
        for (_, i, key, name) in index.zones.iter().filter(|z| z.0 == layer) {
            let z = &snap.zones(layer)[*i];
            let name_shown = z.name.as_deref().unwrap_or("");
            if (key.contains(&folded) || name.contains(&folded))
                && let Some(b) = z.geom_l93.bounding_rect()
            {
                let name = name_shown;
                let label =
                    if name.is_empty() { format!("{what} {}", z.key) } else { format!("{what} {} — {name}", z.key) };
                hits.push(Hit {
                    kind,
                    id: z.key.clone(),
                    label,
                    parcels: 0,
                    box_l93: b,
                    point_l93: None,
                    sirens: Vec::new(),
                    source: None,
                });
            }
        }
    };
    zone_hits(Layer::Qpv, HitKind::Qpv, "QPV", &mut hits);
    zone_hits(Layer::Subsectors, HitKind::Subsector, &lang.t("search-subsector", &[]), &mut hits);
    // Owners: by SIREN, or by a part of their name (three characters at least). Owners of one
    // name (twenty "SCI DU QUARTIER", each its own SIREN) are one hit.
    let by_siren =
        q.len() == 9 && q.chars().all(|c| c.is_ascii_alphanumeric()) && q.chars().any(|c| c.is_ascii_digit());
    if by_siren || folded.chars().count() >= 3 {
        // The owners of one SIREN (grouped by name), or the groups of names holding the text.
        let mut owners: Vec<OwnerGroup> = Vec::new();
        if by_siren {
            for o in index.owners.iter().filter(|o| o.siren.eq_ignore_ascii_case(q)) {
                match owners.iter_mut().find(|g| fold(&g.name) == o.folded) {
                    Some(g) => {
                        g.parcels += o.parcels;
                        g.bbox = domania_core::crs::box_union(g.bbox, o.bbox);
                    }
                    None => owners.push(OwnerGroup {
                        name: o.name.clone(),
                        sirens: vec![o.siren.clone()],
                        parcels: o.parcels,
                        bbox: o.bbox,
                    }),
                }
            }
        } else {
            let mut at: Vec<usize> = memchr::memmem::find_iter(index.owner_text.as_bytes(), folded.as_bytes())
                .map(|m| index.owner_starts.partition_point(|&s| s <= m) - 1)
                .collect();
            at.dedup();
            // The most parcels first: only the first `limit` are sorted.
            let order = |a: &usize, b: &usize| {
                let (x, y) = (&index.groups[*a], &index.groups[*b]);
                y.parcels.cmp(&x.parcels).then_with(|| x.name.cmp(&y.name))
            };
            if at.len() > limit {
                at.select_nth_unstable_by(limit, order);
                at.truncate(limit);
            }
            at.sort_by(order);
            owners = at
                .into_iter()
                .map(|i| {
                    let g = &index.groups[i];
                    OwnerGroup { name: g.name.clone(), sirens: g.sirens.clone(), parcels: g.parcels, bbox: g.bbox }
                })
                .collect();
        }
        for f in owners.into_iter().take(limit) {
            let (id, key) = match f.sirens.len() {
                1 => {
                    let siren = f.sirens[0].clone();
                    let dgfip = !(siren.len() == 9 && siren.chars().all(|c| c.is_ascii_digit()));
                    (siren, if dgfip { "search-owner-dgfip" } else { "search-owner-siren" })
                }
                0 => (f.name.clone(), "search-owner"),
                _ => (f.name.clone(), "search-owner-group"),
            };
            let args = [
                ("name", Arg::from(f.name.as_str())),
                ("siren", id.as_str().into()),
                ("owners", f.sirens.len().into()),
                ("count", f.parcels.into()),
            ];
            let label = lang.t(key, &args);
            let sirens = if f.sirens.len() > 1 { f.sirens } else { Vec::new() };
            let (parcels, source, box_l93) = (f.parcels, None, f.bbox);
            hits.push(Hit { kind: HitKind::Owner, id, label, parcels, box_l93, point_l93: None, sirens, source });
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
    /// A parcel's inner point `[lon, lat]`: where its answer is asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point: Option<[f64; 2]>,
}

/// The answer of the search box.
#[derive(Debug, Serialize)]
pub struct SearchAnswer<'a> {
    pub query: &'a str,
    pub hits: Vec<HitView<'a>>,
}

/// The most hits a search returns.
pub const MAX_HITS: usize = 50;

/// The hits of a search with their boxes in CRS84.
#[must_use]
pub fn answer<'a>(query: &'a str, hits: &'a [Hit]) -> SearchAnswer<'a> {
    SearchAnswer {
        query,
        hits: hits
            .iter()
            .map(|h| HitView {
                hit: h,
                bbox: domania_core::crs::lambert93_box_to_crs84(h.box_l93),
                point: h.point_l93.map(|(x, y)| {
                    let (lon, lat) =
                        domania_core::crs::Crs::lambert93().transform_to(&domania_core::crs::Crs::wgs84(), x, y);
                    [(lon * 1e7).round() / 1e7, (lat * 1e7).round() / 1e7]
                }),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_read_as_people_write_them() {
        let s = |q: &str| section_query(&q.to_uppercase().replace(' ', ""));
        assert_eq!(s("78440 AB"), Some(("78440".into(), None, "AB".into())));
        assert_eq!(s("78440000ab"), Some(("78440".into(), Some("000".into()), "AB".into())));
        assert_eq!(s("75118 A"), Some(("75118".into(), None, "0A".into())));
        assert_eq!(s("2A004 B"), Some(("2A004".into(), None, "0B".into())), "Corsica");
        assert_eq!(s("78440"), None);
        assert_eq!(s("78440 12"), None, "a section has a letter");
        assert_eq!(s("78440000AB0012"), None, "a parcel, not a section");
    }

    #[test]
    fn names_fold_case_and_accents() {
        assert_eq!(fold("Société d’HLM Élan"), "societe d'hlm elan");
    }
}

//! Every spatial layer of a held snapshot as an OGC API – Features collection (Part 1: core,
//! GeoJSON, OpenAPI 3.0; Part 2: CRS by reference): the landing page, the conformance classes,
//! the collections with their extents, pages of features filtered by box and by property
//! equality, and one feature; output in CRS84 or in Lambert-93 (EPSG:2154), which is what a
//! French SIG officer's QGIS project is in. The links are absolute, on the base URL the
//! caller gives (the server's public URL).

use std::collections::BTreeMap;

use domania_core::Layer;
use domania_core::crs::Crs;
use geo_types::MultiPolygon;
use serde::Serialize;
use serde::ser::Serializer;

use crate::error::{AppError, ErrorCode, Result};
use crate::geojson::{Written, serialize_geometry};
use crate::held::Held;
use crate::i18n::Lang;
use crate::point::{Bbox, Page, bbox_l93};

pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
pub const EPSG_2154: &str = "http://www.opengis.net/def/crs/EPSG/0/2154";

/// The conformance classes implemented. HTML is served for the landing page only, so the HTML
/// class is not claimed.
pub const CONFORMANCE: [&str; 4] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
];

/// The collections: the store's spatial layers (id, title, description).
pub const COLLECTIONS: [(&str, &str, &str); 5] = [
    ("parcels", "Parcels", "Cadastral parcels with the actor their land counts under and their owners (legal persons)"),
    ("qpv", "QPV", "Quartiers prioritaires de la politique de la ville"),
    ("subsectors", "Sub-sectors", "Sub-sectors with each actor's share and the management decision"),
    ("conventions", "Conventions", "Perimeters of management conventions"),
    ("spaces", "Spaces and managers", "Every space of the sub-sectors with its manager per intervention kind"),
];

/// The query parameters of `/items` that are not property filters.
pub const RESERVED: [&str; 7] = ["bbox", "bbox-crs", "crs", "limit", "offset", "f", "datetime"];

/// The default page of `/items`.
pub const DEFAULT_LIMIT: usize = 100;

/// A link.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub href: String,
    pub rel: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
}

fn link(href: String, rel: &'static str, kind: &'static str, title: &'static str) -> Link {
    Link { href, rel, kind, title }
}

/// The landing page.
#[derive(Debug, Serialize)]
pub struct Landing {
    pub title: &'static str,
    pub description: &'static str,
    pub links: Vec<Link>,
}

/// The landing page of the API at `base`.
#[must_use]
pub fn landing(base: &str) -> Landing {
    Landing {
        title: "Domania",
        description: "Who owns and who must maintain every piece of ground of an urban community",
        links: vec![
            link(format!("{base}/?f=json"), "self", "application/json", "this document"),
            link(format!("{base}/?f=html"), "alternate", "text/html", "this document as HTML"),
            link(
                format!("{base}/api"),
                "service-desc",
                "application/vnd.oai.openapi+json;version=3.0",
                "the API definition",
            ),
            link(format!("{base}/conformance"), "conformance", "application/json", "conformance classes"),
            link(format!("{base}/collections"), "data", "application/json", "the collections"),
        ],
    }
}

/// The conformance classes.
#[derive(Debug, Serialize)]
pub struct Conformance {
    #[serde(rename = "conformsTo")]
    pub conforms_to: &'static [&'static str],
}

/// The conformance declaration.
#[must_use]
pub fn conformance() -> Conformance {
    Conformance { conforms_to: &CONFORMANCE }
}

/// The spatial extent of a collection.
#[derive(Debug, Serialize)]
pub struct Spatial {
    pub bbox: Vec<[f64; 4]>,
    pub crs: &'static str,
}

/// The extent of a collection.
#[derive(Debug, Serialize)]
pub struct Extent {
    pub spatial: Spatial,
}

/// A collection.
#[derive(Debug, Serialize)]
pub struct Collection {
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    #[serde(rename = "itemType")]
    pub item_type: &'static str,
    pub crs: [&'static str; 2],
    #[serde(rename = "storageCrs")]
    pub storage_crs: &'static str,
    pub extent: Extent,
    pub links: Vec<Link>,
}

/// The collections.
#[derive(Debug, Serialize)]
pub struct Collections {
    pub links: Vec<Link>,
    pub collections: Vec<Collection>,
}

/// The metadata of collection `id`.
pub fn collection_meta(id: &str) -> Result<(&'static str, &'static str, &'static str)> {
    COLLECTIONS.iter().find(|(c, _, _)| *c == id).copied().ok_or_else(|| {
        AppError::said(
            ErrorCode::NotFound,
            "error-no-collection",
            vec![("id", id.into()), ("known", "parcels, qpv, subsectors, conventions, spaces".into())],
        )
    })
}

/// A value of a feature's property.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Prop {
    Text(String),
    Int(i64),
    Num(f64),
    Bool(bool),
    Null,
}

impl Prop {
    fn text(s: impl Into<String>) -> Self {
        Prop::Text(s.into())
    }

    fn opt_text(s: Option<impl Into<String>>) -> Self {
        s.map_or(Prop::Null, |s| Prop::Text(s.into()))
    }

    /// Whether `value` (as a query string gives it) equals the property.
    fn matches(&self, value: &str) -> bool {
        match self {
            Prop::Text(s) => s == value,
            Prop::Null => value.is_empty(),
            Prop::Bool(b) => value == if *b { "true" } else { "false" },
            Prop::Int(n) => value.parse::<i64>().ok() == Some(*n),
            Prop::Num(n) => value.parse::<f64>().ok() == Some(*n),
        }
    }
}

/// A shape serialised as GeoJSON coordinates: in Lambert-93 (to the centimetre) or in CRS84.
#[derive(Debug, Clone, Copy)]
pub struct Shape<'a> {
    pub geom_l93: &'a MultiPolygon<f64>,
    pub lambert: bool,
}

impl Serialize for Shape<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let written = if self.lambert { Written::Lambert93 } else { Written::Wgs84 };
        serialize_geometry(self.geom_l93, written, s)
    }
}

/// One feature of a collection.
#[derive(Debug, Serialize)]
pub struct Feature<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
    pub properties: BTreeMap<String, Prop>,
    pub geometry: Shape<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<Link>>,
}

/// The GeoJSON 2008 `crs` member (GDAL's GeoJSON driver and QGIS opening the URL as a file
/// read it; OGC clients read the `Content-Crs` header).
#[derive(Debug, Serialize)]
pub struct NamedCrs {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub properties: CrsName,
}

#[derive(Debug, Serialize)]
pub struct CrsName {
    pub name: &'static str,
}

/// A page of features.
#[derive(Debug, Serialize)]
pub struct FeaturePage<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(rename = "numberMatched")]
    pub number_matched: usize,
    #[serde(rename = "numberReturned")]
    pub number_returned: usize,
    #[serde(rename = "timeStamp")]
    pub time_stamp: String,
    pub links: Vec<Link>,
    pub features: Vec<Feature<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crs: Option<NamedCrs>,
}

/// What a page of items asks: every query parameter, as given.
pub type ItemsQuery = BTreeMap<String, String>;

/// A CRS parameter: CRS84 (the default) or EPSG:2154, by URI or short name; `true` for
/// Lambert-93.
pub fn crs_param(text: Option<&str>, what: &str) -> Result<bool> {
    match text {
        None | Some(CRS84 | "CRS84" | "OGC:CRS84") => Ok(false),
        Some(EPSG_2154 | "EPSG:2154" | "[EPSG:2154]") => Ok(true),
        Some(other) => {
            Err(AppError::new(ErrorCode::BadCrs, format!("{what}={other}: supported are {CRS84} and {EPSG_2154}")))
        }
    }
}

/// The CRS URI of an answer.
#[must_use]
pub fn crs_uri(lambert: bool) -> &'static str {
    if lambert { EPSG_2154 } else { CRS84 }
}

/// Whether `name` is a property of the collection's features (what a filter may name).
fn is_property(collection: &str, name: &str) -> bool {
    match collection {
        "parcels" => ["idu", "contenance", "actor", "owner_file", "owners"].contains(&name),
        "subsectors" => {
            ["id", "name", "decision", "delegated_to", "needs_convention", "non_cadastre_m2", "explanation"]
                .contains(&name)
                || name.starts_with("share_")
        }
        "spaces" => {
            ["subsector", "space", "owner_actor", "area_m2", "counted_m2", "overlaps"].contains(&name)
                || ["_service", "_actor", "_phone"].iter().any(|s| name.ends_with(s))
        }
        _ => ["id", "name"].contains(&name),
    }
}

/// Percent-encoding of a query value (RFC 3986 unreserved characters kept).
#[must_use]
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn rounded(x: f64, k: f64) -> Prop {
    Prop::Num((x * k).round() / k + 0.0)
}

impl Held {
    /// The collections with their extents.
    #[must_use]
    pub fn collections(&self, base: &str) -> Collections {
        Collections {
            links: vec![link(format!("{base}/collections"), "self", "application/json", "the collections")],
            collections: COLLECTIONS.iter().map(|(id, t, d)| self.collection_of(base, id, t, d)).collect(),
        }
    }

    /// One collection.
    pub fn collection(&self, base: &str, id: &str) -> Result<Collection> {
        let (id, title, description) = collection_meta(id)?;
        Ok(self.collection_of(base, id, title, description))
    }

    fn collection_of(&self, b: &str, id: &'static str, title: &'static str, description: &'static str) -> Collection {
        let bbox = self.extents.get(id).copied().flatten();
        Collection {
            id,
            title,
            description,
            item_type: "feature",
            crs: [CRS84, EPSG_2154],
            storage_crs: EPSG_2154,
            extent: Extent { spatial: Spatial { bbox: bbox.map(|b| vec![b]).unwrap_or_default(), crs: CRS84 } },
            links: vec![
                link(format!("{b}/collections/{id}"), "self", "application/json", title),
                link(format!("{b}/collections/{id}/items?f=json"), "items", "application/geo+json", "its features"),
            ],
        }
    }

    fn parcel_feature(&self, i: usize, lambert: bool) -> Feature<'_> {
        let p = &self.snapshot.parcels()[i];
        let h = &self.snapshot.holdings()[i];
        let owners = h.owners.iter().map(|o| format!("{} {}", o.siren, o.name)).collect::<Vec<_>>().join(" | ");
        let properties = BTreeMap::from([
            ("idu".to_owned(), Prop::text(&p.idu)),
            ("contenance".to_owned(), p.contenance.map_or(Prop::Null, Prop::Int)),
            ("actor".to_owned(), Prop::text(h.actor().as_str())),
            ("owner_file".to_owned(), Prop::Bool(h.covered)),
            ("owners".to_owned(), Prop::Text(owners)),
        ]);
        Feature {
            kind: "Feature",
            id: p.idu.clone(),
            properties,
            geometry: Shape { geom_l93: &p.geom_l93, lambert },
            links: None,
        }
    }

    #[allow(clippy::many_single_char_names)]
    fn zone_feature(&self, layer: Layer, i: usize, lambert: bool, lang: Lang) -> Feature<'_> {
        let z = &self.snapshot.zones(layer)[i];
        let mut m = BTreeMap::from([
            ("id".to_owned(), Prop::text(&z.key)),
            ("name".to_owned(), Prop::opt_text(z.name.as_deref())),
        ]);
        if layer == Layer::Subsectors
            && let Some(pos) = self.subsector(&z.key)
        {
            let d = &self.assign.decisions[pos];
            let s = &self.shares.zones[pos].shares;
            let (decision, to) = d.decision.kind();
            m.insert("decision".into(), Prop::text(decision));
            m.insert("delegated_to".into(), Prop::opt_text(to.map(domania_core::Actor::as_str)));
            m.insert("needs_convention".into(), Prop::Bool(d.needs_convention));
            m.insert("non_cadastre_m2".into(), rounded(s.non_cadastre_m2, 100.0));
            for (a, share) in &s.by_actor {
                m.insert(format!("share_{a}"), rounded(share.share, 1e6));
            }
            m.insert("explanation".into(), Prop::text(d.reason.said(lang)));
        }
        Feature {
            kind: "Feature",
            id: z.key.clone(),
            properties: m,
            geometry: Shape { geom_l93: &z.geom_l93, lambert },
            links: None,
        }
    }

    fn space_feature(&self, i: usize, lambert: bool) -> Option<Feature<'_>> {
        let s = &self.assign.spaces[i];
        let shape = s.geom_l93.as_ref()?;
        let (space, owner) = crate::assign::space_names(&s.space);
        let mut m = BTreeMap::from([
            ("subsector".to_owned(), Prop::text(&s.subsector)),
            ("space".to_owned(), Prop::text(&space)),
            ("owner_actor".to_owned(), Prop::text(owner)),
            ("area_m2".to_owned(), rounded(s.area_m2, 100.0)),
            ("counted_m2".to_owned(), rounded(s.counted_m2, 100.0)),
            ("overlaps".to_owned(), Prop::text(s.overlaps.join(";"))),
        ]);
        for a in s.assignments.iter() {
            let svc = a.service.as_ref();
            m.insert(format!("{}_service", a.intervention), Prop::opt_text(svc.map(|x| x.name.as_str())));
            m.insert(format!("{}_actor", a.intervention), Prop::text(a.actor.as_str()));
            m.insert(format!("{}_phone", a.intervention), Prop::opt_text(svc.and_then(|x| x.phone.as_deref())));
        }
        Some(Feature {
            kind: "Feature",
            id: format!("{}:{space}", s.subsector),
            properties: m,
            geometry: Shape { geom_l93: shape, lambert },
            links: None,
        })
    }

    /// The positions of a collection's features whose shapes meet `bbox` (all without one).
    fn candidates(&self, id: &str, bbox: Option<&Bbox>) -> Vec<usize> {
        let meets = |shape: &MultiPolygon<f64>| bbox.is_none_or(|b| b.meets(shape));
        let snap = &self.snapshot;
        match id {
            "parcels" => match bbox {
                Some(b) => {
                    snap.parcels_in_box(b.rect).into_iter().filter(|&i| meets(&snap.parcels()[i].geom_l93)).collect()
                }
                None => (0..snap.parcels().len()).collect(),
            },
            "spaces" => (0..self.assign.spaces.len())
                .filter(|&i| self.assign.spaces[i].geom_l93.as_ref().is_some_and(meets))
                .collect(),
            _ => {
                let layer: Layer = id.parse().unwrap_or(Layer::Qpv);
                (0..snap.zones(layer).len()).filter(|&i| meets(&snap.zones(layer)[i].geom_l93)).collect()
            }
        }
    }

    fn feature_at(&self, id: &str, i: usize, lambert: bool, lang: Lang) -> Option<Feature<'_>> {
        match id {
            "parcels" => Some(self.parcel_feature(i, lambert)),
            "spaces" => self.space_feature(i, lambert),
            other => Some(self.zone_feature(other.parse().ok()?, i, lambert, lang)),
        }
    }

    /// A page of the features of collection `id` (a scan: run it off the async workers), its
    /// explanations in `lang`. A `limit` above the largest page is served as the largest page.
    pub fn items(&self, base: &str, id: &str, params: &ItemsQuery, lang: Lang) -> Result<FeaturePage<'_>> {
        let (id, _, _) = collection_meta(id)?;
        let lambert = crs_param(params.get("crs").map(String::as_str), "crs")?;
        let bbox_crs = if crs_param(params.get("bbox-crs").map(String::as_str), "bbox-crs")? {
            Crs::lambert93()
        } else {
            Crs::wgs84()
        };
        let number = |name: &str, code: ErrorCode| {
            params
                .get(name)
                .map(|l| l.parse::<i64>())
                .transpose()
                .map_err(|_| AppError::new(code, format!("{name} must be a whole number")))
        };
        let Page { limit, offset } = Page::clamped(
            number("limit", ErrorCode::BadLimit)?,
            number("offset", ErrorCode::BadOffset)?,
            DEFAULT_LIMIT,
        )?;
        let bbox = params.get("bbox").map(|b| bbox_l93(b, &bbox_crs)).transpose()?;
        let filters: Vec<(&String, &String)> = params.iter().filter(|(k, _)| !RESERVED.contains(&k.as_str())).collect();
        // A parameter that is neither reserved nor a property is a mistake, not a filter that
        // matches nothing.
        if let Some((k, _)) = filters.iter().find(|(k, _)| !is_property(id, k)) {
            return Err(AppError::new(
                ErrorCode::UnknownParameter,
                format!("{k}: not a parameter of /items nor a property of {id} (parameters: {})", RESERVED.join(", ")),
            ));
        }
        let mut matched = 0usize;
        let mut features = Vec::new();
        for i in self.candidates(id, bbox.as_ref()) {
            let Some(item) = self.feature_at(id, i, lambert, lang) else { continue };
            let keep = filters.iter().all(|(k, v)| item.properties.get(*k).is_some_and(|p| p.matches(v)));
            if !keep {
                continue;
            }
            if matched >= offset && features.len() < limit {
                features.push(item);
            }
            matched += 1;
        }
        let query_without_offset: String = params
            .iter()
            .filter(|(k, _)| k.as_str() != "offset")
            .map(|(k, v)| format!("{}={}&", urlencode(k), urlencode(v)))
            .collect();
        let mut links = vec![link(
            format!("{base}/collections/{id}/items?{query_without_offset}offset={offset}"),
            "self",
            "application/geo+json",
            "this page",
        )];
        if offset + features.len() < matched {
            links.push(link(
                format!("{base}/collections/{id}/items?{query_without_offset}offset={}", offset + features.len()),
                "next",
                "application/geo+json",
                "the next page",
            ));
        }
        Ok(FeaturePage {
            kind: "FeatureCollection",
            number_matched: matched,
            number_returned: features.len(),
            time_stamp: jiff::Timestamp::now().to_string(),
            links,
            features,
            crs: lambert
                .then_some(NamedCrs { kind: "name", properties: CrsName { name: "urn:ogc:def:crs:EPSG::2154" } }),
        })
    }

    /// One feature of collection `id`, its explanation in `lang`.
    pub fn item(&self, base: &str, id: &str, fid: &str, crs: Option<&str>, lang: Lang) -> Result<Feature<'_>> {
        let (id, _, _) = collection_meta(id)?;
        let lambert = crs_param(crs, "crs")?;
        let snap = &self.snapshot;
        let pos = match id {
            "parcels" => snap.position(fid),
            // A space id never holds `:`; a sub-sector key may.
            "spaces" => fid.rsplit_once(':').and_then(|(s, sp)| self.space(s, sp)),
            other => other.parse::<Layer>().ok().and_then(|layer| snap.zones(layer).iter().position(|z| z.key == fid)),
        };
        let mut f = pos.and_then(|p| self.feature_at(id, p, lambert, lang)).ok_or_else(|| {
            AppError::said(ErrorCode::NotFound, "error-no-feature", vec![("fid", fid.into()), ("id", id.into())])
        })?;
        f.links = Some(vec![
            link(
                format!("{base}/collections/{id}/items/{}", urlencode(fid)),
                "self",
                "application/geo+json",
                "this feature",
            ),
            link(format!("{base}/collections/{id}"), "collection", "application/json", "its collection"),
        ]);
        Ok(f)
    }
}

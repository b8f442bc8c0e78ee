//! Streaming GeoJSON FeatureCollection reader.
//!
//! Features are handed to a callback one at a time as the parser meets them, so a file of a
//! million parcels never exists as one JSON tree in memory. Gzip (`.gz` or gzip magic bytes) is
//! decompressed on the fly.

use std::cell::Cell;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{IoError, Result};

/// Nested coordinate arrays, as they stand in the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Coords {
    /// A position: x (longitude or easting), y. Extra ordinates (z, m) are dropped.
    Pos([f64; 2]),
    List(Vec<Coords>),
}

/// A geometry as read: its type name and coordinates, not yet interpreted.
#[derive(Debug, Clone, PartialEq)]
pub struct RawGeometry {
    pub kind: String,
    pub coords: Option<Coords>,
}

/// A feature as read.
#[derive(Debug, Clone, PartialEq)]
pub struct RawFeature {
    /// 0-based position in the `features` array.
    pub index: usize,
    /// The top-level `id`, as text.
    pub id: Option<String>,
    pub properties: Map<String, Value>,
    pub geometry: Option<RawGeometry>,
}

/// What the collection said about itself, besides its features.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollectionInfo {
    /// The `crs` member's name, if any (pre-RFC 7946 files, GDAL output).
    pub crs: Option<String>,
    /// Whether the `crs` member came after the first feature.
    pub crs_after_features: bool,
    pub features: usize,
}

/// Files up to this size (after decompression, estimated) are parsed from memory, which is
/// about twice as fast as parsing through `io::Read`; larger ones are streamed so memory stays
/// flat.
pub const IN_MEMORY_LIMIT: u64 = 256 << 20;

/// Gzip expands about 8 times for this kind of text: the estimate of a `.gz`'s parsed size.
const GZ_EXPANSION: u64 = 8;

/// Reads a FeatureCollection (plain or gzipped: the magic bytes decide), calling `on_feature`
/// for each feature in order.
pub fn read_features(path: &Path, mut on_feature: impl FnMut(RawFeature, &CollectionInfo)) -> Result<CollectionInfo> {
    let open_err = |source| IoError::Open { path: path.to_path_buf(), source };
    let mut file = File::open(path).map_err(open_err)?;
    let size = file.metadata().map_err(open_err)?.len();
    if size == 0 {
        return Err(IoError::Empty { path: path.to_path_buf() });
    }
    let mut magic = [0u8; 2];
    let gz = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    file.seek(SeekFrom::Start(0)).map_err(open_err)?;
    let current = Cell::new(None);
    let mut seed = CollectionSeed { on_feature: &mut on_feature, current: &current };
    let expanded = if gz { size.saturating_mul(GZ_EXPANSION) } else { size };
    let result = if expanded <= IN_MEMORY_LIMIT {
        let mut bytes = Vec::with_capacity(expanded as usize + 1);
        if gz {
            MultiGzDecoder::new(BufReader::new(file)).read_to_end(&mut bytes)
        } else {
            file.read_to_end(&mut bytes)
        }
        .map_err(open_err)?;
        parse(&mut serde_json::Deserializer::from_slice(&bytes), &mut seed)
    } else {
        let reader: Box<dyn Read> = if gz {
            Box::new(BufReader::with_capacity(1 << 20, MultiGzDecoder::new(BufReader::new(file))))
        } else {
            Box::new(BufReader::with_capacity(1 << 20, file))
        };
        parse(&mut serde_json::Deserializer::from_reader(reader), &mut seed)
    };
    finish(path, result, current.get())
}

/// [`read_features`] on a document already in memory (plain JSON); `path` names it in errors.
pub fn read_features_slice(
    path: &Path,
    bytes: &[u8],
    mut on_feature: impl FnMut(RawFeature, &CollectionInfo),
) -> Result<CollectionInfo> {
    if bytes.is_empty() {
        return Err(IoError::Empty { path: path.to_path_buf() });
    }
    let current = Cell::new(None);
    let mut seed = CollectionSeed { on_feature: &mut on_feature, current: &current };
    let result = parse(&mut serde_json::Deserializer::from_slice(bytes), &mut seed);
    finish(path, result, current.get())
}

/// The outcome of a parse: the collection's information, or an error naming the line, the
/// column and the feature.
fn finish(
    path: &Path,
    result: std::result::Result<std::result::Result<CollectionInfo, String>, serde_json::Error>,
    feature: Option<usize>,
) -> Result<CollectionInfo> {
    match result {
        Ok(Ok(info)) => Ok(info),
        Ok(Err(reason)) => Err(IoError::NotFeatureCollection { path: path.to_path_buf(), reason }),
        Err(source) => {
            if source.is_eof() && source.line() == 1 && source.column() == 0 {
                return Err(IoError::Empty { path: path.to_path_buf() });
            }
            Err(IoError::Json {
                path: path.to_path_buf(),
                line: source.line(),
                column: source.column(),
                feature,
                source,
            })
        }
    }
}

/// Runs the collection visitor over a whole document (and nothing after it).
fn parse<'de, R: serde_json::de::Read<'de>, F: FnMut(RawFeature, &CollectionInfo)>(
    de: &mut serde_json::Deserializer<R>,
    seed: &mut CollectionSeed<'_, F>,
) -> serde_json::Result<std::result::Result<CollectionInfo, String>> {
    let seed = CollectionSeed { on_feature: &mut *seed.on_feature, current: seed.current };
    let info = seed.deserialize(&mut *de)?;
    de.end()?;
    Ok(info)
}

struct CollectionSeed<'a, F> {
    on_feature: &'a mut F,
    current: &'a Cell<Option<usize>>,
}

impl<'de, F: FnMut(RawFeature, &CollectionInfo)> DeserializeSeed<'de> for CollectionSeed<'_, F> {
    /// Inner error: the document is JSON but not a FeatureCollection.
    type Value = std::result::Result<CollectionInfo, String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: FnMut(RawFeature, &CollectionInfo)> Visitor<'de> for CollectionSeed<'_, F> {
    type Value = std::result::Result<CollectionInfo, String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON FeatureCollection object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
        let mut info = CollectionInfo::default();
        let mut kind: Option<String> = None;
        let mut saw_features = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "type" => kind = Some(map.next_value()?),
                "crs" => {
                    let v: Value = map.next_value()?;
                    info.crs = v.pointer("/properties/name").and_then(Value::as_str).map(str::to_owned);
                    info.crs_after_features = saw_features && info.features > 0;
                }
                "features" => {
                    saw_features = true;
                    map.next_value_seed(FeaturesSeed {
                        on_feature: &mut *self.on_feature,
                        current: self.current,
                        info: &mut info,
                    })?;
                    self.current.set(None);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match kind.as_deref() {
            Some("FeatureCollection") if saw_features => Ok(Ok(info)),
            Some("FeatureCollection") => Ok(Err("it has no `features` member".into())),
            Some(other) => Ok(Err(format!("its type is {other:?}"))),
            None => Ok(Err("it has no `type` member".into())),
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Err("the top-level value is an array".into()))
    }
}

struct FeaturesSeed<'a, F> {
    on_feature: &'a mut F,
    current: &'a Cell<Option<usize>>,
    info: &'a mut CollectionInfo,
}

impl<'de, F: FnMut(RawFeature, &CollectionInfo)> DeserializeSeed<'de> for FeaturesSeed<'_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(RawFeature, &CollectionInfo)> Visitor<'de> for FeaturesSeed<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of features")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let mut index = 0;
        loop {
            self.current.set(Some(index));
            let Some(mut feature) = seq.next_element::<RawFeature>()? else { break };
            feature.index = index;
            self.info.features += 1;
            (self.on_feature)(feature, self.info);
            index += 1;
        }
        Ok(())
    }
}

impl<'de> de::Deserialize<'de> for RawFeature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawFeature;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a GeoJSON Feature object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<RawFeature, A::Error> {
                let mut feature = RawFeature { index: 0, id: None, properties: Map::new(), geometry: None };
                let mut kind: Option<String> = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "type" => kind = Some(map.next_value()?),
                        "id" => {
                            feature.id = match map.next_value::<Value>()? {
                                Value::String(s) => Some(s),
                                Value::Null => None,
                                other => Some(other.to_string()),
                            }
                        }
                        "properties" => {
                            feature.properties = map.next_value::<Option<Map<String, Value>>>()?.unwrap_or_default();
                        }
                        "geometry" => feature.geometry = map.next_value()?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                match kind.as_deref() {
                    Some("Feature") => Ok(feature),
                    Some(other) => Err(de::Error::custom(format!("expected a Feature, found type {other:?}"))),
                    None => Err(de::Error::custom("feature without a `type` member")),
                }
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> de::Deserialize<'de> for RawGeometry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawGeometry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a GeoJSON geometry object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<RawGeometry, A::Error> {
                let mut kind = None;
                let mut coords = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "type" => kind = Some(map.next_value::<String>()?),
                        "coordinates" => coords = Some(map.next_value::<Coords>()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let kind = kind.ok_or_else(|| de::Error::custom("geometry without a `type` member"))?;
                Ok(RawGeometry { kind, coords })
            }
        }
        d.deserialize_map(V)
    }
}

/// An element of a coordinate array: a number (of a position) or a nested array.
enum Elem {
    Num(f64),
    Nested(Coords),
}

impl<'de> de::Deserialize<'de> for Elem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Elem;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or an array of coordinates")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Elem, E> {
                Ok(Elem::Num(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Elem, E> {
                Ok(Elem::Num(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Elem, E> {
                Ok(Elem::Num(v as f64))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> std::result::Result<Elem, A::Error> {
                CoordsVisitor.visit_seq(seq).map(Elem::Nested)
            }
        }
        d.deserialize_any(V)
    }
}

struct CoordsVisitor;

impl<'de> Visitor<'de> for CoordsVisitor {
    type Value = Coords;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of coordinates")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Coords, A::Error> {
        match seq.next_element::<Elem>()? {
            None => Ok(Coords::List(Vec::new())),
            Some(Elem::Num(x)) => {
                let Some(y) = seq.next_element::<f64>()? else {
                    return Err(de::Error::custom("a position needs at least two numbers"));
                };
                while seq.next_element::<f64>()?.is_some() {}
                Ok(Coords::Pos([x, y]))
            }
            Some(Elem::Nested(first)) => {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(8));
                items.push(first);
                while let Some(next) = seq.next_element_seed(CoordsSeed)? {
                    items.push(next);
                }
                Ok(Coords::List(items))
            }
        }
    }
}

struct CoordsSeed;
impl<'de> DeserializeSeed<'de> for CoordsSeed {
    type Value = Coords;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Coords, D::Error> {
        d.deserialize_seq(CoordsVisitor)
    }
}

impl<'de> de::Deserialize<'de> for Coords {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_seq(CoordsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn read_str(text: &str) -> (Result<CollectionInfo>, Vec<RawFeature>) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        let mut out = Vec::new();
        let r = read_features(f.path(), |feat, _| out.push(feat));
        (r, out)
    }

    #[test]
    fn streams_features_with_crs_and_ids() {
        let (info, feats) = read_str(
            r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:2154"}},"features":[
            {"type":"Feature","id":7,"properties":{"a":1},"geometry":{"coordinates":[[[0,0],[1,0,5],[1,1],[0,0]]],"type":"Polygon"}},
            {"type":"Feature","properties":null,"geometry":null}]}"#,
        );
        let info = info.unwrap();
        assert_eq!(info.crs.as_deref(), Some("EPSG:2154"));
        assert_eq!(feats.len(), 2);
        assert_eq!(feats[0].id.as_deref(), Some("7"));
        let g = feats[0].geometry.as_ref().unwrap();
        assert_eq!(g.kind, "Polygon");
        let Some(Coords::List(rings)) = &g.coords else { panic!() };
        let Coords::List(ring) = &rings[0] else { panic!() };
        assert_eq!(ring[1], Coords::Pos([1.0, 0.0]));
        assert_eq!(feats[1].index, 1);
        assert!(feats[1].geometry.is_none());
    }

    #[test]
    fn truncated_file_names_line_and_feature() {
        let (r, feats) = read_str(
            "{\"type\":\"FeatureCollection\",\"features\":[\n{\"type\":\"Feature\",\"properties\":{},\"geometry\":null},\n{\"type\":\"Feature\",\"prop",
        );
        assert_eq!(feats.len(), 1);
        let err = r.unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, IoError::Json { line: 3, feature: Some(1), .. }), "{msg}");
        assert!(msg.contains("line 3") && msg.contains("feature 1"), "{msg}");
    }

    #[test]
    fn empty_and_wrong_documents() {
        assert!(matches!(read_str("").0, Err(IoError::Empty { .. })));
        assert!(matches!(read_str("{\"type\":\"Feature\"}").0, Err(IoError::NotFeatureCollection { .. })));
        assert!(matches!(read_str("[1,2]").0, Err(IoError::NotFeatureCollection { .. })));
        assert!(matches!(read_str("{\"type\":\"FeatureCollection\"}").0, Err(IoError::NotFeatureCollection { .. })));
        // NaN is not JSON.
        let (r, _) = read_str(
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[NaN,1]}}]}"#,
        );
        assert!(matches!(r, Err(IoError::Json { feature: Some(0), .. })));
    }
}

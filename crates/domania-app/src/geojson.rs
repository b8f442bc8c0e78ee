//! GeoJSON FeatureCollections (RFC 7946: WGS84 longitude/latitude, 7 decimals like Etalab)
//! from Lambert-93 shapes and typed properties. The shapes are converted when serialised.

use domania_core::crs::Crs;
use domania_core::valid::{GridPolygon, rounded_valid};
use geo_types::MultiPolygon;
use serde::Serialize;
use serde::ser::{SerializeSeq, SerializeStruct, Serializer};

/// A Lambert-93 multipolygon that serialises as a GeoJSON MultiPolygon geometry in WGS84.
#[derive(Debug, Clone, PartialEq)]
pub struct Wgs84Geometry<'a>(pub &'a MultiPolygon<f64>);

/// The grid a shape is written on: WGS84 to the seventh decimal of a degree (about a
/// centimetre, as Etalab writes the cadastre), or Lambert-93 to the centimetre.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Wgs84,
    Lambert93,
}

impl Written {
    /// Grid units per degree or metre.
    fn scale(self) -> f64 {
        match self {
            Written::Wgs84 => 1e7,
            Written::Lambert93 => 100.0,
        }
    }
}

/// A shape's coordinates as written: rounded to their grid, then made valid there
/// ([`domania_core::valid`]): rounding a thin sliver to the centimetre can make it cross itself
/// or collapse. What rounds to no area is written as an empty MultiPolygon (the feature keeps its
/// figures). Rings are closed, exteriors counterclockwise and holes clockwise (RFC 7946's
/// right-hand rule).
pub struct Coordinates {
    polys: Vec<GridPolygon>,
    scale: f64,
}

impl Coordinates {
    #[must_use]
    pub fn new(geom_l93: &MultiPolygon<f64>, written: Written) -> Self {
        let scale = written.scale();
        let on_grid = |x: f64, y: f64| [(x * scale).round() as i64, (y * scale).round() as i64];
        let polys = match written {
            Written::Lambert93 => rounded_valid(geom_l93, on_grid),
            Written::Wgs84 => {
                let (l93, wgs) = (Crs::lambert93(), Crs::wgs84());
                rounded_valid(geom_l93, |x, y| {
                    let (lon, lat) = l93.transform_to(&wgs, x, y);
                    on_grid(lon, lat)
                })
            }
        };
        // `None`: the rebuild failed (never seen on real data); nothing invalid is written.
        Self { polys: polys.unwrap_or_default(), scale }
    }
}

/// A ring's coordinates, closed.
struct Ring<'a>(&'a [[i64; 2]], f64);

impl Serialize for Ring<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len() + 1))?;
        for q in self.0.iter().chain(self.0.first()) {
            seq.serialize_element(&[q[0] as f64 / self.1, q[1] as f64 / self.1])?;
        }
        seq.end()
    }
}

impl Serialize for Coordinates {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.polys.len()))?;
        for p in &self.polys {
            let rings: Vec<Ring<'_>> = p.iter().map(|r| Ring(r, self.scale)).collect();
            seq.serialize_element(&rings)?;
        }
        seq.end()
    }
}

/// A GeoJSON MultiPolygon geometry written on `written`'s grid.
pub fn serialize_geometry<S: Serializer>(
    geom_l93: &MultiPolygon<f64>,
    written: Written,
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut st = s.serialize_struct("Geometry", 2)?;
    st.serialize_field("type", "MultiPolygon")?;
    st.serialize_field("coordinates", &Coordinates::new(geom_l93, written))?;
    st.end()
}

impl Serialize for Wgs84Geometry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_geometry(self.0, Written::Wgs84, s)
    }
}

/// One feature.
#[derive(Debug, Clone, Serialize)]
pub struct Feature<'a, P> {
    #[serde(rename = "type")]
    kind: &'static str,
    pub properties: P,
    pub geometry: Wgs84Geometry<'a>,
}

impl<'a, P> Feature<'a, P> {
    #[must_use]
    pub fn new(properties: P, geom_l93: &'a MultiPolygon<f64>) -> Self {
        Self { kind: "Feature", properties, geometry: Wgs84Geometry(geom_l93) }
    }
}

/// A FeatureCollection.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureCollection<'a, P> {
    #[serde(rename = "type")]
    kind: &'static str,
    pub features: Vec<Feature<'a, P>>,
}

impl<'a, P: Serialize> FeatureCollection<'a, P> {
    #[must_use]
    pub fn new(features: Vec<Feature<'a, P>>) -> Self {
        Self { kind: "FeatureCollection", features }
    }

    /// The collection as text with one feature per line (what `grep`, `wc -l` and diffs of
    /// exports work well with), ending with a newline.
    pub fn to_lines(&self) -> serde_json::Result<String> {
        let lines = self.features.iter().map(serde_json::to_string).collect::<serde_json::Result<Vec<_>>>()?;
        Ok(format!("{{\"type\":\"FeatureCollection\",\"features\":[\n{}\n]}}\n", lines.join(",\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    #[test]
    fn features_are_wgs84_with_seven_decimals_and_one_per_line() {
        // A 10 m square near Paris 18e in Lambert-93; its first corner is (2.3318377, 48.8831512)
        // for `echo "651000 6865000" | cs2cs EPSG:2154 EPSG:4326`.
        let sq = MultiPolygon(vec![polygon![(x: 651_000.0, y: 6_865_000.0), (x: 651_010.0, y: 6_865_000.0),
            (x: 651_010.0, y: 6_865_010.0), (x: 651_000.0, y: 6_865_000.0)]]);
        let fc = FeatureCollection::new(vec![Feature::new(serde_json::json!({"id": "a"}), &sq)]);
        let text = fc.to_lines().unwrap();
        assert_eq!(text.lines().count(), 3);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let xy = &v["features"][0]["geometry"]["coordinates"][0][0][0];
        let (lon, lat) = (xy[0].as_f64().unwrap(), xy[1].as_f64().unwrap());
        assert!((lon - 2.331_837_7).abs() < 1e-7 && (lat - 48.883_151_2).abs() < 1e-7, "{lon} {lat}");
        assert!(((lon * 1e7).round() / 1e7 - lon).abs() < 1e-12);
        assert_eq!(v["features"][0]["properties"]["id"], "a");
    }
}

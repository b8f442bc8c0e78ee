//! Does a file look like what it is imported as? A cadastre file imported as QPV, a PPM file
//! imported as parcels or a GeoJSON file imported as owners is refused with a message that
//! says what the file seems to be, before anything is read into the store.
//!
//! Two levels: [`check_kind`] looks at the first bytes (JSON or delimited text); the readers
//! then check the features themselves ([`Evidence`]: IDU-shaped keys with a contenance, QPV
//! codes) and refuse a file none of whose features fits its layer.

use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{IoError, Result};

pub use domania_core::Layer;

/// How an error names what a file of `layer` should be.
#[must_use]
pub fn file_label(layer: Layer) -> &'static str {
    match layer {
        Layer::Parcels => "a cadastre parcels file (Etalab GeoJSON)",
        Layer::Owners => "a DGFiP owner file (PPM, ';'-separated text)",
        Layer::Qpv => "a QPV perimeters file",
        Layer::Subsectors => "a sub-sectors file",
        Layer::Conventions => "a conventions file",
        Layer::Spaces => "nothing: the spaces layer is computed by `assign`, never imported",
        Layer::Buildings => "EDIGÉO sheets (the buildings of the cadastre)",
        Layer::Sections => "EDIGÉO sheets (the cadastral sections)",
        Layer::Addresses => "a Base Adresse Nationale file (adresses-NN.csv or .csv.gz, ';'-separated)",
    }
}

fn wrong(path: &Path, expected: Layer, found: &str) -> IoError {
    IoError::WrongKind { path: path.to_path_buf(), expected: file_label(expected), found: found.to_owned() }
}

/// Checks the first bytes of `path` against what it is imported as. Shapefiles are checked
/// by their reader; missing and empty files are left to the readers, which say so.
pub fn check_kind(path: &Path, expected: Layer) -> Result<()> {
    let is_shp = crate::features::is_shapefile(path);
    if is_shp {
        return if expected == Layer::Owners { Err(wrong(path, expected, "a Shapefile")) } else { Ok(()) };
    }
    let Ok(file) = std::fs::File::open(path) else { return Ok(()) };
    let mut head = Vec::with_capacity(4096);
    let mut magic = [0u8; 2];
    let mut reader = std::io::BufReader::new(file);
    if reader.read_exact(&mut magic).is_err() {
        return Ok(());
    }
    let chained = std::io::Read::chain(&magic[..], reader);
    if magic == [0x1f, 0x8b] {
        let _ = flate2::read::MultiGzDecoder::new(chained).take(4096).read_to_end(&mut head);
    } else {
        let _ = chained.take(4096).read_to_end(&mut head);
    }
    // A binary file (GeoPackage, FlatGeobuf, MapInfo…) is for the readers to judge.
    if head.contains(&0) {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&head);
    let body = text.trim_start_matches('\u{feff}').trim_start();
    let Some(first) = body.chars().next() else { return Ok(()) };
    let first_line = body.lines().next().unwrap_or("");
    let json = first == '{' || first == '[';
    match expected {
        Layer::Owners if json => {
            Err(wrong(path, expected, "JSON (a GeoJSON layer? import it as parcels, qpv, subsectors or conventions)"))
        }
        Layer::Addresses if json => Err(wrong(path, expected, "JSON")),
        Layer::Owners | Layer::Addresses => Ok(()),
        _ if !json && first_line.matches(';').count() >= 3 => {
            let header = first_line.to_lowercase();
            let hint = if header.contains("code droit") {
                "a PPM owner file (import it as `owners`)"
            } else if header.contains("nom_voie") && header.contains("code_insee") {
                "a Base Adresse Nationale file (import it as `addresses`)"
            } else {
                "';'-separated text"
            };
            Err(wrong(path, expected, hint))
        }
        _ => Ok(()),
    }
}

/// A QPV code: `QP` (2015 generation) or `QN` (2024) and six characters (`QP066007`).
#[must_use]
pub fn is_qpv_code(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 8 && b[0] == b'Q' && matches!(b[1], b'P' | b'N') && b[2..].iter().all(u8::is_ascii_alphanumeric)
}

/// What the features of a file look like, counted as a reader goes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Evidence {
    /// Features seen (with a usable geometry).
    pub features: usize,
    /// Features with an IDU-shaped identifier and a `contenance` property: cadastre parcels.
    pub cadastre: usize,
    /// Features with a QPV code in `code_qp` (or as their key).
    pub qpv: usize,
}

impl Evidence {
    /// Counts one feature from its properties and identifier.
    pub fn see(&mut self, id: Option<&str>, props: &Map<String, Value>) {
        self.features += 1;
        let text = |k: &str| props.get(k).and_then(Value::as_str).map(str::trim);
        let idu = text("id").or(id).is_some_and(|i| domania_core::Idu::parse(i).is_ok());
        if idu && props.contains_key("contenance") {
            self.cadastre += 1;
        }
        if text("code_qp").or(text("CODE_QP")).or(id).is_some_and(is_qpv_code) {
            self.qpv += 1;
        }
    }

    /// Refuses a file whose features do not fit `expected`: none of them, when the layer has a
    /// shape of its own (IDUs, QPV codes); nearly all of them looking like another layer, for
    /// sub-sectors and conventions, whose keys are free.
    pub fn check(&self, path: &Path, expected: Layer) -> Result<()> {
        let n = self.features;
        if n == 0 {
            return Ok(());
        }
        // "Looks like another layer": nine features in ten or more (an Etalab parcel may lack
        // its contenance: one in Épinay-sur-Orge does).
        let most = |k: usize| k * 10 >= n * 9;
        let other = if most(self.cadastre) {
            Some("cadastre parcels (IDUs and contenances): import it as `parcels`")
        } else if most(self.qpv) {
            Some("QPV perimeters (QP…/QN… codes): import it as `qpv`")
        } else {
            None
        };
        let found = |what: &str| match other {
            Some(o) => format!("{what}; its features look like {o}"),
            None => what.to_owned(),
        };
        match expected {
            Layer::Parcels if self.cadastre == 0 => Err(wrong(
                path,
                expected,
                &found(&format!("none of its {n} features has an IDU `id` and a `contenance`")),
            )),
            Layer::Qpv if self.qpv == 0 => {
                Err(wrong(path, expected, &found(&format!("none of its {n} features has a QPV code (QP…/QN…)"))))
            }
            Layer::Subsectors | Layer::Conventions if other.is_some() => {
                Err(wrong(path, expected, &found(&format!("its {n} features are of another layer"))))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn props(v: serde_json::Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn evidence_tells_layers_apart() {
        let path = Path::new("f.json");
        let mut cad = Evidence::default();
        cad.see(None, &props(json!({"id": "91216000AB0037", "contenance": 120})));
        assert!(cad.check(path, Layer::Parcels).is_ok());
        let err = cad.check(path, Layer::Qpv).unwrap_err().to_string();
        assert!(err.contains("import it as `parcels`"), "{err}");
        assert!(cad.check(path, Layer::Subsectors).is_err());
        let mut qpv = Evidence::default();
        qpv.see(None, &props(json!({"code_qp": "QP066007", "nom_qp": "Bas-Vernet"})));
        assert!(qpv.check(path, Layer::Qpv).is_ok());
        assert!(qpv.check(path, Layer::Parcels).unwrap_err().to_string().contains("import it as `qpv`"));
        let mut sub = Evidence::default();
        sub.see(Some("S01"), &props(json!({"id": "S01", "name": "Îlot nord"})));
        assert!(sub.check(path, Layer::Subsectors).is_ok());
        assert!(sub.check(path, Layer::Qpv).is_err());
        assert!(is_qpv_code("QN07801M") && !is_qpv_code("QP0660071") && !is_qpv_code("XP066007"));
    }
}

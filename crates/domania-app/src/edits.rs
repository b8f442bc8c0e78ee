//! Editing the perimeter layers feature by feature (OGC API – Features – Part 4: create,
//! replace, update, delete on `subsectors`, `conventions` and `qpv`).
//!
//! An edit is a version like an import: the layer's current rows with the edit applied are
//! imported as the layer's next version, through the same pipeline — the same validation
//! (an invalid shape is refused, not repaired), the mass-removal guard, the author and source
//! recorded, `diff` and `rollback` working on it. The unchanged rows are written back in
//! Lambert-93 exactly as stored, so a version says what the edit changed and nothing else.
//!
//! Optimistic concurrency: each feature has a tag (its key, name and shape, hashed); an edit
//! that names the tag it loaded is refused when the feature has changed since.

use std::path::Path;

use domania_core::Layer;
use domania_core::crs::Crs;
use domania_store::Location;
use geo_types::MultiPolygon;
use serde_json::{Map, Value, json};

use crate::error::{AppError, ErrorCode, Result, layer_arg};
use domania_io::geometry::InvalidPolicy;

use crate::App;
use crate::import::{ImportOutcome, ImportRequest, read_options};

/// One edit of a feature. Features are GeoJSON (RFC 7946, CRS84) as OGC API – Features
/// serves them: the key in `id` (or a key property), the name in `name`.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    Create(Value),
    Replace(String, Value),
    /// A JSON merge patch (RFC 7396) of the feature: `properties` and `geometry` members.
    Update(String, Value),
    Delete(String),
}

impl Edit {
    fn key(&self) -> Option<&str> {
        match self {
            Edit::Create(_) => None,
            Edit::Replace(k, _) | Edit::Update(k, _) | Edit::Delete(k) => Some(k),
        }
    }

    fn verb(&self) -> &'static str {
        match self {
            Edit::Create(_) => "create",
            Edit::Replace(..) => "replace",
            Edit::Update(..) => "update",
            Edit::Delete(_) => "delete",
        }
    }
}

/// What an edit did: the version written and the key of the feature.
#[derive(Debug)]
pub struct Edited {
    pub outcome: ImportOutcome,
    pub key: String,
}

/// The tag of a feature as stored: its key, name and shape (every coordinate's bits).
#[must_use]
pub fn feature_tag(key: &str, name: Option<&str>, geom: &MultiPolygon<f64>) -> String {
    let mut bytes = Vec::with_capacity(64 + geom.0.len() * 64);
    bytes.extend_from_slice(key.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(name.unwrap_or("").as_bytes());
    bytes.push(0);
    for p in geom {
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            for c in ring.coords() {
                bytes.extend_from_slice(&c.x.to_bits().to_le_bytes());
                bytes.extend_from_slice(&c.y.to_bits().to_le_bytes());
            }
            bytes.push(1);
        }
        bytes.push(2);
    }
    format!("{:016x}", domania_core::hash::fnv1a(&bytes))
}

/// Whether `layer` is edited feature by feature (the perimeters SIG officers draw), or said
/// why not.
///
/// # Errors
/// The cadastre, the owners and the addresses come from the DGFiP, Etalab and the BAN, and are
/// imported whole; the computed layers are not edited at all.
pub fn editable(layer: Layer) -> Result<()> {
    match layer {
        l if l.is_edited() => Ok(()),
        l if l.is_imported() => {
            Err(AppError::said(ErrorCode::NotEditable, "error-not-editable", vec![("layer", layer_arg(l))]))
        }
        l => Err(AppError::said(ErrorCode::NotEditable, "error-not-importable", vec![("layer", layer_arg(l))])),
    }
}

fn bad_feature(why: &'static str) -> AppError {
    AppError::said(ErrorCode::BadFeature, why, Vec::new())
}

/// The coordinates of a GeoJSON geometry, CRS84 to Lambert-93, in place.
fn to_lambert(v: &mut Value) -> Result<()> {
    match v {
        Value::Array(items) if items.first().is_some_and(Value::is_number) => {
            let (Some(lon), Some(lat)) = (items.first().and_then(Value::as_f64), items.get(1).and_then(Value::as_f64))
            else {
                return Err(bad_feature("error-feature-coordinates"));
            };
            if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                return Err(bad_feature("error-feature-coordinates"));
            }
            let (x, y) = Crs::wgs84().transform_to(&Crs::lambert93(), lon, lat);
            *v = json!([x, y]);
            Ok(())
        }
        Value::Array(items) => items.iter_mut().try_for_each(to_lambert),
        _ => Err(bad_feature("error-feature-coordinates")),
    }
}

/// A GeoJSON geometry in Lambert-93, from a stored shape.
fn stored_geometry(geom: &MultiPolygon<f64>) -> Value {
    let polygons: Vec<Value> = geom
        .iter()
        .map(|p| {
            let rings: Vec<Value> = std::iter::once(p.exterior())
                .chain(p.interiors())
                .map(|r| Value::Array(r.coords().map(|c| json!([c.x, c.y])).collect()))
                .collect();
            Value::Array(rings)
        })
        .collect();
    json!({ "type": "MultiPolygon", "coordinates": polygons })
}

/// RFC 7396: `patch` merged into `target`.
fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// What Domania computes and serves beside a sub-sector: never stored as its properties.
fn computed(name: &str) -> bool {
    matches!(name, "decision" | "delegated_to" | "needs_convention" | "non_cadastre_m2" | "explanation")
        || name.starts_with("share_")
}

/// The stored properties of a feature: its source properties with the key and the name under
/// the first names the readers try (the others dropped, so that they cannot disagree).
fn properties(layer: Layer, mut props: Map<String, Value>, key: &str, name: Option<&str>) -> Map<String, Value> {
    let kind = layer;
    let (keys, names) = (domania_io::perimeter::key_fields(kind), domania_io::perimeter::name_fields(kind));
    props.retain(|k, _| k != "name" && !keys.contains(&k.as_str()) && !names.contains(&k.as_str()) && !computed(k));
    props.insert(keys[0].to_owned(), Value::String(key.to_owned()));
    if let Some(n) = name {
        props.insert(names[0].to_owned(), Value::String(n.to_owned()));
    }
    props
}

/// A feature sent by a client: its key (`id`, or a key property), its name, its other
/// properties, its geometry (GeoJSON) in Lambert-93.
struct Received {
    key: Option<String>,
    name: Option<String>,
    props: Map<String, Value>,
    geometry: Value,
}

fn received(layer: Layer, f: &Value) -> Result<Received> {
    let obj = f.as_object().filter(|o| o.get("type").and_then(Value::as_str) == Some("Feature"));
    let obj = obj.ok_or_else(|| bad_feature("error-feature-json"))?;
    let props = match obj.get("properties") {
        Some(Value::Object(m)) => m.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(_) => return Err(bad_feature("error-feature-json")),
    };
    let kind = layer;
    let text = |v: &Value| match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let key = obj
        .get("id")
        .and_then(text)
        .or_else(|| domania_io::perimeter::key_fields(kind).iter().find_map(|k| props.get(*k).and_then(text)));
    // `name` as the items are served, else a name the layer's files use.
    let name = std::iter::once("name")
        .chain(domania_io::perimeter::name_fields(kind).iter().copied())
        .find_map(|k| props.get(k).and_then(text));
    let mut geometry =
        obj.get("geometry").cloned().filter(|g| !g.is_null()).ok_or_else(|| bad_feature("error-feature-geometry"))?;
    let kind_ok = matches!(geometry.get("type").and_then(Value::as_str), Some("Polygon" | "MultiPolygon"));
    let coords =
        geometry.get_mut("coordinates").filter(|_| kind_ok).ok_or_else(|| bad_feature("error-feature-geometry"))?;
    to_lambert(coords)?;
    Ok(Received { key, name, props, geometry })
}

impl App {
    /// Applies `edit` to `layer` as its next version, by `author`; `expected` is the tag of the
    /// feature the editor loaded (`If-Match`), checked against the store's current row.
    ///
    /// # Errors
    /// Not an editable layer (`not_editable`), no such feature (`not_found`), a key already
    /// taken (`feature_exists`), a feature changed since it was loaded (`feature_changed`), a
    /// body that is not a GeoJSON polygon feature (`bad_feature`), and whatever the import
    /// refuses (an invalid shape, an empty key, a removal past the guard), with nothing kept.
    #[allow(clippy::too_many_lines)]
    pub fn edit(&self, layer: Layer, edit: &Edit, expected: Option<&str>, author: &str) -> Result<Edited> {
        editable(layer)?;
        // The rows and their version read together, the version checked again when the edit
        // is written (under the writers' lock): an edit never lands on rows it did not see.
        let store = self.open_read()?;
        let base = store.latest_version(layer)?.unwrap_or(0);
        let current = store.perimeters(layer)?;
        drop(store);
        let at = edit.key().map(|k| current.iter().position(|p| p.key == k));
        if let (Some(k), Some(None)) = (edit.key(), at) {
            return Err(AppError::said(
                ErrorCode::NotFound,
                "error-no-feature",
                vec![("fid", k.into()), ("id", layer.as_str().into())],
            ));
        }
        let at = at.flatten();
        if let (Some(i), Some(want)) = (at, expected) {
            let p = &current[i];
            let now = feature_tag(&p.key, p.name.as_deref(), &p.geom_l93);
            let want = want.trim().trim_start_matches("W/").trim_matches('"');
            if want != "*" && want.split('.').next() != Some(now.as_str()) {
                return Err(AppError::said(
                    ErrorCode::FeatureChanged,
                    "error-feature-changed",
                    vec![("fid", p.key.as_str().into())],
                ));
            }
        }
        let mut features = stored_features(layer, &current);
        let key = match edit {
            Edit::Create(f) => {
                let Received { key, name, props, geometry } = received(layer, f)?;
                let key = key.ok_or_else(|| bad_feature("error-feature-key"))?;
                if features.iter().any(|(k, _)| *k == key) {
                    return Err(AppError::said(
                        ErrorCode::FeatureExists,
                        "error-feature-exists",
                        vec![("fid", key.as_str().into()), ("layer", layer_arg(layer))],
                    ));
                }
                let props = properties(layer, props, &key, name.as_deref());
                features.push((key.clone(), json!({ "type": "Feature", "properties": props, "geometry": geometry })));
                key
            }
            Edit::Replace(k, f) => {
                let Received { key, name, props, geometry } = received(layer, f)?;
                if key.as_deref().is_some_and(|given| given != k) {
                    return Err(bad_feature("error-feature-key-changed"));
                }
                let props = properties(layer, props, k, name.as_deref());
                let i = at.unwrap_or_default();
                features[i].1 = json!({ "type": "Feature", "properties": props, "geometry": geometry });
                k.clone()
            }
            Edit::Update(k, patch) => {
                let i = at.unwrap_or_default();
                let stored = &current[i];
                let mut props: Map<String, Value> = serde_json::from_str(&stored.properties_json).unwrap_or_default();
                props.retain(|name, _| !computed(name));
                props.insert("name".into(), stored.name.clone().map_or(Value::Null, Value::String));
                let mut f = json!({ "type": "Feature", "id": k, "properties": props });
                if let Some(p) = patch.get("properties") {
                    merge_patch(&mut f["properties"], p);
                }
                if patch.get("id").is_some_and(|id| id.as_str() != Some(k)) {
                    return Err(bad_feature("error-feature-key-changed"));
                }
                let props = f["properties"].as_object().cloned().unwrap_or_default();
                let kind = layer;
                if domania_io::perimeter::key_fields(kind)
                    .iter()
                    .any(|kf| props.get(*kf).and_then(Value::as_str).is_some_and(|v| v != k))
                {
                    return Err(bad_feature("error-feature-key-changed"));
                }
                let name = std::iter::once("name")
                    .chain(domania_io::perimeter::name_fields(kind).iter().copied())
                    .find_map(|n| props.get(n).and_then(Value::as_str));
                let name = name.map(str::to_owned);
                let geometry = match patch.get("geometry") {
                    Some(g) => received(layer, &json!({ "type": "Feature", "geometry": g }))?.geometry,
                    None => stored_geometry(&stored.geom_l93),
                };
                let props = properties(layer, props, k, name.as_deref());
                features[i].1 = json!({ "type": "Feature", "properties": props, "geometry": geometry });
                k.clone()
            }
            Edit::Delete(k) => {
                features.remove(at.unwrap_or_default());
                k.clone()
            }
        };
        let source = format!("OGC API – Features, {} {key} by {author}", edit.verb());
        let outcome = self.import_features(layer, features, author, source, base, None).map_err(|e| {
            if e.code() == ErrorCode::FeaturesRejected {
                let report = e.report().cloned();
                let said = AppError::said(
                    ErrorCode::FeaturesRejected,
                    "error-edit-rejected",
                    vec![("fid", key.as_str().into())],
                );
                return match report {
                    Some(r) => said.with_report(r),
                    None => said,
                };
            }
            e
        })?;
        Ok(Edited { outcome, key })
    }

    /// `features` (GeoJSON in Lambert-93) imported as the layer's next version, made from
    /// version `base`; with `absorb`, the edits journaled in the file up to that entry.
    fn import_features(
        &self,
        layer: Layer,
        features: Vec<(String, Value)>,
        author: &str,
        source: String,
        base: i64,
        absorb: Option<i64>,
    ) -> Result<ImportOutcome> {
        let fc = json!({
            "type": "FeatureCollection",
            "features": features.into_iter().map(|(_, f)| f).collect::<Vec<_>>(),
        });
        let dir = tempfile::tempdir()
            .map_err(|e| AppError::new(ErrorCode::Internal, format!("a folder for the edit: {e}")))?;
        let path = dir.path().join(format!("{}.geojson", layer.as_str()));
        write(&path, &fc)?;
        let mut req = ImportRequest::new(layer, &path, author);
        req.source_name = Some(source);
        req.source.read = read_options(Some("EPSG:2154"), InvalidPolicy::Reject)?;
        req.options.expect_latest = Some(base);
        req.options.absorb = absorb;
        let folder = format!("{}/", dir.path().display());
        self.import(&req, &|_| {}).map_err(|e| e.without(&folder))
    }

    /// Makes the edits an editor saved into the store versions of their layers, through the
    /// same pipeline as an import — the history, the author, `diff` and `rollback`, and the
    /// rules the save's triggers could not check (Domania's own validity, the exact removal
    /// guard). In a GeoPackage (QGIS saving into the file) the layer as the editor left it is
    /// imported over the layer as it was, one version per layer edited, by [`EDITOR`]; in a
    /// database (QGIS saving into the views of `domania_edit`) each saving transaction is one
    /// version, by its PostgreSQL role. Edits the pipeline refuses are undone and said in the
    /// answer; edits saved while these were read wait for the next call.
    ///
    /// # Errors
    /// When the store cannot be read or written (the edits then wait).
    pub fn absorb_edits(&self) -> Result<Vec<Absorbed>> {
        // One look at the journals; most looks find nothing.
        let pending: Vec<Layer> = match self.open_read() {
            // No store (yet), or not Domania's: nothing was saved into it for Domania.
            Err(e) if matches!(e.code(), ErrorCode::StoreMissing | ErrorCode::NotAStore) => return Ok(Vec::new()),
            Err(e) => return Err(e),
            // A store made by an older Domania: one opening for writing gives it the triggers
            // (or views) that journal the saves, so that none escapes the history from now on
            // (a store that cannot be written now gets them at the next look).
            Ok(store) if !store.edits_journaled()? => {
                drop(store);
                drop(self.open_write());
                Vec::new()
            }
            Ok(store) => {
                let mut pending = Vec::new();
                for layer in Layer::ALL.into_iter().filter(|l| l.is_edited()) {
                    if store.last_edit(layer)?.is_some() || !store.saved_edits(layer)?.is_empty() {
                        pending.push(layer);
                    }
                }
                pending
            }
        };
        let mut out = Vec::new();
        for layer in pending {
            // On a database, one saving transaction at a time, each on the version the last
            // one made; a file's saves are one.
            loop {
                let store = self.open_read()?;
                let base = store.latest_version(layer)?.unwrap_or(0);
                let mut features = stored_features(layer, &store.perimeters(layer)?);
                let (token, author, source, applied) = match self.store_path() {
                    Location::File(path) => {
                        let Some(upto) = store.last_edit(layer)? else { break };
                        (upto, EDITOR.to_owned(), format!("{EDITOR}, {}", edited_source(path)), Ok(()))
                    }
                    Location::Postgres(_) => {
                        let Some(saved) = store.saved_edits(layer)?.into_iter().next() else { break };
                        let applied = apply(layer, &mut features, saved.ops);
                        let author = saved.author.unwrap_or_else(|| EDITOR.to_owned());
                        let source = format!("{EDITOR}, {}.{}", domania_store::pg::EDIT_SCHEMA, layer.table());
                        (saved.token, author, source, applied)
                    }
                };
                drop(store);
                let outcome =
                    applied.and_then(|()| self.import_features(layer, features, &author, source, base, Some(token)));
                match self.absorbed(layer, token, outcome)? {
                    Some(a) => out.push(a),
                    None => break,
                }
            }
        }
        Ok(out)
    }

    /// What became of edits up to `token` made a version (`outcome`): kept when they changed
    /// nothing (their journal emptied) or were refused (undone); `None` when other saves came
    /// meanwhile (they wait for the next call).
    fn absorbed(&self, layer: Layer, token: i64, outcome: Result<ImportOutcome>) -> Result<Option<Absorbed>> {
        match outcome {
            Err(e) if e.code() == ErrorCode::FeatureChanged => Ok(None),
            Ok(outcome) if !outcome.version.unchanged => Ok(Some(Absorbed { layer, outcome: Ok(outcome) })),
            // Saved, but nothing changed (a vertex moved and moved back): the journal goes.
            Ok(outcome) => {
                self.open_write()?.discard_edits(layer, token)?;
                Ok(Some(Absorbed { layer, outcome: Ok(outcome) }))
            }
            // What the edits hold is refused: undone, and said.
            Err(e) if refuses_content(e.code()) => {
                Ok(self.open_write()?.discard_edits(layer, token)?.then_some(Absorbed { layer, outcome: Err(e) }))
            }
            // The store cannot take them now (busy, read-only, a fault): they wait.
            Err(e) => Err(e),
        }
    }
}

/// A database editor's saved rows applied to the layer's features.
fn apply(layer: Layer, features: &mut Vec<(String, Value)>, ops: Vec<domania_store::SavedOp>) -> Result<()> {
    use domania_store::SavedOp;
    let feature = |p: &domania_store::StoredPerimeter| stored_features(layer, std::slice::from_ref(p)).remove(0);
    for op in ops {
        match op {
            SavedOp::Insert(p) => features.push(feature(&p)),
            SavedOp::Update { key, now } => match features.iter_mut().find(|(k, _)| *k == key) {
                Some(f) => *f = feature(&now),
                None => return Err(bad_feature("error-feature-json")),
            },
            SavedOp::Delete { key } => features.retain(|(k, _)| *k != key),
        }
    }
    Ok(())
}

/// Whether an import refused for `code` refused what it was given (to be undone), not the
/// store's state at the time (to be tried again).
fn refuses_content(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::FeaturesRejected
            | ErrorCode::ImportRefused
            | ErrorCode::DuplicateKey
            | ErrorCode::BadFeature
            | ErrorCode::ScopeRefused
            | ErrorCode::BadText
    )
}

/// Who a version made of edits saved into the store's file is by: the file says nothing of
/// the editor's account, and QGIS is the editor Domania's users have.
pub const EDITOR: &str = "QGIS";

/// What became of the edits saved into one layer: the version made of them (`unchanged` when
/// they changed nothing), or why they were refused and undone.
#[derive(Debug)]
pub struct Absorbed {
    pub layer: Layer,
    pub outcome: Result<ImportOutcome>,
}

impl Absorbed {
    /// What became of the edits, for a person (`None` when they changed nothing).
    #[must_use]
    pub fn text(&self, lang: domania_i18n::Lang, audience: crate::error::Audience) -> Option<String> {
        let layer = ("layer", layer_arg(self.layer));
        match &self.outcome {
            Ok(o) if o.version.unchanged => None,
            Ok(o) => Some(lang.t("edits-absorbed", &[layer, ("version", o.version.version.into())])),
            Err(e) => Some(lang.t("edits-refused", &[layer, ("why", e.text(lang, audience).into())])),
        }
    }
}

/// The source of a version made of an editor's saves into a file: the file by its name (never
/// its folder), as a database's names its view.
fn edited_source(path: &Path) -> String {
    path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// The layer as stored, as GeoJSON features in Lambert-93, by key.
fn stored_features(layer: Layer, current: &[domania_store::StoredPerimeter]) -> Vec<(String, Value)> {
    current
        .iter()
        .map(|p| {
            let props: Map<String, Value> = serde_json::from_str(&p.properties_json).unwrap_or_default();
            let props = properties(layer, props, &p.key, p.name.as_deref());
            let f = json!({ "type": "Feature", "properties": props, "geometry": stored_geometry(&p.geom_l93) });
            (p.key.clone(), f)
        })
        .collect()
}

fn write(path: &Path, fc: &Value) -> Result<()> {
    let bytes =
        serde_json::to_vec(fc).map_err(|e| AppError::new(ErrorCode::Internal, format!("writing the edit: {e}")))?;
    std::fs::write(path, bytes).map_err(|e| AppError::new(ErrorCode::Internal, format!("writing the edit: {e}")))
}

#[cfg(test)]
mod tests {
    use geo_types::polygon;

    use super::*;

    #[test]
    fn a_merge_patch_sets_and_removes() {
        let mut t = json!({ "properties": { "name": "Îlot 3", "note": "x" } });
        merge_patch(&mut t, &json!({ "properties": { "name": "Îlot 3 bis", "note": null } }));
        assert_eq!(t, json!({ "properties": { "name": "Îlot 3 bis" } }));
    }

    #[test]
    fn the_key_and_name_are_stored_under_the_first_names_read() {
        let props =
            serde_json::from_value(json!({ "code_sous_secteur": "A", "nom": "x", "share_commune": 0.3, "autre": 1 }))
                .unwrap();
        let p = properties(Layer::Subsectors, props, "A2", Some("y"));
        assert_eq!(Value::Object(p), json!({ "id": "A2", "name": "y", "autre": 1 }));
        // A QPV keeps the ANCT's names: its name given as served (`name`) is stored as `nom_qp`.
        let props = serde_json::from_value(json!({ "code_qp": "QN078001", "nom_qp": "old", "name": "new" })).unwrap();
        let p = properties(Layer::Qpv, props, "QN078001", Some("new"));
        assert_eq!(Value::Object(p), json!({ "code_qp": "QN078001", "nom_qp": "new" }));
        let f = json!({ "type": "Feature", "id": "QN078001", "properties": { "name": "Le Val" },
            "geometry": { "type": "Polygon", "coordinates": [[[1.8, 48.9], [1.81, 48.9], [1.81, 48.91], [1.8, 48.9]]] } });
        let r = received(Layer::Qpv, &f).unwrap();
        assert_eq!((r.key.as_deref(), r.name.as_deref()), (Some("QN078001"), Some("Le Val")));
    }

    #[test]
    fn a_tag_changes_with_the_shape() {
        let square = |d: f64| -> MultiPolygon<f64> {
            polygon![(x: 0.0, y: 0.0), (x: 1.0 + d, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)].into()
        };
        assert_eq!(feature_tag("A", None, &square(0.0)), feature_tag("A", None, &square(0.0)));
        assert_ne!(feature_tag("A", None, &square(0.0)), feature_tag("A", None, &square(1e-9)));
        assert_ne!(feature_tag("A", None, &square(0.0)), feature_tag("A", Some("n"), &square(0.0)));
    }
}

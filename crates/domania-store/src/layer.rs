//! The layers the store versions, their columns, and rows in a layer-neutral form.

use domania_core::{Idu, Owner, Parcel, Right};
use geo_types::MultiPolygon;

use crate::blob::encode_multipolygon;

pub use domania_core::Layer;

/// Layer-specific columns (name, SQL type), after the common ones.
#[must_use]
pub(crate) fn columns(layer: Layer) -> &'static [(&'static str, &'static str)] {
    match layer {
        Layer::Parcels => &[
            ("idu", "TEXT NOT NULL"),
            ("commune", "TEXT"),
            ("prefixe", "TEXT"),
            ("section", "TEXT"),
            ("numero", "TEXT"),
            ("contenance", "INTEGER"),
            ("created", "TEXT"),
            ("updated", "TEXT"),
        ],
        Layer::Owners => &[
            ("idu", "TEXT NOT NULL"),
            ("droit", "TEXT NOT NULL"),
            ("siren", "TEXT"),
            ("denomination", "TEXT"),
            ("groupe", "INTEGER"),
            ("forme", "TEXT"),
            ("forme_abregee", "TEXT"),
            ("source_rows", "INTEGER NOT NULL"),
        ],
        Layer::Qpv | Layer::Subsectors | Layer::Conventions | Layer::Buildings | Layer::Sections => {
            &[("name", "TEXT"), ("properties", "TEXT")]
        }
        Layer::Spaces => &[
            ("subsector", "TEXT NOT NULL"),
            ("space", "TEXT NOT NULL"),
            ("owner_actor", "TEXT"),
            ("area_m2", "REAL"),
            ("decision", "TEXT"),
            ("judged_on", "TEXT"),
            ("managers", "TEXT"),
            ("explanations", "TEXT"),
        ],
    }
}

/// One attribute value of a row, as the store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

impl rusqlite::types::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
        }))
    }
}

impl rusqlite::types::FromSql for Value {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        use rusqlite::types::ValueRef;
        Ok(match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(r) => Value::Real(r),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(_) => return Err(rusqlite::types::FromSqlError::InvalidType),
        })
    }
}

/// A row of any layer: its key, geometry blob (spatial layers) and the layer's columns in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub key: String,
    pub geom: Option<Vec<u8>>,
    pub values: Vec<Value>,
}

impl Row {
    /// Hash of the geometry blob (0 when none).
    #[must_use]
    pub fn geom_hash(&self) -> i64 {
        self.geom.as_deref().map_or(0, fnv1a)
    }
    /// Hash of the attribute values.
    #[must_use]
    pub fn attr_hash(&self) -> i64 {
        let mut buf = Vec::with_capacity(128);
        for v in &self.values {
            match v {
                Value::Null => buf.push(0),
                Value::Integer(i) => {
                    buf.push(1);
                    buf.extend_from_slice(&i.to_le_bytes());
                }
                Value::Real(r) => {
                    buf.push(2);
                    buf.extend_from_slice(&r.to_le_bytes());
                }
                Value::Text(t) => {
                    buf.push(3);
                    buf.extend_from_slice(&(t.len() as u64).to_le_bytes());
                    buf.extend_from_slice(t.as_bytes());
                }
            }
        }
        fnv1a(&buf)
    }
}

/// The stored form of a content hash: SQLite integers are signed.
fn fnv1a(bytes: &[u8]) -> i64 {
    domania_core::hash::fnv1a(bytes) as i64
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}
fn opt_text(s: Option<&str>) -> Value {
    s.map_or(Value::Null, text)
}

/// The row of a parcel.
#[must_use]
pub fn parcel_row(p: &Parcel) -> Row {
    Row {
        key: p.idu.to_string(),
        geom: Some(encode_multipolygon(&p.geom_l93)),
        values: vec![
            text(p.idu.as_str()),
            text(&p.commune),
            text(&p.prefixe),
            text(&p.section),
            text(&p.numero),
            p.contenance.map_or(Value::Null, Value::Integer),
            opt_text(p.created.as_deref()),
            opt_text(p.updated.as_deref()),
        ],
    }
}

/// Rows of the owners layer from PPM rights. The PPM file repeats a right once per fiscal
/// subdivision (SUF): rows with the same (IDU, right, SIREN, name) are collapsed into one, with
/// the number of source rows kept in `source_rows`.
#[must_use]
pub fn owner_rows<'a>(rights: impl IntoIterator<Item = (&'a Idu, Right, &'a Owner)>) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (idu, right, owner) in rights {
        let key = format!("{idu}|{}|{}|{}", right.code(), owner.siren, owner.name);
        if let Some(&i) = index.get(&key) {
            if let Value::Integer(n) = &mut out[i].values[7] {
                *n += 1;
            }
            continue;
        }
        index.insert(key.clone(), out.len());
        out.push(Row {
            key,
            geom: None,
            values: vec![
                text(idu.as_str()),
                Value::Text(right.code().to_string()),
                text(owner.siren.as_str()),
                text(&owner.name),
                owner.groupe.map_or(Value::Null, |g| Value::Integer(i64::from(g))),
                opt_text(owner.forme.as_deref()),
                opt_text(owner.forme_abregee.as_deref()),
                Value::Integer(1),
            ],
        });
    }
    out
}

/// The row of a space of the management layer. `managers` and `explanations` are JSON objects
/// keyed by intervention kind.
#[allow(clippy::too_many_arguments)]
#[must_use]
pub fn space_row(
    subsector: &str,
    space: &str,
    owner_actor: &str,
    area_m2: f64,
    decision: &str,
    judged_on: &str,
    managers_json: &str,
    explanations_json: &str,
    geom: &MultiPolygon<f64>,
) -> Row {
    Row {
        key: format!("{subsector}|{space}"),
        geom: Some(encode_multipolygon(geom)),
        values: vec![
            text(subsector),
            text(space),
            text(owner_actor),
            Value::Real(area_m2),
            text(decision),
            text(judged_on),
            text(managers_json),
            text(explanations_json),
        ],
    }
}

/// The row of a perimeter (QPV, sub-sector, convention): key, name, properties as JSON text.
#[must_use]
pub fn perimeter_row(key: &str, name: Option<&str>, properties_json: &str, geom: &MultiPolygon<f64>) -> Row {
    Row {
        key: key.to_owned(),
        geom: Some(encode_multipolygon(geom)),
        values: vec![opt_text(name), text(properties_json)],
    }
}

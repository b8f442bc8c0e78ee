//! The layers the store versions, their columns, and rows in a layer-neutral form.

use domania_core::{Address, Idu, Owner, Parcel, Right};
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
            // Added after the layer's first schema (see [`LATER_COLUMNS`]): the parcel's street
            // address as the PPM writes it, `12 B RUE ORDENER`.
            ("adresse", "TEXT"),
        ],
        Layer::Qpv | Layer::Subsectors | Layer::Conventions | Layer::Buildings | Layer::Sections => {
            &[("name", "TEXT"), ("properties", "TEXT")]
        }
        Layer::Addresses => &[
            ("commune", "TEXT NOT NULL"),
            ("numero", "INTEGER"),
            ("rep", "TEXT"),
            ("voie", "TEXT NOT NULL"),
            ("lieu_dit", "TEXT"),
            ("code_postal", "TEXT"),
            ("x", "REAL NOT NULL"),
            ("y", "REAL NOT NULL"),
            ("lon", "REAL"),
            ("lat", "REAL"),
            ("parcelles", "TEXT"),
        ],
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

/// Columns added to a layer after stores were made with it: a store made before has them
/// added empty by its first writer, and a row whose added columns are all empty hashes as it
/// did before (its stored hash stays true).
const LATER_COLUMNS: &[(Layer, usize)] = &[(Layer::Owners, 1)];

/// How many of a layer's columns are added later ([`LATER_COLUMNS`]).
#[must_use]
pub(crate) fn later_columns(layer: Layer) -> usize {
    LATER_COLUMNS.iter().find(|(l, _)| *l == layer).map_or(0, |(_, n)| *n)
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
    /// Hash of the attribute values of a row of `layer` (the later columns left empty count for
    /// nothing, see [`LATER_COLUMNS`]).
    #[must_use]
    pub fn attr_hash(&self, layer: Layer) -> i64 {
        let mut values = &self.values[..];
        let first = values.len().saturating_sub(later_columns(layer));
        while values.len() > first && values.last() == Some(&Value::Null) {
            values = &values[..values.len() - 1];
        }
        let mut buf = Vec::with_capacity(128);
        for v in values {
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

/// The row of an address of the BAN.
#[must_use]
pub fn address_row(a: &Address) -> Row {
    let real = |v: Option<f64>| v.map_or(Value::Null, Value::Real);
    Row {
        key: a.id.clone(),
        geom: None,
        values: vec![
            text(&a.commune),
            a.numero.map_or(Value::Null, |n| Value::Integer(i64::from(n))),
            opt_text(a.rep.as_deref()),
            text(&a.voie),
            opt_text(a.lieu_dit.as_deref()),
            opt_text(a.code_postal.as_deref()),
            Value::Real(a.x),
            Value::Real(a.y),
            real(a.lon),
            real(a.lat),
            opt_text(a.parcelles.as_deref()),
        ],
    }
}

/// The address a row of the addresses layer holds (`None` for a row that is not one).
#[must_use]
pub(crate) fn address_of(row: Row) -> Option<Address> {
    let mut v = row.values.into_iter();
    let mut next = || v.next().unwrap_or(Value::Null);
    let text = |v: Value| match v {
        Value::Text(t) => Some(t),
        _ => None,
    };
    let real = |v: Value| match v {
        Value::Real(r) => Some(r),
        Value::Integer(i) => Some(i as f64),
        _ => None,
    };
    Some(Address {
        id: row.key,
        commune: text(next())?,
        numero: match next() {
            Value::Integer(n) => u32::try_from(n).ok(),
            _ => None,
        },
        rep: text(next()),
        voie: text(next())?,
        lieu_dit: text(next()),
        code_postal: text(next()),
        x: real(next())?,
        y: real(next())?,
        lon: real(next()),
        lat: real(next()),
        parcelles: text(next()),
    })
}

/// Rows of the owners layer from PPM rights. The PPM file repeats a right once per fiscal
/// subdivision (SUF): rows with the same (IDU, right, SIREN, name) are collapsed into one, with
/// the number of source rows kept in `source_rows`, and the first street address given.
#[must_use]
pub fn owner_rows<'a>(rights: impl IntoIterator<Item = (&'a Idu, Right, &'a Owner, Option<&'a str>)>) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (idu, right, owner, address) in rights {
        let key = format!("{idu}|{}|{}|{}", right.code(), owner.siren, owner.name);
        if let Some(&i) = index.get(&key) {
            if let Value::Integer(n) = &mut out[i].values[7] {
                *n += 1;
            }
            if out[i].values[8] == Value::Null {
                out[i].values[8] = opt_text(address);
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
                opt_text(address),
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

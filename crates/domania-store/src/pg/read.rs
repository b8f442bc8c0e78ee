//! Rows read back from the database: layer rows, parcels, rights and bookkeeping records.

use crate::blob;
use crate::error::{Result, StoreError};
use crate::layer::{Layer, Row, Value};
use crate::model::{StoredParcel, StoredRight};
use crate::records::RecordRow;

/// A row read back: geometry (as a GeoPackage blob, so both engines hand out the same rows),
/// key and the layer's columns, from column `at` on.
pub(super) fn read_row(layer: Layer, r: &postgres::Row, at: usize) -> Result<Row> {
    let geom = r
        .get::<_, Option<&[u8]>>(at)
        .map(|wkb| blob::decode_wkb(wkb).map(|mp| blob::encode_multipolygon(&mp)))
        .transpose()?;
    let mut values = Vec::new();
    for (i, (_, ty)) in crate::layer::columns(layer).iter().enumerate() {
        let i = at + 2 + i;
        values.push(if ty.starts_with("INTEGER") {
            r.get::<_, Option<i64>>(i).map_or(Value::Null, Value::Integer)
        } else if ty.starts_with("REAL") {
            r.get::<_, Option<f64>>(i).map_or(Value::Null, Value::Real)
        } else {
            r.get::<_, Option<String>>(i).map_or(Value::Null, Value::Text)
        });
    }
    Ok(Row { key: r.get(at + 1), geom, values })
}

pub(super) fn stored_parcel(r: &postgres::Row) -> Result<StoredParcel> {
    Ok(StoredParcel {
        idu: r.get(0),
        contenance: r.get(1),
        geom_l93: blob::decode_wkb(r.get::<_, &[u8]>(2))?,
        v_from: r.get(3),
        fid: r.get(4),
    })
}

pub(super) fn stored_right(r: &postgres::Row) -> Result<StoredRight> {
    let code: String = r.get(1);
    Ok(StoredRight {
        idu: r.get(0),
        droit: domania_core::Right::parse(&code)
            .ok_or_else(|| StoreError::Corrupt(format!("owners: empty code droit on {}", r.get::<_, String>(0))))?,
        siren: r.get::<_, Option<String>>(2).unwrap_or_default(),
        denomination: r.get::<_, Option<String>>(3).unwrap_or_default(),
        groupe: r.get::<_, Option<i64>>(4).map(|g| g as u8),
        forme: r.get(5),
        forme_abregee: r.get(6),
    })
}

impl RecordRow for postgres::Row {
    fn text(&self, i: usize) -> Result<Option<String>> {
        Ok(self.try_get(i)?)
    }

    fn int(&self, i: usize) -> Result<Option<i64>> {
        Ok(self.try_get(i)?)
    }
}

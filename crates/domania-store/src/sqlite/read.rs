//! Rows read back from the file: rights and bookkeeping records.

use crate::error::Result;
use crate::model::StoredRight;
use crate::records::RecordRow;

pub(super) fn stored_right(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRight> {
    Ok(StoredRight {
        idu: r.get(0)?,
        droit: {
            let code: String = r.get(1)?;
            domania_core::Right::parse(&code).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, "empty code droit".into())
            })?
        },
        siren: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
        denomination: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
        groupe: r.get::<_, Option<i64>>(4)?.map(|g| g as u8),
        forme: r.get(5)?,
        forme_abregee: r.get(6)?,
    })
}

impl RecordRow for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> Result<Option<String>> {
        Ok(self.get(i)?)
    }

    fn int(&self, i: usize) -> Result<Option<i64>> {
        Ok(self.get(i)?)
    }
}

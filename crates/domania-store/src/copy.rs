//! A whole store copied into an empty one, on either engine: every layer with its history,
//! every version record, tokens and rules, with their keys, version ranges, hashes and dates.

use crate::contract::RawSink;
use crate::error::{Result, StoreError};
use crate::layer::Layer;
use crate::model::CopyReport;
use crate::store::Store;

/// A row whose text every engine can store (PostgreSQL's holds no NUL): checked before it is
/// written, so that a copy either takes every row or none.
fn storable(layer: Layer, row: &crate::layer::Row) -> Result<()> {
    let bad =
        |column: String| StoreError::CopyUnstorable { table: layer.table(), key: row.key.replace('\0', "\\0"), column };
    if row.key.contains('\0') {
        return Err(bad("its key".to_owned()));
    }
    let names = crate::layer::columns(layer);
    for (i, v) in row.values.iter().enumerate() {
        if let crate::layer::Value::Text(t) = v
            && t.contains('\0')
        {
            return Err(bad(names.get(i).map_or_else(|| format!("column {i}"), |(n, _)| (*n).to_owned())));
        }
    }
    Ok(())
}

impl Store {
    /// Copies this whole store — every layer with its history, every version record (with the
    /// box of what it changed), tokens and rules — into `dest`, which must hold no version yet.
    /// Row keys, version ranges, content hashes and dates are kept, so both stores give the
    /// same [`Store::dump`].
    pub fn copy_into(&self, dest: &mut Store, progress: &dyn Fn(&str)) -> Result<CopyReport> {
        dest.need_writer("a copy")?;
        let mut holds = false;
        for l in Layer::ALL {
            holds |= dest.latest_version(l)?.is_some();
        }
        holds |= !dest.tokens()?.is_empty() || dest.rules()?.is_some();
        if holds {
            return Err(StoreError::CopyTargetNotEmpty { path: dest.path() });
        }
        let mut report =
            CopyReport { from: self.location.to_string(), to: dest.location.to_string(), ..CopyReport::default() };
        self.in_read(|| {
            let versions = self.db.version_records(None)?;
            let scopes = self.db.scope_records(None)?;
            let reach = self.db.reach_records(None)?;
            let tokens = self.db.token_records()?;
            if let Some(t) = tokens.iter().find(|t| t.name.contains('\0')) {
                return Err(StoreError::CopyUnstorable {
                    table: "domania_tokens",
                    key: t.name.replace('\0', "\\0"),
                    column: "name".to_owned(),
                });
            }
            let rules = self.db.rules_records()?;
            (report.versions, report.tokens, report.rules_versions) = (versions.len(), tokens.len(), rules.len());
            let mut sink: Box<dyn RawSink + '_> = dest.db.raw_sink()?;
            for layer in Layer::ALL {
                let counts = self.raw_layer(layer, &mut |chunk| {
                    chunk.iter().try_for_each(|r| storable(layer, &r.row))?;
                    sink.rows(layer, chunk)
                })?;
                progress(&format!("{}: {} current rows, {} history rows", layer.table(), counts.0, counts.1));
                report.layers.insert(layer.table().to_owned(), counts);
            }
            sink.records(&versions, &scopes, &reach, &tokens, &rules)?;
            sink.commit()
        })?;
        Ok(report)
    }
}

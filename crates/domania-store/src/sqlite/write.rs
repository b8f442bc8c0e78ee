//! Writing: an import's rows with their R-tree entries, replaced and removed rows moved to the
//! history, the version records and `gpkg_contents`; and a copy into an empty file.

use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::gpkg;
use crate::blob;
use crate::contract::{RawSink, Writer};
use crate::error::Result;
use crate::layer::{Layer, Row, Value};
use crate::records::{RawRow, ReachRecord, RulesRecord, ScopeRecord, TokenRecord, VersionRecord};

/// SQL of one layer's writes, built once per import.
pub(super) struct LayerSql {
    pub(super) insert: String,
    /// `insert` with the fid given (a copy keeps fids).
    pub(super) insert_fid: String,
    pub(super) insert_history: String,
    pub(super) update: String,
    pub(super) archive: String,
    pub(super) delete: String,
    pub(super) rtree_upsert: String,
    pub(super) rtree_delete: String,
    pub(super) rtree_get: String,
}

impl LayerSql {
    pub(super) fn new(layer: Layer) -> Self {
        let t = layer.table();
        let names: Vec<&str> = crate::layer::columns(layer).iter().map(|(n, _)| *n).collect();
        let geom_col = if layer.is_spatial() { "geom, " } else { "" };
        let all_cols = format!("{geom_col}key, {}, ghash, ahash, v_from", names.join(", "));
        let n_params = usize::from(layer.is_spatial()) + 1 + names.len() + 3;
        let placeholders: Vec<String> = (1..=n_params).map(|i| format!("?{i}")).collect();
        let sets: Vec<String> = all_cols.split(", ").zip(&placeholders).map(|(c, p)| format!("{c} = {p}")).collect();
        Self {
            insert: format!("INSERT INTO {t} ({all_cols}) VALUES ({})", placeholders.join(", ")),
            insert_fid: format!(
                "INSERT INTO {t} ({all_cols}, fid) VALUES ({}, ?{})",
                placeholders.join(", "),
                n_params + 1
            ),
            insert_history: format!(
                "INSERT INTO {t}_history ({all_cols}, fid, v_to) VALUES ({}, ?{}, ?{})",
                placeholders.join(", "),
                n_params + 1,
                n_params + 2
            ),
            update: format!("UPDATE {t} SET {} WHERE fid = ?{}", sets.join(", "), n_params + 1),
            archive: format!(
                "INSERT INTO {t}_history (fid, {all_cols}, v_to) SELECT fid, {all_cols}, ?1 FROM {t} WHERE fid = ?2"
            ),
            delete: format!("DELETE FROM {t} WHERE fid = ?1"),
            rtree_upsert: format!("INSERT OR REPLACE INTO rtree_{t}_geom VALUES (?1, ?2, ?3, ?4, ?5)"),
            rtree_delete: format!("DELETE FROM rtree_{t}_geom WHERE id = ?1"),
            rtree_get: format!("SELECT minx, maxx, miny, maxy FROM rtree_{t}_geom WHERE id = ?1"),
        }
    }
}

/// A row's values as SQLite binds them: geometry (spatial layers), key, the layer's columns,
/// then the hashes and `v_from`.
pub(super) fn bind_values(layer: Layer, row: Row, ghash: i64, ahash: i64, v_from: i64) -> Vec<rusqlite::types::Value> {
    use rusqlite::types::Value as V;
    let mut values: Vec<V> = Vec::with_capacity(row.values.len() + 6);
    if layer.is_spatial() {
        values.push(row.geom.map_or(V::Null, V::Blob));
    }
    values.push(V::Text(row.key));
    values.extend(row.values.into_iter().map(|v| match v {
        Value::Null => V::Null,
        Value::Integer(i) => V::Integer(i),
        Value::Real(r) => V::Real(r),
        Value::Text(t) => V::Text(t),
    }));
    values.extend([ghash, ahash, v_from].map(V::Integer));
    values
}

/// Puts a row's box in the R-tree (or takes it out when it has no geometry).
pub(super) fn index(tx: &Connection, sql: &LayerSql, fid: i64, env: Option<[f64; 4]>) -> Result<()> {
    match env {
        Some(e) => tx.prepare_cached(&sql.rtree_upsert)?.execute(params![fid, e[0], e[1], e[2], e[3]])?,
        None => tx.prepare_cached(&sql.rtree_delete)?.execute([fid])?,
    };
    Ok(())
}

/// The writer of one import into a GeoPackage.
pub(super) struct GpkgWriter<'a> {
    pub(super) tx: rusqlite::Transaction<'a>,
    pub(super) layer: Layer,
    pub(super) version: i64,
    pub(super) sql: LayerSql,
    /// The envelope of the shapes moved to the history so far.
    pub(super) archived: Option<[f64; 4]>,
}

impl GpkgWriter<'_> {
    /// Adds the box the R-tree holds for row `fid` (about to be archived) to
    /// [`GpkgWriter::archived`].
    fn archiving(&mut self, fid: i64) -> Result<()> {
        if !self.layer.is_spatial() {
            return Ok(());
        }
        let env: Option<[f64; 4]> = self
            .tx
            .prepare_cached(&self.sql.rtree_get)?
            .query_row([fid], |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?]))
            .optional()?;
        if let Some(env) = env {
            self.archived = Some(crate::records::envelope_union(self.archived, env));
        }
        Ok(())
    }
}

impl Writer for GpkgWriter<'_> {
    fn current(&mut self, dep: Option<&str>) -> Result<Vec<(String, i64, i64, i64)>> {
        // The keys of a département are those from its code up to the next code ("19" reads up
        // to "1:", "2A" up to "2B", "974" up to "975"). Read in one pass over the table, not
        // through the key index: a GeoPackage is mostly one département, and looking each row
        // up from the index made the re-import of 400k parcels 20 % slower.
        let (range, bounds) = match dep {
            Some(d) => {
                let mut end = d.as_bytes().to_vec();
                if let Some(last) = end.last_mut() {
                    *last += 1;
                }
                (
                    " NOT INDEXED WHERE key >= ?1 AND key < ?2",
                    vec![d.to_owned(), String::from_utf8_lossy(&end).into_owned()],
                )
            }
            None => ("", Vec::new()),
        };
        let mut stmt =
            self.tx.prepare_cached(&format!("SELECT key, fid, ghash, ahash FROM {}{range}", self.layer.table()))?;
        let rows =
            stmt.query_map(rusqlite::params_from_iter(bounds), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn put(&mut self, row: Row, replaces: Option<i64>, ghash: i64, ahash: i64) -> Result<()> {
        let env = row.geom.as_deref().and_then(blob::envelope);
        let mut values = bind_values(self.layer, row, ghash, ahash, self.version);
        let fid = match replaces {
            None => {
                self.tx.prepare_cached(&self.sql.insert)?.execute(params_from_iter(values))?;
                self.tx.last_insert_rowid()
            }
            Some(fid) if self.layer.is_edited() => {
                self.archiving(fid)?;
                // A new version of a drawn feature is a new row: an editor who loaded the
                // feature before finds it gone when he saves, and is told so, instead of
                // writing over a change he did not see.
                self.tx.prepare_cached(&self.sql.archive)?.execute(params![self.version, fid])?;
                self.tx.prepare_cached(&self.sql.delete)?.execute([fid])?;
                self.tx.prepare_cached(&self.sql.rtree_delete)?.execute([fid])?;
                self.tx.prepare_cached(&self.sql.insert)?.execute(params_from_iter(values))?;
                self.tx.last_insert_rowid()
            }
            Some(fid) => {
                self.archiving(fid)?;
                self.tx.prepare_cached(&self.sql.archive)?.execute(params![self.version, fid])?;
                values.push(rusqlite::types::Value::Integer(fid));
                self.tx.prepare_cached(&self.sql.update)?.execute(params_from_iter(values))?;
                fid
            }
        };
        if self.layer.is_spatial() {
            index(&self.tx, &self.sql, fid, env)?;
        }
        Ok(())
    }

    fn retire(&mut self, fids: &[(i64, String)]) -> Result<()> {
        for (fid, _) in fids {
            self.archiving(*fid)?;
            self.tx.prepare_cached(&self.sql.archive)?.execute(params![self.version, fid])?;
            self.tx.prepare_cached(&self.sql.delete)?.execute([fid])?;
            if self.layer.is_spatial() {
                self.tx.prepare_cached(&self.sql.rtree_delete)?.execute([fid])?;
            }
        }
        Ok(())
    }

    fn archived_envelope(&self) -> Option<[f64; 4]> {
        self.archived
    }

    fn finish(&mut self, v: &VersionRecord, scopes: &[ScopeRecord], reach: Option<ReachRecord>) -> Result<String> {
        let t = self.layer.table();
        if self.layer.is_spatial() {
            gpkg::create_rtree_triggers(&self.tx, t, "fid")?;
        }
        gpkg::restore_edit_triggers(&self.tx, crate::model::MAX_REMOVED_DEFAULT)?;
        insert_records(&self.tx, std::slice::from_ref(v), scopes, reach.as_slice())?;
        update_contents(&self.tx, self.layer)?;
        Ok(self.tx.query_row(
            "SELECT created_at FROM domania_versions WHERE layer = ?1 AND version = ?2",
            params![t, v.version],
            |r| r.get(0),
        )?)
    }

    fn created_at(&mut self, version: i64) -> Result<Option<String>> {
        Ok(self
            .tx
            .query_row(
                "SELECT created_at FROM domania_versions WHERE layer = ?1 AND version = ?2",
                params![self.layer.table(), version],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn commit(self: Box<Self>) -> Result<()> {
        Ok(self.tx.commit()?)
    }
}

/// Writes version and scope records; a record without `created_at` gets the time now.
pub(super) fn insert_records(
    tx: &Connection,
    versions: &[VersionRecord],
    scopes: &[ScopeRecord],
    reach: &[ReachRecord],
) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO domania_versions (layer, version, kind, author, created_at, source, source_sha256, features, added,
           removed, changed, reshaped, rejected, repaired, report)
         VALUES (?1, ?2, ?3, ?4, COALESCE(?5, strftime('%Y-%m-%dT%H:%M:%fZ','now')), ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?;
    for v in versions {
        stmt.execute(params![
            v.layer,
            v.version,
            v.kind,
            v.author,
            v.created_at,
            v.source,
            v.source_sha256,
            v.features,
            v.added,
            v.removed,
            v.changed,
            v.reshaped,
            v.rejected,
            v.repaired,
            v.report
        ])?;
    }
    let mut stmt = tx.prepare_cached(
        "INSERT INTO domania_scopes (layer, version, scope_kind, scope, features, added, removed, changed)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for s in scopes {
        stmt.execute(params![s.layer, s.version, s.scope_kind, s.scope, s.features, s.added, s.removed, s.changed])?;
    }
    let mut stmt = tx.prepare_cached(
        "INSERT INTO domania_reach (layer, version, min_x, min_y, max_x, max_y) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for r in reach {
        stmt.execute(params![r.layer, r.version, r.xmin, r.ymin, r.xmax, r.ymax])?;
    }
    Ok(())
}

/// Updates a layer's `gpkg_contents` row: its last change and (spatial layers) its extent.
pub(super) fn update_contents(tx: &Connection, layer: Layer) -> Result<()> {
    let t = layer.table();
    if layer.is_spatial() {
        // The R-tree holds float32 boxes rounded outwards: a conservative extent, as the
        // GeoPackage extent may be.
        tx.execute(
            &format!(
                "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now'),
                   min_x = (SELECT MIN(minx) FROM rtree_{t}_geom), max_x = (SELECT MAX(maxx) FROM rtree_{t}_geom),
                   min_y = (SELECT MIN(miny) FROM rtree_{t}_geom), max_y = (SELECT MAX(maxy) FROM rtree_{t}_geom)
                 WHERE table_name = ?1"
            ),
            [t],
        )?;
    } else {
        tx.execute(
            "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = ?1",
            [t],
        )?;
    }
    Ok(())
}

/// The writer of a copy into a GeoPackage: rows keep their fids; the R-tree triggers stay on
/// (a copy is not the hot path).
pub(super) struct GpkgSink<'a> {
    pub(super) tx: rusqlite::Transaction<'a>,
}

impl RawSink for GpkgSink<'_> {
    fn rows(&mut self, layer: Layer, rows: Vec<RawRow>) -> Result<()> {
        let sql = LayerSql::new(layer);
        for r in rows {
            let mut values = bind_values(layer, r.row, r.ghash, r.ahash, r.v_from);
            values.push(rusqlite::types::Value::Integer(r.fid));
            match r.v_to {
                None => self.tx.prepare_cached(&sql.insert_fid)?.execute(params_from_iter(values))?,
                Some(to) => {
                    values.push(rusqlite::types::Value::Integer(to));
                    self.tx.prepare_cached(&sql.insert_history)?.execute(params_from_iter(values))?
                }
            };
        }
        Ok(())
    }

    fn records(
        &mut self,
        versions: &[VersionRecord],
        scopes: &[ScopeRecord],
        reach: &[ReachRecord],
        tokens: &[TokenRecord],
        rules: &[RulesRecord],
    ) -> Result<()> {
        insert_records(&self.tx, versions, scopes, reach)?;
        for t in tokens {
            self.tx.execute(
                "INSERT INTO domania_tokens (name, role, sha256, created_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![t.name, t.role, t.sha256, t.created_at, t.revoked_at],
            )?;
        }
        for r in rules {
            self.tx.execute(
                "INSERT INTO domania_rules (version, author, created_at, toml) VALUES (?1, ?2, ?3, ?4)",
                params![r.version, r.author, r.created_at, r.toml],
            )?;
        }
        for layer in Layer::ALL {
            update_contents(&self.tx, layer)?;
            // New rows after the copy get fids above every copied one, history included (an
            // explicit fid only moves AUTOINCREMENT's counter to the largest current one).
            let t = layer.table();
            self.tx.execute(
                "INSERT INTO sqlite_sequence (name, seq) SELECT ?1, 0 WHERE NOT EXISTS
                   (SELECT 1 FROM sqlite_sequence WHERE name = ?1)",
                [t],
            )?;
            self.tx.execute(
                &format!(
                    "UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT MAX(fid) FROM {t}_history), 0))
                     WHERE name = ?1"
                ),
                [t],
            )?;
        }
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<()> {
        gpkg::restore_edit_triggers(&self.tx, crate::model::MAX_REMOVED_DEFAULT)?;
        Ok(self.tx.commit()?)
    }
}

//! Writing: an import's rows by `COPY` in chunks, replaced and removed rows moved to the
//! history by set-based statements, the version records; and a copy into an empty database.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write as _;

use postgres::fallible_iterator::FallibleIterator as _;
use postgres::types::ToSql;

use super::schema::{CHANNEL, NOW, attach_staged, dep_of, ensure_partitions, partition, partitioned, partitions};
use crate::blob;
use crate::contract::{RawSink, Writer};
use crate::error::{Result, StoreError};
use crate::layer::{Layer, Row, Value};
use crate::records::{CHUNK_ROWS, RawRow, ReachRecord, RulesRecord, ScopeRecord, TokenRecord, VersionRecord};

/// Appends a text value to a `COPY … FROM STDIN` (text format) line.
pub(super) fn copy_text(out: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// One line of a `COPY` into a layer table: fid, dep, geom, key, columns, hashes, `v_from`
/// (and `v_to` for the history).
pub(super) fn copy_line(
    out: &mut String,
    layer: Layer,
    fid: i64,
    row: &Row,
    hashes: [i64; 3],
    v_to: Option<i64>,
) -> Result<()> {
    use std::fmt::Write as _;
    let _ = write!(out, "{fid}\t");
    copy_text(out, &dep_of(layer, &row.key));
    if layer.is_spatial() {
        out.push('\t');
        match &row.geom {
            Some(blob) => blob::ewkb_hex(blob, out)?,
            None => out.push_str("\\N"),
        }
    }
    out.push('\t');
    copy_text(out, &row.key);
    for v in &row.values {
        out.push('\t');
        match v {
            Value::Null => out.push_str("\\N"),
            Value::Integer(i) => {
                let _ = write!(out, "{i}");
            }
            // Rust prints the shortest text that reads back to the same f64.
            Value::Real(r) => {
                let _ = write!(out, "{r:?}");
            }
            Value::Text(s) => copy_text(out, s),
        }
    }
    for h in hashes {
        let _ = write!(out, "\t{h}");
    }
    if let Some(to) = v_to {
        let _ = write!(out, "\t{to}");
    }
    out.push('\n');
    Ok(())
}

/// The column list of a `COPY` into a layer table (see [`copy_line`]).
pub(super) fn copy_columns(layer: Layer, history: bool) -> String {
    let names: Vec<&str> = crate::layer::columns(layer).iter().map(|(n, _)| *n).collect();
    let geom = if layer.is_spatial() { "geom, " } else { "" };
    let to = if history { ", v_to" } else { "" };
    format!("fid, dep, {geom}key, {}, ghash, ahash, v_from{to}", names.join(", "))
}

/// `COPY` of text-format lines into `table`. With `freeze` (a table made in this transaction),
/// rows are written frozen, hint bits set: the first reads after a bulk load then write
/// nothing back (they rewrote every page of a fresh million-parcel partition).
pub(super) fn copy_in(
    tx: &mut postgres::Transaction<'_>,
    table: &str,
    columns: &str,
    data: &str,
    freeze: bool,
) -> Result<()> {
    let with = if freeze { " WITH (FREEZE)" } else { "" };
    let mut w = tx.copy_in(&format!("COPY {table} ({columns}) FROM STDIN{with}"))?;
    w.write_all(data.as_bytes()).map_err(|e| StoreError::Postgres(format!("COPY into {table}: {e}")))?;
    w.finish()?;
    Ok(())
}

/// Moves the rows `fids` (each with its key) from a layer to its history, valid until
/// `version`, and gives the envelope (`[minx, maxx, miny, maxy]`) of their shapes. A
/// partitioned layer is asked one département at a time, so that only the partitions
/// concerned are read.
pub(super) fn archive(
    tx: &mut postgres::Transaction<'_>,
    layer: Layer,
    fids: &[(i64, String)],
    version: i64,
) -> Result<Option<[f64; 4]>> {
    let t = layer.table();
    let cols = copy_columns(layer, false);
    let mut by_dep: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (fid, key) in fids {
        by_dep.entry(dep_of(layer, key)).or_default().push(*fid);
    }
    let mut envelope = None;
    for (dep, fids) in by_dep {
        let (only, params): (&str, &[&(dyn ToSql + Sync)]) =
            if partitioned(layer) { ("dep = $3 AND", &[&fids, &version, &dep]) } else { ("", &[&fids, &version]) };
        let extent = if layer.is_spatial() {
            "SELECT ST_XMin(e), ST_XMax(e), ST_YMin(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e FROM gone) x"
        } else {
            "SELECT NULL::float8, NULL::float8, NULL::float8, NULL::float8"
        };
        let row = tx.query_one(
            &format!(
                "WITH gone AS (DELETE FROM {t} WHERE {only} fid = ANY($1) RETURNING {cols}),
                 kept AS (INSERT INTO {t}_history ({cols}, v_to) SELECT {cols}, $2 FROM gone)
                 {extent}"
            ),
            params,
        )?;
        if let (Some(x0), Some(x1), Some(y0), Some(y1)) =
            (row.get::<_, Option<f64>>(0), row.get::<_, Option<f64>>(1), row.get(2), row.get(3))
        {
            envelope = Some(crate::records::envelope_union(envelope, [x0, x1, y0, y1]));
        }
    }
    Ok(envelope)
}

/// The writer of one import into PostGIS.
pub(super) struct PgWriter<'a> {
    pub(super) tx: postgres::Transaction<'a>,
    pub(super) layer: Layer,
    pub(super) version: i64,
    /// Rows to write, with their fids.
    pub(super) pending: Vec<(i64, Row, i64, i64)>,
    /// Fids (and keys) of pending rows that replace a current row.
    pub(super) replaced: Vec<(i64, String)>,
    /// Fids reserved from the layer's sequence, not used yet.
    pub(super) fids: Vec<i64>,
    /// Départements with partitions.
    pub(super) deps: HashSet<String>,
    /// Départements whose partition this import made, filled unattached.
    pub(super) staged: BTreeSet<String>,
    /// Départements whose rows this import wrote (analysed at the end).
    pub(super) touched: BTreeSet<String>,
    /// The envelope of the shapes moved to the history so far.
    pub(super) archived: Option<[f64; 4]>,
}

impl PgWriter<'_> {
    /// Archives `fids` ([`archive`]), adding their shapes' envelope to
    /// [`PgWriter::archived`].
    fn archive(&mut self, fids: &[(i64, String)]) -> Result<()> {
        if let Some(env) = archive(&mut self.tx, self.layer, fids, self.version)? {
            self.archived = Some(crate::records::envelope_union(self.archived, env));
        }
        Ok(())
    }
}

impl PgWriter<'_> {
    fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let layer = self.layer;
        let deps: BTreeSet<String> = self.pending.iter().map(|(_, r, _, _)| dep_of(layer, &r.key)).collect();
        self.touched.extend(deps.iter().cloned());
        let staged = partitioned(layer).then_some(&mut self.staged);
        ensure_partitions(&mut self.tx, layer, &mut self.deps, deps.iter().map(String::as_str), staged)?;
        let replaced = std::mem::take(&mut self.replaced);
        self.archive(&replaced)?;
        // Rows of a staged partition go to it directly, the others through the parent.
        let mut by_table: BTreeMap<String, String> = BTreeMap::new();
        for (fid, row, gh, ah) in self.pending.drain(..) {
            let dep = dep_of(layer, &row.key);
            let table = if self.staged.contains(&dep) { partition(layer, &dep) } else { layer.table().to_owned() };
            let data = by_table.entry(table).or_insert_with(|| String::with_capacity(CHUNK_ROWS * 512));
            copy_line(data, layer, fid, &row, [gh, ah, self.version], None)?;
        }
        for (table, data) in by_table {
            let staged = table != layer.table();
            copy_in(&mut self.tx, &table, &copy_columns(layer, false), &data, staged)?;
        }
        Ok(())
    }
}

impl Writer for PgWriter<'_> {
    fn current(&mut self, dep: Option<&str>) -> Result<Vec<(String, i64, i64, i64)>> {
        let t = self.layer.table();
        let mut it = match dep {
            // One partition read (pruned by the planner).
            Some(d) => self.tx.query_raw(&format!("SELECT key, fid, ghash, ahash FROM {t} WHERE dep = $1"), [d])?,
            None => {
                self.tx.query_raw(&format!("SELECT key, fid, ghash, ahash FROM {t}"), std::iter::empty::<&str>())?
            }
        };
        let mut out = Vec::new();
        while let Some(r) = it.next()? {
            out.push((r.get(0), r.get(1), r.get(2), r.get(3)));
        }
        Ok(out)
    }

    fn put(&mut self, row: Row, replaces: Option<i64>, ghash: i64, ahash: i64) -> Result<()> {
        if let Some(fid) = replaces {
            self.replaced.push((fid, row.key.clone()));
        }
        // A new version of a drawn feature is a new row (see `pg::edit`): an officer who loaded
        // it before saves to a row that is gone, and is told so.
        let fid = if let Some(fid) = replaces.filter(|_| !self.layer.is_edited()) {
            fid
        } else {
            if self.fids.is_empty() {
                let seq = format!("{}_fid_seq", self.layer.table());
                let n = i64::try_from(CHUNK_ROWS).unwrap_or(i64::MAX);
                self.fids = self
                    .tx
                    .query("SELECT nextval($1::text::regclass) FROM generate_series(1, $2::bigint)", &[&seq, &n])?
                    .iter()
                    .rev()
                    .map(|r| r.get(0))
                    .collect();
            }
            self.fids.pop().ok_or_else(|| StoreError::Corrupt("no fid from the sequence".into()))?
        };
        self.pending.push((fid, row, ghash, ahash));
        if self.pending.len() >= CHUNK_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn retire(&mut self, fids: &[(i64, String)]) -> Result<()> {
        self.flush()?;
        for chunk in fids.chunks(CHUNK_ROWS) {
            self.archive(chunk)?;
        }
        Ok(())
    }

    fn archived_envelope(&self) -> Option<[f64; 4]> {
        self.archived
    }

    fn finish(&mut self, v: &VersionRecord, scopes: &[ScopeRecord], reach: Option<ReachRecord>) -> Result<String> {
        self.flush()?;
        attach_staged(&mut self.tx, self.layer, &std::mem::take(&mut self.staged))?;
        // Fresh statistics for the tables this import changed (a sample of 30,000 rows each):
        // the zone-driven plans of the reads depend on them, and autovacuum comes later.
        let analyse: Vec<String> = if partitioned(self.layer) {
            std::mem::take(&mut self.touched).iter().map(|d| partition(self.layer, d)).collect()
        } else {
            vec![self.layer.table().to_owned()]
        };
        for t in analyse {
            self.tx.batch_execute(&format!("ANALYZE {t}"))?;
        }
        insert_records(&mut self.tx, std::slice::from_ref(v), scopes, reach.as_slice())?;
        self.tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &format!("{}:{}", v.layer, v.version)])?;
        Ok(self
            .tx
            .query_one(
                "SELECT created_at FROM domania_versions WHERE layer = $1 AND version = $2",
                &[&v.layer, &v.version],
            )?
            .get(0))
    }

    fn created_at(&mut self, version: i64) -> Result<Option<String>> {
        Ok(self
            .tx
            .query_opt(
                "SELECT created_at FROM domania_versions WHERE layer = $1 AND version = $2",
                &[&self.layer.table(), &version],
            )?
            .map(|r| r.get(0)))
    }

    fn commit(self: Box<Self>) -> Result<()> {
        Ok(self.tx.commit()?)
    }
}

/// Writes version and scope records; a record without `created_at` gets the time now.
pub(super) fn insert_records(
    tx: &mut postgres::Transaction<'_>,
    versions: &[VersionRecord],
    scopes: &[ScopeRecord],
    reach: &[ReachRecord],
) -> Result<()> {
    let stmt = tx.prepare(&format!(
        "INSERT INTO domania_versions (layer, version, kind, author, created_at, source, source_sha256, features, added,
           removed, changed, reshaped, rejected, repaired, report)
         VALUES ($1, $2, $3, $4, COALESCE($5, {NOW}), $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    ))?;
    for v in versions {
        tx.execute(
            &stmt,
            &[
                &v.layer,
                &v.version,
                &v.kind,
                &v.author,
                &v.created_at,
                &v.source,
                &v.source_sha256,
                &v.features,
                &v.added,
                &v.removed,
                &v.changed,
                &v.reshaped,
                &v.rejected,
                &v.repaired,
                &v.report,
            ],
        )?;
    }
    let stmt = tx.prepare(
        "INSERT INTO domania_scopes (layer, version, scope_kind, scope, features, added, removed, changed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )?;
    for s in scopes {
        tx.execute(
            &stmt,
            &[&s.layer, &s.version, &s.scope_kind, &s.scope, &s.features, &s.added, &s.removed, &s.changed],
        )?;
    }
    let stmt = tx.prepare(
        "INSERT INTO domania_reach (layer, version, min_x, min_y, max_x, max_y) VALUES ($1, $2, $3, $4, $5, $6)",
    )?;
    for r in reach {
        tx.execute(&stmt, &[&r.layer, &r.version, &r.xmin, &r.ymin, &r.xmax, &r.ymax])?;
    }
    Ok(())
}

/// The writer of a copy into PostGIS: rows keep their fids, by `COPY`.
pub(super) struct PgSink<'a> {
    pub(super) tx: postgres::Transaction<'a>,
    /// Per layer (in [`Layer::ALL`] order), the départements with partitions.
    pub(super) deps: Vec<HashSet<String>>,
}

impl RawSink for PgSink<'_> {
    fn rows(&mut self, layer: Layer, rows: Vec<RawRow>) -> Result<()> {
        let Some(i) = Layer::ALL.iter().position(|l| *l == layer) else { return Ok(()) };
        if self.deps[i].is_empty() {
            self.deps[i] = partitions(&mut self.tx, layer)?;
        }
        let deps: BTreeSet<String> = rows.iter().map(|r| dep_of(layer, &r.row.key)).collect();
        ensure_partitions(&mut self.tx, layer, &mut self.deps[i], deps.iter().map(String::as_str), None)?;
        let (mut current, mut history) = (String::new(), String::new());
        for r in &rows {
            let out = if r.v_to.is_some() { &mut history } else { &mut current };
            copy_line(out, layer, r.fid, &r.row, [r.ghash, r.ahash, r.v_from], r.v_to)?;
        }
        let t = layer.table();
        if !current.is_empty() {
            copy_in(&mut self.tx, t, &copy_columns(layer, false), &current, false)?;
        }
        if !history.is_empty() {
            copy_in(&mut self.tx, &format!("{t}_history"), &copy_columns(layer, true), &history, false)?;
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
        insert_records(&mut self.tx, versions, scopes, reach)?;
        for t in tokens {
            self.tx.execute(
                "INSERT INTO domania_tokens (name, role, sha256, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5)",
                &[&t.name, &t.role, &t.sha256, &t.created_at, &t.revoked_at],
            )?;
        }
        for r in rules {
            self.tx.execute(
                "INSERT INTO domania_rules (version, author, created_at, toml) VALUES ($1, $2, $3, $4)",
                &[&r.version, &r.author, &r.created_at, &r.toml],
            )?;
        }
        // New rows after the copy get fids above every copied one.
        for layer in Layer::ALL {
            let t = layer.table();
            self.tx.execute(
                &format!(
                    "SELECT setval('{t}_fid_seq', GREATEST((SELECT MAX(fid) FROM {t}), (SELECT MAX(fid) FROM {t}_history), 1))"
                ),
                &[],
            )?;
        }
        for l in Layer::ALL {
            self.tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &format!("{}:copy", l.table())])?;
        }
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<()> {
        Ok(self.tx.commit()?)
    }
}

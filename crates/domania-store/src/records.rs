//! The bookkeeping rows both engines keep the same way (`domania_versions`, `domania_scopes`,
//! `domania_reach`, `domania_tokens`, `domania_rules`) and read by one function each, whatever the engine; and
//! the stored rows a copy, a dump or a verification reads.

use crate::error::{Result, StoreError};
use crate::layer::{Layer, Row};
use crate::model::TokenInfo;

/// One row of `domania_versions`, as both engines keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VersionRecord {
    pub layer: String,
    pub version: i64,
    pub kind: String,
    pub author: String,
    /// Set by the engine when the version is written; kept as it is by a copy.
    pub created_at: Option<String>,
    pub source: String,
    pub source_sha256: Option<String>,
    pub features: i64,
    pub added: i64,
    pub removed: i64,
    pub changed: i64,
    pub reshaped: i64,
    pub rejected: i64,
    pub repaired: i64,
    pub report: Option<String>,
}

/// One row of `domania_scopes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScopeRecord {
    pub layer: String,
    pub version: i64,
    pub scope_kind: String,
    pub scope: String,
    pub features: i64,
    pub added: i64,
    pub removed: i64,
    pub changed: i64,
}

/// One row of `domania_reach`: the box (Lambert-93, whole metres rounded outwards) of every
/// shape a version of a spatial layer changed, as it was before and as it is after — what a
/// server of one part of the territory asks to know whether the version reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReachRecord {
    pub layer: String,
    pub version: i64,
    pub xmin: i64,
    pub ymin: i64,
    pub xmax: i64,
    pub ymax: i64,
}

impl ReachRecord {
    /// The record of a box (`[minx, maxx, miny, maxy]`, as GeoPackage envelopes are).
    #[must_use]
    #[allow(clippy::cast_possible_truncation)]
    pub fn of(layer: Layer, version: i64, env: [f64; 4]) -> Self {
        Self {
            layer: layer.table().to_owned(),
            version,
            xmin: env[0].floor() as i64,
            ymin: env[2].floor() as i64,
            xmax: env[1].ceil() as i64,
            ymax: env[3].ceil() as i64,
        }
    }
}

/// The union of two envelopes (`[minx, maxx, miny, maxy]`).
#[must_use]
pub(crate) fn envelope_union(a: Option<[f64; 4]>, b: [f64; 4]) -> [f64; 4] {
    a.map_or(b, |a| [a[0].min(b[0]), a[1].max(b[1]), a[2].min(b[2]), a[3].max(b[3])])
}

/// A stored token with its secret's hash, as a copy moves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenRecord {
    pub name: String,
    pub role: String,
    pub sha256: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// A saved version of the rules, as a copy moves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RulesRecord {
    pub version: i64,
    pub author: String,
    pub created_at: String,
    pub toml: String,
}

/// A row of a query on either engine, read by position: the records below are read by one
/// function each, from the same columns, whatever the engine. Each engine implements it for its
/// own row type (in its folder); this module names no driver.
pub(crate) trait RecordRow {
    /// The text at column `i` (`None` for NULL).
    fn text(&self, i: usize) -> Result<Option<String>>;
    /// The integer at column `i` (`None` for NULL).
    fn int(&self, i: usize) -> Result<Option<i64>>;

    /// The value at column `i`, as the record's field takes it.
    fn at<T: Column>(&self, i: usize) -> Result<T>
    where
        Self: Sized,
    {
        T::take(self, i)
    }
}

/// A field type of the records: text or integer, NULL allowed or not.
pub(crate) trait Column: Sized {
    fn take(r: &impl RecordRow, i: usize) -> Result<Self>;
}

fn not_null<T>(v: Option<T>, i: usize) -> Result<T> {
    v.ok_or_else(|| StoreError::Corrupt(format!("column {i} of a bookkeeping row is NULL")))
}

impl Column for String {
    fn take(r: &impl RecordRow, i: usize) -> Result<Self> {
        not_null(r.text(i)?, i)
    }
}

impl Column for Option<String> {
    fn take(r: &impl RecordRow, i: usize) -> Result<Self> {
        r.text(i)
    }
}

impl Column for i64 {
    fn take(r: &impl RecordRow, i: usize) -> Result<Self> {
        not_null(r.int(i)?, i)
    }
}

/// What both engines read the same way: the columns to select, and the record made of them.
pub(crate) trait Record: Sized {
    /// The columns [`Record::read`] reads, in its order.
    const COLUMNS: &'static str;
    fn read(r: &impl RecordRow) -> Result<Self>;
}

impl Record for VersionRecord {
    const COLUMNS: &'static str = "layer, version, kind, author, created_at, source, source_sha256, \
        features, added, removed, changed, reshaped, rejected, repaired, report";

    fn read(r: &impl RecordRow) -> Result<Self> {
        Ok(Self {
            layer: r.at(0)?,
            version: r.at(1)?,
            kind: r.at(2)?,
            author: r.at(3)?,
            created_at: r.at(4)?,
            source: r.at(5)?,
            source_sha256: r.at(6)?,
            features: r.at(7)?,
            added: r.at(8)?,
            removed: r.at(9)?,
            changed: r.at(10)?,
            reshaped: r.at(11)?,
            rejected: r.at(12)?,
            repaired: r.at(13)?,
            report: r.at(14)?,
        })
    }
}

impl Record for ScopeRecord {
    const COLUMNS: &'static str = "layer, version, scope_kind, scope, features, added, removed, changed";

    fn read(r: &impl RecordRow) -> Result<Self> {
        Ok(Self {
            layer: r.at(0)?,
            version: r.at(1)?,
            scope_kind: r.at(2)?,
            scope: r.at(3)?,
            features: r.at(4)?,
            added: r.at(5)?,
            removed: r.at(6)?,
            changed: r.at(7)?,
        })
    }
}

impl Record for ReachRecord {
    const COLUMNS: &'static str = "layer, version, min_x, min_y, max_x, max_y";

    fn read(r: &impl RecordRow) -> Result<Self> {
        Ok(Self { layer: r.at(0)?, version: r.at(1)?, xmin: r.at(2)?, ymin: r.at(3)?, xmax: r.at(4)?, ymax: r.at(5)? })
    }
}

impl Record for TokenRecord {
    const COLUMNS: &'static str = "name, role, sha256, created_at, revoked_at";

    fn read(r: &impl RecordRow) -> Result<Self> {
        Ok(Self { name: r.at(0)?, role: r.at(1)?, sha256: r.at(2)?, created_at: r.at(3)?, revoked_at: r.at(4)? })
    }
}

impl Record for TokenInfo {
    const COLUMNS: &'static str = "name, role, created_at, revoked_at";

    fn read(r: &impl RecordRow) -> Result<Self> {
        Ok(Self { name: r.at(0)?, role: r.at(1)?, created_at: r.at(2)?, revoked_at: r.at(3)? })
    }
}

impl Record for RulesRecord {
    const COLUMNS: &'static str = "version, author, created_at, toml";

    fn read(r: &impl RecordRow) -> Result<Self> {
        Ok(Self { version: r.at(0)?, author: r.at(1)?, created_at: r.at(2)?, toml: r.at(3)? })
    }
}

/// A stored row with its bookkeeping: what a copy moves from one engine to the other.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawRow {
    pub fid: i64,
    pub row: Row,
    pub ghash: i64,
    pub ahash: i64,
    pub v_from: i64,
    /// `None` for a current row, the end of its validity for a history row.
    pub v_to: Option<i64>,
}

/// The hashes of a stored row (current or history): what diffs and dumps read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HashRow {
    pub key: String,
    pub v_from: i64,
    pub v_to: Option<i64>,
    pub ghash: i64,
    pub ahash: i64,
}

/// Rows per chunk of an import's `COPY` and of a copy between stores.
pub(crate) const CHUNK_ROWS: usize = 20_000;

/// Rows of a copy handed on [`CHUNK_ROWS`] at a time, as each engine reads them.
pub(crate) struct Chunked<'a> {
    chunk: Vec<RawRow>,
    each: &'a mut dyn FnMut(Vec<RawRow>) -> Result<()>,
}

impl<'a> Chunked<'a> {
    pub(crate) fn new(each: &'a mut dyn FnMut(Vec<RawRow>) -> Result<()>) -> Self {
        Self { chunk: Vec::with_capacity(CHUNK_ROWS), each }
    }

    pub(crate) fn push(&mut self, row: RawRow) -> Result<()> {
        self.chunk.push(row);
        if self.chunk.len() == CHUNK_ROWS {
            (self.each)(std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK_ROWS)))?;
        }
        Ok(())
    }

    /// Hands on the last, partial chunk.
    pub(crate) fn finish(self) -> Result<()> {
        if self.chunk.is_empty() { Ok(()) } else { (self.each)(self.chunk) }
    }
}

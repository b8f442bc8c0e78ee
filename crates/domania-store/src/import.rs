//! One import: [`ImportTx`] compares the new rows with the current ones by key and content
//! hash (the same code for both engines) and tells the engine's [`Writer`] what to write.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::contract::Writer;
use crate::error::{Overflow, Result, StoreError};
use crate::layer::{Layer, Row};
use crate::model::{ImportMeta, ImportOptions, VersionInfo};
use crate::records::{ReachRecord, ScopeRecord, VersionRecord, envelope_union};
use crate::scope::ScopeKind;

/// Counts of one scope during an import.
#[derive(Debug, Clone, Copy, Default)]
struct ScopeCount {
    /// Rows of the scope before the import.
    current: i64,
    features: i64,
    added: i64,
    changed: i64,
    removed: i64,
}

/// A new version being written (see [`Store::begin_import`]).
pub struct ImportTx<'a> {
    w: Box<dyn Writer + 'a>,
    layer: Layer,
    kind: String,
    version: i64,
    opts: ImportOptions,
    /// Current rows not (yet) matched by a pushed row: key → (fid, ghash, ahash). Of a layer
    /// cut by commune, only the départements the import concerns are read: those its scope
    /// names, and those of its rows as they come. A national layer is then never held whole.
    current: HashMap<String, (i64, i64, i64)>,
    /// Whether current rows are read by département (else the whole layer is, at the start).
    by_dep: bool,
    /// The départements whose current rows are read.
    loaded: HashSet<String>,
    seen: HashSet<String>,
    scopes: BTreeMap<String, ScopeCount>,
    features: i64,
    added: i64,
    changed: i64,
    reshaped: i64,
    /// The envelope of the new shapes of the rows added or changed.
    envelope: Option<[f64; 4]>,
}

impl<'a> ImportTx<'a> {
    pub(crate) fn new(
        w: Box<dyn Writer + 'a>,
        layer: Layer,
        kind: &str,
        version: i64,
        opts: ImportOptions,
    ) -> Result<Self> {
        let by_dep = ScopeKind::allowed(layer).contains(&ScopeKind::Departement) && opts.scope.kind != ScopeKind::Layer;
        let mut tx = Self {
            w,
            layer,
            kind: kind.to_owned(),
            version,
            opts,
            current: HashMap::new(),
            by_dep,
            loaded: HashSet::new(),
            seen: HashSet::new(),
            scopes: BTreeMap::new(),
            features: 0,
            added: 0,
            changed: 0,
            reshaped: 0,
            envelope: None,
        };
        if !by_dep {
            tx.load(None)?;
        } else if let Some(codes) = tx.opts.scope.codes.clone() {
            // What the scope replaces is read even if no row of it comes (a commune emptied).
            for code in &codes {
                if let Some(dep) = ScopeKind::Departement.code_of(code) {
                    tx.load(Some(dep))?;
                }
            }
        }
        Ok(tx)
    }

    /// Reads the current rows of a département (`None`: of the layer), once.
    fn load(&mut self, dep: Option<&str>) -> Result<()> {
        if dep.is_some_and(|d| self.loaded.contains(d)) {
            return Ok(());
        }
        let rows = self.w.current(dep)?;
        self.current.reserve(rows.len());
        for (key, fid, gh, ah) in rows {
            if let Some(code) = self.opts.scope.kind.code_of(&key) {
                self.scopes.entry(code.to_owned()).or_default().current += 1;
            }
            self.current.insert(key, (fid, gh, ah));
        }
        if let Some(d) = dep {
            self.loaded.insert(d.to_owned());
        }
        Ok(())
    }

    /// The version number this import will have.
    #[must_use]
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Writes one row of the new version.
    pub fn push(&mut self, row: Row) -> Result<()> {
        let scope = &self.opts.scope;
        let code = match scope.kind.code_of(&row.key) {
            Some(c) if scope.codes.as_ref().is_none_or(|set| set.contains(c)) => c.to_owned(),
            _ => return Err(StoreError::OutOfScope { key: row.key, scope: scope.to_string() }),
        };
        if !self.seen.insert(row.key.clone()) {
            return Err(StoreError::DuplicateKey { layer: self.layer.table().to_owned(), key: row.key });
        }
        if self.by_dep
            && let Some(dep) = ScopeKind::Departement.code_of(&row.key)
        {
            self.load(Some(dep))?;
        }
        let count = self.scopes.entry(code).or_default();
        count.features += 1;
        self.features += 1;
        let (gh, ah) = (row.geom_hash(), row.attr_hash(self.layer));
        let old = self.current.remove(&row.key);
        if let Some((_, ogh, oah)) = old
            && ogh == gh
            && oah == ah
        {
            return Ok(());
        }
        match old {
            None => {
                count.added += 1;
                self.added += 1;
            }
            Some((_, ogh, _)) => {
                count.changed += 1;
                self.changed += 1;
                self.reshaped += i64::from(ogh != gh);
            }
        }
        if let Some(env) = row.geom.as_deref().and_then(crate::blob::envelope) {
            self.envelope = Some(envelope_union(self.envelope, env));
        }
        self.w.put(row, old.map(|(fid, _, _)| fid), gh, ah)
    }

    /// The record of this import as version `version`.
    fn info(&self, meta: &ImportMeta, version: i64, created_at: String, scope: String, removed: i64) -> VersionInfo {
        VersionInfo {
            layer: self.layer,
            version,
            kind: self.kind.clone(),
            unchanged: false,
            scope,
            author: meta.author.clone(),
            created_at,
            source: meta.source.clone(),
            source_sha256: meta.source_sha256.clone(),
            features: self.features,
            added: self.added,
            removed,
            changed: self.changed,
            reshaped: self.reshaped,
            rejected: meta.rejected as i64,
            repaired: meta.repaired as i64,
        }
    }

    /// The scopes this import replaces: the declared codes, or those its rows touched.
    fn replaced_scopes(&self) -> BTreeSet<String> {
        match &self.opts.scope.codes {
            Some(codes) => codes.clone(),
            None if self.opts.scope.kind == ScopeKind::Layer => std::iter::once(String::new()).collect(),
            None => self.scopes.iter().filter(|(_, c)| c.features > 0).map(|(k, _)| k.clone()).collect(),
        }
    }

    /// Retires the rows of the replaced scopes that no pushed row matched, checks the removal
    /// guard, records the version and commits. An import that changes nothing writes nothing
    /// and returns the current version with `unchanged` set.
    pub fn commit(mut self, meta: &ImportMeta) -> Result<VersionInfo> {
        let t = self.layer.table();
        if let Some(expected) = self.opts.expect_latest
            && expected != self.version - 1
        {
            return Err(StoreError::Moved { layer: t, expected, found: self.version - 1 });
        }
        if self.features == 0 && !(self.opts.force && self.opts.scope.is_explicit()) {
            return Err(StoreError::EmptyImport { layer: t });
        }
        let replaced = self.replaced_scopes();
        let kind = self.opts.scope.kind;
        let mut retired = Vec::new();
        for (key, (fid, _, _)) in &self.current {
            if let Some(code) = kind.code_of(key)
                && replaced.contains(code)
            {
                retired.push((*fid, key.clone()));
                self.scopes.entry(code.to_owned()).or_default().removed += 1;
            }
        }
        if !self.opts.force {
            let over: Vec<Overflow> = self
                .scopes
                .iter()
                .filter(|(code, c)| {
                    replaced.contains(*code)
                        && c.current > 0
                        && c.removed as f64 / c.current as f64 > self.opts.max_removed
                })
                .map(|(code, c)| Overflow {
                    kind: if kind == ScopeKind::Layer { "layer".to_owned() } else { kind.to_string() },
                    code: if kind == ScopeKind::Layer { t.to_string() } else { code.clone() },
                    removed: c.removed,
                    current: c.current,
                })
                .collect();
            if !over.is_empty() {
                return Err(StoreError::TooManyRemoved { over, limit_pct: self.opts.max_removed * 100.0 });
            }
        }
        let removed = retired.len() as i64;
        let scope_text = if self.opts.scope.codes.is_some() || kind == ScopeKind::Layer {
            self.opts.scope.to_string()
        } else {
            format!("{kind}={}", replaced.iter().cloned().collect::<Vec<_>>().join(","))
        };
        if self.added == 0 && self.changed == 0 && removed == 0 {
            // Nothing changed: no version. Dropping the writer rolls back.
            let latest = self.version - 1;
            let created_at = if latest > 0 { self.w.created_at(latest)? } else { None };
            let mut info = self.info(meta, latest, created_at.unwrap_or_default(), scope_text, 0);
            (info.unchanged, info.added, info.changed, info.reshaped) = (true, 0, 0, 0);
            return Ok(info);
        }
        retired.sort_unstable();
        self.w.retire(&retired)?;
        let record = VersionRecord {
            layer: t.to_owned(),
            version: self.version,
            kind: self.kind.clone(),
            author: meta.author.clone(),
            created_at: None,
            source: meta.source.clone(),
            source_sha256: meta.source_sha256.clone(),
            features: self.features,
            added: self.added,
            removed,
            changed: self.changed,
            reshaped: self.reshaped,
            rejected: meta.rejected as i64,
            repaired: meta.repaired as i64,
            report: meta.report_json.clone(),
        };
        let scopes: Vec<ScopeRecord> = replaced
            .iter()
            .map(|code| {
                let c = self.scopes.get(code).copied().unwrap_or_default();
                ScopeRecord {
                    layer: t.to_owned(),
                    version: self.version,
                    scope_kind: kind.as_str().to_owned(),
                    scope: code.clone(),
                    features: c.features,
                    added: c.added,
                    removed: c.removed,
                    changed: c.changed,
                }
            })
            .collect();
        // The shapes it changed, before and after: what tells a server of another part that
        // this version does not reach it.
        let reach = match (self.envelope, self.w.archived_envelope()) {
            (Some(a), b) => Some(b.map_or(a, |b| envelope_union(Some(a), b))),
            (None, b) => b,
        };
        let reach = reach.filter(|_| self.layer.is_spatial()).map(|e| ReachRecord::of(self.layer, self.version, e));
        let created_at = self.w.finish(&record, &scopes, reach)?;
        let info = self.info(meta, self.version, created_at, scope_text, removed);
        self.w.commit()?;
        Ok(info)
    }
}

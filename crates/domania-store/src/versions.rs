//! The history of a store's layers, composed from its engine's records: versions, the parts of
//! a layer and the version that last replaced each, diffs between versions, rows as they were,
//! rollbacks (written as new versions), and the logical dump that compares two stores.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::error::{Result, StoreError};
use crate::layer::{Layer, Row};
use crate::model::{Diff, ImportMeta, ImportOptions, LayerSummary, ScopeInfo, VersionInfo, VersionReach};
use crate::records::VersionRecord;
use crate::scope::{Scope, ScopeKind};
use crate::store::Store;

impl Store {
    /// Version → what it replaced (`commune=75118,91216`), from `domania_scopes`.
    fn scope_texts(&self, layer: Layer) -> Result<HashMap<i64, String>> {
        let mut by: BTreeMap<(i64, String), Vec<String>> = BTreeMap::new();
        for s in self.db.scope_records(Some(layer))? {
            by.entry((s.version, s.scope_kind)).or_default().push(s.scope);
        }
        Ok(by
            .into_iter()
            .map(|((v, kind), mut codes)| {
                codes.sort();
                (v, if kind == "layer" { kind } else { format!("{kind}={}", codes.join(",")) })
            })
            .collect())
    }

    /// Every version of a layer, oldest first.
    pub fn history(&self, layer: Layer) -> Result<Vec<VersionInfo>> {
        let scopes = self.scope_texts(layer)?;
        let records = self.db.version_records(Some(layer))?;
        Ok(records
            .into_iter()
            .map(|r| VersionInfo {
                layer,
                version: r.version,
                kind: r.kind,
                unchanged: false,
                // Versions written before scopes existed replaced the whole layer.
                scope: scopes.get(&r.version).cloned().unwrap_or_else(|| "layer".to_owned()),
                author: r.author,
                created_at: r.created_at.unwrap_or_default(),
                source: r.source,
                source_sha256: r.source_sha256,
                features: r.features,
                added: r.added,
                removed: r.removed,
                changed: r.changed,
                reshaped: r.reshaped,
                rejected: r.rejected,
                repaired: r.repaired,
            })
            .collect())
    }

    /// The versions of a layer by number, and the latest version of each of its parts (kind,
    /// code): what [`Store::scopes`] and [`Store::commune_sources`] read, from the records alone.
    #[allow(clippy::type_complexity)]
    fn latest_scopes(&self, layer: Layer) -> Result<(HashMap<i64, VersionRecord>, BTreeMap<(ScopeKind, String), i64>)> {
        let versions: HashMap<i64, VersionRecord> =
            self.db.version_records(Some(layer))?.into_iter().map(|r| (r.version, r)).collect();
        let mut last: BTreeMap<(ScopeKind, String), i64> = BTreeMap::new();
        for s in self.db.scope_records(Some(layer))? {
            let kind = ScopeKind::ALL.into_iter().find(|k| k.as_str() == s.scope_kind).unwrap_or(ScopeKind::Layer);
            let v = last.entry((kind, s.scope)).or_insert(s.version);
            *v = (*v).max(s.version);
        }
        Ok((versions, last))
    }

    /// Each commune of a layer with the source of the version that last replaced it (no row
    /// counted, unlike [`Store::scopes`]).
    pub fn commune_sources(&self, layer: Layer) -> Result<BTreeMap<String, String>> {
        let (versions, last) = self.latest_scopes(layer)?;
        Ok(last
            .into_iter()
            .filter(|((kind, _), _)| *kind == ScopeKind::Commune)
            .filter_map(|((_, code), v)| Some((code, versions.get(&v)?.source.clone())))
            .collect())
    }

    /// The parts of a layer (communes, départements…) with the version that last replaced each,
    /// where it came from, and how many rows each holds now.
    pub fn scopes(&self, layer: Layer) -> Result<Vec<ScopeInfo>> {
        let (versions, last) = self.latest_scopes(layer)?;
        // Rows each part holds now (a later import of another kind may have changed it).
        let mut counts: HashMap<(ScopeKind, String), i64> = HashMap::new();
        let kinds: BTreeSet<ScopeKind> = last.keys().map(|(k, _)| *k).collect();
        for key in self.db.keys(layer)? {
            for k in &kinds {
                if let Some(code) = k.code_of(&key) {
                    *counts.entry((*k, code.to_owned())).or_default() += 1;
                }
            }
        }
        Ok(last
            .into_iter()
            .filter_map(|((scope_kind, scope), version)| {
                let v = versions.get(&version)?;
                Some(ScopeInfo {
                    scope_kind,
                    features: counts.get(&(scope_kind, scope.clone())).copied().unwrap_or(0),
                    scope,
                    version,
                    kind: v.kind.clone(),
                    created_at: v.created_at.clone().unwrap_or_default(),
                    author: v.author.clone(),
                    source: v.source.clone(),
                    source_sha256: v.source_sha256.clone(),
                })
            })
            .collect())
    }

    /// A logical dump of the whole store: every version record and, per layer, every row
    /// (current and history) by key, version range and content hashes — what two stores must
    /// share to hold the same data, whatever their engine or bytes. Sorted, so dumps compare as
    /// text.
    pub fn dump(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut records = self.db.version_records(None)?;
        records.sort_by(|a, b| (&a.layer, a.version).cmp(&(&b.layer, b.version)));
        for r in records {
            let opt = |s: &Option<String>| s.clone().unwrap_or_default();
            out.push(format!(
                "version|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
                r.layer,
                r.version,
                r.kind,
                r.author,
                r.source,
                opt(&r.source_sha256),
                r.features,
                r.added,
                r.removed,
                r.changed,
                r.reshaped,
                r.rejected,
                r.repaired
            ));
        }
        for layer in Layer::ALL {
            let t = layer.table();
            let mut rows: Vec<String> = self
                .db
                .hash_rows(layer)?
                .into_iter()
                .map(|h| {
                    format!(
                        "{t}|{}|{}|{}|{:016x}|{:016x}",
                        h.key,
                        h.v_from,
                        h.v_to.map_or_else(|| "current".to_owned(), |v| v.to_string()),
                        h.ghash,
                        h.ahash
                    )
                })
                .collect();
            rows.sort();
            out.extend(rows);
        }
        Ok(out)
    }

    /// Summary of every layer.
    pub fn layers(&self) -> Result<Vec<LayerSummary>> {
        Layer::ALL
            .into_iter()
            .map(|layer| {
                let (features, history_rows) = self.db.counts(layer)?;
                Ok(LayerSummary { layer, version: self.latest_version(layer)?, features, history_rows })
            })
            .collect()
    }

    fn check_version(&self, layer: Layer, version: i64) -> Result<()> {
        let latest = self.latest_version(layer)?.unwrap_or(0);
        if version < 1 || version > latest {
            return Err(StoreError::NoSuchVersion { layer: layer.table().to_owned(), version, latest });
        }
        Ok(())
    }

    /// Key → (geometry hash, attribute hash) of every row valid at `version`.
    fn hashes_at(&self, layer: Layer, version: i64) -> Result<BTreeMap<String, (i64, i64)>> {
        Ok(self
            .db
            .hash_rows(layer)?
            .into_iter()
            .filter(|h| h.v_from <= version && h.v_to.is_none_or(|to| to > version))
            .map(|h| (h.key, (h.ghash, h.ahash)))
            .collect())
    }

    /// What changed from version `v1` to version `v2` of a layer.
    pub fn diff(&self, layer: Layer, v1: i64, v2: i64) -> Result<Diff> {
        self.check_version(layer, v1)?;
        self.check_version(layer, v2)?;
        let a = self.hashes_at(layer, v1)?;
        let b = self.hashes_at(layer, v2)?;
        let mut d = Diff { from: v1, to: v2, ..Diff::default() };
        for (k, (gh, ah)) in &b {
            match a.get(k) {
                None => d.added.push(k.clone()),
                Some((ogh, _)) if ogh != gh => d.reshaped.push(k.clone()),
                Some((_, oah)) if oah != ah => d.attributes_changed.push(k.clone()),
                Some(_) => {}
            }
        }
        d.removed = a.keys().filter(|k| !b.contains_key(*k)).cloned().collect();
        if layer == Layer::Owners {
            let idus: BTreeSet<String> =
                d.added.iter().chain(&d.removed).filter_map(|k| k.split('|').next().map(str::to_owned)).collect();
            d.parcels_with_owner_changes = idus.into_iter().collect();
        }
        Ok(d)
    }

    /// Full rows of a layer as they were at `version`.
    pub fn rows_at(&self, layer: Layer, version: i64) -> Result<Vec<Row>> {
        self.check_version(layer, version)?;
        self.db.rows_at(layer, version)
    }

    /// Makes `version` current again by writing it as a new version: history is never erased.
    /// With a scope that lists codes (`commune=91216`), only those parts go back to `version`;
    /// without, the whole layer does. A rollback is an explicit choice: the removal guard does
    /// not apply.
    pub fn rollback(&mut self, layer: Layer, version: i64, scope: Option<Scope>, author: &str) -> Result<VersionInfo> {
        let scope = scope.unwrap_or_else(Scope::layer);
        scope.check(layer)?;
        let mut rows = self.rows_at(layer, version)?;
        if let Some(codes) = &scope.codes {
            rows.retain(|r| scope.kind.code_of(&r.key).is_some_and(|c| codes.contains(c)));
        } else if scope.kind != ScopeKind::Layer {
            return Err(StoreError::ScopeNotAllowed {
                layer: layer.table(),
                scope: scope.kind.as_str(),
                allowed: format!("layer, or {}=CODES", scope.kind),
            });
        }
        let meta = ImportMeta {
            author: author.to_owned(),
            source: format!("rollback of {scope} to version {version}"),
            ..ImportMeta::default()
        };
        self.need_writer("a rollback")?;
        let opts = ImportOptions { scope, force: true, ..ImportOptions::default() };
        let mut tx = self.begin(layer, "rollback", opts)?;
        for row in rows {
            tx.push(row)?;
        }
        tx.commit(&meta)
    }

    /// When each of `versions` was written (`layer:version@time;` for each layer that has one):
    /// with the numbers, what tells a version from the version of the same number in a store
    /// remade from nothing. Version records never change once written, so the stamp of given
    /// versions is the same whenever it is read.
    pub fn version_stamp(&self, versions: &BTreeMap<Layer, Option<i64>>) -> Result<String> {
        let mut stamp = String::new();
        for (&layer, v) in versions {
            let Some(v) = *v else { continue };
            let at =
                self.db.version_records(Some(layer))?.into_iter().find(|r| r.version == v).and_then(|r| r.created_at);
            let _ = std::fmt::Write::write_fmt(&mut stamp, format_args!("{layer}:{v}@{};", at.unwrap_or_default()));
        }
        Ok(stamp)
    }

    /// What each version of a layer replaced and, for a spatial layer, the box of the shapes
    /// it changed (before and after), oldest first: what a server of one part of the
    /// territory reads to know whether a version reaches it. A version without a box (written
    /// before boxes were kept, or by a copy) reaches everything.
    pub fn reaches(&self, layer: Layer) -> Result<Vec<VersionReach>> {
        let mut scopes: BTreeMap<i64, Scope> = BTreeMap::new();
        for s in self.db.scope_records(Some(layer))? {
            let kind = ScopeKind::ALL.into_iter().find(|k| k.as_str() == s.scope_kind).unwrap_or(ScopeKind::Layer);
            let scope = scopes.entry(s.version).or_insert_with(|| Scope { kind, codes: None });
            if kind != ScopeKind::Layer {
                scope.codes.get_or_insert_with(BTreeSet::new).insert(s.scope);
            }
        }
        let boxes: HashMap<i64, [i64; 4]> = self
            .db
            .reach_records(Some(layer))?
            .into_iter()
            .map(|r| (r.version, [r.xmin, r.ymin, r.xmax, r.ymax]))
            .collect();
        Ok(self
            .db
            .version_records(Some(layer))?
            .into_iter()
            .map(|r| VersionReach {
                version: r.version,
                scope: scopes.remove(&r.version).unwrap_or_else(Scope::layer),
                envelope: boxes.get(&r.version).copied(),
            })
            .collect())
    }

    /// The current version of every layer (`None` before its first import).
    pub fn versions(&self) -> Result<BTreeMap<Layer, Option<i64>>> {
        Layer::ALL.into_iter().map(|l| Ok((l, self.latest_version(l)?))).collect()
    }
}

//! The store as a SIG officer manages it: its layers, their versions and parts, what changed,
//! going back to an earlier version, a logical dump.

use domania_core::Layer;
use domania_store::{CopyReport, Diff, LayerSummary, Location, Scope, ScopeInfo, Store, VerifyReport, VersionInfo};

use serde::Serialize;

use crate::App;
use crate::error::Result;

/// What `store verify` found, and how many rows it marked.
#[derive(Debug, Clone, Serialize)]
pub struct Verified {
    #[serde(flatten)]
    pub report: VerifyReport,
    /// Current rows marked for the next import to replace (with `mark`).
    pub marked: usize,
}

impl App {
    /// The layers, their current version and size.
    pub fn layers(&self) -> Result<Vec<LayerSummary>> {
        Ok(self.open_read()?.layers()?)
    }

    /// The parts of a layer (communes, départements) with the version and file each comes from.
    pub fn scopes(&self, layer: Layer) -> Result<Vec<ScopeInfo>> {
        Ok(self.open_read()?.scopes(layer)?)
    }

    /// Every version of a layer.
    pub fn history(&self, layer: Layer) -> Result<Vec<VersionInfo>> {
        Ok(self.open_read()?.history(layer)?)
    }

    /// What changed between two versions of a layer.
    pub fn diff(&self, layer: Layer, from: i64, to: i64) -> Result<Diff> {
        Ok(self.open_read()?.diff(layer, from, to)?)
    }

    /// Makes an earlier version current again (written as a new version), for the whole layer
    /// or the parts of `scope`.
    pub fn rollback(&self, layer: Layer, version: i64, scope: Option<Scope>, author: &str) -> Result<VersionInfo> {
        Ok(self.open_write()?.rollback(layer, version, scope, author)?)
    }

    /// A logical dump: versions and every row's key, version range and content hashes, sorted
    /// (two stores holding the same data give the same lines).
    pub fn dump(&self) -> Result<Vec<String>> {
        Ok(self.open_read()?.dump()?)
    }

    /// Checks every row, current and history, against the content hashes written with it, and
    /// the engine's own consistency: what was changed outside Domania. With `mark`, the changed
    /// current rows are marked so that the next import of their source replaces them
    /// ([`Store::mark_altered`]), and the number marked is returned too.
    pub fn verify_store(&self, mark: bool) -> Result<Verified> {
        if !mark {
            return Ok(Verified { report: self.open_read()?.verify()?, marked: 0 });
        }
        let mut store = self.open_write()?;
        let report = store.verify()?;
        let marked = store.mark_altered(&report.altered)?;
        Ok(Verified { report, marked })
    }

    /// Copies this store — every layer with its history, versions, tokens and rules — to `to`
    /// (a new GeoPackage file, or a database without a Domania store yet), in either direction
    /// between the engines. A failed copy into a new file leaves no file behind.
    pub fn copy_store(&self, to: &Location, progress: &dyn Fn(&str)) -> Result<CopyReport> {
        let from = self.open_read()?;
        let mut dest = self.with_store_wait(|w| Store::create_at(to, false, w))?;
        match from.copy_into(&mut dest, progress) {
            Ok(report) => Ok(report),
            Err(e) => {
                dest.discard_if_new();
                Err(e.into())
            }
        }
    }
}

//! What the server answers from: one immutable [`Served`] (a snapshot of the store and what is
//! computed from it once: shares, decisions, every space's managers), behind an `ArcSwap`. An
//! update builds the next one on a blocking thread, beside the old one, then swaps it: a request
//! holds the `Arc` it started with, so it never sees a mix of two versions.

use domania_tiles::layers::Topologies;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use domania_app::files::LoadedRules;
use domania_app::{App, Date, Layer};
use domania_engine::{AssignReport, SharesReport, Snapshot};
use rustc_hash::FxHashMap;

/// A snapshot and everything computed from it once.
pub struct Served {
    pub snapshot: Snapshot,
    /// The rules the decisions and managers come from.
    pub rules: LoadedRules,
    pub date: Date,
    /// Shares of every sub-sector (`shares.zones[i]` is the sub-sector of `assign.decisions[i]`).
    pub shares: SharesReport,
    /// Decisions and every space's managers, with the spaces' shapes.
    pub assign: AssignReport,
    /// Sub-sector key → position in `shares.zones` and `assign.decisions`.
    subsector_pos: FxHashMap<String, usize>,
    /// (sub-sector, space id) → position in `assign.spaces`.
    space_pos: FxHashMap<(String, String), usize>,
    /// The `ETag` of every answer derived from this snapshot: the store's layer versions, the
    /// rules and the date the conventions are judged on.
    pub etag: String,
    /// The tag, as a number (keys of the tile cache).
    pub tag_hash: u64,
    /// How long it took to build, in milliseconds.
    pub build_ms: f64,
    /// The CRS84 box of each OGC collection.
    pub extents: BTreeMap<&'static str, Option<[f64; 4]>>,
    /// The layers' shapes as shared arcs, for the tiles.
    pub topo: Topologies,
}

impl std::fmt::Debug for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Served")
            .field("etag", &self.etag)
            .field("parcels", &self.snapshot.parcels().len())
            .field("date", &self.date)
            .finish_non_exhaustive()
    }
}

impl Served {
    /// Loads the store and computes shares and managers (CPU-heavy: call it from a blocking
    /// thread).
    pub fn build(app: &App, rules: LoadedRules, date: Date) -> domania_app::Result<Self> {
        let t = Instant::now();
        let snapshot = app.snapshot()?;
        let (shares, assign) =
            snapshot.assign_with_geometry(&rules.rules, date, domania_core::overlay::OverlayOptions::default());
        let subsector_pos = shares.zones.iter().enumerate().map(|(i, z)| (z.key.clone(), i)).collect();
        let space_pos = assign
            .spaces
            .iter()
            .enumerate()
            .map(|(i, s)| ((s.subsector.clone(), domania_engine::space_id(&s.space).to_owned()), i))
            .collect();
        // Everything the answers depend on: the layers' versions, the rules' text (not only
        // their name), the owner classification, the date and this program's version.
        let mut tag: String =
            snapshot.versions().iter().map(|(layer, v)| format!("{layer}:{};", v.unwrap_or(0))).collect();
        {
            use std::fmt::Write as _;
            let _ = write!(
                tag,
                "rules:{:016x};classifier:{:?};date:{date};domania:{}",
                domania_core::hash::fnv1a(rules.text.as_bytes()),
                app.classifier(),
                env!("CARGO_PKG_VERSION")
            );
        }
        let tag_hash = domania_core::hash::fnv1a(tag.as_bytes());
        let etag = format!("\"{tag_hash:016x}\"");
        let extents = crate::ogc::extents(&snapshot, &assign);
        let topo = Topologies::build(&snapshot, &assign);
        Ok(Self {
            topo,
            extents,
            snapshot,
            rules,
            date,
            shares,
            assign,
            subsector_pos,
            space_pos,
            etag,
            tag_hash,
            build_ms: t.elapsed().as_secs_f64() * 1e3,
        })
    }

    /// The store version of each layer.
    #[must_use]
    pub fn versions(&self) -> &BTreeMap<Layer, Option<i64>> {
        self.snapshot.versions()
    }

    /// The territory's bounds (CRS84): the box of the parcels', sub-sectors' and QPV's boxes.
    #[must_use]
    pub fn bounds(&self) -> [f64; 4] {
        ["parcels", "subsectors", "qpv"]
            .iter()
            .filter_map(|c| self.extents.get(c).copied().flatten())
            .reduce(|a, b| [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])])
            .unwrap_or([-180.0, -85.0, 180.0, 85.0])
    }

    /// What the documents are made from.
    #[must_use]
    pub fn documents(&self) -> domania_app::documents::Territory<'_> {
        domania_app::documents::Territory {
            snapshot: &self.snapshot,
            shares: &self.shares,
            assign: &self.assign,
            rules: &self.rules.rules,
            date: self.date,
            tag: self.etag.trim_matches('"'),
        }
    }

    /// A sub-sector's position in the shares and decisions.
    #[must_use]
    pub fn subsector(&self, key: &str) -> Option<usize> {
        self.subsector_pos.get(key).copied()
    }

    /// Runs `f` on the territory this snapshot routes reports on.
    pub fn with_territory<T>(&self, f: impl FnOnce(&domania_app::reports::Territory<'_>) -> T) -> T {
        let space = |s: &str, id: &str| self.space(s, id);
        let t = domania_app::reports::Territory {
            snapshot: &self.snapshot,
            assign: &self.assign,
            rules: &self.rules.rules,
            date: self.date,
            tag: &self.etag,
            space: &space,
        };
        f(&t)
    }

    /// A space's position in `assign.spaces`.
    #[must_use]
    pub fn space(&self, subsector: &str, space: &str) -> Option<usize> {
        self.space_pos.get(&(subsector.to_owned(), space.to_owned())).copied()
    }
}

/// The longest a server waits for its replica to hold a version it has just written.
const CATCH_UP: std::time::Duration = std::time::Duration::from_secs(30);

/// The server's state: the application and the current [`Served`].
pub struct Shared {
    pub app: App,
    pub served: ArcSwap<Served>,
    /// One rebuild at a time (uploads queue behind it).
    pub rebuild: tokio::sync::Mutex<()>,
    /// Reads need a token (`viewer` or above) when set; writes always do.
    pub private_reads: bool,
    /// Encoded tiles, keyed by snapshot.
    pub tiles: crate::tiles::TileCache,
    /// The largest upload, which also bounds what a zipped one unpacks to.
    pub max_upload_bytes: usize,
    /// Tokens recently checked.
    pub tokens: crate::auth::TokenCache,
    /// The reports of dysfunctions (a database beside the store).
    pub reports: std::sync::Mutex<domania_store::RequestStore>,
    /// A raster basemap the viewer draws under the layers (`https://…/{z}/{x}/{y}.png`); none
    /// by default, so the page asks no other host for anything.
    pub basemap: std::sync::OnceLock<String>,
}

impl Shared {
    /// The reports database. A panic while it was held leaves SQLite's state whole (each write
    /// is one transaction), so a poisoned lock is taken over rather than failing every report.
    pub fn reports(&self) -> std::sync::MutexGuard<'_, domania_store::RequestStore> {
        self.reports.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The snapshot a request answers from (kept for the whole request).
    #[must_use]
    pub fn current(&self) -> Arc<Served> {
        self.served.load_full()
    }

    /// Builds the next snapshot on a blocking thread (with `rules`, or the current ones) and
    /// swaps it in; one rebuild at a time.
    pub async fn rebuild(self: &Arc<Self>, rules: Option<LoadedRules>) -> domania_app::Result<Arc<Served>> {
        let _one = self.rebuild.lock().await;
        self.rebuild_locked(rules).await
    }

    /// Rebuilds once the store (or the replica reads go to) holds version `version` of `layer`,
    /// which may lag behind the primary a write just went to, waiting at most `timeout`. Used
    /// after a write through this server.
    /// A replica that has not caught up in time is not the write's failure (it is committed):
    /// the answer then names the snapshot still served, and the server follows the store later.
    pub async fn rebuild_with(self: &Arc<Self>, layer: Layer, version: i64) -> domania_app::Result<Arc<Served>> {
        match self.catch_up(Some((layer, version)), CATCH_UP).await {
            Ok(Some(served)) => Ok(served),
            Ok(None) => Ok(self.current()),
            Err(e) if e.code() == domania_app::ErrorCode::Database => {
                tracing::warn!("{e}");
                Ok(self.current())
            }
            Err(e) => Err(e),
        }
    }

    /// Rebuilds when the store holds other versions than the snapshot served (a write through
    /// another server, or the command line), after the versions of `at_least` reach the
    /// replica; `None` when the snapshot is current. Under the rebuild lock, so a change is
    /// built once however many learn of it.
    pub async fn catch_up(
        self: &Arc<Self>,
        at_least: Option<(Layer, i64)>,
        timeout: std::time::Duration,
    ) -> domania_app::Result<Option<Arc<Served>>> {
        let _one = self.rebuild.lock().await;
        let deadline = Instant::now() + timeout;
        loop {
            let me = Arc::clone(self);
            let stored = tokio::task::spawn_blocking(move || me.app.versions())
                .await
                .map_err(|e| domania_app::AppError::new(domania_app::ErrorCode::Internal, e.to_string()))??;
            let reached = at_least.is_none_or(|(layer, v)| stored.get(&layer).copied().flatten().unwrap_or(0) >= v);
            if reached {
                if stored == *self.current().versions() {
                    return Ok(None);
                }
                return self.rebuild_locked(None).await.map(Some);
            }
            if Instant::now() >= deadline {
                let (layer, v) = at_least.unwrap_or((Layer::Parcels, 0));
                return Err(domania_app::AppError::new(
                    domania_app::ErrorCode::Database,
                    format!(
                        "version {v} of {layer} is written but {} does not hold it after {} s: is the replica \
                         streaming?",
                        self.app.read_location(),
                        timeout.as_secs()
                    ),
                ));
            }
            // Each look opens the store (a connection on PostGIS): four a second at most.
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }

    /// [`Shared::rebuild`] for a caller that holds the rebuild lock.
    pub async fn rebuild_locked(self: &Arc<Self>, rules: Option<LoadedRules>) -> domania_app::Result<Arc<Served>> {
        let me = Arc::clone(self);
        let rules = rules.unwrap_or_else(|| self.current().rules.clone());
        let next = tokio::task::spawn_blocking(move || Served::build(&me.app, rules, domania_app::files::today()))
            .await
            .map_err(|e| domania_app::AppError::new(domania_app::ErrorCode::Internal, e.to_string()))??;
        let next = Arc::new(next);
        self.served.store(Arc::clone(&next));
        tracing::info!(etag = %next.etag, build_ms = next.build_ms, "snapshot swapped");
        Ok(next)
    }
}

//! What the server answers from: the application, one immutable [`Held`] snapshot behind an
//! `ArcSwap`, the requests' desk and the caches. An update builds the next snapshot on a
//! blocking thread, beside the old one, then swaps it: a request holds the `Arc` it started
//! with, so it never sees a mix of two versions.

use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use domania_app::files::LoadedRules;
use domania_app::held::{Currency, Held};
use domania_app::kept::Kept;
use domania_app::requests::Desk;
use domania_app::{App, AppError, ErrorCode, Layer};

use crate::error::ApiError;
use crate::public_url::PublicUrl;
use crate::tile_cache::TileCache;
use crate::token_cache::TokenCache;

/// The longest a server waits for its replica to hold a version it has just written.
const CATCH_UP: std::time::Duration = std::time::Duration::from_secs(30);

/// The server's state.
pub struct Shared {
    pub app: App,
    pub held: ArcSwap<Held>,
    /// One rebuild at a time (uploads queue behind it).
    pub rebuild: tokio::sync::Mutex<()>,
    /// Reads need a token (`viewer` or above) when set; writes always do.
    pub private_reads: bool,
    /// Encoded tiles, keyed by snapshot.
    pub tiles: TileCache,
    /// The largest upload.
    pub max_upload_bytes: usize,
    /// The most temporary disk one upload may take: what was received and what a zipped one
    /// unpacks to.
    pub upload_disk_bytes: u64,
    /// Uploads received and imported at once (each holds a permit from its first byte to its
    /// version); a further one waits a moment, then is told to try again.
    pub uploads: Arc<tokio::sync::Semaphore>,
    /// Heavy computations (scenarios) at once: one per core; a further one waits a moment,
    /// then is told to try again.
    pub heavy: Arc<tokio::sync::Semaphore>,
    /// How long a heavy computation may run before it is stopped (the request time limit).
    pub work_limit: std::time::Duration,
    /// Tokens recently checked.
    pub tokens: TokenCache,
    /// The service requests (a database beside the store, or in it).
    pub desk: Desk,
    /// How fast reports may be posted, per token and per client address.
    pub posts: crate::post_limit::PostLimiter,
    /// A basemap the viewer draws under the layers; none by default (the page then asks no
    /// other host for anything).
    pub basemap: Option<domania_app::territory::Basemap>,
    /// How absolute links are made (behind a reverse proxy or not).
    pub public_url: PublicUrl,
    /// The web origins allowed to read from a browser (CORS).
    pub cors_origins: Vec<String>,
}

/// Runs `f` on a blocking thread (CPU work, or a use case that opens the store): the async
/// workers keep answering.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::internal(e.to_string()))
}

/// Builds the snapshot of `app` with `rules` for today, and behind its first answers its
/// search index (addresses included), map labels and tiles' indexes. The snapshot, its shares
/// and managers and its tiles' topologies are read from the snapshot file when it is current;
/// when it is not, the snapshot is built, its topologies behind its first answers too (a tile
/// asked for meanwhile waits for them), and the file written in the background.
pub fn build(app: &App, rules: LoadedRules) -> domania_app::Result<Arc<Held>> {
    let (held, kept) = app.hold_kept(rules, domania_app::files::today())?;
    let held = Arc::new(held);
    prepare_behind(&held);
    match kept {
        Kept::Read { file, ms } => tracing::info!(file = %file.display(), ms, "snapshot file read"),
        Kept::Built { file, why, ms } => {
            tracing::info!(file = %file.display(), why, ms, "snapshot file not read: built, writing it");
            write_in_background(app, &held, file);
        }
        Kept::NoFile { ms } => tracing::info!(ms, "no folder for a snapshot file: built"),
    }
    Ok(held)
}

/// Builds the search index, the map's names and the R-trees of the tiles' shapes of `held` on
/// a thread of its own, behind its first answers, however the server got it (read, built, or
/// worked out from the one before): a search or a tile asked for meanwhile waits for them,
/// nothing else does.
fn prepare_behind(held: &Arc<Held>) {
    let behind = Arc::clone(held);
    std::thread::spawn(move || {
        let t = Instant::now();
        behind.prepare();
        tracing::info!(ms = t.elapsed().as_secs_f64() * 1e3, "search index, map names and tiles' indexes built");
    });
}

/// Writes `held`'s snapshot file on a thread of its own; a failure is said, and the server goes
/// on without the file.
fn write_in_background(app: &App, held: &Arc<Held>, file: std::path::PathBuf) {
    let (app, held) = (app.clone(), Arc::clone(held));
    std::thread::spawn(move || match app.write_snapshot_file(&held) {
        Ok(_) => tracing::info!(file = %file.display(), "snapshot file written"),
        Err(e) => tracing::warn!(file = %file.display(), "the snapshot file could not be written: {e}"),
    });
}

impl Shared {
    /// The snapshot a request answers from (kept for the whole request).
    #[must_use]
    pub fn current(&self) -> Arc<Held> {
        self.held.load_full()
    }

    /// Builds the next snapshot on a blocking thread (with `rules`, or the current ones) and
    /// swaps it in; one rebuild at a time.
    pub async fn rebuild(self: &Arc<Self>, rules: Option<LoadedRules>) -> domania_app::Result<Arc<Held>> {
        let _one = self.rebuild.lock().await;
        self.rebuild_locked(rules).await
    }

    /// Rebuilds once the store (or the replica reads go to) holds version `version` of `layer`,
    /// which may lag behind the primary a write just went to. A replica that has not caught up
    /// in time is not the write's failure (it is committed): the answer then names the
    /// snapshot still served, and the server follows the store later.
    pub async fn rebuild_with(self: &Arc<Self>, layer: Layer, version: i64) -> domania_app::Result<Arc<Held>> {
        match self.catch_up(Some((layer, version)), CATCH_UP).await {
            Ok(Some(held)) => Ok(held),
            Ok(None) => Ok(self.current()),
            Err(e) if e.code() == ErrorCode::Database => {
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
    ) -> domania_app::Result<Option<Arc<Held>>> {
        let _one = self.rebuild.lock().await;
        let deadline = Instant::now() + timeout;
        loop {
            let me = Arc::clone(self);
            let stored = tokio::task::spawn_blocking(move || me.app.versions())
                .await
                .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))??;
            let reached = at_least.is_none_or(|(layer, v)| stored.get(&layer).copied().flatten().unwrap_or(0) >= v);
            if reached {
                // The same versions, or (a server of one part) none new that reaches it.
                let (me, held, t) = (Arc::clone(self), self.current(), Instant::now());
                let currency = tokio::task::spawn_blocking(move || me.app.currency(&held, &stored))
                    .await
                    .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))??;
                match currency {
                    Currency::Current | Currency::NotReached { judged: false } => return Ok(None),
                    Currency::NotReached { judged: true } => {
                        let ms = t.elapsed().as_secs_f64() * 1e3;
                        tracing::info!(ms, "the store's new versions change nothing of the part served: not rebuilt");
                        return Ok(None);
                    }
                    Currency::Stale => return self.update_locked().await.map(Some),
                }
            }
            if Instant::now() >= deadline {
                let (layer, v) = at_least.unwrap_or((Layer::Parcels, 0));
                return Err(AppError::new(
                    ErrorCode::Database,
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

    /// The snapshot of the store's new versions swapped in, for a caller that holds the
    /// rebuild lock: after a version of the owners alone, worked out again from the held one
    /// ([`App::hold_owners`]: no shape read nor cut again); after versions of some communes'
    /// parcels alone, those communes read and spliced into it ([`App::hold_parcels`]); else
    /// rebuilt. Its file is written behind; its search index and names, and its tiles'
    /// topologies when its shapes changed, are built behind its first answers.
    async fn update_locked(self: &Arc<Self>) -> domania_app::Result<Arc<Held>> {
        let (me, held) = (Arc::clone(self), self.current());
        // (the next snapshot, whether it is of a version of the parcels)
        let next = tokio::task::spawn_blocking(move || -> domania_app::Result<Option<(Held, bool)>> {
            let today = domania_app::files::today();
            if let Some(next) = me.app.hold_owners(&held, today)? {
                return Ok(Some((next, false)));
            }
            Ok(me.app.hold_parcels(&held, today)?.map(|next| (next, true)))
        })
        .await
        .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))??;
        let Some((next, parcels)) = next else { return self.rebuild_locked(None).await };
        let next = Arc::new(next);
        self.held.store(Arc::clone(&next));
        let (etag, build_ms) = (&next.etag, next.build_ms);
        if parcels {
            tracing::info!(%etag, build_ms, "a version of some communes' parcels: spliced into the held snapshot, swapped");
        } else {
            tracing::info!(%etag, build_ms, "a version of the owners alone: worked out from the held snapshot, swapped");
        }
        if let Some(file) = self.app.snapshot_file() {
            write_in_background(&self.app, &next, file);
        }
        prepare_behind(&next);
        Ok(next)
    }

    /// [`Shared::rebuild`] for a caller that holds the rebuild lock.
    pub async fn rebuild_locked(self: &Arc<Self>, rules: Option<LoadedRules>) -> domania_app::Result<Arc<Held>> {
        let me = Arc::clone(self);
        let rules = rules.unwrap_or_else(|| self.current().rules.clone());
        let next = tokio::task::spawn_blocking(move || build(&me.app, rules))
            .await
            .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))??;
        self.held.store(Arc::clone(&next));
        tracing::info!(etag = %next.etag, build_ms = next.build_ms, "snapshot swapped");
        Ok(next)
    }
}

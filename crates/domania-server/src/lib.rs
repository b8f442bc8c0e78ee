//! `domania serve`: Domania over HTTP, on the application layer (`domania-app`) and one sealed
//! snapshot of the store held in memory.
//!
//! - `/v1/…`: who is responsible at a point, parcels, sub-sectors, QPV reports, owners,
//!   scenarios, and the store's layers with their history, diffs, uploads and rollbacks
//!   ([`api`], [`layers`]);
//! - `/`, `/conformance`, `/api`, `/collections/…`: OGC API – Features ([`ogc`]);
//! - `/` in a browser, `/viewer/…`, `/v1/territory`, `/v1/search`, `/subsectors/{id}/cahier`,
//!   `/annuaire`: the map viewer and the documents partners print ([`viewer`]);
//! - `/tiles/…`, `/styles/…`: vector tiles and MapLibre styles ([`tiles`]);
//! - `/open311/v2/…`, `/v1/reports/…`: reports of dysfunctions ([`open311`]);
//! - `/healthz`, `/v1/version`, `/openapi.json`.
//!
//! Answers derived from the snapshot carry its `ETag`; an update builds the next snapshot on a
//! blocking thread and swaps it (see [`state`]). Errors are JSON `{code, message, details}`
//! with the application's stable codes ([`error`]).

pub mod admin;
pub mod api;
pub mod auth;
pub mod error;
pub mod follow;
pub mod layers;
pub mod ogc;
pub mod open311;
pub mod openapi;
pub mod respond;
pub mod state;
pub mod tiles;
pub mod viewer;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use domania_app::App;
use domania_app::files::LoadedRules;
use tower_http::compression::CompressionLayer;
use tower_http::cors::CorsLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::state::{Served, Shared};

/// The largest layer upload by default (a département's cadastre is a few hundred MB).
pub const MAX_UPLOAD_BYTES: usize = 1 << 30;
/// Answers slower than this are logged (others only at debug level), in milliseconds.
pub const SLOW_MS: f64 = 500.0;
/// The largest body of any other request.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Limits of every request.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The longest a request may take.
    pub timeout: Duration,
    /// The largest layer upload.
    pub max_upload_bytes: usize,
    /// The size bound of the in-memory tile cache (0: no cache).
    pub tile_cache_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_mins(2),
            max_upload_bytes: MAX_UPLOAD_BYTES,
            tile_cache_bytes: tiles::CACHE_BYTES,
        }
    }
}

/// Options of the server.
#[derive(Debug, Clone)]
pub struct Options {
    pub bind: SocketAddr,
    /// Reads need a `viewer` token.
    pub private_reads: bool,
    pub limits: Limits,
    /// A raster basemap for the viewer (see [`check_basemap`]).
    pub basemap: Option<String>,
}

/// A basemap URL the viewer can use: `http(s)://…` with `{z}`, `{x}` and `{y}`.
///
/// # Errors
/// Says what is missing.
pub fn check_basemap(url: &str) -> Result<(), String> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(format!(
            "basemap {url:?}: an http(s) URL of raster tiles, such as https://tile.example.org/{{z}}/{{x}}/{{y}}.png"
        ));
    }
    for p in ["{z}", "{x}", "{y}"] {
        if !url.contains(p) {
            return Err(format!("basemap {url:?}: {p} is missing (the tile's zoom, column and row)"));
        }
    }
    Ok(())
}

/// The state of a server on `app`: the snapshot is built now (on the calling thread).
pub fn shared(app: App, rules: LoadedRules, private_reads: bool, limits: Limits) -> domania_app::Result<Arc<Shared>> {
    let served = Served::build(&app, rules, domania_app::files::today())?;
    let reports = std::sync::Mutex::new(app.reports()?);
    Ok(Arc::new(Shared {
        app,
        served: ArcSwap::from_pointee(served),
        tiles: tiles::TileCache::new(limits.tile_cache_bytes),
        reports,
        basemap: std::sync::OnceLock::new(),
        max_upload_bytes: limits.max_upload_bytes,
        tokens: auth::TokenCache::default(),
        rebuild: tokio::sync::Mutex::new(()),
        private_reads,
    }))
}

/// Every route.
pub fn router(shared: Arc<Shared>, limits: Limits) -> Router {
    let reads = Router::new()
        .route("/conformance", get(ogc::conformance))
        .route("/api", get(openapi::document))
        .route("/openapi.json", get(openapi::document))
        .route("/collections", get(ogc::collections))
        .route("/collections/{id}", get(ogc::collection))
        .route("/collections/{id}/items", get(ogc::items))
        .route("/collections/{id}/items/{fid}", get(ogc::item))
        .route("/v1/version", get(api::version))
        .route("/v1/who", get(api::who))
        .route("/v1/parcels", get(api::parcels))
        .route("/v1/parcels/{idu}", get(api::parcel))
        .route("/v1/subsectors/{id}", get(api::subsector))
        .route("/v1/qpv/{code}/report", get(api::qpv_report))
        .route("/v1/owners/{siren}", get(api::owner))
        .route("/v1/scenarios", post(api::scenario))
        .route("/v1/layers", get(layers::list))
        .route("/v1/layers/{layer}/history", get(layers::history))
        .route("/v1/layers/{layer}/diff", get(layers::diff))
        .route("/v1/rules", get(admin::rules))
        .route("/tiles/{file}", get(tiles::tilejson))
        .route("/styles", get(tiles::styles))
        .route("/styles/{file}", get(tiles::style))
        .route("/open311/v2/discovery.json", get(open311::discovery))
        .route("/open311/v2/services.json", get(open311::services))
        .route("/open311/v2/services/{file}", get(open311::service))
        .route("/open311/v2/requests.json", get(open311::requests))
        .route("/open311/v2/requests/{file}", get(open311::request))
        .route("/v1/reports/service-levels", get(open311::service_levels))
        .route("/v1/territory", get(viewer::territory))
        .route("/v1/search", get(viewer::search))
        .route("/subsectors/{id}/cahier", get(viewer::cahier))
        .route("/annuaire", get(viewer::annuaire))
        .route_layer(axum::middleware::from_fn_with_state(Arc::clone(&shared), auth::reads))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    // Tokens are checked by route layers, which run before the handlers read the body.
    let uploads = Router::new()
        .route("/v1/layers/{layer}", post(layers::upload))
        .route_layer(axum::middleware::from_fn_with_state(Arc::clone(&shared), auth::editors))
        .layer(DefaultBodyLimit::max(limits.max_upload_bytes));
    let rollbacks = Router::new()
        .route("/v1/layers/{layer}/rollback", post(layers::rollback))
        .route_layer(axum::middleware::from_fn_with_state(Arc::clone(&shared), auth::editors))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    // Posting a report takes its key in the form (`api_key`), whatever `--private-reads` says.
    let posts = Router::new()
        .route("/open311/v2/requests.json", post(open311::post_request))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    let statuses = Router::new()
        .route("/v1/reports/{id}/status", post(open311::change_status))
        .route("/v1/reports/{id}/reroute", post(open311::reroute))
        .route_layer(axum::middleware::from_fn_with_state(Arc::clone(&shared), auth::editors))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    let admin = Router::new()
        .route("/v1/rules", axum::routing::put(admin::put_rules))
        .route("/v1/tokens", get(admin::tokens).post(admin::create_token))
        .route("/v1/tokens/{name}", axum::routing::delete(admin::revoke_token))
        .route_layer(axum::middleware::from_fn_with_state(Arc::clone(&shared), auth::admins))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    // Vector tiles stand apart: they are gzipped once when encoded (not by the compression
    // layer on every answer), their work is bounded (no timeout to arm), and a map asks for
    // them by the thousand (no span per request); they only share the CORS layer.
    let tiles = Router::new()
        .route("/tiles/{layers}/{z}/{x}/{y}", get(tiles::tile))
        .route_layer(axum::middleware::from_fn_with_state(Arc::clone(&shared), auth::reads))
        // The viewer's files are public (the page asks for a token itself when reads are
        // private) and gzipped once, like the tiles.
        .route("/viewer/{file}", get(viewer::asset));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        // The landing page is public: under `--private-reads` the viewer it opens asks for a
        // token before reading anything.
        .route("/", get(ogc::landing))
        .merge(reads)
        .merge(uploads)
        .merge(rollbacks)
        .merge(admin)
        .merge(statuses)
        .merge(posts)
        .fallback(|| async { error::ApiError::not_found("no such route (see /api)") })
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, limits.timeout))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                })
                .on_request(())
                .on_response(
                    // Failures and slow answers are logged; every answer only with
                    // RUST_LOG=debug (a line per tile at thousands of tiles a second costs more
                    // than the tile).
                    |res: &axum::http::Response<_>, latency: Duration, _span: &tracing::Span| {
                        let (status, ms) = (res.status().as_u16(), latency.as_secs_f64() * 1e3);
                        if status >= 400 || ms > SLOW_MS {
                            tracing::info!(status, ms, "answered");
                        } else {
                            tracing::debug!(status, ms, "answered");
                        }
                    },
                ),
        )
        .merge(tiles)
        .with_state(shared)
        .layer(CorsLayer::permissive())
}

/// Serves until SIGTERM or Ctrl-C, then finishes the requests under way. Prints the URL on
/// standard output once listening (with the port chosen when `bind` asks for port 0).
pub async fn serve(shared: Arc<Shared>, options: &Options) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(options.bind).await?;
    let addr = listener.local_addr()?;
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        // One write: a reader that takes the first line and closes the pipe gets both.
        out.write_all(
            format!(
                "domania: serving {} on http://{addr}/\nthe map (who maintains each space): open http://{addr}/ in a \
                 browser; Ctrl-C stops\n",
                shared.app.store_path().display()
            )
            .as_bytes(),
        )?;
        out.flush()?;
    }
    let served = shared.current();
    tracing::info!(etag = %served.etag, parcels = served.snapshot.parcels().len(), build_ms = served.build_ms, "snapshot ready");
    // Writes through other servers or the command line.
    follow::spawn(Arc::clone(&shared), tokio::runtime::Handle::current());
    // Conventions are judged on the day: past midnight, the snapshot is rebuilt for the new one.
    let daily = Arc::clone(&shared);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_mins(1));
        loop {
            tick.tick().await;
            if daily.current().date != domania_app::files::today()
                && let Err(e) = daily.rebuild(None).await
            {
                tracing::error!("rebuilding for the new day: {e}");
            }
        }
    });
    axum::serve(listener, router(shared, options.limits)).with_graceful_shutdown(shutdown()).await
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down: finishing the requests under way");
}

/// Runs the server from synchronous code (the CLI): logs to standard error, builds the snapshot,
/// serves.
pub fn run(app: App, rules: LoadedRules, options: &Options) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DOMANIA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let shared = shared(app, rules, options.private_reads, options.limits)?;
    if let Some(b) = &options.basemap {
        check_basemap(b)?;
        let _ = shared.basemap.set(b.clone());
    }
    runtime.block_on(serve(shared, options))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_basemap_is_a_url_of_raster_tiles() {
        assert!(super::check_basemap("https://tile.example.org/{z}/{x}/{y}.png").is_ok());
        assert!(super::check_basemap("tile.example.org/{z}/{x}/{y}.png").unwrap_err().contains("http(s)"));
        assert!(super::check_basemap("https://tile.example.org/{z}/{x}.png").unwrap_err().contains("{y} is missing"));
    }
}

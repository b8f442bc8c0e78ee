//! `domania serve`: Domania over HTTP, a presenter of the application layer (`domania-app`) on
//! one held snapshot of the store.
//!
//! - `/v1/…`: who is responsible at a point, parcels, sub-sectors, QPV reports, owners,
//!   scenarios ([`api`]), and the store's layers with their history, diffs, uploads and
//!   rollbacks ([`layers`]); rules and tokens ([`admin`]);
//! - `/conformance`, `/collections/…`: OGC API – Features ([`ogc`]);
//! - `/`, `/viewer/…`, `/v1/territory`, `/v1/search`, `/subsectors/{id}/cahier`, `/annuaire`:
//!   the landing page, the map viewer and the documents partners print ([`viewer`]);
//! - `/tiles/…`, `/styles/…`: vector tiles and MapLibre styles ([`tiles`]);
//! - `/open311/v2/…`, `/v1/reports/…`: service requests ([`open311`]);
//! - `/healthz`, `/v1/version`, `/api`, `/openapi.json` ([`openapi`]).
//!
//! Layout: handlers import the leaves ([`state`], [`error`], [`extract`], [`respond`],
//! [`auth`], and the caches [`tile_cache`], [`token_cache`]), never each other; only this
//! module names the handlers. Every error is JSON of the application's one table of codes
//! ([`error`]), extractors' rejections included.

pub mod admin;
pub mod api;
pub mod auth;
pub mod connections;
mod deliver;
pub mod edit;
pub mod error;
pub mod extract;
mod follow;
pub mod layers;
pub mod ogc;
pub mod open311;
pub mod openapi;
pub mod post_limit;
pub mod public_url;
pub mod respond;
pub mod state;
pub mod tile_cache;
pub mod tiles;
pub mod token_cache;
pub mod viewer;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domania_app::files::LoadedRules;
use domania_app::{App, ErrorCode};
use tower_http::compression::CompressionLayer;
use tower_http::cors::CorsLayer;
use tower_http::trace::TraceLayer;

use crate::error::{ApiError, GeoError};
use crate::public_url::PublicUrl;
use crate::state::Shared;

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
    /// Open connections and their timeouts.
    pub connections: connections::ConnectionLimits,
    /// Uploads received and imported at once.
    pub max_uploads: usize,
    /// The most temporary disk one upload may take (received and unpacked).
    pub upload_disk_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_mins(2),
            max_upload_bytes: MAX_UPLOAD_BYTES,
            tile_cache_bytes: tile_cache::CACHE_BYTES,
            connections: connections::ConnectionLimits::default(),
            max_uploads: 1,
            upload_disk_bytes: 4 << 30,
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
    /// A basemap for the viewer (see [`domania_app::territory::Basemap`]).
    pub basemap: Option<domania_app::territory::Basemap>,
    /// How absolute links are made: a fixed public URL, or the proxies whose forwarding
    /// headers are believed.
    pub public_url: PublicUrl,
    /// The web origins whose pages may read the server from a browser (CORS), `*` for any;
    /// none by default: only the server's own pages.
    pub cors_origins: Vec<String>,
}

/// A web origin for `--cors-origin`: `*`, or `http(s)://host[:port]` without a path.
///
/// # Errors
/// Says what is wrong.
pub fn check_origin(origin: &str) -> Result<String, String> {
    if origin == "*" {
        return Ok(origin.to_owned());
    }
    let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    match rest {
        Some(r) if !r.is_empty() && !r.contains(['/', '?', '#', ' ']) => Ok(origin.to_owned()),
        _ => Err(format!("origin {origin:?}: `*`, or http(s)://host[:port] as a browser names a site (no path)")),
    }
}

/// The CORS layer of `origins` (see [`Options::cors_origins`]).
fn cors(origins: &[String]) -> CorsLayer {
    use axum::http::{HeaderValue, Method, header};
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT]);
    if origins.iter().any(|o| o == "*") {
        return layer.allow_origin(tower_http::cors::Any);
    }
    layer.allow_origin(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect::<Vec<_>>())
}

/// A public URL the links can start with: `http(s)://host[:port][/path]`, no trailing slash.
///
/// # Errors
/// Says what is wrong.
pub fn check_public_url(url: &str) -> Result<String, String> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(r) if !r.is_empty() && !r.contains(['?', '#', ' ']) => Ok(url.trim_end_matches('/').to_owned()),
        _ => Err(format!("public URL {url:?}: http(s)://host[:port][/path], as clients reach the server")),
    }
}

/// The state of a server on `app`: the snapshot is built now (on the calling thread).
pub fn shared(app: App, rules: LoadedRules, private_reads: bool, limits: Limits) -> domania_app::Result<Arc<Shared>> {
    let options = Options {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        private_reads,
        limits,
        basemap: None,
        public_url: PublicUrl::default(),
        cors_origins: Vec::new(),
    };
    shared_with(app, rules, &options)
}

/// [`shared`] with every option.
pub fn shared_with(app: App, rules: LoadedRules, options: &Options) -> domania_app::Result<Arc<Shared>> {
    let limits = options.limits;
    let held = state::build(&app, rules)?;
    let desk = app.desk()?;
    Ok(Arc::new(Shared {
        app,
        held: ArcSwap::from(held),
        tiles: tile_cache::TileCache::new(limits.tile_cache_bytes),
        desk,
        posts: post_limit::PostLimiter::default(),
        basemap: options.basemap.clone(),
        max_upload_bytes: limits.max_upload_bytes,
        upload_disk_bytes: limits.upload_disk_bytes,
        uploads: Arc::new(tokio::sync::Semaphore::new(limits.max_uploads.max(1))),
        heavy: Arc::new(tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, usize::from))),
        work_limit: limits.timeout,
        tokens: token_cache::TokenCache::default(),
        rebuild: tokio::sync::Mutex::new(()),
        private_reads: options.private_reads,
        public_url: options.public_url.clone(),
        cors_origins: options.cors_origins.clone(),
    }))
}

/// Answers a request slower than `limit` with the one JSON error (GeoReport's list on the
/// Open311 routes), and records how long each took.
async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    let open311 = request.uri().path().starts_with("/open311/");
    if let Ok(r) = tokio::time::timeout(limit, next.run(request)).await {
        return r;
    }
    let e = ApiError::said(ErrorCode::Timeout, "error-too-slow", vec![]);
    if open311 { GeoError(e).into_response() } else { e.into_response() }
}

fn not_found() -> ApiError {
    ApiError::said(ErrorCode::NotFound, "error-no-route", vec![])
}

fn no_method() -> ApiError {
    ApiError::said(ErrorCode::MethodNotAllowed, "error-no-method", vec![])
}

/// The Open311 routes: GeoReport's error format for everything, unknown routes and methods
/// included.
fn open311_routes(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    // Every route in JSON and in XML; `{file}` is `NAME.json` or `NAME.xml`.
    let reads = Router::new()
        .route("/discovery.json", get(open311::discovery_json))
        .route("/discovery.xml", get(open311::discovery_xml))
        .route("/services.json", get(open311::services_json))
        .route("/services.xml", get(open311::services_xml))
        .route("/services/{file}", get(open311::service))
        .route("/requests.json", get(open311::requests_json))
        .route("/requests.xml", get(open311::requests_xml))
        .route("/requests/{file}", get(open311::request))
        .route("/tokens/{file}", get(open311::token))
        .route("/servicerequestupdates.json", get(open311::updates_json))
        .route("/servicerequestupdates.xml", get(open311::updates_xml))
        .route_layer(axum::middleware::from_fn_with_state(Arc::clone(shared), auth::reads));
    // Posting a request takes its key in the form (`api_key`), whatever `--private-reads` says.
    // A post may carry a photo (multipart): the photo's bound and the form's fields.
    let posts = Router::new()
        .route("/requests.json", post(open311::post_json))
        .route("/requests.xml", post(open311::post_xml))
        .layer(DefaultBodyLimit::max((domania_app::requests::photo::MAX_PHOTO_MB + 1) << 20));
    Router::new()
        .merge(reads)
        .merge(posts)
        .fallback(|| async { GeoError(not_found()) })
        .method_not_allowed_fallback(|| async { GeoError(no_method()) })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
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
        .route("/v1/reports/service-levels", get(open311::service_levels))
        .route("/v1/reports/service-levels.pdf", get(open311::service_levels_pdf))
        .route("/v1/reports.geojson", get(open311::map))
        .route("/v1/reports/{id}/photo", get(open311::photo))
        .route("/v1/reports/{id}/photo/thumbnail", get(open311::thumbnail))
        .route("/v1/territory", get(viewer::territory))
        .route("/v1/search", get(viewer::search))
        .route("/subsectors/{id}/cahier", get(viewer::cahier))
        .route("/subsectors/{id}/cahier.pdf", get(viewer::cahier_pdf))
        .route("/annuaire", get(viewer::annuaire))
        .route("/annuaire.pdf", get(viewer::annuaire_pdf))
        .route_layer(axum::middleware::from_fn_with_state(Arc::clone(&shared), auth::reads))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    // Tokens are checked by route layers, which run before the handlers read the body.
    let uploads = Router::new()
        .route("/v1/layers/{layer}", post(layers::upload))
        .route_layer(axum::middleware::from_fn_with_state(Arc::clone(&shared), auth::editors))
        .layer(DefaultBodyLimit::max(limits.max_upload_bytes));
    let editors = Router::new()
        .route("/v1/layers/{layer}/rollback", post(layers::rollback))
        .route("/collections/{id}/items", post(edit::create))
        .route(
            "/collections/{id}/items/{fid}",
            axum::routing::put(edit::replace).patch(edit::update).delete(edit::remove),
        )
        .route("/v1/reports/{id}/status", post(open311::change_status))
        .route("/v1/reports/{id}/reroute", post(open311::reroute))
        .route_layer(axum::middleware::from_fn_with_state(Arc::clone(&shared), auth::editors))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    let admin = Router::new()
        .route("/v1/rules", axum::routing::put(admin::put_rules))
        .route("/v1/tokens", get(admin::tokens).post(admin::create_token))
        .route("/v1/tokens/{name}", axum::routing::delete(admin::revoke_token))
        .route("/v1/reports/{id}/alert", post(open311::alert))
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
        .route("/viewer/{file}", get(viewer::asset))
        .route("/viewer/fonts/{stack}/{range}", get(viewer::glyphs));
    // Reads and quick writes answer within the time limit; an upload or a rollback is not cut
    // short (its body is bounded by the body timeout, and its version, once committed, is
    // answered, never a 408 after the fact).
    let timed = Router::new()
        .merge(reads)
        .merge(admin)
        .nest("/open311/v2", open311_routes(&shared))
        .layer(axum::middleware::from_fn_with_state(limits.timeout, time_limit));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        // The landing page is public: under `--private-reads` the viewer it opens asks for a
        // token before reading anything.
        .route("/", get(viewer::landing))
        .merge(timed)
        .merge(uploads)
        .merge(editors)
        .fallback(|| async { not_found() })
        .method_not_allowed_fallback(|| async { no_method() })
        .layer(CompressionLayer::new())
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
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            axum::http::header::X_CONTENT_TYPE_OPTIONS,
            axum::http::HeaderValue::from_static("nosniff"),
        ))
        .layer(cors(&shared.cors_origins))
        .layer(axum::middleware::from_fn(error::speak))
        .with_state(shared)
}

/// Serves until SIGTERM or Ctrl-C, then finishes the requests under way for the grace period.
/// Prints the URL on standard output once listening (with the port chosen when `bind` asks
/// for port 0).
pub async fn serve(shared: Arc<Shared>, options: &Options) -> std::io::Result<()> {
    let descriptors = connections::raise_descriptor_limit();
    let mut limits = options.limits.connections;
    limits.max = connections::effective_cap(limits.max, descriptors);
    if limits.max < options.limits.connections.max {
        tracing::warn!(
            asked = options.limits.connections.max,
            cap = limits.max,
            descriptors,
            "the descriptor limit allows fewer connections than asked (raise `ulimit -n`, or LimitNOFILE in the systemd unit)"
        );
    }
    tracing::info!(max_connections = limits.max, descriptors, "connections capped");
    let freed = domania_app::temporary::sweep();
    if freed > 0 {
        tracing::info!(freed_bytes = freed, "removed the temporary files of a server that was killed");
    }
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
    let held = shared.current();
    tracing::info!(etag = %held.etag, parcels = held.snapshot.parcels().len(), build_ms = held.build_ms, "snapshot ready");
    // Let go at once: kept to the end of this function, the first snapshot outlived every update
    // for as long as the server ran (730 MB at a million parcels, BENCHMARKS.md).
    drop(held);
    // Writes through other servers or the command line.
    follow::spawn(&shared, tokio::runtime::Handle::current());
    // The messages of service requests, sent as they are queued (DOMANIA_SMTP_URL).
    let base = shared.public_url.fixed.clone().unwrap_or_else(|| format!("http://{addr}"));
    let deliverer = deliver::spawn(&shared, base).map_err(|e| std::io::Error::other(e.to_string()))?;
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
    let served = connections::serve(listener, router(shared, options.limits), limits, shutdown()).await;
    deliverer.finish().await;
    served
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
    let shared = shared_with(app, rules, options)?;
    runtime.block_on(serve(shared, options))?;
    // Whatever still runs after the grace period (an upload's import) is abandoned, not waited
    // for: its transaction is rolled back by the store.
    runtime.shutdown_timeout(Duration::ZERO);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_public_url_is_where_clients_reach_the_server() {
        assert_eq!(
            super::check_public_url("https://sig.example.org/domania/").unwrap(),
            "https://sig.example.org/domania"
        );
        assert!(super::check_public_url("sig.example.org").is_err());
        assert!(super::check_public_url("https://").is_err());
    }
}

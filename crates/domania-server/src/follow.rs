//! Following the store: a server rebuilds its snapshot when another server or the command line
//! writes a new version. On PostGIS it listens to the primary's `domania_versions` channel
//! (every import notifies `layer:version` at commit) and waits for its replica to hold the
//! version; on any store it also compares versions every few seconds, which catches a
//! notification lost with a connection and every write to a GeoPackage.

use std::sync::Arc;
use std::time::{Duration, Instant};

use domania_app::Layer;
use domania_store::Location;
use postgres::fallible_iterator::FallibleIterator;

use crate::state::Shared;

/// How often versions are compared without a notification.
const POLL: Duration = Duration::from_secs(2);

/// How long a notified version may take to reach the replica before the poll takes over.
const REPLICA_WAIT: Duration = Duration::from_secs(20);

/// Follows the store from a thread of its own until the process ends.
pub fn spawn(shared: Arc<Shared>, runtime: tokio::runtime::Handle) {
    let spawned = std::thread::Builder::new().name("domania-follow".into()).spawn(move || {
        let mut backoff = Duration::from_millis(500);
        loop {
            let outcome = match shared.app.store_path().clone() {
                Location::Postgres(url) => listen(&shared, &runtime, &url),
                Location::File(_) => {
                    std::thread::sleep(POLL);
                    check(&shared, &runtime, None);
                    Ok(())
                }
            };
            if let Err(e) = outcome {
                tracing::warn!("following the store: {e}; polling, then listening again in {} s", backoff.as_secs());
                std::thread::sleep(backoff);
                check(&shared, &runtime, None);
                backoff = (backoff * 2).min(Duration::from_secs(30));
            } else {
                backoff = Duration::from_millis(500);
            }
        }
    });
    if let Err(e) = spawned {
        tracing::error!("cannot follow the store: {e}");
    }
}

/// Listens to the primary and checks on every notification and every [`POLL`].
fn listen(shared: &Arc<Shared>, runtime: &tokio::runtime::Handle, url: &str) -> Result<(), domania_store::StoreError> {
    let mut client = domania_store::pg::client(url)?;
    client.batch_execute(&format!("LISTEN {}", domania_store::pg::CHANNEL))?;
    tracing::info!("following {} (LISTEN {})", shared.app.store_path(), domania_store::pg::CHANNEL);
    // What was written while this connection was down.
    check(shared, runtime, None);
    loop {
        let mut wanted: Option<(Layer, i64)> = None;
        {
            let mut notes = client.notifications();
            // The first notification or the poll's time, then whatever else is pending.
            let first = FallibleIterator::next(&mut notes.timeout_iter(POLL))?;
            let pending: Vec<_> = notes.iter().collect()?;
            for n in first.into_iter().chain(pending) {
                // `parcels:12`: the highest version of the batch is enough.
                let parsed = n.payload().split_once(':').and_then(|(layer, v)| {
                    Some((Layer::ALL.into_iter().find(|l| l.table() == layer)?, v.parse::<i64>().ok()?))
                });
                wanted = match (wanted, parsed) {
                    (Some((l, w)), Some((layer, v))) if l == layer => Some((l, w.max(v))),
                    (_, Some(p)) => Some(p),
                    (w, None) => w.or(Some((Layer::Parcels, 0))),
                };
            }
        }
        check(shared, runtime, wanted);
        if client.is_closed() {
            return Ok(());
        }
    }
}

/// Rebuilds when the store holds other versions than the snapshot served, waiting for
/// `wanted` to reach the replica.
fn check(shared: &Arc<Shared>, runtime: &tokio::runtime::Handle, wanted: Option<(Layer, i64)>) {
    let t = Instant::now();
    let timeout = if wanted.is_some() { REPLICA_WAIT } else { Duration::ZERO };
    match runtime.block_on(shared.catch_up(wanted, timeout)) {
        Ok(Some(served)) => tracing::info!(
            etag = %served.etag,
            ms = t.elapsed().as_secs_f64() * 1e3,
            "a new version written elsewhere is served"
        ),
        Ok(None) => {}
        Err(e) => tracing::warn!("following the store: {e}"),
    }
}

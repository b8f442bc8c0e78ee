//! The server's subscription to the store's versions ([`domania_app::follow`]): on every
//! announced version, and every few seconds, it compares the versions served with the store's
//! and rebuilds when they differ, after the version reached the replica reads go to.

use std::sync::Arc;
use std::time::{Duration, Instant};

use domania_app::Audience;
use domania_app::follow::Event;
use domania_app::i18n::Lang;

use crate::state::Shared;

/// How long a notified version may take to reach the replica before the poll takes over.
const REPLICA_WAIT: Duration = Duration::from_secs(20);

/// Follows the store until the process ends.
pub fn spawn(shared: &Arc<Shared>, runtime: tokio::runtime::Handle) {
    let me = Arc::clone(shared);
    // Read on the follower's thread (the store's blocking clients cannot run on the async
    // workers): the first look sets it.
    let tokens = std::sync::Mutex::new(None);
    let followed = shared.app.follow(move |event| match event {
        Event::TokenRevoked => {
            me.tokens.clear();
            tracing::info!("a token was revoked elsewhere: the tokens checked are forgotten");
        }
        Event::Change(wanted) => {
            // A revocation nothing announced (a GeoPackage store): seen at the next look.
            if wanted.is_none()
                && let Ok(now) = me.app.tokens_fingerprint()
                && let Ok(mut last) = tokens.lock()
                && last.replace(now).is_some_and(|was| was != now)
            {
                me.tokens.clear();
            }
            // Edits saved into a GeoPackage store in QGIS: made versions, then served below.
            if wanted.is_none() {
                match me.app.absorb_edits() {
                    Ok(absorbed) => {
                        for a in absorbed {
                            match (&a.outcome, a.text(Lang::En, Audience::Cli)) {
                                (Ok(_), Some(text)) => tracing::info!("{text}"),
                                (Err(_), Some(text)) => tracing::warn!("{text}"),
                                (_, None) => {}
                            }
                        }
                    }
                    Err(e) => tracing::warn!("reading the edits saved into the store: {e}"),
                }
            }
            let t = Instant::now();
            let timeout = if wanted.is_some() { REPLICA_WAIT } else { Duration::ZERO };
            match runtime.block_on(me.catch_up(wanted, timeout)) {
                Ok(Some(held)) => tracing::info!(
                    etag = %held.etag,
                    ms = t.elapsed().as_secs_f64() * 1e3,
                    "a new version written elsewhere is served"
                ),
                Ok(None) => {}
                Err(e) => tracing::warn!("following the store: {e}"),
            }
        }
        Event::Lost { error, retry_in } => {
            tracing::warn!("following the store: {error}; polling, then listening again in {} s", retry_in.as_secs());
        }
    });
    if let Err(e) = followed {
        tracing::error!("cannot follow the store: {e}");
    }
}

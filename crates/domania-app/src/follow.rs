//! Following the store: a server rebuilds its snapshot when another server or the command line
//! writes a new version. On PostGIS the store's primary announces every version at commit
//! (`NOTIFY`), which a thread of its own listens to; on any store the versions are also
//! compared every few seconds, which catches a notification lost with a connection and every
//! write to a GeoPackage.
//!
//! The follower only tells: what to do on a change (rebuild, after the replica caught up) is
//! the subscriber's, given as a closure.

use std::time::Duration;

use domania_store::Location;
use domania_store::pg::{Heard, Listener};

use crate::{App, Layer};

/// How often versions are compared without a notification.
pub const POLL: Duration = Duration::from_secs(2);

/// How often a GeoPackage store is looked at: nothing announces its versions, nor the edits
/// saved into it in QGIS, which are to be served within two seconds.
pub const POLL_FILE: Duration = Duration::from_secs(1);

/// A version announced: the layer and its number (0 when the announcement gave none), or
/// `None` when nothing was and the versions are to be compared anyway.
pub type Change = Option<(Layer, i64)>;

/// What a subscriber is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The versions may have changed ([`Change`]): compare them, and rebuild if they did.
    Change(Change),
    /// A token was revoked: forget the tokens checked (announced on PostGIS at once; on a
    /// GeoPackage, seen by [`App::tokens_fingerprint`] at the next poll).
    TokenRevoked,
    /// The connection to the store was lost: the follower polls, then listens again after
    /// `retry_in`.
    Lost { error: String, retry_in: Duration },
}

impl App {
    /// Follows the store from a thread of its own until the process ends, telling `on_event`
    /// of every announced version and, every [`POLL`], that the versions may have changed.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn follow(&self, on_event: impl Fn(Event) + Send + 'static) -> std::io::Result<()> {
        let location = self.store_path().clone();
        std::thread::Builder::new().name("domania-follow".into()).spawn(move || {
            let on_change = |c: Change| on_event(Event::Change(c));
            let mut backoff = Duration::from_millis(500);
            loop {
                let outcome = match &location {
                    Location::Postgres(url) => listen(url, &on_event),
                    Location::File(_) => {
                        on_change(None);
                        std::thread::sleep(POLL_FILE);
                        Ok(())
                    }
                };
                if let Err(e) = outcome {
                    on_event(Event::Lost { error: crate::AppError::from(e).to_string(), retry_in: backoff });
                    std::thread::sleep(backoff);
                    on_change(None);
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                } else {
                    backoff = Duration::from_millis(500);
                }
            }
        })?;
        Ok(())
    }
}

/// Listens to the primary and tells of every notification and every [`POLL`], until the
/// connection closes.
fn listen(url: &str, on_event: &impl Fn(Event)) -> Result<(), domania_store::StoreError> {
    let mut listener = Listener::connect(url)?;
    // What was written while this connection was down.
    on_event(Event::Change(None));
    loop {
        let heard = listener.wait(POLL)?;
        // `parcels:12`: the highest version of the batch is enough.
        let mut wanted: Change = None;
        let mut revoked = false;
        let mut saved = false;
        for h in heard {
            let (layer, v) = match h {
                Heard::Version(layer, v) => (layer, v),
                Heard::TokenRevoked => {
                    revoked = true;
                    continue;
                }
                // Saves into the editing views: a look makes them versions.
                Heard::EditsSaved => {
                    saved = true;
                    continue;
                }
            };
            wanted = match (wanted, v) {
                (Some((l, w)), Some(v)) if l == layer => Some((l, w.max(v))),
                (_, Some(v)) => Some((layer, v)),
                (w, None) => w.or(Some((layer, 0))),
            };
        }
        if revoked {
            on_event(Event::TokenRevoked);
        }
        on_event(Event::Change(wanted));
        if saved && wanted.is_some() {
            on_event(Event::Change(None));
        }
        if listener.is_closed() {
            return Ok(());
        }
    }
}

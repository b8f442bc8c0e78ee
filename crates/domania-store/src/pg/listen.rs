//! Following a database's new versions: every import ends with `NOTIFY domania_versions,
//! 'layer:version'` (delivered at commit), a revocation `'tokens:revoked'`; a [`Listener`]
//! hears them on the primary.

use std::time::Duration;

use postgres::Client;
use postgres::fallible_iterator::FallibleIterator as _;

use super::connect::client;
use super::schema::{CHANNEL, TOKENS_REVOKED};
use crate::error::Result;
use crate::layer::Layer;

/// What the store announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// A new version: the layer and its version (`None` when the payload names none, as a
    /// copy's does: the versions are to be read again).
    Version(Layer, Option<i64>),
    /// A token was revoked.
    TokenRevoked,
    /// An editor saved into the views of `domania_edit` (to be made versions).
    EditsSaved,
}

/// A connection listening to the store's versions.
pub struct Listener {
    client: Client,
}

impl Listener {
    /// Listens on the database at `url` (the primary: a replica cannot `LISTEN`).
    pub fn connect(url: &str) -> Result<Self> {
        let mut client = client(url)?;
        client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
        Ok(Self { client })
    }

    /// The versions announced within `timeout` (the first one, then whatever else is
    /// pending); empty when none was.
    pub fn wait(&mut self, timeout: Duration) -> Result<Vec<Heard>> {
        let mut notes = self.client.notifications();
        let first = notes.timeout_iter(timeout).next()?;
        let pending: Vec<_> = notes.iter().collect()?;
        Ok(first
            .into_iter()
            .chain(pending)
            .map(|n| {
                if n.payload() == TOKENS_REVOKED {
                    return Heard::TokenRevoked;
                }
                if n.payload() == super::edit::EDITS_SAVED {
                    return Heard::EditsSaved;
                }
                let (layer, v) = n.payload().split_once(':').unwrap_or((n.payload(), ""));
                let layer = Layer::ALL.into_iter().find(|l| l.table() == layer).unwrap_or(Layer::Parcels);
                Heard::Version(layer, v.parse::<i64>().ok())
            })
            .collect())
    }

    /// Whether the connection is gone (the caller connects again).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

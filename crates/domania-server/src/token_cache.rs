//! Tokens recently checked against the store, so that reads under `--private-reads` do not open
//! the store on every request.

use domania_app::tokens::Grant;

/// Tokens recently checked against the store, so that reads under `--private-reads` do not open
/// the store on every request. An entry lives [`TokenCache::TTL`] at most; the cache is cleared
/// by a revocation over HTTP at once, by one announced by the store (PostGIS) at once on every
/// server, and by one from the command line on a GeoPackage at the follower's next look (2 s).
#[derive(Debug, Default)]
pub struct TokenCache {
    inner: std::sync::Mutex<std::collections::HashMap<String, Checked>>,
}

/// A token's name and grant, and when they were read from the store.
type Checked = ((String, Grant), std::time::Instant);

impl TokenCache {
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(30);

    pub fn get(&self, hash: &str) -> Option<(String, Grant)> {
        let g = self.inner.lock().ok()?;
        g.get(hash).filter(|(_, at)| at.elapsed() < Self::TTL).map(|(k, _)| k.clone())
    }

    pub fn put(&self, hash: String, known: (String, Grant)) {
        if let Ok(mut g) = self.inner.lock() {
            if g.len() > 10_000 {
                g.clear();
            }
            g.insert(hash, (known, std::time::Instant::now()));
        }
    }

    /// Forgets every token (after a revocation).
    pub fn clear(&self) {
        if let Ok(mut g) = self.inner.lock() {
            g.clear();
        }
    }
}

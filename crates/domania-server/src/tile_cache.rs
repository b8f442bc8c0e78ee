//! Encoded tiles kept in memory, keyed by the snapshot's tag, evicted oldest first past a size
//! bound.

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::body::Bytes;
use axum::http::HeaderValue;
use rustc_hash::FxHashMap;

/// The default size bound of the tile cache.
pub const CACHE_BYTES: usize = 256 << 20;

/// The snapshot's tag (hashed), the layers in their order, and the tile.
pub type Key = (u64, u32, u8, u32, u32);

/// An encoded tile, ready to answer with.
#[derive(Debug, Clone)]
pub struct Cached {
    pub body: Bytes,
    /// The body gzipped, once, when a client first took gzip (never for an empty tile).
    pub gzip: Option<Bytes>,
    pub etag: HeaderValue,
    /// What its size bound cost (`simplified_by=8,parcels=12,spaces=3`), if anything.
    pub dropped: Option<HeaderValue>,
}

/// Encoded tiles, evicted oldest first past a size bound.
#[derive(Debug)]
pub struct TileCache {
    inner: Mutex<(FxHashMap<Key, Cached>, VecDeque<Key>, usize)>,
    cap: usize,
}

impl TileCache {
    #[must_use]
    pub fn new(cap: usize) -> Self {
        Self { inner: Mutex::new((FxHashMap::default(), VecDeque::new(), 0)), cap }
    }

    pub fn get(&self, k: &Key) -> Option<Cached> {
        self.inner.lock().ok()?.0.get(k).cloned()
    }

    /// Adds the gzipped body to a tile still cached.
    pub fn set_gzip(&self, k: &Key, gz: Bytes) {
        let Ok(mut g) = self.inner.lock() else { return };
        let (map, order, size) = &mut *g;
        if let Some(c) = map.get_mut(k)
            && c.gzip.is_none()
        {
            *size += gz.len();
            c.gzip = Some(gz);
        }
        while *size > self.cap {
            let Some(old) = order.pop_front() else { break };
            if let Some(b) = map.remove(&old) {
                *size -= b.body.len() + b.gzip.as_ref().map_or(0, Bytes::len);
            }
        }
    }

    pub fn put(&self, k: Key, v: Cached) {
        let Ok(mut g) = self.inner.lock() else { return };
        let (map, order, size) = &mut *g;
        let bytes = v.body.len() + v.gzip.as_ref().map_or(0, Bytes::len);
        if bytes > self.cap || map.contains_key(&k) {
            return;
        }
        *size += bytes;
        order.push_back(k);
        map.insert(k, v);
        while *size > self.cap {
            let Some(old) = order.pop_front() else { break };
            if let Some(b) = map.remove(&old) {
                *size -= b.body.len() + b.gzip.as_ref().map_or(0, Bytes::len);
            }
        }
    }
}

//! How fast reports may be posted: a token bucket per reporting token and per client address
//! (`posts_per_minute` of the rules' `[reports]`), so a client posting in a tight loop is
//! answered 429 with the seconds to wait, not silently accepted, while a burst of a few reports
//! from a walk goes through. The buckets of clients idle for a while are forgotten, so the map
//! stays small whatever the number of addresses.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets kept before the idle ones are forgotten.
const KEPT: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every key.
#[derive(Debug, Default)]
pub struct PostLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl PostLimiter {
    /// Takes a post for each of `keys` at `now` (all or none), at most `per_minute` a minute
    /// each (0: no limit); the seconds to wait when one of them is empty.
    pub fn take(&self, keys: &[String], per_minute: u32, now: Instant) -> Result<(), u64> {
        if per_minute == 0 {
            return Ok(());
        }
        let (capacity, per_s) = (f64::from(per_minute), f64::from(per_minute) / 60.0);
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > KEPT {
            buckets.retain(|_, b| now.duration_since(b.at) < Duration::from_mins(2));
        }
        let filled = |b: Option<&Bucket>| {
            b.map_or(capacity, |b| (b.tokens + now.duration_since(b.at).as_secs_f64() * per_s).min(capacity))
        };
        let short = keys.iter().map(|k| filled(buckets.get(k))).fold(f64::INFINITY, f64::min);
        if short < 1.0 {
            return Err(((1.0 - short) / per_s).ceil().max(1.0) as u64);
        }
        for k in keys {
            let tokens = filled(buckets.get(k)) - 1.0;
            buckets.insert(k.clone(), Bucket { tokens, at: now });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_a_loop_waits_and_the_keys_are_apart() {
        let l = PostLimiter::default();
        let t0 = Instant::now();
        let k = |s: &str| vec![s.to_owned()];
        for _ in 0..30 {
            assert_eq!(l.take(&k("token:a"), 30, t0), Ok(()));
        }
        assert_eq!(l.take(&k("token:a"), 30, t0), Err(2));
        // Another key is not slowed; two seconds give one more post.
        assert_eq!(l.take(&k("token:b"), 30, t0), Ok(()));
        assert_eq!(l.take(&k("token:a"), 30, t0 + Duration::from_secs(2)), Ok(()));
        assert_eq!(l.take(&k("token:a"), 30, t0 + Duration::from_secs(2)), Err(2));
        // All or none: an empty bucket keeps the others full.
        let both = vec!["token:a".to_owned(), "addr:192.0.2.1".to_owned()];
        assert_eq!(l.take(&both, 30, t0 + Duration::from_secs(2)), Err(2));
        assert_eq!(l.take(&k("addr:192.0.2.1"), 30, t0 + Duration::from_secs(2)), Ok(()));
        assert_eq!(l.take(&k("x"), 0, t0), Ok(()));
    }
}

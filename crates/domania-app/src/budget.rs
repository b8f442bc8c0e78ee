//! How long a piece of heavy work (a scenario) may run, and whether the person who asked for it
//! is still waiting: the work looks at its [`Budget`] as it goes and stops when the deadline
//! passes or the request is dropped (the client went away, or the server's time limit
//! answered), instead of computing on for nobody.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::{AppError, ErrorCode};

/// A deadline and a cancellation flag.
#[derive(Debug, Clone)]
pub struct Budget {
    deadline: Option<Instant>,
    limit: Option<Duration>,
    cancelled: Arc<AtomicBool>,
}

impl Budget {
    /// No deadline (the command line: the person is at the terminal, Ctrl-C stops).
    #[must_use]
    pub fn unlimited() -> Self {
        Self { deadline: None, limit: None, cancelled: Arc::new(AtomicBool::new(false)) }
    }

    /// At most `limit` from now.
    #[must_use]
    pub fn within(limit: Duration) -> Self {
        Self { deadline: Some(Instant::now() + limit), limit: Some(limit), cancelled: Arc::new(AtomicBool::new(false)) }
    }

    /// A guard that cancels the work when dropped (held by the request that waits for it).
    #[must_use]
    pub fn cancel_on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(Arc::clone(&self.cancelled))
    }

    /// Whether the work may go on.
    #[must_use]
    pub fn go_on(&self) -> bool {
        !self.cancelled.load(Ordering::Relaxed) && self.deadline.is_none_or(|d| Instant::now() < d)
    }

    /// The error of work stopped by this budget.
    #[must_use]
    pub fn stopped(&self) -> AppError {
        let message = if self.cancelled.load(Ordering::Relaxed) {
            "the request was abandoned: the work was stopped, nothing was changed".to_owned()
        } else {
            format!(
                "the work took longer than {} s and was stopped; nothing was changed (make it smaller)",
                self.limit.map_or(0, |l| l.as_secs())
            )
        };
        AppError::new(ErrorCode::Timeout, message)
    }
}

/// Cancels its budget's work when dropped.
#[derive(Debug)]
pub struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_stops_at_its_deadline_or_when_its_asker_leaves() {
        let b = Budget::within(Duration::from_mins(1));
        assert!(b.go_on());
        drop(b.cancel_on_drop());
        assert!(!b.go_on());
        assert!(b.stopped().message().contains("abandoned"));
        let b = Budget::within(Duration::ZERO);
        assert!(!b.go_on());
        assert_eq!(b.stopped().code(), ErrorCode::Timeout);
        assert!(Budget::unlimited().go_on());
    }
}

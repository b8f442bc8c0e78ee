//! The server's connections: its own accept loop, so that no client can starve it.
//!
//! - **A cap on open connections** ([`ConnectionLimits::max`]), kept below the process's
//!   descriptor limit (raised to its hard limit at start, see [`raise_descriptor_limit`]) so the
//!   server can always open its store. When the cap is reached a new connection is still
//!   accepted: the connection that has waited longest without completing a request is closed
//!   first (a half-sent request, a client that connected and said nothing), then the one idle
//!   longest between requests. A connection whose request is being answered is never closed for
//!   another; when every connection is busy, the new one is answered 503 with `Retry-After`.
//! - **Timeouts**: a request's header must arrive within [`ConnectionLimits::header_timeout`]
//!   of the connection's opening or of the previous answer (hyper's header-read timer, which also
//!   closes idle keep-alive connections), and a request body may not pause longer than
//!   [`ConnectionLimits::body_timeout`] between two pieces.
//! - **Stopping**: on SIGTERM or Ctrl-C the listener closes, connections finish the request
//!   under way, and after [`ConnectionLimits::grace`] whatever still runs is abandoned (an
//!   import under way is then rolled back by its store, never half-written).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt as _;

/// The limits of the connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// The most connections open at once (lowered to what the descriptor limit allows).
    pub max: usize,
    /// The longest wait for a request's header, from the connection's opening or the previous
    /// answer.
    pub header_timeout: Duration,
    /// The longest pause inside a request body.
    pub body_timeout: Duration,
    /// How long requests under way may finish after SIGTERM.
    pub grace: Duration,
}

/// The cap on connections by default.
pub const MAX_CONNECTIONS: usize = 4096;
/// Descriptors kept for the store, its temporary files and the process itself.
pub const RESERVED_DESCRIPTORS: u64 = 256;

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max: MAX_CONNECTIONS,
            header_timeout: Duration::from_secs(15),
            body_timeout: Duration::from_secs(30),
            grace: Duration::from_secs(30),
        }
    }
}

/// Raises the process's limit of open descriptors to its hard limit; returns the limit now in
/// force (`None` if it cannot be read).
#[must_use]
pub fn raise_descriptor_limit() -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if let Some(hard) = limit.maximum
        && limit.current.is_some_and(|soft| soft < hard)
    {
        limit.current = Some(hard);
        if setrlimit(Resource::Nofile, limit).is_err() {
            limit = getrlimit(Resource::Nofile);
        }
    }
    limit.current
}

/// The cap actually used: the one asked for, below the descriptor limit less a reserve.
#[must_use]
pub fn effective_cap(asked: usize, descriptors: Option<u64>) -> usize {
    let room = descriptors
        .map_or(usize::MAX, |d| usize::try_from(d.saturating_sub(RESERVED_DESCRIPTORS)).unwrap_or(usize::MAX));
    asked.min(room).max(1)
}

/// One open connection, as the cap sees it.
struct Conn {
    opened: Instant,
    /// Requests being answered (more than one on HTTP/2).
    busy: AtomicU32,
    /// Requests answered.
    served: AtomicU32,
    /// When the last answer ended, in milliseconds since the registry's start.
    last_ms: AtomicU64,
    /// Told to close.
    close: Notify,
}

impl Conn {
    /// Since when the connection has been waiting for a request: its opening, or the end of
    /// its last answer (while answering, that answer's start is no older than this).
    fn quiet_since(&self, start: Instant) -> Instant {
        if self.served.load(Ordering::Acquire) == 0 {
            self.opened
        } else {
            start + Duration::from_millis(self.last_ms.load(Ordering::Acquire))
        }
    }
}

/// The open connections.
struct Registry {
    start: Instant,
    /// One permit per connection the cap allows, given back once its socket is closed.
    slots: Arc<Semaphore>,
    next: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Conn>>>,
    /// Told when the last connection closes (shutdown waits for it).
    emptied: Notify,
}

/// How long a new connection waits for the one closed to make room for it.
const ROOM_WAIT: Duration = Duration::from_secs(1);

impl Registry {
    fn new(cap: usize) -> Self {
        Self {
            start: Instant::now(),
            slots: Arc::new(Semaphore::new(cap)),
            next: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
            emptied: Notify::new(),
        }
    }

    /// A slot for a new connection: a free one, else the one a connection closed for it
    /// gives back; `None` when every connection is answering a request.
    async fn room(&self) -> Option<OwnedSemaphorePermit> {
        if let Ok(p) = Arc::clone(&self.slots).try_acquire_owned() {
            return Some(p);
        }
        if !self.evict() {
            return None;
        }
        tokio::time::timeout(ROOM_WAIT, Arc::clone(&self.slots).acquire_owned()).await.ok()?.ok()
    }

    /// Tells the connection chosen by [`Registry::victim`] to close; whether there was one.
    fn evict(&self) -> bool {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(id) = Self::victim(&open) else { return false };
        if let Some(c) = open.remove(&id) {
            c.close.notify_one();
        }
        true
    }

    /// Records a new connection.
    fn admit(&self) -> (u64, Arc<Conn>) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            opened: Instant::now(),
            busy: AtomicU32::new(0),
            served: AtomicU32::new(0),
            last_ms: AtomicU64::new(0),
            close: Notify::new(),
        });
        open.insert(id, Arc::clone(&conn));
        (id, conn)
    }

    /// The connection to close for a new one: among those not answering, the one that waited
    /// longest without completing a request, else the one idle longest.
    fn victim(open: &HashMap<u64, Arc<Conn>>) -> Option<u64> {
        open.iter()
            .filter(|(_, c)| c.busy.load(Ordering::Acquire) == 0)
            .min_by_key(|(_, c)| {
                let served = c.served.load(Ordering::Acquire);
                // Never served first (oldest opening first), then idle (oldest answer first).
                (served > 0, if served == 0 { 0 } else { c.last_ms.load(Ordering::Acquire) }, c.opened)
            })
            .map(|(id, _)| *id)
    }

    fn leave(&self, id: u64) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.remove(&id);
        if open.is_empty() {
            self.emptied.notify_waiters();
        }
    }

    fn count(&self) -> usize {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// Marks a connection busy while an answer is being made and sent (it travels in the
/// answer's body, so a long download counts as busy until its last byte).
struct Busy {
    conn: Arc<Conn>,
    start: Instant,
}

impl Busy {
    fn new(conn: Arc<Conn>, start: Instant) -> Self {
        conn.busy.fetch_add(1, Ordering::AcqRel);
        Self { conn, start }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.conn.last_ms.store(ms, Ordering::Release);
        self.conn.served.fetch_add(1, Ordering::AcqRel);
        self.conn.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An answer's body carrying its connection's [`Busy`] mark.
struct Marked {
    inner: Body,
    _busy: Busy,
}

impl hyper::body::Body for Marked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// What a connection refused for want of room is told: a 503 with the one JSON error.
fn full() -> Vec<u8> {
    let body = crate::error::Body {
        code: domania_app::ErrorCode::Busy.as_str(),
        message: "every connection is answering a request: try again in a moment",
        details: None,
    };
    let body = serde_json::to_string(&body).unwrap_or_default();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        crate::error::RETRY_AFTER_S,
        body.len()
    )
    .into_bytes()
}

/// Serves `router` on `listener` within `limits` until `stop` resolves, then lets the requests
/// under way finish for at most the grace period.
///
/// # Errors
/// The listener's address cannot be read.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let registry = Arc::new(Registry::new(limits.max));
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    builder.http2().timer(TokioTimer::new()).keep_alive_interval(Some(limits.header_timeout));
    let builder = Arc::new(builder);
    let mut stop = pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_error(&e).await;
                    continue;
                }
            },
        };
        let Some(slot) = registry.room().await else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let (id, conn) = registry.admit();
        let task = Connection {
            id,
            conn,
            peer,
            registry: Arc::clone(&registry),
            router: router.clone(),
            builder: Arc::clone(&builder),
            closing: closing_rx.clone(),
            header_timeout: limits.header_timeout,
            body_timeout: limits.body_timeout,
        };
        tokio::spawn(task.run(stream, slot));
    }
    drop(listener);
    let open = registry.count();
    tracing::info!(
        open,
        grace_s = limits.grace.as_secs(),
        "stopping: no new connections; finishing the requests under way"
    );
    let _ = closing_tx.send(true);
    let emptied = registry.emptied.notified();
    if registry.count() > 0 && tokio::time::timeout(limits.grace, emptied).await.is_err() {
        tracing::warn!(open = registry.count(), "the grace period is over: the requests still under way are abandoned");
    }
    Ok(())
}

/// A transient accept error (the peer left) is ignored; running out of descriptors or memory
/// is logged and waited out.
async fn accept_error(e: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!("accepting a connection: {e}");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(&full())).await;
    let _ = stream.shutdown().await;
}

/// One accepted connection.
struct Connection {
    id: u64,
    conn: Arc<Conn>,
    peer: SocketAddr,
    registry: Arc<Registry>,
    router: Router,
    builder: Arc<Builder<TokioExecutor>>,
    closing: watch::Receiver<bool>,
    header_timeout: Duration,
    body_timeout: Duration,
}

impl Connection {
    /// Serves the connection; its slot is given back once the socket is closed.
    async fn run(mut self, stream: TcpStream, slot: OwnedSemaphorePermit) {
        let (conn, peer, router, body_timeout) =
            (Arc::clone(&self.conn), self.peer, self.router.clone(), self.body_timeout);
        let start = self.registry.start;
        let service = tower::service_fn(move |request: Request<Incoming>| {
            let busy = Busy::new(Arc::clone(&conn), start);
            let mut request = request.map(|b| Body::new(tower_http::timeout::TimeoutBody::new(body_timeout, b)));
            request.extensions_mut().insert(ConnectInfo(peer));
            let router = router.clone();
            async move {
                let response: Response = router.oneshot(request).await.unwrap_or_else(|e: Infallible| match e {});
                Ok::<_, Infallible>(response.map(|inner| Body::new(Marked { inner, _busy: busy })))
            }
        });
        {
            let io = TokioIo::new(stream);
            let connection = self.builder.serve_connection_with_upgrades(io, TowerToHyperService::new(service));
            let mut connection = pin!(connection);
            let mut closing = *self.closing.borrow();
            loop {
                if closing {
                    connection.as_mut().graceful_shutdown();
                }
                let quiet = self.conn.quiet_since(start);
                // While answering, looked at again a timeout later.
                let wake = if self.conn.busy.load(Ordering::Acquire) > 0 {
                    Instant::now() + self.header_timeout
                } else {
                    quiet + self.header_timeout
                };
                tokio::select! {
                    _ = connection.as_mut() => break,
                    // Closed for a newer connection: it was answering nothing.
                    () = self.conn.close.notified() => break,
                    // Nothing asked since it opened or since the last answer (hyper's own
                    // timer starts only once the first bytes came): closed.
                    () = tokio::time::sleep_until(wake.into()) => {
                        if self.conn.busy.load(Ordering::Acquire) == 0 && self.conn.quiet_since(start) == quiet {
                            break;
                        }
                    }
                    changed = self.closing.changed(), if !closing => {
                        closing = changed.is_err() || *self.closing.borrow();
                    }
                }
            }
        }
        self.registry.leave(self.id);
        drop(slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_stays_below_the_descriptor_limit() {
        assert_eq!(effective_cap(4096, Some(1024)), 768);
        assert_eq!(effective_cap(4096, Some(1 << 20)), 4096);
        assert_eq!(effective_cap(4096, None), 4096);
        assert_eq!(effective_cap(4096, Some(10)), 1);
    }

    #[test]
    fn the_connection_closed_first_is_the_oldest_that_never_finished_a_request() {
        let r = Registry::new(3);
        let (a, ca) = r.admit();
        let (b, _) = r.admit();
        let (_, cc) = r.admit();
        // `a` has answered a request and is idle; `b` never sent one; `c` is answering.
        drop(Busy::new(Arc::clone(&ca), r.start));
        let busy = Busy::new(Arc::clone(&cc), r.start);
        assert_eq!(Registry::victim(&r.open.lock().unwrap()), Some(b));
        assert!(r.evict());
        assert!(!r.open.lock().unwrap().contains_key(&b));
        let (d, cd) = r.admit();
        assert_eq!(Registry::victim(&r.open.lock().unwrap()), Some(d), "the newcomer has not finished a request yet");
        // Once it has, the one idle longest goes first; the busy one never.
        drop(Busy::new(cd, r.start));
        assert_eq!(Registry::victim(&r.open.lock().unwrap()), Some(a));
        drop(busy);
    }

    #[test]
    fn when_every_connection_is_answering_none_is_closed_for_a_new_one() {
        let r = Registry::new(1);
        let (_, c) = r.admit();
        let _busy = Busy::new(c, r.start);
        assert!(!r.evict());
    }

    #[tokio::test]
    async fn a_slot_is_free_or_made_free() {
        let r = Arc::new(Registry::new(1));
        let first = r.room().await.expect("a free slot");
        let (id, conn) = r.admit();
        // The connection closes when told, giving its slot back.
        let closer = {
            let r = Arc::clone(&r);
            tokio::spawn(async move {
                conn.close.notified().await;
                r.leave(id);
                drop(first);
            })
        };
        assert!(r.room().await.is_some(), "the idle connection made room");
        closer.await.unwrap();
    }
}

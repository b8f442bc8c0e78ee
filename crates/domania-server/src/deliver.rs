//! The server's deliverer: every second, the messages of service requests that are due are
//! sent (`Desk::deliver_due`, off the async workers), so a service hears of a request within a
//! second or two of its post, and a failed message is tried again as its schedule says. The
//! webhooks' messages are always sent; without `DOMANIA_SMTP_URL` the emails stay queued
//! (listed by `domania requests deliveries`), and a server started later with it sends them.

use std::sync::Arc;
use std::time::Duration;

use domania_app::requests::notify::Mailer;

use crate::state::Shared;

/// The most messages one pass sends.
const PER_PASS: usize = 50;

/// The longest a stopping server waits for the pass under way (an SMTP exchange, bounded by
/// the mailer's own timeouts).
const FINISH: Duration = Duration::from_secs(30);

/// The running deliverer.
pub struct Deliverer {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Deliverer {
    /// Stops after the pass under way: a message handed to the mail server is recorded as sent
    /// before the server exits (else a later server would send it again after its lease).
    pub async fn finish(self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(FINISH, self.task).await.is_err() {
            tracing::warn!("the deliverer did not finish its pass in time");
        }
    }
}

/// Starts the deliverer.
///
/// # Errors
/// A mail configuration that does not do (said before the server starts).
pub fn spawn(shared: &Arc<Shared>, base: String) -> domania_app::Result<Deliverer> {
    let mailer = Mailer::from_env()?;
    if let Some(m) = &mailer {
        tracing::info!(mailer = ?m, "sending the messages of service requests");
    } else {
        tracing::info!("no DOMANIA_SMTP_URL: emails are queued, not sent (webhooks are)");
    }
    let (shared, mailer) = (Arc::clone(shared), Arc::new(mailer));
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // Stopping is heard between passes, never in the middle of one.
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopped.changed() => break,
            }
            let (s, m, b) = (Arc::clone(&shared), Arc::clone(&mailer), base.clone());
            let pass = tokio::task::spawn_blocking(move || {
                s.desk.deliver_due(&s.current(), m.as_ref().as_ref(), &b, PER_PASS)
            })
            .await;
            match pass {
                Ok(Ok(p)) if p.sent + p.failed + p.given_up > 0 => {
                    tracing::info!(sent = p.sent, failed = p.failed, given_up = p.given_up, "messages");
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!("delivering messages: {e}"),
                Err(e) => tracing::error!("the deliverer stopped: {e}"),
            }
            if *stopped.borrow() {
                break;
            }
        }
    });
    Ok(Deliverer { stop, task })
}

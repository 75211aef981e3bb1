//! Whether the database answers, for the health component `<service>.database`
//! (`metrics.database`, `lifecycle.database`): a probe every
//! [`PROBE_EVERY`] that must be answered within [`PROBE_TIMEOUT`]. A service
//! keeps serving through an outage (requests answer `UNAVAILABLE`, the pool
//! reconnects by itself), so the outage shows here, for alerting, and not in
//! the service's own health, which the liveness and readiness probes read: a
//! database restart must not restart or unroute every replica.

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;

use crate::Shutdown;

/// How often the database is probed.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);
/// How long a probe may take (a connection from the pool, then `SELECT 1`)
/// before the database counts as down.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Starts probing; the receiver holds whether the last probe was answered
/// (true until the first one fails). Stops on shutdown.
pub fn watch(pool: PgPool, shutdown: Shutdown) -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(true);
    tokio::spawn(async move {
        loop {
            let up = probe(&pool).await;
            tx.send_if_modified(|last| {
                if *last == up {
                    return false;
                }
                if up {
                    tracing::info!("the database answers again");
                } else {
                    tracing::warn!(
                        timeout_ms = PROBE_TIMEOUT.as_millis() as u64,
                        "the database does not answer"
                    );
                }
                *last = up;
                true
            });
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = tokio::time::sleep(PROBE_EVERY) => {}
            }
        }
    });
    rx
}

/// One probe: true when `SELECT 1` is answered in time.
async fn probe(pool: &PgPool) -> bool {
    let answered = tokio::time::timeout(PROBE_TIMEOUT, async {
        sqlx::query_scalar::<_, i32>("SELECT 1")
            .fetch_one(pool)
            .await
    })
    .await;
    matches!(answered, Ok(Ok(1)))
}

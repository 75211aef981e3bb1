//! The background fold: pending activity folded into the bitmaps
//! (`crate::repo::cohorts::fold`) off the ingest path, whenever events are
//! committed.

use std::time::Duration;

use growth_runtime::Shutdown;
use tokio::sync::watch;

use crate::repo::cohorts::fold::fold;
use crate::repo::{DbError, Pool};

/// How often the background task folds without being woken.
const IDLE_FOLD: Duration = Duration::from_secs(5);
/// The least time between two background folds: under steady ingest a fold
/// then takes many batches at once, and a user active in several of them is
/// written once.
const GATHER: Duration = Duration::from_millis(500);
/// How long it waits after a failed fold.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Folds in the background: at start (what a previous process left), each
/// time `woken` changes (events were committed, by any process), and every
/// few seconds regardless. Stops on shutdown.
pub fn spawn(pool: Pool, mut woken: watch::Receiver<u64>, shutdown: Shutdown) {
    tokio::spawn(async move {
        loop {
            match fold(&pool).await {
                Ok(changed) => tracing::trace!(changed, "activity folded"),
                Err(DbError::PoolClosed) => return,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_ms = RETRY_AFTER.as_millis() as u64, "folding pending activity failed; it stays pending");
                    tokio::select! {
                        _ = shutdown.wait() => return,
                        _ = tokio::time::sleep(RETRY_AFTER) => continue,
                    }
                }
            }
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = tokio::time::sleep(GATHER) => {}
            }
            tokio::select! {
                _ = shutdown.wait() => return,
                changed = woken.changed() => if changed.is_err() { return },
                _ = tokio::time::sleep(IDLE_FOLD) => {}
            }
        }
    });
}

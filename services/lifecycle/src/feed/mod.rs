//! The event-driven path: one replica at a time (the holder of an advisory
//! lock) follows the metrics service's `WatchEvents` feed from the cursor
//! stored in `lifecycle.feed_cursors`, re-evaluates the users each batch of
//! events touches, and commits their new state together with the new cursor
//! (a compare-and-set on the old one). A crash re-processes the last batch
//! and never skips one; re-processing finds the stages already changed and
//! changes nothing twice.
//!
//! While metrics is unreachable the consumer retries with backoff and jitter;
//! the service keeps serving and reports the feed as degraded: health
//! component `lifecycle.feed` NOT_SERVING, gauge `lifecycle_feed_state` 2.

mod consumer;

use std::time::Duration;

pub use consumer::spawn;

/// Tunables of the feed consumer.
#[derive(Debug, Clone)]
pub struct FeedConfig {
    /// The cursor row's name.
    pub consumer: String,
    /// Longest wait for more events before a partial batch is processed.
    pub batch_wait: Duration,
    /// Most events per batch (one transaction).
    pub max_batch: usize,
    /// Longest backoff between reconnects.
    pub max_backoff: Duration,
    /// How often a standby replica tries to become the leader, and how often
    /// the leader checks it still is.
    pub leader_check: Duration,
}

impl Default for FeedConfig {
    fn default() -> Self {
        Self {
            consumer: "stage-updater".to_owned(),
            batch_wait: Duration::from_millis(200),
            max_batch: 2_000,
            max_backoff: Duration::from_secs(30),
            leader_check: Duration::from_secs(2),
        }
    }
}

/// Where the consumer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedState {
    /// Another replica leads; this one waits.
    Standby,
    /// Leading and following the feed.
    Following,
    /// Cannot follow: metrics or the database is unreachable; retrying.
    Degraded,
}

impl FeedState {
    /// The `lifecycle_feed_state` gauge's value.
    pub fn gauge(self) -> f64 {
        match self {
            FeedState::Standby => 0.0,
            FeedState::Following => 1.0,
            FeedState::Degraded => 2.0,
        }
    }
}

//! What the RPCs, the feed consumer and the bulk evaluation share.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::domain::Tuning;
use crate::repo::Pool;
use crate::upstream::Metrics;

/// The lifecycle service's shared state.
#[derive(Clone)]
pub struct Lifecycle {
    /// The `lifecycle` schema.
    pub pool: Pool,
    /// The metrics service.
    pub metrics: Metrics,
    /// Scoring weights and stage thresholds.
    pub tuning: Arc<Tuning>,
    /// Wakes the outbox worker after a commit that queued deliveries.
    pub outbox: Arc<Notify>,
}

impl Lifecycle {
    /// Wakes the outbox worker if `queued` > 0.
    pub fn queued(&self, queued: u64) {
        if queued > 0 {
            self.outbox.notify_one();
        }
    }
}

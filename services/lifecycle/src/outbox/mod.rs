//! The Kit outbox worker. Deliveries are queued in the transaction that
//! records their transition; this worker sends them to Kit.
//!
//! Exactly once, step by step:
//! 1. A row is claimed (`sending`, a lease, the attempt counted) and that is
//!    committed **before** the request goes out. Replicas claim with
//!    `SKIP LOCKED`, so no two send one row at once.
//! 2. Kit accepts → `delivered`; a delivered row is never sent again.
//! 3. Kit refuses (4xx) → `dead` at once with Kit's error: retrying cannot
//!    help (fix the rule or the account, then `RetryDelivery`).
//! 4. Kit answers 429/5xx → `pending` again after an exponential backoff,
//!    never sooner than `Retry-After`; a 429 also pauses the whole worker
//!    (Kit's limit is per account). After `max_attempts` → `dead`.
//! 5. No answer (a timeout), or the worker died while `sending` (its lease
//!    expires) → the outcome is unknown. Before the next attempt the worker
//!    asks Kit whether the effect is already there (tags); if so the row is
//!    marked delivered without sending. Sequences and forms cannot be asked
//!    about, and Kit dedupes those itself (see `crate::kit`).
//! 6. Without a Kit API key, due rows become `skipped_no_credentials`,
//!    visible in `ListTriggerDeliveries`; `RetryDelivery` queues them again
//!    once a key is configured.

mod worker;

use std::time::Duration;

pub use worker::{deliver_due, spawn};

/// Tunables of the outbox worker.
#[derive(Debug, Clone)]
pub struct OutboxConfig {
    /// Attempts before a row is parked as dead.
    pub max_attempts: i32,
    /// First retry delay; doubles per attempt, capped at an hour.
    pub retry_base: Duration,
    /// How often the worker looks for due rows without being woken.
    pub poll_interval: Duration,
    /// How long a claim lasts; a `sending` row older than this belonged to a
    /// worker that died. Must exceed the Kit request timeout.
    pub lease: Duration,
    /// Rows claimed per round.
    pub batch: i64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            retry_base: Duration::from_secs(30),
            poll_interval: Duration::from_secs(5),
            lease: Duration::from_secs(120),
            batch: 20,
        }
    }
}

/// The wait before the next attempt after `attempts` failures, at least
/// `retry_after`.
pub fn backoff(config: &OutboxConfig, attempts: i32, retry_after: Option<Duration>) -> Duration {
    growth_runtime::backoff::outbox_delay(config.retry_base, attempts - 1, retry_after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_respects_retry_after() {
        let c = OutboxConfig::default();
        assert_eq!(backoff(&c, 1, None), Duration::from_secs(30));
        assert_eq!(backoff(&c, 3, None), Duration::from_secs(120));
        assert_eq!(backoff(&c, 30, None), Duration::from_secs(3600));
        assert_eq!(
            backoff(&c, 1, Some(Duration::from_secs(90))),
            Duration::from_secs(90)
        );
    }
}

//! The Kit outbox. Deliveries are queued in the transaction that records
//! their transition; the runtime's outbox kit ([`growth_runtime::outbox`])
//! sends them to Kit, through [`worker::KitChannel`].
//!
//! Exactly once, step by step:
//! 1. One row is claimed (`sending`, a lease held by the worker's session)
//!    and that is committed **before** the request goes out. Replicas claim
//!    with `SKIP LOCKED`, so no two send one row at once, and a crash strands
//!    the one row being sent, never a batch.
//! 2. Kit accepts → `delivered`; a delivered row is never sent again.
//! 3. Kit refuses (4xx) → `dead` at once with Kit's error: retrying cannot
//!    help (fix the rule or the account, then `RetryDelivery`).
//! 4. Kit answers 429/5xx → `pending` again after a backoff with full jitter,
//!    never sooner than `Retry-After`; a 429 also pauses the whole worker
//!    (Kit's limit is per account). After `max_attempts` → `dead`. An
//!    attempt counts when its outcome is recorded: only sent rows count.
//! 5. No answer (a timeout), or the worker died while `sending` (its session
//!    is gone, so the row is taken over at once; or its lease expired) → the
//!    outcome is unknown, and the interrupted attempt counts. Before the next
//!    attempt the worker asks Kit whether the effect is already there (tags);
//!    if so the row is marked delivered without sending. Sequences and forms
//!    cannot be asked about, and Kit dedupes those itself (see `crate::kit`).
//! 6. Without a Kit API key, due rows become `skipped_no_credentials`,
//!    visible in `ListTriggerDeliveries`; `RetryDelivery` queues them again
//!    once a key is configured.

mod worker;

use std::time::Duration;

use growth_runtime::outbox::OutboxPolicy;

pub use worker::{KitChannel, deliver_due, spawn};

/// Tunables of the outbox worker.
#[derive(Debug, Clone)]
pub struct OutboxConfig {
    /// Attempts before a row is parked as dead.
    pub max_attempts: i32,
    /// First retry delay: the ceiling doubles per attempt, capped at an
    /// hour, and the wait is drawn below it (full jitter).
    pub retry_base: Duration,
    /// How often the worker looks for due rows without being woken.
    pub poll_interval: Duration,
    /// The longest one delivery (lookup, upsert and action) may take; then
    /// its outcome is unknown.
    pub send_timeout: Duration,
    /// How long a claim lasts while its holder's session lives on; a
    /// `sending` row older than this belonged to a stuck worker. Must exceed
    /// `send_timeout`.
    pub lease: Duration,
    /// Rows delivered per round.
    pub batch: usize,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            retry_base: Duration::from_secs(30),
            poll_interval: Duration::from_secs(5),
            send_timeout: Duration::from_secs(61),
            lease: Duration::from_secs(120),
            batch: 20,
        }
    }
}

impl OutboxConfig {
    /// The outbox kit's policy: a `Retry-After` pauses the whole worker.
    pub fn policy(&self) -> OutboxPolicy {
        OutboxPolicy {
            poll_interval: self.poll_interval,
            lease: self.lease.max(self.send_timeout + Duration::from_secs(1)),
            batch: self.batch.max(1),
            pause_on_retry_after: true,
            ..OutboxPolicy::new(self.max_attempts, self.retry_base, self.send_timeout)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_respects_retry_after() {
        let policy = OutboxConfig::default().policy();
        assert_eq!(policy.backoff.ceiling(0), Duration::from_secs(30));
        assert_eq!(policy.backoff.ceiling(2), Duration::from_secs(120));
        assert_eq!(policy.backoff.ceiling(29), Duration::from_secs(3600));
        let ninety = Some(Duration::from_secs(90));
        assert!(policy.backoff.delay(0, ninety) >= Duration::from_secs(90));
        assert!(policy.pause_on_retry_after);
        assert!(policy.lease > policy.send_timeout);
    }
}

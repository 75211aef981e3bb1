//! The outbox kit: every side effect on the outside world (a Slack post, a
//! GitHub issue, a Kit action) is written to a table first and delivered from
//! there by this one worker, whatever the channel.
//!
//! One row at a time:
//! 1. **Claim** the first due row: `lease_holder` (this worker's session
//!    key, see [`Holder`]) and `lease_until` are set and committed before
//!    anything is sent. Nothing else is claimed, so a crash strands one row at
//!    most. Replicas claim with `SKIP LOCKED`: no two send one row at once.
//! 2. **Deliver** it outside any transaction, within
//!    [`OutboxPolicy::send_timeout`] (a peer that never answers holds that row
//!    and the worker that long, and no other row).
//! 3. **Record** the outcome, only if this worker still holds the row:
//!    delivered; retry after a backoff with full jitter, never sooner than
//!    the peer's `Retry-After`; or dead (a permanent failure, or the last of
//!    [`OutboxPolicy::max_attempts`]). An attempt is counted when it is
//!    recorded, so only sent rows count.
//! 4. **Take over** a row whose holder is gone: when the holder's session
//!    advisory lock is no longer in `pg_locks` (its process died, its task was
//!    aborted, its connection dropped) or its lease ran out. The interrupted
//!    attempt counts (it may have been sent) and the row is marked
//!    `outcome_unknown`, so a channel that can ask the peer does so before
//!    sending again.
//!
//! A person retries a dead row by setting it `pending` and due (the
//! services' retry paths); the kit needs nothing more.

mod holder;
mod table;
mod worker;

use std::time::Duration;

use growth_proto::backoff::Backoff;

pub use holder::Holder;
pub use table::{Claimed, OutboxTable, Record, SqlTable, TableSpec};
pub use worker::{Deliver, Outcome, Round, deliver_round, spawn};

/// The longest wait between two attempts of a row.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(3600);

/// How an outbox delivers and retries.
#[derive(Clone, Debug)]
pub struct OutboxPolicy {
    /// Attempts before a row is parked as dead.
    pub max_attempts: i32,
    /// The wait between attempts (see [`OutboxPolicy::backoff`]).
    pub backoff: Backoff,
    /// The longest time one delivery may take; then its outcome is unknown.
    pub send_timeout: Duration,
    /// How long a claim lasts if its holder's session outlives the worker
    /// (a hung process); longer than `send_timeout`.
    pub lease: Duration,
    /// Rows delivered per round before the worker looks around again.
    pub batch: usize,
    /// How often the worker looks for due rows without being woken.
    pub poll_interval: Duration,
    /// A `Retry-After` holds the whole channel, not only the row (a rate
    /// limit per account, as Kit's).
    pub pause_on_retry_after: bool,
}

impl OutboxPolicy {
    /// A policy retrying from `retry_base` (doubling, capped at
    /// [`MAX_RETRY_DELAY`]) up to `max_attempts`, with a delivery timeout and
    /// a lease five seconds past it; 20 rows a round, polled every 5 s.
    pub fn new(max_attempts: i32, retry_base: Duration, send_timeout: Duration) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            backoff: Backoff::new(retry_base, MAX_RETRY_DELAY),
            send_timeout,
            lease: send_timeout + Duration::from_secs(5),
            batch: 20,
            poll_interval: Duration::from_secs(5),
            pause_on_retry_after: false,
        }
    }

    /// What to record after the attempt that makes `attempts` in all.
    pub fn record(&self, attempts: i32, outcome: Outcome) -> Record {
        match outcome {
            Outcome::Delivered { reference } => Record::Delivered { reference },
            Outcome::Permanent { error } => Record::Failed {
                error,
                retry_in: None,
                unknown: false,
            },
            Outcome::Retry {
                error,
                retry_after,
                unknown,
            } => Record::Failed {
                error,
                retry_in: (attempts < self.max_attempts).then(|| {
                    let retry = u32::try_from(attempts - 1).unwrap_or(0);
                    self.backoff.delay(retry, retry_after)
                }),
                unknown,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry(retry_after: Option<Duration>) -> Outcome {
        Outcome::Retry {
            error: "503".into(),
            retry_after,
            unknown: false,
        }
    }

    fn wait(record: &Record) -> Option<Duration> {
        match record {
            Record::Failed { retry_in, .. } => *retry_in,
            Record::Delivered { .. } => panic!("not a failure"),
        }
    }

    #[test]
    fn retries_back_off_within_the_doubling_ceiling_and_respect_retry_after() {
        let policy = OutboxPolicy::new(8, Duration::from_secs(30), Duration::from_secs(10));
        assert_eq!(policy.backoff.ceiling(0), Duration::from_secs(30));
        assert_eq!(policy.backoff.ceiling(2), Duration::from_secs(120));
        assert_eq!(policy.backoff.ceiling(30), Duration::from_secs(3600));
        for attempts in 1..8 {
            let ceiling = policy.backoff.ceiling(attempts as u32 - 1);
            let got = wait(&policy.record(attempts, retry(None))).expect("retried");
            assert!(got <= ceiling, "{attempts}: {got:?}");
        }
        let ninety = Some(Duration::from_secs(90));
        let got = wait(&policy.record(1, retry(ninety))).expect("retried");
        assert!(got >= Duration::from_secs(90), "{got:?}");
        assert_eq!(policy.lease, Duration::from_secs(15));
    }

    #[test]
    fn the_last_attempt_and_a_permanent_failure_are_dead() {
        let policy = OutboxPolicy::new(3, Duration::ZERO, Duration::from_secs(1));
        assert_eq!(wait(&policy.record(2, retry(None))), Some(Duration::ZERO));
        assert_eq!(wait(&policy.record(3, retry(None))), None);
        let refused = Outcome::Permanent {
            error: "401".into(),
        };
        assert_eq!(wait(&policy.record(1, refused)), None);
        let delivered = Outcome::Delivered {
            reference: Some("#1".into()),
        };
        assert_eq!(
            policy.record(1, delivered),
            Record::Delivered {
                reference: Some("#1".into())
            }
        );
    }
}

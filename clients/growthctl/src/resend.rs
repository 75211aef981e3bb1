//! Re-sending an ingest batch whose outcome is unknown. An `UNAVAILABLE`
//! (the service or its database is down, perhaps during the commit), a
//! `DEADLINE_EXCEEDED` or a failed exchange (the connection dropped mid-call)
//! does not say whether the batch was stored; the ingest RPCs are idempotent
//! (events by event id, users by user id, payments by `stripe_id`), so the
//! batch is sent again after a wait from the shared backoff
//! ([`growth_proto::backoff`], full jitter), for at most a time budget counted
//! from the batch's first failure. Any other answer is definite and ends the
//! batch at once (`INVALID_ARGUMENT` and every other refusal: nothing of the
//! batch was written).

use std::future::Future;
use std::time::Duration;

use growth_proto::backoff::Backoff;
use tokio::time::Instant;
use tonic::{Code, Status};

/// How long a batch is re-sent by default, in seconds from its first
/// failure (`--retry-for`): long enough for PostgreSQL to restart or fail
/// over, short enough for an hourly CronJob to fail while it still matters.
pub const DEFAULT_RETRY_SECONDS: u64 = 60;

/// The waits between sends: full jitter below 250 ms, 500 ms, 1 s, … up to
/// 5 s; about twenty sends in the default minute.
pub const BACKOFF: Backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(5));

/// Whether `status` leaves the batch's outcome unknown, so that sending it
/// again is the way to find out. A status the client made itself from a
/// failed exchange carries the transport error as its source (one the server
/// sent carries none); it counts as unknown whatever code tonic gave it.
pub fn outcome_unknown(status: &Status) -> bool {
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded => true,
        Code::Unknown | Code::Internal | Code::Cancelled => {
            std::error::Error::source(status).is_some()
        }
        _ => false,
    }
}

/// A send about to be made again.
#[derive(Debug)]
pub struct Retry<'a> {
    /// The number of the coming attempt (2 for the first re-send).
    pub attempt: u32,
    /// The wait before it.
    pub delay: Duration,
    /// What the last attempt got.
    pub status: &'a Status,
}

/// Why a batch was given up.
#[derive(Debug)]
pub enum Failure {
    /// A definite answer: the batch was not written.
    Refused {
        /// The answer.
        status: Status,
        /// Attempts made, this one included.
        attempts: u32,
    },
    /// No answer to rely on within the budget: the batch may or may not be
    /// stored.
    Unknown {
        /// The last attempt's status.
        status: Status,
        /// Attempts made.
        attempts: u32,
        /// Time from the first failure to giving up.
        retried_for: Duration,
    },
}

/// Runs `attempt` until it succeeds, fails definitely, or `budget` (from its
/// first failure) is spent; `on_retry` hears of every re-send before its
/// wait. A zero budget never re-sends.
pub async fn send<T, F, Fut>(
    budget: Duration,
    mut attempt: F,
    mut on_retry: impl FnMut(&Retry<'_>),
) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    let mut attempts = 0;
    let mut first_failure = None;
    loop {
        attempts += 1;
        let status = match attempt().await {
            Ok(value) => return Ok(value),
            Err(status) => status,
        };
        if !outcome_unknown(&status) {
            return Err(Failure::Refused { status, attempts });
        }
        let now = Instant::now();
        let since = *first_failure.get_or_insert(now);
        // A budget past the clock's range never runs out.
        let remaining = since.checked_add(budget).map_or(Duration::MAX, |deadline| {
            deadline.saturating_duration_since(now)
        });
        if remaining.is_zero() {
            return Err(Failure::Unknown {
                status,
                attempts,
                retried_for: now - since,
            });
        }
        let delay = BACKOFF.delay(attempts - 1, None).min(remaining);
        on_retry(&Retry {
            attempt: attempts + 1,
            delay,
            status: &status,
        });
        tokio::time::sleep(delay).await;
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn only_answers_that_leave_the_outcome_open_are_retried() {
        assert!(outcome_unknown(&Status::unavailable("database down")));
        assert!(outcome_unknown(&Status::deadline_exceeded("slow")));
        // The connection failed mid-call: tonic makes the status, with the
        // transport error as its source.
        let transport = Status::from_error(Box::new(std::io::Error::other("connection reset")));
        assert_eq!(transport.code(), Code::Unknown);
        assert!(outcome_unknown(&transport));
        // The same codes sent by the server are definite answers.
        assert!(!outcome_unknown(&Status::unknown("server said so")));
        assert!(!outcome_unknown(&Status::internal("a bug")));
        for code in [
            Code::InvalidArgument,
            Code::Unauthenticated,
            Code::PermissionDenied,
            Code::NotFound,
            Code::AlreadyExists,
            Code::FailedPrecondition,
            Code::ResourceExhausted,
            Code::Aborted,
        ] {
            assert!(!outcome_unknown(&Status::new(code, "no")), "{code:?}");
        }
    }

    #[tokio::test]
    async fn a_batch_is_sent_again_until_it_is_answered() {
        let calls = Cell::new(0);
        let mut retries = Vec::new();
        let result = send(
            Duration::from_secs(30),
            || {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move {
                    if n < 3 {
                        Err(Status::unavailable("down"))
                    } else {
                        Ok(n)
                    }
                }
            },
            |retry| retries.push((retry.attempt, retry.delay)),
        )
        .await;
        assert!(matches!(result, Ok(3)), "{result:?}");
        assert_eq!(retries.len(), 2);
        assert_eq!(retries[0].0, 2);
        assert_eq!(retries[1].0, 3);
        assert!(retries[0].1 <= BACKOFF.ceiling(0));
        assert!(retries[1].1 <= BACKOFF.ceiling(1));
    }

    #[tokio::test]
    async fn a_definite_refusal_is_not_sent_again() {
        let calls = Cell::new(0);
        let result: Result<(), Failure> = send(
            Duration::from_secs(30),
            || {
                calls.set(calls.get() + 1);
                async { Err(Status::invalid_argument("events[0].name: empty")) }
            },
            |_| panic!("no retry"),
        )
        .await;
        assert!(
            matches!(&result, Err(Failure::Refused { status, attempts: 1 }) if status.code() == Code::InvalidArgument),
            "{result:?}"
        );
        assert_eq!(calls.get(), 1);
    }

    #[tokio::test]
    async fn an_answer_that_never_comes_is_given_up_after_the_budget() {
        let started = std::time::Instant::now();
        let budget = Duration::from_millis(600);
        let mut retries = 0;
        let result: Result<(), Failure> = send(
            budget,
            || async { Err(Status::unavailable("down")) },
            |_| retries += 1,
        )
        .await;
        let Err(Failure::Unknown {
            attempts,
            retried_for,
            ..
        }) = result
        else {
            panic!("gives up with an unknown outcome: {result:?}");
        };
        assert_eq!(attempts, retries + 1);
        assert!(attempts >= 2, "re-sent at least once: {attempts}");
        assert!(retried_for >= budget, "{retried_for:?}");
        assert!(started.elapsed() < budget * 3, "{:?}", started.elapsed());

        let mut retries = 0;
        let never: Result<(), Failure> = send(
            Duration::ZERO,
            || async { Err(Status::unavailable("down")) },
            |_| retries += 1,
        )
        .await;
        assert!(matches!(never, Err(Failure::Unknown { attempts: 1, .. })));
        assert_eq!(retries, 0);
    }
}

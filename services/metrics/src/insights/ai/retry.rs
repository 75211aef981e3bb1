//! When to ask the Anthropic API again, and how long to wait: the system's
//! one backoff ([`growth_proto::backoff`], exponential with full jitter),
//! never sooner than `Retry-After` (the one parser,
//! [`growth_proto::retry_after`]), within a bounded number of attempts and
//! a time budget, so that a report is never held up for long by the AI
//! part it can do without.

use std::time::Duration;

use growth_proto::backoff::Backoff;

/// Attempts per summary, the first included.
pub const MAX_ATTEMPTS: u32 = 4;
/// The ceiling of the first retry's wait (it doubles per retry).
pub const BASE_DELAY: Duration = Duration::from_millis(500);
/// The largest ceiling.
pub const MAX_DELAY: Duration = Duration::from_secs(8);
/// A `Retry-After` longer than this ends the attempts at once.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// No retry starts that would begin later than this after the first
/// attempt (waits and earlier attempts included).
pub const TIME_BUDGET: Duration = Duration::from_secs(60);
/// The AI summary's backoff.
const BACKOFF: Backoff = Backoff::new(BASE_DELAY, MAX_DELAY);

/// What to do after a response with `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Read the answer.
    Done,
    /// Ask again, after at least this long (the `Retry-After`) if given.
    Retry(Option<Duration>),
    /// Give up now: asking again would get the same answer.
    Fail,
}

/// Classifies a response: 2xx is done; 429 (rate limited), 529
/// (overloaded), any other 5xx, 408 and 409 are retried; everything else
/// (400, 401, 403, 404, 413…) fails at once.
pub fn decide(status: u16, retry_after: Option<&str>) -> Decision {
    let floor = || growth_proto::retry_after::parse(retry_after, chrono::Utc::now());
    match status {
        200..=299 => Decision::Done,
        408 | 409 | 429 | 500..=599 => Decision::Retry(floor()),
        _ => Decision::Fail,
    }
}

/// The wait before retry number `retry` (0 = the first): full jitter over
/// the exponential ceiling, and at least `floor`.
pub fn delay(retry: u32, floor: Option<Duration>) -> Duration {
    BACKOFF.delay(retry, floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overload_rate_limits_and_server_errors_are_retried_client_errors_are_not() {
        assert_eq!(decide(200, None), Decision::Done);
        assert_eq!(decide(529, None), Decision::Retry(None));
        assert_eq!(decide(503, None), Decision::Retry(None));
        assert_eq!(
            decide(429, Some("7")),
            Decision::Retry(Some(Duration::from_secs(7)))
        );
        for status in [400, 401, 403, 404, 413, 422] {
            assert_eq!(decide(status, Some("1")), Decision::Fail, "{status}");
        }
    }

    #[test]
    fn waits_are_jittered_capped_and_never_before_retry_after() {
        for retry in 0..20 {
            assert!(delay(retry, None) <= MAX_DELAY);
            assert!(delay(retry, Some(Duration::from_secs(1))) >= Duration::from_secs(1));
        }
        assert!(delay(0, None) <= BASE_DELAY);
        let worst: Duration = (0..MAX_ATTEMPTS - 1).map(|r| BACKOFF.ceiling(r)).sum();
        assert!(worst < TIME_BUDGET, "the backoff alone fits the budget");
    }
}

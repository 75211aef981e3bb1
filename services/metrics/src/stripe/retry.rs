//! When to retry a Stripe request and how long to wait: the system's one
//! backoff ([`growth_proto::backoff`], exponential with full jitter), never
//! sooner than `Retry-After` (the one parser, [`growth_proto::retry_after`]),
//! and Stripe's own `Stripe-Should-Retry` verdict when it gives one.

use std::time::Duration;

use growth_proto::backoff::Backoff;

/// First backoff step.
pub const BASE_DELAY: Duration = Duration::from_millis(250);
/// Longest wait between attempts.
pub const MAX_DELAY: Duration = Duration::from_secs(20);
/// Shortest wait between attempts.
const MIN_DELAY: Duration = Duration::from_millis(10);
/// Stripe's backoff.
const BACKOFF: Backoff = Backoff::new(BASE_DELAY, MAX_DELAY);

/// What to do after a response with `status` and headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Use the response.
    Done,
    /// Retry, after at least this long (from `Retry-After`) if given.
    Retry(Option<Duration>),
    /// Fail now.
    Fail,
}

/// Classifies a response.
pub fn decide(status: u16, headers: &reqwest::header::HeaderMap) -> Decision {
    let should_retry = headers
        .get("stripe-should-retry")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.eq_ignore_ascii_case("true"));
    let retry_after = growth_proto::retry_after::parse(
        headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()),
        chrono::Utc::now(),
    )
    .map(|wait| wait.min(MAX_DELAY));
    match (status, should_retry) {
        (200..=299, _) => Decision::Done,
        (_, Some(false)) => Decision::Fail,
        (_, Some(true)) => Decision::Retry(retry_after),
        (409 | 429, None) | (500..=599, None) => Decision::Retry(retry_after),
        _ => Decision::Fail,
    }
}

/// The wait before attempt `attempt` (1 = the first retry): full jitter over
/// an exponential ceiling, never shorter than `floor` (a `Retry-After`).
pub fn delay(attempt: u32, floor: Option<Duration>) -> Duration {
    BACKOFF.delay(attempt, Some(floor.unwrap_or(MIN_DELAY)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn rate_limits_and_server_errors_are_retried_client_errors_are_not() {
        assert_eq!(decide(200, &headers(&[])), Decision::Done);
        assert_eq!(
            decide(429, &headers(&[("retry-after", "2")])),
            Decision::Retry(Some(Duration::from_secs(2)))
        );
        assert_eq!(decide(503, &headers(&[])), Decision::Retry(None));
        assert_eq!(decide(400, &headers(&[])), Decision::Fail);
        assert_eq!(decide(404, &headers(&[])), Decision::Fail);
    }

    #[test]
    fn stripe_should_retry_overrides_the_status() {
        assert_eq!(
            decide(500, &headers(&[("stripe-should-retry", "false")])),
            Decision::Fail
        );
        assert_eq!(
            decide(400, &headers(&[("stripe-should-retry", "true")])),
            Decision::Retry(None)
        );
    }

    #[test]
    fn delays_grow_are_capped_and_respect_retry_after() {
        for attempt in 1..30 {
            let d = delay(attempt, None);
            assert!(d <= MAX_DELAY, "{d:?}");
        }
        assert!(delay(1, Some(Duration::from_secs(3))) >= Duration::from_secs(3));
        assert!(delay(1, None) >= MIN_DELAY);
        assert!(delay(1, None) <= Duration::from_millis(500));
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_a_date_and_capped() {
        let in_a_minute = (chrono::Utc::now() + chrono::Duration::seconds(60))
            .to_rfc2822()
            .replace("+0000", "GMT");
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_str(&in_a_minute).expect("header"),
        );
        assert_eq!(decide(429, &h), Decision::Retry(Some(MAX_DELAY)));
        assert_eq!(
            decide(503, &headers(&[("retry-after", "0.5")])),
            Decision::Retry(Some(Duration::from_millis(500)))
        );
    }
}

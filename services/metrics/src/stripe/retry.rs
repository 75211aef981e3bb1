//! When to retry a Stripe request and how long to wait: exponential backoff
//! with full jitter, overridden by `Retry-After`, and Stripe's own
//! `Stripe-Should-Retry` verdict when it gives one.

use std::time::Duration;

use rand::Rng;

/// First backoff step.
pub const BASE_DELAY: Duration = Duration::from_millis(250);
/// Longest wait between attempts.
pub const MAX_DELAY: Duration = Duration::from_secs(20);

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
    let retry_after = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(MAX_DELAY.as_secs_f64())));
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
    let ceiling = BASE_DELAY
        .saturating_mul(1u32 << attempt.min(16))
        .min(MAX_DELAY);
    let jittered = ceiling.mul_f64(rand::rng().random::<f64>());
    match floor {
        Some(floor) => floor.max(jittered),
        None => jittered.max(Duration::from_millis(10)),
    }
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
    }
}

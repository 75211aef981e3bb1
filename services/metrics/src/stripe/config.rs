//! Stripe settings (each also an environment variable of the service).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// Stripe's documented read limits: 100 requests/s in live mode, 25 in test
/// mode. The defaults stay below them.
pub const LIVE_DEFAULT_RATE: u32 = 80;
/// See [`LIVE_DEFAULT_RATE`].
pub const TEST_DEFAULT_RATE: u32 = 20;
/// How long a request may be rate limited before the run gives up.
pub const DEFAULT_RATE_LIMIT_BUDGET: Duration = Duration::from_secs(300);
/// The API version every request pins.
pub const API_VERSION: &str = "2024-06-20";

/// How to reach Stripe.
#[derive(Clone, Debug)]
pub struct StripeConfig {
    /// `sk_live_…`, `sk_test_…` or a restricted `rk_…` key with read access.
    pub secret_key: SecretString,
    /// API root, e.g. `https://api.stripe.com` (tests use a local fake).
    pub base_url: String,
    /// Requests per second; `None` picks from the key's mode.
    pub rate_per_second: Option<u32>,
    /// Timeout of one request.
    pub timeout: Duration,
    /// Consecutive failed attempts (refused connections, timeouts, 5xx;
    /// counted across all requests, the first included) before giving up.
    pub max_attempts: u32,
    /// How long one request may keep being answered 429 (the client slowing
    /// down all the while) before the run gives up.
    pub rate_limit_budget: Duration,
    /// The most pages of one listing in flight at once: it starts as one
    /// range, cut in two while it runs (see `fetch`).
    pub slices: u32,
}

impl StripeConfig {
    /// Defaults for `key` against `base_url`.
    pub fn new(secret_key: SecretString, base_url: impl Into<String>) -> Self {
        Self {
            secret_key,
            base_url: base_url.into(),
            rate_per_second: None,
            timeout: Duration::from_secs(30),
            max_attempts: 6,
            rate_limit_budget: DEFAULT_RATE_LIMIT_BUDGET,
            slices: 8,
        }
    }

    /// The rate limit in force.
    pub fn rate(&self) -> u32 {
        self.rate_per_second.unwrap_or_else(|| {
            if self.secret_key.expose_secret().contains("_test_") {
                TEST_DEFAULT_RATE
            } else {
                LIVE_DEFAULT_RATE
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_rate_follows_the_key_mode() {
        let test = StripeConfig::new(SecretString::from("sk_test_abc".to_owned()), "http://x");
        assert_eq!(test.rate(), TEST_DEFAULT_RATE);
        let live = StripeConfig::new(SecretString::from("rk_live_abc".to_owned()), "http://x");
        assert_eq!(live.rate(), LIVE_DEFAULT_RATE);
        let set = StripeConfig {
            rate_per_second: Some(5),
            ..live
        };
        assert_eq!(set.rate(), 5);
    }
}

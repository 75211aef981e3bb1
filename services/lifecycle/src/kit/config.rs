//! Kit settings: which API, where, the credentials, the rate limit, the timeout.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::Quota;
use secrecy::SecretString;

/// The v3 API root.
pub const V3_BASE: &str = "https://api.convertkit.com";
/// The v4 API root.
pub const V4_BASE: &str = "https://api.kit.com";
/// Kit's documented limit for an API key: 120 requests in 60 seconds.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 120;
/// Timeout of one HTTP request (connect, send and answer).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// Which Kit API the credentials belong to (v4 keys do not work with v3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KitApi {
    /// `api.convertkit.com/v3`: `api_key` / `api_secret` parameters.
    V3,
    /// `api.kit.com/v4`: the `X-Kit-Api-Key` header.
    V4,
}

impl KitApi {
    /// Kit's production root for this version.
    pub fn default_base(self) -> &'static str {
        match self {
            Self::V3 => V3_BASE,
            Self::V4 => V4_BASE,
        }
    }
}

/// How to reach Kit. `Debug` shows no credential (`secrecy` redacts them).
#[derive(Clone, Debug)]
pub struct KitConfig {
    /// The API version the key belongs to.
    pub api: KitApi,
    /// API root without the version, e.g. `https://api.kit.com` (tests use a
    /// local fake); a trailing slash is ignored.
    pub api_base: String,
    /// v3: the API key; v4: a v4 API key.
    pub api_key: SecretString,
    /// v3 only: the API secret, needed to remove a tag and to look a
    /// subscriber up (so by `verify`).
    pub api_secret: Option<SecretString>,
    /// Requests allowed in any 60-second window (at least 1).
    pub requests_per_minute: u32,
    /// Requests that may leave back to back after an idle spell (1 to
    /// `requests_per_minute`); the steady rate is lowered so that any 60 s
    /// window still holds at most `requests_per_minute`.
    pub burst: u32,
    /// Timeout of one HTTP request.
    pub timeout: Duration,
}

impl KitConfig {
    /// v3 defaults against Kit's production root.
    pub fn v3(api_key: SecretString, api_secret: Option<SecretString>) -> Self {
        Self::new(KitApi::V3, api_key, api_secret)
    }

    /// v4 defaults against Kit's production root.
    pub fn v4(api_key: SecretString) -> Self {
        Self::new(KitApi::V4, api_key, None)
    }

    fn new(api: KitApi, api_key: SecretString, api_secret: Option<SecretString>) -> Self {
        Self {
            api,
            api_base: api.default_base().to_owned(),
            api_key,
            api_secret,
            requests_per_minute: DEFAULT_REQUESTS_PER_MINUTE,
            burst: 1,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The governor quota that keeps every 60-second window at or under
    /// `requests_per_minute` (`n`) with a burst of `b`.
    ///
    /// governor is a GCRA: after a burst of `b` it lets one request through
    /// every period `T`, so a 60 s window can hold `b + ceil(60 s / T) - 1`
    /// requests. `Quota::per_minute(n)` alone (burst `n`, `T` = 60 s / n)
    /// would let almost `2n` through in the first minute, which Kit's rolling
    /// count answers with 429s. Hence `T = 60 s / (n - b + 1)`, rounded up.
    pub fn quota(&self) -> Quota {
        let n = self.requests_per_minute.max(1);
        let burst = self.burst.clamp(1, n);
        let per_window = u64::from(n - burst + 1);
        let period = Duration::from_nanos(60_000_000_000_u64.div_ceil(per_window));
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        match Quota::with_period(period) {
            Some(quota) => quota.allow_burst(burst),
            // Unreachable: the period is at least 1 ns.
            None => Quota::per_minute(NonZeroU32::MIN),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use governor::RateLimiter;
    use governor::clock::FakeRelativeClock;
    use secrecy::SecretString;

    use super::*;

    /// Takes every request the limiter allows for ten minutes, stepping a fake
    /// clock by `step`, and returns the most that fell in one 60 s window.
    fn busiest_minute(quota: Quota, step: Duration) -> usize {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::direct_with_clock(quota, clock.clone());
        let minute = Duration::from_secs(60);
        let (mut now, mut sent, mut busiest) = (Duration::ZERO, VecDeque::new(), 0);
        while now < minute * 10 {
            while limiter.check().is_ok() {
                sent.push_back(now);
            }
            while sent.front().is_some_and(|t| *t + minute <= now) {
                sent.pop_front();
            }
            busiest = busiest.max(sent.len());
            clock.advance(step);
            now += step;
        }
        busiest
    }

    fn config(requests_per_minute: u32, burst: u32) -> KitConfig {
        KitConfig {
            requests_per_minute,
            burst,
            ..KitConfig::v4(SecretString::from("k".to_owned()))
        }
    }

    #[test]
    fn no_sixty_second_window_holds_more_than_the_limit_whatever_the_burst() {
        for (n, burst) in [(120, 1), (120, 10), (120, 60), (120, 120), (7, 3), (1, 1)] {
            let busiest = busiest_minute(config(n, burst).quota(), Duration::from_millis(50));
            assert_eq!(busiest, n as usize, "n = {n}, burst = {burst}");
        }
    }

    #[test]
    fn governors_per_minute_alone_would_overrun_kits_window() {
        let naive = Quota::per_minute(NonZeroU32::new(120).expect("nonzero"));
        assert!(busiest_minute(naive, Duration::from_millis(50)) > 200);
    }

    #[test]
    fn the_burst_leaves_at_once_and_the_rest_is_spaced() {
        let quota = config(120, 10).quota();
        assert_eq!(quota.burst_size().get(), 10);
        // 111 more requests per minute after the burst of 10.
        let expected = Duration::from_nanos(60_000_000_000_u64.div_ceil(111));
        assert_eq!(quota.replenish_interval(), expected);
    }

    #[test]
    fn out_of_range_settings_are_clamped() {
        assert_eq!(config(0, 0).quota().burst_size().get(), 1);
        assert_eq!(config(5, 50).quota().burst_size().get(), 5);
    }

    #[test]
    fn debug_output_shows_no_credential() {
        let config = KitConfig::v3(
            SecretString::from("key_abc123".to_owned()),
            Some(SecretString::from("secret_xyz789".to_owned())),
        );
        let shown = format!("{config:?}");
        assert!(!shown.contains("key_abc123") && !shown.contains("secret_xyz789"));
    }
}

//! How long an outbox row (an alert, a Kit action) waits before its next
//! delivery attempt: doubling from a base, at most an hour, and never sooner
//! than the peer's `Retry-After`.

use std::time::Duration;

/// The longest wait between attempts.
pub const MAX_DELAY: Duration = Duration::from_secs(3600);

/// `base · 2^doublings` (doublings clamped to 0..=16), capped at
/// [`MAX_DELAY`], and at least `retry_after` when given.
pub fn outbox_delay(base: Duration, doublings: i32, retry_after: Option<Duration>) -> Duration {
    let exp = base
        .saturating_mul(1u32 << doublings.clamp(0, 16))
        .min(MAX_DELAY);
    retry_after.map_or(exp, |r| r.max(exp))
}

//! The one backoff of the system: exponential from a base, capped, with full
//! jitter (a uniformly random wait between zero and the exponential ceiling,
//! so that many clients failing together do not retry together), and never
//! sooner than a floor such as the peer's `Retry-After`.
//!
//! Pure: no I/O, no clock; the randomness is [`rand::rng`] unless a caller
//! passes its own draw to [`Backoff::delay_with`].

use std::time::Duration;

use rand::Rng;

/// An exponential backoff: `base · 2^attempt`, at most `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first retry's wait.
    pub base: Duration,
    /// The largest ceiling, however many attempts failed.
    pub max: Duration,
}

/// Doublings beyond this change nothing for any sensible base (2^20 · 1 µs
/// is already a second); it keeps the arithmetic in range.
const MAX_DOUBLINGS: u32 = 40;

impl Backoff {
    /// A backoff from `base`, capped at `max`.
    pub const fn new(base: Duration, max: Duration) -> Self {
        Self { base, max }
    }

    /// The exponential ceiling before retry number `attempt` (0 = the first
    /// retry): `base · 2^attempt`, capped at `max`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 2f64.powi(attempt.min(MAX_DOUBLINGS) as i32);
        let ceiling = self.base.as_secs_f64() * factor;
        if ceiling >= self.max.as_secs_f64() {
            self.max
        } else {
            Duration::from_secs_f64(ceiling)
        }
    }

    /// The wait before retry number `attempt`: full jitter over
    /// [`Self::ceiling`], and at least `floor` (a `Retry-After`) when given.
    pub fn delay(&self, attempt: u32, floor: Option<Duration>) -> Duration {
        self.delay_with(attempt, floor, rand::rng().random::<f64>())
    }

    /// [`Self::delay`] with the random draw given: `unit` in `[0, 1]` picks
    /// the point between zero and the ceiling (clamped into that range).
    pub fn delay_with(&self, attempt: u32, floor: Option<Duration>, unit: f64) -> Duration {
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            1.0
        };
        let jittered = self.ceiling(attempt).mul_f64(unit);
        floor.map_or(jittered, |floor| jittered.max(floor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTBOX: Backoff = Backoff::new(Duration::from_secs(30), Duration::from_secs(3600));

    #[test]
    fn the_ceiling_doubles_per_attempt_and_is_capped() {
        assert_eq!(OUTBOX.ceiling(0), Duration::from_secs(30));
        assert_eq!(OUTBOX.ceiling(2), Duration::from_secs(120));
        assert_eq!(OUTBOX.ceiling(20), Duration::from_secs(3600));
        assert_eq!(OUTBOX.ceiling(u32::MAX), Duration::from_secs(3600));
        let stripe = Backoff::new(Duration::from_millis(250), Duration::from_secs(20));
        assert_eq!(stripe.ceiling(1), Duration::from_millis(500));
        assert_eq!(stripe.ceiling(7), Duration::from_secs(20));
        let zero = Backoff::new(Duration::ZERO, Duration::from_secs(1));
        assert_eq!(zero.ceiling(30), Duration::ZERO);
    }

    #[test]
    fn full_jitter_spans_zero_to_the_ceiling() {
        assert_eq!(OUTBOX.delay_with(2, None, 0.0), Duration::ZERO);
        assert_eq!(OUTBOX.delay_with(2, None, 0.5), Duration::from_secs(60));
        assert_eq!(OUTBOX.delay_with(2, None, 1.0), Duration::from_secs(120));
        assert_eq!(OUTBOX.delay_with(2, None, 7.0), Duration::from_secs(120));
        assert_eq!(
            OUTBOX.delay_with(2, None, f64::NAN),
            Duration::from_secs(120)
        );
        for attempt in 0..50 {
            let d = OUTBOX.delay(attempt, None);
            assert!(d <= OUTBOX.ceiling(attempt), "{attempt}: {d:?}");
        }
    }

    #[test]
    fn a_floor_such_as_retry_after_is_always_respected() {
        let ninety = Some(Duration::from_secs(90));
        assert_eq!(OUTBOX.delay_with(0, ninety, 0.0), Duration::from_secs(90));
        assert_eq!(OUTBOX.delay_with(0, ninety, 1.0), Duration::from_secs(90));
        assert_eq!(OUTBOX.delay_with(3, ninety, 1.0), Duration::from_secs(240));
        for attempt in 0..20 {
            assert!(OUTBOX.delay(attempt, ninety) >= Duration::from_secs(90));
        }
    }
}

//! The pace of one client's requests, shared by every concurrent request
//! (the audit runs 5 types × 8 slices of paginators at once):
//!
//! - **Rate, adapted (AIMD).** Requests are spaced evenly at the current
//!   rate. A 429 cuts the rate to [`CUT`] of itself, and the requests
//!   waiting for their turn are spaced again at the new rate; a 429 of a
//!   request sent before the last cut does not cut again (it answers the
//!   same overshoot). Every success raises the rate by [`RISE`]
//!   requests/s per second of successes, up to the configured rate. So a
//!   client set to 20/s against a server allowing 5/s settles near 5/s
//!   within a few requests and stays there with few 429s, instead of
//!   sending four times what the server takes.
//! - **Outages, shared.** A failure other than a 429 (a refused connection,
//!   a timeout, a 5xx) adds one to a streak shared by every request, and
//!   every request waits out the streak's backoff before its next send; a
//!   success ends the streak. So an unreachable Stripe costs one request per
//!   backoff step, not one per paginator, and the streak, not each request,
//!   counts the attempts.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// What a 429 leaves of the rate.
pub const CUT: f64 = 0.7;
/// Requests/s added per second of successes.
pub const RISE: f64 = 0.5;
/// The rate is never cut below this, requests/s.
pub const SLOWEST: f64 = 0.5;

struct State {
    /// Requests/s now.
    rate: f64,
    /// The next free slot at the rate.
    next: Instant,
    /// Nothing is sent before this (a `Retry-After`, an outage's backoff).
    hold: Instant,
    /// When the rate was last cut.
    cut_at: Option<Instant>,
    /// Grows at every cut and hold: slots handed out before are void.
    generation: u64,
    /// Consecutive failures other than 429, across all requests.
    streak: u32,
    /// When the streak last grew.
    failed_at: Option<Instant>,
}

/// One client's pace; share it by reference (`Arc`).
pub struct Pace {
    ceiling: f64,
    state: Mutex<State>,
}

impl Pace {
    /// A pace starting at, and never above, `ceiling` requests/s.
    pub fn new(ceiling: u32) -> Self {
        let ceiling = f64::from(ceiling.max(1));
        Self {
            ceiling,
            state: Mutex::new(State {
                rate: ceiling,
                next: Instant::now(),
                hold: Instant::now(),
                cut_at: None,
                generation: 0,
                streak: 0,
                failed_at: None,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for this request's turn: its slot at the current rate, taken
    /// again if the rate was cut or a hold set while it waited.
    pub async fn turn(&self) {
        loop {
            let (slot, generation) = {
                let mut s = self.state();
                let slot = s.next.max(s.hold).max(Instant::now());
                s.next = slot + Duration::from_secs_f64(1.0 / s.rate);
                (slot, s.generation)
            };
            tokio::time::sleep_until(slot).await;
            if self.state().generation == generation {
                return;
            }
        }
    }

    /// Voids the slots handed out: from now on, one every `1 / rate`, not
    /// before the hold.
    fn respace(s: &mut State, now: Instant) {
        s.generation += 1;
        s.next = now.max(s.hold);
    }

    /// A success: the streak ends and the rate rises.
    pub fn succeeded(&self) {
        let mut s = self.state();
        s.streak = 0;
        s.rate = (s.rate + RISE / s.rate).min(self.ceiling);
    }

    /// A 429 of a request sent at `sent`: the rate is cut (unless the
    /// request was sent before the last cut), and nothing is sent before
    /// `retry_after` if the answer gave one. Returns the rate now.
    pub fn rate_limited(&self, sent: Instant, retry_after: Option<Duration>) -> f64 {
        let mut s = self.state();
        let now = Instant::now();
        if let Some(wait) = retry_after {
            s.hold = s.hold.max(now + wait);
        }
        if s.cut_at.is_none_or(|at| sent > at) {
            s.rate = (s.rate * CUT).max(SLOWEST);
            s.cut_at = Some(now);
            // The next request one interval at the new rate from now.
            let gap = Duration::from_secs_f64(1.0 / s.rate);
            Self::respace(&mut s, now + gap);
        } else if retry_after.is_some() {
            Self::respace(&mut s, now);
        }
        s.rate
    }

    /// A failure other than a 429 of a request sent at `sent`: the shared
    /// streak grows, and nothing is sent before `wait(streak)` has passed.
    /// A request sent before the streak last grew saw the same outage and
    /// does not count again. Returns the streak, and whether this failure
    /// counted.
    pub fn failed(&self, sent: Instant, wait: impl FnOnce(u32) -> Duration) -> (u32, bool) {
        let mut s = self.state();
        if s.failed_at.is_some_and(|at| sent <= at) {
            return (s.streak, false);
        }
        s.streak += 1;
        let now = Instant::now();
        s.failed_at = Some(now);
        s.hold = s.hold.max(now + wait(s.streak));
        Self::respace(&mut s, now);
        (s.streak, true)
    }

    /// Whether a request asking for its turn now would be sent within one
    /// interval at the current rate: the rate limit has room for more
    /// requests in flight (no backlog of turns, no hold).
    pub fn has_room(&self) -> bool {
        let s = self.state();
        let interval = Duration::from_secs_f64(1.0 / s.rate);
        s.next.max(s.hold) <= Instant::now() + interval
    }

    /// Requests/s now.
    pub fn rate(&self) -> f64 {
        self.state().rate
    }

    /// Consecutive failures other than 429 now.
    pub fn streak(&self) -> u32 {
        self.state().streak
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waiting_turns_are_spaced_again_after_a_cut() {
        let pace = std::sync::Arc::new(Pace::new(10));
        let started = Instant::now();
        // Ten requests waiting; the first is answered 429 at once.
        let waiting: Vec<_> = (0..10)
            .map(|_| {
                let pace = pace.clone();
                tokio::spawn(async move {
                    pace.turn().await;
                    Instant::now()
                })
            })
            .collect();
        tokio::task::yield_now().await;
        pace.rate_limited(started, None);
        let mut sent = Vec::new();
        for w in waiting {
            sent.push(w.await.unwrap());
        }
        sent.sort();
        // At 7/s, not the 10/s their first slots were at: the last of nine
        // more waits 9/7 s, not 0.9 s.
        let last = sent.last().unwrap().duration_since(started);
        assert!(last >= Duration::from_millis(1280), "{last:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn there_is_room_for_another_request_only_while_no_turns_are_queued() {
        let pace = std::sync::Arc::new(Pace::new(4));
        assert!(pace.has_room());
        let waiting: Vec<_> = (0..3)
            .map(|_| {
                let pace = pace.clone();
                tokio::spawn(async move { pace.turn().await })
            })
            .collect();
        tokio::task::yield_now().await;
        // Turns at 0, 250 and 500 ms: one asking now would wait 750 ms.
        assert!(!pace.has_room());
        for w in waiting {
            w.await.unwrap();
        }
        assert!(pace.has_room());
    }

    #[tokio::test(start_paused = true)]
    async fn turns_are_spaced_at_the_rate() {
        let pace = Pace::new(4);
        let started = Instant::now();
        for _ in 0..5 {
            pace.turn().await;
        }
        // The first is at once, then one every 250 ms.
        assert_eq!(started.elapsed(), Duration::from_millis(1000));
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_cuts_once_per_overshoot_and_successes_raise_slowly() {
        let pace = Pace::new(20);
        let before = Instant::now();
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!((pace.rate_limited(before, None) - 14.0).abs() < 1e-9);
        // Another request sent before the cut: the same overshoot.
        assert!((pace.rate_limited(before, None) - 14.0).abs() < 1e-9);
        tokio::time::advance(Duration::from_millis(1)).await;
        let after = Instant::now();
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!((pace.rate_limited(after, None) - 9.8).abs() < 1e-9);
        // 9.8 successes (a second at 9.8/s) raise it by about RISE.
        for _ in 0..10 {
            pace.succeeded();
        }
        assert!((pace.rate() - 10.3).abs() < 0.05, "{}", pace.rate());
        for _ in 0..10_000 {
            pace.succeeded();
        }
        assert!((pace.rate() - 20.0).abs() < 1e-9, "never above the ceiling");
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_and_the_outage_streak_hold_every_request() {
        let pace = Pace::new(1000);
        pace.turn().await;
        pace.rate_limited(Instant::now(), Some(Duration::from_secs(2)));
        let started = Instant::now();
        pace.turn().await;
        assert!(started.elapsed() >= Duration::from_secs(2));

        let wait = |n: u32| Duration::from_secs(u64::from(n));
        let sent = Instant::now();
        assert_eq!(pace.failed(sent, wait), (1, true));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(
            pace.failed(sent, wait),
            (1, false),
            "sent before the first failure was known"
        );
        assert_eq!(pace.failed(Instant::now(), wait), (2, true));
        let started = Instant::now();
        pace.turn().await;
        assert!(
            started.elapsed() >= Duration::from_secs(2),
            "the longer pause holds"
        );
        pace.succeeded();
        assert_eq!(pace.streak(), 0);
    }
}

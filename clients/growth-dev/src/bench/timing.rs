//! Timing helpers shared by the benchmarks: the best of a few runs, and
//! milliseconds for printing.

use std::time::{Duration, Instant};

use anyhow::Context as _;

/// The shortest of `times` (zero when there are none).
pub fn best(times: &[Duration]) -> Duration {
    times.iter().min().copied().unwrap_or_default()
}

/// Runs `f` `runs` times (at least once), one after the other: the best
/// time, and what the last run returned.
pub async fn time<F, Fut, T>(runs: u32, mut f: F) -> anyhow::Result<(Duration, T)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        last = Some(f().await?);
        times.push(started.elapsed());
    }
    Ok((best(&times), last.context("no run")?))
}

/// `d` in milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

//! How long each phase of an audit took, logged when it completes, so that
//! a slow audit says where its time went (the Stripe listings run
//! concurrently, so theirs overlap; the rest follow one another).

use std::fmt;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// Named phases, in the order they ended.
#[derive(Debug, Default)]
pub struct Phases(Vec<(&'static str, Duration)>);

impl Phases {
    /// Records `name` as having taken `took`.
    pub fn add(&mut self, name: &'static str, took: Duration) {
        self.0.push((name, took));
    }

    /// Runs `work`, recording how long it took as `name`.
    pub async fn time<T>(&mut self, name: &'static str, work: impl Future<Output = T>) -> T {
        let (out, took) = timed(work).await;
        self.add(name, took);
        out
    }
}

/// Runs `work` and says how long it took (for work that runs beside other
/// work, recorded with [`Phases::add`] once all of it is done).
pub async fn timed<T>(work: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let out = work.await;
    (out, started.elapsed())
}

impl fmt::Display for Phases {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, took)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name} {:.2} s", took.as_secs_f64())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_read_in_the_order_they_ended() {
        let mut phases = Phases::default();
        phases.add("stripe", Duration::from_millis(21_340));
        phases.add("store", Duration::from_millis(1_500));
        assert_eq!(phases.to_string(), "stripe 21.34 s, store 1.50 s");
    }
}

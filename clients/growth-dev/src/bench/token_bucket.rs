//! The fake Stripes' rate limit: a token bucket (the benchmarks' fake, and the
//! metrics API tests' through `#[path]`).

/// A token bucket of `rate` tokens a second, holding one second's worth.
pub struct Bucket {
    rate: f64,
    state: std::sync::Mutex<(f64, std::time::Instant)>,
}

impl Bucket {
    /// A full bucket.
    pub fn new(rate: f64) -> Self {
        Self {
            rate,
            state: std::sync::Mutex::new((rate, std::time::Instant::now())),
        }
    }

    /// Takes a token if there is one.
    pub fn take(&self) -> bool {
        let mut s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = std::time::Instant::now();
        let tokens = (s.0 + now.duration_since(s.1).as_secs_f64() * self.rate).min(self.rate);
        let granted = tokens >= 1.0;
        *s = (if granted { tokens - 1.0 } else { tokens }, now);
        granted
    }
}

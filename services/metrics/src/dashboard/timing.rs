//! A page's reads in its `Server-Timing` header, beside the whole answer's
//! `app` (which [`super::headers::secure`] puts first): each read's wall
//! time, so the browser's developer tools and `growth-dev bench dashboard`
//! show which read a slow page waited for. Reads run concurrently, so their
//! times overlap and do not add up to `app`.

use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use axum::http::HeaderValue;

/// The reads of one answer, in the order they finished.
#[derive(Default)]
pub struct Timings(Mutex<Vec<(&'static str, f64)>>);

impl Timings {
    /// Runs `read`, noting its time as `name` (a token: letters, `-`, `_`).
    pub async fn time<F: Future>(&self, name: &'static str, read: F) -> F::Output {
        let started = Instant::now();
        let out = read.await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((name, ms));
        out
    }

    /// `name;dur=<ms>, …`; `None` when nothing was timed.
    pub fn header(&self) -> Option<HeaderValue> {
        let reads = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let text = reads
            .iter()
            .map(|(name, ms)| format!("{name};dur={ms:.1}"))
            .collect::<Vec<_>>()
            .join(", ");
        HeaderValue::from_str(&text)
            .ok()
            .filter(|_| !reads.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_are_named_with_their_times() {
        let t = Timings::default();
        assert!(t.header().is_none());
        assert_eq!(t.time("revenue", async { 7 }).await, 7);
        t.time("active", async {}).await;
        let header = t.header().unwrap();
        let text = header.to_str().unwrap();
        assert!(
            text.starts_with("revenue;dur=") && text.contains(", active;dur="),
            "{text}"
        );
    }
}

//! A short-lived memory of the overview's slow reads, the revenue summary,
//! the active users and the trial funnel: they scan every stored row
//! whatever the window (the subscription history; every user's activity
//! years) or probe every user of the window (the funnel), about 0.5 s, 0.3 s
//! and 1 s at 200,000 users, so the page could not answer within its budget
//! by reading them each time. An answer younger than [`FRESH`] is
//! shown as it is; an older one is shown while one task reads it again
//! (stale while revalidate); a missing one is read while the page waits.
//! Per process, in memory; the page says when each answer was read.
//! `DASHBOARD_REMEMBER_SECONDS` sets how long (0: read on every load).

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::error::MetricsError;

/// Answers not asked for this long are forgotten.
const FORGET: Duration = Duration::from_secs(3600);

struct Entry<V> {
    value: V,
    read_at: DateTime<Utc>,
    at: Instant,
    refreshing: bool,
}

/// Answers by request; cheap to clone (shared).
pub struct Memo<K, V> {
    entries: Arc<Mutex<HashMap<K, Entry<V>>>>,
    fresh: Duration,
}

impl<K, V> Clone for Memo<K, V> {
    fn clone(&self) -> Self {
        Self {
            entries: Arc::clone(&self.entries),
            fresh: self.fresh,
        }
    }
}

impl<K, V> Memo<K, V> {
    /// Answers shown for `fresh` before they are read again; zero: never
    /// remembered.
    pub fn new(fresh: Duration) -> Self {
        Self {
            entries: Arc::default(),
            fresh,
        }
    }
}

enum Found<V> {
    Fresh(V, DateTime<Utc>),
    Stale(V, DateTime<Utc>, bool),
    Missing,
}

impl<K, V> Memo<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Entry<V>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn store(&self, key: K, value: V, read_at: DateTime<Utc>) {
        let mut map = self.lock();
        map.retain(|_, e| e.at.elapsed() < FORGET);
        map.insert(
            key,
            Entry {
                value,
                read_at,
                at: Instant::now(),
                refreshing: false,
            },
        );
    }

    /// The answer to `key` and when it was read: remembered, or `read`.
    pub async fn get<F, Fut>(&self, key: K, read: F) -> Result<(V, DateTime<Utc>), MetricsError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, MetricsError>> + Send + 'static,
    {
        if self.fresh.is_zero() {
            let read_at = Utc::now();
            return Ok((read().await?, read_at));
        }
        let found = match self.lock().get_mut(&key) {
            Some(e) if e.at.elapsed() < self.fresh => Found::Fresh(e.value.clone(), e.read_at),
            Some(e) => {
                let start = !e.refreshing;
                e.refreshing = true;
                Found::Stale(e.value.clone(), e.read_at, start)
            }
            None => Found::Missing,
        };
        match found {
            Found::Fresh(value, read_at) => Ok((value, read_at)),
            Found::Stale(value, read_at, start) => {
                if start {
                    let (memo, reading) = (self.clone(), read());
                    tokio::spawn(async move {
                        let read_at = Utc::now();
                        match reading.await {
                            Ok(value) => memo.store(key, value, read_at),
                            Err(e) => {
                                tracing::warn!(error.cause_chain = ?e, "dashboard read again failed; the older answer stays");
                                if let Some(e) = memo.lock().get_mut(&key) {
                                    e.refreshing = false;
                                }
                            }
                        }
                    });
                }
                Ok((value, read_at))
            }
            Found::Missing => {
                let read_at = Utc::now();
                let value = read().await?;
                self.store(key, value.clone(), read_at);
                Ok((value, read_at))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fresh_answer_is_not_read_again() {
        let memo: Memo<u32, u32> = Memo::new(Duration::from_secs(60));
        let (first, at) = memo.get(1, || async { Ok(7) }).await.expect("read");
        let (again, at_again) = memo.get(1, || async { Ok(8) }).await.expect("remembered");
        assert_eq!((first, again, at), (7, 7, at_again));
        let (other, _) = memo.get(2, || async { Ok(9) }).await.expect("read");
        assert_eq!(other, 9);
        let never: Memo<u32, u32> = Memo::new(Duration::ZERO);
        never.get(1, || async { Ok(7) }).await.expect("read");
        let (read, _) = never.get(1, || async { Ok(8) }).await.expect("read");
        assert_eq!(read, 8, "zero: read on every load");
    }
}

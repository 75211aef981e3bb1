//! A short-lived memory of the overview's two slow reads, the revenue
//! summary and the active users: both scan every stored row whatever the
//! window (the subscription history; every user's activity years), about
//! 0.5 s and 0.3 s at 200,000 users, so the page could not answer within its
//! budget by reading them each time. An answer younger than [`FRESH`] is
//! shown as it is; an older one is shown while one task reads it again
//! (stale while revalidate); a missing one is read while the page waits.
//! Per process, in memory; the page says when each answer was read.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::error::MetricsError;

/// How long an answer is shown without being read again.
pub const FRESH: Duration = Duration::from_secs(60);
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
}

impl<K, V> Clone for Memo<K, V> {
    fn clone(&self) -> Self {
        Self {
            entries: Arc::clone(&self.entries),
        }
    }
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Self {
            entries: Arc::default(),
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
        let found = match self.lock().get_mut(&key) {
            Some(e) if e.at.elapsed() < FRESH => Found::Fresh(e.value.clone(), e.read_at),
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
        let memo: Memo<u32, u32> = Memo::default();
        let (first, at) = memo.get(1, || async { Ok(7) }).await.expect("read");
        let (again, at_again) = memo.get(1, || async { Ok(8) }).await.expect("remembered");
        assert_eq!((first, again, at), (7, 7, at_again));
        let (other, _) = memo.get(2, || async { Ok(9) }).await.expect("read");
        assert_eq!(other, 9);
    }
}

//! `WatchEvents`: catch up from a cursor, then follow new events live.
//!
//! One `LISTEN` connection per process ([`FeedSignal`]) wakes every open
//! stream when TrackEvents commits; streams also re-poll every second, so a
//! lost notification or a dropped listener delays delivery by at most that.

use std::time::Duration;

use futures::Stream;
use growth_proto::backoff::Backoff;
use growth_proto::metrics::v1::{Event, FeedEvent, WatchEventsResponse};
use growth_proto::timestamp::from_utc;
use growth_runtime::Shutdown;
use tokio::sync::watch;
use tonic::Status;

use crate::error::MetricsError;
use crate::repo::Pool;
use crate::repo::feed::{self, FeedRow};

/// Default and maximum events per streamed message.
pub const DEFAULT_BATCH: u32 = 500;
/// See [`DEFAULT_BATCH`].
pub const MAX_BATCH: u32 = 5_000;
/// How often an idle stream re-checks without a notification.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Wakes feed streams when new events are committed.
#[derive(Clone)]
pub struct FeedSignal {
    receiver: watch::Receiver<u64>,
}

impl FeedSignal {
    /// Starts the process's listener task; it reconnects with backoff when
    /// the database goes away, and stops on shutdown.
    pub fn spawn(pool: Pool, shutdown: Shutdown) -> Self {
        let (sender, receiver) = watch::channel(0u64);
        tokio::spawn(async move {
            let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
            let mut failures = 0;
            loop {
                let wait = backoff.delay(failures, None);
                failures += 1;
                tokio::select! {
                    _ = shutdown.wait() => return,
                    result = feed::listen(&pool, || sender.send_modify(|n| *n += 1)) => {
                        if let Err(e) = result {
                            tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "event feed listener lost; reconnecting");
                        }
                    }
                }
                tokio::select! {
                    _ = shutdown.wait() => return,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        });
        Self { receiver }
    }

    /// A receiver that changes whenever events were committed (or the
    /// listener reconnected, when some may have been missed).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.receiver.clone()
    }
}

/// The stream of one `WatchEvents` call.
pub fn stream(
    pool: Pool,
    signal: FeedSignal,
    shutdown: Shutdown,
    after: i64,
    batch: u32,
    stop_at_end: bool,
) -> impl Stream<Item = Result<WatchEventsResponse, Status>> + Send + 'static {
    let limit = i64::from(if batch == 0 {
        DEFAULT_BATCH
    } else {
        batch.min(MAX_BATCH)
    });
    let mut wake = signal.receiver;
    async_stream::stream! {
        let mut cursor = after;
        loop {
            wake.borrow_and_update();
            let rows = match feed::page(&pool, cursor, limit).await {
                Ok(rows) => rows,
                Err(e) => {
                    // The caller resumes from the cursor (a database
                    // restart, say): it is in the message, as on shutdown.
                    let status = Status::from(MetricsError::from(e));
                    yield Err(Status::new(
                        status.code(),
                        format!("{}; resume from cursor {cursor}", status.message()),
                    ));
                    return;
                }
            };
            let full = rows.len() as i64 == limit;
            if let Some(last) = rows.last() {
                cursor = last.sequence;
                yield Ok(WatchEventsResponse {
                    events: rows.into_iter().map(feed_event).collect(),
                    cursor,
                });
            }
            if full {
                continue;
            }
            if stop_at_end {
                return;
            }
            tokio::select! {
                _ = wake.changed() => {}
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
                _ = shutdown.wait() => {
                    yield Err(Status::unavailable(format!(
                        "metrics service is shutting down; resume from cursor {cursor}"
                    )));
                    return;
                }
            }
        }
    }
}

fn feed_event(row: FeedRow) -> FeedEvent {
    FeedEvent {
        sequence: row.sequence,
        event: Some(Event {
            event_id: row.event_id,
            user_id: row.user_id,
            name: row.name,
            occurred_at: Some(from_utc(row.occurred_at)),
            properties_json: row.properties,
        }),
        recorded_at: Some(from_utc(row.recorded_at)),
    }
}

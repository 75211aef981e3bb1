//! The feed consumer's loop: lead or stand by, follow, batch, apply, back
//! off.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use growth_proto::backoff::Backoff;
use growth_proto::metrics::v1::{FeedEvent, WatchEventsRequest};
use growth_runtime::{SessionLock, Shutdown};
use tokio::sync::watch;
use tokio::time::{Instant, sleep, sleep_until};

use super::{FeedConfig, FeedState};
use crate::evaluate::apply::{ApplyError, CursorMove, Mode, apply};
use crate::repo::locks::FEED_LOCK;
use crate::state::Lifecycle;
use crate::upstream;

/// Starts the consumer; `healthy` reads false while the feed is degraded.
/// Returns when `shutdown` fires.
pub fn spawn(
    state: Lifecycle,
    config: FeedConfig,
    shutdown: Shutdown,
) -> (tokio::task::JoinHandle<()>, watch::Receiver<bool>) {
    let (healthy_tx, healthy) = watch::channel(true);
    let task = tokio::spawn(async move {
        let mut consumer = Consumer {
            state,
            config,
            shutdown,
            healthy: healthy_tx,
            failures: 0,
        };
        consumer.run().await;
    });
    (task, healthy)
}

struct Consumer {
    state: Lifecycle,
    config: FeedConfig,
    shutdown: Shutdown,
    healthy: watch::Sender<bool>,
    failures: u32,
}

/// Why following stopped.
enum Stop {
    Shutdown,
    /// Leadership lost; stand by again.
    Demoted,
    /// Metrics or the database failed; back off and retry.
    Failed(String),
}

impl Consumer {
    fn set(&self, state: FeedState) {
        metrics::gauge!("lifecycle_feed_state").set(state.gauge());
        self.healthy.send_replace(state != FeedState::Degraded);
    }

    /// Sleeps the backoff for the current failure count (or until shutdown);
    /// false when shutting down.
    async fn back_off(&mut self) -> bool {
        self.failures = self.failures.saturating_add(1);
        let wait = Backoff::new(Duration::from_millis(100), self.config.max_backoff)
            .delay(self.failures, None);
        tokio::select! {
            _ = self.shutdown.wait() => false,
            _ = sleep(wait) => true,
        }
    }

    async fn run(&mut self) {
        self.set(FeedState::Standby);
        while !self.shutdown.is_triggered() {
            let leadership = match SessionLock::try_acquire(&self.state.pool, FEED_LOCK).await {
                Ok(Some(l)) => l,
                Ok(None) => {
                    self.set(FeedState::Standby);
                    tokio::select! {
                        _ = self.shutdown.wait() => return,
                        _ = sleep(self.config.leader_check) => continue,
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "feed: cannot reach the database to take leadership; retrying");
                    self.set(FeedState::Degraded);
                    if !self.back_off().await {
                        return;
                    }
                    continue;
                }
            };
            tracing::info!(consumer = %self.config.consumer, "feed: this replica leads the event feed");
            let stop = self.lead(leadership).await;
            match stop {
                Stop::Shutdown => return,
                Stop::Demoted => {
                    tracing::warn!("feed: leadership lost; standing by");
                    self.set(FeedState::Standby);
                }
                Stop::Failed(why) => {
                    tracing::warn!(error = %why, "feed: following failed; will retry");
                    self.set(FeedState::Degraded);
                    if !self.back_off().await {
                        return;
                    }
                }
            }
        }
    }

    /// Follows the feed while leading; gives the lock up on return.
    async fn lead(&mut self, mut leadership: SessionLock) -> Stop {
        let stop = self.follow(&mut leadership).await;
        leadership.release().await;
        stop
    }

    async fn follow(&mut self, leadership: &mut SessionLock) -> Stop {
        let consumer = self.config.consumer.clone();
        let mut cursor = match crate::repo::cursor::get(&self.state.pool, &consumer).await {
            Ok(c) => c,
            Err(e) => return Stop::Failed(format!("reading the cursor: {e}")),
        };
        let mut client = self.state.metrics.clone();
        let request = WatchEventsRequest {
            after_sequence: cursor,
            stop_at_end: false,
            max_batch_size: 1000,
        };
        let mut stream = match client.watch_events(request).await {
            Ok(s) => s.into_inner(),
            Err(s) => return Stop::Failed(format!("metrics WatchEvents: {}", s.message())),
        };
        self.set(FeedState::Following);
        let mut pending: Vec<FeedEvent> = Vec::new();
        let mut deadline: Option<Instant> = None;
        let mut check = tokio::time::interval(self.config.leader_check);
        loop {
            let flush = tokio::select! {
                _ = self.shutdown.wait() => return Stop::Shutdown,
                _ = check.tick() => {
                    if !leadership.still_held().await {
                        return Stop::Demoted;
                    }
                    false
                }
                message = stream.message() => match message {
                    Ok(Some(batch)) => {
                        if pending.is_empty() {
                            deadline = Some(Instant::now() + self.config.batch_wait);
                        }
                        pending.extend(batch.events);
                        pending.len() >= self.config.max_batch
                    }
                    Ok(None) => return self.flush_then(&mut pending, &mut cursor, Stop::Failed("metrics ended the feed".into())).await,
                    Err(s) => {
                        let why = format!("metrics feed: {}", s.message());
                        return self.flush_then(&mut pending, &mut cursor, Stop::Failed(why)).await;
                    }
                },
                _ = async { sleep_until(deadline.unwrap_or_else(Instant::now)).await }, if deadline.is_some() => true,
            };
            if flush {
                deadline = None;
                if let Err(stop) = self.process(&mut pending, &mut cursor).await {
                    return stop;
                }
                self.failures = 0;
            }
        }
    }

    /// Processes what is pending, then stops with `stop` (or the failure).
    async fn flush_then(
        &mut self,
        pending: &mut Vec<FeedEvent>,
        cursor: &mut i64,
        stop: Stop,
    ) -> Stop {
        match self.process(pending, cursor).await {
            Ok(()) => stop,
            Err(failed) => failed,
        }
    }

    /// Re-evaluates the users of `pending` and commits with the cursor.
    async fn process(
        &mut self,
        pending: &mut Vec<FeedEvent>,
        cursor: &mut i64,
    ) -> Result<(), Stop> {
        let Some(last) = pending.iter().map(|e| e.sequence).max() else {
            return Ok(());
        };
        let users: BTreeSet<String> = pending
            .iter()
            .filter_map(|e| e.event.as_ref().map(|ev| ev.user_id.clone()))
            .collect();
        let users: Vec<String> = users.into_iter().collect();
        let mut client = self.state.metrics.clone();
        let signals = upstream::signals_of(&mut client, &users, 0)
            .await
            .map_err(|s| Stop::Failed(format!("metrics GetUserActivity: {}", s.message())))?;
        let mode = Mode::Write(Some(CursorMove {
            consumer: &self.config.consumer,
            from: *cursor,
            to: last,
        }));
        let applied = match apply(
            &self.state.pool,
            &signals,
            Utc::now(),
            &self.state.tuning,
            mode,
        )
        .await
        {
            Ok(a) => a,
            Err(ApplyError::LostLeadership) => return Err(Stop::Demoted),
            Err(ApplyError::Database(e)) => return Err(Stop::Failed(format!("database: {e}"))),
        };
        self.state.queued(applied.deliveries_queued);
        let newest = pending
            .iter()
            .filter_map(|e| {
                e.recorded_at
                    .as_ref()
                    .and_then(growth_proto::timestamp::to_utc)
            })
            .max();
        if let Some(recorded) = newest {
            let lag = (Utc::now() - recorded).num_milliseconds().max(0) as f64 / 1000.0;
            metrics::gauge!("lifecycle_feed_lag_seconds").set(lag);
        }
        metrics::counter!("lifecycle_feed_events_total").increment(pending.len() as u64);
        metrics::counter!("lifecycle_feed_transitions_total")
            .increment(applied.transitions.len() as u64);
        tracing::debug!(
            events = pending.len(),
            users = users.len(),
            transitions = applied.transitions.len(),
            cursor = last,
            "feed batch applied"
        );
        *cursor = last;
        pending.clear();
        Ok(())
    }
}

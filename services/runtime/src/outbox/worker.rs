//! The outbox worker: rounds of claim one row, deliver it, record it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{Holder, OutboxPolicy, OutboxTable, Record};
use crate::Shutdown;

/// What became of one delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The peer accepted it (or already had it).
    Delivered {
        /// What the peer made of it (an issue number), if it says.
        reference: Option<String>,
    },
    /// Not now: retry, never sooner than `retry_after` when given.
    Retry {
        /// For people (never a credential).
        error: String,
        /// The peer's `Retry-After`.
        retry_after: Option<Duration>,
        /// The request may have reached the peer (no answer).
        unknown: bool,
    },
    /// Never: the peer refused, retrying cannot help.
    Permanent {
        /// For people.
        error: String,
    },
}

/// Delivers one row of an outbox to its channel.
pub trait Deliver: Send + Sync {
    /// The outbox's row.
    type Row: Send + Sync;

    /// One attempt at delivering `row`.
    fn deliver(&self, row: &Self::Row) -> impl Future<Output = Outcome> + Send;

    /// Called after the attempt that makes `attempts` was recorded (for logs
    /// and counters).
    fn recorded(&self, row: &Self::Row, attempts: i32, record: &Record) {
        let _ = (row, attempts, record);
    }
}

/// What one round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// Rows claimed (each delivered, retried or parked once).
    pub claimed: usize,
    /// Rows delivered.
    pub delivered: usize,
    /// The channel asked to slow down: wait this long before the next round.
    pub pause: Option<Duration>,
}

/// Delivers due rows one at a time, each at most once, up to `policy.batch`.
/// A database error ends the round; a row it leaves claimed is taken over by
/// the next round (a new holder) or another worker.
pub async fn deliver_round<T, D>(
    table: &T,
    channel: &D,
    holder: &mut Holder,
    policy: &OutboxPolicy,
) -> Result<Round, sqlx::Error>
where
    T: OutboxTable,
    D: Deliver<Row = T::Row>,
{
    let mut round = Round::default();
    let mut seen: Vec<String> = Vec::new();
    while round.claimed < policy.batch {
        let Some(claimed) = table.claim(holder, policy.lease, &seen).await? else {
            break;
        };
        round.claimed += 1;
        let outcome = tokio::time::timeout(policy.send_timeout, channel.deliver(&claimed.row))
            .await
            .unwrap_or_else(|_| Outcome::Retry {
                error: format!(
                    "no answer within {} ms: the outcome is unknown",
                    policy.send_timeout.as_millis()
                ),
                retry_after: None,
                unknown: true,
            });
        let pause = match &outcome {
            Outcome::Retry { retry_after, .. } if policy.pause_on_retry_after => *retry_after,
            _ => None,
        };
        let attempts = claimed.attempts + 1;
        let record = policy.record(attempts, outcome);
        if table.record(holder, &claimed.id, &record).await? {
            if matches!(record, Record::Delivered { .. }) {
                round.delivered += 1;
            }
            channel.recorded(&claimed.row, attempts, &record);
        } else {
            tracing::warn!(id = %claimed.id, "outbox row was taken over while it was delivered; its outcome is the new holder's");
        }
        seen.push(claimed.id);
        if pause.is_some() {
            round.pause = pause;
            break;
        }
    }
    Ok(round)
}

/// Starts a worker delivering `table`'s rows to `channel` until `shutdown`
/// fires: a round whenever `wake` is notified or `policy.poll_interval`
/// passes, rounds back to back while rows keep coming, none while paused.
pub fn spawn<T, D>(
    pool: PgPool,
    table: T,
    channel: D,
    policy: OutboxPolicy,
    wake: Arc<Notify>,
    shutdown: Shutdown,
) -> tokio::task::JoinHandle<()>
where
    T: OutboxTable + 'static,
    D: Deliver<Row = T::Row> + 'static,
{
    tokio::spawn(async move {
        let mut holder: Option<Holder> = None;
        let mut paused_until: Option<Instant> = None;
        loop {
            if paused_until.is_none_or(|t| t <= Instant::now()) {
                paused_until = None;
                match round(&pool, &mut holder, &table, &channel, &policy).await {
                    Ok(r) if r.pause.is_some() => {
                        paused_until = r.pause.map(|wait| Instant::now() + wait);
                    }
                    Ok(r) if r.claimed > 0 => continue,
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox round failed; will retry");
                        // The session may be gone: start the next round in a new one.
                        if let Some(h) = holder.take() {
                            h.release().await;
                        }
                    }
                }
            }
            let next = paused_until.unwrap_or_else(|| Instant::now() + policy.poll_interval);
            tokio::select! {
                _ = shutdown.wait() => break,
                _ = wake.notified(), if paused_until.is_none() => {}
                _ = tokio::time::sleep_until(next) => {}
            }
        }
        if let Some(h) = holder {
            h.release().await;
        }
    })
}

async fn round<T, D>(
    pool: &PgPool,
    holder: &mut Option<Holder>,
    table: &T,
    channel: &D,
    policy: &OutboxPolicy,
) -> Result<Round, sqlx::Error>
where
    T: OutboxTable,
    D: Deliver<Row = T::Row>,
{
    let h = match holder {
        Some(h) => h,
        None => holder.insert(Holder::acquire(pool).await?),
    };
    deliver_round(table, channel, h, policy).await
}

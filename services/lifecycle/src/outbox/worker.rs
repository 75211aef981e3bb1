//! The outbox worker's loop and one delivery round.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use growth_runtime::Shutdown;
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{OutboxConfig, backoff};
use crate::domain::trigger::Action;
use crate::kit::{FailureKind, KitActionKind, KitClient, KitFailure, KitRequest};
use crate::repo::deliveries::{self, DeliveryRow};

/// Starts the worker; it stops when `shutdown` fires.
pub fn spawn(
    pool: PgPool,
    kit: Option<KitClient>,
    config: OutboxConfig,
    wake: Arc<Notify>,
    shutdown: Shutdown,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut paused_until: Option<Instant> = None;
        loop {
            if paused_until.is_none_or(|t| t <= Instant::now()) {
                paused_until = None;
                match deliver_due(&pool, kit.as_ref(), &config).await {
                    Ok(round) => {
                        if let Some(wait) = round.pause {
                            paused_until = Some(Instant::now() + wait);
                        } else if round.claimed > 0 {
                            continue; // there may be more due rows
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "outbox round failed; will retry"),
                }
            }
            let next = paused_until.unwrap_or_else(|| Instant::now() + config.poll_interval);
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = wake.notified(), if paused_until.is_none() => {}
                _ = tokio::time::sleep_until(next) => {}
            }
        }
    })
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Round {
    /// Rows claimed.
    pub claimed: usize,
    /// Rows delivered (sent, or found already applied).
    pub delivered: usize,
    /// Kit asked to slow down: wait this long before the next round.
    pub pause: Option<Duration>,
}

fn request(row: &DeliveryRow) -> Option<KitRequest> {
    let kind = match Action::from_code(row.action)? {
        Action::AddTag => KitActionKind::AddTag,
        Action::RemoveTag => KitActionKind::RemoveTag,
        Action::SubscribeSequence => KitActionKind::SubscribeSequence,
        Action::SubscribeForm => KitActionKind::SubscribeForm,
    };
    let mut req = KitRequest::new(kind, &row.target_id, &row.email, &row.idempotency_key);
    req.fields = row.fields.0.clone();
    Some(req)
}

/// Sends `req`, first asking Kit whether an earlier attempt with an unknown
/// outcome already took effect. `Ok(true)`: sent; `Ok(false)`: was there.
async fn attempt(kit: &KitClient, row: &DeliveryRow, req: &KitRequest) -> Result<bool, KitFailure> {
    if row.outcome_unknown && req.kind.is_verifiable() && kit.verify(req).await? == Some(true) {
        return Ok(false);
    }
    kit.send(req).await.map(|()| true)
}

/// Delivers the rows due now, once each; sql errors end the round (claimed
/// rows then wait for their lease to expire and are verified before resending).
pub async fn deliver_due(
    pool: &PgPool,
    kit: Option<&KitClient>,
    config: &OutboxConfig,
) -> Result<Round, sqlx::Error> {
    let Some(kit) = kit else {
        let skipped = deliveries::skip_without_credentials(pool).await?;
        if skipped > 0 {
            tracing::warn!(
                skipped,
                "no Kit API key configured: deliveries kept as skipped_no_credentials"
            );
        }
        return Ok(Round::default());
    };
    let rows = deliveries::claim(pool, config.batch, config.lease).await?;
    let mut round = Round {
        claimed: rows.len(),
        ..Round::default()
    };
    for (i, row) in rows.iter().enumerate() {
        let Some(req) = request(row) else {
            deliveries::failed(
                pool,
                row.delivery_id,
                "unknown action number in the row",
                None,
                false,
            )
            .await?;
            continue;
        };
        let outcome = attempt(kit, row, &req).await;
        let id = row.delivery_id;
        match outcome {
            Ok(sent) => {
                deliveries::delivered(pool, id).await?;
                round.delivered += 1;
                metrics::counter!("lifecycle_kit_deliveries_total", "outcome" => "delivered")
                    .increment(1);
                tracing::info!(delivery_id = %id, user_id = %row.user_id, action = req.kind.as_str(), target = %row.target_id, sent, "kit action delivered");
            }
            Err(failure) => {
                let (retry_after, unknown) = match failure.kind {
                    FailureKind::Rejected => (None, false),
                    FailureKind::Retryable { retry_after } => (retry_after, false),
                    FailureKind::Unknown => (None, true),
                };
                let retry = !matches!(failure.kind, FailureKind::Rejected)
                    && row.attempts < config.max_attempts;
                let retry_at = retry.then(|| {
                    let wait = backoff(config, row.attempts, retry_after);
                    Utc::now()
                        + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1))
                });
                let outcome = if retry { "retry" } else { "dead" };
                metrics::counter!("lifecycle_kit_deliveries_total", "outcome" => outcome)
                    .increment(1);
                tracing::warn!(delivery_id = %id, attempts = row.attempts, error = %failure.message, dead = !retry, unknown, "kit action not delivered");
                deliveries::failed(pool, id, &failure.message, retry_at, unknown).await?;
                if let Some(wait) = retry_after {
                    // Kit's limit is per account: hold the rest of the batch too.
                    let resume = Utc::now()
                        + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::minutes(1));
                    for rest in &rows[i + 1..] {
                        deliveries::release(pool, rest.delivery_id, resume).await?;
                    }
                    round.pause = Some(wait);
                    break;
                }
            }
        }
    }
    Ok(round)
}

//! Kit as a channel of the runtime's outbox kit, and the worker's start.

use std::sync::Arc;

use crate::repo::{DbError, Pool};
use growth_runtime::Shutdown;
use growth_runtime::outbox::{self, Deliver, Holder, Outcome, Record, Round, SqlTable};
use tokio::sync::Notify;

use super::OutboxConfig;
use crate::domain::trigger::Action;
use crate::kit::{FailureKind, KitActionKind, KitClient, KitFailure, KitRequest};
use crate::repo::deliveries::{self, DeliveryRow};

/// Starts the worker; it stops when `shutdown` fires. Without a Kit client
/// due rows are only marked `skipped_no_credentials`.
pub fn spawn(
    pool: Pool,
    kit: Option<KitClient>,
    config: OutboxConfig,
    wake: Arc<Notify>,
    shutdown: Shutdown,
) -> tokio::task::JoinHandle<()> {
    match kit {
        Some(kit) => outbox::spawn(
            pool,
            SqlTable::new(deliveries::OUTBOX),
            KitChannel { kit },
            config.policy(),
            wake,
            shutdown,
        ),
        None => tokio::spawn(async move {
            loop {
                if let Err(e) = skip_without_credentials(&pool).await {
                    tracing::warn!(error = %e, "outbox round failed; will retry");
                }
                tokio::select! {
                    _ = shutdown.wait() => return,
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(config.poll_interval) => {}
                }
            }
        }),
    }
}

/// Delivers the rows due now, once each, in a worker session of its own
/// (the background worker keeps one across rounds).
pub async fn deliver_due(
    pool: &Pool,
    kit: Option<&KitClient>,
    config: &OutboxConfig,
) -> Result<Round, DbError> {
    let Some(kit) = kit else {
        skip_without_credentials(pool).await?;
        return Ok(Round::default());
    };
    let channel = KitChannel { kit: kit.clone() };
    let table = SqlTable::new(deliveries::OUTBOX);
    let mut holder = Holder::acquire(pool).await?;
    let round = outbox::deliver_round(&table, &channel, &mut holder, &config.policy()).await;
    holder.release().await;
    round
}

async fn skip_without_credentials(pool: &Pool) -> Result<(), DbError> {
    let skipped = deliveries::skip_without_credentials(pool).await?;
    // Said once at start ("integrations off"); counted here, not logged per round.
    if skipped > 0 {
        metrics::counter!("lifecycle_deliveries_skipped_no_credentials_total").increment(skipped);
        tracing::debug!(
            skipped,
            "no Kit API key configured: deliveries kept as skipped_no_credentials"
        );
    }
    Ok(())
}

/// Kit, as a channel of the outbox kit: one delivery is one Kit action.
pub struct KitChannel {
    /// The client.
    pub kit: KitClient,
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

impl KitChannel {
    /// Sends `req`, first asking Kit whether an earlier attempt with an
    /// unknown outcome already took effect. `Ok(true)`: sent; `Ok(false)`:
    /// was there.
    async fn attempt(&self, row: &DeliveryRow, req: &KitRequest) -> Result<bool, KitFailure> {
        if row.outcome_unknown
            && req.kind.is_verifiable()
            && self.kit.verify(req).await? == Some(true)
        {
            return Ok(false);
        }
        self.kit.send(req).await.map(|()| true)
    }
}

impl Deliver for KitChannel {
    type Row = DeliveryRow;

    async fn deliver(&self, row: &DeliveryRow) -> Outcome {
        let Some(req) = request(row) else {
            return Outcome::Permanent {
                error: "unknown action number in the row".into(),
            };
        };
        match self.attempt(row, &req).await {
            Ok(sent) => {
                tracing::info!(delivery_id = %row.delivery_id, user_id = %row.user_id, action = req.kind.as_str(), target = %row.target_id, sent, "kit action delivered");
                Outcome::Delivered { reference: None }
            }
            Err(failure) => match failure.kind {
                FailureKind::Rejected => Outcome::Permanent {
                    error: failure.message,
                },
                FailureKind::Retryable { retry_after } => Outcome::Retry {
                    error: failure.message,
                    retry_after,
                    unknown: false,
                },
                FailureKind::Unknown => Outcome::Retry {
                    error: failure.message,
                    retry_after: None,
                    unknown: true,
                },
            },
        }
    }

    fn recorded(&self, row: &DeliveryRow, attempts: i32, record: &Record) {
        let outcome = match record {
            Record::Delivered { .. } => "delivered",
            Record::Failed { retry_in: None, .. } => "dead",
            Record::Failed { .. } => "retry",
        };
        metrics::counter!("lifecycle_kit_deliveries_total", "outcome" => outcome).increment(1);
        if let Record::Failed {
            error,
            retry_in,
            unknown,
        } = record
        {
            let retry_in_ms = retry_in.map(|d| d.as_millis() as u64);
            tracing::warn!(delivery_id = %row.delivery_id, attempts, error = %error, dead = retry_in.is_none(), unknown, retry_in_ms, "kit action not delivered");
        }
    }
}

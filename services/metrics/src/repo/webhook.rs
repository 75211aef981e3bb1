//! Applying Stripe webhook events to `metrics.payments`, once per event id,
//! never letting an older event overwrite a newer state.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::NewSubscription;
use crate::webhook::event::{Change, PaymentState};

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The payment changed.
    Applied,
    /// The payment already holds a newer state; nothing changed.
    Stale,
    /// The event carries the state already recorded; nothing changed.
    Unchanged,
    /// A type the service does not apply; recorded only.
    Ignored,
    /// This event id was processed before; nothing changed.
    Duplicate,
}

impl Outcome {
    /// Stored and reported name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Stale => "stale",
            Outcome::Unchanged => "unchanged",
            Outcome::Ignored => "ignored",
            Outcome::Duplicate => "duplicate",
        }
    }
}

/// Records event `event_id` and applies `change`, in one transaction.
#[tracing::instrument(skip_all, fields(event_id, kind))]
pub async fn apply(
    pool: &PgPool,
    event_id: &str,
    kind: &str,
    created: DateTime<Utc>,
    change: &Change,
) -> Result<Outcome, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // Claiming the id first makes a concurrent delivery of the same event
    // wait on the key, then find it taken.
    let claimed: Option<String> = sqlx::query_scalar(
        "INSERT INTO metrics.stripe_events (event_id, type, created_at, outcome)
         VALUES ($1, $2, $3, 'pending') ON CONFLICT DO NOTHING RETURNING event_id",
    )
    .bind(event_id)
    .bind(kind)
    .bind(created)
    .fetch_optional(&mut *tx)
    .await?;
    if claimed.is_none() {
        tx.rollback().await?;
        return Ok(Outcome::Duplicate);
    }
    let outcome = match change {
        Change::Payment(state) => upsert(&mut tx, state, created).await?,
        Change::Invoice {
            payment_intent,
            invoice_id,
        } => {
            let updated = sqlx::query(
                "UPDATE metrics.payments SET stripe_invoice_id = $2, updated_at = now() WHERE stripe_id = $1",
            )
            .bind(payment_intent)
            .bind(invoice_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated > 0 {
                Outcome::Applied
            } else {
                Outcome::Ignored
            }
        }
        Change::Subscription(state) => subscription(&mut tx, event_id, state).await?,
        Change::None => Outcome::Ignored,
    };
    sqlx::query("UPDATE metrics.stripe_events SET outcome = $2 WHERE event_id = $1")
        .bind(event_id)
        .bind(outcome.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Records a subscription state for the user its customer maps to (the
/// same path as `ImportSubscriptions`); a customer of no known user is
/// ignored and logged.
async fn subscription(
    tx: &mut sqlx::PgConnection,
    event_id: &str,
    state: &NewSubscription,
) -> Result<Outcome, sqlx::Error> {
    let user = super::subscriptions::user_for_customer(
        tx,
        &state.stripe_subscription_id,
        state.stripe_customer.as_deref(),
    )
    .await?;
    let Some(user_id) = user else {
        tracing::warn!(
            event_id,
            subscription = %state.stripe_subscription_id,
            customer = state.stripe_customer.as_deref().unwrap_or(""),
            "subscription event ignored: its customer maps to no user"
        );
        return Ok(Outcome::Ignored);
    };
    let state = NewSubscription {
        user_id,
        ..state.clone()
    };
    let counts = super::subscriptions::record(tx, std::slice::from_ref(&state)).await?;
    Ok(if counts.stale > 0 {
        Outcome::Stale
    } else if counts.recorded == 0 {
        Outcome::Unchanged
    } else {
        Outcome::Applied
    })
}

async fn upsert(
    tx: &mut sqlx::PgConnection,
    p: &PaymentState,
    event_at: DateTime<Utc>,
) -> Result<Outcome, sqlx::Error> {
    let written: Option<i64> = sqlx::query_scalar(
        "INSERT INTO metrics.payments AS p
             (stripe_id, stripe_charge_id, stripe_customer, amount_minor, currency, status,
              refunded_minor, created_at, raw, last_event_at, refunded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, jsonb_build_object('source', 'stripe_webhook'), $9,
                 CASE WHEN $7 > 0 THEN $9 END)
         ON CONFLICT (stripe_id) DO UPDATE SET
             stripe_charge_id = COALESCE(EXCLUDED.stripe_charge_id, p.stripe_charge_id),
             stripe_customer = COALESCE(EXCLUDED.stripe_customer, p.stripe_customer),
             amount_minor = EXCLUDED.amount_minor,
             currency = EXCLUDED.currency,
             status = CASE
                 WHEN metrics.payment_status_rank(EXCLUDED.status) >= metrics.payment_status_rank(p.status)
                 THEN EXCLUDED.status ELSE p.status END,
             refunded_minor = LEAST(GREATEST(p.refunded_minor, EXCLUDED.refunded_minor), EXCLUDED.amount_minor),
             -- A refund is dated by the event that reported it.
             refunded_at = CASE WHEN EXCLUDED.refunded_minor > p.refunded_minor
                                THEN EXCLUDED.last_event_at ELSE p.refunded_at END,
             last_event_at = EXCLUDED.last_event_at,
             updated_at = now()
         WHERE p.last_event_at IS NULL OR p.last_event_at <= EXCLUDED.last_event_at
         RETURNING payment_id",
    )
    .bind(&p.stripe_id)
    .bind(&p.charge_id)
    .bind(&p.customer)
    .bind(p.amount_minor)
    .bind(&p.currency)
    .bind(p.status.as_str())
    .bind(p.refunded_minor)
    .bind(p.created_at)
    .bind(event_at)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(if written.is_some() {
        Outcome::Applied
    } else {
        Outcome::Stale
    })
}

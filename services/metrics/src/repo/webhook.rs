//! Recording Stripe webhook events once per event id, and applying them:
//! a payment's facts are folded with every other fact of that payment
//! (`webhook::fold`), so its row ends the same whatever order events come in.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};

use super::locks::PAYMENT_LOCK_NAMESPACE;
use crate::domain::NewSubscription;
use crate::webhook::event::Change;
use crate::webhook::facts::Fact;
use crate::webhook::fold::{DisputeRow, Folded, PaymentRow, Told, fold};

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The payment (or subscription) changed.
    Applied,
    /// The event carries nothing the database did not hold.
    Unchanged,
    /// A subscription event older than the recorded state; nothing changed.
    Stale,
    /// About a payment none of whose PaymentIntent or Charge events has
    /// arrived; applied when one does.
    Waiting,
    /// A type the service does not handle; recorded only.
    NotHandled,
    /// A subscription whose customer maps to no user; recorded only.
    UnknownCustomer,
    /// This event id was processed before; nothing changed.
    Duplicate,
}

impl Outcome {
    /// Stored and reported name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Unchanged => "unchanged",
            Outcome::Stale => "stale",
            Outcome::Waiting => "waiting",
            Outcome::NotHandled => "not_handled",
            Outcome::UnknownCustomer => "unknown_customer",
            Outcome::Duplicate => "duplicate",
        }
    }
}

/// An event as received: its envelope.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// `evt_…`.
    pub event_id: &'a str,
    /// E.g. `charge.captured`.
    pub kind: &'a str,
    /// Stripe's `created`.
    pub created: DateTime<Utc>,
    /// The API version its object is rendered in.
    pub api_version: Option<&'a str>,
}

/// Records the event and applies `change`, in one transaction.
#[tracing::instrument(skip_all, fields(event_id = event.event_id, kind = event.kind))]
pub async fn apply(
    pool: &PgPool,
    event: Received<'_>,
    change: &Change,
) -> Result<Outcome, sqlx::Error> {
    let (payment, facts) = match change {
        Change::Payment(p) => (Some(p.payment.as_str()), Some(Json(&p.fact))),
        _ => (None, None),
    };
    let mut tx = pool.begin().await?;
    // The payment's lock first, then the claim of the event id: a concurrent
    // delivery of the same event waits, then finds the id taken.
    let claimed: Option<String> = sqlx::query_scalar(
        "WITH locked AS (
             SELECT pg_advisory_xact_lock($1, hashtext($6)) WHERE $6 IS NOT NULL
         )
         INSERT INTO metrics.stripe_events
             (event_id, type, created_at, outcome, api_version, payment, facts)
         SELECT $2, $3, $4, 'pending', $5, $6, $7
         FROM (SELECT count(*) FROM locked) l
         ON CONFLICT DO NOTHING RETURNING event_id",
    )
    .bind(PAYMENT_LOCK_NAMESPACE)
    .bind(event.event_id)
    .bind(event.kind)
    .bind(event.created)
    .bind(event.api_version)
    .bind(payment)
    .bind(facts)
    .fetch_optional(&mut *tx)
    .await?;
    if claimed.is_none() {
        tx.rollback().await?;
        return Ok(Outcome::Duplicate);
    }
    let (outcome, recorded) = match (change, payment) {
        (Change::Payment(_), Some(payment)) => {
            apply_payment(&mut tx, event.event_id, payment).await?
        }
        (Change::Subscription(state), _) => {
            (subscription(&mut tx, event.event_id, state).await?, false)
        }
        (Change::NotHandled, _) => (Outcome::NotHandled, false),
        _ => (Outcome::Unchanged, false),
    };
    if !recorded {
        sqlx::query("UPDATE metrics.stripe_events SET outcome = $2 WHERE event_id = $1")
            .bind(event.event_id)
            .bind(outcome.as_str())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(outcome)
}

/// Folds every fact of `payment` (this event's among them) and writes the
/// payment, its refund history and its disputes where they differ. Returns
/// the outcome and whether it is recorded already (the payment's write
/// records it with the events that waited for the payment, in one statement).
async fn apply_payment(
    tx: &mut PgConnection,
    event_id: &str,
    payment: &str,
) -> Result<(Outcome, bool), sqlx::Error> {
    let rows: Vec<(i64, Json<Fact>, bool)> = sqlx::query_as(
        "SELECT extract(epoch FROM created_at)::bigint, facts, outcome = 'waiting'
         FROM metrics.stripe_events WHERE payment = $1 AND facts IS NOT NULL",
    )
    .bind(payment)
    .fetch_all(&mut *tx)
    .await?;
    let waiting = rows.iter().any(|(_, _, w)| *w);
    let told: Vec<Told> = rows
        .into_iter()
        .map(|(at, Json(fact), _)| Told { at, fact })
        .collect();
    let Folded {
        payment: Some(row),
        refunds,
        disputes,
    } = fold(payment, &told)
    else {
        return Ok((Outcome::Waiting, false));
    };
    let written = write_payment(tx, event_id, &row, waiting).await?;
    let mut more = false;
    if !refunds.is_empty() {
        more |= write_refunds(tx, payment, &refunds).await?;
    }
    if !disputes.is_empty() {
        more |= write_disputes(tx, payment, &disputes).await?;
    }
    Ok(match (written || waiting, more) {
        (true, _) => (Outcome::Applied, true),
        (false, true) => (Outcome::Applied, false),
        (false, false) => (Outcome::Unchanged, true),
    })
}

fn at(unix: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix, 0).unwrap_or_default()
}

/// Inserts or updates the row where it differs (true when written), and
/// records the outcome of `event_id` (`applied` when the row was written or
/// events `waiting` for it are applied with it, else `unchanged`). The user
/// a payment belongs to is not Stripe's to say.
async fn write_payment(
    tx: &mut PgConnection,
    event_id: &str,
    p: &PaymentRow,
    waiting: bool,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "WITH written AS (
         INSERT INTO metrics.payments AS p
             (stripe_id, stripe_charge_id, stripe_customer, stripe_invoice_id, amount_minor,
              currency, status, refunded_minor, refunded_at, created_at, raw)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
                 jsonb_build_object('source', 'stripe_webhook'))
         ON CONFLICT (stripe_id) DO UPDATE SET
             stripe_charge_id = coalesce(EXCLUDED.stripe_charge_id, p.stripe_charge_id),
             stripe_customer = coalesce(EXCLUDED.stripe_customer, p.stripe_customer),
             stripe_invoice_id = coalesce(EXCLUDED.stripe_invoice_id, p.stripe_invoice_id),
             amount_minor = EXCLUDED.amount_minor,
             currency = EXCLUDED.currency,
             status = EXCLUDED.status,
             refunded_minor = EXCLUDED.refunded_minor,
             refunded_at = EXCLUDED.refunded_at,
             created_at = EXCLUDED.created_at,
             updated_at = now()
         WHERE (p.stripe_charge_id, p.stripe_customer, p.stripe_invoice_id, p.amount_minor,
                p.currency, p.status, p.refunded_minor, p.refunded_at, p.created_at)
               IS DISTINCT FROM
               (coalesce(EXCLUDED.stripe_charge_id, p.stripe_charge_id),
                coalesce(EXCLUDED.stripe_customer, p.stripe_customer),
                coalesce(EXCLUDED.stripe_invoice_id, p.stripe_invoice_id),
                EXCLUDED.amount_minor, EXCLUDED.currency, EXCLUDED.status,
                EXCLUDED.refunded_minor, EXCLUDED.refunded_at, EXCLUDED.created_at)
         RETURNING payment_id
         ), recorded AS (
             UPDATE metrics.stripe_events
             SET outcome = CASE WHEN event_id <> $11 OR $12 OR EXISTS (SELECT 1 FROM written)
                                THEN 'applied' ELSE 'unchanged' END
             WHERE event_id = $11 OR (payment = $1 AND outcome = 'waiting')
         )
         SELECT EXISTS (SELECT 1 FROM written)",
    )
    .bind(&p.stripe_id)
    .bind(&p.charge_id)
    .bind(&p.customer)
    .bind(&p.invoice_id)
    .bind(p.amount_minor)
    .bind(&p.currency)
    .bind(p.status.as_str())
    .bind(p.refunded_minor)
    .bind(p.refunded_at.map(at))
    .bind(at(p.created_at))
    .bind(event_id)
    .bind(waiting)
    .fetch_one(&mut *tx)
    .await
}

/// Makes the payment's refund history the folded one. The refunds trigger
/// records each change of the refunded amount as it is written; in Stripe's
/// order that is already the folded history, and otherwise (events came in
/// another order) the history is replaced. True when anything was written.
async fn write_refunds(
    tx: &mut PgConnection,
    payment: &str,
    refunds: &[(i64, i64)],
) -> Result<bool, sqlx::Error> {
    let (amounts, times): (Vec<i64>, Vec<DateTime<Utc>>) =
        refunds.iter().map(|(amount, t)| (*amount, at(*t))).unzip();
    let written: i64 = sqlx::query_scalar(
        "WITH payment AS (
             SELECT payment_id FROM metrics.payments WHERE stripe_id = $1
         ), want AS (
             SELECT * FROM unnest($2::bigint[], $3::timestamptz[]) AS w(amount_minor, refunded_at)
         ), have AS (
             SELECT r.amount_minor, r.refunded_at
             FROM metrics.payment_refunds r JOIN payment USING (payment_id)
         ), differs AS (
             SELECT EXISTS (SELECT * FROM want EXCEPT ALL SELECT * FROM have)
                 OR EXISTS (SELECT * FROM have EXCEPT ALL SELECT * FROM want) AS yes
         ), cleared AS (
             DELETE FROM metrics.payment_refunds r USING payment, differs
             WHERE r.payment_id = payment.payment_id AND differs.yes
         ), added AS (
             INSERT INTO metrics.payment_refunds (payment_id, amount_minor, refunded_at)
             SELECT payment.payment_id, want.amount_minor, want.refunded_at
             FROM payment, want, differs WHERE differs.yes
             RETURNING 1
         )
         SELECT count(*) FROM added",
    )
    .bind(payment)
    .bind(amounts)
    .bind(times)
    .fetch_one(&mut *tx)
    .await?;
    Ok(written > 0)
}

/// Inserts or updates the payment's disputes where they differ; true when
/// any was written.
async fn write_disputes(
    tx: &mut PgConnection,
    payment: &str,
    disputes: &[DisputeRow],
) -> Result<bool, sqlx::Error> {
    let col = |f: fn(&DisputeRow) -> String| disputes.iter().map(f).collect::<Vec<_>>();
    let amount = |f: fn(&DisputeRow) -> i64| disputes.iter().map(f).collect::<Vec<_>>();
    let when = |f: fn(&DisputeRow) -> Option<i64>| {
        disputes.iter().map(|d| f(d).map(at)).collect::<Vec<_>>()
    };
    let written: i64 = sqlx::query_scalar(
        "WITH written AS (
             INSERT INTO metrics.payment_disputes AS d
                 (dispute_id, stripe_id, charge_id, amount_minor, currency, reason, status,
                  created_at, withdrawn_minor, withdrawn_at, reinstated_minor, reinstated_at)
             SELECT t.dispute_id, $1, t.charge_id, t.amount_minor, t.currency, t.reason, t.status,
                    t.created_at, t.withdrawn_minor, t.withdrawn_at, t.reinstated_minor,
                    t.reinstated_at
             FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[],
                         $8::timestamptz[], $9::bigint[], $10::timestamptz[], $11::bigint[],
                         $12::timestamptz[])
                 AS t(dispute_id, charge_id, amount_minor, currency, reason, status, created_at,
                      withdrawn_minor, withdrawn_at, reinstated_minor, reinstated_at)
             ON CONFLICT (dispute_id) DO UPDATE SET
                 stripe_id = EXCLUDED.stripe_id, charge_id = EXCLUDED.charge_id,
                 amount_minor = EXCLUDED.amount_minor, currency = EXCLUDED.currency,
                 reason = EXCLUDED.reason, status = EXCLUDED.status,
                 created_at = EXCLUDED.created_at, withdrawn_minor = EXCLUDED.withdrawn_minor,
                 withdrawn_at = EXCLUDED.withdrawn_at,
                 reinstated_minor = EXCLUDED.reinstated_minor,
                 reinstated_at = EXCLUDED.reinstated_at, updated_at = now()
             WHERE (d.stripe_id, d.charge_id, d.amount_minor, d.currency, d.reason, d.status,
                    d.created_at, d.withdrawn_minor, d.withdrawn_at, d.reinstated_minor,
                    d.reinstated_at)
                   IS DISTINCT FROM
                   (EXCLUDED.stripe_id, EXCLUDED.charge_id, EXCLUDED.amount_minor,
                    EXCLUDED.currency, EXCLUDED.reason, EXCLUDED.status, EXCLUDED.created_at,
                    EXCLUDED.withdrawn_minor, EXCLUDED.withdrawn_at, EXCLUDED.reinstated_minor,
                    EXCLUDED.reinstated_at)
             RETURNING 1
         )
         SELECT count(*) FROM written",
    )
    .bind(payment)
    .bind(col(|d| d.dispute_id.clone()))
    .bind(col(|d| d.charge_id.clone()))
    .bind(amount(|d| d.amount_minor))
    .bind(col(|d| d.currency.clone()))
    .bind(col(|d| d.reason.clone()))
    .bind(col(|d| d.status.clone()))
    .bind(when(|d| Some(d.created_at)))
    .bind(amount(|d| d.withdrawn.map_or(0, |m| m.amount)))
    .bind(when(|d| d.withdrawn.map(|m| m.at)))
    .bind(amount(|d| d.reinstated.map_or(0, |m| m.amount)))
    .bind(when(|d| d.reinstated.map(|m| m.at)))
    .fetch_one(&mut *tx)
    .await?;
    Ok(written > 0)
}

/// Records a subscription state for the user its customer maps to (the
/// same path as `ImportSubscriptions`); a customer of no known user is
/// recorded as such and logged.
async fn subscription(
    tx: &mut PgConnection,
    event_id: &str,
    state: &NewSubscription,
) -> Result<Outcome, sqlx::Error> {
    use super::subscriptions::{Recorded, record_each};
    let done = record_each(tx, std::slice::from_ref(state)).await?;
    Ok(match done.first() {
        Some(Recorded::NoUser) | None => {
            tracing::warn!(
                event_id,
                subscription = %state.stripe_subscription_id,
                customer = state.stripe_customer.as_deref().unwrap_or(""),
                "subscription event not applied: its customer maps to no user"
            );
            Outcome::UnknownCustomer
        }
        Some(Recorded::Stale) => Outcome::Stale,
        Some(Recorded::Unchanged) => Outcome::Unchanged,
        Some(Recorded::Recorded(_)) => Outcome::Applied,
    })
}

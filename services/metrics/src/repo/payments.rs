//! `metrics.payments` writes from imports (the Stripe webhook writes the
//! same table). Triggers record refund times and mark the payers' cohorts
//! for the next refresh (migration 000006).

use sqlx::PgPool;

use super::UpsertCounts;
use crate::domain::NewPayment;
use crate::error::MetricsError;
use growth_runtime::status::FieldViolation;

/// Inserts new payments and updates changed ones, keyed by `stripe_id`.
#[tracing::instrument(skip_all, fields(rows = payments.len()))]
pub async fn import(pool: &PgPool, payments: &[NewPayment]) -> Result<UpsertCounts, MetricsError> {
    let mut tx = pool.begin().await?;
    let mut linked: Vec<String> = payments.iter().filter_map(|p| p.user_id.clone()).collect();
    linked.sort_unstable();
    linked.dedup();
    let unknown = super::unknown_users(&mut tx, linked).await?;
    if !unknown.is_empty() {
        let violations = payments
            .iter()
            .enumerate()
            .filter(|(_, p)| p.user_id.as_ref().is_some_and(|u| unknown.contains(u)))
            .map(|(i, p)| {
                FieldViolation::new(
                    format!("payments[{i}].user_id"),
                    format!(
                        "unknown user {:?}: upsert the user first",
                        p.user_id.as_deref().unwrap_or_default()
                    ),
                )
            })
            .collect();
        return Err(MetricsError::Invalid(violations));
    }

    let col = |f: fn(&NewPayment) -> Option<&str>| payments.iter().map(f).collect::<Vec<_>>();
    let (inserted, updated): (i64, i64) = sqlx::query_as(
        "WITH input AS (
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                                  $6::bigint[], $7::text[], $8::text[], $9::bigint[],
                                  $10::timestamptz[], $11::text[], $12::timestamptz[])
                 AS t(stripe_id, stripe_charge_id, stripe_invoice_id, stripe_customer, user_id,
                      amount_minor, currency, status, refunded_minor, created_at, raw, refunded_at)
         ), written AS (
             INSERT INTO metrics.payments AS p
                 (stripe_id, stripe_charge_id, stripe_invoice_id, stripe_customer, user_id,
                  amount_minor, currency, status, refunded_minor, created_at, raw, refunded_at)
             SELECT stripe_id, stripe_charge_id, stripe_invoice_id, stripe_customer, user_id,
                    amount_minor, currency, status, refunded_minor, created_at, raw::jsonb,
                    refunded_at
             FROM input
             ON CONFLICT (stripe_id) DO UPDATE SET
                 stripe_charge_id = EXCLUDED.stripe_charge_id,
                 stripe_invoice_id = EXCLUDED.stripe_invoice_id,
                 stripe_customer = EXCLUDED.stripe_customer,
                 user_id = EXCLUDED.user_id,
                 amount_minor = EXCLUDED.amount_minor,
                 currency = EXCLUDED.currency,
                 status = EXCLUDED.status,
                 refunded_minor = EXCLUDED.refunded_minor,
                 created_at = EXCLUDED.created_at,
                 raw = EXCLUDED.raw,
                 refunded_at = coalesce(EXCLUDED.refunded_at, p.refunded_at),
                 updated_at = now()
             WHERE (p.stripe_charge_id, p.stripe_invoice_id, p.stripe_customer, p.user_id,
                    p.amount_minor, p.currency, p.status, p.refunded_minor, p.created_at, p.raw,
                    p.refunded_at)
                   IS DISTINCT FROM
                   (EXCLUDED.stripe_charge_id, EXCLUDED.stripe_invoice_id,
                    EXCLUDED.stripe_customer, EXCLUDED.user_id, EXCLUDED.amount_minor,
                    EXCLUDED.currency, EXCLUDED.status, EXCLUDED.refunded_minor,
                    EXCLUDED.created_at, EXCLUDED.raw,
                    coalesce(EXCLUDED.refunded_at, p.refunded_at))
             RETURNING (xmax = 0) AS inserted
         )
         SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)
         FROM written",
    )
    .bind(col(|p| Some(p.stripe_id.as_str())))
    .bind(col(|p| p.stripe_charge_id.as_deref()))
    .bind(col(|p| p.stripe_invoice_id.as_deref()))
    .bind(col(|p| p.stripe_customer.as_deref()))
    .bind(col(|p| p.user_id.as_deref()))
    .bind(payments.iter().map(|p| p.amount_minor).collect::<Vec<_>>())
    .bind(col(|p| Some(p.currency.as_str())))
    .bind(col(|p| Some(p.status)))
    .bind(
        payments
            .iter()
            .map(|p| p.refunded_minor)
            .collect::<Vec<_>>(),
    )
    .bind(payments.iter().map(|p| p.created_at).collect::<Vec<_>>())
    .bind(col(|p| Some(p.raw.as_str())))
    .bind(payments.iter().map(|p| p.refunded_at).collect::<Vec<_>>())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(UpsertCounts::from_totals(payments.len(), inserted, updated))
}

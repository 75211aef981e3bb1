//! `metrics.audit_runs` / `metrics.audit_findings`, the month's payments the
//! audit compares, and the repair's backfill.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::audit::findings::{Amount, Finding, Kind, Severity, object_type};
use crate::audit::missed::ReplayedEvent;
use crate::audit::model::{DbPayment, Status, StripePayment};
use crate::audit::reconcile::CurrencyTotals;
use crate::audit::repair_summary::RepairSummary;

/// A stored run (findings separately).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRow {
    /// Id.
    pub run_id: Uuid,
    /// `YYYY-MM`.
    pub month: String,
    /// `running`, `completed`, `failed`.
    pub status: String,
    /// `PASS`, `WARNING`, `FAIL`.
    pub verdict: Option<String>,
    /// Whether a repair was asked for.
    pub repair: bool,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub finished_at: Option<DateTime<Utc>>,
    /// Number of findings.
    pub finding_count: i64,
    /// Per-currency totals.
    pub totals: sqlx::types::Json<Vec<CurrencyTotals>>,
    /// Recommendations.
    pub recommendations: sqlx::types::Json<Vec<String>>,
    /// What the repair changed, when repaired.
    pub repair_summary: Option<sqlx::types::Json<RepairSummary>>,
    /// The report.
    pub report_markdown: String,
    /// Why it failed.
    pub error: Option<String>,
}

/// Payments the database records as created in `[from, to)`.
pub async fn month_payments(
    pool: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<DbPayment>, sqlx::Error> {
    type Row = (
        i64,
        String,
        Option<String>,
        i64,
        String,
        String,
        i64,
        DateTime<Utc>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT payment_id, stripe_id, stripe_charge_id, amount_minor, currency, status, refunded_minor, created_at
         FROM metrics.payments WHERE created_at >= $1 AND created_at < $2",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                payment_id,
                stripe_id,
                charge_id,
                amount_minor,
                currency,
                status,
                refunded_minor,
                created_at,
            )| DbPayment {
                payment_id,
                stripe_id,
                charge_id,
                amount_minor,
                currency,
                // The table's CHECK constraint admits only known names.
                status: Status::parse(&status).unwrap_or(Status::Pending),
                refunded_minor,
                created_at,
            },
        )
        .collect())
}

/// Refunds made in `[from, to)` per currency, as the revenue summary counts
/// them: the rows of `metrics.payment_refunds` dated in the range, whatever
/// payment (and month) they belong to; corrections (negative rows) included.
pub async fn month_refunds(
    pool: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.currency, sum(r.amount_minor)::bigint
         FROM metrics.payment_refunds r JOIN metrics.payments p USING (payment_id)
         WHERE r.refunded_at >= $1 AND r.refunded_at < $2
         GROUP BY p.currency",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
}

/// Records a run as started.
pub async fn insert_started(
    pool: &PgPool,
    run_id: Uuid,
    month: &str,
    repair: bool,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO metrics.audit_runs (run_id, month, status, repair, started_at) VALUES ($1, $2, 'running', $3, $4)")
        .bind(run_id)
        .bind(month)
        .bind(repair)
        .bind(at)
        .execute(pool)
        .await?;
    Ok(())
}

/// Marks a run failed with `error`.
pub async fn mark_failed(pool: &PgPool, run_id: Uuid, error: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE metrics.audit_runs SET status = 'failed', error = $2, finished_at = now() WHERE run_id = $1")
        .bind(run_id)
        .bind(error)
        .execute(pool)
        .await?;
    Ok(())
}

/// What a completed run stores.
pub struct Completed<'a> {
    /// The verdict name.
    pub verdict: &'a str,
    /// Totals per currency.
    pub totals: &'a [CurrencyTotals],
    /// Findings.
    pub findings: &'a [Finding],
    /// Recommendations.
    pub recommendations: &'a [String],
    /// Backfilled ids, when repaired.
    pub repaired: Option<&'a [String]>,
    /// Missed webhook events replayed, when repaired.
    pub replayed: &'a [ReplayedEvent],
    /// Entitlement drift repaired, when repaired.
    pub drift_repairs: &'a [String],
    /// The report.
    pub report_markdown: &'a str,
    /// When it finished (the report says it, so the caller decides it).
    pub finished_at: DateTime<Utc>,
}

/// Completes a run and stores its findings (in the caller's transaction).
pub async fn complete(
    tx: &mut PgConnection,
    run_id: Uuid,
    run: &Completed<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE metrics.audit_runs SET status = 'completed', verdict = $2, finding_count = $3, totals = $4,
                recommendations = $5, repair_summary = $6, report_markdown = $7, finished_at = $8
         WHERE run_id = $1",
    )
    .bind(run_id)
    .bind(run.verdict)
    .bind(run.findings.len() as i64)
    .bind(sqlx::types::Json(run.totals))
    .bind(sqlx::types::Json(run.recommendations))
    .bind(run.repaired.map(|ids| {
        sqlx::types::Json(RepairSummary {
            backfilled: ids.to_vec(),
            replayed_events: run.replayed.to_vec(),
            drift_repairs: run.drift_repairs.to_vec(),
        })
    }))
    .bind(run.report_markdown)
    .bind(run.finished_at)
    .execute(&mut *tx)
    .await?;
    let f = run.findings;
    let text = |get: fn(&Finding) -> &str| f.iter().map(get).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO metrics.audit_findings (run_id, ordinal, kind, severity, object_type, stripe_id,
             db_payment_ids, reason, stripe_amount_minor, stripe_currency, db_amount_minor, db_currency)
         SELECT $1, t.ordinal, t.kind, t.severity, t.object_type, t.stripe_id,
                ARRAY(SELECT jsonb_array_elements_text(t.ids)::bigint), t.reason, t.sa, t.sc, t.da, t.dc
         FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::text[],
                     $9::bigint[], $10::text[], $11::bigint[], $12::text[])
             AS t(ordinal, kind, severity, object_type, stripe_id, ids, reason, sa, sc, da, dc)",
    )
    .bind(run_id)
    .bind((0..f.len() as i32).collect::<Vec<_>>())
    .bind(text(|x| x.kind.as_str()))
    .bind(text(|x| x.severity.as_str()))
    .bind(text(|x| x.object_type))
    .bind(text(|x| x.stripe_id.as_str()))
    .bind(f.iter().map(|x| sqlx::types::Json(x.db_payment_ids.clone())).collect::<Vec<_>>())
    .bind(text(|x| x.reason.as_str()))
    .bind(f.iter().map(|x| x.stripe_amount.as_ref().map(|a| a.minor)).collect::<Vec<_>>())
    .bind(f.iter().map(|x| x.stripe_amount.as_ref().map(|a| a.currency.clone())).collect::<Vec<_>>())
    .bind(f.iter().map(|x| x.db_amount.as_ref().map(|a| a.minor)).collect::<Vec<_>>())
    .bind(f.iter().map(|x| x.db_amount.as_ref().map(|a| a.currency.clone())).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Inserts payments missing from the database; returns the Stripe ids
/// actually inserted (a second repair inserts nothing).
pub async fn backfill(
    tx: &mut PgConnection,
    missing: &[&StripePayment],
) -> Result<Vec<String>, sqlx::Error> {
    let col = |get: fn(&StripePayment) -> Option<&str>| {
        missing.iter().map(|p| get(p)).collect::<Vec<_>>()
    };
    sqlx::query_scalar(
        "INSERT INTO metrics.payments (stripe_id, stripe_charge_id, stripe_invoice_id, stripe_customer,
             amount_minor, currency, status, refunded_minor, created_at, raw)
         SELECT t.stripe_id, t.charge, t.invoice, t.customer, t.amount, t.currency, t.status, t.refunded,
                t.created_at, jsonb_build_object('source', 'revenue_audit_repair')
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[],
                     $8::bigint[], $9::timestamptz[])
             AS t(stripe_id, charge, invoice, customer, amount, currency, status, refunded, created_at)
         ON CONFLICT DO NOTHING
         RETURNING stripe_id",
    )
    .bind(col(|p| Some(p.stripe_id.as_str())))
    .bind(col(|p| p.charge_id.as_deref()))
    .bind(col(|p| p.invoice_id.as_deref()))
    .bind(col(|p| p.customer.as_deref()))
    .bind(missing.iter().map(|p| p.amount_minor).collect::<Vec<_>>())
    .bind(col(|p| Some(p.currency.as_str())))
    .bind(col(|p| Some(p.status.as_str())))
    .bind(missing.iter().map(|p| p.refunded_minor).collect::<Vec<_>>())
    .bind(missing.iter().map(|p| p.created_at).collect::<Vec<_>>())
    .fetch_all(&mut *tx)
    .await
}

/// Replaces the refund history of backfilled payments with the one Stripe's
/// objects give (`(stripe_id, amount, refunded_at)` rows; the insert's
/// trigger dated the whole refunded amount at the repair's time). The
/// amounts of each payment add up to its `refunded_minor`.
pub async fn backfill_refunds(
    tx: &mut PgConnection,
    rows: &[(String, i64, DateTime<Utc>)],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "WITH want AS (
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::timestamptz[])
                 AS w(stripe_id, amount_minor, refunded_at)
         ), target AS (
             SELECT p.payment_id, p.stripe_id FROM metrics.payments p
             WHERE p.stripe_id IN (SELECT stripe_id FROM want)
         ), cleared AS (
             DELETE FROM metrics.payment_refunds r USING target WHERE r.payment_id = target.payment_id
         )
         INSERT INTO metrics.payment_refunds (payment_id, amount_minor, refunded_at)
         SELECT target.payment_id, want.amount_minor, want.refunded_at
         FROM want JOIN target USING (stripe_id)",
    )
    .bind(rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.2).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// One run, if it exists.
pub async fn get(pool: &PgPool, run_id: Uuid) -> Result<Option<RunRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM metrics.audit_runs WHERE run_id = $1")
        .bind(run_id)
        .fetch_optional(pool)
        .await
}

/// A run's findings in stored order.
pub async fn findings(pool: &PgPool, run_id: Uuid) -> Result<Vec<Finding>, sqlx::Error> {
    type Row = (
        String,
        String,
        String,
        String,
        Vec<i64>,
        String,
        Option<i64>,
        Option<String>,
        Option<i64>,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT kind, severity, object_type, stripe_id, db_payment_ids, reason,
                stripe_amount_minor, stripe_currency, db_amount_minor, db_currency
         FROM metrics.audit_findings WHERE run_id = $1 ORDER BY ordinal",
    )
    .bind(run_id)
    .fetch_all(pool)
    .await?;
    let amount = |minor: Option<i64>, currency: Option<String>| {
        Some(Amount {
            minor: minor?,
            currency: currency?,
        })
    };
    Ok(rows
        .into_iter()
        .map(
            |(kind, severity, object, stripe_id, ids, reason, sa, sc, da, dc)| Finding {
                kind: Kind::parse(&kind).unwrap_or(Kind::StatusDrift),
                severity: Severity::parse(&severity).unwrap_or(Severity::Warning),
                object_type: object_type(&object),
                stripe_id,
                db_payment_ids: ids,
                reason,
                stripe_amount: amount(sa, sc),
                db_amount: amount(da, dc),
                stripe_status: None,
                db_status: None,
            },
        )
        .collect())
}

/// Runs newest first, optionally of one month, `limit` after `offset`.
pub async fn list(
    pool: &PgPool,
    month: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<RunRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM metrics.audit_runs WHERE ($1::text IS NULL OR month = $1)
         ORDER BY started_at DESC, run_id LIMIT $2 OFFSET $3",
    )
    .bind(month)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
}

/// Every subscription row with what it grants: its latest state and its
/// user's plan (for the audit's entitlement drift).
pub async fn granted(pool: &PgPool) -> Result<Vec<crate::audit::drift::Granted>, sqlx::Error> {
    let rows: Vec<(String, Option<String>, String, String, String)> = sqlx::query_as(
        "SELECT s.stripe_subscription_id, s.stripe_customer, s.user_id, s.status, u.plan
         FROM metrics.subscriptions s JOIN metrics.users u USING (user_id)
         ORDER BY s.stripe_subscription_id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(subscription_id, customer, user_id, status, user_plan)| {
            crate::audit::drift::Granted {
                subscription_id,
                customer,
                user_id,
                status,
                user_plan,
            }
        })
        .collect())
}

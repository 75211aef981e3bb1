//! `metrics.alert_outbox`: queued with the audit run, claimed by the
//! delivery worker with `FOR UPDATE SKIP LOCKED` (several replicas never
//! deliver one row twice at once).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

/// One queued alert.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Alert {
    /// Row id.
    pub alert_id: i64,
    /// `slack` or `github`.
    pub channel: String,
    /// `YYYY-MM`.
    pub month: String,
    /// Title (GitHub issue title, Slack headline).
    pub title: String,
    /// Body (markdown).
    pub body: String,
    /// Attempts so far.
    pub attempts: i32,
}

/// Queues one alert per channel for a run (in the run's transaction).
pub async fn enqueue(
    tx: &mut PgConnection,
    run_id: Uuid,
    channels: &[&str],
    month: &str,
    verdict: &str,
    title: &str,
    body: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO metrics.alert_outbox (run_id, channel, month, verdict, title, body)
         SELECT $1, c, $3, $4, $5, $6 FROM unnest($2::text[]) AS c
         ON CONFLICT (run_id, channel) DO NOTHING",
    )
    .bind(run_id)
    .bind(channels)
    .bind(month)
    .bind(verdict)
    .bind(title)
    .bind(body)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Due alerts, locked for this transaction.
pub async fn claim_due(
    tx: &mut Transaction<'_, Postgres>,
    limit: i64,
) -> Result<Vec<Alert>, sqlx::Error> {
    sqlx::query_as(
        "SELECT alert_id, channel, month, title, body, attempts FROM metrics.alert_outbox
         WHERE status = 'pending' AND next_attempt_at <= now()
         ORDER BY alert_id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(&mut **tx)
    .await
}

/// Marks an alert delivered.
pub async fn delivered(
    tx: &mut PgConnection,
    alert_id: i64,
    external_ref: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE metrics.alert_outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = now(),
             external_ref = $2, last_error = NULL WHERE alert_id = $1",
    )
    .bind(alert_id)
    .bind(external_ref)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Records a failed attempt: retried at `retry_at`, or dead when `None`.
pub async fn failed(
    tx: &mut PgConnection,
    alert_id: i64,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE metrics.alert_outbox SET attempts = attempts + 1, last_error = $2,
             status = CASE WHEN $3::timestamptz IS NULL THEN 'dead' ELSE 'pending' END,
             next_attempt_at = COALESCE($3, next_attempt_at) WHERE alert_id = $1",
    )
    .bind(alert_id)
    .bind(error)
    .bind(retry_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// (channel, status, attempts) of a run's alerts, for tests and inspection.
pub async fn of_run(
    pool: &PgPool,
    run_id: Uuid,
) -> Result<Vec<(String, String, i32)>, sqlx::Error> {
    sqlx::query_as("SELECT channel, status, attempts FROM metrics.alert_outbox WHERE run_id = $1 ORDER BY channel")
        .bind(run_id)
        .fetch_all(pool)
        .await
}

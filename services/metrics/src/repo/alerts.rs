//! `metrics.alert_outbox`: queued with the audit run, delivered by the
//! runtime's outbox kit (one row claimed at a time, `SKIP LOCKED`, a lease
//! held by the worker's session), described here by [`OUTBOX`].

use growth_runtime::outbox::TableSpec;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The alert outbox, for the outbox kit. A claimed alert stays `pending`.
pub const OUTBOX: TableSpec = TableSpec {
    table: "metrics.alert_outbox",
    id: "alert_id",
    id_type: "int8",
    claimed_status: "pending",
    order: "next_attempt_at, alert_id",
    columns: "t.alert_id, t.channel, t.month, t.title, t.body, t.attempts",
    reference: Some("external_ref"),
};

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

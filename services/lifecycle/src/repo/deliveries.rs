//! `lifecycle.deliveries`, the Kit outbox. Rows are queued with their
//! transition and delivered by the runtime's outbox kit, described here by
//! [`OUTBOX`]: claimed one at a time (`sending`, `FOR UPDATE SKIP LOCKED`, a
//! lease held by the worker's session) before the request goes out, so a
//! crash mid-send leaves one `sending` row whose dead holder says "the
//! outcome is unknown".

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use growth_runtime::outbox::TableSpec;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// A stored delivery.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    /// Id.
    pub delivery_id: Uuid,
    /// The rule that queued it.
    pub rule_id: Uuid,
    /// The user.
    pub user_id: String,
    /// Where the action goes.
    pub email: String,
    /// The transition that caused it.
    pub transition_id: i64,
    /// Kit action (proto number).
    pub action: i16,
    /// Kit id of the tag, sequence or form.
    pub target_id: String,
    /// Custom field values.
    pub fields: Json<BTreeMap<String, String>>,
    /// pending, sending, delivered, dead, skipped_no_credentials.
    pub status: String,
    /// Attempts started.
    pub attempts: i32,
    /// Last failure.
    pub last_error: Option<String>,
    /// The last attempt may have reached Kit.
    pub outcome_unknown: bool,
    /// Next attempt due.
    pub next_attempt_at: DateTime<Utc>,
    /// Queued.
    pub created_at: DateTime<Utc>,
    /// Accepted by Kit.
    pub delivered_at: Option<DateTime<Utc>>,
    /// (transition, action, target) key.
    pub idempotency_key: String,
}

const COLUMNS: &str =
    "delivery_id, rule_id, user_id, email, transition_id, action, target_id, fields,
    status, attempts, last_error, outcome_unknown, next_attempt_at, created_at, delivered_at,
    idempotency_key";

/// The Kit outbox, for the outbox kit.
pub const OUTBOX: TableSpec = TableSpec {
    table: "lifecycle.deliveries",
    id: "delivery_id",
    id_type: "uuid",
    claimed_status: "sending",
    order: "next_attempt_at, created_at",
    columns: COLUMNS,
    reference: None,
};

/// A delivery to queue.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// The rule.
    pub rule_id: Uuid,
    /// The user.
    pub user_id: String,
    /// Where to.
    pub email: String,
    /// The transition.
    pub transition_id: i64,
    /// Action (proto number).
    pub action: i16,
    /// Kit id.
    pub target_id: String,
    /// Custom field values.
    pub fields: BTreeMap<String, String>,
    /// Unique key.
    pub idempotency_key: String,
}

/// Queues deliveries in the caller's transaction; a key already queued is
/// skipped. Returns how many were queued.
pub async fn enqueue(tx: &mut PgConnection, rows: &[NewDelivery]) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::new_v4()).collect();
    let rules: Vec<Uuid> = rows.iter().map(|r| r.rule_id).collect();
    let users: Vec<&str> = rows.iter().map(|r| r.user_id.as_str()).collect();
    let emails: Vec<&str> = rows.iter().map(|r| r.email.as_str()).collect();
    let transitions: Vec<i64> = rows.iter().map(|r| r.transition_id).collect();
    let actions: Vec<i16> = rows.iter().map(|r| r.action).collect();
    let targets: Vec<&str> = rows.iter().map(|r| r.target_id.as_str()).collect();
    let fields: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| serde_json::to_value(&r.fields).unwrap_or_default())
        .collect();
    let keys: Vec<&str> = rows.iter().map(|r| r.idempotency_key.as_str()).collect();
    let n = sqlx::query(
        "INSERT INTO lifecycle.deliveries
             (delivery_id, rule_id, user_id, email, transition_id, action, target_id, fields, idempotency_key)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::int8[], $6::int2[],
                              $7::text[], $8::jsonb[], $9::text[])
         ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(&ids)
    .bind(&rules)
    .bind(&users)
    .bind(&emails)
    .bind(&transitions)
    .bind(&actions)
    .bind(&targets)
    .bind(&fields)
    .bind(&keys)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(n)
}

/// Without a Kit key: marks due pending rows `skipped_no_credentials`.
pub async fn skip_without_credentials(pool: &PgPool) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE lifecycle.deliveries SET status = 'skipped_no_credentials',
             last_error = 'no Kit API key configured (set KIT_API_KEY or CONVERTKIT_API_KEY)'
         WHERE status = 'pending' AND next_attempt_at <= now()",
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// Puts a dead or skipped (or pending) row back in the queue, due now, with
/// a fresh attempt budget. `Ok(None)`: no such row. A delivered or sending
/// row is returned unchanged.
pub async fn retry(pool: &PgPool, id: Uuid) -> Result<Option<DeliveryRow>, sqlx::Error> {
    let sql = format!(
        "WITH updated AS (
             UPDATE lifecycle.deliveries SET status = 'pending', attempts = 0, next_attempt_at = now()
             WHERE delivery_id = $1 AND status IN ('pending', 'dead', 'skipped_no_credentials')
             RETURNING {COLUMNS})
         SELECT {COLUMNS} FROM updated
         UNION ALL
         SELECT {COLUMNS} FROM lifecycle.deliveries WHERE delivery_id = $1 AND NOT EXISTS (SELECT 1 FROM updated)"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// A page of rows, newest first, optionally in these statuses and of one
/// user, after the row `(created_at, delivery_id)` of the previous page.
pub async fn list(
    pool: &PgPool,
    statuses: Option<&[&str]>,
    user_id: Option<&str>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM lifecycle.deliveries
         WHERE ($1::text[] IS NULL OR status = ANY($1)) AND ($2::text IS NULL OR user_id = $2)
           AND ($3::timestamptz IS NULL OR (created_at, delivery_id) < ($3, $4))
         ORDER BY created_at DESC, delivery_id DESC LIMIT $5"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(statuses)
        .bind(user_id)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(limit)
        .fetch_all(pool)
        .await
}

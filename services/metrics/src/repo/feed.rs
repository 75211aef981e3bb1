//! Reading the event feed in sequence order.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// One stored event with its feed position.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FeedRow {
    /// Feed position.
    pub sequence: i64,
    /// Client idempotency id.
    pub event_id: String,
    /// The user.
    pub user_id: String,
    /// Event name.
    pub name: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Properties as JSON text.
    pub properties: String,
    /// When it was stored.
    pub recorded_at: DateTime<Utc>,
}

/// Up to `limit` events after position `after`, in position order.
pub async fn page(pool: &PgPool, after: i64, limit: i64) -> Result<Vec<FeedRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT sequence, event_id, user_id, name, occurred_at, properties::text AS properties,
                recorded_at
         FROM metrics.events
         WHERE sequence > $1
         ORDER BY sequence
         LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await
}

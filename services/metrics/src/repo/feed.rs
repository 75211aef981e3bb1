//! Reading the event feed in sequence order, and listening for new events.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::postgres::PgListener;

use super::events::FEED_CHANNEL;

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

/// Listens for committed events on a connection of its own and calls
/// `woken` once when listening starts (notifications may have been missed
/// before) and after every notification; returns only with the error that
/// lost the connection.
pub async fn listen(pool: &PgPool, mut woken: impl FnMut()) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(FEED_CHANNEL).await?;
    woken();
    loop {
        listener.recv().await?;
        woken();
    }
}

//! Listing the Stripe webhook events recorded (`ListStripeEvents`), and
//! which of a list of event ids were never recorded (the audit's check).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Created at or after.
    pub since: Option<DateTime<Utc>>,
    /// An exact type, or a prefix ending in `.`.
    pub kind: Option<String>,
    /// A stored outcome name.
    pub outcome: Option<&'static str>,
}

/// One recorded event.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredEvent {
    /// `evt_…`.
    pub event_id: String,
    /// The event type.
    pub kind: String,
    /// Stripe's `created`.
    pub created_at: DateTime<Utc>,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// The stored outcome name.
    pub outcome: String,
    /// Its API version.
    pub api_version: Option<String>,
    /// The payment it is about.
    pub payment: Option<String>,
}

/// A page of events matching `filter`, newest first.
pub async fn list(
    pool: &PgPool,
    filter: &EventFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    // A prefix filter matches literally: LIKE's wildcards are escaped.
    let kind = filter.kind.as_deref().map(|k| {
        let literal = k
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        if k.ends_with('.') {
            format!("{literal}%")
        } else {
            literal
        }
    });
    sqlx::query_as(
        "SELECT event_id, type AS kind, created_at, received_at, outcome, api_version, payment
         FROM metrics.stripe_events
         WHERE ($1::timestamptz IS NULL OR created_at >= $1)
           AND ($2::text IS NULL OR type LIKE $2)
           AND ($3::text IS NULL OR outcome = $3)
         ORDER BY created_at DESC, event_id DESC
         LIMIT $4 OFFSET $5",
    )
    .bind(filter.since)
    .bind(kind)
    .bind(filter.outcome)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
}

/// Of `event_ids`, those the webhook never recorded, in one query.
pub async fn unrecorded(pool: &PgPool, event_ids: &[String]) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT t.id FROM unnest($1::text[]) WITH ORDINALITY AS t(id, n)
         WHERE NOT EXISTS (SELECT 1 FROM metrics.stripe_events e WHERE e.event_id = t.id)
         ORDER BY t.n",
    )
    .bind(event_ids)
    .fetch_all(pool)
    .await
}

//! SQL of the metrics service. Every write is set-based (`unnest` of arrays)
//! and runs in one explicit transaction; nothing here knows about gRPC.

pub mod active_years;
pub mod activity;
pub mod alerts;
pub mod audit;
pub mod cohorts;
pub mod dashboard_sessions;
pub mod events;
pub mod feed;
pub mod insights;
pub mod locks;
pub mod payments;
pub mod reporting;
pub mod reports;
pub mod revenue;
pub mod stripe_events;
pub mod subscriptions;
pub mod users;
pub mod webhook;

/// The connection pool the service's repository functions run on.
pub type Pool = sqlx::PgPool;
/// One connection (a transaction derefs to it), for callers that pass the
/// transaction they opened on to repository functions.
pub type Connection = sqlx::PgConnection;
/// What a repository function fails with.
pub type DbError = sqlx::Error;

/// Counts of an idempotent upsert.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    /// Rows that did not exist.
    pub inserted: u32,
    /// Existing rows that changed.
    pub updated: u32,
    /// Existing rows sent again unchanged.
    pub unchanged: u32,
}

impl UpsertCounts {
    fn from_totals(total: usize, inserted: i64, updated: i64) -> Self {
        let inserted = u32::try_from(inserted).unwrap_or(u32::MAX);
        let updated = u32::try_from(updated).unwrap_or(u32::MAX);
        let total = u32::try_from(total).unwrap_or(u32::MAX);
        Self {
            inserted,
            updated,
            unchanged: total.saturating_sub(inserted + updated),
        }
    }
}

/// Ids among `ids` with no row in `metrics.users` (sorted, distinct).
pub async fn unknown_users(
    tx: &mut sqlx::PgConnection,
    ids: Vec<String>,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT id FROM unnest($1::text[]) AS t(id)
         WHERE NOT EXISTS (SELECT 1 FROM metrics.users u WHERE u.user_id = t.id)
         ORDER BY id",
    )
    .bind(ids)
    .fetch_all(tx)
    .await
}

//! `metrics.dashboard_sessions`: the dashboard's sign-ins, kept by the hash
//! of their id (see `dashboard::session`).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// Stores a new session, signed in with the token hashed to `token_hash`,
/// valid until `expires_at`, and deletes the expired ones, in one
/// transaction.
#[tracing::instrument(skip_all)]
pub async fn create(
    pool: &PgPool,
    id_hash: &[u8],
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM metrics.dashboard_sessions WHERE expires_at <= now()")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO metrics.dashboard_sessions (id_hash, token_hash, expires_at)
         VALUES ($1, $2, $3)",
    )
    .bind(id_hash)
    .bind(token_hash)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// The token hash of the unexpired session with this id hash, if there is
/// one. Reads only.
#[tracing::instrument(skip_all)]
pub async fn live_token(pool: &PgPool, id_hash: &[u8]) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT token_hash FROM metrics.dashboard_sessions
          WHERE id_hash = $1 AND expires_at > now()",
    )
    .bind(id_hash)
    .fetch_optional(pool)
    .await
}

/// Ends the session with this hash (nothing if there is none).
#[tracing::instrument(skip_all)]
pub async fn delete(pool: &PgPool, id_hash: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM metrics.dashboard_sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(pool)
        .await
        .map(|_| ())
}

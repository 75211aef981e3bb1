//! `lifecycle.feed_cursors`: how far a feed consumer has processed.

use sqlx::{PgConnection, PgPool};

/// The stored cursor of `consumer` (0 when it never ran).
pub async fn get(pool: &PgPool, consumer: &str) -> Result<i64, sqlx::Error> {
    let row: Option<i64> =
        sqlx::query_scalar("SELECT last_sequence FROM lifecycle.feed_cursors WHERE consumer = $1")
            .bind(consumer)
            .fetch_optional(pool)
            .await?;
    Ok(row.unwrap_or(0))
}

/// Moves the cursor from `expected` to `next`, in the caller's transaction.
/// Returns false when another consumer moved it meanwhile (this one lost
/// leadership): the caller must roll back.
pub async fn advance(
    tx: &mut PgConnection,
    consumer: &str,
    expected: i64,
    next: i64,
) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "INSERT INTO lifecycle.feed_cursors AS c (consumer, last_sequence) VALUES ($1, $3)
         ON CONFLICT (consumer) DO UPDATE SET last_sequence = $3, updated_at = now()
         WHERE c.last_sequence = $2",
    )
    .bind(consumer)
    .bind(expected)
    .bind(next)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(moved == 1)
}

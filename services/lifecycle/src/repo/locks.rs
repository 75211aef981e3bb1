//! Every advisory lock of the lifecycle service, and the order they are
//! taken in:
//!
//! 1. [`FEED_LOCK`] (session level, on a connection of its own): held by the
//!    replica that follows the metrics feed; tried, never waited for.
//! 2. [`EVALUATION_LOCK`] (session level, on a connection of its own): held
//!    by the bulk evaluation that is running; tried, never waited for.
//! 3. [`WRITE_LOCK`] (transaction level): taken first by every batch that
//!    writes stages, whichever of the two above its caller holds.
//!
//! The session locks are never held by the same task, and the one
//! transaction-level lock is taken alone, so no two holders wait on each
//! other.

use sqlx::PgConnection;

/// Every batch that writes stages takes this transaction-level advisory lock
/// first, so the feed consumer and a bulk evaluation never both decide a
/// user's next stage from the same old one.
pub const WRITE_LOCK: i64 = 0x6c69_6665_7772_6974; // "lifewrit"

/// Held (session level) by the bulk evaluation that is running.
pub const EVALUATION_LOCK: i64 = 0x6c69_6665_6576_616c; // "lifeeval"

/// Held (session level) by the replica that follows the metrics feed.
pub const FEED_LOCK: i64 = 0x6c69_6665_6665_6564; // "lifefeed"

/// Takes [`WRITE_LOCK`] for the rest of `tx`'s transaction (waiting for it).
pub async fn hold_writes(tx: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(WRITE_LOCK)
        .execute(tx)
        .await?;
    Ok(())
}

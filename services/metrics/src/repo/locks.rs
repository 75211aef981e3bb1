//! Every advisory lock of the metrics service, and the order they are taken
//! in. A transaction that needs several takes them in this order, never
//! another, so that no two transactions wait on each other:
//!
//! 1. [`audit_month`]: a session lock on a connection of its own, one
//!    audit per month at a time (tried, never waited for); the audit's
//!    transaction then takes the locks below as its writes need them.
//! 2. [`PAYMENT_LOCK_NAMESPACE`] + the payment key's hash: one payment's
//!    webhook events apply one at a time.
//! 3. [`SUBSCRIPTIONS_LOCK`]: every subscription write.
//! 4. [`FEED_LOCK`]: the insert-and-commit step of every event write, and
//!    the payments triggers (`metrics.cohort_changes`, whose migration
//!    spells the key as the literal 7882834757525140225); the user upsert and
//!    the rollup rebuild too.
//! 5. [`FOLD_LOCK`]: every multi-row write of `metrics.user_cohorts` (the
//!    fold, the upsert's cohort assignment, the rebuild).
//! 6. [`REFRESH_LOCK`]: a cohort refresh, which takes nothing else in its
//!    transaction (its fold commits before).
//! 7. [`REPORTS_LOCK`]: storing a weekly report's revision, which takes
//!    nothing else.
//!
//! Transaction-level locks end with their transaction.

use sqlx::PgConnection;

/// Serialises the insert-and-commit step of event writes (the feed's order).
pub const FEED_LOCK: i64 = 0x6d65_7472_6963_7301; // "metrics" + 1
/// Serialises cohort refreshes (and nothing else).
pub const REFRESH_LOCK: i64 = 0x6d65_7472_6963_7302; // "metrics" + 2
/// Serialises folds (and other multi-row writers of the activity bitmaps).
pub const FOLD_LOCK: i64 = 0x6d65_7472_6963_7303; // "metrics" + 3
/// Serialises the numbering of weekly reports' revisions.
pub const REPORTS_LOCK: i64 = 0x6d65_7472_6963_7304; // "metrics" + 4
/// Taken by every subscription write: two writers never compare against the
/// same latest state at once. Writes are small and rare next to reads, so
/// one lock for all is enough.
pub const SUBSCRIPTIONS_LOCK: i64 = 0x7375_6273_0000_0001;
/// Namespace of the per-payment locks (`pg_advisory_xact_lock(int, int)`
/// with the payment key's hash): one payment's events apply one at a time,
/// each folding every fact committed before it.
pub const PAYMENT_LOCK_NAMESPACE: i32 = 0x7061_7931; // "pay1"

/// The session-lock key of the audit of one UTC month (`month` 1..=12).
pub fn audit_month(year: i32, month: u32) -> i64 {
    0x6175_6469_7400_0000 + i64::from(year) * 12 + i64::from(month)
}

/// Takes the transaction-level lock `key` for the rest of `tx`'s
/// transaction (waiting for it).
pub async fn hold(tx: &mut PgConnection, key: i64) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(key)
        .execute(tx)
        .await?;
    Ok(())
}

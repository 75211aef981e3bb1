//! The refresh's bookkeeping: the feed position each granularity has been
//! refreshed to, the cohort days changed since, the cohorts stored, and
//! recording a refresh (forgetting the changes every granularity covers).

use chrono::NaiveDate;
use sqlx::PgConnection;

/// A cohort day with changes: the highest position of a change to its user
/// cells and of a mark (its revenue too), and the lowest position still
/// pending anywhere (the same in every row).
pub type Change = (NaiveDate, Option<i64>, Option<i64>, Option<i64>);

/// The position each refreshed granularity (by stored name) covers.
pub async fn marks(tx: &mut PgConnection) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT period_type, refreshed_seq FROM metrics.retention_refreshes")
        .fetch_all(&mut *tx)
        .await
}

/// The cohort days changed past position `lowest`, in one statement (one
/// snapshot): rollup rows (activity and membership) and marks (payments,
/// and the cohorts a moved user left and joined).
pub async fn changes(tx: &mut PgConnection, lowest: i64) -> Result<Vec<Change>, sqlx::Error> {
    sqlx::query_as(
        "SELECT cohort_day, max(changed_seq) FILTER (WHERE NOT marked),
                max(changed_seq) FILTER (WHERE marked),
                (SELECT min(seq) FROM metrics.activity_pending)
         FROM (SELECT cohort_day, changed_seq, false AS marked FROM metrics.cohort_activity
               WHERE changed_seq > $1
               UNION ALL
               SELECT cohort_day, changed_seq, true FROM metrics.cohort_changes
               WHERE changed_seq > $1) c
         GROUP BY cohort_day",
    )
    .bind(lowest)
    .fetch_all(&mut *tx)
    .await
}

/// The stored cohorts starting in `from..=to` (either bound open): (stored
/// granularity name, cohort start, whether a revenue row).
pub async fn stored(
    tx: &mut PgConnection,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<(String, NaiveDate, bool)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT period_type, cohort_date, false FROM metrics.retention_rows
             WHERE ($1::date IS NULL OR cohort_date >= $1) AND ($2::date IS NULL OR cohort_date <= $2)
             UNION
             SELECT period_type, cohort_date, true FROM metrics.retention_revenue
             WHERE ($1::date IS NULL OR cohort_date >= $1) AND ($2::date IS NULL OR cohort_date <= $2)",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *tx)
    .await
}

/// Records a refresh of the granularities `names` now; with `unbounded`
/// (every cohort, both metrics) it covers the changes up to `high`. Marks
/// every granularity has covered are deleted.
pub async fn record(
    tx: &mut PgConnection,
    names: &[&str],
    high: i64,
    unbounded: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO metrics.retention_refreshes AS rr (period_type, refreshed_at, refreshed_seq)
         SELECT unnest($1::text[]), now(), CASE WHEN $3 THEN $2 ELSE 0 END
         ON CONFLICT (period_type) DO UPDATE SET refreshed_at = excluded.refreshed_at,
             refreshed_seq = CASE WHEN $3 THEN GREATEST(rr.refreshed_seq, $2)
                                  ELSE rr.refreshed_seq END",
    )
    .bind(names)
    .bind(high)
    .bind(unbounded)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM metrics.cohort_changes
         WHERE changed_seq <= (SELECT min(refreshed_seq) FROM metrics.retention_refreshes)
           AND (SELECT count(*) FROM metrics.retention_refreshes) = 3",
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

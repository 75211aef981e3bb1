//! Reading the stored retention cells back: matrix rows, revenue cells,
//! when a granularity was last refreshed, and the cohorts' members now.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::cohorts::measure::Mode;
use crate::cohorts::period::Period;
use crate::cohorts::read::Row;
use crate::cohorts::revenue::CohortRevenue;
use crate::repo::Pool;

/// The matrix of `period` in `mode` for cohorts starting in the range, as of
/// `today` (reporting time zone).
pub async fn matrix(
    pool: &Pool,
    period: Period,
    mode: Mode,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Vec<Row>, sqlx::Error> {
    let stored: Vec<(NaiveDate, i64, Vec<i64>)> = sqlx::query_as(
        "SELECT cohort_date, cohort_size, retained FROM metrics.retention_rows
         WHERE period_type = $1 AND mode = $2
           AND ($3::date IS NULL OR cohort_date >= $3) AND ($4::date IS NULL OR cohort_date <= $4)
         ORDER BY cohort_date",
    )
    .bind(period.name())
    .bind(mode.name())
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    Ok(stored
        .into_iter()
        .map(|(cohort, size, retained)| Row::from_counts(period, cohort, size, &retained, today))
        .collect())
}

/// Stored revenue of the cohorts of `period` starting in the range: cohort
/// → currency → revenue.
pub async fn revenue(
    pool: &Pool,
    period: Period,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<BTreeMap<NaiveDate, BTreeMap<String, CohortRevenue>>, sqlx::Error> {
    let stored: Vec<(NaiveDate, String, Vec<i64>, i64)> = sqlx::query_as(
        "SELECT cohort_date, currency, revenue, later_minor FROM metrics.retention_revenue
         WHERE period_type = $1
           AND ($2::date IS NULL OR cohort_date >= $2) AND ($3::date IS NULL OR cohort_date <= $3)",
    )
    .bind(period.name())
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    let mut out: BTreeMap<NaiveDate, BTreeMap<String, CohortRevenue>> = BTreeMap::new();
    for (cohort, currency, by_offset, later) in stored {
        out.entry(cohort)
            .or_default()
            .insert(currency, CohortRevenue { by_offset, later });
    }
    Ok(out)
}

/// When `period` was last refreshed.
pub async fn refreshed_at(
    pool: &Pool,
    period: Period,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT refreshed_at FROM metrics.retention_refreshes WHERE period_type = $1",
    )
    .bind(period.name())
    .fetch_optional(pool)
    .await
}

/// Per cohort of `period` starting in `from..=to`: its users now and, of
/// those, the users with at least one captured payment.
pub async fn members(
    pool: &Pool,
    period: Period,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<(NaiveDate, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "WITH members AS (
             SELECT user_id, CASE $1 WHEN 'day' THEN cohort_day WHEN 'week' THEN cohort_week
                                 ELSE cohort_month END AS cohort
             FROM metrics.user_cohorts
         )
         SELECT m.cohort, count(*),
                count(*) FILTER (WHERE EXISTS (
                    SELECT 1 FROM metrics.payments p
                    WHERE p.user_id = m.user_id
                      AND p.status IN ('succeeded', 'partially_refunded', 'refunded')))
         FROM members m
         WHERE ($2::date IS NULL OR m.cohort >= $2) AND ($3::date IS NULL OR m.cohort <= $3)
         GROUP BY m.cohort ORDER BY m.cohort",
    )
    .bind(period.name())
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
}

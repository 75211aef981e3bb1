//! `GetRetentionMatrix`, from the stored cells: periods that have not begun
//! are left out, periods that have not ended are marked incomplete (whatever
//! their value, never a final 0%).

use chrono::NaiveDate;
use sqlx::PgPool;

use super::period::Period;

/// One stored row of a matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Period offset.
    pub offset: i32,
    /// Users retained.
    pub retained: i64,
    /// The period has not ended.
    pub incomplete: bool,
}

/// A cohort's row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Cohort start.
    pub cohort: NaiveDate,
    /// Users in it.
    pub size: i64,
    /// Cells of the periods that have begun.
    pub cells: Vec<Cell>,
}

/// The matrix of `period` in `mode` for cohorts starting in the range, as of
/// `today` (reporting time zone).
pub async fn matrix(
    pool: &PgPool,
    period: Period,
    mode: &str,
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
    .bind(mode)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    let mut rows = Vec::with_capacity(stored.len());
    for (cohort, size, retained) in stored {
        let cells = retained
            .into_iter()
            .zip(0i32..)
            .take_while(|(_, offset)| period.nth_start(cohort, *offset) <= today)
            .map(|(retained, offset)| Cell {
                offset,
                retained,
                incomplete: period.nth_start(cohort, offset + 1) > today,
            })
            .collect();
        rows.push(Row {
            cohort,
            size,
            cells,
        });
    }
    Ok(rows)
}

/// Today in `time_zone`, as PostgreSQL (which cuts the days) sees it.
pub async fn today(pool: &PgPool, time_zone: &str) -> Result<NaiveDate, sqlx::Error> {
    sqlx::query_scalar("SELECT (now() AT TIME ZONE $1)::date")
        .bind(time_zone)
        .fetch_one(pool)
        .await
}

/// When `period` was last refreshed.
pub async fn refreshed_at(
    pool: &PgPool,
    period: Period,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT refreshed_at FROM metrics.retention_refreshes WHERE period_type = $1",
    )
    .bind(period.name())
    .fetch_optional(pool)
    .await
}

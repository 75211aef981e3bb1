//! `GetRetentionMatrix` and `GetCohortOverview`, from the stored cells: periods that have not begun
//! are left out, periods that have not ended are marked incomplete (whatever
//! their value, never a final 0%).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::PgPool;

use super::measure::Mode;
use super::period::Period;
use super::revenue::CohortRevenue;

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

impl Row {
    /// The row of a cohort computed from `retained` (offsets 0..=max), with
    /// the periods not begun by `today` left out.
    pub fn from_counts(
        period: Period,
        cohort: NaiveDate,
        size: i64,
        retained: &[i64],
        today: NaiveDate,
    ) -> Self {
        Row {
            cohort,
            size,
            cells: visible(period, cohort, today)
                .zip(retained)
                .map(|((offset, incomplete), retained)| Cell {
                    offset,
                    retained: *retained,
                    incomplete,
                })
                .collect(),
        }
    }
}

/// The matrix of `period` in `mode` for cohorts starting in the range, as of
/// `today` (reporting time zone).
pub async fn matrix(
    pool: &PgPool,
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

/// The offsets of the cohort starting `cohort` whose periods have begun by
/// `today`, each with whether its period is still running.
pub fn visible(
    period: Period,
    cohort: NaiveDate,
    today: NaiveDate,
) -> impl Iterator<Item = (i32, bool)> {
    (0..=period.max_offset())
        .take_while(move |offset| period.nth_start(cohort, *offset) <= today)
        .map(move |offset| (offset, period.nth_start(cohort, offset + 1) > today))
}

/// Stored revenue of the cohorts of `period` starting in the range: cohort
/// → currency → revenue.
pub async fn revenue(
    pool: &PgPool,
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

//! `GetCohortOverview`: per cohort, its users and paying users now, net
//! revenue to date per currency (stored revenue cells), and retention at a
//! few checkpoint offsets (stored user cells, mode "on").

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::PgPool;

use super::measure::Mode;
use super::period::Period;
use super::read;

/// The offsets an overview shows for `period`.
pub fn checkpoints(period: Period) -> &'static [i32] {
    match period {
        Period::Day => &[1, 7, 30],
        Period::Week => &[1, 4, 12],
        Period::Month => &[1, 3, 12],
    }
}

/// One cohort's headline numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct OverviewRow {
    /// Cohort start.
    pub cohort: NaiveDate,
    /// Users in the cohort now.
    pub users: i64,
    /// Of those, users with at least one captured payment.
    pub paying: i64,
    /// Net revenue to date per currency (as of the last refresh).
    pub revenue: BTreeMap<String, i64>,
    /// The stored row the checkpoints come from (as of the last refresh).
    pub stored: Option<read::Row>,
}

/// The overview of the `period` cohorts starting in `from..=to`.
pub async fn overview(
    pool: &PgPool,
    period: Period,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Vec<OverviewRow>, sqlx::Error> {
    let counted: Vec<(NaiveDate, i64, i64)> = sqlx::query_as(
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
    .await?;
    let mut stored: BTreeMap<NaiveDate, read::Row> =
        read::matrix(pool, period, Mode::On, from, to, today)
            .await?
            .into_iter()
            .map(|r| (r.cohort, r))
            .collect();
    let mut money = read::revenue(pool, period, from, to).await?;
    Ok(counted
        .into_iter()
        .map(|(cohort, users, paying)| OverviewRow {
            cohort,
            users,
            paying,
            revenue: money
                .remove(&cohort)
                .unwrap_or_default()
                .into_iter()
                .map(|(currency, r)| (currency, r.total()))
                .collect(),
            stored: stored.remove(&cohort),
        })
        .collect())
}

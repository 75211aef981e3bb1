//! The revenue queries (`GetRevenueSummary`'s totals and money,
//! `GetChurnReport`'s rows), all starting with one set-based pass over the
//! subscription history ([`CTES`]): each customer's MRR per currency, as
//! changes.
//!
//! Nothing is valued customer by customer and month by month. Every state
//! is turned into a change of its customer's MRR (minus the previous state's
//! MRR, plus its own), each change is put in the month it falls in with a
//! binary search over the sorted month boundaries (`width_bucket`), the
//! changes are summed per customer, currency and month, and a running sum
//! over a customer's months gives their MRR at each month's start and end.
//! A customer whose MRR did not change in a month costs nothing for that
//! month: month totals are running sums over the months' changes. The work
//! is one pass over the history, whatever the number of months.

use chrono::NaiveDate;
use sqlx::Row as _;
use sqlx::postgres::PgRow;

use super::Pool;
use crate::revenue::churn::ReportRow;
use crate::revenue::money::MonthMoney;
use crate::revenue::movements::MonthTotals;

/// SQL parameters of [`CTES`] (`points.sql`): `$1` the `n + 1` boundaries
/// of `n` consecutive periods (local dates: months' first days, weeks'
/// Mondays), `$2` the number of periods `n`, `$3` the reporting time zone.
///
/// CTEs defined:
/// - `bounds(at)`: the `n + 1` period-start instants `at[1..=n+1]` (the
///   first instants of those local days), each capped at `now()` (so the
///   current period ends now). MRR "at" an instant
///   counts the latest state of each subscription at or before it, so month
///   `m` runs over changes in `(at[m], at[m+1]]`;
/// - `pairs(user_id, currency, m, start_mrr, end_mrr, subs, paid_before)`:
///   one row per customer, currency and month `m` (1..=n) in which their MRR
///   changed, plus `m = 0` for their history up to `at[1]`: MRR at the
///   month's start and end, the change in their paid subscriptions, and
///   whether they had MRR > 0 at any time before the month.
pub const CTES: &str = include_str!("points.sql");

/// Per month and currency: MRR at the start and end, and the movements.
const SUMMARY: &str = include_str!("summary.sql");

/// Per month and currency: gross, refunds and disputes.
const MONEY: &str = include_str!("money.sql");

/// The churn report's rows (see [`ReportRow`]).
const REPORT: &str = include_str!("churn.sql");

/// The number of periods between `bounds`.
fn period_count(bounds: &[NaiveDate]) -> i32 {
    i32::try_from(bounds.len().saturating_sub(1)).unwrap_or(i32::MAX)
}

/// Totals of the periods between consecutive `bounds` (local dates, at
/// least two), cut in `time_zone`.
pub async fn totals(
    pool: &Pool,
    bounds: &[NaiveDate],
    time_zone: &str,
) -> Result<Vec<MonthTotals>, sqlx::Error> {
    if bounds.len() < 2 {
        return Ok(vec![]);
    }
    let sql = format!("WITH {CTES}, {SUMMARY}");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(bounds)
        .bind(period_count(bounds))
        .bind(time_zone)
        .fetch_all(pool)
        .await?;
    rows.iter().map(month_totals).collect()
}

fn month_totals(row: &PgRow) -> Result<MonthTotals, sqlx::Error> {
    Ok(MonthTotals {
        k: row.try_get("k")?,
        currency: row.try_get("currency")?,
        mrr_start: row.try_get("mrr_start")?,
        mrr_end: row.try_get("mrr_end")?,
        new: row.try_get("new")?,
        expansion: row.try_get("expansion")?,
        contraction: row.try_get("contraction")?,
        churned: row.try_get("churned")?,
        reactivation: row.try_get("reactivation")?,
        active_subscriptions: row.try_get("active_subscriptions")?,
        customers: row.try_get("customers")?,
        churned_customers: row.try_get("churned_customers")?,
    })
}

/// The money of the periods between consecutive `bounds` (local dates, at
/// least two), cut in `time_zone`.
pub async fn money(
    pool: &Pool,
    bounds: &[NaiveDate],
    time_zone: &str,
) -> Result<Vec<MonthMoney>, sqlx::Error> {
    if bounds.len() < 2 {
        return Ok(vec![]);
    }
    let rows: Vec<(i32, String, i64, i64, i64)> = sqlx::query_as(MONEY)
        .bind(bounds)
        .bind(period_count(bounds))
        .bind(time_zone)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(k, currency, gross, refunds, disputes)| MonthMoney {
            k,
            currency,
            gross,
            refunds,
            disputes,
        })
        .collect())
}

/// The churn report's rows for the month starting on `month`, cut in
/// `time_zone`.
pub async fn churn_rows(
    pool: &Pool,
    month: NaiveDate,
    time_zone: &str,
) -> Result<Vec<ReportRow>, sqlx::Error> {
    let sql = format!("WITH {CTES}, {REPORT}");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(crate::revenue::month::bounds(&[month]))
        .bind(1i32)
        .bind(time_zone)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(ReportRow {
                kind: row.try_get("kind")?,
                currency: row.try_get("currency")?,
                user_id: row.try_get("user_id")?,
                email: row.try_get("email")?,
                plan: row.try_get("plan")?,
                first: row.try_get("first")?,
                second: row.try_get("second")?,
                churned_at: row.try_get("churned_at")?,
            })
        })
        .collect()
}

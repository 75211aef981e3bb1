//! What the weekly report reads besides the revenue queries and the active
//! users: signups and trials per period, and the latest audit of a month.
//! Periods are given by their boundaries (local dates of `time_zone`, each
//! period from one boundary's first instant to the next one's).

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::Pool;
use crate::insights::report::PlanWeek;

/// The periods' boundaries as instants, in a CTE `b(at)`.
const BOUNDS: &str = "b AS (
         SELECT array_agg(metrics.local_day_start(d, $2) ORDER BY d) AS at
         FROM unnest($1::date[]) AS d
     )";

/// Users who signed up in each period, oldest first.
pub async fn signups(
    pool: &Pool,
    bounds: &[NaiveDate],
    time_zone: &str,
) -> Result<Vec<i64>, sqlx::Error> {
    let rows: Vec<(i32, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "WITH {BOUNDS}
         SELECT width_bucket(u.signup_at, b.at), count(*)
         FROM metrics.users u, b
         WHERE u.signup_at >= b.at[1] AND u.signup_at < b.at[cardinality(b.at)]
         GROUP BY 1"
    )))
    .bind(bounds)
    .bind(time_zone)
    .fetch_all(pool)
    .await?;
    Ok(per_period(bounds, rows.into_iter()))
}

/// Per period: trials that ended in it, and those of their users who paid
/// (a captured payment) by seven days after the trial's end. Set-based: a
/// user paid by then when their first captured payment was by then, so each
/// user's first captured payment is found once (one pass over the payments,
/// hashed) rather than probed per user of the window.
pub async fn trials(
    pool: &Pool,
    bounds: &[NaiveDate],
    time_zone: &str,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    let rows: Vec<(i32, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "WITH {BOUNDS}, first_paid AS (
             SELECT p.user_id, min(p.created_at) AS at
             FROM metrics.payments p, b
             WHERE p.status IN ('succeeded', 'partially_refunded', 'refunded')
               AND p.created_at < b.at[cardinality(b.at)] + interval '7 days'
             GROUP BY p.user_id
         ), ended AS (
             SELECT width_bucket(u.trial_ends_at, b.at) AS k,
                    f.at <= u.trial_ends_at + interval '7 days' AS paid
             FROM metrics.users u CROSS JOIN b
             LEFT JOIN first_paid f ON f.user_id = u.user_id
             WHERE u.trial_ends_at >= b.at[1] AND u.trial_ends_at < b.at[cardinality(b.at)]
         )
         SELECT k, count(*), count(*) FILTER (WHERE paid) FROM ended GROUP BY k"
    )))
    .bind(bounds)
    .bind(time_zone)
    .fetch_all(pool)
    .await?;
    let ended = per_period(bounds, rows.iter().map(|(k, n, _)| (*k, *n)));
    let paid = per_period(bounds, rows.iter().map(|(k, _, p)| (*k, *p)));
    Ok(ended.into_iter().zip(paid).collect())
}

/// Values per 1-based period `k`, as a vector over every period (0 where
/// none).
fn per_period(bounds: &[NaiveDate], rows: impl Iterator<Item = (i32, i64)>) -> Vec<i64> {
    let mut out = vec![0; bounds.len().saturating_sub(1)];
    for (k, n) in rows {
        if let Some(slot) = usize::try_from(k - 1).ok().and_then(|i| out.get_mut(i)) {
            *slot = n;
        }
    }
    out
}

/// The latest audit run of a month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestAudit {
    /// The run.
    pub run_id: Uuid,
    /// `running`, `completed` or `failed`.
    pub status: String,
    /// PASS, WARNING or FAIL when completed.
    pub verdict: Option<String>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
}

/// The latest finished audit run of `month` ("YYYY-MM"), if any.
pub async fn latest_audit(pool: &Pool, month: &str) -> Result<Option<LatestAudit>, sqlx::Error> {
    type Row = (Uuid, String, Option<String>, Option<DateTime<Utc>>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT run_id, status, verdict, finished_at FROM metrics.audit_runs
         WHERE month = $1 AND status <> 'running'
         ORDER BY started_at DESC LIMIT 1",
    )
    .bind(month)
    .fetch_optional(pool)
    .await?;
    Ok(
        row.map(|(run_id, status, verdict, finished_at)| LatestAudit {
            run_id,
            status,
            verdict,
            finished_at,
        }),
    )
}

/// Per plan and currency, the period between the two `bounds`: customers
/// and MRR at its end (each subscription's latest state at or before it),
/// and the customers who started and stopped paying on the plan in it.
pub async fn plans(
    pool: &Pool,
    bounds: [NaiveDate; 2],
    time_zone: &str,
) -> Result<Vec<PlanWeek>, sqlx::Error> {
    let rows: Vec<(String, String, i64, i64, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(
        format!(
            "WITH {BOUNDS}, at_end AS (
                 SELECT DISTINCT ON (h.stripe_subscription_id)
                        h.stripe_subscription_id, h.plan, h.currency, h.mrr_minor
                 FROM metrics.subscription_states h, b
                 WHERE h.effective_at <= b.at[2]
                 ORDER BY h.stripe_subscription_id, h.effective_at DESC
             ), at_start AS (
                 SELECT DISTINCT ON (h.stripe_subscription_id)
                        h.stripe_subscription_id, h.mrr_minor
                 FROM metrics.subscription_states h, b
                 WHERE h.effective_at <= b.at[1]
                 ORDER BY h.stripe_subscription_id, h.effective_at DESC
             )
             SELECT e.plan, e.currency,
                    count(DISTINCT s.user_id) FILTER (WHERE e.mrr_minor > 0),
                    coalesce(sum(e.mrr_minor) FILTER (WHERE e.mrr_minor > 0), 0)::bigint,
                    count(DISTINCT s.user_id) FILTER (WHERE coalesce(st.mrr_minor, 0) = 0 AND e.mrr_minor > 0),
                    count(DISTINCT s.user_id) FILTER (WHERE st.mrr_minor > 0 AND e.mrr_minor = 0)
             FROM at_end e
             JOIN metrics.subscriptions s USING (stripe_subscription_id)
             LEFT JOIN at_start st USING (stripe_subscription_id)
             GROUP BY e.plan, e.currency
             HAVING count(*) FILTER (WHERE e.mrr_minor > 0 OR st.mrr_minor > 0) > 0
             ORDER BY e.currency, 4 DESC, e.plan"
        ),
    ))
    .bind(&bounds[..])
    .bind(time_zone)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(plan, currency, customers, mrr, new_customers, churned_customers)| PlanWeek {
                plan,
                currency,
                customers,
                mrr,
                new_customers,
                churned_customers,
            },
        )
        .collect())
}

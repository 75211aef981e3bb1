//! Per-user activity and revenue summaries (`GetUserActivity`), computed per
//! user from that user's own rows (index range scans on
//! `events (user_id, occurred_at)`, `payments (user_id, created_at)` and
//! `subscriptions (user_id)`), so the work is linear in the users asked for
//! and never joins users together.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// One user's summary.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActivityRow {
    /// The user.
    pub user_id: String,
    /// E-mail address.
    pub email: String,
    /// Signup.
    pub signup_at: DateTime<Utc>,
    /// Plan.
    pub plan: String,
    /// Trial end.
    pub trial_ends_at: Option<DateTime<Utc>>,
    /// Latest event.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Events in the last day.
    pub events_1d: i64,
    /// Events in the last 7 days.
    pub events_7d: i64,
    /// Events in the last 30 days.
    pub events_30d: i64,
    /// Distinct UTC days with events in the last 30 days.
    pub active_days_30d: i64,
    /// Distinct event names in the last 30 days.
    pub distinct_events_30d: i64,
    /// A captured payment in the last 35 days, or MRR now.
    pub paying: bool,
    /// MRR of the latest state of each subscription, per currency (only
    /// currencies with MRR > 0): `{"usd": 4900}`.
    pub mrr: sqlx::types::Json<std::collections::BTreeMap<String, i64>>,
    /// Captured minus refunded, per currency: `{"usd": 14700}`.
    pub lifetime_revenue: sqlx::types::Json<std::collections::BTreeMap<String, i64>>,
}

const SUMMARY: &str = "
    SELECT u.user_id, u.email, u.signup_at, u.plan, u.trial_ends_at,
           a.last_seen_at, a.events_1d, a.events_7d, a.events_30d, a.active_days_30d,
           a.distinct_events_30d, coalesce(p.paying, false) OR m.mrr IS NOT NULL AS paying,
           coalesce(m.mrr, '{}'::jsonb) AS mrr,
           coalesce(p.revenue, '{}'::jsonb) AS lifetime_revenue
    FROM users_asked u
    LEFT JOIN LATERAL (
        SELECT (SELECT max(occurred_at) FROM metrics.events e WHERE e.user_id = u.user_id) AS last_seen_at,
               count(*) FILTER (WHERE occurred_at >= $2 - interval '1 day') AS events_1d,
               count(*) FILTER (WHERE occurred_at >= $2 - interval '7 days') AS events_7d,
               count(*) AS events_30d,
               count(DISTINCT (occurred_at AT TIME ZONE 'UTC')::date) AS active_days_30d,
               count(DISTINCT name) AS distinct_events_30d
        FROM metrics.events e
        WHERE e.user_id = u.user_id AND e.occurred_at >= $2 - interval '30 days' AND e.occurred_at <= $2
    ) a ON true
    LEFT JOIN LATERAL (
        SELECT bool_or(created_at >= $2 - interval '35 days') AS paying,
               jsonb_object_agg(currency, net) AS revenue
        FROM (
            SELECT currency, sum(amount_minor - refunded_minor) AS net, max(created_at) AS created_at
            FROM metrics.payments pay
            WHERE pay.user_id = u.user_id AND status IN ('succeeded', 'partially_refunded', 'refunded')
            GROUP BY currency
        ) per_currency
    ) p ON true
    LEFT JOIN LATERAL (
        SELECT jsonb_object_agg(currency, mrr) AS mrr
        FROM (
            SELECT currency, sum(mrr_minor) AS mrr
            FROM metrics.subscriptions s
            WHERE s.user_id = u.user_id AND s.mrr_minor > 0
            GROUP BY currency
        ) per_currency
    ) m ON true
    ORDER BY u.user_id";

/// Summaries of the users in `ids` that exist, as of `now`.
pub async fn for_users(
    pool: &PgPool,
    ids: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<ActivityRow>, sqlx::Error> {
    let sql = format!(
        "WITH users_asked AS (SELECT user_id, email, signup_at, plan, trial_ends_at FROM metrics.users WHERE user_id = ANY($1)) {SUMMARY}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(ids)
        .bind(now)
        .fetch_all(pool)
        .await
}

/// Summaries of up to `limit` users after `after` in id order, as of `now`.
pub async fn page(
    pool: &PgPool,
    after: &str,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<Vec<ActivityRow>, sqlx::Error> {
    let sql = format!(
        "WITH users_asked AS (SELECT user_id, email, signup_at, plan, trial_ends_at FROM metrics.users
                              WHERE user_id > $1 ORDER BY user_id LIMIT $3) {SUMMARY}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(after)
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await
}

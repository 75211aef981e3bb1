//! `GetChurnReport`: who paid at the start of a month and pays nothing at its
//! end, from one query over [`super::points`].

use chrono::{DateTime, NaiveDate, Utc};
use growth_proto::common::v1::Money;
use growth_proto::metrics::v1 as pb;
use sqlx::PgPool;

use super::points::CTES;

/// A row of the report query: the headline (`total`), one per currency
/// (`currency`) or one per churned customer and currency (`customer`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRow {
    /// `total`, `currency` or `customer`.
    pub kind: String,
    /// The currency (`currency`, `customer`).
    pub currency: Option<String>,
    /// The churned user (`customer`).
    pub user_id: Option<String>,
    /// Their e-mail (`customer`).
    pub email: Option<String>,
    /// The plan they churned from (`customer`).
    pub plan: Option<String>,
    /// Customers at start (`total`), MRR at start (`currency`), MRR lost
    /// (`customer`).
    pub first: Option<i64>,
    /// Customers churned (`total`), MRR churned (`currency`).
    pub second: Option<i64>,
    /// When the customer's MRR reached zero (`customer`).
    pub churned_at: Option<DateTime<Utc>>,
}

const REPORT: &str = "
    month AS (
        -- Per customer and currency: MRR at the month's start and end (a
        -- customer without a change in the month keeps their value).
        SELECT user_id, currency,
               coalesce(max(start_mrr) FILTER (WHERE m = 1), max(end_mrr) FILTER (WHERE m = 0), 0)
                   AS start_mrr,
               coalesce(max(end_mrr) FILTER (WHERE m = 1), max(end_mrr) FILTER (WHERE m = 0), 0)
                   AS end_mrr
        FROM pairs GROUP BY user_id, currency
    ),
    customers AS (
        SELECT user_id, bool_or(start_mrr > 0) AS paying_start, bool_or(end_mrr > 0) AS paying_end
        FROM month GROUP BY user_id
    ),
    churned AS (
        SELECT p.user_id, p.currency, p.start_mrr
        FROM month p JOIN customers c USING (user_id)
        WHERE c.paying_start AND NOT c.paying_end AND p.start_mrr > 0
    ),
    drops AS (
        -- The last state in the month that took a paid subscription of the
        -- customer to zero: when the customer's MRR reached zero.
        SELECT DISTINCT ON (s.user_id, t.prev_currency)
               s.user_id, t.prev_currency AS currency, t.prev_plan AS plan, t.effective_at
        FROM (
            SELECT h.stripe_subscription_id, h.effective_at, h.mrr_minor,
                   lag(h.mrr_minor) OVER w AS prev_mrr, lag(h.plan) OVER w AS prev_plan,
                   lag(h.currency) OVER w AS prev_currency
            FROM metrics.subscription_states h
            WHERE h.stripe_subscription_id IN (
                SELECT stripe_subscription_id FROM metrics.subscriptions
                WHERE user_id IN (SELECT user_id FROM churned))
            WINDOW w AS (PARTITION BY h.stripe_subscription_id ORDER BY h.effective_at)
        ) t
        JOIN metrics.subscriptions s USING (stripe_subscription_id)
        CROSS JOIN bounds b
        WHERE t.prev_mrr > 0 AND t.mrr_minor = 0
          AND t.effective_at > b.at[1] AND t.effective_at <= b.at[2]
        ORDER BY s.user_id, t.prev_currency, t.effective_at DESC
    )
    SELECT 'total' AS kind, NULL::text AS currency, NULL::text AS user_id, NULL::text AS email,
           NULL::text AS plan,
           count(*) FILTER (WHERE paying_start) AS first,
           count(*) FILTER (WHERE paying_start AND NOT paying_end) AS second,
           NULL::timestamptz AS churned_at
    FROM customers
    UNION ALL
    SELECT 'currency', p.currency, NULL, NULL, NULL, sum(p.start_mrr)::bigint,
           coalesce((SELECT sum(c.start_mrr) FROM churned c WHERE c.currency = p.currency), 0)::bigint,
           NULL
    FROM month p GROUP BY p.currency HAVING sum(p.start_mrr) > 0
    UNION ALL
    SELECT 'customer', c.currency, c.user_id, u.email, coalesce(d.plan, ''), c.start_mrr, NULL,
           d.effective_at
    FROM churned c
    JOIN metrics.users u USING (user_id)
    LEFT JOIN drops d USING (user_id, currency)";

/// The report's rows for the month starting on `month`, cut in `time_zone`.
pub async fn rows(
    pool: &PgPool,
    month: NaiveDate,
    time_zone: &str,
) -> Result<Vec<ReportRow>, sqlx::Error> {
    let sql = format!("WITH {CTES}, {REPORT}");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(month)
        .bind(1i32)
        .bind(time_zone)
        .fetch_all(pool)
        .await
}

/// The response from the query's rows: currencies in order, churned
/// customers by MRR lost (largest first), then user id.
pub fn report(
    month: String,
    time_zone: String,
    rows: Vec<ReportRow>,
) -> pb::GetChurnReportResponse {
    let mut r = pb::GetChurnReportResponse {
        month,
        time_zone,
        ..Default::default()
    };
    let money = |amount_minor: Option<i64>, currency: &Option<String>| Money {
        amount_minor: amount_minor.unwrap_or(0),
        currency: currency.clone().unwrap_or_default(),
    };
    for row in rows {
        match row.kind.as_str() {
            "total" => {
                r.customers_at_start = row.first.unwrap_or(0);
                r.customers_churned = row.second.unwrap_or(0);
            }
            "currency" => {
                r.mrr_at_start.push(money(row.first, &row.currency));
                r.mrr_churned.push(money(row.second, &row.currency));
            }
            _ => r.churned_customers.push(pb::ChurnedCustomer {
                mrr: Some(money(row.first, &row.currency)),
                user_id: row.user_id.unwrap_or_default(),
                email: row.email.unwrap_or_default(),
                plan: row.plan.unwrap_or_default(),
                churned_at: row.churned_at.map(crate::convert::timestamp),
            }),
        }
    }
    r.customer_churn_rate = super::movements::ratio(r.customers_churned, r.customers_at_start);
    r.mrr_at_start.sort_by(|a, b| a.currency.cmp(&b.currency));
    r.mrr_churned.sort_by(|a, b| a.currency.cmp(&b.currency));
    let lost = |c: &pb::ChurnedCustomer| c.mrr.as_ref().map_or(0, |m| m.amount_minor);
    r.churned_customers.sort_by(|a, b| {
        lost(b)
            .cmp(&lost(a))
            .then_with(|| a.user_id.cmp(&b.user_id))
    });
    r
}

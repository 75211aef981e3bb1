//! `GetChurnReport`: who paid at the start of a month and pays nothing at its
//! end, from one query (`crate::repo::revenue`).

use chrono::{DateTime, Utc};
use growth_proto::common::v1::Money;
use growth_proto::metrics::v1 as pb;

/// A row of the report query: the headline (`total`), one per currency
/// (`currency`) or one per churned customer and currency (`customer`).
#[derive(Debug, Clone)]
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

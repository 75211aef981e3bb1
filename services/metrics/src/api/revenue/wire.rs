//! The revenue replies: a month's movements and money per currency, every
//! month of a summary, and the churn report.

use chrono::NaiveDate;
use growth_proto::common::v1::Money;
use growth_proto::metrics::v1 as pb;

use crate::revenue::churn::ReportRow;
use crate::revenue::money::MonthMoney;
use crate::revenue::month::label;
use crate::revenue::movements::{MonthTotals, ratio};

/// One currency's movements and money on the wire, with the derived
/// numbers: net new, ARR, NRR and GRR (both 0 when the month started with no
/// MRR), net revenue.
pub fn movements(t: &MonthTotals, money: &MonthMoney) -> pb::MrrMovements {
    pb::MrrMovements {
        currency: t.currency.clone(),
        mrr_minor: t.mrr_end,
        arr_minor: t.mrr_end.saturating_mul(12),
        new_minor: t.new,
        expansion_minor: t.expansion,
        contraction_minor: t.contraction,
        churned_minor: t.churned,
        reactivation_minor: t.reactivation,
        net_new_minor: t.new + t.expansion + t.reactivation - t.contraction - t.churned,
        net_revenue_retention: ratio(
            t.mrr_start + t.expansion - t.contraction - t.churned,
            t.mrr_start,
        ),
        gross_revenue_retention: ratio(t.mrr_start - t.contraction - t.churned, t.mrr_start),
        active_subscriptions: t.active_subscriptions,
        mrr_at_start_minor: t.mrr_start,
        customers: t.customers,
        gross_revenue_minor: money.gross,
        refunds_minor: money.refunds,
        disputes_minor: money.disputes,
        net_revenue_minor: money.net(),
    }
}

/// Every month of the range in order, one entry per currency with MRR or
/// money in the month (months with neither have no currencies); the month
/// holding `today` is marked partial.
pub fn months(
    months: &[NaiveDate],
    totals: &[MonthTotals],
    money: &[MonthMoney],
    today: NaiveDate,
) -> Vec<pb::MonthlyRevenue> {
    months
        .iter()
        .zip(1i32..)
        .map(|(first, k)| {
            let mut currencies: Vec<&str> = totals
                .iter()
                .filter(|t| t.k == k)
                .map(|t| t.currency.as_str())
                .chain(
                    money
                        .iter()
                        .filter(|m| m.k == k)
                        .map(|m| m.currency.as_str()),
                )
                .collect();
            currencies.sort_unstable();
            currencies.dedup();
            let of = |currency: &str| MonthTotals {
                k,
                currency: currency.to_owned(),
                ..MonthTotals::default()
            };
            pb::MonthlyRevenue {
                month: label(*first),
                partial: label(*first) == label(today),
                currencies: currencies
                    .into_iter()
                    .map(|c| {
                        let t = totals.iter().find(|t| t.k == k && t.currency == c);
                        let m = money.iter().find(|m| m.k == k && m.currency == c);
                        movements(
                            &t.cloned().unwrap_or_else(|| of(c)),
                            &m.cloned().unwrap_or_default(),
                        )
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The response from the query's rows: currencies in order, churned
/// customers by currency, then MRR lost (largest first: amounts are compared
/// only within a currency), then user id.
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
                churned_at: row.churned_at.map(growth_proto::timestamp::from_utc),
            }),
        }
    }
    r.customer_churn_rate = ratio(r.customers_churned, r.customers_at_start);
    r.mrr_at_start.sort_by(|a, b| a.currency.cmp(&b.currency));
    r.mrr_churned.sort_by(|a, b| a.currency.cmp(&b.currency));
    let lost = |c: &pb::ChurnedCustomer| c.mrr.as_ref().map_or(0, |m| m.amount_minor);
    let currency = |c: &pb::ChurnedCustomer| c.mrr.as_ref().map(|m| m.currency.clone());
    r.churned_customers.sort_by(|a, b| {
        currency(a)
            .cmp(&currency(b))
            .then_with(|| lost(b).cmp(&lost(a)))
            .then_with(|| a.user_id.cmp(&b.user_id))
    });
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals() -> MonthTotals {
        MonthTotals {
            k: 1,
            currency: "usd".into(),
            mrr_start: 10_000,
            mrr_end: 11_500,
            new: 2_000,
            expansion: 1_500,
            contraction: 500,
            churned: 2_000,
            reactivation: 500,
            active_subscriptions: 9,
            customers: 8,
            churned_customers: 2,
        }
    }

    #[test]
    fn net_new_arr_and_retention_follow_from_the_movements() {
        let m = movements(&totals(), &MonthMoney::default());
        assert_eq!(m.net_new_minor, 1_500);
        assert_eq!(m.mrr_minor, m.mrr_at_start_minor + m.net_new_minor);
        assert_eq!(m.arr_minor, 138_000);
        // (10,000 + 1,500 - 500 - 2,000) / 10,000 and (10,000 - 500 - 2,000) / 10,000
        assert!((m.net_revenue_retention - 0.9).abs() < 1e-12);
        assert!((m.gross_revenue_retention - 0.75).abs() < 1e-12);
    }

    #[test]
    fn retention_is_zero_without_mrr_at_the_start() {
        let m = movements(
            &MonthTotals {
                mrr_start: 0,
                ..totals()
            },
            &MonthMoney::default(),
        );
        assert_eq!(
            (m.net_revenue_retention, m.gross_revenue_retention),
            (0.0, 0.0)
        );
    }

    #[test]
    fn months_without_totals_are_listed_empty() {
        let first = NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid");
        let second = NaiveDate::from_ymd_opt(2025, 2, 1).expect("valid");
        let today = NaiveDate::from_ymd_opt(2025, 2, 14).expect("valid");
        let listed = months(
            &[first, second],
            &[MonthTotals { k: 2, ..totals() }],
            &[],
            today,
        );
        assert_eq!(listed[0].month, "2025-01");
        assert!(listed[0].currencies.is_empty());
        assert_eq!(listed[1].currencies.len(), 1);
        // The month holding today is not over.
        assert_eq!((listed[0].partial, listed[1].partial), (false, true));
    }

    #[test]
    fn money_without_mrr_gets_its_own_currency_and_net_subtracts_refunds_and_disputes() {
        let first = NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid");
        let money = MonthMoney {
            k: 1,
            currency: "eur".into(),
            gross: 10_000,
            refunds: 1_000,
            disputes: 2_500,
        };
        let listed = months(&[first], &[totals()], std::slice::from_ref(&money), first);
        let currencies: Vec<&str> = listed[0]
            .currencies
            .iter()
            .map(|c| c.currency.as_str())
            .collect();
        assert_eq!(currencies, ["eur", "usd"]);
        let eur = &listed[0].currencies[0];
        assert_eq!(
            (
                eur.gross_revenue_minor,
                eur.refunds_minor,
                eur.disputes_minor,
                eur.net_revenue_minor
            ),
            (10_000, 1_000, 2_500, 6_500)
        );
        assert_eq!(
            (eur.mrr_minor, listed[0].currencies[1].net_revenue_minor),
            (0, 0)
        );
    }
}

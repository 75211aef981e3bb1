//! `GetRevenueSummary`: per month and currency, MRR at the start and end and
//! the movements between them, from one query (`crate::repo::revenue`):
//! movements from the customers whose MRR changed in a month, totals as
//! running sums of the months' changes.

use chrono::NaiveDate;
use growth_proto::metrics::v1 as pb;

use super::money::MonthMoney;
use super::month::label;

/// One month's totals in one currency, as the query sums them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthTotals {
    /// 1-based month index in the range.
    pub k: i32,
    /// Lower-case currency.
    pub currency: String,
    /// MRR at the start of the month.
    pub mrr_start: i64,
    /// MRR at the end (now, for the current month).
    pub mrr_end: i64,
    /// From customers with no MRR in this currency ever before the month.
    pub new: i64,
    /// Increases of customers paying at both ends.
    pub expansion: i64,
    /// Decreases of customers paying at both ends.
    pub contraction: i64,
    /// Start MRR of customers paying nothing at the end.
    pub churned: i64,
    /// From customers who had paid before the month, but not at its start.
    pub reactivation: i64,
    /// Subscriptions with MRR > 0 at the end.
    pub active_subscriptions: i64,
    /// Customers with MRR > 0 at the end.
    pub customers: i64,
}

/// `part / whole`, 0 when `whole` is 0.
pub fn ratio(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

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
/// money in the month (months with neither have no currencies).
pub fn months(
    months: &[NaiveDate],
    totals: &[MonthTotals],
    money: &[MonthMoney],
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
        let listed = months(&[first, second], &[MonthTotals { k: 2, ..totals() }], &[]);
        assert_eq!(listed[0].month, "2025-01");
        assert!(listed[0].currencies.is_empty());
        assert_eq!(listed[1].currencies.len(), 1);
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
        let listed = months(&[first], &[totals()], std::slice::from_ref(&money));
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

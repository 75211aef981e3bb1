//! `GetRevenueSummary`'s totals: per month and currency, MRR at the start
//! and end and the movements between them, from one query
//! (`crate::repo::revenue`): movements from the customers whose MRR changed
//! in a month, totals as running sums of the months' changes. The reply is
//! put together by `crate::api::revenue::wire`.

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
    /// Customers paying in this currency at the start and not at the end.
    pub churned_customers: i64,
}

/// `part / whole`, 0 when `whole` is 0.
pub fn ratio(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

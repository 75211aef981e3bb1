//! `GetRevenueSummary`'s money of each month and currency: captured
//! payments created in the month (gross), refunds made in it, money lost to
//! disputes in it (withdrawn minus reinstated), in one query
//! (`crate::repo::revenue`).

/// One month's money in one currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthMoney {
    /// 1-based month index in the range.
    pub k: i32,
    /// Lower-case currency.
    pub currency: String,
    /// Captured payments created in the month.
    pub gross: i64,
    /// Refunds made in the month.
    pub refunds: i64,
    /// Disputed money withdrawn in the month minus that reinstated in it.
    pub disputes: i64,
}

impl MonthMoney {
    /// Gross minus refunds minus disputes.
    pub fn net(&self) -> i64 {
        self.gross - self.refunds - self.disputes
    }
}

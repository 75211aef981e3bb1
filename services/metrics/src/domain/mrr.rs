//! Monthly recurring revenue of one subscription state: its price normalised
//! to a month. docs/METRICS.md ("Revenue") explains the choices.

use growth_proto::metrics::v1::{BillingInterval, SubscriptionStatus};

/// A billing interval as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    /// Daily.
    Day,
    /// Weekly.
    Week,
    /// Monthly.
    Month,
    /// Yearly.
    Year,
}

impl Interval {
    /// From the wire; `None` for UNSPECIFIED or unknown numbers.
    pub fn from_proto(value: i32) -> Option<Self> {
        Some(match BillingInterval::try_from(value).ok()? {
            BillingInterval::Unspecified => return None,
            BillingInterval::Day => Self::Day,
            BillingInterval::Week => Self::Week,
            BillingInterval::Month => Self::Month,
            BillingInterval::Year => Self::Year,
        })
    }

    /// Stored name (Stripe's).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Year => "year",
        }
    }

    /// From a stored or Stripe name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "day" => Self::Day,
            "week" => Self::Week,
            "month" => Self::Month,
            "year" => Self::Year,
            _ => return None,
        })
    }

    /// Months per interval as a fraction (numerator, denominator): billing
    /// once per interval is `numerator / denominator` bills per month.
    fn bills_per_month(self) -> (i128, i128) {
        match self {
            Self::Day => (365, 12),
            Self::Week => (52, 12),
            Self::Month => (1, 1),
            Self::Year => (1, 12),
        }
    }
}

/// Whether a state carries MRR: only ACTIVE and PAST_DUE do (a failed renewal
/// that Stripe is still retrying is still revenue we expect).
pub fn carries_mrr(status: &str) -> bool {
    matches!(status, "active" | "past_due")
}

/// The stored name of a subscription status; `None` for UNSPECIFIED or
/// unknown numbers.
pub fn status_name(status: i32) -> Option<&'static str> {
    Some(match SubscriptionStatus::try_from(status).ok()? {
        SubscriptionStatus::Unspecified => return None,
        SubscriptionStatus::Trialing => "trialing",
        SubscriptionStatus::Active => "active",
        SubscriptionStatus::PastDue => "past_due",
        SubscriptionStatus::Canceled => "canceled",
        SubscriptionStatus::Unpaid => "unpaid",
        SubscriptionStatus::Incomplete => "incomplete",
        SubscriptionStatus::IncompleteExpired => "incomplete_expired",
        SubscriptionStatus::Paused => "paused",
    })
}

/// Monthly amount of `amount_minor` × `quantity` billed every
/// `interval_count` `interval`s, rounded to the nearest minor unit (halves
/// up); `None` when it does not fit in an `i64`.
///
/// MONTH: 1/count; YEAR: 1/(12·count); WEEK: 52/(12·count);
/// DAY: 365/(12·count).
pub fn monthly(amount_minor: i64, quantity: i64, interval: Interval, count: i32) -> Option<i64> {
    let (per, months) = interval.bills_per_month();
    let numerator = i128::from(amount_minor)
        .checked_mul(i128::from(quantity))?
        .checked_mul(per)?;
    let denominator = months.checked_mul(i128::from(count.max(1)))?;
    // Round half up on non-negative values: floor((2n + d) / 2d).
    let rounded = numerator
        .checked_mul(2)?
        .checked_add(denominator)?
        .checked_div(denominator.checked_mul(2)?)?;
    i64::try_from(rounded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monthly_prices_are_their_own_mrr() {
        assert_eq!(monthly(4900, 1, Interval::Month, 1), Some(4900));
        assert_eq!(monthly(4900, 3, Interval::Month, 1), Some(14700));
    }

    #[test]
    fn longer_intervals_are_spread_over_their_months() {
        // 49,000 a year is 4,083.33 a month.
        assert_eq!(monthly(49_000, 1, Interval::Year, 1), Some(4083));
        // Every 3 months: 9,000 / 3.
        assert_eq!(monthly(9000, 1, Interval::Month, 3), Some(3000));
        // Every 2 years, 2 seats: 24,000 × 2 / 24.
        assert_eq!(monthly(24_000, 2, Interval::Year, 2), Some(2000));
    }

    #[test]
    fn weeks_and_days_use_52_weeks_and_365_days_a_year() {
        // 1,000 a week: 1000 × 52 / 12 = 4,333.33.
        assert_eq!(monthly(1000, 1, Interval::Week, 1), Some(4333));
        // 100 a day: 100 × 365 / 12 = 3,041.67.
        assert_eq!(monthly(100, 1, Interval::Day, 1), Some(3042));
        // Every 2 weeks: 1000 × 52 / 24 = 2,166.67.
        assert_eq!(monthly(1000, 1, Interval::Week, 2), Some(2167));
    }

    #[test]
    fn halves_round_up_and_zero_stays_zero() {
        // 6 a year = 0.5 a month.
        assert_eq!(monthly(6, 1, Interval::Year, 1), Some(1));
        assert_eq!(monthly(5, 1, Interval::Year, 1), Some(0));
        assert_eq!(monthly(0, 7, Interval::Month, 1), Some(0));
    }

    #[test]
    fn amounts_too_large_for_an_i64_are_none() {
        assert_eq!(monthly(i64::MAX, 2, Interval::Month, 1), None);
        assert_eq!(monthly(i64::MAX, 1, Interval::Day, 1), None);
    }

    #[test]
    fn only_active_and_past_due_states_carry_mrr() {
        let carrying: Vec<&str> = (1..=8)
            .filter_map(status_name)
            .filter(|s| carries_mrr(s))
            .collect();
        assert_eq!(carrying, ["active", "past_due"]);
        assert_eq!(status_name(0), None);
    }
}

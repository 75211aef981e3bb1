//! Revenue cells: per cohort, currency and period offset, the payments
//! captured in the period minus the refunds made in it (minor units). They
//! are computed from `metrics.payments` and `metrics.payment_refunds` for the
//! cohorts a refresh recomputes, grouped by (cohort day, currency, day) in
//! PostgreSQL (`crate::repo::cohorts::revenue`) and spread over the three
//! granularities here.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::measure::Mode;
use super::period::Period;

/// Money moving on one day for the users of one cohort day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// The users' cohort day.
    pub cohort_day: NaiveDate,
    /// Lower-case ISO currency.
    pub currency: String,
    /// The day (reporting time zone) the money moved.
    pub day: NaiveDate,
    /// Captured minus refunded, minor units.
    pub amount_minor: i64,
    /// The users' breakdown value, when loaded by segment.
    pub segment: Option<String>,
}

/// One cohort's revenue in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CohortRevenue {
    /// Net revenue of offsets 0..=max. Money moved before the cohort's first
    /// period (a payment recorded before the signup) counts in offset 0.
    pub by_offset: Vec<i64>,
    /// Net revenue of every period after the last offset.
    pub later: i64,
}

impl CohortRevenue {
    /// The cells of `mode`: [`Mode::On`] is period N alone,
    /// [`Mode::OnOrAfter`] period N and every later one to date.
    pub fn cells(&self, mode: Mode) -> Vec<i64> {
        if mode == Mode::On {
            return self.by_offset.clone();
        }
        let mut out = self.by_offset.clone();
        let mut tail = self.later;
        for v in out.iter_mut().rev() {
            tail += *v;
            *v = tail;
        }
        out
    }

    /// Net revenue to date.
    pub fn total(&self) -> i64 {
        self.by_offset.iter().sum::<i64>() + self.later
    }
}

/// Granularity → cohort start → currency → revenue.
pub type RevenueCells = BTreeMap<Period, BTreeMap<NaiveDate, BTreeMap<String, CohortRevenue>>>;

/// Spreads `flows` over the cohorts of every granularity in `periods`.
pub fn compute(flows: &[Flow], periods: &[Period]) -> RevenueCells {
    let mut out = RevenueCells::new();
    for period in periods {
        let cohorts = out.entry(*period).or_default();
        for f in flows {
            let start = period.start_of(f.cohort_day);
            let cell = cohorts
                .entry(start)
                .or_default()
                .entry(f.currency.clone())
                .or_insert_with(|| CohortRevenue {
                    by_offset: vec![0; period.max_offset() as usize + 1],
                    later: 0,
                });
            let k = period.offset(start, f.day).max(0);
            match cell.by_offset.get_mut(k as usize) {
                Some(v) => *v += f.amount_minor,
                None => cell.later += f.amount_minor,
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    fn flow(cohort_day: NaiveDate, currency: &str, day: NaiveDate, amount_minor: i64) -> Flow {
        Flow {
            cohort_day,
            currency: currency.into(),
            day,
            amount_minor,
            segment: None,
        }
    }

    #[test]
    fn payments_and_refunds_land_in_their_own_periods_per_currency() {
        // Cohort day Wednesday 2025-01-15: week cohort 2025-01-13, month
        // cohort 2025-01-01.
        let c = d(2025, 1, 15);
        let flows = [
            flow(c, "usd", d(2025, 1, 15), 4900),
            flow(c, "usd", d(2025, 2, 3), 4900),
            // A refund made in March of the February payment.
            flow(c, "usd", d(2025, 3, 1), -4900),
            flow(c, "eur", d(2025, 1, 20), 1000),
            // Recorded the day before the signup: period 0.
            flow(c, "eur", d(2025, 1, 14), 500),
            // Past the month matrix (offset 14).
            flow(c, "usd", d(2026, 3, 2), 100),
        ];
        let cells = compute(&flows, &Period::ALL);
        let month = &cells[&Period::Month][&d(2025, 1, 1)];
        assert_eq!(month["usd"].by_offset[..3], [4900, 4900, -4900]);
        assert_eq!(month["usd"].later, 100);
        assert_eq!(month["usd"].total(), 5000);
        assert_eq!(month["eur"].by_offset[0], 1500);
        let week = &cells[&Period::Week][&d(2025, 1, 13)];
        assert_eq!(week["eur"].by_offset[..2], [500, 1000]);
        assert_eq!(week["usd"].by_offset[3], 4900); // 2025-02-03 is week 3
        let day = &cells[&Period::Day][&c];
        assert_eq!(day["usd"].by_offset[0], 4900);
        assert_eq!(day["usd"].by_offset[19], 4900); // 2025-02-03
        assert_eq!(day["usd"].later, -4900 + 100); // the refund and 2026
    }

    #[test]
    fn on_or_after_sums_the_period_and_every_later_one() {
        let r = CohortRevenue {
            by_offset: vec![10, 0, 5, -3],
            later: 2,
        };
        assert_eq!(r.cells(Mode::On), [10, 0, 5, -3]);
        assert_eq!(r.cells(Mode::OnOrAfter), [14, 4, 4, -1]);
    }
}

//! Calendar periods of cohorts and retention: days, ISO weeks (Monday to
//! Sunday) and months, all as dates in the reporting time zone.

use chrono::{Datelike, Days, NaiveDate};

/// A cohort and retention granularity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    /// Calendar days; offsets 0..=30.
    Day,
    /// ISO weeks; offsets 0..=12.
    Week,
    /// Calendar months; offsets 0..=12.
    Month,
}

impl Period {
    /// All three, in order.
    pub const ALL: [Period; 3] = [Period::Day, Period::Week, Period::Month];

    /// Stored name.
    pub fn name(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// From the stored name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Highest offset of a matrix.
    pub fn max_offset(self) -> i32 {
        match self {
            Period::Day => 30,
            Period::Week | Period::Month => 12,
        }
    }

    /// First day of the period containing `day`.
    pub fn start_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => day,
            Period::Week => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
            Period::Month => day.with_day(1).unwrap_or(day),
        }
    }

    /// Periods from the one containing `from` to the one containing `to`.
    pub fn offset(self, from: NaiveDate, to: NaiveDate) -> i32 {
        match self {
            Period::Day => (to - from).num_days() as i32,
            Period::Week => ((self.start_of(to) - self.start_of(from)).num_days() / 7) as i32,
            Period::Month => {
                (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32
            }
        }
    }

    /// First day of period `offset` of the cohort starting `cohort`.
    pub fn nth_start(self, cohort: NaiveDate, offset: i32) -> NaiveDate {
        let n = offset.max(0) as u64;
        match self {
            Period::Day => cohort + Days::new(n),
            Period::Week => cohort + Days::new(7 * n),
            Period::Month => cohort
                .checked_add_months(chrono::Months::new(n as u32))
                .unwrap_or(cohort),
        }
    }
}

/// A range of cohort starts; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cohorts {
    /// First cohort start.
    pub from: Option<NaiveDate>,
    /// Last cohort start.
    pub to: Option<NaiveDate>,
}

impl Cohorts {
    /// Whether the cohort starting `cohort` is in the range.
    pub fn contains(self, cohort: NaiveDate) -> bool {
        self.from.is_none_or(|f| cohort >= f) && self.to.is_none_or(|t| cohort <= t)
    }

    /// The cohort days whose users may belong to a cohort in the range: a
    /// cohort starting in range has users from its start to at most a month
    /// later.
    pub fn member_days(self) -> (Option<NaiveDate>, Option<NaiveDate>) {
        (self.from, self.to.map(|t| t + Days::new(31)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        assert_eq!(Period::Week.start_of(d("2025-03-02")), d("2025-02-24")); // a Sunday
        assert_eq!(Period::Week.start_of(d("2025-03-03")), d("2025-03-03"));
        assert_eq!(Period::Month.start_of(d("2025-03-31")), d("2025-03-01"));
    }

    #[test]
    fn offsets_count_calendar_periods_not_elapsed_time() {
        assert_eq!(Period::Day.offset(d("2025-01-31"), d("2025-02-01")), 1);
        assert_eq!(
            Period::Week.offset(d("2025-03-02"), d("2025-03-03")),
            1,
            "Sunday to Monday"
        );
        assert_eq!(Period::Month.offset(d("2025-01-31"), d("2025-02-01")), 1);
        assert_eq!(Period::Month.offset(d("2024-12-15"), d("2026-01-01")), 13);
        assert_eq!(
            Period::Month.nth_start(d("2025-01-01"), 12),
            d("2026-01-01")
        );
    }
}

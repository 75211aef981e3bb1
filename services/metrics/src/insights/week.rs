//! ISO weeks ("2025-W47": Monday to Sunday) of the reporting time zone: the
//! weekly report's unit. Parsing refuses what is not a week, a week its year
//! does not have, and a week not over yet, naming the input.

use chrono::{Datelike as _, Duration, IsoWeek, NaiveDate, Weekday};

/// One ISO week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Week {
    /// Its Monday.
    pub monday: NaiveDate,
}

impl Week {
    /// The week holding `day`.
    pub fn of(day: NaiveDate) -> Self {
        let back = i64::from(day.weekday().num_days_from_monday());
        Self {
            monday: day - Duration::days(back),
        }
    }

    /// The last week that is over on `today` (the week before today's).
    pub fn last_complete(today: NaiveDate) -> Self {
        Self::of(today).previous(1)
    }

    /// `n` weeks before this one.
    pub fn previous(self, n: i64) -> Self {
        Self {
            monday: self.monday - Duration::weeks(n),
        }
    }

    /// Its Sunday.
    pub fn sunday(self) -> NaiveDate {
        self.monday + Duration::days(6)
    }

    /// The Monday after it (where it ends).
    pub fn end(self) -> NaiveDate {
        self.monday + Duration::days(7)
    }

    /// Its ISO label, e.g. "2025-W47".
    pub fn label(self) -> String {
        let w: IsoWeek = self.monday.iso_week();
        format!("{}-W{:02}", w.year(), w.week())
    }

    /// Parses `text` ("YYYY-Www") as a week over by `today`; `field` names
    /// the input in errors.
    pub fn parse(field: &str, text: &str, today: NaiveDate) -> Result<Self, String> {
        let t = text.trim();
        let bad = || format!("{field}: {t:?} is not an ISO week (YYYY-Www, e.g. 2025-W47)");
        let (year, week) = t.split_once("-W").ok_or_else(bad)?;
        if year.len() != 4 || week.len() != 2 {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let number: u32 = week.parse().map_err(|_| bad())?;
        let Some(monday) = NaiveDate::from_isoywd_opt(year, number, Weekday::Mon) else {
            let weeks = NaiveDate::from_ymd_opt(year, 12, 28).map_or(52, |d| d.iso_week().week());
            return Err(format!(
                "{field}: {year} has weeks 01 to {weeks:02}, not {number:02}"
            ));
        };
        let week = Self { monday };
        if week.sunday() >= today {
            return Err(format!(
                "{field}: {} is not over yet (it ends on {}; today is {today})",
                week.label(),
                week.sunday()
            ));
        }
        Ok(week)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    #[test]
    fn weeks_run_monday_to_sunday_and_are_labelled_in_iso_years() {
        let w = Week::of(day("2025-11-23")); // a Sunday
        assert_eq!(
            (w.monday, w.sunday()),
            (day("2025-11-17"), day("2025-11-23"))
        );
        assert_eq!(w.label(), "2025-W47");
        // 2024-12-30 is in 2025's first week.
        assert_eq!(Week::of(day("2025-01-01")).label(), "2025-W01");
        assert_eq!(Week::of(day("2025-01-01")).monday, day("2024-12-30"));
        assert_eq!(Week::last_complete(day("2025-11-24")).label(), "2025-W47");
        assert_eq!(Week::last_complete(day("2025-11-23")).label(), "2025-W46");
    }

    #[test]
    fn bad_weeks_are_refused_naming_the_input() {
        let today = day("2025-11-26");
        assert_eq!(
            Week::parse("week", "2025-W47", today).map(Week::label),
            Ok("2025-W47".into())
        );
        assert_eq!(
            Week::parse("week", "2020-W53", today).map(Week::label),
            Ok("2020-W53".into())
        );
        let err = |t: &str| Week::parse("week", t, today).expect_err("refused");
        assert_eq!(err("2025-W54"), "week: 2025 has weeks 01 to 52, not 54");
        assert!(err("2025-47").contains("is not an ISO week"));
        assert!(err("2025-W4").contains("is not an ISO week"));
        assert!(err("2025-W48").contains("2025-W48 is not over yet"));
        assert!(err("2025-W49").contains("is not over yet"));
    }
}

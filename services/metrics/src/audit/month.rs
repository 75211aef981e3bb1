//! The audited month: `YYYY-MM`, a UTC calendar month, not in the future.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use growth_runtime::status::FieldViolation;

/// A validated UTC month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    /// Calendar year.
    pub year: i32,
    /// 1..=12.
    pub month: u32,
}

impl Month {
    /// Parses `YYYY-MM`; the month must have started by `now`.
    pub fn parse(field: &str, text: &str, now: DateTime<Utc>) -> Result<Self, FieldViolation> {
        let bad = || {
            FieldViolation::new(
                field,
                format!("{text:?} is not a month: expected YYYY-MM, e.g. 2025-11"),
            )
        };
        let (y, m) = text.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) || year < 2000 {
            return Err(bad());
        }
        let parsed = Self { year, month };
        if parsed.start() > now {
            return Err(FieldViolation::new(
                field,
                format!("{text} has not started yet"),
            ));
        }
        Ok(parsed)
    }

    /// Like [`Month::parse`], for a field that must be set.
    pub fn parse_required(
        field: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, FieldViolation> {
        if text.trim().is_empty() {
            return Err(FieldViolation::new(field, "is required (YYYY-MM)"));
        }
        Self::parse(field, text, now)
    }

    /// The current UTC month.
    pub fn current(now: DateTime<Utc>) -> Self {
        Self {
            year: now.year(),
            month: now.month(),
        }
    }

    /// First instant of the month.
    pub fn start(self) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc())
            .unwrap_or_default()
    }

    /// First instant of the next month.
    pub fn end(self) -> DateTime<Utc> {
        let (y, m) = if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        };
        Self { year: y, month: m }.start()
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn months_parse_and_span_the_calendar_month() {
        let m = Month::parse("month", "2025-12", now()).expect("valid");
        assert_eq!(m.to_string(), "2025-12");
        assert_eq!(m.start().timestamp(), 1_764_547_200);
        assert_eq!(
            m.end(),
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .expect("valid")
        );
    }

    #[test]
    fn bad_months_are_named() {
        for bad in ["2025-13", "nov", "2025-1", "2025/11", "", "1999-12"] {
            let err = Month::parse("month", bad, now()).expect_err(bad);
            assert_eq!(err.field, "month");
            assert!(err.reason.contains("expected YYYY-MM"), "{err}");
        }
        let future = Month::parse("month", "2026-12", now()).expect_err("future");
        assert_eq!(future.reason, "2026-12 has not started yet");
    }
}

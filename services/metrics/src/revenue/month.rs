//! Report months: `YYYY-MM` calendar months in the reporting time zone, not
//! in the future, at most [`MAX_MONTHS_AFTER`] months after the first.

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};
use growth_runtime::status::FieldViolation;

use crate::audit::month::Month;
use crate::error::MetricsError;

/// How many months `month_to` may be after `month_from` (the contract's cap).
pub const MAX_MONTHS_AFTER: u32 = 120;

/// Parses `YYYY-MM` into its first day; `today` is the current day in the
/// reporting time zone, and a month after today's is refused.
pub fn parse(field: &str, text: &str, today: NaiveDate) -> Result<NaiveDate, MetricsError> {
    first_day(field, text, today).map_err(|v| MetricsError::Invalid(vec![v]))
}

/// [`parse`], as the violation of `field` (for requests that report every
/// bad field at once).
pub fn first_day(field: &str, text: &str, today: NaiveDate) -> Result<NaiveDate, FieldViolation> {
    // The format check is the audit's (any start instant is accepted here;
    // the future is judged in the reporting zone below).
    let far = Utc
        .with_ymd_and_hms(9999, 12, 31, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let month = Month::parse_required(field, text, far)?;
    let first = NaiveDate::from_ymd_opt(month.year, month.month, 1)
        .ok_or_else(|| FieldViolation::new(field, format!("{text:?} is not a month")))?;
    let this_month = today.with_day(1).unwrap_or(today);
    if first > this_month {
        return Err(FieldViolation::new(
            field,
            format!(
                "{} is in the future (this month is {})",
                label(first),
                label(this_month)
            ),
        ));
    }
    Ok(first)
}

/// Refuses `month_from` (`first`) after `month_to` (`last`).
pub fn ordered(first: NaiveDate, last: NaiveDate) -> Result<(), FieldViolation> {
    if first > last {
        return Err(FieldViolation::new(
            "month_from",
            format!("{} is after month_to {}", label(first), label(last)),
        ));
    }
    Ok(())
}

/// `month_from` and `month_to` (empty means `month_from`): the first day of
/// every month in the range, in order.
pub fn range(from: &str, to: &str, today: NaiveDate) -> Result<Vec<NaiveDate>, MetricsError> {
    let first = parse("month_from", from, today)?;
    let last = if to.trim().is_empty() {
        first
    } else {
        parse("month_to", to, today)?
    };
    ordered(first, last).map_err(|v| MetricsError::Invalid(vec![v]))?;
    let span = months_between(first, last);
    if span > MAX_MONTHS_AFTER {
        return Err(MetricsError::invalid(
            "month_to",
            format!(
                "{} is {span} months after month_from {}; at most {MAX_MONTHS_AFTER} are allowed",
                label(last),
                label(first)
            ),
        ));
    }
    Ok((0..=span)
        .filter_map(|i| first.checked_add_months(Months::new(i)))
        .collect())
}

/// The boundaries of `months` (consecutive first days) for the revenue
/// queries: each month's first day, then the day after the last month.
pub fn bounds(months: &[NaiveDate]) -> Vec<NaiveDate> {
    let mut bounds = months.to_vec();
    if let Some(next) = months
        .last()
        .and_then(|m| m.checked_add_months(Months::new(1)))
    {
        bounds.push(next);
    }
    bounds
}

/// Whole months from `a` to `b` (both first days, `a` <= `b`).
fn months_between(a: NaiveDate, b: NaiveDate) -> u32 {
    let months = (b.year() - a.year()) * 12 + b.month() as i32 - a.month() as i32;
    u32::try_from(months).unwrap_or(0)
}

/// `YYYY-MM` of a day.
pub fn label(day: NaiveDate) -> String {
    day.format("%Y-%m").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).expect("valid")
    }

    fn field_and_reason(e: MetricsError) -> (String, String) {
        match e {
            MetricsError::Invalid(v) => (v[0].field.clone(), v[0].reason.clone()),
            other => panic!("not invalid: {other}"),
        }
    }

    #[test]
    fn a_range_lists_every_month_and_an_empty_end_is_one_month() {
        let months = range("2025-11", "2026-02", today()).expect("valid");
        let labels: Vec<String> = months.into_iter().map(label).collect();
        assert_eq!(labels, ["2025-11", "2025-12", "2026-01", "2026-02"]);
        assert_eq!(range("2026-11", "", today()).expect("valid").len(), 1);
    }

    #[test]
    fn bad_months_name_their_field() {
        let (field, reason) = field_and_reason(range("2025-13", "", today()).unwrap_err());
        assert_eq!(field, "month_from");
        assert!(reason.contains("YYYY-MM"), "{reason}");
        let (field, _) = field_and_reason(range("2025-01", "jan", today()).unwrap_err());
        assert_eq!(field, "month_to");
        let (field, reason) = field_and_reason(range("", "", today()).unwrap_err());
        assert_eq!(
            (field.as_str(), reason.as_str()),
            ("month_from", "is required (YYYY-MM)")
        );
    }

    #[test]
    fn reversed_future_and_too_long_ranges_are_refused() {
        let (field, reason) = field_and_reason(range("2025-05", "2025-04", today()).unwrap_err());
        assert_eq!(field, "month_from");
        assert_eq!(reason, "2025-05 is after month_to 2025-04");
        let (field, reason) = field_and_reason(range("2026-10", "2026-12", today()).unwrap_err());
        assert_eq!(field, "month_to");
        assert!(reason.contains("in the future"), "{reason}");
        assert!(range("2016-07", "2026-07", today()).is_ok());
        let (field, reason) = field_and_reason(range("2016-06", "2026-07", today()).unwrap_err());
        assert_eq!(field, "month_to");
        assert!(reason.contains("121 months"), "{reason}");
    }
}

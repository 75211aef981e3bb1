//! `GetActiveUsers`: a range of days validated (both ends, not in the
//! future, at most ten years), the pending activity folded, every active
//! user's days of the range (and the 28 before) counted into the daily
//! series (`crate::active`).

use chrono::NaiveDate;
use growth_proto::common::v1::DateRange;
use growth_proto::metrics::v1 as pb;
use growth_runtime::status::FieldViolation;

use crate::active::series::Series;
use crate::api::cohorts::parse::date;
use crate::api::today;
use crate::error::MetricsError;
use crate::repo;
use crate::state::Metrics;

/// The longest range answered, in days.
pub const MAX_DAYS: i64 = 3660;

/// The range of `days`, with `today` in the reporting time zone.
fn range(
    days: Option<&DateRange>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), Vec<FieldViolation>> {
    let required = |field: &str, text: &str| match date(field, text) {
        Ok(Some(d)) => Ok(d),
        Ok(None) => Err(FieldViolation::new(field, "required (YYYY-MM-DD)")),
        Err(e) => Err(e),
    };
    let empty = DateRange::default();
    let days = days.unwrap_or(&empty);
    let (from, to) = match (
        required("days.from", &days.from),
        required("days.to", &days.to),
    ) {
        (Ok(from), Ok(to)) => (from, to),
        (from, to) => return Err([from.err(), to.err()].into_iter().flatten().collect()),
    };
    if from > to {
        return Err(vec![FieldViolation::new(
            "days.from",
            format!("{from} is after days.to {to}"),
        )]);
    }
    if to > today {
        return Err(vec![FieldViolation::new(
            "days.to",
            format!("{to} is in the future (today is {today})"),
        )]);
    }
    if (to - from).num_days() + 1 > MAX_DAYS {
        return Err(vec![FieldViolation::new(
            "days",
            format!(
                "{} days asked for, at most {MAX_DAYS}",
                (to - from).num_days() + 1
            ),
        )]);
    }
    Ok((from, to))
}

/// `GetActiveUsers`.
pub async fn get(
    state: &Metrics,
    r: pb::GetActiveUsersRequest,
) -> Result<pb::GetActiveUsersResponse, MetricsError> {
    let ((from, to), _) = today::parse(state, |today| range(r.days.as_ref(), today)).await?;
    // Activity still pending is not in the stored years yet.
    repo::cohorts::fold::fold(&state.pool).await?;
    let mut series = Series::new(from, to);
    let look_from = series.look_from();
    repo::active_years::each_user(&state.pool, look_from, to, |user| series.add(&user)).await?;
    Ok(pb::GetActiveUsersResponse {
        days: series
            .finish()
            .into_iter()
            .map(|(day, d)| pb::DailyActiveUsers {
                day: day.to_string(),
                dau: d.dau,
                wau: d.wau,
                mau: d.mau,
                stickiness: d.stickiness(),
                new_actives: d.new,
                returning_actives: d.returning,
                resurrected: d.resurrected,
            })
            .collect(),
        time_zone: state.reporting.time_zone.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    fn fields(from: &str, to: &str) -> Vec<String> {
        let r = DateRange {
            from: from.into(),
            to: to.into(),
        };
        range(Some(&r), day("2025-06-01"))
            .expect_err("refused")
            .iter()
            .map(|v| v.field.clone())
            .collect()
    }

    #[test]
    fn bad_ranges_are_refused_naming_the_field() {
        assert_eq!(fields("", ""), ["days.from", "days.to"]);
        assert_eq!(fields("2025-13-01", "2025-05-01"), ["days.from"]);
        assert_eq!(fields("2025-05-02", "2025-05-01"), ["days.from"]);
        assert_eq!(fields("2025-05-01", "2025-06-02"), ["days.to"]);
        assert_eq!(fields("2010-01-01", "2025-06-01"), ["days"]);
        let ok = DateRange {
            from: "2025-05-01".into(),
            to: "2025-06-01".into(),
        };
        assert_eq!(
            range(Some(&ok), day("2025-06-01")).expect("valid"),
            (day("2025-05-01"), day("2025-06-01"))
        );
    }
}

//! `GetCohortValue`: the month range validated (every bad field at once),
//! the monthly cells brought up to date by an incremental refresh of the
//! month granularity (what the nightly `RefreshCohorts` does, limited to the
//! cohorts changed since), every monthly cohort's size and revenue cells
//! read back as `GetRetentionMatrix` reads them, and the curves
//! (`crate::cohorts::value`) put on the wire.

use chrono::NaiveDate;
use growth_proto::metrics::v1 as pb;
use growth_runtime::status::FieldViolation;

use crate::api::today;
use crate::cohorts::measure::Mode;
use crate::cohorts::period::{Cohorts, Period};
use crate::cohorts::refresh::{Refresh, refresh};
use crate::cohorts::value::{self, Cohort, Curve};
use crate::domain::batch::RowErrors;
use crate::error::MetricsError;
use crate::repo::cohorts::read as stored;
use crate::revenue::month;
use crate::state::Metrics;

/// `GetCohortValue`.
pub async fn get(
    state: &Metrics,
    r: pb::GetCohortValueRequest,
) -> Result<pb::GetCohortValueResponse, MetricsError> {
    let (pool, time_zone) = (&state.pool, &state.reporting.time_zone);
    let (wanted, today) = today::parse(state, |today| parse(&r, today)).await?;
    let done = refresh(
        pool,
        &Refresh {
            periods: vec![Period::Month],
            cohorts: Cohorts::default(),
            full: false,
            dry_run: false,
            time_zone: time_zone.clone(),
            users: true,
            revenue: true,
        },
    )
    .await?;
    tracing::debug!(
        cohorts = done.cohorts,
        written = done.cells_written,
        "monthly cohorts refreshed for their value"
    );
    // Every cohort, not only those asked for: older cohorts' curves make
    // the projections.
    let mut money = stored::revenue(pool, Period::Month, None, None).await?;
    let cohorts = stored::matrix(pool, Period::Month, Mode::On, None, None, today)
        .await?
        .into_iter()
        .map(|row| {
            let revenue = money.remove(&row.cohort).unwrap_or_default();
            let cohort = Cohort {
                users: row.size,
                revenue,
            };
            (row.cohort, cohort)
        })
        .collect();
    Ok(pb::GetCohortValueResponse {
        rows: value::curves(&cohorts, wanted, today)
            .into_iter()
            .map(row)
            .collect(),
        method: value::method(),
        time_zone: time_zone.clone(),
    })
}

/// The cohorts asked for: `month_from` and `month_to` (`YYYY-MM`, empty for
/// the first and the current month), neither after the month of `today`,
/// in order.
pub fn parse(
    r: &pb::GetCohortValueRequest,
    today: NaiveDate,
) -> Result<Cohorts, Vec<FieldViolation>> {
    let bound = |field: &str, text: &str| match text.trim() {
        "" => Ok(None),
        t => month::first_day(field, t, today).map(Some),
    };
    let mut errors = RowErrors::default();
    let from = errors.check(bound("month_from", &r.month_from));
    let to = errors.check(bound("month_to", &r.month_to));
    if let (Some(Some(first)), Some(Some(last))) = (from, to) {
        errors.check(month::ordered(first, last));
    }
    errors.finish(|| {
        Some(Cohorts {
            from: from?,
            to: to?,
        })
    })
}

fn row(c: Curve) -> pb::CohortValueRow {
    pb::CohortValueRow {
        cohort: month::label(c.cohort),
        users: c.users,
        currency: c.currency,
        points: c
            .points
            .into_iter()
            .map(|p| pb::LtvPoint {
                offset: p.offset,
                cumulative_per_user_minor: p.per_user_minor,
                partial: p.partial,
                projected: p.projected,
            })
            .collect(),
        ltv_12m_minor: c.ltv_12m_minor,
        ltv_12m_projected: c.ltv_12m_projected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 15).expect("valid")
    }

    fn request(from: &str, to: &str) -> pb::GetCohortValueRequest {
        pb::GetCohortValueRequest {
            month_from: from.into(),
            month_to: to.into(),
        }
    }

    fn violations(from: &str, to: &str) -> Vec<String> {
        parse(&request(from, to), today())
            .expect_err("invalid")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn empty_bounds_ask_for_every_cohort() {
        assert_eq!(parse(&request("", " "), today()), Ok(Cohorts::default()));
        let d = |s: &str| s.parse::<NaiveDate>().expect("a date");
        assert_eq!(
            parse(&request("2025-11", "2026-06"), today()),
            Ok(Cohorts {
                from: Some(d("2025-11-01")),
                to: Some(d("2026-06-01")),
            })
        );
    }

    #[test]
    fn both_bad_bounds_are_reported_at_once() {
        assert_eq!(
            violations("2025-13", "2026-07"),
            [
                "month_from: \"2025-13\" is not a month: expected YYYY-MM, e.g. 2025-11",
                "month_to: 2026-07 is in the future (this month is 2026-06)",
            ]
        );
    }

    #[test]
    fn a_reversed_range_names_month_from() {
        assert_eq!(
            violations("2026-03", "2026-01"),
            ["month_from: 2026-03 is after month_to 2026-01"]
        );
    }
}

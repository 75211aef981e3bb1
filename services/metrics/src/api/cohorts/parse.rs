//! The cohort RPCs' requests validated into the cohort module's types; each
//! parser reports every bad field at once.

use chrono::NaiveDate;
use growth_proto::common::v1::{DateRange, Granularity};
use growth_proto::metrics::v1::{self as pb, RetentionMetric, RetentionMode};
use growth_runtime::status::FieldViolation;

use crate::cohorts::breakdown::Breakdown;
use crate::cohorts::measure::{Metric, Mode};
use crate::cohorts::period::{Cohorts, Period};
use crate::domain::batch::RowErrors;

/// A valid `RefreshCohortsRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRequest {
    /// Granularities to refresh.
    pub periods: Vec<Period>,
    /// Cohorts to refresh.
    pub cohorts: Cohorts,
    /// The metric to refresh; `None` = both.
    pub metric: Option<Metric>,
    /// Recompute every cohort in range.
    pub full: bool,
    /// Rebuild the rollup from the raw events first.
    pub rebuild: bool,
    /// Write nothing.
    pub dry_run: bool,
}

/// A valid `GetRetentionMatrixRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixRequest {
    /// The granularity.
    pub period: Period,
    /// What the cells count.
    pub metric: Metric,
    /// How the cells count.
    pub mode: Mode,
    /// Segments to break the rows down by.
    pub breakdown: Option<Breakdown>,
    /// Cohorts to show.
    pub cohorts: Cohorts,
}

/// A valid `GetCohortOverviewRequest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverviewRequest {
    /// The granularity.
    pub period: Period,
    /// Cohorts to show.
    pub cohorts: Cohorts,
}

/// `RefreshCohortsRequest`, with `today` in the reporting time zone.
pub fn refresh(
    r: &pb::RefreshCohortsRequest,
    today: NaiveDate,
) -> Result<RefreshRequest, Vec<FieldViolation>> {
    let mut errors = RowErrors::default();
    let period = errors.check(granularity(r.granularity));
    let cohorts = errors.check(range(r.cohorts.as_ref(), today));
    if r.rebuild && r.dry_run {
        errors.push(FieldViolation::new(
            "rebuild",
            "cannot be combined with dry_run: a rebuild rewrites the rollup",
        ));
    }
    let metric = errors.check(metric(r.metric));
    errors.finish(|| {
        Some(RefreshRequest {
            periods: period?.map_or(Period::ALL.to_vec(), |p| vec![p]),
            cohorts: cohorts?,
            metric: metric?,
            full: r.full || r.rebuild,
            rebuild: r.rebuild,
            dry_run: r.dry_run,
        })
    })
}

/// `GetRetentionMatrixRequest`, with `today` in the reporting time zone.
pub fn matrix(
    r: &pb::GetRetentionMatrixRequest,
    today: NaiveDate,
) -> Result<MatrixRequest, Vec<FieldViolation>> {
    let mut errors = RowErrors::default();
    let period = errors.check(required_granularity(r.granularity));
    let metric = errors.check(metric(r.metric));
    let mode = errors.check(mode(r.mode));
    let breakdown = errors
        .check(Breakdown::parse(&r.breakdown).map_err(|e| FieldViolation::new("breakdown", e)));
    let cohorts = errors.check(range(r.cohorts.as_ref(), today));
    errors.finish(|| {
        Some(MatrixRequest {
            period: period?,
            metric: metric?.unwrap_or(Metric::Users),
            mode: mode?,
            breakdown: breakdown?,
            cohorts: cohorts?,
        })
    })
}

/// `GetCohortOverviewRequest`, with `today` in the reporting time zone.
pub fn overview(
    r: &pb::GetCohortOverviewRequest,
    today: NaiveDate,
) -> Result<OverviewRequest, Vec<FieldViolation>> {
    let mut errors = RowErrors::default();
    let period = errors.check(required_granularity(r.granularity));
    let cohorts = errors.check(range(r.cohorts.as_ref(), today));
    errors.finish(|| {
        Some(OverviewRequest {
            period: period?,
            cohorts: cohorts?,
        })
    })
}

/// The wire value of a granularity.
pub fn granularity_to_wire(period: Period) -> Granularity {
    match period {
        Period::Day => Granularity::Day,
        Period::Week => Granularity::Week,
        Period::Month => Granularity::Month,
    }
}

/// The wire value of a mode.
pub fn mode_to_wire(mode: Mode) -> RetentionMode {
    match mode {
        Mode::On => RetentionMode::On,
        Mode::OnOrAfter => RetentionMode::OnOrAfter,
    }
}

/// The wire value of a metric.
pub fn metric_to_wire(metric: Metric) -> RetentionMetric {
    match metric {
        Metric::Users => RetentionMetric::Users,
        Metric::Revenue => RetentionMetric::Revenue,
    }
}

/// `None` for UNSPECIFIED.
fn granularity(value: i32) -> Result<Option<Period>, FieldViolation> {
    match Granularity::try_from(value) {
        Ok(Granularity::Unspecified) => Ok(None),
        Ok(Granularity::Day) => Ok(Some(Period::Day)),
        Ok(Granularity::Week) => Ok(Some(Period::Week)),
        Ok(Granularity::Month) => Ok(Some(Period::Month)),
        Err(_) => Err(FieldViolation::new(
            "granularity",
            format!("{value} is not a Granularity (DAY, WEEK or MONTH)"),
        )),
    }
}

fn required_granularity(value: i32) -> Result<Period, FieldViolation> {
    granularity(value)?
        .ok_or_else(|| FieldViolation::new("granularity", "is required: DAY, WEEK or MONTH"))
}

/// `None` for UNSPECIFIED.
fn metric(value: i32) -> Result<Option<Metric>, FieldViolation> {
    match RetentionMetric::try_from(value) {
        Ok(RetentionMetric::Unspecified) => Ok(None),
        Ok(RetentionMetric::Users) => Ok(Some(Metric::Users)),
        Ok(RetentionMetric::Revenue) => Ok(Some(Metric::Revenue)),
        Err(_) => Err(FieldViolation::new(
            "metric",
            format!("{value} is not a RetentionMetric"),
        )),
    }
}

/// UNSPECIFIED is `On`.
fn mode(value: i32) -> Result<Mode, FieldViolation> {
    match RetentionMode::try_from(value) {
        Ok(RetentionMode::Unspecified | RetentionMode::On) => Ok(Mode::On),
        Ok(RetentionMode::OnOrAfter) => Ok(Mode::OnOrAfter),
        Err(_) => Err(FieldViolation::new(
            "mode",
            format!("{value} is not a RetentionMode"),
        )),
    }
}

/// An optional `YYYY-MM-DD` date of `field` (empty: none).
pub fn date(field: &str, text: &str) -> Result<Option<NaiveDate>, FieldViolation> {
    match text.trim() {
        "" => Ok(None),
        t => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| FieldViolation::new(field, format!("{t:?} is not a date (YYYY-MM-DD)"))),
    }
}

/// The cohort range; `from` after `to` and dates after `today` are refused.
fn range(range: Option<&DateRange>, today: NaiveDate) -> Result<Cohorts, FieldViolation> {
    let Some(r) = range else {
        return Ok(Cohorts::default());
    };
    let (from, to) = (date("cohorts.from", &r.from)?, date("cohorts.to", &r.to)?);
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(FieldViolation::new(
            "cohorts.from",
            format!("{f} is after cohorts.to {t}"),
        ));
    }
    for (field, d) in [("cohorts.from", from), ("cohorts.to", to)] {
        if let Some(d) = d.filter(|d| *d > today) {
            return Err(FieldViolation::new(
                field,
                format!("{d} is in the future (today is {today})"),
            ));
        }
    }
    Ok(Cohorts { from, to })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 1).expect("valid")
    }

    #[test]
    fn every_bad_field_of_a_matrix_request_is_reported() {
        let r = pb::GetRetentionMatrixRequest {
            granularity: 0,
            metric: 9,
            mode: 9,
            cohorts: Some(DateRange {
                from: "2025-13-01".into(),
                to: String::new(),
            }),
            ..Default::default()
        };
        let fields: Vec<String> = matrix(&r, today())
            .expect_err("invalid")
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["granularity", "metric", "mode", "cohorts.from"]);
    }

    #[test]
    fn a_refresh_defaults_to_every_period_and_both_metrics() {
        let r = refresh(&pb::RefreshCohortsRequest::default(), today()).expect("valid");
        assert_eq!(r.periods, Period::ALL);
        assert_eq!(r.metric, None);
        assert_eq!(r.cohorts, Cohorts::default());
    }
}

//! `RefreshCohorts`, `GetRetentionMatrix` and `GetCohortOverview`: wire
//! requests validated into the cohort module's types, and its results back
//! onto the wire (`wire`).

use chrono::NaiveDate;
use growth_proto::common::v1::DateRange;
use growth_proto::metrics::v1::{self as pb, RetentionMetric, RetentionMode};

use super::CohortService;
use super::breakdown::{self, Breakdown};
use super::overview;
use super::period::Period;
use super::read;
use super::rebuild::rebuild;
use super::refresh::{Refresh, refresh};
use super::wire;
use crate::error::MetricsError;

fn date(field: &str, text: &str) -> Result<Option<NaiveDate>, MetricsError> {
    match text.trim() {
        "" => Ok(None),
        t => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| MetricsError::invalid(field, format!("{t:?} is not a date (YYYY-MM-DD)"))),
    }
}

/// The cohort range; `from` after `to` and dates after `today` are refused.
fn range(
    range: Option<&DateRange>,
    today: NaiveDate,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>), MetricsError> {
    let Some(r) = range else {
        return Ok((None, None));
    };
    let (from, to) = (date("cohorts.from", &r.from)?, date("cohorts.to", &r.to)?);
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(MetricsError::invalid(
            "cohorts.from",
            format!("{f} is after cohorts.to {t}"),
        ));
    }
    for (field, d) in [("cohorts.from", from), ("cohorts.to", to)] {
        if let Some(d) = d.filter(|d| *d > today) {
            return Err(MetricsError::invalid(
                field,
                format!("{d} is in the future (today is {today})"),
            ));
        }
    }
    Ok((from, to))
}

fn granularity(value: i32, required: bool) -> Result<Vec<Period>, MetricsError> {
    match Period::from_proto(value).map_err(|e| MetricsError::invalid("granularity", e))? {
        Some(p) => Ok(vec![p]),
        None if required => Err(MetricsError::invalid(
            "granularity",
            "is required: DAY, WEEK or MONTH",
        )),
        None => Ok(Period::ALL.to_vec()),
    }
}

impl CohortService {
    /// `RefreshCohorts`.
    pub async fn refresh(
        &self,
        r: pb::RefreshCohortsRequest,
    ) -> Result<pb::RefreshCohortsResponse, MetricsError> {
        let periods = granularity(r.granularity, false)?;
        let today = read::today(&self.pool, &self.settings.time_zone).await?;
        let (from, to) = range(r.cohorts.as_ref(), today)?;
        if r.rebuild && r.dry_run {
            return Err(MetricsError::invalid(
                "rebuild",
                "cannot be combined with dry_run: a rebuild rewrites the rollup",
            ));
        }
        let (users, revenue) = match RetentionMetric::try_from(r.metric) {
            Ok(RetentionMetric::Unspecified) => (true, true),
            Ok(RetentionMetric::Users) => (true, false),
            Ok(RetentionMetric::Revenue) => (false, true),
            Err(_) => {
                return Err(MetricsError::invalid(
                    "metric",
                    format!("{} is not a RetentionMetric", r.metric),
                ));
            }
        };
        let started = std::time::Instant::now();
        if r.rebuild {
            rebuild(&self.pool, &self.settings).await?;
        }
        let request = Refresh {
            periods,
            from,
            to,
            full: r.full || r.rebuild,
            dry_run: r.dry_run,
            time_zone: self.settings.time_zone.clone(),
            users,
            revenue,
        };
        let done = refresh(&self.pool, &request).await?;
        tracing::info!(
            cohorts = done.cohorts,
            written = done.cells_written,
            unchanged = done.cells_unchanged,
            full = request.full,
            dry_run = r.dry_run,
            rebuild = r.rebuild,
            elapsed_ms = done.duration.as_millis() as u64,
            "cohorts refreshed"
        );
        Ok(pb::RefreshCohortsResponse {
            cohorts_refreshed: done.cohorts as i64,
            cells_written: done.cells_written as i64,
            cells_unchanged: done.cells_unchanged as i64,
            duration_ms: started.elapsed().as_millis() as i64,
            dry_run: r.dry_run,
            time_zone: self.settings.time_zone.clone(),
        })
    }

    /// `GetRetentionMatrix`.
    pub async fn matrix(
        &self,
        r: pb::GetRetentionMatrixRequest,
    ) -> Result<pb::GetRetentionMatrixResponse, MetricsError> {
        let period = granularity(r.granularity, true)?[0];
        let metric = match RetentionMetric::try_from(r.metric) {
            Ok(RetentionMetric::Unspecified | RetentionMetric::Users) => RetentionMetric::Users,
            Ok(RetentionMetric::Revenue) => RetentionMetric::Revenue,
            Err(_) => {
                return Err(MetricsError::invalid(
                    "metric",
                    format!("{} is not a RetentionMetric", r.metric),
                ));
            }
        };
        let mode = match RetentionMode::try_from(r.mode) {
            Ok(RetentionMode::Unspecified | RetentionMode::On) => "on",
            Ok(RetentionMode::OnOrAfter) => "on_or_after",
            Err(_) => {
                return Err(MetricsError::invalid(
                    "mode",
                    format!("{} is not a RetentionMode", r.mode),
                ));
            }
        };
        let breakdown =
            Breakdown::parse(&r.breakdown).map_err(|e| MetricsError::invalid("breakdown", e))?;
        if let Some(b @ Breakdown::Attribute(key)) = &breakdown
            && !b.exists(&self.pool).await?
        {
            return Err(MetricsError::invalid(
                "breakdown",
                format!("no user has the attribute {key:?}"),
            ));
        }
        let today = read::today(&self.pool, &self.settings.time_zone).await?;
        let (from, to) = range(r.cohorts.as_ref(), today)?;
        let with_revenue = metric == RetentionMetric::Revenue;
        let rows = match &breakdown {
            None => {
                let mut money = if with_revenue {
                    read::revenue(&self.pool, period, from, to).await?
                } else {
                    Default::default()
                };
                read::matrix(&self.pool, period, mode, from, to, today)
                    .await?
                    .into_iter()
                    .map(|row| {
                        let revenue = money.remove(&row.cohort);
                        wire::row(row, "", revenue.as_ref(), mode)
                    })
                    .collect()
            }
            Some(b) => {
                breakdown::compute(&self.pool, &self.settings.time_zone, period, from, to, b)
                    .await?
                    .into_iter()
                    .map(|s| {
                        let retained = if mode == "on" {
                            &s.counts.on
                        } else {
                            &s.counts.on_or_after
                        };
                        let row = read::Row::from_counts(
                            period,
                            s.cohort,
                            s.counts.size,
                            retained,
                            today,
                        );
                        wire::row(row, &s.segment, with_revenue.then_some(&s.revenue), mode)
                    })
                    .collect()
            }
        };
        let refreshed_at = read::refreshed_at(&self.pool, period).await?;
        Ok(pb::GetRetentionMatrixResponse {
            granularity: period.to_proto() as i32,
            metric: metric as i32,
            mode: if mode == "on" {
                RetentionMode::On
            } else {
                RetentionMode::OnOrAfter
            } as i32,
            time_zone: self.settings.time_zone.clone(),
            max_offset: period.max_offset(),
            rows,
            refreshed_at: refreshed_at.map(crate::convert::timestamp),
        })
    }

    /// `GetCohortOverview`.
    pub async fn overview(
        &self,
        r: pb::GetCohortOverviewRequest,
    ) -> Result<pb::GetCohortOverviewResponse, MetricsError> {
        let period = granularity(r.granularity, true)?[0];
        let today = read::today(&self.pool, &self.settings.time_zone).await?;
        let (from, to) = range(r.cohorts.as_ref(), today)?;
        let rows = overview::overview(&self.pool, period, from, to, today).await?;
        Ok(pb::GetCohortOverviewResponse {
            time_zone: self.settings.time_zone.clone(),
            rows: rows
                .into_iter()
                .map(|o| wire::overview_row(o, overview::checkpoints(period)))
                .collect(),
        })
    }
}

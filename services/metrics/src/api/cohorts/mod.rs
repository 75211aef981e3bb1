//! `RefreshCohorts`, `GetRetentionMatrix` and `GetCohortOverview`: requests
//! validated into the cohort module's types (`parse`), the cohort code
//! called, and its results put back onto the wire (`wire`); `GetCohortValue`
//! (LTV curves) in `value`.

pub mod parse;
pub mod value;
pub mod wire;

use growth_proto::metrics::v1 as pb;

use crate::api::today;
use crate::cohorts::breakdown::{self, Breakdown, SegmentRow};
use crate::cohorts::measure::{Metric, Mode};
use crate::cohorts::overview;
use crate::cohorts::period::{Cohorts, Period};
use crate::cohorts::read;
use crate::cohorts::refresh::{Refresh, refresh as refresh_cells};
use crate::error::MetricsError;
use crate::repo;
use crate::repo::cohorts::read as stored;
use crate::state::Metrics;

/// `RefreshCohorts`.
pub async fn refresh(
    state: &Metrics,
    r: pb::RefreshCohortsRequest,
) -> Result<pb::RefreshCohortsResponse, MetricsError> {
    let time_zone = &state.reporting.time_zone;
    let (asked, _) = today::parse(state, |today| parse::refresh(&r, today)).await?;
    let started = std::time::Instant::now();
    if asked.rebuild {
        repo::cohorts::rebuild::rebuild(&state.pool, &state.reporting).await?;
    }
    let request = Refresh {
        periods: asked.periods,
        cohorts: asked.cohorts,
        full: asked.full,
        dry_run: asked.dry_run,
        time_zone: time_zone.clone(),
        users: asked.metric != Some(Metric::Revenue),
        revenue: asked.metric != Some(Metric::Users),
    };
    let done = refresh_cells(&state.pool, &request).await?;
    tracing::info!(
        cohorts = done.cohorts,
        written = done.cells_written,
        unchanged = done.cells_unchanged,
        full = request.full,
        dry_run = asked.dry_run,
        rebuild = asked.rebuild,
        elapsed_ms = done.duration.as_millis() as u64,
        "cohorts refreshed"
    );
    Ok(pb::RefreshCohortsResponse {
        cohorts_refreshed: done.cohorts as i64,
        cells_written: done.cells_written as i64,
        cells_unchanged: done.cells_unchanged as i64,
        duration_ms: started.elapsed().as_millis() as i64,
        dry_run: asked.dry_run,
        time_zone: time_zone.clone(),
    })
}

/// `GetRetentionMatrix`.
pub async fn matrix(
    state: &Metrics,
    r: pb::GetRetentionMatrixRequest,
) -> Result<pb::GetRetentionMatrixResponse, MetricsError> {
    let (pool, time_zone) = (&state.pool, &state.reporting.time_zone);
    let (asked, today) = today::parse(state, |today| parse::matrix(&r, today)).await?;
    if let Some(Breakdown::Attribute(key)) = &asked.breakdown
        && !repo::cohorts::breakdown::attribute_exists(pool, key).await?
    {
        return Err(MetricsError::invalid(
            "breakdown",
            format!("no user has the attribute {key:?}"),
        ));
    }
    let (period, mode, cohorts) = (asked.period, asked.mode, asked.cohorts);
    let (from, to) = (cohorts.from, cohorts.to);
    let with_revenue = asked.metric == Metric::Revenue;
    let rows = match &asked.breakdown {
        None => {
            let mut money = if with_revenue {
                stored::revenue(pool, period, from, to).await?
            } else {
                Default::default()
            };
            stored::matrix(pool, period, mode, from, to, today)
                .await?
                .into_iter()
                .map(|row| {
                    let revenue = money.remove(&row.cohort);
                    wire::row(row, "", revenue.as_ref(), mode)
                })
                .collect()
        }
        Some(b) => segment_rows(state, period, cohorts, b)
            .await?
            .into_iter()
            .map(|s| {
                let retained = s.counts.retained(mode);
                let row = read::Row::from_counts(period, s.cohort, s.counts.size, retained, today);
                wire::row(row, &s.segment, with_revenue.then_some(&s.revenue), mode)
            })
            .collect(),
    };
    let refreshed_at = stored::refreshed_at(pool, period).await?;
    Ok(pb::GetRetentionMatrixResponse {
        granularity: parse::granularity_to_wire(period) as i32,
        metric: parse::metric_to_wire(asked.metric) as i32,
        mode: parse::mode_to_wire(mode) as i32,
        time_zone: time_zone.clone(),
        max_offset: period.max_offset(),
        rows,
        refreshed_at: refreshed_at.map(growth_proto::timestamp::from_utc),
    })
}

/// The segmented rows of the `period` cohorts in `cohorts`, after folding
/// the activity still pending.
async fn segment_rows(
    state: &Metrics,
    period: Period,
    cohorts: Cohorts,
    by: &Breakdown,
) -> Result<Vec<SegmentRow>, MetricsError> {
    repo::cohorts::fold::fold(&state.pool).await?;
    let (from, to) = cohorts.member_days();
    let (users, flows) = repo::cohorts::breakdown::snapshot(
        &state.pool,
        &state.reporting.time_zone,
        from,
        to,
        by.key(),
        |u| cohorts.contains(period.start_of(u.cohort_day)),
    )
    .await?;
    Ok(breakdown::rows(period, users, flows))
}

/// `GetCohortOverview`.
pub async fn overview(
    state: &Metrics,
    r: pb::GetCohortOverviewRequest,
) -> Result<pb::GetCohortOverviewResponse, MetricsError> {
    let (pool, time_zone) = (&state.pool, &state.reporting.time_zone);
    let (asked, today) = today::parse(state, |today| parse::overview(&r, today)).await?;
    let period = asked.period;
    let (from, to) = (asked.cohorts.from, asked.cohorts.to);
    let members = stored::members(pool, period, from, to).await?;
    let rows = stored::matrix(pool, period, Mode::On, from, to, today).await?;
    let money = stored::revenue(pool, period, from, to).await?;
    let rows = overview::overview(members, rows, money);
    Ok(pb::GetCohortOverviewResponse {
        time_zone: time_zone.clone(),
        rows: rows
            .into_iter()
            .map(|o| wire::overview_row(o, overview::checkpoints(period)))
            .collect(),
    })
}

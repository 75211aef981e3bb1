//! `GetRevenueSummary` and `GetChurnReport`: months validated in the
//! reporting time zone, one query each, results onto the wire (`wire`).

pub mod wire;

use growth_proto::metrics::v1 as pb;

use crate::api::today;
use crate::error::MetricsError;
use crate::repo;
use crate::revenue::month;
use crate::state::Metrics;

/// `GetRevenueSummary`, months cut in the reporting time zone.
pub async fn summary(
    state: &Metrics,
    r: pb::GetRevenueSummaryRequest,
) -> Result<pb::GetRevenueSummaryResponse, MetricsError> {
    let (pool, time_zone) = (&state.pool, state.reporting.time_zone.as_str());
    let (months, today) = today::parse(state, |today| {
        month::range(&r.month_from, &r.month_to, today)
    })
    .await?;
    let bounds = month::bounds(&months);
    let totals = repo::revenue::totals(pool, &bounds, time_zone).await?;
    let money = repo::revenue::money(pool, &bounds, time_zone).await?;
    Ok(pb::GetRevenueSummaryResponse {
        months: wire::months(&months, &totals, &money, today),
        time_zone: time_zone.to_owned(),
    })
}

/// `GetChurnReport`, the month cut in the reporting time zone.
pub async fn churn_report(
    state: &Metrics,
    r: pb::GetChurnReportRequest,
) -> Result<pb::GetChurnReportResponse, MetricsError> {
    let (pool, time_zone) = (&state.pool, state.reporting.time_zone.as_str());
    let (first, _) = today::parse(state, |today| month::parse("month", &r.month, today)).await?;
    let rows = repo::revenue::churn_rows(pool, first, time_zone).await?;
    Ok(wire::report(
        month::label(first),
        time_zone.to_owned(),
        rows,
    ))
}

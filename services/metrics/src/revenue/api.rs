//! `GetRevenueSummary` and `GetChurnReport`: months validated in the
//! reporting time zone, one query each, results onto the wire.

use growth_proto::metrics::v1 as pb;
use sqlx::PgPool;

use super::{churn, money, month, movements};
use crate::cohorts::read;
use crate::error::MetricsError;

/// `GetRevenueSummary` over `pool`, months cut in `time_zone`.
pub async fn summary(
    pool: &PgPool,
    time_zone: &str,
    r: &pb::GetRevenueSummaryRequest,
) -> Result<pb::GetRevenueSummaryResponse, MetricsError> {
    let today = read::today(pool, time_zone).await?;
    let months = month::range(&r.month_from, &r.month_to, today)?;
    let totals = movements::totals(pool, &months, time_zone).await?;
    let money = money::money(pool, &months, time_zone).await?;
    Ok(pb::GetRevenueSummaryResponse {
        months: movements::months(&months, &totals, &money),
        time_zone: time_zone.to_owned(),
    })
}

/// `GetChurnReport` over `pool`, the month cut in `time_zone`.
pub async fn churn_report(
    pool: &PgPool,
    time_zone: &str,
    r: &pb::GetChurnReportRequest,
) -> Result<pb::GetChurnReportResponse, MetricsError> {
    let today = read::today(pool, time_zone).await?;
    let first = month::parse("month", &r.month, today)?;
    let rows = churn::rows(pool, first, time_zone).await?;
    Ok(churn::report(
        month::label(first),
        time_zone.to_owned(),
        rows,
    ))
}
